//! `cassandra_frames.convert.pagecodec`: the compiled half of the page decoder (see
//! `cassandra_frames/convert/pages.py`, which builds the specs and assembles the Arrow arrays).

pub mod decode;
pub mod text;

use decode::{Column, Kind};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

fn kind(spec: &Bound<'_, PyAny>) -> PyResult<Kind> {
    let t = spec.downcast::<PyTuple>()?;
    let code: u32 = t.get_item(0)?.extract()?;
    let a: i64 = t.get_item(1)?.extract()?;
    let b: i64 = t.get_item(2)?.extract()?;
    let children: Vec<Kind> = t
        .get_item(3)?
        .try_iter()?
        .map(|c| kind(&c?))
        .collect::<PyResult<_>>()?;
    let child = |i: usize| -> PyResult<Box<Kind>> {
        children
            .get(i)
            .cloned()
            .map(Box::new)
            .ok_or_else(|| PyValueError::new_err("spec lacks a child"))
    };
    Ok(match code {
        0 => Kind::Fixed(usize::try_from(a).map_err(|e| PyValueError::new_err(e.to_string()))?),
        1 => Kind::Bool,
        2 => Kind::Date,
        3 => Kind::Uuid,
        4 => Kind::Bytes { utf8: true },
        5 => Kind::Bytes { utf8: false },
        6 => Kind::Inet,
        7 => Kind::Duration,
        8 => Kind::DecimalText,
        9 => Kind::DecimalF64,
        10 => Kind::VarintText,
        11 => Kind::VarintF64,
        12 => Kind::List(child(0)?),
        13 => Kind::Vector {
            n: usize::try_from(a).map_err(|e| PyValueError::new_err(e.to_string()))?,
            elem_size: usize::try_from(b).ok(),
            child: child(0)?,
        },
        14 => Kind::Map(child(0)?, child(1)?),
        15 => Kind::Struct(children),
        _ => return Err(PyValueError::new_err(format!("unknown spec code {code}"))),
    })
}

fn buffer<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyAny> {
    PyBytes::new(py, b).into_any()
}

/// (length, null count, [validity, …buffers], [children]) of one decoded column.
fn node<'py>(py: Python<'py>, c: &Column) -> PyResult<Bound<'py, PyTuple>> {
    let validity = if c.nulls > 0 {
        buffer(py, &c.validity.bytes)
    } else {
        py.None().into_bound(py)
    };
    let mut bufs = vec![validity];
    match &c.kind {
        Kind::Bool => bufs.push(buffer(py, &c.values.bytes)),
        Kind::List(_) | Kind::Map(..) => {
            bufs.push(buffer(py, bytemuck_i32(&c.offsets)));
        }
        Kind::Vector { .. } | Kind::Struct(_) => {}
        _ => {
            if !c.offsets.is_empty() {
                bufs.push(buffer(py, bytemuck_i32(&c.offsets)));
            }
            bufs.push(buffer(py, &c.data));
        }
    }
    let children: Vec<Bound<'py, PyTuple>> = c
        .children
        .iter()
        .map(|ch| node(py, ch))
        .collect::<PyResult<_>>()?;
    PyTuple::new(
        py,
        [
            c.len.into_pyobject(py)?.into_any(),
            c.nulls.into_pyobject(py)?.into_any(),
            PyList::new(py, bufs)?.into_any(),
            PyList::new(py, children)?.into_any(),
        ],
    )
}

fn bytemuck_i32(v: &[i32]) -> &[u8] {
    // SAFETY: i32 has no padding and any byte pattern is a valid u8; the slice covers the same memory
    unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), std::mem::size_of_val(v)) }
}

/// Decodes ROWS page bodies of one SELECT's columns into Arrow buffers.
#[pyclass(frozen, module = "cassandra_frames.convert.pagecodec")]
struct PageDecoder {
    kinds: Vec<Kind>,
}

#[pymethods]
impl PageDecoder {
    #[new]
    fn new(specs: &Bound<'_, PyAny>) -> PyResult<Self> {
        let kinds = specs
            .try_iter()?
            .map(|s| kind(&s?))
            .collect::<PyResult<_>>()?;
        Ok(PageDecoder { kinds })
    }

    /// Column nodes `(length, null_count, buffers, children)` of a page body of `rows` rows; the GIL is
    /// released while the cells are decoded.
    fn decode<'py>(
        &self,
        py: Python<'py>,
        body: &Bound<'py, PyBytes>,
        rows: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let bytes: &[u8] = body.as_bytes();
        let kinds = &self.kinds;
        let cols = py
            .allow_threads(|| decode::decode_page(bytes, rows, kinds))
            .map_err(PyValueError::new_err)?;
        let nodes: Vec<Bound<'py, PyTuple>> =
            cols.iter().map(|c| node(py, c)).collect::<PyResult<_>>()?;
        PyList::new(py, nodes)
    }
}

#[pymodule]
fn pagecodec(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PageDecoder>()?;
    Ok(())
}
