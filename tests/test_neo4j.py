"""The Neo4j backend against a real server: round trips, faults, injection, GDS parity."""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refgraph import BackendError, ReferralNetwork, ValidationError, npi_check_digit
from refgraph.backends.neo4j import Neo4jBackend, connect

pytestmark = pytest.mark.neo4j


def make_npi(i: int) -> str:
    p = f"1{i:08d}"
    return p + str(npi_check_digit(p))


def assert_same_tables(a: ReferralNetwork, b: ReferralNetwork) -> None:
    """Same rows (order-insensitive), same columns and dtypes."""
    for t in ("physicians", "practices", "flows", "events", "touchpoints"):
        x, y = a.tables[t], b.tables[t]
        assert list(x.columns) == list(y.columns), t
        if len(x) == 0 and len(y) == 0:
            continue
        keys = list(x.columns)
        xs = x.sort_values(keys, na_position="first").reset_index(drop=True)
        ys = y.sort_values(keys, na_position="first").reset_index(drop=True)
        pd.testing.assert_frame_equal(xs, ys, check_dtype=True, obj=t)


@pytest.fixture
def small() -> ReferralNetwork:
    npis = [make_npi(i) for i in range(6)]
    phys = pd.DataFrame(
        {
            "npi": npis,
            "name": ["A", "B", "C", "D", "E", "F"],
            "specialty": ["family_medicine", "cardiology", "cardiology", "urology", None, None],
            "practice_id": ["P1", "P1", "P2", None, "P2", None],
            "lat": [42.36, 42.37, 42.30, 40.71, np.nan, 42.0],
            "lon": [-71.06, -71.10, -71.20, -74.0, np.nan, -71.0],
            "zip": ["02114", "02139", "02458", "10001", None, "02000"],
            "board_certified": [True, False, True, True, False, True],
        }
    )
    prac = pd.DataFrame(
        {"practice_id": ["P1", "P2"], "name": ["North", "South"], "kind": ["hospital", None]}
    )
    flows = pd.DataFrame(
        {
            "source_npi": [npis[0], npis[0], npis[1], npis[0], npis[2], npis[4]],
            "target_npi": [npis[1], npis[2], npis[0], npis[1], npis[3], npis[2]],
            "count": [10, 5, 2, 4, 7, 1],
            "patients": [6, 5, 2, 3, None, 1],
            "period_start": ["2023-01-01", "2023-01-01", "2023-01-01", "2024-01-01", None, None],
            "period_end": ["2023-12-31", "2023-12-31", "2023-12-31", "2024-12-31", None, None],
            "provenance": ["cms", "cms", "cms", "cms", "crm", None],
        }
    )
    events = pd.DataFrame(
        {
            "date": ["2024-01-02", "2024-01-02", "2024-02-03"],
            "source_npi": [npis[0], npis[0], npis[1]],
            "target_npi": [npis[1], npis[1], npis[0]],
            "status": ["referred", "referred", "seen"],
        }
    )
    tps = pd.DataFrame(
        {"date": ["2024-03-01"], "npi": [npis[3]], "kind": ["visit"], "notes": ["lunch"]}
    )
    return ReferralNetwork.from_frames(
        physicians=phys, practices=prac, flows=flows, events=events, touchpoints=tps
    )


def test_round_trip_small(neo4j_db: Neo4jBackend, small: ReferralNetwork) -> None:
    written = neo4j_db.write(small)
    assert written == {
        "physicians": 6,
        "practices": 2,
        "events": 3,
        "touchpoints": 1,
        "flows": 6,
    }
    back = neo4j_db.read()
    assert back.backend is neo4j_db
    assert_same_tables(small, back)
    assert neo4j_db.counts() == {
        "physicians": 6,
        "practices": 2,
        "flows": 6,
        "events": 3,
        "touchpoints": 1,
    }


