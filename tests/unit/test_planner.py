from __future__ import annotations

import itertools
import math
import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassandra_frames.errors import PlanError
from cassandra_frames.planner import group_ranges, plan_partitions, probe_ranges, sample_ranges, split_ranges
from cassandra_frames.tokens import (
    MURMUR3,
    RANDOM,
    Partitioner,
    TokenRange,
    clip_ranges,
    partitioner_for,
    ranges_cover_ring,
    ring_ranges,
    split_range,
)

MIN, MAX = MURMUR3.min_token, MURMUR3.max_token
FAST = settings(max_examples=60, deadline=None)


# --- helpers ---


def width(ranges: list[TokenRange]) -> int:
    return sum(r.end - r.start for r in ranges)


def assert_chain(ranges: list[TokenRange], start: int, end: int) -> None:
    """Independent of ranges_cover_ring: non-empty ranges, each starting where the previous ended."""
    assert ranges, "no ranges"
    assert ranges[0].start == start
    assert ranges[-1].end == end
    for r in ranges:
        assert r.start < r.end, r
    for a, b in itertools.pairwise(ranges):
        assert a.end == b.start, (a, b)


def run_count(ranges: list[TokenRange]) -> int:
    return 1 + sum(set(a.replicas) != set(b.replicas) for a, b in itertools.pairwise(ranges))


def runs_of(items: list[TokenRange]) -> list[list[TokenRange]]:
    out: list[list[TokenRange]] = []
    for r in items:
        if out and set(out[-1][-1].replicas) == set(r.replicas):
            out[-1].append(r)
        else:
            out.append([r])
    return out


def min_max_partition(widths: list[int], k: int) -> int:
    """Oracle: least possible widest group when ``widths`` are cut into ``k`` contiguous non-empty groups."""
    n = len(widths)
    pre = [0, *itertools.accumulate(widths)]
    best = {(0, 0): 0}
    for g in range(1, k + 1):
        for i in range(g, n + 1):
            cands = [max(best[(j, g - 1)], pre[i] - pre[j]) for j in range(g - 1, i) if (j, g - 1) in best]
            best[(i, g)] = min(cands)
    return best[(n, k)]


def contiguous(widths: list[int], labels: list[str]) -> list[TokenRange]:
    bounds = [0, *itertools.accumulate(widths)]
    return [TokenRange(a, b, (lab,)) for a, b, lab in zip(bounds, bounds[1:], labels, strict=False)]


def synthetic_ring(tokens: int, nodes: int, seed: int) -> list[TokenRange]:
    """``tokens`` random tokens, each owned by one of ``nodes`` nodes at random (RF=1)."""
    rng = random.Random(seed)
    ring = [rng.randrange(MIN + 1, MAX) for _ in range(tokens)]
    return ring_ranges(ring, {t: (f"10.0.0.{rng.randrange(nodes)}",) for t in ring})


# --- partitioners ---


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("org.apache.cassandra.dht.Murmur3Partitioner", MURMUR3),
        ("Murmur3Partitioner", MURMUR3),
        ("org.apache.cassandra.dht.RandomPartitioner", RANDOM),
        ("RandomPartitioner", RANDOM),
    ],
)
def test_partitioner_for_known_names(name: str, expected: Partitioner) -> None:
    assert partitioner_for(name) is expected


@pytest.mark.parametrize(
    "name",
    [
        "org.apache.cassandra.dht.ByteOrderedPartitioner",
        "OrderPreservingPartitioner",
        "org.example.Murmur3PartitionerV2",
        "",
    ],
)
def test_partitioner_for_unknown_names_the_partitioner(name: str) -> None:
    with pytest.raises(PlanError, match="Murmur3Partitioner or RandomPartitioner") as err:
        partitioner_for(name)
    assert repr(name) in str(err.value)


def test_partitioner_bounds() -> None:
    assert (MURMUR3.min_token, MURMUR3.max_token) == (-(2**63), 2**63 - 1)
    assert (RANDOM.min_token, RANDOM.max_token) == (-1, 2**127)
    assert RANDOM.ring_width == 2**127 + 1


