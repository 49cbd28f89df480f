"""cassandra_frames.convert.from_arrow without a server: Arrow arrays → the values bound for every CQL type,
with edge values, bad values (reported by index, never raised) and the compatibility matrix. The values are
also serialized with the driver's own type classes and read back through to_arrow.column_converter, which
must give the original Arrow array again."""

from __future__ import annotations

import decimal
import ipaddress
import uuid
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from cassandra import cqltypes as ct

from cassandra_frames.convert.from_arrow import check_compatible, cql_values
from cassandra_frames.convert.to_arrow import column_converter
from cassandra_frames.convert.values import CqlDate as Date
from cassandra_frames.convert.values import CqlDuration as Duration
from cassandra_frames.convert.values import CqlTime as Time
from cassandra_frames.convert.values import PairMap
from cassandra_frames.cqltypes import NATIVE_TYPES, CqlType, parse_cql_type
from cassandra_frames.errors import SchemaError
from cassandra_frames.schema import arrow_type

TS = pa.timestamp("ms", tz="UTC")
YEAR_1 = -62135596800000
YEAR_3000 = 32503680000000
YEAR_10000 = 253402300800000
YEAR_MINUS_5000 = -219951360000000  # about 5000 BC; far outside Python's datetime
MS_2020 = 1577836800000
UDTS: dict[str, list[tuple[str, str]]] = {
    "inner_t": [("a", "int"), ("ts", "timestamp"), ("d", "date")],
    "Addr": [("street", "text"), ("Zip", "int"), ("inner", "frozen<inner_t>"), ("Zip Code", "int")],
}


def values_of(array: pa.Array | pa.ChunkedArray, cql: str, udts: Any = None) -> list[Any]:
    """The driver values of a column that must have no bad element."""
    values, bad = cql_values(array, cql, udts)
    assert bad == {}
    return values


# -------------------------------------------------------------------------------------------------- integers


@pytest.mark.parametrize(
    ("cql", "lo", "hi"),
    [
        ("tinyint", -128, 127),
        ("smallint", -(2**15), 2**15 - 1),
        ("int", -(2**31), 2**31 - 1),
        ("bigint", -(2**63), 2**63 - 1),
        ("counter", -(2**63), 2**63 - 1),
    ],
)
def test_integer_bounds_and_out_of_range(cql: str, lo: int, hi: int) -> None:
    assert values_of(pa.array([lo, None, hi, 0], pa.int64()), cql) == [lo, None, hi, 0]
    if cql in ("bigint", "counter"):
        arr = pa.array([hi, hi + 1, 0], pa.uint64())
        values, bad = cql_values(arr, cql)
        assert values == [hi, None, 0]
        assert bad == {1: f"value {hi + 1} is out of range for {cql} ({lo}..{hi})"}
        return
    values, bad = cql_values(pa.array([lo - 1, None, hi, hi + 1], pa.int64()), cql)
    assert values == [None, None, hi, None]
    assert bad == {
        0: f"value {lo - 1} is out of range for {cql} ({lo}..{hi})",
        3: f"value {hi + 1} is out of range for {cql} ({lo}..{hi})",
    }


def test_tinyint_message_and_python_ints() -> None:
    values, bad = cql_values(pa.array([1, 300], pa.int16()), "tinyint")
    assert bad == {1: "value 300 is out of range for tinyint (-128..127)"}
    assert type(values[0]) is int
    # narrower Arrow types fit without a check; unsigned ones are checked against the top only
    assert values_of(pa.array([-128, 127], pa.int8()), "tinyint") == [-128, 127]
    assert values_of(pa.array([255], pa.uint8()), "smallint") == [255]
    assert cql_values(pa.array([255], pa.uint8()), "tinyint")[1] == {
        0: "value 255 is out of range for tinyint (-128..127)"
    }


def test_floats_to_integers_must_be_whole_and_in_range() -> None:
    arr = pa.array([1.0, 2.5, None, float("nan"), float("inf"), -(2.0**63), 2.0**63, -0.0])
    values, bad = cql_values(arr, "bigint")
    assert values == [1, None, None, None, None, -(2**63), None, 0]
    assert all(type(v) is int for v in values if v is not None)
    assert bad[1] == "value 2.5 is not a whole number and cannot be written to bigint"
    assert bad[3] == "value nan is not a whole number and cannot be written to bigint"
    assert bad[4] == "value inf is not a whole number and cannot be written to bigint"
    assert "out of range for bigint" in bad[6]
    assert set(bad) == {1, 3, 4, 6}
    assert cql_values(pa.array([127.0, 128.0], pa.float32()), "tinyint") == (
        [127, None],
        {1: "value 128.0 is out of range for tinyint (-128..127)"},
    )
    assert values_of(pa.array([1e20]), "varint") == [10**20]


def test_decimal_to_integers() -> None:
    arr = pa.array([decimal.Decimal("5.00"), decimal.Decimal("1.5"), None], pa.decimal128(10, 2))
    values, bad = cql_values(arr, "int")
    assert values == [5, None, None]
    assert bad == {1: "value 1.50 is not a whole number and cannot be written to int"}
    big = pa.array([decimal.Decimal(10**40)], pa.decimal256(50, 0))
    assert values_of(big, "varint") == [10**40]
    assert cql_values(big, "bigint")[1] == {
        0: f"value {10**40} is out of range for bigint ({-(2**63)}..{2**63 - 1})"
    }


