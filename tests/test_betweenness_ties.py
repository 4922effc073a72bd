"""Weighted betweenness with equal-cost paths, against exact rational arithmetic.

The reference is written here: every simple path between every ordered pair is
enumerated with :class:`fractions.Fraction` costs ``1 / volume``, the cheapest ones are
the shortest paths, and each interior physician gets its share of them. No float
arithmetic, no Dijkstra, no shared code with the library.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, npi_check_digit
from refgraph.centrality import _brandes, _shortest, betweenness, harmonic_closeness


def _npi(i: int) -> str:
    body = f"1{i + 200:08d}"
    return body + str(npi_check_digit(body))


def _net(edges: dict[tuple[int, int], int], n: int) -> ReferralNetwork:
    phys = pd.DataFrame({"npi": [_npi(i) for i in range(n)]})
    flows = pd.DataFrame(
        {
            "source_npi": [_npi(s) for s, _ in edges],
            "target_npi": [_npi(t) for _, t in edges],
            "count": list(edges.values()),
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def _random_edges(rng: np.random.Generator, n: int, m: int, volumes: list[int]) -> dict:
    edges: dict[tuple[int, int], int] = {}
    for s, t in rng.integers(0, n, (m, 2)).tolist():
        if s != t:
            edges[(s, t)] = int(rng.choice(volumes))
    return edges


def _brute_force(
    edges: dict[tuple[int, int], int], n: int, tied: list[int] | None = None
) -> list[Fraction]:
    """Exact betweenness by enumerating all simple paths (ordered pairs, unnormalised).

    ``tied``, when given, gets ``[pairs with several shortest paths, connected pairs]``.
    """
    out = {v: Fraction(0) for v in range(n)}
    succ: dict[int, list[int]] = {v: [] for v in range(n)}
    for s, t in edges:
        succ[s].append(t)

    def paths(s: int, t: int):  # every simple path s -> t as a node list
        stack = [(s, [s])]
        while stack:
            v, p = stack.pop()
            if v == t:
                yield p
                continue
            for w in succ[v]:
                if w not in p:
                    stack.append((w, [*p, w]))

    for s, t in itertools.permutations(range(n), 2):
        found = [
            (sum(Fraction(1, edges[e]) for e in itertools.pairwise(p)), p) for p in paths(s, t)
        ]
        if not found:
            continue
        best = min(c for c, _ in found)
        shortest = [p for c, p in found if c == best]
        if tied is not None:
            tied[0] += len(shortest) > 1
            tied[1] += 1
        for p in shortest:
            for v in p[1:-1]:
                out[v] += Fraction(1, len(shortest))
    return [out[v] for v in range(n)]


def _float_networkx(edges: dict[tuple[int, int], int], n: int) -> np.ndarray:
    """networkx on float costs: equal-cost paths compared in floating point."""
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for (s, t), w in edges.items():
        g.add_edge(s, t, cost=1.0 / w)
    bc = nx.betweenness_centrality(g, weight="cost", normalized=False)
    return np.array([bc[i] for i in range(n)])


def _values(res: pd.DataFrame, n: int) -> np.ndarray:
    return res["betweenness"].reindex([_npi(i) for i in range(n)]).to_numpy()


@pytest.fixture(params=["vectorised", "compiled"])
def kernel(request, monkeypatch):
    """refgraph's own kernel as ``betweenness`` picks it (these graphs are far below the
    work from which it compiles) and the compiled one (numba) forced."""
    if request.param == "compiled":
        pytest.importorskip("numba")
        monkeypatch.setattr(_brandes, "_JIT_MIN_WORK", 0)
    return request.param


# volumes whose reciprocals add up to each other: 1/3 + 1/3 + 1/3 = 1, 1/6 + 1/3 = 1/2, ...
SMALL = [1, 2, 3, 6]
# six volumes whose least common multiple (with 6) is beyond 2**53 / n: the tolerance path
LARGE = [1009, 1013, 1019, 1021, 1031, 1033]


@pytest.mark.parametrize("large", [False, True], ids=["integer-scaled", "tolerance"])
def test_matches_exact_rational_brute_force(large, monkeypatch, kernel):
    rng = np.random.default_rng(11)
    tied = [0, 0]
    for _ in range(20):
        n = int(rng.integers(7, 9))
        edges = _random_edges(rng, n, 3 * n, SMALL)
        if large:  # six ties with large volumes: their LCM is too large to scale
            for i, vol in enumerate(LARGE):
                edges[(i, i + 1)] = vol
        net = _net(edges, n)
        ref = np.array([float(x) for x in _brute_force(edges, n, tied)])
        res = betweenness(net, weight="count", normalized=False)
        np.testing.assert_allclose(_values(res, n), ref, rtol=1e-12, atol=1e-12)
        if not large:
            assert res.attrs["cost_scale"] is not None and res.attrs["tie_tolerance"] == 0
        else:
            assert res.attrs["cost_scale"] is None and res.attrs["tie_tolerance"] == 1e-9
        # refgraph's own kernel (what runs without NetworKit and for estimates)
        with monkeypatch.context() as mp:
            mp.setattr(_shortest, "have_networkit", lambda: False)
            own = betweenness(net, weight="count", normalized=False)
        assert own.attrs["engine"] == "refgraph"
        np.testing.assert_allclose(_values(own, n), ref, rtol=1e-12, atol=1e-12)
    assert tied[0] >= 10  # pairs with several shortest paths (36 and 14 of ~1,000)


def test_exact_where_float_comparison_splits_ties(monkeypatch):
    """Random graphs on which networkx with float costs is wrong: refgraph is not."""
    rng = np.random.default_rng(4)
    checked = 0
    for _ in range(80):
        n = 8
        edges = _random_edges(rng, n, 3 * n, [3, 10, 15, 30])  # 1/10 + 1/15 = 1/6, ...
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        for (s, t), w in edges.items():
            g.add_edge(s, t, cost=Fraction(1, w))
        exact_nx = nx.betweenness_centrality(g, weight="cost", normalized=False)
        exact_v = np.array([float(exact_nx[i]) for i in range(n)])
        if np.allclose(_float_networkx(edges, n), exact_v, atol=1e-9):
            continue  # float happened to keep every tie
        ref = np.array([float(x) for x in _brute_force(edges, n)])
        np.testing.assert_allclose(exact_v, ref, atol=1e-12)  # networkx on Fractions is right
        net = _net(edges, n)
        np.testing.assert_allclose(
            _values(betweenness(net, weight="count", normalized=False), n), ref, atol=1e-12
        )
        with monkeypatch.context() as mp:
            mp.setattr(_shortest, "have_networkit", lambda: False)
            own = betweenness(net, weight="count", normalized=False)
        np.testing.assert_allclose(_values(own, n), ref, atol=1e-12)
        checked += 1
        if checked == 6:
            break
    assert checked == 6


def test_docstring_tie_is_one_float_rounding_splits():
    """The docstring's example: E -> A -> D (cost 1 + 1) against E -> A -> B -> C -> D."""
    edges = {(4, 0): 1, (0, 1): 3, (1, 2): 3, (2, 3): 3, (0, 3): 1}
    # the premise: in float costs 1/volume the two paths E -> ... -> D do not tie
    short = sum(1 / edges[e] for e in [(4, 0), (0, 3)])
    long = sum(1 / edges[e] for e in [(4, 0), (0, 1), (1, 2), (2, 3)])
    assert long != short
    ref = [float(x) for x in _brute_force(edges, 5)]
    assert ref == [3.0, 3.0, 2.0, 0.0, 0.0]
    res = betweenness(_net(edges, 5), weight="count", normalized=False)
    assert _values(res, 5).tolist() == ref