# --- TokenRange ---


def test_token_range_width_fraction_contains() -> None:
    r = TokenRange(-10, 10)
    assert r.width(MURMUR3) == 20
    assert not r.contains(-10)
    assert r.contains(-9)
    assert r.contains(10)
    assert not r.contains(11)
    assert TokenRange(MIN, MAX).fraction(MURMUR3) == 1.0
    assert TokenRange(RANDOM.min_token, RANDOM.max_token).fraction(RANDOM) == 1.0
    assert TokenRange(0, 2**126).fraction(RANDOM) == pytest.approx(0.5)
    assert TokenRange(5, 5).width(MURMUR3) == 0
    assert not TokenRange(5, 5).contains(5)


def test_wrapping_token_range() -> None:
    r = TokenRange(MAX - 10, MIN + 5)
    assert r.wraps
    assert r.width(MURMUR3) == 15
    assert r.contains(MAX)
    assert r.contains(MIN + 5)
    assert not r.contains(MIN + 6)
    assert not r.contains(MAX - 10)


# --- ring_ranges ---


@st.composite
def rings(draw: st.DrawFn) -> tuple[Partitioner, list[int]]:
    part = draw(st.sampled_from([MURMUR3, RANDOM]))
    tokens = draw(st.lists(st.integers(part.min_token, part.max_token), min_size=1, max_size=200))
    if draw(st.booleans()):
        tokens.append(part.min_token)  # a node owning the minimum token
    if draw(st.booleans()):
        tokens.append(part.max_token)
    return part, tokens


@FAST
@given(rings())
def test_ring_ranges_cover_the_ring_exactly(ring: tuple[Partitioner, list[int]]) -> None:
    part, tokens = ring
    replicas = {t: (f"n{t}",) for t in tokens}
    ranges = ring_ranges(tokens, replicas, part)
    assert_chain(ranges, part.min_token, part.max_token)
    assert ranges == sorted(ranges)
    assert ranges_cover_ring(ranges, part)
    distinct = sorted(set(tokens))
    # n tokens: n - 1 inner ranges plus the two halves of the wraparound, minus the empty ones
    expected = len(distinct) + 1 - (distinct[0] == part.min_token) - (distinct[-1] == part.max_token)
    assert len(ranges) == expected
    for r in ranges:
        owner = r.end if r.end in replicas else distinct[0]  # (t[-1], max] belongs to t[0]
        assert r.replicas == (f"n{owner}",)


def test_ring_ranges_wraparound_is_split_at_the_minimum() -> None:
    reps = {-100: ["a"], 0: ["b"], 100: ["c", "d"]}
    assert ring_ranges([100, -100, 0, 0], reps) == [
        TokenRange(MIN, -100, ("a",)),
        TokenRange(-100, 0, ("b",)),
        TokenRange(0, 100, ("c", "d")),
        TokenRange(100, MAX, ("a",)),
    ]


def test_ring_ranges_replicas_come_from_the_end_token() -> None:
    ranges = ring_ranges([10, 20], {10: ("x",), 20: ("y",)})
    assert [(r.end, r.replicas) for r in ranges] == [(10, ("x",)), (20, ("y",)), (MAX, ("x",))]


def test_ring_ranges_one_token() -> None:
    assert ring_ranges([7], {7: ["a"]}) == [TokenRange(MIN, 7, ("a",)), TokenRange(7, MAX, ("a",))]
    assert ring_ranges([MIN], {MIN: ["a"]}) == [TokenRange(MIN, MAX, ("a",))]
    assert ring_ranges([MAX], {MAX: ["a"]}) == [TokenRange(MIN, MAX, ("a",))]


def test_ring_ranges_node_owning_min_token() -> None:
    ranges = ring_ranges([MIN, 0], {MIN: ["m"], 0: ["z"]})
    assert ranges == [TokenRange(MIN, 0, ("z",)), TokenRange(0, MAX, ("m",))]


