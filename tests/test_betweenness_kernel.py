"""refgraph's Brandes kernel (threads, blocks, both Dijkstra engines) against references.

References: networkx (exact betweenness and ``betweenness_centrality_subset`` for a sample
of sources, on integer costs where float sums are exact) and a plain-Python Brandes
written here with the kernel's tie rule (heapq Dijkstra, then the classic recursion over
nodes sorted by distance), which shares no code with the kernel.
"""

from __future__ import annotations

import heapq

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from refgraph.centrality import _brandes
from refgraph.centrality._brandes import dependencies

ENGINES = ["scipy", "networkit", "numba"]


def _cost(n: int, edges: dict[tuple[int, int], float]) -> sp.csr_array:
    rows, cols = zip(*edges) if edges else ((), ())
    data = np.array(list(edges.values()), dtype=float)
    return sp.csr_array((data, (np.array(rows, int), np.array(cols, int))), shape=(n, n))


def _random_edges(rng, n: int, m: int, costs) -> dict[tuple[int, int], float]:
    out: dict[tuple[int, int], float] = {}
    for s, t in rng.integers(0, n, (m, 2)).tolist():
        if s != t:
            out[(s, t)] = float(rng.choice(costs))
    return out


def _plain_brandes(n: int, edges: dict, sources, tol: float) -> np.ndarray:
    """Sum of dependencies with the kernel's rule: ``u -> v`` is on a shortest path when
    ``(d(u) + c) - d(v) <= d(v) * tol`` and, for ``tol > 0``, ``(d(u), u) < (d(v), v)``."""
    succ: dict[int, list[tuple[int, float]]] = {v: [] for v in range(n)}
    for (u, v), c in edges.items():
        succ[u].append((v, c))
    out = np.zeros(n)
    for s in sources:
        d = [float("inf")] * n
        d[s] = 0.0
        heap = [(0.0, s)]
        while heap:
            du, u = heapq.heappop(heap)
            if du > d[u]:
                continue
            for v, c in succ[u]:
                if du + c < d[v]:
                    d[v] = du + c
                    heapq.heappush(heap, (d[v], v))
        reached = sorted((d[v], v) for v in range(n) if d[v] < float("inf"))
        pred: dict[int, list[int]] = {v: [] for v in range(n)}
        for (u, v), c in edges.items():
            if d[u] == float("inf") or (d[u] + c) - d[v] > d[v] * tol:
                continue
            if tol > 0 and (d[u], u) >= (d[v], v):
                continue
            pred[v].append(u)
        sigma = [0.0] * n
        sigma[s] = 1.0
        for _, v in reached:
            if v != s:
                sigma[v] = sum(sigma[u] for u in pred[v])
        delta = [0.0] * n
        for _, w in reversed(reached):
            for u in pred[w]:
                if sigma[w] > 0:
                    delta[u] += sigma[u] / sigma[w] * (1.0 + delta[w])
            if w != s:
                out[w] += delta[w]
    return out


