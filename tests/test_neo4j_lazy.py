"""``ReferralNetwork.from_neo4j(db, lazy=True)``: memory's answers, tables left in Neo4j."""

from __future__ import annotations

import itertools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from refgraph import (
    NoPathError,
    ReferralNetwork,
    RefgraphError,
    ValidationError,
    centrality,
    community,
    npi_check_digit,
)
from refgraph.backends.neo4j import LazyNetwork, LazyTableError, Neo4jBackend
from refgraph.paths import best_introducers, intro_paths

pytestmark = pytest.mark.neo4j


def make_npi(i: int) -> str:
    p = f"1{i:08d}"
    return p + str(npi_check_digit(p))


def gds_graphs(db: Neo4jBackend) -> list[str]:
    rows = db._read("CALL gds.graph.list() YIELD graphName RETURN graphName")
    return sorted(str(r["graphName"]) for r in rows)


def random_network(seed: int, n: int = 60) -> ReferralNetwork:
    """Small integer volumes (exact integer betweenness costs), dated flows, practices
    of every size around the colleague limit, events and touchpoints naming NPIs."""
    rng = np.random.default_rng(seed)
    npis = [make_npi(1000 * seed + i) for i in range(n)]
    m = 4 * n
    s = rng.integers(0, n, m)
    t = rng.integers(0, n, m)
    keep = s != t
    s, t = s[keep], t[keep]
    flows = pd.DataFrame(
        {
            "source_npi": [npis[i] for i in s],
            "target_npi": [npis[i] for i in t],
            "count": rng.integers(5, 10, len(s)),
            "patients": [float(x) if x % 4 else None for x in rng.integers(1, 6, len(s))],
            "period_start": "2023-01-01",
            "period_end": [f"2023-{1 + int(x):02d}-28" for x in rng.integers(0, 12, len(s))],
            "provenance": [f"p{i}" for i in range(len(s))],  # one row per pair and key
        }
    )
    practice = [f"P{i % 7}" if i < 40 else ("BIG" if i < 52 else None) for i in range(n)]
    phys = pd.DataFrame(
        {
            "npi": npis,
            "name": [f"Dr {i}" for i in range(n)],
            "specialty": [["cardiology", "family_medicine", "urology"][i % 3] for i in range(n)],
            "practice_id": practice,
            "lat": 42.0 + rng.random(n),
            "lon": -71.0 - rng.random(n),
        }
    )
    ids = [f"P{i}" for i in range(7)] + ["BIG"]
    # (named: paths' hop explanation fails on a practice without a name, see the report)
    prac = pd.DataFrame({"practice_id": ids, "name": [f"Practice {p}" for p in ids]})
    events = pd.DataFrame(
        {
            "date": ["2024-01-05", "2024-02-07"],
            "source_npi": [npis[1], npis[55]],
            "target_npi": [npis[58], npis[2]],
            "status": ["referred", "seen"],
        }
    )
    tps = pd.DataFrame(
        {
            "date": ["2024-03-01", "2024-03-02"],
            "npi": [npis[0], npis[3]],
            "kind": ["visit", "call"],
            "notes": [f"introduced by {npis[59]}", "lunch"],
        }
    )
    return ReferralNetwork.from_frames(
        physicians=phys, practices=prac, flows=flows, events=events, touchpoints=tps
    )


def assert_summary_equal(lazy: LazyNetwork, net: ReferralNetwork) -> None:
    got, want = lazy.summary(), net.summary()
    assert list(got.index) == list(want.index)
    for k in want.index:
        if isinstance(want[k], float):
            assert got[k] == pytest.approx(want[k], rel=1e-12, nan_ok=True), k
        else:
            assert got[k] == want[k], k
    assert lazy.n_physicians == net.n_physicians
    assert lazy.n_flows == net.n_flows
    assert sorted(lazy.npis) == sorted(net.npis)


