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
        through another of my people). Nodes ``S`` cannot reach within the
        hop budget are pruned. Nothing in it depends on the target, so the
        projection is kept and serves the next query with the same arcs
        (see :meth:`_projection`). The ``S -> (target, r)`` paths that visit
        no physician twice are exactly the walks of ``r`` hops the in-memory
        search admits, with the same cost (one passing the target earlier
        visits it twice and is dropped). It is a DAG, so Yen's loopless paths
        are all its paths.

        Exactness. Yen runs once per layer ``(target, r)`` (one statement).
        A layer whose run returned fewer than ``K`` paths has no others;
        otherwise every path it did not return costs at least the dearest one
        it returned. Each admissible path's cost is recomputed in memory in
        the in-memory search's order of additions. If the ``k``-th cheapest
        costs less (beyond a tolerance) than the dearest of every layer with
        more paths, no unreturned path can enter the top ``k``; otherwise
        those layers' ``K`` grow (x4) up to a limit, then the query is
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
        n = q.tg.n
        base = _base_arcs(q.tg, q.start.c0full, q.forbid, q.cap, q.hops)
        if base is None:
            raise _no_path(net, target, q)
        s_ids, t_ids, costs, source = base
        ends = [r * n + q.t for r in range(1, q.hops + 1)]
        per_k = {e: (k + 1 if q.hops <= 3 else 2 * (k + 1)) for e in ends if e in set(t_ids)}
        if not per_k:
            raise _no_path(net, target, q)
        graph = self._projection(s_ids, t_ids, costs)
        try:
            found = self._yen_search(graph, source, per_k, q, k)
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
        self, graph: str, source: int, per_k: dict[int, int], q: Any, k: int
    ) -> list[tuple[float, tuple[int, ...]]] | None:
        """The cheapest admissible paths over all target layers, or ``None`` (compute in memory).

        One Yen run per layer ``(target, r)``, all in one statement. A layer
        whose run came back short is exhausted; otherwise every path it did
        not return costs at least its dearest returned one. The answer is
        final when the ``k``-th cheapest admissible path is cheaper (beyond
        the tie tolerance) than the dearest of every unexhausted layer; else
        those layers' ``K`` grow x4 up to a limit.
        """
        n = q.tg.n
        limit = self._YEN_MAX_FACTOR * (k + 1)
        while True:
            jobs = [
                {
                    "sourceNode": source,
                    "targetNode": e,
                    "k": kk,
                    "relationshipWeightProperty": "cost",
                }
                for e, kk in per_k.items()
            ]
            rows = self._read_values(_Q["gds_yens_many"], graph=graph, jobs=jobs)
            seen: set[tuple[int, ...]] = set()
            found: list[tuple[float, tuple[int, ...]]] = []
            dearest: dict[int, float] = {}
            got: dict[int, int] = dict.fromkeys(per_k, 0)
            for end, _, cost, ids in rows:
                got[int(end)] += 1
                dearest[int(end)] = max(dearest.get(int(end), -math.inf), float(cost))
                fwd = tuple(int(x) % n for x in ids[1:])
                if len(set(fwd)) != len(fwd) or fwd in seen:
                    continue  # revisits a physician (e.g. passes the target earlier)
                seen.add(fwd)
                rev = fwd[::-1]
                found.append((_path_cost(q.tg, rev, q.start.c0full, q.hops), rev))
            found.sort(key=lambda x: x[0])
            open_ = [e for e in per_k if got[e] >= per_k[e]]
            if not open_:
                return found
            if len(found) >= k and all(
                _apart(found[k - 1][0], dearest[e], self._TIE_TOL) for e in open_
            ):
                return found
            grow = [e for e in open_ if per_k[e] < limit]
            if not grow:
                logger.info("intro_paths: Yen k limit reached; computing in memory")
                return None
            per_k = {e: (min(per_k[e] * 4, limit) if e in grow else per_k[e]) for e in per_k}

    def _projection(self, s_ids: list[int], t_ids: list[int], costs: list[float]) -> str:
        """A GDS graph of these arcs: a kept one with the very same arcs, or a new one.

        Kept projections are identified by a SHA-1 of their arc arrays, so a
        projection is reused exactly when it would be rebuilt identical (same
        network tables, tie options, sources, exclusions, region,
        ``min_strength`` and ``max_hops``; any target). At most
        :attr:`_KEEP_PROJECTIONS` are kept (least recently used dropped);
        all are dropped by a write or delete through this backend and by
        :meth:`close`.
        """
        h = hashlib.sha1()
        for part, kind in ((s_ids, "int64"), (t_ids, "int64"), (costs, "float64")):
            h.update(np.asarray(part, dtype=kind).tobytes())
            h.update(b"|")
        key = h.hexdigest()
        kept = self._kept_projections()
        if self.reuse_projections and key in kept:
            graph = kept.pop(key)
            if self._graph_exists(graph):
                kept[key] = graph
                return graph
        graph = f"refgraph_{uuid.uuid4().hex}"
        self._write(_Q["gds_project_arcs"], graph=graph, s=s_ids, t=t_ids, c=costs)
        if self.reuse_projections:
            kept[key] = graph
            while len(kept) > self._KEEP_PROJECTIONS:
                self._drop_graph(kept.pop(next(iter(kept))))
        return graph

    def _kept_projections(self) -> dict[str, str]:
        if not hasattr(self, "_kept"):
            self._kept: dict[str, str] = {}
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
            self._drop_graph(kept.pop(next(iter(kept))))


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


def _base_arcs(
    tg: Any, c0full: np.ndarray, forbid: np.ndarray, cap: float, hops: int
) -> tuple[list[int], list[int], list[float], int] | None:
    """Arcs of the layered graph of :meth:`Neo4jBackend._intro_paths` for any target.

    Node ``(v, r)`` has id ``r * n + v``; the virtual source ``S`` is
    ``(hops + 1) * n``. Arcs into a source physician, into or out of a
    forbidden one and dearer than ``cap`` are left out; so are nodes ``S``
    cannot reach within the hop budget. Arcs out of the target are kept (a
    path through the target and back to it revisits a physician and is
    dropped), which makes the graph independent of the target, so one
    projection serves every target. Returns source ids, target ids, costs
    and the id of ``S`` (``None`` when no source is usable).
    """
    n = tg.n
    is_src = np.isfinite(c0full) & ~forbid
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.indptr))
    heads = tg.indices
    ok = ~forbid[tails] & ~forbid[heads] & ~np.isfinite(c0full[heads])
    if cap < math.inf:
        ok &= tg.cost <= cap
    a_u, a_v, a_c = tails[ok], heads[ok].astype(np.int64), tg.cost[ok]
    src_nodes = np.flatnonzero(is_src)
    if not len(src_nodes):
        return None
    source = (hops + 1) * n
    s_parts = [np.full(len(src_nodes), source, dtype=np.int64)]
    t_parts = [src_nodes.astype(np.int64)]
    c_parts = [c0full[src_nodes].astype("float64")]
    reach = is_src
    for r in range(1, hops + 1):
        m = reach[a_u]
        s_parts.append(a_u[m] + (r - 1) * n)
        t_parts.append(a_v[m] + r * n)
        c_parts.append(a_c[m])
        reach = np.zeros(n, dtype=bool)
        reach[a_v[m]] = True
    return (
        np.concatenate(s_parts).tolist(),
        np.concatenate(t_parts).tolist(),
        np.concatenate(c_parts).astype("float64").tolist(),
        source,
    )
