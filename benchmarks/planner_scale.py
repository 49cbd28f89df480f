"""Planner at scale, simulated: a 1,000-node ring with 256 vnodes each, planned and checkpointed.

    .venv/bin/python benchmarks/planner_scale.py               # full size: 1,000 nodes x 256 vnodes
    .venv/bin/python benchmarks/planner_scale.py --nodes 100   # a smaller ring of the same shape
    .venv/bin/python benchmarks/planner_scale.py --repeat 5    # more repetitions (median, min, max)

No server. The ring is synthetic: every node draws 256 random Murmur3 tokens; nodes sit in two data centres
of three racks each, and each token range's replicas are placed as NetworkTopologyStrategy places them
(walk the ring clockwise from the range's end token, take the first nodes of each data centre on distinct
racks, three per data centre). The planning is the library's own code path from the ring on:
``tokens.ring_ranges`` (what ``engine.catalog.ring`` builds from the driver's token map), then
``read.build_plan`` (what ``plan_read`` calls: it sizes, splits and groups the ranges into partitions of
``ReadUnit`` s), then an export checkpoint of that plan (the units exactly as ``export.prepare_export``
writes them, with every unit completed: the largest a checkpoint gets) saved and loaded with
``checkpoint.Checkpoint``.

Scenarios (the table's size and the partition size decide how many partitions the plan has):

- ``read 10 TB``: ``read_cassandra``'s 64 MiB partitions, about 150,000 of them, fewer than the ring's
  replica-set runs: ranges stay whole and are grouped, a partition reading a few adjacent ranges;
- ``read 20 TB``: about 300,000 partitions, just more than the runs: ranges are cut where needed;
- ``export 10 TB``: an export's 16 MiB units, about 600,000 of them: ranges are cut, partitions never mix
  replica sets;
- ``npartitions=2000``: a fixed number of partitions, e.g. a few per Dask worker thread of a large cluster.

Printed per scenario: wall time (best, median and worst of ``--repeat``, without tracemalloc), the Python
heap's peak during planning (tracemalloc, one more run), the process's RSS growth, and for the export
checkpoint of the plan its size, save and load times — with only the plan (as an export starts), with every
unit completed (file, rows, bytes), and with every unit completed with the latency histogram that an
export records per unit today. ``--resume`` also times a resume's re-planning, ``--driver`` the driver's
own replica map of the ring (checking the simulation's replicas against it). Timings on a shared machine
vary by 2x and more; repeat, and read the range.
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import functools
import gc
import json
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cassandra_frames.checkpoint import Checkpoint  # noqa: E402
from cassandra_frames.config import ConnectionConfig  # noqa: E402
from cassandra_frames.export import _units_from_json, _units_json  # noqa: E402  (the checkpoint's units)
from cassandra_frames.export_options import ExportOptions  # noqa: E402
from cassandra_frames.export_unit import UnitResult  # noqa: E402
from cassandra_frames.latency import LatencyHistogram  # noqa: E402
from cassandra_frames.options import ReadOptions  # noqa: E402
from cassandra_frames.read import ReadPlan, build_plan  # noqa: E402
from cassandra_frames.schema import ColumnInfo, TableInfo  # noqa: E402
from cassandra_frames.tokens import MURMUR3, ring_ranges  # noqa: E402

TB = 10**12
MIB = 2**20
TABLE = TableInfo(
    "ks",
    "events",
    (
        ColumnInfo("id", "uuid", "partition_key"),
        ColumnInfo("seq", "int", "clustering"),
        ColumnInfo("body", "text"),
        ColumnInfo("value", "double"),
        ColumnInfo("at", "timestamp"),
    ),
)
CONFIG = ConnectionConfig(("10.0.0.1",))


@dataclasses.dataclass(frozen=True)
class SimRing:
    """A simulated ring: every token, its owner, and the replicas of the range that ends at each token."""

    tokens: list[int]  # sorted, distinct
    owner: dict[int, str]  # token -> node address
    replicas: dict[int, tuple[str, ...]]  # token -> replicas of the range ending there (NTS order)
    dc_of: dict[str, str]
    rack_of: dict[str, str]
    rf: dict[str, int]


def simulate_ring(
    nodes: int = 1000,
    vnodes: int = 256,
    *,
    dcs: int = 2,
    racks: int = 3,
    rf: int = 3,
    seed: int = 0,
) -> SimRing:
    """A ring of ``nodes`` nodes with ``vnodes`` random tokens each, replicas placed as by NTS.

    Nodes are spread round-robin over ``dcs`` data centres and, within each, over ``racks`` racks; the
    keyspace has replication factor ``rf`` in every data centre.
    """
    rnd = random.Random(seed)
    addresses = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(1, nodes + 1)]
    dc_of = {a: f"dc{i % dcs + 1}" for i, a in enumerate(addresses)}
    rack_of = {a: f"rack{i // dcs % racks + 1}" for i, a in enumerate(addresses)}
    owner: dict[int, str] = {}
    lo, hi = MURMUR3.min_token + 1, MURMUR3.max_token
    for a in addresses:
        for _ in range(vnodes):
            t = rnd.randint(lo, hi)
            while t in owner:
                t = rnd.randint(lo, hi)
            owner[t] = a
    tokens = sorted(owner)
    names = sorted(set(dc_of.values()))
    # NTS walks the whole ring and keeps each DC's nodes: the same as walking that DC's own tokens from the
    # first one at or after the range's end token
    per_dc: dict[str, list[tuple[str, ...]]] = {}
    dc_tokens: dict[str, list[int]] = {}
    for dc in names:
        ring = [t for t in tokens if dc_of[owner[t]] == dc]
        dc_tokens[dc] = ring
        dc_racks = len({rack_of[a] for a in dc_of if dc_of[a] == dc})
        per_dc[dc] = [_nts_walk(ring, owner, rack_of, dc_racks, j, rf) for j in range(len(ring))]
    replicas: dict[int, tuple[str, ...]] = {}
    for t in tokens:
        got: tuple[str, ...] = ()
        for dc in names:
            j = bisect.bisect_left(dc_tokens[dc], t) % len(dc_tokens[dc])
            got += per_dc[dc][j]
        replicas[t] = got
    return SimRing(tokens, owner, replicas, dc_of, rack_of, dict.fromkeys(names, rf))


def _nts_walk(
    ring: Sequence[int], owner: dict[int, str], rack_of: dict[str, str], racks: int, j: int, rf: int
) -> tuple[str, ...]:
    """NTS in one DC: from ``ring[j]`` clockwise, distinct nodes on distinct racks first, then the skipped."""
    picked: list[str] = []
    racks_seen: set[str] = set()
    skipped: list[str] = []
    n = len(ring)
    for step in range(n):
        node = owner[ring[(j + step) % n]]
        if node in picked or node in skipped:
            continue
        if rack_of[node] not in racks_seen:
            picked.append(node)
            racks_seen.add(rack_of[node])
            if len(racks_seen) == racks:  # every rack has one: fill from the skipped, in order
                while len(picked) < rf and skipped:
                    picked.append(skipped.pop(0))
        else:
            skipped.append(node)
        if len(picked) >= rf:
            break
    return tuple(picked[:rf])


def nts_replicas(sim: SimRing, token: int) -> set[str]:
    """Replicas of the range ending at ``token`` by walking the whole ring (the slow, obvious oracle)."""
    tokens = sim.tokens
    i = bisect.bisect_left(tokens, token) % len(tokens)
    out: set[str] = set()
    for dc, rf in sim.rf.items():
        ring = [t for t in tokens[i:] + tokens[:i] if sim.dc_of[sim.owner[t]] == dc]
        racks = len({sim.rack_of[a] for a in sim.dc_of if sim.dc_of[a] == dc})
        out.update(_nts_walk(ring, sim.owner, sim.rack_of, racks, 0, rf))
    return out


def plan(sim: SimRing, options: ReadOptions, table_bytes: float | None = None) -> ReadPlan:
    """The library's plan of a read of the simulated ring: ``ring_ranges`` then ``build_plan``."""
    ranges = ring_ranges(sim.tokens, sim.replicas, MURMUR3)
    return build_plan(
        TABLE,
        MURMUR3,
        ranges,
        options,
        connection=CONFIG,
        timeout=30.0,
        min_partitions=2,
        table_bytes=lambda _row_bytes: table_bytes,
    )


