"""``make bench``: every contender against one node, alternating, several rounds; results and docs tables.

    .venv/bin/python benchmarks/run.py                       # full: narrow_1m, wide_100k, flights; 3 rounds
    .venv/bin/python benchmarks/run.py --quick               # make bench-quick: 100,000 rows, 1 round
    .venv/bin/python benchmarks/run.py --datasets flights --only ours_read,raw_page,dsbulk_unload --reps 2

1. Starts the local node (``cassandra-frames local``) or reuses the running one (``CASSANDRA_CONTACT_POINTS``
   names an external cluster); builds DSBulk on first use (benchmarks/dsbulk/dsbulk.sh, outside any clock).
2. Creates each data set once with the test suite's plain loader (benchmarks/datasets.py) and, for the
   write contenders, the input files (our exporter) and an empty target table.
3. Per data set and operation (read = everything that reads a whole table; count; write = everything that
   fills a table), ``--reps`` rounds; in each round every contender runs once, in its own process, the order
   reversed every other round. A contender that moved a number of rows other than the table's — or failed —
   is void: reported, never a speed, and the harness exits non-zero.
4. ``--rss-scale``: ``ours_export_csv``, ``ours_export_parquet`` and ``ours_count`` on narrow_1m and
   narrow_4m, alternating: client peak RSS must not grow with the table.
5. Writes ``benchmarks/results/<date>.json`` (machine, versions, every run, the summaries) and regenerates
   the ``<!-- bench:… -->`` blocks of docs/performance.md. ``--quick`` and runs of some contenders or data
   sets (``--only``, ``--skip``, ``--datasets``, ``--ops``) write ``benchmarks/results/quick/`` or
   ``…/partial/`` instead (not kept in git) and leave the docs alone unless ``--docs``.

Figures: rows/s = rows ÷ wall seconds of the timed part (median, min, max over the rounds); "× DSBulk" = the
median over rounds of (this speed ÷ DSBulk's speed in the same round): unload for reads and exports, count
for counts, load for loads and writes; client CPU-s per million rows (this process + the tools it ran + the
LocalCluster's workers); node CPU-s (the Cassandra process); peak RSS of the client process (the tool's own
for cqlsh / DSBulk; the workers' apart). Benchmarks never assert on time: only row counts decide.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import importlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import report
from benchmarks.common import (
    DSBULK,
    KEYSPACE,
    REPO,
    count_rows,
    cqlsh_args,
    driver_session,
    emit,
    log,
    node,
    parse_result,
    settle,
)
from benchmarks.datasets import DataSet, dataset, ensure_inputs, ensure_table, ensure_target

RESULTS = REPO / "benchmarks" / "results"
DOC = REPO / "docs" / "performance.md"
FULL_DATASETS = ["narrow_1m", "wide_100k", "flights"]
QUICK_DATASETS = ["narrow_100k"]
RSS_SMALL = "narrow_1m"


@dataclass(frozen=True)
class Contender:
    name: str
    op: str  # read | count | write
    module: str  # benchmarks.<module> holds a function of this name: (DataSet, work dir) -> result
    tool: str | None = None  # an external tool it needs: "dsbulk" | "cqlsh"
    default: bool = True  # in a run without --only
    quick: bool = False  # in --quick (make bench-quick: every kind of contender once, kept short)
    inputs: tuple[str, ...] = ()  # input files it reads (datasets.ensure_inputs)


CONTENDERS = {
    c.name: c
    for c in [
        Contender("ours_read", "read", "read", quick=True),
        Contender("ours_read_lc", "read", "read", quick=True),
        Contender("raw_page", "read", "read", quick=True),
        Contender("null_client", "read", "read", quick=True),
        Contender("naive_read", "read", "read", quick=True),
        Contender("ours_export_csv", "read", "export", quick=True),
        Contender("ours_export_csv_lc", "read", "export"),
        Contender("ours_export_parquet", "read", "export", quick=True),
        Contender("ours_export_parquet_lc", "read", "export"),
        Contender("cqlsh_copy_to", "read", "export", tool="cqlsh"),
        Contender("dsbulk_unload", "read", "export", tool="dsbulk", quick=True),
        Contender("ours_count", "count", "export", quick=True),
        Contender("dsbulk_count", "count", "export", tool="dsbulk"),
        Contender("ours_write", "write", "write", inputs=("parquet",), quick=True),
        Contender("ours_write_lc", "write", "write", inputs=("parquet",)),
        Contender("ours_load_csv", "write", "load", inputs=("csv",), quick=True),
        Contender("ours_load_csv_lc", "write", "load", inputs=("csv",), quick=True),
        Contender("ours_load_parquet", "write", "load", inputs=("parquet",), quick=True),
        Contender("cqlsh_copy_from", "write", "load", tool="cqlsh", inputs=("onecsv",)),
        Contender("dsbulk_load", "write", "load", tool="dsbulk", inputs=("csv",)),
        Contender("naive_write", "write", "write", default=False),
    ]
}
RSS_CONTENDERS = ["ours_export_csv", "ours_export_parquet", "ours_count"]


# --- the child: one contender, one run ----------------------------------------------------------------------


def child(name: str, dataset_name: str, work: Path) -> None:
    contender = CONTENDERS[name]
    if contender.name.startswith("ours"):
        # imports are paid once per interpreter (a notebook has them already): not part of the timing
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
        import pyarrow.parquet  # noqa: F401

        import cassandra_frames  # noqa: F401
    import cassandra.cluster  # noqa: F401
    import pandas  # noqa: F401

    node()  # the harness finding its node: not timed
    function = getattr(importlib.import_module(f"benchmarks.{contender.module}"), name)
    emit(function(dataset(dataset_name), work))


def run_child(contender: Contender, ds: DataSet, timeout: float) -> dict[str, Any]:
    """Run one contender once in its own process group (killed whole on timeout); its result dict, or
    ``{"error": …}``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    with tempfile.TemporaryDirectory(prefix=f"cf-bench-{contender.name}-") as work:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", contender.name]
        cmd += ["--dataset", ds.name, "--work", work]
        proc = subprocess.Popen(
            cmd,
            cwd=work,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group, so that it can be ended whole
        )
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        except BaseException:  # interrupted: end the child and its tools before leaving
            _kill_group(proc.pid)
            raise
        _kill_group(proc.pid)  # whatever it left behind (a tool, LocalCluster workers)
        if timed_out:
            out, err = proc.communicate()
            return {"error": f"no result within {timeout:.0f} s (killed)"}
    result = parse_result(out)
    if proc.returncode != 0 or result is None:
        tail = [ln for ln in err.strip().splitlines() if ln.strip()][-12:]
        log("  | " + "\n  | ".join(tail))
        return {"error": f"exit {proc.returncode}: {tail[-1] if tail else 'no output'}"[:300]}
    return result


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


