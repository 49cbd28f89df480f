"""Tokens and token ranges: partitioners, :class:`TokenRange`, the ring's ranges, splitting one range.

Pure functions over plain data — no I/O, and no import of the Cassandra driver.

Conventions
-----------
* A :class:`TokenRange` ``(start, end]`` excludes ``start`` and includes ``end``, exactly like the CQL
  predicate ``token(pk) > start AND token(pk) <= end``.
* Every range :func:`ring_ranges` and the planner produce is *non-wrapping* (``start < end``): the ring's
  wraparound range is split at the partitioner's minimum token, so each range maps to one CQL query. As
  input, a range with ``start > end`` is read as wrapping through the minimum token and is unwrapped wherever
  a partitioner is known; a range with ``start == end`` is empty (unlike Cassandra, which reads ``(t, t]``
  as the whole ring).
* The partitioner's minimum token is never assigned to a key, so ``(min_token, max_token]`` is the whole
  key space, and the ranges of a full plan cover it exactly once (see :func:`ranges_cover_ring`).
* Token arithmetic uses Python ints; RandomPartitioner tokens reach ``2**127``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from cassandra_frames.errors import PlanError

__all__ = [
    "MAX_RANGES",
    "MURMUR3",
    "RANDOM",
    "Partitioner",
    "TokenRange",
    "check_count",
    "clip_ranges",
    "partitioner_for",
    "ranges_cover_ring",
    "ring_ranges",
    "split_range",
    "unwrap",
]

# Most sub-ranges a single call may create: far beyond any sensible plan, low enough to fail fast instead
# of exhausting memory when a size target is absurdly small.
MAX_RANGES = 1_000_000


@dataclass(frozen=True)
class Partitioner:
    """Token bounds of a Cassandra partitioner.

    Keys hash to tokens in ``(min_token, max_token]``; ``min_token`` itself is never a key's token.
    """

    name: str
    min_token: int
    max_token: int

    @property
    def short_name(self) -> str:
        """Class name without its package, e.g. ``"Murmur3Partitioner"``."""
        return self.name.rsplit(".", 1)[-1]

    @property
    def ring_width(self) -> int:
        """Number of tokens in ``(min_token, max_token]``."""
        return self.max_token - self.min_token


MURMUR3 = Partitioner("org.apache.cassandra.dht.Murmur3Partitioner", -(2**63), 2**63 - 1)
RANDOM = Partitioner("org.apache.cassandra.dht.RandomPartitioner", -1, 2**127)

_PARTITIONERS: dict[str, Partitioner] = {key: p for p in (MURMUR3, RANDOM) for key in (p.name, p.short_name)}


@dataclass(frozen=True, order=True, slots=True)
class TokenRange:
    """Tokens ``(start, end]`` and the replicas that own them.

    ``replicas`` are the addresses of the replicas of the range's *end* token. Ranges order by
    ``(start, end, replicas)``, i.e. in ring order for the non-wrapping ranges the planner produces.
    """

    start: int
    end: int
    replicas: tuple[str, ...] = ()

    @property
    def wraps(self) -> bool:
        """Whether the range wraps through the partitioner's minimum token (``start > end``)."""
        return self.start > self.end

    def width(self, partitioner: Partitioner) -> int:
        """Number of tokens in the range.

        Parameters
        ----------
        partitioner : Partitioner
            Gives the ring's bounds; only a wrapping range needs them.

        Returns
        -------
        int
            ``end - start``; 0 for an empty range; for a wrapping range the tokens of
            ``(start, max_token]`` plus those of ``(min_token, end]``.
        """
        if self.start <= self.end:
            return self.end - self.start
        return (partitioner.max_token - self.start) + (self.end - partitioner.min_token)

    def fraction(self, partitioner: Partitioner) -> float:
        """Share of the whole ring ``(min_token, max_token]`` the range covers.

        Parameters
        ----------
        partitioner : Partitioner
            The ring the range belongs to.

        Returns
        -------
        float
            ``width / ring_width``, in ``[0, 1]`` for a range inside the ring.
        """
        return self.width(partitioner) / partitioner.ring_width

    def contains(self, token: int) -> bool:
        """Whether ``token`` lies in ``(start, end]`` (for a wrapping range: ``> start`` or ``<= end``).

        Parameters
        ----------
        token : int
            A token of the ring.

        Returns
        -------
        bool
            False for every token if the range is empty.
        """
        if self.start <= self.end:
            return self.start < token <= self.end
        return token > self.start or token <= self.end


def partitioner_for(name: str) -> Partitioner:
    """Token bounds of a partitioner, by Java class name.

    Parameters
    ----------
    name : str
        Full class name (``"org.apache.cassandra.dht.Murmur3Partitioner"``) or short name
        (``"Murmur3Partitioner"``), as reported by the cluster metadata.

    Returns
    -------
    Partitioner
        :data:`MURMUR3` or :data:`RANDOM` (the module constants themselves).

    Raises
    ------
    PlanError
        For any other partitioner (``ByteOrderedPartitioner``, ``OrderPreservingPartitioner``, …): their
        tokens are not integers spread evenly over a ring, so a table cannot be read by token ranges.
    """
    found = _PARTITIONERS.get(name.strip())
    if found is None:
        raise PlanError(
            f"partitioner {name!r} is not supported: token-range reads need Murmur3Partitioner "
            "or RandomPartitioner"
        )
    return found


