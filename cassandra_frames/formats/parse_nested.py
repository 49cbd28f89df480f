"""Per-value parsing for ``cf.load`` (see :mod:`cassandra_frames.formats.parse`): scalar text, CQL literals
and JSON values → the Python values ``pa.array(values, type=arrow_type(t))`` takes (ints for integers,
date days, time ns and timestamp ms; ``(months, days, ns)`` durations; lists; ``[(k, v)]`` maps; dicts for
tuples and UDTs). Used for nested types, JSON values, and the rows a scalar fast path did not take.
"""

from __future__ import annotations

import binascii
import decimal
import ipaddress
import json
import math
import re
import socket
from collections.abc import Sequence
from typing import Any, NamedTuple

import pyarrow as pa

from cassandra_frames.cqltypes import CqlType, UdtMap, udt_fields

__all__ = ["Bad", "build_column", "scalar_value", "show"]

INT_BITS = {"tinyint": 8, "smallint": 16, "int": 32, "bigint": 64, "counter": 64}
TEXT_TYPES = frozenset({"text", "varchar", "ascii"})
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
NS_PER_DAY = 86_400_000_000_000
_INT_RE = re.compile(r"[+-]?[0-9]+")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL = {"nan": math.nan, "infinity": math.inf, "+infinity": math.inf, "-infinity": -math.inf}
_TRUE, _FALSE = frozenset({"true", "1", "yes", "y", "t"}), frozenset({"false", "0", "no", "n", "f"})
_HEX_RE = re.compile(r"0[xX]((?:[0-9a-fA-F]{2})*)")
_B64_RE = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_DATE_RE = re.compile(r"([+-]?[0-9]{4,})-([0-9]{2})-([0-9]{2})")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?")
_TS_RE = re.compile(
    r"([+-]?[0-9]{4,})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?"
    r"\s*(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?"
)
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_CQL_DURATION_RE = re.compile(
    r"(-)?(?:([0-9]+)y)?(?:([0-9]+)mo)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?"
    r"(?:([0-9]+)s)?(?:([0-9]+)ms)?(?:([0-9]+)(?:us|µs))?(?:([0-9]+)ns)?",
    re.IGNORECASE,
)
_ISO_DURATION_RE = re.compile(
    r"(-)?P(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?"
    r"(?:T(?:([0-9]+)H)?(?:([0-9]+)M)?(?:([0-9]+)(?:[.,]([0-9]{1,9}))?S)?)?",
    re.IGNORECASE,
)
_ISO_ALT_RE = re.compile(r"(-)?P([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})")
_UNIT_NS = (3_600_000_000_000, 60_000_000_000, 1_000_000_000, 1_000_000, 1000, 1)

EXPECTED = {
    "float": "a number, NaN or ±Infinity within the float range (about ±3.4e38)",
    "double": "a number, NaN or ±Infinity",
    "boolean": "true/false, 1/0, yes/no, y/n or t/f",
    "blob": "0x followed by hex digits, or base64",
    "date": "YYYY-MM-DD, with +/- for years outside 0000-9999",
    "time": "HH:MM:SS with up to 9 fraction digits, or nanoseconds since midnight",
    "timestamp": "an ISO 8601 timestamp such as 2013-01-01 05:00:00.000Z, a date, or epoch milliseconds",
    "duration": "a CQL duration such as 1y2mo3d4h5m6s7ms8us9ns or an ISO 8601 one such as P1DT2H",
    "uuid": "8-4-4-4-12 hex digits",
    "timeuuid": "a version 1 UUID, 8-4-4-4-12 hex digits",
    "inet": "an IPv4 or IPv6 address",
    "decimal": "a decimal number such as -1.50 or 1E+30",
    "varint": "a whole number",
    "ascii": "ASCII characters only",
}
EXPECTED |= {n: f"a whole number from {-(2 ** (b - 1))} to {2 ** (b - 1) - 1}" for n, b in INT_BITS.items()}