def test_ring_ranges_random_partitioner() -> None:
    ranges = ring_ranges([2**126], {2**126: ["a"]}, RANDOM)
    assert ranges == [TokenRange(-1, 2**126, ("a",)), TokenRange(2**126, 2**127, ("a",))]
    assert width(ranges) == 2**127 + 1


def test_ring_ranges_replica_details() -> None:
    ranges = ring_ranges([1, 2], {1: "10.0.0.1"})  # a bare string is one address; a missing token has none
    assert [r.replicas for r in ranges] == [("10.0.0.1",), (), ("10.0.0.1",)]


def test_ring_ranges_rejects_empty_and_out_of_range_rings() -> None:
    with pytest.raises(PlanError, match="empty"):
        ring_ranges([], {})
    with pytest.raises(PlanError, match=str(2**64)):
        ring_ranges([0, 2**64], {})
    with pytest.raises(PlanError, match="-2"):
        ring_ranges([-2, 5], {}, RANDOM)


# --- ranges_cover_ring ---


def test_ranges_cover_ring_detects_gaps_overlaps_and_strays() -> None:
    full = ring_ranges([-5, 5], {})
    assert ranges_cover_ring(list(reversed(full)))
    assert ranges_cover_ring([TokenRange(0, -10), TokenRange(-10, 0)])  # one wraps through the minimum
    assert ranges_cover_ring([*full, TokenRange(3, 3)])  # an empty range covers nothing
    assert not ranges_cover_ring(full[:-1])  # (5, max] missing
    assert not ranges_cover_ring(full[1:])  # (min, -5] missing
    assert not ranges_cover_ring([*full, TokenRange(0, 1)])  # overlap
    assert not ranges_cover_ring([full[0], TokenRange(-4, 5), full[2]])  # gap (-5, -4]
    assert not ranges_cover_ring([TokenRange(MIN, MAX + 1)])  # leaves the ring
    assert not ranges_cover_ring(full, RANDOM)
    assert not ranges_cover_ring([])


# --- split_range ---


@FAST
@given(
    start=st.integers(-(2**127), 2**127),
    span=st.one_of(st.integers(0, 500), st.integers(0, 2**128)),
    parts=st.integers(1, 300),
)
def test_split_range_exact_cover_near_equal_widths(start: int, span: int, parts: int) -> None:
    r = TokenRange(start, start + span, ("a", "b"))
    pieces = split_range(r, parts)
    assert len(pieces) == min(parts, span)
    if span == 0:
        assert pieces == []
        return
    assert_chain(pieces, r.start, r.end)
    widths = [p.end - p.start for p in pieces]
    assert max(widths) - min(widths) <= 1
    assert all(p.replicas == ("a", "b") for p in pieces)


def test_split_range_rejects_bad_input() -> None:
    with pytest.raises(PlanError, match="at least 1"):
        split_range(TokenRange(0, 10), 0)
    with pytest.raises(PlanError, match="wraps"):
        split_range(TokenRange(10, 0), 2)
    with pytest.raises(PlanError, match="limit"):
        split_range(TokenRange(MIN, MAX), 10**7)


# --- split_ranges ---


