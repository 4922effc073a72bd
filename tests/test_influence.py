"""Influence maximisation: greedy vs brute force, monotone spread, submodular gains."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from refgraph import NotFoundError, ReferralNetwork, ValidationError, npi_check_digit
from refgraph import influence as I
from refgraph.config import config


def _npi(i: int) -> str:
    body = f"1{i + 300:08d}"
    return body + str(npi_check_digit(body))


def _net(edges: list[tuple[int, int, int]], n: int) -> ReferralNetwork:
    phys = pd.DataFrame({"npi": [_npi(i) for i in range(n)]})
    flows = pd.DataFrame(
        {
            "source_npi": [_npi(s) for s, _, _ in edges],
            "target_npi": [_npi(t) for _, t, _ in edges],
            "count": [w for _, _, w in edges],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def _random_net(n: int, m: int, seed: int) -> ReferralNetwork:
    rng = np.random.default_rng(seed)
    pairs = sorted({(int(s), int(t)) for s, t in rng.integers(0, n, (m, 2)) if s != t})
    return _net([(s, t, int(rng.integers(1, 20))) for s, t in pairs], n)


def test_edge_probabilities_are_referral_shares():
    net = _net([(0, 1, 3), (0, 2, 1), (3, 1, 2)], 4)
    p = I.edge_probabilities(net).set_index(["influencer", "influenced"])["probability"]
    assert p[(_npi(1), _npi(0))] == 0.75  # 0 sends 3/4 of its referrals to 1
    assert p[(_npi(1), _npi(3))] == 1.0
    q = I.edge_probabilities(net, direction="to_receiver")
    q = q.set_index(["influencer", "influenced"])["probability"]
    assert q[(_npi(0), _npi(1))] == pytest.approx(0.6)  # 1 receives 3 of its 5 referrals from 0
    # incoming probabilities sum to <= 1 for LT
    assert I.edge_probabilities(net).groupby("influenced")["probability"].sum().max() <= 1 + 1e-12


def test_exact_spread_on_a_chain():
    # 1 refers only to 0, 2 only to 1: influence 0 -> 1 -> 2 with probability 1
    net = _net([(1, 0, 5), (2, 1, 5)], 3)
    for model in ("ic", "lt"):
        assert I.spread(net, [_npi(0)], model=model, n_simulations=20, seed=0) == 3.0
        assert I.spread(net, [_npi(2)], model=model, n_simulations=20, seed=0) == 1.0


def test_ic_spread_matches_closed_form():
    # star: referrers 1..4 each split referrals 1:1 between hubs 0 and 5
    edges = [(i, 0, 1) for i in range(1, 5)] + [(i, 5, 1) for i in range(1, 5)]
    net = _net(edges, 6)
    est = I.spread(net, [_npi(0)], model="ic", n_simulations=20000, seed=1)
    assert est == pytest.approx(1 + 4 * 0.5, abs=0.05)
    both = I.spread(net, [_npi(0), _npi(5)], model="ic", n_simulations=20000, seed=1)
    assert both == pytest.approx(2 + 4 * 0.75, abs=0.05)
    lt = I.spread(net, [_npi(0), _npi(5)], model="lt", n_simulations=2000, seed=1)
    assert lt == pytest.approx(6.0)  # LT: weights 0.5 + 0.5 reach every threshold


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_greedy_equals_brute_force_on_tiny_graph(model):
    net = _random_net(8, 20, seed=3)
    kw = {"model": model, "n_simulations": 3000, "seed": 11}
    best = I.maximize(net, 2, **kw)
    pairs = list(itertools.combinations(net.npis, 2))
    spreads = {pair: I.spread(net, pair, **kw) for pair in pairs}
    top = max(spreads.values())
    greedy_pair = tuple(best.index)
    # greedy is within MC noise of the brute-force optimum (and usually equal)
    assert spreads.get(greedy_pair, spreads.get(greedy_pair[::-1])) >= top - 0.1
    first = max(net.npis, key=lambda v: I.spread(net, [v], **kw))
    assert best.index[0] == first


def test_spread_monotone_and_gains_non_increasing():
    net = _random_net(60, 200, seed=4)
    with config(progress=False):
        res = I.maximize(net, 8, n_simulations=400, seed=2)
    assert res["rank"].tolist() == list(range(1, 9))
    picked = res["selection_gain"].to_numpy()
    assert (np.diff(picked) <= 1e-9).all()  # common random numbers: exact submodularity
    assert res.attrs["selection_spread"] == pytest.approx(picked.sum())
    # the fresh estimate: monotone in the prefix, gains add up to it
    assert (np.diff(res["cumulative_spread"].to_numpy()) >= 0).all()
    np.testing.assert_allclose(np.cumsum(res["marginal_gain"]), res["cumulative_spread"])
    assert (res["spread_se"] > 0).all() and (res["gain_se"] > 0).all()
    assert res.attrs["spread_se"] == res["spread_se"].iloc[-1]
    again = I.maximize(net, 8, n_simulations=400, seed=2)
    pd.testing.assert_frame_equal(res, again)
    lt = I.maximize(net, 5, model="lt", n_simulations=400, seed=2)
    assert (np.diff(lt["selection_gain"].to_numpy()) <= 1e-9).all()
    # an independent re-estimate of the picked set agrees within Monte-Carlo noise
    check = I.spread(net, list(res.index), n_simulations=10000, seed=99)
    assert check == pytest.approx(res["cumulative_spread"].iloc[-1], abs=4 * res.attrs["spread_se"])


def test_budget_and_costs():
    net = _random_net(30, 90, seed=6)
    free = I.maximize(net, 3, n_simulations=200, seed=1)
    expensive = {free.index[0]: 100.0}
    res = I.maximize(net, None, budget=3, cost=expensive, n_simulations=200, seed=1)
    assert free.index[0] not in res.index
    assert res["cost"].sum() <= 3
    cand = I.maximize(net, 2, candidates=list(net.npis[:5]), n_simulations=100, seed=1)
    assert set(cand.index) <= set(net.npis[:5])


def test_errors():
    net = _random_net(10, 20, seed=1)
    with pytest.raises(ValidationError, match="model"):
        I.maximize(net, 2, model="sir")
    with pytest.raises(ValidationError, match="k:"):
        I.maximize(net, 0)
    with pytest.raises(ValidationError, match="cost"):
        I.maximize(net, 2, cost={net.npis[0]: -1.0})
    with pytest.raises(NotFoundError):
        I.spread(net, ["1999999999"])
    with pytest.raises(ValidationError, match="direction"):
        I.edge_probabilities(net, direction="sideways")


# ------------------------------------------------------------------ the reported spread
def _live_edge_spreads(
    net: ReferralNetwork, sets: list[list[str]], r: int, seed: int
) -> list[float]:
    """Expected IC spread of each seed set from ``r`` live-edge draws (scipy BFS).

    Written independently of refgraph's simulator: the live graphs of all draws are one
    block-diagonal CSR plus a super-source linked to the seed set in every block.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    p = I.edge_probabilities(net)
    index = {v: i for i, v in enumerate(net.npis)}
    u = p["influencer"].map(index).to_numpy()
    v = p["influenced"].map(index).to_numpy()
    n = len(net.npis)
    live = np.random.default_rng(seed).random((r, len(p))) < p["probability"].to_numpy()
    sim, e = np.nonzero(live)
    out = []
    for s in sets:
        ids = np.array([index[x] for x in s])
        rows = np.concatenate([sim * n + u[e], np.full(r * len(ids), r * n)])
        cols = np.concatenate([sim * n + v[e], (np.arange(r)[:, None] * n + ids).ravel()])
        g = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(r * n + 1, r * n + 1))
        reached = breadth_first_order(g, r * n, directed=True, return_predecessors=False)
        out.append((len(reached) - 1) / r)
    return out


