"""Great-circle distance, the one implementation every refgraph module uses."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["EARTH_RADIUS_KM", "haversine_km"]

#: IUGG mean Earth radius in km.
EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Great-circle distance in km, vectorised over arrays with numpy broadcasting.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Degrees: scalars, arrays or Series of broadcastable shapes.

    Returns
    -------
    float or numpy.ndarray
        Distances in km (a float when all inputs are scalars). NaN where a
        coordinate is missing.

    Examples
    --------
    >>> round(haversine_km(40.7128, -74.0060, 42.3601, -71.0589), 1)  # New York - Boston
    306.1
    >>> haversine_km([0, 0], [0, 0], [0, 1], [1, 0]).round(1)
    array([111.2, 111.2])
    >>> haversine_km(0.0, 0.0, [[0.0], [1.0]], [0.0, 1.0]).shape  # broadcasting
    (2, 2)

    Notes
    -----
    Haversine formula on a sphere of radius :data:`EARTH_RADIUS_KM`. Against
    the WGS84 ellipsoid (:func:`refgraph.geo.geodesic_km`) the relative error is below
    0.5 % for points in one hemisphere poleward of 15 degrees (all US ZIP
    codes) and at most about 0.56 % anywhere (north-south paths near the
    equator, where the meridional radius of curvature is 6335 km); no single
    sphere radius does better than about 0.5 % everywhere.
    """
    a1, o1, a2, o2 = (np.asarray(x, dtype=float) for x in (lat1, lon1, lat2, lon2))
    p1, p2 = np.radians(a1), np.radians(a2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(o2 - o1) / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    if d.ndim == 0:
        return float(d)
    return d
