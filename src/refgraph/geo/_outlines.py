"""US reference outlines (states, counties) shipped with refgraph, and drawing them under maps.

The outlines are derived from the US Census Bureau's 2016 cartographic boundary files
at 1:500,000 (``cb_2016_us_state_500k``, ``cb_2016_us_county_500k``; public domain,
a work of the US government) by ``scripts/make_outlines.py``: every ring simplified
with Douglas–Peucker (0.002 degree for states, 0.0015 for counties, about 220 m and
170 m north-south) and rounded to 0.0001 degree. Each file's ``meta`` entry records the
source, vintage, licence and tolerances; :func:`outlines` returns it in ``attrs``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ValidationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["COUNTY_MAX_KM", "outlines", "plot_outlines"]

#: ``level="auto"`` draws counties when the view's longer side is under this many km.
COUNTY_MAX_KM = 300.0

_LEVELS = ("state", "county")
_STATE_STYLE = {"color": "#8a8f99", "linewidths": 0.7}
_COUNTY_STYLE = {"color": "#c3c7ce", "linewidths": 0.4}


@dataclass(frozen=True)
class _Rings:
    meta: dict[str, Any]
    geoid: np.ndarray
    name: np.ndarray
    state: np.ndarray
    owner: np.ndarray  # area index of each ring
    start: np.ndarray  # first vertex of each ring (len = rings + 1)
    lonlat: np.ndarray  # (n, 2) float degrees
    box: np.ndarray  # (rings, 4): lon_min, lat_min, lon_max, lat_max

    def ring(self, i: int) -> np.ndarray:
        return self.lonlat[self.start[i] : self.start[i + 1]]


@functools.lru_cache(maxsize=2)
def _load(level: str) -> _Rings:
    ref = resources.files("refgraph.geo").joinpath("data", f"us_{level}.npz")
    with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        q = np.cumsum(z["delta"].astype(np.int64), axis=0)
        lens = z["ring_len"].astype(np.int64)
        rings = _Rings(
            meta=meta,
            geoid=z["geoid"].astype(str),
            name=z["name"].astype(str),
            state=z["state"].astype(str),
            owner=z["ring_owner"].astype(np.int64),
            start=np.r_[0, np.cumsum(lens)],
            lonlat=q * float(meta["quantum_deg"]),
            box=np.empty((len(lens), 4)),
        )
    ring_id = np.repeat(np.arange(len(lens)), lens)
    for j, f in enumerate((np.minimum, np.minimum, np.maximum, np.maximum)):
        rings.box[:, j] = np.full(len(lens), np.inf if j < 2 else -np.inf)
        f.at(rings.box[:, j], ring_id, rings.lonlat[:, j % 2])
    return rings


def _check_level(level: str) -> str:
    if level not in _LEVELS:
        raise ValidationError(f"level: {level!r} is not one of {list(_LEVELS)}")
    return level


def _check_bbox(bbox: Any) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        w, s, e, n = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"bbox: expected (lon_min, lat_min, lon_max, lat_max) in degrees, got {bbox!r}"
        ) from exc
    if not (-90 <= s <= n <= 90 and -180 <= w <= e <= 180):
        raise ValidationError(
            f"bbox: expected lon_min <= lon_max in [-180, 180] and lat_min <= lat_max in "
            f"[-90, 90], got {bbox!r}"
        )
    return w, s, e, n


def _select(r: _Rings, bbox: tuple[float, float, float, float] | None) -> np.ndarray:
    """Indices of the rings whose bounding box meets ``bbox`` (all when ``None``)."""
    if bbox is None:
        return np.arange(len(r.owner))
    w, s, e, n = bbox
    b = r.box
    return np.flatnonzero((b[:, 0] <= e) & (b[:, 2] >= w) & (b[:, 1] <= n) & (b[:, 3] >= s))


def outlines(level: str = "state", *, bbox: Any = None) -> pd.DataFrame:
    """US state or county outlines shipped with refgraph, one row per vertex.

    The same long layout as ggplot2's ``map_data``: each ``ring`` is a closed
    polygon boundary (first vertex repeated last), in drawing order. Derived
    from the US Census Bureau's 2016 cartographic boundary files at
    1:500,000 (public domain), simplified for maps (see
    :doc:`/geography`); not for measuring areas or testing which side of a
    border a point lies within a few hundred metres.

    Parameters
    ----------
    level
        ``"state"`` (50 states, DC, Puerto Rico and four island areas) or
        ``"county"`` (3,233 counties and equivalents).
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)`` in degrees (the GeoJSON
        order: west, south, east, north): keep the rings whose bounding box
        meets it (whole rings, not cut at the box). ``None``: all.

    Returns
    -------
    pandas.DataFrame
        Columns ``geoid`` (FIPS code: 2 digits for a state, 5 for a county),
        ``name``, ``state`` (USPS code), ``ring`` (ring number, unique per
        file), ``lon``, ``lat``. ``attrs`` holds the file's provenance:
        ``source``, ``url``, ``vintage``, ``licence``, ``tolerance_deg``...

    Examples
    --------
    >>> st = outlines("state")
    >>> st["geoid"].nunique(), st.attrs["vintage"], st.attrs["tolerance_deg"]
    (56, 2016, 0.002)
    >>> ks = st[st["state"] == "KS"]
    >>> round(float(ks["lat"].min()), 1), round(float(ks["lat"].max()), 1)
    (37.0, 40.0)
    >>> sorted(outlines("county", bbox=(-95.0, 38.95, -94.9, 39.0))["name"].unique())
    ['Johnson', 'Leavenworth', 'Wyandotte']
    """
    r = _load(_check_level(level))
    idx = _select(r, _check_bbox(bbox))
    lens = r.start[idx + 1] - r.start[idx]
    rows = np.concatenate(
        [np.arange(r.start[i], r.start[i + 1]) for i in idx] or [np.empty(0, int)]
    )
    area = np.repeat(r.owner[idx], lens)
    out = pd.DataFrame(
        {
            "geoid": r.geoid[area],
            "name": r.name[area],
            "state": r.state[area],
            "ring": np.repeat(idx, lens),
            "lon": r.lonlat[rows, 0],
            "lat": r.lonlat[rows, 1],
        }
    )
    out.attrs.update(r.meta)
    return out


def _extent(ax: Axes) -> tuple[float, float, float, float] | None:
    """The data's extent on ``ax`` (lon/lat), or ``None`` when there is none."""
    lim = ax.dataLim
    if not np.all(np.isfinite(lim.get_points())) or lim.width < 0 or lim.height < 0:
        return None
    return float(lim.x0), float(lim.y0), float(lim.x1), float(lim.y1)