def _nx_graph(n: int, edges: dict) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_weighted_edges_from(((u, v, c) for (u, v), c in edges.items()), weight="cost")
    return g


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few sources and passes over a few edges: many blocks for the threads,
    several chunks per block (the stacked DAG's edges then need sorting)."""
    monkeypatch.setattr(_brandes, "_BLOCK_PAIRS", 1000)
    monkeypatch.setattr(_brandes, "_CHUNK_PAIRS", 64)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("threads", [1, 3])
def test_exact_with_integer_ties_matches_networkx(engine, threads, small_blocks):
    """Integer costs (``tol = 0``): every path sum is exact, so networkx's float-equality
    ties are the true ties; many pairs have several shortest paths."""
    rng = np.random.default_rng(3)
    for _ in range(8):
        n = int(rng.integers(20, 60))
        edges = _random_edges(rng, n, 4 * n, [1, 2, 3])
        g = _nx_graph(n, edges)
        ref = nx.betweenness_centrality(g, weight="cost", normalized=False)
        got = dependencies(_cost(n, edges), np.arange(n), tol=0.0, threads=threads, engine=engine)
        np.testing.assert_allclose(got, [ref[v] for v in range(n)], rtol=1e-12, atol=1e-9)
        hops = {e: 1.0 for e in edges}
        ref_h = nx.betweenness_centrality(g, normalized=False)
        got_h = dependencies(_cost(n, hops), np.arange(n), tol=0.0, threads=threads)
        np.testing.assert_allclose(got_h, [ref_h[v] for v in range(n)], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_sampled_sources_match_networkx_subset(engine, small_blocks):
    rng = np.random.default_rng(5)
    n = 150
    edges = _random_edges(rng, n, 700, [1, 2, 3, 4])
    sources = rng.choice(n, 40, replace=False)
    ref = nx.betweenness_centrality_subset(
        _nx_graph(n, edges),
        list(sources.tolist()),
        list(range(n)),
        normalized=False,
        weight="cost",
    )
    got = dependencies(_cost(n, edges), sources, tol=0.0, threads=2, engine=engine)
    np.testing.assert_allclose(got, [ref[v] for v in range(n)], rtol=1e-12, atol=1e-9)
    assert np.count_nonzero(got) > n // 2  # a real comparison: most physicians are between


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("threads", [1, 2])
def test_tolerance_ties_match_plain_brandes(engine, threads, small_blocks):
    """Costs ``1 / volume`` (``tol > 0``): sums such as 1/3 + 1/3 + 1/3 tie with 1 only up
    to float rounding; the kernel must count them as the plain implementation does."""
    rng = np.random.default_rng(7)
    tied = 0
    for _ in range(10):
        n = int(rng.integers(15, 40))
        edges = _random_edges(rng, n, 3 * n, [1.0, 1 / 2, 1 / 3, 1 / 6, 1 / 10, 1 / 15])
        cost = _cost(n, edges)
        ref = _plain_brandes(n, edges, range(n), 1e-9)
        got = dependencies(cost, np.arange(n), tol=1e-9, threads=threads, engine=engine)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
        # the tolerance matters on these graphs: exact float comparison differs somewhere
        tied += not np.allclose(_plain_brandes(n, edges, range(n), 0.0), ref, atol=1e-9)
    assert tied >= 3


def test_near_zero_costs_keep_the_dag_forward(small_blocks):
    """Edges far cheaper than the tolerance (both directions between equally distant
    physicians look tight): only the one forward in (distance, node) order is kept."""
    edges = {(0, 1): 1.0, (0, 2): 1.0, (1, 2): 1e-12, (2, 1): 1e-12, (1, 3): 1.0, (2, 3): 1.0}
    edges.update({(3, 4): 0.5, (1, 4): 2.0, (5, 0): 1.0})
    n = 6
    ref = _plain_brandes(n, edges, range(n), 1e-9)
    for threads, engine in [(1, "scipy"), (2, "networkit")]:
        got = dependencies(_cost(n, edges), np.arange(n), tol=1e-9, threads=threads, engine=engine)
        np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert ref[1] > 0 and ref[2] > 0


def test_same_sum_for_any_number_of_threads_and_either_engine(small_blocks):
    rng = np.random.default_rng(9)
    n = 200
    edges = _random_edges(rng, n, 1500, [1 / k for k in range(11, 40)])
    cost = _cost(n, edges)
    sources = rng.choice(n, 64, replace=False)
    runs = [
        dependencies(cost, sources, tol=1e-9, threads=t, engine=e)
        for t in (1, 2, 4)
        for e in ENGINES
    ]
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])  # bit for bit: blocks are summed in block order
    np.testing.assert_allclose(
        runs[0], _plain_brandes(n, edges, sources.tolist(), 1e-9), rtol=1e-12, atol=1e-9
    )


