"""Maps of referral networks (matplotlib, offline). Every ``plot_*`` returns ``(fig, ax)``.

Coordinates are drawn as longitude (x) and latitude (y) with the aspect ratio
of a local equirectangular projection (1 / cos(mean latitude)), so distances
look right at city and state scale. No basemap tiles are fetched: the maps
work offline. US state outlines (and county outlines in views under
:data:`~refgraph.geo.COUNTY_MAX_KM` km) shipped with refgraph are drawn beneath
the data (:func:`~refgraph.geo.plot_outlines`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._plotting import axes as _axes
from ._outlines import plot_outlines

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..network import ReferralNetwork
    from ._catchment import Catchment

logger = logging.getLogger(__name__)

__all__ = [
    "plot_catchment",
    "plot_clusters",
    "plot_flows",
    "plot_practices",
    "plot_regions",
]

_NOISE_COLOR = "#b0b0b0"


def _finish(ax: Axes, lat: np.ndarray, title: str | None, outlines: str | None) -> None:
    if outlines is not None:
        plot_outlines(ax, level=outlines)
    lat = lat[np.isfinite(lat)]
    if len(lat):
        ax.set_aspect(1.0 / max(np.cos(np.radians(float(np.mean(lat)))), 0.05))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if title:
        ax.set_title(title)


def _ll(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float, na_value=np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float, na_value=np.nan)
    return lat, lon, np.isfinite(lat) & np.isfinite(lon)


def _palette(n: int) -> list[Any]:
    import matplotlib as mpl

    cmap = mpl.colormaps["tab20" if n > 10 else "tab10"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_practices(
    net: ReferralNetwork,
    *,
    ax: Axes | None = None,
    physicians: bool = True,
    practices: bool = True,
    color_by: str = "kind",
    title: str | None = None,
    outlines: str | None = "auto",
) -> tuple[Figure, Axes]:
    """Map of practices (squares sized by their number of physicians) and physicians (dots).

    Parameters
    ----------
    net
        The network; rows without coordinates are not drawn.
    ax
        Axes to draw on (a new figure when omitted).
    physicians, practices
        Which layers to draw.
    color_by
        Practices column used for the practice colours (``"kind"``,
        ``"system"``...).
    title
        Axes title.
    outlines
        Reference outlines beneath the data: ``"auto"`` (US states, plus
        counties when the view is under :data:`~refgraph.geo.COUNTY_MAX_KM`
        km), ``"state"``, ``"county"`` or ``None``; see
        :func:`~refgraph.geo.plot_outlines`.

    Returns
    -------
    (Figure, Axes)
        The practice layer is a scatter collection labelled ``"practices"``,
        the physician layer ``"physicians"``.

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> fig, ax = plot_practices(synthetic_region(200, seed=1))
    >>> sorted(c.get_label() for c in ax.collections)
    ['county outlines', 'physicians', 'practices', 'state outlines']
    """
    fig, ax = _axes(ax)
    all_lat = []
    if physicians:
        lat, lon, ok = _ll(net.physicians)
        ax.scatter(
            lon[ok], lat[ok], s=4, c="#4a4a4a", alpha=0.5, lw=0, label="physicians", zorder=2
        )
        all_lat.append(lat[ok])
    if practices and len(net.practices):
        pr = net.practices
        lat, lon, ok = _ll(pr)
        size = net.physicians["practice_id"].value_counts()
        n = pr["practice_id"].map(size).fillna(0).to_numpy(float)
        if color_by in pr.columns:
            cat = pr[color_by].astype("string").fillna("unknown")
            cats = sorted(cat.unique())
            pal = dict(zip(cats, _palette(len(cats))))
            colors = [pal[c] for c in cat[ok]]
        else:
            raise ValidationError(f"color_by: {color_by!r} is not a practices column")
        ax.scatter(
            lon[ok],
            lat[ok],
            s=12 + 6 * np.sqrt(n[ok]),
            c=colors,
            marker="s",
            edgecolors="white",
            linewidths=0.4,
            label="practices",
            zorder=3,
        )
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], ls="", marker="s", color=pal[c], label=c) for c in cats[:12]]
        ax.legend(handles=handles, title=color_by, fontsize=7, title_fontsize=8, loc="best")
        all_lat.append(lat[ok])
    _finish(ax, np.concatenate(all_lat) if all_lat else np.empty(0), title, outlines)
    return fig, ax


def _unit_edges(net: ReferralNetwork, unit: str | None, weight: str) -> pd.DataFrame:
    """Edges with coordinates: between physicians, or summed between units."""
    if unit is None:
        e = net.edges(weight=weight)
        phys = net.physicians.drop_duplicates("npi").set_index("npi")
        lat = pd.to_numeric(phys["lat"], errors="coerce")
        lon = pd.to_numeric(phys["lon"], errors="coerce")
        s, t = e["source_npi"].astype("string"), e["target_npi"].astype("string")
        return pd.DataFrame(
            {
                "w": pd.to_numeric(e[weight], errors="coerce").fillna(0).to_numpy(float),
                "lon1": lon.reindex(s).to_numpy(float, na_value=np.nan),
                "lat1": lat.reindex(s).to_numpy(float, na_value=np.nan),
                "lon2": lon.reindex(t).to_numpy(float, na_value=np.nan),
                "lat2": lat.reindex(t).to_numpy(float, na_value=np.nan),
            }
        )
    from ._markets import _unit_flows, unit_table

    unit_of, units = unit_table(net, unit=unit)  # type: ignore[arg-type]
    f = _unit_flows(net, unit_of, unit_of, weight)
    f = f[f["src"] != f["dst"]]
    return pd.DataFrame(
        {
            "w": f["w"].to_numpy(float),
            "lon1": units["lon"].reindex(f["src"]).to_numpy(float),
            "lat1": units["lat"].reindex(f["src"]).to_numpy(float),
            "lon2": units["lon"].reindex(f["dst"]).to_numpy(float),
            "lat2": units["lat"].reindex(f["dst"]).to_numpy(float),
        }
    )


def plot_flows(
    net: ReferralNetwork,
    *,
    ax: Axes | None = None,
    max_flows: int = 2000,
    unit: str | None = None,
    weight: str = "count",
    max_width: float = 4.0,
    color: str = "#c0392b",
    points: bool = True,
    title: str | None = None,
    outlines: str | None = "auto",
) -> tuple[Figure, Axes]:
    """Referral flows as straight lines whose width and opacity grow with volume.

    Parameters
    ----------
    net
        The network.
    ax
        Axes to draw on.
    max_flows
        Draw only the largest flows (by ``weight``).
    unit
        ``None``: one line per physician pair; ``"zip"`` or ``"practice"``:
        flows summed between units (self-flows left out).
    weight
        Flow column giving the volume.
    max_width
        Line width of the largest flow (points); widths scale linearly.
    color
        Line colour.
    points
        Also draw the physicians (or units) as dots.
    title
        Axes title.
    outlines
        Reference outlines beneath the data: ``"auto"`` (US states, plus
        counties when the view is under :data:`~refgraph.geo.COUNTY_MAX_KM`
        km), ``"state"``, ``"county"`` or ``None``; see
        :func:`~refgraph.geo.plot_outlines`.

    Returns
    -------
    (Figure, Axes)
        The lines are a ``LineCollection`` labelled ``"flows"``, largest
        drawn last (on top).

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> fig, ax = plot_flows(synthetic_region(200, seed=1), max_flows=100)
    >>> lines = next(c for c in ax.collections if c.get_label() == "flows")
    >>> len(lines.get_segments())
    100
    """
    from matplotlib.collections import LineCollection

    fig, ax = _axes(ax)
    e = _unit_edges(net, unit, weight)
    ok = np.isfinite(e[["lon1", "lat1", "lon2", "lat2"]].to_numpy(float)).all(axis=1)
    e = e[ok & (e["w"].to_numpy(float) > 0)]
    e = e.sort_values("w", ascending=False, kind="stable").head(int(max_flows)).iloc[::-1]
    w = e["w"].to_numpy(float)
    seg = np.stack([e[["lon1", "lat1"]].to_numpy(float), e[["lon2", "lat2"]].to_numpy(float)], 1)
    wmax = float(w.max()) if len(w) else 1.0
    widths = 0.2 + (max_width - 0.2) * w / wmax
    import matplotlib.colors as mcolors

    rgba = np.tile(mcolors.to_rgba(color), (len(w), 1))
    rgba[:, 3] = 0.15 + 0.75 * w / wmax
    lc = LineCollection(list(seg), linewidths=widths, colors=rgba, label="flows", zorder=2)
    ax.add_collection(lc)
    lats = [seg[:, :, 1].ravel()] if len(seg) else []
    if points:
        if unit is None:
            lat, lon, okp = _ll(net.physicians)
        else:
            from ._markets import unit_table

            _, units = unit_table(net, unit=unit)  # type: ignore[arg-type]
            lat, lon, okp = _ll(units)
        ax.scatter(lon[okp], lat[okp], s=5, c="#2c3e50", lw=0, alpha=0.7, label="points", zorder=3)
        lats.append(lat[okp])
    ax.autoscale_view()
    _finish(ax, np.concatenate(lats) if lats else np.empty(0), title, outlines)
    return fig, ax


def _hull_patch(lat: np.ndarray, lon: np.ndarray, color: Any) -> Any:
    from matplotlib.patches import Polygon

    from ._geojson import convex_hull

    g = convex_hull(lat, lon)
    if g["type"] != "Polygon":
        return None
    ring = np.asarray(g["coordinates"][0])
    return Polygon(ring, closed=True, facecolor=color, edgecolor=color, alpha=0.25, lw=1.2)


def plot_clusters(
    clustered: pd.DataFrame,
    *,
    by: str = "cluster",
    hulls: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
    max_legend: int = 12,
    outlines: str | None = "auto",
) -> tuple[Figure, Axes]:
    """Points coloured by cluster, with the convex hull of each cluster.

    Parameters
    ----------
    clustered
        Output of :func:`refgraph.geo.cluster` (or any table with ``lat``,
        ``lon`` and a label column, e.g. :func:`refgraph.geo.plurality_regions`).
    by
        Label column; -1 and missing labels are drawn grey, without hull.
    hulls
        Draw the convex hull of each cluster (clusters with fewer than three
        distinct, non-collinear points get none).
    ax
        Axes to draw on.
    title
        Axes title.
    outlines
        Reference outlines beneath the data: ``"auto"`` (US states, plus
        counties when the view is under :data:`~refgraph.geo.COUNTY_MAX_KM`
        km), ``"state"``, ``"county"`` or ``None``; see
        :func:`~refgraph.geo.plot_outlines`.
    max_legend
        Largest number of clusters listed in the legend.

    Returns
    -------
    (Figure, Axes)
        One scatter collection per cluster (label = cluster label) plus
        ``"noise"``, and one ``Polygon`` patch per hull.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"lat": [0, 0, 0.01, 1, 1.01, 1, 5], "lon": [0, 0.01, 0, 1, 1, 1.01, 5],
    ...                    "cluster": [0, 0, 0, 1, 1, 1, -1]})
    >>> fig, ax = plot_clusters(df)
    >>> len(ax.patches), sorted(c.get_label() for c in ax.collections)
    (2, ['0', '1', 'noise'])
    """
    if by not in clustered.columns:
        raise ValidationError(f"by: column {by!r} not in the table")
    fig, ax = _axes(ax)
    lat, lon, ok = _ll(clustered)
    lab = clustered[by]
    noise = (lab.isna() | (lab.astype(str) == "-1")).to_numpy(bool)
    keys = pd.unique(lab[~noise & ok].to_numpy(dtype=object))
    try:
        keys = sorted(keys)
    except TypeError:
        keys = sorted(keys, key=str)
    pal = _palette(len(keys))
    labv = lab.to_numpy(dtype=object)
    if (noise & ok).any():
        ax.scatter(
            lon[noise & ok], lat[noise & ok], s=6, c=_NOISE_COLOR, lw=0, label="noise", zorder=2
        )
    for i, k in enumerate(keys):
        m = ok & ~noise & (labv == k)
        ax.scatter(lon[m], lat[m], s=10, color=pal[i], lw=0, label=str(k), zorder=3)
        if hulls:
            patch = _hull_patch(lat[m], lon[m], pal[i])
            if patch is not None:
                ax.add_patch(patch)
    if 0 < len(keys) <= max_legend:
        ax.legend(title=by, fontsize=7, title_fontsize=8, markerscale=1.5, loc="best")
    ax.autoscale_view()
    _finish(ax, lat[ok], title, outlines)
    return fig, ax


def plot_regions(
    regions: pd.DataFrame,
    *,
    by: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    outlines: str | None = "auto",
) -> tuple[Figure, Axes]:
    """Units coloured by market (plurality region or flow community) with hulls.

    ``by`` defaults to ``"region"`` or ``"community"``, whichever exists.
    See :func:`plot_clusters`.

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> from refgraph.geo import plurality_regions
    >>> fig, ax = plot_regions(plurality_regions(synthetic_region(300, seed=1)))
    >>> len(ax.collections) > 1
    True
    """
    if by is None:
        by = next((c for c in ("region", "community", "cluster") if c in regions.columns), None)
        if by is None:
            raise ValidationError("by: no 'region', 'community' or 'cluster' column")
    return plot_clusters(regions, by=by, ax=ax, title=title, outlines=outlines)


def plot_catchment(
    catchment: Catchment,
    *,
    ax: Axes | None = None,
    radius: bool = True,
    title: str | None = None,
    outlines: str | None = "auto",
) -> tuple[Figure, Axes]:
    """Map of a catchment: units sized by volume, the area's hull, the radius circle.

    Parameters
    ----------
    catchment
        Output of :func:`refgraph.geo.catchment`.
    ax
        Axes to draw on.
    radius
        Draw the circle of radius :attr:`Catchment.radius_km` (great-circle
        polygon) around the target.
    title
        Axes title (default: target and share).
    outlines
        Reference outlines beneath the data: ``"auto"`` (US states, plus
        counties when the view is under :data:`~refgraph.geo.COUNTY_MAX_KM`
        km), ``"state"``, ``"county"`` or ``None``; see
        :func:`~refgraph.geo.plot_outlines`.

    Returns
    -------
    (Figure, Axes)
        Scatter collections ``"in catchment"``, ``"outside"`` and
        ``"target"``; patches ``"area"`` (hull) and ``"radius"``.

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> from refgraph.geo import catchment
    >>> net = synthetic_region(300, seed=1)
    >>> c = catchment(net, net.practices["practice_id"].iloc[0])
    >>> fig, ax = plot_catchment(c)
    >>> "target" in [x.get_label() for x in ax.collections]
    True
    """
    from matplotlib.patches import Polygon

    from ._geojson import _circle

    fig, ax = _axes(ax)
    u = catchment.units
    lat, lon, ok = _ll(u)
    inside = u["in_catchment"].to_numpy(bool)
    vol = u["volume"].to_numpy(float)
    s = 8 + 120 * np.sqrt(vol / vol.max()) if len(vol) else vol
    ax.scatter(
        lon[ok & ~inside],
        lat[ok & ~inside],
        s=s[ok & ~inside],
        c=_NOISE_COLOR,
        lw=0,
        label="outside",
        zorder=2,
    )
    ax.scatter(
        lon[ok & inside],
        lat[ok & inside],
        s=s[ok & inside],
        c="#2e86c1",
        lw=0,
        alpha=0.8,
        label="in catchment",
        zorder=3,
    )
    lats = [lat[ok]]
    if (ok & inside).sum():
        patch = _hull_patch(lat[ok & inside], lon[ok & inside], "#2e86c1")
        if patch is not None:
            patch.set_label("area")
            ax.add_patch(patch)
    if np.isfinite(catchment.lat) and np.isfinite(catchment.lon):
        if radius and np.isfinite(catchment.radius_km) and catchment.radius_km > 0:
            ring = np.asarray(
                _circle(catchment.lat, catchment.lon, catchment.radius_km)["coordinates"][0]
            )
            ax.add_patch(
                Polygon(
                    ring, closed=True, fill=False, ls="--", ec="#34495e", lw=1.0, label="radius"
                )
            )
            lats.append(ring[:, 1])
        ax.scatter(
            [catchment.lon],
            [catchment.lat],
            marker="*",
            s=220,
            c="#e74c3c",
            edgecolors="black",
            linewidths=0.6,
            label="target",
            zorder=5,
        )
    ax.legend(fontsize=7, loc="best")
    ax.autoscale_view()
    if title is None:
        title = (
            f"{catchment.kind} {catchment.target}: {catchment.share:.0%} of referrals "
            f"({catchment.direction}) within {catchment.radius_km:.1f} km, "
            f"{len(catchment.area)} {catchment.unit}s"
        )
    _finish(ax, np.concatenate(lats), title, outlines)
    return fig, ax
