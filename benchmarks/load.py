"""Load benchmark: cf.load of CSV and Parquet files vs cqlsh COPY FROM vs DSBulk load.

    .venv/bin/python benchmarks/load.py [--datasets flights,synthetic] [--repeat N] [--only a,b] [--quick]

Input files are made once, before any clock, by our own exporter from the benchmark tables into a cache
directory (``$CF_BENCH_LOAD_DIR``, default /tmp/cf-bench-load; a marker file per input records its rows, so
a half-written input is made again):
- ``<t>-csv/``: ``cf.export("bench.<t>", dir, format="csv")`` (part files with a header line each)
- ``<t>-parquet/``: the same with ``format="parquet"``
- ``<t>.csv``: the part files of ``<t>-csv/`` joined into one file with one header line (for cqlsh)

Every run loads into ``bench.l_<t>`` (the source table's schema; created once), which the harness
TRUNCATEs before the run; after the run the harness counts the table's rows (64 token-range counts) and a
count other than the data set's voids the run (it is reported as void and the script exits non-zero).

Contenders (each run in its own process, same node; with ``--repeat N`` the contenders alternate: every
contender once, then every contender again, so that the machine's drift hits all of them alike):
- ``ours_csv``: ``cf.load("<t>-csv/", "bench.l_<t>")`` (Dask threads scheduler)
- ``ours_parquet``: ``cf.load("<t>-parquet/", "bench.l_<t>")``
- ``ours_csv_lc``: ``ours_csv`` under a ``distributed.LocalCluster`` of 2 worker processes of 1 thread
  each, started before the clock; the peak RSS is the client process's only (the workers' peaks are
  reported apart)
- ``cqlsh_copy``: ``cqlsh -e "COPY bench.l_<t> (cols) FROM '<t>.csv' WITH HEADER=true"`` (peak RSS: the
  largest of its processes)
- ``dsbulk_load``: ``dsbulk.sh load -k bench -t l_<t> -url <t>-csv/ -header true`` (DSBulk 1.10 from
  Maven jars, /work/shared/peers/dsbulk); wall time includes its ~5 s JVM start, its own summary rate
  does not

The clock of our contenders starts after the Python imports and the harness's lookup of its node; the
external tools are timed around their whole process. "node CPU" is the Cassandra process's CPU time
between the clock's start and stop. After the contenders, the peak RSS of ``ours_csv`` loading the 1M-row
table is compared with loading the 4M-row copy (``bench.synthetic_4m``, created on first use, exported to
CSV once): it must not grow with the input (within 20 %).

``--quick``: 100,000 rows (``bench.synthetic_100k``), our contenders only, one run each; checks only the
row counts (it exits non-zero on a wrong count) and prints the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
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
    children_peak_rss_mb,
    connect,
    count_rows,
    cpu_seconds,
    dsbulk_summary,
    ensure_datasets,
    ensure_synthetic,
    expected_rows,
    flights_table,
    node_config_quiet,
    peak_rss_mb,
    run_once,
    synthetic_table,
)

SCRIPT = Path(__file__).resolve()
DSBULK = Path(os.environ.get("DSBULK_SH", "/work/shared/peers/dsbulk/dsbulk.sh"))
CACHE = Path(os.environ.get("CF_BENCH_LOAD_DIR", "/tmp/cf-bench-load"))
OURS = ["ours_csv", "ours_parquet", "ours_csv_lc"]
CONTENDERS = [*OURS, "cqlsh_copy", "dsbulk_load"]
DATASETS = ["flights", "synthetic"]
EXTRA_ROWS = {"synthetic_4m": 4_000_000, "synthetic_100k": 100_000}  # synthetic copies made on demand
FLAT_LIMIT = 1.20  # peak RSS at 4M rows ÷ at 1M rows
INPUT_OF = {  # contender → the input it reads
    "ours_csv": "csv",
    "ours_parquet": "parquet",
    "ours_csv_lc": "csv",
    "cqlsh_copy": "onecsv",
    "dsbulk_load": "csv",
}


def rows_of(dataset: str) -> int:
    return EXTRA_ROWS[dataset] if dataset in EXTRA_ROWS else expected_rows(dataset)


def target(dataset: str) -> str:
    return f"l_{dataset}"


# --- the input files: made once, by our exporter ------------------------------------------------------------


def input_path(dataset: str, kind: str) -> Path:
    return CACHE / (f"{dataset}.csv" if kind == "onecsv" else f"{dataset}-{kind}")


def _marker(dataset: str, kind: str) -> Path:
    return CACHE / f".{dataset}-{kind}.done.json"


def _csv_parts(dataset: str) -> list[Path]:
    return sorted(input_path(dataset, "csv").glob("part-*.csv"))


def _data_lines(path: Path) -> int:
    with path.open("rb") as fh:
        fh.readline()  # the header
        return sum(1 for _ in fh)


def ensure_input(cfg: Any, dataset: str, kind: str) -> dict[str, Any]:
    """Make input ``kind`` (csv, parquet, onecsv) of ``dataset`` unless its marker says it is complete."""
    marker = _marker(dataset, kind)
    whole = rows_of(dataset)
    if marker.exists():
        info = json.loads(marker.read_text())
        if info.get("rows") == whole and input_path(dataset, kind).exists():
            return info
    import cassandra_frames as cf

    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    out = input_path(dataset, kind)
    if kind == "onecsv":
        ensure_input(cfg, dataset, "csv")
        parts = _csv_parts(dataset)
        with out.open("wb") as dst:
            for i, part in enumerate(parts):
                with part.open("rb") as src:
                    header = src.readline()
                    if i == 0:
                        dst.write(header)
                    shutil.copyfileobj(src, dst, 8 * 2**20)
        info = {"rows": _data_lines(out), "files": 1, "bytes": out.stat().st_size}
    else:
        shutil.rmtree(out, ignore_errors=True)
        report = cf.export(f"{KEYSPACE}.{dataset}", str(out), format=kind, connection=cfg, overwrite=True)
        if kind == "csv":
            rows = sum(_data_lines(p) for p in _csv_parts(dataset))
        else:
            import pyarrow.parquet as pq

            rows = sum(pq.ParquetFile(p).metadata.num_rows for p in out.glob("*.parquet"))
        info = {"rows": rows, "files": len(report.files), "bytes": report.bytes}
    if info["rows"] != whole:
        raise SystemExit(f"input {out}: {info['rows']:,} rows, the data set holds {whole:,}")
    marker.write_text(json.dumps(info))
    print(
        f"made input {out} ({info['files']} files, {info['bytes'] / 2**20:,.0f} MiB) in "
        f"{time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    return info


def ensure_target(session: Any, dataset: str) -> None:
    """Create ``bench.l_<t>`` with the source's schema, once."""
    name = target(dataset)
    create = flights_table(name) if dataset == "flights" else synthetic_table(name)
    if "IF NOT EXISTS" not in create:
        create = create.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
    session.execute(create, timeout=120)


