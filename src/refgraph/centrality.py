"""Centrality measures of referral networks, as DataFrames indexed by NPI.

Weight semantics
----------------
Referral volume (the flow column named by ``weight``, ``count`` by default)
is a **strength**: more referrals mean a closer tie. Spectral measures
(PageRank, HITS, eigenvector, Katz), strengths, constraint and clustering use
it as is. Path-based measures (betweenness, harmonic closeness) need a
**distance**; they use ``cost = 1 / volume`` so that a heavily used referral
channel is short. ``weight=None`` means every tie counts 1 (hop distance).
Self-referrals are ignored everywhere.

Heavy kernels run on the CSR view (:meth:`ReferralNetwork.csr`) with scipy,
or on NetworKit (C++, parallel) for shortest-path measures; networkx is the
fallback when NetworKit cannot be imported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._errors import ValidationError
from ._kernels import (
    ConvergenceError,
    binary,
    frame,
    have_networkit,
    masked_product,
    networkit_graph,
    node_ids,
    node_vector,
    resolve_seed,
    seed_networkit,
    strength_matrix,
    symmetric,
)
from .backends import pushdown

if TYPE_CHECKING:
    from .network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = [
    "ConvergenceError",
    "betweenness",
    "bridges",
    "brokerage",
    "care_density",
    "clustering",
    "concentration",
    "degree",
    "eigenvector",
    "harmonic_closeness",
    "hits",
    "k_core",
    "katz",
    "pagerank",
    "reciprocity",
]


def _check_prob(value: float, name: str, *, open_right: bool = True) -> float:
    v = float(value)
    if not (0.0 < v < 1.0 if open_right else 0.0 < v <= 1.0):
        raise ValidationError(f"{name}: expected a number in (0, 1), got {value!r}")
    return v


def _check_iter(tol: float, max_iter: int) -> None:
    if not tol > 0:
        raise ValidationError(f"tol: expected a positive number, got {tol!r}")
    if int(max_iter) < 1:
        raise ValidationError(f"max_iter: expected a positive int, got {max_iter!r}")


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
        panel = node_vector(net, patients_per_physician, name="patients_per_physician")
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


# -------------------------------------------------------------------------------------- pagerank
def _transition_t(net: ReferralNetwork, weight: str | None) -> tuple[sp.csr_array, np.ndarray]:
    """Cached ``(P^T, dangling ids)``: row v of P^T holds w_uv / s_u over in-edges u -> v."""
    cache = net._cache  # cleared by the network whenever its tables change
    key = ("refgraph.centrality.transition", weight)
    if key not in cache:
        a = strength_matrix(net, weight)
        n = a.shape[0]
        out_s = np.asarray(a.sum(axis=1), dtype=float)
        dangling = out_s <= 0
        inv = np.divide(1.0, out_s, out=np.zeros(n), where=~dangling)
        pt = sp.csr_array(sp.csr_array(a.multiply(inv[:, None])).T)
        pt.sort_indices()
        cache[key] = (pt, np.flatnonzero(dangling))
    got: tuple[sp.csr_array, np.ndarray] = cache[key]
    return got


def _pagerank_vector(
    pt: sp.csr_array,
    dang_idx: np.ndarray,
    alpha: float,
    p: np.ndarray,
    dangling_w: np.ndarray,
    tol: float,
    max_iter: int,
) -> tuple[np.ndarray, int]:
    n = pt.shape[0]
    x = np.full(n, 1.0 / n)
    teleport = (1.0 - alpha) * p
    for it in range(1, max_iter + 1):
        x_new = pt @ x
        x_new *= alpha
        x_new += alpha * x[dang_idx].sum() * dangling_w
        x_new += teleport
        err = float(np.abs(x_new - x).sum())
        x = x_new
        if err < tol:
            return x / x.sum(), it
    raise ConvergenceError(
        f"pagerank: no convergence to tol={tol} in max_iter={max_iter} iterations"
    )


def pagerank(
    net: ReferralNetwork,
    *,
    weight: str | None = "count",
    alpha: float = 0.85,
    personalization: Mapping[str, float] | Iterable[str] | pd.Series | None = None,
    tol: float = 1e-8,
    max_iter: int = 1000,
) -> pd.DataFrame:
    """Weighted directed PageRank, optionally personalised.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as transition strength (``None``: every tie 1).
    alpha
        Damping factor: probability of following a referral at each step.
    personalization
        Restart distribution: a dict or Series of NPI -> non-negative weight,
        or a set of NPIs restarted on uniformly (for example the physicians
        of my practice). ``None``: uniform over all physicians.
    tol
        Convergence threshold on the L1 change of the rank vector between
        iterations (stricter than networkx's ``N * tol``).
    max_iter
        Maximum number of power iterations.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``pagerank`` summing to 1. ``attrs["iterations"]``
        holds the number of iterations.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import pagerank
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1154584084"],
    ...                       "count": [10, 5]})
    >>> pr = pagerank(ReferralNetwork.from_frames(flows=flows))
    >>> round(float(pr["pagerank"].sum()), 6)
    1.0
    >>> pr["pagerank"].idxmax()
    '1154584084'

    Raises
    ------
    ValidationError
        For ``alpha`` outside (0, 1) or an invalid personalization.
    NotFoundError
        When the personalization names unknown NPIs.
    ConvergenceError
        When ``max_iter`` iterations do not reach ``tol``.

    See Also
    --------
    hits, eigenvector, katz

    Notes
    -----
    With :math:`W` the volume matrix, :math:`s_u = \\sum_v W_{uv}` the
    out-strength and :math:`p` the restart distribution, the rank vector is
    the fixed point of

    .. math:: x_v = \\alpha \\sum_u x_u W_{uv} / s_u
              + \\alpha\\, p_v \\sum_{u: s_u = 0} x_u + (1 - \\alpha)\\, p_v

    Physicians who refer nobody (dangling nodes) hand their rank to the
    restart distribution, as in networkx. It is computed by power iteration
    with one sparse matrix-vector product per iteration.

    References
    ----------
    .. [1] Brin S, Page L. The anatomy of a large-scale hypertextual Web
       search engine. Computer Networks and ISDN Systems 1998;30:107-117.
    """
    res = pushdown(
        net,
        "pagerank",
        weight=weight,
        alpha=alpha,
        personalization=personalization,
        tol=tol,
        max_iter=max_iter,
    )
    if res is not None:
        return res
    alpha = _check_prob(alpha, "alpha")
    _check_iter(tol, max_iter)
    n = len(net.npis)
    if n == 0:
        return frame(net, {"pagerank": np.zeros(0)})
    if personalization is None:
        p = np.full(n, 1.0 / n)
    else:
        p = node_vector(net, personalization, name="personalization")
        p = p / p.sum()
    pt, dang_idx = _transition_t(net, weight)
    x, it = _pagerank_vector(pt, dang_idx, alpha, p, p, tol, int(max_iter))
    out = frame(net, {"pagerank": x})
    out.attrs["iterations"] = it
    return out


# ------------------------------------------------------------------------------------------ hits
def hits(
    net: ReferralNetwork,
    *,
    weight: str | None = "count",
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> pd.DataFrame:
    """HITS hub (referrer) and authority (receiver) scores.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as edge strength (``None``: every tie 1).
    tol
        Convergence threshold on the L1 change of both score vectors.
    max_iter
        Maximum number of power iterations.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, columns ``hubs`` and ``authorities``, each summing to 1.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import hits
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1154584084", "1154584084"],
    ...                       "count": [10, 5]})
    >>> h = hits(ReferralNetwork.from_frames(flows=flows))
    >>> h["authorities"].idxmax(), round(float(h.loc["1234567893", "hubs"]), 3)
    ('1154584084', 0.667)

    Raises
    ------
    ConvergenceError
        When ``max_iter`` iterations do not reach ``tol``.

    See Also
    --------
    pagerank, eigenvector

    Notes
    -----
    Good hubs refer to good authorities and good authorities are referred to
    by good hubs: :math:`a = W^T h`, :math:`h = W a`, normalised at each step.
    The fixed points are the principal left/right singular vectors of the
    volume matrix :math:`W` (computed by power iteration, as networkx's
    ``hits``), scaled to sum 1.

    References
    ----------
    .. [1] Kleinberg JM. Authoritative sources in a hyperlinked environment.
       Journal of the ACM 1999;46(5):604-632.
    """
    _check_iter(tol, max_iter)
    a = strength_matrix(net, weight)
    n = a.shape[0]
    if n == 0 or a.nnz == 0:
        z = np.zeros(n)
        return frame(net, {"hubs": z, "authorities": z})
    at = sp.csr_array(a.T)
    h = np.full(n, 1.0 / n)
    for _ in range(int(max_iter)):
        auth = at @ h
        auth /= auth.sum()
        h_new = a @ auth
        h_new /= h_new.sum()
        err = float(np.abs(h_new - h).sum())
        h = h_new
        if err < tol:
            auth = at @ h
            return frame(net, {"hubs": h, "authorities": auth / auth.sum()})
    raise ConvergenceError(f"hits: no convergence to tol={tol} in max_iter={max_iter} iterations")


# ----------------------------------------------------------------------------------- eigenvector
def eigenvector(
    net: ReferralNetwork,
    *,
    weight: str | None = "count",
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> pd.DataFrame:
    """Eigenvector centrality on incoming referrals.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as edge strength (``None``: every tie 1).
    tol
        Convergence threshold on the L1 change of the (unit-norm) vector.
    max_iter
        Maximum number of iterations.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``eigenvector`` with Euclidean norm 1 (as networkx).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import eigenvector
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1234567893"],
    ...                       "count": [3, 3]})
    >>> eigenvector(ReferralNetwork.from_frames(flows=flows))["eigenvector"].round(4).tolist()
    [0.7071, 0.7071]

    Raises
    ------
    ConvergenceError
        When ``max_iter`` iterations do not reach ``tol``.

    See Also
    --------
    pagerank, katz

    Notes
    -----
    :math:`\\lambda x_v = \\sum_u W_{uv} x_u`: a physician is central when
    central physicians refer to them. Power iteration on :math:`I + W^T`
    (the shift networkx uses, which guarantees convergence on periodic
    graphs). On a network that is not strongly connected the scores
    concentrate on the strongly connected part with the largest eigenvalue.

    References
    ----------
    .. [1] Bonacich P. Power and centrality: a family of measures.
       American Journal of Sociology 1987;92(5):1170-1182.
    """
    _check_iter(tol, max_iter)
    a = strength_matrix(net, weight)
    n = a.shape[0]
    if n == 0:
        return frame(net, {"eigenvector": np.zeros(0)})
    at = sp.csr_array(a.T)
    x = np.full(n, 1.0 / n)
    for _ in range(int(max_iter)):
        x_new = x + at @ x
        nrm = np.linalg.norm(x_new)
        x_new = x_new / nrm if nrm > 0 else x_new
        err = float(np.abs(x_new - x).sum())
        x = x_new
        if err < tol:
            return frame(net, {"eigenvector": x})
    raise ConvergenceError(
        f"eigenvector: no convergence to tol={tol} in max_iter={max_iter} iterations"
    )


def katz(
    net: ReferralNetwork,
    *,
    weight: str | None = "count",
    alpha: float | None = None,
    beta: float = 1.0,
    normalized: bool = True,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> pd.DataFrame:
    """Katz centrality on incoming referrals.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as edge strength (``None``: every tie 1).
    alpha
        Attenuation factor; must be below :math:`1/\\rho(W)`. ``None`` picks
        ``0.9 / min(max in-strength, max out-strength)``, a bound that always
        converges whatever the volume scale.
    beta
        Baseline score of every physician.
    normalized
        Scale to Euclidean norm 1 (as networkx).
    tol, max_iter
        Convergence threshold (L1 change) and iteration limit.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``katz``; ``attrs["alpha"]`` is the alpha used.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import katz
    >>> flows = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"],
    ...                       "count": [1]})
    >>> katz(ReferralNetwork.from_frames(flows=flows), alpha=0.5,
    ...      normalized=False)["katz"].tolist()
    [1.0, 1.5]

    Raises
    ------
    ValidationError
        For a non-positive alpha.
    ConvergenceError
        When the iteration diverges or does not converge (alpha too large).

    See Also
    --------
    eigenvector, pagerank

    Notes
    -----
    :math:`x_v = \\alpha \\sum_u W_{uv} x_u + \\beta`.

    References
    ----------
    .. [1] Katz L. A new status index derived from sociometric analysis.
       Psychometrika 1953;18(1):39-43.
    """
    _check_iter(tol, max_iter)
    a = strength_matrix(net, weight)
    n = a.shape[0]
    if alpha is None:
        bound = min(float(a.sum(axis=0).max(initial=0)), float(a.sum(axis=1).max(initial=0)))
        alpha = 0.9 / bound if bound > 0 else 0.1
    if not alpha > 0:
        raise ValidationError(f"alpha: expected a positive number, got {alpha!r}")
    at = sp.csr_array(a.T)
    x = np.zeros(n)
    for _ in range(int(max_iter)):
        x_new = alpha * (at @ x) + beta
        if not np.isfinite(x_new).all() or float(np.abs(x_new).max(initial=0)) > 1e100:
            break  # diverging: alpha is above 1 / spectral radius
        err = float(np.abs(x_new - x).sum())
        x = x_new
        if err < tol * max(1.0, float(np.abs(x).sum())):
            if normalized and n:
                x = x / np.linalg.norm(x)
            out = frame(net, {"katz": x})
            out.attrs["alpha"] = alpha
            return out
    raise ConvergenceError(
        f"katz: no convergence with alpha={alpha} (it must be below 1/spectral radius of "
        f"the volume matrix; try alpha=None) in max_iter={max_iter} iterations"
    )


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
        Indexed by NPI, column ``betweenness``; ``attrs["engine"]`` says which
        engine computed it.

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
    through ``v`` (Brandes' algorithm). Exact and estimated values run on
    NetworKit (C++, parallel) when it is installed, else on networkx.

    The estimate (NetworKit's ``EstimateBetweenness``: Geisberger, Sanders &
    Schultes' linear-scaling estimator over ``k`` random sources, which
    down-weights contributions near each source) is meant for **ranking**,
    not exact values. Measured on ``synthetic_region(3000, seed=1)`` (59,131
    flows, ``weight="count"``, 5 seeds each) against the exact values:

    ====== ======== ============= ============== ================ ===========
    k      Spearman exact top 10  exact top 100  median rel. err  total
                    recovered     recovered      (top 100)        (est/exact)
    ====== ======== ============= ============== ================ ===========
    64     0.89     6-8           79             24%              0.91
    256    0.92     7-9           88             17%              0.90
    1024   0.95     8-9           91             15%              0.89
    ====== ======== ============= ============== ================ ===========

    (Spearman over physicians with non-zero exact betweenness.) Expect the
    ranking of the top physicians to be right to within a few places and
    individual values to be ~15-25% off, biased low by ~10% in total; more
    samples improve the ranking but not that bias. (The networkx fallback
    samples sources uniformly, Brandes & Pich 2007: unbiased but noisier.)
    With cost weights, equal-cost path ties are rare; with ``weight=None``
    engines may differ slightly on ties.

    References
    ----------
    .. [1] Brandes U. A faster algorithm for betweenness centrality.
       Journal of Mathematical Sociology 2001;25(2):163-177.
    .. [2] Geisberger R, Sanders P, Schultes D. Better approximation of
       betweenness centrality. ALENEX 2008:90-100.
    """
    res = pushdown(net, "betweenness", k=k, seed=seed, weight=weight, normalized=normalized)
    if res is not None:
        return res
    n = len(net.npis)
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise ValidationError(f"k: expected a positive int or None, got {k!r}")
    seed = resolve_seed(seed)
    if n == 0:
        return frame(net, {"betweenness": np.zeros(0)})
    exact = k is None or k >= n
    if have_networkit():
        import networkit as nk

        g = networkit_graph(net, weight, "cost")
        seed_networkit(seed)
        if exact:
            algo = nk.centrality.Betweenness(g, normalized=False)
        else:
            algo = nk.centrality.EstimateBetweenness(g, int(k), False, True)  # type: ignore[arg-type]
        algo.run()
        raw = np.asarray(algo.scores(), dtype=float)
        engine = "networkit"
    else:
        import networkx as nx

        gx = _nx_cost_graph(net, weight)
        bc = nx.betweenness_centrality(
            gx,
            k=None if k is None or exact else int(k),
            normalized=False,
            weight="cost",
            seed=seed,
        )
        raw = np.array([bc[i] for i in range(n)], dtype=float)
        engine = "networkx"
    if normalized and n > 2:
        raw = raw / ((n - 1) * (n - 2))
    out = frame(net, {"betweenness": raw})
    out.attrs["engine"] = engine
    out.attrs["k"] = None if exact else int(k)  # type: ignore[arg-type]
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
    if direction not in ("in", "out"):
        raise ValidationError(f"direction: expected 'in' or 'out', got {direction!r}")
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
    mi = node_ids(net, mine, name="mine")
    ci = node_ids(net, competitor, name="competitor")
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