def test_varint_from_strings_is_exact() -> None:
    huge = "1" + "0" * 200
    enormous = "9" * 5000  # more digits than Python's default int-from-str limit (4300)
    arr = pa.array([huge, str(-(10**200) - 1), enormous, " 12 ", "x", "1_000", "١٢", "1.0", None])
    values, bad = cql_values(arr, "varint")
    assert values[:4] == [10**200, -(10**200) - 1, 10**5000 - 1, 12]
    assert values[4:] == [None] * 5
    assert bad == {
        4: "value 'x' is not an integer and cannot be written to varint",
        5: "value '1_000' is not an integer and cannot be written to varint",
        6: "value '١٢' is not an integer and cannot be written to varint",
        7: "value '1.0' is not an integer and cannot be written to varint",
    }
    assert values_of(pa.array([2**64 - 1], pa.uint64()), "varint") == [2**64 - 1]


# --------------------------------------------------------------------------------------------------- decimal


def test_decimal_from_strings_keeps_every_digit_and_the_scale() -> None:
    texts = [
        "-1.0000000000000000000000000001E+30",
        "10.000",
        "0.00001",
        "123456789012345678901234567890.123456789012345678901234567890",
    ]
    values = values_of(pa.array(texts), "decimal")
    assert all(isinstance(v, decimal.Decimal) for v in values)
    assert [str(v) for v in values] == texts
    values, bad = cql_values(pa.array(["NaN", "abc", "-Infinity", "1E-3000000000", "1"]), "decimal")
    assert values == [None, None, None, None, decimal.Decimal(1)]
    assert bad[0] == "value 'NaN' cannot be written to decimal (a CQL decimal has no NaN or infinity)"
    assert bad[1] == "value 'abc' is not a decimal number and cannot be written to decimal"
    assert "NaN or infinity" in bad[2]
    assert "scale of 3000000000" in bad[3]


def test_decimal_from_decimal_int_and_float_columns() -> None:
    d128 = pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2))
    assert [str(v) for v in values_of(d128, "decimal") if v is not None] == ["1.50"]
    assert values_of(pa.array([2**63 - 1], pa.int64()), "decimal") == [decimal.Decimal(2**63 - 1)]
    assert [str(v) for v in values_of(pa.array([0.1, 1e300, -2.5]), "decimal")] == ["0.1", "1E+300", "-2.5"]
    assert values_of(pa.array([1.1], pa.float32()), "decimal") == [decimal.Decimal("1.1")]
    values, bad = cql_values(pa.array([float("nan"), float("inf"), 1.0]), "decimal")
    assert values == [None, None, decimal.Decimal("1.0")]
    assert bad[0] == "value nan cannot be written to decimal (a CQL decimal has no NaN or infinity)"
    assert set(bad) == {0, 1}


# ---------------------------------------------------------------------------------------- floats, text, blob


def test_float_and_double() -> None:
    big = 3.4028234663852886e38
    arr = pa.array([1.5, float("nan"), float("-inf"), 1e300, big, None])
    values, bad = cql_values(arr, "float")
    assert values[0] == 1.5
    assert np.isnan(values[1])
    assert values[2:] == [float("-inf"), None, big, None]
    assert bad == {3: "value 1e+300 is out of range for float (32-bit)"}
    assert values_of(arr, "double")[3] == 1e300
    assert values_of(pa.array([0.5], pa.float16()), "double") == [0.5]
    # integers must be exactly representable
    assert values_of(pa.array([2**31 - 1, None], pa.int32()), "double") == [2147483647.0, None]
    values, bad = cql_values(pa.array([2**53, 2**53 + 1], pa.int64()), "double")
    assert values == [float(2**53), None]
    assert bad == {1: f"value {2**53 + 1} cannot be represented exactly as double"}
    assert cql_values(pa.array([2**24 + 1, 2**24], pa.int32()), "float") == (
        [None, float(2**24)],
        {0: f"value {2**24 + 1} cannot be represented exactly as float"},
    )


def test_boolean_text_ascii_blob() -> None:
    assert values_of(pa.array([True, False, None]), "boolean") == [True, False, None]
    text = ["héllo 🌍 中文", "", "\x00nul", None]
    assert values_of(pa.array(text), "text") == text
    assert values_of(pa.array(text, pa.large_string()), "varchar") == text
    assert values_of(pa.array(text, pa.string_view()), "text") == text
    values, bad = cql_values(pa.array(["plain", "", "é", None]), "ascii")
    assert values == ["plain", "", None, None]
    assert bad == {2: "value 'é' is not ASCII and cannot be written to ascii"}
    assert values_of(pa.array([b"\xde\xad", b"", None]), "blob") == [b"\xde\xad", b"", None]
    assert values_of(pa.array([b"ab"], pa.binary(2)), "blob") == [b"ab"]
    assert values_of(pa.array([b"ab"], pa.large_binary()), "blob") == [b"ab"]


# ------------------------------------------------------------------------------------------------ timestamps


