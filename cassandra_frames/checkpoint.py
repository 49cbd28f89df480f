"""The checkpoint of a bulk operation: one JSON file, rewritten atomically as units complete.

It holds what an operation needs to be resumed exactly: the plan (each unit's token ranges), the options
that shape the output, the table's schema, and every completed unit with its file and row count. A resumed
operation checks that the table, the options and the schema are the ones it was made with
(:meth:`Checkpoint.check`) and redoes only the units that are not completed.

The file is replaced, never edited in place: on a local disk it is written to a temporary name in the same
directory and renamed over the old one; on an object store it is one PUT, which is atomic there. A process
killed at any moment leaves either the previous checkpoint or the new one.

The JSON is compact (one top-level key a line; ``python -m json.tool`` shows it indented), so that a plan of
hundreds of thousands of units is a file of tens of megabytes, written and read in well under a second; by
default a large checkpoint is also rewritten less often (see :class:`Checkpoint`'s ``min_interval``).
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import json
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from cassandra_frames.errors import CheckpointError
from cassandra_frames.storage import fs_for, is_local

__all__ = ["Checkpoint", "UnitLedger", "new_operation_id", "utc_now"]

VERSION = 1
# save_soon's default interval: half a second, or this many times the last write's duration if longer
DEFAULT_INTERVAL = 0.5
SAVE_BUDGET = 20
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def utc_now() -> str:
    """The time now, ISO 8601 in UTC to the millisecond."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


