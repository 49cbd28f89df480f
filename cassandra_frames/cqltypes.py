"""CQL types as values: the type parser, :class:`CqlType`, and the one identifier quoting. No I/O.

Everything that turns CQL type text (as the driver prints it, as a user writes it) into structure, and
names into CQL text, lives here, so that the schema, the converters and the statement builders agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from cassandra_frames.errors import SchemaError, close_matches

__all__ = [
    "NATIVE_TYPES",
    "RESERVED_KEYWORDS",
    "CqlType",
    "UdtMap",
    "as_type",
    "fetched_as_epoch_millis",
    "parse_cql_type",
    "quote",
    "quote_if_needed",
    "udt_fields",
]

NATIVE_TYPES: frozenset[str] = frozenset(
    {
        "ascii",
        "bigint",
        "blob",
        "boolean",
        "counter",
        "date",
        "decimal",
        "double",
        "duration",
        "float",
        "inet",
        "int",
        "smallint",
        "text",
        "time",
        "timestamp",
        "timeuuid",
        "tinyint",
        "uuid",
        "varchar",
        "varint",
    }
)
_PARAMETERIZED = frozenset({"list", "set", "map", "tuple", "vector", "frozen"})
_UNQUOTED_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<punct>[<>,.])
      | (?P<quoted>"(?:[^"]|"")*")
      | (?P<custom>'(?:[^']|'')*')
      | (?P<int>-?[0-9]+)(?![A-Za-z_])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


RESERVED_KEYWORDS: frozenset[str] = frozenset(
    """
    active add allow alter and any application applications apply asc authentication authorize batch
    begin by call calls cluster columnfamily columns commit config create default delegation delete
    desc describe drop entries execute executor executors field from full grant if in index indices
    infinity insert internal into is java kerberos keyspace ldap limit lowercasestring materialized
    mbean mbeans method modify nan no node nodes norecursive not null object of on or order plan
    primary profiles rebuild redact reload remote rename renew replace restrict revoke rows schema
    scheme schemes search select set std_err std_out submission table to token truncate unlogged
    unrestrict unset update use using view where with workpool
    """.split()  # noqa: SIM905 - a list of words, kept compact
)
"""Keywords an unquoted identifier may not be (the set the DataStax driver quotes; a unit test compares)."""


def quote(name: str) -> str:
    """Quote a CQL identifier with double quotes (embedded quotes doubled), so any case and character works.

    Parameters
    ----------
    name : str
        The identifier as Cassandra stores it (``MyCol``, ``user id``, ``a"b``).

    Returns
    -------
    str
        ``"MyCol"``, ``"user id"``, ``"a""b"``.
    """
    return '"' + name.replace('"', '""') + '"'


def quote_if_needed(name: str) -> str:
    """Quote a UDT/keyspace name only when CQL needs it (mixed case, odd characters, keywords)."""
    if (
        _UNQUOTED_RE.match(name)
        and name not in RESERVED_KEYWORDS
        and name not in NATIVE_TYPES | _PARAMETERIZED
    ):
        return name
    return quote(name)


@dataclass(frozen=True)
class CqlType:
    """A parsed CQL type.

    Attributes
    ----------
    name : str
        ``"int"``, ``"text"``, … for native types; ``"list"``, ``"set"``, ``"map"``, ``"tuple"``,
        ``"vector"`` for parameterized ones; the (unquoted, case-preserved) type name for a user-defined
        type, e.g. ``"address"`` or ``"MyType"``.
    params : tuple of CqlType
        Element types: one for list/set/vector, key and value for map, one per component for tuple.
    size : int or None
        The dimension of a ``vector``; None for every other type.
    frozen : bool
        Whether the type was written ``frozen<…>`` (values look the same either way).
    keyspace : str or None
        The keyspace of a keyspace-qualified UDT name (``ks.address``); None otherwise.
    """

    name: str
    params: tuple[CqlType, ...] = ()
    size: int | None = None
    frozen: bool = False
    keyspace: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise SchemaError("a CQL type needs a name")
        counts = {"list": 1, "set": 1, "map": 2, "vector": 1, "frozen": -1}
        expected = counts.get(self.name, 0 if self.name in NATIVE_TYPES else None)
        if expected == -1:
            raise SchemaError("'frozen' is a flag of CqlType (frozen=True), not a type name")
        bad = (expected is not None and len(self.params) != expected) or (
            self.name == "tuple" and not self.params
        )
        if self.name not in _PARAMETERIZED and self.name not in NATIVE_TYPES and self.params:
            bad = True
        if bad:
            raise SchemaError(f"CQL type {self.name!r} cannot take {len(self.params)} type parameter(s)")
        if (self.name == "vector") != (self.size is not None) or (self.size is not None and self.size <= 0):
            raise SchemaError(
                f"a vector needs a positive size and only a vector has one (got {self.name!r}, "
                f"size={self.size!r})"
            )

    @property
    def is_native(self) -> bool:
        """True for the non-parameterized built-in types (``int``, ``text``, ``timestamp``, …)."""
        return self.name in NATIVE_TYPES and not self.params

    @property
    def is_collection(self) -> bool:
        """True for ``list``, ``set`` and ``map``."""
        return self.name in ("list", "set", "map") and bool(self.params)

    @property
    def is_udt(self) -> bool:
        """True for a user-defined type (any name that is neither native nor parameterized)."""
        return not self.params and self.name not in NATIVE_TYPES and self.name not in _PARAMETERIZED

    def unfrozen(self) -> CqlType:
        """The same type without the ``frozen`` flag."""
        if not self.frozen:
            return self
        return CqlType(self.name, self.params, self.size, False, self.keyspace)

    def __str__(self) -> str:
        if self.frozen:
            return f"frozen<{self.unfrozen()}>"
        if self.name == "vector":
            return f"vector<{self.params[0]}, {self.size}>"
        if self.params:
            return f"{self.name}<{', '.join(str(p) for p in self.params)}>"
        if self.is_udt:
            prefix = f"{quote_if_needed(self.keyspace)}." if self.keyspace else ""
            return prefix + quote_if_needed(self.name)
        return self.name


def _tokenize(text: str) -> Iterator[tuple[str, str, int]]:
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.lastgroup is None:
            raise SchemaError(f"cannot parse CQL type {text!r}: unexpected character at position {pos}")
        yield m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)
        pos = m.end()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = list(_tokenize(text))
        self.i = 0

    def fail(self, what: str) -> SchemaError:
        if self.i < len(self.tokens):
            _, value, pos = self.tokens[self.i]
            where = f"{value!r} at position {pos}"
        else:
            where = "end of text"
        return SchemaError(f"cannot parse CQL type {self.text!r}: expected {what}, found {where}")

    def peek(self) -> tuple[str, str]:
        if self.i < len(self.tokens):
            kind, value, _ = self.tokens[self.i]
            return kind, value
        return "", ""

    def take(self, kind: str, value: str | None = None) -> str:
        k, v = self.peek()
        if k != kind or (value is not None and v != value):
            raise self.fail(repr(value) if value is not None else kind)
        self.i += 1
        return v

    def name(self) -> tuple[str, bool]:
        kind, value = self.peek()
        if kind == "word":
            self.i += 1
            return value.lower(), False
        if kind == "quoted":
            self.i += 1
            return value[1:-1].replace('""', '"'), True
        if kind == "custom":
            custom = value[1:-1].replace("''", "'")
            raise SchemaError(
                f"custom type {custom!r} (in {self.text!r}) is not supported: cassandra_frames reads only "
                "the built-in CQL types, collections, tuples, vectors and user-defined types"
            )
        raise self.fail("a type name")

    def parse_type(self) -> CqlType:
        name, quoted = self.name()
        if quoted and name in NATIVE_TYPES | _PARAMETERIZED:
            raise SchemaError(
                f"user-defined type {name!r} (in {self.text!r}) has the name of a built-in CQL type; "
                "such a type cannot be told apart from the built-in one and is not supported"
            )
        if not quoted and name in _PARAMETERIZED:
            self.take("punct", "<")
            if name == "frozen":
                inner = self.parse_type()
                self.take("punct", ">")
                return CqlType(inner.name, inner.params, inner.size, True, inner.keyspace)
            params = [self.parse_type()]
            size: int | None = None
            if name == "vector":
                self.take("punct", ",")
                size = int(self.take("int"))
                if size <= 0:
                    raise SchemaError(f"cannot parse CQL type {self.text!r}: vector size must be positive")
            else:
                while self.peek() == ("punct", ","):
                    self.i += 1
                    params.append(self.parse_type())
            self.take("punct", ">")
            expected = {"list": 1, "set": 1, "map": 2}.get(name)
            if expected is not None and len(params) != expected:
                raise SchemaError(
                    f"cannot parse CQL type {self.text!r}: {name} takes {expected} type parameter(s), "
                    f"got {len(params)}"
                )
            return CqlType(name, tuple(params), size)
        if not quoted and name in NATIVE_TYPES:
            return CqlType(name)
        if self.peek() == ("punct", "."):
            self.i += 1
            udt, _ = self.name()
            return CqlType(udt, keyspace=name)
        return CqlType(name)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> CqlType:
    parser = _Parser(text)
    result = parser.parse_type()
    if parser.i != len(parser.tokens):
        raise parser.fail("end of text")
    return result


def parse_cql_type(text: str) -> CqlType:
    """Parse a CQL type as the driver prints it (``ColumnMetadata.cql_type``, ``UserType.field_types``).

    Parameters
    ----------
    text : str
        E.g. ``"int"``, ``"frozen<map<text, frozen<list<int>>>>"``, ``"vector<float, 3>"``,
        ``"tuple<int, text>"``, ``"frozen<address>"``, ``'frozen<"MyType">'``, ``"ks.address"``.
        Unquoted names are case-insensitive (lower-cased); quoted names keep their case.

    Returns
    -------
    CqlType
        ``str()`` of the result gives back equivalent CQL text.

    Raises
    ------
    SchemaError
        The text is not a CQL type, or it names a custom (``'org.apache.cassandra.db.marshal.…'``) type;
        the message names the type.
    """
    if not isinstance(text, str):
        raise SchemaError(f"a CQL type must be given as text, got {type(text).__name__} {text!r}")
    return _parse_cached(text)


def fetched_as_epoch_millis(t: CqlType) -> bool:
    """Whether a column of type ``t`` is read as ``toUnixTimestamp(col)``, a bigint of milliseconds that is
    exact for every timestamp (the driver's ``datetime`` fails outside years 1–9999): top-level
    ``timestamp`` columns are. The SELECT builder and the read converter both follow this."""
    return t.name == "timestamp" and not t.params


def as_type(t: CqlType | str) -> CqlType:
    """``t`` itself, or ``t`` parsed when it is CQL text."""
    return t if isinstance(t, CqlType) else parse_cql_type(t)


UdtMap = Mapping[str, Sequence[tuple[str, "CqlType | str"]]]
"""User-defined types of a keyspace: UDT name → ``[(field name, field type), …]`` in field order."""


def udt_fields(t: CqlType, udts: UdtMap | None) -> list[tuple[str, CqlType]]:
    """The fields of the user-defined type ``t``, looked up in ``udts`` (keyspace-qualified name first).

    Raises
    ------
    SchemaError
        ``t`` is not in ``udts``; the message lists close matches and the known types.
    """
    candidates = [t.name]
    if t.keyspace:
        candidates.insert(0, f"{t.keyspace}.{t.name}")
    for key in candidates:
        if udts is not None and key in udts:
            return [(str(name), as_type(ft)) for name, ft in udts[key]]
    known = sorted(udts) if udts else []
    raise SchemaError(
        f"unknown user-defined type {t.name!r}{close_matches(t.name, known)}"
        f" (known types: {', '.join(known) if known else 'none'})"
    )