def test_reported_spread_is_unbiased_for_the_picked_set():
    """Across seeds: the fresh estimate centres on the truth, the selection's does not."""
    net = _random_net(40, 130, seed=4)
    runs = []
    with config(progress=False):
        for s in range(30):
            res = I.maximize(net, 4, n_simulations=100, seed=s)
            runs.append(res)
    truth = np.array(_live_edge_spreads(net, [list(r.index) for r in runs], 20000, seed=7))
    fresh = np.array([r["cumulative_spread"].iloc[-1] for r in runs])
    se = np.array([r["spread_se"].iloc[-1] for r in runs])
    picked = np.array([r.attrs["selection_spread"] for r in runs])
    err, opt = fresh - truth, picked - truth
    # unbiased: the mean error is within 3 standard errors of 0
    assert abs(err.mean()) <= 3 * err.std(ddof=1) / np.sqrt(len(err))
    # the test can see the bias it guards against: the selection's estimate is optimistic
    assert opt.mean() > 2 * opt.std(ddof=1) / np.sqrt(len(opt))
    # the standard error is about right: ~95% of the 1.96 SE intervals cover the truth
    assert np.mean(np.abs(err) <= 1.96 * se) >= 0.85
    assert 0.75 <= err.std(ddof=1) / np.sqrt(np.mean(se**2)) <= 1.35