def test_timestamps_any_year_as_milliseconds() -> None:
    ms = [YEAR_1, YEAR_3000, YEAR_10000, YEAR_MINUS_5000, -(2**63), 2**63 - 1, 0, None]
    values = values_of(pa.array(ms, TS), "timestamp")
    assert values == ms
    assert all(type(v) is int for v in values if v is not None)
    for unit, per_ms, low in (("us", 1000, YEAR_1), ("ns", 1_000_000, -(10**11))):
        arr = pa.array([v * per_ms for v in (low, MS_2020 + 1, -1)], pa.timestamp(unit))
        assert values_of(arr, "timestamp") == [low, MS_2020 + 1, -1]
    secs = pa.array([YEAR_10000 // 1000, 2**62], pa.timestamp("s"))
    values, bad = cql_values(secs, "timestamp")
    assert values == [YEAR_10000, None]
    assert bad == {1: f"timestamp {2**62} s since the epoch is out of range for timestamp"}


def test_sub_millisecond_timestamps_are_bad_not_truncated() -> None:
    arr = pa.array([MS_2020 * 1000 + 1, MS_2020 * 1000, -1], pa.timestamp("us", tz="UTC"))
    values, bad = cql_values(arr, "timestamp")
    assert values == [None, MS_2020, None]
    assert bad == {
        0: "timestamp 2020-01-01T00:00:00.000001Z has sub-millisecond precision; a CQL timestamp holds "
        "milliseconds",
        2: "timestamp 1969-12-31T23:59:59.999999Z has sub-millisecond precision; a CQL timestamp holds "
        "milliseconds",
    }
    ns = pa.array([5], pa.timestamp("ns"))
    assert "has sub-millisecond precision" in cql_values(ns, "timestamp")[1][0]


def test_naive_timestamps_are_utc_and_zones_do_not_matter() -> None:
    naive = pa.array([MS_2020], pa.timestamp("ms"))
    zoned = pa.array([MS_2020], pa.timestamp("ms", tz="America/New_York"))
    assert values_of(naive, "timestamp") == values_of(zoned, "timestamp") == [MS_2020]
    assert values_of(pa.array([18262, -(2**31), None], pa.date32()), "timestamp") == [
        MS_2020,
        -(2**31) * 86_400_000,
        None,
    ]
    assert values_of(pa.array([MS_2020 + 5], pa.date64()), "timestamp") == [MS_2020 + 5]


# -------------------------------------------------------------------------------------- date, time, duration


def test_dates_outside_python_range() -> None:
    days = [-(2**31), 2**31 - 1, -2545740, 18262, None]
    values = values_of(pa.array(days, pa.date32()), "date")
    assert values == [None if d is None else Date(d) for d in days]
    assert all(isinstance(v, Date) for v in values[:-1])
    ts = pa.array([MS_2020, MS_2020 + 1, -86_400_000 * 2**31, 86_400_000 * 2**31], TS)
    values, bad = cql_values(ts, "date")
    assert values == [Date(18262), None, Date(-(2**31)), None]
    assert bad[1] == "value 2020-01-01T00:00:00.001Z is not at midnight UTC; a CQL date holds whole days"
    assert "out of range for date" in bad[3]
    assert set(bad) == {1, 3}
    assert values_of(pa.array([MS_2020], pa.date64()), "date") == [Date(18262)]
    assert values_of(pa.array([MS_2020 * 10**6], pa.timestamp("ns")), "date") == [Date(18262)]


def test_time_with_nanoseconds() -> None:
    arr = pa.array([0, 86_399_999_999_999, 43_200_000_000_001, None], pa.time64("ns"))
    assert values_of(arr, "time") == [Time(0), Time(86_399_999_999_999), Time(43_200_000_000_001), None]
    assert values_of(pa.array([86_399], pa.time32("s")), "time") == [Time(86_399 * 10**9)]
    assert values_of(pa.array([1], pa.time32("ms")), "time") == [Time(10**6)]
    assert values_of(pa.array([1], pa.time64("us")), "time") == [Time(1000)]
    bad_times = pa.array([-1, 86_400_000_000_000], pa.time64("ns"))
    values, bad = cql_values(bad_times, "time")
    assert values == [None, None]
    assert bad[0] == "time value -1 ns is outside 00:00:00..23:59:59.999999999"
    assert set(bad) == {0, 1}


def test_duration_parts_and_signs() -> None:
    mdn = pa.month_day_nano_interval()
    arr = pa.array([(1, 2, 3), (-14, 0, 0), (-1, -2, -3), (0, 0, 2**63 - 1), (1, -2, 3), None], mdn)
    values, bad = cql_values(arr, "duration")
    assert values[:4] == [
        Duration(1, 2, 3),
        Duration(-14, 0, 0),
        Duration(-1, -2, -3),
        Duration(0, 0, 2**63 - 1),
    ]
    assert values[4:] == [None, None]
    assert bad == {
        4: "duration (1 months, -2 days, 3 ns) mixes signs; a CQL duration needs months, days and "
        "nanoseconds of one sign"
    }
    elapsed = pa.array([-90, 2**62], pa.duration("s"))
    values, bad = cql_values(elapsed, "duration")
    assert values == [Duration(0, 0, -90 * 10**9), None]
    assert "out of range for duration" in bad[1]


# ------------------------------------------------------------------------------------------------ uuid, inet

V1 = "e5a1dfd0-e81e-11f1-a695-6306d05ebcda"
V4 = "550e8400-e29b-41d4-a716-446655440000"


def test_uuid_and_timeuuid() -> None:
    arr = pa.array([V4, V1.upper(), "not-a-uuid", None])
    values, bad = cql_values(arr, "uuid")
    assert values == [uuid.UUID(V4), uuid.UUID(V1), None, None]
    assert bad == {2: "value 'not-a-uuid' is not a UUID and cannot be written to uuid"}
    values, bad = cql_values(pa.array([V1, V4]), "timeuuid")
    assert values == [uuid.UUID(V1), None]
    assert bad == {1: f"value '{V4}' is a version 4 UUID; a timeuuid must be version 1"}
    raw = pa.array([uuid.UUID(V4).bytes, None], pa.binary(16))
    assert values_of(raw, "uuid") == [uuid.UUID(V4), None]
    ext = pa.array([uuid.UUID(V1).bytes], pa.uuid())
    assert values_of(ext, "timeuuid") == [uuid.UUID(V1)]
    assert "version 4" in cql_values(pa.array([uuid.UUID(V4).bytes], pa.uuid()), "timeuuid")[1][0]


def test_uuid_text_fast_path_matches_uuid_uuid() -> None:
    """Canonical text is parsed with numpy; everything else goes through uuid.UUID; both give the same."""
    rng = np.random.default_rng(7)
    texts: list[Any] = []
    for k in range(3000):
        u = str(uuid.UUID(bytes=rng.bytes(16)))
        texts.append(None if k % 11 == 0 else u.upper() if k % 3 == 0 else u)
    arr = pa.array(texts).slice(5)
    values = values_of(arr, "uuid")
    assert values == [None if t is None else uuid.UUID(t) for t in texts[5:]]
    assert all(type(v) is uuid.UUID and v.is_safe == uuid.SafeUUID.unknown for v in values if v is not None)
    assert str(values[1]) == texts[6].lower()
    assert hash(values[1]) == hash(uuid.UUID(texts[6]))
    odd = [V4, V4[:-1] + "g", V4.replace("-", "+"), f"{{{V4.replace('-', '')}}}", "urn:uuid:" + V1, None]
    for typ in (pa.string(), pa.large_string()):
        values, bad = cql_values(pa.array(odd, typ), "uuid")
        assert values == [uuid.UUID(V4), None, None, uuid.UUID(V4), uuid.UUID(V1), None]
        assert bad == {
            1: f"value '{V4[:-1]}g' is not a UUID and cannot be written to uuid",
            2: f"value '{V4.replace('-', '+')}' is not a UUID and cannot be written to uuid",
        }
    same_length = pa.array([V1, V4[:-1] + "Z", V4], pa.large_string())  # all 36 characters: the fast path
    values, bad = cql_values(same_length, "timeuuid")
    assert values == [uuid.UUID(V1), None, None]
    assert bad == {
        1: f"value '{V4[:-1]}Z' is not a UUID and cannot be written to timeuuid",
        2: f"value '{V4}' is a version 4 UUID; a timeuuid must be version 1",
    }
    raw = pa.array([None, uuid.UUID(V1).bytes, uuid.UUID(V4).bytes], pa.binary(16)).slice(1)
    assert cql_values(raw, "timeuuid") == (
        [uuid.UUID(V1), None],
        {1: f"value {V4} is a version 4 UUID; a timeuuid must be version 1"},
    )


def test_inet() -> None:
    good = ["192.168.0.1", "2001:db8::1", "::1", "::ffff:1.2.3.4"]
    assert values_of(pa.array(good), "inet") == good
    values, bad = cql_values(pa.array(["999.1.1.1", "127.1", "01.2.3.4", "fe80::1%eth0", ""]), "inet")
    assert values == [None] * 5
    assert bad[0] == "value '999.1.1.1' is not an IP address and cannot be written to inet"
    assert bad[3] == "value 'fe80::1%eth0' has a scope id, which a CQL inet cannot hold"
    assert set(bad) == {0, 1, 2, 3, 4}


def test_inet_fast_path_agrees_with_ipaddress() -> None:
    """The vectorised IPv4 regex accepts exactly what ipaddress accepts (leading zeros, 256, short forms)."""
    octets = [
        "0",
        "00",
        "01",
        "1",
        "9",
        "10",
        "99",
        "100",
        "199",
        "200",
        "249",
        "250",
        "255",
        "256",
        "300",
        "",
    ]
    rng = np.random.default_rng(3)
    texts = [".".join(rng.choice(octets, size=4)) for _ in range(2000)]
    texts += [
        "1.2.3",
        "1.2.3.4.5",
        " 1.2.3.4",
        "1.2.3.4 ",
        "١.2.3.4",
        "::",
        "::ffff:1.2.3.4",
        "1:2:3:4:5:6:7:8",
    ]
    values, bad = cql_values(pa.array(texts), "inet")
    for i, text in enumerate(texts):
        try:
            ipaddress.ip_address(text)
        except ValueError:
            assert i in bad, text
            assert values[i] is None
        else:
            assert i not in bad, text
            assert values[i] == text


# ----------------------------------------------------------------------------------------------- collections


def test_lists_sets_and_nesting() -> None:
    ll = pa.array([[[1, 2], [3]], [[]], None, []], pa.list_(pa.list_(pa.int32())))
    assert values_of(ll, "list<frozen<list<int>>>") == [[[1, 2], [3]], [[]], None, []]
    sd = pa.array([[18262, -(2**31)]], pa.list_(pa.date32()))
    assert values_of(sd, "set<date>") == [[Date(18262), Date(-(2**31))]]
    lu = pa.array([[V4], ["bad"]], pa.list_(pa.string()))
    values, bad = cql_values(lu, "list<uuid>")
    assert values == [[uuid.UUID(V4)], None]
    assert bad == {1: "element 0: value 'bad' is not a UUID and cannot be written to uuid"}
    nested_bad = pa.array([[[1], [2, 300]]], pa.list_(pa.list_(pa.int64())))
    assert cql_values(nested_bad, "list<frozen<list<tinyint>>>")[1] == {
        0: "element 1: element 1: value 300 is out of range for tinyint (-128..127)"
    }


def test_nulls_inside_collections_are_bad() -> None:
    arr = pa.array([["a", None], ["b"]], pa.list_(pa.string()))
    values, bad = cql_values(arr, "list<text>")
    assert values == [None, ["b"]]
    assert bad == {0: "a list cannot contain null (element 1 of list<text>)"}
    m = pa.array([[("k", None)], [("k", 1)]], pa.map_(pa.string(), pa.int32()))
    values, bad = cql_values(m, "map<text, int>")
    assert values == [None, {"k": 1}]
    assert bad == {0: "a map cannot have a null value (key 'k' of map<text, int>)"}


def test_sliced_and_chunked_arrays_keep_row_indices() -> None:
    base = pa.array([[1], [2, 3], None, [400], [5]], pa.list_(pa.int64()))
    sliced = base.slice(1, 4)
    values, bad = cql_values(sliced, "list<tinyint>")
    assert values == [[2, 3], None, None, [5]]
    assert bad == {2: "element 0: value 400 is out of range for tinyint (-128..127)"}
    chunked = pa.chunked_array([pa.array([1, 2], pa.int64()), pa.array([], pa.int64()), pa.array([3, 999])])
    values, bad = cql_values(chunked, "tinyint")
    assert values == [1, 2, 3, None]
    assert list(bad) == [3]
    structs = pa.array([{"f0": 1, "f1": "a"}, None, {"f0": 2, "f1": "b"}]).slice(1)
    assert values_of(structs, "tuple<bigint, text>") == [None, (2, "b")]
    fixed = pa.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], pa.list_(pa.float32(), 2)).slice(1)
    assert values_of(fixed, "vector<float, 2>") == [[3.0, 4.0], [5.0, 6.0]]