def test_facade_methods(neo4j_server, small: ReferralNetwork) -> None:  # type: ignore[no-untyped-def]
    db = small.to_neo4j(neo4j_server.uri, auth=neo4j_server.auth)
    try:
        back = ReferralNetwork.from_neo4j(db, specialty="cardiology", flows="to")
        assert_same_tables(small.select(specialty="cardiology", flows="to"), back)
        assert back.n_flows == 4
        assert back.backend is db
    finally:
        db.delete(everything=True)
        db.close()


def test_rewrite_changes_nothing(neo4j_db: Neo4jBackend, small: ReferralNetwork) -> None:
    neo4j_db.write(small)
    before = neo4j_db.counts()
    neo4j_db.write(small)
    assert neo4j_db.counts() == before
    assert_same_tables(small, neo4j_db.read())


def test_interrupted_load_resumes_without_duplicates(neo4j_server, small: ReferralNetwork) -> None:  # type: ignore[no-untyped-def]
    big = pd.concat(
        [small.flows] + [small.flows.assign(provenance=f"batch{i}") for i in range(40)],
        ignore_index=True,
    )
    net = ReferralNetwork.from_frames(physicians=small.physicians, flows=big)
    db = Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, batch_size=7, progress=False)
    db.delete(everything=True)
    seen: list[int] = []

    def kill(what: str, n: int) -> None:
        if what == "flows":
            seen.append(n)
            if len(seen) == 3:
                db.driver.close()  # the connection dies mid-load

    with pytest.raises(BackendError):
        db.write(net, on_batch=kill)
    fresh = Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, batch_size=7, progress=False)
    try:
        partial = fresh.counts()["flows"]
        assert 0 < partial < net.n_flows
        fresh.write(net)
        assert fresh.counts()["flows"] == net.n_flows
        assert fresh.counts()["physicians"] == net.n_physicians
        assert_same_tables(net, fresh.read())
    finally:
        fresh.delete(everything=True)
        fresh.close()


