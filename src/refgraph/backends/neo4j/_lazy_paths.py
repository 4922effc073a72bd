"""``paths.intro_paths`` on a :class:`~refgraph.backends.neo4j.LazyNetwork`.

The query reads only what its paths can use, meeting in the middle: the
sources' tie ball of radius ``ceil(max_hops / 2)`` (read once per source set
and kept) and the target's of radius ``floor(max_hops / 2)``, each read as
the tie edges (flows and events either way, colleagues in practices of at
most 10, logged ties) of the ball's inner nodes, by index seeks per NPI.
Every edge of a walk of at most ``max_hops`` hops from a source to the
target touches a node within ``ceil(max_hops / 2) - 1`` steps of the sources
or ``floor(max_hops / 2) - 1`` of the target (the step at which the walk
leaves the first ball enters the second), so hop distances from both ends
computed on those edges are exact for every node ``u`` with
``d_S(u) + d_T(u) <= max_hops``: the nodes every such path uses. The query
then reads those physicians (plus the sources, the target and the holders
of the store's latest dates) with every flow, event and touchpoint among
them, and 11 members of each of their practices of more than 10 physicians
(as physicians only: so that a practice is large in the sub-network exactly
when it is in the store; a smaller one keeps just its members read), and
runs the ordinary in-memory :func:`refgraph.paths.intro_paths` (or
:func:`~refgraph.paths.best_introducers`) on that sub-network. A tie's
strength depends only on the pair's own rows, the two physicians' practices
(their system and kind) and coordinates, whether their practice is within
the colleague rule's size and the reference date (``as_of``, which
defaults to the store's latest date as it defaults to the network's in
memory): all read as stored, so the answer is the whole network's.

With ``max_hops <= 3`` the sources' kept ball reaches ``max_hops - 1`` steps,
and every physician on a path to a target other than that physician is within
``max_hops - 1`` steps of the sources; so for a target inside the ball, the
sub-network of the whole ball (read once, as above) holds every path. It is
kept with the ball until the store changes (:func:`_ball_network`), and a
query to a target in it sends only the store version check, then searches it
in memory like any network (its tie graph is built once and cached on it).
"""

from __future__ import annotations

import math
import re
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..._errors import ValidationError
from ..._params import MAX_HOPS, check_int
from ._lazy_read import sub_network, tie_edges
from ._schema import _Q

if TYPE_CHECKING:
    from ._lazy import LazyNetwork

#: An NPI named in a touchpoint's notes (the tie rule of :mod:`refgraph.paths`).
_NPI_TEXT = re.compile(r"(?<!\d)(\d{10})(?!\d)")
#: Sub-networks a lazy network keeps for ``intro_paths`` (least recently used dropped).
_KEEP = 2
#: The tie graph's colleague rule (refgraph.paths: practices of at most this many physicians).
_COLLEAGUES_MAX = 10
#: Private switch: read the sources' whole ``max_hops`` neighbourhood instead (the code
#: before the meet-in-the-middle reads; kept for the before/after benchmark).
_WHOLE_NEIGHBOURHOOD = False
#: Private switch: False restores the statements before they were merged (three per
#: tie-edge read, the general sub-network read, a store version check per kept value);
#: kept for the before/after benchmark.
_FEW_ROUND_TRIPS = True
#: The most physicians a kept ball network may hold (see :func:`_ball_network`); a larger
#: ball is not kept, and every query reads its own sub-network instead.
_BALL_NETWORK_MAX = 20_000
#: Private switch: False reads a sub-network per query for every target (the code before
#: the kept ball network; for the before/after benchmark and tests).
_KEEP_BALL_NETWORK = True
#: Private switch: False sends a query's store version check before its search instead of
#: beside it (:func:`lazy_intro_paths`; for the before/after benchmark and tests).
_OVERLAP_CHECK = True
#: Private switch: False sends a separate version check for a target outside the kept ball
#: too, instead of reading the store's change marker in the query's sub-network statement
#: (:func:`lazy_intro_paths`; for the before/after benchmark and tests).
_VERSION_IN_READ = True
#: Marks the peek (:func:`_answer`) reaching a target outside the kept ball network.
_OUTSIDE = "outside the kept ball"
#: Worker threads of the overlapped version checks and latest-date reads (made on first use).
_POOL: ThreadPoolExecutor | None = None