def test_maps() -> None:
    m = pa.array([[("k", 1), ("j", 2)], None, []], pa.map_(pa.string(), pa.int32()))
    values = values_of(m, "map<text, int>")
    assert values == [{"k": 1, "j": 2}, None, {}]
    assert list(values[0]) == ["k", "j"]
    frozen_keys = pa.array([[([1, 2], "a"), ([], "b")]], pa.map_(pa.list_(pa.int32()), pa.string()))
    assert values_of(frozen_keys, "map<frozen<set<int>>, text>") == [{(1, 2): "a", (): "b"}]
    udt_keys = pa.array(
        [[({"street": "S", "Zip": 1}, 5)]],
        pa.map_(pa.struct([("street", pa.string()), ("Zip", pa.int32())]), pa.int32()),
    )
    assert values_of(udt_keys, 'map<frozen<"Addr">, int>', UDTS) == [{("S", 1, None, None): 5}]
    map_keys = pa.array([[([(1, 2)], "x")]], pa.map_(pa.map_(pa.int32(), pa.int32()), pa.string()))
    (value,) = values_of(map_keys, "map<frozen<map<int, int>>, text>")
    assert isinstance(value, PairMap)
    assert list(value.items()) == [({1: 2}, "x")]
    map_keys_twice = pa.array(
        [[([(1, 2)], "x"), ([(1, 2)], "y")]], pa.map_(pa.map_(pa.int32(), pa.int32()), pa.string())
    )
    assert cql_values(map_keys_twice, "map<frozen<map<int, int>>, text>") == (
        [None],
        {0: "a map with a repeated key cannot be written to map<frozen<map<int, int>>, text>"},
    )
    dup = pa.array([[("k", 1), ("k", 2)]], pa.map_(pa.string(), pa.int32()))
    assert cql_values(dup, "map<text, int>") == (
        [None],
        {0: "a map with a repeated key cannot be written to map<text, int>"},
    )
    zeros = pa.array([[(0.0, "a"), (-0.0, "b")]], pa.map_(pa.float64(), pa.string()))
    (value,) = values_of(zeros, "map<double, text>")  # distinct in Cassandra, equal in a dict
    assert len(value) == 2
    entries = pa.array(
        [[{"value": 1, "key": "a"}]], pa.list_(pa.struct([("value", pa.int8()), ("key", pa.string())]))
    )
    assert values_of(entries, "map<text, int>") == [{"a": 1}]
    timestamps = pa.array([[(MS_2020, [MS_2020, 0])]], pa.map_(TS, pa.list_(TS)))
    assert values_of(timestamps, "map<timestamp, frozen<list<timestamp>>>") == [{MS_2020: [MS_2020, 0]}]


