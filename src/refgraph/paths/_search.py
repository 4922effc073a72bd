"""Search kernel of :mod:`refgraph.paths`: tie graph, hop layers, constraints, A* search.

See the :mod:`refgraph.paths` docstring for the method and its references.
"""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import ValidationError
from .._params import check_npi_in_network, check_npis_in_network
from ._tie_graph import (
    _CACHE,
    _UNSEEN,
    _Block,
    _distinct,
    _scan,
    _Scratch,
    _scratch,
    _segments,
    _TieGraph,
)


@dataclass(frozen=True)
class _Start:
    """Per source set: hop layers ``G[r]`` and each node's adjacent sources."""

    layers: list[np.ndarray]
    s_indptr: np.ndarray  # CSR over nodes: adjacent sources, cheapest first
    s_nodes: np.ndarray
    s_edge: np.ndarray  # cost of the edge node - source
    s_total: np.ndarray  # edge cost + start cost of the source
    c0full: np.ndarray  # start cost per node (inf for non-sources)


def _layers(net: Any, tg: _TieGraph, src: np.ndarray, c0: np.ndarray, hops: int) -> _Start:
    """``G[r][v]``: least cost from a source to ``v`` within ``r`` hops (sources only at start)."""
    ck = None
    if tg.key is not None:
        ck = (tg.key, src.tobytes(), c0.tobytes(), hops)
        lru = net.cached_view((_CACHE, "layers"), OrderedDict)
        if ck in lru:
            lru.move_to_end(ck)
            return lru[ck]
    res = _layers_csr(tg.n, tg.indptr, tg.indices, tg.cost, src, c0, hops)
    if ck is not None:
        lru[ck] = res
        while len(lru) > 8:
            lru.popitem(last=False)
    return res


def _cached_layers(net: Any, tg: _TieGraph, src: np.ndarray, c0: np.ndarray, hops: int) -> Any:
    """The hop layers of this source set if an earlier call left them in the cache."""
    if tg.key is None:
        return None
    lru = net.cached_view((_CACHE, "layers"), OrderedDict)
    return lru.get((tg.key, src.tobytes(), c0.tobytes(), hops))


def _layers_csr(
    n: int,
    indptr: np.ndarray,
    indices: np.ndarray,
    cost: np.ndarray,
    src: np.ndarray,
    c0: np.ndarray,
    hops: int,
) -> _Start:
    g = np.full(n, np.inf)
    g[src] = c0
    out = [g]
    starts = indptr[:-1]
    nonempty = np.flatnonzero(np.diff(indptr) > 0)
    for _ in range(1, hops):
        vals = g[indices] + cost
        best = np.full(n, np.inf)
        if len(nonempty):
            best[nonempty] = np.minimum.reduceat(vals, starts[nonempty])
        g = np.minimum(g, best)
        g[src] = c0
        out.append(g)
    c0full = np.full(n, np.inf)
    c0full[src] = c0
    pos = np.flatnonzero(np.isfinite(c0full[indices]))
    rows = np.searchsorted(indptr, pos, side="right") - 1
    nodes = indices[pos]
    edge = cost[pos]
    total = edge + c0full[nodes]
    order = np.lexsort((total, rows))
    s_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=s_indptr[1:])
    return _Start(out, s_indptr, nodes[order], edge[order], total[order], c0full)


