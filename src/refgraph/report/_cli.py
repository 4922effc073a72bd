"""The ``refgraph report`` subcommand.

Public through :mod:`refgraph.report` (:func:`add_cli`, :func:`cmd_report`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._blocks import SECTIONS
from ._build import build


# ---------------------------------------------------------------------------- command line
def cmd_report(args: argparse.Namespace) -> int:
    """``refgraph report NETWORK --out DIR``: the command-line entry point."""
    from ..network import load

    net = load(args.network)
    page = build(
        net,
        Path(args.out),
        title=args.title,
        home=args.home or None,
        sections=args.sections.split(",") if args.sections else None,
        top=args.top,
        seed=args.seed,
    )
    print(f"refgraph report: written to {page.parent}")
    print(f"open {page} in a browser")
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand on the ``refgraph`` parser's subparsers."""
    p = subparsers.add_parser(
        "report", help="write a self-contained HTML report folder about a saved network"
    )
    p.add_argument("network", help="network folder written by ReferralNetwork.save")
    p.add_argument("--out", default="refgraph-report", help="report folder (default: %(default)s)")
    p.add_argument("--title", default="refgraph report", help="page title")
    p.add_argument(
        "--home",
        action="append",
        metavar="NPI_OR_PRACTICE",
        help="my practice (repeatable; default: chosen automatically)",
    )
    p.add_argument(
        "--sections", help=f"comma-separated subset of: {','.join(SECTIONS)} (default: all)"
    )
    p.add_argument("--top", type=int, default=25, help="rows per table in the page")
    p.add_argument("--seed", type=int, default=0, help="seed of randomised analyses")
    p.set_defaults(func=cmd_report)
    return p
