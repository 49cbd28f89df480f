"""The request-latency histogram: quantiles within its 5 % buckets, merging, JSON and pickling."""

from __future__ import annotations

import json
import pickle
import random

import pytest

from cassandra_frames.latency import LatencyHistogram


def _exact(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-int(q * 1_000_000) * len(ordered) // 1_000_000) - 1)]


@pytest.mark.parametrize("q", [0.01, 0.5, 0.9, 0.99, 1.0])
def test_quantiles_within_the_bucket_width(q: float) -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(-6, 1.2) for _ in range(20_000)]  # ~2.5 ms median, long tail
    h = LatencyHistogram()
    for v in values:
        h.record(v)
    got = h.quantile_ms(q)
    assert got is not None
    want = _exact(values, q) * 1000
    assert abs(got - want) / want < 0.03, (q, got, want)


def test_empty_has_no_quantiles() -> None:
    h = LatencyHistogram()
    assert h.quantile_ms(0.5) is None
    assert h.count == 0
    assert repr(h) == "LatencyHistogram(empty)"


def test_merge_sum_json_and_pickle_keep_every_request() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    for ms in (1, 2, 3):
        a.record(ms / 1000)
    for ms in (100, 200):
        b.record(ms / 1000)
    wire = json.loads(json.dumps(b.to_json()))  # what a checkpoint holds
    total = LatencyHistogram.sum([a, wire, None])
    assert total.count == 5
    assert total.quantile_ms(1.0) == pytest.approx(200, rel=0.03)
    assert total.quantile_ms(0.2) == pytest.approx(1, rel=0.03)
    back = pickle.loads(pickle.dumps(total))
    assert back.counts == total.counts
    assert a.count == 3  # sum() leaves its parts alone


def test_count_below_and_total() -> None:
    h = LatencyHistogram()
    for ms in (1, 1, 5, 50):
        h.record(ms / 1000)
    assert h.count_below(0.002) == 2
    assert h.count_below(0.01) == 3
    assert h.count_below(1.0) == 4
    assert h.total_seconds() == pytest.approx(0.057, rel=0.03)


def test_sub_microsecond_requests_land_in_the_first_bucket() -> None:
    h = LatencyHistogram()
    h.record(0.0)
    h.record(1e-7)
    assert h.counts == {0: 2}
    assert h.quantile_ms(0.5) == pytest.approx(0.001)