def assert_analyses_equal(lazy: LazyNetwork, net: ReferralNetwork) -> None:
    idx = net.npis
    pr_m = centrality.pagerank(net, tol=1e-12)
    pr_l = centrality.pagerank(lazy, tol=1e-12)
    assert list(pr_l.columns) == list(pr_m.columns)
    np.testing.assert_allclose(pr_l.loc[idx, "pagerank"], pr_m["pagerank"], rtol=0, atol=1e-9)
    mine = [str(x) for x in idx[:4]]
    pp_m = centrality.pagerank(net, personalization=mine, tol=1e-12)
    pp_l = centrality.pagerank(lazy, personalization=mine, tol=1e-12)
    np.testing.assert_allclose(pp_l.loc[idx, "pagerank"], pp_m["pagerank"], rtol=0, atol=1e-9)
    d_m = centrality.degree(net)
    d_l = centrality.degree(lazy).loc[idx]
    pd.testing.assert_frame_equal(d_l, d_m, check_dtype=False, check_names=False, check_exact=True)
    for weight in (None, "count"):
        b_m = centrality.betweenness(net, weight=weight)
        b_l = centrality.betweenness(lazy, weight=weight).loc[idx]
        np.testing.assert_allclose(b_l["betweenness"], b_m["betweenness"], rtol=0, atol=1e-12)
    # Louvain and Leiden are randomised: partition quality as in the read-back parity test
    for algo in (community.louvain, community.leiden):
        c_m = algo(net, seed=1)
        c_l = algo(lazy, seed=1)
        assert set(c_l.index) == set(idx)
        assert community.modularity(net, c_l.loc[idx]) == pytest.approx(
            community.modularity(net, c_m), abs=0.03
        )


def _tied(res: Any, k: int) -> bool:
    costs = res.paths["cost"].tolist()[: k + 1]
    return any(b - a <= 1e-9 * max(1.0, abs(a), abs(b)) for a, b in itertools.pairwise(costs))


def assert_intro_equal(lazy: LazyNetwork, net: ReferralNetwork, target: str, **opts: Any) -> str:
    """Same paths and costs (paths in the same order unless equal costs make it arbitrary)."""
    k = int(opts.pop("k", 3))
    try:
        want = intro_paths(net, target, k=k, **opts)
    except NoPathError as exc:
        with pytest.raises(NoPathError) as got_exc:
            intro_paths(lazy, target, k=k, **opts)
        assert str(got_exc.value) == str(exc)
        return "nopath"
    got = intro_paths(lazy, target, k=k, **opts)
    np.testing.assert_allclose(got.paths["cost"], want.paths["cost"], rtol=1e-12)
    np.testing.assert_allclose(got.paths["probability"], want.paths["probability"], rtol=1e-12)
    assert got.constraints == want.constraints
    if _tied(intro_paths(net, target, k=k + 1, **opts), k):
        wider = intro_paths(net, target, k=k + 8, **opts).paths["path"]
        assert set(got.paths["path"]) <= set(wider)
        return "tied"
    assert got.paths["path"].tolist() == want.paths["path"].tolist()
    pd.testing.assert_frame_equal(got.hops, want.hops, check_exact=False, rtol=1e-12)
    return "same"


def assert_introducers_equal(
    lazy: LazyNetwork, net: ReferralNetwork, target: str, **opts: Any
) -> str:
    """Same introducers, probabilities and rows (in the same order unless equal
    probabilities make it arbitrary)."""
    top = int(opts.pop("top", 4))
    try:
        want = best_introducers(net, target, top=top, **opts)
    except NoPathError as exc:
        with pytest.raises(NoPathError) as got_exc:
            best_introducers(lazy, target, top=top, **opts)
        assert str(got_exc.value) == str(exc)
        return "nopath"
    got = best_introducers(lazy, target, top=top, **opts)
    assert list(got.columns) == list(want.columns)
    np.testing.assert_allclose(got["probability"], want["probability"], rtol=1e-12)
    p = best_introducers(net, target, top=top + 1, **opts)["probability"].tolist()
    if any(a - b <= 1e-9 * a for a, b in itertools.pairwise(p)):
        wider = best_introducers(net, target, top=top + 8, **opts)
        assert set(got.index) <= set(wider.index)
        for x in got.index:  # each introducer's best path is the same, whatever the order
            assert got.loc[x, "probability"] == pytest.approx(wider.loc[x, "probability"])
        return "tied"
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    return "same"


