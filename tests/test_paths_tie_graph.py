"""The compact tie graph of the path search against independent references.

- Its per-tie arrays (strengths, facts read by the explained result, the CSR
  of both directions) against the public tie table of :func:`tie_strength`,
  value for value, on a region with events, touchpoints, logged ties and
  colleagues, and on a network whose counts, patients and dates do not fit
  the compact dtypes (so they stay float64 / int64).
- Each tie's strength against :meth:`TieWeights.strength` of its factors
  (the scalar formula), exactly, under non-default weights.
- The per-query neighbourhood (:func:`_local`) against its definition
  computed with networkx: the nodes with ``dS + dT <= hops`` and the ties
  ``x - y`` with ``dS(x) + 1 + dT(y) <= hops``, in CSR order, with the tie
  graph's costs.
"""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from refgraph import ReferralNetwork, npi_check_digit
from refgraph.datasets import synthetic_region
from refgraph.paths import TieWeights, tie_matrix, tie_strength
from refgraph.paths._intro import _prepare
from refgraph.paths._search import _local
from refgraph.paths._tie_graph import _tie_graph

_FACT_COLUMNS = (
    "referrals_ab",
    "referrals_ba",
    "shared_patients",
    "days_since",
    "date_from_events",
    "last_date",
    "same_practice",
    "same_system",
    "logged",
    "logged_kind",
)


