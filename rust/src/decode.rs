//! A ROWS page body (row-major cells, each `[int32 length][bytes]`, length < 0 = null) → Arrow column
//! buffers, one builder per column, without a per-cell allocation.
//!
//! Semantics follow the DataStax Python driver, whose values the pure-Python path converts: a zero-length
//! cell of a type other than text/ascii/blob is null; collection elements and UDT/tuple fields are
//! `[int32 length][bytes]`; trailing UDT/tuple fields that are absent are null; `vector` elements of a
//! fixed-size type are packed, others carry an unsigned-vint length.

use crate::text;

/// What one (sub)column decodes to.
#[derive(Clone, Debug)]
pub enum Kind {
    /// Big-endian integer or IEEE float of `width` bytes → the same width, little-endian.
    Fixed(usize),
    Bool,
    /// `date`: unsigned days with 2^31 at the epoch → int32 days.
    Date,
    /// uuid/timeuuid → canonical text.
    Uuid,
    /// text/ascii/varchar (UTF-8 checked) or blob.
    Bytes {
        utf8: bool,
    },
    Inet,
    /// months, days, nanoseconds (three zig-zag vints) → Arrow month_day_nano.
    Duration,
    DecimalText,
    DecimalF64,
    VarintText,
    VarintF64,
    List(Box<Kind>),
    /// `vector<T, n>`; `elem_size` is T's fixed serialized size, or None (vint-prefixed elements).
    Vector {
        n: usize,
        elem_size: Option<usize>,
        child: Box<Kind>,
    },
    Map(Box<Kind>, Box<Kind>),
    Struct(Vec<Kind>),
}

impl Kind {
    fn empty_is_value(&self) -> bool {
        matches!(self, Kind::Bytes { .. })
    }
}

/// Validity or boolean values, LSB first.
#[derive(Default)]
pub struct Bits {
    pub bytes: Vec<u8>,
    pub len: usize,
}

impl Bits {
    #[inline]
    fn push(&mut self, v: bool) {
        if self.len % 8 == 0 {
            self.bytes.push(0);
        }
        if v {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 1 << (self.len % 8);
        }
        self.len += 1;
    }
}

pub struct Column {
    pub kind: Kind,
    pub len: usize,
    pub nulls: usize,
    pub validity: Bits,
    /// fixed-width values, or the bytes of variable-width ones
    pub data: Vec<u8>,
    pub values: Bits,
    pub offsets: Vec<i32>,
    pub children: Vec<Column>,
}

pub type Result<T> = std::result::Result<T, String>;

fn read_i32(b: &[u8], pos: &mut usize) -> Result<i32> {
    let end = *pos + 4;
    if end > b.len() {
        return Err(format!("truncated length at byte {} of {}", *pos, b.len()));
    }
    let v = i32::from_be_bytes([b[*pos], b[*pos + 1], b[*pos + 2], b[*pos + 3]]);
    *pos = end;
    Ok(v)
}

fn take<'a>(b: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8]> {
    let end = pos.checked_add(n).ok_or("length overflow")?;
    if end > b.len() {
        return Err(format!(
            "a {n}-byte value at byte {} overruns its {}-byte container",
            *pos,
            b.len()
        ));
    }
    let s = &b[*pos..end];
    *pos = end;
    Ok(s)
}

/// Cassandra's unsigned vint: the count of leading 1-bits of the first byte is the count of extra bytes.
fn read_uvint(b: &[u8], pos: &mut usize) -> Result<u64> {
    let first = *b.get(*pos).ok_or("truncated vint")?;
    let extra = first.leading_ones() as usize;
    *pos += 1;
    if extra == 0 {
        return Ok(u64::from(first));
    }
    let mut v: u64 = if extra >= 8 {
        0
    } else {
        u64::from(first & (0xffu8 >> extra))
    };
    for _ in 0..extra {
        let x = *b.get(*pos).ok_or("truncated vint")?;
        v = (v << 8) | u64::from(x);
        *pos += 1;
    }
    Ok(v)
}

fn zigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

impl Column {
    pub fn new(kind: Kind) -> Column {
        let children = match &kind {
            Kind::List(c) | Kind::Vector { child: c, .. } => vec![Column::new((**c).clone())],
            Kind::Map(k, v) => vec![Column::new((**k).clone()), Column::new((**v).clone())],
            Kind::Struct(fields) => fields.iter().cloned().map(Column::new).collect(),
            _ => Vec::new(),
        };
        let offsets = match &kind {
            Kind::Uuid
            | Kind::Bytes { .. }
            | Kind::Inet
            | Kind::DecimalText
            | Kind::VarintText
            | Kind::List(_)
            | Kind::Map(..) => vec![0],
            _ => Vec::new(),
        };
        Column {
            kind,
            len: 0,
            nulls: 0,
            validity: Bits::default(),
            data: Vec::new(),
            values: Bits::default(),
            offsets,
            children,
        }
    }

