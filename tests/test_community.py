"""Communities: modularity vs networkx, Louvain/Leiden behaviour, CKM towns, summary table."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refgraph import ReferralNetwork, ValidationError, npi_check_digit
from refgraph.community import community_summary, leiden, louvain, modularity


def _npi(i: int) -> str:
    body = f"1{i + 700:08d}"
    return body + str(npi_check_digit(body))


def _planted(groups: int, size: int, seed: int) -> tuple[ReferralNetwork, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = groups * size
    truth = np.repeat(np.arange(groups), size)
    edges = {}
    for _ in range(n * 8):
        s, t = (int(x) for x in rng.integers(0, n, 2))
        if s == t:
            continue
        same = truth[s] == truth[t]
        if same or rng.random() < 0.03:
            edges[(s, t)] = int(rng.integers(1, 30)) if same else 1
    spec = np.where(truth % 2 == 0, "cardiology", "family_medicine")
    phys = pd.DataFrame({"npi": [_npi(i) for i in range(n)], "specialty": spec})
    flows = pd.DataFrame(
        {
            "source_npi": [_npi(s) for s, _ in edges],
            "target_npi": [_npi(t) for _, t in edges],
            "count": list(edges.values()),
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows), truth


def _undirected(net: ReferralNetwork) -> nx.Graph:
    g = nx.Graph()
    g.add_nodes_from(net.npis)
    for s, t, w in net.edges()[["source_npi", "target_npi", "count"]].itertuples(index=False):
        prev = g.get_edge_data(s, t, {"weight": 0.0})["weight"]
        g.add_edge(s, t, weight=prev + float(w))
    return g


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.2, 2.0))
def test_modularity_matches_networkx(seed, resolution):
    net, _ = _planted(3, 8, seed)
    rng = np.random.default_rng(seed)
    labels = pd.Series(rng.integers(0, 4, len(net.npis)), index=net.npis)
    g = _undirected(net)
    parts = [set(labels.index[labels == c]) for c in labels.unique()]
    ref = nx.community.modularity(g, parts, weight="weight", resolution=resolution)
    assert modularity(net, labels, resolution=resolution) == pytest.approx(ref)


@pytest.mark.parametrize("algo", [louvain, leiden])
def test_recovers_planted_groups_and_is_reproducible(algo):
    net, truth = _planted(4, 25, seed=1)
    res = algo(net, seed=3)
    ari_like = pd.crosstab(res["community"].to_numpy(), truth)
    assert (ari_like.gt(0).sum(axis=1) == 1).all()  # no community mixes planted groups
    assert res["community"].nunique() == 4
    assert res.attrs["modularity"] == pytest.approx(modularity(net, res))
    pd.testing.assert_frame_equal(res, algo(net, seed=3))
    sizes = res["community"].value_counts().sort_index()
    assert sizes.is_monotonic_decreasing  # canonical labels: 0 is the largest


def test_louvain_close_to_networkx_modularity():
    net, _ = _planted(5, 30, seed=2)
    ours = louvain(net, seed=1).attrs["modularity"]
    comms = nx.community.louvain_communities(_undirected(net), weight="weight", seed=1)
    ref = nx.community.modularity(_undirected(net), comms, weight="weight")
    assert ours == pytest.approx(ref, abs=0.02)
    fine = louvain(net, seed=1, resolution=3.0)
    assert fine["community"].nunique() >= 5
    with pytest.raises(ValidationError, match="resolution"):
        louvain(net, resolution=-1)


def test_summary_table_by_hand():
    net, truth = _planted(2, 10, seed=4)
    comm = pd.Series(truth, index=net.npis)
    s = community_summary(net, comm)
    e = net.edges()
    src = comm.reindex(e["source_npi"]).to_numpy()
    dst = comm.reindex(e["target_npi"]).to_numpy()
    w = e["count"].to_numpy(dtype=float)
    for c in (0, 1):
        internal = w[(src == c) & (dst == c)].sum()
        out = w[(src == c) & (dst != c)].sum()
        inn = w[(src != c) & (dst == c)].sum()
        row = s.loc[c]
        assert row["size"] == 10
        assert row["volume_internal"] == internal
        assert row["internal_share"] == pytest.approx(internal / (internal + out + inn))
    assert s.loc[0, "top_specialty"] == "cardiology"
    assert s.loc[1, "dominant_specialties"] == "family_medicine 100%"
    with pytest.raises(ValidationError, match="no community"):
        community_summary(net, comm.iloc[:5])


@pytest.mark.datasets
def test_ckm_louvain_never_merges_towns(datasets_dir):
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm", aggregate=True)
    town = net.physicians.set_index("npi").loc[list(net.npis), "city"].to_numpy()
    for algo in (louvain, leiden):
        for seed in (1, 2, 3):
            res = algo(net, seed=seed)
            per = pd.crosstab(res["community"].to_numpy(), town)
            assert (per.gt(0).sum(axis=1) == 1).all(), "a community spans two towns"
    summary = community_summary(net, louvain(net, seed=1))
    assert summary["size"].sum() == 246


def test_networkx_fallback(monkeypatch):
    import refgraph.community as community

    net, truth = _planted(3, 15, seed=5)
    monkeypatch.setattr(community, "have_networkit", lambda: False)
    res = louvain(net, seed=1)
    assert res.attrs["engine"] == "networkx.louvain_communities"
    per = pd.crosstab(res["community"].to_numpy(), truth)
    assert (per.gt(0).sum(axis=1) == 1).all()