def test_tuples_by_position() -> None:
    arr = pa.array(
        [{"f0": 1, "f1": "one", "f2": MS_2020}, {"f0": None, "f1": None, "f2": None}, None],
        pa.struct([("f0", pa.int32()), ("f1", pa.string()), ("f2", TS)]),
    )
    assert values_of(arr, "tuple<int, text, timestamp>") == [(1, "one", MS_2020), (None, None, None), None]
    named = pa.array([{"x": 1, "y": "a"}])
    assert values_of(named, "frozen<tuple<bigint, text>>") == [(1, "a")]
    bad_struct = pa.array([{"f0": 1, "f1": 500}], pa.struct([("f0", pa.int8()), ("f1", pa.int16())]))
    assert cql_values(bad_struct, "tuple<int, tinyint>")[1] == {
        0: "field 1: value 500 is out of range for tinyint (-128..127)"
    }


def test_udts_by_position_in_field_order() -> None:
    arr = pa.array(
        [
            {"Zip Code": 99, "street": "Main", "inner": {"a": 5, "d": -354285}},
            {"street": ""},
            None,
        ],
        pa.struct(
            [
                ("Zip Code", pa.int32()),
                ("street", pa.string()),
                ("inner", pa.struct([("a", pa.int32()), ("d", pa.date32())])),
            ]
        ),
    )
    values = values_of(arr, 'frozen<"Addr">', UDTS)
    # "Zip" is missing from the struct → None; "inner" has no "ts" → None
    assert values == [("Main", None, (5, None, Date(-354285)), 99), ("", None, None, None), None]
    assert all(type(v) is tuple for v in values[:2])
    lists = pa.array([[{"street": "S"}], [{"street": None}]], pa.list_(pa.struct([("street", pa.string())])))
    assert values_of(lists, 'list<frozen<"Addr">>', UDTS) == [
        [("S", None, None, None)],
        [(None, None, None, None)],
    ]


