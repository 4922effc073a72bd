"""Plots of centrality and community results. Each function returns ``(fig, ax)``.

Re-exported from :mod:`refgraph.plot`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._plotting import axes as _axes
from .._plotting import mpl as _mpl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..network import ReferralNetwork

__all__ = ["plot_communities", "plot_measure_distribution", "plot_top_k"]


def _column(scores: pd.DataFrame | pd.Series, column: str | None) -> pd.Series:
    if isinstance(scores, pd.Series):
        return scores
    if column is None:
        num = scores.select_dtypes("number").columns
        if len(num) != 1:
            raise ValidationError(
                f"column: the frame has numeric columns {list(num)}; say which one to plot"
            )
        column = str(num[0])
    if column not in scores.columns:
        raise ValidationError(f"column: {column!r} is not in {list(scores.columns)}")
    return scores[column]


def plot_measure_distribution(
    scores: pd.DataFrame | pd.Series,
    column: str | None = None,
    *,
    bins: int = 50,
    log: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Histogram of a centrality measure (heavy-tailed measures on log axes).

    Parameters
    ----------
    scores
        A result frame of :mod:`refgraph.centrality` or a Series.
    column
        Column to plot (needed when the frame has several numeric columns).
    bins
        Number of bins.
    log
        Log-spaced bins on a log x axis and a log count axis (zeros and NaN
        are left out and counted in the title).
    ax
        Axes to draw on (default: a new figure).
    title
        Title (default: the measure name and the number of physicians).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Examples
    --------
    >>> import pandas as pd
    >>> fig, ax = plot_measure_distribution(pd.Series([1.0, 2.0, 4.0, 8.0], name="pagerank"))
    >>> len(ax.patches)
    50
    """
    s = pd.to_numeric(_column(scores, column), errors="coerce")
    vals = s.to_numpy(dtype=float, na_value=np.nan)
    vals = vals[np.isfinite(vals)]
    dropped = len(s) - len(vals)
    fig, ax = _axes(ax, (6, 4))
    if log:
        pos = vals[vals > 0]
        dropped += len(vals) - len(pos)
        if len(pos):
            lo, hi = pos.min(), pos.max()
            edges = np.geomspace(lo, hi if hi > lo else lo * 10, bins + 1)
            ax.hist(pos, bins=edges.tolist(), color="#4472c4")
            ax.set_xscale("log")
            ax.set_yscale("log")
    elif len(vals):
        ax.hist(vals, bins=bins, color="#4472c4")
    name = str(s.name or column or "value")
    ax.set_xlabel(name)
    ax.set_ylabel("physicians")
    extra = f", {dropped} zero/missing not shown" if dropped else ""
    ax.set_title(title or f"Distribution of {name} ({len(s):,} physicians{extra})")
    return fig, ax