# --- preflight ----------------------------------------------------------------------------------------------


def tools_available(needed: set[str], ci: bool) -> tuple[set[str], list[str]]:
    """Which of the external tools work (DSBulk is built here on first use, outside any clock).

    A missing tool fails the run under CI=true; otherwise its contenders are skipped, loudly."""
    ok, notes = set(), []
    for tool in sorted(needed):
        args = [str(DSBULK), "--version"] if tool == "dsbulk" else [*cqlsh_args()[:1], "--version"]
        try:
            t0 = time.perf_counter()
            proc = subprocess.run(args, capture_output=True, text=True, timeout=900, check=False)
            good = proc.returncode == 0
            detail = (proc.stdout + proc.stderr).strip().splitlines()
            took = time.perf_counter() - t0
            if good and took > 20:
                log(f"{tool}: ready after {took:.0f} s (first use: built from Maven Central)")
        except (OSError, subprocess.TimeoutExpired) as exc:
            good, detail = False, [str(exc)]
        if good:
            ok.add(tool)
            continue
        problem = f"{tool} is not usable ({detail[-1] if detail else '?'})"
        if ci:
            raise SystemExit(f"CI=true: {problem}; nothing may be skipped under CI")
        message = f"{problem}: its contenders are skipped"
        log("WARNING: " + message)
        notes.append(message)
    return ok, notes