def test_vectors() -> None:
    v = pa.array([[1.0, 2.5, -3.0], None], pa.list_(pa.float32(), 3))
    assert values_of(v, "vector<float, 3>") == [[1.0, 2.5, -3.0], None]
    var = pa.array([[1.0, 2.0, 3.0], [1.0, 2.0], [1.0, None, 3.0]], pa.list_(pa.float32()))
    values, bad = cql_values(var, "vector<float, 3>")
    assert values == [[1.0, 2.0, 3.0], None, None]
    assert bad == {
        1: "a list of 2 elements cannot be written to vector<float, 3>",
        2: "a vector cannot contain null (element 1 of vector<float, 3>)",
    }
    vt = pa.array([["a", "b"]], pa.list_(pa.string(), 2))
    assert values_of(vt, "vector<text, 2>") == [["a", "b"]]


def test_frozen_null_and_dictionary_columns() -> None:
    assert values_of(pa.array([[1]], pa.list_(pa.int32())), "frozen<list<int>>") == [[1]]
    nulls = pa.nulls(3)
    for cql in ("int", "timestamp", "map<text, int>", 'frozen<"Addr">', "vector<float, 2>"):
        assert check_compatible(pa.null(), cql, UDTS) is None
        assert values_of(nulls, cql, UDTS) == [None, None, None]
    dictionary = pa.array(["a", "b", None, "a"]).dictionary_encode()
    assert values_of(dictionary, "text") == ["a", "b", None, "a"]
    assert cql_values(pa.array(["é", "a"]).dictionary_encode(), "ascii")[1] == {
        0: "value 'é' is not ASCII and cannot be written to ascii"
    }


def test_null_elements_of_a_null_typed_list_are_bad() -> None:
    values, bad = cql_values(pa.array([[None], []], pa.list_(pa.null())), "list<int>")
    assert values == [None, []]
    assert bad == {0: "a list cannot contain null (element 0 of list<int>)"}


# -------------------------------------------------------------------------------------- compatibility matrix

COMPATIBLE = [
    (pa.int8(), "tinyint"),
    (pa.int64(), "tinyint"),
    (pa.uint64(), "bigint"),
    (pa.float64(), "int"),
    (pa.decimal128(10, 2), "smallint"),
    (pa.int64(), "counter"),
    (pa.string(), "varint"),
    (pa.float64(), "varint"),
    (pa.string(), "decimal"),
    (pa.decimal256(40, 10), "decimal"),
    (pa.int32(), "decimal"),
    (pa.float32(), "decimal"),
    (pa.float64(), "float"),
    (pa.int64(), "double"),
    (pa.bool_(), "boolean"),
    (pa.large_string(), "text"),
    (pa.string(), "ascii"),
    (pa.binary(16), "blob"),
    (pa.timestamp("ns", tz="Europe/Paris"), "timestamp"),
    (pa.date32(), "timestamp"),
    (pa.timestamp("s"), "date"),
    (pa.date64(), "date"),
    (pa.time32("ms"), "time"),
    (pa.string(), "uuid"),
    (pa.binary(16), "timeuuid"),
    (pa.uuid(), "uuid"),
    (pa.string(), "inet"),
    (pa.month_day_nano_interval(), "duration"),
    (pa.duration("us"), "duration"),
    (pa.list_(pa.string()), "set<uuid>"),
    (pa.large_list(pa.int8()), "list<int>"),
    (pa.list_(pa.float32(), 3), "list<float>"),
    (pa.list_(pa.float64()), "vector<float, 3>"),
    (pa.list_(pa.float32(), 3), "vector<float, 3>"),
    (pa.map_(pa.string(), pa.int64()), "frozen<map<text, int>>"),
    (pa.list_(pa.struct([("key", pa.string()), ("value", pa.int64())])), "map<text, int>"),
    (pa.struct([("f0", pa.int32()), ("f1", pa.string())]), "tuple<int, text>"),
    (pa.struct([("a", pa.int32()), ("b", pa.string())]), "tuple<int, text>"),
    (pa.struct([]), "inner_t"),
    (pa.struct([("street", pa.string())]), '"Addr"'),
    (pa.dictionary(pa.int32(), pa.string()), "text"),
    (pa.null(), "inner_t"),
    (pa.list_(pa.null()), "list<text>"),
]

