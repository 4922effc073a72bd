"""Shared helpers of the planner: my practice, my specialty, potential, reach, distance.

Private to :mod:`refgraph.expansion`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._distance import haversine_km
from .._errors import ValidationError
from .._params import check_npis_in_network
from ..paths import reach


def _home_ids(net: Any, home: Any) -> np.ndarray:
    return np.unique(check_npis_in_network(net, home, "home"))


def _my_specialty(net: Any, home_ids: np.ndarray, specialty: str | None) -> str:
    from ..specialties import normalize_specialty

    if specialty is not None:
        return normalize_specialty(specialty) or specialty
    specs = net.physicians["specialty"].iloc[home_ids].dropna()
    if not len(specs):
        raise ValidationError("specialty: my physicians have no specialty; pass specialty=...")
    return str(specs.value_counts().index[0])


def _potential(net: Any, home_ids: np.ndarray, spec: str) -> pd.DataFrame:
    """Per physician: volume into my specialty set, to me, to competitors (arrays by node)."""
    from ..specialties import competing

    n = net.n_physicians
    g = net.csr()
    src, dst, w = g.edges()
    comp = np.array(net.physicians["specialty"].isin(competing(spec)).fillna(False).to_numpy(bool))
    is_home = np.zeros(n, dtype=bool)
    is_home[home_ids] = True
    into = comp[dst] | is_home[dst]
    spec_vol = np.bincount(src, weights=np.where(into, w, 0.0), minlength=n)
    to_home = np.bincount(src, weights=np.where(is_home[dst], w, 0.0), minlength=n)
    total = np.bincount(src, weights=w, minlength=n)
    return pd.DataFrame(
        {
            "total_volume": total,
            "specialty_volume": spec_vol,
            "to_home": to_home,
            "competitor_volume": spec_vol - to_home,
        }
    )


def _reach(net: Any, sources: Any, home: Any, max_hops: int, weights: Any) -> np.ndarray:
    """Best warm-path probability from my people to every physician (exact, hop-bounded)."""
    return reach(net, sources=sources, home=home, max_hops=max_hops, weights=weights).to_numpy()


def _distance_to(net: Any, ids: np.ndarray, to_ids: np.ndarray) -> np.ndarray:
    """Distance in km from each of ``ids`` to the nearest of ``to_ids`` (NaN when unknown)."""
    lat = net.physicians["lat"].to_numpy("float64", na_value=np.nan)
    lon = net.physicians["lon"].to_numpy("float64", na_value=np.nan)
    tl, tn = lat[to_ids], lon[to_ids]
    ok = ~(np.isnan(tl) | np.isnan(tn))
    out = np.full(len(ids), np.nan)
    if not ok.any() or not len(ids):
        return out
    tl, tn = tl[ok], tn[ok]
    for s in range(0, len(ids), 4096):
        chunk = ids[s : s + 4096]
        d = haversine_km(lat[chunk][:, None], lon[chunk][:, None], tl[None, :], tn[None, :])
        out[s : s + 4096] = np.nanmin(np.where(np.isnan(d), np.inf, d), axis=1)
    out[np.isinf(out)] = np.nan
    return out


def hid_list(net: Any, hid: np.ndarray) -> list[str]:
    """NPIs of node ids."""
    return [str(x) for x in net.physicians["npi"].iloc[hid]]
