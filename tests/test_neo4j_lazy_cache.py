"""The kept ball network of lazy ``intro_paths``: memory's answers, one statement a
query, and a new answer after any write."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from refgraph import NoPathError, ReferralNetwork
from refgraph.backends.neo4j import Neo4jBackend, _lazy_paths
from refgraph.paths import intro_paths
from test_neo4j_lazy import (
    _sorted_tables,
    assert_intro_equal,
    assert_introducers_equal,
    count_statements,
    make_npi,
    random_network,
)

pytestmark = pytest.mark.neo4j


@pytest.fixture
def sent(neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement sent: managed reads and auto-commit ones (the version check)."""
    yield count_statements(monkeypatch)


def chain() -> ReferralNetwork:
    """s -> a -> b -> t and s -> c -> t, plus a tail t -> u -> w; the latest flow s -> a."""
    s, a, b, c, t, u, w = (make_npi(i) for i in range(7))
    flows = pd.DataFrame(
        {
            "source_npi": [s, a, b, s, c, t, u],
            "target_npi": [a, b, t, c, t, u, w],
            "count": [9, 9, 9, 3, 3, 5, 5],
            "period_end": ["2024-03-31"] + ["2024-01-31"] * 6,
            "provenance": [f"p{i}" for i in range(7)],
        }
    )
    phys = pd.DataFrame(
        {
            "npi": [s, a, b, c, t, u, w],
            "name": [f"Dr {x}" for x in "sabctuw"],
            "specialty": ["cardiology"] * 7,
            "practice_id": ["P1", "P1", None, None, None, "P2", "P2"],
        }
    )
    prac = pd.DataFrame({"practice_id": ["P1", "P2"], "name": ["One", "Two"]})
    return ReferralNetwork.from_frames(physicians=phys, practices=prac, flows=flows)


def with_flows(net: ReferralNetwork, rows: list[tuple[str, str, int]]) -> ReferralNetwork:
    extra = pd.DataFrame(
        {
            "source_npi": [r[0] for r in rows],
            "target_npi": [r[1] for r in rows],
            "count": [r[2] for r in rows],
            "period_end": ["2024-01-31"] * len(rows),
            "provenance": [f"new{i}" for i in range(len(rows))],
        }
    )
    flows = pd.concat([net.flows, extra], ignore_index=True)
    return ReferralNetwork.from_frames(
        physicians=net.physicians, practices=net.practices, flows=flows
    )


def kept_networks(lazy: Any) -> list[Any]:
    return [v for v in lazy._memo.get("intro_ball_networks", {}).values() if v is not None]


def test_target_in_the_ball_is_searched_on_the_kept_network(
    neo4j_db: Neo4jBackend, sent: list[str]
) -> None:
    net = chain()
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    s, a, b, c, t, u, _ = (str(x) for x in net.npis)
    assert assert_intro_equal(lazy, net, t, sources=[s], max_hops=3) == "same"
    ((sub, ball, names),) = kept_networks(lazy)
    # the ball of radius 2 around s, and the tables of the store's sub-network of it
    assert ball == {s, a, b, c, t}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        want = _sorted_tables(neo4j_db.read(around=sorted(ball), hops=0))
    got = _sorted_tables(sub)
    for table in ("flows", "events", "touchpoints"):
        pd.testing.assert_frame_equal(got[table], want[table], check_dtype=True, obj=table)
    # (the latest flow's ends are in it; no practice above 10: no extra members)
    assert names == set(sub.npis) == ball
    # another target in the ball: one statement (the version check), no new read
    before = len(sent)
    assert assert_intro_equal(lazy, net, b, sources=[s], max_hops=3) in ("same", "tied")
    assert len(sent) - before == 1
    assert all("_store" in q for q in sent[before:])
    assert "intro_networks" not in lazy._memo
    assert kept_networks(lazy)[0][0] is sub
    # a target outside the ball (3 hops away): the per-query reads, the same answer
    before = len(sent)
    assert assert_intro_equal(lazy, net, u, sources=[s], max_hops=3) == "same"
    assert len(sent) - before > 1
    (per_query,) = lazy._memo["intro_networks"].values()
    assert u in set(per_query.npis)
    lazy.close()