class Bad(Exception):
    """A value that cannot be parsed; ``reason`` names the value and what was expected."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def show(v: Any, limit: int = 60) -> str:
    """``repr`` of a value, shortened to about ``limit`` characters."""
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 5] + "…" + text[-4:]


def _an(name: str) -> str:
    return f"an {name}" if name[0] in "aeio" else f"a {name}"


def bad(v: Any, name: str, detail: str = "") -> Bad:
    """The standard reason: ``'12x' is not an int (expected …)``."""
    return Bad(f"{show(v)} is not {_an(name)} ({detail or 'expected ' + EXPECTED.get(name, name)})")


def days_from_civil(y: Any, m: Any, d: Any) -> Any:
    """Days since 1970-01-01 of proleptic Gregorian dates (ints or NumPy arrays; H. Hinnant)."""
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * ((m + 9) % 12) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def month_days(y: Any, m: Any) -> Any:
    """The number of days of month ``m`` of year ``y`` (ints or NumPy arrays)."""
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    return 30 + ((m + (m >= 8)) % 2) - 2 * (m == 2) + ((m == 2) & leap)


def _day(s: str, name: str, y: int, m: int, d: int) -> int:
    if not (1 <= m <= 12 and 1 <= d <= month_days(y, m)):
        raise bad(s, name, f"no such day: month {m}, day {d} of year {y}")
    return int(days_from_civil(y, m, d))


def _int(s: str, name: str) -> int:
    bits = INT_BITS[name]
    if not _INT_RE.fullmatch(s):
        raise bad(s, name)
    v = int(s) if len(s) < 30 else 2**bits
    if not -(2 ** (bits - 1)) <= v < 2 ** (bits - 1):
        raise Bad(f"{show(s)} is out of range for {name} (expected {EXPECTED[name]})")
    return v


def float_value(s: str, name: str) -> float:
    """A float/double from text: decimal or exponent form, NaN, Infinity, ±Infinity (any case)."""
    special = _SPECIAL.get(s.lower())
    if special is not None:
        return special
    if not _NUM_RE.fullmatch(s):
        raise bad(s, name)
    v = float(s)
    if name == "float":
        v = float(pa.scalar(s.lstrip("+")).cast(pa.float32()).as_py())
    if v in (float("inf"), -float("inf")):
        raise Bad(f"{show(s)} is out of range for {name} (expected {EXPECTED[name]})")
    return v


def _time(s: str) -> int:
    if _INT_RE.fullmatch(s) and not s.startswith(("+", "-")):
        v = int(s) if len(s) < 20 else NS_PER_DAY
        if v >= NS_PER_DAY:
            raise Bad(f"{show(s)} is out of range for time (expected {EXPECTED['time']})")
        return v
    m = _TIME_RE.fullmatch(s)
    if not m:
        raise bad(s, "time")
    h, mi, sec = int(m[1]), int(m[2]), int(m[3])
    if h > 23 or mi > 59 or sec > 59:
        raise bad(s, "time", "hours 0-23, minutes and seconds 0-59")
    return ((h * 60 + mi) * 60 + sec) * 1_000_000_000 + int((m[4] or "").ljust(9, "0"))


def _timestamp(s: str) -> int:
    if _INT_RE.fullmatch(s):
        v = int(s) if len(s) < 25 else 2**64
    else:
        m = _TS_RE.fullmatch(s)
        if not m:
            raise bad(s, "timestamp")
        y, mo, d, h, mi, sec = (int(g or 0) for g in m.groups()[:6])
        if h > 23 or mi > 59 or sec > 59:
            raise bad(s, "timestamp", "hours 0-23, minutes and seconds 0-59")
        frac = int((m[7] or "").ljust(9, "0"))
        if frac % 1_000_000:
            raise Bad(f"{show(s)} has digits below the millisecond, which a CQL timestamp cannot hold")
        offset = (int(m[10]) * 60 + int(m[11] or 0)) * (1 if m[9] == "+" else -1) if m[9] else 0
        secs = _day(s, "timestamp", y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset * 60
        v = secs * 1000 + frac // 1_000_000
    if not INT64_MIN <= v <= INT64_MAX:
        raise Bad(f"{show(s)} is out of range for timestamp (a signed 64-bit count of milliseconds)")
    return v


def _duration(s: str) -> tuple[int, int, int]:
    m = _CQL_DURATION_RE.fullmatch(s)
    if m and any(m.groups()[1:]):
        g = [int(x or 0) for x in m.groups()[1:]]
        months, days = g[0] * 12 + g[1], g[2] * 7 + g[3]
        nanos = sum(n * unit for n, unit in zip(g[4:], _UNIT_NS, strict=True))
    elif (m := _ISO_DURATION_RE.fullmatch(s)) and any(m.groups()[1:]):
        g = [int(x or 0) for x in m.groups()[1:8]]
        months, days = g[0] * 12 + g[1], g[2] * 7 + g[3]
        nanos = g[4] * _UNIT_NS[0] + g[5] * _UNIT_NS[1] + g[6] * _UNIT_NS[2] + int((m[9] or "").ljust(9, "0"))
    elif m := _ISO_ALT_RE.fullmatch(s):
        g = [int(x) for x in m.groups()[1:]]
        months, days = g[0] * 12 + g[1], g[2]
        nanos = g[3] * _UNIT_NS[0] + g[4] * _UNIT_NS[1] + g[5] * _UNIT_NS[2]
    else:
        raise bad(s, "duration")
    if months >= 2**31 or days >= 2**31 or nanos > INT64_MAX:
        raise Bad(f"{show(s)} is out of range for duration (32-bit months and days, 64-bit nanoseconds)")
    sign = -1 if m[1] else 1
    return sign * months, sign * days, sign * nanos


def _inet(s: str) -> str:
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        raise bad(s, "inet") from None
    if ip.version == 4:
        return str(ip)
    if ip.scope_id:
        raise bad(s, "inet", "an address without a scope id")
    return socket.inet_ntop(socket.AF_INET6, ip.packed)  # what the driver returns


def _blob(s: str) -> bytes:
    m = _HEX_RE.fullmatch(s)
    if m:
        return bytes.fromhex(m[1])
    if _B64_RE.fullmatch(s) and s[:2] not in ("0x", "0X"):
        return binascii.a2b_base64(s, strict_mode=True)
    raise bad(s, "blob")


def _decimal(s: str) -> str:
    if not _NUM_RE.fullmatch(s):
        raise bad(s, "decimal")
    d = decimal.Decimal(s)
    exponent = d.as_tuple().exponent
    assert isinstance(exponent, int)
    if not -(2**31) <= -exponent < 2**31:
        raise Bad(f"{show(s)} has a scale of {-exponent}, beyond the 32-bit scale of a CQL decimal")
    return str(d)


def _varint(s: str) -> str:
    if not _INT_RE.fullmatch(s):
        raise bad(s, "varint")
    digits = s.lstrip("+-").lstrip("0") or "0"
    return "-" + digits if s.startswith("-") and digits != "0" else digits


def scalar_value(name: str, s: str) -> Any:
    """Parse the text ``s`` of a native CQL type ``name`` (outer whitespace ignored but for text); raises
    :class:`Bad`."""
    if name in TEXT_TYPES:
        if name == "ascii" and not s.isascii():
            raise Bad(f"{show(s)} is not ASCII text (expected {EXPECTED['ascii']})")
        return s
    s = s.strip()
    if name in INT_BITS:
        return _int(s, name)
    if name in ("float", "double"):
        return float_value(s, name)
    if name == "boolean":
        low = s.lower()
        if low in _TRUE or low in _FALSE:
            return low in _TRUE
        raise bad(s, name)
    if name in ("uuid", "timeuuid"):
        if not _UUID_RE.fullmatch(s):
            raise bad(s, name)
        if name == "timeuuid" and s[14] != "1":
            raise bad(s, name, f"a version 1 UUID; this one is version {int(s[14], 16)}")
        return s.lower()
    if name == "date":
        m = _DATE_RE.fullmatch(s)
        if not m:
            raise bad(s, name)
        days = _day(s, name, int(m[1]), int(m[2]), int(m[3]))
        if not -(2**31) <= days < 2**31:
            raise Bad(f"{show(s)} is out of range for date (about ±5.8 million years)")
        return days
    parsers = {"time": _time, "timestamp": _timestamp, "duration": _duration, "inet": _inet}
    parsers |= {"blob": _blob, "decimal": _decimal, "varint": _varint}
    return parsers[name](s)


class Lit(NamedTuple):
    """A leaf of a CQL literal: its text, and whether it was quoted (``'…'`` or ``"…"``)."""

    text: str
    quoted: bool


class Seq(NamedTuple):
    """``[…]``, ``(…)`` or ``{…}``: its opening bracket and items (values, or ``(key, value)`` pairs)."""

    open: str
    items: list[Any]
    pairs: bool


_TOKEN_RE = re.compile(
    r"""(?P<p>[\[\]{}(),:])|(?P<q>'(?:[^']|'')*'|"(?:[^"]|"")*")|(?P<b>[^\s\[\]{}(),:'"]+)|(?P<e>\S)"""
)
_CLOSE = {"[": "]", "(": ")", "{": "}"}