def header_columns(dataset: str) -> list[str]:
    with input_path(dataset, "onecsv").open() as fh:
        return [c.strip().strip('"') for c in fh.readline().rstrip("\r\n").split(",")]


# --- contenders (run in a child process) -----------------------------------------------------------------


def _ours_load(dataset: str, kind: str, cluster: bool) -> dict[str, Any]:
    import cassandra_frames as cf

    cfg, pid = node_config_quiet()
    client = None
    if cluster:
        from distributed import Client, LocalCluster

        lc = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(lc)
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    report = cf.load(str(input_path(dataset, kind)), f"{KEYSPACE}.{target(dataset)}", connection=cfg)
    seconds = time.perf_counter() - t0
    node_cpu = cpu_seconds(pid) - cpu0
    rss = peak_rss_mb()
    workers_rss = 0.0
    if client is not None:
        workers_rss = max(client.run(peak_rss_mb).values())
        client.close()
        lc.close()
    if report.rows_rejected or report.failed_splits:
        raise SystemExit(f"load rejected {report.rows_rejected:,} rows, failed splits {report.failed_splits}")
    return {
        "rows": report.rows_written,
        "seconds": seconds,
        "peak_rss_mb": rss,
        "node_cpu_s": node_cpu,
        "report_seconds": report.seconds,
        "splits": report.splits,
        "workers_peak_rss_mb": workers_rss,
    }