def latency_histograms(count: int = 64, pages: int = 134, seed: int = 0) -> list[dict[str, int]]:
    """``count`` latency histograms (their checkpoint form) of ``pages`` page requests each.

    134 pages of 5,000 rows is a 64 MiB unit of 100-byte rows; latencies are log-normal around 18 ms
    (spread x1.8), which fills about 45 of the histogram's 5 % buckets: what a unit's entry carries.
    """
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        h = LatencyHistogram()
        for _ in range(pages):
            h.record(rnd.lognormvariate(-4, 0.6))
        out.append(h.to_json())
    return out


def checkpoint_of(path: str, plan: ReadPlan, *, completed: bool = True, latency: bool = True) -> Checkpoint:
    """The export checkpoint of ``plan``, its units exactly as ``prepare_export`` writes them.

    With ``completed``, every unit is recorded as done (the largest the file gets), each entry what
    ``run_unit`` returns for it (file, rows, bytes and, with ``latency``, its latency histogram).
    """
    identity = {"table": "ks.events", "url": "s3://bucket/exports/events", "format": "parquet", "schema": []}
    ckpt = Checkpoint.new(
        path,
        kind="export",
        operation_id="20260101-000000-00000000",
        identity=identity,
        units=_units_json(plan.partitions),
    )
    if completed:
        histograms = latency_histograms() if latency else [{}]
        for i in range(len(plan.partitions)):
            result = UnitResult(
                index=i,
                file=f"s3://bucket/exports/events/part-{i:05d}.parquet",
                rows=600_000 + i % 100_000,
                bytes=20_000_000 + i,
                latency=histograms[i % len(histograms)],
            )
            ckpt.unit_done(i, result.record())
    return ckpt


