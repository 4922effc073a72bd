"""Shortest-path measures: betweenness and harmonic closeness (cost = 1 / volume)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._kernels import (
    cost_csr,
    frame,
    have_networkit,
    networkit_graph,
    resolve_seed,
    strength_matrix,
)
from .._params import check_choice, check_int
from .._tables import release_memory
from ..backends import pushdown
from ._brandes import dependencies

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger("refgraph.centrality")


# ---------------------------------------------------------------------------------- betweenness
def _nx_cost_graph(net: ReferralNetwork, weight: str | None) -> Any:
    import networkx as nx

    a = strength_matrix(net, weight).tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(a.shape[0]))
    cost = 1.0 / a.data if weight is not None else np.ones_like(a.data)
    g.add_weighted_edges_from(zip(a.row.tolist(), a.col.tolist(), cost.tolist()), weight="cost")
    return g


def betweenness(
    net: ReferralNetwork,
    *,
    k: int | None = None,
    seed: int | None = None,
    weight: str | None = None,
    normalized: bool = True,
) -> pd.DataFrame:
    """Betweenness centrality, exact or estimated from ``k`` sampled sources.

    Parameters
    ----------
    net
        The referral network.
    k
        Number of source samples for the estimate (``None``: exact, O(nm)).
    seed
        Seed of the source sampling (default ``refgraph.config.seed``).
    weight
        ``None``: shortest paths count hops. A flow column name (e.g.
        ``"count"``): paths follow heavy referral channels, with edge cost
        ``1 / volume``.
    normalized
        Divide by :math:`(n-1)(n-2)`, the number of ordered pairs not
        involving the node (as networkx does for directed graphs).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``betweenness``. ``attrs``: ``engine`` (which
        engine computed it: ``"networkit"`` or ``"refgraph"``), ``k`` (None
        when exact), ``cost_scale`` (``L`` when the costs were the exact
        integers ``L / volume``, else None) and ``tie_tolerance`` (0 when
        path costs were compared exactly, else the relative tolerance).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import betweenness
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1154584084"],
    ...                       "count": [10, 5]})
    >>> betweenness(ReferralNetwork.from_frames(flows=flows),
    ...             normalized=False)["betweenness"].tolist()
    [0.0, 1.0, 0.0]

    Equal-cost paths tie exactly. Below, A reaches D directly (one referral:
    cost 1) or through B and C (three referrals on each tie: 1/3 each, 1 in
    total), and E refers once to A. From E both routes to D cost exactly 2,
    so B and C each carry half of that pair; in float arithmetic
    ``1 + 1/3 + 1/3 + 1/3 = 1.9999999999999998`` and an engine comparing sums
    exactly would give the whole pair to the longer route (B and C 3.5 and
    2.5).

    >>> e, a, b, c, d = "1000000020", "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [e, a, b, c, a], "target_npi": [a, b, c, d, d],
    ...                       "count": [1, 3, 3, 3, 1]})
    >>> res = betweenness(ReferralNetwork.from_frames(flows=flows), weight="count",
    ...                   normalized=False)
    >>> res["betweenness"].to_dict() == {e: 0.0, a: 3.0, b: 3.0, c: 2.0, d: 0.0}
    True
    >>> res.attrs["cost_scale"], res.attrs["tie_tolerance"]
    (3, 0.0)

    Raises
    ------
    ValidationError
        For ``k`` not a positive int.

    See Also
    --------
    harmonic_closeness, brokerage

    Notes
    -----
    :math:`b_v = \\sum_{s \\ne v \\ne t} \\sigma_{st}(v) / \\sigma_{st}`, the
    share of shortest referral paths between other physicians that pass
    through ``v`` (Brandes' algorithm).

    **Ties.** With cost ``1 / volume`` and small integer volumes, paths of
    exactly equal cost are common (on the CKM network, 63 of 246 physicians
    get a different value when ties are split by float rounding, by up to
    2.5%). They are counted as ties: when every volume is a positive integer
    and the least common multiple ``L`` of the distinct volumes satisfies
    ``n * L < 2**53``, the costs are the integers ``L / volume`` (same
    shortest paths) and every path sum is exact, so the result equals exact
    rational arithmetic. Otherwise (non-integer volumes, or too many distinct
    ones, e.g. counts in the hundreds), costs are ``1 / volume`` and two path
    costs within a relative ``1e-9`` of each other count as equal: float
    rounding of a sum of ``h`` costs is about ``h * 1e-16``, so true ties are
    kept; two paths whose true costs differ by less than one part in a
    billion are counted as a tie (a difference no referral volume can mean).

    **Engines.** Exact values on integer costs (and hop counts) run on
    NetworKit's Brandes (C++, parallel), whose equality test is then exact;
    otherwise, and for every estimate, on refgraph's own kernel: Dijkstra
    from each source, the shortest-path DAG with the tolerance above, then
    path counts and dependencies. With the ``fast`` extra (numba,
    ``pip install 'refgraph[fast]'``) runs of ``2**27`` source-edge visits or
    more (k=256 on 0.5M directed pairs) use a compiled kernel, one source at a
    time on every CPU, without temporaries the size of the network: about a
    second to load it from numba's cache the first time in a process
    (compiling it once after installation takes longer). Otherwise
    the vectorised kernel runs (SciPy's Dijkstra on one thread: two threads
    on NetworKit's Dijkstra were not faster on the loaded 2-core machines
    measured in ``benchmarks/results/centrality.md`` and need a graph copy of
    about 34 bytes per edge). Both give the same values (to the last bit in
    every comparison run; path counts are added in another order). From 64
    sources on, on networks of ``2**22`` (about 4.2M) directed pairs or more,
    the edges that a route through one of two hubs beats by more than the tie
    tolerance are dropped first: they are on no shortest path, so the result
    is the same to the last bit (38% of the edges of a 5M-pair CMS-like
    network, 26% at 20M: ``benchmarks/results/centrality.md``). Sources run
    in fixed blocks whose sums are added in block order, so the result does
    not depend on the number of threads.

    **Estimate.** ``k`` sources are drawn uniformly without replacement and
    the sum of their dependencies is scaled by ``n / k`` (Brandes & Pich
    2007): unbiased for every physician, error shrinking like
    :math:`1/\\sqrt{k}`. Measured on ``synthetic_region(3000, seed=1)``
    (59,131 flows, ``weight="count"``, seeds 0-4) against the exact values
    (``benchmarks/bench_betweenness_ties.py``):

    ====== ======== ============= ============== ================ ===========
    k      Spearman exact top 10  exact top 100  median rel. err  total
                    recovered     recovered      (top 100)        (est/exact)
    ====== ======== ============= ============== ================ ===========
    64     0.89     8-10          75             24%              1.01
    256    0.91     9-10          88             12%              1.01
    1024   0.95     9-10          96             5%               1.00
    ====== ======== ============= ============== ================ ===========

    (Spearman over physicians with non-zero exact betweenness.) Use the
    estimate for **ranking** the top physicians; individual values of
    less central physicians are noisy.

    References
    ----------
    .. [1] Brandes U. A faster algorithm for betweenness centrality.
       Journal of Mathematical Sociology 2001;25(2):163-177.
    .. [2] Brandes U, Pich C. Centrality estimation in large networks.
       International Journal of Bifurcation and Chaos 2007;17(7):2303-2318.
    """
    # k >= n is exact (every source), so a huge k costs no more than k = n
    k = None if k is None else check_int(k, "k", minimum=1)
    if seed is not None:
        seed = check_int(seed, "seed", minimum=0)
    res = pushdown(net, "betweenness", k=k, seed=seed, weight=weight, normalized=normalized)
    if res is not None:
        return res
    n = len(net.npis)
    seed = resolve_seed(seed)
    if n == 0:
        return frame(net, {"betweenness": np.zeros(0)})
    exact = k is None or k >= n
    cost, scale, tol = cost_csr(net, weight)
    if exact and scale is not None and have_networkit():
        import networkit as nk

        g = networkit_graph(net, weight, "scaled_cost" if weight is not None else "cost")
        algo = nk.centrality.Betweenness(g, normalized=False)
        algo.run()
        raw = np.asarray(algo.scores(), dtype=float)
        engine = "networkit"
    else:
        if exact:
            sources = np.arange(n)
        else:
            sources = np.random.default_rng(seed).choice(n, int(k), replace=False)  # type: ignore[arg-type]
        raw = dependencies(cost, sources, tol=tol) * (n / len(sources))
        engine = "refgraph"
        del cost  # not cached above 2**25 edges (cost_csr): its pages can go now
        release_memory()  # the kernel's per-block workspaces were freed into the C heap
    if normalized and n > 2:
        raw = raw / ((n - 1) * (n - 2))
    out = frame(net, {"betweenness": raw})
    out.attrs["engine"] = engine
    out.attrs["k"] = None if exact else int(k)  # type: ignore[arg-type]
    out.attrs["cost_scale"] = scale
    out.attrs["tie_tolerance"] = tol
    return out


def harmonic_closeness(
    net: ReferralNetwork,
    *,
    weight: str | None = None,
    direction: Literal["in", "out"] = "in",
    normalized: bool = True,
) -> pd.DataFrame:
    """Harmonic closeness: sum of inverse shortest-path distances.

    Parameters
    ----------
    net
        The referral network.
    weight
        ``None``: hop distances; a flow column: edge cost ``1 / volume``.
    direction
        ``"in"``: distances *to* the physician (how easily referrals reach
        them; networkx's convention). ``"out"``: distances *from* them.
    normalized
        Divide by :math:`n - 1`.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``harmonic_closeness``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import harmonic_closeness
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1154584084"],
    ...                       "count": [10, 5]})
    >>> harmonic_closeness(ReferralNetwork.from_frames(flows=flows),
    ...                    normalized=False)["harmonic_closeness"].tolist()
    [0.0, 1.0, 1.5]

    See Also
    --------
    betweenness

    Notes
    -----
    :math:`h_v = \\sum_{u \\ne v} 1 / d(u, v)` (``direction="in"``), with
    :math:`1/\\infty = 0`, so it is defined on disconnected networks.
    O(nm): for large networks prefer PageRank or sampled betweenness.

    References
    ----------
    .. [1] Boldi P, Vigna S. Axioms for centrality. Internet Mathematics
       2014;10(3-4):222-262.
    """
    check_choice(direction, "direction", ("in", "out"))
    n = len(net.npis)
    if n == 0:
        return frame(net, {"harmonic_closeness": np.zeros(0)})
    if have_networkit():
        import networkit as nk

        g = networkit_graph(net, weight, "cost")
        if direction == "in":
            g = nk.graphtools.transpose(g)
        algo = nk.centrality.HarmonicCloseness(g, normalized=False)
        algo.run()
        h = np.asarray(algo.scores(), dtype=float)
    else:
        import networkx as nx

        gx = _nx_cost_graph(net, weight)
        if direction == "out":
            gx = gx.reverse(copy=False)
        hc = nx.harmonic_centrality(gx, distance="cost")
        h = np.array([hc[i] for i in range(n)], dtype=float)
    if normalized and n > 1:
        h = h / (n - 1)
    return frame(net, {"harmonic_closeness": h})
