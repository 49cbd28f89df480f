"""Export and count benchmark: cf.export / cf.count vs cqlsh COPY TO / SELECT count(*) vs DSBulk.

    .venv/bin/python benchmarks/export.py [--datasets flights,synthetic] [--repeat N] [--only a,b] [--quick]

Contenders (each run in its own process, same node; with ``--repeat N`` the contenders alternate: every
contender once, then every contender again, so that the machine's drift hits all of them alike):

export (every output's rows are counted after the clock stops: CSV lines minus each file's header,
Parquet footers' row counts; a wrong count fails the run):
- ``ours_csv``: ``cf.export("bench.<t>", dir, format="csv")`` (Dask threads scheduler)
- ``ours_parquet``: the same with ``format="parquet"``
- ``ours_parquet_lc``: ``format="parquet"`` under a ``distributed.LocalCluster`` of 2 worker processes of 1
  thread each, started before the clock; the peak RSS is the client process's only (the workers' peaks
  are reported apart)
- ``cqlsh_copy``: ``cqlsh -e "COPY bench.<t> TO 'file.csv' WITH HEADER=true"`` (peak RSS: its processes)
- ``dsbulk_unload``: ``dsbulk.sh unload -k bench -t <t> -url dir -header true`` (DSBulk 1.10 from Maven
  jars, /work/shared/peers/dsbulk); wall time includes its ~5 s JVM start, its own summary rate does not

count (the total must equal the data set's rows):
- ``ours_count``: ``cf.count("bench.<t>")``
- ``dsbulk_count``: ``dsbulk.sh count -k bench -t <t>``
- ``cqlsh_count``: ``cqlsh -e "SELECT count(*) FROM bench.<t>"`` (default 10 s request timeout: a timeout
  is reported as such, not as a speed)

The clock of our contenders starts after the Python imports and the harness's lookup of its node; the
external tools are timed around their whole process. After the contenders, the peak RSS of
``ours_parquet`` on the 1M-row table is compared with the same export of a 4M-row copy
(``bench.synthetic_4m``, created on first use): it must not grow with the table (within 20 %).

``--quick``: 100,000 rows (``bench.synthetic_100k``), our contenders only, one run each; checks only the
row counts (it exits non-zero on a wrong count) and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    KEYSPACE,
    Result,
    ensure_datasets,
    ensure_synthetic,
    expected_rows,
    node_config_quiet,
    peak_rss_mb,
    run_once,
)

SCRIPT = Path(__file__).resolve()
DSBULK = Path(os.environ.get("DSBULK_SH", "/work/shared/peers/dsbulk/dsbulk.sh"))
OURS_EXPORT = ["ours_csv", "ours_parquet", "ours_parquet_lc"]
EXPORTS = [*OURS_EXPORT, "cqlsh_copy", "dsbulk_unload"]
COUNTS = ["ours_count", "dsbulk_count", "cqlsh_count"]
CONTENDERS = EXPORTS + COUNTS
DATASETS = ["flights", "synthetic"]
EXTRA_ROWS = {"synthetic_4m": 4_000_000, "synthetic_100k": 100_000}  # synthetic copies made on demand
FLAT_LIMIT = 1.20  # peak RSS at 4M rows ÷ at 1M rows


def rows_of(dataset: str) -> int:
    return EXTRA_ROWS[dataset] if dataset in EXTRA_ROWS else expected_rows(dataset)


# --- verification: count what was written ---------------------------------------------------------------


def csv_rows(files: Sequence[Path], header: str | None) -> int:
    """Data lines of CSV files that each start with a header line (every file's first line is checked
    against ``header`` when given). No data set here holds a line break inside a value."""
    rows = 0
    for path in files:
        with path.open("rb") as fh:
            first = fh.readline()
            if not first:
                continue
            if header is not None and first.decode().rstrip("\r\n") != header:
                raise SystemExit(f"{path}: first line {first[:80]!r} is not the header")
            rows += sum(1 for _ in fh)
    return rows


def parquet_rows(files: Sequence[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def local_files(urls: Sequence[str]) -> list[Path]:
    return [Path(u.removeprefix("file://")) for u in urls]


# --- contenders (run in a child process) -----------------------------------------------------------------


def _ours_export(name: str, fmt: str, out: Path, cluster: bool) -> dict[str, Any]:
    import cassandra_frames as cf

    cfg, _ = node_config_quiet()
    client = None
    if cluster:
        from distributed import Client, LocalCluster

        lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(lc)
    t0 = time.perf_counter()
    report = cf.export(f"{KEYSPACE}.{name}", str(out), format=fmt, connection=cfg, overwrite=True)
    seconds = time.perf_counter() - t0
    rss = peak_rss_mb()
    workers_rss = 0.0
    if client is not None:
        workers_rss = max(client.run(peak_rss_mb).values())
        client.close()
        lc.close()
    files = local_files(report.files)
    if fmt == "csv":
        header = files[0].open().readline().rstrip("\r\n") if files else None
        written = csv_rows(files, header)
    else:
        written = parquet_rows(files)
    if written != report.rows:
        raise SystemExit(f"export reported {report.rows:,} rows, its files hold {written:,}")
    return {
        "rows": written,
        "seconds": seconds,
        "peak_rss_mb": rss,
        "report_seconds": report.seconds,
        "files": len(files),
        "bytes": report.bytes,
        "workers_peak_rss_mb": workers_rss,
    }


def _cqlsh_args() -> list[str]:
    cfg, _ = node_config_quiet()
    host, port = cfg.endpoints()[0]
    return [str(Path(sys.executable).with_name("cqlsh")), host, str(port)]


def _children_rss() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _cqlsh_copy(name: str, out: Path) -> dict[str, Any]:
    target = out / f"{name}.csv"
    t0 = time.perf_counter()
    subprocess.run(
        [*_cqlsh_args(), "-e", f"COPY {KEYSPACE}.{name} TO '{target}' WITH HEADER=true"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - t0
    return {"rows": csv_rows([target], None), "seconds": seconds, "peak_rss_mb": _children_rss()}


_SUMMARY = re.compile(r"^\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|")


def _dsbulk_summary(text: str) -> tuple[int, int, float] | None:
    """(total, failed, rows/s) of DSBulk's last summary table (``total | failed | rows/s | p50ms …``; it
    prints one every few seconds when its output is not a terminal, the final one last)."""
    found = None
    for line in text.splitlines():
        m = _SUMMARY.match(line)
        if m:
            total, failed, rate = (int(g.replace(",", "")) for g in m.groups())
            found = total, failed, float(rate)
    return found


def _dsbulk(op: str, name: str, out: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    cfg, _ = node_config_quiet()
    host, port = cfg.endpoints()[0]
    args = [str(DSBULK), op, "-k", KEYSPACE, "-t", name, "-h", host, "-port", str(port)]
    args += ["-logDir", str(out / "logs")]
    # its driver (Java driver 4.17) gives up on all schema metadata when any keyspace of the cluster has a
    # vector<…> column ("Could not parse type name vector<float, 3>"): read only the bench keyspace's
    args += ["--driver.advanced.metadata.schema.refreshed-keyspaces", f'["{KEYSPACE}"]']
    if op == "unload":
        args += ["-url", str(out / "data"), "-header", "true"]
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"dsbulk {op} failed (exit {proc.returncode})")
    return proc, seconds


def _dsbulk_unload(name: str, out: Path) -> dict[str, Any]:
    proc, seconds = _dsbulk("unload", name, out)
    summary = _dsbulk_summary(proc.stdout + proc.stderr)
    files = sorted((out / "data").glob("*.csv"))
    rows = csv_rows(files, None)
    if summary is None or summary[0] != rows or summary[1]:
        raise SystemExit(f"dsbulk unload: summary {summary}, files hold {rows:,} rows")
    return {
        "rows": rows,
        "seconds": seconds,
        "peak_rss_mb": _children_rss(),
        "own_rows_per_s": summary[2],
        "files": len(files),
    }


def _dsbulk_count(name: str, out: Path) -> dict[str, Any]:
    proc, seconds = _dsbulk("count", name, out)
    numbers = [ln.strip() for ln in proc.stdout.splitlines() if re.fullmatch(r"\d+", ln.strip())]
    summary = _dsbulk_summary(proc.stdout + proc.stderr)
    if not numbers:
        raise SystemExit(f"dsbulk count printed no total: {proc.stdout[-500:]!r}")
    return {
        "rows": int(numbers[-1]),
        "seconds": seconds,
        "peak_rss_mb": _children_rss(),
        "own_rows_per_s": summary[2] if summary else 0.0,
    }


def _cqlsh_count(name: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*_cqlsh_args(), "-e", f"SELECT count(*) FROM {KEYSPACE}.{name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    found = re.search(r"^\s*(\d+)\s*$", proc.stdout, re.MULTILINE)
    result: dict[str, Any] = {"seconds": seconds, "peak_rss_mb": _children_rss()}
    if proc.returncode != 0 or not found:
        error = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        msg = next((ln for ln in error if "Timeout" in ln or "rror" in ln), error[-1] if error else "?")
        return {**result, "rows": 0, "error": msg[:160]}
    return {**result, "rows": int(found.group(1))}


def _ours_count(name: str) -> dict[str, Any]:
    import cassandra_frames as cf

    cfg, _ = node_config_quiet()
    t0 = time.perf_counter()
    rows = cf.count(f"{KEYSPACE}.{name}", connection=cfg)
    return {"rows": int(rows), "seconds": time.perf_counter() - t0, "peak_rss_mb": peak_rss_mb()}


def contender_main(contender: str, dataset: str) -> None:
    if contender.startswith("ours"):
        # imports are paid once per interpreter (a notebook has them already): not part of the timing
        import cassandra.cluster  # noqa: F401
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import cassandra_frames  # noqa: F401
    node_config_quiet()  # the harness finding its node: not timed
    with tempfile.TemporaryDirectory(prefix=f"bench-export-{contender}-") as tmp:
        out = Path(tmp)
        if contender == "ours_csv":
            data = _ours_export(dataset, "csv", out / "out", cluster=False)
        elif contender == "ours_parquet":
            data = _ours_export(dataset, "parquet", out / "out", cluster=False)
        elif contender == "ours_parquet_lc":
            data = _ours_export(dataset, "parquet", out / "out", cluster=True)
        elif contender == "cqlsh_copy":
            data = _cqlsh_copy(dataset, out)
        elif contender == "dsbulk_unload":
            data = _dsbulk_unload(dataset, out)
        elif contender == "ours_count":
            data = _ours_count(dataset)
        elif contender == "dsbulk_count":
            data = _dsbulk_count(dataset, out)
        elif contender == "cqlsh_count":
            data = _cqlsh_count(dataset)
        else:
            raise SystemExit(f"unknown contender {contender}")
    whole = rows_of(dataset)  # a speed over a wrong result is void
    if "error" not in data and data["rows"] != whole:
        raise SystemExit(f"{contender}: {data['rows']:,} rows of {dataset}, which holds {whole:,}")
    print(json.dumps(data))


# --- the harness -------------------------------------------------------------------------------------------


def _median_run(runs: list[tuple[Result, dict[str, Any]]]) -> tuple[Result, dict[str, Any]]:
    ordered = sorted(runs, key=lambda rd: rd[0].seconds)
    return ordered[len(ordered) // 2]


def results_table(medians: Sequence[tuple[Result, dict[str, Any]]], runs: dict[Any, list[float]]) -> str:
    lines = [
        "| data set | contender | rows | seconds (runs) | rows/s | own rows/s | peak RSS (MiB) "
        "| node CPU (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r, data in medians:
        times = ", ".join(f"{s:.2f}" for s in runs[(r.dataset, r.contender)])
        if "error" in data:
            lines.append(
                f"| {r.dataset} | {r.contender} | failed: {data['error']} | {times} | – | – | "
                f"{r.peak_rss_mb:,.0f} | {r.node_cpu_s:.1f} |"
            )
            continue
        own = f"{data['own_rows_per_s']:,.0f}" if data.get("own_rows_per_s") else ""
        rss = f"{r.peak_rss_mb:,.0f}"
        if data.get("workers_peak_rss_mb"):
            rss += f" (workers {data['workers_peak_rss_mb']:,.0f})"
        lines.append(
            f"| {r.dataset} | {r.contender} | {r.rows:,} | {r.seconds:.2f} ({times}) | {r.rows_per_s:,.0f} | "
            f"{own} | {rss} | {r.node_cpu_s:.1f} |"
        )
    return "\n".join(lines)


def ratio_lines(
    reps: dict[tuple[str, str], list[tuple[Result, dict[str, Any]]]], datasets: Sequence[str]
) -> list[str]:
    """Speed ratios of ours to the others, computed within each repetition (the contenders ran back to
    back) and given as the median over repetitions."""
    pairs = [
        ("ours_csv", "cqlsh_copy"),
        ("ours_csv", "dsbulk_unload"),
        ("ours_parquet", "cqlsh_copy"),
        ("ours_parquet", "dsbulk_unload"),
        ("ours_parquet_lc", "dsbulk_unload"),
        ("ours_count", "dsbulk_count"),
        ("ours_count", "cqlsh_count"),
    ]
    lines = []
    for dataset in datasets:
        for ours, other in pairs:
            a, b = reps.get((dataset, ours), []), reps.get((dataset, other), [])
            wall, own = [], []
            for (ra, _), (rb, db) in zip(a, b, strict=False):
                if "error" in db or not rb.rows_per_s:
                    continue
                wall.append(ra.rows_per_s / rb.rows_per_s)
                if db.get("own_rows_per_s"):
                    own.append(ra.rows_per_s / db["own_rows_per_s"])
            if not wall:
                continue
            text = f"{dataset:10s} {ours} ÷ {other}: {statistics.median(wall):.2f}× (wall"
            text += f"; vs its own summary rate {statistics.median(own):.2f}×)" if own else ")"
            lines.append(text)
    return lines


def flatness(repeat: int) -> str:
    """ours_parquet's peak RSS on 1M rows and on 4M rows, alternating."""
    small, big = [], []
    for _ in range(repeat):
        for dataset, into in (("synthetic", small), ("synthetic_4m", big)):
            r, _ = run_once(SCRIPT, "ours_parquet", dataset)
            print(
                f"  flatness {dataset:12s} {r.rows:>9,} rows {r.seconds:7.2f} s "
                f"peak {r.peak_rss_mb:6.0f} MiB",
                file=sys.stderr,
            )
            into.append(r)
    s = statistics.median(r.peak_rss_mb for r in small)
    b = statistics.median(r.peak_rss_mb for r in big)
    verdict = "within" if b / s <= FLAT_LIMIT else "NOT within"
    speeds = " / ".join(f"{statistics.median(r.rows_per_s for r in runs):,.0f}" for runs in (small, big))
    return (
        f"ours_parquet peak RSS: 1M rows {s:,.0f} MiB, 4M rows {b:,.0f} MiB: ratio {b / s:.2f} "
        f"({verdict} {FLAT_LIMIT - 1:.0%}); rows/s {speeds}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contender", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated (flights,synthetic)")
    parser.add_argument("--only", default=",".join(CONTENDERS), help="comma-separated contenders")
    parser.add_argument("--repeat", type=int, default=1, help="alternating rounds; the median run counts")
    parser.add_argument("--no-flatness", action="store_true", help="skip the 1M vs 4M peak RSS check")
    parser.add_argument("--quick", action="store_true", help="100k rows, ours only, row counts only")
    args = parser.parse_args()
    if args.contender:
        contender_main(args.contender, args.dataset)
        return
    cfg, _ = node_config_quiet()
    if args.quick:
        datasets, contenders, repeat = ["synthetic_100k"], [*OURS_EXPORT, "ours_count"], 1
    else:
        datasets = [d for d in args.datasets.split(",") if d]
        contenders = [c for c in args.only.split(",") if c]
        repeat = max(1, args.repeat)
        for name in [*datasets, *contenders]:
            if name not in (*DATASETS, *EXTRA_ROWS, *CONTENDERS):
                raise SystemExit(f"unknown data set or contender: {name}")
        if set(datasets) & set(DATASETS):
            ensure_datasets(cfg)
    for name in datasets:
        if name in EXTRA_ROWS:
            ensure_synthetic(cfg, name, EXTRA_ROWS[name])
    reps: dict[tuple[str, str], list[tuple[Result, dict[str, Any]]]] = {}
    for dataset in datasets:
        for _ in range(repeat):
            for contender in contenders:
                r, data = run_once(SCRIPT, contender, dataset)
                state = f"FAILED {data['error']}" if "error" in data else f"{r.rows_per_s:>10,.0f} rows/s"
                print(
                    f"{dataset:10s} {contender:16s} {r.rows:>9,} rows {r.seconds:7.2f} s {state} "
                    f"peak {r.peak_rss_mb:6.0f} MiB  node CPU {r.node_cpu_s:5.1f} s",
                    file=sys.stderr,
                )
                reps.setdefault((dataset, contender), []).append((r, data))
    medians = [_median_run(reps[(d, c)]) for d in datasets for c in contenders]
    runs = {k: [r.seconds for r, _ in v] for k, v in reps.items()}
    print(results_table(medians, runs))
    print()
    for line in ratio_lines(reps, datasets):
        print(line)
    if not args.quick and not args.no_flatness and "synthetic" in datasets:
        ensure_synthetic(cfg, "synthetic_4m", EXTRA_ROWS["synthetic_4m"])
        print(flatness(repeat))
    print(f"\n(machine: {os.cpu_count()} cores; node and client share them; {dt.date.today()})")


if __name__ == "__main__":
    main()
