"""The keywords of an export, checked once (:class:`ExportOptions`), and the ones a resume must repeat.

A resume is refused unless the options that shape the output are the ones the checkpoint was made with;
:func:`shaping_keywords` picks those out (other than their defaults) so that the report can spell the exact
Python call and command line that resume an export.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from cassandra_frames.errors import CassandraFramesError
from cassandra_frames.formats import FormatOptions, compression_from_path
from cassandra_frames.options import ReadOptions

__all__ = ["FORMATS", "ExportOptions", "resume_flags", "secret_key", "shaping_keywords"]

FORMATS = ("csv", "json", "parquet", "iceberg")


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """Every keyword of :func:`cassandra_frames.export` (see it for what each one does)."""

    format: str | None = None
    keyspace: str | None = None
    connection: Any = None
    columns: Sequence[str] | None = None
    filters: Any = None
    writetime: Sequence[str] | bool | None = None
    ttl: Sequence[str] | bool | None = None
    consistency: str = "LOCAL_ONE"
    fetch_size: int = 5000
    concurrency: int = 4
    split_size_mb: float = 16  # a unit is in memory while its file is written: small keeps RSS flat
    npartitions: int | None = None
    max_rows_per_second: float | None = None
    max_records: int | None = None
    compression: str | None = None
    header: bool = True
    delimiter: str = ","
    quote: str = '"'
    escape: str = '"'
    null_value: str = ""
    nested: Literal["cql", "json"] = "cql"
    timestamps: Literal["iso", "epoch_ms"] = "iso"
    json_array: bool = False
    row_group_size: int | None = None
    storage_options: Mapping[str, Any] | None = None
    checkpoint: str | bool | None = None
    resume: str | bool | None = None
    overwrite: bool = False
    catalog: Mapping[str, str] | None = None
    warehouse: str | None = None
    mode: Literal["error", "append"] = "error"

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise CassandraFramesError(
                f"unknown export format {self.format!r}: choose one of {', '.join(FORMATS)}"
            )
        if self.max_rows_per_second is not None and not self.max_rows_per_second > 0:
            raise CassandraFramesError(
                f"max_rows_per_second must be positive, not {self.max_rows_per_second}"
            )
        if self.max_records is not None and self.max_records < 1:
            raise CassandraFramesError(f"max_records must be at least 1, not {self.max_records}")
        if self.mode not in ("error", "append"):
            raise CassandraFramesError(f"mode must be 'error' or 'append', not {self.mode!r}")
        if self.format != "iceberg" and (self.catalog is not None or self.warehouse is not None):
            raise CassandraFramesError("catalog= and warehouse= apply to format='iceberg' only")
        self.read_options()  # checks the read keywords now, before anything touches the cluster

    def read_options(self) -> ReadOptions:
        """The read this export makes."""
        return ReadOptions(
            keyspace=self.keyspace,
            connection=self.connection,
            columns=self.columns,
            filters=self.filters,
            writetime=self.writetime,
            ttl=self.ttl,
            consistency=self.consistency,
            fetch_size=self.fetch_size,
            concurrency=self.concurrency,
            split_size_mb=self.split_size_mb,
            npartitions=self.npartitions,
        )

    def format_options(self, url: str) -> FormatOptions:
        """The file format (``format`` or ``csv``) with its options; compression from the URL's suffix too."""
        return FormatOptions(
            format=self.format or "csv",
            compression=self.compression or compression_from_path(url.rstrip("/")),
            header=self.header,
            delimiter=self.delimiter,
            quote=self.quote,
            escape=self.escape,
            null_value=self.null_value,
            nested=self.nested,
            timestamps=self.timestamps,
            json_array=self.json_array,
            row_group_size=self.row_group_size,
        )


_SHAPING: tuple[str, ...] = (
    "format",
    "columns",
    "filters",
    "writetime",
    "ttl",
    "max_records",
    "compression",
    "header",
)
_SHAPING += ("delimiter", "quote", "escape", "null_value", "nested", "timestamps", "json_array")
_SHAPING += ("row_group_size",)
_SHAPING += ("catalog", "warehouse", "mode")
_CLI_FLAGS = {"compression": "--compression", "delimiter": "--delimiter", "null_value": "--nullValue"}
_CLI_FLAGS |= {"nested": "--nested", "row_group_size": "--row-group-size", "warehouse": "--warehouse"}
_CLI_FLAGS |= {"mode": "--mode", "max_records": "--maxRecords", "timestamps": "--timestamps"}


def secret_key(key: str) -> bool:
    """Whether a property's value is a secret (not to be shown in a resume hint)."""
    return any(word in key.lower() for word in ("secret", "password", "token", "credential", "key"))


def shaping_keywords(options: ExportOptions) -> dict[str, Any]:
    """The keywords, other than their defaults, that a resume must repeat (they are in its identity)."""
    defaults = ExportOptions()
    return {
        k: getattr(options, k)
        for k in _SHAPING
        if getattr(options, k) != getattr(defaults, k) and not (k == "format" and options.format == "csv")
    }


def resume_flags(keywords: Mapping[str, Any]) -> list[str]:
    """The command-line flags of ``keywords`` (as ``cassandra-frames export`` spells them)."""
    import shlex

    out: list[str] = []
    for key, value in keywords.items():
        if key in _CLI_FLAGS:
            out.append(f"{_CLI_FLAGS[key]} {shlex.quote(str(value))}")
        elif key in ("columns", "writetime", "ttl"):
            out.append(f"--{key} " + ("'*'" if value is True else shlex.quote(",".join(value))))
        elif key == "header":
            out.append(f"--header {str(value).lower()}")
        elif key == "json_array":
            out.append("--json-array")
        elif key == "catalog":
            shown = {k: "…" if secret_key(k) else v for k, v in value.items()}
            out += [f"--catalog {shlex.quote(f'{k}={v}')}" for k, v in shown.items()]
        elif key == "filters":
            out += [f"--filter {shlex.quote(' '.join(map(str, f)))}" for f in value if isinstance(f, tuple)]
    return out
