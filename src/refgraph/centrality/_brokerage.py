"""Brokerage measures: Burt's constraint and effective size, and bridges.

Public through :mod:`refgraph.centrality`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._kernels import (
    binary,
    frame,
    masked_product,
    strength_matrix,
    symmetric,
)
from .._params import check_npis_in_network

if TYPE_CHECKING:
    from ..network import ReferralNetwork


# ------------------------------------------------------------------------------------- brokerage
def brokerage(net: ReferralNetwork, *, weight: str | None = "count") -> pd.DataFrame:
    """Burt's structural-hole measures: constraint and effective size.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as tie strength (``None``: every tie 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``contacts`` (distinct partners), ``constraint``,
        ``effective_size`` and ``efficiency`` (effective size / contacts).
        NaN for isolated physicians.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import brokerage
    >>> hub, a, b = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, b], "target_npi": [hub, hub],
    ...                       "count": [1, 1]})
    >>> brokerage(ReferralNetwork.from_frames(flows=flows)).loc[
    ...     hub, ["constraint", "effective_size"]].tolist()
    [0.5, 2.0]

    See Also
    --------
    bridges, betweenness

    Notes
    -----
    Ties are taken in both directions: the proportional tie strength is
    :math:`p_{ij} = (w_{ij} + w_{ji}) / \\sum_k (w_{ik} + w_{ki})`.
    Constraint: :math:`c_i = \\sum_{j} (p_{ij} + \\sum_{q \\ne i,j} p_{iq}
    p_{qj})^2`; a broker (low constraint) spreads referrals over partners who
    are not tied to each other. Effective size: :math:`\\sum_j (1 -
    \\sum_{q} p_{iq} m_{jq})` with :math:`m_{jq} = (w_{jq} + w_{qj}) /
    \\max_k (w_{jk} + w_{kj})`, the number of contacts minus their
    redundancy. These are networkx's weighted directed definitions,
    computed with sparse matrix products restricted to existing ties.

    References
    ----------
    .. [1] Burt RS. Structural Holes: The Social Structure of Competition.
       Cambridge, MA: Harvard University Press; 1992.
    """
    a = strength_matrix(net, weight)
    s = symmetric(a)
    n = s.shape[0]
    tot = np.asarray(s.sum(axis=1), dtype=float)
    mx = np.asarray(s.max(axis=1).toarray(), dtype=float).ravel() if n else np.zeros(0)
    inv = np.divide(1.0, tot, out=np.zeros(n), where=tot > 0)
    invmax = np.divide(1.0, mx, out=np.zeros(n), where=mx > 0)
    p = sp.csr_array(s.multiply(inv[:, None]))
    m = sp.csr_array(s.multiply(invmax[:, None]))
    mask = binary(s)
    indirect = masked_product(p, p, mask)
    direct_plus = sp.csr_array(p + indirect)
    constraint = np.asarray(direct_plus.power(2).sum(axis=1), dtype=float)
    redundancy = masked_product(p, sp.csr_array(m.T), mask)
    contacts = np.asarray(mask.sum(axis=1), dtype=float)
    eff = contacts - np.asarray(redundancy.sum(axis=1), dtype=float)
    iso = contacts == 0
    constraint[iso] = np.nan
    eff[iso] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = eff / contacts
    return frame(
        net,
        {
            "contacts": contacts,
            "constraint": constraint,
            "effective_size": eff,
            "efficiency": efficiency,
        },
    )


def bridges(
    net: ReferralNetwork,
    mine: Iterable[str],
    competitor: Iterable[str],
    *,
    weight: str = "count",
) -> pd.DataFrame:
    """Physicians tied to both my referral community and a competitor's.

    Parameters
    ----------
    net
        The referral network.
    mine
        NPIs of my community (my practice, or a :func:`refgraph.community.louvain`
        community).
    competitor
        NPIs of the competitor's community.
    weight
        Flow column measuring volume.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, one row per physician with volume to or from both
        sides, sorted by ``bridge_volume`` descending: ``group`` (``"mine"``,
        ``"competitor"``, ``"other"``), ``to_mine``, ``from_mine``,
        ``to_competitor``, ``from_competitor``, ``volume_mine``,
        ``volume_competitor``, ``share_mine`` (volume_mine over both) and
        ``bridge_volume`` = min(volume_mine, volume_competitor).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import bridges
    >>> me, them, pcp = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [pcp, pcp], "target_npi": [me, them],
    ...                       "count": [4, 6]})
    >>> b = bridges(ReferralNetwork.from_frames(flows=flows), [me], [them])
    >>> b.loc[pcp, ["share_mine", "bridge_volume"]].tolist()
    [0.4, 4.0]

    Raises
    ------
    NotFoundError
        When a listed NPI is not in the network.

    See Also
    --------
    brokerage, refgraph.community.louvain

    Notes
    -----
    A bridge spans the structural hole between two groups (Burt 1992): it
    exchanges referrals with both. ``bridge_volume`` is the volume the
    weaker side receives, which is the natural target for a liaison: a
    physician already sending most of their referrals to the competitor but
    some to me.

    References
    ----------
    .. [1] Burt RS. Structural Holes: The Social Structure of Competition.
       Cambridge, MA: Harvard University Press; 1992.
    """
    a = strength_matrix(net, weight)
    n = a.shape[0]
    mi = check_npis_in_network(net, mine, "mine")
    ci = check_npis_in_network(net, competitor, "competitor")
    in_m = np.zeros(n)
    in_m[mi] = 1.0
    in_c = np.zeros(n)
    in_c[ci] = 1.0
    at = sp.csr_array(a.T)
    to_m, from_m = a @ in_m, at @ in_m
    to_c, from_c = a @ in_c, at @ in_c
    vm, vc = to_m + from_m, to_c + from_c
    group = np.where(in_m > 0, "mine", np.where(in_c > 0, "competitor", "other"))
    with np.errstate(invalid="ignore", divide="ignore"):
        share = vm / (vm + vc)
    out = frame(
        net,
        {
            "group": pd.array(group, dtype="string"),
            "to_mine": to_m,
            "from_mine": from_m,
            "to_competitor": to_c,
            "from_competitor": from_c,
            "volume_mine": vm,
            "volume_competitor": vc,
            "share_mine": share,
            "bridge_volume": np.minimum(vm, vc),
        },
    )
    out = out[(vm > 0) & (vc > 0)]
    return out.sort_values("bridge_volume", ascending=False, kind="stable")
