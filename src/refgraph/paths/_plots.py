"""Plots of warm-introduction paths and of an intro plan.

Public through :mod:`refgraph.paths`.

Each function returns ``(fig, ax)``; pass ``ax`` to draw into an existing axes.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import numpy as np

from .._plotting import axes as _axes

if TYPE_CHECKING:
    from ._intro import IntroPaths
    from ._plan import IntroPlan

__all__ = ["plot_intro_paths", "plot_intro_plan"]


def plot_intro_paths(
    net: Any, result: IntroPaths, *, ax: Any = None, geographic: bool | None = None
) -> tuple[Any, Any]:
    """Draw the introduction paths of :func:`refgraph.paths.intro_paths`.

    Nodes are placed at their coordinates when every physician on the paths
    has one (``geographic=None`` decides automatically), else in columns by
    hop. Line width is the tie strength; the source is green, the target red.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> from refgraph.paths import intro_paths
    >>> me, a, x = [p + str(npi_check_digit(p)) for p in ("100000000", "100000001", "100000003")]
    >>> net = ReferralNetwork.from_frames(flows=pd.DataFrame(
    ...     {"source_npi": [me, a], "target_npi": [a, x], "count": [9, 9]}))
    >>> fig, ax = plot_intro_paths(net, intro_paths(net, x, sources=[me]))
    >>> len(ax.lines)
    2
    """
    fig, ax = _axes(ax, (8, 5))
    phys = net.physicians.set_index("npi")
    nodes = list(dict.fromkeys(n for p in result.paths["path"] for n in p))
    lat = phys["lat"].reindex(nodes).to_numpy("float64", na_value=np.nan)
    lon = phys["lon"].reindex(nodes).to_numpy("float64", na_value=np.nan)
    if geographic is None:
        geographic = bool(len(nodes)) and not (np.isnan(lat).any() or np.isnan(lon).any())
    pos: dict[str, tuple[float, float]] = {}
    if geographic:
        pos = {n: (lon[i], lat[i]) for i, n in enumerate(nodes)}
    else:
        for r, p in enumerate(result.paths["path"]):
            for h, n in enumerate(p):
                pos.setdefault(
                    n,
                    (
                        float(h)
                        if n != p[-1]
                        else float(result.constraints.get("max_hops", len(p) - 1)),
                        -float(r) if 0 < h < len(p) - 1 else 0.0,
                    ),
                )
    for rank, p in zip(result.paths["rank"], result.paths["path"]):
        hops = result.hops[result.hops["rank"] == rank]
        for (u, v), s in zip(itertools.pairwise(p), hops["strength"]):
            ax.plot(
                [pos[u][0], pos[v][0]],
                [pos[u][1], pos[v][1]],
                color="tab:blue",
                linewidth=0.5 + 4 * float(s),
                alpha=0.6,
                zorder=1,
            )
    names = {k: (v if isinstance(v, str) else k) for k, v in zip(phys.index, phys["name"])}
    target = result.target
    sources = set(result.paths["source"])
    for n in nodes:
        color = "tab:red" if n == target else ("tab:green" if n in sources else "0.5")
        ax.scatter(*pos[n], s=80, color=color, zorder=2, edgecolor="k")
        label = names.get(n)
        ax.annotate(
            str(label) if isinstance(label, str) else n,
            pos[n],
            fontsize=7,
            xytext=(4, 4),
            textcoords="offset points",
        )
    best = result.paths["probability"].iloc[0] if len(result.paths) else float("nan")
    ax.set_title(f"Introduction paths to {names.get(target, target)} (best p = {best:.2f})")
    if geographic:
        ax.set_xlabel("longitude")
        ax.set_ylabel("latitude")
    else:
        ax.set_xlabel("hop")
        ax.set_yticks([])
    return fig, ax


def plot_intro_plan(plan: IntroPlan, *, ax: Any = None) -> tuple[Any, Any]:
    """Bar chart of each target's probability of an introduction under the plan.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph.paths import IntroPlan
    >>> plan = IntroPlan(asks=pd.DataFrame(), expected=0.5, guarantee="", candidates=pd.DataFrame(),
    ...     targets=pd.DataFrame({"name": ["A", "B"], "probability": [0.5, 0.0],
    ...                           "asks": [1, 0], "reachable": [True, False]}, index=["1", "2"]))
    >>> fig, ax = plot_intro_plan(plan)
    >>> len(ax.patches)
    2
    """
    fig, ax = _axes(ax, (7, 0.4 * max(len(plan.targets), 3) + 1))
    t = plan.targets.sort_values("probability")
    labels = [str(n) if isinstance(n, str) else str(i) for i, n in zip(t.index, t["name"])]
    colors = ["tab:blue" if r else "0.7" for r in t["reachable"]]
    ax.barh(labels, t["probability"], color=colors)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability of at least one introduction")
    ax.set_title(f"Intro plan: {plan.expected:.2f} expected introductions")
    return fig, ax
