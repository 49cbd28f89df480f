"""The benchmark harness's pure parts (benchmarks/report.py, benchmarks/datasets.py): no server, no clock."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import report
from benchmarks.datasets import dataset, human, narrow_row, parse_rows, wide_row


def _run(contender: str, op: str, rep: int, rows: int, seconds: float, **extra: object) -> dict[str, object]:
    return {
        "phase": "main",
        "op": op,
        "dataset": "d",
        "contender": contender,
        "rep": rep,
        "rows": rows,
        "seconds": seconds,
        "client_cpu_s": seconds / 2,
        "node_cpu_s": 1.0,
        "peak_rss_mb": 100.0 + rep,
        **extra,
    }


def test_replace_block_keeps_everything_outside_the_markers() -> None:
    text = "intro\n<!-- bench:read:start -->\nold\ntable\n<!-- bench:read:end -->\nprose after\n"
    new = report.replace_block(text, "read", "| a |\n| --- |")
    assert new == "intro\n<!-- bench:read:start -->\n| a |\n| --- |\n<!-- bench:read:end -->\nprose after\n"
    assert report.replace_block(new, "read", "| a |\n| --- |") == new  # idempotent
    assert report.blocks(new) == ["read"]


@pytest.mark.parametrize(
    "text",
    [
        "no markers",
        "<!-- bench:read:end --> x <!-- bench:read:start -->",
        "<!-- bench:read:start --> <!-- bench:read:start --> <!-- bench:read:end -->",
    ],
)
def test_replace_block_refuses_missing_or_broken_markers(text: str) -> None:
    with pytest.raises(ValueError, match="bench:read"):
        report.replace_block(text, "read", "x")


def test_ratios_pair_runs_of_the_same_round_and_skip_void_ones() -> None:
    runs = [
        _run("ours_read", "read", 0, 1000, 1.0),
        _run("dsbulk_unload", "read", 0, 1000, 4.0),
        _run("ours_read", "read", 1, 1000, 2.0),
        _run("dsbulk_unload", "read", 1, 1000, 4.0),
        _run("ours_read", "read", 2, 10, 1.0, error="moved 10 rows of 1,000"),
        _run("dsbulk_unload", "read", 2, 1000, 1.0),
    ]
    assert report.ratios(runs, "d", "ours_read", "dsbulk_unload") == [4.0, 2.0]
    (ours, dsbulk) = report.summarize(runs)
    assert ours["ratio_to_dsbulk"] == 3.0
    assert ours["rows_per_s"] == {"median": 750.0, "min": 500.0, "max": 1000.0}
    assert ours["void"] == ["moved 10 rows of 1,000"]
    assert ours["client_cpu_s_per_m_rows"] == 750.0  # seconds / 2 per 1,000 rows, median of 0.5 and 1.0
    assert ours["peak_rss_mb"] == 101.0
    assert dsbulk["ratio_to_dsbulk"] is None


def test_a_contender_with_only_void_runs_is_reported_void_not_as_a_speed() -> None:
    runs = [_run("ours_count", "count", 0, 3, 1.0, error="moved 3 rows of 1,000")]
    (summary,) = report.summarize(runs)
    assert summary["rows"] is None
    table = report.op_table([summary], "count")
    assert "void: moved 3 rows of 1,000" in table
    assert table.count("\n") == 2


def test_targets_compare_with_the_goals() -> None:
    runs = [
        _run("ours_read", "read", 0, 1000, 1.0),
        _run("raw_page", "read", 0, 1000, 0.5),
        _run("dsbulk_unload", "read", 0, 1000, 3.0),
    ]
    rows = report.target_rows(report.summarize(runs), ["d"])
    by_name = {r["target"]: r["values"]["d"] for r in rows}
    assert by_name["read → pandas ÷ raw-page client"] == (0.5, False)
    assert by_name["read → pandas ÷ DSBulk unload"] == (3.0, True)
    assert by_name["count ÷ DSBulk count"] == (None, None)
    assert "3.00× ✓" in report.targets_table(rows, ["d"])


def test_rss_scale_ratio() -> None:
    runs = [
        {
            **_run("ours_export_csv", "read", 0, 1000, 1.0),
            "phase": "rss",
            "dataset": "s",
            "peak_rss_mb": 300.0,
        },
        {
            **_run("ours_export_csv", "read", 0, 4000, 4.0),
            "phase": "rss",
            "dataset": "b",
            "peak_rss_mb": 330.0,
        },
    ]
    (entry,) = report.rss_scale(runs, "s", "b")
    assert entry["ratio"] == pytest.approx(1.1)
    assert entry["flat"] is True
    assert "1.10× ✓" in report.rss_table([entry])


def test_data_set_names_and_rows() -> None:
    assert [human(1_000_000), human(100_000), human(1234)] == ["1m", "100k", "1234"]
    assert [parse_rows("4m"), parse_rows("100k"), parse_rows("250000")] == [4_000_000, 100_000, 250_000]
    narrow, wide = dataset("narrow_1m"), dataset("wide_100k")
    assert (narrow.name, narrow.rows, narrow.target) == ("narrow_1m", 1_000_000, "w_narrow_1m")
    assert len(wide.columns) == 30
    assert (len(wide_row(12345)), len(narrow_row(12345))) == (30, 5)
    assert wide_row(7) == wide_row(7)  # a pure function of the index
    assert narrow_row(0)[0] == narrow_row(99)[0] != narrow_row(100)[0]  # 100 rows per partition
    assert dataset("narrow_1m").fingerprint() != dataset("narrow_100k").fingerprint()
    with pytest.raises(ValueError, match="unknown data set"):
        dataset("synthetic")
