"""Token-range planning: which token ranges each partition of a read reads; sampling; the size probe.

Pure functions over plain data — no I/O, and no import of the Cassandra driver — so a plan can be built,
inspected and property-tested without a cluster.

Conventions
-----------
* A :class:`TokenRange` ``(start, end]`` excludes ``start`` and includes ``end``, exactly like the CQL
  predicate ``token(pk) > start AND token(pk) <= end``.
* Every range the planner produces is *non-wrapping* (``start < end``): the ring's wraparound range is split
  at the partitioner's minimum token, so each range maps to one CQL query. As input, a range with
  ``start > end`` is read as wrapping through the minimum token and is unwrapped wherever a partitioner is
  known; a range with ``start == end`` is empty (unlike Cassandra, which reads ``(t, t]`` as the whole ring).
* The partitioner's minimum token is never assigned to a key, so ``(min_token, max_token]`` is the whole
  key space, and the ranges of a full plan cover it exactly once (see :func:`ranges_cover_ring`).
* Token arithmetic uses Python ints; RandomPartitioner tokens reach ``2**127``.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import random
from collections.abc import Iterable, Sequence
from fractions import Fraction

from cassandra_frames.errors import PlanError
from cassandra_frames.tokens import (
    MAX_RANGES,
    MURMUR3,
    Partitioner,
    TokenRange,
    check_count,
    split_range,
    unwrap,
)

__all__ = [
    "group_ranges",
    "plan_partitions",
    "probe_ranges",
    "sample_ranges",
    "split_ranges",
]

# sample_ranges cuts the ring into enough slices that a sample is made of at least about this many.
_MIN_SAMPLE_SLICES = 8
# ... but into no more slices than ``random.sample`` can draw from.
_MAX_SLICES = 2**62


def split_ranges(
    ranges: Iterable[TokenRange],
    *,
    total_size: float,
    target_size: float,
    partitioner: Partitioner = MURMUR3,
) -> list[TokenRange]:
    """Split ranges so each piece holds about ``target_size`` of data.

    Parameters
    ----------
    ranges : iterable of TokenRange
        Ranges to split; wrapping ones are first cut at the minimum token, empty ones dropped.
    total_size : float
        Estimated size of the whole ring, in the caller's unit (bytes, rows, …); 0 leaves ranges whole.
    target_size : float
        Wanted size of one piece, same unit; must be positive.
    partitioner : Partitioner
        Ring bounds, default :data:`MURMUR3`.

    Returns
    -------
    list of TokenRange
        Each range cut into ``max(1, ceil(fraction_of_ring * total_size / target_size))`` pieces by
        :func:`split_range` (never more pieces than tokens), in input order.

    Raises
    ------
    PlanError
        On a non-positive ``target_size``, a negative or non-finite ``total_size``, a range outside the ring,
        or more than a million pieces.
    """
    total = _size(total_size, "total_size")
    target = _positive(target_size, "target_size")
    return _split_sized(
        unwrap(ranges, partitioner), Fraction(total) / (Fraction(target) * partitioner.ring_width)
    )


def group_ranges(
    ranges: Sequence[TokenRange], npartitions: int, *, partitioner: Partitioner = MURMUR3
) -> list[list[TokenRange]]:
    """Group consecutive ranges into partitions of about equal token width, keeping replica sets apart.

    A *run* is a maximal block of consecutive ranges with the same replica set (compared as a set). With
    ``P`` partitions, ``n`` ranges and ``R`` runs:

    * ``n <= P``: one range per partition.
    * ``R <= P < n``: partitions never mix replica sets. Each run gets ``k >= 1`` partitions (at most one per
      range), handed out D'Hondt style (the next partition goes to the run with the largest width per
      partition), and each run is cut into its ``k`` partitions at range boundaries.
    * ``R > P``: mixing is unavoidable; cuts are made only at run boundaries, so no run is spread over two
      partitions.

    In every case the partitions hold exactly ``max(0, R - P)`` replica-set changes between them, the
    fewest possible for contiguous groups. Where cuts may be made (range boundaries in a run, run
    boundaries across runs), the widest partition is as narrow as possible (found by binary search on the
    width and greedy packing); within that bound, cuts are made left to right, each giving its partition
    the width nearest to an even share of what is left. Deterministic: ties go to the earlier cut.

    Parameters
    ----------
    ranges : sequence of TokenRange
        Ranges in the order to keep (ring order for a plan); callers split first so there are enough.
    npartitions : int
        Number of partitions wanted, at least 1.
    partitioner : Partitioner
        Ring bounds, to measure wrapping ranges; default :data:`MURMUR3`.

    Returns
    -------
    list of list of TokenRange
        ``min(npartitions, len(ranges))`` non-empty groups whose concatenation is ``ranges``.

    Raises
    ------
    PlanError
        If ``npartitions < 1``.
    """
    if npartitions < 1:
        raise PlanError(f"npartitions must be at least 1, not {npartitions}")
    items = list(ranges)
    if len(items) <= npartitions:
        return [[r] for r in items]
    widths = [r.width(partitioner) for r in items]
    starts, ends = _runs(items)
    cuts: list[int] = []
    if len(starts) > npartitions:
        prefix = _prefix(widths)
        cuts = _cuts(prefix, starts[1:], npartitions)
    else:
        run_widths = [sum(widths[a:b]) for a, b in zip(starts, ends, strict=True)]
        shares = _allocate(run_widths, [b - a for a, b in zip(starts, ends, strict=True)], npartitions)
        for a, b, k in zip(starts, ends, shares, strict=True):
            if a:
                cuts.append(a)
            cuts.extend(a + c for c in _cuts(_prefix(widths[a:b]), list(range(1, b - a)), k))
    bounds = [0, *cuts, len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


def plan_partitions(
    ranges: Iterable[TokenRange],
    *,
    partitioner: Partitioner = MURMUR3,
    total_size: float | None,
    target_size: float,
    min_partitions: int = 1,
    npartitions: int | None = None,
) -> list[list[TokenRange]]:
    """Plan the token ranges of every Dask partition: split, then group.

    Parameters
    ----------
    ranges : iterable of TokenRange
        Disjoint ranges to read, e.g. :func:`ring_ranges` or :func:`sample_ranges`; wrapping ones are cut at
        the minimum token, empty ones dropped, the rest sorted into ring order.
    partitioner : Partitioner
        Ring bounds, default :data:`MURMUR3`.
    total_size : float or None
        Estimated size of the data in ``ranges`` (bytes, rows, … — the unit of ``target_size``); None or 0
        when unknown.
    target_size : float
        Wanted size of one partition; must be positive.
    min_partitions : int
        Fewest partitions to make (fewer only if the ranges hold fewer tokens).
    npartitions : int, optional
        Exact number of partitions; overrides ``total_size``, ``target_size`` and ``min_partitions``.

    Returns
    -------
    list of list of TokenRange
        Non-empty partitions, each a list of adjacent non-wrapping sub-ranges; their concatenation is in ring
        order and covers ``ranges`` exactly once. The count is ``npartitions`` if given, else
        ``max(min_partitions, ceil(total_size / target_size))`` with a known size, else ``min_partitions``
        — fewer only if the ranges hold fewer tokens than that.

    Raises
    ------
    PlanError
        If there are no ranges, ranges overlap or leave the ring, or an option is out of bounds.

    Notes
    -----
    When there are no more replica-set runs than partitions, each run's share of partitions is decided as
    in :func:`group_ranges` (D'Hondt by width), and the run is cut at its exact width quantiles (rounded
    down to a token), splitting ranges there: partitions never mix replica sets, and within a run their
    widths differ by at most one token. With more runs than partitions, ranges stay whole and
    :func:`group_ranges` cuts at run boundaries. Partitions of a known size are thus about ``target_size``
    each — what splitting every range by size (:func:`split_ranges`) aims at, with fewer queries.
    """
    target = _positive(target_size, "target_size")
    if min_partitions < 1:
        raise PlanError(f"min_partitions must be at least 1, not {min_partitions}")
    if npartitions is not None and npartitions < 1:
        raise PlanError(f"npartitions must be at least 1, not {npartitions}")
    base = _prepare(ranges, partitioner)
    if npartitions is not None:
        count = npartitions
    else:
        total = 0.0 if total_size is None else _size(total_size, "total_size")
        count = min_partitions
        if total > 0:
            count = max(count, math.ceil(Fraction(total) / Fraction(target)))
    check_count(count)
    return _plan_groups(base, count, partitioner)


def sample_ranges(
    ranges: Iterable[TokenRange],
    fraction: float,
    *,
    random_state: int | None = None,
    partitioner: Partitioner = MURMUR3,
    pieces: int = 64,
) -> list[TokenRange]:
    """Random token sub-ranges covering about ``fraction`` of the ranges given.

    The ranges (in ring order, as if laid end to end) are cut into ``m = min(width, max(pieces, ceil(8 /
    fraction)))`` slices of equal width (±1 token); slices are picked in a random order drawn from
    ``random.Random(random_state)`` until they cover at least ``fraction`` of the total width, so the
    sample overshoots by less than one slice. A slice crossing a range boundary is cut there; picked slices
    that touch inside one range are merged.

    Parameters
    ----------
    ranges : iterable of TokenRange
        Disjoint ranges to sample from, usually the whole ring (:func:`ring_ranges`).
    fraction : float
        Share of the tokens to cover, in ``(0, 1]``; 1 returns the ranges themselves (unwrapped, sorted).
    random_state : int, optional
        Seed; the same seed gives the same sample. None draws a fresh one.
    partitioner : Partitioner
        Ring bounds, default :data:`MURMUR3`.
    pieces : int
        Fewest slices to cut the ranges into (at least 1); more slices make a more spread-out sample.

    Returns
    -------
    list of TokenRange
        Sorted, disjoint, non-empty ranges, each inside exactly one input range and with its replicas.

    Raises
    ------
    PlanError
        If ``fraction`` is not in ``(0, 1]``, ``pieces`` is out of bounds, or the ranges are empty, overlap
        or leave the ring.
    """
    if not 0 < fraction <= 1:
        raise PlanError(f"a sample fraction must be in (0, 1], not {fraction}")
    if not 1 <= pieces <= MAX_RANGES:
        raise PlanError(f"pieces must be between 1 and {MAX_RANGES}, not {pieces}")
    base = _prepare(ranges, partitioner)
    if fraction == 1:
        return base
    prefix = _prefix([r.end - r.start for r in base])
    total = prefix[-1]
    slices = min(total, _MAX_SLICES, max(pieces, math.ceil(_MIN_SAMPLE_SLICES / Fraction(fraction))))
    goal = Fraction(fraction) * total
    # every slice holds at least total // slices tokens, which bounds how many slices can be needed
    needed = min(slices, math.ceil(goal / (total // slices)))
    chosen: list[int] = []
    covered = 0
    for s in random.Random(random_state).sample(range(slices), needed):
        chosen.append(s)
        covered += (s + 1) * total // slices - s * total // slices
        if covered >= goal:
            break
    out: list[TokenRange] = []
    last = -1  # index in ``base`` of the range that holds out[-1]
    for s in sorted(chosen):
        a, b = s * total // slices, (s + 1) * total // slices
        j = bisect.bisect_right(prefix, a) - 1
        while a < b:
            r = base[j]
            stop = min(b, prefix[j + 1])
            start, end = r.start + a - prefix[j], r.start + stop - prefix[j]
            if j == last and out[-1].end == start:
                out[-1] = TokenRange(out[-1].start, end, r.replicas)
            else:
                out.append(TokenRange(start, end, r.replicas))
            last = j
            a = stop
            j += 1
    return out


def probe_ranges(
    ranges: Iterable[TokenRange], partitioner: Partitioner = MURMUR3, *, slices: int = 16
) -> tuple[list[TokenRange], float]:
    """Thin token ranges spread over ``ranges`` to count rows in when the nodes have no size estimate.

    Parameters
    ----------
    ranges : iterable of TokenRange
        The ranges a read will cover (the whole ring, or the part left by token bounds).
    partitioner : Partitioner
        Ring bounds (Murmur3 and Random rings alike).
    slices : int
        How many thin ranges to return at most.

    Returns
    -------
    (list of TokenRange, float)
        Up to ``slices`` disjoint ranges of about 1/4096 of ``ranges`` each (a seeded, repeatable choice),
        and the share of the whole ring they cover: rows counted in them / that share ≈ rows in the ring.
    """
    picked = sample_ranges(ranges, 1 / 256, random_state=0, partitioner=partitioner, pieces=4096)[:slices]
    return picked, sum(r.width(partitioner) for r in picked) / partitioner.ring_width


# --------------------------------------------------------------------------------------------- helpers


def _positive(value: float, name: str) -> float:
    if not (math.isfinite(value) and value > 0):
        raise PlanError(f"{name} must be a positive number, not {value}")
    return value


def _size(value: float, name: str) -> float:
    if not (math.isfinite(value) and value >= 0):
        raise PlanError(f"{name} must be a non-negative number, not {value}")
    return value


def _split_sized(ranges: Sequence[TokenRange], pieces_per_token: Fraction) -> list[TokenRange]:
    """Split each (non-wrapping) range into ``max(1, ceil(width * pieces_per_token))`` pieces."""
    plan = [
        (r, min(r.end - r.start, max(1, math.ceil((r.end - r.start) * pieces_per_token)))) for r in ranges
    ]
    check_count(sum(n for _, n in plan))
    return [piece for r, n in plan for piece in split_range(r, n)]


def _prepare(ranges: Iterable[TokenRange], partitioner: Partitioner) -> list[TokenRange]:
    """Unwrapped, sorted ranges; PlanError if there are none or two overlap."""
    out = sorted(unwrap(ranges, partitioner))
    if not out:
        raise PlanError("there are no token ranges to plan")
    for prev, r in itertools.pairwise(out):
        if r.start < prev.end:
            raise PlanError(f"token ranges ({prev.start}, {prev.end}] and ({r.start}, {r.end}] overlap")
    return out


def _prefix(widths: Sequence[int]) -> list[int]:
    out = [0]
    for w in widths:
        out.append(out[-1] + w)
    return out


def _cuts(prefix: Sequence[int], candidates: Sequence[int], k: int) -> list[int]:
    """Choose ``k - 1`` increasing cut indices among ``candidates`` (sorted, ``len >= k - 1``).

    The candidates split the items into *units* that stay whole. First the bottleneck ``B`` is found: the
    least possible width of the widest of ``k`` groups of units. Then cut ``i`` is, among the candidates
    that keep the plan within ``B`` (this group at most ``B`` wide, the rest packable into the groups left,
    at least one unit for each), the one that leaves this group nearest to an even share of what is left
    after the previous cut (ties go to the earlier candidate). So the widest group is as narrow as
    possible, and the others are as even as the units allow.
    """
    if k <= 1:
        return []
    bounds = [prefix[0], *(prefix[c] for c in candidates), prefix[-1]]  # width prefix at unit boundaries
    units = [b - a for a, b in itertools.pairwise(bounds)]
    total = bounds[-1] - bounds[0]
    count = len(units)
    # binary search for the bottleneck; greedy packing with cap ceil(total / k) + widest unit always fits
    low, high = max(max(units), -(-total // k)), -(-total // k) + max(units)
    while low < high:
        mid = (low + high) // 2
        if _packs(units, mid, k):
            high = mid
        else:
            low = mid + 1
    cap = low
    # need[m]: fewest groups of width <= cap that hold units m.. (greedy from the right is optimal)
    need = [0] * (count + 1)
    groups, width = 0, 0
    for m in range(count - 1, -1, -1):
        if groups == 0 or width + units[m] > cap:
            groups, width = groups + 1, units[m]
        else:
            width += units[m]
        need[m] = groups
    out = []
    prev = 0  # unit boundary of the previous cut
    for i in range(1, k):
        left = k - i  # groups after this cut
        lo = max(prev + 1, bisect.bisect_left(need, -left, key=lambda v: -v))
        hi = min(bisect.bisect_right(bounds, bounds[prev] + cap) - 1, count - left)
        # target: an even share of what is left; compare (left + 1) * prefix with goal, exact integers
        goal = left * bounds[prev] + bounds[-1]
        m = bisect.bisect_left(bounds, goal, lo, hi + 1, key=lambda v: v * (left + 1))
        if m > hi:
            m = hi
        elif m > lo and goal - bounds[m - 1] * (left + 1) <= bounds[m] * (left + 1) - goal:
            m -= 1
        out.append(candidates[m - 1])
        prev = m
    return out


def _packs(units: Sequence[int], cap: int, k: int) -> bool:
    """Whether the units fit, in order, into at most ``k`` groups of width at most ``cap``."""
    groups, width = 1, 0
    for u in units:
        if width + u > cap:
            groups, width = groups + 1, u
            if groups > k:
                return False
        else:
            width += u
    return True


def _allocate(widths: Sequence[int], caps: Sequence[int], total: int) -> list[int]:
    """Give ``total`` partitions to runs: at least 1 and at most ``caps[j]`` each, D'Hondt by width."""
    shares = [1] * len(widths)
    heap = [(-Fraction(w), j) for j, w in enumerate(widths) if caps[j] > 1]
    heapq.heapify(heap)
    for _ in range(total - len(widths)):
        _, j = heapq.heappop(heap)
        shares[j] += 1
        if shares[j] < caps[j]:
            heapq.heappush(heap, (-Fraction(widths[j], shares[j]), j))
    return shares