# --------------------------------------------------------------------------- parity
@pytest.mark.datasets
def test_ckm_lazy_parity(neo4j_db: Neo4jBackend, datasets_dir: Path) -> None:
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm", aggregate=True)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    assert isinstance(lazy, LazyNetwork) and lazy.is_lazy
    assert_summary_equal(lazy, net)
    assert_analyses_equal(lazy, net)
    npis = [str(x) for x in net.npis]
    outcomes = []
    for s, h in ((0, 3), (10, 2), (40, 4), (120, 3), (200, 3)):
        sources = npis[s : s + 3]
        for t in range(s + 5, s + 5 + 246, 11):  # the first reachable target after s + 5
            target = npis[t % 246]
            outcomes.append(assert_intro_equal(lazy, net, target, sources=sources, max_hops=h))
            if outcomes[-1] != "nopath":
                break
    assert outcomes.count("same") >= 4, outcomes
    linked = set(net.flows["source_npi"]) | set(net.flows["target_npi"])
    lone = next(x for x in npis if x not in linked)  # CKM has 5 isolates
    assert assert_intro_equal(lazy, net, lone, sources=npis[:3]) == "nopath"
    kept = lazy.projections()
    assert kept
    lazy.close()
    assert not set(kept) & set(gds_graphs(neo4j_db))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_lazy_parity(neo4j_db: Neo4jBackend, seed: int) -> None:
    net = random_network(seed)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    assert_summary_equal(lazy, net)
    assert_analyses_equal(lazy, net)
    npis = [str(x) for x in net.npis]
    rng = np.random.default_rng(seed)
    outcomes = []
    for _ in range(6):
        sources = [str(x) for x in rng.choice(npis[:50], 3, replace=False)]
        target = str(rng.choice([x for x in npis if x not in sources]))
        hops = int(rng.choice([2, 3]))
        outcomes.append(assert_intro_equal(lazy, net, target, sources=sources, max_hops=hops))
    # default sources (physicians with touchpoints; one touchpoint names another NPI),
    # and constraints that need the physicians table
    outcomes.append(assert_intro_equal(lazy, net, npis[30]))
    outcomes.append(
        assert_intro_equal(
            lazy, net, npis[31], sources=npis[:2], exclude_competitors_of="urology", k=5
        )
    )
    outcomes.append(assert_intro_equal(lazy, net, npis[44], home=[npis[40]], min_strength=0.2))
    assert outcomes.count("same") >= 4, outcomes
    lazy.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_lazy_best_introducers_parity(neo4j_db: Neo4jBackend, seed: int) -> None:
    net = random_network(seed)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    rng = np.random.default_rng(seed)
    outcomes = []
    for _ in range(6):
        sources = [str(x) for x in rng.choice(npis[:50], 3, replace=False)]
        target = str(rng.choice([x for x in npis if x not in sources]))
        hops = int(rng.choice([2, 3]))
        outcomes.append(assert_introducers_equal(lazy, net, target, sources=sources, max_hops=hops))
    outcomes.append(assert_introducers_equal(lazy, net, npis[30]))  # touchpoint sources
    outcomes.append(
        assert_introducers_equal(
            lazy, net, npis[31], sources=npis[:2], exclude_competitors_of="urology", top=6
        )
    )
    outcomes.append(
        assert_introducers_equal(lazy, net, npis[44], home=[npis[40]], min_strength=0.2)
    )
    assert outcomes.count("same") >= 4, outcomes
    lazy.close()


@pytest.mark.datasets
def test_ckm_lazy_best_introducers_parity(neo4j_db: Neo4jBackend, datasets_dir: Path) -> None:
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm", aggregate=True)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    outcomes = []
    for s, h in ((0, 3), (10, 2), (40, 4), (120, 3)):
        sources = npis[s : s + 3]
        for t in range(s + 5, s + 5 + 60, 7):
            target = npis[t % 246]
            outcomes.append(
                assert_introducers_equal(lazy, net, target, sources=sources, max_hops=h)
            )
    assert outcomes.count("same") >= 8, outcomes
    assert outcomes.count("nopath") < len(outcomes)
    lazy.close()


def test_intro_paths_reads_only_the_neighbourhood(neo4j_db: Neo4jBackend) -> None:
    # two chains that never meet: a query on one reads none of the other
    a = [make_npi(i) for i in range(5)]
    b = [make_npi(100 + i) for i in range(5)]
    flows = pd.DataFrame(
        {
            "source_npi": a[:-1] + b[:-1],
            "target_npi": a[1:] + b[1:],
            "count": [3, 5, 7, 2, 3, 5, 7, 2],
        }
    )
    net = ReferralNetwork.from_frames(flows=flows)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    assert lazy.neighbourhood([a[0]], 2) == sorted(a[:3])
    assert assert_intro_equal(lazy, net, a[3], sources=[a[0]], max_hops=3) == "same"
    (sub,) = lazy._memo["intro_networks"].values()
    assert set(sub.npis) == set(a[:4])
    # out of reach: the same error as in memory, and a target that is not stored
    assert assert_intro_equal(lazy, net, b[2], sources=[a[0]], max_hops=3) == "nopath"
    with pytest.raises(RefgraphError):
        intro_paths(lazy, make_npi(999), sources=[a[0]])


