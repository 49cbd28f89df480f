"""Logging: every record of the package names its operation, keyspace, table and token range.

The package logs through the standard :mod:`logging` module, under the ``cassandra_frames`` logger, and
adds nothing until asked: :func:`configure_logging` attaches one handler (text or JSON lines). The context
of a record — ``operation_id``, ``keyspace``, ``table``, ``token_range`` — lives in context variables set
by :func:`log_context` where an operation, a unit or a range begins; the loggers from :func:`get_logger`
copy it onto each record (as attributes, so any handler or formatter of the application sees them, and a
``%(operation_id)s`` format works). Context variables follow asyncio tasks; a Dask task sets its own.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import json
import logging
import sys
from collections.abc import Iterator, MutableMapping
from typing import Any, TextIO

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "configure_logging", "get_logger", "log_context"]

CONTEXT_FIELDS = ("operation_id", "keyspace", "table", "token_range")
"""The attributes every record of the package carries ("-" when unknown)."""

_context: dict[str, contextvars.ContextVar[str]] = {
    name: contextvars.ContextVar(f"cassandra_frames_{name}", default="-") for name in CONTEXT_FIELDS
}
_HANDLER_NAME = "cassandra_frames"
TEXT_FORMAT = (
    "%(asctime)s %(levelname)s %(name)s [%(operation_id)s %(keyspace)s.%(table)s %(token_range)s] %(message)s"
)


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Within the block, records carry these fields (``operation_id``, ``keyspace``, ``table``,
    ``token_range``); fields not given keep their outer value."""
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context fields {sorted(unknown)}: use {', '.join(CONTEXT_FIELDS)}")
    tokens = [(_context[k], _context[k].set(str(v))) for k, v in fields.items() if v is not None]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class _ContextLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """A logger adding the current :func:`log_context` to every record."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        extra = {name: var.get() for name, var in _context.items()}
        extra.update(kwargs.get("extra") or {})
        kwargs["extra"] = extra
        return msg, kwargs


def get_logger(name: str) -> logging.LoggerAdapter:  # type: ignore[type-arg]
    """The package's logger ``name`` (under ``cassandra_frames``) with the context on every record."""
    return _ContextLogger(logging.getLogger(name), {})


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the context fields, and
    the exception when there is one.

    Examples
    --------
    >>> import logging
    >>> handler = logging.StreamHandler()
    >>> handler.setFormatter(JsonFormatter())
    """

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        out: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, "-")
            if value != "-":
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _Defaults(logging.Filter):
    """Fills the context fields of records from other code (the driver's), so formats never fail."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, "-")
        return True


def configure_logging(
    level: int | str = "INFO", *, json: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Send the package's log records to ``stream`` (default stderr), as text or JSON lines.

    Replaces the handler an earlier call attached; the application's own handlers are left alone.

    Parameters
    ----------
    level : int or str
        Lowest level shown (``"DEBUG"`` shows every unit and range; ``"INFO"`` operations, retries and
        failures).
    json : bool
        One JSON object per line (:class:`JsonFormatter`) instead of text.
    stream : file-like, optional
        Where records go (default ``sys.stderr``).

    Returns
    -------
    logging.Handler
        The handler attached to the ``cassandra_frames`` logger.

    Examples
    --------
    >>> import io
    >>> import cassandra_frames as cf
    >>> handler = cf.configure_logging("INFO", json=True, stream=io.StringIO())
    """
    logger = logging.getLogger("cassandra_frames")
    for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_Defaults())
    handler.setFormatter(JsonFormatter() if json else logging.Formatter(TEXT_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level.upper() if isinstance(level, str) else level)
    return handler