def ring_ranges(
    ring: Sequence[int], replicas: Mapping[int, Sequence[str]], partitioner: Partitioner = MURMUR3
) -> list[TokenRange]:
    """Non-wrapping token ranges of a ring, each with its replicas.

    Parameters
    ----------
    ring : sequence of int
        Every token owned by a node (vnodes included), in any order; duplicates are ignored.
    replicas : mapping of int to sequence of str
        ``replicas[token]`` are the addresses of the replicas of the range that ends at ``token``. A token
        without an entry gets no replicas (the reader then lets the driver route); a bare string counts as
        one address.
    partitioner : Partitioner
        Bounds of the ring; default :data:`MURMUR3`.

    Returns
    -------
    list of TokenRange
        ``(t[i-1], t[i]]`` with the replicas of ``t[i]`` for consecutive sorted tokens, plus the wraparound
        range ``(t[-1], t[0]]`` split at the minimum into ``(t[-1], max_token]`` and ``(min_token, t[0]]``,
        both with the replicas of ``t[0]``. Empty ranges (a node owning ``min_token`` or ``max_token``) are
        dropped. Sorted by start; together they cover ``(min_token, max_token]`` exactly once.

    Raises
    ------
    PlanError
        If the ring is empty or a token lies outside ``[min_token, max_token]``.
    """
    tokens = sorted(set(ring))
    if not tokens:
        raise PlanError("the token ring is empty: no node owns a token, so no token ranges can be planned")
    lo, hi = partitioner.min_token, partitioner.max_token
    for t in (tokens[0], tokens[-1]):
        if not lo <= t <= hi:
            raise PlanError(f"token {t} is outside the {partitioner.short_name} token range [{lo}, {hi}]")

    get = replicas.get

    def owners(token: int) -> tuple[str, ...]:
        found = get(token, ())
        if type(found) is tuple:
            return found
        return (found,) if isinstance(found, str) else tuple(found)

    first = owners(tokens[0])
    out = [TokenRange(lo, tokens[0], first)] if lo < tokens[0] else []
    out.extend([TokenRange(a, b, owners(b)) for a, b in itertools.pairwise(tokens)])
    if tokens[-1] < hi:
        out.append(TokenRange(tokens[-1], hi, first))
    return out


def split_range(r: TokenRange, parts: int) -> list[TokenRange]:
    """Cut a range into contiguous sub-ranges of near-equal width.

    Parameters
    ----------
    r : TokenRange
        A non-wrapping range.
    parts : int
        Number of sub-ranges wanted (at least 1).

    Returns
    -------
    list of TokenRange
        ``min(parts, width)`` non-empty sub-ranges in ring order, with the replicas of ``r``, covering ``r``
        exactly; their widths differ by at most one token. An empty range gives an empty list.

    Raises
    ------
    PlanError
        If ``parts < 1``, ``r`` wraps, or the split would create more than a million sub-ranges.
    """
    if parts < 1:
        raise PlanError(f"a token range must be split into at least 1 part, not {parts}")
    if r.wraps:
        raise PlanError(
            f"token range ({r.start}, {r.end}] wraps around the ring; split it at the partitioner's "
            "minimum token first (ring_ranges does)"
        )
    width = r.end - r.start
    n = min(parts, width)
    if n == 0:
        return []
    check_count(n)
    bounds = [r.start + width * i // n for i in range(n + 1)]
    return [TokenRange(a, b, r.replicas) for a, b in itertools.pairwise(bounds)]


def ranges_cover_ring(ranges: Iterable[TokenRange], partitioner: Partitioner = MURMUR3) -> bool:
    """Whether ranges are disjoint and cover ``(min_token, max_token]`` exactly once.

    Parameters
    ----------
    ranges : iterable of TokenRange
        Ranges in any order; a wrapping range counts as its two pieces on either side of the minimum token,
        an empty range counts as nothing.
    partitioner : Partitioner
        Ring bounds, default :data:`MURMUR3`.

    Returns
    -------
    bool
        True iff every token of the ring is in exactly one range and no range leaves the ring.
    """
    try:
        pieces = sorted(unwrap(ranges, partitioner))
    except PlanError:
        return False
    expected = partitioner.min_token
    for r in pieces:
        if r.start != expected:
            return False
        expected = r.end
    return expected == partitioner.max_token


def check_count(n: int) -> None:
    if n > MAX_RANGES:
        raise PlanError(
            f"the plan would need {n} token ranges (limit {MAX_RANGES}); raise the target size "
            "or lower the number of partitions"
        )


def unwrap(ranges: Iterable[TokenRange], partitioner: Partitioner) -> list[TokenRange]:
    """Non-empty, non-wrapping pieces of ``ranges`` in input order; PlanError if one leaves the ring."""
    lo, hi = partitioner.min_token, partitioner.max_token
    out = []
    for r in ranges:
        if not (lo <= r.start <= hi and lo <= r.end <= hi):
            raise PlanError(
                f"token range ({r.start}, {r.end}] is outside the {partitioner.short_name} ring [{lo}, {hi}]"
            )
        if r.start < r.end:
            out.append(r)
        elif r.start > r.end:
            pieces = (TokenRange(r.start, hi, r.replicas), TokenRange(lo, r.end, r.replicas))
            out.extend(p for p in pieces if p.start < p.end)
    return out


def clip_ranges(
    ranges: Sequence[TokenRange], low: int | None, high: int | None, partitioner: Partitioner
) -> list[TokenRange]:
    """The parts of non-wrapping ``ranges`` inside ``(low, high]`` (a bound of None: the ring's own)."""
    lo = partitioner.min_token if low is None else max(low, partitioner.min_token)
    hi = partitioner.max_token if high is None else min(high, partitioner.max_token)
    out = []
    for rng in ranges:
        start, end = max(rng.start, lo), min(rng.end, hi)
        if start < end:
            out.append(replace(rng, start=start, end=end))
    return out