    pub fn reserve(&mut self, rows: usize) {
        match &self.kind {
            Kind::Fixed(w) => self.data.reserve(rows * w),
            Kind::Date => self.data.reserve(rows * 4),
            Kind::Duration => self.data.reserve(rows * 16),
            Kind::DecimalF64 | Kind::VarintF64 => self.data.reserve(rows * 8),
            Kind::Uuid => self.data.reserve(rows * 36),
            _ => {}
        }
        if !self.offsets.is_empty() {
            self.offsets.reserve(rows);
        }
        self.validity.bytes.reserve(rows / 8 + 1);
    }

    fn end_offset(&mut self) -> Result<()> {
        let n = match &self.kind {
            Kind::List(_) => self.children[0].len,
            Kind::Map(..) => self.children[0].len,
            _ => self.data.len(),
        };
        let v =
            i32::try_from(n).map_err(|_| "more than 2 GiB of values in one page".to_string())?;
        self.offsets.push(v);
        Ok(())
    }

    pub fn push_null(&mut self) -> Result<()> {
        self.len += 1;
        self.nulls += 1;
        self.validity.push(false);
        match &self.kind {
            Kind::Fixed(w) => self.data.resize(self.data.len() + w, 0),
            Kind::Date => self.data.extend_from_slice(&[0; 4]),
            Kind::Duration => self.data.extend_from_slice(&[0; 16]),
            Kind::DecimalF64 | Kind::VarintF64 => self.data.extend_from_slice(&[0; 8]),
            Kind::Bool => self.values.push(false),
            Kind::Vector { n, .. } => {
                for _ in 0..*n {
                    self.children[0].push_null()?;
                }
            }
            Kind::Struct(_) => {
                for c in self.children.iter_mut() {
                    c.push_null()?;
                }
            }
            _ => {}
        }
        if !self.offsets.is_empty() {
            self.end_offset()?;
        }
        Ok(())
    }

    /// One `[int32 length][bytes]` value inside a collection or UDT/tuple.
    fn push_framed(&mut self, b: &[u8], pos: &mut usize) -> Result<()> {
        let n = read_i32(b, pos)?;
        if n < 0 {
            return self.push_null();
        }
        let v = take(b, pos, n as usize)?;
        self.push(v)
    }

    pub fn push(&mut self, v: &[u8]) -> Result<()> {
        if v.is_empty() && !self.kind.empty_is_value() {
            return self.push_null();
        }
        match &self.kind {
            Kind::Fixed(w) => match (*w, v.len()) {
                (8, 8) => self.data.extend_from_slice(
                    &u64::from_be_bytes(v.try_into().unwrap_or([0; 8])).to_le_bytes(),
                ),
                (4, 4) => self.data.extend_from_slice(
                    &u32::from_be_bytes(v.try_into().unwrap_or([0; 4])).to_le_bytes(),
                ),
                (2, 2) => self.data.extend_from_slice(&[v[1], v[0]]),
                (1, 1) => self.data.push(v[0]),
                _ => return Err(format!("a {w}-byte value had {} bytes", v.len())),
            },
            Kind::Bool => {
                if v.len() != 1 {
                    return Err(format!("a boolean had {} bytes", v.len()));
                }
                self.values.push(v[0] != 0);
            }
            Kind::Date => {
                if v.len() != 4 {
                    return Err(format!("a date had {} bytes", v.len()));
                }
                let days = (u32::from_be_bytes([v[0], v[1], v[2], v[3]]) ^ 0x8000_0000) as i32;
                self.data.extend_from_slice(&days.to_le_bytes());
            }
            Kind::Uuid => {
                if v.len() != 16 {
                    return Err(format!("a uuid had {} bytes", v.len()));
                }
                text::uuid_text(v, &mut self.data);
            }
            Kind::Bytes { utf8 } => {
                if *utf8 && std::str::from_utf8(v).is_err() {
                    return Err("text that is not valid UTF-8".to_string());
                }
                self.data.extend_from_slice(v);
            }
            Kind::Inet => {
                if !text::inet_text(v, &mut self.data) {
                    return Err(format!("an inet had {} bytes", v.len()));
                }
            }
            Kind::Duration => {
                let mut p = 0;
                let months = zigzag(read_uvint(v, &mut p)?);
                let days = zigzag(read_uvint(v, &mut p)?);
                let nanos = zigzag(read_uvint(v, &mut p)?);
                let m = i32::try_from(months)
                    .map_err(|_| "duration months out of range".to_string())?;
                let d =
                    i32::try_from(days).map_err(|_| "duration days out of range".to_string())?;
                self.data.extend_from_slice(&m.to_le_bytes());
                self.data.extend_from_slice(&d.to_le_bytes());
                self.data.extend_from_slice(&nanos.to_le_bytes());
            }
            Kind::DecimalText | Kind::DecimalF64 => {
                if v.len() < 4 {
                    return Err(format!("a decimal had {} bytes", v.len()));
                }
                let scale = i32::from_be_bytes([v[0], v[1], v[2], v[3]]);
                if matches!(self.kind, Kind::DecimalText) {
                    text::decimal_text(scale, &v[4..], &mut self.data);
                } else {
                    let mut s = Vec::new();
                    text::decimal_text(scale, &v[4..], &mut s);
                    self.data.extend_from_slice(&parse_f64(&s).to_le_bytes());
                }
            }
            Kind::VarintText => text::varint_text(v, &mut self.data),
            Kind::VarintF64 => {
                let mut s = Vec::new();
                text::varint_text(v, &mut s);
                self.data.extend_from_slice(&parse_f64(&s).to_le_bytes());
            }
            Kind::List(_) => {
                let mut p = 0;
                let count = read_i32(v, &mut p)?;
                for _ in 0..count.max(0) {
                    self.children[0].push_framed(v, &mut p)?;
                }
                finished(v, p)?;
            }
            Kind::Map(..) => {
                let mut p = 0;
                let count = read_i32(v, &mut p)?;
                for _ in 0..count.max(0) {
                    self.children[0].push_framed(v, &mut p)?;
                    self.children[1].push_framed(v, &mut p)?;
                }
                finished(v, p)?;
            }
            Kind::Vector { n, elem_size, .. } => {
                let (n, elem_size) = (*n, *elem_size);
                let mut p = 0;
                for _ in 0..n {
                    let size = match elem_size {
                        Some(s) => s,
                        None => {
                            usize::try_from(read_uvint(v, &mut p)?).map_err(|e| e.to_string())?
                        }
                    };
                    let e = take(v, &mut p, size)?;
                    self.children[0].push(e)?;
                }
                finished(v, p)?;
            }
            Kind::Struct(_) => {
                let mut p = 0;
                for c in self.children.iter_mut() {
                    if p == v.len() {
                        c.push_null()?; // fields added to the type after this value was written
                    } else {
                        c.push_framed(v, &mut p)?;
                    }
                }
            }
        }
        self.len += 1;
        self.validity.push(true);
        if !self.offsets.is_empty() {
            self.end_offset()?;
        }
        Ok(())
    }
}