def checkpoint_figures(path: str, plan: ReadPlan, repeat: int, **keywords: bool) -> dict[str, Any]:
    """Size, save and load times of :func:`checkpoint_of` ``plan``."""
    ckpt = checkpoint_of(path, plan, **keywords)
    save = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        ckpt.save()
        save.append(time.perf_counter() - t0)
    size = Path(path).stat().st_size
    expected = len(ckpt.data["completed"])
    del ckpt
    load, peak, _, back = measure(lambda: Checkpoint.load(path, kind="export").completed, repeat)
    assert len(back) == expected
    return {"mib": size / MIB, "save_seconds": save, "load_seconds": load, "load_peak_mib": peak}


def driver_replica_map(sim: SimRing) -> tuple[float, int]:
    """Seconds the Cassandra driver takes to build its NTS replica map of ``sim`` (what it does for each
    keyspace when it connects, before ``engine.catalog.ring`` can ask it anything), and how many of 1,000
    sampled tokens get other replicas than the simulation's (0: the simulation places them as the driver)."""
    from cassandra.metadata import Murmur3Token, NetworkTopologyStrategy
    from cassandra.policies import SimpleConvictionPolicy
    from cassandra.pool import Host

    hosts = {}
    for address in sorted(set(sim.owner.values())):
        hosts[address] = host = Host(address, SimpleConvictionPolicy)
        host.set_location_info(sim.dc_of[address], sim.rack_of[address])
    ring = [Murmur3Token(t) for t in sim.tokens]
    owners = {token: hosts[sim.owner[token.value]] for token in ring}
    strategy = NetworkTopologyStrategy({dc: str(rf) for dc, rf in sim.rf.items()})
    t0 = time.perf_counter()
    replica_map = strategy.make_token_replica_map(owners, ring)
    seconds = time.perf_counter() - t0
    sample = random.Random(0).sample(ring, min(1000, len(ring)))
    wrong = sum({h.address for h in replica_map[t]} != set(sim.replicas[t.value]) for t in sample)
    return seconds, wrong


def scenarios(scale: float = 1.0) -> dict[str, tuple[ReadOptions, float | None]]:
    """Name → (options, table bytes) of :func:`plan`; ``scale`` multiplies the table sizes (a ring of a
    tenth of the nodes with a tenth of the data has the same ranges per partition)."""
    export = ExportOptions(format="parquet").read_options()
    return {
        "read 10 TB": (ReadOptions(), 10 * TB * scale),
        "read 20 TB": (ReadOptions(), 20 * TB * scale),
        "export 10 TB": (export, 10 * TB * scale),
        "npartitions=2000": (ReadOptions(npartitions=max(1, round(2000 * scale))), None),
    }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn: Callable[[], Any], repeat: int) -> tuple[list[float], float, float, Any]:
    """Seconds of each of ``repeat`` calls, tracemalloc peak MiB and RSS growth MiB of one more call."""
    times = []
    result = None
    for _ in range(repeat):
        result = None
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    result = None
    gc.collect()
    rss0 = _rss_mb()
    tracemalloc.start()
    result = fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = _rss_mb() - rss0
    return times, peak / MIB, rss, result


