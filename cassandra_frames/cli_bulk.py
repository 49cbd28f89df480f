"""The options of ``cassandra-frames export``, ``load`` and ``count``, as a DSBulk user knows them, and
what they become: the keywords of :func:`cassandra_frames.export` / :func:`cassandra_frames.load` /
:func:`cassandra_frames.count` and a :class:`~cassandra_frames.config.ConnectionConfig`. No I/O but the
password prompt and a checkpoint lookup.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import getpass
import os
import re
import shlex
import sys
import time
from collections.abc import Sequence
from typing import Any

from cassandra_frames.config import CONSISTENCY_LEVELS, ConnectionConfig
from cassandra_frames.count import CountBy
from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.storage import fs_for

__all__ = [
    "COUNT_BY",
    "PASSWORD_ENV",
    "add_count",
    "add_export",
    "add_load",
    "checkpoint_exists",
    "checkpoint_of",
    "connection",
    "keywords",
    "load_keywords",
    "resume_command",
]

PASSWORD_ENV = "CASSANDRA_PASSWORD"
_CONNECTION = {"hosts", "port", "username", "password", "local_dc", "tls", "tls_ca_file"}
_CONNECTION |= {"tls_cert_file", "tls_key_file", "cloud_bundle"}
_NOT_KEYWORDS = _CONNECTION | {"command", "table", "url"}
COUNT_BY: dict[str, CountBy | None] = {
    "global": None,
    "range": "range",
    "host": "host",
    "partition": "partition",
}
_NAME = r'"(?:[^"]|"")+"|[^="\s](?:[^="]*[^="\s])?'  # a mapped name: double-quoted, or trimmed
_MAP_ENTRY = re.compile(rf"^\s*({_NAME})\s*(?:=\s*({_NAME})\s*)?$")
_FILTER = re.compile(r"^\s*(\"[^\"]+\"|\S+?)\s*(==|!=|<=|>=|=|<|>|\s(?:not\s+in|in)\s)\s*(.*?)\s*$")


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "yes", "1", "on"):
        return True
    if low in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"{text!r} is not true or false")


def _list(text: str) -> list[str]:
    """``a,b,c`` → a list of names."""
    return [n.strip() for n in text.split(",") if n.strip()]


def _names(text: str) -> list[str] | bool:
    """``a,b,c`` → a list of column names; ``*`` → True (every column that has one)."""
    return True if text.strip() == "*" else _list(text)


def _char(text: str) -> str:
    """A delimiter, quote or escape: ``\\t`` and other backslash escapes as DSBulk reads them."""
    return text.encode("utf-8").decode("unicode_escape") if "\\" in text else text


def _records(text: str) -> int | None:
    """``--maxRecords``: DSBulk's ``-1`` means no limit."""
    value = int(text)
    return None if value == -1 else value


def _max_errors(text: str) -> int | str:
    """``--maxErrors``: a count (DSBulk's ``-1``: no limit) or a percentage ``"5%"`` of the rows read."""
    value = text.strip()
    try:
        if value.endswith("%"):
            if 0 <= float(value[:-1]) <= 100:
                return value
        elif int(value) >= -1:
            return int(value)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a count (-1: no limit) or a percentage like 5%")


def _timing(text: str) -> int | str:
    """``--ttl`` / ``--writetime``: a number for every row, else the source field holding each row's."""
    value = text.strip()
    return int(value) if value.lstrip("-").isdigit() else value


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def _mapping(text: str) -> list[tuple[str | None, str]]:
    """DSBulk's ``-m``: ``"field1=col1, field2=col2"``, ``"0=col1, 1=col2"`` (fields by position), or
    ``"col1, col2"`` (fields named as their columns) → (field, column) pairs, field None for the last form.
    Double-quoted names may hold commas, equal signs and doubled quotes."""
    pairs: list[tuple[str | None, str]] = []
    for entry in [e for e in re.findall(r'(?:"(?:[^"]|"")*"|[^,])+', text) if e.strip()]:
        match = _MAP_ENTRY.match(entry)
        if match is None:
            raise argparse.ArgumentTypeError(f"{entry.strip()!r} of -m is not 'field=column'")
        field, column = _unquote(match.group(1)), match.group(2)
        field = str(int(field)) if field.isdigit() else field
        pairs.append((None, field) if column is None else (field, _unquote(column)))
    if not pairs:
        raise argparse.ArgumentTypeError(f"{text!r} maps no field: give 'field1=col1, field2=col2'")
    return pairs