def _cqlsh_copy(dataset: str) -> dict[str, Any]:
    cfg, pid = node_config_quiet()
    host, port = cfg.endpoints()[0]
    cqlsh = str(Path(sys.executable).with_name("cqlsh"))
    cols = ",".join(header_columns(dataset))
    source = input_path(dataset, "onecsv")
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            cqlsh,
            host,
            str(port),
            "-e",
            f"COPY {KEYSPACE}.{target(dataset)} ({cols}) FROM '{source}' WITH HEADER=true",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - t0
    node_cpu = cpu_seconds(pid) - cpu0
    found = re.search(r"(\d+) rows imported from \d+ files?.*\((\d+) skipped\)", proc.stdout + proc.stderr)
    if proc.returncode != 0 or not found:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
        raise SystemExit(f"cqlsh COPY FROM failed (exit {proc.returncode})")
    return {
        "rows": int(found.group(1)),
        "seconds": seconds,
        "peak_rss_mb": children_peak_rss_mb(),
        "node_cpu_s": node_cpu,
        "skipped": int(found.group(2)),
    }


def _dsbulk_load(dataset: str, logs: Path) -> dict[str, Any]:
    cfg, pid = node_config_quiet()
    host, port = cfg.endpoints()[0]
    args = [str(DSBULK), "load", "-k", KEYSPACE, "-t", target(dataset), "-h", host, "-port", str(port)]
    args += ["-url", str(input_path(dataset, "csv")), "-header", "true", "-logDir", str(logs)]
    # its driver (Java driver 4.17) gives up on all schema metadata when any keyspace of the cluster has a
    # vector<…> column ("Could not parse type name vector<float, 3>"): read only the bench keyspace's
    args += ["--driver.advanced.metadata.schema.refreshed-keyspaces", f'["{KEYSPACE}"]']
    cpu0 = cpu_seconds(pid)
    t0 = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    node_cpu = cpu_seconds(pid) - cpu0
    summary = dsbulk_summary(proc.stdout + proc.stderr)
    if proc.returncode != 0 or summary is None or summary[1]:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"dsbulk load failed (exit {proc.returncode}, summary {summary})")
    return {
        "rows": summary[0],
        "seconds": seconds,
        "peak_rss_mb": children_peak_rss_mb(),
        "node_cpu_s": node_cpu,
        "own_rows_per_s": summary[2],
    }


def contender_main(contender: str, dataset: str) -> None:
    if contender.startswith("ours"):
        # imports are paid once per interpreter (a notebook has them already): not part of the timing
        import cassandra.cluster  # noqa: F401
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pyarrow.csv
        import pyarrow.parquet  # noqa: F401

        import cassandra_frames
        import cassandra_frames.load_split  # noqa: F401
    node_config_quiet()  # the harness finding its node: not timed
    if contender in OURS:
        data = _ours_load(dataset, INPUT_OF[contender], cluster=contender == "ours_csv_lc")
    elif contender == "cqlsh_copy":
        data = _cqlsh_copy(dataset)
    elif contender == "dsbulk_load":
        with tempfile.TemporaryDirectory(prefix="bench-load-dsbulk-") as tmp:
            data = _dsbulk_load(dataset, Path(tmp))
    else:
        raise SystemExit(f"unknown contender {contender}")
    print(json.dumps(data))


# --- the harness -------------------------------------------------------------------------------------------

Run = tuple[Result, dict[str, Any]]