def test_empty_store_creates_then_merges(
    neo4j_db: Neo4jBackend, small: ReferralNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    for name in ("_write", "_write_single"):
        original = getattr(Neo4jBackend, name)

        def recording(self: Neo4jBackend, query: str, _f=original, **params: object) -> object:  # type: ignore[no-untyped-def]
            sent.append(query)
            return _f(self, query, **params)

        monkeypatch.setattr(Neo4jBackend, name, recording)
    neo4j_db.write(small)
    batches = [q for q in sent if q.startswith("UNWIND range(")]
    creates = [q for q in batches if "CREATE (" in q]
    merges = [q for q in batches if "MERGE (" in q]
    # empty store: CREATE only (physicians, practices, events, touchpoints, their links, flows)
    assert len(creates) == 6 and not merges
    assert_same_tables(small, neo4j_db.read())
    sent.clear()
    neo4j_db.write(small)  # not empty any more: MERGE, nothing doubled
    batches = [q for q in sent if q.startswith("UNWIND range(")]
    assert len(batches) == 6 and all("MERGE (" in q and "CREATE (" not in q for q in batches)
    assert neo4j_db.counts()["flows"] == small.n_flows
    # an incremental load: one new physician, one new flow, the rest already stored
    extra = pd.DataFrame(
        {
            "source_npi": [make_npi(5)],
            "target_npi": [make_npi(9)],
            "count": [3],
            "provenance": ["new"],
        }
    )
    bigger = ReferralNetwork.from_frames(
        physicians=small.physicians,
        practices=small.practices,
        flows=pd.concat([small.flows, extra], ignore_index=True),
        events=small.events,
        touchpoints=small.touchpoints,
    )
    neo4j_db.write(bigger)
    assert_same_tables(bigger, neo4j_db.read())
    with pytest.raises(ValidationError, match="mode"):
        neo4j_db.write(small, mode="create")


@pytest.mark.parametrize("fail_in", ["physicians", "flows"])
def test_injected_failure_then_rewrite_has_no_duplicates(
    neo4j_db: Neo4jBackend, small: ReferralNetwork, fail_in: str
) -> None:
    big = pd.concat(
        [small.flows] + [small.flows.assign(provenance=f"batch{i}") for i in range(10)],
        ignore_index=True,
    )
    more = pd.DataFrame({"npi": [make_npi(i) for i in range(10, 30)], "name": "X"})
    net = ReferralNetwork.from_frames(
        physicians=pd.concat([small.physicians, more], ignore_index=True), flows=big
    )
    neo4j_db.batch_size = 4
    seen: list[int] = []

    def fail(what: str, n: int) -> None:
        if what == fail_in:
            seen.append(n)
            if len(seen) == 3:
                raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected"):
        neo4j_db.write(net, on_batch=fail)  # into the empty store: by CREATE
    partial = neo4j_db.counts()
    # whole batches of four: three (physicians), or the rounds of write_workers=2 batches
    # written at once before the third was reported (flows), nothing else of that table
    assert partial[fail_in] == (12 if fail_in == "physicians" else 16)
    if fail_in == "physicians":
        assert partial["flows"] == 0
    neo4j_db.write(net)  # now by MERGE
    tables = net.tables
    want = {t: len(tables[t]) for t in ("physicians", "practices", "flows", "events")}
    assert {t: neo4j_db.counts()[t] for t in want} == want
    assert want["physicians"] == 26 and want["flows"] == 66
    assert_same_tables(net, neo4j_db.read())


def test_values_never_become_cypher(neo4j_db: Neo4jBackend) -> None:
    evil = "x'}) DETACH DELETE n //"
    evil2 = 'a"}) MATCH (m) DETACH DELETE m RETURN 1 //'
    phys = pd.DataFrame(
        {"npi": [make_npi(1), make_npi(2)], "name": [evil, evil2], "specialty": [evil, "`x`"]}
    )
    flows = pd.DataFrame(
        {
            "source_npi": [make_npi(1)],
            "target_npi": [make_npi(2)],
            "count": [3],
            "provenance": [evil],
        }
    )
    net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    neo4j_db.write(net)
    neo4j_db.write(net)
    back = neo4j_db.read()
    assert sorted(back.physicians["name"]) == sorted([evil, evil2])
    assert back.flows["provenance"].tolist() == [evil]
    assert neo4j_db.counts()["physicians"] == 2
    sel = neo4j_db.read(specialty=evil, flows="from")
    assert sel.physicians["npi"].tolist() == [make_npi(1), make_npi(2)]
    assert sel.flows["provenance"].tolist() == [evil]


def test_credentials_never_leak(neo4j_server) -> None:  # type: ignore[no-untyped-def]
    secret = "not-the-password-42"
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="authentication failed") as ei:
        Neo4jBackend(neo4j_server.uri, auth=("neo4j", secret))
    assert time.monotonic() - t0 < 15.0  # fails at once, not after the driver's 30 s of retries
    assert secret not in str(ei.value)
    assert neo4j_server.uri in str(ei.value)
    with pytest.raises(BackendError) as ei:
        Neo4jBackend(f"bolt://neo4j:{secret}@127.0.0.1:{neo4j_server.bolt_port}", auth=None)
    assert secret not in str(ei.value)


def test_unreachable_server_fails_fast() -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    secret = "pw-that-must-not-show"
    t0 = time.monotonic()
    with pytest.raises(BackendError, match="no Neo4j server answered") as ei:
        Neo4jBackend(f"bolt://127.0.0.1:{port}", auth=("neo4j", secret))
    assert time.monotonic() - t0 < 15.0  # a behaviour bound (the README example stalled 30 s)
    assert f"bolt://127.0.0.1:{port}" in str(ei.value) and secret not in str(ei.value)
    t0 = time.monotonic()
    with pytest.raises(BackendError):
        ReferralNetwork.from_neo4j(f"bolt://neo4j:{secret}@127.0.0.1:{port}")
    assert time.monotonic() - t0 < 15.0


def test_server_gone_mid_session_fails_within_retry_time(neo4j_server) -> None:  # type: ignore[no-untyped-def]
    db = Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, retry_time=1.0)
    db.driver.close()
    t0 = time.monotonic()
    with pytest.raises(BackendError, match=neo4j_server.uri):
        db.counts()
    assert time.monotonic() - t0 < 15.0
    with pytest.raises(ValidationError, match="timeout"):
        Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, timeout=0)


