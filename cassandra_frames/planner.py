"""Token-range planning: which token ranges each partition of a read reads; sampling; the size probe.

Pure functions over plain data — no I/O, and no import of the Cassandra driver — so a plan can be built,
inspected and property-tested without a cluster.

Conventions are those of :mod:`cassandra_frames.tokens`: a :class:`TokenRange` ``(start, end]`` is the CQL
predicate ``token(pk) > start AND token(pk) <= end``; every range the planner produces is non-wrapping
(``start < end``), a wrapping input range is cut at the partitioner's minimum token, an empty one dropped;
the ranges of a full plan cover ``(min_token, max_token]`` exactly once; tokens are Python ints.
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
    widths = [r.end - r.start if r.start <= r.end else r.width(partitioner) for r in items]
    return _group(items, widths, _runs(items), npartitions)


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


def _prefix(widths: Iterable[int]) -> list[int]:
    return list(itertools.accumulate(widths, initial=0))


def _group(
    items: list[TokenRange],
    widths: Sequence[int],
    runs: tuple[list[int], list[int]],
    npartitions: int,
) -> list[list[TokenRange]]:
    """:func:`group_ranges` of ``items`` (more than ``npartitions``), their widths and replica-set runs."""
    starts, ends = runs
    cuts: list[int] = []
    if len(starts) > npartitions:
        cuts = _cuts(_prefix(widths), starts[1:], npartitions)
    else:
        run_widths = [sum(widths[a:b]) for a, b in zip(starts, ends, strict=True)]
        shares = _allocate(run_widths, [b - a for a, b in zip(starts, ends, strict=True)], npartitions)
        for a, b, k in zip(starts, ends, shares, strict=True):
            if a:
                cuts.append(a)
            if k > 1:
                cuts.extend(a + c for c in _cuts(_prefix(widths[a:b]), range(1, b - a), k))
    bounds = [0, *cuts, len(items)]
    return [items[a:b] for a, b in itertools.pairwise(bounds)]


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
    count = len(bounds) - 1
    total = bounds[-1] - bounds[0]
    widest = max(b - a for a, b in itertools.pairwise(bounds))
    # binary search for the bottleneck; greedy packing with cap ceil(total / k) + widest unit always fits.
    # Each probe also moves the bound it fails or fits to the next cap at which the packing changes.
    low, high = max(widest, -(-total // k)), -(-total // k) + widest
    while low < high:
        fits, snapped = _packs(bounds, (low + high) // 2, k)
        if fits:
            high = snapped
        else:
            low = snapped
    cap = low
    # fewest groups of width <= cap that hold units m.. is g for right[g] <= m < right[g - 1], where
    # right[g] is where the g-th group from the right begins when packing greedily from the right
    right = [count]
    while right[-1] > 0 and len(right) < k:
        e = right[-1]
        right.append(bisect.bisect_left(bounds, bounds[e] - cap, 0, e))
    out = []
    prev = 0  # unit boundary of the previous cut
    for i in range(1, k):
        left = k - i  # groups after this cut
        lo = max(prev + 1, right[left] if left < len(right) else 0)
        hi = min(bisect.bisect_right(bounds, bounds[prev] + cap) - 1, count - left)
        # target: an even share of what is left; compare (left + 1) * prefix with goal, exact integers
        goal = left * bounds[prev] + bounds[-1]
        m = bisect.bisect_left(bounds, -(-goal // (left + 1)), lo, hi + 1)
        if m > hi:
            m = hi
        elif m > lo and goal - bounds[m - 1] * (left + 1) <= bounds[m] * (left + 1) - goal:
            m -= 1
        out.append(candidates[m - 1])
        prev = m
    return out


def _packs(bounds: Sequence[int], cap: int, k: int) -> tuple[bool, int]:
    """Whether the units between ``bounds`` fit, in order, into at most ``k`` groups at most ``cap`` wide.

    Greedy, each group as wide as it may be (found by bisection). Returns ``(True, w)`` with ``w <= cap``
    the widest group made (the packing is the same with cap ``w``), or ``(False, c)`` with ``c > cap`` the
    least cap at which one of the first ``k`` groups would take one more unit (every cap below ``c`` fails).
    """
    count = len(bounds) - 1
    start, groups, widest = 0, 0, 0
    more = bounds[-1] - bounds[0] + 1
    while True:
        end = bisect.bisect_right(bounds, bounds[start] + cap, start + 1) - 1
        groups += 1
        widest = max(widest, bounds[end] - bounds[start])
        if end >= count:
            return True, widest
        more = min(more, bounds[end + 1] - bounds[start])
        if groups == k:
            return False, more
        start = end


def _allocate(widths: Sequence[int], caps: Sequence[int], total: int) -> list[int]:
    """Give ``total`` partitions to runs: at least 1 and at most ``caps[j]`` each, D'Hondt by width.

    D'Hondt hands out partitions one at a time, each to the run with the largest width per partition it
    holds (ties to the earlier run). So run ``j``'s extra partitions are its quotients ``widths[j] / s``
    (``1 <= s < caps[j]``) among the ``total - len(widths)`` largest of all runs' quotients. They are
    found in bulk: every quotient of at least ``q`` is taken, with ``q`` the width per partition of the
    runs not at their cap (lowered, water-filling, until no more reach it); the few left are handed out
    one at a time from a heap, keyed by the quotients scaled to exact integers.
    """
    n = len(widths)
    shares = [1] * n
    extra = total - n
    if extra <= 0:
        return shares
    free = [j for j in range(n) if caps[j] > 1]  # runs below their cap
    room = extra  # extra partitions not given to a run at its cap
    while True:
        width = sum(widths[j] for j in free)
        if room <= 0 or width == 0:
            break
        full = [j for j in free if widths[j] * room // width >= caps[j] - 1]
        if not full:
            for j in free:  # every quotient >= width / room: at most ``room`` of them
                shares[j] += widths[j] * room // width
            break
        for j in full:
            shares[j] = caps[j]
            room -= caps[j] - 1
        free = [j for j in free if shares[j] < caps[j]]
    left = extra - sum(shares) + n
    if left > 0:
        shift = 2 * max(max(widths), max(caps)).bit_length() + 2  # distinct quotients stay distinct
        heap = [(-((widths[j] << shift) // shares[j]), j) for j in range(n) if shares[j] < caps[j]]
        heapq.heapify(heap)
        for _ in range(left):
            _, j = heapq.heappop(heap)
            shares[j] += 1
            if shares[j] < caps[j]:
                heapq.heappush(heap, (-((widths[j] << shift) // shares[j]), j))
    return shares


def _runs(ranges: Sequence[TokenRange]) -> tuple[list[int], list[int]]:
    """Start and end indices of the maximal blocks of consecutive ranges with equal replica sets."""
    pairs = enumerate(itertools.pairwise(r.replicas for r in ranges), 1)
    starts = [0, *(i for i, (a, b) in pairs if a != b and set(a) != set(b))]
    return starts, [*starts[1:], len(ranges)]


def _plan_groups(ranges: list[TokenRange], count: int, partitioner: Partitioner) -> list[list[TokenRange]]:
    """Split sorted, non-wrapping ranges and group them into ``count`` partitions (see plan_partitions)."""
    starts, ends = _runs(ranges)
    widths = [r.end - r.start for r in ranges]
    if len(starts) > count:
        return _group(ranges, widths, (starts, ends), count)
    run_widths = [sum(widths[a:b]) for a, b in zip(starts, ends, strict=True)]
    shares = _allocate(run_widths, run_widths, min(count, sum(run_widths)))
    groups: list[list[TokenRange]] = []
    for a, b, width, k in zip(starts, ends, run_widths, shares, strict=True):
        if k == 1:
            groups.append(ranges[a:b])
            continue
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