def one_run(session: Any, contender: str, dataset: str) -> Run:
    """TRUNCATE the target, run the contender in its own process, count the table's rows.

    A failed process or a wrong count gives a run with ``error`` set (reported, never a speed)."""
    name = target(dataset)
    session.execute(f"TRUNCATE {KEYSPACE}.{name}", timeout=300)
    whole = rows_of(dataset)
    try:
        r, data = run_once(SCRIPT, contender, dataset)
    except RuntimeError as exc:
        r = Result(contender, dataset, 0, 0.0, 0.0, 0.0)
        return r, {"error": str(exc)}
    if "node_cpu_s" in data:
        r.node_cpu_s = float(data["node_cpu_s"])  # around the clock only (not the start-up)
    counted = count_rows(session, name)
    data["counted"] = counted
    if counted != whole or data["rows"] != whole:
        data["error"] = f"void: {counted:,} rows in the table, the tool said {data['rows']:,}, of {whole:,}"
    r.rows = counted
    return r, data


def _line(r: Result, data: dict[str, Any]) -> str:
    if "error" in data:
        return f"{r.dataset:14s} {r.contender:13s} FAILED {data['error']}"
    own = f" (own {data['own_rows_per_s']:,.0f})" if data.get("own_rows_per_s") else ""
    workers = f" workers {data['workers_peak_rss_mb']:.0f}" if data.get("workers_peak_rss_mb") else ""
    return (
        f"{r.dataset:14s} {r.contender:13s} {r.rows:>9,} rows {r.seconds:7.2f} s "
        f"{r.rows_per_s:>8,.0f} rows/s{own} peak {r.peak_rss_mb:5.0f} MiB{workers} "
        f"node CPU {r.node_cpu_s:5.1f} s"
    )


