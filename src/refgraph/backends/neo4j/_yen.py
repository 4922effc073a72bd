"""``paths.intro_paths`` pushed down to Neo4j: the k cheapest paths by GDS Yen."""

from __future__ import annotations

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
        through another of my people) or ``u`` is the target; every
        ``(target, r)`` has an arc of cost 0 to a virtual sink ``T``. The
        ``S -> T`` paths are then exactly the walks of at most ``max_hops``
        hops that the in-memory search admits, with the same cost; nodes that
        cannot be on such a walk (not reachable from ``S`` or not reaching
        ``T`` within the hop budget) are pruned. It is a DAG, so Yen's
        loopless paths are all its paths.

        Exactness. Yen returns the ``K`` cheapest ``S -> T`` paths; every path
        it did not return costs at least the dearest one it returned, ``L``
        (or there is none when fewer than ``K`` came back). Walks that revisit
        a physician are dropped (impossible for ``max_hops <= 3``: the
        intermediates are neither sources nor the target, and consecutive
        ones differ). Each remaining path's cost is recomputed in memory in
        the in-memory search's order of additions. If the ``k``-th cheapest
        costs less than ``L`` (minus a tolerance), no unreturned path can
        enter the top ``k``; otherwise ``K`` grows (x4) up to a limit, then
        the query is computed in memory. Paths whose costs are tied (within
        the tolerance) among the first ``k + 1`` are ordered by the in-memory
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
        prep: dict[str, Any] = {
            "sources": None,
            "home": None,
            "max_hops": 3,
            "exclude": (),
            "exclude_competitors_of": None,
            "region": None,
            "min_strength": 0.0,
            "weights": None,
            "half_life_days": 180.0,
            "as_of": None,
            "ties": None,
        }
        prep.update({key: v for key, v in options.items() if key in prep})
        q = _prepare(net, target, **prep)
        arcs = _layered_arcs(q.tg, q.t, q.start.c0full, q.forbid, q.cap, q.hops)
        if arcs is None:
            raise _no_path(net, target, q)
        s_ids, t_ids, costs, source, sink = arcs
        graph = f"refgraph_{uuid.uuid4().hex}"
        n = q.tg.n
        yen_k = k + 1 if q.hops <= 3 else 2 * (k + 1)
        try:
            self._write(_Q["gds_project_arcs"], graph=graph, s=s_ids, t=t_ids, c=costs)
            while True:
                rows = self._read_values(
                    _Q["gds_yens"],
                    graph=graph,
                    config={
                        "sourceNode": source,
                        "targetNode": sink,
                        "k": yen_k,
                        "relationshipWeightProperty": "cost",
                    },
                )
                seen: set[tuple[int, ...]] = set()
                found: list[tuple[float, tuple[int, ...]]] = []
                for _, _, ids in rows:
                    fwd = tuple(int(x) % n for x in ids[1:-1])
                    if len(set(fwd)) != len(fwd) or fwd in seen:
                        continue
                    seen.add(fwd)
                    rev = fwd[::-1]
                    found.append((_path_cost(q.tg, rev, q.start.c0full, q.hops), rev))
                found.sort(key=lambda x: x[0])
                exhausted = len(rows) < yen_k
                dearest = max((float(r[1]) for r in rows), default=math.inf)
                if exhausted:
                    break
                if len(found) >= k:
                    if not _apart(found[k - 1][0], dearest, self._TIE_TOL):
                        logger.info("intro_paths: tie at the k-th path; computing in memory")
                        return None
                    break
                if yen_k >= self._YEN_MAX_FACTOR * (k + 1):
                    logger.info("intro_paths: Yen k limit reached; computing in memory")
                    return None
                yen_k *= 4
        finally:
            try:
                self._write(_Q["gds_drop"], graph=graph)
            except BackendError:
                logger.warning("could not drop GDS projection %s", graph)
        head = found[: k + 1]
        for (c1, _), (c2, _) in itertools.pairwise(head):
            if not _apart(c1, c2, self._TIE_TOL):
                logger.info("intro_paths: equal-cost paths; computing in memory")
                return None
        if not found:
            raise _no_path(net, target, q)
        return _build_result(net, q.tg, str(target), found[:k], q.constraints)


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


def _layered_arcs(
    tg: Any, t: int, c0full: np.ndarray, forbid: np.ndarray, cap: float, hops: int
) -> tuple[list[int], list[int], list[float], int, int] | None:
    """Arcs of the layered graph of :meth:`Neo4jBackend._intro_paths` (``None``: no path).

    Returns source ids, target ids, costs, and the ids of ``S`` and ``T``.
    """
    n = tg.n
    is_src = np.isfinite(c0full) & ~forbid
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.indptr))
    heads = tg.indices
    ok = ~forbid[tails] & ~forbid[heads] & ~np.isfinite(c0full[heads]) & (tails != t)
    if cap < math.inf:
        ok &= tg.cost <= cap
    a_u, a_v, a_c = tails[ok], heads[ok], tg.cost[ok]
    # forward: F[r] = physicians reachable from S in exactly r hops
    reach = [is_src]
    for _ in range(hops):
        nxt = np.zeros(n, dtype=bool)
        nxt[a_v[reach[-1][a_u]]] = True
        reach.append(nxt)
    # backward: U[r] = physicians in F[r] that reach the target within hops - r more hops
    useful: list[np.ndarray] = [np.zeros(n, dtype=bool) for _ in range(hops + 1)]
    is_t = np.zeros(n, dtype=bool)
    is_t[t] = True
    useful[hops] = reach[hops] & is_t
    for r in range(hops - 1, -1, -1):
        u = np.zeros(n, dtype=bool)
        u[a_u[useful[r + 1][a_v]]] = True
        useful[r] = reach[r] & (u | (is_t if r > 0 else False))
    src_nodes = np.flatnonzero(useful[0])
    if not len(src_nodes):
        return None
    source, sink = (hops + 1) * n, (hops + 1) * n + 1
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
            t_parts.append(np.array([sink], dtype=np.int64))
            c_parts.append(np.zeros(1))
    return (
        np.concatenate(s_parts).tolist(),
        np.concatenate(t_parts).tolist(),
        np.concatenate(c_parts).tolist(),
        source,
        sink,
    )
