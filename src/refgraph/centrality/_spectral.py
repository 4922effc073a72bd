"""Spectral centrality measures: PageRank, HITS, eigenvector and Katz.

Public through :mod:`refgraph.centrality`; see its docstring for the weight semantics.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._kernels import (
    ConvergenceError,
    frame,
    node_vector,
    strength_matrix,
    transition_t,
)
from .._params import check_float, check_int
from ..backends import pushdown

if TYPE_CHECKING:
    from ..network import ReferralNetwork


def _check_iter(tol: float, max_iter: int) -> None:
    check_float(tol, "tol", minimum=0, open_min=True)
    check_int(max_iter, "max_iter", minimum=1)


# -------------------------------------------------------------------------------------- pagerank
#: Entries above which PageRank's ``P^T`` is rebuilt at each call instead of cached
#: (2**25: about 400 MB). Its build is one transpose, a few power iterations' worth of
#: work; above this size the memory it would hold matters more (0.8 GB at the national
#: CMS size, where Louvain needs the room, ``benchmarks/results/national.md``).
CACHE_TRANSITION_MAX = 1 << 25


def _transition_t(net: ReferralNetwork, weight: str | None) -> tuple[sp.csr_array, np.ndarray]:
    """``(P^T, dangling ids)``, cached up to :data:`CACHE_TRANSITION_MAX` entries: row v of
    P^T holds w_uv / s_u over in-edges u -> v."""
    a = strength_matrix(net, weight)
    if a.nnz > CACHE_TRANSITION_MAX:
        return transition_t(a)
    return net.cached_view(
        ("refgraph.centrality.transition", weight),
        lambda: transition_t(strength_matrix(net, weight)),
    )


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
    with one sparse matrix-vector product per iteration. The transposed
    transition matrix is kept among the network's cached views for later
    calls up to :math:`2^{25}` ties (about 400 MB), and rebuilt at each call
    on larger networks.

    References
    ----------
    .. [1] Brin S, Page L. The anatomy of a large-scale hypertextual Web
       search engine. Computer Networks and ISDN Systems 1998;30:107-117.
    """
    alpha = check_float(alpha, "alpha", minimum=0, maximum=1, open_min=True, open_max=True)
    _check_iter(tol, max_iter)
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
    alpha = check_float(alpha, "alpha", minimum=0, open_min=True)
    beta = check_float(beta, "beta", minimum=0, open_min=True)
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
