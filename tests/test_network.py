"""ReferralNetwork: construction, views, selection, summary, persistence."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refgraph
from refgraph import NotFoundError, ReferralNetwork, ValidationError, npi_check_digit


def make_npi(i: int) -> str:
    p = f"1{i:08d}"
    return p + str(npi_check_digit(p))


@pytest.fixture
def small() -> ReferralNetwork:
    a, b, c, d = (make_npi(i) for i in range(4))
    phys = pd.DataFrame(
        {
            "npi": [a, b, c, d],
            "name": ["A", "B", "C", "D"],
            "specialty": ["family_medicine", "cardiology", "cardiology", "urology"],
            "lat": [42.36, 42.37, 42.30, 40.71],
            "lon": [-71.06, -71.10, -71.20, -74.0],
            "zip": ["02114", "02139", "02458", "10001"],
        }
    )
    flows = pd.DataFrame(
        {
            "source_npi": [a, a, b, a],
            "target_npi": [b, c, a, b],
            "count": [10, 5, 2, 4],
            "patients": [6, 5, 2, 3],
            "period_start": ["2023-01-01", "2023-01-01", "2023-01-01", "2024-01-01"],
            "period_end": ["2023-12-31", "2023-12-31", "2023-12-31", "2024-12-31"],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def test_views_aggregate_periods(small: ReferralNetwork) -> None:
    a, b, c, d = (make_npi(i) for i in range(4))
    e = small.edges().set_index(["source_npi", "target_npi"])
    assert e.loc[(a, b), "count"] == 14 and e.loc[(a, b), "patients"] == 9
    G = small.to_networkx()
    assert set(G.nodes) == {a, b, c, d}
    assert G[a][b]["weight"] == 14.0 and G.nodes[a]["name"] == "A"
    g = small.csr()
    assert (g.n, g.m) == (4, 3)
    i, j = g.index_of([a, b])
    assert g.matrix[i, j] == 14.0
    np.testing.assert_allclose(
        nx.to_scipy_sparse_array(G, nodelist=list(small.npis), weight="weight").toarray(),
        g.matrix.toarray(),
    )
    gp = small.csr(weight="patients")
    assert gp.matrix[i, j] == 9.0


def test_summary(small: ReferralNetwork) -> None:
    s = small.summary()
    assert s["physicians"] == 4 and s["flows"] == 4 and s["edges"] == 3
    assert s["total_volume"] == 21
    assert s["weak_components"] == 2 and s["largest_component"] == 3 and s["isolates"] == 1
    # edges a->b, a->c, b->a: a<->b reciprocated, so 2 of 3 edges have a reverse
    assert s["reciprocity"] == pytest.approx(2 / 3)
    assert s["density"] == pytest.approx(3 / 12)
    G = small.to_networkx()
    assert s["reciprocity"] == pytest.approx(nx.reciprocity(G))
    assert s["weak_components"] == nx.number_weakly_connected_components(G)


def test_physicians_only_in_flows_are_added() -> None:
    flows = pd.DataFrame({"source_npi": [make_npi(1)], "target_npi": [make_npi(2)], "count": [1]})
    net = ReferralNetwork.from_frames(flows=flows)
    assert sorted(net.physicians["npi"]) == [make_npi(1), make_npi(2)]
    assert net.physicians["name"].isna().all()


def test_select(small: ReferralNetwork) -> None:
    a, b, c, d = (make_npi(i) for i in range(4))
    with pytest.warns(UserWarning, match="none of the 4 flows"):
        assert set(small.select(specialty="Cardiology").physicians["npi"]) == {b, c}
    boston = small.select(within_km=(42.36, -71.06, 25))
    assert set(boston.physicians["npi"]) == {a, b, c}
    assert boston.n_flows == 4
    with pytest.warns(UserWarning, match="flows='either'"):
        assert set(small.select(zips=[2114, "10001"]).physicians["npi"]) == {a, d}
    y24 = small.select(period=("2024-01-01", "2024-12-31"))
    assert y24.flows["count"].tolist() == [4]
    with pytest.raises(ValidationError):
        small.select(within_km=(0, 0, -1))
    with pytest.raises(ValidationError, match="flows: expected one of"):
        small.select(specialty="cardiology", flows="any")


@pytest.mark.parametrize("mode", ["both", "either", "from", "to"])
@pytest.mark.parametrize("chosen", [[0], [1, 2], [0, 3], [1, 2, 3]])
def test_select_flow_modes_against_definition(
    small: ReferralNetwork, mode: str, chosen: list[int]
) -> None:
    """Each ``flows=`` mode keeps exactly the flows its definition names (brute force)."""
    npi = [make_npi(i) for i in range(4)]
    keep = {npi[i] for i in chosen}
    rule = {
        "both": lambda s, t: s in keep and t in keep,
        "either": lambda s, t: s in keep or t in keep,
        "from": lambda s, t: s in keep,
        "to": lambda s, t: t in keep,
    }[mode]
    want = [
        (s, t, n)
        for s, t, n in zip(
            small.flows["source_npi"], small.flows["target_npi"], small.flows["count"]
        )
        if rule(s, t)
    ]
    zips = small.physicians.set_index("npi").loc[sorted(keep), "zip"].tolist()
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sub = small.select(zips=zips, flows=mode)
    got = list(zip(sub.flows["source_npi"], sub.flows["target_npi"], sub.flows["count"]))
    assert sorted(got) == sorted(want)
    ends = {x for s, t, _ in want for x in (s, t)}
    want_phys = keep if mode == "both" else keep | ends
    assert set(sub.physicians["npi"]) == want_phys
    # the other ends come with their own rows, not bare NPIs
    names = sub.physicians.set_index("npi")["name"]
    assert names.loc[sorted(want_phys)].notna().all()
    assert bool(caught) == (not want), [str(w.message) for w in caught]


def test_select_either_gives_meaningful_pagerank(small: ReferralNetwork) -> None:
    """The README case: cardiologists with the flows they receive rank above 1/n."""
    from refgraph import centrality

    sub = small.select(specialty="cardiology", flows="to")
    pr = centrality.pagerank(sub)
    assert pr["pagerank"].nunique() > 1
    b, c = make_npi(1), make_npi(2)
    # b receives 14 referrals from a, c receives 5: b ranks above c (networkx agrees)
    g = nx.DiGraph()
    for s, t, w in zip(sub.flows["source_npi"], sub.flows["target_npi"], sub.flows["count"]):
        g.add_edge(s, t, weight=g.get_edge_data(s, t, {"weight": 0})["weight"] + w)
    ref = nx.pagerank(g, weight="weight")
    assert pr.loc[b, "pagerank"] == pytest.approx(ref[b], rel=1e-6)
    assert pr.loc[b, "pagerank"] > pr.loc[c, "pagerank"]


def test_physician_lookup(small: ReferralNetwork) -> None:
    assert small.physician(make_npi(0))["name"] == "A"
    with pytest.raises(NotFoundError):
        small.physician(make_npi(99))


def test_add_methods_mutate_and_return(small: ReferralNetwork) -> None:
    a, b = make_npi(0), make_npi(1)
    before = small.csr().matrix[0, 1]
    out = small.add_flows(
        pd.DataFrame(
            {
                "source_npi": [a],
                "target_npi": [b],
                "count": [1],
                "period_start": ["2023-01-01"],
                "period_end": ["2023-12-31"],
            }
        )
    )
    assert out is small
    assert small.csr().matrix[0, 1] == before + 1  # caches were invalidated
    assert small.n_flows == 4  # merged with the existing 2023 flow
    small.add_physicians(pd.DataFrame({"npi": [a, make_npi(7)], "name": ["A2", "G"]}))
    assert small.physician(a)["name"] == "A2" and small.n_physicians == 5
    small.add_flows(pd.DataFrame({"source_npi": ["bad"], "target_npi": [b], "count": [1]}))
    assert "flows" in set(small.rejected["table"])


def test_save_load_round_trip(small: ReferralNetwork, tmp_path: Path) -> None:
    p = small.save(tmp_path / "net")
    back = refgraph.load(p)
    assert back == small
    for t in ("physicians", "flows"):
        pd.testing.assert_frame_equal(back.tables[t], small.tables[t])
    with pytest.raises(ValidationError, match="exists"):
        small.save(tmp_path / "net")
    small.save(tmp_path / "net", overwrite=True)
    (tmp_path / "other").mkdir()
    with pytest.raises(ValidationError, match="not a saved refgraph"):
        small.save(tmp_path / "other", overwrite=True)
    with pytest.raises(
        ValidationError, match=r"not a refgraph network folder: .* no refgraph\.json"
    ):
        refgraph.load(tmp_path / "other")
    with pytest.raises(NotFoundError, match="does not exist"):
        refgraph.load(tmp_path / "nothing")


def test_rejects_survive_round_trip(tmp_path: Path) -> None:
    flows = pd.DataFrame(
        {"source_npi": [make_npi(1), "x"], "target_npi": [make_npi(2)] * 2, "count": [1, 1]}
    )
    net = ReferralNetwork.from_frames(flows=flows)
    back = refgraph.load(net.save(tmp_path / "n"))
    pd.testing.assert_frame_equal(back.rejected, net.rejected)


npi_pool = [make_npi(i) for i in range(12)]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edges=st.lists(
        st.tuples(
            st.sampled_from(npi_pool),
            st.sampled_from(npi_pool),
            st.integers(0, 10_000),
            st.one_of(st.none(), st.integers(0, 50)),
            st.sampled_from([None, "2023-01-01", "2024-06-30"]),
            st.sampled_from(["cms", "crm", None]),
        ),
        max_size=40,
    ),
    names=st.lists(st.one_of(st.none(), st.text(max_size=20)), min_size=12, max_size=12),
    coords=st.lists(st.one_of(st.none(), st.floats(-89, 89)), min_size=12, max_size=12),
)
def test_save_load_round_trip_property(edges, names, coords, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    phys = pd.DataFrame(
        {
            "npi": npi_pool,
            "name": names,
            "lat": coords,
            "specialty": ["cardiology"] * 6 + [None] * 6,
        }
    )
    flows = pd.DataFrame(
        edges,
        columns=["source_npi", "target_npi", "count", "patients", "period_start", "provenance"],
    )
    net = ReferralNetwork.from_frames(physicians=phys, flows=flows, self_referrals="keep")
    d = tmp_path_factory.mktemp("rt")
    back = refgraph.load(net.save(d / "net"))
    assert back == net
    assert back.summary().equals(net.summary())


def test_networkx_round_trip(small: ReferralNetwork) -> None:
    G = small.to_networkx()
    back = ReferralNetwork.from_networkx(G)
    assert back.edges().sort_values(["source_npi", "target_npi"])["count"].tolist() == sorted(
        [14, 5, 2], key=lambda v: v
    ) or set(back.edges()["count"]) == {14, 5, 2}
    assert back.n_physicians == 4
    U = nx.Graph()
    U.add_edge(make_npi(0), make_npi(1), weight=3)
    assert ReferralNetwork.from_networkx(U).n_flows == 2


def test_exports(small: ReferralNetwork, tmp_path: Path) -> None:
    gm = small.to_graphml(tmp_path / "n.graphml")
    G = nx.read_graphml(gm)
    assert G.number_of_nodes() == 4 and G.number_of_edges() == 3
    assert G[make_npi(0)][make_npi(1)]["count"] == 14
    gx = small.to_gexf(tmp_path / "n.gexf")
    H = nx.read_gexf(gx)
    assert H.number_of_edges() == 3
    folder = small.to_csv(tmp_path / "csv")
    assert sorted(p.name for p in folder.iterdir()) == ["flows.csv", "physicians.csv"]
    back = refgraph.read_flows(folder / "flows.csv")
    assert back.table["count"].sum() == 21 and len(back.rejected) == 0


def test_repr_and_bad_input() -> None:
    assert "physicians=0" in repr(ReferralNetwork())
    with pytest.raises(ValidationError, match="expected a pandas DataFrame"):
        ReferralNetwork.from_frames(flows=[1, 2])  # type: ignore[arg-type]


def test_network_build_gives_freed_heap_pages_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """The physicians pass of every build (the last step of a file read) calls
    ``release_memory`` before its work (what the read freed) and after it, which on
    glibc returns pages that freed arrays left in the heap."""
    import subprocess
    import sys

    import refgraph._tables as tables

    calls: list[int] = []
    monkeypatch.setattr(tables, "release_memory", lambda: calls.append(1))
    ReferralNetwork.from_frames(
        flows=pd.DataFrame({"source_npi": [make_npi(1)], "target_npi": [make_npi(2)], "count": [3]})
    )
    assert calls == [1, 1]
    monkeypatch.undo()
    # in a fresh process: 100 MiB of 32 KiB arrays live in glibc's heap (under its mmap
    # threshold); with the heap's top still in use, freeing them leaves them resident
    code = """
import numpy as np
from refgraph._tables import release_memory
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
blocks = [np.ones(4096) for _ in range(3200)]
pin = np.ones(4096)
before = rss()
del blocks
kept = rss()
release_memory()
print(before, kept, rss())
"""
    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc (Linux)")
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    before, kept, after = map(float, out)
    if before - kept > 50:
        pytest.skip("this C library gave the pages back on free (not glibc's behaviour)")
    assert kept - after > 80  # MiB: the 100 MiB of freed blocks are given back
