"""Shared benchmark plumbing: the node, measuring one contender in its own process, counting rows, DSBulk.

Each contender runs in a fresh Python process (``python benchmarks/run.py --child NAME --dataset D``) so that
its peak RSS is its own: VmHWM of that process; for an external tool (cqlsh, DSBulk's JVM) the largest of
its processes; the workers of a ``distributed.LocalCluster`` are reported apart. Inside the child a
:class:`Clock` measures, around the timed part only: wall seconds, the client's CPU-seconds (this process,
plus the tools it waited for, plus the LocalCluster workers), and the Cassandra node's CPU-seconds
(``/proc/<pid>/stat``; shows when the node, not the client, is the ceiling).

Only the driver and the public ``cassandra_frames`` API are used here, so the harness does not break when
the library's internals change.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

KEYSPACE = "bench"
CACHE = Path(os.environ.get("CF_BENCH_DIR", "/tmp/cf-bench"))  # input files of the load contenders
DSBULK = Path(os.environ.get("DSBULK_SH", str(REPO / "benchmarks" / "dsbulk" / "dsbulk.sh")))
RESULT_PREFIX = "BENCH-RESULT "  # a child's result line on stdout


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the node -----------------------------------------------------------------------------------------------

_node: tuple[Any, int | None] | None = None


def node() -> tuple[Any, int | None]:
    """(ConnectionConfig of the benchmark node, its pid or None for an external cluster).

    ``CASSANDRA_CONTACT_POINTS`` names an external cluster (node CPU is then not measured); otherwise the
    local node of ``cassandra-frames local`` is reused when running, or started
    (``$CASSANDRA_FRAMES_DIR``, default ``./.cassandra`` of the repository)."""
    global _node
    if _node is None:
        import cassandra_frames as cf

        if os.environ.get("CASSANDRA_CONTACT_POINTS"):
            _node = cf.ConnectionConfig.from_env(), None
        else:
            directory = Path(os.environ.get("CASSANDRA_FRAMES_DIR") or REPO / ".cassandra")
            cluster = cf.local.start(directory, log=log)
            pid = int((cluster.node_dir(1) / "cassandra.pid").read_text())
            _node = cluster.connection_config(), pid
    return _node


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU-seconds of process ``pid`` so far (0 when there is no pid)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(pid: int | None, idle_cores: float = 0.25, window: float = 0.5, limit: float = 90.0) -> float:
    """Wait until the node is idle — under ``idle_cores`` of CPU over ``window`` seconds — but at most
    ``limit`` seconds (the flushes and compactions a write leaves would otherwise slow the next
    contender). Returns the seconds waited."""
    t0 = time.perf_counter()
    while pid is not None and time.perf_counter() - t0 < limit:
        before = cpu_seconds(pid)
        time.sleep(window)
        if cpu_seconds(pid) - before < idle_cores * window:
            break
    return time.perf_counter() - t0


def peak_rss_mb() -> float:
    """This process's peak RSS in MiB (``VmHWM`` of /proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def children_cpu() -> float:
    """CPU-seconds of this process's waited-for children and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def children_peak_rss_mb() -> float:
    """The largest peak RSS among this process's waited-for children and their descendants, in MiB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


class Clock:
    """Wall time, client CPU and node CPU around a block.

    ``workers`` (optional) returns the summed CPU-seconds of processes that are not this process's
    children in the ``getrusage`` sense until they exit (a LocalCluster's workers)."""

    def __init__(self, workers: Callable[[], float] | None = None) -> None:
        self.workers = workers
        self.seconds = self.client_cpu_s = self.node_cpu_s = 0.0

    def __enter__(self) -> Clock:
        _, self._pid = node()
        self._w0 = self.workers() if self.workers else 0.0
        self._node0 = cpu_seconds(self._pid)
        self._cpu0 = time.process_time() + children_cpu()
        self._t0 = time.perf_counter()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.seconds = time.perf_counter() - self._t0
        self.client_cpu_s = time.process_time() + children_cpu() - self._cpu0
        self.node_cpu_s = cpu_seconds(self._pid) - self._node0
        if self.workers and kind is None:
            self.client_cpu_s += self.workers() - self._w0

    def record(self, rows: int, **extra: Any) -> dict[str, Any]:
        """The child's result: what it moved and what it cost (``extra`` may override the peak RSS)."""
        out = {
            "rows": int(rows),
            "seconds": self.seconds,
            "client_cpu_s": self.client_cpu_s,
            "node_cpu_s": self.node_cpu_s if self._pid is not None else None,
            "peak_rss_mb": peak_rss_mb(),
        }
        out.update(extra)
        return out


def emit(result: dict[str, Any]) -> None:
    """Print a child's result as the line the harness looks for."""
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def parse_result(stdout: str) -> dict[str, Any] | None:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return dict(json.loads(line[len(RESULT_PREFIX) :]))
    return None


# --- the driver (for the harness and the driver-level contenders) -------------------------------------------


