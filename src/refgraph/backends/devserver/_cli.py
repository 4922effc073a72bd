"""The command line of the dev server: ``python -m refgraph.backends.devserver``."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import time
from collections.abc import Sequence

from ..._errors import RefgraphError
from ._admin import _memory_option
from ._maven import GDS_VERSION, NEO4J_VERSION, ensure_neo4j
from ._server import Neo4jDevServer


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m refgraph.backends.devserver",
        description=(
            "Run a local Neo4j Community + OpenGDS server for development and tests, "
            "from Maven Central jars. Stop it with Ctrl-C."
        ),
    )
    parser.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    parser.add_argument(
        "--http-port", type=int, default=None, help="HTTP port (default: a free one)"
    )
    parser.add_argument("--password", default=None, help="password of user neo4j (default: random)")
    parser.add_argument("--heap", default="1g", help="JVM heap size (default: 1g)")
    parser.add_argument("--pagecache", default="256m", help="page cache size (default: 256m)")
    parser.add_argument("--neo4j-version", default=NEO4J_VERSION)
    parser.add_argument("--gds-version", default=GDS_VERSION)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the server to start"
    )
    parser.add_argument(
        "--fetch-only", action="store_true", help="only download the jars, then exit"
    )
    parser.add_argument(
        "--import",
        dest="import_dir",
        metavar="NETWORK_DIR",
        default=None,
        help="bulk-import a network folder written by ReferralNetwork.save once started",
    )
    parser.add_argument(
        "--import-memory",
        metavar="SIZE",
        default=None,
        help="--import: off-heap memory of the admin tool, e.g. 2g or 25%% "
        "(default: the page cache size)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``python -m refgraph.backends.devserver``.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 after Ctrl-C (or SIGTERM), 1 if the server failed or died.
    """
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.fetch_only:
            dist = ensure_neo4j(args.neo4j_version, args.gds_version)
            print(f"Neo4j {args.neo4j_version} + GDS {args.gds_version} jars ready in {dist}")
            return 0
        network = None
        if args.import_dir is not None:
            from ...network import load

            network = load(args.import_dir)  # a bad folder fails before the server starts
            _memory_option(args.import_memory, args.pagecache, ())  # so does a bad size
        server = Neo4jDevServer(
            bolt_port=args.port,
            http_port=args.http_port,
            password=args.password,
            heap=args.heap,
            pagecache=args.pagecache,
            neo4j_version=args.neo4j_version,
            gds_version=args.gds_version,
        )
    except (RefgraphError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        server.start(timeout=args.timeout)
        if network is not None:
            counts = server.import_network(network, memory=args.import_memory)
            print(
                f"Imported {args.import_dir}: "
                + ", ".join(f"{n} {table}" for table, n in counts.items()),
                flush=True,
            )
        print(
            f"Neo4j {server.neo4j_version} + GDS {server.gds_version} is ready "
            f"(started in {server.startup_seconds:.1f} s).\n"
            f"  Bolt URI: {server.uri}\n"
            f"  HTTP:     {server.http_uri}\n"
            f"  user:     {server.user}\n"
            f"  password: {server.password}\n"
            f"  logs:     {server.log_path}\n"
            "\n"
            "Export these to point refgraph (and its tests) at it:\n"
            f"export NEO4J_URI={shlex.quote(server.uri)}\n"
            f"export NEO4J_USER={shlex.quote(server.user)}\n"
            f"export NEO4J_PASSWORD={shlex.quote(server.password)}\n"
            "\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while server.is_running():
            time.sleep(1.0)
        print("error: the Neo4j server exited unexpectedly" + server._logs(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Neo4j...", flush=True)
        return 0
    except RefgraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the clean-up.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            server.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)
