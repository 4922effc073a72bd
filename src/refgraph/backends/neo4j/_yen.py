"""``paths.intro_paths`` pushed down to Neo4j: the k cheapest paths by GDS Yen."""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import uuid
from typing import TYPE_CHECKING, Any

import numpy as np

from ..._errors import BackendError
from ._connect import _Connection
from ._schema import _Q

if TYPE_CHECKING:
    from ...network import ReferralNetwork

logger = logging.getLogger("refgraph.backends.neo4j")


class _YenMixin(_Connection):
    """The ``intro_paths`` pushdown of :class:`~refgraph.backends.neo4j.Neo4jBackend`."""

    #: Costs closer than this (relative, at least absolute) count as tied: the order
    #: of tied paths is the in-memory search's, so such queries are computed there.
    _TIE_TOL = 1e-9
    #: Largest Yen ``k`` tried (as a multiple of ``k + 1``) before computing in memory.
    _YEN_MAX_FACTOR = 64
    #: How many ``intro_paths`` projections a backend keeps between queries.
    _KEEP_PROJECTIONS = 4
    #: Keep ``intro_paths`` projections between queries (``False``: one per query).
    reuse_projections: bool = True
    #: A per-query projection holds only the arcs on some path to its target (private
    #: switch, ``False`` = the whole target-independent graph; kept for the benchmark).
    _PRUNE_PER_QUERY = True

    def _intro_paths(self, net: ReferralNetwork, **options: Any) -> Any:
        """``paths.intro_paths`` with the path enumeration in GDS Yen.

        Tie strengths, sources, exclusions and region are prepared in memory
        by the very helpers :func:`refgraph.paths.intro_paths` uses (same
        validation, same errors), and the result is built by the same code;
        only the search for the ``k`` cheapest paths runs on the server.

        Layered graph. Node ``(v, r)`` (id ``r * n + v``) is physician ``v``
        reached after ``r`` hops, ``0 <= r <= max_hops``. A virtual source
        ``S`` has an arc to ``(s, 0)`` for each usable source ``s`` with cost
        ``-log w(s)``; a relationship ``u - v`` allowed by the constraints
        (neither end forbidden, ``-log p <= -log min_strength``) gives arcs
        ``(u, r) -> (v, r + 1)`` unless ``v`` is a source (paths never pass
        through another of my people), and every ``(v, r)``, ``r >= 1``, has
        an arc of cost 0 to a sink ``T_v`` of physician ``v``. Nodes ``S``
        cannot reach within the hop budget are pruned. Nothing in it depends
        on the target, so the projection is kept and serves the next query
        from the same inputs (see :meth:`_projection`). The ``S -> T_target``
        paths that visit no physician twice are exactly the walks the
        in-memory search admits, with the same cost (one passing the target
        earlier visits it twice and is dropped). It is a DAG, so Yen's
        loopless paths are all its paths.

        Exactness. Yen returns the ``K`` cheapest ``S -> T_target`` paths;
        every path it did not return costs at least the dearest one it
        returned, ``L`` (or there is none when fewer than ``K`` came back).
        Each admissible path's cost is recomputed in memory in the in-memory
        search's order of additions. If the ``k``-th cheapest costs less than
        ``L`` (beyond a tolerance), no unreturned path can enter the top
        ``k``; otherwise ``K`` grows (x4) up to a limit, then the query is
        computed in memory. Paths whose costs are tied (within the
        tolerance) among the first ``k + 1`` are ordered by the in-memory
        search's internal push order, which cannot be reproduced here: such
        queries are declined (``None``) and computed in memory too.
        """
        # The one documented cross-package private import: the pushdown re-uses the
        # in-memory query preparation (validation, tie graph, sources, constraints),
        # "no path" error and result builder of refgraph.paths, so that both backends
        # give the same answer. These four names are guaranteed to stay in _intro.
        # Lazy: importing the backend does not load refgraph.paths.
        from ...paths._intro import _build_result, _check_int, _no_path, _prepare

        k = _check_int(options.get("k", 5), "k", 1)
        target: Any = options.get("target")
        # the other options are intro_paths' query options, with its defaults in _prepare
        q = _prepare(
            net, target, **{key: v for key, v in options.items() if key not in ("k", "target")}
        )
        got = self._projection(q)
        if got is None:
            raise _no_path(net, target, q)
        graph, source, reached = got
        if not reached[q.t]:
            raise _no_path(net, target, q)
        sink = source + 1 + q.t
        try:
            found = self._yen_search(graph, source, sink, q, k)
        finally:
            if not self.reuse_projections:
                self._drop_graph(graph)
        if found is None:
            return None
        head = found[: k + 1]
        for (c1, _), (c2, _) in itertools.pairwise(head):
            if not _apart(c1, c2, self._TIE_TOL):
                logger.info("intro_paths: equal-cost paths; computing in memory")
                return None
        if not found:
            raise _no_path(net, target, q)
        return _build_result(net, q.tg, str(target), found[:k], q.constraints)

    def _yen_search(
        self, graph: str, source: int, sink: int, q: Any, k: int
    ) -> list[tuple[float, tuple[int, ...]]] | None:
        """The cheapest admissible paths ``S -> sink``, or ``None`` (compute in memory).

        If Yen returned fewer than ``K`` paths there are no others; otherwise
        every path it did not return costs at least its dearest returned one.
        The answer is final when the ``k``-th cheapest admissible path is
        cheaper than that (beyond the tie tolerance); else ``K`` grows x4 up
        to a limit.
        """
        n = q.tg.n
        yen_k = k + 1 if q.hops <= 3 else 2 * (k + 1)
        while True:
            config = {
                "sourceNode": source,
                "targetNode": sink,
                "k": yen_k,
                "relationshipWeightProperty": "cost",
            }
            rows = self._read_values(_Q["gds_yens"], graph=graph, config=config)
            seen: set[tuple[int, ...]] = set()
            found: list[tuple[float, tuple[int, ...]]] = []
            for _, _, ids in rows:
                fwd = tuple(int(x) % n for x in ids[1:-1])
                if len(set(fwd)) != len(fwd) or fwd in seen:
                    continue  # revisits a physician (e.g. passes the target earlier)
                seen.add(fwd)
                rev = fwd[::-1]
                found.append((_path_cost(q.tg, rev, q.start.c0full, q.hops), rev))
            found.sort(key=lambda x: x[0])
            if len(rows) < yen_k:
                return found
            dearest = max(float(r[1]) for r in rows)
            if len(found) >= k and _apart(found[k - 1][0], dearest, self._TIE_TOL):
                return found
            if yen_k >= self._YEN_MAX_FACTOR * (k + 1):
                logger.info("intro_paths: Yen k limit reached; computing in memory")
                return None
            yen_k *= 4

    def _projection(self, q: Any) -> tuple[str, int, np.ndarray] | None:
        """The GDS graph for query ``q``: a kept one built from the same inputs, or a new one.

        Returns the graph name, the id of the virtual source and which
        physicians a path can end at (``None`` when no source is usable).
        A kept projection is reused when it was built from the very same tie
        graph object (the network's cached view: same tables, same tie
        options) and the same sources with their costs, exclusions, region,
        ``min_strength`` and ``max_hops`` (compared by value); the target
        does not matter. At most :attr:`_KEEP_PROJECTIONS` are kept (least
        recently used dropped); all are dropped by a write or delete through
        this backend and by :meth:`close`.
        """
        h = hashlib.sha1()
        for arr in (q.start.c0full, q.forbid):
            h.update(np.ascontiguousarray(arr).tobytes())
            h.update(b"|")
        key = (id(q.tg), h.hexdigest(), float(q.cap), int(q.hops))
        kept = self._kept_projections()
        if self.reuse_projections and key in kept:
            entry = kept.pop(key)
            if entry[0] is q.tg and self._graph_exists(entry[1]):
                kept[key] = entry
                return entry[1], entry[2], entry[3]
        if self.reuse_projections or not self._PRUNE_PER_QUERY:
            base = _base_arcs(q.tg, q.start.c0full, q.forbid, q.cap, q.hops)
        else:  # one projection per query: only the arcs on some path to this target
            base = _target_arcs(q.tg, q.t, q.start.c0full, q.forbid, q.cap, q.hops)
        if base is None:
            return None
        s_ids, t_ids, costs, source, reached = base
        graph = f"refgraph_{uuid.uuid4().hex}"
        self._write(_Q["gds_project_arcs"], graph=graph, s=s_ids, t=t_ids, c=costs)
        if self.reuse_projections:
            kept[key] = (q.tg, graph, source, reached)
            while len(kept) > self._KEEP_PROJECTIONS:
                self._drop_graph(kept.pop(next(iter(kept)))[1])
        return graph, source, reached

    def _kept_projections(self) -> dict[Any, tuple[Any, str, int, np.ndarray]]:
        if not hasattr(self, "_kept"):
            self._kept: dict[Any, tuple[Any, str, int, np.ndarray]] = {}
        return self._kept

    def _graph_exists(self, graph: str) -> bool:
        try:
            return bool(self._read(_Q["gds_exists"], graph=graph)[0]["exists"])
        except BackendError:
            return False

    def _drop_graph(self, graph: str) -> None:
        try:
            self._write(_Q["gds_drop"], graph=graph)
        except BackendError:
            logger.warning("could not drop GDS projection %s", graph)

    def _drop_cached(self) -> None:
        """Drop every projection this backend keeps for ``intro_paths``."""
        kept = self._kept_projections()
        while kept:
            self._drop_graph(kept.pop(next(iter(kept)))[1])


