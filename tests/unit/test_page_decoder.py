"""The compiled page decoder against the driver path, value for value, over every CQL type.

The same ROWS message body goes through (a) the driver's own protocol handler, which builds a Python value
per cell, then the read converter (``fetched_converter``), and (b) the raw-page handler, then the compiled
decoder. The two record batches must be equal: same types, same values (NaN equal to NaN, -0.0 distinct
from 0.0), same nulls.
"""

from __future__ import annotations

import math
import os
import struct
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassandra_frames.convert import pages
from cassandra_frames.convert.to_arrow import fetched_converter
from cassandra_frames.cqltypes import CqlType, parse_cql_type
from cassandra_frames.engine.pages import RawPage, raw_page_handler
from cassandra_frames.errors import SchemaError
from cassandra_frames.schema import arrow_type
from tests.unit.page_types import (
    cql_types,
    driver_type,
    result_message,
    result_message_with_metadata,
    rows_body,
    serialize,
    udt_defs,
    values,
)

pytestmark = pytest.mark.unit

compiled = pytest.mark.skipif(
    not pages.compiled_decoder_available() and os.environ.get("CI") != "true",
    reason="the compiled page decoder is not built (no Rust toolchain at install time)",
)


def test_the_compiled_decoder_is_built_in_ci() -> None:
    """`make` builds the Rust extension; CI must exercise it, never silently test only the fallback."""
    if os.environ.get("CI") == "true":
        assert pages.compiled_decoder_available()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _both_paths(
    types: list[CqlType], udts: dict[str, Any], cells: list[list[bytes | None]], exact: bool
) -> tuple[pa.RecordBatch, pa.RecordBatch]:
    from cassandra.protocol import ProtocolHandler

    body = result_message(len(cells), len(types), rows_body(cells))
    meta = [("ks", "t", f"c{i}", driver_type(t, udts)) for i, t in enumerate(types)]
    bigint = parse_cql_type("bigint")
    for i, t in enumerate(types):
        if t.name == "timestamp" and not t.params:
            meta[i] = ("ks", "t", f"c{i}", driver_type(bigint, udts))  # fetched as toUnixTimestamp()
    schema = pa.schema([(f"c{i}", arrow_type(t, udts, exact_numbers=exact)) for i, t in enumerate(types)])

    rows = ProtocolHandler.decode_message(5, {}, 0, 0, 0x08, body, None, meta).parsed_rows
    columns = [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in types]
    convs = [fetched_converter(t, udts, exact_numbers=exact) for t in types]
    driver = pa.RecordBatch.from_arrays([f(c) for f, c in zip(convs, columns, strict=True)], schema=schema)

    page = raw_page_handler().decode_message(5, {}, 0, 0, 0x08, body, None, meta).parsed_rows
    assert isinstance(page, RawPage)
    assert (page.rows, page.columns) == (len(cells), len(types))
    decoder = pages.page_decoder(
        [(t, f.type) for t, f in zip(types, schema, strict=True)], schema, udts, exact_numbers=exact
    )
    assert decoder is not None
    return driver, decoder(page.body, page.rows)


def _storage(t: pa.DataType) -> pa.DataType:
    """``t`` with dates and times as their integers (Python's date/datetime cannot hold every CQL value)."""
    if pa.types.is_date32(t):
        return pa.int32()
    if pa.types.is_time64(t) or pa.types.is_timestamp(t):
        return pa.int64()
    if pa.types.is_map(t):
        return pa.map_(_storage(t.key_type), _storage(t.item_type))
    if pa.types.is_fixed_size_list(t):
        return pa.list_(_storage(t.value_type), t.list_size)
    if pa.types.is_list(t):
        return pa.list_(_storage(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _storage(f.type)) for f in t])
    return t


