"""Tests of tie strength, warm-introduction paths, introducers and the intro plan."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refgraph import NoPathError, NotFoundError, ReferralNetwork, ValidationError, npi_check_digit
from refgraph.paths import (
    FACTORS,
    TieWeights,
    best_introducers,
    cmd_intro,
    expected_introductions,
    fit_tie_strength,
    greedy_asks,
    intro_paths,
    intro_plan,
    tie_strength,
)
from refgraph.specialties import competing

NPIS = [f"1{i + 100:08d}" for i in range(60)]
NPIS = [p + str(npi_check_digit(p)) for p in NPIS]
SPECS = ["cardiology", "interventional_cardiology", "family_medicine", "internal_medicine"]


def _net(
    edges: list[tuple[int, int, int]],
    n: int,
    specs: list[str] | None = None,
    **frames: pd.DataFrame,
) -> ReferralNetwork:
    phys = pd.DataFrame({"npi": NPIS[:n], "name": [f"Dr {i}" for i in range(n)]})
    if specs is not None:
        phys["specialty"] = specs
    flows = pd.DataFrame(
        {
            "source_npi": [NPIS[a] for a, _, _ in edges],
            "target_npi": [NPIS[b] for _, b, _ in edges],
            "count": [c for *_, c in edges],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows if edges else None, **frames)


def _nx_kbest(
    net: ReferralNetwork,
    sources: list[str],
    target: str,
    k: int,
    hops: int,
    forbid: set[str] = frozenset(),
    min_strength: float = 0.0,
) -> list[float]:
    """Reference: networkx Yen (shortest_simple_paths) on -log p with a hop filter."""
    ts = tie_strength(net)
    G = nx.DiGraph()
    src = set(sources)
    for a, b, s in zip(ts["npi_a"], ts["npi_b"], ts["strength"]):
        if s < min_strength:
            continue
        for u, v in ((a, b), (b, a)):
            if v in src or u in forbid or v in forbid:
                continue
            G.add_edge(u, v, weight=-math.log(s))
    for s in sources:
        G.add_edge("X", s, weight=0.0)
    if target not in G:
        return []
    out = []
    try:
        for p in nx.shortest_simple_paths(G, "X", target, weight="weight"):
            if len(p) - 2 <= hops:
                out.append(nx.path_weight(G, p, "weight"))
                if len(out) == k:
                    break
    except nx.NetworkXNoPath:
        pass
    return out


@st.composite
def graphs(draw: st.DrawFn, max_n: int = 11) -> tuple[ReferralNetwork, int]:
    n = draw(st.integers(4, max_n))
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=3 * n, unique=True))
    counts = draw(st.lists(st.integers(1, 60), min_size=len(chosen), max_size=len(chosen)))
    specs = draw(st.lists(st.sampled_from(SPECS), min_size=n, max_size=n))
    edges = [(a, b, c) for (a, b), c in zip(chosen, counts)]
    return _net(edges, n, specs), n


# ----------------------------------------------------------------------------- tie strength
def test_tie_strength_factors_by_hand() -> None:
    flows = pd.DataFrame(
        {
            "source_npi": [NPIS[0], NPIS[1], NPIS[2]],
            "target_npi": [NPIS[1], NPIS[0], NPIS[3]],
            "count": [10, 10, 1],
            "patients": [5, 0, 1],
            "period_end": ["2024-12-31", "2024-12-31", "2024-07-04"],
        }
    )
    practices = pd.DataFrame({"practice_id": ["P1", "P2", "P3"], "system": ["S", "S", None]})
    phys = pd.DataFrame({"npi": NPIS[:5], "practice_id": ["P1", "P2", "P3", "P3", "P3"]})
    net = ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)
    ts = tie_strength(net, half_life_days=180).set_index(["npi_a", "npi_b"])
    w = TieWeights()
    # Barnett curve through 82% at nine shared patients: logit = a + b log(k)
    a, b = w.patients_intercept, w.patients_slope
    assert a + b * math.log(9) == pytest.approx(math.log(0.82 / 0.18), abs=1e-3)
    r = ts.loc[(NPIS[0], NPIS[1])]
    assert r["volume"] == pytest.approx(1 - math.exp(-2))  # 20 referrals / scale 10
    assert r["patient_count"] == 5 and r["patients"] == pytest.approx(a + b * math.log(5))
    assert r["recency"] == 1.0 and r["reciprocity"] == 1.0
    assert r["same_system"] == 1.0 and r["same_practice"] == 0.0
    assert r["hospital"] == 0.0  # shared patients already say they are connected
    z = a + b * math.log(5) + 0.5  # + reciprocity (assumption weight 0.5)
    assert r["strength"] == pytest.approx(1 / (1 + math.exp(-z)))
    r2 = ts.loc[(NPIS[2], NPIS[3])]
    assert r2["recency"] == pytest.approx(0.5, abs=0.01)  # 180 days before as_of
    assert r2["same_practice"] == 1.0 and r2["days_since"] == 180
    z2 = a + 1.0 * (r2["recency"] - 1) + 4.0  # one shared patient, aged, colleagues
    assert r2["strength"] == pytest.approx(1 / (1 + math.exp(-z2)))
    # colleagues of the small practice P3 are related without flows; no referrals, so
    # nothing to age (recency 1) and the no-sharing prior of 5% plus the colleague term
    r3 = ts.loc[(NPIS[2], NPIS[4])]
    assert r3["volume"] == 0 and r3["same_practice"] == 1 and r3["recency"] == 1
    assert r3["patients"] == pytest.approx(math.log(0.05 / 0.95))
    assert r3["strength"] == pytest.approx(1 / (1 + math.exp(-(math.log(0.05 / 0.95) + 4.0))))
    for f in ("recency", "reciprocity", "same_practice", "same_system", "logged", "volume"):
        assert ts[f].between(0, 1).all()
    assert set(FACTORS) <= set(ts.columns)
    assert ts["strength"].between(0, 1).all()


def test_tie_strength_reweighting_and_logged_ties() -> None:
    net = _net(
        [(0, 1, 5)],
        4,
        touchpoints=pd.DataFrame(
            {
                "date": ["2024-01-02"],
                "npi": [NPIS[2]],
                "kind": ["visit"],
                "notes": [f"introduced by Dr 3 ({NPIS[3]})"],
            }
        ),
    )
    ties = pd.DataFrame({"npi_a": [NPIS[0]], "npi_b": [NPIS[2]], "kind": ["knows"]})
    ts = tie_strength(net, ties=ties).set_index(["npi_a", "npi_b"])
    assert ts.loc[(NPIS[0], NPIS[2]), "logged"] == 1
    assert ts.loc[(NPIS[0], NPIS[2]), "logged_kind"] == "knows"
    assert ts.loc[(NPIS[2], NPIS[3]), "logged_kind"] == "touchpoint: visit"
    strong = tie_strength(net, ties=ties, weights={"logged": 8.0}).set_index(["npi_a", "npi_b"])
    assert strong.loc[(NPIS[0], NPIS[2]), "strength"] > ts.loc[(NPIS[0], NPIS[2]), "strength"]
    with pytest.raises(ValidationError, match="unknown key"):
        tie_strength(net, weights={"bogus": 1.0})
    with pytest.raises(ValidationError, match="half_life_days"):
        tie_strength(net, half_life_days=0)


def test_fit_tie_strength_recovers_planted_ranking() -> None:
    rng = np.random.default_rng(5)
    n_pairs = 6000
    ids = [f"1{i:08d}" for i in range(10_000, 10_000 + 2 * n_pairs)]
    ids = [p + str(npi_check_digit(p)) for p in ids]
    a, b = np.array(ids[:n_pairs]), np.array(ids[n_pairs:])
    count = rng.integers(1, 40, n_pairs)
    back = np.where(rng.random(n_pairs) < 0.4, rng.integers(1, 10, n_pairs), 0)
    end = pd.Timestamp("2024-12-31") - pd.to_timedelta(rng.integers(0, 720, n_pairs), unit="D")
    flows = pd.concat(
        [
            pd.DataFrame({"source_npi": a, "target_npi": b, "count": count, "period_end": end}),
            pd.DataFrame(
                {
                    "source_npi": b[back > 0],
                    "target_npi": a[back > 0],
                    "count": back[back > 0],
                    "period_end": end[back > 0],
                }
            ),
        ]
    )
    ties = pd.DataFrame({"npi_a": a, "npi_b": b})[rng.random(n_pairs) < 0.3]
    net = ReferralNetwork.from_frames(flows=flows)
    ts = tie_strength(net, ties=ties, as_of="2024-12-31").set_index(["npi_a", "npi_b"])
    planted = {"volume": 3.0, "logged": 2.0, "recency": 1.0, "reciprocity": 0.4}
    z = -2.5 + sum(w * ts[f].to_numpy() for f, w in planted.items())
    y = (rng.random(len(ts)) < 1 / (1 + np.exp(-z))).astype(int)
    lab = pd.DataFrame(
        {"npi_a": ts.index.get_level_values(0), "npi_b": ts.index.get_level_values(1), "label": y}
    )
    fit = fit_tie_strength(net, lab, ties=ties, as_of="2024-12-31", C=100.0)
    got = [f for f in sorted(planted, key=lambda f: -getattr(fit.weights, f))]
    assert got == sorted(planted, key=lambda f: -planted[f])
    assert fit.auc > 0.7 and 0 < fit.brier < 0.25 and fit.log_loss > 0
    assert fit.n_test > 1000
    # the fitted object plugs into tie_strength
    assert tie_strength(net, weights=fit, ties=ties)["strength"].between(0, 1).all()
    with pytest.raises(ValidationError, match="both classes"):
        fit_tie_strength(net, lab.assign(label=1))


# ----------------------------------------------------------------------------- paths by hand
def test_best_path_known_by_hand() -> None:
    # 0 = me; 0-1-3 strong (40, 30 referrals), 0-2-3 weak (2, 1), 0-4-5-3 three hops
    net = _net(
        [(0, 1, 40), (1, 3, 30), (0, 2, 2), (2, 3, 1), (0, 4, 50), (4, 5, 50), (5, 3, 50)], 6
    )
    ts = tie_strength(net).set_index(["npi_a", "npi_b"])["strength"]

    def s(i: int, j: int) -> float:
        return float(ts.loc[(NPIS[min(i, j)], NPIS[max(i, j)])])

    res = intro_paths(net, NPIS[3], sources=[NPIS[0]], k=5)
    expect = sorted(
        [
            ((0, 1, 3), s(0, 1) * s(1, 3)),
            ((0, 2, 3), s(0, 2) * s(2, 3)),
            ((0, 4, 5, 3), s(0, 4) * s(4, 5) * s(5, 3)),
        ],
        key=lambda x: -x[1],
    )
    assert [tuple(NPIS[i] for i in p) for p, _ in expect] == list(res.paths["path"])
    assert res.paths["probability"].to_numpy() == pytest.approx([p for _, p in expect])
    assert res.paths["introducer"].iloc[0] in (NPIS[1], NPIS[5])
    assert len(res.hops) == sum(len(p) - 1 for p, _ in expect)
    assert "referrals" in res.paths["explanation"].iloc[0]
    # max_hops=2 drops the three-hop path
    assert len(intro_paths(net, NPIS[3], sources=[NPIS[0]], k=5, max_hops=2)) == 2
    # excluding the best intermediary
    res2 = intro_paths(net, NPIS[3], sources=[NPIS[0]], exclude=[NPIS[1]])
    assert all(NPIS[1] not in p for p in res2.paths["path"])
    assert "Dr 0" in res.table()


def test_explanation_words() -> None:
    practices = pd.DataFrame(
        {"practice_id": ["G"], "name": ["Elm St Group"], "kind": ["multi_specialty_group"]}
    )
    phys = pd.DataFrame(
        {"npi": NPIS[:3], "name": ["Me", "Ann", "Xu"], "practice_id": ["G", "G", None]}
    )
    flows = pd.DataFrame(
        {
            "source_npi": [NPIS[0], NPIS[1]],
            "target_npi": [NPIS[1], NPIS[2]],
            "count": [57, 9],
            "patients": [42, 5],
            "period_end": ["2024-12-31", "2024-12-10"],
        }
    )
    net = ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)
    res = intro_paths(net, NPIS[2], sources=[NPIS[0]])
    h = res.hops
    assert (
        h["explanation"]
        .iloc[0]
        .startswith(
            "42 shared patients, 57 referrals (57 sent, 0 received), flows through 2024-12-31, "
            "same group practice (Elm St Group)"
        )
    )
    # aggregated flows only bound the date, so the explanation quotes the period end
    assert "flows through 2024-12-10" in h["explanation"].iloc[1]
    # with a dated referral event the explanation gives its age
    ev = pd.DataFrame(
        {
            "date": ["2024-12-10"],
            "source_npi": [NPIS[1]],
            "target_npi": [NPIS[2]],
            "status": ["referred"],
        }
    )
    net2 = ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows, events=ev)
    h2 = intro_paths(net2, NPIS[2], sources=[NPIS[0]], as_of="2024-12-31").hops
    assert "last referral 3 weeks before the data's last date" in h2["explanation"].iloc[1]
    assert h["shared_patients"].tolist() == [42, 5]


def test_no_path_errors() -> None:
    net = _net([(0, 1, 5), (1, 2, 5), (2, 3, 5), (3, 4, 5)], 6)
    with pytest.raises(NoPathError, match=f"{NPIS[5]}.*no relationships"):
        intro_paths(net, NPIS[5], sources=[NPIS[0]])
    with pytest.raises(NoPathError, match=rf"{NPIS[4]}.*max_hops=3"):
        intro_paths(net, NPIS[4], sources=[NPIS[0]], max_hops=3)
    assert len(intro_paths(net, NPIS[4], sources=[NPIS[0]], max_hops=4)) == 1
    with pytest.raises(NoPathError, match="exclude"):
        intro_paths(net, NPIS[3], sources=[NPIS[0]], exclude=[NPIS[2]])
    with pytest.raises(NoPathError, match="min_strength"):
        intro_paths(net, NPIS[2], sources=[NPIS[0]], min_strength=0.99)
    with pytest.raises(NoPathError, match="outside region"):
        intro_paths(net, NPIS[2], sources=[NPIS[0]], region={"npi": NPIS[:2]})
    with pytest.raises(NotFoundError, match="target"):
        intro_paths(net, "1234567893", sources=[NPIS[0]])
    with pytest.raises(ValidationError, match="sources"):
        intro_paths(net, NPIS[2])
    with pytest.raises(ValidationError, match="max_hops"):
        intro_paths(net, NPIS[2], sources=[NPIS[0]], max_hops=0)
    assert issubclass(NoPathError, LookupError)


def test_default_sources_home_and_touchpoints() -> None:
    tp = pd.DataFrame({"date": ["2024-01-02"], "npi": [NPIS[1]], "kind": ["visit"]})
    net = _net([(0, 1, 5), (1, 2, 5)], 3, touchpoints=tp)
    assert intro_paths(net, NPIS[2]).paths["source"].tolist() == [NPIS[1]]
    assert intro_paths(net, NPIS[2], home=[NPIS[0]]).paths["source"].iloc[0] == NPIS[0]


# ----------------------------------------------------------------------------- exactness
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), k=st.integers(1, 6), hops=st.integers(1, 4), seed=st.integers(0, 10**6))
def test_exact_against_networkx_yen(
    g: tuple[ReferralNetwork, int], k: int, hops: int, seed: int
) -> None:
    net, n = g
    rnd = random.Random(seed)
    nodes = list(range(n))
    rnd.shuffle(nodes)
    target = NPIS[nodes[0]]
    sources = [NPIS[i] for i in nodes[1 : 1 + rnd.randint(1, 3)]]
    ref = _nx_kbest(net, sources, target, k, hops)
    try:
        got = intro_paths(net, target, sources=sources, k=k, max_hops=hops).paths["cost"].tolist()
    except NoPathError:
        got = []
    assert got == pytest.approx(ref, abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(max_n=10), seed=st.integers(0, 10**6))
def test_best_introducers_exact(g: tuple[ReferralNetwork, int], seed: int) -> None:
    net, n = g
    rnd = random.Random(seed)
    nodes = list(range(n))
    rnd.shuffle(nodes)
    t, sources = NPIS[nodes[0]], [NPIS[nodes[1]], NPIS[nodes[2]]]
    ts = tie_strength(net)
    G = nx.Graph()
    G.add_weighted_edges_from(zip(ts["npi_a"], ts["npi_b"], -np.log(ts["strength"])))
    best: dict[str, float] = {}
    for s in sources:
        if s not in G or t not in G:
            continue
        for p in nx.all_simple_paths(G, s, t, cutoff=3):
            if any(x in sources for x in p[1:]):
                continue
            c = nx.path_weight(G, p, "weight")
            best[p[-2]] = min(best.get(p[-2], math.inf), c)
    try:
        got = best_introducers(net, t, sources=sources, top=n)
    except NoPathError:
        assert not best
        return
    assert set(got.index) == set(best)
    for x, p in got["probability"].items():
        assert -math.log(p) == pytest.approx(best[x], abs=1e-9)
    assert got["probability"].is_monotonic_decreasing


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    g=graphs(),
    seed=st.integers(0, 10**6),
    hops=st.integers(1, 4),
    min_strength=st.sampled_from([0.0, 0.2, 0.4]),
    comp=st.booleans(),
    use_region=st.booleans(),
)
def test_constraints_and_probability_bounds(
    g: tuple[ReferralNetwork, int],
    seed: int,
    hops: int,
    min_strength: float,
    comp: bool,
    use_region: bool,
) -> None:
    net, n = g
    rnd = random.Random(seed)
    nodes = list(range(n))
    rnd.shuffle(nodes)
    target = NPIS[nodes[0]]
    sources = [NPIS[i] for i in nodes[1:3]]
    excluded = [NPIS[nodes[3]]]
    region = {"npi": [NPIS[i] for i in nodes if rnd.random() < 0.8 or i == nodes[0]]}
    kw = dict(
        sources=sources,
        k=4,
        max_hops=hops,
        exclude=excluded,
        min_strength=min_strength,
        exclude_competitors_of="cardiology" if comp else None,
        region=region if use_region else None,
    )
    try:
        res = intro_paths(net, target, **kw)
    except NoPathError as exc:
        assert target in str(exc)
        return
    spec = dict(zip(net.physicians["npi"], net.physicians["specialty"]))
    comps = set(competing("cardiology"))
    for p, prob, rank in zip(res.paths["path"], res.paths["probability"], res.paths["rank"]):
        strengths = res.hops.loc[res.hops["rank"] == rank, "strength"].to_numpy()
        assert prob <= strengths.min() + 1e-12
        assert prob == pytest.approx(float(np.prod(strengths)))
        assert (strengths >= min_strength).all()
        assert len(set(p)) == len(p) and len(p) - 1 <= hops
        assert p[0] in sources and p[-1] == target
        assert not set(p[1:]) & set(sources)
        assert excluded[0] not in p
        if comp:
            assert not any(spec[x] in comps for x in p[1:-1])
        if use_region:
            assert set(p) <= set(region["npi"])
    assert res.paths["probability"].is_monotonic_decreasing


@pytest.mark.datasets
def test_ckm_paths_never_cross_towns(datasets_dir: Path) -> None:
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm")
    town = dict(zip(net.physicians["npi"], net.physicians["city"]))
    rnd = random.Random(3)
    npis = list(town)
    crossed = 0
    for _ in range(40):
        t, *src = rnd.sample(npis, 4)
        try:
            res = intro_paths(net, t, sources=src, k=3, max_hops=3)
        except NoPathError:
            if all(town[s] != town[t] for s in src):
                crossed += 1
            continue
        for p in res.paths["path"]:
            assert len({town[x] for x in p}) == 1
    assert crossed > 0  # cross-town queries exist and fail cleanly
    t = next(x for x in npis if town[x] == 2)
    src = [x for x in npis if town[x] == 1][:5]
    with pytest.raises(NoPathError, match=t):
        intro_paths(net, t, sources=src)
    home = [x for x in npis if town[x] == 2 and x != t][:5]
    res = intro_paths(net, t, sources=home + src, region={"city": 2})
    assert all(town[x] == 2 for p in res.paths["path"] for x in p)


# ----------------------------------------------------------------------------- plan
@settings(max_examples=80, deadline=None)
@given(
    probs=st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(0.01, 0.99)),
        min_size=1,
        max_size=9,
        unique_by=lambda x: (x[0], x[1]),
    ),
    budget=st.integers(1, 4),
    cap=st.integers(1, 4),
)
def test_greedy_plan_meets_its_guarantee(
    probs: list[tuple[int, int, float]], budget: int, cap: int
) -> None:
    cand = [(f"x{x}", f"t{t}", p) for x, t, p in probs]
    chosen = greedy_asks(cand, budget, cap)
    got = expected_introductions((x, t, p) for x, t, p, _ in chosen)
    opt = 0.0
    for r in range(budget + 1):
        for sub in itertools.combinations(cand, r):
            per: dict[str, int] = {}
            for x, _, _ in sub:
                per[x] = per.get(x, 0) + 1
            if max(per.values(), default=0) <= cap:
                opt = max(opt, expected_introductions(sub))
    bound = (1 - 1 / math.e) if cap >= budget else 0.5
    assert got >= bound * opt - 1e-12
    assert len(chosen) <= budget
    assert sum(g for *_, g in chosen) == pytest.approx(got)


def test_intro_plan_on_synthetic_region() -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(300, seed=2)
    home = net.physicians.loc[net.physicians["specialty"] == "cardiology", "npi"].tolist()[:3]
    others = [x for x in net.physicians["npi"] if x not in home]
    targets = others[:8]
    plan = intro_plan(
        net, targets, budget=5, capacity_per_introducer=2, home=home, candidates_per_target=4
    )
    assert len(plan.asks) <= 5
    assert plan.asks.groupby("introducer").size().max() <= 2
    assert plan.expected == pytest.approx(
        expected_introductions(
            zip(plan.asks["introducer"], plan.asks["target"], plan.asks["probability"])
        )
    )
    assert "1/2" in plan.guarantee
    # brute force over the same candidate asks
    cand = list(plan.candidates.itertuples(index=False, name=None))
    top = sorted(cand, key=lambda c: -c[2])[:10]
    opt = max(
        expected_introductions(s)
        for r in range(6)
        for s in itertools.combinations(top, r)
        if max(pd.Series([c[0] for c in s]).value_counts(), default=0) <= 2
    )
    assert plan.expected >= 0.5 * opt
    assert set(plan.targets.index) == set(targets)


def test_cli_intro(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    net = _net([(0, 1, 40), (1, 3, 30), (0, 2, 2), (2, 3, 1)], 4)
    folder = net.save(tmp_path / "net")
    args = argparse.Namespace(
        network=str(folder), to=NPIS[3], sources=[NPIS[0]], k=2, max_hops=3, home=None
    )
    assert cmd_intro(args) == 0
    out = capsys.readouterr().out
    assert "Introduction paths to" in out and "Dr 1" in out and "p=" in out


def test_logged_kind_is_the_latest_touchpoints_whatever_the_row_order() -> None:
    # Two touchpoints log the same pair with different kinds; the label is the later
    # one's, and shuffling the rows (as a read from Neo4j may) does not change it.
    tp = pd.DataFrame(
        {
            "date": ["2024-03-01", "2024-01-02", "2024-02-01"],
            "npi": [NPIS[2], NPIS[2], NPIS[3]],
            "kind": ["call", "visit", "letter"],
            "notes": [f"introduced by {NPIS[3]}", f"met {NPIS[3]}", f"from {NPIS[2]}"],
        }
    )
    labels = set()
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
        net = _net([(0, 1, 5)], 4, touchpoints=tp.iloc[order].reset_index(drop=True))
        ts = tie_strength(net).set_index(["npi_a", "npi_b"])
        labels.add(ts.loc[(NPIS[2], NPIS[3]), "logged_kind"])
    assert labels == {"touchpoint: call"}