def _apart(a: float, b: float, tol: float) -> bool:
    """Whether ``a`` is below ``b`` by more than ``tol`` (relative, at least absolute)."""
    return b - a > tol * max(1.0, abs(a), abs(b))


def _arc_cost(tg: Any, u: int, v: int) -> float:
    """``-log p`` of the relationship ``u - v``, as stored in the tie graph's row of ``u``."""
    lo, hi = int(tg.indptr[u]), int(tg.indptr[u + 1])
    j = lo + int(np.searchsorted(tg.indices[lo:hi], v))
    return float(tg.cost[j])


def _path_cost(tg: Any, rev: tuple[int, ...], c0full: np.ndarray, max_hops: int) -> float:
    """Cost of a target-first path, added up in the in-memory search's order.

    The backward search accumulates ``g`` from the target; the last hop adds
    ``(g + c) + c0`` except on a path of exactly ``max_hops`` hops, where it
    adds ``g + (c + c0)``. Same order, same floats.
    """
    g = 0.0
    for a, b in itertools.pairwise(rev[:-1]):
        g = g + _arc_cost(tg, a, b)
    c = _arc_cost(tg, rev[-2], rev[-1])
    c0 = float(c0full[rev[-1]])
    if len(rev) - 1 == max_hops:
        return g + (c + c0)
    return (g + c) + c0