fn finished(v: &[u8], p: usize) -> Result<()> {
    if p != v.len() {
        return Err(format!(
            "{} bytes left over after a collection",
            v.len() - p
        ));
    }
    Ok(())
}

fn parse_f64(s: &[u8]) -> f64 {
    // the text is ASCII digits, sign, '.', 'E': always valid; Rust's parse is correctly rounded like Python's
    std::str::from_utf8(s)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
}

/// Decode `rows` rows of `columns.len()` cells from `body`.
pub fn decode_page(body: &[u8], rows: usize, kinds: &[Kind]) -> Result<Vec<Column>> {
    let mut cols: Vec<Column> = kinds.iter().cloned().map(Column::new).collect();
    for c in cols.iter_mut() {
        c.reserve(rows);
    }
    let mut pos = 0;
    for r in 0..rows {
        for (i, c) in cols.iter_mut().enumerate() {
            let n = read_i32(body, &mut pos).map_err(|e| format!("row {r}, column {i}: {e}"))?;
            let res = if n < 0 {
                c.push_null()
            } else {
                take(body, &mut pos, n as usize).and_then(|v| c.push(v))
            };
            res.map_err(|e| format!("row {r}, column {i}: {e}"))?;
        }
    }
    if pos != body.len() {
        return Err(format!(
            "{} bytes left over after {rows} rows",
            body.len() - pos
        ));
    }
    Ok(cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(out: &mut Vec<u8>, v: Option<&[u8]>) {
        match v {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                out.extend_from_slice(&(b.len() as i32).to_be_bytes());
                out.extend_from_slice(b);
            }
        }
    }

    #[test]
    fn ints_text_and_nulls() {
        let mut body = Vec::new();
        cell(&mut body, Some(&7i32.to_be_bytes()));
        cell(&mut body, Some(b"hi"));
        cell(&mut body, None);
        cell(&mut body, Some(b""));
        let cols = decode_page(&body, 2, &[Kind::Fixed(4), Kind::Bytes { utf8: true }]).unwrap();
        assert_eq!(cols[0].len, 2);
        assert_eq!(cols[0].nulls, 1);
        assert_eq!(&cols[0].data[..4], &7i32.to_le_bytes());
        assert_eq!(cols[1].nulls, 0); // an empty string stays an empty string
        assert_eq!(cols[1].offsets, vec![0, 2, 2]);
    }

    #[test]
    fn truncated_page_is_an_error() {
        let mut body = Vec::new();
        cell(&mut body, Some(&7i32.to_be_bytes()));
        assert!(decode_page(&body[..6], 1, &[Kind::Fixed(4)]).is_err());
        assert!(decode_page(&body, 2, &[Kind::Fixed(4)]).is_err());
    }

    #[test]
    fn vints() {
        let mut p = 0;
        assert_eq!(read_uvint(&[0x05], &mut p).unwrap(), 5);
        let mut p = 0;
        assert_eq!(read_uvint(&[0x81, 0x00], &mut p).unwrap(), 256);
        assert_eq!(zigzag(3), -2);
        assert_eq!(zigzag(4), 2);
    }
}
