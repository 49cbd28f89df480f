"""The keywords of a read and of a write, checked once: :class:`ReadOptions` and :class:`WriteOptions`.

The public fronts (``read_cassandra``, ``to_cassandra``, ``aio``, the bulk operations) take these keywords
and build one of these frozen values; planning reads nothing else. A bad value raises
:class:`CassandraFramesError` naming it before anything touches the cluster.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from cassandra_frames.config import check_consistency
from cassandra_frames.errors import CassandraFramesError, close_matches
from cassandra_frames.schema import DtypeBackend, check_dtype_backend

__all__ = ["OnError", "ReadOptions", "TimingOption", "WriteOptions", "max_errors_limit"]

OnError = Literal["raise", "skip"]
TimingOption = int | str | Mapping[str, int | str] | None


def _check_keywords(cls: type, keywords: Mapping[str, Any], what: str) -> None:
    known = [f.name for f in dataclasses.fields(cls)]
    for name in keywords:
        if name not in known:
            raise CassandraFramesError(f"unknown {what} option {name!r}{close_matches(name, known)}")


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    """Every keyword of a read (see :func:`cassandra_frames.read_cassandra` for what each one does).

    Checked when made: a bad value raises :class:`CassandraFramesError` naming it.
    """

    keyspace: str | None = None
    connection: Any = None
    columns: Sequence[str] | None = None
    filters: Any = None
    split_size_mb: float = 64
    npartitions: int | None = None
    sample: float | None = None
    random_state: int | None = None
    dtype_backend: DtypeBackend = "pyarrow"
    consistency: str = "LOCAL_ONE"
    fetch_size: int = 5000
    concurrency: int = 4
    writetime: Sequence[str] | bool | None = None
    ttl: Sequence[str] | bool | None = None
    token_column: bool = False
    allow_filtering: bool = False
    exact_numbers: bool = True

    def __post_init__(self) -> None:
        check_dtype_backend(self.dtype_backend)
        check_consistency(self.consistency)
        if not self.split_size_mb > 0:
            raise CassandraFramesError(f"split_size_mb must be positive, not {self.split_size_mb}")
        if self.npartitions is not None and self.npartitions < 1:
            raise CassandraFramesError(f"npartitions must be at least 1, not {self.npartitions}")
        if self.sample is not None and not 0 < self.sample <= 1:
            raise CassandraFramesError(f"sample must be a fraction in (0, 1], not {self.sample}")
        if self.fetch_size < 1 or self.concurrency < 1:
            raise CassandraFramesError("fetch_size and concurrency must be at least 1")

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any]) -> ReadOptions:
        """Options from keyword arguments; an unknown keyword is named with close matches."""
        _check_keywords(cls, keywords, "read")
        return cls(**keywords)


def max_errors_limit(value: Any) -> int | float | None:
    """``max_errors`` as a count, or as a fraction in [0, 1] from a percentage (``"5%"``); None: no limit.

    Raises
    ------
    CassandraFramesError
        Neither a count nor a percentage.
    """
    if value is None:
        return None
    if isinstance(value, str) and value.strip().endswith("%"):
        pct = float(value.strip()[:-1])
        if not 0 <= pct <= 100:
            raise CassandraFramesError(f"max_errors {value!r} is not a percentage between 0% and 100%")
        return pct / 100.0
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise CassandraFramesError(
        f"max_errors must be a count (int >= 0) or a percentage like '5%', not {value!r}"
    )


@dataclasses.dataclass(frozen=True)
class WriteOptions:
    """Every keyword of a write (see :func:`cassandra_frames.to_cassandra` for what each one does).

    Checked when made: a bad value raises :class:`CassandraFramesError` naming it.
    """

    keyspace: str | None = None
    connection: Any = None
    create_table: bool = False
    partition_key: str | Sequence[str] | None = None
    clustering_key: str | Sequence[str] | None = None
    if_not_exists: bool = False
    ttl: TimingOption = None
    writetime: TimingOption = None
    consistency: str = "LOCAL_QUORUM"
    batch: Literal["partition", "none"] = "partition"
    max_batch_rows: int = 50
    concurrency: int = 64
    nulls: Literal["unset", "tombstone"] = "unset"
    on_error: OnError = "raise"
    max_errors: int | str | None = None
    bad_rows_path: str | None = None

    def __post_init__(self) -> None:
        if self.nulls not in ("unset", "tombstone"):
            raise CassandraFramesError(f"nulls must be 'unset' or 'tombstone', not {self.nulls!r}")
        if self.on_error not in ("raise", "skip"):
            raise CassandraFramesError(f"on_error must be 'raise' or 'skip', not {self.on_error!r}")
        if self.batch not in ("partition", "none"):
            raise CassandraFramesError(f"batch must be 'partition' or 'none', not {self.batch!r}")
        if self.max_batch_rows < 1 or self.concurrency < 1:
            raise CassandraFramesError("max_batch_rows and concurrency must be at least 1")
        check_consistency(self.consistency)
        max_errors_limit(self.max_errors)

    @classmethod
    def from_keywords(cls, keywords: Mapping[str, Any]) -> WriteOptions:
        """Options from keyword arguments; an unknown keyword is named with close matches."""
        _check_keywords(cls, keywords, "write")
        return cls(**keywords)
