"""Whole-network views of the tie model: :func:`tie_matrix` and :func:`reach`.

Public through :mod:`refgraph.paths`. Both read the tie graph and hop layers the
path search caches on the network, so they cost nothing extra next to
:func:`~refgraph.paths.intro_paths` queries on the same network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._params import MAX_HOPS, check_int
from ._search import _layers, resolve_sources
from ._tie_graph import _tie_graph
from ._ties import TieFit, TieWeights

if TYPE_CHECKING:
    from scipy.sparse import csr_array

__all__ = ["reach", "tie_matrix"]


def tie_matrix(
    net: Any,
    *,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
    colleagues_max_size: int = 10,
) -> csr_array:
    """Tie strengths as a symmetric sparse matrix over the physicians.

    Row and column ``i`` are the physician in row ``i`` of ``net.physicians``
    (``net.npis[i]``); entry ``(i, j)`` is the strength of their relationship
    (:func:`tie_strength`), stored in both directions, and absent when they
    have none. This is the graph the warm-introduction search walks on: feed
    it to scipy or networkx for your own analyses.

    Parameters
    ----------
    net
        The :class:`~refgraph.ReferralNetwork`.
    weights, half_life_days, as_of, ties, colleagues_max_size
        Tie-strength model, as in :func:`tie_strength`.

    Returns
    -------
    scipy.sparse.csr_array
        ``n x n`` float64 matrix with ``n = net.n_physicians`` (a copy: changing
        it does not change the network's cached views).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1234567893"],
    ...                       "count": [30, 5], "patients": [20, 4],
    ...                       "period_end": ["2024-12-31", "2024-12-31"]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> m = tie_matrix(net)
    >>> m.shape, m.nnz, round(float(m[0, 1]), 3), bool(m[0, 1] == m[1, 0])
    ((2, 2), 2, 0.962, True)
    """
    import scipy.sparse as sp

    tg = _tie_graph(
        net,
        weights=weights,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
        colleagues_max_size=colleagues_max_size,
    )
    return sp.csr_array((tg.strength, tg.indices, tg.indptr), shape=(tg.n, tg.n), copy=True)


def reach(
    net: Any,
    *,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    home: str | Iterable[str] | None = None,
    max_hops: int = 3,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
) -> pd.Series:
    """Probability of the best warm-introduction path from my people to every physician.

    For each physician, the probability of the single most probable path of
    at most ``max_hops`` hops from one of my people (the ``p`` of the first
    row of :func:`intro_paths` to them, without its other constraints),
    computed for the whole network at once. My people themselves get their
    own start probability (1 unless ``sources`` says otherwise); physicians
    with no such path get 0.

    Parameters
    ----------
    net
        The network.
    sources, home
        My people, as in :func:`intro_paths`.
    max_hops
        Maximum number of physician-to-physician hops, 0 (my people only)
        to 10 (:data:`refgraph._params.MAX_HOPS`; each hop is one array
        over all physicians).
    weights, half_life_days, as_of, ties
        Tie-strength model (:func:`tie_strength`).

    Returns
    -------
    pandas.Series
        Float in [0, 1], indexed by NPI in the order of ``net.physicians``.

    Examples
    --------
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> me, a, b, dr_x = [p + str(npi_check_digit(p)) for p in
    ...                   ("100000000", "100000001", "100000002", "100000003")]
    >>> flows = pd.DataFrame({"source_npi": [me, a, me, b], "target_npi": [a, dr_x, b, dr_x],
    ...                       "count": [40, 30, 2, 1]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> r = reach(net, sources=[me], max_hops=2)
    >>> round(float(r[me]), 3), round(float(r[dr_x]), 3)
    (1.0, 0.92)
    >>> float(reach(net, sources=[me], max_hops=1)[dr_x])
    0.0

    Notes
    -----
    The best path to every physician at once: ``max_hops`` vectorised
    min-plus (Bellman-Ford) passes over the tie graph on the cost
    ``-log p``, never passing through another of my people, the same hop
    layers the exact path search uses as its heuristic (see
    :mod:`refgraph.paths`).
    """
    hops = check_int(max_hops, "max_hops", minimum=0, maximum=MAX_HOPS)
    tg = _tie_graph(net, weights=weights, half_life_days=half_life_days, as_of=as_of, ties=ties)
    src, c0 = resolve_sources(net, sources, home)
    g = _layers(net, tg, src, c0, hops + 1).layers[hops]
    return pd.Series(np.exp(-g), index=net.npis.copy(), name="reach")