def _assert_equal(driver: pa.RecordBatch, raw: pa.RecordBatch) -> None:
    assert raw.schema.equals(driver.schema), (raw.schema, driver.schema)
    for name in driver.schema.names:
        a, b = driver.column(name), raw.column(name)
        b.validate(full=True)
        assert a.null_count == b.null_count, name
        a, b = a.cast(_storage(a.type)), b.cast(_storage(b.type))
        assert _same(a.to_pylist(), b.to_pylist()), (name, a.to_pylist(), b.to_pylist())


@compiled
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_compiled_decoder_equals_the_driver_path(data: st.DataObject) -> None:
    udts = data.draw(udt_defs())
    types = data.draw(st.lists(cql_types(), min_size=1, max_size=4))
    exact = data.draw(st.booleans())
    nrows = data.draw(st.integers(0, 5))
    cells = [[serialize(t, udts, data.draw(values(t, udts))) for t in types] for _ in range(nrows)]
    _assert_equal(*_both_paths(types, udts, cells, exact))


@compiled
@pytest.mark.parametrize(
    "name",
    ["int", "bigint", "double", "boolean", "date", "uuid", "inet", "decimal", "duration", "varint", "time"],
)
def test_an_empty_value_is_null_like_the_driver(name: str) -> None:
    t = parse_cql_type(name)
    driver, raw = _both_paths([t], {}, [[b""], [None]], True)
    _assert_equal(driver, raw)
    assert raw.column(0).null_count == 2


@compiled
@pytest.mark.parametrize("name", ["text", "ascii", "blob"])
def test_an_empty_string_stays_an_empty_string(name: str) -> None:
    driver, raw = _both_paths([parse_cql_type(name)], {}, [[b""]], True)
    _assert_equal(driver, raw)
    assert raw.column(0).null_count == 0
    assert len(raw.column(0)[0].as_py()) == 0


@compiled
def test_nested_timestamps_are_exact_where_the_drivers_datetime_is_not() -> None:
    t = parse_cql_type("frozen<list<timestamp>>")
    ms = [253402300799999, -62135596800000, 1]  # 9999-12-31T23:59:59.999, 0001-01-01, epoch + 1 ms
    cell = struct.pack(">i", len(ms)) + b"".join(struct.pack(">iq", 8, v) for v in ms)
    schema = pa.schema([("c", arrow_type(t))])
    decoder = pages.page_decoder([(t, schema.field(0).type)], schema)
    assert decoder is not None
    got = decoder(rows_body([[cell]]), 1).column(0)
    assert got.values.cast(pa.int64()).to_pylist() == ms


@compiled
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (b"\x00" * 15 + b"\x01", "::1"),
        (b"\x00" * 10 + b"\xff\xff\x0a\x00\x00\x01", "::ffff:10.0.0.1"),
        (b"\x00" * 12 + b"\x0a\x00\x00\x01", "::10.0.0.1"),
        (b"\x20\x01\x0d\xb8" + b"\x00" * 11 + b"\x01", "2001:db8::1"),
        (b"\x7f\x00\x00\x01", "127.0.0.1"),
        (b"\x00\x01" * 8, "1:1:1:1:1:1:1:1"),
        (b"\x00\x01\x00\x00" * 4, "1:0:1:0:1:0:1:0"),
    ],
)
def test_inet_text_is_the_drivers(value: bytes, text: str) -> None:
    driver, raw = _both_paths([parse_cql_type("inet")], {}, [[value]], True)
    _assert_equal(driver, raw)
    assert raw.column(0)[0].as_py() == text


@compiled
@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"\x00\x00\x00\x04\x00\x00", "row 0, column 0: a 4-byte value at byte 4 overruns"),
        (b"\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00\x04", "4 bytes left over after 1 rows"),
        (b"\x00\x00\x00\x03abc", "row 0, column 0: a 4-byte value had 3 bytes"),
    ],
    ids=["truncated value", "bytes left over", "a 3-byte int"],
)
def test_a_malformed_page_is_a_clear_error(body: bytes, why: str) -> None:
    schema = pa.schema([("n", pa.int32())])
    decoder = pages.page_decoder([(parse_cql_type("int"), pa.int32())], schema)
    assert decoder is not None
    with pytest.raises(SchemaError, match=r"cannot decode a result page of columns \['n'\]: " + why):
        decoder(body, 1)


