"""The planner at scale, simulated, no server: a ring of 50 nodes x 256 vnodes (12,800 token ranges) in two
data centres with RF 3 in each, planned into partitions and checkpointed by the library's own code path.

It is the ring of issue 13 (1,000 nodes x 256 vnodes, 256,000 ranges) at a twentieth of its size, with a
twentieth of the data, so the plans have the same shape: as many ranges per partition, and the same paths
through the planner (ranges grouped, ranges cut, a fixed number of partitions). The full size takes too
long for the unit suite: ``benchmarks/planner_scale.py`` runs it and prints its times; it is loaded here
for its simulation.

Asserted: the plan is right (every token in exactly one range, in ring order, partitions non-empty and as
many as asked, each range read from the replicas NetworkTopologyStrategy gives its tokens, no partition
mixing replica sets when it need not), and the resources it takes, scaled to the full ring, stay within
the issue's bounds: planning under 500 MB of Python heap, and a checkpoint of the ring (one unit per
range, every unit completed) under 50 MB. Times are printed (``pytest -s``), never asserted.
"""

from __future__ import annotations

import bisect
import gc
import importlib.util
import itertools
import json
import math
import random
import sys
import time
import tracemalloc
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cassandra_frames.checkpoint import Checkpoint
from cassandra_frames.tokens import MURMUR3, TokenRange, ranges_cover_ring

ROOT = Path(__file__).resolve().parents[2]
NODES, VNODES = 50, 256
FULL_RANGES = 1000 * 256  # the ring the bounds are for
SCALE = NODES / 1000  # of the ring, and of the data: same ranges per partition as the full ring
MB = 10**6
PLAN_BOUND = 500 * MB  # Python heap while planning the full ring
CHECKPOINT_BOUND = 50 * MB  # its checkpoint file