def test_longer_ties_with_non_representable_sums():
    # 0 -> 4 directly (volume 2, cost 1/2) or through 1 and 2 (volume 6 each, 1/6 + 1/6 +
    # 1/6 = 1/2), or through 5 (volume 4 twice, 1/4 + 1/4): three shortest paths.
    # 2 -> 3 is a dead end that lies on no path to 4.
    edges = {(0, 4): 2, (0, 1): 6, (1, 2): 6, (2, 3): 6, (2, 4): 6, (0, 5): 4, (5, 4): 4}
    n = 6
    ref = np.array([float(x) for x in _brute_force(edges, n)])
    res = betweenness(_net(edges, n), weight="count", normalized=False)
    np.testing.assert_allclose(_values(res, n), ref, rtol=1e-12)
    assert ref[5] == pytest.approx(1 / 3)  # one of the three 0 -> 4 paths


def test_ckm_matches_fraction_networkx(datasets_dir, monkeypatch, kernel):
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm")  # three layers: volumes 1, 2, 3
    a = net.csr()
    g = nx.DiGraph()
    g.add_nodes_from(net.npis)
    src, dst, w = a.edges()
    for s, t, x in zip(src.tolist(), dst.tolist(), w.tolist()):
        g.add_edge(net.npis[s], net.npis[t], cost=Fraction(1, int(x)))
    ref = nx.betweenness_centrality(g, weight="cost", normalized=False)  # exact: Fractions
    ref_v = np.array([float(ref[v]) for v in net.npis])
    res = betweenness(net, weight="count", normalized=False)
    assert res.attrs["cost_scale"] == 6
    np.testing.assert_allclose(res["betweenness"].to_numpy(), ref_v, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(_shortest, "have_networkit", lambda: False)
    own = betweenness(net, weight="count", normalized=False)
    np.testing.assert_allclose(own["betweenness"].to_numpy(), ref_v, rtol=1e-12, atol=1e-12)
    # float costs in networkx split the ties: the bug this guards against is real here
    for *_, d in g.edges(data=True):
        d["cost"] = 1.0 / float(d["cost"].denominator)
    split = nx.betweenness_centrality(g, weight="cost", normalized=False)
    split_v = np.array([split[v] for v in net.npis])
    assert (~np.isclose(split_v, ref_v, rtol=1e-9)).sum() >= 50


def test_sampled_estimate_is_unbiased_and_reproducible(kernel):
    rng = np.random.default_rng(5)
    n = 10
    edges = _random_edges(rng, n, 30, SMALL)
    net = _net(edges, n)
    exact = _values(betweenness(net, weight="count", normalized=False), n)
    runs = np.array(
        [
            _values(betweenness(net, k=3, seed=s, weight="count", normalized=False), n)
            for s in range(400)
        ]
    )
    mean, se = runs.mean(axis=0), runs.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(np.abs(mean - exact) <= 4.5 * se + 1e-9)
    a = betweenness(net, k=3, seed=9, weight="count")
    b = betweenness(net, k=3, seed=9, weight="count")
    pd.testing.assert_frame_equal(a, b)
    assert a.attrs["engine"] == "refgraph" and a.attrs["k"] == 3


def test_hop_counts_and_harmonic_closeness_against_exact(kernel):
    rng = np.random.default_rng(2)
    for _ in range(10):
        n = 7
        edges = _random_edges(rng, n, 16, SMALL)
        net = _net(edges, n)
        g = nx.DiGraph()
        g.add_nodes_from(range(n))
        for (s, t), w in edges.items():
            g.add_edge(s, t, cost=Fraction(1, w))
        hops = _values(betweenness(net, normalized=False), n)
        ref_h = nx.betweenness_centrality(g, normalized=False)  # hop counts: exact ints
        np.testing.assert_allclose(hops, [ref_h[i] for i in range(n)], atol=1e-12)
        sampled_all = _values(betweenness(net, k=n - 1, seed=0, normalized=False), n)
        assert np.all(np.isfinite(sampled_all))
        # harmonic closeness only sums 1 / distance: ties do not matter, rounding is 1e-16
        hc = harmonic_closeness(net, weight="count", normalized=False)["harmonic_closeness"]
        dist = dict(nx.all_pairs_dijkstra_path_length(g, weight="cost"))  # Fractions
        ref_c = [sum(1 / dist[u][v] for u in range(n) if u != v and v in dist[u]) for v in range(n)]
        got = hc.reindex([_npi(i) for i in range(n)]).to_numpy()
        np.testing.assert_allclose(got, [float(x) for x in ref_c], rtol=1e-12)


def test_long_chain_goes_past_the_series_limit(monkeypatch, kernel):
    """A 400-hop chain: the DAG is deeper than the Neumann series is allowed to run."""
    n = 400
    edges = {(i, i + 1): 3 for i in range(n - 1)}
    edges[(0, n - 1)] = 1  # a second route, never shorter: cost 1 < 399 / 3
    net = _net(edges, n)
    # node i carries the pairs (s < i < t) whose route stays on the chain
    ref = np.array([i * (n - 1 - i) for i in range(n)], dtype=float)
    ref[1:-1] -= 1  # the pair (0, n - 1) takes the direct tie
    monkeypatch.setattr(_shortest, "have_networkit", lambda: False)
    own = betweenness(net, weight="count", normalized=False)
    np.testing.assert_allclose(_values(own, n), ref, rtol=1e-12)