def _seeds(lazy: LazyNetwork, sources: Any, home: Any, check: bool = True) -> list[str]:
    """NPIs the search starts from, as :func:`refgraph.paths.resolve_sources` picks them
    (``check=False``: the caller has just checked the store version)."""
    if sources is not None:
        if isinstance(sources, str):
            return [sources]
        if isinstance(sources, Mapping):
            return [str(s) for s in sources]
        return [str(s) for s in sources]
    if home is not None:
        return [home] if isinstance(home, str) else [str(h) for h in home]
    got: list[str] = lazy._memoised(
        "touchpoint_npis",
        lambda: [str(r[0]) for r in lazy.db._read_values(_Q["lazy_touchpoint_npis"]) if r[0]],
        check=check,
    )
    return got


def _extra_pairs(lazy: LazyNetwork | None, ties: Any) -> list[tuple[str, str]]:
    """Tie pairs that are not stored flows or events: touchpoint notes (with ``lazy``)
    and the ``ties`` frame."""
    pairs = []
    rows = lazy.db._read_values(_Q["lazy_touchpoint_notes"]) if lazy is not None else []
    for npi, notes in rows:
        for other in _NPI_TEXT.findall(str(notes)):
            pairs.append((str(npi), other))
    if isinstance(ties, pd.DataFrame):
        cols = ("npi_a", "npi_b") if "npi_a" in ties.columns else ("source_npi", "target_npi")
        if set(cols) <= set(ties.columns):
            pairs += list(zip(ties[cols[0]].astype(str), ties[cols[1]].astype(str)))
    return pairs


