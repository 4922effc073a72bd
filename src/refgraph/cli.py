"""The ``refgraph`` command line: ``demo``, ``info``, ``intro``, ``targets``, ``report``.

Every refgraph error (:class:`~refgraph.RefgraphError`: bad input, a parameter out
of range, an unknown NPI, a damaged network folder) and every file error
(:class:`OSError`) is printed as one line on stderr, ``refgraph <command>: error:
<message>``, and the command exits with status 2, as argparse does for bad
arguments. ``--debug`` (or the environment variable ``REFGRAPH_DEBUG=1``) lets the
error propagate with its traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._errors import RefgraphError
from ._errors import ValidationError as RefgraphValidationError

__all__ = ["main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from .report import run_demo

    if args.physicians < 2:
        raise RefgraphValidationError(
            f"--physicians: expected an integer >= 2, got {args.physicians}"
        )
    out = run_demo(
        Path(args.out), n_physicians=args.physicians, seed=args.seed, home=args.home or None
    )
    print(f"refgraph demo: report written to {out}")
    print(f"open {out / 'index.html'} in a browser")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from ._cli_network import network_from_arg

    net = network_from_arg(args.path)
    print(f"{args.path}: {net}")
    s = net.summary()
    width = max(len(k) for k in s.index)
    for k, v in s.items():
        val = f"{v:.6g}" if isinstance(v, float) else str(v)
        print(f"  {k:<{width}}  {val}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``refgraph`` command."""
    p = argparse.ArgumentParser(
        prog="refgraph",
        description="Physician referral networks: ingest, influence, warm introductions.",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    p.add_argument(
        "--debug",
        action="store_true",
        help="show the traceback of an error (also: REFGRAPH_DEBUG=1)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    d = sub.add_parser("demo", help="build the synthetic demo region and write a report folder")
    d.add_argument("--out", default="refgraph-demo", help="report folder (default: %(default)s)")
    d.add_argument("--physicians", type=int, default=3000, help="size (default: %(default)s)")
    d.add_argument("--seed", type=int, default=7, help="random seed (default: %(default)s)")
    d.add_argument(
        "--home",
        action="append",
        metavar="NPI_OR_PRACTICE",
        help="home practice of the report (repeatable; default: chosen so that every section "
        "has content)",
    )
    d.set_defaults(func=_cmd_demo)

    i = sub.add_parser("info", help="summarise a saved network folder")
    i.add_argument("path", help="folder written by ReferralNetwork.save")
    i.set_defaults(func=_cmd_info)

    from .expansion import add_cli as _add_planner_cli
    from .report import add_cli as _add_report_cli

    _add_planner_cli(sub)  # refgraph intro, refgraph targets
    _add_report_cli(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    debug = args.debug or os.environ.get("REFGRAPH_DEBUG", "") not in ("", "0")
    try:
        return int(args.func(args))
    except BrokenPipeError:  # the reader of our output went away (| head): stop quietly
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), sys.stdout.fileno())
        return 141
    except (RefgraphError, OSError) as exc:
        if debug:
            raise
        print(f"refgraph {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("refgraph: interrupted", file=sys.stderr)
        return 130


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (an OSError without text names its class)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
