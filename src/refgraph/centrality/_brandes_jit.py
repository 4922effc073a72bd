"""Brandes' betweenness compiled with numba, one source at a time (private).

Imported only by :func:`refgraph.centrality._brandes.dependencies` when numba
is installed (the ``fast`` extra): importing numba takes a fraction of a
second, and :func:`block` is compiled on first use (then cached on disk).

Per source, on O(n) workspaces and with no temporary of the size of the edges:

1. **Dijkstra** with a 4-ary heap indexed by node (decrease-key, the keys held
   in the heap): a node is settled at ``d(v) = min over u of fl(d(u) + c(u, v))``,
   the fixed point SciPy's Dijkstra reaches, so the distances are the same
   floats (tested). The one pass over the edges also keeps the **candidate**
   edges: ``u -> v`` with ``d(u) + c`` at most ``(1 + 2 tol)`` times ``v``'s
   tentative distance when ``u`` settles. The tentative distance is at least
   the final one and rounding is monotone, so every edge that can pass the
   first test below is a candidate (on CMS-like networks about 4% of the edges).
2. **Shortest-path DAG**: the candidates that pass the same float tests as
   :meth:`refgraph.centrality._brandes._Kernel._dag` with the final distances
   (``d(u) + c <= d(v) * (1 + 2 tol)``, then ``(d(u) + c) - d(v) <= d(v) * tol``
   and forward in the order ``(d, node)``; for ``tol = 0``, ``d(u) + c <= d(v)``),
   kept in CSR order (the buffer grows when it must).
3. **Path counts** in Kahn's order from the reached nodes without a DAG
   predecessor (``sigma = 1`` at the source), then Brandes' recursion in
   reverse order on ``x = (1 + delta) / sigma``:
   ``x(v) = 1 / sigma(v) + sum over successors w of x(w)``, as
   :func:`refgraph.centrality._brandes._sweep` does; ``delta = sigma * x - 1``.

The dependencies of a block's sources are added in source order, so a block's
sum does not depend on the thread that runs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

#: Children per heap node: a 4-ary heap is half as deep as a binary one and a node's
#: children's keys share a cache line.
_ARITY = 4


@njit(nogil=True, cache=True)
def _sift_up(key: np.ndarray, node: np.ndarray, pos: np.ndarray, i: int, kv: float, v: int) -> None:
    """Place ``v`` (key ``kv``) at heap slot ``i`` or above."""
    while i > 0:
        parent = (i - 1) // _ARITY
        if key[parent] <= kv:
            break
        p = node[parent]
        key[i] = key[parent]
        node[i] = p
        pos[p] = i
        i = parent
    key[i] = kv
    node[i] = v
    pos[v] = i


@njit(nogil=True, cache=True)
def _sift_down(key: np.ndarray, node: np.ndarray, pos: np.ndarray, size: int) -> None:
    """Move the last of ``size + 1`` heap entries into the root's place, then down."""
    kv = key[size]
    v = node[size]
    i = 0
    while True:
        c0 = _ARITY * i + 1
        if c0 >= size:
            break
        best = c0
        kb = key[c0]
        for c in range(c0 + 1, min(c0 + _ARITY, size)):
            if key[c] < kb:
                best = c
                kb = key[c]
        if kv <= kb:
            break
        w = node[best]
        key[i] = kb
        node[i] = w
        pos[w] = i
        i = best
    key[i] = kv
    node[i] = v
    pos[v] = i


@njit(nogil=True, cache=True)
def _dijkstra(
    indptr: np.ndarray,
    head: np.ndarray,
    cost: np.ndarray,
    s: int,
    wide: float,
    ws: tuple,
) -> tuple:
    """Distances from ``s`` into ``dist`` (``inf`` on entry, ``pos`` -1) and the reached
    nodes in the order they settle into ``order``. Every edge that may be tight (``d(u) + c``
    at most ``wide`` times ``v``'s distance when ``u`` settles, a bound above the final
    one) is kept as a candidate, in settle order then CSR order: ``u``'s are
    ``cand_v[first[u]:last[u]]`` (heads) and ``cand_s`` (``d(u) + c``). Returns
    ``(reached, candidates, cand_v, cand_s)``, the buffers grown if they were full."""
    dist, key, heap, pos, order, first, last, cand_v, cand_s = ws
    dist[s] = 0.0
    key[0] = 0.0
    heap[0] = s
    pos[s] = 0
    size = 1
    r = 0
    k = 0
    while size > 0:
        u = heap[0]
        size -= 1
        if size > 0:
            _sift_down(key, heap, pos, size)
        pos[u] = -2  # settled
        order[r] = u
        r += 1
        du = dist[u]
        lo, hi = indptr[u], indptr[u + 1]
        if k + (hi - lo) > cand_v.size:
            grow = max(2 * cand_v.size, k + (hi - lo))
            nv = np.empty(grow, cand_v.dtype)
            nv[:k] = cand_v[:k]
            ns = np.empty(grow, np.float64)
            ns[:k] = cand_s[:k]
            cand_v, cand_s = nv, ns
        first[u] = k
        for e in range(lo, hi):
            v = head[e]
            nd = du + cost[e]
            dv = dist[v]
            if nd < dv:  # never true for a settled node: costs are >= 0
                dist[v] = nd
                if pos[v] == -1:
                    size += 1
                    _sift_up(key, heap, pos, size - 1, nd, v)
                else:
                    _sift_up(key, heap, pos, pos[v], nd, v)
            elif not (nd <= dv * wide):
                continue
            cand_v[k] = v
            cand_s[k] = nd
            k += 1
        last[u] = k
    return r, k, cand_v, cand_s