def test_disconnected_unreached_and_empty():
    # two components, an isolated physician, a source that reaches nobody
    edges = {(0, 1): 1.0, (1, 2): 1.0, (3, 4): 2.0, (4, 5): 2.0, (5, 3): 2.0}
    n = 7
    ref = _plain_brandes(n, edges, range(n), 0.0)
    for engine in ENGINES:
        got = dependencies(_cost(n, edges), np.arange(n), tol=0.0, threads=2, engine=engine)
        np.testing.assert_allclose(got, ref)
    assert ref.tolist() == [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    assert dependencies(_cost(n, edges), np.array([6, 2]), tol=0.0).tolist() == [0.0] * n
    assert dependencies(_cost(0, {}), np.arange(0), tol=0.0).tolist() == []


# ------------------------------------------------------------------ dominated edges
def _hub_graph(rng, n: int, unit: float, tie_eps: float) -> tuple[dict, set, set]:
    """Random edges plus shortcuts around two busy hubs (0 and 1, cheap edges in and out):
    ``u -> v`` shortcuts costing what ``u -> hub -> v`` costs (tied, up to ``tie_eps``
    relative, which the tolerance must still count as a tie) or clearly more (dominated).
    Costs are multiples of ``unit``. Returns the edges, the tied and the dominated ones."""
    edges = _random_edges(rng, n, 3 * n, [3 * unit, 4 * unit, 6 * unit])
    hubs = (0, 1)
    for v in range(2, n):
        for h in hubs:
            edges[(v, h)] = float(rng.choice([unit, 2 * unit]))
            edges[(h, v)] = float(rng.choice([unit, 2 * unit]))
    tied, dominated = set(), set()
    for u, v in rng.integers(2, n, (2 * n, 2)).tolist():
        if u == v or (u, v) in tied | dominated:
            continue
        via = min(edges[(u, h)] + edges[(h, v)] for h in hubs)
        if rng.random() < 0.5:
            edges[(u, v)] = via * (1 + tie_eps)
            tied.add((u, v))
        else:
            edges[(u, v)] = via + float(rng.choice([1, 2])) * unit
            dominated.add((u, v))
    return edges, tied, dominated


def _kept(pruned: sp.csr_array) -> set[tuple[int, int]]:
    coo = sp.coo_array(pruned)
    return set(zip(coo.row.tolist(), coo.col.tolist()))


@pytest.mark.parametrize("engine", ENGINES)
def test_pruning_integer_costs_matches_networkx(engine, small_blocks):
    """Integer costs, exact ties: every tied shortcut is kept, every dominated one goes,
    and the sums are those of the whole graph bit for bit and networkx's."""
    rng = np.random.default_rng(11)
    for _ in range(4):
        n = int(rng.integers(30, 60))
        edges, tied, dominated = _hub_graph(rng, n, 1.0, 0.0)
        cost = _cost(n, edges)
        kept = _kept(_brandes.prune_dominated(cost, 0.0))
        assert tied <= kept
        assert not dominated & kept
        assert len(kept) < len(edges) - len(dominated) // 2
        g = _nx_graph(n, edges)
        for u, v in set(edges) - kept:  # what goes is beaten strictly
            assert nx.dijkstra_path_length(g, u, v, weight="cost") < edges[(u, v)]
        ref = nx.betweenness_centrality(g, weight="cost", normalized=False)
        src = np.arange(n)
        got = dependencies(cost, src, tol=0.0, threads=2, engine=engine, prune=True)
        whole = dependencies(cost, src, tol=0.0, threads=2, engine=engine, prune=False)
        assert np.array_equal(got, whole)
        np.testing.assert_allclose(got, [ref[v] for v in range(n)], rtol=1e-12, atol=1e-9)
        assert got[0] > 0 and got[1] > 0  # the hubs carry the tied pairs


def test_pruning_with_every_node_a_hub_keeps_exactly_the_shortest_edges():
    """With every node a hub the bound is the exact distance (hub = v): an integer-cost
    edge stays iff no other path is strictly cheaper (networkx's distances)."""
    rng = np.random.default_rng(12)
    for _ in range(4):
        n = int(rng.integers(20, 50))
        edges = _random_edges(rng, n, 5 * n, [1.0, 2.0, 3.0, 5.0, 8.0])
        g = _nx_graph(n, edges)
        want = {
            (u, v) for (u, v), c in edges.items() if nx.dijkstra_path_length(g, u, v, "cost") == c
        }
        assert 0 < len(want) < len(edges)
        assert _kept(_brandes.prune_dominated(_cost(n, edges), 0.0, hubs=n)) == want


@pytest.mark.parametrize("threads", [1, 2])
def test_pruning_keeps_tolerance_ties(threads, small_blocks):
    """Costs ``1 / volume`` (``tol > 0``): shortcuts tied with the hub route only up to a
    relative 1e-10 (within the tolerance: still a tie for many sources) stay; the sums
    equal the whole graph's bit for bit and the plain implementation's."""
    rng = np.random.default_rng(13)
    for _ in range(4):
        n = int(rng.integers(30, 50))
        edges, tied, dominated = _hub_graph(rng, n, 1 / 30, 1e-10)
        cost = _cost(n, edges)
        kept = _kept(_brandes.prune_dominated(cost, 1e-9))
        assert tied <= kept
        assert not dominated & kept
        src = np.arange(n)
        for engine in ENGINES:
            got = dependencies(cost, src, tol=1e-9, threads=threads, engine=engine, prune=True)
            whole = dependencies(cost, src, tol=1e-9, threads=threads, engine=engine, prune=False)
            assert np.array_equal(got, whole)
        ref = _plain_brandes(n, edges, range(n), 1e-9)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-9)
        # the near-ties matter: comparing path sums exactly gives other values
        assert not np.allclose(_plain_brandes(n, edges, range(n), 0.0), ref, atol=1e-9)