def _key_value(text: str) -> tuple[str, str]:
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not key=value")
    return key.strip(), value.strip()


def _scalar(text: str) -> Any:
    """A filter value: a number, a quoted string, True/False/None, else the text itself."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, int | float | str | bool | type(None)) else text


def _filter(text: str) -> tuple[str, str, Any]:
    """``"year == 2013"``, ``"carrier in (UA, 'AA')"`` → ``("year", "==", 2013)``."""
    match = _FILTER.match(text)
    if match is None or not match.group(3):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not 'column op value' (op: == != < <= > >= in, e.g. \"year == 2013\")"
        )
    column, op, raw = match.group(1).strip('"'), " ".join(match.group(2).split()), match.group(3)
    if op not in ("in", "not in"):
        return column, op, _scalar(raw)
    try:
        values = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        values = None
    if not isinstance(values, list | tuple | set):
        items = re.findall(r"'[^']*'|\"[^\"]*\"|[^,]+", raw.strip().strip("()[]"))
        values = [_scalar(i.strip()) for i in items if i.strip()]
    return column, op, list(values)


def _add_connection(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection (default: $CASSANDRA_* variables, else 127.0.0.1:9042)")
    g.add_argument("-h", "--hosts", help="contact points host[:port],… (then $CASSANDRA_* are ignored)")
    g.add_argument("-port", "--port", type=int, help="port of hosts that name none (default 9042)")
    g.add_argument("-u", "--username", help="user name (PasswordAuthenticator)")
    g.add_argument("-p", "--password", help=f"password (default ${PASSWORD_ENV}, else asked on a terminal)")
    g.add_argument("-dc", "--local-dc", "--datacenter", dest="local_dc", help="data centre to prefer")
    g.add_argument("--tls", "--ssl", dest="tls", action="store_const", const=True, help="connect with TLS")
    g.add_argument("--tls-ca-file", "--ssl-ca", dest="tls_ca_file", help="PEM of the CA to trust (TLS)")
    g.add_argument("--tls-cert-file", dest="tls_cert_file", help="client certificate (TLS)")
    g.add_argument("--tls-key-file", dest="tls_key_file", help="client key (TLS)")
    g.add_argument("-b", "--cloud-bundle", dest="cloud_bundle", help="Astra secure-connect bundle")


def _add_common(p: argparse.ArgumentParser, what: str, consistency: str = "LOCAL_ONE") -> None:
    p.add_argument("--help", action="help", help="show this help and exit")
    p.add_argument("-k", "--keyspace", help="keyspace (or give -t keyspace.table)")
    p.add_argument("-t", "--table", required=True, help=f"table to {what}")
    p.add_argument(
        "-cl",
        "--consistency",
        type=str.upper,
        choices=CONSISTENCY_LEVELS,
        metavar="LEVEL",
        help=f"default {consistency}",
    )
    p.add_argument(
        "-maxConcurrentQueries",
        "--maxConcurrentQueries",
        dest="concurrency",
        type=int,
        metavar="N",
        help="requests in flight at once",
    )
    _add_connection(p)


def _add_limits(g: Any) -> None:
    g.add_argument(
        "-maxRowsPerSecond",
        "--maxRowsPerSecond",
        "--maxPerSecond",
        dest="max_rows_per_second",
        type=float,
        metavar="N",
    )
    g.add_argument("-maxRecords", "--maxRecords", dest="max_records", type=_records, metavar="N")


def _add_text_format(f: Any, where: str) -> None:
    f.add_argument("-header", "--header", type=_bool, metavar="true|false", help="CSV header line")
    f.add_argument("-delim", "--delimiter", type=_char, help="CSV field delimiter (default ,)")
    f.add_argument("-quote", "--quote", type=_char, help='CSV quote character (default ")')
    f.add_argument("-escape", "--escape", type=_char, help='CSV escape character (default ")')
    f.add_argument("-nullValue", "--nullValue", "--null-value", dest="null_value", help="CSV text of null")
    f.add_argument("--nested", choices=("cql", "json"), help="CSV collections/UDTs as CQL or JSON text")
    f.add_argument(
        "--storage-option",
        dest="storage_options",
        type=_key_value,
        action="append",
        metavar="KEY=VALUE",
        help=f"fsspec option of the {where} (repeatable)",
    )


def add_export(sub: Any) -> None:
    p = sub.add_parser(
        "export",
        help="export a table to CSV, JSON, Parquet files or an Iceberg table (DSBulk unload)",
        description="Export a table to files (any fsspec URL) or an Iceberg table, resumably.",
        add_help=False,
        allow_abbrev=False,
        argument_default=argparse.SUPPRESS,
    )
    _add_common(p, "export")
    p.add_argument("-url", "--url", required=True, help="destination directory URL, or Iceberg table id")
    p.add_argument("-c", "--format", choices=("csv", "json", "parquet", "iceberg"), help="default csv")
    s = p.add_argument_group("what is read")
    s.add_argument("--columns", type=_names, help="a,b,c (default: every column)")
    s.add_argument(
        "--filter",
        dest="filters",
        type=_filter,
        action="append",
        metavar="'COL OP VALUE'",
        help="repeatable, ANDed: \"year == 2013\", \"carrier in ('UA', 'AA')\"",
    )
    s.add_argument("--writetime", type=_names, metavar="COLS", help="a,b: their write times too (*: all)")
    s.add_argument("--ttl", type=_names, metavar="COLS", help="a,b: their TTLs too (*: all)")
    s.add_argument("--fetch-size", "--fetchSize", dest="fetch_size", type=int, metavar="ROWS")
    s.add_argument("--split-size-mb", dest="split_size_mb", type=float, metavar="MB", help="size of a file")
    s.add_argument("--splits", dest="npartitions", type=int, metavar="N", help="exact number of files")
    _add_limits(s)
    f = p.add_argument_group("file format")
    f.add_argument("--compression", help="gzip, bz2, xz, zstd; parquet: snappy, zstd, …, none")
    _add_text_format(f, "destination")
    f.add_argument(
        "--timestamps",
        choices=("iso", "epoch_ms"),
        help="CSV/JSON timestamps as ISO text or epoch milliseconds",
    )
    f.add_argument("--json-array", dest="json_array", action="store_const", const=True)
    f.add_argument("--row-group-size", dest="row_group_size", type=int, metavar="ROWS", help="Parquet")
    r = p.add_argument_group("checkpoint and destination")
    r.add_argument("--checkpoint", metavar="PATH", help="checkpoint file (default <url>/.checkpoint.json)")
    r.add_argument("--no-checkpoint", dest="checkpoint", action="store_const", const=False)
    r.add_argument(
        "--resume", nargs="?", const=True, metavar="PATH", help="resume (default: the default checkpoint)"
    )
    r.add_argument("--overwrite", action="store_const", const=True, help="replace an earlier export")
    i = p.add_argument_group("Iceberg")
    i.add_argument(
        "--catalog",
        type=_key_value,
        action="append",
        metavar="KEY=VALUE",
        help="pyiceberg catalog property (repeatable; default: SQLite catalog in --warehouse)",
    )
    i.add_argument("--warehouse", help="warehouse of the embedded catalog (default ./warehouse)")
    i.add_argument("--mode", choices=("error", "append"), help="an existing table is an error (default)")


def add_load(sub: Any) -> None:
    p = sub.add_parser(
        "load",
        help="load CSV, JSON or Parquet files into a table (DSBulk load)",
        description="Load files (any fsspec URL, glob or directory) into a table; bad rows are kept aside.",
        add_help=False,
        allow_abbrev=False,
        argument_default=argparse.SUPPRESS,
    )
    _add_common(p, "load into", consistency="LOCAL_QUORUM")
    p.add_argument(
        "-url", "--url", action="append", required=True, help="source file, glob or directory (repeatable)"
    )
    p.add_argument("-c", "--format", choices=("csv", "json", "parquet"), help="default: by file suffix")
    s = p.add_argument_group("what is read")
    s.add_argument(
        "-m",
        "--mapping",
        type=_mapping,
        help="'field1=col1, field2=col2' (others ignored), '0=col1, 1=col2' (by position), 'col1, col2'",
    )
    s.add_argument(
        "--columns", type=_list, metavar="A,B", help="the fields of headerless CSV files, in order"
    )
    s.add_argument("-skipRecords", "--skipRecords", dest="skip_records", type=int, metavar="N")
    _add_limits(s)
    f = p.add_argument_group("file format")
    _add_text_format(f, "sources, bad rows and checkpoint")
    w = p.add_argument_group("what is written")
    w.add_argument("--ttl", type=_timing, metavar="SECONDS|FIELD", help="for every row, or a field's per row")
    w.add_argument("--writetime", type=_timing, metavar="µS|FIELD", help="µs since the epoch, or a field's")
    w.add_argument("--batch", choices=("partition", "none"), help="batch rows by partition (default)")
    w.add_argument("--maxBatchRows", "--max-batch-rows", dest="max_batch_rows", type=int, metavar="N")
    w.add_argument("--nulls", choices=("unset", "tombstone"), help="nulls are left unset (default)")
    e = p.add_argument_group("errors and checkpoint")
    e.add_argument(
        "-maxErrors",
        "--maxErrors",
        dest="max_errors",
        type=_max_errors,
        metavar="N|P%",
        help="go on until more rows than this are rejected (-1: no limit; 0, default: stop at the first)",
    )
    e.add_argument(
        "--badRows",
        "--bad-rows",
        dest="bad_rows_path",
        metavar="URL",
        help="directory of the rejected rows (default ./cassandra-frames-bad-rows/<timestamp>/)",
    )
    e.add_argument("--checkpoint", metavar="PATH", help="record each completed file or split here")
    e.add_argument("--resume", nargs="?", const=True, metavar="PATH", help="resume (default: --checkpoint)")


def add_count(sub: Any) -> None:
    p = sub.add_parser(
        "count",
        help="count a table's rows exactly, in total or per range, host or partition (DSBulk count)",
        description="Count a table's rows exactly: SELECT count(*) per token range, every range at once.",
        add_help=False,
        allow_abbrev=False,
        argument_default=argparse.SUPPRESS,
    )
    _add_common(p, "count")
    p.add_argument(
        "--by",
        "-stats",
        "--stats",
        dest="by",
        choices=("global", "range", "host", "partition", "ranges", "hosts", "partitions"),
        metavar="{global,range,host,partition}",
        help="the total (global, default), or rows per ring range, per replica, or the largest partitions",
    )
    p.add_argument(
        "--top", "--stats.numPartitions", dest="top", type=int, metavar="N", help="partitions to list"
    )
    p.add_argument("--splits", dest="splits", type=int, metavar="N", help="fewest pieces the ring is cut in")


def _password_env(args: argparse.Namespace) -> str:
    """Where the password is: ``-p``'s value, ``$CASSANDRA_PASSWORD``, or asked on a terminal (it is then
    put in ``$CASSANDRA_PASSWORD`` of this process, where the connection reads it)."""
    password = getattr(args, "password", None)
    if password is None and PASSWORD_ENV not in os.environ:
        if not sys.stdin.isatty():
            raise CassandraFramesError(
                f"-u {args.username} needs a password: pass -p, or set ${PASSWORD_ENV}, or run in a "
                "terminal to be asked"
            )
        password = getpass.getpass(f"password for {args.username}: ")
    if password is not None:
        os.environ[PASSWORD_ENV] = password
    return PASSWORD_ENV


def connection(args: argparse.Namespace) -> ConnectionConfig:
    """The connection of a parsed ``export``, ``load`` or ``count`` command line.

    Parameters
    ----------
    args : argparse.Namespace
        Without ``hosts`` (``-h``): :meth:`ConnectionConfig.from_env` with the options given on top; with
        it, only the options given. ``-u`` without ``-p`` reads ``$CASSANDRA_PASSWORD`` or asks.

    Returns
    -------
    ConnectionConfig
    """
    hosts = getattr(args, "hosts", None)
    base = ConnectionConfig.from_env() if hosts is None else ConnectionConfig()
    changes = {k: v for k, v in vars(args).items() if k in _CONNECTION - {"hosts", "password"}}
    if hosts is not None:
        changes["contact_points"] = tuple(h.strip() for h in hosts.split(",") if h.strip())
    if getattr(args, "username", None):
        changes["password_env"] = _password_env(args)
    elif getattr(args, "password", None) is not None:
        raise CassandraFramesError("-p/--password needs -u/--username")
    if changes.get("tls_ca_file") or changes.get("tls_cert_file"):
        changes.setdefault("tls", True)
    return dataclasses.replace(base, **changes)


def keywords(args: argparse.Namespace) -> dict[str, Any]:
    out = {k: v for k, v in vars(args).items() if k not in _NOT_KEYWORDS}
    for name in ("storage_options", "catalog"):
        if name in out:
            out[name] = dict(out[name])
    return out


def load_keywords(
    args: argparse.Namespace, now: float | None = None
) -> tuple[str | list[str], dict[str, Any]]:
    """The sources and keywords of :func:`cassandra_frames.load` for a parsed ``load`` command line.

    ``-m`` becomes ``mapping``; an indexed one (``0=a, 2=c``) also names the fields ``"0"``, ``"1"``, …
    up to its highest position (``columns``; the header line, if any, is skipped); a list of names with
    ``--header false`` is the fields in order. ``--maxErrors N`` or ``P%`` keeps going (``on_error="skip"``),
    ``0`` stops at the first bad row, ``-1`` has no limit; rejected rows go to ``--badRows``, by default
    ``./cassandra-frames-bad-rows/<UTC timestamp of now>/``.

    Raises
    ------
    CassandraFramesError
        ``--maxRecords`` (not supported by load yet), ``--resume`` without a path nor ``--checkpoint``,
        ``--columns`` with an indexed ``-m``.
    """
    out = keywords(args)
    urls: list[str] = args.url
    if out.pop("max_records", None) is not None:
        raise CassandraFramesError("--maxRecords is not supported by load yet (only -1, no limit)")
    pairs = out.pop("mapping", None)
    if pairs is not None:
        if all(f is None for f, _ in pairs) and out.get("header") is False and "columns" not in out:
            out["columns"] = [c for _, c in pairs]
        mapping = {c if f is None else f: c for f, c in pairs}
        if all(f is not None and f.isdigit() for f, _ in pairs):
            if "columns" in out:
                raise CassandraFramesError("-m maps fields by position: leave --columns out")
            out["columns"] = [str(i) for i in range(max(int(f) for f in mapping) + 1)]
        out["mapping"] = mapping
    if "max_errors" in out:
        limit = out.pop("max_errors")
        out["on_error"] = "raise" if limit == 0 else "skip"
        if limit not in (0, -1):
            out["max_errors"] = limit
    if out.get("on_error") == "skip" and "bad_rows_path" not in out:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        out["bad_rows_path"] = os.path.abspath(f"cassandra-frames-bad-rows/{stamp}") + "/"
    if out.get("resume") is True:
        if not isinstance(out.get("checkpoint"), str):
            raise CassandraFramesError("--resume needs the checkpoint: --resume PATH, or --checkpoint PATH")
        out["resume"] = out.pop("checkpoint")
    return (urls[0] if len(urls) == 1 else urls), out


def checkpoint_of(args: argparse.Namespace) -> str | None:
    """The checkpoint this export or load writes or resumes (None: none)."""
    for value in (getattr(args, "resume", None), getattr(args, "checkpoint", None)):
        if isinstance(value, str):
            return value
    if getattr(args, "checkpoint", None) is False or getattr(args, "format", "csv") == "iceberg":
        return None
    if getattr(args, "command", None) == "load":
        return None
    return f"{args.url.rstrip('/')}/.checkpoint.json"


def checkpoint_exists(path: str, args: argparse.Namespace) -> bool:
    try:
        fs, root = fs_for(path, dict(getattr(args, "storage_options", None) or []))
        return bool(fs.exists(root))
    except (OSError, ValueError, ImportError):  # NotInstalledError is an ImportError
        return True  # cannot tell: say how to resume anyway


def resume_command(argv: Sequence[str], checkpoint: str) -> str:
    """The command line that resumes an export or a load.

    Parameters
    ----------
    argv : sequence of str
        Its arguments (``export -k … --columns …``: a resume must repeat its options).
    checkpoint : str
        Its checkpoint.

    Returns
    -------
    str
        ``argv`` without ``--overwrite``, ``--checkpoint``, ``--resume`` and the password, then
        ``--resume CHECKPOINT``.
    """
    out: list[str] = []
    tokens = iter(range(len(argv)))
    for i in tokens:
        name = argv[i].split("=", 1)[0]
        if name.startswith("-p") and name not in ("-p", "-port"):
            continue  # -pSECRET
        takes_value = name in ("--checkpoint", "-p", "--password") and "=" not in argv[i]
        if name == "--resume" and "=" not in argv[i] and i + 1 < len(argv):
            takes_value = not argv[i + 1].startswith("-")
        if name in ("--overwrite", "--no-checkpoint", "--checkpoint", "--resume", "-p", "--password"):
            if takes_value:
                next(tokens, None)
            continue
        out.append(argv[i])
    return shlex.join(["cassandra-frames", *out, "--resume", checkpoint])
