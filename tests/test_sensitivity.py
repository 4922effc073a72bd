"""Tests of refgraph.sensitivity: the metrics against hand computations and outside
references (scipy, brute force, scikit-learn), the constructions against the library's
own builders, and the report on planted synthetic encounters and the CMS sample."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats
from scipy.sparse.csgraph import connected_components

import refgraph
from refgraph import ReferralNetwork, ValidationError, npi_check_digit
from refgraph.io import flows_from_events
from refgraph.sensitivity import (
    REPORT_COLUMNS,
    Construction,
    adjusted_rand_index,
    build_networks,
    construction_grid,
    normalized_mutual_information,
    plot_sensitivity,
    rank_correlation,
    sensitivity_report,
    top_k,
    top_k_overlap,
)


def make_npi(i: int) -> str:
    p = f"1{i:08d}"
    return p + str(npi_check_digit(p))


DAY0 = dt.date(2024, 1, 1)


def visits(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """Encounters (patient, npi, day offset) as a claims-like table."""
    return pd.DataFrame(
        {
            "patient_id": [r[0] for r in rows],
            "npi": [r[1] for r in rows],
            "date": [(DAY0 + dt.timedelta(days=r[2])).isoformat() for r in rows],
        }
    )


# ------------------------------------------------------------------ metrics


def _kendall_tau_b_brute(x: np.ndarray, y: np.ndarray) -> float:
    nc = nd = tx = ty = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            tx += 1
        elif dy == 0:
            ty += 1
        elif dx == dy:
            nc += 1
        else:
            nd += 1
    return (nc - nd) / math.sqrt((nc + nd + tx) * (nc + nd + ty))


@pytest.mark.parametrize("seed", range(5))
def test_rank_correlation_matches_scipy_and_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 40
    idx = [f"n{i:03d}" for i in range(n)]
    x = rng.integers(0, 8, n).astype(float)  # many ties
    y = x + rng.integers(0, 5, n)
    a = pd.Series(x, index=idx)
    b = pd.Series(y, index=idx).sample(frac=1.0, random_state=seed)  # order must not matter
    assert rank_correlation(a, b) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert rank_correlation(a, b, method="kendall") == pytest.approx(
        _kendall_tau_b_brute(x, y), abs=1e-12
    )


def test_rank_correlation_by_hand_and_undefined_cases() -> None:
    # ranks (1, 2, 3, 4) vs (1, 3, 2, 4): sum d^2 = 2, rho = 1 - 6*2/(4*15) = 0.8
    a = pd.Series([1.0, 2.0, 3.0, 4.0], index=list("wxyz"))
    b = pd.Series([10.0, 30.0, 20.0, 40.0, 99.0], index=list("wxyzq"))  # q is not common
    assert rank_correlation(a, b) == pytest.approx(0.8)
    # 5 concordant, 1 discordant pair of 6: tau = 4/6
    assert rank_correlation(a, b, method="kendall") == pytest.approx(4 / 6)
    assert math.isnan(rank_correlation(a, pd.Series([1.0], index=["w"])))
    assert math.isnan(rank_correlation(a, pd.Series(1.0, index=list("wxyz"))))
    with pytest.raises(ValidationError, match="method"):
        rank_correlation(a, b, method="pearson")
    with pytest.raises(ValidationError, match="repeats"):
        rank_correlation(pd.Series([1.0, 2.0], index=["w", "w"]), b)


def test_top_k_and_overlap_by_hand() -> None:
    s = pd.Series({"d": 5.0, "b": 2.0, "a": 2.0, "c": 1.0, "e": np.nan})
    assert top_k(s, 3) == ["d", "a", "b"]  # the tie at 2.0 goes to the smaller NPI
    assert top_k(s, 10) == ["d", "a", "b", "c"]
    t = pd.Series({"d": 1.0, "c": 9.0, "a": 0.0, "b": 0.5})
    # top-2: {d, a} vs {c, d} -> 1 shared, 3 in the union
    assert top_k_overlap(s, t, 2) == pytest.approx(1 / 3)
    assert top_k_overlap(s, s, 4) == 1.0
    assert math.isnan(top_k_overlap(pd.Series(dtype=float), pd.Series(dtype=float), 3))
    with pytest.raises(ValidationError, match="k"):
        top_k(s, 0)


def test_partition_similarity_by_hand() -> None:
    # a = {1,2,3}{4,5,6}, b = {1,2}{3,4}{5,6}; contingency [[2,1,0],[0,1,2]]
    idx = list("123456")
    a = pd.Series([0, 0, 0, 1, 1, 1], index=idx)
    b = pd.Series(["x", "x", "y", "y", "z", "z"], index=idx)
    # sum C(nij,2) = 1 + 1 = 2; rows: 3 + 3 = 6; cols: 1 + 1 + 1 = 3; C(6,2) = 15
    expected = 6 * 3 / 15
    ari = (2 - expected) / (0.5 * (6 + 3) - expected)
    assert adjusted_rand_index(a, b) == pytest.approx(ari)
    # I = sum p_ij log(p_ij / (p_i p_j)); H(a) = log 2; H(b) = log 3
    p = np.array([[2, 1, 0], [0, 1, 2]]) / 6
    mi = sum(
        p[i, j] * math.log(p[i, j] / (0.5 * (1 / 3))) for i in range(2) for j in range(3) if p[i, j]
    )
    assert normalized_mutual_information(a, b) == pytest.approx(
        mi / (0.5 * (math.log(2) + math.log(3)))
    )
    # renaming labels changes nothing; the same partition scores 1
    assert adjusted_rand_index(a, a.map({0: "q", 1: "r"})) == 1.0
    assert normalized_mutual_information(a, a + 7) == 1.0
    one = pd.Series(0, index=idx)
    assert adjusted_rand_index(one, one) == 1.0
    assert normalized_mutual_information(one, one) == 1.0
    assert normalized_mutual_information(one, a) == 0.0
    assert math.isnan(adjusted_rand_index(a, pd.Series([0], index=["q"])))


@pytest.mark.parametrize("seed", range(5))
def test_partition_similarity_matches_scikit_learn(seed: int) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, 60)
    y = np.where(rng.random(60) < 0.6, x, rng.integers(0, 7, 60))
    a = pd.Series(x, index=[f"n{i}" for i in range(60)])
    b = pd.Series(y, index=a.index)
    assert adjusted_rand_index(a, b) == pytest.approx(metrics.adjusted_rand_score(x, y))
    assert normalized_mutual_information(a, b) == pytest.approx(
        metrics.normalized_mutual_info_score(x, y)
    )


# ------------------------------------------------------------ constructions


def test_construction_labels_and_validation() -> None:
    assert Construction(window_days=90, rule="share", min_value=0.1).label == "90d, share>=0.1"
    assert Construction(min_value=11, column="count").label == "count>=11"
    grid = construction_grid(windows=(30, 60), min_counts=(0, 11), min_shares=(0.05,))
    assert len(grid) == 6 and grid[2] == Construction(30, "share", 0.05)
    for bad in (
        {"window_days": 0},
        {"rule": "top"},
        {"min_value": -1},
        {"rule": "share", "min_value": 1.5},
        {"min_value": float("nan")},
        {"column": ""},
    ):
        with pytest.raises(ValidationError):
            Construction(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="no constructions"):
        construction_grid(min_counts=())


def test_count_rule_equals_the_cms_small_cell_rule_of_flows_from_events() -> None:
    rng = np.random.default_rng(3)
    docs = [make_npi(i) for i in range(1, 9)]
    rows = []
    for p in range(400):
        for _ in range(rng.integers(2, 5)):
            rows.append((f"p{p}", docs[rng.integers(0, 8)], int(rng.integers(0, 120))))
    events = visits(rows)
    for window in (30, 90):
        c = Construction(window_days=window, min_value=11)
        net = build_networks(events, [c])[c]
        lib = flows_from_events(events, window_days=window, min_patients=11).table
        cols = ["source_npi", "target_npi", "count", "patients"]
        got = net.flows[cols].sort_values(cols[:2]).reset_index(drop=True)
        assert len(lib) > 0
        pd.testing.assert_frame_equal(
            got, lib[cols].sort_values(cols[:2]).reset_index(drop=True), check_dtype=False
        )


def test_share_rule_by_hand_and_pair_totals() -> None:
    a, b, c, d, e = (make_npi(i) for i in range(1, 6))
    flows = pd.DataFrame(
        {
            "source_npi": [a, a, a, a, e],
            "target_npi": [b, c, c, d, a],
            "count": [6, 1, 2, 1, 1],  # a -> c is two rows (two periods): 3 in all
            "patients": [6, 1, 2, 1, 1],
            "period_start": ["2023-01-01", "2023-01-01", "2024-01-01", "2023-01-01", "2023-01-01"],
        }
    )
    net = ReferralNetwork.from_frames(flows=flows)
    assert net.n_flows == 5
    share = Construction(rule="share", min_value=0.3)
    count = Construction(min_value=3)
    nets = build_networks(net, [share, count])
    # a sends 10: b 0.6, c 0.3, d 0.1; e sends everything to a (share 1)
    kept = nets[share].flows
    assert sorted(zip(kept["source_npi"], kept["target_npi"], strict=True)) == sorted(
        [(a, b), (a, c), (a, c), (e, a)]
    )
    kept = nets[count].flows  # pair totals: a->b 6, a->c 3
    assert sorted(set(zip(kept["source_npi"], kept["target_npi"], strict=True))) == [(a, b), (a, c)]
    # everybody stays a physician, with or without ties
    assert all(sorted(n.npis) == sorted(net.npis) for n in nets.values())


def test_build_networks_rejects_what_it_cannot_build() -> None:
    a, b = make_npi(1), make_npi(2)
    net = ReferralNetwork.from_frames(
        flows=pd.DataFrame({"source_npi": [a], "target_npi": [b], "count": [3]})
    )
    with pytest.raises(ValidationError, match="one network has one window"):
        build_networks(net, [Construction(window_days=30)])
    with pytest.raises(ValidationError, match="no network for window"):
        build_networks({30: net}, [Construction(window_days=90)])
    with pytest.raises(ValidationError, match="need a window"):
        build_networks(visits([("p", a, 0), ("p", b, 3)]), [Construction()])
    with pytest.raises(ValidationError, match="source"):
        build_networks([1, 2], [Construction()])
    with pytest.raises(ValidationError, match="not a flow column"):
        build_networks(net, [Construction(column="transactions")])


# ----------------------------------------------------------- planted cases

PCP = [make_npi(i) for i in range(1, 13)]  # 12 referring physicians
HUB = make_npi(20)  # a specialist with many thin ties; NPI above every PCP's
SPEC = [make_npi(i) for i in (30, 31, 32)]  # specialists with one thick tie each


SURGEON = make_npi(40)


def planted_hub_events(*, chain: bool = False) -> pd.DataFrame:
    """Every PCP sends 5 patients to the hub; PCP i (i < 3) sends 20 + 5 i to SPEC[i].

    With ``chain``, 6 more patients go from the hub to a surgeon, so that the hub
    lies on the 12 shortest paths PCP -> hub -> surgeon (betweenness not all 0).
    Every patient's two visits are 7 days apart, so every window >= 7 days builds
    the same network.
    """
    rows = []
    if chain:
        for j in range(6):
            rows += [(f"x{j}", HUB, j), (f"x{j}", SURGEON, j + 7)]
    for i, pcp in enumerate(PCP):
        for j in range(5):
            rows += [(f"h{i}-{j}", pcp, i), (f"h{i}-{j}", HUB, i + 7)]
    for i, spec in enumerate(SPEC):
        for j in range(20 + 5 * i):
            rows += [(f"s{i}-{j}", PCP[i], j % 50), (f"s{i}-{j}", spec, j % 50 + 7)]
    return visits(rows)


def test_a_construction_change_that_cannot_change_anything_scores_one() -> None:
    events = planted_hub_events(chain=True)
    grid = construction_grid(windows=(30, 60, 90, 180), min_counts=(0, 5))  # 5 = the smallest tie
    rep = sensitivity_report(
        events,
        grid,
        measures=("pagerank", "betweenness", "communities", "intro"),
        k=3,
        target=HUB,
        sources=PCP[3:6],
        options={"betweenness": {"k": 8}},
    )
    assert list(rep.columns) == list(REPORT_COLUMNS)
    rows = rep[rep["kind"] != "reseeded"]
    assert len(rows) == 8 * 4
    assert (rows["n_ties"] == 16).all()
    ranked = rows[rows["measure"] != "communities"]
    for col in ("top_k_overlap", "same_top", "reference_top_rank"):
        assert (ranked[col] == 1.0).all(), col
    # pagerank and betweenness have ties in their scores; the correlations are still 1
    for col in ("spearman", "kendall"):
        assert np.allclose(ranked[ranked["measure"] != "intro"][col], 1.0), col
    # (betweenness: the hub carries the 12 paths PCP -> hub -> surgeon, nobody else any)
    comm = rows[rows["measure"] == "communities"]
    assert (comm["ari"] == 1.0).all() and (comm["nmi"] == 1.0).all()


def test_a_threshold_that_removes_the_hub_drops_the_overlap_as_computed_by_hand() -> None:
    events = planted_hub_events()
    grid = construction_grid(windows=(30,), min_counts=(0, 11))
    rep = sensitivity_report(events, grid, measures="pagerank", k=3).set_index("construction")
    # Threshold 0: the hub (12 in-ties) is first, then SPEC[2] (30 of its PCP's 35)
    # and SPEC[1] (25 of 30). Threshold 11: the hub loses every tie; the top three are
    # SPEC[2], SPEC[1], SPEC[0]. Top-3 sets {hub, S2, S1} and {S2, S1, S0}: 2 shared of 4.
    got = rep.loc["30d, patients>=11"]
    assert got["n_ties"] == 3 and got["n_connected"] == 6
    assert got["top_k_shared"] == 2 and got["top_k_overlap"] == pytest.approx(2 / 4)
    assert got["same_top"] == 0
    # the hub now ties at the floor with the 12 PCPs (no in-ties); by NPI it comes last
    # of them: 3 specialists + 12 PCPs before it -> 16th
    assert got["reference_top_rank"] == 16
    # the correlation is scipy's Spearman of networkx PageRank on the two networks
    nets = build_networks(events, grid)
    pr = []
    for c in grid:
        g = nx.DiGraph()
        g.add_nodes_from(nets[c].npis)
        f = nets[c].flows
        g.add_weighted_edges_from(zip(f["source_npi"], f["target_npi"], f["count"], strict=True))
        pr.append(pd.Series(nx.pagerank(g, tol=1e-12 / len(g))))
    x = pr[0].sort_index().to_numpy()
    y = pr[1].sort_index().to_numpy()
    assert got["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-6)
    assert got["kendall"] == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-6)


def test_intro_agreement_when_thresholds_cut_the_introducers() -> None:
    me, target = make_npi(100), make_npi(200)
    strong, middle, weak = make_npi(101), make_npi(102), make_npi(103)
    rows = []
    for name, via, n in (("s", strong, 30), ("m", middle, 15), ("w", weak, 5)):
        for j in range(n):
            rows += [(f"{name}a{j}", me, j), (f"{name}a{j}", via, j + 3)]
            rows += [(f"{name}b{j}", via, j), (f"{name}b{j}", target, j + 3)]
    grid = construction_grid(windows=(30,), min_counts=(0, 11, 20, 40))
    rep = sensitivity_report(
        visits(rows), grid, measures="intro", target=target, sources=[me], k=3
    ).set_index("construction")
    # introducers (best first) per threshold: [strong, middle, weak], [strong, middle],
    # [strong], none
    assert rep["top_k_shared"].tolist() == [3, 2, 1, 0]
    assert rep["top_k_overlap"].tolist() == pytest.approx([1, 2 / 3, 1 / 3, 0])
    assert rep["same_top"].tolist() == [1, 1, 1, 0]
    assert rep["reference_top_rank"].iloc[:3].tolist() == [1, 1, 1]
    assert math.isnan(rep["reference_top_rank"].iloc[3])
    assert rep["spearman"].iloc[1] == 1.0  # strong still above middle
    assert rep["n_common"].tolist() == [3, 2, 1, 0]


def test_windows_from_networks_equal_windows_from_events() -> None:
    rng = np.random.default_rng(7)
    docs = [make_npi(i) for i in range(1, 15)]
    rows = [
        (f"p{p}", docs[rng.integers(0, 14)], int(rng.integers(0, 200)))
        for p in range(300)
        for _ in range(3)
    ]
    events = visits(rows)
    grid = construction_grid(windows=(30, 180), min_counts=(0, 2))
    by_events = sensitivity_report(events, grid, measures="pagerank", k=5)
    nets = {
        w: ReferralNetwork.from_frames(
            flows=flows_from_events(events, window_days=w, min_patients=0).table
        )
        for w in (30, 180)
    }
    by_nets = sensitivity_report(nets, grid, measures="pagerank", k=5)
    pd.testing.assert_frame_equal(by_events, by_nets)
    assert by_events["n_ties"].iloc[2] > by_events["n_ties"].iloc[0]  # a longer window links more


def test_report_rejects_bad_requests() -> None:
    net = refgraph.datasets.synthetic_region(60, seed=1)
    grid = construction_grid(min_counts=(0, 3), column="count")
    with pytest.raises(ValidationError, match="measures"):
        sensitivity_report(net, grid, measures="closeness")
    with pytest.raises(ValidationError, match="target"):
        sensitivity_report(net, grid, measures="intro")
    with pytest.raises(ValidationError, match="reference"):
        sensitivity_report(net, grid, reference="count>=99")
    with pytest.raises(ValidationError, match="twice"):
        sensitivity_report(net, grid + grid[:1])
    with pytest.raises(ValidationError, match="options"):
        sensitivity_report(net, grid, options={"katz": {}})
    rep = sensitivity_report(net, grid, reference=1)
    assert rep.attrs["reference"] == "count>=3"
    assert rep["kind"].tolist() == ["construction", "reference"]


# --------------------------------------------------------------- CMS sample


@pytest.mark.datasets
def test_cms_sample_across_small_cell_thresholds(datasets_dir: Path) -> None:
    path = datasets_dir / "cms-shared-patients-sample" / "pspp_days180_sample.csv"
    net = refgraph.read_cms_shared_patients(path)
    raw = refgraph.datasets.load_cms_sample(path)
    thresholds = (11, 15, 20, 30, 50)
    grid = construction_grid(min_counts=thresholds)
    rep = sensitivity_report(net, grid, measures=("pagerank", "communities"), k=20)
    rep = rep[rep["kind"] != "reseeded"]
    everyone = sorted(set(raw["npi1"]) | set(raw["npi2"]))
    for t in thresholds:
        rows = rep[rep["min_value"] == t]
        kept = raw[raw["bene_count"] >= t]
        # the tie counts come from the raw CMS rows, independently of the library
        assert (rows["n_ties"] == len(kept)).all()
        assert (rows["n_connected"] == len(set(kept["npi1"]) | set(kept["npi2"]))).all()
        assert (rows["n_common"] == len(everyone)).all()  # nobody vanishes
    # The sample is almost a matching, so Louvain's communities are the connected
    # components: the ARI must be that of the components of the raw rows.
    idx = {n: i for i, n in enumerate(everyone)}

    def components(t: int) -> pd.Series:
        kept = raw[raw["bene_count"] >= t]
        m = sp.coo_array(
            (np.ones(len(kept)), ([idx[n] for n in kept["npi1"]], [idx[n] for n in kept["npi2"]])),
            shape=(len(idx), len(idx)),
        )
        return pd.Series(connected_components(m, directed=False)[1], index=everyone)

    comm = rep[rep["measure"] == "communities"].set_index("min_value")
    for t in thresholds:
        want = adjusted_rand_index(components(11), components(t))
        assert comm.loc[t, "ari"] == pytest.approx(want)
        assert comm.loc[t, "n_communities"] == components(t).nunique()
    assert comm["ari"].is_monotonic_decreasing and comm.loc[50, "ari"] < 0.5
    pr = rep[rep["measure"] == "pagerank"].set_index("min_value")
    assert pr.loc[11, "spearman"] == 1.0
    assert (pr["spearman"].iloc[1:] < 1).all()


# -------------------------------------------------------------------- plot


def test_plot_shows_the_report_values() -> None:
    pytest.importorskip("matplotlib")
    net = refgraph.datasets.synthetic_region(100, seed=2)
    grid = construction_grid(min_counts=(0, 3, 6), column="count")
    rep = sensitivity_report(net, grid, measures=("pagerank", "communities"), k=5)
    fig, ax = plot_sensitivity(rep)
    data = ax.images[0].get_array()
    assert data.shape == (4, 2)  # three constructions and the reseeded reference
    pr = rep[rep["measure"] == "pagerank"]["top_k_overlap"].to_numpy()
    assert np.allclose(data[:3, 0], pr) and np.ma.is_masked(data[3, 0])
    comm = rep[rep["measure"] == "communities"]["ari"].to_numpy()
    assert np.allclose(data[:, 1], comm)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["count>=0", "count>=3", "count>=6", "count>=0 (reseeded)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "pagerank\n(top_k_overlap)",
        "communities\n(ari)",
    ]
    fig2, ax2 = plot_sensitivity(rep, "spearman")
    assert np.ma.is_masked(ax2.images[0].get_array()[0, 1])  # no Spearman for communities
    with pytest.raises(ValidationError, match="metric"):
        plot_sensitivity(rep, "auc")
    with pytest.raises(ValidationError, match="not a sensitivity report"):
        plot_sensitivity(rep.drop(columns="ari"))
    import matplotlib.pyplot as plt

    plt.close(fig)
    plt.close(fig2)


def test_reseeded_rows_only_for_random_measures() -> None:
    net = refgraph.datasets.synthetic_region(80, seed=4)
    grid = construction_grid(min_counts=(0, 4), column="count")
    exact = sensitivity_report(net, grid, measures=("pagerank", "betweenness", "communities"))
    assert exact.loc[exact["kind"] == "reseeded", "measure"].tolist() == ["communities"]
    sampled = sensitivity_report(
        net, grid, measures=("betweenness",), options={"betweenness": {"k": 10}}
    )
    again = sampled[sampled["kind"] == "reseeded"]
    assert again["measure"].tolist() == ["betweenness"]
    # the reseeded row compares the reference with a second sample of its own betweenness
    from refgraph.centrality import betweenness

    ref = build_networks(net, grid[:1])[grid[0]]
    b0 = betweenness(ref, k=10, seed=0)["betweenness"]
    b1 = betweenness(ref, k=10, seed=1)["betweenness"]
    assert again["spearman"].item() == pytest.approx(stats.spearmanr(b0, b1).statistic)
    assert sensitivity_report(net, grid, measures="communities", reseed=False)["kind"].tolist() == [
        "reference",
        "construction",
    ]


@pytest.mark.parametrize("seed", range(3))
def test_metrics_do_not_depend_on_order_or_label_names(seed: int) -> None:
    rng = np.random.default_rng(seed)
    idx = [make_npi(i) for i in range(1, 31)]
    x = pd.Series(rng.random(30), index=idx)
    y = pd.Series(x.to_numpy() + rng.normal(0, 0.3, 30), index=idx)
    p = pd.Series(rng.integers(0, 4, 30), index=idx)
    q = pd.Series(rng.integers(0, 3, 30), index=idx)
    perm = rng.permutation(30)
    xs, ys, ps = x.iloc[perm], y.iloc[perm[::-1]], p.iloc[perm]
    for method in ("spearman", "kendall"):
        assert rank_correlation(xs, ys, method=method) == pytest.approx(
            rank_correlation(x, y, method=method)
        )
        assert rank_correlation(x, y, method=method) == pytest.approx(
            rank_correlation(y, x, method=method)
        )
    assert top_k_overlap(xs, ys, 7) == top_k_overlap(x, y, 7)
    renamed = ps.map(lambda v: f"community-{v}")
    for f in (adjusted_rand_index, normalized_mutual_information):
        assert f(renamed, q) == pytest.approx(f(p, q))
        assert f(p, q) == pytest.approx(f(q, p))
