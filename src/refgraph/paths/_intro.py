"""Introduction paths and introducers: :func:`intro_paths` and :func:`best_introducers`.

Public through :mod:`refgraph.paths`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .._errors import NoPathError, ValidationError
from .._params import MAX_HOPS, MAX_K, check_float, check_int
from .._views import display_names, node_values
from ._constraints import _competitors, _describe_region, _Forbid, _region_at
from ._explain import _frame, _labels, hop_facts
from ._search import (
    _cached_layers,
    _layers,
    _node,
    _search,
    _search_local,
    _Start,
    resolve_sources,
)
from ._tie_graph import _tie_graph, _TieGraph
from ._ties import (
    TieFit,
    TieWeights,
)


# ---------------------------------------------------------------------------- result
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

    def _repr_html_(self) -> str:
        """Notebook display: the paths with names and the explained hops (escaped HTML)."""
        from .._html import result_html

        return result_html(
            f"Introduction paths to {self.target}",
            [("paths", len(self.paths)), ("best probability", self.paths["probability"].max())],
            [
                ("paths, best first", self.paths, ["rank", "probability", "hops", "names"]),
                ("hops", self.hops, ["rank", "hop", "from_name", "to_name", "explanation"]),
            ],
        )


def _build_result(
    net: Any,
    tg: _TieGraph,
    target: str,
    found: list[tuple[float, tuple[int, ...]]],
    constraints: dict[str, Any],
) -> IntroPaths:
    """The explained result of found paths (target-first node ids, with their costs).

    Gathers the facts of the hops and the names and NPIs of the nodes on the
    paths by position (each distinct node once), so the work follows the
    paths, not the network.
    """
    fwd = [rev[::-1] for _, rev in found]
    npi_of, name_of = _labels(net, sorted({i for ids in fwd for i in ids}))
    us = [u for ids in fwd for u in ids[:-1]]
    vs = [v for ids in fwd for v in ids[1:]]
    facts = hop_facts(net, tg, us, vs)
    why = facts["explanation"]
    n_hops = [len(ids) - 1 for ids in fwd]
    ranks = np.arange(1, len(found) + 1, dtype=np.int64)
    hops: dict[str, list[Any] | np.ndarray] = {
        "rank": np.repeat(ranks, n_hops),
        "hop": np.concatenate([np.arange(1, h + 1, dtype=np.int64) for h in n_hops]),
        "from_npi": [npi_of[u] for u in us],
        "from_name": [name_of[u] for u in us],
        "to_npi": [npi_of[v] for v in vs],
        "to_name": [name_of[v] for v in vs],
        **facts,
    }
    expl: list[str] = []
    j = 0
    for ids, h in zip(fwd, n_hops):
        expl.append(
            "\n".join(f"{name_of[ids[i]]} -> {name_of[ids[i + 1]]}: {why[j + i]}" for i in range(h))
        )
        j += h
    cost = np.array([c for c, _ in found], dtype=np.float64)
    paths: dict[str, list[Any] | np.ndarray] = {
        "rank": ranks,
        "probability": np.array([math.exp(-c) for c, _ in found], dtype=np.float64),
        "cost": cost,
        "hops": np.array(n_hops, dtype=np.int64),
        "source": [npi_of[ids[0]] for ids in fwd],
        "introducer": [npi_of[ids[-2]] for ids in fwd],
        "path": [tuple(npi_of[i] for i in ids) for ids in fwd],
        "names": [tuple(name_of[i] for i in ids) for ids in fwd],
        "explanation": expl,
    }
    return IntroPaths(
        target=target,
        paths=_frame(paths),
        hops=_frame(hops),
        constraints=constraints,
    )


# ---------------------------------------------------------------------------- public
def _check_int(value: Any, name: str, minimum: int) -> int:
    """:func:`refgraph._params.check_int`, capped as the path search needs (kept for the
    Neo4j Yen pushdown, which imports it)."""
    cap = MAX_HOPS if name == "max_hops" else MAX_K if name in ("k", "top") else None
    return check_int(value, name, minimum=minimum, maximum=cap)


#: Private switch: search the whole tie graph (the pre-neighbourhood code path),
#: kept for the equivalence tests and the old-vs-new benchmark.
_WHOLE_GRAPH = False


@dataclass
class _Query:
    net: Any
    tg: _TieGraph
    t: int
    src: np.ndarray
    c0: np.ndarray
    rules: _Forbid
    hops: int
    cap: float
    n_sources: int
    constraints: dict[str, Any]

    @cached_property
    def start(self) -> _Start:
        """Hop layers of the source set over the whole tie graph (cached per source set)."""
        return _layers(self.net, self.tg, self.src, self.c0, self.hops)

    @cached_property
    def forbid(self) -> np.ndarray:
        """The nodes the paths must not use, over the whole network (the
        neighbourhood search evaluates the rules at its own nodes only)."""
        return self.rules.at(None)


def _find(q: _Query, k: int, by_introducer: bool = False) -> list[tuple[float, tuple[int, ...]]]:
    """The exact search of a prepared query.

    On the query's neighbourhood (nodes within ``max_hops`` of both ends,
    see :func:`refgraph.paths._search._local`), so the cost follows the
    neighbourhood and not the network; on the whole graph when its hop
    layers for this source set are already cached. Both give the same paths.
    """
    if _WHOLE_GRAPH or _cached_layers(q.net, q.tg, q.src, q.c0, q.hops) is not None:
        return _search(q.tg, q.t, q.start, q.forbid, q.hops, k, q.cap, by_introducer)
    return _search_local(q.tg, q.src, q.c0, q.t, q.rules.at, q.hops, k, q.cap, by_introducer)


def _prepare(
    net: Any,
    target: str,
    *,
    sources: Any = None,
    home: Any = None,
    max_hops: int = 3,
    exclude: Iterable[str] = (),
    exclude_competitors_of: str | None = None,
    region: Any = None,
    min_strength: float = 0.0,
    weights: Any = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
) -> _Query:
    """A query's target, sources, tie graph and constraints (defaults: :func:`intro_paths`'s)."""
    hops = _check_int(max_hops, "max_hops", 1)
    min_strength = check_float(min_strength, "min_strength", minimum=0, maximum=1)
    t = _node(net, target, "target")
    tg = _tie_graph(net, weights=weights, half_life_days=half_life_days, as_of=as_of, ties=ties)
    src, c0 = resolve_sources(net, sources, home)
    if t in set(src.tolist()):
        keep = src != t
        src, c0 = src[keep], c0[keep]
        if not len(src):
            raise ValidationError(f"target: {target} is one of your sources; nothing to introduce")
    constraints: dict[str, Any] = {"max_hops": hops}
    excl = [exclude] if isinstance(exclude, str) else list(exclude)
    excluded = np.empty(0, dtype=np.int64)
    if excl:
        ids = net.npis.get_indexer(pd.Index([str(e) for e in excl]))
        if (ids == t).any():
            raise ValidationError(f"exclude: the target {target} itself is excluded")
        excluded = np.unique(ids[ids >= 0]).astype(np.int64)
        constraints["exclude"] = excl
    comp = None
    if exclude_competitors_of is not None:
        comp = tuple(_competitors(net, str(exclude_competitors_of)))
        constraints["exclude_competitors_of"] = comp[0]
    if region is not None:
        if not _region_at(net, region, np.array([t], dtype=np.int64))[0]:
            raise NoPathError(
                f"no introduction path to {target}: the target is outside "
                f"{_describe_region(region)}"
            )
        constraints["region"] = region
    cap = -math.log(min_strength) if min_strength > 0 else math.inf
    if min_strength > 0:
        constraints["min_strength"] = float(min_strength)
    rules = _Forbid(net, t, excluded, np.sort(src), comp, region)
    return _Query(net, tg, t, src, c0, rules, hops, cap, len(src), constraints)


def _no_path(net: Any, target: str, q: _Query) -> NoPathError:
    name = display_names(net, [q.t])[0]
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
        My practice's physicians (used when ``sources`` is not given); each
        must be in the network.
    k
        Number of paths, 1 to 1,000 (:data:`refgraph._params.MAX_K`: a
        larger ``k`` would let the search enumerate every simple path).
    max_hops
        Maximum number of physician-to-physician hops, 1 to 10
        (:data:`refgraph._params.MAX_HOPS`).
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
    ([True, False], [0.92, 0.098])
    >>> print(res.hops["explanation"].iloc[0])
    40 referrals (40 sent, 0 received), undated, tie strength 0.97

    Notes
    -----
    Path probability is ``w(source) * prod(strength of each hop)``, hops
    assumed independent; the search minimises ``-log`` of it exactly (see
    the module notes for the algorithm and its exactness argument).
    """
    from ..backends import pushdown

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
    found = _find(q, k)
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
    ``top`` is the number of introducers (1 to 1,000).

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
    from ..backends import pushdown  # a lazy Neo4j network runs it on its sub-network

    opts = {k: v for k, v in locals().items() if k not in ("net", "pushdown")}
    if (pushed := pushdown(net, "best_introducers", **opts)) is not None:
        return pushed
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
    found = _find(q, top, by_introducer=True)
    if not found:
        raise _no_path(net, target, q)
    return _introducer_frame(net, q.tg, found)


def _introducer_frame(
    net: Any, tg: _TieGraph, found: list[tuple[float, tuple[int, ...]]]
) -> pd.DataFrame:
    xs = [rev[1] for _, rev in found]
    facts = hop_facts(net, tg, xs, [rev[0] for _, rev in found])
    nodes = sorted({i for _, rev in found for i in rev})
    npi_of = dict(zip(nodes, node_values(net, "npi", nodes)))
    return _frame(
        {
            "introducer": [npi_of[x] for x in xs],
            "name": display_names(net, xs),
            "specialty": node_values(net, "specialty", xs),
            "probability": [math.exp(-cst) for cst, _ in found],
            "tie_strength": facts["strength"],
            "hops": [len(rev) - 1 for _, rev in found],
            "source": [npi_of[rev[-1]] for _, rev in found],
            "path": [tuple(npi_of[i] for i in rev[::-1]) for _, rev in found],
            "explanation": facts["explanation"],
        }
    ).set_index("introducer")
