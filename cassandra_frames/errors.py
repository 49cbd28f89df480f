"""Exception hierarchy of cassandra_frames.

Every error the library raises on purpose derives from :class:`CassandraFramesError`, so a caller can catch
the whole family in one ``except`` and a CLI can print the message without a traceback. Each message names
what was wrong and what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "CassandraFramesError",
    "CheckpointError",
    "ConnectionError",
    "ExportError",
    "LoadError",
    "LocalClusterError",
    "NotInstalledError",
    "PlanError",
    "ReadError",
    "SchemaError",
    "WriteError",
    "close_matches",
]


class CassandraFramesError(Exception):
    """Base class of every error raised by cassandra_frames."""


class NotInstalledError(CassandraFramesError, ImportError):
    """An optional dependency is missing; the message names the pip extra that provides it."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module!r} is not installed; install it with: pip install 'cassandra-frames[{extra}]'"
        )
        self.module = module
        self.extra = extra


class LocalClusterError(CassandraFramesError):
    """The local Cassandra launcher could not download, configure, start or stop a node."""


class ConnectionError(CassandraFramesError):
    """The cluster could not be reached or refused the credentials."""


class SchemaError(CassandraFramesError):
    """A keyspace, table, column or type does not exist or does not fit."""


class PlanError(CassandraFramesError):
    """The token-range plan cannot be made (unsupported partitioner, bad split options)."""


class ReadError(CassandraFramesError):
    """A token range could not be read after all retries; the message names the range."""


class WriteError(CassandraFramesError):
    """Rows could not be written; the message names the row, column and value."""


class CheckpointError(CassandraFramesError):
    """A checkpoint cannot be read, or belongs to another table, other options or another schema."""


class ExportError(CassandraFramesError):
    """An export ended with failed token ranges (named in the message); ``report`` says what was done.

    The checkpoint (when there is one) records every completed unit, so ``resume=`` redoes only the rest.
    """

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


def close_matches(name: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x', 'y'?"`` for names close to ``name`` (empty when none is).

    Exact-case matches come first, then names that match once case is ignored (``mycol`` → ``MyCol``).
    """
    known = list(options)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    lower = {k.lower(): k for k in known}
    for low in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.5):
        if lower[low] not in close:
            close.append(lower[low])
    return f"; did you mean {', '.join(repr(m) for m in close)}?" if close else ""


class LoadError(CassandraFramesError):
    """A load stopped: a record could not be parsed or written (with ``on_error="raise"``: file, line,
    column and value named), ``max_errors`` was exceeded, or splits failed; ``report`` says what was done."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report