def test_split_ranges_by_share_of_the_ring() -> None:
    ranges = ring_ranges([MIN // 2, 0, MAX // 2], {})  # four quarters of the ring
    pieces = split_ranges(ranges, total_size=100, target_size=10)  # 25 per quarter -> 3 pieces each
    assert len(pieces) == 12
    assert_chain(pieces, MIN, MAX)
    for r in ranges:
        assert sum(r.start < p.end <= r.end for p in pieces) == 3
    assert split_ranges(ranges, total_size=0, target_size=10) == ranges
    assert split_ranges(ranges, total_size=1, target_size=10) == ranges  # never fewer than 1 piece
    # a wrapping range is cut at the minimum first
    assert split_ranges([TokenRange(MAX - 3, MIN + 1)], total_size=1, target_size=1) == [
        TokenRange(MAX - 3, MAX),
        TokenRange(MIN, MIN + 1),
    ]


@FAST
@given(rings(), st.floats(0, 500), st.floats(0.5, 100))
def test_split_ranges_keeps_the_cover(
    ring: tuple[Partitioner, list[int]], total: float, target: float
) -> None:
    part, tokens = ring
    ranges = ring_ranges(tokens, {}, part)
    pieces = split_ranges(ranges, total_size=total, target_size=target, partitioner=part)
    assert_chain(pieces, part.min_token, part.max_token)
    # each range gets ceil(its share of total / target) pieces, at least 1: in total between these bounds
    wanted = Fraction(total) / Fraction(target)
    assert max(len(ranges), math.ceil(wanted)) <= len(pieces) <= wanted + len(ranges)


@pytest.mark.parametrize(("total", "target"), [(10, 0), (10, -1), (-1, 10), (math.inf, 1), (1, math.nan)])
def test_split_ranges_rejects_bad_sizes(total: float, target: float) -> None:
    with pytest.raises(PlanError):
        split_ranges(ring_ranges([0], {}), total_size=total, target_size=target)


# --- group_ranges ---


@st.composite
def labelled_ranges(draw: st.DrawFn) -> list[TokenRange]:
    n = draw(st.integers(1, 24))
    widths = draw(st.lists(st.integers(1, 60), min_size=n, max_size=n))
    labels = draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n))
    return contiguous(widths, labels)


@settings(max_examples=150, deadline=None)
@given(labelled_ranges(), st.integers(1, 30))
def test_group_ranges_properties(ranges: list[TokenRange], npartitions: int) -> None:
    groups = group_ranges(ranges, npartitions)
    # every range exactly once, order preserved, exact count, no empty group
    assert [r for g in groups for r in g] == ranges
    assert len(groups) == min(npartitions, len(ranges))
    assert all(groups)
    # the fewest replica-set changes inside partitions that contiguous groups allow
    runs = run_count(ranges)
    inside = sum(run_count(g) - 1 for g in groups)
    assert inside == max(0, runs - npartitions)
    if runs <= npartitions:
        assert all(len({frozenset(r.replicas) for r in g}) == 1 for g in groups)
    if len(ranges) <= npartitions:
        return
    # the widest partition is as narrow as the allowed cuts permit (oracle: dynamic programming)
    if runs > npartitions:
        run_widths = [width(run) for run in runs_of(ranges)]
        assert max(width(g) for g in groups) == min_max_partition(run_widths, npartitions)
    else:
        for run in runs_of(ranges):
            inner = [g for g in groups if g[0] in run]
            assert [r for g in inner for r in g] == run
            widest = max(width(g) for g in inner)
            assert widest == min_max_partition([r.end - r.start for r in run], len(inner))


def test_group_ranges_equal_widths_split_evenly() -> None:
    ranges = contiguous([5] * 64, ["a"] * 64)
    groups = group_ranges(ranges, 8)
    assert [len(g) for g in groups] == [8] * 8


def test_group_ranges_gives_partitions_to_runs_by_width() -> None:
    # run a is three times as wide as run b: 3 partitions for a, 1 for b
    ranges = contiguous([10] * 6 + [5] * 4, ["a"] * 6 + ["b"] * 4)
    groups = group_ranges(ranges, 4)
    assert [[r.replicas[0] for r in g] for g in groups] == [["a"] * 2] * 3 + [["b"] * 4]


def test_group_ranges_cuts_at_run_boundaries_when_mixing_is_unavoidable() -> None:
    ranges = contiguous([10, 10, 10, 10, 10, 10], ["a", "a", "b", "c", "c", "c"])
    groups = group_ranges(ranges, 2)
    assert [len(g) for g in groups] == [3, 3]  # cut between b and c, not inside a run
    assert group_ranges(ranges, 1) == [ranges]