# ---------------------------------------------------------------------------- local
@dataclass(frozen=True)
class _Local:
    """The layered neighbourhood of one query, renumbered ``0..len(nodes)-1``.

    ``nodes`` (ascending global ids) maps local ids back; neighbour lists keep
    the global order, so the search visits them in the same order as on the
    whole graph.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    cost: np.ndarray
    nodes: np.ndarray


def _hop_bfs(
    tg: _TieGraph,
    d: np.ndarray,
    seeds: np.ndarray,
    depth: int,
    mark: np.ndarray,
    blocks: list[_Block],
) -> list[np.ndarray]:
    """Fill ``d`` with hop distances from ``seeds`` up to ``depth``; the nodes reached."""
    d[seeds] = 0
    seen, frontier = [seeds], seeds
    for lev in range(1, depth + 1):
        if not len(frontier):
            break
        nb = _scan(tg, frontier, blocks)[2]
        nb = _distinct(nb[d[nb] == _UNSEEN], mark)
        d[nb] = lev
        seen.append(nb)
        frontier = nb
    return seen


def _degree_sum(indptr: np.ndarray, nodes: np.ndarray) -> int:
    return int((indptr[nodes + 1] - indptr[nodes]).sum())


def _hop_extend(
    tg: _TieGraph,
    d: np.ndarray,
    other: np.ndarray,
    pool: np.ndarray,
    levels: list[np.ndarray],
    hops: int,
    mark: np.ndarray,
    blocks: list[_Block],
) -> list[np.ndarray]:
    """Distances in ``d`` beyond its BFS depth, only for nodes that can still be useful.

    At level ``lev`` a node matters only if its distance to the other side
    is at most ``hops - lev`` (``other``, exact there: the node is in the
    other side's breadth-first ``pool``); it gets ``lev`` when a neighbour
    has ``lev - 1``. Exact for every such node by induction. ``levels`` are
    ``d``'s nodes by level so far (the BFS levels); each level is found by
    scanning whichever is shorter, the neighbour lists of the candidates or
    those of the previous level (as a direction-optimising BFS does).
    """
    found = []
    indptr = tg.indptr
    for lev in range(len(levels), hops + 1):
        cand = pool[(other[pool] <= hops - lev) & (d[pool] == _UNSEEN)]
        prev = levels[lev - 1]
        if not len(cand) or not len(prev):
            levels.append(cand[:0])
            continue
        if _degree_sum(indptr, cand) <= _degree_sum(indptr, prev):
            _, _, nb, ends = _scan(tg, cand, blocks)
            at = np.flatnonzero(d[nb] == lev - 1)  # ascending
            hit = np.searchsorted(ends, at, side="right")  # owners, ascending
            hit = cand[hit[np.r_[True, hit[1:] != hit[:-1]]]] if len(hit) else cand[:0]
        else:
            nb = _scan(tg, prev, blocks)[2]
            hit = _distinct(nb[(other[nb] <= hops - lev) & (d[nb] == _UNSEEN)], mark)
        d[hit] = lev
        levels.append(hit)
        found.append(hit)
    return found


def _local(
    tg: _TieGraph, src: np.ndarray, c0: np.ndarray, t: int, hops: int
) -> tuple[_Local, _Start] | None:
    """Neighbourhood of a query: every node ``v`` with ``dS(v) + dT(v) <= hops``.

    ``dS``/``dT`` are hop distances from the source set and from ``t``:
    breadth-first to ``(hops - 1) // 2`` and ``hops - 1 - (hops - 1) // 2``
    hops, then extended only at nodes that can still be within ``hops`` of
    the other side (:func:`_hop_extend`; exact since the two depths add up
    to ``hops - 1``), so no node farther than that from both ends is listed.
    Of the ties among these nodes it keeps those ``x - y`` that fit on a
    walk of at most ``hops`` hops between the ends (``dS(x) + 1 + dT(y) <=
    hops`` one way or the other). Every walk of at most ``r`` hops from a
    source to a node the search asks the heuristic ``G[r]`` about, and every
    tie the search may step along, is kept (each tie of such a walk fits
    the bound by induction along the walk), so its hop layers computed on
    the subgraph are the same floating-point numbers as on the whole graph,
    and the search (same neighbour order, same pushes) finds the same paths
    in the same order. ``None`` when ``t`` is farther than ``hops``.
    """
    sc = _scratch(tg)
    touched: list[np.ndarray] = []
    out = _local_in(tg, src, c0, t, hops, sc, touched)  # on an error the scratch is dropped
    for x in touched:
        sc.ds[x] = _UNSEEN
        sc.dt[x] = _UNSEEN
    tg.scratch.append(sc)
    return out


def _local_in(
    tg: _TieGraph,
    src: np.ndarray,
    c0: np.ndarray,
    t: int,
    hops: int,
    sc: _Scratch,
    touched: list[np.ndarray],
) -> tuple[_Local, _Start] | None:
    ds, dt, mark = sc.ds, sc.dt, sc.mark
    hs = max(hops - 1, 0) // 2
    ht = max(hops - 1, 0) - hs
    blocks: list[_Block] = []
    seen_s = _hop_bfs(tg, ds, src, hs, mark, blocks)
    touched.extend(seen_s)
    seen_t = _hop_bfs(tg, dt, np.array([t], dtype=np.int64), ht, mark, blocks)
    touched.extend(seen_t)
    pool_s, pool_t = np.concatenate(seen_s), np.concatenate(seen_t)
    more_t = _hop_extend(tg, dt, ds, pool_s, list(seen_t), hops, mark, blocks)
    touched.extend(more_t)
    more_s = _hop_extend(tg, ds, dt, pool_t, list(seen_s), hops, mark, blocks)
    touched.extend(more_s)
    if int(ds[t]) > hops:
        return None
    pool = np.concatenate([pool_s, pool_t, *more_t, *more_s])
    pool = pool[ds[pool].astype(np.int16) + dt[pool] <= hops]
    nodes = np.sort(_distinct(pool, mark))
    m = len(nodes)
    lid = sc.lid
    lid[nodes] = np.arange(m)
    sc.inloc[nodes] = True
    try:
        owner, col, cost = _local_ties(tg, nodes, ds, dt, lid, hops - 1, sc, blocks)
    finally:
        sc.inloc[nodes] = False
    indptr = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=m), out=indptr[1:])
    sub = _Local(m, indptr, col, cost, nodes)
    inside = dt[src] <= hops
    lsrc = lid[src[inside]]
    return sub, _layers_csr(m, sub.indptr, sub.indices, sub.cost, lsrc, c0[inside], hops)


#: A scan is reused when the lists wanted of it are at least 1/_REUSE of its entries
#: (filtering a kept scan costs about a fifth of reading the lists again).
_REUSE = 4


def _local_ties(
    tg: _TieGraph,
    nodes: np.ndarray,
    ds: np.ndarray,
    dt: np.ndarray,
    lid: np.ndarray,
    lim: int,
    sc: _Scratch,
    blocks: list[_Block],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ties ``x - y`` among ``nodes`` with ``dS(x) + dT(y) <= lim`` one way or the
    other, as sorted CSR entries: owner and neighbour (local ids), cost.

    Every such tie has an end in ``P = {dS <= p} | {dT <= lim - 1 - p}`` for
    any ``p``: the neighbour lists of the ``p`` whose ``P`` has the fewest
    entries are scanned, and each tie found to a node outside ``P`` gives the
    reverse entry too (same cost, stored once per tie in both directions).
    The lists come from the earlier scans of the query (``blocks``, longest
    first: the entries of those of its lists in ``P`` and in no block taken
    before, when they are at least ``1 / _REUSE`` of the block); the rest are
    read now. Most entries of long lists lead outside ``nodes``
    (``sc.inloc``: a node-sized flag, set at ``nodes`` only): one look-up
    drops them before the distances are compared.
    """
    indptr, indices = tg.indptr, tg.indices
    dsn = ds[nodes].astype(np.int16)
    dtn = dt[nodes].astype(np.int16)
    degn = indptr[nodes + 1] - indptr[nodes]
    best_p, best = -1, None
    for p in range(-1, lim + 1):
        c = int(degn[(dsn <= p) | (dtn <= lim - 1 - p)].sum())
        if best is None or c < best:
            best_p, best = p, c
    p = best_p
    in_p = np.flatnonzero((dsn <= p) | (dtn <= lim - 1 - p))
    inloc, todo = sc.inloc, sc.todo
    pn = nodes[in_p]
    todo[pn] = True
    nbs, poss, owns = [], [], []
    for bn, bpos, bnb, ends in sorted(blocks, key=lambda b: -len(b[1])):  # longest first
        want = todo[bn]  # lists of the block in P and in no block taken before
        ln = np.diff(ends, prepend=0)
        if int(ln[want].sum()) * _REUSE < len(bpos):
            continue  # cheaper to read those few lists again
        todo[bn[want]] = False
        k = np.flatnonzero(inloc[bnb])  # the entries of the scan inside ``nodes``
        at = np.searchsorted(ends, k, side="right")
        k, at = k[want[at]], at[want[at]]
        nbs.append(bnb[k])
        poss.append(bpos[k])
        owns.append(bn[at])
    rest = pn[todo[pn]]
    todo[rest] = False
    if len(rest):
        bpos, ends = _segments(indptr, rest)
        bnb = indices[bpos]
        k = np.flatnonzero(inloc[bnb])
        nbs.append(bnb[k])
        poss.append(bpos[k])
        owns.append(rest[np.searchsorted(ends, k, side="right")])
    nb = np.concatenate(nbs) if nbs else indices[:0]
    pos = np.concatenate(poss) if poss else np.empty(0, dtype=np.int64)
    own = lid[np.concatenate(owns)] if owns else np.empty(0, dtype=np.int64)
    keep = (dsn[own] + dt[nb] <= lim) | (dtn[own] + ds[nb] <= lim)
    nb, own, pos = nb[keep], own[keep], pos[keep]
    cost = tg.cost[pos]
    col = lid[nb]
    back = ~((ds[nb] <= p) | (dt[nb] <= lim - 1 - p))
    owner = np.concatenate([own, col[back]])
    col = np.concatenate([col, own[back]])
    cost = np.concatenate([cost, cost[back]])
    # the keys are distinct (one entry per tie and direction): any sort gives this order
    order = np.argsort(owner * np.int64(len(nodes)) + col)
    return owner[order], col[order], cost[order]


def _search_local(
    tg: _TieGraph,
    src: np.ndarray,
    c0: np.ndarray,
    t: int,
    forbid: np.ndarray | Callable[[np.ndarray], np.ndarray],
    hops: int,
    k: int,
    cap: float,
    by_introducer: bool = False,
) -> list[tuple[float, tuple[int, ...]]]:
    """:func:`_search` on the query's neighbourhood (:func:`_local`); same answer.

    ``forbid`` is a mask over every node, or a function giving it at the
    neighbourhood's nodes (so that constraints are evaluated there only).
    """
    loc = _local(tg, src, c0, t, hops)
    if loc is None:
        return []
    sub, start = loc
    lt = int(np.searchsorted(sub.nodes, t))
    fb = forbid(sub.nodes) if callable(forbid) else forbid[sub.nodes]
    found = _search(sub, lt, start, fb, hops, k, cap, by_introducer)
    back = sub.nodes.tolist()
    return [(c, tuple(back[i] for i in path)) for c, path in found]


# ---------------------------------------------------------------------------- sources
#: Up to this many NPIs are looked up one by one (``Index.get_loc``, under a
#: microsecond each) instead of by ``get_indexer`` (about 0.2 ms a call on an
#: Arrow-backed string index, whatever the number of NPIs).
_FEW = 32


def _ids(net: Any, npis: list[Any]) -> np.ndarray | None:
    """Node ids of a few NPI strings, or ``None`` (the caller's general path then
    finds them, or raises its error for an unknown one)."""
    if len(npis) > _FEW or not all(type(x) is str for x in npis):
        return None
    index = net.npis
    out = np.empty(len(npis), dtype=np.int64)
    for i, x in enumerate(npis):
        try:
            at = index.get_loc(x)
        except KeyError:
            return None
        if type(at) is not int:  # a repeated label: a slice or a mask
            return None
        out[i] = at
    return out


def _node(net: Any, npi: Any, what: str) -> int:
    got = _ids(net, [npi])
    return int(got[0]) if got is not None else check_npi_in_network(net, npi, what)


def resolve_sources(
    net: Any, sources: Iterable[str] | Mapping[str, float] | None, home: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and start costs ``-log w`` of my people.

    ``sources`` may map NPIs to a probability that my ask reaches them
    (default 1). Without ``sources``: the ``home`` physicians (my practice)
    when given, else every physician with a logged touchpoint (my team's
    existing contacts).
    """
    if home is not None:
        check_npis_in_network(net, home, "home")
    if sources is None:
        if home is not None:
            sources = [home] if isinstance(home, str) else list(home)
        elif len(net.touchpoints):
            sources = net.touchpoints["npi"].astype(str).unique().tolist()
        else:
            raise ValidationError(
                "sources: none given, no home physicians and no touchpoints to start from; "
                "pass sources=[NPI, ...] (my people) or home=[NPI, ...]"
            )
    if isinstance(sources, str):
        sources = [sources]
    if isinstance(sources, Mapping):
        items = [(str(k), float(v)) for k, v in sources.items()]
    else:
        items = [(str(s), 1.0) for s in sources]
    if not items:
        raise ValidationError("sources: expected at least one NPI, got none")
    ws = np.array([w for _, w in items], dtype="float64")
    bad = ~((ws > 0) & (ws <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"sources[{items[i][0]!r}]: weight must be in (0, 1], got {ws[i]}")
    npis = [npi for npi, _ in items]
    ids = _ids(net, npis)
    if ids is None:
        ids = check_npis_in_network(net, npis, "sources")
    order = np.lexsort((-ws, ids))
    ids, ws = ids[order], ws[order]
    first = np.r_[True, ids[1:] != ids[:-1]]
    return ids[first].astype(np.int64), -np.log(ws[first])


# ---------------------------------------------------------------------------- kernel
#: Expansions with more children than this queue them as one sorted block (see _search).
_EAGER = 32


def _search(
    tg: _TieGraph | _Local,
    t: int,
    start: _Start,
    forbid: np.ndarray,
    hops: int,
    k: int,
    cap: float,
    by_introducer: bool = False,
) -> list[tuple[float, tuple[int, ...]]]:
    """Exact k cheapest simple paths source -> ``t`` with at most ``hops`` hops.

    Backward A* from ``t``. Paths are returned target-first. With
    ``by_introducer`` only the cheapest path per introducer (the neighbour
    of ``t`` on the path) is kept, and ``k`` counts introducers.
    """
    indptr, indices, cost = tg.indptr, tg.indices, tg.cost
    layers, c0full = start.layers, start.c0full
    s_indptr, s_nodes, s_edge, s_total = start.s_indptr, start.s_nodes, start.s_edge, start.s_total
    # heap entries: (f, order, g, path, complete, siblings); ``order`` breaks ties in
    # push order. The partial children of one expansion wait in ``siblings``
    # (sorted by (f, order)) and enter the heap one at a time, each when the one
    # before it is popped: the heap's minimum, so the pops, are those of pushing
    # them all at once, for the cost of one push per pop.
    heap: list[tuple[Any, ...]] = []
    nxt = 0  # the next push order
    results: list[tuple[float, tuple[int, ...]]] = []
    top: list[float] = []  # max-heap (negated) of the k cheapest complete costs pushed
    intro_best: dict[int, float] = {}
    done: set[int] = set()
    bound = math.inf

    def push_complete(fc: float, path: tuple[int, ...]) -> None:
        nonlocal bound, nxt
        heapq.heappush(heap, (fc, nxt, fc, path, True, None))
        nxt += 1
        if by_introducer:
            x = path[1]
            if fc < intro_best.get(x, math.inf):
                intro_best[x] = fc
                if len(intro_best) >= k:
                    bound = heapq.nsmallest(k, intro_best.values())[-1]
        elif len(top) < k:
            heapq.heappush(top, -fc)
            if len(top) == k:
                bound = -top[0]
        elif fc < -top[0]:
            heapq.heapreplace(top, -fc)
            bound = -top[0]

    def push_sibling(sib: tuple[Any, ...], i: int) -> None:
        fs, orders, gs, us, path = sib
        heapq.heappush(heap, (fs[i], orders[i], gs[i], (*path, us[i]), False, (sib, i)))

    def finish(v: int, g: float, path: tuple[int, ...]) -> None:
        """Last hop: only the sources adjacent to ``v`` (cheapest first)."""
        lo, hi = s_indptr[v], s_indptr[v + 1]
        x = path[1] if len(path) > 1 else -1
        for u, cu, tot in zip(
            s_nodes[lo:hi].tolist(), s_edge[lo:hi].tolist(), s_total[lo:hi].tolist()
        ):
            fcu = g + tot
            if fcu >= bound:
                break
            if forbid[u] or cu > cap:
                continue
            if by_introducer:
                xu = u if x < 0 else x
                if xu in done or fcu >= intro_best.get(xu, math.inf):
                    continue
            push_complete(fcu, (*path, u))

    def expand(v: int, g: float, path: tuple[int, ...]) -> None:
        nonlocal nxt
        rem = hops - len(path)  # hops still allowed after stepping to a neighbour
        if rem == 0:
            finish(v, g, path)
            return
        lo, hi = indptr[v], indptr[v + 1]
        nb = indices[lo:hi]
        c = cost[lo:hi]
        f = g + c + layers[rem][nb]
        fc = g + c + c0full[nb]
        m = (f < bound) & ~forbid[nb]  # ties with the k-th best add nothing
        if cap < math.inf:
            m &= c <= cap
        sel = np.flatnonzero(m)
        if not len(sel):
            return
        if not by_introducer and len(sel) > _EAGER:
            sel = sel[~np.isin(nb[sel], path)]  # simple paths only
            order = nxt + np.arange(len(sel))
            nxt += len(sel)
            last = nxt
            whole = np.isfinite(fc[sel])  # u is one of my people: complete there
            for j in np.flatnonzero(whole).tolist():
                nxt = int(order[j])  # its place in the push order
                push_complete(float(fc[sel[j]]), (*path, int(nb[sel[j]])))
            nxt = last
            part = sel[~whole]
            if len(part):
                po = order[~whole]
                srt = np.lexsort((po, f[part]))
                part, po = part[srt], po[srt]
                sib = (
                    f[part].tolist(),
                    po.tolist(),
                    (g + c[part]).tolist(),
                    nb[part].tolist(),
                    path,
                )
                push_sibling(sib, 0)
            return
        x = path[1] if len(path) > 1 else -1
        for u, cu, fu, fcu in zip(
            nb[sel].tolist(), c[sel].tolist(), f[sel].tolist(), fc[sel].tolist()
        ):
            if u in path:
                continue
            if by_introducer:
                xu = u if x < 0 else x
                if xu in done or fu >= intro_best.get(xu, math.inf):
                    continue
            if fcu < math.inf:  # u is one of my people: the path is complete there
                push_complete(fcu, (*path, u))
            else:
                heapq.heappush(heap, (fu, nxt, g + cu, (*path, u), False, None))
                nxt += 1

    expand(t, 0.0, (t,))
    while heap and len(results) < k:
        fv, _, g, path, complete, at = heapq.heappop(heap)
        if at is not None and at[1] + 1 < len(at[0][0]):
            push_sibling(at[0], at[1] + 1)
        if fv > bound:
            break
        if by_introducer and path[1] in done:
            continue
        if complete:
            results.append((fv, path))
            if by_introducer:
                done.add(path[1])
            continue
        expand(path[-1], g, path)
    return results