@compiled
def test_invalid_utf8_is_an_error_not_mojibake() -> None:
    schema = pa.schema([("s", pa.string())])
    decoder = pages.page_decoder([(parse_cql_type("text"), pa.string())], schema)
    assert decoder is not None
    with pytest.raises(SchemaError, match="UTF-8"):
        decoder(rows_body([[b"\xff\xfe"]]), 1)


def test_the_python_path_is_chosen_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pages.ENV, "python")
    assert not pages.compiled_decoder_available()
    assert pages.page_decoder([(parse_cql_type("int"), pa.int32())], pa.schema([("n", pa.int32())])) is None


@compiled
def test_a_computed_column_of_another_type_takes_the_python_path() -> None:
    schema = pa.schema([("token", pa.string())])
    assert pages.page_decoder([(None, pa.string())], schema) is None


@compiled
@pytest.mark.parametrize("exact", [True, False])
def test_decimal_and_varint_text_follow_python_at_every_edge(exact: bool) -> None:
    """str(Decimal) switches to exponent notation at 6 leading zeros and for positive exponents; varints
    cross the 128-bit fast path."""
    import decimal

    decs = [
        decimal.Decimal((sign, tuple(int(c) for c in str(digits)), exp))
        for sign in (0, 1)
        for digits in (0, 1, 12345, 10**20 + 7)
        for exp in range(-16, 6)
    ]
    ints = [s * (2**k + d) for s in (1, -1) for k in (0, 63, 64, 126, 127, 128, 129, 200) for d in (-1, 0, 1)]
    dec_t, int_t = parse_cql_type("decimal"), parse_cql_type("varint")
    cells = [[serialize(dec_t, {}, d), serialize(int_t, {}, i)] for d, i in zip(decs, ints * 8, strict=False)]
    driver, raw = _both_paths([dec_t, int_t], {}, cells, exact)
    _assert_equal(driver, raw)
    if exact:
        # the wire has no negative zero: -0E-3 arrives as 0E-3
        assert raw.column(0).to_pylist() == [
            str(d.copy_abs() if d.is_zero() else d) for d in decs[: len(cells)]
        ]


def _plain_vectors(t: CqlType) -> bool:
    """Whether every vector in ``t`` has a native element (the driver parses only those back)."""
    if t.name == "vector" and not t.params[0].is_native:
        return False
    return all(_plain_vectors(p) for p in t.params)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_raw_handler_reads_past_any_metadata_to_the_cells(data: st.DataObject) -> None:
    """With column metadata in the page (a node sends it when the statement's changed, or unprepared), the
    raw handler skips it without building types and keeps the paging state; the driver agrees on it."""
    from cassandra.protocol import ProtocolHandler

    udts = data.draw(udt_defs())
    types = data.draw(st.lists(cql_types().filter(_plain_vectors), min_size=1, max_size=4))
    paging = data.draw(st.one_of(st.none(), st.binary(max_size=20)))
    once = data.draw(st.booleans())
    cells = rows_body([[serialize(t, udts, data.draw(values(t, udts))) for t in types] for _ in range(2)])
    body = result_message_with_metadata(types, udts, 2, cells, paging, once)

    page_msg = raw_page_handler().decode_message(5, {}, 0, 0, 0x08, body, None, None)
    assert isinstance(page_msg.parsed_rows, RawPage)
    assert (page_msg.parsed_rows.rows, page_msg.parsed_rows.columns, page_msg.parsed_rows.body) == (
        2,
        len(types),
        cells,
    )
    assert page_msg.paging_state == paging
    driver_msg = ProtocolHandler.decode_message(5, {}, 0, 0, 0x08, body, None, None)
    assert len(driver_msg.parsed_rows) == 2
    assert driver_msg.paging_state == paging