def _spread(times: list[float]) -> str:
    return f"{min(times):.2f} s (median {statistics.median(times):.2f}, max {max(times):.2f})"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--vnodes", type=int, default=256)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument(
        "--driver", action="store_true", help="also time the driver's replica map (and check the simulation)"
    )
    ap.add_argument(
        "--resume", action="store_true", help="also time a resume's re-planning (export._units_from_json)"
    )
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    sim = simulate_ring(args.nodes, args.vnodes)
    print(
        f"ring: {args.nodes} nodes x {args.vnodes} vnodes = {len(sim.tokens):,} tokens, 2 DCs x RF 3 "
        f"(simulated in {time.perf_counter() - t0:.1f} s; Python {sys.version.split()[0]})"
    )
    figures: dict[str, Any] = {"nodes": args.nodes, "vnodes": args.vnodes, "tokens": len(sim.tokens)}
    if args.driver:
        seconds, wrong = driver_replica_map(sim)
        figures["driver_replica_map_seconds"] = seconds
        print(
            f"the driver's NTS replica map of the ring: {seconds:.1f} s (one keyspace); "
            f"{wrong} of 1,000 sampled tokens with other replicas than the simulation's"
        )
    ranges_times, ranges_peak, ranges_rss, ranges = measure(
        lambda: ring_ranges(sim.tokens, sim.replicas, MURMUR3), args.repeat
    )
    print(
        f"ring_ranges: {len(ranges):,} ranges in {_spread(ranges_times)}; "
        f"peak {ranges_peak:.0f} MiB traced, RSS +{ranges_rss:.0f} MiB"
    )
    figures["ring_ranges"] = {"seconds": ranges_times, "peak_mib": ranges_peak, "rss_mib": ranges_rss}
    del ranges
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "ckpt.json")
        for name, scenario in scenarios().items():
            times, peak, rss, result = measure(functools.partial(plan, sim, *scenario), args.repeat)
            parts = result.partitions
            pieces = sum(len(p) for p in parts)
            print(
                f"\n{name}: {len(parts):,} partitions, {pieces:,} token ranges\n"
                f"  plan (ring_ranges + build_plan): {_spread(times)}; "
                f"peak {peak:.0f} MiB traced, RSS +{rss:.0f} MiB"
            )
            entry: dict[str, Any] = {
                "partitions": len(parts),
                "ranges": pieces,
                "plan_seconds": times,
                "plan_peak_mib": peak,
                "plan_rss_mib": rss,
            }
            for label, kw in (
                ("plan only", {"completed": False}),
                ("all done", {"latency": False}),
                ("all done + latency", {}),
            ):
                entry[f"checkpoint {label}"] = got = checkpoint_figures(path, result, args.repeat, **kw)
                print(
                    f"  checkpoint, {label}: {got['mib']:.1f} MiB, save {_spread(got['save_seconds'])}, "
                    f"load {_spread(got['load_seconds'])} (peak {got['load_peak_mib']:.0f} MiB traced)"
                )
            if args.resume:
                ranges = ring_ranges(sim.tokens, sim.replicas, MURMUR3)
                saved = json.loads(Path(path).read_text())["units"]
                # 200 ranges spread over the ring (the lookup scans the ring linearly)
                sample = [{"ranges": u["ranges"][:1]} for u in saved[:: max(1, len(saved) // 200)]]
                t1 = time.perf_counter()
                _units_from_json(sample, result, ranges)
                per_range = (time.perf_counter() - t1) / sum(len(u["ranges"]) for u in sample)
                entry["resume_seconds_per_range"] = per_range
                print(
                    f"  resume (export._units_from_json): {per_range * 1e3:.2f} ms per range, "
                    f"about {per_range * pieces:,.0f} s for the whole plan"
                )
            figures[name] = entry
            del result, parts
    print(f"\nprocess peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