def plot_top_k(
    scores: pd.DataFrame | pd.Series,
    column: str | None = None,
    *,
    k: int = 20,
    labels: pd.Series | dict[str, str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Horizontal bar chart of the ``k`` physicians with the highest score.

    Parameters
    ----------
    scores
        A result frame indexed by NPI, or a Series.
    column
        Column to rank by.
    k
        Number of bars.
    labels
        Optional NPI -> display label (e.g. ``net.physicians.set_index("npi")["name"]``);
        NPIs are shown otherwise.
    ax, title
        As in :func:`plot_measure_distribution`.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series([0.1, 0.5, 0.4], index=["1234567893", "1003033051", "1154584084"],
    ...               name="pagerank")
    >>> fig, ax = plot_top_k(s, k=2)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['1154584084', '1003033051']
    """
    if int(k) < 1:
        raise ValidationError(f"k: expected a positive int, got {k!r}")
    s = pd.to_numeric(_column(scores, column), errors="coerce").dropna()
    top = s.sort_values(ascending=False, kind="stable").iloc[: int(k)][::-1]
    names = [str(i) for i in top.index]
    if labels is not None:
        lab = pd.Series(labels)
        names = [str(lab.get(i, i)) if pd.notna(lab.get(i, i)) else str(i) for i in top.index]
    fig, ax = _axes(ax, (6, max(2.0, 0.3 * len(top) + 1)))
    ax.barh(np.arange(len(top)), top.to_numpy(dtype=float), color="#4472c4")
    ax.set_yticks(np.arange(len(top)), names)
    name = str(s.name or column or "value")
    ax.set_xlabel(name)
    ax.set_title(title or f"Top {len(top)} physicians by {name}")
    return fig, ax


def plot_communities(
    net: ReferralNetwork,
    communities: pd.DataFrame | pd.Series,
    *,
    layout: str = "spring",
    max_nodes: int = 2000,
    weight: str = "count",
    seed: int = 0,
    ax: Axes | None = None,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Draw the network with physicians coloured by community.

    Parameters
    ----------
    net
        The referral network.
    communities
        A :func:`refgraph.community.louvain` frame or a Series NPI -> label.
    layout
        ``"spring"`` (force-directed, by referral volume) or ``"geo"``
        (physicians' ``lon``/``lat``; those without coordinates are left out).
    max_nodes
        Draw at most this many physicians (the highest-volume ones); larger
        drawings are unreadable and slow.
    weight
        Flow column used for layout strength and edge width.
    seed
        Seed of the spring layout.
    ax, title
        As in :func:`plot_measure_distribution`.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        Nodes are one ``PathCollection`` (``ax.collections[-1]``), edges a
        ``LineCollection``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> net = ReferralNetwork.from_frames(flows=pd.DataFrame(
    ...     {"source_npi": [a, b], "target_npi": [b, c], "count": [2, 1]}))
    >>> fig, ax = plot_communities(net, pd.Series({a: 0, b: 0, c: 1}))
    >>> len(ax.collections[-1].get_offsets())
    3
    """
    import networkx as nx
    from matplotlib.collections import LineCollection

    if layout not in ("spring", "geo"):
        raise ValidationError(f"layout: expected 'spring' or 'geo', got {layout!r}")
    lab = communities["community"] if isinstance(communities, pd.DataFrame) else communities
    lab = pd.Series(lab).reindex(pd.Index(net.npis))
    e = net.edges(weight=weight)
    w = pd.to_numeric(e[weight], errors="coerce").fillna(0).to_numpy(dtype=float)
    vol = pd.concat(
        [
            pd.Series(w, index=e["source_npi"].to_numpy()),
            pd.Series(w, index=e["target_npi"].to_numpy()),
        ]
    )
    vol = vol.groupby(level=0).sum().reindex(pd.Index(net.npis)).fillna(0.0)
    keep = vol.sort_values(ascending=False, kind="stable").index[: int(max_nodes)]
    if layout == "geo":
        phys = net.physicians.set_index("npi")[["lon", "lat"]].astype(float)
        phys = phys.reindex(keep).dropna()
        keep = phys.index
        pos = {k: (float(x), float(y)) for k, (x, y) in zip(keep, phys.to_numpy())}
    else:
        g = nx.Graph()
        g.add_nodes_from(keep)
        kept = set(keep)
        for s, t, x in zip(e["source_npi"], e["target_npi"], w):
            if s in kept and t in kept and x > 0:
                prev = g.get_edge_data(s, t, {"weight": 0.0})["weight"]
                g.add_edge(s, t, weight=prev + x)
        pos = nx.spring_layout(g, weight="weight", seed=seed)
    fig, ax = _axes(ax, (7, 7))
    kept = set(keep)
    segs = [
        (pos[s], pos[t])
        for s, t in zip(e["source_npi"], e["target_npi"])
        if s in kept and t in kept
    ]
    ax.add_collection(LineCollection(segs, colors="#999999", linewidths=0.4, alpha=0.4))
    xy = np.array([pos[k] for k in keep], dtype=float).reshape(-1, 2)
    codes, uniq = pd.factorize(lab.reindex(keep).to_numpy(), use_na_sentinel=True)
    cmap = _mpl().get_cmap("tab20")
    colours = [cmap(c % 20) if c >= 0 else (0.6, 0.6, 0.6, 1.0) for c in codes]
    size = 10 + 90 * np.sqrt(vol.reindex(keep).to_numpy() / max(1.0, float(vol.max())))
    ax.scatter(xy[:, 0], xy[:, 1], c=colours, s=size, edgecolors="white", linewidths=0.3)
    ax.autoscale_view()
    ax.set_axis_off() if layout == "spring" else ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(
        title or f"{len(keep):,} physicians in {len(uniq)} communities (colour = community)"
    )
    return fig, ax
