"""The ``refgraph intro`` command: :func:`cmd_intro`.

Public through :mod:`refgraph.paths`; registered on the command line by
:func:`refgraph.expansion.add_cli`.
"""

from __future__ import annotations

from typing import Any

from .._cli_network import network_from_arg
from ._intro import intro_paths

__all__ = ["cmd_intro"]


# ---------------------------------------------------------------------------- CLI


def cmd_intro(args: Any) -> int:
    """``refgraph intro --to NPI [--from NPI ...] [--network PATH] [--k 5]``: print paths."""
    import sys

    net = network_from_arg(getattr(args, "network", None))
    res = intro_paths(
        net,
        args.to,
        sources=args.sources or None,
        home=getattr(args, "home", None),
        k=args.k,
        max_hops=args.max_hops,
    )
    sys.stdout.write(res.table() + "\n")
    return 0