def _version(module: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def _first_line(*args: str) -> str | None:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def machine(config: Any, tools: set[str]) -> dict[str, Any]:
    """Machine, versions and commit for the results file (``tools``: the external tools that ran)."""
    cpu_model = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in ln
        ),
        platform.processor(),
    )
    mem = next(
        (
            int(ln.split()[1]) // 1024
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        ),
        None,
    )
    session = driver_session(config)
    try:
        cassandra = session.execute("SELECT release_version FROM system.local").one()[0]
    finally:
        session.cluster.shutdown()
    git = _first_line("git", "-C", str(REPO), "rev-parse", "--short", "HEAD")
    dirty = _first_line("git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no")
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_mb": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "commit": (git or "?") + ("+dirty" if dirty else ""),
        "versions": {
            "cassandra": cassandra,
            "cassandra_frames": _version("cassandra-frames"),
            "cassandra-driver": _version("cassandra-driver"),
            "pandas": _version("pandas"),
            "pyarrow": _version("pyarrow"),
            "numpy": _version("numpy"),
            "dask": _version("dask"),
            "distributed": _version("distributed"),
            "cqlsh": _first_line(cqlsh_args()[0], "--version") if "cqlsh" in tools else None,
            "dsbulk": _first_line(str(DSBULK), "--version") if "dsbulk" in tools else None,
            "java": _first_line("java", "-version"),
        },
        "node": "local (cassandra-frames local)" if node()[1] else "external (CASSANDRA_CONTACT_POINTS)",
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],  # 1, 5, 15 min: a shared machine?
    }


# --- the rounds ---------------------------------------------------------------------------------------------


def _line(run: dict[str, Any]) -> str:
    head = f"{run['dataset']:12s} {run['contender']:23s} r{run['rep']} "
    if "error" in run:
        return head + f"VOID {run['error']}"
    rps = report.rows_per_s(run)
    cpu = run["client_cpu_s"] / run["rows"] * 1e6 if run["rows"] else 0.0
    node_cpu = run.get("node_cpu_s")
    return head + (
        f"{run['rows']:>9,} rows {run['seconds']:7.2f} s {rps:>9,.0f} rows/s  CPU {cpu:5.1f} s/M  "
        f"node {node_cpu if node_cpu is None else round(node_cpu, 1)} s  RSS {run['peak_rss_mb']:,.0f} MiB"
        + (f" (workers {run['workers_peak_rss_mb']:,.0f})" if run.get("workers_peak_rss_mb") else "")
    )


def one_run(
    contender: Contender, ds: DataSet, rep: int, position: int, phase: str, session: Any
) -> dict[str, Any]:
    """Run ``contender`` on ``ds`` once (truncating and counting the target around a write) and check
    its row count: a run with the wrong count gets an ``error`` (void)."""
    if contender.op == "write":
        session.execute(f"TRUNCATE {KEYSPACE}.{ds.target}", timeout=300)
    settled = settle(node()[1])
    timeout = 300 + ds.rows / 250  # a bound against a hang, far above any speed seen here
    data = run_child(contender, ds, timeout)
    run: dict[str, Any] = {
        "phase": phase,
        "op": contender.op,
        "dataset": ds.name,
        "contender": contender.name,
        "rep": rep,
        "position": position,
        "expected": ds.rows,
        "rows": 0,
        "settled_s": round(settled, 1),  # waited for the node to be idle before the run
        "loadavg_1m": round(os.getloadavg()[0], 2),  # the machine's load when the run ended
        **data,
    }
    if "error" not in run:
        if contender.op == "write":
            run["counted"] = count_rows(session, ds.target)
            if run["counted"] != ds.rows or run["rows"] != ds.rows:
                run["error"] = (
                    f"{run['counted']:,} rows in the table (tool said {run['rows']:,}) of {ds.rows:,}"
                )
        elif run["rows"] != ds.rows:
            run["error"] = f"moved {run['rows']:,} rows of {ds.rows:,}"
    log(_line(run))
    return run


def rounds(
    names: Sequence[str], datasets: Sequence[DataSet], reps: int, phase: str, session: Any
) -> list[dict[str, Any]]:
    """``reps`` rounds of ``names`` on each data set; the order is reversed every other round (and, with
    several data sets in one round, they alternate too)."""
    runs = []
    for rep in range(reps):
        order = list(names) if rep % 2 == 0 else list(reversed(names))
        sets = list(datasets) if rep % 2 == 0 else list(reversed(datasets))
        for position, name in enumerate(order):
            for ds in sets:
                runs.append(one_run(CONTENDERS[name], ds, rep, position, phase, session))
    return runs