def test_pruning_subsets_and_unreachable_hubs(small_blocks):
    """Sampled sources; a part of the graph that cannot reach the hubs (its edges keep
    an infinite bound and stay); automatic, forced and no pruning agree."""
    rng = np.random.default_rng(14)
    n0 = 80
    edges, tied, dominated = _hub_graph(rng, n0, 1.0, 0.0)
    extra = {(n0, n0 + 1): 1.0, (n0 + 1, n0 + 2): 1.0, (n0, n0 + 2): 3.0, (n0 + 2, 5): 1.0}
    edges.update(extra)
    n = n0 + 3
    cost = _cost(n, edges)
    kept = _kept(_brandes.prune_dominated(cost, 0.0))
    assert set(extra) | tied <= kept and not dominated & kept
    for k in (5, 70):
        sources = rng.choice(n, k, replace=False)
        ref = nx.betweenness_centrality_subset(
            _nx_graph(n, edges), sources.tolist(), list(range(n)), normalized=False, weight="cost"
        )
        auto = dependencies(cost, sources, tol=0.0)
        assert np.array_equal(auto, dependencies(cost, sources, tol=0.0, prune=False))
        assert np.array_equal(auto, dependencies(cost, sources, tol=0.0, prune=True))
        np.testing.assert_allclose(auto, [ref[v] for v in range(n)], rtol=1e-12, atol=1e-9)


def test_pruning_leaves_bad_costs_and_empty_graphs_alone():
    for data in ([1.0, 0.0, 1.0], [1.0, np.inf, 1.0]):
        cost = sp.csr_array((data, ([0, 1, 0], [1, 2, 2])), shape=(3, 3))
        assert _brandes.prune_dominated(cost, 0.0) is cost
    empty = _cost(4, {})
    assert _brandes.prune_dominated(empty, 0.0) is empty


def test_pruning_runs_from_64_sources_on(monkeypatch):
    """The automatic choice: from 64 sources on, on graphs of 4M edges or more (here
    lowered to 400)."""
    monkeypatch.setattr(_brandes, "_PRUNE_MIN_EDGES", 400)
    calls = []
    real = _brandes.prune_dominated
    monkeypatch.setattr(
        _brandes,
        "prune_dominated",
        lambda cost, tol: calls.append(len(cost.data)) or real(cost, tol),
    )
    rng = np.random.default_rng(15)
    edges, _, dominated = _hub_graph(rng, 80, 1.0, 0.0)
    cost = _cost(80, edges)
    assert len(edges) >= 400
    for k, pruned in ((63, False), (64, True)):
        calls.clear()
        dependencies(cost, np.arange(k), tol=0.0)
        assert calls == ([len(edges)] if pruned else [])
    monkeypatch.setattr(_brandes, "_PRUNE_MIN_EDGES", len(edges) + 1)
    calls.clear()
    dependencies(cost, np.arange(64), tol=0.0)
    assert calls == []
    assert dominated  # so pruning had something to remove
