"""Warm-introduction paths: who can introduce me to Dr. X, by which path, and why.

Relationships get a strength ``p`` in [0, 1] (:func:`tie_strength`, the
probability that the tie would carry an introduction). A path from one of
*my people* to the target succeeds with probability ``w(source) * prod(p)``
(hops independent), so the most probable paths are the shortest paths under
the cost ``-log p``. :func:`intro_paths` returns the ``k`` most probable
simple paths of at most ``max_hops`` hops, each hop explained in words and
numbers; :func:`best_introducers` ranks the physicians who would make the
final introduction, and :func:`intro_plan` chooses whom to ask for a whole
target list.

Search. Warm paths are short, so instead of Yen's algorithm (``k`` Dijkstra
runs per spur node, on the whole graph) the search is a best-first (A*)
enumeration of simple paths *backwards from the target* on a CSR array view
with precomputed ``-log p``. The heuristic is ``G_r(v)``, the exact least
cost from my people to ``v`` within ``r`` hops, computed once per source set
by ``max_hops - 1`` vectorised min-plus passes over the edge arrays and
cached. ``G_r`` relaxes the simplicity and exclusion constraints, so it
never overestimates (it is admissible), and a tree search with an
admissible heuristic pops complete paths in non-decreasing cost: the first
``k`` complete paths popped are exactly the ``k`` best (Hart, Nilsson and
Raphael 1968; for k-best enumeration see Eppstein 1998). Partial paths are
also pruned once ``k`` complete paths cheaper than them are known. The
result is exact for any ``max_hops``; its work grows with the branching
below the ``k``-th best cost, which is small for ``max_hops <= 4``.
Exactness is tested against networkx ``shortest_simple_paths`` (Yen 1971)
on ``-log p`` with a hop filter.

References
----------
.. [1] Hart, P. E., Nilsson, N. J., Raphael, B. (1968). A formal basis for the
   heuristic determination of minimum cost paths. IEEE Trans. SSC 4(2).
.. [2] Yen, J. Y. (1971). Finding the k shortest loopless paths in a network.
   Management Science 17(11).
.. [3] Nemhauser, G. L., Wolsey, L. A., Fisher, M. L. (1978). An analysis of
   approximations for maximizing submodular set functions I. Math. Prog. 14.
.. [4] Fisher, M. L., Nemhauser, G. L., Wolsey, L. A. (1978). An analysis of
   approximations for maximizing submodular set functions II. Math. Prog. Study 8.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from ._distance import haversine_km
from ._errors import NoPathError, NotFoundError, ValidationError
from ._tie_strength import (
    FACTORS,
    TieFit,
    TieWeights,
    _tie_core,
    fit_tie_strength,
    tie_strength,
)

logger = logging.getLogger(__name__)

__all__ = [
    "FACTORS",
    "IntroPaths",
    "IntroPlan",
    "TieFit",
    "TieWeights",
    "best_introducers",
    "cmd_intro",
    "fit_tie_strength",
    "intro_paths",
    "intro_plan",
    "tie_strength",
]

_CACHE = "refgraph.paths"


# ---------------------------------------------------------------------------- tie graph
@dataclass(frozen=True)
class _TieGraph:
    """Undirected CSR of relationships: cost = -log(strength), both directions stored."""

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    cost: np.ndarray
    strength: np.ndarray
    eid: np.ndarray
    ties: pd.DataFrame
    key: Any

    def edge(self, u: int, v: int) -> int:
        """Row of the tie table for the relationship ``u - v``."""
        lo, hi = int(self.indptr[u]), int(self.indptr[u + 1])
        j = lo + int(np.searchsorted(self.indices[lo:hi], v))
        return int(self.eid[j])

    def neighbours(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = int(self.indptr[u]), int(self.indptr[u + 1])
        return self.indices[lo:hi], self.strength[lo:hi]


def _tie_graph(
    net: Any,
    *,
    weights: Any = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
    colleagues_max_size: int = 10,
) -> _TieGraph:
    w = TieWeights.from_any(weights)
    key = None
    if ties is None:
        key = (_CACHE, "graph", w, float(half_life_days), str(as_of), int(colleagues_max_size))
        hit = net._cache.get(key)
        if hit is not None:
            return hit
    ts, a, b = _tie_core(
        net,
        w,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
        colleagues_max_size=colleagues_max_size,
        with_npis=False,
    )
    n = net.n_physicians
    s = np.clip(ts["strength"].to_numpy("float64"), 1e-300, 1.0)
    e = np.arange(len(ts))
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    order = np.argsort(rows * np.int64(max(n, 1)) + cols)
    rows, cols = rows[order], cols[order]
    eid = np.concatenate([e, e])[order]
    strength = np.concatenate([s, s])[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    tg = _TieGraph(
        n=n,
        indptr=indptr,
        indices=cols.astype(np.int64),
        cost=-np.log(strength),
        strength=strength,
        eid=eid,
        ties=ts,
        key=key,
    )
    if key is not None:
        net._cache[key] = tg
    return tg


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
        lru = net._cache.setdefault((_CACHE, "layers"), OrderedDict())
        if ck in lru:
            lru.move_to_end(ck)
            return lru[ck]
    n = tg.n
    g = np.full(n, np.inf)
    g[src] = c0
    out = [g]
    starts = tg.indptr[:-1]
    nonempty = np.flatnonzero(np.diff(tg.indptr) > 0)
    for _ in range(1, hops):
        vals = g[tg.indices] + tg.cost
        best = np.full(n, np.inf)
        if len(nonempty):
            best[nonempty] = np.minimum.reduceat(vals, starts[nonempty])
        g = np.minimum(g, best)
        g[src] = c0
        out.append(g)
    c0full = np.full(n, np.inf)
    c0full[src] = c0
    pos = np.flatnonzero(np.isfinite(c0full[tg.indices]))
    rows = np.searchsorted(tg.indptr, pos, side="right") - 1
    nodes = tg.indices[pos]
    edge = tg.cost[pos]
    total = edge + c0full[nodes]
    order = np.lexsort((total, rows))
    s_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=s_indptr[1:])
    res = _Start(out, s_indptr, nodes[order], edge[order], total[order], c0full)
    if ck is not None:
        lru[ck] = res
        while len(lru) > 8:
            lru.popitem(last=False)
    return res


# ---------------------------------------------------------------------------- constraints
def region_mask(net: Any, region: Any) -> np.ndarray:
    """Boolean mask over ``net.physicians`` rows of a region specification.

    Parameters
    ----------
    net
        The network.
    region
        ``None`` (everywhere); an iterable of ZIP codes; a ``(lat, lon, km)``
        circle; a mapping ``{column: value or values}`` of physician columns
        (e.g. ``{"city": 2}`` or ``{"npi": [...]}``); or a boolean Series
        indexed by NPI.

    Returns
    -------
    numpy.ndarray
        ``True`` for physicians inside the region.

    Examples
    --------
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051"], "zip": ["02139", "10001"],
    ...                      "lat": [42.36, 40.75], "lon": [-71.10, -73.99]})
    >>> net = ReferralNetwork.from_frames(physicians=phys)
    >>> region_mask(net, ["02139"]).tolist(), region_mask(net, (42.3, -71.0, 30)).tolist()
    ([True, False], [True, False])
    """
    phys = net.physicians
    n = len(phys)
    if region is None:
        return np.ones(n, dtype=bool)
    if isinstance(region, pd.Series) and region.dtype == bool:
        return np.array(region.reindex(net.npis, fill_value=False).to_numpy(bool))
    if isinstance(region, Mapping):
        m = np.ones(n, dtype=bool)
        for col, val in region.items():
            if col not in phys.columns:
                raise ValidationError(
                    f"region: physicians have no column {col!r}; columns are {list(phys.columns)}"
                )
            vals = (
                list(val) if isinstance(val, (list, tuple, set, frozenset, np.ndarray)) else [val]
            )
            m &= np.array(phys[col].isin(vals).fillna(False).to_numpy(bool))
        return m
    if isinstance(region, tuple) and len(region) == 3 and all(isinstance(x, Real) for x in region):
        lat, lon, km = (float(x) for x in region)
        if km < 0:
            raise ValidationError(f"region: radius must be >= 0 km, got {km}")
        d = haversine_km(
            lat,
            lon,
            phys["lat"].to_numpy("float64", na_value=np.nan),
            phys["lon"].to_numpy("float64", na_value=np.nan),
        )
        return np.array(np.nan_to_num(d, nan=np.inf) <= km)
    if isinstance(region, Iterable) and not isinstance(region, (str, bytes)):
        zips = [str(z).zfill(5) for z in region]
        return np.array(phys["zip"].isin(zips).fillna(False).to_numpy(bool))
    raise ValidationError(
        "region: expected None, ZIP codes, a (lat, lon, km) circle, a {column: values} "
        f"mapping or a boolean Series by NPI; got {region!r}"
    )


def _describe_region(region: Any) -> str:
    if isinstance(region, pd.Series):
        return f"region=<{int(region.sum())} physicians>"
    text = repr(region)
    return "region=" + (text if len(text) <= 60 else text[:57] + "...")


def _competitor_mask(net: Any, who: str) -> tuple[np.ndarray, str]:
    from .specialties import competing

    phys = net.physicians
    spec = who
    hit = phys.loc[phys["npi"] == who, "specialty"]
    if len(hit):
        spec = hit.iloc[0]
        if pd.isna(spec):
            raise ValidationError(
                f"exclude_competitors_of: physician {who} has no specialty to compare with"
            )
    comp = competing(str(spec))
    return np.array(phys["specialty"].isin(comp).fillna(False).to_numpy(bool)), comp[0]


def _node(net: Any, npi: Any, what: str) -> int:
    i = int(net.npis.get_indexer(pd.Index([str(npi)]))[0])
    if i < 0:
        raise NotFoundError(f"{what}: {npi!r} is not a physician of this network")
    return i


def resolve_sources(
    net: Any, sources: Iterable[str] | Mapping[str, float] | None, home: Any = None
) -> tuple[np.ndarray, np.ndarray]:
    """Node ids and start costs ``-log w`` of my people.

    ``sources`` may map NPIs to a probability that my ask reaches them
    (default 1). Without ``sources``: the ``home`` physicians (my practice)
    when given, else every physician with a logged touchpoint (my team's
    existing contacts).
    """
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
    ids = np.asarray(net.npis.get_indexer(pd.Index([npi for npi, _ in items], dtype="string")))
    if (ids < 0).any():
        missing = [items[i][0] for i in np.flatnonzero(ids < 0)[:3]]
        raise NotFoundError(f"sources: {missing} not physicians of this network")
    order = np.lexsort((-ws, ids))
    ids, ws = ids[order], ws[order]
    first = np.r_[True, ids[1:] != ids[:-1]]
    return ids[first].astype(np.int64), -np.log(ws[first])


# ---------------------------------------------------------------------------- kernel
def _search(
    tg: _TieGraph,
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
    heap: list[tuple[float, int, float, tuple[int, ...], bool]] = []
    counter = itertools.count()
    results: list[tuple[float, tuple[int, ...]]] = []
    top: list[float] = []  # max-heap (negated) of the k cheapest complete costs pushed
    intro_best: dict[int, float] = {}
    done: set[int] = set()
    bound = math.inf

    def push_complete(fc: float, path: tuple[int, ...]) -> None:
        nonlocal bound
        heapq.heappush(heap, (fc, next(counter), fc, path, True))
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
                heapq.heappush(heap, (fu, next(counter), g + cu, (*path, u), False))

    expand(t, 0.0, (t,))
    while heap and len(results) < k:
        fv, _, g, path, complete = heapq.heappop(heap)
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


# ---------------------------------------------------------------------------- explain
def _ago(days: float) -> str:
    if np.isnan(days):
        return "date unknown"
    d = round(days)
    if d < 1:
        return "today"
    if d < 14:
        return f"{d} day{'s' if d > 1 else ''} ago"
    if d < 60:
        return f"{round(d / 7)} weeks ago"
    if d < 730:
        return f"{round(d / 30.44)} months ago"
    return f"{round(d / 365.25)} years ago"


def _practice_info(net: Any) -> tuple[dict[str, str], dict[str, str]]:
    key = (_CACHE, "practice_info")
    if key not in net._cache:
        pr = net.practices
        names = dict(zip(pr["practice_id"].astype(str), pr["name"].astype(object)))
        kinds = dict(zip(pr["practice_id"].astype(str), pr["kind"].astype(object)))
        net._cache[key] = (names, kinds)
    return net._cache[key]


def _hop_facts(net: Any, tg: _TieGraph, u: int, v: int) -> dict[str, Any]:
    """Numbers and words of one hop ``u -> v``."""
    r = tg.ties.iloc[tg.edge(u, v)]
    fwd, back = (
        (r["referrals_ab"], r["referrals_ba"]) if u < v else (r["referrals_ba"], r["referrals_ab"])
    )
    pat = r["shared_patients"]
    days = float(r["days_since"]) if pd.notna(r["days_since"]) else float("nan")
    words = []
    if pd.notna(pat) and pat > 0:
        words.append(f"{int(pat)} shared patients")
    if fwd + back > 0:
        words.append(f"{int(fwd + back)} referrals ({int(fwd)} sent, {int(back)} received)")
        if np.isnan(days):
            words.append("undated")
        elif bool(r.get("date_from_events", True)):
            words.append(f"last referral {_ago(days)}")
        else:  # aggregated flows only bound the date: say what the data say
            words.append(f"flows through {pd.Timestamp(r['last_date']).date()}")
    phys = net.physicians
    pid = phys["practice_id"].iat[u]
    if r["same_practice"] > 0:
        names, kinds = _practice_info(net)
        nm = names.get(str(pid)) or str(pid)
        kind = kinds.get(str(pid))
        label = {
            "hospital": "same hospital",
            "multi_specialty_group": "same group practice",
            "single_specialty_group": "same group practice",
            "primary_care_clinic": "same clinic",
        }.get(str(kind), "same practice")
        words.append(f"{label} ({nm})")
    elif r["same_system"] > 0:
        pr = net.practices
        sysname = pr.loc[pr["practice_id"] == pid, "system"]
        words.append(f"same health system ({sysname.iloc[0] if len(sysname) else '?'})")
    if r["logged"] > 0:
        words.append(f"logged tie ({r['logged_kind'] if pd.notna(r['logged_kind']) else 'knows'})")
    strength = float(r["strength"])
    words.append(f"tie strength {strength:.2f}")
    return {
        "strength": strength,
        "referrals_sent": float(fwd),
        "referrals_received": float(back),
        "shared_patients": float(pat) if pd.notna(pat) else float("nan"),
        "days_since": days,
        "same_practice": bool(r["same_practice"] > 0),
        "same_system": bool(r["same_system"] > 0),
        "logged": bool(r["logged"] > 0),
        "explanation": ", ".join(words),
    }


def _names(net: Any, ids: Iterable[int]) -> list[str]:
    phys = net.physicians
    out = []
    for i in ids:
        nm = phys["name"].iat[i]
        out.append(str(nm) if pd.notna(nm) else str(phys["npi"].iat[i]))
    return out


@dataclass
class IntroPaths:
    """The k most probable introduction paths to one target.

    Attributes
    ----------
    target
        NPI of the target.
    paths
        One row per path, best first: ``rank``, ``probability``, ``cost``
        (``-log probability``), ``hops``, ``source``, ``introducer`` (the
        physician who makes the final introduction), ``path`` (tuple of
        NPIs, source first), ``names``, ``explanation`` (one line per hop).
    hops
        One row per hop: ``rank``, ``hop``, ``from_npi``, ``from_name``,
        ``to_npi``, ``to_name``, ``strength``, ``referrals_sent``,
        ``referrals_received``, ``shared_patients``, ``days_since``,
        ``same_practice``, ``same_system``, ``logged``, ``explanation``.
    constraints
        The constraints the search honoured.
    """

    target: str
    paths: pd.DataFrame
    hops: pd.DataFrame
    constraints: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def best(self) -> pd.Series:
        """The most probable path."""
        return self.paths.iloc[0]

    def table(self) -> str:
        """The explained path table as plain text."""
        lines = [f"Introduction paths to {self.target}"]
        for p in self.paths.itertuples():
            lines.append(f"{p.rank}. p={p.probability:.3f}  {' -> '.join(p.names)}")
            for h in self.hops[self.hops["rank"] == p.rank].itertuples():
                lines.append(f"     {h.from_name} -> {h.to_name}: {h.explanation}")
        return "\n".join(lines)


def _build_result(
    net: Any,
    tg: _TieGraph,
    target: str,
    found: list[tuple[float, tuple[int, ...]]],
    constraints: dict[str, Any],
) -> IntroPaths:
    npis = net.physicians["npi"]
    prow, hrow = [], []
    for rank, (cst, rev) in enumerate(found, start=1):
        ids = rev[::-1]
        names = _names(net, ids)
        expl = []
        for h, (u, v) in enumerate(itertools.pairwise(ids), start=1):
            facts = _hop_facts(net, tg, u, v)
            expl.append(f"{names[h - 1]} -> {names[h]}: {facts['explanation']}")
            hrow.append(
                {
                    "rank": rank,
                    "hop": h,
                    "from_npi": npis.iat[u],
                    "from_name": names[h - 1],
                    "to_npi": npis.iat[v],
                    "to_name": names[h],
                    **facts,
                }
            )
        prow.append(
            {
                "rank": rank,
                "probability": math.exp(-cst),
                "cost": cst,
                "hops": len(ids) - 1,
                "source": npis.iat[ids[0]],
                "introducer": npis.iat[ids[-2]],
                "path": tuple(npis.iat[i] for i in ids),
                "names": tuple(names),
                "explanation": "\n".join(expl),
            }
        )
    paths = pd.DataFrame(
        prow,
        columns=[
            "rank",
            "probability",
            "cost",
            "hops",
            "source",
            "introducer",
            "path",
            "names",
            "explanation",
        ],
    )
    hops = pd.DataFrame(hrow)
    return IntroPaths(target=target, paths=paths, hops=hops, constraints=constraints)


# ---------------------------------------------------------------------------- public
def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValidationError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


@dataclass
class _Query:
    tg: _TieGraph
    t: int
    start: _Start
    forbid: np.ndarray
    hops: int
    cap: float
    n_sources: int
    constraints: dict[str, Any]


def _prepare(
    net: Any,
    target: str,
    *,
    sources: Any,
    home: Any,
    max_hops: int,
    exclude: Iterable[str],
    exclude_competitors_of: str | None,
    region: Any,
    min_strength: float,
    weights: Any,
    half_life_days: float,
    as_of: Any,
    ties: pd.DataFrame | None,
) -> _Query:
    hops = _check_int(max_hops, "max_hops", 1)
    if not 0.0 <= float(min_strength) <= 1.0:
        raise ValidationError(f"min_strength: expected a number in [0, 1], got {min_strength!r}")
    t = _node(net, target, "target")
    tg = _tie_graph(net, weights=weights, half_life_days=half_life_days, as_of=as_of, ties=ties)
    src, c0 = resolve_sources(net, sources, home)
    if t in set(src.tolist()):
        keep = src != t
        src, c0 = src[keep], c0[keep]
        if not len(src):
            raise ValidationError(f"target: {target} is one of your sources; nothing to introduce")
    start = _layers(net, tg, src, c0, hops)
    forbid = np.zeros(tg.n, dtype=bool)
    constraints: dict[str, Any] = {"max_hops": hops}
    excl = [exclude] if isinstance(exclude, str) else list(exclude)
    if excl:
        ids = net.npis.get_indexer(pd.Index([str(e) for e in excl]))
        if (ids == t).any():
            raise ValidationError(f"exclude: the target {target} itself is excluded")
        forbid[ids[ids >= 0]] = True
        constraints["exclude"] = excl
    if exclude_competitors_of is not None:
        comp, spec = _competitor_mask(net, str(exclude_competitors_of))
        comp[src] = False  # my own people are never excluded as competitors of me
        forbid |= comp
        constraints["exclude_competitors_of"] = spec
    if region is not None:
        inside = region_mask(net, region)
        if not inside[t]:
            raise NoPathError(
                f"no introduction path to {target}: the target is outside "
                f"{_describe_region(region)}"
            )
        forbid |= ~inside
        constraints["region"] = region
    cap = -math.log(min_strength) if min_strength > 0 else math.inf
    if min_strength > 0:
        constraints["min_strength"] = float(min_strength)
    forbid[t] = False
    return _Query(tg, t, start, forbid, hops, cap, len(src), constraints)


def _no_path(net: Any, target: str, q: _Query) -> NoPathError:
    name = _names(net, [q.t])[0]
    deg = int(q.tg.indptr[q.t + 1] - q.tg.indptr[q.t])
    extra = ", ".join(
        f"{k}={v!r}" if k != "region" else _describe_region(v) for k, v in q.constraints.items()
    )
    hint = " (the target has no relationships in the network)" if deg == 0 else ""
    return NoPathError(
        f"no introduction path to {target} ({name}) from {q.n_sources} source(s) with {extra}{hint}"
    )


def intro_paths(
    net: Any,
    target: str,
    *,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    home: str | Iterable[str] | None = None,
    k: int = 5,
    max_hops: int = 3,
    exclude: Iterable[str] = (),
    exclude_competitors_of: str | None = None,
    region: Any = None,
    min_strength: float = 0.0,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
) -> IntroPaths:
    """The ``k`` most probable warm-introduction paths from my people to ``target``.

    Parameters
    ----------
    net
        The network.
    target
        NPI of the physician I want to meet.
    sources
        My people: NPIs, or a mapping NPI -> probability that my ask reaches
        them (default 1). Default: the ``home`` physicians, else every
        physician with a logged touchpoint (my team's contacts). Paths start
        at one of them and never pass through another one (a path through
        one of my people is reported from that person).
    home
        My practice's physicians (used when ``sources`` is not given).
    k
        Number of paths.
    max_hops
        Maximum number of physician-to-physician hops.
    exclude
        NPIs that must not appear on a path.
    exclude_competitors_of
        A specialty (or an NPI, meaning their specialty): intermediaries of
        a competing specialty (:func:`refgraph.specialties.competing`) are
        not used. My own people are exempt.
    region
        Every physician on the path must be inside this region (see
        :func:`region_mask`).
    min_strength
        Hops weaker than this are not used.
    weights, half_life_days, as_of, ties
        Tie-strength model (:func:`tie_strength`).

    Returns
    -------
    IntroPaths
        ``.paths`` (best first) with node sequence, names, probability and
        the per-hop explanation; ``.hops`` with the numbers of every hop.

    Raises
    ------
    NoPathError
        When no path exists within the constraints (the message names the
        target and the constraints).
    NotFoundError
        When the target or a source is not in the network.

    Examples
    --------
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> me, a, b, dr_x = [p + str(npi_check_digit(p)) for p in
    ...                   ("100000000", "100000001", "100000002", "100000003")]
    >>> flows = pd.DataFrame({"source_npi": [me, a, me, b], "target_npi": [a, dr_x, b, dr_x],
    ...                       "count": [40, 30, 2, 1]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> res = intro_paths(net, dr_x, sources=[me], k=2)
    >>> [p[1] == a for p in res.paths["path"]], res.paths["probability"].round(3).tolist()
    ([True, False], [0.293, 0.017])
    >>> print(res.hops["explanation"].iloc[0])
    40 referrals (40 sent, 0 received), undated, tie strength 0.55

    Notes
    -----
    Path probability is ``w(source) * prod(strength of each hop)``, hops
    assumed independent; the search minimises ``-log`` of it exactly (see
    the module notes for the algorithm and its exactness argument).
    """
    from .backends import pushdown

    pushed = pushdown(
        net,
        "intro_paths",
        target=target,
        sources=sources,
        home=home,
        k=k,
        max_hops=max_hops,
        exclude=exclude,
        exclude_competitors_of=exclude_competitors_of,
        region=region,
        min_strength=min_strength,
        weights=weights,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
    )
    if pushed is not None:
        return pushed
    k = _check_int(k, "k", 1)
    q = _prepare(
        net,
        target,
        sources=sources,
        home=home,
        max_hops=max_hops,
        exclude=exclude,
        exclude_competitors_of=exclude_competitors_of,
        region=region,
        min_strength=min_strength,
        weights=weights,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
    )
    found = _search(q.tg, q.t, q.start, q.forbid, q.hops, k, q.cap)
    if not found:
        raise _no_path(net, target, q)
    return _build_result(net, q.tg, str(target), found, q.constraints)


def best_introducers(
    net: Any,
    target: str,
    *,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    home: str | Iterable[str] | None = None,
    top: int = 10,
    max_hops: int = 3,
    exclude: Iterable[str] = (),
    exclude_competitors_of: str | None = None,
    region: Any = None,
    min_strength: float = 0.0,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The physicians best placed to introduce me to ``target``.

    The introducer is the last physician before the target on a path (one
    of my own people when they know the target directly). Each introducer
    is scored by the probability of their best path (exact: the search keeps
    the cheapest path per introducer). Parameters as in :func:`intro_paths`;
    ``top`` is the number of introducers.

    Returns
    -------
    pandas.DataFrame
        Indexed by introducer NPI, best first: ``name``, ``specialty``,
        ``probability`` (of the best path through them), ``tie_strength``
        (introducer - target), ``hops``, ``source``, ``path``,
        ``explanation`` (of the introducer - target tie).

    Raises
    ------
    NoPathError
        When nobody can introduce me within the constraints.

    Examples
    --------
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> me, a, b, dr_x = [p + str(npi_check_digit(p)) for p in
    ...                   ("100000000", "100000001", "100000002", "100000003")]
    >>> flows = pd.DataFrame({"source_npi": [me, a, me, b], "target_npi": [a, dr_x, b, dr_x],
    ...                       "count": [40, 30, 2, 1]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> best_introducers(net, dr_x, sources=[me]).index.tolist() == [a, b]
    True
    """
    top = _check_int(top, "top", 1)
    q = _prepare(
        net,
        target,
        sources=sources,
        home=home,
        max_hops=max_hops,
        exclude=exclude,
        exclude_competitors_of=exclude_competitors_of,
        region=region,
        min_strength=min_strength,
        weights=weights,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
    )
    found = _search(q.tg, q.t, q.start, q.forbid, q.hops, top, q.cap, by_introducer=True)
    if not found:
        raise _no_path(net, target, q)
    return _introducer_frame(net, q.tg, found)


def _introducer_frame(
    net: Any, tg: _TieGraph, found: list[tuple[float, tuple[int, ...]]]
) -> pd.DataFrame:
    phys = net.physicians
    rows = []
    for cst, rev in found:
        x, t = rev[1], rev[0]
        facts = _hop_facts(net, tg, x, t)
        rows.append(
            {
                "introducer": phys["npi"].iat[x],
                "name": _names(net, [x])[0],
                "specialty": phys["specialty"].iat[x],
                "probability": math.exp(-cst),
                "tie_strength": facts["strength"],
                "hops": len(rev) - 1,
                "source": phys["npi"].iat[rev[-1]],
                "path": tuple(phys["npi"].iat[i] for i in rev[::-1]),
                "explanation": facts["explanation"],
            }
        )
    return pd.DataFrame(rows).set_index("introducer")


# ---------------------------------------------------------------------------- plan
@dataclass
class IntroPlan:
    """Which introducers to ask, for which targets (:func:`intro_plan`).

    Attributes
    ----------
    asks
        Chosen asks in greedy order: ``step``, ``introducer``,
        ``introducer_name``, ``target``, ``target_name``, ``probability``,
        ``gain`` (marginal expected introductions), ``expected`` (cumulative).
    targets
        Per target: ``name``, ``probability`` (of at least one introduction
        under the plan), ``asks``, ``reachable``.
    expected
        Expected number of introductions of the plan.
    guarantee
        The approximation guarantee that applies (text).
    candidates
        Every candidate ask (introducer, target, probability) considered.
    """

    asks: pd.DataFrame
    targets: pd.DataFrame
    expected: float
    guarantee: str
    candidates: pd.DataFrame


def expected_introductions(asks: Iterable[tuple[str, str, float]]) -> float:
    """Expected number of introduced targets of a set of asks (probabilistic OR per target).

    Examples
    --------
    >>> round(expected_introductions([("x", "t1", 0.5), ("y", "t1", 0.5), ("x", "t2", 0.2)]), 3)
    0.95
    """
    miss: dict[str, float] = {}
    for _, t, p in asks:
        miss[t] = miss.get(t, 1.0) * (1.0 - p)
    return float(sum(1.0 - m for m in miss.values()))


def greedy_asks(
    cand: list[tuple[str, str, float]], budget: int, capacity: int
) -> list[tuple[str, str, float, float]]:
    """Lazy greedy maximisation of :func:`expected_introductions`.

    At most ``budget`` asks in all and ``capacity`` per introducer; returns
    ``(introducer, target, p, gain)`` in the order chosen.
    """
    miss: dict[str, float] = {}
    used: dict[str, int] = {}
    heap = [(-p, i) for i, (_, _, p) in enumerate(cand) if p > 0]
    heapq.heapify(heap)
    out: list[tuple[str, str, float, float]] = []
    while heap and len(out) < budget:
        _neg, i = heapq.heappop(heap)
        x, t, p = cand[i]
        if used.get(x, 0) >= capacity:
            continue
        gain = p * miss.get(t, 1.0)
        if heap and gain < -heap[0][0] - 1e-15:
            heapq.heappush(heap, (-gain, i))  # stale: re-insert with its current gain
            continue
        out.append((x, t, p, gain))
        used[x] = used.get(x, 0) + 1
        miss[t] = miss.get(t, 1.0) * (1.0 - p)
    return out


def intro_plan(
    net: Any,
    targets: Iterable[str],
    *,
    budget: int,
    capacity_per_introducer: int = 1,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    home: str | Iterable[str] | None = None,
    candidates_per_target: int = 10,
    max_hops: int = 3,
    exclude: Iterable[str] = (),
    exclude_competitors_of: str | None = None,
    region: Any = None,
    min_strength: float = 0.0,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
) -> IntroPlan:
    """Choose introduction asks maximising the expected number of introductions.

    An *ask* is a pair (introducer ``x``, target ``t``) with success
    probability ``p(x, t)`` = the probability of the best path to ``t``
    whose last hop is ``x`` (:func:`best_introducers`; the top
    ``candidates_per_target`` introducers of every target are candidates).

    Parameters
    ----------
    net
        The network.
    targets
        NPIs to meet.
    budget
        Maximum number of asks in all.
    capacity_per_introducer
        Maximum number of asks to one introducer.
    sources, home, max_hops, exclude, exclude_competitors_of, region, min_strength
        As in :func:`intro_paths`.
    candidates_per_target
        Introducers considered per target.
    weights, half_life_days, as_of
        Tie-strength model.

    Returns
    -------
    IntroPlan

    Examples
    --------
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> me, a, b, t1, t2 = [p + str(npi_check_digit(p)) for p in
    ...                     ("100000000", "100000001", "100000002", "100000003", "100000004")]
    >>> flows = pd.DataFrame({"source_npi": [me, me, a, a, b],
    ...                       "target_npi": [a, b, t1, t2, t2], "count": [40, 40, 30, 30, 30]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> plan = intro_plan(net, [t1, t2], budget=2, sources=[me])
    >>> sorted(zip(plan.asks["introducer"], plan.asks["target"])) == [(a, t1), (b, t2)]
    True

    Notes
    -----
    Objective: ``f(A) = sum_t [1 - prod_{(x,t) in A} (1 - p(x, t))]``, the
    expected number of targets introduced when asks succeed independently
    (a probabilistic-OR coverage model). ``f`` is monotone and submodular
    in the set of asks. The feasible sets (at most ``budget`` asks, at most
    ``capacity_per_introducer`` per introducer) are the independent sets of
    a partition matroid truncated to rank ``budget``, itself a matroid, so
    the greedy algorithm achieves at least 1/2 of the optimum [2]_; when the
    capacity does not bind (``capacity_per_introducer >= budget``) the
    constraint is a cardinality constraint and greedy achieves at least
    ``1 - 1/e`` (about 0.632) of the optimum [1]_. Greedy is run lazily
    (gains only shrink).

    References
    ----------
    .. [1] Nemhauser, G. L., Wolsey, L. A., Fisher, M. L. (1978). An analysis of
       approximations for maximizing submodular set functions I. Math. Prog. 14.
    .. [2] Fisher, M. L., Nemhauser, G. L., Wolsey, L. A. (1978). An analysis of
       approximations for maximizing submodular set functions II. Math. Prog. Study 8.
    """
    budget = _check_int(budget, "budget", 0)
    cap = _check_int(capacity_per_introducer, "capacity_per_introducer", 1)
    tlist = [str(t) for t in ([targets] if isinstance(targets, str) else targets)]
    names = dict(zip(net.physicians["npi"].astype(str), net.physicians["name"].astype(object)))
    cand: list[tuple[str, str, float]] = []
    reachable: dict[str, bool] = {}
    for t in tlist:
        try:
            bi = best_introducers(
                net,
                t,
                sources=sources,
                home=home,
                top=candidates_per_target,
                max_hops=max_hops,
                exclude=exclude,
                exclude_competitors_of=exclude_competitors_of,
                region=region,
                min_strength=min_strength,
                weights=weights,
                half_life_days=half_life_days,
                as_of=as_of,
            )
        except NoPathError:
            reachable[t] = False
            continue
        reachable[t] = True
        cand.extend((x, t, float(p)) for x, p in bi["probability"].items())
    chosen = greedy_asks(cand, budget, cap)
    cum = np.cumsum([g for *_, g in chosen]) if chosen else np.zeros(0)
    asks = pd.DataFrame(
        {
            "step": np.arange(1, len(chosen) + 1),
            "introducer": [c[0] for c in chosen],
            "introducer_name": [names.get(c[0]) for c in chosen],
            "target": [c[1] for c in chosen],
            "target_name": [names.get(c[1]) for c in chosen],
            "probability": [c[2] for c in chosen],
            "gain": [c[3] for c in chosen],
            "expected": cum,
        }
    )
    per = pd.DataFrame(
        {
            "target": tlist,
            "name": [names.get(t) for t in tlist],
            "probability": [
                expected_introductions((c[0], c[1], c[2]) for c in chosen if c[1] == t)
                for t in tlist
            ],
            "asks": [sum(c[1] == t for c in chosen) for t in tlist],
            "reachable": [reachable[t] for t in tlist],
        }
    ).set_index("target")
    guarantee = (
        "greedy >= (1 - 1/e) x optimum (cardinality constraint)"
        if cap >= budget
        else "greedy >= 1/2 x optimum (matroid constraint: budget + capacity per introducer)"
    )
    return IntroPlan(
        asks=asks,
        targets=per,
        expected=float(cum[-1]) if len(cum) else 0.0,
        guarantee=guarantee,
        candidates=pd.DataFrame(cand, columns=["introducer", "target", "probability"]),
    )


# ---------------------------------------------------------------------------- CLI
def _load_network(path: str | None) -> Any:
    import os

    from .network import load

    path = path or os.environ.get("REFGRAPH_NETWORK")
    if not path:
        raise ValidationError("--network: no network folder given (or set REFGRAPH_NETWORK)")
    return load(path)


def cmd_intro(args: Any) -> int:
    """``refgraph intro --to NPI [--from NPI ...] [--network PATH] [--k 5]``: print paths."""
    import sys

    net = _load_network(getattr(args, "network", None))
    res = intro_paths(
        net,
        args.to,
        sources=args.sources or None,
        home=getattr(args, "home", None),
        k=args.k,
        max_hops=args.max_hops,
    )
    sys.stdout.write(res.table() + "\n")
    return 0