def _usable_arcs(
    tg: Any, c0full: np.ndarray, forbid: np.ndarray, cap: float, skip_tail: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Usable sources and the tie arcs a path may take: ``(is_src, tails, heads, costs)``.

    Arcs into a source physician, into or out of a forbidden one, dearer than
    ``cap`` or (with ``skip_tail``) out of that physician are left out.
    """
    n = tg.n
    is_src = np.isfinite(c0full) & ~forbid
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.indptr))
    heads = tg.indices
    ok = ~forbid[tails] & ~forbid[heads] & ~np.isfinite(c0full[heads])
    if skip_tail is not None:
        ok &= tails != skip_tail
    if cap < math.inf:
        ok &= tg.cost <= cap
    return is_src, tails[ok], heads[ok].astype(np.int64), tg.cost[ok]


def _base_arcs(
    tg: Any, c0full: np.ndarray, forbid: np.ndarray, cap: float, hops: int
) -> tuple[list[int], list[int], list[float], int, np.ndarray] | None:
    """Arcs of the layered graph of :meth:`Neo4jBackend._intro_paths`, for any target.

    Node ``(v, r)`` has id ``r * n + v``; the virtual source ``S`` is
    ``(hops + 1) * n`` and physician ``v``'s sink ``T_v`` is ``S + 1 + v``.
    Arcs into a source physician, into or out of a forbidden one and dearer
    than ``cap`` are left out; so are nodes ``S`` cannot reach within the
    hop budget. Every reached ``(v, r)``, ``r >= 1``, has an arc of cost 0 to
    ``T_v``. Arcs out of the target are kept (a path through the target and
    back to it revisits a physician and is dropped), so nothing depends on
    the target and one projection serves every target. Returns source ids,
    target ids, costs, the id of ``S`` and which physicians have a sink arc
    (``None`` when no source is usable).
    """
    n = tg.n
    is_src, a_u, a_v, a_c = _usable_arcs(tg, c0full, forbid, cap)
    src_nodes = np.flatnonzero(is_src)
    if not len(src_nodes):
        return None
    source = (hops + 1) * n
    s_parts = [np.full(len(src_nodes), source, dtype=np.int64)]
    t_parts = [src_nodes.astype(np.int64)]
    c_parts = [c0full[src_nodes].astype("float64")]
    reach = is_src
    ever = np.zeros(n, dtype=bool)
    for r in range(1, hops + 1):
        m = reach[a_u]
        s_parts.append(a_u[m] + (r - 1) * n)
        t_parts.append(a_v[m] + r * n)
        c_parts.append(a_c[m])
        reach = np.zeros(n, dtype=bool)
        reach[a_v[m]] = True
        at = np.flatnonzero(reach).astype(np.int64)
        s_parts.append(at + r * n)
        t_parts.append(at + source + 1)
        c_parts.append(np.zeros(len(at)))
        ever |= reach
    return (
        np.concatenate(s_parts).tolist(),
        np.concatenate(t_parts).tolist(),
        np.concatenate(c_parts).astype("float64").tolist(),
        source,
        ever,
    )


def _target_arcs(
    tg: Any, t: int, c0full: np.ndarray, forbid: np.ndarray, cap: float, hops: int
) -> tuple[list[int], list[int], list[float], int, np.ndarray] | None:
    """The arcs of :func:`_base_arcs` that lie on a path of at most ``hops`` hops to ``t``.

    For a projection used by one query only (``reuse_projections = False``):
    pruned forward from the sources and backward from the target, with arcs
    out of the target left out (a path through the target earlier revisits
    it), so it holds only ``T_t``'s sink arcs. Same ids and return value as
    :func:`_base_arcs`; ``None`` when no path of at most ``hops`` hops exists.
    """
    n = tg.n
    is_src, a_u, a_v, a_c = _usable_arcs(tg, c0full, forbid, cap, skip_tail=t)
    reach = [is_src]  # forward: physicians S reaches in exactly r hops
    for _ in range(hops):
        nxt = np.zeros(n, dtype=bool)
        nxt[a_v[reach[-1][a_u]]] = True
        reach.append(nxt)
    is_t = np.zeros(n, dtype=bool)
    is_t[t] = True
    useful = [np.zeros(n, dtype=bool) for _ in range(hops + 1)]  # ... and reach t from there
    useful[hops] = reach[hops] & is_t
    for r in range(hops - 1, -1, -1):
        u = np.zeros(n, dtype=bool)
        u[a_u[useful[r + 1][a_v]]] = True
        useful[r] = reach[r] & (u | (is_t if r > 0 else False))
    src_nodes = np.flatnonzero(useful[0])
    if not len(src_nodes):
        return None
    source = (hops + 1) * n
    s_parts = [np.full(len(src_nodes), source, dtype=np.int64)]
    t_parts = [src_nodes.astype(np.int64)]
    c_parts = [c0full[src_nodes].astype("float64")]
    for r in range(1, hops + 1):
        m = useful[r - 1][a_u] & useful[r][a_v]
        s_parts.append(a_u[m] + (r - 1) * n)
        t_parts.append(a_v[m] + r * n)
        c_parts.append(a_c[m])
        if useful[r][t]:
            s_parts.append(np.array([r * n + t], dtype=np.int64))
            t_parts.append(np.array([source + 1 + t], dtype=np.int64))
            c_parts.append(np.zeros(1))
    return (
        np.concatenate(s_parts).tolist(),
        np.concatenate(t_parts).tolist(),
        np.concatenate(c_parts).astype("float64").tolist(),
        source,
        is_t.copy(),
    )