def test_a_write_between_two_queries_gives_the_new_answer(neo4j_db: Neo4jBackend) -> None:
    net = chain()
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    s, a, _, c, t, _, w = (str(x) for x in net.npis)
    first = intro_paths(lazy, t, sources=[s], k=5, max_hops=3)
    memory = intro_paths(net, t, sources=[s], k=5, max_hops=3)
    assert first.paths["path"].tolist() == memory.paths["path"].tolist()
    ((sub, _, _),) = kept_networks(lazy)
    version = lazy._version
    # a direct flow s -> t and a strong one c -> w: the best path and the ball change
    changed = with_flows(net, [(s, t, 40), (c, w, 60)])
    neo4j_db.write(changed)
    second = intro_paths(lazy, t, sources=[s], k=5, max_hops=3)
    want = intro_paths(changed, t, sources=[s], k=5, max_hops=3)
    assert second.paths["path"].tolist() == want.paths["path"].tolist()
    np.testing.assert_allclose(second.paths["probability"], want.paths["probability"], rtol=1e-12)
    assert second.paths["path"].tolist() != first.paths["path"].tolist()
    assert lazy._version != version
    ((sub2, ball2, _),) = kept_networks(lazy)
    assert sub2 is not sub and sub.n_flows == 5
    assert ball2 == set(changed.npis) and sub2.n_flows == changed.n_flows == 9
    # w is now two steps away (s -> c -> w): searched on the new kept network
    assert assert_intro_equal(lazy, changed, w, sources=[s], max_hops=3) == "same"
    assert assert_introducers_equal(lazy, changed, w, sources=[s], max_hops=3) == "same"
    # another write, and best_introducers first this time
    again = with_flows(changed, [(a, w, 80)])
    neo4j_db.write(again)
    assert assert_introducers_equal(lazy, again, w, sources=[s], max_hops=3) == "same"
    assert kept_networks(lazy)[0][0].n_flows == again.n_flows
    lazy.close()