def test_missing_uri(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("NEO4J_URI", raising=False)
    with pytest.raises(ValidationError, match="NEO4J_URI"):
        Neo4jBackend(None)


def test_connect_accepts_uri_driver_backend_env(neo4j_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    drv = neo4j_server.driver()
    try:
        a = connect(drv)
        assert a.counts()["physicians"] >= 0
        assert connect(a) is a
        monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)
        monkeypatch.setenv("NEO4J_USER", neo4j_server.user)
        monkeypatch.setenv("NEO4J_PASSWORD", neo4j_server.password)
        with connect() as b:
            assert b.gds_version is not None and b.gds_version.startswith("2.13")
    finally:
        drv.close()
    with pytest.raises(ValidationError):
        connect(42)  # type: ignore[arg-type]


def test_filtered_reads(neo4j_db: Neo4jBackend, small: ReferralNetwork) -> None:
    neo4j_db.write(small)
    for kw in (
        {"specialty": "Cardiology"},
        {"zips": ["02114", 2139]},
        {"within_km": (42.36, -71.06, 25.0)},
    ):
        with warnings.catch_warnings(record=True) as w_db:
            warnings.simplefilter("always")
            got = neo4j_db.read(**kw)  # type: ignore[arg-type]
        with warnings.catch_warnings(record=True) as w_mem:
            warnings.simplefilter("always")
            want = small.select(**kw)  # type: ignore[arg-type]
        assert_same_tables(want, got)
        assert [str(w.message) for w in w_db] == [str(w.message) for w in w_mem]
    hood = neo4j_db.read(around=[make_npi(3)], hops=1)
    assert set(hood.physicians["npi"]) == {make_npi(3), make_npi(2)}
    hood2 = neo4j_db.read(around=[make_npi(3)], hops=2)
    assert set(hood2.physicians["npi"]) == {make_npi(i) for i in (0, 2, 3, 4)}
    period = neo4j_db.read(period=("2024-01-01", "2024-12-31"))
    assert_same_tables(small.select(period=("2024-01-01", "2024-12-31")), period)
    with pytest.warns(UserWarning, match="none of the 6 flows"):
        lonely = neo4j_db.read(specialty="urology")
    assert lonely.n_physicians == 1 and lonely.n_flows == 0
    neo4j_db.delete(npis=[make_npi(0)])
    after = neo4j_db.read()
    assert make_npi(0) not in set(after.physicians["npi"])
    assert not (after.flows["source_npi"] == make_npi(0)).any()


@pytest.mark.parametrize("mode", ["both", "either", "from", "to"])
def test_flow_modes_same_as_memory(
    neo4j_db: Neo4jBackend, small: ReferralNetwork, mode: str
) -> None:
    neo4j_db.write(small)
    for kw in (
        {"specialty": "cardiology"},
        {"specialty": ["cardiology", "urology"]},
        {"zips": ["02114"]},
        {"within_km": (42.36, -71.06, 8.0)},
        {"specialty": "cardiology", "period": ("2024-01-01", "2024-12-31")},
    ):
        with warnings.catch_warnings(record=True) as w_mem:
            warnings.simplefilter("always")
            want = small.select(**kw, flows=mode)  # type: ignore[arg-type]
        with warnings.catch_warnings(record=True) as w_db:
            warnings.simplefilter("always")
            got = ReferralNetwork.from_neo4j(neo4j_db, **kw, flows=mode)  # type: ignore[arg-type]
        assert_same_tables(want, got)
        assert len(w_mem) == len(w_db), (kw, mode)
    with pytest.raises(ValidationError, match="flows"):
        neo4j_db.read(specialty="cardiology", flows="all")


def test_flow_mode_pagerank_is_meaningful(neo4j_db: Neo4jBackend, small: ReferralNetwork) -> None:
    from refgraph import centrality

    neo4j_db.write(small)
    cardio = ReferralNetwork.from_neo4j(neo4j_db, specialty="cardiology", flows="to")
    pr = centrality.pagerank(cardio)  # in GDS
    mem = centrality.pagerank(small.select(specialty="cardiology", flows="to"))
    np.testing.assert_allclose(pr.loc[mem.index, "pagerank"], mem["pagerank"], rtol=1e-6)
    assert pr["pagerank"].nunique() > 1  # not 1/n for everyone


npi_pool = [make_npi(i) for i in range(15)]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edges=st.lists(
        st.tuples(
            st.sampled_from(npi_pool),
            st.sampled_from(npi_pool),
            st.integers(0, 5000),
            st.one_of(st.none(), st.integers(0, 40)),
            st.sampled_from([None, "2023-01-01", "2024-06-30"]),
            st.sampled_from(["cms", "crm", None]),
        ),
        max_size=30,
    ),
    names=st.lists(st.one_of(st.none(), st.text(max_size=15)), min_size=15, max_size=15),
)
def test_round_trip_property(neo4j_db: Neo4jBackend, edges, names) -> None:  # type: ignore[no-untyped-def]
    phys = pd.DataFrame({"npi": npi_pool, "name": names})
    flows = pd.DataFrame(
        edges,
        columns=["source_npi", "target_npi", "count", "patients", "period_start", "provenance"],
    )
    net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    neo4j_db.delete(everything=True)
    neo4j_db.write(net)
    assert_same_tables(net, neo4j_db.read())