INCOMPATIBLE = [
    (pa.string(), "int", "string cannot be written to a column of type int"),
    (pa.bool_(), "int", "bool cannot be written to a column of type int"),
    (pa.int32(), "boolean", "int32 cannot be written to a column of type boolean"),
    (pa.int64(), "text", "int64 cannot be written to a column of type text"),
    (pa.int64(), "timestamp", "int64 cannot be written to a column of type timestamp"),
    (pa.string(), "timestamp", "string cannot be written to a column of type timestamp"),
    (pa.decimal128(5, 2), "double", "decimal128(5, 2) cannot be written to a column of type double"),
    (pa.string(), "double", "string cannot be written to a column of type double"),
    (pa.binary(), "text", "binary cannot be written to a column of type text"),
    (pa.string(), "blob", "string cannot be written to a column of type blob"),
    (pa.binary(8), "uuid", "fixed_size_binary[8] cannot be written to a column of type uuid"),
    (pa.uuid(), "text", "extension<arrow.uuid> cannot be written to a column of type text"),
    (pa.time64("ns"), "timestamp", "time64[ns] cannot be written to a column of type timestamp"),
    (pa.timestamp("ms"), "time", "timestamp[ms] cannot be written to a column of type time"),
    (pa.int64(), "duration", "int64 cannot be written to a column of type duration"),
    (pa.string(), "list<text>", "string cannot be written to a column of type list<text>"),
    (
        pa.list_(pa.string()),
        "list<int>",
        "list<item: string> cannot be written to a column of type list<int>: in list elements: "
        "string cannot be written to int",
    ),
    (
        pa.map_(pa.string(), pa.list_(pa.string())),
        "map<text, frozen<list<int>>>",
        "map<string, list<item: string>> cannot be written to a column of type map<text, frozen<list<int>>>: "
        "in map values: in list elements: string cannot be written to int",
    ),
    (
        pa.list_(pa.float32(), 4),
        "vector<float, 3>",
        "fixed_size_list<item: float>[4] cannot be written to a column of type vector<float, 3> "
        "(4 elements per value, not 3)",
    ),
    (pa.list_(pa.string()), "map<text, int>", "cannot be written to a column of type map<text, int>"),
    (
        pa.list_(pa.struct([("k", pa.string()), ("v", pa.int8())])),
        "map<text, int>",
        "a list of map entries needs struct fields 'key' and 'value'",
    ),
    (
        pa.struct([("f0", pa.int32())]),
        "tuple<int, text>",
        "struct<f0: int32> cannot be written to a column of type tuple<int, text> "
        "(1 struct fields for 2 tuple components)",
    ),
    (
        pa.struct([("f1", pa.string()), ("f0", pa.int32())]),
        "tuple<int, text>",
        "struct fields f1, f0 are not f0…f1 in order",
    ),
    (
        pa.struct([("street", pa.string()), ("zip", pa.int32())]),
        'frozen<"Addr">',
        'struct<street: string, zip: int32> cannot be written to a column of type frozen<"Addr"> '
        "(struct field 'zip' is not a field of \"Addr\"; its fields are street, Zip, inner, Zip Code)",
    ),
    (
        pa.struct([("inner", pa.struct([("a", pa.string())]))]),
        '"Addr"',
        "in field 'inner': in field 'a': string cannot be written to int",
    ),
    (pa.int32(), '"Addr"', 'int32 cannot be written to a column of type "Addr"'),
    (pa.list_view(pa.int32()), "list<int>", "cannot be written to a column of type list<int>"),
]


@pytest.mark.parametrize(("arrow", "cql"), COMPATIBLE, ids=[f"{a}->{c}" for a, c in COMPATIBLE])
def test_compatible_pairs(arrow: pa.DataType, cql: str) -> None:
    assert check_compatible(arrow, cql, UDTS) is None
    assert check_compatible(arrow, parse_cql_type(cql), UDTS) is None
    values, _ = cql_values(pa.array([None], arrow) if arrow != pa.uuid() else pa.nulls(1, arrow), cql, UDTS)
    assert values == [None]
    assert cql_values(pa.nulls(0, arrow), cql, UDTS) == ([], {})
    assert cql_values(pa.chunked_array([], arrow), cql, UDTS) == ([], {})


@pytest.mark.parametrize(
    ("arrow", "cql", "reason"), INCOMPATIBLE, ids=[f"{a}->{c}" for a, c, _ in INCOMPATIBLE]
)
def test_incompatible_pairs(arrow: pa.DataType, cql: str, reason: str) -> None:
    got = check_compatible(arrow, cql, UDTS)
    assert got is not None
    assert reason in got
    with pytest.raises(SchemaError) as info:
        cql_values(pa.nulls(0, arrow), cql, UDTS)
    assert str(info.value) == got


def test_unknown_udt_and_bad_type_text_raise() -> None:
    with pytest.raises(SchemaError, match="unknown user-defined type 'addr'; did you mean 'Addr'"):
        check_compatible(pa.struct([("street", pa.string())]), "addr", UDTS)
    with pytest.raises(SchemaError, match="unknown user-defined type"):
        cql_values(pa.nulls(1), "nosuch")
    with pytest.raises(SchemaError, match="cannot parse CQL type"):
        check_compatible(pa.int32(), "list<int")


# ------------------------------------------------------------------------------ the driver's own serializers

_NATIVE_DRIVER_TYPES = {
    "ascii": ct.AsciiType,
    "bigint": ct.LongType,
    "blob": ct.BytesType,
    "boolean": ct.BooleanType,
    "counter": ct.CounterColumnType,
    "date": ct.SimpleDateType,
    "decimal": ct.DecimalType,
    "double": ct.DoubleType,
    "duration": ct.DurationType,
    "float": ct.FloatType,
    "inet": ct.InetAddressType,
    "int": ct.Int32Type,
    "smallint": ct.ShortType,
    "text": ct.UTF8Type,
    "time": ct.TimeType,
    "timestamp": ct.DateType,
    "timeuuid": ct.TimeUUIDType,
    "tinyint": ct.ByteType,
    "uuid": ct.UUIDType,
    "varchar": ct.VarcharType,
    "varint": ct.IntegerType,
}