def _exact_spread(net: ReferralNetwork, model: str, seeds: list[str]) -> tuple[float, float]:
    """Mean and variance of the spread over every live-edge graph (small graphs only)."""
    p = I.edge_probabilities(net)
    index = {v: i for i, v in enumerate(net.npis)}
    edges = [(index[a], index[b], q) for a, b, q in p.itertuples(index=False)]
    start = {index[s] for s in seeds}
    if model == "ic":  # every edge live or not
        options = [[(e, q), (None, 1 - q)] for e, q in ((e[:2], e[2]) for e in edges)]
    else:  # LT: every physician keeps at most one incoming edge, edge (u, v) with p_uv
        options = []
        for t in {b for _, b, _ in edges}:
            inc = [((a, b), q) for a, b, q in edges if b == t]
            options.append([*inc, (None, 1 - sum(q for _, q in inc))])
    mean = second = 0.0
    for combo in itertools.product(*options):
        prob = float(np.prod([q for _, q in combo]))
        if prob == 0:
            continue
        succ: dict[int, list[int]] = {}
        for e, _ in combo:
            if e is not None:
                succ.setdefault(e[0], []).append(e[1])
        seen, stack = set(start), list(start)
        while stack:
            for w in succ.get(stack.pop(), []):
                if w not in seen:
                    seen.add(w)
                    stack.append(w)
        mean += prob * len(seen)
        second += prob * len(seen) ** 2
    return mean, second - mean**2


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_reported_spread_and_se_match_exact_enumeration(model):
    edges = [(1, 0, 3), (1, 2, 1), (2, 0, 2), (3, 2, 1), (3, 4, 1), (4, 0, 1), (5, 4, 2)]
    edges += [(5, 1, 1), (0, 3, 1), (2, 5, 1)]
    net = _net(edges, 6)
    r = 4000
    res = I.maximize(net, 3, model=model, n_simulations=300, evaluation_simulations=r, seed=5)
    assert res.attrs["evaluation_simulations"] == r
    for i in range(len(res)):
        mean, var = _exact_spread(net, model, list(res.index[: i + 1]))
        row = res.iloc[i]
        assert abs(row["cumulative_spread"] - mean) <= 4 * np.sqrt(var / r)
        assert row["spread_se"] == pytest.approx(np.sqrt(var / r), rel=0.15)
    with pytest.raises(ValidationError, match="evaluation_simulations"):
        I.maximize(net, 2, evaluation_simulations=0)
