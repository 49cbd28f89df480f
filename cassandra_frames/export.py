"""The export core, without Dask: plan an export, run one unit, record it, finish.

An export is the read core's plan (:func:`cassandra_frames.read.plan_read`) with a destination: each plan
partition is one *unit*, which reads its token ranges and writes one file with a deterministic name
(``part-00042.csv.zst``) — or one Iceberg data file. :func:`prepare_export` checks the destination, makes
or resumes the checkpoint and returns an :class:`ExportRun`; :func:`run_unit` is what a Dask task runs (any
process: an :class:`ExportJob` is picklable); the client records each finished unit in the checkpoint
(:meth:`ExportRun.record`) and ends with :meth:`ExportRun.finish`: the ``_manifest.json`` written last, or
one Iceberg commit holding every data file.

Why a resume is exact: a unit's file is written under a temporary name and renamed into place (on object
stores the object appears only when its upload completes), a rerun unit overwrites its own file, and the
checkpoint lists a unit only after its file is complete. A unit that was done but not yet recorded when the
process died is simply done again.
"""

from __future__ import annotations

import bisect
import dataclasses
import json
import time
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from cassandra_frames.checkpoint import Checkpoint, UnitLedger, new_operation_id, utc_now
from cassandra_frames.engine import catalog
from cassandra_frames.engine.connections import resolve_connection
from cassandra_frames.engine.reader import ReadUnit
from cassandra_frames.errors import CassandraFramesError, CheckpointError, ExportError
from cassandra_frames.export_options import ExportOptions, resume_flags, secret_key, shaping_keywords
from cassandra_frames.export_unit import ExportJob, UnitResult
from cassandra_frames.formats.iceberg import IcebergTarget, commit, prepare_table
from cassandra_frames.latency import LatencyHistogram
from cassandra_frames.logs import get_logger, log_context
from cassandra_frames.read import ReadPlan, plan_read
from cassandra_frames.reports import ExportReport
from cassandra_frames.schema import split_table_name
from cassandra_frames.storage import fs_for
from cassandra_frames.tokens import TokenRange

__all__ = ["ExportOptions", "ExportRun", "prepare_export"]

log = get_logger("cassandra_frames.export")

MANIFEST = "_manifest.json"
CHECKPOINT = ".checkpoint.json"


def _units_json(partitions: Sequence[tuple[ReadUnit, ...]]) -> list[Any]:
    out: list[Any] = []
    for units in partitions:
        if all(u.token_range is not None for u in units):
            out.append({"ranges": [[u.params[0], u.params[1]] for u in units]})
        else:
            out.append({"partitions": [u.label for u in units]})
    return out


def _units_from_json(
    saved: list[Any], plan: ReadPlan, ring: Sequence[TokenRange]
) -> list[tuple[ReadUnit, ...]]:
    """The checkpoint's units (token ranges exactly as planned then; replicas from today's ring)."""
    if any("partitions" in u for u in saved):
        if _units_json(plan.partitions) != saved:
            raise CheckpointError(
                "the checkpoint's partition reads differ from today's plan of the same filters"
            )
        return plan.partitions

    ordered = sorted(ring, key=lambda r: r.start)
    starts = [r.start for r in ordered]

    def replicas(end: int) -> tuple[str, ...]:
        i = bisect.bisect_left(starts, end) - 1  # the last range starting before `end` holds it
        if 0 <= i < len(ordered) and ordered[i].contains(end):
            return ordered[i].replicas
        return next((r.replicas for r in ring if r.contains(end)), ())

    out: list[tuple[ReadUnit, ...]] = []
    for unit in saved:
        rs = [TokenRange(int(s), int(e), replicas(int(e))) for s, e in unit["ranges"]]
        out.append(tuple(ReadUnit(params=(r.start, r.end), replicas=r.replicas, token_range=r) for r in rs))
    return out


def _schema_identity(schema: pa.Schema) -> list[list[str]]:
    return [[f.name, str(f.type), (f.metadata or {}).get(b"cql_type", b"").decode()] for f in schema]


