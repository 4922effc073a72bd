"""Spatial clusters (local markets) of :mod:`refgraph.geo` and their summary.

Public names are re-exported from :mod:`refgraph.geo`.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._distance import EARTH_RADIUS_KM, haversine_km
from .._errors import ValidationError
from .._optional import require
from .._params import check_int
from ._spatial import _check_km, _coords, _spherical_mean, _table, project_km

logger = logging.getLogger("refgraph.geo")

__all__ = ["cluster", "cluster_summary"]


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
            require("sklearn", "geo", purpose="geo.cluster")
            from sklearn.cluster import DBSCAN

            eps_km = 5.0 if eps_km is None else eps_km
            eps = _check_km(eps_km, "eps_km", strict=True) / EARTH_RADIUS_KM
            check_int(min_samples, "min_samples", minimum=1)
            model = DBSCAN(
                eps=eps, min_samples=int(min_samples), metric="haversine", algorithm="ball_tree"
            )
            lab = model.fit_predict(X, sample_weight=counts)
        elif method == "hdbscan":
            require("sklearn", "geo", purpose="geo.cluster")
            from sklearn.cluster import HDBSCAN

            check_int(min_samples, "min_samples", minimum=1)
            mcs = int(min_cluster_size or min_samples)
            check_int(mcs, "min_cluster_size", minimum=2)
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
            require("sklearn", "geo", purpose="geo.cluster")
            from sklearn.cluster import KMeans

            if n_clusters is None:
                raise ValidationError("n_clusters: required with method='kmeans'")
            check_int(n_clusters, "n_clusters", minimum=1)
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