@pytest.mark.parametrize("seed,keep", [(4, True), (5, False)])
def test_meet_in_the_middle_parity_all_hops(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch, seed: int, keep: bool
) -> None:
    # a sparser network (paths of every length up to 5), one to four sources, with
    # exclusions, a region, a competitor rule and a strength floor; with the kept ball
    # network (targets within max_hops - 1 of the sources, max_hops <= 3) and without
    # (every query on its own sub-network)
    from refgraph.backends.neo4j import _lazy_paths

    monkeypatch.setattr(_lazy_paths, "_KEEP_BALL_NETWORK", keep)
    net = random_network(seed, n=90)
    keep = np.random.default_rng(seed).random(net.n_flows) < 0.45
    net = ReferralNetwork.from_frames(
        physicians=net.physicians,
        practices=net.practices,
        flows=net.flows[keep],
        events=net.events,
        touchpoints=net.touchpoints,
    )
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    rng = np.random.default_rng(seed)
    outcomes = []
    for hops in (1, 2, 3, 4, 5):
        for n_src in (1, 2, 4):
            sources = [str(x) for x in rng.choice(npis, n_src, replace=False)]
            for target in rng.choice([x for x in npis if x not in sources], 3, replace=False):
                outcomes.append(
                    assert_intro_equal(lazy, net, str(target), sources=sources, max_hops=hops)
                )
    assert outcomes.count("same") >= 15, outcomes
    assert outcomes.count("nopath") >= 3, outcomes  # hops 1 leaves most targets out of reach
    sources = npis[:3]
    for hops in (2, 3, 4, 5):
        target = npis[70 + hops]
        for opts in (
            {"exclude": npis[3:30:3]},
            {"region": (42.5, -71.5, 45.0)},
            {"exclude_competitors_of": "cardiology"},
            {"exclude_competitors_of": npis[10]},
            {"min_strength": 0.3},
            {"ties": pd.DataFrame({"npi_a": [npis[0]], "npi_b": [target]})},
        ):
            outcomes.append(
                assert_intro_equal(lazy, net, target, sources=sources, max_hops=hops, **opts)
            )
    assert outcomes.count("same") >= 25, outcomes
    lazy.close()


