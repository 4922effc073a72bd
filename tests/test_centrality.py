"""Centrality measures against independent references (networkx, hand values, CKM)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refgraph import NotFoundError, ReferralNetwork, ValidationError, npi_check_digit
from refgraph import centrality as C
from refgraph.centrality import _shortest


def _npi(i: int) -> str:
    body = f"1{i + 100:08d}"
    return body + str(npi_check_digit(body))


def _net(edges: list[tuple[int, int, float]], n: int) -> ReferralNetwork:
    phys = pd.DataFrame({"npi": [_npi(i) for i in range(n)]})
    flows = pd.DataFrame(
        {
            "source_npi": [_npi(s) for s, _, _ in edges],
            "target_npi": [_npi(t) for _, t, _ in edges],
            "count": [int(w) for _, _, w in edges],
            "patients": [max(1, int(w) // 2) for _, _, w in edges],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def _nx(edges: list[tuple[int, int, float]], n: int) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(_npi(i) for i in range(n))
    g.add_weighted_edges_from((_npi(s), _npi(t), float(int(w))) for s, t, w in edges)
    return g


@st.composite
def graphs(draw, min_n: int = 3, max_n: int = 25):  # type: ignore[no-untyped-def]
    n = draw(st.integers(min_n, max_n))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda p: p[0] != p[1]),
            min_size=1,
            max_size=4 * n,
            unique=True,
        )
    )
    ws = draw(st.lists(st.integers(1, 50), min_size=len(pairs), max_size=len(pairs)))
    return [(s, t, float(w)) for (s, t), w in zip(pairs, ws)], n


def _series(d: dict, net: ReferralNetwork) -> np.ndarray:
    return np.array([d[k] for k in net.npis], dtype=float)


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(graphs(), st.booleans())
def test_pagerank_matches_networkx(g, personalised):
    edges, n = g
    net, G = _net(edges, n), _nx(edges, n)
    pers = {_npi(0): 1.0, _npi(n - 1): 3.0} if personalised else None
    ours = C.pagerank(net, personalization=pers, tol=1e-12)["pagerank"]
    ref = nx.pagerank(G, weight="weight", personalization=pers, tol=1e-12 / n, max_iter=10000)
    assert ours.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(ours.to_numpy(), _series(ref, net), atol=1e-9)


@SETTINGS
@given(graphs())
def test_spectral_measures_match_networkx(g):
    edges, n = g
    net, G = _net(edges, n), _nx(edges, n)
    h = C.hits(net, tol=1e-13, max_iter=100000)
    try:
        hub, auth = nx.hits(G)  # networkx uses the edge attribute "weight"
    except nx.PowerIterationFailedConvergence:  # pragma: no cover
        return
    sv = np.linalg.svd(nx.to_numpy_array(G, nodelist=list(net.npis)), compute_uv=False)
    if len(sv) > 1 and sv[0] - sv[1] < 1e-3 * sv[0]:
        return  # degenerate leading singular value: HITS is not unique
    np.testing.assert_allclose(h["hubs"].to_numpy(), _series(hub, net), atol=1e-6)
    np.testing.assert_allclose(h["authorities"].to_numpy(), _series(auth, net), atol=1e-6)
    k = C.katz(net, alpha=0.005, tol=1e-13)["katz"]
    ref = nx.katz_centrality(G, alpha=0.005, weight="weight", tol=1e-13, max_iter=10000)
    np.testing.assert_allclose(k.to_numpy(), _series(ref, net), atol=1e-8)


def test_eigenvector_matches_networkx_on_strongly_connected():
    rng = np.random.default_rng(3)
    n = 30
    edges = [(i, (i + 1) % n, 1.0 + rng.integers(0, 9)) for i in range(n)]
    edges += [(int(s), int(t), float(rng.integers(1, 9))) for s, t in rng.integers(0, n, (60, 2))]
    edges = list({(s, t): (s, t, w) for s, t, w in edges if s != t}.values())
    net, G = _net(edges, n), _nx(edges, n)
    ours = C.eigenvector(net, tol=1e-13, max_iter=100000)["eigenvector"]
    ref = nx.eigenvector_centrality(G, weight="weight", tol=1e-13, max_iter=100000)
    np.testing.assert_allclose(ours.to_numpy(), _series(ref, net), atol=1e-7)


@SETTINGS
@given(graphs(max_n=18))
def test_betweenness_and_closeness_match_networkx(g):
    edges, n = g
    # tie-free costs: weights are distinct primes-ish so equal-cost paths are unlikely
    edges = [(s, t, float(7 + 13 * i)) for i, (s, t, _) in enumerate(edges)]
    net, G = _net(edges, n), _nx(edges, n)
    for *_, d in G.edges(data=True):
        d["cost"] = 1.0 / d["weight"]
    ours = C.betweenness(net, weight="count")["betweenness"]
    ref = nx.betweenness_centrality(G, weight="cost")
    np.testing.assert_allclose(ours.to_numpy(), _series(ref, net), atol=1e-9)
    hops = C.betweenness(net, weight=None, normalized=False)["betweenness"]
    ref_h = nx.betweenness_centrality(G, normalized=False)
    np.testing.assert_allclose(hops.to_numpy(), _series(ref_h, net), atol=1e-9)
    hc = C.harmonic_closeness(net, weight="count", normalized=False)["harmonic_closeness"]
    ref_c = nx.harmonic_centrality(G, distance="cost")
    np.testing.assert_allclose(hc.to_numpy(), _series(ref_c, net), rtol=1e-9)
    out = C.harmonic_closeness(net, direction="out", normalized=False)["harmonic_closeness"]
    ref_o = nx.harmonic_centrality(G.reverse())
    np.testing.assert_allclose(out.to_numpy(), _series(ref_o, net), rtol=1e-9)


def test_sampled_betweenness_is_seeded_and_close():
    rng = np.random.default_rng(0)
    n = 300
    pairs = {(int(s), int(t)) for s, t in rng.integers(0, n, (2000, 2)) if s != t}
    edges = [(s, t, float(rng.integers(1, 30))) for s, t in sorted(pairs)]
    net = _net(edges, n)
    exact = C.betweenness(net, weight="count")["betweenness"]
    a = C.betweenness(net, k=100, seed=7, weight="count")["betweenness"]
    b = C.betweenness(net, k=100, seed=7, weight="count")["betweenness"]
    pd.testing.assert_series_equal(a, b)
    rho = pd.Series(a).corr(exact, method="spearman")
    assert rho > 0.8
    with pytest.raises(ValidationError, match="k: expected"):
        C.betweenness(net, k=0)


@SETTINGS
@given(graphs())
def test_brokerage_matches_networkx(g):
    edges, n = g
    net, G = _net(edges, n), _nx(edges, n)
    ours = C.brokerage(net)
    # networkx 3.6's default (sparse) effective_size divides by the max of the wrong row
    # (column broadcast) and both of its per-node paths treat physicians who only receive
    # referrals as isolates (they test successors only); compare the per-node definition on
    # physicians who refer to somebody.
    con = nx.constraint(G, nodes=list(G), weight="weight")
    eff = nx.effective_size(G, nodes=list(G), weight="weight")
    refs = [k for k in net.npis if G.out_degree(k) > 0]
    np.testing.assert_allclose(ours.loc[refs, "constraint"], [con[k] for k in refs], atol=1e-10)
    np.testing.assert_allclose(ours.loc[refs, "effective_size"], [eff[k] for k in refs], atol=1e-10)
    sinks = [k for k in net.npis if G.out_degree(k) == 0 and G.in_degree(k) > 0]
    assert ours.loc[sinks, "constraint"].notna().all()


@SETTINGS
@given(graphs())
def test_local_structure_matches_networkx(g):
    edges, n = g
    net, G = _net(edges, n), _nx(edges, n)
    for weight in ("count", None):
        ours = C.clustering(net, weight=weight)["clustering"]
        ref = nx.clustering(G, weight=None if weight is None else "weight")
        np.testing.assert_allclose(ours.to_numpy(), _series(ref, net), atol=1e-10)
    U = nx.Graph()
    U.add_nodes_from(G)
    for u, v, d in G.edges(data=True):
        w = U.get_edge_data(u, v, {"weight": 0.0})["weight"]
        U.add_edge(u, v, weight=w + d["weight"])
    und = C.clustering(net, directed=False)["clustering"]
    np.testing.assert_allclose(und.to_numpy(), _series(nx.clustering(U, weight="weight"), net))
    und0 = C.clustering(net, directed=False, weight=None)
    assert und0.attrs["transitivity"] == pytest.approx(nx.transitivity(U))
    core = C.k_core(net)["core_number"]
    assert core.tolist() == [nx.core_number(G)[k] for k in net.npis]
    rec = C.reciprocity(net)
    assert rec.attrs["overall"] == pytest.approx(nx.overall_reciprocity(G))
    ref_r = nx.reciprocity(G, list(G))
    exp = np.array([np.nan if ref_r[k] is None else ref_r[k] for k in net.npis], dtype=float)
    np.testing.assert_allclose(rec["reciprocity"].to_numpy(), exp)


@SETTINGS
@given(graphs())
def test_degree_and_concentration_by_hand(g):
    edges, n = g
    net, G = _net(edges, n), _nx(edges, n)
    d = C.degree(net)
    assert d["in_degree"].tolist() == [G.in_degree(k) for k in net.npis]
    assert d["out_strength"].tolist() == [G.out_degree(k, weight="weight") for k in net.npis]
    assert d["degree"].tolist() == [len(set(nx.all_neighbors(G, k))) for k in net.npis]
    conc = C.concentration(net)
    for k in net.npis:
        ws = np.array([G[k][v]["weight"] for v in G.successors(k)])
        if len(ws):
            assert conc.loc[k, "hhi"] == pytest.approx(((ws / ws.sum()) ** 2).sum())
        else:
            assert np.isnan(conc.loc[k, "hhi"])


def test_adjusted_degree_and_bridges_by_hand():
    # node 0: 0 -> 1 (5 patients), 2 -> 0 (10), 0 -> 3 (2): 3 ties per 17 patients
    net = _net([(0, 1, 10), (2, 0, 20), (2, 3, 30), (0, 3, 5)], 4)
    d = C.degree(net)
    assert d.loc[_npi(0), "adjusted_degree"] == pytest.approx(100 * 3 / 17)
    panel = C.degree(net, patients_per_physician={_npi(0): 50})
    assert panel.loc[_npi(0), "adjusted_degree"] == pytest.approx(6.0)
    assert np.isnan(panel.loc[_npi(1), "adjusted_degree"])
    b = C.bridges(net, [_npi(1)], [_npi(3)])
    assert list(b.index) == [_npi(0)]
    assert b.loc[_npi(0)].to_dict() | {"group": "other"} == {
        "group": "other",
        "to_mine": 10.0,
        "from_mine": 0.0,
        "to_competitor": 5.0,
        "from_competitor": 0.0,
        "volume_mine": 10.0,
        "volume_competitor": 5.0,
        "share_mine": pytest.approx(2 / 3),
        "bridge_volume": 5.0,
    }
    with pytest.raises(NotFoundError):
        C.bridges(net, ["1999999999"], [_npi(3)])


def test_pagerank_personalised_restart_and_errors():
    net = _net([(0, 1, 1), (1, 2, 1), (3, 0, 5)], 4)
    pr = C.pagerank(net, personalization=[_npi(3)])["pagerank"]
    assert pr.sum() == pytest.approx(1.0)
    assert pr[_npi(3)] > 0.15
    with pytest.raises(ValidationError, match="alpha"):
        C.pagerank(net, alpha=1.5)
    with pytest.raises(NotFoundError):
        C.pagerank(net, personalization=["1999999999"])
    with pytest.raises(C.ConvergenceError):
        C.pagerank(net, max_iter=1)
    with pytest.raises(C.ConvergenceError):
        C.katz(_net([(0, 1, 1), (1, 0, 1)], 2), alpha=10.0)


def test_care_density_by_hand():
    net = _net([(0, 1, 2)], 3)
    enc = pd.DataFrame(
        {
            "patient_id": ["a", "a", "b", "b", "c", "c", "c"],
            "npi": [_npi(0), _npi(1), _npi(0), _npi(1), _npi(0), _npi(1), _npi(2)],
        }
    )
    cd = C.care_density(net, enc)
    # pair (0,1) shares 3 patients, (0,2) and (1,2) share 1
    assert cd.loc["a", "care_density"] == 3.0
    assert cd.loc["c", "care_density"] == pytest.approx(5 / 3)
    via_net = C.care_density(net, enc, source="network")  # patients column: 0<->1 = 1
    assert via_net.loc["a", "care_density"] == 1.0
    with pytest.raises(ValidationError, match="patient_id"):
        C.care_density(net, enc.rename(columns={"patient_id": "pid"}))


def test_permutation_invariance():
    rng = np.random.default_rng(5)
    n = 40
    pairs = sorted({(int(s), int(t)) for s, t in rng.integers(0, n, (150, 2)) if s != t})
    edges = [(s, t, float(rng.integers(1, 20))) for s, t in pairs]
    perm = rng.permutation(len(edges))
    a = C.pagerank(_net(edges, n))
    b = C.pagerank(_net([edges[i] for i in perm], n))
    pd.testing.assert_series_equal(a["pagerank"], b["pagerank"].loc[a.index], atol=1e-12)


# ------------------------------------------------------------------------------------ CKM (real)
def _ckm(datasets_dir, layers):  # type: ignore[no-untyped-def]
    from refgraph.datasets import ckm_network

    return ckm_network(datasets_dir / "ckm", layers=layers)


@pytest.mark.datasets
def test_ckm_reference_numbers(datasets_dir):
    pytest.importorskip("refgraph.datasets")
    expected_rec = {"advice": 0.1292, "discussion": 0.2372, "friend": 0.3281}
    max_in = {"advice": 20, "discussion": 19, "friend": 10}
    for layer, rec in expected_rec.items():
        net = _ckm(datasets_dir, [layer])
        assert C.reciprocity(net).attrs["overall"] == pytest.approx(rec, abs=5e-5)
        d = C.degree(net)
        assert d["out_degree"].max() <= 3
        assert d["in_degree"].max() == max_in[layer]
    union = _ckm(datasets_dir, ["advice", "discussion", "friend"])
    d = C.degree(union)
    assert (d["degree"] == 0).sum() == 5
    assert d["degree"].max() == 28
    assert d["degree"].median() == 7
    assert d["degree"].mean() * 246 / 241 == pytest.approx(7.668, abs=1e-3)
    cl = C.clustering(union, directed=False, weight=None)
    assert cl.attrs["transitivity"] == pytest.approx(0.2506, abs=5e-5)
    # the published average (0.3112) is over the 241 non-isolated physicians
    nz = cl["clustering"][d["degree"] > 0]
    assert nz.mean() == pytest.approx(0.3112, abs=5e-5)


def test_networkx_fallback_agrees_with_networkit(monkeypatch):
    rng = np.random.default_rng(8)
    n = 40
    pairs = sorted({(int(s), int(t)) for s, t in rng.integers(0, n, (160, 2)) if s != t})
    edges = [(s, t, float(5 + 7 * i)) for i, (s, t) in enumerate(pairs)]
    net = _net(edges, n)
    nk_b = C.betweenness(net, weight="count")
    nk_h = C.harmonic_closeness(net, weight="count", direction="out")
    # the engine switch is read where the shortest-path measures live
    monkeypatch.setattr(_shortest, "have_networkit", lambda: False)
    nx_b = C.betweenness(net, weight="count")
    assert nx_b.attrs["engine"] == "refgraph"  # weighted betweenness never needs networkx
    np.testing.assert_allclose(nx_b["betweenness"], nk_b["betweenness"], atol=1e-12)
    nx_h = C.harmonic_closeness(net, weight="count", direction="out")
    np.testing.assert_allclose(nx_h["harmonic_closeness"], nk_h["harmonic_closeness"])
    sampled = C.betweenness(net, k=10, seed=3)
    assert sampled.attrs["k"] == 10


@pytest.mark.parametrize("seed", range(4))
def test_transition_matrix_is_the_row_normalised_transpose(seed: int) -> None:
    # P^T built by one transpose scaled in place, a block at a time: the same entries,
    # bit for bit, as the reference formula (row-scale, then transpose), sorted rows;
    # the strength matrix is the CSR view itself when every entry is a tie
    import scipy.sparse as sp

    from refgraph import _kernels as K

    rng = np.random.default_rng(seed)
    n = 40
    pairs = [(int(s), int(t)) for s, t in rng.integers(0, n, (200, 2)) if s != t]
    edges = {pair: float(rng.integers(1, 50)) for pair in pairs}
    if seed % 2:  # a self-referral: filtered out of the strength matrix
        edges[(3, 3)] = 5.0
    net = ReferralNetwork.from_frames(
        physicians=pd.DataFrame({"npi": [_npi(i) for i in range(n)]}),
        flows=pd.DataFrame(
            {
                "source_npi": [_npi(s) for s, _ in edges],
                "target_npi": [_npi(t) for _, t in edges],
                "count": [int(w) for w in edges.values()],
            }
        ),
        self_referrals="keep",
    )
    a = K.strength_matrix(net, "count")
    assert (a is net.csr().matrix) == (seed % 2 == 0)
    assert a.diagonal().sum() == 0
    out_s = np.asarray(a.sum(axis=1), dtype=float)
    inv = np.divide(1.0, out_s, out=np.zeros(n), where=out_s > 0)
    want = sp.csr_array(sp.csr_array(a.multiply(inv[:, None])).T)
    want.sort_indices()
    for block in (1, 7, 1 << 20):
        pt, dangling = K.transition_t(a, block=block)
        assert pt.has_sorted_indices
        np.testing.assert_array_equal(pt.indptr, want.indptr)
        np.testing.assert_array_equal(pt.indices, want.indices)
        np.testing.assert_array_equal(pt.data, want.data)  # the same products, exactly
        assert dangling.tolist() == np.flatnonzero(out_s <= 0).tolist()
    assert a.data.tolist() == K.strength_matrix(net, "count").data.tolist()  # a left alone