def _median_run(runs: list[Run]) -> Run:
    good = [rd for rd in runs if "error" not in rd[1]] or runs
    ordered = sorted(good, key=lambda rd: rd[0].seconds)
    return ordered[len(ordered) // 2]


def results_table(reps: dict[tuple[str, str], list[Run]], keys: Sequence[tuple[str, str]]) -> str:
    lines = [
        "| data set | contender | rows | seconds: median (runs) | rows/s | own rows/s | peak RSS (MiB) "
        "| node CPU (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in keys:
        runs = reps[key]
        r, data = _median_run(runs)
        times = ", ".join("void" if "error" in d else f"{x.seconds:.2f}" for x, d in runs)
        if "error" in data:
            lines.append(f"| {r.dataset} | {r.contender} | {data['error']} | {times} | – | – | – | – |")
            continue
        owns = [d["own_rows_per_s"] for _, d in runs if d.get("own_rows_per_s")]
        own = "–".join(f"{v:,.0f}" for v in sorted({min(owns), max(owns)})) if owns else ""
        rss = f"{r.peak_rss_mb:,.0f}"
        if data.get("workers_peak_rss_mb"):
            rss += f" (workers {data['workers_peak_rss_mb']:,.0f})"
        lines.append(
            f"| {r.dataset} | {r.contender} | {r.rows:,} | {r.seconds:.2f} ({times}) | {r.rows_per_s:,.0f} "
            f"| {own} | {rss} | {r.node_cpu_s:.1f} |"
        )
    return "\n".join(lines)


def ratio_lines(reps: dict[tuple[str, str], list[Run]], datasets: Sequence[str]) -> list[str]:
    """Speed ratios of ours to the others, within each round (the contenders ran back to back), as the
    median over the rounds."""
    lines = []
    for dataset in datasets:
        for ours in OURS:
            for other in ("cqlsh_copy", "dsbulk_load"):
                a, b = reps.get((dataset, ours), []), reps.get((dataset, other), [])
                wall, own = [], []
                for (ra, da), (rb, db) in zip(a, b, strict=False):
                    if "error" in da or "error" in db or not rb.rows_per_s:
                        continue
                    wall.append(ra.rows_per_s / rb.rows_per_s)
                    if db.get("own_rows_per_s"):
                        own.append(ra.rows_per_s / db["own_rows_per_s"])
                if not wall:
                    continue
                text = f"{dataset:10s} {ours} ÷ {other}: {statistics.median(wall):.2f}× (wall"
                text += f"; ÷ its own summary rate {statistics.median(own):.2f}×)" if own else ")"
                lines.append(text)
    return lines


def flatness(session: Any, repeat: int) -> tuple[str, bool]:
    """ours_csv's peak RSS loading 1M rows and 4M rows, alternating."""
    small: list[Result] = []
    big: list[Result] = []
    for _ in range(repeat):
        for dataset, into in (("synthetic", small), ("synthetic_4m", big)):
            r, data = one_run(session, "ours_csv", dataset)
            print("  flatness " + _line(r, data), file=sys.stderr)
            if "error" in data:
                return f"flatness: ours_csv on {dataset} {data['error']}", False
            into.append(r)
    s = statistics.median(r.peak_rss_mb for r in small)
    b = statistics.median(r.peak_rss_mb for r in big)
    ok = b / s <= FLAT_LIMIT
    speeds = " / ".join(f"{statistics.median(r.rows_per_s for r in runs):,.0f}" for runs in (small, big))
    return (
        f"ours_csv peak RSS: 1M rows {s:,.0f} MiB, 4M rows {b:,.0f} MiB: ratio {b / s:.2f} "
        f"({'within' if ok else 'NOT within'} {FLAT_LIMIT - 1:.0%}); rows/s {speeds} "
        f"(runs: {', '.join(f'{r.peak_rss_mb:.0f}' for r in small)} / "
        f"{', '.join(f'{r.peak_rss_mb:.0f}' for r in big)} MiB)"
    ), ok


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
        datasets, contenders, repeat = ["synthetic_100k"], list(OURS), 1
    else:
        datasets = [d for d in args.datasets.split(",") if d]
        contenders = [c for c in args.only.split(",") if c]
        repeat = max(1, args.repeat)
        for name in [*datasets, *contenders]:
            if name not in (*DATASETS, *EXTRA_ROWS, *CONTENDERS):
                raise SystemExit(f"unknown data set or contender: {name}")
        if set(datasets) & set(DATASETS):
            ensure_datasets(cfg)
    flat = not args.quick and not args.no_flatness and "synthetic" in datasets
    for name in [*datasets, *(["synthetic_4m"] if flat else [])]:
        if name in EXTRA_ROWS:
            ensure_synthetic(cfg, name, EXTRA_ROWS[name])
    session = connect(cfg)
    # the inputs and target tables, before any clock
    for dataset in datasets:
        for kind in sorted({INPUT_OF[c] for c in contenders}):
            ensure_input(cfg, dataset, kind)
        ensure_target(session, dataset)
    if flat:
        ensure_input(cfg, "synthetic_4m", "csv")
        ensure_target(session, "synthetic_4m")
    reps: dict[tuple[str, str], list[Run]] = {}
    for dataset in datasets:
        for _ in range(repeat):
            for contender in contenders:
                r, data = one_run(session, contender, dataset)
                print(_line(r, data), file=sys.stderr)
                reps.setdefault((dataset, contender), []).append((r, data))
    void = any("error" in d for runs in reps.values() for _, d in runs)
    print(results_table(reps, [(d, c) for d in datasets for c in contenders]))
    print()
    for line in ratio_lines(reps, datasets):
        print(line)
    if flat:
        text, _ = flatness(session, repeat)
        print(text)
        void = void or text.startswith("flatness:")  # a failed run; a growing peak is a finding
    session.cluster.shutdown()
    print(f"\n(machine: {os.cpu_count()} cores; node and client share them; {dt.date.today()})")
    if void:
        raise SystemExit("some runs failed or loaded a wrong row count (see the table)")


if __name__ == "__main__":
    main()