def _bench() -> types.ModuleType:
    path = ROOT / "benchmarks" / "planner_scale.py"
    spec = importlib.util.spec_from_file_location("planner_scale", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("planner_scale", module)  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


bench = _bench()


@pytest.fixture(scope="module")
def sim() -> Any:
    return bench.simulate_ring(NODES, VNODES, dcs=2, racks=3, rf=3, seed=13)


def _traced(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """fn's result, its wall time (slowed down by tracing) and the peak of the Python heap it took."""
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, seconds, peak


def _nts(sim: Any, token: int) -> set[str]:
    """The replicas of the range ending at ``token``, by NetworkTopologyStrategy's own walk (no shortcut):
    clockwise over the whole ring from the first token at or after ``token``, in each data centre the
    first three nodes on distinct racks (RF 3 = its rack count, so no rack repeats)."""
    tokens = sim.tokens
    start = bisect.bisect_left(tokens, token) % len(tokens)
    picked: dict[str, list[str]] = {dc: [] for dc in sim.rf}
    racks: dict[str, set[str]] = {dc: set() for dc in sim.rf}
    for t in itertools.chain(tokens[start:], tokens[:start]):
        node = sim.owner[t]
        dc, rack = sim.dc_of[node], sim.rack_of[node]
        if len(picked[dc]) < sim.rf[dc] and node not in picked[dc] and rack not in racks[dc]:
            picked[dc].append(node)
            racks[dc].add(rack)
            if all(len(picked[d]) == sim.rf[d] for d in sim.rf):
                break
    return {node for nodes in picked.values() for node in nodes}


def test_the_simulated_ring_places_replicas_as_network_topology_strategy(sim: Any) -> None:
    assert len(sim.tokens) == NODES * VNODES
    assert len(set(sim.owner.values())) == NODES
    rnd = random.Random(0)
    for token in rnd.sample(sim.tokens, 300):
        replicas = sim.replicas[token]
        assert len(replicas) == len(set(replicas)) == 6
        assert set(replicas) == _nts(sim, token)
        for dc in ("dc1", "dc2"):
            in_dc = [r for r in replicas if sim.dc_of[r] == dc]
            assert len(in_dc) == 3
            assert len({sim.rack_of[r] for r in in_dc}) == 3


def _ring_replicas(sim: Any, end: int) -> tuple[str, ...]:
    """Replicas of the ring range holding token ``end``: those of the first ring token at or after it."""
    i = bisect.bisect_left(sim.tokens, end)
    replicas: tuple[str, ...] = sim.replicas[sim.tokens[i % len(sim.tokens)]]
    return replicas


def _check_plan(sim: Any, partitions: list[Any], expected: int) -> list[TokenRange]:
    assert len(partitions) == expected
    assert all(partitions), "an empty partition"
    ranges = []
    for units in partitions:
        for unit in units:
            r = unit.token_range
            assert unit.params == (r.start, r.end)
            assert unit.replicas == r.replicas
            ranges.append(r)
    assert ranges_cover_ring(ranges, MURMUR3)
    assert all(a.end == b.start for a, b in itertools.pairwise(ranges)), "not in ring order"
    for r in ranges:  # each piece lies in one ring range and reads from that range's replicas
        assert set(r.replicas) == set(_ring_replicas(sim, r.end))
        assert bisect.bisect_left(sim.tokens, r.start + 1) == bisect.bisect_left(sim.tokens, r.end)
    runs = 1 + sum(set(a.replicas) != set(b.replicas) for a, b in itertools.pairwise(ranges))
    mixed = sum(
        set(a.replicas) != set(b.replicas) for units in partitions for a, b in itertools.pairwise(units)
    )
    assert mixed == max(0, runs - len(partitions))  # fewest replica-set changes inside partitions
    return ranges


@pytest.mark.parametrize("name", ["read 10 TB", "read 20 TB", "npartitions=2000"])
def test_a_large_ring_plans_right_within_the_memory_and_checkpoint_bounds(
    sim: Any, name: str, tmp_path: Path
) -> None:
    """Ranges grouped (fewer partitions than replica-set runs), ranges cut (more partitions than runs), and
    a fixed, small number of partitions. (The benchmark adds an export's 16 MiB units: more of the same.)"""
    options, table_bytes = bench.scenarios(SCALE)[name]
    plan, seconds, peak = _traced(lambda: bench.plan(sim, options, table_bytes))
    if options.npartitions is not None:
        expected = options.npartitions
    else:
        expected = math.ceil(table_bytes / (options.split_size_mb * 2**20))
    ranges = _check_plan(sim, plan.partitions, expected)
    full = FULL_RANGES / len(sim.tokens)  # everything grows with the ring at a fixed shape
    assert peak * full < PLAN_BOUND, f"planning the full ring would take {peak * full / MB:.0f} MB"

    path = str(tmp_path / "checkpoint.json")
    ckpt = bench.checkpoint_of(path, plan, latency=False)
    t0 = time.perf_counter()
    ckpt.save()
    save = time.perf_counter() - t0
    size = Path(path).stat().st_size
    # a checkpoint grows with its units and their ranges: one unit per range of the full ring stays in bounds
    per_range = size / max(len(plan.partitions), len(ranges))
    assert per_range * FULL_RANGES < CHECKPOINT_BOUND, f"{per_range:.0f} bytes per unit or range"
    t0 = time.perf_counter()
    back = Checkpoint.load(path, kind="export")
    load = time.perf_counter() - t0
    assert back.data["units"] == bench._units_json(plan.partitions)
    assert len(back.completed) == len(plan.partitions)
    saved = [TokenRange(s, e) for unit in back.data["units"] for s, e in unit["ranges"]]
    assert [(r.start, r.end) for r in saved] == [(r.start, r.end) for r in ranges]
    print(
        f"\n{name}: {len(plan.partitions):,} partitions, {len(ranges):,} ranges from {len(sim.tokens):,} "
        f"tokens: plan {seconds:.2f} s traced, peak {peak / MB:.0f} MB; checkpoint {size / MB:.1f} MB, "
        f"save {save:.2f} s, load {load:.2f} s (x{full:.0f} for the full ring)"
    )


def test_a_checkpoint_is_compact_json_that_reads_back_equal(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    units = [{"ranges": [[-(2**63) + i, -(2**63) + i + 1]]} for i in range(1000)]
    ckpt = Checkpoint.new(str(path), kind="export", operation_id="op", identity={"t": (1, "é")}, units=units)
    ckpt.unit_done(7, {"file": "f", "rows": 1, "bytes": 2, "latency": {"10": 3}})
    ckpt.save()
    text = path.read_text()
    assert json.loads(text) == json.loads(json.dumps(ckpt.data))
    assert text.count("\n") == len(ckpt.data) + 2  # a line per top-level key: no indentation of units
    assert Checkpoint.load(str(path), kind="export").completed == {7: ckpt.data["completed"]["7"]}
    assert gc.isenabled()  # the collector, paused while the file is parsed, runs again


def test_a_slow_checkpoint_write_is_repeated_less_often(tmp_path: Path) -> None:
    ckpt = Checkpoint.new(str(tmp_path / "c.json"), kind="export", operation_id="op", identity={}, units=[])
    ckpt.save()
    ckpt._save_seconds = 10.0  # as if the last write took 10 s: the next waits 20 times as long
    ckpt.unit_done(1, {"file": "x", "rows": 1, "bytes": 1})
    ckpt._saved -= 100
    ckpt.save_soon()
    assert json.loads((tmp_path / "c.json").read_text())["completed"] == {}
    ckpt._saved -= 150
    ckpt.save_soon()
    assert json.loads((tmp_path / "c.json").read_text())["completed"] == {
        "1": {"file": "x", "rows": 1, "bytes": 1}
    }
