"""Plots of referral networks. Every ``plot_*`` function returns ``(fig, ax)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .network import ReferralNetwork

from ._plotting import axes as _axes
from ._plotting import mpl as _mpl
from .centrality import plot_communities, plot_measure_distribution, plot_top_k
from .expansion import plot_event_site
from .geo import plot_catchment, plot_clusters, plot_flows, plot_practices, plot_regions
from .paths import plot_intro_paths, plot_intro_plan
from .sensitivity import plot_sensitivity
from .tracking import plot_cohorts, plot_funnel, plot_trends

__all__ = [
    "plot_catchment",
    "plot_clusters",
    "plot_cohorts",
    "plot_communities",
    "plot_event_site",
    "plot_flows",
    "plot_funnel",
    "plot_intro_paths",
    "plot_intro_plan",
    "plot_map",
    "plot_measure_distribution",
    "plot_practices",
    "plot_regions",
    "plot_sensitivity",
    "plot_top_k",
    "plot_trends",
]


def plot_map(
    net: ReferralNetwork,
    *,
    ax: Axes | None = None,
    max_flows: int = 2000,
    color_by: str = "specialty_group",
    title: str | None = None,
    outlines: str | None = "auto",
) -> tuple[Figure, Axes]:
    """Map of physicians (points) and their strongest referral flows (lines).

    Works offline: coordinates come from the physicians table (``lat``,
    ``lon``); physicians without coordinates are not drawn. Flow lines are
    drawn for the ``max_flows`` largest flows, with width and opacity
    growing with the referral count.

    Parameters
    ----------
    net
        The network.
    ax
        Axes to draw on (a new figure when omitted).
    max_flows
        Number of flows drawn (largest first).
    color_by
        ``"specialty_group"`` (primary care vs specialists), ``"specialty"``
        or any physicians column.
    title
        Axes title.
    outlines
        Reference outlines beneath the data, as in the maps of
        :mod:`refgraph.geo`: ``"auto"`` (US states, plus counties in views
        under :data:`refgraph.geo.COUNTY_MAX_KM` km), ``"state"``,
        ``"county"`` or ``None``; see :func:`refgraph.geo.plot_outlines`.

    Returns
    -------
    (Figure, Axes)

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051"],
    ...                      "lat": [42.36, 42.37], "lon": [-71.06, -71.10]})
    >>> flows = pd.DataFrame({"source_npi": ["1234567893"],
    ...                       "target_npi": ["1003033051"], "count": [9]})
    >>> fig, ax = plot_map(ReferralNetwork.from_frames(physicians=phys, flows=flows))
    >>> len(ax.collections) >= 2
    True
    """
    plt = _mpl()
    from matplotlib.collections import LineCollection

    fig, ax = _axes(ax, (8, 7))
    phys = net.physicians
    has = phys["lat"].notna() & phys["lon"].notna()
    pts = phys[has]
    pos = pd.DataFrame(
        {"lat": pts["lat"].to_numpy(), "lon": pts["lon"].to_numpy()}, index=pts["npi"].to_numpy()
    )
    e = net.edges()
    e = e[e["source_npi"].isin(pos.index) & e["target_npi"].isin(pos.index)]
    e = e.sort_values("count", ascending=False).head(max_flows)
    if len(e):
        s = pos.loc[e["source_npi"].to_numpy()]
        t = pos.loc[e["target_npi"].to_numpy()]
        segs = np.stack(
            [
                np.c_[s["lon"].to_numpy(), s["lat"].to_numpy()],
                np.c_[t["lon"].to_numpy(), t["lat"].to_numpy()],
            ],
            axis=1,
        )
        c = e["count"].to_numpy(dtype=float)
        scale = c / c.max()
        lc = LineCollection(
            list(segs),
            linewidths=0.3 + 2.2 * scale,
            colors=[(0.2, 0.3, 0.6, 0.08 + 0.5 * v) for v in scale],
            zorder=1,
        )
        ax.add_collection(lc)
    if color_by == "specialty_group":
        try:
            from .specialties import SPECIALTIES

            pc = {k for k, v in SPECIALTIES.items() if v.primary_care}
        except ImportError:  # pragma: no cover
            pc = set()
        groups = np.where(pts["specialty"].isin(pc).fillna(False), "primary care", "specialist")
        groups = np.where(pts["specialty"].isna().to_numpy(), "unknown", groups)
    else:
        groups = pts[color_by].astype("string").fillna("unknown").to_numpy()
    cats = pd.unique(groups)
    cmap = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
    for i, g in enumerate(sorted(cats, key=str)):
        m = groups == g
        ax.scatter(
            pts["lon"].to_numpy()[m],
            pts["lat"].to_numpy()[m],
            s=8,
            color=cmap(i % cmap.N),
            label=str(g),
            zorder=2,
            linewidths=0,
        )
    if len(cats):
        ax.legend(loc="best", fontsize=8, markerscale=2, frameon=False)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if len(pts):
        ax.set_aspect(1 / np.cos(np.radians(float(pts["lat"].mean()))))
    ax.set_title(title or f"{len(pts)} physicians, {len(e)} strongest flows")
    ax.autoscale_view()
    if outlines is not None and len(pts):
        from .geo import plot_outlines

        plot_outlines(ax, level=outlines)  # beneath, without moving the view
    return fig, ax
