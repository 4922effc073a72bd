"""Bounded-memory build paths give the answers of the plain ones.

The physicians' pass codes NPIs a segment at a time, the undirected graph of
Louvain/Leiden is built from the two halves of the strength matrix, and the
modularity is read off that matrix a row block at a time; each is compared
here with the whole-array computation it replaces (``pandas.factorize``,
``scipy`` ``triu(A + A.T)``, NetworKit PLM on the graph built that way).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from refgraph import ReferralNetwork, npi_check_digit
from refgraph._codes import FirstSeenCoder
from refgraph._kernels import row_blocks, strength_matrix, upper_symmetric
from refgraph.community import leiden, louvain, modularity


def _npi(i: int) -> str:
    body = f"1{i + 300:08d}"
    return body + str(npi_check_digit(body))


def _flows(rng: np.random.Generator, n: int, m: int, *, dup: bool = False) -> pd.DataFrame:
    src = rng.integers(0, n, m)
    dst = (src + 1 + rng.integers(0, n - 1, m)) % n
    if not dup:  # one row a pair, as CMS files have
        keep = ~pd.Series(src * n + dst).duplicated().to_numpy()
        src, dst = src[keep], dst[keep]
    npis = np.array([_npi(i) for i in range(n)])
    return pd.DataFrame(
        {"source_npi": npis[src], "target_npi": npis[dst], "count": rng.integers(1, 60, len(src))}
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_first_seen_coder_matches_one_factorize(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 50, 400) * 1_000_003  # repeats, in no order
    cuts = np.sort(rng.choice(np.arange(1, 400), size=rng.integers(0, 12), replace=False))
    coder = FirstSeenCoder()
    codes = np.concatenate([coder.codes(part) for part in np.split(values, cuts)])
    ref_codes, ref_uniques = pd.factorize(values)
    assert codes.tolist() == ref_codes.tolist()
    assert coder.uniques.tolist() == ref_uniques.tolist()
    assert codes.dtype == np.int32


@pytest.mark.parametrize("segment", [1, 7, 64, 1 << 23])
def test_physicians_pass_by_segments_is_one_factorize(monkeypatch, segment: int) -> None:
    import refgraph._tables as tables

    rng = np.random.default_rng(5)
    flows = _flows(rng, 60, 300)
    phys = pd.DataFrame({"npi": [_npi(i) for i in (59, 3, 41)]})  # some known, in no order
    monkeypatch.setattr(tables, "_SEGMENT", segment)
    net = ReferralNetwork(physicians=phys, flows=flows)
    # the reference: one pandas.factorize over the NPIs as integers, physicians first
    f = net.flows
    every = np.concatenate(
        [phys["npi"].to_numpy(), f["source_npi"].to_numpy(), f["target_npi"].to_numpy()]
    ).astype(np.int64)
    codes, uniques = pd.factorize(every)
    assert net.physicians["npi"].astype(np.int64).tolist() == uniques.tolist()
    m = len(f)
    csr = net.csr().matrix.tocoo()
    ref = sp.coo_array(
        (f["count"].to_numpy(float), (codes[3 : 3 + m], codes[3 + m :])), shape=csr.shape
    ).tocsr()
    assert abs(net.csr().matrix - ref).sum() == 0


def test_physicians_pass_falls_back_when_a_later_segment_has_no_number(monkeypatch) -> None:
    import refgraph._tables as tables

    monkeypatch.setattr(tables, "_SEGMENT", 2)
    flows = pd.DataFrame({"source_npi": [_npi(i) for i in range(5)] + ["x"]})
    got = tables.physicians_and_flow_ids(
        {
            "physicians": tables.empty_table("physicians"),
            "flows": flows.assign(target_npi=[_npi(9)] * 6),
            "events": tables.empty_table("events"),
            "touchpoints": tables.empty_table("touchpoints"),
        }
    )
    phys, ids = got
    assert ids is None  # a value that is no number: the text path, as before
    assert phys["npi"].tolist() == [_npi(i) for i in range(5)] + ["x", _npi(9)]


@pytest.mark.parametrize("block", [1, 3, 50, 1 << 22])
@pytest.mark.parametrize("seed", [0, 1])
def test_upper_symmetric_is_triu_of_a_plus_transpose(block: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 40, 500
    a = sp.csr_array(
        (rng.random(m) * 10, (rng.integers(0, n, m), rng.integers(0, n, m))), shape=(n, n)
    )
    a.sum_duplicates()  # canonical; its diagonal is kept here and must be dropped
    ref = sp.csr_array(sp.triu(a + a.T, k=1, format="csr"))
    ref.sort_indices()
    u = upper_symmetric(a, block=block)
    assert u.has_canonical_format
    assert u.indptr.tolist() == ref.indptr.tolist()
    assert u.indices.tolist() == ref.indices.tolist()
    assert u.data.tolist() == ref.data.tolist()  # the same floats, not only close ones


def test_row_blocks_cover_every_row_once() -> None:
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 25))
        counts = rng.integers(0, 6, n) * (rng.random(n) < 0.7)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        block = int(rng.integers(1, 8))
        got = row_blocks(indptr, block)
        assert [r for r0, r1 in got for r in range(r0, r1)] == list(range(n))
        for r0, r1 in got:
            assert indptr[r1] - indptr[r0] <= block + indptr[r0 + 1] - indptr[r0]


def _old_louvain_labels(net: ReferralNetwork, seed: int) -> np.ndarray:
    """PLM on the graph built as before: ``GraphFromCsr(triu(A + A.T, 1))``."""
    import networkit as nk

    from refgraph._kernels import seed_networkit

    a = strength_matrix(net, "count")
    s = sp.csr_array(a + a.T)
    s.sort_indices()
    u = sp.csr_matrix(sp.triu(s, k=1, format="csr"))
    g = nk.graph.GraphFromCsr(u, directed=False, weighted=True)
    seed_networkit(seed)
    algo = nk.community.PLM(g, refine=False, gamma=1.0, par="none randomized")
    algo.run()
    return np.asarray(algo.getPartition().getVector(), dtype=np.int64)


def test_undirected_networkit_graph_is_the_old_one_edge_for_edge() -> None:
    import networkit as nk

    from refgraph._kernels import undirected_networkit

    net = ReferralNetwork.from_frames(flows=_flows(np.random.default_rng(4), 300, 2500))
    a = strength_matrix(net, "count")
    s = sp.csr_array(a + a.T)
    s.sort_indices()
    old = nk.graph.GraphFromCsr(
        sp.csr_matrix(sp.triu(s, k=1, format="csr")), directed=False, weighted=True
    )
    new = undirected_networkit(a)
    assert new.numberOfNodes() == old.numberOfNodes() == a.shape[0]
    assert new.numberOfEdges() == old.numberOfEdges()
    for v in range(a.shape[0]):  # the same neighbours and weights at every node
        got = sorted((u, new.weight(v, u)) for u in new.iterNeighbors(v))
        assert got == sorted((u, old.weight(v, u)) for u in old.iterNeighbors(v))


@pytest.mark.parametrize("cached", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 7])
def test_louvain_partition_is_the_one_of_the_old_graph(
    monkeypatch, seed: int, cached: bool
) -> None:
    import refgraph._kernels as kernels

    if not cached:  # a network above the size whose graph is cached
        monkeypatch.setattr(kernels, "CACHE_UNDIRECTED_MAX", 10)
    net = ReferralNetwork.from_frames(flows=_flows(np.random.default_rng(seed), 400, 3000))
    got = louvain(net, seed=seed)["community"].to_numpy()
    pd.testing.assert_series_equal(
        louvain(net, seed=seed)["community"], pd.Series(got, index=net.npis, name="community")
    )  # a second call (on the cached graph, or a rebuilt one) gives the same
    old = _old_louvain_labels(net, seed)
    # the same partition (labels are canonicalised by louvain, so compare the groupings)
    assert pd.crosstab(got, old).gt(0).sum(axis=1).eq(1).all()
    assert len(np.unique(got)) == len(np.unique(old))


def test_modularity_from_the_strength_matrix_matches_networkx() -> None:
    rng = np.random.default_rng(11)
    flows = _flows(rng, 80, 900)
    flows["count"] = rng.random(len(flows)) * 5 + 0.5  # non-integer weights too
    net = ReferralNetwork.from_frames(flows=flows.assign(count=flows["count"].round(3)))
    res = leiden(net, seed=2)
    g = nx.Graph()
    g.add_nodes_from(net.npis)
    for s, t, w in net.edges()[["source_npi", "target_npi", "count"]].itertuples(index=False):
        prev = g.get_edge_data(s, t, {"weight": 0.0})["weight"]
        g.add_edge(s, t, weight=prev + float(w))
    parts = [set(res.index[res["community"] == c]) for c in res["community"].unique()]
    for gamma in (0.5, 1.0, 2.0):
        ref = nx.community.modularity(g, parts, weight="weight", resolution=gamma)
        assert modularity(net, res, resolution=gamma) == pytest.approx(ref, rel=1e-12)
    assert res.attrs["modularity"] == pytest.approx(modularity(net, res), rel=1e-12)


def test_pagerank_without_a_cached_transition_matrix_is_the_same(monkeypatch) -> None:
    import refgraph.centrality._spectral as spectral
    from refgraph.centrality import pagerank

    net = ReferralNetwork.from_frames(flows=_flows(np.random.default_rng(8), 200, 1500))
    cached = pagerank(net, alpha=0.9)
    other = ReferralNetwork.from_frames(flows=net.flows)
    monkeypatch.setattr(spectral, "CACHE_TRANSITION_MAX", 10)  # this network is above it
    built = pagerank(other, alpha=0.9)
    again = pagerank(other, alpha=0.9)
    pd.testing.assert_frame_equal(cached, built)
    pd.testing.assert_frame_equal(built, again)
    g = nx.DiGraph()
    for s, t, w in net.edges()[["source_npi", "target_npi", "count"]].itertuples(index=False):
        g.add_edge(s, t, weight=float(w))
    ref = nx.pagerank(g, alpha=0.9, weight="weight", tol=1e-12)
    assert np.allclose(built["pagerank"].reindex(list(ref)).to_numpy(), list(ref.values()))


def test_betweenness_without_a_cached_cost_matrix_is_the_same(monkeypatch) -> None:
    import refgraph._kernels as kernels
    from refgraph.centrality import betweenness

    rng = np.random.default_rng(9)
    flows = _flows(rng, 120, 700)
    flows["count"] = rng.choice([1, 2, 4], len(flows))  # 1/count is exact: nx sums agree
    key, unset = ("refgraph._kernels.cost_csr", "count"), object()
    net = ReferralNetwork.from_frames(flows=flows)
    cached = betweenness(net, k=40, seed=3, weight="count")
    assert net.cached_view(key, lambda: unset) is not unset  # below the limit it is kept
    other = ReferralNetwork.from_frames(flows=flows)
    monkeypatch.setattr(kernels, "CACHE_COST_MAX", 10)  # this network is above it
    built = betweenness(other, k=40, seed=3, weight="count")
    again = betweenness(other, k=40, seed=3, weight="count")
    pd.testing.assert_frame_equal(cached, built)
    pd.testing.assert_frame_equal(built, again)
    exact = betweenness(other, weight="count", normalized=False)
    assert other.cached_view(key, lambda: unset) is unset  # nothing was held after the calls
    g = nx.DiGraph()
    for s, t, w in flows[["source_npi", "target_npi", "count"]].itertuples(index=False):
        g.add_edge(s, t, weight=1.0 / float(w))
    ref = nx.betweenness_centrality(g, weight="weight", normalized=False)
    assert np.allclose(exact["betweenness"].reindex(list(ref)).to_numpy(), list(ref.values()))