# --- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="100,000 rows, 1 round, row counts only (make bench-quick)"
    )
    parser.add_argument("--datasets", help=f"comma-separated (default {','.join(FULL_DATASETS)})")
    parser.add_argument("--ops", default="read,count,write", help="comma-separated: read, count, write")
    parser.add_argument("--only", help="comma-separated contenders (default: all but naive_write)")
    parser.add_argument("--skip", default="", help="comma-separated contenders to leave out")
    parser.add_argument("--reps", "--repeat", type=int, help="rounds (default 3; --quick 1)")
    parser.add_argument(
        "--rss-scale",
        action=argparse.BooleanOptionalAction,
        help="also the peak-RSS check on narrow_1m vs --rss-rows (default: only in a full run)",
    )
    parser.add_argument("--rss-rows", default="4m", help="rows of the larger narrow table (default 4m)")
    parser.add_argument("--rss-reps", type=int, help="rounds of the RSS check (default min(reps, 2))")
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        help="regenerate the bench blocks of docs/performance.md (default: only for a full run)",
    )
    parser.add_argument("--results", type=Path, help="directory of the results JSON")
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="only print (and put in the docs) a results file's tables"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--dataset", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    names = [n.strip() for n in (args.only or "").split(",") if n.strip()]
    unknown = [n for n in [*names, *args.skip.split(",")] if n.strip() and n.strip() not in CONTENDERS]
    if unknown:
        parser.error(f"unknown contender(s) {', '.join(unknown)}; known: {', '.join(CONTENDERS)}")
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    if set(ops) - set(report.OPS):
        parser.error(f"--ops: read, count, write (not {args.ops})")
    return args


def results_path(directory: Path, now: dt.datetime) -> Path:
    """``<dir>/<YYYY-MM-DD>.json``, or ``-2``, ``-3`` … when that day already has one."""
    directory.mkdir(parents=True, exist_ok=True)
    base = now.strftime("%Y-%m-%d")
    path, n = directory / f"{base}.json", 1
    while path.exists():
        n += 1
        path = directory / f"{base}-{n}.json"
    return path


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def run_block(result: dict[str, Any], path: Path) -> str:
    """The docs' paragraph on a run: when, what, on which machine and versions, how loaded."""
    meta, options = result["meta"], result["options"]
    v = meta["versions"]
    text = (
        f"Run of {meta['date'].replace('T', ' ')[:16]} UTC, commit `{meta['commit']}`: "
        f"`{options['command']}` — {options['reps']} round(s), data sets {', '.join(options['datasets'])}; "
        f"{meta['cpu_count']} cores ({meta['cpu_model']}), {meta['memory_mb']:,} MiB; Cassandra "
        f"{v['cassandra']}, Python {meta['python']}, cassandra-driver {v['cassandra-driver']}, pandas "
        f"{v['pandas']}, pyarrow {v['pyarrow']}, dask {v['dask']}, {v['dsbulk'] or 'DSBulk: not run'}, "
        f"{v['cqlsh'] or 'cqlsh: not run'}. It took {result['elapsed_s'] / 60:.0f} min"
    )
    if meta.get("loadavg_start") and meta.get("loadavg_end"):
        text += (
            f"; the machine's load average (1 min) was {meta['loadavg_start'][0]:.1f} at the start and "
            f"{meta['loadavg_end'][0]:.1f} at the end (2 = both cores busy)"
        )
    text += f". Every run: `{_shown(path)}`."
    for note in result.get("skipped", []):
        text += f"\n\n**Skipped:** {note}"
    return text


