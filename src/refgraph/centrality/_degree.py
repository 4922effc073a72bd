"""Degree, strength and adjusted degree."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._kernels import (
    binary,
    frame,
    node_vector,
    strength_matrix,
    symmetric,
)
from .._params import check_npis_in_network
from ..backends import pushdown

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger("refgraph.centrality")


# ---------------------------------------------------------------------------------------- degree
def degree(
    net: ReferralNetwork,
    *,
    weight: str = "count",
    patients_per_physician: Mapping[str, float] | pd.Series | None = None,
) -> pd.DataFrame:
    """Degree, strength and Landon's adjusted degree of every physician.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column summed into the strengths (referral volume).
    patients_per_physician
        Optional panel size of each physician (number of patients they care
        for), the denominator Landon et al. used. When omitted, the
        denominator is the physician's shared-patient total from the flows
        (see Notes).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``in_degree`` (number of referrers), ``out_degree``
        (number of physicians referred to), ``degree`` (distinct partners in
        either direction), ``in_strength`` and ``out_strength`` (volume),
        ``shared_patients`` and ``adjusted_degree`` (NaN without patient data).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import degree
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1234567893"],
    ...                       "target_npi": ["1003033051", "1154584084"],
    ...                       "count": [12, 30], "patients": [10, 20]})
    >>> d = degree(ReferralNetwork.from_frames(flows=flows))
    >>> d.loc["1234567893", ["out_degree", "out_strength", "adjusted_degree"]].tolist()
    [2.0, 42.0, 6.666666666666667]

    See Also
    --------
    concentration, pagerank

    Notes
    -----
    ``degree`` counts distinct partners, so a reciprocal pair counts once.
    Landon et al. (2012) define *adjusted degree* as the number of ties per
    100 patients of the physician. Flows carry ``patients`` (patients shared
    by a pair), not panel sizes, so by default refgraph uses

    .. math:: \\mathrm{adj}_i = 100 \\cdot \\mathrm{degree}_i / \\sum_{j} P_{ij}

    with :math:`P_{ij}` the patients shared by ``i`` and ``j`` summed over
    both directions. A patient shared with several partners is counted once
    per partner, so this denominator is at least the number of distinct
    shared patients and the value is a lower bound of Landon's measure.
    Pass ``patients_per_physician`` to use true panel sizes.

    References
    ----------
    .. [1] Landon BE, Keating NL, Barnett ML, et al. Variation in
       patient-sharing networks of physicians across the United States.
       JAMA 2012;308(3):265-273.
    .. [2] Barnett ML, Landon BE, O'Malley AJ, Keating NL, Christakis NA.
       Mapping physician networks with self-reported and administrative data.
       Health Serv Res 2011;46(5):1592-1609.
    """
    res = pushdown(net, "degree", weight=weight, patients_per_physician=patients_per_physician)
    if res is not None:
        return res
    a = strength_matrix(net, weight)
    b = binary(a)
    und = binary(symmetric(b))
    pats = strength_matrix(net, "patients") if net.flows["patients"].notna().any() else None
    if pats is not None:
        shared = np.asarray(symmetric(pats).sum(axis=1), dtype=float)
    else:
        shared = np.full(a.shape[0], np.nan)
    deg = np.asarray(und.sum(axis=1), dtype=float)
    if patients_per_physician is not None:
        ppp = patients_per_physician
        keys = list(ppp.index) if isinstance(ppp, pd.Series) else list(ppp)
        if keys:
            check_npis_in_network(net, keys, "patients_per_physician")
        panel = node_vector(net, ppp, name="patients_per_physician")
        panel = np.where(panel > 0, panel, np.nan)
        denom = panel
    else:
        denom = np.where(shared > 0, shared, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        adj = 100.0 * deg / denom
    return frame(
        net,
        {
            "in_degree": np.asarray(b.sum(axis=0), dtype=float),
            "out_degree": np.asarray(b.sum(axis=1), dtype=float),
            "degree": deg,
            "in_strength": np.asarray(a.sum(axis=0), dtype=float),
            "out_strength": np.asarray(a.sum(axis=1), dtype=float),
            "shared_patients": shared,
            "adjusted_degree": adj,
        },
    )
