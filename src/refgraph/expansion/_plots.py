"""Plot of an event site choice: :func:`plot_event_site`.

Public through :mod:`refgraph.expansion`. Returns ``(fig, ax)``; pass ``ax`` to draw
into an existing axes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .._plotting import axes as _axes

if TYPE_CHECKING:
    from ._event_site import EventSite

__all__ = ["plot_event_site"]


def plot_event_site(result: EventSite, *, ax: Any = None) -> tuple[Any, Any]:
    """Map of invitees (size = influence, blue = within reach) and the chosen site(s).

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> from refgraph.expansion import event_site
    >>> net = synthetic_region(200, seed=2)
    >>> lat, lon = net.physicians[["lat", "lon"]].median()
    >>> fig, ax = plot_event_site(event_site(net, (lat, lon, 40), max_travel_km=15))
    >>> len(ax.patches)
    1
    """
    from matplotlib.patches import Ellipse

    fig, ax = _axes(ax, (7, 7))
    inv = result.invitees
    size = 10 + 400 * inv["influence"] / max(float(inv["influence"].max()), 1e-12)
    ax.scatter(
        inv["lon"],
        inv["lat"],
        s=size,
        c=np.where(inv["covered"], "tab:blue", "0.7"),
        alpha=0.6,
        edgecolor="none",
    )
    km = result.max_travel_km
    for s in result.sites.itertuples():
        ax.scatter([s.lon], [s.lat], marker="*", s=300, color="tab:red", edgecolor="k", zorder=3)
        h = 2 * km / 111.32
        w = h / max(np.cos(np.radians(s.lat)), 1e-6)
        ax.add_patch(Ellipse((s.lon, s.lat), w, h, fill=False, color="tab:red", linestyle="--"))
        ax.annotate(
            str(s.name), (s.lon, s.lat), xytext=(6, 6), textcoords="offset points", fontsize=8
        )
    cov = float(result.sites["covered_influence"].sum())
    ax.set_title(f"Event site(s): {cov:.0%} of invitees' influence within {km:g} km")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    return fig, ax