def _runs(ranges: Sequence[TokenRange]) -> tuple[list[int], list[int]]:
    """Start and end indices of the maximal blocks of consecutive ranges with equal replica sets."""
    starts = [0] + [
        i for i in range(1, len(ranges)) if set(ranges[i].replicas) != set(ranges[i - 1].replicas)
    ]
    return starts, [*starts[1:], len(ranges)]


def _plan_groups(
    ranges: Sequence[TokenRange], count: int, partitioner: Partitioner
) -> list[list[TokenRange]]:
    """Split sorted, non-wrapping ranges and group them into ``count`` partitions (see plan_partitions)."""
    starts, ends = _runs(ranges)
    if len(starts) > count:
        return group_ranges(ranges, count, partitioner=partitioner)
    widths = [r.end - r.start for r in ranges]
    run_widths = [sum(widths[a:b]) for a, b in zip(starts, ends, strict=True)]
    shares = _allocate(run_widths, run_widths, min(count, sum(run_widths)))
    groups: list[list[TokenRange]] = []
    for a, b, width, k in zip(starts, ends, run_widths, shares, strict=True):
        cuts = [width * i // k for i in range(1, k)]  # increasing and in (0, width), as k <= width
        group: list[TokenRange] = []
        pos = 0  # width of the run before ``r``
        c = 0
        for r in ranges[a:b]:
            start = r.start
            while c < len(cuts) and cuts[c] < pos + r.end - r.start:
                token = r.start + cuts[c] - pos
                if token > start:
                    group.append(TokenRange(start, token, r.replicas))
                    start = token
                groups.append(group)
                group = []
                c += 1
            group.append(TokenRange(start, r.end, r.replicas))
            pos += r.end - r.start
        groups.append(group)
    return groups
