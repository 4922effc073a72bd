"""``ReferralNetwork.summary`` against figures computed independently (pandas + networkx)."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, npi_check_digit


def make_npi(i: int) -> str:
    p = f"1{i:08d}"
    return p + str(npi_check_digit(p))


def reference(
    physicians: pd.DataFrame | None, flows: pd.DataFrame, *, practices: int = 0, events: int = 0
) -> dict[str, object]:
    """The summary figures from the input frames, with networkx and plain pandas only."""
    ends = list(flows["source_npi"].astype(str)) + list(flows["target_npi"].astype(str))
    known = [] if physicians is None else list(physicians["npi"].astype(str))
    nodes = pd.Index(known + ends).unique()
    G = nx.DiGraph()
    G.add_nodes_from(nodes)
    G.add_edges_from(zip(flows["source_npi"].astype(str), flows["target_npi"].astype(str)))
    loops = nx.number_of_selfloops(G)
    H = G.copy()
    H.remove_edges_from(list(nx.selfloop_edges(H)))
    n = G.number_of_nodes()
    comps = list(nx.weakly_connected_components(G))
    patients = pd.to_numeric(flows.get("patients", pd.Series([], dtype=float)))
    return {
        "physicians": n,
        "practices": practices,
        "flows": len(flows),
        "edges": G.number_of_edges(),
        "total_volume": int(pd.to_numeric(flows["count"]).sum()),
        "total_patients": int(patients.sum()) if patients.notna().any() else 0,
        "density": (G.number_of_edges() - loops) / (n * (n - 1)) if n > 1 else math.nan,
        "weak_components": len(comps),
        "largest_component": max((len(c) for c in comps), default=0),
        "reciprocity": nx.overall_reciprocity(H) if H.number_of_edges() else math.nan,
        "isolates": nx.number_of_isolates(H),
        "events": events,
        "touchpoints": 0,
        "rejected_rows": 0,
    }


def assert_matches(got: pd.Series, want: dict[str, object]) -> None:
    assert list(got.index) == list(want)
    for key, value in want.items():
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(got[key], float) and math.isnan(got[key]), key
        elif isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-12), key
        else:
            assert got[key] == value and type(got[key]) is int, (key, got[key], value)


def test_ckm_matches_networkx(datasets_dir: Path) -> None:
    from refgraph.datasets import ckm_network, load_ckm

    tables = load_ckm(datasets_dir / "ckm")  # three layers: repeated pairs are one edge
    net = ckm_network(datasets_dir / "ckm")
    want = reference(tables["physicians"], tables["flows"])
    assert want["flows"] > want["edges"]  # several flows per pair, as intended
    assert_matches(net.summary(), want)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_synthetic_matches_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, m = 300, 2000
    npis = [make_npi(i) for i in range(n)]
    src = rng.integers(0, n // 2, m)  # half the physicians can only receive; some none at all
    dst = rng.integers(0, n - 20, m)
    flows = pd.DataFrame(
        {
            "source_npi": [npis[i] for i in src],
            "target_npi": [npis[i] for i in dst],
            "count": rng.integers(9, 60, m),  # never fewer than patients
            "patients": pd.array(
                np.where(rng.random(m) < 0.3, None, rng.integers(1, 9, m)), dtype="Int64"
            ),
            "provenance": rng.choice(["a", "b", "c"], m),  # duplicates of a pair stay apart
        }
    )
    flows = flows.drop_duplicates(["source_npi", "target_npi", "provenance"])
    phys = pd.DataFrame({"npi": npis})
    net = ReferralNetwork(physicians=phys, flows=flows, self_referrals="keep")
    assert (src == dst).any()  # self-referrals are edges, not reciprocity or density
    assert len(net.flows) == len(flows)
    assert_matches(net.summary(), reference(phys, flows))


def test_edge_cases() -> None:
    empty = ReferralNetwork()
    s = empty.summary()
    assert s["physicians"] == 0 and s["edges"] == 0 and s["weak_components"] == 0
    assert math.isnan(s["density"]) and math.isnan(s["reciprocity"])
    a, b = make_npi(1), make_npi(2)
    only_loop = pd.DataFrame({"source_npi": [a], "target_npi": [a], "count": [3]})
    net = ReferralNetwork(flows=only_loop, self_referrals="keep")
    assert_matches(net.summary(), reference(None, only_loop))
    one = pd.DataFrame({"source_npi": [a], "target_npi": [b], "count": [3]})
    assert_matches(ReferralNetwork(flows=one).summary(), reference(None, one))


@pytest.mark.parametrize("seed", range(5))
def test_structure_counts_brute_force(seed: int) -> None:
    import scipy.sparse as sp

    from refgraph._views import structure_counts

    rng = np.random.default_rng(seed)
    n = 40
    dense = (rng.random((n, n)) < 0.04).astype(int)  # empty rows, loops, reverse pairs
    dense[rng.integers(0, n, 5), rng.integers(0, n, 5)] = 1
    a = sp.csr_array(dense)
    loops, recip, degree = structure_counts(a.indptr, a.indices, n)
    off = dense.copy()
    np.fill_diagonal(off, 0)
    assert loops == int(np.trace(dense))
    assert recip == int((off * off.T).sum())
    assert degree.tolist() == (off.sum(axis=0) + off.sum(axis=1)).tolist()