@dataclasses.dataclass
class ExportRun(UnitLedger):
    """One export being run: its job, its units, which are still to do, and its checkpoint.

    Built by :func:`prepare_export`; the caller runs :func:`run_unit` for each of ``pending``, hands each
    result to :meth:`record` as it arrives, and ends with :meth:`finish`.
    """

    job: ExportJob
    table: str
    url: str
    units: list[tuple[ReadUnit, ...]]
    pending: list[int]
    checkpoint: Checkpoint | None
    identity: dict[str, Any]
    completed: dict[int, dict[str, Any]] = dataclasses.field(default_factory=dict)
    failed: dict[int, str] = dataclasses.field(default_factory=dict)
    retries: int = 0
    started: float = dataclasses.field(default_factory=time.perf_counter)
    started_at: str = dataclasses.field(default_factory=utc_now)
    max_records: int | None = None
    keywords: dict[str, Any] = dataclasses.field(default_factory=dict)  # what shapes the output, to resume

    def record(self, result: UnitResult) -> None:
        """Take one unit's result (on the client, as units complete) and checkpoint it."""
        self.retries += result.retries
        self.note(result.index, result.record(), result.error)

    def report(self) -> ExportReport:
        """The report of what is done so far."""
        done = [self.completed[i] for i in sorted(self.completed)]
        ckpt = self.checkpoint.path if self.checkpoint is not None else None
        keyspace, _, name = self.table.partition(".")
        fmt = self.job.format
        return ExportReport(
            operation_id=self.job.operation_id,
            table=self.table,
            url=self.url,
            format=fmt,
            files=[d["file"] for d in done if d.get("file")],
            rows=sum(int(d["rows"]) for d in done),
            bytes=sum(int(d["bytes"]) for d in done),
            seconds=time.perf_counter() - self.started,
            retries=self.retries,
            failed_ranges=[self.failed[i] for i in sorted(self.failed)],
            units=len(self.units),
            units_resumed=len(self.units) - len(self.pending),
            checkpoint=ckpt,
            resume_call=self._resume_call(ckpt),
            latency=LatencyHistogram.sum(d.get("latency") for d in done),
            resume_command=(
                f"cassandra-frames export -k {keyspace} -t {name} -url {self.url} --format {fmt}"
                + "".join(f" {flag}" for flag in resume_flags(self.keywords))
                + f" --resume {ckpt}"
                if ckpt
                else ""
            ),
        )

    def _resume_call(self, ckpt: str | None) -> str:
        if not ckpt:
            return ""
        shown = {k: ("…" if secret_key(k) else v) for k, v in self.keywords.items()}
        args = "".join(f", {k}={v!r}" for k, v in shown.items())
        return f"cf.export({self.table!r}, {self.url!r}{args}, resume={ckpt!r})"

    def finish(self) -> ExportReport:
        """Write the manifest (files) or commit every data file in one snapshot (Iceberg), last.

        Raises
        ------
        ExportError
            Some units failed after their retries: nothing is committed, no manifest is written, the
            checkpoint lists what is done, and the message names the failed ranges and how to resume.
        """
        report = self.report()
        keyspace, _, name = self.table.partition(".")
        with log_context(operation_id=self.job.operation_id, keyspace=keyspace, table=name):
            if self.failed:
                log.error("%s", report.summary())
        if self.failed:
            if self.checkpoint is not None:
                self.checkpoint.save()
            first = report.failed_ranges[0]
            how = f"resume with {report.resume_call}" if report.resume_call else "run the export again"
            raise ExportError(
                f"{len(self.failed)} of {len(self.units)} units of the export of {self.table} failed after "
                f"retries ({first}); the {len(self.completed)} completed units are kept"
                + (" and recorded in the checkpoint" if self.checkpoint is not None else "")
                + f": fix the cause and {how}",
                report,
            )
        if self.job.iceberg is not None:
            summary = {"cassandra-frames.table": self.table, "cassandra-frames.rows": str(report.rows)}
            report.snapshot_id = commit(self.job.iceberg, report.files, self.job.operation_id, summary)
        else:
            report.manifest = self._write_manifest(report)
        if self.checkpoint is not None:
            self.checkpoint.data["finished"] = utc_now()
            self.checkpoint.data["snapshot_id"] = report.snapshot_id
            self.checkpoint.save()
        report.seconds = time.perf_counter() - self.started
        with log_context(operation_id=self.job.operation_id, keyspace=keyspace, table=name):
            log.info("%s", report.summary())
        return report

    def _write_manifest(self, report: ExportReport) -> str:
        from importlib.metadata import version

        fs, root = fs_for(self.job.root, self.job.storage_options)
        done = [self.completed[i] for i in sorted(self.completed)]
        manifest = {
            "operation_id": self.job.operation_id,
            "table": self.table,
            "url": self.url,
            "format": report.format,
            "format_options": dataclasses.asdict(self.job.fmt) if self.job.fmt else {},
            "columns": self.job.schema.names,
            "schema": [
                {"name": n, "arrow_type": t, "cql_type": c} for n, t, c in _schema_identity(self.job.schema)
            ],
            "files": [
                {"path": d["file"].rpartition("/")[2], "rows": d["rows"], "bytes": d["bytes"]}
                for d in done
                if d.get("file")
            ],
            "rows": report.rows,
            "bytes": report.bytes,
            "started": self.checkpoint.data["started"] if self.checkpoint is not None else self.started_at,
            "finished": utc_now(),
            "cassandra_frames_version": version("cassandra-frames"),
        }
        for stale in fs.glob(f"{root}/.part-*.tmp"):  # left by a killed run
            fs.rm(stale)
        fs.pipe_file(f"{root}/{MANIFEST}", json.dumps(manifest, indent=1).encode("utf-8"))
        return f"{self.job.root}/{MANIFEST}"