def driver_session(config: Any, **cluster_args: Any) -> Any:
    """A plain driver session to the benchmark node (no cassandra_frames code in between)."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster
    from cassandra.policies import RoundRobinPolicy

    endpoints = config.endpoints()
    auth = None
    if config.username:
        auth = PlainTextAuthProvider(config.username, config.password() or "")
    cluster = Cluster(
        contact_points=[host for host, _ in endpoints],
        port=endpoints[0][1],
        auth_provider=auth,
        load_balancing_policy=RoundRobinPolicy(),
        protocol_version=config.protocol_version or 5,
        **cluster_args,
    )
    return cluster.connect()


def partition_key(session: Any, table: str) -> list[str]:
    """The partition key columns of ``bench.<table>``, in order."""
    rows = session.execute(
        "SELECT column_name, kind, position FROM system_schema.columns "
        "WHERE keyspace_name = %s AND table_name = %s",
        (KEYSPACE, table),
    )
    keys = sorted((r[2], r[0]) for r in rows if r[1] == "partition_key")  # any row factory
    if not keys:
        raise SystemExit(f"no table {KEYSPACE}.{table}")
    return [name for _, name in keys]


def token_bounds(slices: int) -> list[tuple[int, int]]:
    """``slices`` consecutive (start exclusive, end inclusive] Murmur3 token ranges covering the ring
    (Murmur3 never yields the minimum token, so the first start loses nothing)."""
    lo, hi = -(2**63), 2**63 - 1
    cuts = [lo + (hi - lo) * i // slices for i in range(slices)] + [hi]
    return list(itertools.pairwise(cuts))


def count_rows(session: Any, table: str, slices: int = 64) -> int:
    """``count(*)`` of ``bench.<table>`` as ``slices`` token-range counts (one count of millions of rows
    times out)."""
    from cassandra.concurrent import execute_concurrent_with_args

    key = ", ".join(f'"{c}"' for c in partition_key(session, table))
    stmt = session.prepare(
        f"SELECT count(*) FROM {KEYSPACE}.{table} WHERE token({key}) > ? AND token({key}) <= ?"
    )
    stmt.timeout = 120
    results = execute_concurrent_with_args(
        session, stmt, token_bounds(slices), concurrency=8, raise_on_first_error=True
    )
    return sum(int(r.result_or_exc.one()[0]) for r in results)


# --- external tools -----------------------------------------------------------------------------------------

_SUMMARY = re.compile(r"^\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|\s*([\d,]+)\s*\|")


def dsbulk_summary(text: str) -> tuple[int, int, float] | None:
    """(total, failed, rows/s) of DSBulk's last summary table (``total | failed | rows/s | p50ms …``; it
    prints one every few seconds when its output is not a terminal, the final one last)."""
    found = None
    for line in text.splitlines():
        m = _SUMMARY.match(line)
        if m:
            total, failed, rate = (int(g.replace(",", "")) for g in m.groups())
            found = total, failed, float(rate)
    return found


def dsbulk_args(op: str, table: str, logs: Path) -> list[str]:
    """The command line of ``dsbulk.sh <op>`` against the benchmark node."""
    config, _ = node()
    host, port = config.endpoints()[0]
    args = [str(DSBULK), op, "-k", KEYSPACE, "-t", table, "-h", host, "-port", str(port)]
    args += ["-logDir", str(logs)]
    if config.username:
        args += ["-u", config.username, "-p", config.password() or ""]
    # its driver (Java driver 4.17) gives up on all schema metadata when any keyspace of the cluster has a
    # vector<…> column ("Could not parse type name vector<float, 3>"): read only the bench keyspace's
    args += ["--driver.advanced.metadata.schema.refreshed-keyspaces", f'["{KEYSPACE}"]']
    return args


def cqlsh_args() -> list[str]:
    config, _ = node()
    host, port = config.endpoints()[0]
    args = [str(Path(sys.executable).with_name("cqlsh")), host, str(port)]
    if config.username:
        args += ["-u", config.username, "-p", config.password() or ""]
    return args


def csv_rows(files: list[Path], header: bool) -> int:
    """Data lines of CSV files (minus each file's first line when ``header``); no data set here holds a
    line break inside a value."""
    rows = 0
    for path in files:
        with path.open("rb") as fh:
            if header:
                fh.readline()
            rows += sum(1 for _ in fh)
    return rows


def parquet_rows(files: list[Path]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def run_tool(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], Clock]:
    """Run an external tool (cqlsh, DSBulk) under a :class:`Clock`; its output is captured."""
    with Clock() as clock:
        proc = subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, timeout=7200)
    return proc, clock


def tool_error(proc: subprocess.CompletedProcess[str], what: str) -> str:
    """A one-line error of a failed tool (its output's tail goes to stderr)."""
    tail = (proc.stdout[-1500:] + proc.stderr[-1500:]).strip()
    sys.stderr.write(tail + "\n")
    return f"{what} failed (exit {proc.returncode}): {tail.splitlines()[-1] if tail else ''}"[:300]


# --- a 2-worker distributed.LocalCluster --------------------------------------------------------------------


def warm_imports() -> None:
    """Import what a contender's tasks use (run on each worker before the clock)."""
    import cassandra.cluster  # noqa: F401
    import dask.dataframe  # noqa: F401
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401

    import cassandra_frames  # noqa: F401


class DaskCluster:
    """``distributed.LocalCluster`` of 2 worker processes × 1 thread with a client (the active scheduler
    while open), started before any clock. ``cpu()`` sums the workers' CPU-seconds; ``peak_rss_mb()`` is
    the largest worker's peak RSS."""

    def __enter__(self) -> DaskCluster:
        from distributed import Client, LocalCluster

        self.cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        )
        self.client = Client(self.cluster)
        self.client.run(warm_imports)  # as warm as the client process when its clock starts
        return self

    def cpu(self) -> float:
        return float(sum(self.client.run(time.process_time).values()))

    def peak_rss_mb(self) -> float:
        return float(max(self.client.run(peak_rss_mb).values()))

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.cluster.close()