def parse_literal(text: str, null_value: str = "") -> Any:
    """Parse a CQL literal into ``None`` (null), :class:`Lit` and :class:`Seq` nodes.

    An empty item (``(1, )``), a bare ``null`` (any case) and a bare ``null_value`` are null.
    """
    tokens = [(m.lastgroup or "", m[m.lastgroup or 0]) for m in _TOKEN_RE.finditer(text)]
    for kind, tok in tokens:
        if kind == "e":
            raise Bad(f"{show(text)} is not a CQL literal (unexpected {tok!r})")
    tokens = [(k, t[1:-1].replace(t[0] * 2, t[0]) if k == "q" else t) for k, t in tokens]
    i = 0

    def fail(what: str) -> Bad:
        found = repr(tokens[i][1]) if i < len(tokens) else "the end"
        return Bad(f"{show(text)} is not a CQL literal (expected {what}, found {found})")

    def value(stop: str) -> Any:
        nonlocal i
        if i >= len(tokens):
            raise fail("a value")
        kind, tok = tokens[i]
        if kind == "p" and tok in _CLOSE:
            i += 1
            return seq(tok)
        if kind == "p":
            if tok in stop:
                return None  # an empty item
            raise fail("a value")
        i += 1
        if kind == "b" and (tok.lower() == "null" or (null_value and tok == null_value)):
            return None
        return Lit(tok, kind == "q")

    def seq(open_: str) -> Seq:
        nonlocal i
        close = _CLOSE[open_]
        items: list[Any] = []
        flags: list[bool] = []
        if i < len(tokens) and tokens[i] == ("p", close):
            i += 1
            return Seq(open_, items, False)
        while True:
            item = value("," + close + ":")
            flags.append(i < len(tokens) and tokens[i] == ("p", ":") and open_ == "{")
            if i < len(tokens) and tokens[i] == ("p", ":") and open_ == "{":
                i += 1
                item = (item, value("," + close))
            items.append(item)
            if i < len(tokens) and tokens[i] == ("p", ","):
                i += 1
            elif i < len(tokens) and tokens[i] == ("p", close):
                i += 1
                if any(flags) and not all(flags):
                    raise Bad(f"{show(text)} mixes 'key: value' pairs and single values")
                return Seq(open_, items, any(flags))
            else:
                raise fail(f"',' or {close!r}")

    result = value("")
    if i != len(tokens):
        raise fail("the end")
    return result


