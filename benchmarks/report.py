"""From the runs of a benchmark to its summary, its markdown tables and docs/performance.md's blocks.

Pure functions (no I/O but :func:`update_doc`): a run is a dict as the harness records it (``dataset``,
``contender``, ``op``, ``phase``, ``rep``, ``rows``, ``seconds``, ``client_cpu_s``, ``node_cpu_s``,
``peak_rss_mb``, optional ``workers_peak_rss_mb``, ``own_rows_per_s`` and ``error`` — a run with an
``error`` is void: it counts for nothing but the report of its failure).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# every operation's DSBulk counterpart: the denominator of "× DSBulk"
BASELINE = {"read": "dsbulk_unload", "count": "dsbulk_count", "write": "dsbulk_load"}
RAW = "raw_page"
OPS = ("read", "count", "write")
FLAT_LIMIT = 1.20  # peak RSS at the larger table ÷ at the smaller
RSS_LIMIT_MB = 1024.0

Run = Mapping[str, Any]


def rows_per_s(run: Run) -> float:
    return float(run["rows"]) / run["seconds"] if run.get("seconds") else 0.0


def good(run: Run) -> bool:
    return "error" not in run and bool(run.get("seconds"))


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratios(runs: Sequence[Run], dataset: str, contender: str, other: str, phase: str = "main") -> list[float]:
    """Speed of ``contender`` ÷ speed of ``other`` on ``dataset``, round by round (the two ran in the same
    round, back to back), over the rounds where both runs are good."""
    by_rep: dict[int, dict[str, Run]] = {}
    for r in runs:
        if (
            r["dataset"] == dataset
            and r.get("phase", "main") == phase
            and r["contender"] in (contender, other)
        ):
            by_rep.setdefault(int(r["rep"]), {})[r["contender"]] = r
    out = []
    for pair in by_rep.values():
        a, b = pair.get(contender), pair.get(other)
        if a and b and good(a) and good(b) and rows_per_s(b):
            out.append(rows_per_s(a) / rows_per_s(b))
    return out


def summarize(runs: Sequence[Run], phase: str = "main") -> list[dict[str, Any]]:
    """One summary per (data set, contender), in the order they first ran."""
    keys: list[tuple[str, str]] = []
    for r in runs:
        key = (r["dataset"], r["contender"])
        if r.get("phase", "main") == phase and key not in keys:
            keys.append(key)
    out = []
    for dataset, contender in keys:
        mine = [r for r in runs if (r["dataset"], r["contender"]) == (dataset, contender)]
        mine = [r for r in mine if r.get("phase", "main") == phase]
        ok = [r for r in mine if good(r)]
        op = mine[0]["op"]
        speeds = [rows_per_s(r) for r in ok]
        summary: dict[str, Any] = {
            "dataset": dataset,
            "contender": contender,
            "op": op,
            "runs": len(mine),
            "void": [r["error"] for r in mine if "error" in r],
            "rows": ok[0]["rows"] if ok else None,
            "seconds": [round(r["seconds"], 3) for r in mine if good(r)],
            "rows_per_s": {
                "median": _median(speeds),
                "min": min(speeds) if speeds else None,
                "max": max(speeds) if speeds else None,
            },
            "client_cpu_s_per_m_rows": _median(
                r["client_cpu_s"] / r["rows"] * 1e6 for r in ok if r.get("rows") and r.get("client_cpu_s")
            ),
            "node_cpu_s": _median(r.get("node_cpu_s") for r in ok),
            "peak_rss_mb": max((r["peak_rss_mb"] for r in ok), default=None),
            "workers_peak_rss_mb": max(
                (r["workers_peak_rss_mb"] for r in ok if r.get("workers_peak_rss_mb")), default=None
            ),
            "own_rows_per_s": _median(r.get("own_rows_per_s") for r in ok),
        }
        base = BASELINE.get(op)
        summary["ratio_to_dsbulk"] = (
            _median(ratios(runs, dataset, contender, base, phase)) if base and base != contender else None
        )
        summary["ratio_to_raw_page"] = (
            _median(ratios(runs, dataset, contender, RAW, phase))
            if op == "read" and contender != RAW
            else None
        )
        out.append(summary)
    return out


# --- formatting ---------------------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 0, suffix: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix}"


def _speed(s: Mapping[str, Any]) -> str:
    rps = s["rows_per_s"]
    if rps["median"] is None:
        return "void"
    text = _num(rps["median"])
    if s["runs"] > 1 and rps["min"] != rps["max"]:
        text += f" ({_k(rps['min'])}–{_k(rps['max'])})"
    if s.get("own_rows_per_s"):
        text += f"; own {_k(s['own_rows_per_s'])}"
    return text


def _k(value: float) -> str:
    return f"{value / 1000:,.0f}k" if value >= 10_000 else f"{value:,.0f}"


def _rss(s: Mapping[str, Any]) -> str:
    text = _num(s["peak_rss_mb"])
    if s.get("workers_peak_rss_mb"):
        text += f" (workers {_num(s['workers_peak_rss_mb'])})"
    return text


def op_table(summaries: Sequence[Mapping[str, Any]], op: str) -> str:
    """The markdown table of one operation's summaries (every data set)."""
    read = op == "read"
    head = "| data set | contender | rows | rows/s: median (min–max) | × DSBulk |"
    head += " × raw page |" if read else ""
    head += " client CPU-s / M rows | node CPU-s | peak RSS (MiB) |"
    lines = [
        head,
        "| --- | --- | ---: | ---: | ---: |" + (" ---: |" if read else "") + " ---: | ---: | ---: |",
    ]
    for s in summaries:
        if s["op"] != op:
            continue
        if s["rows"] is None:
            reason = "; ".join(dict.fromkeys(s["void"]))[:160].replace("|", "/")
            cells = [s["dataset"], s["contender"], f"void: {reason}", "–", "–"] + (["–"] if read else [])
            lines.append("| " + " | ".join([*cells, "–", "–", "–"]) + " |")
            continue
        void = f" ({len(s['void'])} void)" if s["void"] else ""
        cells = [
            s["dataset"],
            s["contender"],
            f"{s['rows']:,}{void}",
            _speed(s),
            _num(s["ratio_to_dsbulk"], 2, "×"),
        ]
        if read:
            cells.append(_num(s["ratio_to_raw_page"], 2, "×"))
        cells += [_num(s["client_cpu_s_per_m_rows"], 1), _num(s["node_cpu_s"], 1), _rss(s)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _find(summaries: Sequence[Mapping[str, Any]], dataset: str, contender: str) -> Mapping[str, Any] | None:
    return next((s for s in summaries if s["dataset"] == dataset and s["contender"] == contender), None)


# (label, contender, field, goal, higher is better)
TARGETS = [
    ("read → pandas ÷ raw-page client", "ours_read", "ratio_to_raw_page", 0.8),
    ("read → pandas ÷ DSBulk unload", "ours_read", "ratio_to_dsbulk", 2.0),
    ("export CSV ÷ DSBulk unload", "ours_export_csv", "ratio_to_dsbulk", 1.5),
    ("export Parquet ÷ DSBulk unload", "ours_export_parquet", "ratio_to_dsbulk", 2.0),
    ("load CSV ÷ DSBulk load", "ours_load_csv", "ratio_to_dsbulk", 1.5),
    ("count ÷ DSBulk count", "ours_count", "ratio_to_dsbulk", 1.0),
    ("write a frame (to_cassandra) ÷ DSBulk load", "ours_write", "ratio_to_dsbulk", 2.0),
]


def target_rows(summaries: Sequence[Mapping[str, Any]], datasets: Sequence[str]) -> list[dict[str, Any]]:
    """Each target of the speed issue, measured per data set: ``{"target", "goal", "values": {ds: (value,
    met)}}`` (value None when a contender did not run or was void)."""
    out = []
    for label, contender, field, goal in TARGETS:
        values: dict[str, tuple[float | None, bool | None]] = {}
        for ds in datasets:
            s = _find(summaries, ds, contender)
            value = s.get(field) if s else None
            values[ds] = (value, None if value is None else value >= goal)
        out.append({"target": label, "goal": f"≥ {goal:g}×", "unit": "×", "values": values})
    values = {}
    for ds in datasets:
        ours, raw = _find(summaries, ds, "ours_read"), _find(summaries, ds, RAW)
        a = ours and ours.get("client_cpu_s_per_m_rows")
        b = raw and raw.get("client_cpu_s_per_m_rows")
        value = a / b if a and b else None
        values[ds] = (value, None if value is None else value <= 2.0)
    label = "client CPU per row: read → pandas ÷ raw-page client"
    out.append({"target": label, "goal": "≤ 2×", "unit": "×", "values": values})
    values = {}
    for ds in datasets:
        peaks = [
            s["peak_rss_mb"]
            for s in summaries
            if s["dataset"] == ds
            and s["contender"].startswith("ours_")
            and s["peak_rss_mb"] is not None
            and s["contender"] != "ours_read"
            and not s["contender"].endswith("_lc")
        ]
        value = max(peaks) if peaks else None
        values[ds] = (value, None if value is None else value <= RSS_LIMIT_MB)
    out.append(
        {
            "target": "client peak RSS, largest of ours (export, count, load, write; default scheduler), MiB",
            "goal": f"≤ {RSS_LIMIT_MB:,.0f}",
            "unit": "MiB",
            "values": values,
        }
    )
    return out


def _mark(value: float | None, met: bool | None, digits: int = 2, suffix: str = "×") -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{suffix} {'✓' if met else '✗'}"


def targets_table(rows: Sequence[Mapping[str, Any]], datasets: Sequence[str]) -> str:
    lines = ["| target | goal | " + " | ".join(datasets) + " |", "| --- | --- |" + " ---: |" * len(datasets)]
    for row in rows:
        digits, suffix = (0, "") if row["unit"] == "MiB" else (2, "×")
        cells = []
        for d in datasets:
            value, met = row["values"][d]
            cells.append(_mark(value, met, digits, suffix))
        lines.append(f"| {row['target']} | {row['goal']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rss_scale(runs: Sequence[Run], small: str, big: str) -> list[dict[str, Any]]:
    """Per contender of the scale phase: peak RSS (max over rounds) at ``small`` and ``big`` rows, the
    ratio, and the median speeds."""
    out = []
    contenders = list(dict.fromkeys(r["contender"] for r in runs if r.get("phase") == "rss"))
    for contender in contenders:
        entry: dict[str, Any] = {"contender": contender}
        for label, dataset in (("small", small), ("big", big)):
            mine = [r for r in runs if r.get("phase") == "rss" and r["contender"] == contender]
            mine = [r for r in mine if r["dataset"] == dataset]
            ok = [r for r in mine if good(r)]
            entry[label] = {
                "dataset": dataset,
                "peak_rss_mb": max((r["peak_rss_mb"] for r in ok), default=None),
                "rows_per_s": _median(rows_per_s(r) for r in ok),
                "void": [r["error"] for r in mine if "error" in r],
            }
        a, b = entry["small"]["peak_rss_mb"], entry["big"]["peak_rss_mb"]
        entry["ratio"] = b / a if a and b else None
        entry["flat"] = None if entry["ratio"] is None else entry["ratio"] <= FLAT_LIMIT
        out.append(entry)
    return out


def rss_table(entries: Sequence[Mapping[str, Any]]) -> str:
    if not entries:
        return "(not measured in this run: `run.py --rss-scale`)"
    small, big = entries[0]["small"]["dataset"], entries[0]["big"]["dataset"]
    lines = [
        f"| contender | peak RSS {small} (MiB) | peak RSS {big} (MiB) | ratio (goal ≤ {FLAT_LIMIT:.2f}) "
        f"| rows/s {small} / {big} |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for e in entries:
        ratio = _mark(e["ratio"], e["flat"]) if e["ratio"] is not None else "void"
        speeds = f"{_num(e['small']['rows_per_s'])} / {_num(e['big']['rows_per_s'])}"
        lines.append(
            f"| {e['contender']} | {_num(e['small']['peak_rss_mb'])} | {_num(e['big']['peak_rss_mb'])} "
            f"| {ratio} | {speeds} |"
        )
    return "\n".join(lines)


# --- docs/performance.md ------------------------------------------------------------------------------------


def marker(name: str, end: bool = False) -> str:
    return f"<!-- bench:{name}:{'end' if end else 'start'} -->"


def replace_block(text: str, name: str, content: str) -> str:
    """``text`` with what lies between the ``bench:<name>`` start and end markers replaced by ``content``
    (the markers stay). Raises ``ValueError`` when the pair is missing, repeated or out of order."""
    start, end = marker(name), marker(name, end=True)
    if text.count(start) != 1 or text.count(end) != 1:
        raise ValueError(f"docs: expected exactly one {start} … {end} pair")
    i, j = text.index(start), text.index(end)
    if j < i:
        raise ValueError(f"docs: {end} comes before {start}")
    return text[: i + len(start)] + "\n" + content.strip("\n") + "\n" + text[j:]


def blocks(text: str) -> list[str]:
    """Names of the ``bench:<name>`` blocks in ``text``, in order."""
    return re.findall(r"<!-- bench:([\w-]+):start -->", text)


def update_doc(path: Path, contents: Mapping[str, str]) -> list[str]:
    """Replace the named blocks of the markdown file ``path``; returns the names replaced."""
    text = path.read_text()
    for name, content in contents.items():
        text = replace_block(text, name, content)
    path.write_text(text)
    return list(contents)


def op_tables(summaries: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``{op: markdown table}`` of every operation that has summaries."""
    return {op: op_table(summaries, op) for op in OPS if any(s["op"] == op for s in summaries)}