def spy_answers(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bool, str]]:
    """Each ``_answer`` call of lazy ``intro_paths``: (peek, how it ended)."""
    calls: list[tuple[bool, str]] = []
    answer = _lazy_paths._answer

    def spy(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("locate"):  # where a peek would go (no search): not an answer
            return answer(*args, **kwargs)
        try:
            got = answer(*args, **kwargs)
        except Exception as exc:
            calls.append((bool(kwargs.get("peek")), type(exc).__name__))
            raise
        calls.append((bool(kwargs.get("peek")), "answer"))
        return got

    monkeypatch.setattr(_lazy_paths, "_answer", spy)
    return calls


def test_the_overlapped_check_keeps_current_answers_and_drops_stale_ones(
    neo4j_db: Neo4jBackend, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    net = chain()
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    s, a, b, c, t, u, _ = (str(x) for x in net.npis)
    calls = spy_answers(monkeypatch)
    # the first query checks first (no version read yet): one answer, no peek
    assert assert_intro_equal(lazy, net, t, sources=[s], max_hops=3) == "same"
    assert calls == [(False, "answer")]
    # unchanged store, target in the kept ball: answered by the peek, one statement
    calls.clear()
    before = len(sent)
    assert assert_intro_equal(lazy, net, b, sources=[s], max_hops=3) in ("same", "tied")
    assert calls == [(True, "answer")] and len(sent) - before == 1
    # a "no path" answer from kept values is raised as it is (s's only routes to t excluded)
    calls.clear()
    with pytest.raises(NoPathError):
        intro_paths(lazy, t, sources=[s], max_hops=3, exclude=[a, c])
    assert calls == [(True, "NoPathError")]
    with pytest.raises(NoPathError):
        intro_paths(net, t, sources=[s], max_hops=3, exclude=[a, c])
    # a target outside the ball: no peek and no separate check; the per-query
    # sub-network statement reads the change marker (see the test below)
    calls.clear()
    before = len(sent)
    assert assert_intro_equal(lazy, net, u, sources=[s], max_hops=3) == "same"
    assert calls == [(False, "answer")]
    assert sum("_store" in q for q in sent[before:]) == 1 and len(sent) - before == 2
    # after a write, the peek's answer (kept values, here "no path") is dropped and the
    # query runs again on current values: the new flow s -> t
    changed = with_flows(net, [(s, t, 40)])
    neo4j_db.write(changed)
    calls.clear()
    got = intro_paths(lazy, t, sources=[s], k=5, max_hops=3, exclude=[a, c])
    assert calls == [(True, "NoPathError"), (False, "answer")]
    assert got.paths["path"].tolist() == [(s, t)]
    want = intro_paths(changed, t, sources=[s], k=5, max_hops=3, exclude=[a, c])
    assert want.paths["path"].tolist() == [(s, t)]
    # and a stale path answer is dropped the same way
    again = with_flows(changed, [(c, t, 90)])
    neo4j_db.write(again)
    calls.clear()
    got = intro_paths(lazy, t, sources=[s], k=5, max_hops=3)
    want = intro_paths(again, t, sources=[s], k=5, max_hops=3)
    assert calls == [(True, "answer"), (False, "answer")]
    assert got.paths["path"].tolist() == want.paths["path"].tolist()
    np.testing.assert_allclose(got.paths["probability"], want.paths["probability"], rtol=1e-12)
    stale = intro_paths(changed, t, sources=[s], k=5, max_hops=3).paths
    assert stale["path"].tolist() != want.paths["path"].tolist() or not np.allclose(
        stale["probability"], want.paths["probability"], rtol=1e-9
    )
    # current values again: the peek's answer stands
    calls.clear()
    assert assert_intro_equal(lazy, again, b, sources=[s], max_hops=3) in ("same", "tied")
    assert calls == [(True, "answer")]
    monkeypatch.setattr(_lazy_paths, "_OVERLAP_CHECK", False)
    calls.clear()
    assert assert_intro_equal(lazy, again, b, sources=[s], max_hops=3) in ("same", "tied")
    assert calls == [(False, "answer")]
    lazy.close()


def test_ball_larger_than_the_bound_is_not_kept(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # above _BALL_NETWORK_MAX physicians, every query reads its own sub-network; the same
    # answers either way
    net = random_network(11)
    neo4j_db.write(net)
    npis = [str(x) for x in net.npis]
    rng = np.random.default_rng(11)
    for bound in (5, 20_000):
        monkeypatch.setattr(_lazy_paths, "_BALL_NETWORK_MAX", bound)
        lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
        outcomes = []
        for _ in range(4):
            sources = [str(x) for x in rng.choice(npis[:50], 2, replace=False)]
            target = str(rng.choice([x for x in npis if x not in sources]))
            outcomes.append(assert_intro_equal(lazy, net, target, sources=sources, max_hops=3))
        assert outcomes.count("same") + outcomes.count("tied") >= 2, outcomes
        kept = lazy._memo["intro_ball_networks"]
        if bound == 5:
            assert set(kept.values()) == {None}
            assert lazy._memo["intro_networks"]
        else:
            assert all(v is not None for v in kept.values())
        lazy.close()


@pytest.mark.parametrize("keep", [True, False])
def test_hops_above_three_and_competitors_use_the_right_network(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch, keep: bool
) -> None:
    # max_hops 4 never keeps a ball network (its radius would be 3, more than the kept
    # ball's 2); competitors by NPI and exclusions are evaluated on the kept network as
    # on the whole one. Parity either way, with the switch on and off.
    monkeypatch.setattr(_lazy_paths, "_KEEP_BALL_NETWORK", keep)
    net = random_network(12)
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    outcomes = [
        assert_intro_equal(lazy, net, npis[40], sources=npis[:2], max_hops=4),
        assert_intro_equal(lazy, net, npis[41], sources=npis[:2], max_hops=3),
        assert_intro_equal(
            lazy, net, npis[42], sources=npis[:2], max_hops=3, exclude_competitors_of=npis[59]
        ),
        assert_intro_equal(lazy, net, npis[43], sources=npis[:2], exclude=npis[5:15]),
    ]
    assert outcomes.count("same") >= 2, outcomes
    kept = lazy._memo.get("intro_ball_networks", {})
    assert all(key[1] <= 3 for key in kept)
    assert bool(kept) == keep
    lazy.close()


def test_latest_dates_and_their_holders_in_one_statement(
    neo4j_db: Neo4jBackend, sent: list[str]
) -> None:
    """The store's latest date (flows, events, touchpoints) and the physicians holding
    each kind's latest row come from one statement, read once while kept, read again
    after a write; the first query sends it once (from the worker thread)."""
    net = random_network(8)  # latest: a touchpoint (2024-03-02), an event, then flows
    neo4j_db.write(net)
    latest_of = {
        "flows": pd.to_datetime(net.flows["period_end"]).max(),
        "events": pd.to_datetime(net.events["date"]).max(),
        "touchpoints": pd.to_datetime(net.touchpoints["date"]).max(),
    }
    assert latest_of["touchpoints"] > latest_of["events"] > latest_of["flows"]

    def latest_reads(start: int) -> int:
        return sum("DESC LIMIT 1" in q for q in sent[start:])

    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    npis = [str(x) for x in net.npis]
    before = len(sent)
    assert assert_intro_equal(lazy, net, npis[20], sources=npis[:2], max_hops=3) != "nopath"
    assert latest_reads(before) == 1
    before = len(sent)
    assert lazy.max_date() == max(latest_of.values())
    holders, date = lazy._latest()
    assert latest_reads(before) == 0 and date == max(latest_of.values())
    flows, events, tps = net.flows, net.events, net.touchpoints
    tp = tps.loc[pd.to_datetime(tps["date"]) == latest_of["touchpoints"], "npi"]
    ev = events.loc[pd.to_datetime(events["date"]) == latest_of["events"]]
    last = flows.loc[pd.to_datetime(flows["period_end"]) == latest_of["flows"]]
    pairs = set(zip(last["source_npi"].astype(str), last["target_npi"].astype(str)))
    assert set(tp.astype(str)) <= holders
    assert {str(ev["source_npi"].iloc[0]), str(ev["target_npi"].iloc[0])} <= holders
    rest = holders - set(tp.astype(str)) - set(ev[["source_npi", "target_npi"]].astype(str).stack())
    assert any({a, b} >= rest for a, b in pairs), (rest, pairs)  # one latest flow's ends

    # a newer event between two physicians: the next query and max_date see it
    newer = net.events.iloc[:1].assign(date="2024-06-30", source_npi=npis[40], target_npi=npis[41])
    grown = ReferralNetwork.from_frames(
        physicians=net.physicians,
        practices=net.practices,
        flows=net.flows,
        events=pd.concat([net.events, newer], ignore_index=True),
        touchpoints=net.touchpoints,
    )
    neo4j_db.write(grown)
    before = len(sent)
    assert assert_intro_equal(lazy, grown, npis[21], sources=npis[:2], max_hops=3) != "nopath"
    assert latest_reads(before) == 1
    assert lazy.max_date() == pd.Timestamp("2024-06-30")
    assert {npis[40], npis[41]} <= lazy._latest()[0]
    lazy.close()


def test_outside_the_ball_the_marker_comes_with_the_sub_network(
    neo4j_db: Neo4jBackend, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target outside the kept ball sends two statements (its tie edges, then its
    sub-network with the store's change marker); a marker that moved drops the kept
    values and the query runs again, so a write between queries gives the new answer,
    a path or a "no path"."""
    net = chain()
    neo4j_db.write(net)
    lazy = ReferralNetwork.from_neo4j(neo4j_db, lazy=True)
    s, a, b, _, t, u, w = (str(x) for x in net.npis)
    assert assert_intro_equal(lazy, net, t, sources=[s], max_hops=3) == "same"
    ((_, ball, _),) = kept_networks(lazy)
    assert u not in ball and w not in ball
    calls = spy_answers(monkeypatch)
    before = len(sent)
    assert assert_intro_equal(lazy, net, u, sources=[s], max_hops=3) == "same"
    got = sent[before:]
    assert len(got) == 2 and "_store" not in got[0] and "_store" in got[1], got
    assert "touchpoints" in got[1]  # the marker came with the sub-network read
    assert calls == [(False, "answer")]
    # w is four steps from s: "no path" from the kept values and current reads alike
    assert assert_intro_equal(lazy, net, w, sources=[s], max_hops=3) == "nopath"
    # a write: a -> w makes w two steps away; the marker read with the sub-network has
    # moved, so the kept values are dropped and the query runs again
    changed = with_flows(net, [(a, w, 70)])
    neo4j_db.write(changed)
    version = lazy._version
    calls.clear()
    before = len(sent)
    got_w = intro_paths(lazy, w, sources=[s], k=5, max_hops=3)
    want_w = intro_paths(changed, w, sources=[s], k=5, max_hops=3)
    assert got_w.paths["path"].tolist() == want_w.paths["path"].tolist() == [(s, a, w)]
    np.testing.assert_allclose(got_w.paths["probability"], want_w.paths["probability"], rtol=1e-12)
    assert calls == [(False, "answer"), (False, "answer")]
    assert lazy._version != version
    # a path that a write removes the need for: s -> u directly, u now in the new ball
    assert assert_intro_equal(lazy, changed, t, sources=[s], max_hops=3) == "same"
    again = with_flows(changed, [(s, u, 90)])
    neo4j_db.write(again)
    calls.clear()
    got_u = intro_paths(lazy, u, sources=[s], k=5, max_hops=3)
    want_u = intro_paths(again, u, sources=[s], k=5, max_hops=3)
    assert got_u.paths["path"].tolist() == want_u.paths["path"].tolist()
    assert want_u.paths["path"].tolist()[0] == (s, u)
    np.testing.assert_allclose(got_u.paths["probability"], want_u.paths["probability"], rtol=1e-12)
    # no kept ball network: every target takes this path; with the switch off, the
    # separate version check comes back (three statements)
    monkeypatch.setattr(_lazy_paths, "_KEEP_BALL_NETWORK", False)
    for switch, statements in ((True, 2), (False, 3)):
        monkeypatch.setattr(_lazy_paths, "_VERSION_IN_READ", switch)
        lazy._memo.pop("intro_networks", None)  # (a kept per-query network needs no read)
        before = len(sent)
        assert assert_intro_equal(lazy, again, b, sources=[s], max_hops=3) in ("same", "tied")
        assert len(sent) - before == statements, sent[before:]
        assert sum("_store" in q for q in sent[before:]) == 1
    lazy.close()
