"""Brandes' betweenness on a cost CSR where equal-cost paths really tie (private).

Costs come from :func:`refgraph._kernels.cost_csr`. Per source:

1. **Distances** by Dijkstra: NetworKit's (C++, releases the GIL, so sources
   run in parallel threads) when more than one thread runs and it is
   installed, else SciPy's :func:`~scipy.sparse.csgraph.dijkstra` (holds the
   GIL). Both settle every node at
   ``d(v) = min over u of fl(d(u) + c(u, v))``, one fixed point, so they give
   the same floats (tested).
2. **Shortest-path DAG**: every edge ``u -> v`` with
   ``d(u) + c(u, v) <= d(v) * (1 + tol)``. With integer costs (``tol = 0``)
   float sums below 2**53 are exact, so this is the exact DAG; with other costs
   a small relative tolerance absorbs the rounding of sums such as
   ``1/3 + 1/3 + 1/3``, and an edge is kept only forward in the order
   ``(d, node)`` so that near-zero costs cannot close a cycle. The test is a few
   vectorised passes over the edges, in chunks of bounded size.
3. **Path counts and dependencies** by a level sweep over the DAG only (about
   ``n`` edges, not ``m``): Kahn's topological levels from the source give
   ``sigma(v) = sum over predecessors u of sigma(u)``, then the levels in
   reverse give Brandes' recursion written for ``x = (1 + delta) / sigma``:
   ``x(v) = 1 / sigma(v) + sum over successors w of x(w)``, so
   ``delta = sigma * x - 1``.

**Dominated edges** are removed first when many sources run (:func:`prune_dominated`):
an edge ``u -> v`` that some other ``u -> v`` path beats by more than the
tie tolerance (with margins for float rounding) is on no shortest path and
never in a DAG; without it every distance, every DAG edge and their order
stay the same, so the sums are bit for bit those of the whole graph. The
alternative paths come from a few hubs: ``u -> hub -> v`` costs at most
``d(u, hub) + d(hub, v)``, two Dijkstras per hub.

With numba installed (the ``fast`` extra), large runs go to the compiled kernel
of :mod:`._brandes_jit` instead: the same three steps one source at a time on
O(n) workspaces, in threads (it releases the GIL), from the same blocks of
sources added in the same order.

Small graphs stack the DAGs of a block of sources as one graph (node
``j * n + v`` is node ``v`` seen from the block's ``j``-th source), so the
Python overhead is per block. Blocks run in a thread pool and their sums are
added in block order: the result does not depend on the number of threads.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

logger = logging.getLogger("refgraph.centrality")

#: Sources times edges from which ``engine="auto"`` runs the compiled kernel: below it,
#: importing numba and loading the cached kernel (about a second) would not pay.
_JIT_MIN_WORK = 1 << 27
#: (source, node) pairs per block of sources: the Python overhead is per block.
_BLOCK_PAIRS = 1 << 22
#: (source, edge) pairs per vectorised pass over the edges: cache-sized temporaries.
_CHUNK_PAIRS = 1 << 17
#: Hubs whose distances certify dominated edges (:func:`prune_dominated`): two Dijkstras each.
_HUBS = 2
#: Sources from which ``prune=None`` prunes (it costs about ``2 * _HUBS`` sources) ...
_PRUNE_MIN_SOURCES = 64
#: ... on graphs of at least this many edges (on 2M edges it gained nothing measurable).
_PRUNE_MIN_EDGES = 1 << 22


def default_threads() -> int:
    """Threads for the sources: the CPUs this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def dependencies(
    cost: sp.csr_array,
    sources: np.ndarray,
    *,
    tol: float,
    threads: int | None = None,
    engine: str = "auto",
    prune: bool | None = None,
) -> np.ndarray:
    """Sum over ``sources`` of Brandes' dependencies ``delta_s(v)``.

    With every node as a source this is exact betweenness (unnormalised,
    ordered pairs). ``engine``: ``"numba"`` (the compiled kernel of
    :mod:`._brandes_jit`, the ``fast`` extra), or the vectorised kernel here with
    Dijkstra from ``"networkit"`` or ``"scipy"``; ``"auto"``: numba when it
    imports, the costs are ``>= 0`` and the work (sources times edges) reaches
    ``_JIT_MIN_WORK``, else NetworKit when it imports and more than one thread
    runs (SciPy's holds the GIL but is a little faster on one thread and needs
    no graph copy), else SciPy. ``threads``: worker threads, by default
    :func:`default_threads` for numba (its kernel releases the GIL and needs no
    graph copy) and 1 for the others (on the 2-core machines measured in
    ``benchmarks/results/centrality.md`` two threads were not faster under
    load, and the NetworKit graph they need costs about 34 bytes per edge
    more). ``prune``: run on :func:`prune_dominated`'s graph (same sums, bit for
    bit; ``None``: from ``_PRUNE_MIN_SOURCES`` sources and ``_PRUNE_MIN_EDGES``
    edges on). Every engine and thread count gives the same sums up to float
    rounding (the order in which path counts and dependencies are added); for
    one engine the sum does not depend on ``threads``.
    """
    n = cost.shape[0]
    if n == 0 or len(sources) == 0:
        return np.zeros(n)
    b = _block_size(n, cost.nnz)  # of the whole graph: the same blocks, the same sums
    jit = None
    if engine in ("auto", "numba"):
        jit = _compiled(cost, len(sources), required=engine == "numba")
        engine = "numba" if jit is not None else engine
    auto = len(sources) >= _PRUNE_MIN_SOURCES and cost.nnz >= _PRUNE_MIN_EDGES
    if prune or (prune is None and auto):
        cost = prune_dominated(cost, tol)
    if threads is None:
        threads = default_threads() if jit is not None else 1
    workers = max(1, min(int(threads), -(-len(sources) // b)))
    if jit is not None:
        return jit.run(cost, np.asarray(sources, dtype=np.int64), tol, b, workers, sum_blocks)
    if engine == "auto":
        from .._kernels import have_networkit

        engine = "networkit" if workers > 1 and have_networkit() else "scipy"
    return _Kernel(cost, tol, engine, b).run(sources, workers)


def _compiled(cost: sp.csr_array, k: int, *, required: bool) -> Any:
    """The compiled kernel's module when it should run (``required``: it must, or an
    ImportError names the extra), else None."""
    data = np.asarray(cost.data)
    if not required and (k * max(cost.nnz, cost.shape[0]) < _JIT_MIN_WORK):
        return None
    if data.size and not float(data.min()) >= 0:  # negative or NaN costs: SciPy's checks
        if required:
            raise ValueError("engine='numba' needs costs >= 0")
        return None
    if required:
        from .._optional import require

        require("numba", "fast", purpose="the compiled betweenness kernel")
    try:
        from . import _brandes_jit
    except ImportError:
        if required:
            raise
        logger.info(
            "betweenness: %d sources on %d edges without numba; "
            "pip install 'refgraph[fast]' compiles the kernel (several times faster)",
            k,
            cost.nnz,
        )
        return None
    return _brandes_jit


def sum_blocks(
    kernel: Callable[[np.ndarray], np.ndarray],
    sources: np.ndarray,
    block: int,
    workers: int,
    n: int,
) -> np.ndarray:
    """Sum of ``kernel(b)`` over the blocks ``b`` of ``block`` sources, run on ``workers``
    threads and added in block order (the sum does not depend on ``workers``)."""
    out = np.zeros(n)
    b = block
    blocks = [np.asarray(sources[i : i + b], dtype=np.int64) for i in range(0, len(sources), b)]
    workers = max(1, min(workers, len(blocks)))
    if workers == 1:
        for one in blocks:
            out += kernel(one)
        return out
    with ThreadPoolExecutor(workers) as pool:
        # a bounded window of blocks in flight; sums added in block order
        todo = iter(blocks)
        pending: deque[Future[np.ndarray]] = deque()
        for one in todo:
            pending.append(pool.submit(kernel, one))
            if len(pending) >= 2 * workers:
                break
        while pending:
            out += pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(kernel, nxt))
    return out


def _block_size(n: int, m: int) -> int:
    return int(max(1, min(256, _BLOCK_PAIRS // max(1, m, n))))


def _row_chunks(indptr: np.ndarray, step: int) -> list[tuple[int, int, int, int]]:
    """(first row, last row + 1, first edge, last edge + 1): about ``step`` edges
    each, cut at row boundaries (a row longer than that is one chunk)."""
    n, m = len(indptr) - 1, int(indptr[-1])
    cuts = np.searchsorted(indptr, np.arange(0, m, max(1, step)), side="right") - 1
    rows = np.unique(np.concatenate([cuts, [n]]))
    return [
        (r0, r1, int(indptr[r0]), int(indptr[r1]))
        for r0, r1 in zip(rows[:-1].tolist(), rows[1:].tolist())
    ]


def prune_dominated(cost: sp.csr_array, tol: float, hubs: int | None = None) -> sp.csr_array:
    """``cost`` without edges that an alternative path beats for every source.

    Edge ``e = u -> v`` (cost ``c``) goes when ``c - (T(u) + F(v)) > margin(c)``,
    with ``T(u)``, ``F(v)`` the Dijkstra distances from ``u`` to a hub and from
    the hub to ``v`` (the ``hubs`` nodes of largest volume in and out; default
    ``_HUBS``). Kept edges keep their order in the CSR.

    Why the sums do not change. Let ``D`` be the distances from a source in
    the whole graph (Dijkstra's: each is ``fl(D(p) + c(p, x))`` over the edge
    from its predecessor ``p``, and no path's left-to-right float sum is
    smaller, since ``fl`` is monotone), ``a = D(u)``, ``P`` the path
    ``u -> hub -> v`` behind ``T(u) + F(v)`` (at most ``2n`` edges, exact cost
    ``L``) and ``B`` the float sum of ``a`` then ``P``'s costs, so ``D(v) <= B``.
    Float sums of ``k`` terms are within a relative ``k * 2**-53`` (to first
    order), hence ``L <= T(u) + F(v) + ...`` and ``B <= a + L + ...``, and with
    ``a <= A = 1.01 * n * max(c)`` (a simple path's float sum) the margin
    ``(A + 2c) * (1.01 tol + 8 (n + 2) 2**-53)`` gives, for every source,

    1. ``D(v) <= B < fl(a + c)``: ``e`` is no Dijkstra predecessor edge, so the
       predecessor paths, whose float sums are ``D``, avoid pruned edges and
       Dijkstra on the pruned graph (whose distances no path beats either)
       finds the same ``D``, bit for bit (and the same unreached nodes);
    2. ``fl(fl(a + c) - D(v)) > fl(D(v) * tol)``: ``e`` fails the tight-edge
       test of :meth:`_Kernel._dag` (an edge tied with ``P`` within the
       tolerance is not pruned: it may be on a shortest path);

    and every other edge's test reads the same ``D``: the DAG, its edge order,
    hence the sweep's arithmetic, are those of the whole graph. With integer
    costs and ``tol = 0`` whose sums stay below ``2**53`` all of this is exact
    and the margin is 0 (strictly cheaper alternatives). Costs that are not
    finite and positive leave the graph as it is.
    """
    n, m = int(cost.shape[0]), int(cost.nnz)
    c = np.asarray(cost.data, dtype=np.float64)
    if m == 0 or not (np.all(np.isfinite(c)) and float(c.min()) > 0):
        return cost
    from scipy.sparse.csgraph import dijkstra

    indptr = np.asarray(cost.indptr, dtype=np.int64)
    idx = np.int32 if max(n, m) < 2**31 else np.int64  # no int64 copies for SciPy
    head = np.asarray(cost.indices, dtype=idx)
    deg = np.diff(indptr)
    inv = np.zeros(m + 1)
    np.cumsum(1.0 / c, out=inv[1:])
    volume = (inv[indptr[1:]] - inv[indptr[:-1]]) + np.bincount(head, 1.0 / c, n)
    hub = np.argsort(-volume, kind="stable")[: _HUBS if hubs is None else int(hubs)]
    del inv, volume
    g = sp.csr_matrix((c, head, indptr.astype(idx)), shape=(n, n))
    from_hub = np.atleast_2d(dijkstra(g, directed=True, indices=hub))
    to_hub = np.atleast_2d(dijkstra(g.T.tocsr(), directed=True, indices=hub))
    del g
    c_max = float(c.max())
    if tol == 0 and bool(np.all(c == np.floor(c))) and 4.0 * (n + 2) * c_max < 2.0**53:
        slack, big = 0.0, 0.0  # integer sums: exact
    else:
        slack, big = 1.01 * tol + 8.0 * (n + 2) * 2.0**-53, 1.01 * n * c_max
    keep = np.ones(m, dtype=bool)
    for r0, r1, lo, hi in _row_chunks(indptr, _CHUNK_PAIRS):
        h, cc = head[lo:hi], c[lo:hi]
        best = np.full(hi - lo, np.inf)
        for j in range(len(hub)):
            alt = np.repeat(to_hub[j, r0:r1], deg[r0:r1])
            alt += from_hub[j, h]
            np.minimum(best, alt, out=best)
        keep[lo:hi] = ~(cc - best > (big + 2.0 * cc) * slack)  # unreachable hub: -inf
    if keep.all():
        return cost
    kept = np.zeros(m + 1, dtype=idx)
    np.cumsum(keep, out=kept[1:])
    return sp.csr_array((c[keep], head[keep], kept[indptr]), shape=(n, n))


class _Kernel:
    """Per-block work on one cost CSR: ``kernel(block)`` is the block's summed ``delta``."""

    def __init__(self, cost: sp.csr_array, tol: float, engine: str, block: int) -> None:
        n = int(cost.shape[0])
        self.n, self.tol = n, float(tol)
        indptr = np.asarray(cost.indptr, dtype=np.int64)
        self.m = m = int(indptr[-1])
        self.indptr = indptr
        idx = np.int32 if max(n, m) < 2**31 else np.int64
        self.head: npt.NDArray[np.signedinteger[Any]] = np.asarray(cost.indices, dtype=idx)
        self.deg = np.diff(indptr)
        self.c = np.asarray(cost.data, dtype=np.float64)
        self.block = block
        self.chunks = _row_chunks(indptr, _CHUNK_PAIRS // self.block)
        self.distances = self._distance_engine(cost, engine)

    def run(self, sources: np.ndarray, workers: int) -> np.ndarray:
        """Sum of the dependencies of ``sources``, in blocks on ``workers`` threads."""
        return sum_blocks(self, sources, self.block, workers, self.n)

    # ------------------------------------------------------------------ distances
    def _distance_engine(self, cost: sp.csr_array, engine: str) -> Callable[[np.ndarray], Any]:
        if engine == "scipy":
            from scipy.sparse.csgraph import dijkstra

            # int32 positions when they fit: SciPy would convert them on every call
            g = sp.csr_matrix(
                (self.c, self.head, self.indptr.astype(self.head.dtype)), shape=cost.shape
            )
            return lambda block: np.atleast_2d(dijkstra(g, directed=True, indices=block))
        if engine != "networkit":  # pragma: no cover - internal misuse
            raise ValueError(engine)
        import networkit as nk

        graph = nk.graph.GraphFromCsr(sp.csr_matrix(cost), directed=True, weighted=True)
        unreached = np.finfo(np.float64).max  # NetworKit's distance of unreached nodes
        local = threading.local()  # one Dijkstra (its n-sized arrays) per thread

        def run(block: np.ndarray) -> np.ndarray:
            dist = np.empty((len(block), self.n))
            for j, s in enumerate(block.tolist()):
                algo = getattr(local, "algo", None)
                if algo is None:
                    algo = local.algo = nk.distance.Dijkstra(graph, s, storePaths=False)
                else:
                    algo.setSource(s)
                algo.run()  # releases the GIL
                dist[j] = np.asarray(algo.getDistances(asarray=True))
            dist[dist == unreached] = np.inf
            return dist

        return run

    # ------------------------------------------------------------------ one block
    def __call__(self, block: np.ndarray) -> np.ndarray:
        n, b = self.n, len(block)
        dist = self.distances(block)
        tails, heads = self._dag(dist)
        offset = (np.arange(b, dtype=np.int64) * n)[:, None]
        delta = _sweep(tails, heads, (block + offset[:, 0]), np.isfinite(dist).ravel(), b * n)
        return delta.reshape(b, n).sum(axis=0)

    def _dag(self, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tight edges of every source of the block, as stacked node ids sorted by tail.

        A first pass keeps the edges with ``d(u) + c <= lim(v)``, where ``lim = d``
        for integer costs (that is the exact test: ``fl(a - b) <= 0`` iff
        ``a <= b``) and ``lim = d * (1 + 2 tol)`` otherwise, a bound no tight
        edge exceeds; the test ``d(u) + c - d(v) <= d(v) * tol`` then runs, in
        those float operations, on the few edges kept.
        """
        b, n, tol = dist.shape[0], self.n, self.tol
        lim = dist * (1.0 + 2.0 * tol) if tol > 0 else dist
        tails, heads = [], []
        for r0, r1, lo, hi in self.chunks:
            h = self.head[lo:hi]
            if b == 1:
                du_c = np.repeat(dist[0, r0:r1], self.deg[r0:r1])
                du_c += self.c[lo:hi]
                j = np.flatnonzero(du_c <= np.take(lim[0], h))
                bi = np.zeros(len(j), dtype=np.int64)
            else:
                du_c = np.repeat(dist[:, r0:r1], self.deg[r0:r1], axis=1)
                du_c += self.c[lo:hi]
                f = np.flatnonzero(du_c <= np.take(lim, h, axis=1))
                bi, j = np.divmod(f, hi - lo)
            if len(j) == 0:
                continue
            sv = du_c[bi, j] if b > 1 else du_c[j]
            v = h[j]
            dv = dist[bi, v]
            with np.errstate(invalid="ignore"):  # inf - inf for unreached tails: not tight
                keep = (sv - dv) <= dv * tol if tol > 0 else np.isfinite(sv)
            j, bi, v = j[keep], bi[keep], v[keep]
            u = np.searchsorted(self.indptr[r0 : r1 + 1], lo + j, side="right") - 1 + r0
            base = bi * n
            tails.append(base + u)
            heads.append(base + v)
        if not tails:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        tail = np.concatenate(tails)
        head = np.concatenate(heads)
        if b > 1:  # chunks hold every source's edges of a row range: sort by stacked tail
            order = np.argsort(tail, kind="stable")
            tail, head = tail[order], head[order]
        if tol > 0:  # keep the DAG forward in the order (distance, node)
            flat = dist.ravel()
            du, dv = flat[tail], flat[head]
            fwd = (du < dv) | ((du == dv) & (tail < head))
            tail, head = tail[fwd], head[fwd]
        return tail, head


def _sweep(
    tail: np.ndarray, head: np.ndarray, sources: np.ndarray, reached: np.ndarray, size: int
) -> np.ndarray:
    """Dependencies on a DAG of ``size`` nodes given as edges sorted by tail.

    ``sources`` have ``sigma = 1``; reached nodes without a DAG predecessor
    other than them have ``sigma = 0`` (none unless a near-zero cost dropped a
    backward edge) and, like unreached nodes, ``delta = 0``.
    """
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=size), out=indptr[1:])
    indeg = np.bincount(head, minlength=size)
    sigma = np.zeros(size)
    sigma[sources] = 1.0
    slot = np.full(size, -1, dtype=np.int64)  # scratch for de-duplicating a frontier
    frontier = np.flatnonzero(reached & (indeg == 0))
    levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    while len(frontier):
        edges, counts = _out_edges(indptr, frontier)
        levels.append((frontier, edges, counts))
        if len(edges) == 0:
            break
        nxt = head[edges]
        np.add.at(sigma, nxt, np.repeat(sigma[frontier], counts))
        np.subtract.at(indeg, nxt, 1)
        nxt = nxt[indeg[nxt] == 0]
        slot[nxt] = np.arange(len(nxt))
        frontier = nxt[slot[nxt] == np.arange(len(nxt))]  # each node once
    x = np.divide(1.0, sigma, out=np.zeros(size), where=sigma > 0)  # x = (1 + delta) / sigma
    for frontier, edges, counts in reversed(levels):
        if len(edges):
            owner = np.repeat(np.arange(len(frontier)), counts)
            x[frontier] += np.bincount(owner, weights=x[head[edges]], minlength=len(frontier))
    delta = np.where(sigma > 0, sigma * x - 1.0, 0.0)
    delta[sources] = 0.0
    return delta


def _out_edges(indptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the out-edges of ``nodes`` (CSR ``indptr``) and their count per node."""
    start = indptr[nodes]
    counts = indptr[nodes + 1] - start
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), counts
    first = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(start - first, counts), counts
