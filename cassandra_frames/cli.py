"""The ``cassandra-frames`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cassandra_frames import local
from cassandra_frames.errors import CassandraFramesError

__all__ = ["build_parser", "main"]


def _add_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dir",
        default=None,
        help="cluster directory (default: $CASSANDRA_FRAMES_DIR or ./.cassandra)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``cassandra-frames`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="cassandra-frames",
        description="Apache Cassandra tables in pandas, Dask and Arrow, and back again.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (errors print one message, no traceback)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "local":
            return _local(args)
    except CassandraFramesError as exc:
        print(f"cassandra-frames: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cassandra-frames: interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