def _kind(node: Any) -> str:
    if isinstance(node, Seq):
        return {"[": "a list", "(": "a tuple", "{": "a map, set or UDT"}[node.open]
    if isinstance(node, Lit):
        return f"the value {show(node.text)}"
    if isinstance(node, list | dict):
        return f"a JSON {'array' if isinstance(node, list) else 'object'}"
    return show(node)


def _where(path: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Bad as exc:
        raise Bad(f"{path}: {exc.reason}") from None


def _describe(t: CqlType) -> str:
    return "tuple" if t.name == "tuple" else t.name if t.params or t.is_native else f"UDT {t.name}"


def _elements(items: list[Any], t: CqlType, build: Any, ctx: Any) -> list[Any]:
    if t.name == "vector" and len(items) != t.size:
        raise Bad(f"a vector<{t.params[0]}, {t.size}> needs {t.size} elements, found {len(items)}")
    what = "set" if t.name == "set" else t.name
    return [_where(f"element {n} of the {what}", build, x, t.params[0], ctx) for n, x in enumerate(items, 1)]


def _tuple(items: list[Any], t: CqlType, build: Any, ctx: Any) -> dict[str, Any]:
    if len(items) > len(t.params):
        raise Bad(f"a {t} has {len(t.params)} components, found {len(items)}")
    items = items + [None] * (len(t.params) - len(items))
    return {
        f"f{n}": _where(f"component {n + 1} of the tuple", build, x, p, ctx)
        for n, (x, p) in enumerate(zip(items, t.params, strict=True))
    }


def _udt(pairs: list[tuple[str, Any]], t: CqlType, build: Any, ctx: Any, bare: list[bool]) -> dict[str, Any]:
    fields = udt_fields(t, ctx[0])
    types = dict(fields)
    lower = {name.lower(): name for name, _ in fields}
    out: dict[str, Any] = dict.fromkeys(types)
    for (key, v), is_bare in zip(pairs, bare, strict=True):
        name = key if key in types else lower.get(key.lower()) if is_bare else None
        if name is None:
            raise Bad(f"UDT {t.name} has no field {key!r} (fields: {', '.join(types)})")
        out[name] = _where(f"field {name}", build, v, types[name], ctx)
    return out


def _map(pairs: list[tuple[Any, Any]], t: CqlType, key: Any, value: Any, ctx: Any) -> list[Any]:
    out = []
    for n, (k, v) in enumerate(pairs, 1):
        if k is None:
            raise Bad(f"key {n} of the map is null")
        k = _where(f"key {n} of the map", key, k, t.params[0], ctx)
        out.append((k, _where(f"the value of key {n} of the map", value, v, t.params[1], ctx)))
    return out


def build_cql(node: Any, t: CqlType, ctx: tuple[UdtMap | None, str]) -> Any:
    """The Python value of a parsed CQL literal ``node`` for type ``t`` (``ctx``: udts, null text)."""
    if node is None:
        return None
    if t.is_native:
        if not isinstance(node, Lit):
            raise Bad(f"expected {_an(t.name)}, found {_kind(node)}")
        return scalar_value(t.name, node.text)
    if isinstance(node, Seq):
        if t.name in ("list", "set", "vector") and not node.pairs and node.open in "[{":
            return _elements(node.items, t, build_cql, ctx)
        if t.name == "map" and node.open == "{" and (node.pairs or not node.items):
            return _map(node.items, t, build_cql, build_cql, ctx)
        if t.name == "tuple" and node.open in "([" and not node.pairs:
            return _tuple(node.items, t, build_cql, ctx)
        if t.is_udt and node.open == "{" and (node.pairs or not node.items):
            if not all(isinstance(k, Lit) for k, _ in node.items):
                raise Bad(f"the field names of UDT {t.name} must be names, not {_kind(node.items[0][0])}")
            keys = [(k.text, v) for k, v in node.items]
            return _udt(keys, t, build_cql, ctx, [not k.quoted for k, _ in node.items])
    raise Bad(f"expected a {_describe(t)}, found {_kind(node)}")


def _json_scalar(v: Any, name: str) -> Any:
    if isinstance(v, str):
        return scalar_value(name, v)
    if isinstance(v, bool):
        if name == "boolean":
            return v
    elif isinstance(v, int | float):
        whole = isinstance(v, int) or v.is_integer()
        if name in INT_BITS and whole:
            return _int(str(int(v)), name)
        if name in ("float", "double"):
            return float_value(repr(float(v)), name)
        if name == "boolean" and v in (0, 1):
            return bool(v)
        if name == "varint" and whole:
            return str(int(v))
        if name == "decimal" and (isinstance(v, int) or math.isfinite(v)):
            return str(v) if isinstance(v, int) else _decimal(repr(v))
        if name in ("timestamp", "time") and isinstance(v, int):
            return scalar_value(name, str(v))
    raise Bad(f"expected {_an(name)}, found {_kind(v)}")


def build_json(v: Any, t: CqlType, ctx: tuple[UdtMap | None, str]) -> Any:
    """The Python value of a ``json.loads`` value ``v`` for type ``t`` (map keys: text rules of the key)."""
    if v is None:
        return None
    if t.is_native:
        return _json_scalar(v, t.name)
    if isinstance(v, list):
        if t.name in ("list", "set", "vector"):
            return _elements(v, t, build_json, ctx)
        if t.name == "tuple":
            return _tuple(v, t, build_json, ctx)
    if isinstance(v, dict):
        if t.name == "map":
            return _map(list(v.items()), t, _json_key, build_json, ctx)
        if t.is_udt:
            return _udt(list(v.items()), t, build_json, ctx, [False] * len(v))
    raise Bad(f"expected a {_describe(t)}, found {_kind(v)}")


def _json_key(k: str, t: CqlType, ctx: tuple[UdtMap | None, str]) -> Any:
    if t.is_native:
        return scalar_value(t.name, k)
    try:
        parsed = json.loads(k)
    except ValueError:
        raise Bad(f"{show(k)} is not the JSON text of a {_describe(t)}") from None
    return build_json(parsed, t, ctx)


def build_column(
    cells: Sequence[Any], t: CqlType, udts: UdtMap | None, mode: str, null_value: str
) -> tuple[list[Any], dict[int, str]]:
    """Python values and errors by position of CQL literal text (``mode="cql"``), JSON text
    (``"text-json"``) or ``json.loads`` values (``"json"``)."""
    out: list[Any] = []
    errors: dict[int, str] = {}
    ctx = (udts, null_value)
    for i, cell in enumerate(cells):
        try:
            if cell is None or mode == "json":
                out.append(build_json(cell, t, ctx))
            elif mode == "text-json":
                out.append(build_json(json.loads(cell), t, ctx))
            else:
                out.append(build_cql(parse_literal(cell, null_value), t, ctx))
        except Bad as exc:
            errors[i] = exc.reason
            out.append(None)
        except ValueError as exc:  # json.loads
            errors[i] = f"{show(cell)} is not JSON text ({exc})"
            out.append(None)
    return out, errors
