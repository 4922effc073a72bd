"""GeoJSON (RFC 7946) export of points, flows, cluster hulls and catchments.

Re-exported as :func:`refgraph.geo.to_geojson`. Positions are
``[longitude, latitude]`` (RFC 7946 section 3.1.1), polygon exterior rings
are closed and counterclockwise (section 3.1.6), and no NaN is written
(missing values become ``null``; rows without coordinates get no feature
and are counted in the collection's ``"skipped"`` member).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_int
from ._cluster import cluster_summary

logger = logging.getLogger(__name__)

__all__ = ["convex_hull", "to_geojson"]

_R = 6371.0088


def _py(v: Any) -> Any:
    """JSON-safe Python value (NaN/NA -> None, numpy scalars -> Python)."""
    if isinstance(v, dict):
        return {str(k): _py(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, np.ndarray)):
        return [_py(x) for x in v]
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, (int, str)):
        return v
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    return str(v)


def _pos(lon: float, lat: float) -> list[float]:
    return [round(float(lon), 7), round(float(lat), 7)]


def convex_hull(lat: Any, lon: Any) -> dict[str, Any]:
    """GeoJSON geometry of the convex hull of points (in lon/lat degrees).

    A ``Polygon`` (closed, counterclockwise ring) for three or more
    non-collinear points, a ``LineString`` for collinear points, a ``Point``
    for a single distinct location.

    Examples
    --------
    >>> convex_hull([0, 0, 1, 0.2], [0, 1, 0, 0.2])["coordinates"]
    [[[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]
    >>> convex_hull([5, 5], [6, 6])
    {'type': 'Point', 'coordinates': [6.0, 5.0]}
    """
    pts = np.unique(np.column_stack([np.asarray(lon, float), np.asarray(lat, float)]), axis=0)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) == 0:
        raise ValidationError("convex_hull: no finite points")
    if len(pts) == 1:
        return {"type": "Point", "coordinates": _pos(*pts[0])}
    if len(pts) >= 3:
        from scipy.spatial import ConvexHull, QhullError

        try:
            hull = ConvexHull(pts)
        except QhullError:
            hull = None
        if hull is not None:
            ring = [_pos(*pts[i]) for i in hull.vertices]  # counterclockwise in 2-D
            ring.append(ring[0])
            return {"type": "Polygon", "coordinates": [ring]}
    # collinear: the two extreme points
    c = pts - pts.mean(axis=0)
    axis = np.linalg.svd(c, full_matrices=False)[2][0]
    t = c @ axis
    a, b = pts[int(np.argmin(t))], pts[int(np.argmax(t))]
    return {"type": "LineString", "coordinates": [_pos(*a), _pos(*b)]}


def _circle(lat: float, lon: float, km: float, n: int = 64) -> dict[str, Any]:
    """Polygon approximating a great-circle circle (counterclockwise)."""
    p1, l1, d = math.radians(lat), math.radians(lon), km / _R
    ring = []
    for i in range(n):
        brg = -2 * math.pi * i / n  # decreasing bearing = counterclockwise
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(brg))
        l2 = l1 + math.atan2(
            math.sin(brg) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2)
        )
        lon2 = (math.degrees(l2) + 540) % 360 - 180
        ring.append(_pos(lon2, math.degrees(p2)))
    ring.append(ring[0])
    return {"type": "Polygon", "coordinates": [ring]}


def _points(df: pd.DataFrame, layer: str | None = None) -> tuple[list[dict[str, Any]], int]:
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float, na_value=np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float, na_value=np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon)
    props = [c for c in df.columns if c not in ("lat", "lon")]
    recs = df[props].astype(object).to_dict("records")
    idx = list(df.index)
    feats = []
    for i in np.flatnonzero(ok):
        p = {k: _py(v) for k, v in recs[i].items()}
        if layer is not None:
            p["layer"] = layer
        feats.append(
            {
                "type": "Feature",
                "id": _py(idx[i]) if not isinstance(df.index, pd.RangeIndex) else int(i),
                "geometry": {"type": "Point", "coordinates": _pos(lon[i], lat[i])},
                "properties": p,
            }
        )
    return feats, int((~ok).sum())


def _flows(net: Any, weight: str, max_flows: int | None) -> tuple[list[dict[str, Any]], int]:
    e = net.edges(weight=weight)
    if max_flows is not None:
        max_flows = check_int(max_flows, "max_flows", minimum=0)
        e = e.sort_values(weight, ascending=False, kind="stable").head(max_flows)
    phys = net.physicians.drop_duplicates("npi").set_index("npi")
    lat = pd.to_numeric(phys["lat"], errors="coerce")
    lon = pd.to_numeric(phys["lon"], errors="coerce")
    s, t = e["source_npi"].astype("string"), e["target_npi"].astype("string")
    c = np.column_stack(
        [
            lon.reindex(s).to_numpy(float, na_value=np.nan),
            lat.reindex(s).to_numpy(float, na_value=np.nan),
            lon.reindex(t).to_numpy(float, na_value=np.nan),
            lat.reindex(t).to_numpy(float, na_value=np.nan),
        ]
    )
    ok = np.isfinite(c).all(axis=1)
    recs = e.astype(object).to_dict("records")
    feats = []
    for i in np.flatnonzero(ok):
        feats.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [_pos(c[i, 0], c[i, 1]), _pos(c[i, 2], c[i, 3])],
                },
                "properties": {k: _py(v) for k, v in recs[i].items()},
            }
        )
    return feats, int((~ok).sum())


def _clusters(df: pd.DataFrame, by: str) -> tuple[list[dict[str, Any]], int]:
    if by not in df.columns:
        raise ValidationError(f"by: column {by!r} not in the table; run refgraph.geo.cluster")
    summ = cluster_summary(df, by=by)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float, na_value=np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float, na_value=np.nan)
    lab = df[by].to_numpy(dtype=object)
    feats = []
    for key, row in summ.iterrows():
        m = (lab == key) & np.isfinite(lat) & np.isfinite(lon)
        props = {by: _py(key), **{k: _py(v) for k, v in row.items()}}
        feats.append(
            {"type": "Feature", "geometry": convex_hull(lat[m], lon[m]), "properties": props}
        )
    return feats, 0


def _catchment(c: Any) -> tuple[list[dict[str, Any]], int]:
    feats: list[dict[str, Any]] = []
    base = {
        "target": c.target,
        "kind": c.kind,
        "share": c.share,
        "unit": c.unit,
        "direction": c.direction,
    }
    if np.isfinite(c.lat) and np.isfinite(c.lon):
        feats.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": _pos(c.lon, c.lat)},
                "properties": {**base, "role": "target", "total_volume": _py(c.total_volume)},
            }
        )
        if np.isfinite(c.radius_km) and c.radius_km > 0:
            feats.append(
                {
                    "type": "Feature",
                    "geometry": _circle(c.lat, c.lon, c.radius_km),
                    "properties": {**base, "role": "radius", "radius_km": _py(c.radius_km)},
                }
            )
    u = c.units
    inside = u[u["in_catchment"].to_numpy(bool)]
    okin = np.isfinite(inside["lat"].to_numpy(float)) & np.isfinite(inside["lon"].to_numpy(float))
    if okin.any():
        feats.append(
            {
                "type": "Feature",
                "geometry": convex_hull(
                    inside["lat"].to_numpy(float)[okin], inside["lon"].to_numpy(float)[okin]
                ),
                "properties": {
                    **base,
                    "role": "area",
                    "units": c.area,
                    "achieved_share": _py(c.achieved_share),
                },
            }
        )
    pts = u.reset_index()
    pts = pts.rename(columns={pts.columns[0]: "unit_id"})
    more, skipped = _points(pts.assign(role="unit"))
    return feats + more, skipped


def to_geojson(
    obj: Any,
    *,
    kind: Literal["points", "flows", "clusters", "catchment"] | None = None,
    path: str | Path | None = None,
    table: str = "both",
    by: str = "cluster",
    weight: str = "count",
    max_flows: int | None = None,
) -> dict[str, Any]:
    """Export points, flows, cluster hulls or a catchment as a GeoJSON FeatureCollection.

    Parameters
    ----------
    obj
        A :class:`~refgraph.ReferralNetwork` (points or flows), a DataFrame
        with ``lat``/``lon`` (points, or clusters with a label column) or a
        :class:`~refgraph.geo.Catchment`.
    kind
        ``"points"`` (one Point per row, the other columns as properties),
        ``"flows"`` (one LineString per directed physician pair, from source
        to target, with ``count``/``patients``), ``"clusters"`` (one convex
        hull Polygon per cluster with :func:`~refgraph.geo.cluster_summary`
        properties; noise is left out) or ``"catchment"`` (target Point,
        radius Polygon, area hull and unit Points, told apart by the
        ``role`` property). Default: catchment for a Catchment, points
        otherwise.
    path
        Also write the JSON to this file.
    table
        For a network's points: ``"physicians"``, ``"practices"`` or
        ``"both"`` (a ``layer`` property tells them apart).
    by
        Cluster label column (``kind="clusters"``).
    weight
        Flow column (``kind="flows"``).
    max_flows
        Export only the largest flows.

    Returns
    -------
    dict
        The FeatureCollection (``json.dumps`` ready), with a non-standard
        ``"skipped"`` member counting rows left out for lack of coordinates.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"npi": ["1234567893"], "lat": [42.36], "lon": [-71.06]})
    >>> fc = to_geojson(df)
    >>> fc["features"][0]["geometry"]
    {'type': 'Point', 'coordinates': [-71.06, 42.36]}
    """
    from ._catchment import Catchment

    if kind is None:
        kind = "catchment" if isinstance(obj, Catchment) else "points"
    is_net = hasattr(obj, "physicians") and hasattr(obj, "edges")
    if kind == "catchment":
        if not isinstance(obj, Catchment):
            raise ValidationError("kind='catchment' needs a Catchment (refgraph.geo.catchment)")
        feats, skipped = _catchment(obj)
    elif kind == "flows":
        if not is_net:
            raise ValidationError("kind='flows' needs a ReferralNetwork")
        feats, skipped = _flows(obj, weight, max_flows)
    elif kind in ("points", "clusters"):
        if is_net:
            if kind == "clusters":
                raise ValidationError("kind='clusters' needs the table returned by geo.cluster")
            if table not in ("physicians", "practices", "both"):
                raise ValidationError(
                    f"table: expected 'physicians', 'practices' or 'both', got {table!r}"
                )
            feats, skipped = [], 0
            for t in ("practices", "physicians"):
                if table in (t, "both"):
                    f, s = _points(getattr(obj, t), layer=t)
                    feats += f
                    skipped += s
        elif isinstance(obj, pd.DataFrame):
            for c in ("lat", "lon"):
                if c not in obj.columns:
                    raise ValidationError(f"obj: the table has no {c!r} column")
            feats, skipped = _clusters(obj, by) if kind == "clusters" else _points(obj)
        else:
            raise ValidationError(
                f"obj: expected a ReferralNetwork, DataFrame or Catchment, got {type(obj).__name__}"
            )
    else:
        raise ValidationError(
            f"kind: expected 'points', 'flows', 'clusters' or 'catchment', got {kind!r}"
        )
    if skipped:
        logger.info("to_geojson: %d rows without coordinates left out", skipped)
    fc: dict[str, Any] = {"type": "FeatureCollection", "features": feats, "skipped": skipped}
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(fc, allow_nan=False), encoding="utf-8")
    return fc