def _rich(seed: int) -> tuple[ReferralNetwork, pd.DataFrame]:
    """A region with dated events, touchpoints naming NPIs, and a logged-ties table."""
    net = synthetic_region(1500, seed=seed)
    rng = np.random.default_rng(seed)
    fl = net.flows
    pick = rng.choice(len(fl), len(fl) // 4, replace=False)
    when = pd.Timestamp("2024-12-31") - pd.to_timedelta(rng.integers(0, 900, len(pick)), "D")
    events = pd.DataFrame(
        {
            "date": when,
            "source_npi": fl["source_npi"].to_numpy()[pick],
            "target_npi": fl["target_npi"].to_numpy()[pick],
            "status": "seen",
        }
    )
    tp = rng.choice(len(fl), 200, replace=False)
    notes = [f"introduced by {o}" for o in fl["target_npi"].to_numpy()[tp]]
    tps = pd.DataFrame(
        {"date": pd.Timestamp("2024-11-01"), "npi": fl["source_npi"].to_numpy()[tp],
         "kind": "visit", "notes": notes}
    )  # fmt: skip
    npis = net.physicians["npi"].to_numpy()
    a, b = rng.choice(len(npis), 50), rng.choice(len(npis), 50)
    ties = pd.DataFrame({"npi_a": npis[a], "npi_b": npis[b], "kind": "knows"})
    net = ReferralNetwork.from_frames(
        physicians=net.physicians,
        practices=net.practices,
        flows=net.flows,
        events=events,
        touchpoints=tps,
    )
    return net, ties


def _check_against_table(net: ReferralNetwork, **kw: object) -> int:
    ts = tie_strength(net, **kw)  # type: ignore[arg-type]
    tg = _tie_graph(net, **kw)  # type: ignore[arg-type]
    idx = net.npis
    a = idx.get_indexer(ts["npi_a"])
    b = idx.get_indexer(ts["npi_b"])
    rows = np.arange(len(ts))
    # the tie rows found in the CSR are the table's rows, both ways round
    assert np.array_equal(tg.edges(a, b), rows)
    assert np.array_equal(tg.edges(b, a), rows)
    assert np.array_equal(tg.tie_strength, ts["strength"].to_numpy())
    facts = tg.facts.at(rows, a, b)
    for c in _FACT_COLUMNS:
        want = ts[c].to_numpy()
        got = facts[c]
        if c in ("same_practice", "same_system", "logged"):
            assert np.array_equal(got, want > 0), c
        elif c == "logged_kind":
            assert [None if pd.isna(x) else x for x in want] == list(got), c
        else:
            assert np.array_equal(np.asarray(got), np.asarray(want), equal_nan=True), c
    # the CSR, both directions, against a matrix built from the table
    s = np.clip(ts["strength"].to_numpy(), 1e-300, 1.0)
    n = net.n_physicians
    m = sp.csr_array((np.r_[s, s], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    m.sort_indices()
    got_m = tie_matrix(net, **kw)  # type: ignore[arg-type]
    assert np.array_equal(got_m.indptr, m.indptr)
    assert np.array_equal(got_m.indices, m.indices)
    assert np.array_equal(got_m.data, m.data)
    assert np.array_equal(tg.cost, -np.log(m.data))
    assert tg.ties.equals(ts.drop(columns=["npi_a", "npi_b"]))
    return len(ts)


def test_tie_graph_matches_tie_table_rich_region() -> None:
    net, ties = _rich(3)
    assert _check_against_table(net) > 1000
    assert _check_against_table(net, ties=ties, as_of="2024-06-30") > 1000
    tg = _tie_graph(net, ties=ties)
    assert len(tg.facts.logged) >= 200 and len(tg.facts.from_events) > 100
    assert tg.facts.ab.dtype == np.float32 and tg.facts.last.dtype == np.int32


def test_tie_graph_keeps_float64_and_ns_when_compact_would_round() -> None:
    npis = [p + str(npi_check_digit(p)) for p in (f"1{i:08d}" for i in range(1, 6))]
    flows = pd.DataFrame(
        {
            "source_npi": npis[:4],
            "target_npi": npis[1:5],
            "count": [2**25 + 1, 2**24 + 9, 40, 7],  # 2**25 + 1 has no float32
            "patients": [11, 2**24 + 1, 12, None],
            "period_end": pd.to_datetime(
                ["2024-01-01 06:00", "2024-03-01", "2024-05-01", "2024-06-01"], format="ISO8601"
            ),
        }
    )
    net = ReferralNetwork.from_frames(flows=flows)
    assert _check_against_table(net) == 4
    tg = _tie_graph(net)
    assert tg.facts.ab.dtype == np.float64 and tg.facts.pat.dtype == np.float64
    assert tg.facts.last.dtype == np.int64  # 06:00 is not a whole day


def test_strength_is_the_scalar_formula_exactly() -> None:
    net, ties = _rich(4)
    w = TieWeights(intercept=-0.3, same_system=0.7, volume=0.9, reciprocity=0.8, logged=2.5)
    ts = tie_strength(net, weights=w, ties=ties)
    fac = [f for f in ("patients", "hospital", "distance", "recency", "reciprocity",
                       "same_practice", "same_system", "logged", "volume")]  # fmt: skip
    rows = random.Random(1).sample(range(len(ts)), 400)
    for r in rows:
        x = {f: float(ts[f].iat[r]) for f in fac}
        assert ts["strength"].iat[r] == w.strength(x)


def _local_by_definition(
    tg: object, src: np.ndarray, t: int, hops: int
) -> tuple[list[int], list[tuple[int, int, float]]]:
    g = nx.Graph()
    ip, ix, cost = tg.indptr, tg.indices, tg.cost  # type: ignore[attr-defined]
    for u in range(tg.n):  # type: ignore[attr-defined]
        g.add_edges_from((u, int(v)) for v in ix[ip[u] : ip[u + 1]])
    g.add_nodes_from(range(tg.n))  # type: ignore[attr-defined]
    d_t = nx.single_source_shortest_path_length(g, t, cutoff=hops)
    d_s = nx.multi_source_dijkstra_path_length(g, set(src.tolist()), cutoff=hops, weight=None)
    inf = hops + 1
    nodes = sorted(v for v in d_t if v in d_s and d_t[v] + d_s[v] <= hops)
    entries = []
    for u in nodes:
        for j in range(ip[u], ip[u + 1]):
            v = int(ix[j])
            fits = min(d_s.get(u, inf) + 1 + d_t.get(v, inf), d_s.get(v, inf) + 1 + d_t.get(u, inf))
            if fits <= hops:
                entries.append((u, v, float(cost[j])))
    return nodes, entries


@pytest.mark.parametrize("hops", [1, 2, 3, 4, 5])
def test_neighbourhood_is_its_definition(hops: int) -> None:
    net = synthetic_region(1500, seed=8)
    npis = net.physicians["npi"].tolist()
    rnd = random.Random(hops)
    tg = _tie_graph(net)
    checked = 0
    for i in range(6):
        src = rnd.sample(npis, rnd.choice([1, 3]))
        v = npis.index(src[0])
        for _ in range(rnd.randint(1, hops) if i % 3 else 0):  # a walk, or anywhere
            v = int(rnd.choice(tg.indices[tg.indptr[v] : tg.indptr[v + 1]]))
        target = npis[v] if i % 3 and npis[v] not in src else rnd.choice(npis)
        if target in src:
            continue
        q = _prepare(net, target, sources=src, max_hops=hops)
        loc = _local(q.tg, q.src, q.c0, q.t, hops)
        nodes, entries = _local_by_definition(q.tg, q.src, q.t, hops)
        if loc is None:
            assert q.t not in nodes
            continue
        sub = loc[0]
        assert sub.nodes.tolist() == nodes
        back = sub.nodes
        got = [
            (int(back[u]), int(back[sub.indices[j]]), float(sub.cost[j]))
            for u in range(sub.n)
            for j in range(sub.indptr[u], sub.indptr[u + 1])
        ]
        assert got == entries
        checked += 1
    assert checked >= 3


def test_tie_graph_built_in_small_chunks_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every array of the tie graph of a region with events, touchpoints and logged ties,
    built 7 evidence rows and 7 ties at a time, equals the default build byte for byte."""
    import refgraph.paths._tie_data as tie_data
    import refgraph.paths._tie_graph as tie_graph

    net, ties = _rich(5)
    whole = _tie_graph(net, ties=ties)
    monkeypatch.setattr(tie_data, "_CHUNK", 7)
    monkeypatch.setattr(tie_graph, "_CHUNK", 7)
    small = _tie_graph(net, ties=ties)
    for name in ("indptr", "indices", "cost", "tstart", "tie_strength"):
        x, y = getattr(whole, name), getattr(small, name)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
    for name in ("ab", "ba", "pat", "last", "from_events", "logged", "pcode", "scode"):
        x, y = getattr(whole.facts, name), getattr(small.facts, name)
        assert x.dtype == y.dtype and np.array(x).tobytes() == np.array(y).tobytes(), name
    assert whole.facts.logged_kind == small.facts.logged_kind
    assert len(whole.facts.logged) and len(whole.facts.from_events)  # the case has both
