"""Distances, the spatial index and point queries of :mod:`refgraph.geo`.

Public names are re-exported from :mod:`refgraph.geo`; see its docstring for the
tables accepted and the distance conventions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._distance import EARTH_RADIUS_KM, haversine_km
from .._errors import ValidationError
from .._optional import require
from .._params import check_float, check_int, check_latlon

if TYPE_CHECKING:
    from sklearn.neighbors import BallTree


logger = logging.getLogger("refgraph.geo")

__all__ = [
    "SpatialIndex",
    "distance_matrix",
    "geodesic_km",
    "nearest",
    "project_km",
    "within_km",
]


# ----------------------------------------------------------------------------- helpers
def _table(net_or_table: Any, table: str = "physicians") -> pd.DataFrame:
    if isinstance(net_or_table, pd.DataFrame):
        df = net_or_table
    elif hasattr(net_or_table, "physicians") and hasattr(net_or_table, "practices"):
        if table not in ("physicians", "practices"):
            raise ValidationError(f"table: expected 'physicians' or 'practices', got {table!r}")
        df = getattr(net_or_table, table)
    else:
        raise ValidationError(
            "net_or_table: expected a ReferralNetwork or a DataFrame with lat/lon columns, "
            f"got {type(net_or_table).__name__}"
        )
    for c in ("lat", "lon"):
        if c not in df.columns:
            raise ValidationError(
                f"net_or_table: the table has no {c!r} column (columns: {list(df.columns)}); "
                "geocode it first with refgraph.geo.geocode"
            )
    return df


def _coords(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lat, lon, mask of rows with valid coordinates) as fresh float arrays."""
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    return lat, lon, ok


def _check_km(value: float, name: str, *, strict: bool = False) -> float:
    """A distance in km: finite and >= 0 (> 0 when ``strict``)."""
    return check_float(value, name, minimum=0, open_min=strict)


