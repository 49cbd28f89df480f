"""Load contenders: files into a table (``bench.w_<t>``, TRUNCATEd by the harness before every run and
counted after it: a count other than the data set's voids the run).

    .venv/bin/python benchmarks/load.py [run.py options]      # these contenders only

The input files are made once, before any clock, by our own exporter (:func:`datasets.ensure_inputs`, in
``$CF_BENCH_DIR``, default /tmp/cf-bench): CSV part files with a header each and nested values as JSON
(what DSBulk reads), Parquet part files, and for cqlsh one CSV file with nested values as CQL literals.
- ``ours_load_csv``: ``cf.load("<t>/csv", "bench.w_<t>", nested="json")``, Dask's default scheduler;
  ``ours_load_csv_lc``: the same under a 2-worker ``distributed.LocalCluster``.
- ``ours_load_parquet``: ``cf.load("<t>/parquet", "bench.w_<t>")``.
- ``cqlsh_copy_from``: ``cqlsh -e "COPY bench.w_<t> (cols) FROM 'all.csv' WITH HEADER=true"``.
- ``dsbulk_load``: ``dsbulk.sh load -k bench -t w_<t> -url <t>/csv -header true -escape '"'`` (the same
  files as ``ours_load_csv``; RFC 4180 doubled quotes, as in JSON inside CSV).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    KEYSPACE,
    Clock,
    DaskCluster,
    children_peak_rss_mb,
    cqlsh_args,
    dsbulk_args,
    dsbulk_summary,
    node,
    run_tool,
    tool_error,
)
from benchmarks.datasets import DataSet, header_columns, input_path


def _ours_load(ds: DataSet, kind: str, cluster: bool) -> dict[str, Any]:
    import cassandra_frames as cf

    config, _ = node()
    options: dict[str, Any] = {"nested": "json"} if kind == "csv" else {}

    def load() -> Any:
        source = str(input_path(ds, kind))
        return cf.load(source, f"{KEYSPACE}.{ds.target}", connection=config, progress=False, **options)

    extra: dict[str, Any] = {}
    if cluster:
        with DaskCluster() as dc:
            with Clock(dc.cpu) as clock:
                report = load()
            extra["workers_peak_rss_mb"] = dc.peak_rss_mb()
    else:
        with Clock() as clock:
            report = load()
    if report.rows_rejected or report.failed_splits:
        extra["error"] = f"rejected {report.rows_rejected:,} rows, failed splits {report.failed_splits}"
    return clock.record(report.rows_written, splits=report.splits, **extra)


def ours_load_csv(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_load(ds, "csv", cluster=False)


def ours_load_csv_lc(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_load(ds, "csv", cluster=True)


def ours_load_parquet(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_load(ds, "parquet", cluster=False)


def cqlsh_copy_from(ds: DataSet, work: Path) -> dict[str, Any]:
    cols = ",".join(header_columns(ds))
    source = input_path(ds, "onecsv")
    statement = f"COPY {KEYSPACE}.{ds.target} ({cols}) FROM '{source}' WITH HEADER=true"
    proc, clock = run_tool([*cqlsh_args(), "-e", statement], cwd=work)
    rss = children_peak_rss_mb()
    found = re.search(r"(\d+) rows imported from \d+ files?.*\((\d+) skipped\)", proc.stdout + proc.stderr)
    if proc.returncode != 0 or not found:
        return clock.record(0, peak_rss_mb=rss, error=tool_error(proc, "cqlsh COPY FROM"))
    return clock.record(int(found.group(1)), peak_rss_mb=rss, skipped=int(found.group(2)))


def dsbulk_load(ds: DataSet, work: Path) -> dict[str, Any]:
    args = dsbulk_args("load", ds.target, work / "logs")
    args += ["-url", str(input_path(ds, "csv")), "-header", "true", "-escape", '"\\""']
    proc, clock = run_tool(args, work)
    rss = children_peak_rss_mb()
    summary = dsbulk_summary(proc.stdout + proc.stderr)
    if proc.returncode != 0 or summary is None or summary[1]:
        return clock.record(0, peak_rss_mb=rss, error=tool_error(proc, f"dsbulk load (summary {summary})"))
    return clock.record(summary[0], peak_rss_mb=rss, own_rows_per_s=summary[2])


CONTENDERS = ["ours_load_csv", "ours_load_csv_lc", "ours_load_parquet", "cqlsh_copy_from", "dsbulk_load"]

if __name__ == "__main__":
    from benchmarks.run import main

    main(["--only", ",".join(CONTENDERS), *sys.argv[1:]])
