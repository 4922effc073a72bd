"""The tie graph the path search walks: compact per-tie arrays and an undirected CSR.

Private to :mod:`refgraph.paths`. Built once per network and tie model and cached
(:meth:`~refgraph.ReferralNetwork.cached_view`). What it keeps is what a query
reads, as plain numpy arrays keyed by node id:

- the CSR of the relationships in both directions (``indptr`` int64, ``indices``
  int32, ``cost = -log(strength)`` float64), neighbours ascending;
- per tie (a row of the tie table, ties sorted by ``(a, b)`` with ``a < b``):
  ``strength`` (float64) and the raw facts a hop's explanation reads (referrals
  each way and shared patients, float32 when every value converts exactly, else
  float64; the last date as int32 days when every date is a whole day, held once
  as a read-only broadcast when every tie has the same one, a file's period); the
  few ties dated by events and the logged ties are kept as sorted id lists;
- per physician: practice and system codes, from which ``same_practice`` and
  ``same_system`` of a hop are recomputed.

A tie's row is found from the CSR itself: the neighbours of ``a`` above ``a``
are its ties in row order, so no edge-id array is stored. The full tie table
(:attr:`_TieGraph.ties`) is rebuilt on demand (tests, whole-table callers), not
kept. The build sorts the evidence once (:func:`~refgraph.paths._tie_data._aggregate`:
an int32 order, sums a chunk of whole pairs at a time), compacts the facts, computes
the strengths a million ties at a time and places the CSR a million ties at a time,
then gives the C heap's free pages back; at its peak (the CSR placement) it holds
what it keeps plus the ties' ``b`` and one chunk's temporaries (5M-pair CMS-like
file: 69.7 bytes a flow at the peak, tracemalloc, against 90.0 before;
``benchmarks/results/national.md``).

The module also holds the neighbour-list scans of a query's neighbourhood search
(:func:`_scan`) and the node-sized work arrays it reuses between queries
(:class:`_Scratch`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from .._tables import release_memory
from ._tie_data import _NAT, _as_of, _node_arrays
from ._ties import _CHUNK, TieWeights, _days_since, _tie_core, _tie_factors, _tie_inputs

_CACHE = "refgraph.paths"
_DAY_NS = 86_400 * 10**9
_NO_DAY = np.iinfo(np.int32).min


def _compact_float(x: np.ndarray) -> np.ndarray:
    """``x`` as float32 when every value (NaN included) converts back exactly, else float64.

    Checked and converted a chunk at a time, so only the result is held beside ``x``.
    """
    x = np.asarray(x, dtype="float64")
    y = np.empty(len(x), dtype=np.float32)
    for i in range(0, len(x), _CHUNK):
        part = x[i : i + _CHUNK].astype(np.float32)
        if not np.array_equal(part.astype("float64"), x[i : i + _CHUNK], equal_nan=True):
            return x
        y[i : i + _CHUNK] = part
    return y


def _compact_dates(ns: np.ndarray) -> np.ndarray:
    """int64 ns dates (``_NAT`` unknown) as int32 days when all are whole days in range.

    A read-only broadcast of one date (a file's period) stays one: its single day.
    """
    ns = np.asarray(ns)
    if len(ns) and ns.strides[0] == 0:
        one = _compact_dates(ns[:1].copy())
        return np.broadcast_to(one, ns.shape) if one.dtype == np.int32 else ns
    for i in range(0, len(ns), _CHUNK):
        v = ns[i : i + _CHUNK]
        v = v[v != _NAT]
        if len(v) and (
            (v % _DAY_NS).any() or v.min() // _DAY_NS <= _NO_DAY or v.max() // _DAY_NS >= 2**31 - 1
        ):
            return ns
    out = np.full(len(ns), _NO_DAY, dtype=np.int32)
    for i in range(0, len(ns), _CHUNK):
        v = ns[i : i + _CHUNK]
        known = v != _NAT
        out[i : i + _CHUNK][known] = v[known] // _DAY_NS
    return out


def _dates_ns(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_compact_dates`."""
    if x.dtype == np.int64:
        return x
    return np.where(x == _NO_DAY, _NAT, x.astype(np.int64) * _DAY_NS)


def _member(sorted_ids: np.ndarray, x: np.ndarray, at: np.ndarray | None = None) -> np.ndarray:
    """``np.isin(x, sorted_ids)`` for a sorted ``sorted_ids`` (``at``: its searchsorted)."""
    if at is None:
        at = np.searchsorted(sorted_ids, x)
    if not len(sorted_ids):
        return np.zeros(len(x), dtype=bool)
    return sorted_ids[np.minimum(at, len(sorted_ids) - 1)] == x


@dataclass(frozen=True)
class _TieFacts:
    """What a hop's explanation reads of its tie, by tie row (see the module notes)."""

    ab: np.ndarray
    ba: np.ndarray
    pat: np.ndarray
    last: np.ndarray
    from_events: np.ndarray  # sorted tie rows dated by events
    logged: np.ndarray  # sorted tie rows with a logged tie
    logged_kind: list[str]  # kind of each of those
    pcode: np.ndarray  # practice code per physician (-1 unknown)
    scode: np.ndarray  # system code per physician (-1 unknown)
    ref: pd.Timestamp | None  # reference date of recency

    def at(self, rows: np.ndarray, us: np.ndarray, vs: np.ndarray) -> dict[str, np.ndarray]:
        """The tie-table columns a hop reads, at tie ``rows`` of the hops ``us - vs``."""
        a, b = np.minimum(us, vs), np.maximum(us, vs)
        last = _dates_ns(self.last[rows])
        same_p = (self.pcode[a] >= 0) & (self.pcode[a] == self.pcode[b])
        same_s = (self.scode[a] >= 0) & (self.scode[a] == self.scode[b]) & ~same_p
        li = np.searchsorted(self.logged, rows)
        logged = _member(self.logged, rows, li)
        kinds = np.array([*self.logged_kind, None], dtype=object)
        return {
            "referrals_ab": self.ab[rows].astype("float64"),
            "referrals_ba": self.ba[rows].astype("float64"),
            "shared_patients": self.pat[rows].astype("float64"),
            "days_since": _days_since(last, self.ref),
            "date_from_events": _member(self.from_events, rows),
            "last_date": last.view("datetime64[ns]"),
            "same_practice": same_p,
            "same_system": same_s,
            "logged": logged,
            "logged_kind": kinds[np.where(logged, li, len(self.logged_kind))],
        }


@dataclass(frozen=True)
class _TieGraph:
    """Undirected CSR of relationships (``cost = -log(strength)``, both directions
    stored) with its per-tie arrays; see the module notes."""

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    cost: np.ndarray
    tstart: np.ndarray  # first tie row of each node's ties to higher node ids
    tie_strength: np.ndarray  # per tie row
    facts: _TieFacts
    as_of: str | None
    reference: str  # what days_since counts back from, in words
    key: Any
    rebuild: Callable[[], pd.DataFrame] = field(repr=False, compare=False)
    #: work arrays of the neighbourhood search, reused between queries
    scratch: list[Any] = field(default_factory=list, repr=False, compare=False)

    def edges(self, us: Any, vs: Any) -> np.ndarray:
        """Tie rows of the relationships ``us[i] - vs[i]`` (each must exist)."""
        a = np.minimum(np.asarray(us, np.int64), np.asarray(vs, np.int64))
        b = np.maximum(np.asarray(us, np.int64), np.asarray(vs, np.int64))
        out = np.empty(len(a), dtype=np.int64)
        for i, (u, v) in enumerate(zip(a.tolist(), b.tolist())):
            row = self.indices[self.indptr[u] : self.indptr[u + 1]]
            out[i] = self.tstart[u] + np.searchsorted(row, v) - np.searchsorted(row, u)
        return out

    def edge(self, u: int, v: int) -> int:
        """Row of the tie table for the relationship ``u - v``."""
        return int(self.edges([u], [v])[0])

    @property
    def eid(self) -> np.ndarray:
        """Tie row of every CSR entry (computed on each call, not kept)."""
        deg = np.diff(self.indptr)
        up = np.diff(self.tstart)
        first_up = np.repeat(self.indptr[1:] - up, deg)  # a row ends with its ties upward
        upper = np.arange(len(self.indices), dtype=np.int64) >= first_up
        out = np.empty(len(self.indices), dtype=np.int64)
        out[upper] = np.arange(int(upper.sum()))
        # the other entries (row b, column a) come in (b, a) order: the ties by b, stable
        out[~upper] = np.argsort(self.indices[upper], kind="stable")
        return out

    @property
    def strength(self) -> np.ndarray:
        """Strength of every CSR entry, floored at 1e-300 (a new array on each call)."""
        return np.clip(self.tie_strength[self.eid], 1e-300, 1.0)

    def neighbours(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """Neighbours of ``u`` and the strengths of those ties (floored at 1e-300)."""
        lo, hi = int(self.indptr[u]), int(self.indptr[u + 1])
        nb = self.indices[lo:hi]
        s = self.tie_strength[self.edges(np.full(len(nb), u), nb)]
        return nb, np.clip(s, 1e-300, 1.0)

    @cached_property
    def ties(self) -> pd.DataFrame:
        """The full tie table of this graph (rows = tie rows), rebuilt on first use."""
        return self.rebuild()


def _csr_of_ties(
    b: np.ndarray, up: np.ndarray, n: int, strength: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """CSR of ties ``a < b`` sorted by ``(a, b)``, given their ``b`` and ``up``
    (ties per lower end ``a``): ``indptr``, ``indices``, the cost
    ``-log(strength)`` of each entry (a tie's two entries, in ``a``'s row and in
    ``b``'s row, have its cost) and ``tstart``."""
    m = len(b)
    up = np.asarray(up, dtype=np.int64)
    down = np.bincount(b, minlength=n).astype(np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(up + down, out=indptr[1:])
    tstart = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(up, out=tstart[1:])
    # row a: its lower neighbours first (down[a] of them), then ties a - b in tie order;
    # row b: ties x - b for x < b, in tie order (x ascending). Placed a chunk of ties at
    # a time: a tie's ``a`` is read off ``tstart``, and its place in row ``b`` is the
    # ties of ``b`` placed by earlier chunks plus its rank among the chunk's (a stable
    # sort of the chunk), so no tie-sized array of positions or ids is held.
    off_a = indptr[:-1] + down - tstart[:-1]
    del down
    seen = np.zeros(n, dtype=np.int64)  # ties already placed in each row b
    indices = np.empty(2 * m, dtype=np.int32 if n < 2**31 else np.int64)
    cost = np.empty(2 * m)
    for i in range(0, m, _CHUNK):
        j = min(i + _CHUNK, m)
        rank = np.arange(i, j, dtype=np.int64)
        a_c = (np.searchsorted(tstart, rank, side="right") - 1).astype(indices.dtype)
        b_c = b[i:j]
        c_c = -np.log(np.clip(strength[i:j], 1e-300, 1.0))
        pos = off_a[a_c] + rank
        indices[pos] = b_c
        cost[pos] = c_c
        by_b = np.argsort(b_c, kind="stable")
        bs = b_c[by_b]
        first = np.flatnonzero(np.r_[True, bs[1:] != bs[:-1]])
        size = np.diff(np.r_[first, len(bs)])
        within = np.arange(len(bs), dtype=np.int64) - np.repeat(first, size)
        pos = indptr[bs] + seen[bs] + within
        indices[pos] = a_c[by_b]
        cost[pos] = c_c[by_b]
        seen[bs[first]] += size
    return indptr, indices, cost, tstart


def _reference_words(net: Any, day: str | None, as_of: Any) -> str:
    """The data's last date, or the ``as_of`` day when it is another day."""
    if day is None or as_of is None:
        return "the data's last date"
    last = _as_of(net, None)
    return "the data's last date" if last is not None and str(last.date()) == day else day


def _tie_graph(
    net: Any,
    *,
    weights: Any = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
    colleagues_max_size: int = 10,
) -> _TieGraph:
    """The tie graph of a tie model, cached on the network (unless ``ties`` is given)."""
    w = TieWeights.from_any(weights)
    key = None
    if ties is None:
        key = (_CACHE, "graph", w, float(half_life_days), str(as_of), int(colleagues_max_size))
        hit = net.cached_view((_CACHE, "graphs"), dict).get(key)
        if hit is not None:
            return hit
    agg, kinds, ref, hl = _tie_inputs(
        net,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
        colleagues_max_size=colleagues_max_size,
    )
    n = net.n_physicians
    m = len(agg["a"])
    node = _node_arrays(net)
    # the facts a hop reads, compacted first: each float64 sum is freed once converted
    ab = _compact_float(agg.pop("ab"))
    ba = _compact_float(agg.pop("ba"))
    pat = _compact_float(agg.pop("pat"))
    last = _compact_dates(agg.pop("last"))
    strength = np.empty(m)
    for i in range(0, m, _CHUNK):  # the factors read the facts back exactly as float64 / ns
        sl = slice(i, i + _CHUNK)
        part = {
            "a": agg["a"][sl],
            "b": agg["b"][sl],
            "ab": ab[sl].astype("float64"),
            "ba": ba[sl].astype("float64"),
            "pat": pat[sl].astype("float64"),
            "last": _dates_ns(last[sl]),
            "kind": agg["kind"][sl],
        }
        strength[sl] = _tie_factors(w, part, slice(None), node, ref, hl)["strength"]
    logged = np.flatnonzero(agg["kind"] >= 0)
    facts = _TieFacts(
        ab=ab,
        ba=ba,
        pat=pat,
        last=last,
        from_events=np.flatnonzero(agg["from_events"]),
        logged=logged,
        logged_kind=[kinds[k] for k in agg["kind"][logged].tolist()],
        pcode=node["pcode"],
        scode=node["scode"],
        ref=ref,
    )
    up = np.bincount(agg["a"], minlength=n)
    b = agg["b"]
    del agg, ab, ba, pat, last  # the facts are kept compact; only ``b`` is left for the CSR
    indptr, indices, cost, tstart = _csr_of_ties(b, up, n, strength)
    del b, up
    release_memory()  # the build's chunk-sized temporaries were small heap blocks

    def rebuild() -> pd.DataFrame:
        return _tie_core(
            net,
            w,
            half_life_days=half_life_days,
            as_of=as_of,
            ties=ties,
            colleagues_max_size=colleagues_max_size,
            with_npis=False,
        )[0]

    day = None if ref is None else str(ref.date())
    tg = _TieGraph(
        n=n,
        indptr=indptr,
        indices=indices,
        cost=cost,
        tstart=tstart,
        tie_strength=strength,
        facts=facts,
        as_of=day,
        reference=_reference_words(net, day, as_of),
        key=key,
        rebuild=rebuild,
    )
    if key is not None:
        net.cached_view((_CACHE, "graphs"), dict)[key] = tg
    return tg


# ---------------------------------------------------------------------------- scans
_UNSEEN = np.int8(127)


def _segments(indptr: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR positions of the neighbour lists of ``nodes``, one after the other, and
    where each list ends in them (``np.searchsorted(ends, i, side="right")`` is the
    index into ``nodes`` of position ``i``'s owner)."""
    lo = indptr[nodes]
    ln = indptr[nodes + 1] - lo
    ends = np.cumsum(ln)
    pos = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
    pos += np.repeat(lo - (ends - ln), ln)
    return pos, ends


#: The neighbour-list scans of one query: (nodes, CSR positions, neighbours, ends).
_Block = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _scan(tg: _TieGraph, nodes: np.ndarray, blocks: list[_Block]) -> _Block:
    """The neighbour lists of ``nodes`` (:func:`_segments`), kept in ``blocks`` so that
    :func:`_local_ties` reuses them instead of reading the same lists again."""
    pos, ends = _segments(tg.indptr, nodes)
    got = (nodes, pos, tg.indices[pos], ends)
    if len(pos):
        blocks.append(got)
    return got


def _distinct(x: np.ndarray, mark: np.ndarray) -> np.ndarray:
    """The distinct values of ``x`` (unordered) in O(len(x)), ``mark`` an n-sized scratch.

    Every occurrence stamps its position into ``mark``; whichever write wins,
    exactly one occurrence per value finds its own position there, and garbage
    left in ``mark`` (``np.empty``) is never read.
    """
    pos = np.arange(len(x), dtype=mark.dtype)
    mark[x] = pos
    return x[mark[x] == pos]


class _Scratch:
    """Node-sized work arrays of the neighbourhood search, reused between queries.

    ``ds``/``dt`` hold hop distances (``_UNSEEN`` outside the nodes a query
    touched, which it resets when done), ``mark`` and ``lid`` are written
    before they are read; so a query's cost follows its neighbourhood, not
    the network's size. One set per concurrent query (a free list).
    """

    def __init__(self, n: int) -> None:
        self.ds = np.full(n, _UNSEEN, dtype=np.int8)
        self.dt = np.full(n, _UNSEEN, dtype=np.int8)
        self.mark = np.empty(n, dtype=np.int64)
        self.lid = np.empty(n, dtype=np.int64)
        self.inloc = np.zeros(n, dtype=bool)
        self.todo = np.zeros(n, dtype=bool)


def _scratch(tg: _TieGraph) -> _Scratch:
    free = tg.scratch
    try:
        return free.pop()
    except IndexError:
        return _Scratch(tg.n)