# ----------------------------------------------------------------------------- distances
def geodesic_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Ellipsoidal (WGS84) distance in km with :class:`geopy.distance.geodesic`.

    Precise (Karney's algorithm) but a Python loop: use it for a few
    thousand pairs, :func:`haversine_km` for tables.

    Examples
    --------
    >>> round(geodesic_km(40.7128, -74.0060, 42.3601, -71.0589), 1)
    306.5
    >>> geodesic_km([0, 0], [0, 0], [0, 1], [1, 0]).round(2)
    array([111.32, 110.57])
    """
    require("geopy", "geo", purpose="geodesic_km")
    from geopy.distance import geodesic

    b = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2)))
    out = np.full(b[0].shape, np.nan)
    flat = [x.ravel() for x in b]
    res = out.ravel()
    for i in range(res.size):
        vals = (flat[0][i], flat[1][i], flat[2][i], flat[3][i])
        if all(np.isfinite(vals)):
            res[i] = geodesic((vals[0], vals[1]), (vals[2], vals[3])).km
    out = res.reshape(b[0].shape)
    if out.ndim == 0:
        return float(out)
    return out


def _latlon_array(x: Any, table: str) -> np.ndarray:
    if isinstance(x, pd.DataFrame) or hasattr(x, "physicians"):
        df = _table(x, table)
        lat, lon, _ = _coords(df)
        return np.column_stack([lat, lon])
    a = np.asarray(x, dtype=float)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValidationError(f"points: expected a table or an (n, 2) lat/lon array, got {a.shape}")
    return a


def distance_matrix(
    a: Any,
    b: Any = None,
    *,
    method: Literal["haversine", "geodesic"] = "haversine",
    table: str = "physicians",
) -> np.ndarray:
    """Pairwise distances in km between two point sets.

    Parameters
    ----------
    a, b
        Tables with ``lat``/``lon``, networks, or ``(n, 2)`` arrays of
        (lat, lon) degrees. ``b`` defaults to ``a``.
    method
        ``"haversine"`` (vectorised) or ``"geodesic"`` (geopy, slow).
    table
        Which table of a network.

    Returns
    -------
    numpy.ndarray
        ``(len(a), len(b))`` kilometres; NaN rows/columns for missing points.

    Examples
    --------
    >>> distance_matrix([[0, 0], [0, 1]]).round(1)
    array([[  0. , 111.2],
           [111.2,   0. ]])
    """
    pa = _latlon_array(a, table)
    pb = pa if b is None else _latlon_array(b, table)
    if method == "haversine":
        return np.asarray(haversine_km(pa[:, :1], pa[:, 1:], pb[:, 0], pb[:, 1]))
    if method == "geodesic":
        return np.asarray(geodesic_km(pa[:, :1], pa[:, 1:], pb[:, 0], pb[:, 1]))
    raise ValidationError(f"method: expected 'haversine' or 'geodesic', got {method!r}")


# ----------------------------------------------------------------------------- spatial index
class SpatialIndex:
    """Ball tree (haversine metric) over the rows of a table, for repeated queries.

    Rows without valid coordinates are left out of the index (and counted
    in ``n_missing``).

    Parameters
    ----------
    net_or_table
        Network or DataFrame with ``lat``/``lon``.
    table
        Which table of a network (``"physicians"`` or ``"practices"``).
    leaf_size
        Ball tree leaf size.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a", "b", "c"], "lat": [0.0, 0.0, 0.0],
    ...                    "lon": [0.0, 0.05, 1.0]})
    >>> idx = SpatialIndex(df)
    >>> idx.within_km(0.0, 0.0, 10.0)["id"].tolist()
    ['a', 'b']
    >>> idx.nearest(0.0, 0.9, k=1)[["id", "distance_km"]].round(1).to_dict("records")
    [{'id': 'c', 'distance_km': 11.1}]
    """

    def __init__(
        self, net_or_table: Any, *, table: str = "physicians", leaf_size: int = 40
    ) -> None:
        require("sklearn", "geo", purpose="SpatialIndex")
        from sklearn.neighbors import BallTree

        self.table = _table(net_or_table, table)
        lat, lon, ok = _coords(self.table)
        self.rows = np.flatnonzero(ok)
        self.n_missing = int((~ok).sum())
        if self.n_missing:
            logger.info("SpatialIndex: %d rows without coordinates are not indexed", self.n_missing)
        self._X = np.radians(np.column_stack([lat[ok], lon[ok]]))
        self.tree: BallTree = BallTree(self._X, leaf_size=leaf_size, metric="haversine")

    def __len__(self) -> int:
        return len(self.rows)

    def _query_points(self, lat: Any, lon: Any) -> tuple[np.ndarray, bool]:
        la, lo = np.broadcast_arrays(np.asarray(lat, dtype=float), np.asarray(lon, dtype=float))
        scalar = la.ndim == 0
        q = np.column_stack([la.ravel(), lo.ravel()])
        for a, b in q:
            check_latlon(a, b)
        return np.radians(q), scalar

    def within_km(self, lat: Any, lon: Any, km: float) -> pd.DataFrame:
        """Rows within ``km`` of each query point, nearest first.

        Returns the matching rows with ``distance_km`` and, when several query
        points are given, ``query`` (the position of the query point).
        """
        km = _check_km(km, "km")
        q, scalar = self._query_points(lat, lon)
        ind, dist = self.tree.query_radius(
            q, r=km / EARTH_RADIUS_KM, return_distance=True, sort_results=True
        )
        return self._result(ind, dist, scalar)

    def nearest(self, lat: Any, lon: Any, k: int = 1) -> pd.DataFrame:
        """The ``k`` nearest rows to each query point, with ``distance_km`` and ``rank``."""
        k = min(check_int(k, "k", minimum=1), len(self.rows))
        q, scalar = self._query_points(lat, lon)
        if k == 0:
            return self._result([np.empty(0, int)] * len(q), [np.empty(0)] * len(q), scalar)
        dist, ind = self.tree.query(q, k=k, return_distance=True, sort_results=True)
        return self._result(list(ind), list(dist), scalar)

    def _result(self, ind: Any, dist: Any, scalar: bool) -> pd.DataFrame:
        lens = np.array([len(i) for i in ind], dtype=int)
        flat = np.concatenate(list(ind)).astype(int) if len(ind) else np.empty(0, int)
        dflat = np.concatenate(list(dist)) if len(dist) else np.empty(0)
        out = self.table.iloc[self.rows[flat]].copy()
        out["distance_km"] = dflat * EARTH_RADIUS_KM
        out["rank"] = np.concatenate([np.arange(n) for n in lens]) + 1 if len(lens) else []
        if not scalar:
            out.insert(0, "query", np.repeat(np.arange(len(lens)), lens))
        return out


def within_km(
    net_or_table: Any, lat: Any, lon: Any, km: float, *, table: str = "physicians"
) -> pd.DataFrame:
    """Rows within ``km`` kilometres (great circle) of a point, nearest first.

    Parameters
    ----------
    net_or_table
        Network (its ``table``) or DataFrame with ``lat``/``lon``.
    lat, lon
        Query point in degrees, or arrays of query points.
    km
        Radius in kilometres.
    table
        ``"physicians"`` or ``"practices"`` when a network is given.

    Returns
    -------
    pandas.DataFrame
        The matching rows (original index) with ``distance_km`` and ``rank``;
        with ``query`` (position of the query point) for several points.
        Rows without coordinates never match.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"npi": ["1", "2", "3"], "lat": [42.36, 42.37, 41.0],
    ...                    "lon": [-71.06, -71.10, -71.0]})
    >>> within_km(df, 42.36, -71.06, 5)["npi"].tolist()
    ['1', '2']

    See Also
    --------
    SpatialIndex : build the ball tree once for many queries.

    Notes
    -----
    A :class:`sklearn.neighbors.BallTree` with the haversine metric; building
    it costs O(n log n), each query O(log n + matches).
    """
    return SpatialIndex(net_or_table, table=table).within_km(lat, lon, km)


def nearest(
    net_or_table: Any, lat: Any, lon: Any, k: int = 1, *, table: str = "physicians"
) -> pd.DataFrame:
    """The ``k`` rows nearest to a point (great circle), nearest first.

    Returns the rows with ``distance_km`` and ``rank`` (1 = nearest); with
    ``query`` for several query points.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"npi": ["1", "2", "3"], "lat": [42.36, 42.37, 41.0],
    ...                    "lon": [-71.06, -71.10, -71.0]})
    >>> nearest(df, 41.1, -71.0, k=2)["npi"].tolist()
    ['3', '1']
    """
    return SpatialIndex(net_or_table, table=table).nearest(lat, lon, k)


# ----------------------------------------------------------------------------- projection
def project_km(lat: Any, lon: Any, *, center: tuple[float, float] | None = None) -> np.ndarray:
    """Azimuthal equidistant projection (km) around ``center`` (default: the mean point).

    Distances and directions from the centre are exact; other distances are
    distorted by well under 1 % within a few hundred km of it, so Euclidean
    algorithms (k-means) can run on the result.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` array of (x east, y north) kilometres.

    Examples
    --------
    >>> project_km([0.0, 0.0], [0.0, 1.0], center=(0.0, 0.0)).round(1)
    array([[  0. ,   0. ],
           [111.2,   0. ]])
    """
    la = np.radians(np.asarray(lat, dtype=float)).ravel()
    lo = np.radians(np.asarray(lon, dtype=float)).ravel()
    if center is None:
        v = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
        m = v.mean(axis=0)
        p0, l0 = np.arctan2(m[2], np.hypot(m[0], m[1])), np.arctan2(m[1], m[0])
    else:
        p0, l0 = np.radians(check_latlon(center[0], center[1], "center"))
    cosc = np.sin(p0) * np.sin(la) + np.cos(p0) * np.cos(la) * np.cos(lo - l0)
    c = np.arccos(np.clip(cosc, -1.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(c > 1e-12, c / np.sin(c), 1.0)
    x = k * np.cos(la) * np.sin(lo - l0)
    y = k * (np.cos(p0) * np.sin(la) - np.sin(p0) * np.cos(la) * np.cos(lo - l0))
    return np.column_stack([x, y]) * EARTH_RADIUS_KM


def _spherical_mean(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    la, lo = np.radians(lat), np.radians(lon)
    v = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]).mean(0)
    return (
        float(np.degrees(np.arctan2(v[2], np.hypot(v[0], v[1])))),
        float(np.degrees(np.arctan2(v[1], v[0]))),
    )