def _prepare_directory(url: str, options: ExportOptions, resuming: bool, operation_id: str) -> None:
    """Create the destination directory, refuse (or clear, with ``overwrite``) an earlier export in it,
    and prove it writable."""
    storage = dict(options.storage_options or {})
    try:
        fs, root = fs_for(url, storage)
        fs.makedirs(root, exist_ok=True)
        try:
            names = [p.rpartition("/")[2] for p in fs.ls(root, detail=False)]
        except FileNotFoundError:  # an object-store prefix exists only once an object is under it
            names = []
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot create or list the destination {url!r}: {exc}") from exc
    earlier = [n for n in names if n.startswith("part-") or n in (MANIFEST, CHECKPOINT)]
    if earlier and not resuming:
        if not options.overwrite:
            raise ExportError(
                f"the destination {url!r} already holds an export ({len(earlier)} files, e.g. "
                f"{sorted(earlier)[0]!r}): pass overwrite=True to replace it, resume= to finish it, or "
                "choose another URL"
            )
        fs.rm([f"{root}/{n}" for n in earlier])
    probe = f"{root}/.cf-probe-{operation_id}"
    try:
        fs.pipe_file(probe, b"")
        fs.rm(probe)
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot write to the destination {url!r}: {exc}") from exc


def _checkpoint_path(url: str, options: ExportOptions, value: str | bool | None) -> str | None:
    if value is False:
        return None
    if isinstance(value, str):
        return value
    if options.format == "iceberg":
        if value is True:
            raise CassandraFramesError(
                "an Iceberg export needs a checkpoint path: checkpoint='…/export.json'"
            )
        return None
    return f"{url.rstrip('/')}/{CHECKPOINT}"


