"""Brandes' betweenness on a cost CSR where equal-cost paths really tie (private).

Costs come from :func:`refgraph._kernels.cost_csr`. Shortest distances come
from :func:`scipy.sparse.csgraph.dijkstra` (C). The
shortest-path DAG of a source is then every edge ``u -> v`` with
``d(u) + c(u, v) <= d(v) * (1 + tol)``: with integer costs (``tol = 0``) float
sums below 2**53 are exact, so this is the exact DAG; with other costs a small
relative tolerance absorbs the rounding of sums such as ``1/3 + 1/3 + 1/3``.
Path counts and dependencies are two sparse triangular solves over the DAG with
its nodes in order of distance:

* ``sigma = (I - L)^-1 e_s`` (``L[j, i] = 1`` for a DAG edge ``i -> j``),
* ``x = (I - U)^-1 (1 / sigma)`` with ``U = L^T``; the dependency is
  ``delta = sigma * x - 1``, Brandes' recursion
  ``delta(v) = sum over successors w of sigma(v) / sigma(w) * (1 + delta(w))``
  written for ``x = (1 + delta) / sigma``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def dependencies(cost: sp.csr_array, sources: np.ndarray, *, tol: float) -> np.ndarray:
    """Sum over ``sources`` of Brandes' dependencies ``delta_s(v)``.

    With every node as a source this is exact betweenness (unnormalised,
    ordered pairs). Sources are processed in blocks whose DAGs are stacked
    block-diagonally, so the Python overhead is per block, not per source.
    """
    from scipy.sparse.csgraph import dijkstra

    n = cost.shape[0]
    out = np.zeros(n)
    if n == 0 or len(sources) == 0:
        return out
    indptr = np.asarray(cost.indptr, dtype=np.int64)
    deg = np.diff(indptr)
    head = np.asarray(cost.indices, dtype=np.int64)
    tail = np.repeat(np.arange(n, dtype=np.int64), deg)
    c = np.asarray(cost.data, dtype=np.float64)[:, None]
    g = sp.csr_matrix(cost)
    # a block holds ~4M (edge, source) pairs: a few 32 MB temporaries
    chunk = int(max(1, min(256, 4_000_000 // max(1, len(tail), n))))
    ranks = np.arange(n, dtype=np.int64)
    for start in range(0, len(sources), chunk):
        block = np.asarray(sources[start : start + chunk], dtype=np.int64)
        b = len(block)
        dist = np.atleast_2d(dijkstra(g, directed=True, indices=block))
        order = np.argsort(dist, axis=1, kind="stable")  # the source first (costs > 0)
        pos = np.empty((b, n), dtype=np.int64)
        np.put_along_axis(pos, order, np.broadcast_to(ranks, (b, n)), axis=1)
        pos += (np.arange(b, dtype=np.int64) * n)[:, None]
        # edge u -> v is on a shortest path from s when d(u) + c <= d(v) (1 + tol);
        # laid out (edge, source) so that both gathers copy contiguous rows
        d_node = np.ascontiguousarray(dist.T)
        slack = np.repeat(d_node, deg, axis=0)
        slack += c
        d_head = d_node[head]
        with np.errstate(invalid="ignore"):  # inf - inf for unreached tails: not tight
            slack -= d_head
            if tol > 0:
                d_head *= tol
                e, bi = np.nonzero(slack <= d_head)
            else:
                e, bi = np.nonzero(slack <= 0.0)
        del slack, d_head
        pu, pv = pos[bi, tail[e]], pos[bi, head[e]]
        if tol > 0:  # keep the DAG forward in distance order
            fwd = pu < pv
            pu, pv = pu[fwd], pv[fwd]
        delta = _accumulate(pu, pv, b, n).reshape(b, n)
        delta[:, 0] = 0.0  # the sources themselves
        out += np.bincount(order.ravel(), weights=delta.ravel(), minlength=n)
    return out


def _accumulate(pu: np.ndarray, pv: np.ndarray, b: int, n: int) -> np.ndarray:
    """Dependencies on ``b`` stacked DAGs of ``n`` nodes in topological order.

    ``pu[i] -> pv[i]`` are the DAG edges (``pu < pv``); node ``j * n`` is the
    source of block ``j``. Returns ``delta`` per stacked node (0 if unreached).
    """
    size = b * n
    low = sp.csr_array((np.ones(len(pu)), (pv, pu)), shape=(size, size))
    rhs = np.zeros(size)
    rhs[::n] = 1.0
    sigma = _unit_triangular_solve(low, rhs)  # number of shortest paths from the source
    reached = sigma > 0
    inv = np.divide(1.0, sigma, out=np.zeros(size), where=reached)
    x = _unit_triangular_solve(sp.csr_array(low.T), inv)  # x = (1 + delta) / sigma
    return np.where(reached, sigma * x - 1.0, 0.0)


def _unit_triangular_solve(a: sp.csr_array, b: np.ndarray) -> np.ndarray:
    """``(I - a)^-1 b`` for a strictly triangular (nilpotent) non-negative ``a``.

    The Neumann series ``b + a b + a^2 b + ...`` ends after as many terms as the
    DAG's longest path has edges (a few dozen on referral graphs); each term is
    one sparse product. Deeper DAGs go to a sparse triangular solver.
    """
    out = b.copy()
    term = b
    for _ in range(_MAX_TERMS):
        term = a @ term
        if not term.any():
            return out
        out += term
    from scipy.sparse.linalg import spsolve_triangular

    neg = sp.csr_array(-a)
    lower = sp.tril(neg).nnz == neg.nnz
    return np.asarray(spsolve_triangular(neg, b, lower=lower, unit_diagonal=True))


_MAX_TERMS = 256
