"""Whom to meet next: :func:`rank_targets`.

Public through :mod:`refgraph.expansion`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._params import MAX_HOPS, check_int
from ..paths import region_mask
from ._common import _distance_to, _home_ids, _my_specialty, _potential, _reach, hid_list

logger = logging.getLogger(__name__)


def rank_targets(
    net: Any,
    *,
    home: str | Iterable[str],
    region: Any = None,
    specialty: str | None = None,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    max_hops: int = 3,
    distance_scale_km: float = 25.0,
    reach_floor: float = 0.2,
    include_referrers: bool = False,
    top: int | None = None,
    weights: Any = None,
) -> pd.DataFrame:
    """Physicians not yet referring to me, ranked by their potential.

    Parameters
    ----------
    net
        The network.
    home
        NPIs of my practice's physicians.
    region
        Only rank physicians inside this region (:func:`refgraph.paths.region_mask`).
    specialty
        My specialty (default: the most common among ``home``).
    sources
        My people for warm paths (default ``home``).
    max_hops
        Maximum hops of a warm path.
    distance_scale_km
        Distance at which the distance factor falls to ``1/e``.
    reach_floor
        Score share kept by a target without any warm path (cold outreach
        still works sometimes).
    include_referrers
        Also rank physicians who already refer to me (their leakage is
        the share of their specialty volume going elsewhere).
    top
        Keep only the best ``top``.
    weights
        Tie-strength weights (:func:`refgraph.paths.tie_strength`).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, best first: ``rank``, ``name``, ``specialty``,
        ``practice_id``, ``zip``, ``specialty_volume`` (their referrals into
        my specialty and its substitutes), ``to_home``, ``competitor_volume``,
        ``leakage`` (share of their specialty volume not coming to me),
        ``distance_km`` (to my nearest physician), ``reach`` (best warm-path
        probability), ``score``.

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(300, seed=2)
    >>> cardio = net.physicians.query("specialty == 'cardiology'")["npi"].tolist()[:2]
    >>> t = rank_targets(net, home=cardio)
    >>> bool((t["to_home"] == 0).all()), bool(t["score"].is_monotonic_decreasing)
    (True, True)

    Notes
    -----
    ``score = competitor_volume * (reach_floor + (1 - reach_floor) * reach)
    * exp(-distance_km / distance_scale_km)`` (distance factor 1 when a
    location is unknown): referrals I could win, discounted by how cold the
    approach is and how far they would send patients.
    """
    hid = _home_ids(net, home)
    check_int(max_hops, "max_hops", minimum=0, maximum=MAX_HOPS)
    if top is not None:
        top = check_int(top, "top", minimum=1)
    spec = _my_specialty(net, hid, specialty)
    pot = _potential(net, hid, spec)
    n = net.n_physicians
    cand = pot["specialty_volume"].to_numpy() > 0
    if not include_referrers:
        cand &= pot["to_home"].to_numpy() == 0
    cand[hid] = False
    cand &= region_mask(net, region)
    ids = np.flatnonzero(cand)
    reach = _reach(net, sources, hid_list(net, hid), max_hops, weights)
    dist = _distance_to(net, ids, hid)
    p = pot.iloc[ids]
    phys = net.physicians.iloc[ids]
    dfac = np.where(np.isnan(dist), 1.0, np.exp(-np.nan_to_num(dist) / distance_scale_km))
    r = reach[ids]
    score = p["competitor_volume"].to_numpy() * (reach_floor + (1 - reach_floor) * r) * dfac
    out = pd.DataFrame(
        {
            "name": phys["name"].to_numpy(),
            "specialty": phys["specialty"].to_numpy(),
            "practice_id": phys["practice_id"].to_numpy(),
            "zip": phys["zip"].to_numpy(),
            "specialty_volume": p["specialty_volume"].to_numpy(),
            "to_home": p["to_home"].to_numpy(),
            "competitor_volume": p["competitor_volume"].to_numpy(),
            "leakage": p["competitor_volume"].to_numpy() / p["specialty_volume"].to_numpy(),
            "distance_km": dist,
            "reach": r,
            "score": score,
        },
        index=pd.Index(phys["npi"].to_numpy(), name="npi"),
    )
    out = out.sort_values(["score", "competitor_volume"], ascending=False, kind="stable")
    if top is not None:
        out = out.head(top)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["specialty"] = spec
    logger.info("rank_targets: %d candidates of %d physicians (specialty %s)", len(out), n, spec)
    return out