def render(result: dict[str, Any], path: Path, docs: bool) -> None:
    """Print the tables of a results file and, with ``docs``, regenerate docs/performance.md's blocks (the
    summaries are recomputed from the runs, so that a results file can be rendered again)."""
    runs, options = result["runs"], result["options"]
    summaries = report.summarize(runs)
    ds_names = list(options["datasets"])
    tables = report.op_tables(summaries)
    full = set(options["ops"]) == set(report.OPS) and not options.get("partial")
    targets = report.targets_table(report.target_rows(summaries, ds_names), ds_names)
    rss_sets = options.get("rss_datasets") or list(
        dict.fromkeys(r["dataset"] for r in runs if r["phase"] == "rss")
    )
    scale = report.rss_scale(runs, *rss_sets) if len(rss_sets) == 2 else []
    for op, table in tables.items():
        print(f"\n{op}:\n{table}")
    if full and not options["quick"]:
        print("\ntargets:\n" + targets)
    if scale:
        print("\npeak RSS against table size:\n" + report.rss_table(scale))
    if docs:
        contents = {"run": run_block(result, path), **tables}
        if full:
            contents["targets"] = targets
        if scale:
            contents["rss"] = report.rss_table(scale)
        report.update_doc(DOC, contents)
        log(f"docs/performance.md: regenerated blocks {', '.join(contents)}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child(args.child, args.dataset, args.work)
        return
    if args.render:
        render(json.loads(args.render.read_text()), args.render.resolve(), docs=args.docs is not False)
        return
    started = time.perf_counter()
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    quick = args.quick
    reps = max(1, args.reps or (1 if quick else 3))
    names = [n.strip() for n in (args.only or "").split(",") if n.strip()]
    names = names or [c.name for c in CONTENDERS.values() if (c.quick if quick else c.default)]
    names = [n for n in names if n not in {s.strip() for s in args.skip.split(",")}]
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    names = [n for n in names if CONTENDERS[n].op in ops]
    datasets = [dataset(d.strip()) for d in (args.datasets or "").split(",") if d.strip()]
    datasets = datasets or [dataset(d) for d in (QUICK_DATASETS if quick else FULL_DATASETS)]
    # a full run (every default contender and data set) goes to benchmarks/results/ and the docs; a run
    # of some of them to benchmarks/results/partial/ (not kept), so that it never overwrites the tables
    partial = bool(args.only or args.skip.strip() or args.datasets or len(ops) < len(report.OPS))
    rss = args.rss_scale if args.rss_scale is not None else not (quick or partial)
    docs = args.docs if args.docs is not None else not (quick or partial)
    results_dir = args.results or RESULTS / ("quick" if quick else "partial" if partial else "")

    config, _ = node()
    available, notes = tools_available({t for n in names if (t := CONTENDERS[n].tool)}, ci)
    skipped = [n for n in names if CONTENDERS[n].tool and CONTENDERS[n].tool not in available]
    names = [n for n in names if n not in skipped]
    meta = machine(config, available)
    session = driver_session(config)
    runs: list[dict[str, Any]] = []
    try:
        for ds in datasets:
            ensure_table(config, ds)
            for op in ops:
                mine = [n for n in names if CONTENDERS[n].op == op]
                if not mine:
                    continue
                if op == "write":
                    ensure_inputs(config, ds, [k for n in mine for k in CONTENDERS[n].inputs])
                    ensure_target(session, ds)
                log(f"--- {ds.name} ({ds.rows:,} rows): {op}, {reps} round(s) of {len(mine)} contenders")
                runs += rounds(mine, [ds], reps, "main", session)
        rss_sets: list[str] = []
        if rss:
            small, big = dataset(RSS_SMALL), dataset(f"narrow_{args.rss_rows}")
            for ds in (small, big):
                ensure_table(config, ds)
            rss_reps = max(1, args.rss_reps or min(reps, 2))
            log(f"--- peak RSS against table size: {small.name} vs {big.name}, {rss_reps} round(s)")
            runs += rounds(RSS_CONTENDERS, [small, big], rss_reps, "rss", session)
            rss_sets = [small.name, big.name]
    finally:
        session.cluster.shutdown()

    summaries = report.summarize(runs)
    ds_names = [ds.name for ds in datasets]
    command = "make bench-quick" if quick and argv is None else "benchmarks/run.py " + " ".join(sys.argv[1:])
    if argv is None and not quick and len(sys.argv) == 1:
        command = "make bench"
    options = {
        "command": command.strip(),
        "quick": quick,
        "reps": reps,
        "datasets": ds_names,
        "ops": ops,
        "contenders": names,
        "rss_scale": rss,
        "rss_datasets": rss_sets,
        "partial": partial,
        "ci": ci,
    }
    void = [r for r in runs if "error" in r]
    meta["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result = {
        "meta": meta,
        "options": options,
        "skipped": notes,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "summaries": summaries,
        "targets": report.target_rows(summaries, ds_names),
        "rss_scale": report.rss_scale(runs, *rss_sets) if rss_sets else [],
        "runs": runs,
    }
    path = results_path(results_dir, dt.datetime.now(dt.UTC))
    path.write_text(json.dumps(result, indent=1, default=str) + "\n")
    render(result, path, docs)
    minutes = (time.perf_counter() - started) / 60
    log(f"\n{len(runs)} runs in {minutes:.1f} min; results: {_shown(path)}")
    if void:
        for r in void:
            log(f"VOID {r['dataset']} {r['contender']} round {r['rep']}: {r['error']}")
        raise SystemExit(f"{len(void)} of {len(runs)} runs void (wrong row count or failure): see above")
    if quick:
        log(f"bench-quick: all {len(runs)} runs moved the right number of rows")


if __name__ == "__main__":
    main()
