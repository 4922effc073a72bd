"""The compact table layer: physicians implied by other tables, views from integer codes."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import refgraph
from refgraph import ReferralNetwork, npi_check_digit


def _npi(body: str) -> str:
    return body + str(npi_check_digit(body))


def test_missing_physicians_in_order_of_first_appearance() -> None:
    a, b, c, d, e = (_npi(f"{i}{i}{i}4567890"[:9]) for i in range(1, 6))
    zero = _npi("000000000")  # a valid NPI with leading zeros: "0000000006"
    assert zero == "0000000006"
    phys = pd.DataFrame({"npi": [c], "name": ["Known"]})
    flows = pd.DataFrame(
        {"source_npi": [b, zero, c], "target_npi": [a, b, zero], "count": [1, 2, 3]}
    )
    events = pd.DataFrame(
        {"source_npi": [d], "target_npi": [a], "date": ["2024-01-02"], "status": ["referred"]}
    )
    touch = pd.DataFrame({"npi": [e, d], "date": ["2024-01-03"] * 2, "kind": ["visit"] * 2})
    net = ReferralNetwork(physicians=phys, flows=flows, events=events, touchpoints=touch)
    # the physicians table first, then sources, targets, event sources, event targets, touchpoints
    assert net.physicians["npi"].tolist() == [c, b, zero, a, d, e]
    assert net.physicians["name"].tolist()[:1] == ["Known"]
    assert net.physicians["name"].iloc[1:].isna().all()
    assert isinstance(net.physicians["npi"].iloc[2], str)
    assert net.physicians["npi"].iloc[2] == "0000000006"


def _random_flows(rng: np.random.Generator, n: int, m: int) -> tuple[list[str], pd.DataFrame]:
    bodies = rng.choice(np.arange(100_000_000, 199_999_999), size=n, replace=False)
    npis = [_npi(str(b)) for b in bodies]
    src = rng.integers(0, n, m)
    dst = (src + 1 + rng.integers(0, n - 1, m)) % n
    periods = rng.choice(["2023-01-01", "2024-01-01"], m)
    count = rng.integers(11, 100, m)
    patients = np.minimum(rng.integers(11, 40, m), count).astype(float)
    patients[rng.random(m) < 0.3] = np.nan
    flows = pd.DataFrame(
        {
            "source_npi": np.asarray(npis)[src],
            "target_npi": np.asarray(npis)[dst],
            "count": count,
            "patients": patients,
            "period_start": periods,
        }
    )
    return npis, flows


@pytest.mark.parametrize("weight", ["count", "patients"])
def test_csr_matches_a_networkx_sum_of_flows(weight: str) -> None:
    rng = np.random.default_rng(3)
    npis, flows = _random_flows(rng, 60, 400)  # many pairs repeat over the two periods
    phys = pd.DataFrame({"npi": npis[::-1]})  # node order is the physicians order
    net = ReferralNetwork(physicians=phys, flows=flows)
    g = net.csr(weight=weight)
    G = nx.DiGraph()
    G.add_nodes_from(npis[::-1])
    for s, t, w in zip(flows["source_npi"], flows["target_npi"], flows[weight]):
        w = 0.0 if pd.isna(w) else float(w)
        if s != t:
            G.add_edge(s, t, weight=G.get_edge_data(s, t, {"weight": 0.0})["weight"] + w)
    ref = nx.to_scipy_sparse_array(G, nodelist=npis[::-1], weight="weight", format="csr")
    assert list(g.npis) == npis[::-1]
    # the node labels are the network's string index, not a copy as Python objects
    assert g.npis is net.npis and g.npis.dtype != object
    assert g.index_of(npis[::-1]).tolist() == list(range(len(npis)))
    assert g.m == G.number_of_edges()
    assert np.array_equal(g.matrix.toarray(), ref.toarray())
    # the node ids cached at construction and those rebuilt from the tables agree
    net.clear_cached_views()
    assert np.array_equal(net.csr(weight=weight).matrix.toarray(), ref.toarray())
    edges = net.edges(weight=weight)
    assert len(edges) == g.m
    assert edges[weight].fillna(0).sum() == pytest.approx(g.data.sum())


def test_views_follow_added_flows() -> None:
    rng = np.random.default_rng(5)
    npis, flows = _random_flows(rng, 30, 100)
    net = ReferralNetwork(flows=flows.iloc[:50])
    before = net.csr().data.sum()
    new = _npi("987654321")
    net.add_flows(pd.DataFrame({"source_npi": [new], "target_npi": [npis[0]], "count": [13]}))
    g = net.csr()
    assert g.data.sum() == before + 13
    assert g.matrix[g.index_of(new)[0], g.index_of(npis[0])[0]] == 13


def test_load_restores_the_same_network(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(7)
    npis, flows = _random_flows(rng, 40, 200)
    net = ReferralNetwork(physicians=pd.DataFrame({"npi": npis[:10]}), flows=flows)
    back = refgraph.load(net.save(tmp_path / "net"))
    assert back == net
    assert back.physicians["npi"].tolist() == net.physicians["npi"].tolist()
    assert np.array_equal(back.csr().matrix.toarray(), net.csr().matrix.toarray())


def test_npi_ints_chunk_by_chunk() -> None:
    # a column of several Arrow chunks (a Parquet file's row groups) is read chunk by chunk
    from refgraph._tables import npi_ints

    chunks = pa.chunked_array([["1234567893", None], [], ["1003033051"]], type=pa.large_string())
    col = pd.Series(pd.array(chunks, dtype="string"))
    assert npi_ints(col).tolist() == [1234567893, -1, 1003033051]
    bad = pd.Series(pd.array(pa.chunked_array([["1234567893"], ["x1"]]), dtype="string"))
    assert npi_ints(bad).tolist() == [-2, -3]  # not numbers: codes of the strings