def _auto_level(bbox: tuple[float, float, float, float]) -> str:
    w, s, e, n = bbox
    km = 111.2 * max(n - s, (e - w) * np.cos(np.radians(0.5 * (s + n))))
    return "county" if km < COUNTY_MAX_KM else "state"


def _draw(ax: Axes, level: str, bbox: tuple[float, float, float, float], zorder: float) -> Any:
    from matplotlib.collections import LineCollection

    r = _load(level)
    segs = [r.ring(i) for i in _select(r, bbox)]
    if not segs:  # outside the United States
        return None
    style = _STATE_STYLE if level == "state" else _COUNTY_STYLE
    lc = LineCollection(segs, label=f"{level} outlines", zorder=zorder, **style)
    ax.add_collection(lc, autolim=False)
    return lc


def plot_outlines(
    ax: Axes | None = None,
    *,
    level: str = "auto",
    bbox: Any = None,
    margin: float = 0.5,
    zorder: float = 0.5,
) -> tuple[Figure, Axes]:
    """Draw US state (and county) outlines as thin grey lines beneath a map.

    Lines are added without changing the axes' limits, so call it after the
    data are drawn: the outlines fill the view around them. The ``plot_*``
    maps of :mod:`refgraph.geo` call it for you (``outlines="auto"``).

    Parameters
    ----------
    ax
        Axes in longitude (x) and latitude (y) degrees; a new figure showing
        ``bbox`` when omitted.
    level
        ``"state"``, ``"county"`` (counties and, darker, states), ``"auto"``
        (counties only when the view's longer side is under
        :data:`COUNTY_MAX_KM` km, where they help to place a point; states
        only otherwise) or ``"none"``.
    bbox
        ``(lon_min, lat_min, lon_max, lat_max)``; default the data's extent
        on ``ax`` (nothing is drawn when the axes hold no data and no ``bbox``
        is given).
    margin
        Rings are drawn when they meet the extent widened by this fraction of
        its width and height on every side (whole rings: the axes clip them).
    zorder
        Drawing order (the maps' points and lines are at 1 and above).

    Returns
    -------
    (Figure, Axes)
        One ``LineCollection`` per level, labelled ``"state outlines"`` and
        ``"county outlines"``.

    Examples
    --------
    >>> fig, ax = plot_outlines(bbox=(-95.0, 38.5, -94.0, 39.5))
    >>> sorted(c.get_label() for c in ax.collections)
    ['county outlines', 'state outlines']
    >>> fig, ax = plot_outlines(bbox=(-105.0, 36.0, -94.0, 41.0))
    >>> [c.get_label() for c in ax.collections]
    ['state outlines']
    """
    from .._plotting import axes as _axes

    if level not in (*_LEVELS, "auto", "none"):
        raise ValidationError(f"level: {level!r} is not one of 'auto', 'state', 'county', 'none'")
    box = _check_bbox(bbox)
    new = ax is None
    fig, ax = _axes(ax)
    if box is None:
        box = _extent(ax)
    if box is None or level == "none":
        return fig, ax
    lvl = _auto_level(box) if level == "auto" else level
    w, s, e, n = box
    dx, dy = max(margin * (e - w), 0.01), max(margin * (n - s), 0.01)
    wide = (w - dx, s - dy, e + dx, n + dy)
    if lvl == "county":
        _draw(ax, "county", wide, zorder)
    _draw(ax, "state", wide, zorder + 0.01)
    if new:
        ax.set_xlim(w, e)
        ax.set_ylim(s, n)
        ax.set_aspect(1.0 / max(np.cos(np.radians(0.5 * (s + n))), 0.05))
    return fig, ax
