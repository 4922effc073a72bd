"""Geography of referral networks: geocoding, distances, spatial clusters and markets.

Everything works offline: coordinates come from the tables (``lat``/``lon``)
or from ZIP code centroids of the ``zipcodes`` package; geopy is only used
for online geocoding (:func:`geocode`) and precise ellipsoidal distances
(:func:`geodesic_km`).

Functions taking ``net_or_table`` accept a :class:`~refgraph.ReferralNetwork`
(its ``physicians`` table by default; ``table="practices"`` for practices) or
any DataFrame with ``lat`` and ``lon`` columns in decimal degrees (WGS84).

Distances are great-circle distances on a sphere of radius
:data:`EARTH_RADIUS_KM` (the IUGG mean radius) unless stated otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._distance import EARTH_RADIUS_KM, haversine_km
from .._errors import ValidationError
from ._catchment import Catchment, catchment, leakage, market_share
from ._geocode import GeocodeCache, geocode, normalize_address, zip_centroids
from ._geojson import to_geojson
from ._markets import flow_communities, plurality_regions, unit_table

if TYPE_CHECKING:
    from sklearn.neighbors import BallTree


logger = logging.getLogger(__name__)

__all__ = [
    "EARTH_RADIUS_KM",
    "Catchment",
    "GeocodeCache",
    "SpatialIndex",
    "catchment",
    "cluster",
    "cluster_summary",
    "distance_matrix",
    "flow_communities",
    "geocode",
    "geodesic_km",
    "haversine_km",
    "leakage",
    "market_share",
    "nearest",
    "normalize_address",
    "plurality_regions",
    "project_km",
    "to_geojson",
    "unit_table",
    "within_km",
    "zip_centroids",
]

#: Mean Earth radius (IUGG, km) used by all great-circle distances.


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
    v = float(value)
    if not np.isfinite(v) or v < 0 or (strict and v == 0):
        raise ValidationError(
            f"{name}: expected a {'positive' if strict else 'non-negative'} "
            f"distance in km, got {value!r}"
        )
    return v


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
        if not np.isfinite(q).all():
            raise ValidationError("lat, lon: query coordinates must be finite numbers")
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
        if int(k) != k or k < 1:
            raise ValidationError(f"k: expected an integer >= 1, got {k!r}")
        k = min(int(k), len(self.rows))
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
        p0, l0 = np.radians(center[0]), np.radians(center[1])
    cosc = np.sin(p0) * np.sin(la) + np.cos(p0) * np.cos(la) * np.cos(lo - l0)
    c = np.arccos(np.clip(cosc, -1.0, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.where(c > 1e-12, c / np.sin(c), 1.0)
    x = k * np.cos(la) * np.sin(lo - l0)
    y = k * (np.cos(p0) * np.sin(la) - np.sin(p0) * np.cos(la) * np.cos(lo - l0))
    return np.column_stack([x, y]) * EARTH_RADIUS_KM


# ----------------------------------------------------------------------------- clustering
def _relabel(labels: np.ndarray) -> np.ndarray:
    """Clusters renumbered 0, 1, ... by decreasing size (ties: first appearance); -1 kept."""
    out = np.full(labels.shape, -1, dtype=np.int64)
    good = labels >= 0
    if not good.any():
        return out
    uniq, first, counts = np.unique(labels[good], return_index=True, return_counts=True)
    order = np.lexsort((first, -counts))
    new = np.empty(len(uniq), dtype=np.int64)
    new[order] = np.arange(len(uniq))
    out[good] = new[np.searchsorted(uniq, labels[good])]
    return out


def cluster(
    net_or_table: Any,
    *,
    method: Literal["dbscan", "hdbscan", "kmeans"] = "dbscan",
    eps_km: float | None = None,
    min_samples: int = 5,
    n_clusters: int | None = None,
    min_cluster_size: int | None = None,
    seed: int | None = None,
    table: str = "physicians",
) -> pd.DataFrame:
    """Spatial clusters (local markets) of physicians or practices.

    Parameters
    ----------
    net_or_table
        Network (its ``table``) or DataFrame with ``lat``/``lon``.
    method
        ``"dbscan"``: density clusters with the haversine metric, points
        within ``eps_km`` of a core point (one with ``min_samples``
        neighbours, itself included) join its cluster. ``"hdbscan"``:
        hierarchical DBSCAN (haversine) with ``min_cluster_size`` (default
        ``min_samples``) and ``eps_km`` as ``cluster_selection_epsilon``
        (clusters closer than that are merged; 0 disables). ``"kmeans"``:
        ``n_clusters`` k-means clusters on :func:`project_km` coordinates.
    eps_km
        DBSCAN: neighbourhood radius in km (converted to radians for
        scikit-learn; default 5). HDBSCAN: ``cluster_selection_epsilon`` in km
        (default 0, none).
    min_samples
        Core-point neighbourhood size (DBSCAN, HDBSCAN).
    n_clusters
        Number of clusters (k-means; required).
    min_cluster_size
        Smallest HDBSCAN cluster.
    seed
        Random seed (k-means); default ``config.seed``.
    table
        ``"physicians"`` or ``"practices"`` when a network is given.

    Returns
    -------
    pandas.DataFrame
        A copy of the table with an ``Int64`` ``cluster`` column: 0, 1, ...
        by decreasing cluster size, -1 for noise, ``<NA>`` for rows without
        coordinates (never silently dropped).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"lat": [40.0, 40.01, 40.02, 41.0, 41.01, 45.0],
    ...                    "lon": [-75.0, -75.0, -75.01, -74.0, -74.01, -70.0]})
    >>> cluster(df, eps_km=3, min_samples=2)["cluster"].tolist()
    [0, 0, 0, 1, 1, -1]
    >>> cluster(df, method="kmeans", n_clusters=3, seed=0)["cluster"].tolist()
    [0, 0, 0, 1, 1, 2]

    Notes
    -----
    Identical coordinates (physicians of one practice) are clustered once
    with a sample weight, which gives the same DBSCAN result faster.
    """
    from ..config import config

    df = _table(net_or_table, table)
    lat, lon, ok = _coords(df)
    labels = np.full(len(df), -1, dtype=np.int64)
    pts = np.column_stack([lat[ok], lon[ok]])
    if len(pts):
        uniq, inv, counts = np.unique(pts, axis=0, return_inverse=True, return_counts=True)
        inv = inv.ravel()
        X = np.radians(uniq)
        if method == "dbscan":
            from sklearn.cluster import DBSCAN

            eps_km = 5.0 if eps_km is None else eps_km
            eps = _check_km(eps_km, "eps_km", strict=True) / EARTH_RADIUS_KM
            _check_int(min_samples, "min_samples")
            model = DBSCAN(
                eps=eps, min_samples=int(min_samples), metric="haversine", algorithm="ball_tree"
            )
            lab = model.fit_predict(X, sample_weight=counts)
        elif method == "hdbscan":
            from sklearn.cluster import HDBSCAN

            _check_int(min_samples, "min_samples")
            mcs = int(min_cluster_size or min_samples)
            _check_int(mcs, "min_cluster_size", minimum=2)
            eps = _check_km(0.0 if eps_km is None else eps_km, "eps_km") / EARTH_RADIUS_KM
            # HDBSCAN has no sample weights: cluster every point
            Xall = np.radians(pts)
            model = HDBSCAN(
                min_cluster_size=mcs,
                min_samples=int(min_samples),
                metric="haversine",
                cluster_selection_epsilon=eps,
                algorithm="ball_tree",
                copy=True,
            )
            labels_ok = model.fit_predict(Xall) if len(Xall) > 1 else np.full(len(Xall), -1)
            lab = None
        elif method == "kmeans":
            from sklearn.cluster import KMeans

            if n_clusters is None:
                raise ValidationError("n_clusters: required with method='kmeans'")
            _check_int(n_clusters, "n_clusters")
            k = min(int(n_clusters), len(uniq))
            xy = project_km(uniq[:, 0], uniq[:, 1])
            rs = config.seed if seed is None else seed
            model = KMeans(n_clusters=k, n_init="auto", random_state=rs)
            lab = model.fit_predict(xy, sample_weight=counts)
        else:
            raise ValidationError(
                f"method: expected 'dbscan', 'hdbscan' or 'kmeans', got {method!r}"
            )
        if lab is not None:
            labels_ok = np.asarray(lab)[inv]
        labels[ok] = _relabel(np.asarray(labels_ok))
    out = df.copy()
    col = pd.array(labels, dtype="Int64")
    col[~ok] = pd.NA
    out["cluster"] = col
    logger.info(
        "cluster(%s): %d clusters, %d noise, %d without coordinates",
        method,
        int(labels.max() + 1) if len(labels) else 0,
        int((labels[ok] == -1).sum()),
        int((~ok).sum()),
    )
    return out


def _check_int(value: Any, name: str, *, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValidationError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _spherical_mean(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    la, lo = np.radians(lat), np.radians(lon)
    v = np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)]).mean(0)
    return (
        float(np.degrees(np.arctan2(v[2], np.hypot(v[0], v[1])))),
        float(np.degrees(np.arctan2(v[1], v[0]))),
    )


def cluster_summary(
    clustered: pd.DataFrame,
    *,
    by: str = "cluster",
    specialty: str = "specialty",
    include_noise: bool = False,
) -> pd.DataFrame:
    """One row per cluster: size, centroid, radius and specialty mix.

    Parameters
    ----------
    clustered
        Output of :func:`cluster` (or any table with ``lat``, ``lon`` and a
        label column).
    by
        Label column.
    specialty
        Specialty column for the mix (ignored when absent).
    include_noise
        Also summarise the noise label -1.

    Returns
    -------
    pandas.DataFrame
        Indexed by label: ``members``, ``lat``, ``lon`` (spherical centroid),
        ``radius_km`` (largest member distance to the centroid),
        ``median_km`` (median distance), and when a specialty column exists
        ``top_specialty`` and ``specialty_mix`` (dict specialty -> share,
        largest first).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"lat": [0.0, 0.0, 10.0], "lon": [0.0, 0.2, 10.0],
    ...                    "specialty": ["cardiology", "cardiology", "urology"],
    ...                    "cluster": [0, 0, -1]})
    >>> s = cluster_summary(df)
    >>> s[["members", "lon", "radius_km", "top_specialty"]].round(2).to_dict("records")
    [{'members': 2, 'lon': 0.1, 'radius_km': 11.12, 'top_specialty': 'cardiology'}]
    """
    if by not in clustered.columns:
        raise ValidationError(f"by: column {by!r} not in the table")
    lat, lon, ok = _coords(_table(clustered))
    labels = clustered[by]
    keep = ok & labels.notna().to_numpy(bool)
    if not include_noise:
        keep &= (labels != -1).fillna(False).to_numpy(bool)
    rows = []
    lab = labels.to_numpy(dtype=object)
    has_spec = specialty in clustered.columns
    for key in pd.unique(lab[keep]):
        m = keep & (lab == key)
        clat, clon = _spherical_mean(lat[m], lon[m])
        d = np.asarray(haversine_km(clat, clon, lat[m], lon[m]))
        rec: dict[Hashable, Any] = {
            by: key,
            "members": int(m.sum()),
            "lat": clat,
            "lon": clon,
            "radius_km": float(d.max()),
            "median_km": float(np.median(d)),
        }
        if has_spec:
            vc = clustered.loc[m, specialty].value_counts(normalize=True, dropna=True)
            rec["top_specialty"] = vc.index[0] if len(vc) else None
            rec["specialty_mix"] = {str(k): round(float(v), 4) for k, v in vc.items()}
        rows.append(rec)
    cols = [by, "members", "lat", "lon", "radius_km", "median_km"]
    if has_spec:
        cols += ["top_specialty", "specialty_mix"]
    out = pd.DataFrame(rows, columns=cols).set_index(by)
    try:
        out = out.sort_index()
    except TypeError:  # mixed label types
        pass
    return out