def prepare_export(
    table: str, url: str, options: ExportOptions, *, min_partitions: int, processes: int = 1
) -> ExportRun:
    """Plan (or resume) an export: the read plan, the destination, the checkpoint.

    Parameters
    ----------
    table : str
        ``"keyspace.table"``.
    url : str
        Destination directory (any fsspec URL), or the Iceberg table identifier.
    options : ExportOptions
        The export's keywords.
    min_partitions : int
        Fewest units when sizing by bytes (twice the threads that will run them).
    processes : int
        Worker processes that will read (``max_rows_per_second`` is shared among them).

    Raises
    ------
    CheckpointError
        ``resume=`` names a checkpoint of another table, other options or an older schema.
    ExportError
        The destination holds an earlier export, or cannot be written.
    """
    keyspace, name = split_table_name(table, options.keyspace)
    qualified = f"{keyspace}.{name}"
    is_iceberg = options.format == "iceberg"
    dest = url if is_iceberg else url.rstrip("/")
    resume_path = _checkpoint_path(dest, options, options.resume) if options.resume else None
    checkpoint: Checkpoint | None = None
    if resume_path is not None:  # another table or URL is refused before the cluster is asked anything
        checkpoint = Checkpoint.load(resume_path, options.storage_options, kind="export")
        checkpoint.check({**checkpoint.data["identity"], "table": qualified, "url": dest})
    read_options = dataclasses.replace(options.read_options(), keyspace=None)
    if checkpoint is not None and any("partitions" in u for u in checkpoint.data["units"]):
        # partition reads are re-planned from the same filters into as many units as then
        read_options = dataclasses.replace(read_options, npartitions=len(checkpoint.data["units"]))
    plan = plan_read(qualified, read_options, min_partitions=min_partitions)
    reader = plan.reader
    if options.max_rows_per_second:
        fetch = dataclasses.replace(
            reader.options, max_rows_per_second=options.max_rows_per_second / max(1, processes)
        )
        reader = dataclasses.replace(reader, options=fetch)
    columns = list(plan.columns) if plan.columns is not None else None
    if columns is not None:  # the writetime / ttl columns asked for come with the columns chosen
        columns += [name for name, _ in reader.extras if name not in columns]
    schema = reader.output_schema(columns)
    fmt = None if is_iceberg else options.format_options(dest)
    identity: dict[str, Any] = {
        "table": qualified,
        "url": dest,
        "format": options.format or "csv",
        "format_options": dataclasses.asdict(fmt) if fmt else {},
        "columns": columns,
        "filters": repr(options.filters),
        "writetime": repr(options.writetime),
        "ttl": repr(options.ttl),
        "max_records": options.max_records,
        "schema": _schema_identity(schema),
    }
    if checkpoint is not None:
        checkpoint.check(identity)
        operation_id = checkpoint.operation_id
        _, session = resolve_connection(options.connection)
        _, ring = catalog.ring(session, keyspace)
        partitions = _units_from_json(checkpoint.data["units"], plan, ring)
    else:
        operation_id = new_operation_id()
        partitions = list(plan.partitions)
    target: IcebergTarget | None = None
    if is_iceberg:
        target = IcebergTarget(
            identifier=url,
            catalog=options.catalog,
            warehouse=options.warehouse,
            storage_options=options.storage_options,
        )
        root = prepare_table(target, schema, mode=options.mode, operation_id=operation_id)
    else:
        _prepare_directory(dest, options, resume_path is not None, operation_id)
        root = dest
    if checkpoint is None:
        path = _checkpoint_path(dest, options, options.checkpoint)
        if path is not None:
            checkpoint = Checkpoint.new(
                path,
                kind="export",
                operation_id=operation_id,
                identity=identity,
                units=_units_json(partitions),
                storage_options=options.storage_options,
            )
            checkpoint.save()
    job = ExportJob(
        reader=reader,
        columns=tuple(columns) if columns is not None else None,
        root=root,
        fmt=fmt,
        iceberg=target,
        storage_options=dict(options.storage_options or {}),
        operation_id=operation_id,
        schema=schema,
        table=qualified,
    )
    completed = dict(checkpoint.completed) if checkpoint is not None else {}
    if completed:
        fs, _ = fs_for(root, job.storage_options)
        completed = {
            i: c
            for i, c in completed.items()
            if not c.get("file") or fs.exists(fs_for(c["file"], job.storage_options)[1])
        }
    pending = [i for i in range(len(partitions)) if i not in completed]
    keyspace, _, name = qualified.partition(".")
    with log_context(operation_id=job.operation_id, keyspace=keyspace, table=name):
        log.info(
            "export of %s to %s (%s): %d units, %d to do",
            qualified,
            dest,
            job.format,
            len(partitions),
            len(pending),
        )
    return ExportRun(
        job=job,
        table=qualified,
        url=dest,
        units=partitions,
        pending=pending,
        checkpoint=checkpoint,
        identity=identity,
        completed=completed,
        max_records=options.max_records,
        keywords=shaping_keywords(options),
    )
