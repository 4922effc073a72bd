"""The ``refgraph intro`` and ``refgraph targets`` commands: :func:`add_cli`, :func:`cmd_targets`.

Public through :mod:`refgraph.expansion`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._cli_network import network_from_arg
from .._params import check_int
from ._briefs import outreach_brief
from ._targets import rank_targets


def cmd_targets(args: Any) -> int:
    """``refgraph targets --network PATH --home NPI... --out DIR``: ranked targets + briefs."""
    import sys

    net = network_from_arg(args.network)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ranked = rank_targets(
        net, home=args.home, top=getattr(args, "top", 50), max_hops=getattr(args, "max_hops", 3)
    )
    n_briefs = min(check_int(getattr(args, "briefs", 10), "--briefs", minimum=0), len(ranked))
    briefs = [outreach_brief(net, t, home=args.home) for t in ranked.index[:n_briefs]]
    table = ranked.copy()
    table["best_path"] = None
    table["best_path_probability"] = np.nan
    for t, b in zip(ranked.index[:n_briefs], briefs):
        if b["best_path"]:
            table.loc[t, "best_path"] = " -> ".join(b["best_path"]["names"])
            table.loc[t, "best_path_probability"] = b["best_path"]["probability"]
    table.to_csv(out / "targets.csv")
    md = [
        f"# Outreach targets ({ranked.attrs.get('specialty')})",
        "",
        "| rank | name | specialty | competitor volume | km | reach | score |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for npi, r in ranked.iterrows():
        md.append(
            f"| {r['rank']} | {r['name']} ({npi}) | {r['specialty']} | "
            f"{r['competitor_volume']:.0f} | {r['distance_km']:.1f} | {r['reach']:.2f} | "
            f"{r['score']:.1f} |"
        )
    md += ["", "## Briefs", ""] + [b["markdown"] for b in briefs]
    (out / "targets.md").write_text("\n".join(md), encoding="utf-8")
    sys.stdout.write(
        f"refgraph targets: {len(ranked)} targets, {n_briefs} briefs written to "
        f"{out / 'targets.csv'} and {out / 'targets.md'}\n"
    )
    return 0


def add_cli(subparsers: Any) -> None:
    """Register ``refgraph intro`` and ``refgraph targets`` on an argparse subparsers object."""
    from ..paths import cmd_intro

    i = subparsers.add_parser("intro", help="warm-introduction paths to a physician")
    i.add_argument("--to", required=True, help="NPI of the physician to meet")
    i.add_argument(
        "--from",
        dest="sources",
        nargs="*",
        default=None,
        metavar="NPI",
        help="my people (default: physicians with touchpoints)",
    )
    i.add_argument(
        "--home",
        nargs="*",
        default=None,
        metavar="NPI",
        help="my practice's physicians (start of paths when --from is not given)",
    )
    i.add_argument(
        "--network", default=None, help="saved network folder (default: $REFGRAPH_NETWORK)"
    )
    i.add_argument("--k", type=int, default=5, help="number of paths (default: %(default)s)")
    i.add_argument("--max-hops", type=int, default=3, help="maximum hops (default: %(default)s)")
    i.set_defaults(func=cmd_intro)
    t = subparsers.add_parser("targets", help="ranked outreach targets with briefs (CSV + MD)")
    t.add_argument("--network", required=True, help="saved network folder")
    t.add_argument(
        "--home", nargs="+", required=True, metavar="NPI", help="my practice's physicians"
    )
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--top", type=int, default=50, help="targets listed (default: %(default)s)")
    t.add_argument("--briefs", type=int, default=10, help="briefs written (default: %(default)s)")
    t.add_argument("--max-hops", type=int, default=3, help="maximum hops (default: %(default)s)")
    t.set_defaults(func=cmd_targets)