@pytest.mark.datasets
def test_ckm_round_trip_and_parity(
    neo4j_db: Neo4jBackend, datasets_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refgraph import centrality, community
    from refgraph.datasets import ckm_network

    pushed: list[str] = []
    original = Neo4jBackend._run_projected

    def spy(self, algorithm, *args, **kwargs):  # type: ignore[no-untyped-def]
        pushed.append(algorithm)
        return original(self, algorithm, *args, **kwargs)

    monkeypatch.setattr(Neo4jBackend, "_run_projected", spy)

    net = ckm_network(datasets_dir / "ckm", aggregate=True)
    neo4j_db.write(net)
    back = neo4j_db.read()
    assert_same_tables(net, back)
    # PageRank: GDS (normalised) vs in-memory
    pr_mem = centrality.pagerank(net, tol=1e-12)
    pr_gds = centrality.pagerank(back, tol=1e-12)
    assert set(pr_gds.index) == set(pr_mem.index)
    pr_gds = pr_gds.loc[pr_mem.index]
    np.testing.assert_allclose(pr_gds["pagerank"], pr_mem["pagerank"], rtol=1e-4, atol=1e-7)
    assert pr_gds["pagerank"].sum() == pytest.approx(1.0)
    mine = list(net.physicians["npi"][:5])
    pp_mem = centrality.pagerank(net, personalization=mine, tol=1e-12)
    pp_gds = centrality.pagerank(back, personalization=mine, tol=1e-12).loc[pp_mem.index]
    np.testing.assert_allclose(pp_gds["pagerank"], pp_mem["pagerank"], rtol=1e-4, atol=1e-7)
    # degree: exact
    d_mem = centrality.degree(net)
    d_gds = centrality.degree(back).loc[d_mem.index]
    pd.testing.assert_frame_equal(
        d_gds[["in_degree", "out_degree", "degree", "in_strength", "out_strength"]],
        d_mem[["in_degree", "out_degree", "degree", "in_strength", "out_strength"]],
        check_dtype=False,
    )
    # betweenness on volume-derived cost: exact paths, tolerance for ties (PERFORMANCE.md)
    b_mem = centrality.betweenness(net, weight=None)
    b_gds = centrality.betweenness(back, weight=None).loc[b_mem.index]
    np.testing.assert_allclose(b_gds["betweenness"], b_mem["betweenness"], atol=1e-9)
    bw_mem = centrality.betweenness(net, weight="count")
    bw_gds = centrality.betweenness(back, weight="count").loc[bw_mem.index]
    # CKM volumes are small integers: both engines use the integer costs L / volume,
    # so equal-cost paths tie in GDS as in memory and the answers agree exactly.
    np.testing.assert_allclose(bw_gds["betweenness"], bw_mem["betweenness"], atol=1e-12)
    # Louvain: randomised, so compare partition quality and the town constraint
    c_mem = community.louvain(net, seed=1)
    c_gds = community.louvain(back, seed=1)
    q_mem = community.modularity(net, c_mem)
    q_gds = community.modularity(net, c_gds)
    assert q_gds == pytest.approx(q_mem, abs=0.03)
    towns = net.physicians.set_index("npi")["city"]
    for _, members in c_gds.groupby("community"):
        assert towns.loc[members.index].nunique() == 1
    assert pushed == [
        "pagerank",
        "pagerank",
        "degree",
        "betweenness",
        "betweenness",
        "louvain",
    ]  # every back-end call above really ran in GDS


def test_readme_example(neo4j_server, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The README's Neo4j block, run as written against the dev server's NEO4J_* settings."""
    import re

    import refgraph

    monkeypatch.setenv("NEO4J_URI", neo4j_server.uri)
    monkeypatch.setenv("NEO4J_USER", neo4j_server.user)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_server.password)
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if "from_neo4j" in b]
    ns: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), ns)  # the block exactly as the README shows it
    db = ns["db"]
    assert isinstance(db, Neo4jBackend)
    try:
        pr = ns["pr"]
        cardio = ns["cardio"]
        assert isinstance(pr, pd.DataFrame) and isinstance(cardio, refgraph.ReferralNetwork)
        assert cardio.n_flows > 0
        is_cardio = cardio.physicians.set_index("npi")["specialty"] == "cardiology"
        top = pr[is_cardio].nlargest(3, "pagerank")
        # the numbers printed in the README's comments
        shown = re.findall(r"# (\d{10})\s+([0-9.]+)", block)
        assert top.index.tolist() == [n for n, _ in shown]
        assert top.index.tolist() == ["1449688153", "1398167860", "1562451173"]
        np.testing.assert_allclose(top["pagerank"], [0.069981, 0.031384, 0.031070], atol=1e-6)
        with pytest.warns(UserWarning, match="none of the"):
            only = refgraph.ReferralNetwork.from_neo4j(db, specialty="cardiology")
        assert only.n_flows == 0  # why the README uses flows="to"
    finally:
        db.delete(everything=True)
        db.close()


def _random_network(seed: int) -> ReferralNetwork:
    """Physicians in practices, flows over two years, events and touchpoints (dates)."""
    rng = np.random.default_rng(seed)
    n = 40
    npis = [make_npi(1000 + i) for i in range(n)]
    pids = [f"P{i}" for i in range(6)]
    phys = pd.DataFrame(
        {
            "npi": npis,
            "name": [f"Dr {i}" if rng.random() > 0.2 else None for i in range(n)],
            "specialty": rng.choice(["cardiology", "urology", "family_medicine"], n),
            "practice_id": [pids[k] if k < 6 else None for k in rng.integers(0, 8, n)],
            "lat": np.where(rng.random(n) > 0.1, 42 + rng.random(n), np.nan),
            "lon": -71 - rng.random(n),
        }
    )
    prac = pd.DataFrame({"practice_id": pids, "name": [f"Practice {p}" for p in pids]})
    m = 150
    years = rng.choice(["2023", "2024"], m)
    flows = pd.DataFrame(
        {
            "source_npi": rng.choice(npis, m),
            "target_npi": rng.choice(npis, m),
            "count": rng.integers(1, 500, m),
            "patients": [None if rng.random() < 0.3 else int(x) for x in rng.integers(0, 40, m)],
            "period_start": [f"{y}-01-01" for y in years],
            "period_end": [f"{y}-12-31" for y in years],
            "provenance": rng.choice(["cms", "crm"], m),
        }
    )
    k = 30
    events = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, k), "D"),
            "source_npi": rng.choice(npis, k),
            "target_npi": rng.choice(npis, k),
            "status": rng.choice(["referred", "seen"], k),
        }
    )
    tps = pd.DataFrame(
        {
            "date": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 90, 12), "D"),
            "npi": rng.choice(npis, 12),
            "kind": rng.choice(["visit", "call"], 12),
        }
    )
    return ReferralNetwork.from_frames(
        physicians=phys, practices=prac, flows=flows, events=events, touchpoints=tps
    )


@pytest.mark.parametrize("page", [None, 3])
def test_paged_read_gives_the_written_tables(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch, page: int | None
) -> None:
    """A whole-store read (in pages of column lists) gives back exactly the tables written.

    With ``page=3`` every table needs many pages (so page boundaries are crossed).
    """
    from contextlib import contextmanager

    if page is not None:
        monkeypatch.setattr("refgraph.backends.neo4j._read._PAGE_NODES", page)
        monkeypatch.setattr("refgraph.backends.neo4j._read._PAGE_SOURCES", page)
    bars: dict[str, list[float]] = {}

    class Bar:
        def __init__(self, desc: str) -> None:
            self.desc = desc

        def update(self, n: float = 1) -> None:
            bars[self.desc].append(n)

    @contextmanager
    def fake_bar(total, desc, **kw):  # type: ignore[no-untyped-def]
        bars[desc] = [total]
        yield Bar(desc)

    monkeypatch.setattr("refgraph._progress.progress_bar", fake_bar)
    for seed in (1, 2):
        net = _random_network(seed)
        assert len(net.events) and len(net.touchpoints) and len(net.practices)
        assert pd.api.types.is_datetime64_any_dtype(net.flows["period_start"])
        neo4j_db.delete(everything=True)
        neo4j_db.write(net)
        bars.clear()
        back = neo4j_db.read()
        assert_same_tables(net, back)
        # one bar per table; it reaches its total (the rows read) page by page
        total, *steps = bars["neo4j read flows"]
        assert total == sum(steps) == net.n_flows
        if page is not None:  # pages of sources until one is short (or empty), per key range
            k, n = neo4j_db.read_streams, net.n_physicians
            sizes = np.diff([0, *(n * j // k for j in range(1, k)), n])
            assert len(steps) == sum(int(r) // page + 1 for r in sizes)
        for t in ("physicians", "practices", "events", "touchpoints"):
            total, *steps = bars[f"neo4j read {t}"]
            assert total == sum(steps) == len(net.tables[t]), t
        # the filtered read (value rows, not pages) of everyone agrees as well
        everyone = neo4j_db.read(around=list(net.physicians["npi"]), hops=0)
        assert_same_tables(net, everyone)


def _plan_operators(plan: dict[str, object]) -> list[tuple[str, str]]:
    args = plan.get("args", {})
    details = str(args.get("Details", "")) if isinstance(args, dict) else ""
    out = [(str(plan["operatorType"]).split("@")[0], details)]
    for child in plan.get("children", []):  # type: ignore[attr-defined]
        out += _plan_operators(child)
    return out


def test_reads_of_given_ids_seek_through_the_indexes(
    neo4j_db: Neo4jBackend, small: ReferralNetwork
) -> None:
    # A read of a selection must not scan every node of the label: the "@ids" variants
    # of the read statements seek each id through the key's (or the event ends') index.
    from refgraph.backends.neo4j._schema import _Q

    neo4j_db.write(small)
    names = sorted(k for k in _Q if k.endswith("@ids"))
    assert len(names) == 3 * 2 + 4 * 2 + 4 * 2  # 3 node labels; events, flows: 4 modes
    params = {"ids": [str(x) for x in small.npis[:3]], "keys": ["x"], "iso": [False]}
    for name in names:
        with neo4j_db._session() as session:
            plan = session.run("EXPLAIN " + _Q[name], **params).consume().plan
        ops = _plan_operators(plan)
        kinds = {o for o, _ in ops}
        assert not kinds & {"NodeByLabelScan", "AllNodesScan", "NodeIndexScan"}, (name, ops)
        assert kinds & {"NodeUniqueIndexSeek", "NodeIndexSeek"}, (name, ops)
        # the whole-store statement is the one that scans, and stays for reads of all
        assert "$ids IS NULL" in _Q[name.removesuffix("@ids")]
