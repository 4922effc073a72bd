"""Where to hold the event: :func:`event_site` (maximal covering location).

Public through :mod:`refgraph.expansion`.
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._distance import haversine_km
from .._errors import ValidationError
from .._params import check_float, check_int, check_latlon
from ..paths import region_mask

logger = logging.getLogger(__name__)


def _pagerank(net: Any, alpha: float = 0.85, tol: float = 1e-10, max_iter: int = 500) -> np.ndarray:
    """Weighted PageRank on referral counts (power iteration, dangling mass spread evenly)."""
    import scipy.sparse as sp

    A = net.csr().matrix
    n = A.shape[0]
    if n == 0:
        return np.zeros(0)
    out = np.asarray(A.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out))
    P = sp.csr_array(sp.diags_array(inv) @ A)
    PT = sp.csr_array(P.T)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nx_ = alpha * (PT @ x + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(nx_ - x).sum() < tol:
            return np.asarray(nx_)
        x = nx_
    logger.warning("pagerank: no convergence in %d iterations", max_iter)
    return np.asarray(x)


@dataclass
class EventSite:
    """Result of :func:`event_site`.

    Attributes
    ----------
    sites
        Chosen sites: ``site``, ``name``, ``lat``, ``lon``, ``covered_influence``
        (share of the invitees' influence within reach of a chosen site),
        ``invitees_covered``, ``mean_travel_km`` (influence-weighted, to the
        nearest chosen site).
    invitees
        Per invitee: ``npi``, ``name``, ``influence``, ``lat``, ``lon``,
        ``site``, ``travel_km``, ``covered``.
    candidates
        Every candidate site with its single-site coverage.
    max_travel_km
        The travel limit used.
    exact
        Whether the choice is optimal (exhaustive) or greedy.
    """

    sites: pd.DataFrame
    invitees: pd.DataFrame
    candidates: pd.DataFrame
    max_travel_km: float
    exact: bool

    def _repr_html_(self) -> str:
        """Notebook display: the chosen sites and the invitees (escaped HTML)."""
        from .._html import result_html

        return result_html(
            "Event site",
            [("max travel km", self.max_travel_km), ("optimal", self.exact)],
            [("chosen sites", self.sites, None), ("invitees", self.invitees, None)],
        )


def event_site(
    net: Any,
    region: Any,
    *,
    max_travel_km: float,
    candidates: pd.DataFrame | Iterable[tuple[float, float]] | None = None,
    p: int = 1,
    influence: pd.Series | None = None,
    max_combinations: int = 20_000,
) -> EventSite:
    """Where to host an educational event: maximal influence coverage, then least travel.

    Parameters
    ----------
    net
        The network.
    region
        The invitees: physicians inside this region
        (:func:`refgraph.paths.region_mask`) with known coordinates.
    max_travel_km
        An invitee is covered by a site within this great-circle distance.
    candidates
        Candidate sites: a DataFrame with ``lat``, ``lon`` (and optionally
        ``name``), or ``(lat, lon)`` pairs. Default: the practices of the
        invitees with coordinates (their own offices and hospitals).
    p
        Number of sites (events) to choose.
    influence
        Weight of each invitee by NPI; default their weighted PageRank on
        referral counts in the whole network (computed here with scipy).
    max_combinations
        Choose exhaustively when ``C(candidates, p)`` is at most this, else
        greedily.

    Returns
    -------
    EventSite

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(300, seed=2)
    >>> lat, lon = net.physicians[["lat", "lon"]].median()
    >>> res = event_site(net, (lat, lon, 40), max_travel_km=15)
    >>> len(res.sites), bool(0 < res.sites["covered_influence"].iloc[0] <= 1), res.exact
    (1, True, True)

    Notes
    -----
    Maximal covering location (Church and ReVelle 1974) with the p-median
    objective (Hakimi 1964) as tie-break: choose ``p`` sites maximising the
    influence within ``max_travel_km``, then minimising influence-weighted
    travel to the nearest site. Exhaustive search is exact; the greedy
    fallback achieves at least ``1 - 1/e`` of the best coverage (coverage is
    monotone submodular; Nemhauser, Wolsey and Fisher 1978).
    """
    max_travel_km = check_float(max_travel_km, "max_travel_km", minimum=0, open_min=True)
    p = check_int(p, "p", minimum=1)
    max_combinations = check_int(max_combinations, "max_combinations", minimum=0)
    phys = net.physicians
    lat = phys["lat"].to_numpy("float64", na_value=np.nan)
    lon = phys["lon"].to_numpy("float64", na_value=np.nan)
    inv = np.flatnonzero(region_mask(net, region) & ~np.isnan(lat) & ~np.isnan(lon))
    if not len(inv):
        raise ValidationError("region: no physician with coordinates inside the region")
    if influence is None:
        w = _pagerank(net)[inv]
    else:
        w = influence.reindex(phys["npi"].iloc[inv].to_numpy()).fillna(0).to_numpy("float64")
    w = w / w.sum() if w.sum() > 0 else np.full(len(inv), 1 / len(inv))
    cands = _candidate_sites(net, inv, candidates)
    if not len(cands):
        raise ValidationError("candidates: no candidate site with coordinates")
    d = haversine_km(
        lat[inv][:, None],
        lon[inv][:, None],
        cands["lat"].to_numpy()[None, :],
        cands["lon"].to_numpy()[None, :],
    )
    cov = d <= max_travel_km
    single = (w[:, None] * cov).sum(axis=0)
    cands = cands.assign(covered_influence=single, mean_travel_km=(w[:, None] * d).sum(axis=0))
    m = len(cands)
    p_eff = min(p, m)
    exact = math.comb(m, p_eff) <= max_combinations

    def value(sel: tuple[int, ...]) -> tuple[float, float]:
        dm = d[:, list(sel)].min(axis=1)
        return float((w * (dm <= max_travel_km)).sum()), -float((w * dm).sum())

    if exact:
        if p_eff == 1:
            order = np.lexsort((cands["mean_travel_km"].to_numpy(), -single))
            chosen: tuple[int, ...] = (int(order[0]),)
        else:
            chosen = max(itertools.combinations(range(m), p_eff), key=value)
    else:
        sel: list[int] = []
        for _ in range(p_eff):
            rest = [j for j in range(m) if j not in sel]
            sel.append(max(rest, key=lambda j: value((*sel, j))))
        chosen = tuple(sel)
    dsel = d[:, list(chosen)]
    near = dsel.argmin(axis=1)
    dmin = dsel.min(axis=1)
    covered = dmin <= max_travel_km
    site_rows = []
    for k, j in enumerate(chosen):
        mine = near == k
        site_rows.append(
            {
                "site": cands.index[j],
                "name": cands["name"].iloc[j],
                "lat": float(cands["lat"].iloc[j]),
                "lon": float(cands["lon"].iloc[j]),
                "covered_influence": float((w * (covered & mine)).sum()),
                "invitees_covered": int((covered & mine).sum()),
                "mean_travel_km": float(np.average(dmin[mine], weights=w[mine]))
                if mine.any() and w[mine].sum() > 0
                else float("nan"),
            }
        )
    invitees = (
        pd.DataFrame(
            {
                "npi": phys["npi"].iloc[inv].to_numpy(),
                "name": phys["name"].iloc[inv].to_numpy(),
                "influence": w,
                "lat": lat[inv],
                "lon": lon[inv],
                "site": [cands.index[chosen[i]] for i in near],
                "travel_km": dmin,
                "covered": covered,
            }
        )
        .sort_values("influence", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return EventSite(pd.DataFrame(site_rows), invitees, cands, float(max_travel_km), exact)


def _candidate_sites(net: Any, inv: np.ndarray, candidates: Any) -> pd.DataFrame:
    if candidates is None:
        pr = net.practices
        pids = net.physicians["practice_id"].iloc[inv].dropna().unique()
        c = pr[pr["practice_id"].isin(pids) & pr["lat"].notna() & pr["lon"].notna()]
        if len(c):
            return pd.DataFrame(
                {
                    "name": c["name"].astype(object).fillna(c["practice_id"]).to_numpy(),
                    "lat": c["lat"].to_numpy("float64"),
                    "lon": c["lon"].to_numpy("float64"),
                },
                index=pd.Index(c["practice_id"].to_numpy(), name="site"),
            )
        ph = net.physicians.iloc[inv]
        loc = ph[["lat", "lon"]].round(3).drop_duplicates()
        return pd.DataFrame(
            {
                "name": [f"{a:.3f},{b:.3f}" for a, b in loc.to_numpy()],
                "lat": loc["lat"].to_numpy("float64"),
                "lon": loc["lon"].to_numpy("float64"),
            },
            index=pd.Index(range(len(loc)), name="site"),
        )
    if isinstance(candidates, pd.DataFrame):
        if not {"lat", "lon"} <= set(candidates.columns):
            raise ValidationError("candidates: expected columns lat and lon")
        names = candidates["name"] if "name" in candidates.columns else candidates.index
        out = pd.DataFrame(
            {
                "name": np.asarray(names, dtype=object),
                "lat": candidates["lat"].to_numpy("float64"),
                "lon": candidates["lon"].to_numpy("float64"),
            },
            index=pd.Index(candidates.index, name="site"),
        )
        out = out.dropna(subset=["lat", "lon"])
        for site, a, b in zip(out.index, out["lat"], out["lon"]):
            check_latlon(a, b, f"candidates[{site!r}]")
        return out
    pts = [check_latlon(a, b, f"candidates[{i}]") for i, (a, b) in enumerate(candidates)]
    return pd.DataFrame(
        {
            "name": [f"{a:.4f},{b:.4f}" for a, b in pts],
            "lat": [a for a, _ in pts],
            "lon": [b for _, b in pts],
        },
        index=pd.Index(range(len(pts)), name="site"),
    )