def test_group_ranges_narrowest_widest_partition_then_even_shares() -> None:
    # greedy "nearest to a third" would make [1, 7] (8 wide); the widest can be 7
    assert [width(g) for g in group_ranges(contiguous([1, 7, 3, 3], ["a"] * 4), 3)] == [1, 7, 6]
    # the first partition must be 10 wide; the rest is shared evenly, not cut at the global thirds
    assert [width(g) for g in group_ranges(contiguous([10, 1, 1, 1, 1, 1, 1], ["a"] * 7), 3)] == [10, 3, 3]
    # a tie between two cuts goes to the earlier one
    assert [width(g) for g in group_ranges(contiguous([3, 2, 3], ["a"] * 3), 2)] == [3, 5]


def test_group_ranges_replica_order_does_not_matter() -> None:
    ranges = [TokenRange(0, 10, ("x", "y")), TokenRange(10, 20, ("y", "x")), TokenRange(20, 30, ("z",))]
    assert [len(g) for g in group_ranges(ranges, 2)] == [2, 1]


def test_group_ranges_fewer_ranges_than_partitions() -> None:
    ranges = contiguous([1, 2, 3], ["a", "a", "b"])
    assert group_ranges(ranges, 1024) == [[r] for r in ranges]
    assert group_ranges([], 3) == []
    with pytest.raises(PlanError, match="at least 1"):
        group_ranges(ranges, 0)