def driver_type(t: CqlType) -> Any:
    """The driver's type class for a CQL type (what a prepared statement uses to serialize)."""
    if t.is_native:
        return _NATIVE_DRIVER_TYPES[t.name]
    subs = [driver_type(p) for p in t.params]
    if t.name == "list":
        return ct.ListType.apply_parameters(subs)
    if t.name == "set":
        return ct.SetType.apply_parameters(subs)
    if t.name == "map":
        return ct.MapType.apply_parameters(subs)
    if t.name == "tuple":
        return ct.TupleType.apply_parameters(subs)
    if t.name == "vector":
        return ct.VectorType.apply_parameters([subs[0], t.size], None)
    fields = UDTS[t.name]
    return ct.UserType.make_udt_class(
        "ks", t.name, tuple(n for n, _ in fields), tuple(driver_type(parse_cql_type(ft)) for _, ft in fields)
    )


# Columns in exactly the Arrow types schema.arrow_type gives (what read_cassandra returns); timestamps only
# nested and inside years 1..9999, because the driver decodes those as datetime.
ROUND_TRIP: dict[str, list[Any]] = {
    "ascii": ["ascii", ""],
    "bigint": [2**63 - 1, -(2**63)],
    "blob": [b"\xde\xad\xbe\xef", b""],
    "boolean": [True, False],
    "date": [-2545740, 2**31 - 1],
    "decimal": ["-1.0000000000000000000000000001E+30", "10.000"],
    "double": [1.7976931348623157e308, float("-inf")],
    "duration": [(1, 2, 3), (-14, 0, 0)],
    "float": [3.4028234663852886e38, 1.100000023841858],
    "inet": ["192.168.0.1", "2001:db8::1"],
    "int": [2**31 - 1, -(2**31)],
    "smallint": [32767, -32768],
    "text": ["héllo 🌍 中文", ""],
    "time": [86399999999999, 0],
    "timeuuid": [V1, "00000000-0000-1000-8000-000000000000"],
    "tinyint": [127, -128],
    "uuid": [V4, "00000000-0000-0000-0000-000000000000"],
    "varint": ["1" + "0" * 200, "-1" + "0" * 199 + "1"],
    "vector<float, 3>": [[1.0, 2.5, -3.0], [0.0, -1.5, 3.4028234663852886e38]],
    "vector<text, 2>": [["a", "b"], ["", "é"]],
    "list<int>": [[3, 1, 2], []],
    "set<text>": [["x", "y"], []],
    "map<text, int>": [[("j", 2), ("k", 1)], []],
    "tuple<int, text, timestamp>": [
        {"f0": 1, "f1": "one", "f2": MS_2020},
        {"f0": None, "f1": None, "f2": None},
    ],
    'frozen<"Addr">': [
        {"street": "Main", "Zip": 123, "inner": {"a": 5, "ts": MS_2020, "d": -354285}, "Zip Code": 99},
        {"street": "", "Zip": None, "inner": None, "Zip Code": None},
    ],
    "list<frozen<list<int>>>": [[[1, 2], [3]], [[]]],
    "map<frozen<set<int>>, text>": [[([1, 2], "a")], [([], "b")]],
    "map<timestamp, frozen<list<timestamp>>>": [[(MS_2020, [YEAR_1, 0])], []],
    "map<frozen<map<int, text>>, frozen<tuple<int, text>>>": [[([(1, "a")], {"f0": 1, "f1": None})], []],
    "set<date>": [[-354285, 18262], []],
    "list<duration>": [[(-1, -2, 0), (0, 0, 3600 * 10**9)], []],
    "list<decimal>": [["1.5", "10.000"], []],
    "list<uuid>": [["00000000-0000-0000-0000-00000000000a"], []],
    "set<inet>": [["10.0.0.1", "::1"], []],
    'list<frozen<"Addr">>': [[{"street": "S", "Zip": None, "inner": None, "Zip Code": 7}], []],
    "vector<vector<float, 2>, 2>": [[[1.0, 2.0], [3.0, 4.0]], [[0.0, 0.0], [-1.0, 1.0]]],
}


@pytest.mark.parametrize("cql", list(ROUND_TRIP))
def test_driver_serializes_what_schema_reads_back(cql: str) -> None:
    """Arrow (schema.arrow_type) → cql_values → the driver's serialize → deserialize → column_converter
    gives back the same Arrow array: the write conversion is the exact inverse of the read one."""
    t = parse_cql_type(cql)
    original = pa.array([*ROUND_TRIP[cql], None], arrow_type(t, UDTS))
    values = values_of(original, cql, UDTS)
    typ = driver_type(t)
    decoded = [None if v is None else typ.deserialize(typ.serialize(v, 5), 5) for v in values]
    again = column_converter(t, UDTS)(decoded)
    assert again.equals(original), (again.to_pylist(), original.to_pylist())


def test_driver_serializes_top_level_timestamps_of_any_year() -> None:
    ms = [YEAR_1, YEAR_3000, YEAR_10000, YEAR_MINUS_5000, -(2**63), 2**63 - 1]
    for v, expected in zip(values_of(pa.array(ms, TS), "timestamp"), ms, strict=True):
        assert ct.DateType.serialize(v, 5) == expected.to_bytes(8, "big", signed=True)


def test_every_cql_type_name_is_covered() -> None:
    """Every native CQL type has a compatible Arrow type: the one schema.arrow_type gives."""
    for name in sorted(NATIVE_TYPES):
        assert check_compatible(arrow_type(name), name) is None, name