def new_operation_id() -> str:
    """A new operation id: UTC time of day and 8 random hex digits (``20261130-234512-1f2e3d4c``)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:8]


class Checkpoint:
    """A checkpoint file and its content (``data``, plain JSON values).

    Parameters
    ----------
    path : str
        Local path or fsspec URL of the file.
    data : dict
        Its content: ``kind``, ``operation_id``, ``identity`` (what a resume must match), ``units``,
        ``completed`` (unit index as text → what it produced), ``failed`` and times.
    storage_options : mapping, optional
        fsspec options for the file's filesystem.
    min_interval : float, optional
        Fewest seconds between two writes by :meth:`save_soon` (a unit done but not yet recorded is simply
        redone on resume, which rewrites its own output). None (the default): half a second, or
        :data:`SAVE_BUDGET` times as long as the last write took, whichever is longer — so rewriting a
        large checkpoint takes a bounded share of the client's time and of the store's bandwidth.
    """

    def __init__(
        self,
        path: str,
        data: dict[str, Any],
        storage_options: Mapping[str, Any] | None = None,
        min_interval: float | None = None,
    ) -> None:
        self.path = path
        self.data = data
        self.storage_options = dict(storage_options or {})
        self.min_interval = min_interval
        self._saved = 0.0
        self._save_seconds = 0.0  # how long the last write took
        self._dirty = False

    @classmethod
    def new(
        cls,
        path: str,
        *,
        kind: str,
        operation_id: str,
        identity: Mapping[str, Any],
        units: list[Any],
        storage_options: Mapping[str, Any] | None = None,
    ) -> Checkpoint:
        """A fresh checkpoint (not yet written: call :meth:`save`)."""
        data = {
            "version": VERSION,
            "kind": kind,
            "operation_id": operation_id,
            "identity": dict(identity),
            "units": units,
            "completed": {},
            "failed": {},
            "started": utc_now(),
            "updated": utc_now(),
            "finished": None,
        }
        return cls(path, data, storage_options)

    @classmethod
    def load(cls, path: str, storage_options: Mapping[str, Any] | None = None, *, kind: str) -> Checkpoint:
        """Read a checkpoint file.

        Raises
        ------
        CheckpointError
            The file is missing, is not a checkpoint, or is one of another kind of operation.
        """
        fs, root = fs_for(path, storage_options)
        try:
            with fs.open(root, "rb") as f:
                text = f.read().decode("utf-8")
            with _collector_paused():
                data = json.loads(text)
        except FileNotFoundError:
            raise CheckpointError(
                f"no checkpoint at {path!r}: check the path, or start a new {kind} without resume="
            ) from None
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read the checkpoint {path!r}: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != VERSION or "identity" not in data:
            raise CheckpointError(f"{path!r} is not a cassandra-frames checkpoint (version {VERSION})")
        if data.get("kind") != kind:
            raise CheckpointError(f"{path!r} is a {data.get('kind')} checkpoint, not a {kind} checkpoint")
        return cls(path, data, storage_options)

    @property
    def operation_id(self) -> str:
        """The operation this checkpoint belongs to."""
        return str(self.data["operation_id"])

    @property
    def completed(self) -> dict[int, dict[str, Any]]:
        """Completed units: index → what the unit produced (file, rows, bytes …)."""
        return {int(k): v for k, v in self.data["completed"].items()}

    def check(self, identity: Mapping[str, Any]) -> None:
        """Refuse to resume with another table, other options or a changed schema.

        Raises
        ------
        CheckpointError
            Naming the first thing that differs, its value then and now.
        """
        saved = self.data["identity"]
        for key in sorted(set(saved) | set(identity)):
            then, now = saved.get(key), _plain(identity.get(key))
            if then == now:
                continue
            if key == "schema":
                raise CheckpointError(
                    f"the table's schema changed since the checkpoint {self.path!r} was written "
                    f"({_schema_change(then, now)}); start a new export without resume="
                )
            raise CheckpointError(
                f"the checkpoint {self.path!r} was made with {key}={then!r}, not {now!r}; resume with the "
                "same table and options, or start a new operation without resume="
            )

    def unit_done(self, index: int, result: Mapping[str, Any]) -> None:
        """Record a completed unit (written by the next :meth:`save` / :meth:`save_soon`)."""
        self.data["completed"][str(index)] = dict(result)
        self.data["failed"].pop(str(index), None)
        self._dirty = True

    def unit_failed(self, index: int, error: str) -> None:
        """Record a unit that failed after its retries."""
        self.data["failed"][str(index)] = error
        self._dirty = True

    def save_soon(self) -> None:
        """:meth:`save` if something changed and the last write is ``min_interval`` seconds old."""
        interval = self.min_interval
        if interval is None:
            interval = max(DEFAULT_INTERVAL, SAVE_BUDGET * self._save_seconds)
        if self._dirty and time.monotonic() - self._saved >= interval:
            self.save()

    def save(self) -> None:
        """Write the checkpoint atomically (temporary file + rename; one PUT on object stores)."""
        began = time.monotonic()
        self.data["updated"] = utc_now()
        payload = _encode(self.data)
        fs, root = fs_for(self.path, self.storage_options)
        if is_local(fs):
            directory = os.path.dirname(os.path.abspath(root))
            os.makedirs(directory, exist_ok=True)
            tmp = os.path.join(directory, f".{os.path.basename(root)}.{uuid.uuid4().hex[:8]}.tmp")
            with open(tmp, "wb") as f:
                f.write(payload)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, root)
        else:
            fs.pipe_file(root, payload)
        self._saved = time.monotonic()
        self._save_seconds = self._saved - began
        self._dirty = False


def _encode(data: Mapping[str, Any]) -> bytes:
    """A checkpoint's JSON: compact, keys sorted, each top-level key on a line of its own.

    Parameters
    ----------
    data : mapping
        The checkpoint's content (plain JSON values, string keys).

    Returns
    -------
    bytes
        UTF-8 JSON text; ``json.loads`` of it equals ``data`` with tuples read back as lists.
    """
    dump = _ENCODER.encode
    lines = ",\n".join(f"{dump(key)}:{dump(data[key])}" for key in sorted(data))
    return f"{{\n{lines}\n}}\n".encode()


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large checkpoint is parsed.

    Parsing makes hundreds of thousands of dicts and lists that are all kept and hold no cycles; the
    collector would walk them again and again as they pile up (about 2.5 times the parsing time itself).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _plain(value: Any) -> Any:
    """``value`` as it reads back from JSON (tuples become lists)."""
    return json.loads(json.dumps(value))


def _schema_change(then: Any, now: Any) -> str:
    before = {c[0]: c[1] for c in then or []}
    after = {c[0]: c[1] for c in now or []}
    for name in before:
        if name not in after:
            return f"column {name!r} was dropped"
        if before[name] != after[name]:
            return f"column {name!r} was {before[name]}, is now {after[name]}"
    added = [n for n in after if n not in before]
    return f"column {added[0]!r} was added" if added else "the column order changed"


class UnitLedger:
    """What a bulk operation's client knows of its units (export units, load splits): the completed ones
    with what each produced, the failed ones with their error, and the checkpoint they are written to.

    A mixin of the operations' run objects, which hold these three attributes.
    """

    checkpoint: Checkpoint | None
    completed: dict[int, dict[str, Any]]
    failed: dict[int, str]

    def note(self, index: int, entry: Mapping[str, Any], error: str | None) -> None:
        """Record one unit's outcome (on the client, as units complete) and checkpoint it soon."""
        if error is None:
            self.completed[index] = dict(entry)
            self.failed.pop(index, None)
            if self.checkpoint is not None:
                self.checkpoint.unit_done(index, entry)
        else:
            self.failed[index] = error
            if self.checkpoint is not None:
                self.checkpoint.unit_failed(index, error)
        if self.checkpoint is not None:
            self.checkpoint.save_soon()

    def interrupted(self) -> None:
        """Write the checkpoint now (Ctrl-C, a raised error): every unit recorded so far is kept."""
        if self.checkpoint is not None:
            self.checkpoint.save()