def test_meet_in_the_middle_reads_less_than_the_ball(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a hub source with 30 spokes, each with a tail; the target hangs off one spoke: with
    # max_hops 3 the sources' ball is everyone, the paths use one spoke (a per-query
    # sub-network: the kept ball network, which would hold the ball, is switched off)
    from refgraph.backends.neo4j import _lazy_paths

    monkeypatch.setattr(_lazy_paths, "_KEEP_BALL_NETWORK", False)
    hub, target = make_npi(1), make_npi(2)
    spokes = [make_npi(10 + i) for i in range(30)]
    tails = [make_npi(100 + i) for i in range(30)]
    flows = pd.DataFrame(
        {
            "source_npi": [hub] * 30 + spokes + [spokes[7]],
            "target_npi": spokes + tails + [target],
            "count": [3] * 61,
        }
    )
    net = ReferralNetwork.from_frames(flows=flows)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    assert len(lazy.neighbourhood([hub], 3)) == 62
    assert assert_intro_equal(lazy, net, target, sources=[hub], max_hops=3) == "same"
    (sub,) = lazy._memo["intro_networks"].values()
    assert set(sub.npis) == {hub, spokes[7], target}
    lazy.close()


def _sorted_tables(net: ReferralNetwork) -> dict[str, pd.DataFrame]:
    out = {}
    for t in ("physicians", "practices", "flows", "events", "touchpoints"):
        df = net.tables[t]
        keys = list(df.columns)
        out[t] = df.sort_values(keys, na_position="first").reset_index(drop=True)
    return out


@pytest.mark.parametrize("seed", [6, 7])
def test_intro_sub_network_read_is_the_general_read(neo4j_db: Neo4jBackend, seed: int) -> None:
    # the one-statement read of a query's physicians returns the tables that
    # Neo4jBackend.read(around=ids, hops=0) returns (columns, dtypes, rows)
    from refgraph.backends.neo4j import _lazy_read

    net = random_network(seed)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    rng = np.random.default_rng(seed)
    for size in (1, 5, 25, len(npis)):
        ids = sorted(str(x) for x in rng.choice(npis, size, replace=False))
        got = _sorted_tables(_lazy_read.sub_network(lazy, ids))
        with warnings.catch_warnings():  # a physician alone keeps no flows: said, not wrong
            warnings.simplefilter("ignore", UserWarning)
            want = _sorted_tables(neo4j_db.read(around=ids, hops=0))
        for t in want:
            pd.testing.assert_frame_equal(got[t], want[t], check_dtype=True, obj=t)
    # the tie edges of a few physicians: every stored kind, as the tie graph has them
    ids = npis[:12]
    got_edges = set(_lazy_read.tie_edges(lazy, ids, 10))
    ev = net.events
    want_edges = set()
    for a, b in zip(net.flows["source_npi"], net.flows["target_npi"]):
        want_edges |= {(a, b), (b, a)}
    for a, b in zip(ev["source_npi"], ev["target_npi"]):
        want_edges |= {(a, b), (b, a)}
    phys = net.physicians.dropna(subset=["practice_id"])
    for _, members in phys.groupby("practice_id")["npi"]:
        if len(members) <= 10:
            want_edges |= set(itertools.product(members, members))
    assert got_edges == {(a, b) for a, b in want_edges if a in ids}
    lazy.close()


@pytest.mark.parametrize("seed", [6, 7])
def test_intro_sub_network_with_practice_members(neo4j_db: Neo4jBackend, seed: int) -> None:
    # ids plus `members` members of each of their practices that has at least that many,
    # read in the same statement (a practice is large in the sub-network exactly when it is
    # in the store); the flows, events and touchpoints are those among ids
    from refgraph.backends.neo4j import _lazy_read

    net = random_network(seed)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    phys = net.physicians.set_index("npi")["practice_id"]
    size = phys.dropna().value_counts()
    rng = np.random.default_rng(seed)
    for n, limit in ((1, 11), (5, 11), (25, 3), (len(npis), 11)):
        ids = sorted(str(x) for x in rng.choice(npis, n, replace=False))
        sub = _lazy_read.sub_network(lazy, ids, limit)
        got_ids = [str(x) for x in sub.physicians["npi"]]
        assert got_ids == sorted(got_ids) and set(ids) <= set(got_ids)
        pids = set(phys.loc[ids].dropna())
        assert set(phys.loc[got_ids].dropna()) == pids  # no other practice's members
        assert set(got_ids) - set(ids) <= set(phys[phys.isin(pids)].index)
        for pid in pids:
            n_got = (phys.loc[got_ids] == pid).sum()
            if size[pid] >= limit:
                assert n_got >= limit, pid
            else:
                assert n_got == (phys.loc[ids] == pid).sum(), pid
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            want = _sorted_tables(neo4j_db.read(around=ids, hops=0))  # flows among ids
            wider = _sorted_tables(neo4j_db.read(around=got_ids, hops=0))
        want["physicians"], want["practices"] = wider["physicians"], wider["practices"]
        got = _sorted_tables(sub)
        for t in want:
            pd.testing.assert_frame_equal(got[t], want[t], check_dtype=True, obj=t)
    # a store without table metadata (an older refgraph's) is read by the general reads
    neo4j_db._write("MATCH (m:RefgraphTable {name: 'events'}) DETACH DELETE m")
    lazy._memo.clear()
    old = _lazy_read.sub_network(lazy, ids, 11)
    assert set(ids) <= set(old.npis) and set(old.npis) <= set(got_ids) | set(phys.index)
    for pid in set(phys.loc[ids].dropna()):
        n_old = (phys.loc[list(old.physicians["npi"])] == pid).sum()
        assert n_old >= 11 if size[pid] >= 11 else n_old == (phys.loc[ids] == pid).sum()
    pd.testing.assert_frame_equal(
        _sorted_tables(old)["flows"], want["flows"], check_dtype=False, obj="flows"
    )
    lazy.close()


def count_statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A list that collects every statement sent from now on: managed reads and
    auto-commit ones (the lazy network's version check)."""
    from neo4j import Session

    sent: list[str] = []
    read_rows = Neo4jBackend._read_rows
    run = Session.run

    def counted_rows(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return read_rows(self, query, *args, **kwargs)

    def counted_run(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(str(query))
        return run(self, query, *args, **kwargs)

    monkeypatch.setattr(Neo4jBackend, "_read_rows", counted_rows)
    monkeypatch.setattr(Session, "run", counted_run)
    return sent


@pytest.mark.parametrize("keep", [True, False])
def test_intro_paths_statements_per_query(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    # after the first query (which reads the sources' ball, its sub-network when kept,
    # and the kept values), a query to a target in the kept ball sends one statement
    # (the version check, auto-commit); any other sends two: the target's tie edges,
    # then the sub-network with its practice members and the store's change marker;
    # best_introducers reads the same way. Both managed reads and auto-commit
    # statements are counted.
    from refgraph.backends.neo4j import _lazy_paths

    monkeypatch.setattr(_lazy_paths, "_KEEP_BALL_NETWORK", keep)
    net = random_network(8)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    sent = count_statements(monkeypatch)
    npis = [str(x) for x in net.npis]
    outcomes = [assert_intro_equal(lazy, net, npis[20], sources=npis[:2], max_hops=3)]
    counts = []
    for target in npis[21:27]:
        before = len(sent)
        outcomes.append(assert_intro_equal(lazy, net, target, sources=npis[:2], max_hops=3))
        counts.append(len(sent) - before)
    for target in npis[27:30]:
        before = len(sent)
        outcomes.append(assert_introducers_equal(lazy, net, target, sources=npis[:2]))
        counts.append(len(sent) - before)
    assert outcomes.count("same") >= 4, outcomes
    # (the first best_introducers query of a target is one sub-network read; the
    # helper's further memory calls send nothing)
    kept = [v for v in lazy._memo.get("intro_ball_networks", {}).values() if v is not None]
    if keep:
        ((_, ball, _),) = kept
        assert counts == [1 if t in ball else 2 for t in npis[21:30]], counts
        assert 1 in counts  # some target was in the kept ball: the one-statement path ran
    else:
        assert not kept
        assert counts == [2] * len(counts), counts
    lazy.close()


def _operators(plan: dict[str, Any]) -> list[tuple[str, str]]:
    details = str(plan.get("args", {}).get("Details", ""))
    out = [(str(plan["operatorType"]).split("@")[0], details)]
    for child in plan.get("children", []):
        out += _operators(child)
    return out


def test_intro_statements_seek_per_npi(neo4j_db: Neo4jBackend) -> None:
    # the plan shape of the intro statements: index seeks per NPI, no index or label scan
    # (but of touchpoints). On the 1M-physician bulk-imported store the planner scanned
    # the whole practice_id index once per NPI (colleagues, practice members) and sought
    # every event target once per source NPI; at this size it plans the unhinted
    # statements well too, so this guards the shape, it does not reproduce that store
    from refgraph.backends.neo4j import _lazy_read

    net = random_network(9)
    neo4j_db.write(net)
    ids = [make_npi(5_000_000 + i) for i in range(400)]
    tables = ("physicians", "practices", "flows", "events", "touchpoints")
    params = {
        "ids": ids,
        "colleagues": 10,
        "limit": 11,
        "k": {t: ["x"] for t in tables},
        "i": {t: [False] for t in tables},
    }
    for name in ("_TIE_EDGES", "_MEMBERS", "_SUB_NETWORK", "_SUB_NETWORK_MEMBERS"):
        with neo4j_db._session() as session:
            plan = session.run("EXPLAIN " + getattr(_lazy_read, name), **params).consume().plan
        ops = _operators(plan)
        assert not [d for o, d in ops if o == "NodeIndexScan"], (name, ops)
        assert not [d for o, d in ops if o == "NodeByLabelScan" and "Touchpoint" not in d]
        seeks = [d for o, d in ops if o == "NodeIndexSeek" and "ReferralEvent" in d]
        assert all("= id" in d for d in seeks), (name, seeks)
        assert any(o == "NodeUniqueIndexSeek" and "npi = id" in d for o, d in ops), name


def test_neighbourhood_reads_seek_and_match_brute_force(neo4j_db: Neo4jBackend) -> None:
    # LazyNetwork.neighbourhood (and the tie-edge reads kept for the benchmark's "before"
    # side): index seeks per NPI, and the tie steps of refgraph.paths, brute-forced here
    from refgraph.backends.neo4j._schema import _Q

    net = random_network(10)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    phys = net.physicians.set_index("npi")["practice_id"]
    adj: dict[str, set[str]] = {}
    ends = [net.flows[["source_npi", "target_npi"]], net.events[["source_npi", "target_npi"]]]
    for a, b in pd.concat(ends).itertuples(index=False):
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    for _, members in phys.dropna().groupby(phys.dropna()).groups.items():
        if len(members) <= 10:
            for a in members:
                adj.setdefault(a, set()).update(set(members) - {a})
    npis = [str(x) for x in net.npis]
    for sources, hops in (([npis[0]], 1), (npis[3:5], 2), ([npis[45]], 2), ([npis[59]], 3)):
        seen = set(sources)
        for _ in range(hops):
            seen |= {v for u in seen for v in adj.get(u, ())}
        pids = set(phys.loc[sorted(seen)].dropna())
        seen |= set(phys[phys.isin(pids)].index)
        assert lazy.neighbourhood(sources, hops) == sorted(seen), (sources, hops)
    params = {"ids": npis[:30], "colleagues": 10, "limit": 11}
    for name in (
        "lazy_colleagues",
        "lazy_practice_members",
        "lazy_flow_edges",
        "lazy_colleague_edges",
        "lazy_some_practice_members",
    ):
        with neo4j_db._session() as session:
            plan = session.run("EXPLAIN " + _Q[name], **params).consume().plan
        ops = _operators(plan)
        assert not [d for o, d in ops if o in ("NodeIndexScan", "NodeByLabelScan")], (name, ops)
        assert any(o == "NodeUniqueIndexSeek" and "npi = id" in d for o, d in ops), name
    lazy.close()


# --------------------------------------------------------------------------- no read-back
def test_lazy_analyses_read_no_table(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = random_network(4)
    neo4j_db.write(net)
    rows_seen: list[int] = []
    original = Neo4jBackend._read_rows

    def counting(self, query, row, params, what=None):  # type: ignore[no-untyped-def]
        out = original(self, query, row, params, what)
        rows_seen.append(len(out))
        return out

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a lazy analysis read a table back")

    monkeypatch.setattr(Neo4jBackend, "_read_rows", counting)
    monkeypatch.setattr(Neo4jBackend, "_read_flows", refuse)
    monkeypatch.setattr(Neo4jBackend, "_read_nodes", refuse)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    pr = centrality.pagerank(lazy)
    assert len(pr) == net.n_physicians
    # no query returned more rows than there are physicians (the flows are 4x more)
    assert max(rows_seen) <= net.n_physicians < net.n_flows
    centrality.degree(lazy)
    centrality.betweenness(lazy)
    community.louvain(lazy, seed=0)
    lazy.summary()
    assert max(rows_seen) <= net.n_physicians
    lazy.close()


def test_projection_kept_and_invalidated_by_a_change(neo4j_server, neo4j_db: Neo4jBackend) -> None:  # type: ignore[no-untyped-def]
    net = random_network(5)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    centrality.pagerank(lazy)
    kept = lazy.projections()
    assert len(kept) == 1 and kept[0] in gds_graphs(neo4j_db)
    centrality.pagerank(lazy)
    centrality.degree(lazy)  # same weight, same direction: the same projection
    assert lazy.projections() == kept
    # a change to the store: one more flow
    extra = pd.DataFrame(
        {
            "source_npi": [str(net.npis[0])],
            "target_npi": [str(net.npis[59])],
            "count": [50],
            "provenance": ["new"],
        }
    )
    changed = ReferralNetwork.from_frames(
        physicians=net.physicians, flows=pd.concat([net.flows, extra], ignore_index=True)
    )
    neo4j_db.write(changed)
    pr_l = centrality.pagerank(lazy, tol=1e-12)
    pr_m = centrality.pagerank(changed, tol=1e-12)
    np.testing.assert_allclose(pr_l.loc[changed.npis, "pagerank"], pr_m["pagerank"], atol=1e-9)
    assert lazy.n_flows == net.n_flows + 1
    assert kept[0] not in gds_graphs(neo4j_db)
    assert len(lazy.projections()) == 1 and lazy.projections() != kept
    now = lazy.projections()
    lazy.close()
    assert not lazy.projections()
    assert not set(now) & set(gds_graphs(neo4j_db))
    # closing the backend closes its lazy networks too
    second = Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, progress=False)
    other = ReferralNetwork.from_neo4j(second, lazy=True)
    community.louvain(other, seed=0)
    (graph,) = other.projections()
    assert graph in gds_graphs(neo4j_db)
    second.close()
    assert graph not in gds_graphs(neo4j_db)


# --------------------------------------------------------------------------- write back, reads
def test_write_back(neo4j_db: Neo4jBackend) -> None:
    net = random_network(6)
    neo4j_db.write(net)
    before = neo4j_db.read()
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    pr = centrality.pagerank(lazy)
    comm = community.louvain(lazy, seed=0)
    assert lazy.write_back(pr) == net.n_physicians
    assert lazy.write_back(comm[["community"]], prefix="rg_") == net.n_physicians
    rows = neo4j_db._read(
        "MATCH (p:Physician) RETURN p.npi AS npi, p.refgraph_pagerank AS pr, p.rg_community AS c"
    )
    got = pd.DataFrame(rows).set_index("npi")
    np.testing.assert_array_equal(got.loc[pr.index, "pr"].to_numpy(float), pr["pagerank"])
    np.testing.assert_array_equal(got.loc[comm.index, "c"].to_numpy(int), comm["community"])
    # a name is a parameter, never Cypher text; stored columns are protected
    odd = pd.DataFrame({"x`}) DETACH DELETE p //": [1.0]}, index=[str(net.npis[0])])
    assert lazy.write_back(odd) == 1
    assert neo4j_db.counts()["physicians"] == net.n_physicians
    with pytest.raises(ValidationError, match="collide"):
        lazy.write_back(pd.DataFrame({"name": ["x"]}, index=[str(net.npis[0])]), prefix="")
    # refgraph's own tables are unchanged by the extra properties
    after = neo4j_db.read()
    pd.testing.assert_frame_equal(after.physicians, before.physicians)
    lazy.close()


def test_select_and_materialize(neo4j_db: Neo4jBackend) -> None:
    net = random_network(7)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    full = lazy.materialize()
    assert isinstance(full, ReferralNetwork)
    assert full.n_flows == net.n_flows and full.n_physicians == net.n_physicians
    sel = lazy.select(specialty="cardiology", flows="either")
    want = neo4j_db.read(specialty="cardiology", flows="either")
    assert sel.n_flows == want.n_flows and set(sel.npis) == set(want.npis)
    assert sel.backend is neo4j_db  # an ordinary read: analyses push down as before
    with pytest.raises(ValidationError, match="lazy=True"):
        ReferralNetwork.from_neo4j(neo4j_db, lazy=True, specialty="cardiology")


def test_refusals_say_what_to_do(neo4j_db: Neo4jBackend) -> None:
    net = random_network(8)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    with pytest.raises(LazyTableError, match=r"materialize\(\)"):
        community.louvain(lazy, resolution=0.5)
    with pytest.raises(LazyTableError, match="unequal"):
        centrality.pagerank(lazy, personalization={str(net.npis[0]): 1.0, str(net.npis[1]): 0.5})
    with pytest.raises(LazyTableError, match=r"materialize\(\)"):
        centrality.degree(lazy, patients_per_physician={str(net.npis[0]): 10})
    with pytest.raises(LazyTableError, match=r"materialize\(\)"):
        centrality.harmonic_closeness(lazy)
    with pytest.raises(RefgraphError, match="select"):
        _ = lazy.flows
    assert not hasattr(lazy, "physicians")  # an AttributeError too
    from refgraph import NotFoundError

    with pytest.raises(NotFoundError):
        centrality.pagerank(lazy, personalization=[make_npi(999_999)])
    lazy.close()


def test_store_without_the_event_indexes_warns_and_answers_the_same(
    neo4j_db: Neo4jBackend, caplog: pytest.LogCaptureFixture
) -> None:
    # a store written before the event indexes existed: the lazy paths still answer as
    # memory does, and a warning names the missing indexes and the call that makes them
    net = random_network(7)
    neo4j_db.write(net)
    for name in ("refgraph_event_source", "refgraph_event_target"):
        neo4j_db._write(f"DROP INDEX {name} IF EXISTS")
    try:
        lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
        e = net.edges()
        src = str(e["source_npi"].iloc[0])
        targets = [str(t) for t in e.loc[e["source_npi"] != src, "target_npi"].iloc[:4]]
        with caplog.at_level("WARNING", logger="refgraph.backends.neo4j"):
            got = [assert_intro_equal(lazy, net, t, sources=[src]) for t in targets]
        assert {"same", "tied"} & set(got)
        warned = [r.getMessage() for r in caplog.records]
        warned = [m for m in warned if "lacks refgraph's indexes" in m]
        assert len(warned) == 1
        assert "refgraph_event_source, refgraph_event_target" in warned[0]
        assert "setup_schema()" in warned[0]
    finally:
        neo4j_db.setup_schema()
    caplog.clear()
    fresh = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    with caplog.at_level("WARNING", logger="refgraph.backends.neo4j"):
        assert fresh._warn_missing_indexes() == []
    assert not [r for r in caplog.records if "lacks" in r.getMessage()]