def _workspace(n: int, idx: Any) -> tuple:
    """The per-block arrays of :func:`block`, reset between sources."""
    return (
        np.full(n, np.inf),
        np.empty(n),
        np.empty(n, idx),
        np.full(n, -1, idx),
        np.empty(n, idx),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.empty(max(16, 4 * n), idx),
        np.empty(max(16, 4 * n)),
    )


@njit(nogil=True, cache=True)
def block(
    indptr: np.ndarray,
    head: np.ndarray,
    cost: np.ndarray,
    sources: np.ndarray,
    tol: float,
    ws: tuple,
) -> np.ndarray:
    """Sum over ``sources`` (in their order) of Brandes' dependencies on the cost CSR
    ``(indptr, head, cost)``, costs ``>= 0`` (finite or not); ``ws``: :func:`_workspace`."""
    n = indptr.size - 1
    dist, key, heap, pos, order, first, last, cand_v, cand_s = ws
    out = np.zeros(n)
    indeg = np.zeros(n, heap.dtype)
    sigma = np.zeros(n)
    x = np.zeros(n)
    queue = heap  # free once the distances are known
    wide = 1.0 + 2.0 * tol
    for s in sources:
        ws = (dist, key, heap, pos, order, first, last, cand_v, cand_s)
        r, _, cand_v, cand_s = _dijkstra(indptr, head, cost, s, wide, ws)
        # the DAG: the candidates that pass the kernel's tests, compacted in place
        k = 0
        for i in range(r):
            u = order[i]
            du = dist[u]
            lo, hi = first[u], last[u]
            first[u] = k
            for e in range(lo, hi):
                v = cand_v[e]
                dv = dist[v]
                sv = cand_s[e]
                if tol > 0:
                    if not (sv <= dv * wide):
                        continue
                    if not ((sv - dv) <= dv * tol):
                        continue
                    if not (du < dv or (du == dv and u < v)):
                        continue
                elif not (sv <= dv and sv < np.inf):
                    continue
                cand_v[k] = v
                k += 1
                indeg[v] += 1
            last[u] = k
        succ = cand_v
        # path counts in Kahn's order from the reached nodes without a DAG predecessor
        sigma[s] = 1.0
        q = 0
        for i in range(r):
            u = order[i]
            if indeg[u] == 0:
                queue[q] = u
                q += 1
        j = 0
        while j < q:
            u = queue[j]
            j += 1
            su = sigma[u]
            for e in range(first[u], last[u]):
                v = succ[e]
                sigma[v] += su
                indeg[v] -= 1
                if indeg[v] == 0:
                    queue[q] = v
                    q += 1
        for i in range(r):
            u = order[i]
            if sigma[u] > 0:
                x[u] = 1.0 / sigma[u]
        for i in range(q - 1, -1, -1):
            u = queue[i]
            acc = 0.0
            for e in range(first[u], last[u]):
                acc += x[succ[e]]
            x[u] += acc
        for i in range(r):
            u = order[i]
            if sigma[u] > 0 and u != s:
                out[u] += sigma[u] * x[u] - 1.0
            dist[u] = np.inf
            pos[u] = -1
            indeg[u] = 0
            sigma[u] = 0.0
            x[u] = 0.0
    return out


def distances(indptr: np.ndarray, head: np.ndarray, cost: np.ndarray, s: int) -> np.ndarray:
    """Dijkstra distances from ``s`` (``inf`` where unreached): for the tests."""
    ws = _workspace(indptr.size - 1, head.dtype)
    _dijkstra(indptr, head, cost, s, 1.0, ws)
    return ws[0]


def run(
    cost: Any,
    sources: np.ndarray,
    tol: float,
    size: int,
    workers: int,
    sum_blocks: Callable[..., np.ndarray],
) -> np.ndarray:
    """Sum of the dependencies of ``sources`` on the cost CSR ``cost``, in blocks of
    ``size`` sources on ``workers`` threads, added in block order by ``sum_blocks``."""
    n = int(cost.shape[0])
    indptr = np.asarray(cost.indptr, dtype=np.int64)
    idx = np.int32 if max(n, int(indptr[-1])) < 2**31 else np.int64
    head = np.asarray(cost.indices, dtype=idx)
    c = np.asarray(cost.data, dtype=np.float64)
    tol = float(tol)

    def one(sub: np.ndarray) -> np.ndarray:
        return block(indptr, head, c, sub, tol, _workspace(n, idx))

    return sum_blocks(one, sources, size, workers, n)