@pytest.mark.parametrize("npartitions", [1, 2, 7, 64, 1024])
@pytest.mark.parametrize(("tokens", "nodes"), [(1, 1), (16, 1), (48, 3)])
def test_group_ranges_after_splitting(tokens: int, nodes: int, npartitions: int) -> None:
    ring = synthetic_ring(tokens, nodes, seed=tokens)
    pieces = [p for r in ring for p in split_range(r, -(-npartitions // len(ring)))]
    groups = group_ranges(pieces, npartitions)
    assert len(groups) == npartitions
    assert [r for g in groups for r in g] == pieces


# --- plan_partitions ---


@pytest.mark.parametrize("npartitions", [1, 2, 7, 64, 1024])
@pytest.mark.parametrize(("tokens", "nodes"), [(1, 1), (16, 1), (48, 3), (48, 1)])
def test_plan_partitions_npartitions_override(tokens: int, nodes: int, npartitions: int) -> None:
    ring = synthetic_ring(tokens, nodes, seed=npartitions)
    plan = plan_partitions(ring, total_size=1e15, target_size=1, min_partitions=5000, npartitions=npartitions)
    assert len(plan) == npartitions
    flat = [r for g in plan for r in g]
    assert_chain(flat, MIN, MAX)
    assert ranges_cover_ring(flat)
    for r in ring:  # sub-ranges stay inside one ring range, with its replicas
        assert all(p.replicas == r.replicas for p in flat if r.start < p.end <= r.end)
    runs = run_count(ring)
    assert sum(run_count(g) - 1 for g in plan) == max(0, runs - npartitions)
    if runs <= npartitions:
        # never mixed; within a run the partitions are as wide as each other, to the token
        for run in runs_of(flat):
            widths = [width(g) for g in plan if g[0] in run]
            assert sum(widths) == width(run)
            assert max(widths) - min(widths) <= 1


def test_plan_partitions_by_size() -> None:
    ring = synthetic_ring(16, 1, seed=3)
    plan = plan_partitions(ring, total_size=10 * 2**30, target_size=2**30)
    assert len(plan) == 10
    widths = [width(g) for g in plan]
    assert max(widths) - min(widths) <= 1  # one replica set: equal to the token
    assert ranges_cover_ring([r for g in plan for r in g])
    assert len(plan_partitions(ring, total_size=10.5, target_size=1)) == 11
    assert len(plan_partitions(ring, total_size=10, target_size=1, min_partitions=32)) == 32


@pytest.mark.parametrize("total", [None, 0])
def test_plan_partitions_unknown_size_uses_min_partitions(total: float | None) -> None:
    ring = synthetic_ring(16, 1, seed=4)
    assert len(plan_partitions(ring, total_size=total, target_size=1)) == 1
    plan = plan_partitions(ring, total_size=total, target_size=1, min_partitions=40)
    assert len(plan) == 40
    assert ranges_cover_ring([r for g in plan for r in g])


def test_plan_partitions_random_partitioner_and_wrapping_input() -> None:
    ring = [TokenRange(2**126, 2**125, ("a",)), TokenRange(2**125, 2**126, ("a",))]
    plan = plan_partitions(ring, partitioner=RANDOM, total_size=None, target_size=1, npartitions=4)
    assert len(plan) == 4
    flat = [r for g in plan for r in g]
    assert_chain(flat, -1, 2**127)
    assert {width(g) for g in plan} <= {(2**127 + 1) // 4, (2**127 + 1) // 4 + 1}


def test_plan_partitions_subset_of_the_ring() -> None:
    sample = [TokenRange(0, 100, ("a",)), TokenRange(1000, 1100, ("a",))]
    plan = plan_partitions(sample, total_size=4, target_size=1)  # total_size is the size of these ranges
    assert [width(g) for g in plan] == [50, 50, 50, 50]
    plan = plan_partitions(sample, total_size=None, target_size=1, npartitions=1000)
    assert len(plan) == 200  # no more partitions than tokens


def test_plan_partitions_rejects_bad_input() -> None:
    ring = ring_ranges([0], {})
    with pytest.raises(PlanError, match="target_size"):
        plan_partitions(ring, total_size=1, target_size=0)
    with pytest.raises(PlanError, match="min_partitions"):
        plan_partitions(ring, total_size=1, target_size=1, min_partitions=0)
    with pytest.raises(PlanError, match="npartitions"):
        plan_partitions(ring, total_size=1, target_size=1, npartitions=0)
    with pytest.raises(PlanError, match="overlap"):
        plan_partitions([TokenRange(0, 10), TokenRange(5, 15)], total_size=None, target_size=1)
    with pytest.raises(PlanError, match="no token ranges"):
        plan_partitions([], total_size=None, target_size=1)
    with pytest.raises(PlanError, match="outside"):
        plan_partitions([TokenRange(0, 2**64)], total_size=None, target_size=1)
    with pytest.raises(PlanError, match="limit"):
        plan_partitions(ring, total_size=1e12, target_size=1)


# --- sample_ranges ---


def slice_width(total: int, fraction: float, pieces: int) -> int:
    """Widest slice of the documented slicing: ``min(total, max(pieces, ceil(8 / fraction)))`` slices."""
    slices = min(total, max(pieces, math.ceil(8 / Fraction(fraction))))
    return -(-total // slices)


@settings(max_examples=80, deadline=None)
@given(
    rings(),
    st.floats(1e-4, 1.0, exclude_min=False),
    st.integers(0, 2**32),
    st.integers(1, 300),
)
def test_sample_ranges_properties(
    ring: tuple[Partitioner, list[int]], fraction: float, seed: int, pieces: int
) -> None:
    part, tokens = ring
    tokens = tokens[-20:]
    ranges = ring_ranges(tokens, {t: (f"n{t}",) for t in tokens}, part)
    sample = sample_ranges(ranges, fraction, random_state=seed, partitioner=part, pieces=pieces)
    assert sample == sample_ranges(ranges, fraction, random_state=seed, partitioner=part, pieces=pieces)
    assert sample == sorted(sample)
    assert all(r.start < r.end for r in sample)
    assert all(a.end <= b.start for a, b in itertools.pairwise(sample))
    owners = []
    for s in sample:
        inside = [r for r in ranges if r.start <= s.start and s.end <= r.end]
        assert len(inside) == 1
        assert s.replicas == inside[0].replicas
        owners.append(inside[0])
    for a, b, owner_a, owner_b in zip(sample, sample[1:], owners, owners[1:], strict=False):
        assert a.end < b.start or owner_a != owner_b  # touching slices of one range are merged
    total = part.ring_width
    goal = Fraction(fraction) * total
    covered = width(sample)
    assert goal <= covered < goal + slice_width(total, fraction, pieces)


def test_sample_ranges_depends_on_the_seed() -> None:
    ranges = synthetic_ring(48, 3, seed=1)
    samples = [sample_ranges(ranges, 0.25, random_state=seed) for seed in range(10)]
    assert len({tuple(s) for s in samples}) == 10
    assert samples[3] == sample_ranges(ranges, 0.25, random_state=3)
    # about 16 of the 64 slices, spread over the ring rather than bunched at its start
    assert samples[0][-1].end > 0 > samples[0][0].start


def test_sample_ranges_slices() -> None:
    # 6400 tokens, fraction 1/2, 64 pieces: 64 slices of 100 tokens, 32 of them picked
    sample = sample_ranges([TokenRange(0, 6400, ("a",))], 0.5, random_state=1, pieces=64)
    assert width(sample) == 3200
    assert all(r.start % 100 == 0 and r.end % 100 == 0 for r in sample)
    assert len(sample) < 32  # neighbours merged
    # a small fraction still gets about 8 slices: 8 / (1 / 128) = 1024 slices of 8 tokens
    sample = sample_ranges([TokenRange(0, 8192, ("a",))], 1 / 128, random_state=1, pieces=64)
    assert width(sample) == 64
    assert all(r.start % 8 == 0 and r.end % 8 == 0 for r in sample)


def test_sample_ranges_small_rings_and_full_fraction() -> None:
    ranges = synthetic_ring(16, 2, seed=2)
    assert sample_ranges(ranges, 1.0, random_state=0) == ranges
    tiny = [TokenRange(0, 4, ("a",)), TokenRange(10, 16, ("b",))]  # 10 tokens -> 10 one-token slices
    sample = sample_ranges(tiny, 0.35, random_state=7)
    assert width(sample) == 4
    assert all(r.end <= 4 or r.start >= 10 for r in sample)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, math.nan])
def test_sample_ranges_rejects_bad_fractions(fraction: float) -> None:
    with pytest.raises(PlanError, match="fraction"):
        sample_ranges(ring_ranges([0], {}), fraction)


def test_sample_ranges_rejects_bad_pieces_and_overlaps() -> None:
    with pytest.raises(PlanError, match="pieces"):
        sample_ranges(ring_ranges([0], {}), 0.5, pieces=0)
    with pytest.raises(PlanError, match="overlap"):
        sample_ranges([TokenRange(0, 10), TokenRange(5, 15)], 0.5)


# --- the size probe and token clipping ---


@pytest.mark.parametrize("part", [MURMUR3, RANDOM])
def test_probe_ranges_are_thin_slices_of_the_partitioners_ring(part: Partitioner) -> None:
    """The row-count probe (used when the nodes have no size estimates) works on either ring; it used to
    assume Murmur3 bounds, so a RandomPartitioner cluster failed to plan."""
    ring = ring_ranges([part.min_token + part.ring_width * i // 5 for i in range(1, 5)], {}, part)
    probes, share = probe_ranges(ring, part)
    assert len(probes) == 16
    assert all(part.min_token <= r.start < r.end <= part.max_token for r in probes)
    assert all(any(o.start <= r.start and r.end <= o.end for o in ring) for r in probes)
    assert share == pytest.approx(sum(r.width(part) for r in probes) / part.ring_width)
    assert 16 / 4096 * 0.9 < share < 16 / 4096 * 1.1
    assert probe_ranges(ring, part) == (probes, share)  # repeatable: the same slices every time


def test_clip_ranges_keeps_the_part_inside_the_bounds() -> None:
    ring = ring_ranges([-100, 0, 100], {-100: ("a",), 0: ("b",), 100: ("c",)})
    clipped = clip_ranges(ring, -50, 150, MURMUR3)
    assert clipped == [TokenRange(-50, 0, ("b",)), TokenRange(0, 100, ("c",)), TokenRange(100, 150, ("a",))]
    assert clip_ranges(ring, None, None, MURMUR3) == ring
    assert clip_ranges(ring, 10, 10, MURMUR3) == []
