"""The ``cassandra-frames`` command line: ``local``, ``export``, ``load`` and ``count``.

``export``, ``load`` and ``count`` take the options a DSBulk user knows (``-h``, ``-port``, ``-u``, ``-p``,
``-k``, ``-t``, ``-url``, ``-m``, ``-header``, ``-delim``, ``-nullValue``, ``-maxErrors``,
``-maxConcurrentQueries``, ``-cl``, …) and exit with DSBulk's codes: 0 done; 1 completed with errors
(failed units or splits, resumable; a load that rejected rows); 2 aborted on too many errors (a load past
``-maxErrors``; an export tries every unit); 3 aborted on a fatal error (bad option, unknown table,
unreachable cluster, checkpoint mismatch, unwritable destination, a bad row of a load without
``-maxErrors``); 4 interrupted. Every error is one line on stderr, never a traceback. Their options are
built in :mod:`cassandra_frames.cli_bulk`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from cassandra_frames import bulk, cli_bulk, local
from cassandra_frames.errors import CassandraFramesError, ExportError, LoadError
from cassandra_frames.reports import ExportReport, LoadReport

__all__ = [
    "ABORTED_FATAL_ERROR",
    "ABORTED_TOO_MANY_ERRORS",
    "COMPLETED_WITH_ERRORS",
    "INTERRUPTED",
    "OK",
    "build_parser",
    "main",
]

OK = 0
COMPLETED_WITH_ERRORS = 1
ABORTED_TOO_MANY_ERRORS = 2
ABORTED_FATAL_ERROR = 3
INTERRUPTED = 4


class UsageError(CassandraFramesError):
    """A bad command line (argparse's complaint), exit code 3 as in DSBulk."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dir",
        default=None,
        help="cluster directory (default: $CASSANDRA_FRAMES_DIR or ./.cassandra)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``cassandra-frames`` (exposed for documentation and tests).

    Returns
    -------
    argparse.ArgumentParser
        Its ``error`` raises :class:`UsageError` (exit code 3) instead of exiting.
    """
    parser = _Parser(
        prog="cassandra-frames",
        description="Apache Cassandra tables in pandas, Dask and Arrow, and back again.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    cli_bulk.add_export(sub)
    cli_bulk.add_load(sub)
    cli_bulk.add_count(sub)

    loc = sub.add_parser("local", help="run a local Cassandra 5 node or ring (jars from Maven Central)")
    lsub = loc.add_subparsers(dest="action", required=True)

    st = lsub.add_parser("start", help="start the node(s), or find them running")
    _add_dir(st)
    st.add_argument("--nodes", type=int, default=1, help="number of nodes (default 1)")
    st.add_argument("--num-tokens", type=int, default=1, help="tokens per node: 1, or 16 for vnodes")
    st.add_argument("--auth", action="store_true", help="PasswordAuthenticator (cassandra/cassandra)")
    st.add_argument("--tls", action="store_true", help="client-to-node TLS (self-signed, via keytool)")
    st.add_argument("--version", default=None, help="exact Cassandra 5.0.x (default: newest)")
    st.add_argument("--address", default="127.0.0.1", help="loopback address of the first node")
    st.add_argument("--port", type=int, default=9042, help="CQL port (default 9042)")
    st.add_argument("--heap-mb", type=int, default=None, help="Java heap per node in MiB")
    st.add_argument("--timeout", type=float, default=240.0, help="seconds to wait per node")
    st.add_argument("--clean", action="store_true", help="delete existing data in --dir first")

    sp = lsub.add_parser("stop", help="stop the node(s) this launcher started")
    _add_dir(sp)
    sp.add_argument("--clean", action="store_true", help="also delete the cluster directory")

    ss = lsub.add_parser("status", help="show each node up or down")
    _add_dir(ss)
    return parser


def _local(args: argparse.Namespace) -> int:
    if args.action == "start":
        cluster = local.start(
            args.dir,
            nodes=args.nodes,
            num_tokens=args.num_tokens,
            auth=args.auth,
            tls=args.tls,
            version=args.version,
            address=args.address,
            port=args.port,
            heap_mb=args.heap_mb,
            timeout=args.timeout,
            clean=args.clean,
            log=print,
        )
        print(f"Cassandra {cluster.version} running; contact points: {','.join(cluster.contact_points)}")
        print(f"  export CASSANDRA_CONTACT_POINTS={','.join(cluster.contact_points)}")
        if cluster.auth:
            print("  auth: PasswordAuthenticator, user cassandra / password cassandra")
        if cluster.tls:
            print(f"  tls: trust {cluster.cert_path}")
        return 0
    if args.action == "stop":
        local.stop(args.dir, clean=args.clean, log=print)
        return 0
    nodes = local.status(args.dir)
    if not nodes:
        print("no local cluster here: run `cassandra-frames local start`")
        return 3
    for node in nodes:
        print(node)
    return 0 if all(n.up for n in nodes) else 3


def _table(args: argparse.Namespace) -> str:
    return f"{args.keyspace}.{args.table}" if getattr(args, "keyspace", None) else str(args.table)


def _error(message: object) -> None:
    print(f"cassandra-frames: error: {' '.join(str(message).split())}", file=sys.stderr)


def _failed(summary: str, exc: Exception, argv: Sequence[str], checkpoint: str | None) -> int:
    """Some units or splits failed: the summary, the error and how to resume (exit code 1)."""
    print(summary)
    _error(exc)
    if checkpoint:
        print(f"resume with: {cli_bulk.resume_command(argv, checkpoint)}", file=sys.stderr)
    return COMPLETED_WITH_ERRORS


def _interrupted(args: argparse.Namespace, argv: Sequence[str]) -> int:
    checkpoint = cli_bulk.checkpoint_of(args)
    if checkpoint is not None and cli_bulk.checkpoint_exists(checkpoint, args):
        print(
            f"cassandra-frames: interrupted; the completed units are recorded in {checkpoint}: "
            f"resume with: {cli_bulk.resume_command(argv, checkpoint)}",
            file=sys.stderr,
        )
    else:
        print("cassandra-frames: interrupted (no checkpoint to resume from)", file=sys.stderr)
    return INTERRUPTED


def _export(args: argparse.Namespace, argv: Sequence[str], tty: bool) -> int:
    if tty:
        print(f"exporting {_table(args)} to {args.url}…", file=sys.stderr)
    try:
        report = bulk.export(
            args.table, args.url, connection=cli_bulk.connection(args), **cli_bulk.keywords(args)
        )
    except ExportError as exc:
        failed = exc.report if isinstance(exc.report, ExportReport) else None
        if failed is None or not failed.failed_ranges:
            raise
        return _failed(failed.summary(), exc, argv, failed.checkpoint)
    except KeyboardInterrupt:
        return _interrupted(args, argv)
    if tty:
        print(report.summary(), file=sys.stderr)
    print(report.summary())
    return OK


def _load(args: argparse.Namespace, argv: Sequence[str], tty: bool) -> int:
    """1: rows rejected or splits failed; 2: more rejected than ``-maxErrors``; a bad row without it: 3."""
    source, keywords = cli_bulk.load_keywords(args)
    if tty:
        print(f"loading {', '.join(args.url)} into {_table(args)}…", file=sys.stderr)
    if "bad_rows_path" in keywords and "bad_rows_path" not in vars(args):
        print(f"cassandra-frames: rejected rows go to {keywords['bad_rows_path']}", file=sys.stderr)
    try:
        report = bulk.load(source, args.table, connection=cli_bulk.connection(args), **keywords)
    except LoadError as exc:
        done = exc.report if isinstance(exc.report, LoadReport) else None
        if str(exc).startswith("max_errors exceeded"):
            if done is not None:
                print(done.summary())
            _error(exc)
            return ABORTED_TOO_MANY_ERRORS
        if done is None or not done.failed_splits:
            raise
        return _failed(done.summary(), exc, argv, done.checkpoint)
    except KeyboardInterrupt:
        return _interrupted(args, argv)
    if tty:
        print(report.summary(), file=sys.stderr)
    print(report.summary())
    if report.rows_rejected or report.failed_splits:
        dirs = sorted({b.rsplit("/", 1)[0] for b in report.bad_rows})  # a resume's may be older ones
        where = ", ".join(dirs) or keywords.get("bad_rows_path")
        print(
            f"cassandra-frames: {report.rows_rejected:,} of {report.rows_read:,} rows rejected: see {where}",
            file=sys.stderr,
        )
        return COMPLETED_WITH_ERRORS
    return OK


def _count(args: argparse.Namespace, tty: bool) -> int:
    by = cli_bulk.COUNT_BY[getattr(args, "by", "global").removesuffix("s")]
    keywords = {k: v for k, v in cli_bulk.keywords(args).items() if k != "by"}
    if tty:
        print(f"counting {args.table}…", file=sys.stderr)
    result = bulk.count(args.table, connection=cli_bulk.connection(args), by=by, **keywords)
    print(result if isinstance(result, int) else result.to_string(index=False))
    return OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code, DSBulk's: 0 ok, 1 completed with errors, 2 too many errors, 3 fatal error or bad
        usage, 4 interrupted. Errors print one line on stderr, never a traceback.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_list)
        if args.command == "export":
            return _export(args, args_list, sys.stderr.isatty())
        if args.command == "load":
            return _load(args, args_list, sys.stderr.isatty())
        if args.command == "count":
            return _count(args, sys.stderr.isatty())
        return _local(args)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else OK
    except KeyboardInterrupt:
        print("cassandra-frames: interrupted", file=sys.stderr)
        return INTERRUPTED
    except CassandraFramesError as exc:
        message = str(exc)
    except OSError as exc:
        message = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 — a command line prints one line, never a traceback
        message = f"unexpected {type(exc).__name__}: {exc}"
    _error(message)
    return ABORTED_FATAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
