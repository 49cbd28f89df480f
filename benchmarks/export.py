"""Export and count contenders: a table to CSV / Parquet files, and its row count.

    .venv/bin/python benchmarks/export.py [run.py options]    # these contenders only

Export (every output's rows are counted after the clock stops — CSV lines minus each file's header,
Parquet footers' row counts — and a wrong count voids the run):
- ``ours_export_csv`` / ``ours_export_parquet``: ``cf.export("bench.<t>", dir, format=…)``, Dask's default
  scheduler; ``…_lc``: the same under a 2-worker ``distributed.LocalCluster``.
- ``cqlsh_copy_to``: ``cqlsh -e "COPY bench.<t> TO 'file.csv' WITH HEADER=true"``.
- ``dsbulk_unload``: ``dsbulk.sh unload -k bench -t <t> -url dir -header true`` (DSBulk 1.10 from Maven
  Central jars, benchmarks/dsbulk); its wall time includes its ~5 s JVM start, its own summary rate
  (``own_rows_per_s``) does not.

Count: ``ours_count`` (``cf.count("bench.<t>")``) and ``dsbulk_count`` (``dsbulk.sh count``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (
    Clock,
    DaskCluster,
    children_peak_rss_mb,
    cqlsh_args,
    csv_rows,
    dsbulk_args,
    dsbulk_summary,
    node,
    parquet_rows,
    run_tool,
    tool_error,
)
from benchmarks.datasets import DataSet


def _ours_export(ds: DataSet, out: Path, fmt: str, cluster: bool) -> dict[str, Any]:
    import cassandra_frames as cf

    config, _ = node()

    def export() -> Any:
        return cf.export(ds.table, str(out), format=fmt, connection=config, overwrite=True, progress=False)

    extra: dict[str, Any] = {}
    if cluster:
        with DaskCluster() as dc:
            with Clock(dc.cpu) as clock:
                report = export()
            extra["workers_peak_rss_mb"] = dc.peak_rss_mb()
    else:
        with Clock() as clock:
            report = export()
    files = [Path(u.removeprefix("file://")) for u in report.files]
    written = csv_rows(files, header=True) if fmt == "csv" else parquet_rows(files)
    if written != report.rows or report.failed_ranges:
        extra["error"] = (
            f"export reported {report.rows:,} rows and failed ranges {report.failed_ranges[:3]}; "
            f"its files hold {written:,}"
        )
    return clock.record(written, files=len(files), bytes=report.bytes, **extra)


def ours_export_csv(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_export(ds, work / "out", "csv", cluster=False)


def ours_export_csv_lc(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_export(ds, work / "out", "csv", cluster=True)


def ours_export_parquet(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_export(ds, work / "out", "parquet", cluster=False)


def ours_export_parquet_lc(ds: DataSet, work: Path) -> dict[str, Any]:
    return _ours_export(ds, work / "out", "parquet", cluster=True)


def cqlsh_copy_to(ds: DataSet, work: Path) -> dict[str, Any]:
    target = work / f"{ds.name}.csv"
    proc, clock = run_tool([*cqlsh_args(), "-e", f"COPY {ds.table} TO '{target}' WITH HEADER=true"], cwd=work)
    rss = children_peak_rss_mb()
    if proc.returncode != 0 or not target.exists():
        return clock.record(0, peak_rss_mb=rss, error=tool_error(proc, "cqlsh COPY TO"))
    return clock.record(csv_rows([target], header=True), peak_rss_mb=rss)


def dsbulk_unload(ds: DataSet, work: Path) -> dict[str, Any]:
    out = work / "data"
    proc, clock = run_tool(
        [*dsbulk_args("unload", ds.name, work / "logs"), "-url", str(out), "-header", "true"], work
    )
    rss = children_peak_rss_mb()
    summary = dsbulk_summary(proc.stdout + proc.stderr)
    if proc.returncode != 0 or summary is None:
        return clock.record(0, peak_rss_mb=rss, error=tool_error(proc, "dsbulk unload"))
    files = sorted(out.glob("*.csv"))
    rows = csv_rows(files, header=True)
    extra: dict[str, Any] = {"peak_rss_mb": rss, "own_rows_per_s": summary[2], "files": len(files)}
    if summary[0] != rows or summary[1]:
        extra["error"] = f"dsbulk unload: summary {summary}, its files hold {rows:,} rows"
    return clock.record(rows, **extra)


def ours_count(ds: DataSet, work: Path) -> dict[str, Any]:
    import cassandra_frames as cf

    config, _ = node()
    with Clock() as clock:
        rows = cf.count(ds.table, connection=config, progress=False)
    assert isinstance(rows, int)  # without by=, a count is a number
    return clock.record(rows)


def dsbulk_count(ds: DataSet, work: Path) -> dict[str, Any]:
    proc, clock = run_tool(dsbulk_args("count", ds.name, work / "logs"), work)
    rss = children_peak_rss_mb()
    numbers = [ln.strip() for ln in proc.stdout.splitlines() if re.fullmatch(r"\d+", ln.strip())]
    if proc.returncode != 0 or not numbers:
        return clock.record(0, peak_rss_mb=rss, error=tool_error(proc, "dsbulk count"))
    summary = dsbulk_summary(proc.stdout + proc.stderr)
    return clock.record(int(numbers[-1]), peak_rss_mb=rss, own_rows_per_s=summary[2] if summary else None)


CONTENDERS = [
    "ours_export_csv",
    "ours_export_csv_lc",
    "ours_export_parquet",
    "ours_export_parquet_lc",
    "cqlsh_copy_to",
    "dsbulk_unload",
    "ours_count",
    "dsbulk_count",
]
if __name__ == "__main__":
    from benchmarks.run import main

    main(["--only", ",".join(CONTENDERS), *sys.argv[1:]])