# ------------------------------------------------------------------------------ local structure
def reciprocity(net: ReferralNetwork) -> pd.DataFrame:
    """Share of each physician's ties that are reciprocated.

    Parameters
    ----------
    net
        The referral network.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``reciprocity`` = 2 x (partners who both refer to
        and receive from the physician) / (in-degree + out-degree), NaN for
        isolated physicians. ``attrs["overall"]`` is the network's share of
        directed ties whose reverse tie exists.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import reciprocity
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, b, a], "target_npi": [b, a, c],
    ...                       "count": [1, 1, 1]})
    >>> r = reciprocity(ReferralNetwork.from_frames(flows=flows))
    >>> r["reciprocity"].tolist(), round(r.attrs["overall"], 4)
    ([0.6666666666666666, 1.0, 0.0], 0.6667)

    See Also
    --------
    clustering, degree

    Notes
    -----
    The per-physician value is networkx's ``reciprocity(G, nodes)``; the
    overall value is networkx's ``overall_reciprocity`` (self-referrals
    ignored).

    References
    ----------
    .. [1] Wasserman S, Faust K. Social Network Analysis: Methods and
       Applications. Cambridge University Press; 1994.
    """
    b = binary(strength_matrix(net, None))
    mutual = sp.csr_array(b.multiply(b.T))
    tot = np.asarray(b.sum(axis=1) + b.sum(axis=0), dtype=float)
    mu = np.asarray(mutual.sum(axis=1), dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(tot > 0, 2 * mu / tot, np.nan)
    out = frame(net, {"reciprocity": r})
    out.attrs["overall"] = float(mutual.nnz / b.nnz) if b.nnz else float("nan")
    return out


def _cube_root_weights(a: sp.csr_array, weight: str | None) -> sp.csr_array:
    w = sp.csr_array(a, copy=True)
    if weight is not None and w.nnz:
        w.data = np.cbrt(w.data / w.data.max())
    return w


def _diag_cube(s: sp.csr_array) -> np.ndarray:
    """Diagonal of ``S^3`` for a symmetric sparse S (row-chunked)."""
    prod = masked_product(s, s, binary(s))
    return np.asarray(prod.multiply(s).sum(axis=1), dtype=float)


def clustering(
    net: ReferralNetwork, *, weight: str | None = "count", directed: bool = True
) -> pd.DataFrame:
    """Local clustering coefficient (weighted, directed or undirected).

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column used as tie strength (``None``: unweighted).
    directed
        ``True``: Fagiolo's directed clustering over all eight triangle
        orientations. ``False``: ties taken as undirected (volume of both
        directions summed).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``clustering`` (0 for physicians with fewer
        than two partners). ``attrs["average"]`` is the mean over all
        physicians and, for ``directed=False, weight=None``,
        ``attrs["transitivity"]`` is the global share of closed triads.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import clustering
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, b, c], "target_npi": [b, c, a],
    ...                       "count": [1, 1, 1]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> clustering(net, directed=False)["clustering"].tolist()
    [1.0, 1.0, 1.0]
    >>> clustering(net)["clustering"].tolist()
    [0.5, 0.5, 0.5]

    See Also
    --------
    reciprocity, k_core

    Notes
    -----
    Weights are scaled by the largest weight and enter as the geometric
    mean of the three ties of a triangle. Directed: with
    :math:`\\hat W = (W / \\max W)^{1/3}`,

    .. math:: c_i = \\frac{[(\\hat W + \\hat W^T)^3]_{ii}}
              {2\\,[d_i^{tot}(d_i^{tot} - 1) - 2 d_i^{\\leftrightarrow}]}

    (Fagiolo 2007); undirected: :math:`c_i = (\\hat W^3)_{ii} / (d_i(d_i-1))`
    (Onnela et al. 2005). Both equal networkx's ``clustering``.

    References
    ----------
    .. [1] Fagiolo G. Clustering in complex directed networks. Physical
       Review E 2007;76:026107.
    .. [2] Onnela JP, Saramaki J, Kertesz J, Kaski K. Intensity and coherence
       of motifs in weighted complex networks. Physical Review E
       2005;71:065103.
    """
    a = strength_matrix(net, weight)
    if directed:
        w = _cube_root_weights(a, weight)
        s = symmetric(w)
        b = binary(a)
        dtot = np.asarray(b.sum(axis=1) + b.sum(axis=0), dtype=float)
        dbi = np.asarray(sp.csr_array(b.multiply(b.T)).sum(axis=1), dtype=float)
        t = _diag_cube(s)
        denom = 2.0 * (dtot * (dtot - 1) - 2 * dbi)
    else:
        u = symmetric(a) if weight is not None else binary(symmetric(a))
        w = _cube_root_weights(u, weight)
        t = _diag_cube(w)
        d = np.asarray(binary(u).sum(axis=1), dtype=float)
        denom = d * (d - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where((t > 0) & (denom > 0), t / np.where(denom > 0, denom, 1), 0.0)
    out = frame(net, {"clustering": c})
    out.attrs["average"] = float(c.mean()) if len(c) else float("nan")
    if not directed and weight is None:
        triads = float((d * (d - 1)).sum())
        out.attrs["transitivity"] = float(t.sum() / triads) if triads else 0.0
    return out


def k_core(net: ReferralNetwork) -> pd.DataFrame:
    """Core number of each physician (k-core decomposition).

    Parameters
    ----------
    net
        The referral network.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``core_number``: the largest k such that the
        physician belongs to a subnetwork where everyone has degree >= k.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import k_core
    >>> a, b, c, d = "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [a, b, c, c], "target_npi": [b, c, a, d],
    ...                       "count": [1, 1, 1, 1]})
    >>> k_core(ReferralNetwork.from_frames(flows=flows))["core_number"].tolist()
    [2, 2, 2, 1]

    See Also
    --------
    clustering, degree

    Notes
    -----
    Degree is in-degree + out-degree (a reciprocal pair counts twice), as
    networkx's ``core_number`` on a directed graph. Computed by the
    vectorised h-index iteration, which converges to the core numbers.

    References
    ----------
    .. [1] Seidman SB. Network structure and minimum degree. Social Networks
       1983;5(3):269-287.
    .. [2] Lu L, Zhou T, Zhang QM, Stanley HE. The H-index of a network node
       and its relation to degree and coreness. Nature Communications
       2016;7:10168.
    """
    b = strength_matrix(net, None).tocoo()
    n = b.shape[0]
    rows = np.concatenate([b.row, b.col]).astype(np.int64)
    cols = np.concatenate([b.col, b.row]).astype(np.int64)
    order = np.argsort(rows, kind="stable")
    rows, cols = rows[order], cols[order]
    deg = np.bincount(rows, minlength=n)
    start = np.concatenate([[0], np.cumsum(deg)[:-1]])
    h = deg.copy()
    while True:
        vals = h[cols]
        o = np.lexsort((-vals, rows))
        rank = np.arange(len(o)) - start[rows[o]] + 1
        ok = vals[o] >= rank
        h_new = np.bincount(rows[o][ok], minlength=n)
        if np.array_equal(h_new, h):
            break
        h = h_new
    return frame(net, {"core_number": h.astype(np.int64)})


def concentration(
    net: ReferralNetwork,
    *,
    weight: str = "count",
    direction: Literal["out", "in"] = "out",
) -> pd.DataFrame:
    """Referral concentration: Herfindahl index of each physician's referrals.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column measuring volume.
    direction
        ``"out"``: how a referrer spreads referrals over targets (default).
        ``"in"``: how a receiver's referrals are spread over its referrers
        (dependence on a few referrers).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``partners``, ``volume``, ``hhi`` (in (0, 1]; NaN with
        no volume), ``effective_partners`` (1 / hhi) and ``top_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import concentration
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [a, a], "target_npi": [b, c],
    ...                       "count": [3, 1]})
    >>> concentration(ReferralNetwork.from_frames(flows=flows)).loc[
    ...     a, ["hhi", "top_share"]].tolist()
    [0.625, 0.75]

    See Also
    --------
    degree, brokerage

    Notes
    -----
    :math:`HHI_i = \\sum_j (w_{ij} / \\sum_k w_{ik})^2`: 1 when all
    referrals go to one physician, :math:`1/n` when spread evenly over n.

    References
    ----------
    .. [1] Rhoades SA. The Herfindahl-Hirschman index. Federal Reserve
       Bulletin 1993;79:188-189.
    .. [2] Barnett ML, Christakis NA, O'Malley AJ, Onnela JP, Keating NL,
       Landon BE. Physician patient-sharing networks and the cost and
       intensity of care in US hospitals. Medical Care 2012;50(2):152-160.
    """
    if direction not in ("out", "in"):
        raise ValidationError(f"direction: expected 'out' or 'in', got {direction!r}")
    a = strength_matrix(net, weight)
    if direction == "in":
        a = sp.csr_array(a.T)
    vol = np.asarray(a.sum(axis=1), dtype=float)
    inv = np.divide(1.0, vol, out=np.zeros(len(vol)), where=vol > 0)
    share = sp.csr_array(a.multiply(inv[:, None]))
    hhi = np.asarray(share.power(2).sum(axis=1), dtype=float)
    top = share.max(axis=1).toarray().ravel() if share.shape[0] else np.zeros(0)
    has = vol > 0
    hhi = np.where(has, hhi, np.nan)
    return frame(
        net,
        {
            "partners": np.asarray(binary(a).sum(axis=1), dtype=float),
            "volume": vol,
            "hhi": hhi,
            "effective_partners": np.where(has, 1.0 / np.where(has, hhi, 1.0), np.nan),
            "top_share": np.where(has, top, np.nan),
        },
    )


def care_density(
    net: ReferralNetwork,
    encounters: pd.DataFrame,
    *,
    source: Literal["encounters", "network"] = "encounters",
    weight: str = "patients",
) -> pd.DataFrame:
    """Care density (Pollack 2013) of each patient's set of physicians.

    Parameters
    ----------
    net
        The referral network (its physicians define the valid NPIs; with
        ``source="network"`` its flows give the pair weights).
    encounters
        Patient-level data, one row per (patient, physician) contact with
        columns ``patient_id`` and ``npi`` (the claims-like encounters table
        of :func:`refgraph.flows_from_events`; extra columns are ignored and
        repeated rows count once).
    source
        ``"encounters"``: a pair's weight is the number of distinct patients
        the two physicians share in ``encounters``. ``"network"``: the pair's
        flow ``weight`` (default ``patients``) summed over both directions.
    weight
        Flow column used when ``source="network"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``patient_id``: ``n_physicians``, ``pairs``,
        ``shared_patients`` (sum over pairs) and ``care_density`` (NaN for
        patients seeing fewer than two physicians). Care density describes a
        patient's care team, so this frame is indexed by patient, not NPI.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.centrality import care_density
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> enc = pd.DataFrame({"patient_id": ["p1", "p1", "p2", "p2", "p2"],
    ...                     "npi": [a, b, a, b, c]})
    >>> net = ReferralNetwork.from_frames(physicians=pd.DataFrame({"npi": [a, b, c]}))
    >>> care_density(net, enc)["care_density"].round(4).tolist()
    [2.0, 1.3333]

    Raises
    ------
    ValidationError
        When ``encounters`` lacks ``patient_id`` or ``npi``.
    NotFoundError
        When it names physicians that are not in the network.

    See Also
    --------
    degree

    Notes
    -----
    For a patient seen by the physician set :math:`P`, :math:`|P| \\ge 2`,

    .. math:: CD = \\sum_{\\{i,j\\} \\subset P} w_{ij} \\Big/ \\binom{|P|}{2}

    where :math:`w_{ij}` is the number of patients physicians ``i`` and
    ``j`` share. Computed as :math:`x^T C x / 2` per patient with the
    patient-physician incidence matrix and the shared-patient matrix ``C``
    (zero diagonal).

    References
    ----------
    .. [1] Pollack CE, Weissman GE, Lemke KW, Hussey PS, Weiner JP. Patient
       sharing among physicians and costs of care: a network analytic
       approach to care coordination using claims data. J Gen Intern Med
       2013;28(3):459-465.
    """
    for col in ("patient_id", "npi"):
        if col not in encounters.columns:
            raise ValidationError(
                "encounters: expected columns 'patient_id' and 'npi', "
                f"got {list(encounters.columns)}"
            )
    if source not in ("encounters", "network"):
        raise ValidationError(f"source: expected 'encounters' or 'network', got {source!r}")
    enc = encounters[["patient_id", "npi"]].dropna().drop_duplicates()
    phys = node_ids(net, enc["npi"].astype("string"), name="encounters.npi")
    pat_codes, pat_index = pd.factorize(enc["patient_id"], sort=True)
    n = len(net.npis)
    x = sp.csr_array(
        (np.ones(len(enc)), (pat_codes, phys)), shape=(len(pat_index), n), dtype=np.float64
    )
    if source == "encounters":
        c = sp.csr_array(x.T @ x)
    else:
        c = symmetric(strength_matrix(net, weight))
    c.setdiag(0)
    c.eliminate_zeros()
    total = np.asarray(sp.csr_array(x @ c).multiply(x).sum(axis=1), dtype=float) / 2.0
    k = np.asarray(x.sum(axis=1), dtype=float)
    pairs = k * (k - 1) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        cd = np.where(pairs > 0, total / np.where(pairs > 0, pairs, 1.0), np.nan)
    return pd.DataFrame(
        {"n_physicians": k, "pairs": pairs, "shared_patients": total, "care_density": cd},
        index=pd.Index(pat_index, name="patient_id"),
    )