def _edges(lazy: LazyNetwork, ids: list[str], adj: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The tie edges ``(id, partner)`` of ``ids`` (stored kinds by index seeks, plus ``adj``)."""
    if not ids:
        return []
    if _FEW_ROUND_TRIPS:
        out = [(a, b) for a, b in tie_edges(lazy, ids, _COLLEAGUES_MAX) if a != b]
        return out + [(u, v) for u in ids for v in adj.get(u, ()) if v != u]
    rows = lazy.db._read_values(_Q["lazy_flow_edges"], ids=ids, what="tie edges")
    rows += lazy.db._read_values(_Q["lazy_event_edges"], ids=ids)
    rows += lazy.db._read_values(_Q["lazy_colleague_edges"], ids=ids, colleagues=_COLLEAGUES_MAX)
    out = [(str(a), str(b)) for a, b in rows if b is not None and str(a) != str(b)]
    out += [(u, v) for u in ids for v in adj.get(u, ()) if v != u]
    return out


def _ball(
    lazy: LazyNetwork, seeds: list[str], radius: int, adj: dict[str, set[str]]
) -> list[tuple[str, str]]:
    """The tie edges of the nodes nearer than ``radius`` to ``seeds`` (the ones read to
    find the ball of that radius)."""
    seen = set(seeds)
    frontier = sorted(seen)
    edges: list[tuple[str, str]] = []
    for _ in range(radius):
        got = _edges(lazy, frontier, adj)
        edges += got
        frontier = sorted({v for _, v in got} - seen)
        seen.update(frontier)
    return edges


def _bfs(adj: dict[str, set[str]], seeds: list[str], limit: int) -> dict[str, int]:
    """Hop distances from ``seeds`` up to ``limit`` on ``adj``."""
    dist = dict.fromkeys(seeds, 0)
    todo = deque(seeds)
    while todo:
        u = todo.popleft()
        if dist[u] >= limit:
            continue
        for v in adj.get(u, ()):
            if v not in dist:
                dist[v] = dist[u] + 1
                todo.append(v)
    return dist


def _adjacency(edges: Any) -> dict[str, set[str]]:
    """Undirected adjacency sets of ``(a, b)`` edges."""
    adj: dict[str, set[str]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    return adj


def _source_side(
    lazy: LazyNetwork, start: list[str], hops: int, extra: list[tuple[str, str]], logged: Any
) -> tuple[dict[str, set[str]], dict[str, int]]:
    """The sources' ball as adjacency sets and its hop distances from the sources (up to
    ``hops``), read and computed once per source set and kept for the next queries."""
    memo = lazy._memoised("intro_balls", dict, check=not _FEW_ROUND_TRIPS)
    key = (tuple(start), math.ceil(hops / 2), hops, tuple(sorted(extra)))
    if key not in memo:
        while len(memo) >= _KEEP:
            memo.pop(next(iter(memo)))
        adj = _adjacency(_ball(lazy, start, math.ceil(hops / 2), logged))
        memo[key] = (adj, _bfs(adj, start, hops))
    got: tuple[dict[str, set[str]], dict[str, int]] = memo[key]
    return got


def _ball_network(
    lazy: LazyNetwork,
    start: list[str],
    hops: int,
    extra: list[tuple[str, str]],
    latest: Callable[[], set[str]],
    peek: bool = False,
) -> tuple[Any, frozenset[str], frozenset[str]] | None:
    """The sub-network of the sources' ball of radius ``hops - 1``, that ball and the
    sub-network's NPIs, kept.

    Every physician on a walk of at most ``hops`` hops from a source to a
    target ``t`` other than that physician is within ``hops - 1`` steps of
    the sources, so for a target inside the ball the ball's sub-network
    (every flow, event and touchpoint among its physicians, the holders of
    the latest dates, ``latest()``, and 11 members of each large practice as in
    :func:`lazy_intro_paths`) holds every path the query can find, with the
    tie strengths of the whole network. It is read once per source set and
    kept (with its tie graph, which the in-memory search caches on it) until
    the store changes, so that a query on it sends only the version check.
    Kept only when ``hops - 1 <= ceil(hops / 2)`` (the kept ball's radius,
    ``hops <= 3``) and the ball holds at most ``_BALL_NETWORK_MAX`` physicians;
    ``None`` otherwise.
    """
    if not _KEEP_BALL_NETWORK or hops - 1 > math.ceil(hops / 2):
        return None
    memo = _kept(lazy, "intro_ball_networks", dict, False, peek)
    key = (tuple(start), hops, tuple(sorted(extra)))
    if key not in memo and peek:
        raise _NotKept("intro_ball_networks")
    if key not in memo:
        while len(memo) >= _KEEP:
            memo.pop(next(iter(memo)))
        _, dist = _source_side(lazy, start, hops, extra, _adjacency(extra))
        ball = frozenset(u for u, d in dist.items() if d <= hops - 1)
        kept = None
        if len(ball) <= _BALL_NETWORK_MAX:
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message="the selection keeps", category=UserWarning
                )
                sub = sub_network(lazy, sorted(ball | latest()), _COLLEAGUES_MAX + 1)
            sub.backend = None  # searched in memory (see lazy_intro_paths)
            kept = (sub, ball, frozenset(str(x) for x in sub.npis))
        memo[key] = kept
    got: tuple[Any, frozenset[str], frozenset[str]] | None = memo[key]
    return got


def _meet(
    lazy: LazyNetwork, seeds: list[str], target: str, hops: int, extra: list[tuple[str, str]]
) -> set[str]:
    """The physicians ``u`` with ``d_S(u) + d_T(u) <= hops`` (see the module notes).

    Hop distances are taken on the union of the sources' ball (kept with its
    distances from the sources) and the target's: the kept distances are
    corrected through the target's edges (a queue of decreases, exact for unit
    steps), so a query costs the target's side, not the sources'.
    """
    logged = _adjacency(extra)
    start = sorted(set(seeds))
    adj_s, d_s0 = _source_side(lazy, start, hops, extra, logged)
    adj_t = _adjacency(_ball(lazy, [target], hops // 2, logged))
    none: set[str] = set()

    def nbrs(u: str) -> set[str]:
        a, b = adj_s.get(u, none), adj_t.get(u)
        return a if b is None else a | b

    d_s = dict(d_s0)
    todo = deque(u for u in adj_t if u in d_s)
    while todo:
        u = todo.popleft()
        du = d_s[u]
        if du >= hops:
            continue
        for v in nbrs(u):
            if du + 1 < d_s.get(v, hops + 1):
                d_s[v] = du + 1
                todo.append(v)
    d_t = {target: 0}
    todo = deque([target])
    while todo:
        u = todo.popleft()
        if d_t[u] >= hops:
            continue
        for v in nbrs(u):
            if v not in d_t:
                d_t[v] = d_t[u] + 1
                todo.append(v)
    near = {u for u, d in d_t.items() if d + d_s.get(u, hops + 1) <= hops}
    own = nbrs(target)
    if not near & own:
        # keep one of the target's ties, if it has any, so that the "no path" message
        # tells, as in memory, whether it has relationships at all
        own = own or {v for _, v in _edges(lazy, [target], logged)}
        near |= set(sorted(own)[:1])
    return near


def _query_network(
    lazy: LazyNetwork,
    ids: list[str],
    members: int,
    check: bool,
    version: dict[str, str] | None = None,
) -> Any:
    """The sub-network of one query's physicians ``ids`` (the last ``_KEEP`` kept);
    ``version``: see :func:`~._lazy_read.sub_network`."""
    subs = lazy._memoised("intro_networks", dict, check=check)
    sub_key = (tuple(ids), members)
    sub = subs.pop(sub_key, None)
    if sub is None:
        with warnings.catch_warnings():
            # a neighbourhood without flows is an answer here ("no path"), not a mistake
            warnings.filterwarnings("ignore", message="the selection keeps", category=UserWarning)
            if _FEW_ROUND_TRIPS:
                sub = sub_network(lazy, ids, members, version)
            else:
                sub = lazy.db.read(around=ids, hops=0)
        # The sub-network is in memory now: search it there (a GDS round trip per
        # query would cost more than the search; the answer is the same).
        sub.backend = None
    subs[sub_key] = sub
    while len(subs) > _KEEP:
        subs.pop(next(iter(subs)))
    return sub


def lazy_intro_paths(lazy: LazyNetwork, introducers: bool = False, **options: Any) -> Any:
    """:func:`refgraph.paths.intro_paths` for a lazy network (options as there);
    :func:`refgraph.paths.best_introducers` with ``introducers``.

    Both search the paths of at most ``max_hops`` hops from the sources to the
    target (one ranks them, the other keeps each introducer's best), so both
    find them on the same sub-network.

    Once the store version has been read (after the first query), the version
    check of a query is sent from a worker thread while the query is answered
    from the kept values (when it can be without reading); the answer is
    returned only if the version read is the one those values belong to,
    otherwise the query runs again on current values. The check's round trip
    then overlaps the search instead of preceding it, and the answer is the one
    a check-first query would give (``_OVERLAP_CHECK`` switches this off).
    """
    target = options.get("target")
    if not isinstance(target, str):
        raise ValidationError(f"target: expected an NPI string, got {target!r}")
    hops = check_int(options.get("max_hops", 3), "max_hops", minimum=1, maximum=MAX_HOPS)
    if not _FEW_ROUND_TRIPS:
        return _answer(lazy, introducers, options, target, hops, check=True)
    if not _OVERLAP_CHECK or lazy._version is None:
        lazy._check_version()  # once for the query: the kept values below are current
        return _answer(lazy, introducers, options, target, hops, check=False)
    if _VERSION_IN_READ and _where(lazy, introducers, options, target, hops) == _OUTSIDE:
        return _outside(lazy, introducers, options, target, hops)
    pending = _version_soon(lazy)
    failed: BaseException | None = None
    try:
        answer = _answer(lazy, introducers, options, target, hops, check=False, peek=True)
    except Exception as exc:  # _NotKept, or e.g. NoPathError: the answer if values are current
        failed = exc
    version = pending.result()  # the store's version at (or after) the query's start
    if version == lazy._version and not isinstance(failed, _NotKept):
        if failed is not None:
            raise failed
        return answer
    lazy._check_version(version)  # adopt it (dropping what the store's change made stale)
    return _answer(lazy, introducers, options, target, hops, check=False)


def _where(
    lazy: LazyNetwork, introducers: bool, options: dict[str, Any], target: str, hops: int
) -> str:
    """Where a peek at kept values leads: ``_OUTSIDE`` when the sources' values are kept
    and the target is outside their kept ball network (or none is kept for them), else
    ``""``."""
    try:
        _answer(lazy, introducers, options, target, hops, check=False, peek=True, locate=True)
    except _NotKept as exc:
        return _OUTSIDE if exc.args and exc.args[0] == _OUTSIDE else ""
    return ""


def _outside(
    lazy: LazyNetwork, introducers: bool, options: dict[str, Any], target: str, hops: int
) -> Any:
    """A query to a target outside the kept ball, with no separate version check.

    Its reads (the target's tie edges, then the sub-network) run on the kept values,
    and the sub-network's statement reads the store's change marker last. If the
    marker is the kept one, the store did not change from when the kept values were
    read until after the query's last read, so the answer (or "no path") is the one a
    check-first query would give; otherwise everything kept is dropped and the query
    runs again on current values. (A query whose sub-network was kept sends the check
    after its reads instead.)
    """
    version: dict[str, str] = {}
    failed: BaseException | None = None
    answer = None
    try:
        answer = _answer(lazy, introducers, options, target, hops, check=False, version=version)
    except Exception as exc:  # e.g. NoPathError: the answer if the kept values were current
        failed = exc
    current = version.get("version")
    if current is None:
        current = lazy._store_version()
    if current == lazy._version:
        if failed is not None:
            raise failed
        return answer
    lazy._check_version(current)  # adopt it (dropping what the store's change made stale)
    return _answer(lazy, introducers, options, target, hops, check=False)


class _NotKept(Exception):
    """Raised in a peek (:func:`_answer` with ``peek``) at the first value that is not kept."""


def _kept(lazy: LazyNetwork, key: str, compute: Any, check: bool, peek: bool) -> Any:
    """``lazy._memoised(key, compute, check=check)``; with ``peek``, never computed."""
    if peek and key not in lazy._memo:
        raise _NotKept(key)
    return lazy._memoised(key, compute, check=check)


def _pool() -> ThreadPoolExecutor:
    """The worker threads of overlapped reads (the driver is thread-safe)."""
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="refgraph-version")
    return _POOL


def _version_soon(lazy: LazyNetwork) -> Future[str]:
    """The store version, read by a worker thread."""
    return _pool().submit(lazy._store_version)


def _answer(
    lazy: LazyNetwork,
    introducers: bool,
    options: dict[str, Any],
    target: str,
    hops: int,
    *,
    check: bool,
    peek: bool = False,
    locate: bool = False,
    version: dict[str, str] | None = None,
) -> Any:
    """The query on current values (``check=False``: the caller has checked the store
    version); with ``peek``, on kept values only, raising :class:`_NotKept` where it
    would read (``_NotKept(_OUTSIDE)`` for a target outside the kept ball network);
    ``locate``: return None before the search; ``version``: the sub-network read also
    reads the store's change marker into it."""
    from ...paths import best_introducers, intro_paths

    sources, home = options.get("sources"), options.get("home")
    if peek and sources is None and home is None and "touchpoint_npis" not in lazy._memo:
        raise _NotKept("touchpoint_npis")
    seeds = _seeds(lazy, sources, home, check)
    _kept(lazy, "index_check", lazy._warn_missing_indexes, False, peek)
    notes = _kept(lazy, "touchpoint_notes", lambda: _extra_pairs(lazy, None), check, peek)
    extra = notes + _extra_pairs(None, options.get("ties"))
    comp = options.get("exclude_competitors_of")
    also = [target] + ([str(comp)] if comp is not None and str(comp).isdigit() else [])
    sub = None
    if _WHOLE_NEIGHBOURHOOD:
        if peek:
            raise _NotKept("intro_neighbourhoods")
        memo = lazy._memoised("intro_neighbourhoods", dict)
        key = (tuple(sorted(set(seeds))), hops, tuple(sorted(extra)))
        if key not in memo:
            memo[key] = lazy.neighbourhood(seeds, hops, extra_pairs=extra)
        near = set(memo[key])
        if target not in near:
            # Unreachable within max_hops; read its own ties too, so that the "no path"
            # message tells, as in memory, whether it has relationships at all.
            near |= set(lazy.neighbourhood([target], 1))
        ids, members = sorted(near.union(also)), 0
    else:
        # with the holders of the store's latest dates, the sub-network's latest date is
        # the store's (the hop explanations say "the data's last date" as in memory); when
        # they are not kept, their statement (a pass over every flow) runs in a worker
        # thread while the ball's tie edges are read, and is waited for where it is needed
        pending = None
        if not peek and not check and _FEW_ROUND_TRIPS and "latest" not in lazy._memo:
            pending = _pool().submit(lazy._read_latest)

        def latest() -> set[str]:
            if pending is not None and "latest" not in lazy._memo:
                lazy._memo["latest"] = pending.result()  # read after the version check
            return set(_kept(lazy, "latest", lazy._read_latest, check, peek)[0])

        kept = None
        try:
            if _FEW_ROUND_TRIPS:
                kept = _ball_network(lazy, sorted(set(seeds)), hops, extra, latest, peek)
            if kept is not None and target in kept[1] and kept[2].issuperset(also):
                sub = kept[0]  # the target is in the kept ball: its network has every path
            elif peek:
                raise _NotKept(_OUTSIDE)
            else:
                near = _meet(lazy, seeds, target, hops, extra) | set(seeds) | set(also)
                near |= latest()
                if _FEW_ROUND_TRIPS:  # the members are read with the sub-network's statement
                    ids, members = sorted(near), _COLLEAGUES_MAX + 1
                else:
                    rows = lazy.db._read_values(
                        _Q["lazy_some_practice_members"],
                        ids=sorted(near),
                        limit=_COLLEAGUES_MAX + 1,
                    )
                    ids, members = sorted(near | {str(r[0]) for r in rows if r[0] is not None}), 0
        finally:
            if pending is not None and "latest" not in lazy._memo:
                pending.cancel()  # not needed after all (or the query failed): not kept
    if locate:
        return None
    if sub is None:
        sub = _query_network(lazy, ids, members, check, version)
    opts = dict(options)
    if opts.get("as_of") is None:
        if peek and "latest" not in lazy._memo:
            raise _NotKept("latest")
        opts["as_of"] = lazy._max_date(check=check)
    return (best_introducers if introducers else intro_paths)(sub, **opts)
