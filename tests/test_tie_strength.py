"""Tie strength against the published evidence it is anchored on (issue 14, part 3).

References: Barnett et al. 2011 (Health Serv Res 46(5)): recognition of a professional
relationship rises with shared Medicare patients, up to 82% at nine; shared patients as a
test have ROC AUC 0.73 (0.70-0.75). Landon et al. 2012 (JAMA 308(3)): 96.0% of connected
pairs vs 69.2% of unconnected pairs share a hospital; mean office distance 13.2 vs 24.2
miles. Mandl et al. 2014 (J Gen Intern Med 29(11)): of sharing pairs, 54% share one
patient and 19% two.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, npi_check_digit
from refgraph.paths import FACTORS, TieWeights, fit_tie_strength, tie_strength
from refgraph.paths._tie_data import _barnett_curve

W = TieWeights()


def _npis(n: int, start: int = 200_000) -> list[str]:
    return [p + str(npi_check_digit(p)) for p in (f"1{i:08d}" for i in range(start, start + n))]


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _auc(score: np.ndarray, y: np.ndarray) -> float:
    """Mann-Whitney AUC with mid-ranks for ties (independent of scikit-learn)."""
    ranks = pd.Series(score).rank(method="average").to_numpy()
    n1 = int(y.sum())
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _mandl_counts(rng: np.random.Generator, n: int) -> np.ndarray:
    """Shared-patient counts: 54% one, 19% two, 27% a k**-2 tail from 3 (to 100,000)."""
    k = np.arange(3, 100_001, dtype="float64")
    tail = k**-2.0
    tail /= tail.sum()
    out = rng.choice([1, 2, 3], size=n, p=[0.54, 0.19, 0.27]).astype("float64")
    big = out == 3
    out[big] = rng.choice(k, size=int(big.sum()), p=tail)
    return out


# ----------------------------------------------------------------------------- Barnett
def test_curve_passes_through_barnetts_published_point() -> None:
    # tolerance 0.002: the defaults are the fitted values rounded to 4 decimals
    assert W.shared_patient_curve(9) == pytest.approx(0.82, abs=0.002)
    a, b = _barnett_curve(cap=math.inf)
    assert W.patients_intercept == pytest.approx(a, abs=1e-4)
    assert W.patients_slope == pytest.approx(b, abs=1e-4)
    # stopping the curve at the evidence (cap 9) still passes through 82% at nine
    capped = TieWeights(patients_cap=9.0)
    assert capped.shared_patient_curve([9, 20, 500]) == pytest.approx([0.82] * 3, abs=0.002)


def test_auc_of_shared_patients_on_synthetic_pairs_matches_barnett() -> None:
    """Counts drawn as Mandl et al., labels from the default curve: AUC is Barnett's 0.73."""
    rng = np.random.default_rng(11)
    k = _mandl_counts(rng, 400_000)
    y = (rng.random(len(k)) < W.shared_patient_curve(k)).astype(int)
    auc = _auc(k, y)
    # SE of an AUC on 400k pairs is < 0.002; 0.005 leaves room for the rounded defaults
    assert auc == pytest.approx(0.73, abs=0.005)
    assert 0.70 <= auc <= 0.75  # inside Barnett's 95% CI


def test_auc_through_tie_strength_on_a_network() -> None:
    """The same check end to end: flows with patient counts -> tie_strength -> AUC."""
    rng = np.random.default_rng(3)
    n = 6000
    ids = _npis(2 * n)
    k = _mandl_counts(rng, n)
    flows = pd.DataFrame({"source_npi": ids[:n], "target_npi": ids[n:], "count": k, "patients": k})
    ts = tie_strength(ReferralNetwork.from_frames(flows=flows))
    assert len(ts) == n
    assert ts["strength"].to_numpy() == pytest.approx(W.shared_patient_curve(ts["patient_count"]))
    y = (rng.random(n) < ts["strength"].to_numpy()).astype(int)
    # 6,000 pairs: SE of the AUC about 0.007, tolerance three of them
    assert _auc(ts["strength"].to_numpy(), y) == pytest.approx(0.73, abs=0.021)


def test_curve_is_monotone_and_bounded() -> None:
    k = np.arange(0, 2001)
    p = W.shared_patient_curve(k)
    assert np.all(np.diff(p) > 0)
    assert 0 < p.min() and p.max() < 1
    assert p[0] == pytest.approx(0.05)  # no shared patients: the 5% assumption
    # through tie_strength: more shared patients never weakens a tie
    ids = _npis(40)
    flows = pd.DataFrame(
        {"source_npi": ids[:20], "target_npi": ids[20:], "count": 1, "patients": range(1, 21)}
    )
    s = tie_strength(ReferralNetwork.from_frames(flows=flows))
    assert s.sort_values("patient_count")["strength"].is_monotonic_increasing


def test_slope_sensitivity_to_the_assumed_tail() -> None:
    """docs/tie-strength.md quotes these slopes for tail exponents 1.5 and 3."""
    b15 = _barnett_curve(cap=math.inf, tail=1.5)[1]
    b30 = _barnett_curve(cap=math.inf, tail=3.0)[1]
    assert (round(b15, 2), round(b30, 2)) == (1.06, 1.44)
    p1 = [float(_logistic(np.array(_barnett_curve(cap=math.inf, tail=t)[0]))) for t in (1.5, 3.0)]
    assert [round(p, 2) for p in p1] == [0.31, 0.16]


# ----------------------------------------------------------------------------- Landon
def test_hospital_and_distance_ratios_are_landons() -> None:
    assert math.exp(W.hospital_logodds(True)) == pytest.approx(0.960 / 0.692)
    assert math.exp(W.hospital_logodds(False)) == pytest.approx(0.040 / 0.308)
    assert math.exp(W.distance_logodds(0.0)) == pytest.approx(24.2 / 13.2)
    break_even = math.log(24.2 / 13.2) / (1 / 13.2 - 1 / 24.2)
    assert W.distance_logodds(break_even) == pytest.approx(0.0, abs=1e-12)
    assert round(break_even, 1) == 17.6
    d = np.linspace(0, 80, 161)
    assert np.all(np.diff(W.distance_logodds(d)) <= 0)
    assert W.distance_logodds(80.0) == W.distance_logodds(50.0)  # capped at 50 miles


def test_bayes_update_is_calibrated_on_a_simulated_population() -> None:
    """Draw pairs as Landon's summaries describe; the odds update recovers P(connected)."""
    rng = np.random.default_rng(8)
    n, prior = 2_000_000, 0.10
    conn = rng.random(n) < prior
    same = rng.random(n) < np.where(conn, 0.960, 0.692)
    miles = rng.exponential(np.where(conn, 13.2, 24.2))
    z0 = math.log(prior / (1 - prior))
    for flag in (True, False):
        got = conn[same == flag].mean()
        want = _logistic(np.array(z0 + W.hospital_logodds(flag)))
        assert got == pytest.approx(float(want), abs=0.003)
    for lo in (0.0, 10.0, 30.0):
        band = (miles >= lo) & (miles < lo + 1.0)
        want = _logistic(z0 + W.distance_logodds(miles[band]))
        assert conn[band].mean() == pytest.approx(float(want.mean()), abs=0.01)


def test_landon_terms_update_only_pairs_without_shared_patients() -> None:
    ids = _npis(4)
    phys = pd.DataFrame(
        {
            "npi": ids,
            "practice_id": ["P1", "P1", "P2", "P3"],
            "lat": [42.36, 42.36, 42.36, 42.36],
            "lon": [-71.06, -71.06, -71.06, -71.06],
        }
    )
    prac = pd.DataFrame({"practice_id": ["P1", "P2", "P3"], "system": ["S", "S", "T"]})
    flows = pd.DataFrame(
        {"source_npi": [ids[2]], "target_npi": [ids[3]], "count": [5], "patients": [5]}
    )
    net = ReferralNetwork.from_frames(physicians=phys, practices=prac, flows=flows)
    ts = tie_strength(net).set_index(["npi_a", "npi_b"])
    col = ts.loc[(ids[0], ids[1])]  # colleagues, no referrals: Landon updates them
    assert col["hospital"] == pytest.approx(math.log(0.960 / 0.692))
    assert col["distance"] == pytest.approx(math.log(24.2 / 13.2))
    z = math.log(0.05 / 0.95) + math.log(0.960 / 0.692) + math.log(24.2 / 13.2) + 4.0
    assert col["strength"] == pytest.approx(1 / (1 + math.exp(-z)))
    ref = ts.loc[(ids[2], ids[3])]  # different systems, but 5 shared patients
    assert ref["hospital"] == 0.0 and ref["distance"] == 0.0
    assert ref["strength"] == pytest.approx(W.shared_patient_curve(5))


def test_practice_of_kind_hospital_is_a_hospital() -> None:
    ids = _npis(3, start=300_000)
    phys = pd.DataFrame({"npi": ids, "practice_id": ["H1", "H1", "H2"]})
    prac = pd.DataFrame({"practice_id": ["H1", "H2"], "kind": ["hospital", "hospital"]})
    ties = pd.DataFrame({"npi_a": [ids[0]], "npi_b": [ids[2]]})
    net = ReferralNetwork.from_frames(physicians=phys, practices=prac)
    ts = tie_strength(net, ties=ties).set_index(["npi_a", "npi_b"])
    assert ts.loc[(ids[0], ids[1]), "hospital"] == pytest.approx(math.log(0.96 / 0.692))
    assert ts.loc[(ids[0], ids[2]), "hospital"] == pytest.approx(math.log(0.04 / 0.308))


# ----------------------------------------------------------------------------- claims
def test_assumptions_are_zero_for_the_reference_case() -> None:
    """A current one-way tie with k shared patients is exactly Barnett's curve."""
    ids = _npis(60, start=400_000)
    k = np.arange(1, 31)
    flows = pd.DataFrame(
        {
            "source_npi": ids[:30],
            "target_npi": ids[30:],
            "count": k + 3,
            "patients": k,
            "period_end": "2024-12-31",
        }
    )
    ts = tie_strength(ReferralNetwork.from_frames(flows=flows))
    assert ts["strength"].to_numpy() == pytest.approx(W.shared_patient_curve(ts["patient_count"]))
    undated = tie_strength(ReferralNetwork.from_frames(flows=flows.drop(columns="period_end")))
    assert undated["strength"].to_numpy() == pytest.approx(ts["strength"].to_numpy())
    # without patient counts, each referral counts as one patient (assumption)
    bare = tie_strength(ReferralNetwork.from_frames(flows=flows.drop(columns="patients")))
    assert bare["patient_count"].to_numpy() == pytest.approx(k + 3)


def test_the_numbers_the_docs_quote() -> None:
    """docs/tie-strength.md and the docstrings: every quoted strength."""
    curve = [round(float(p), 2) for p in W.shared_patient_curve([0, 1, 2, 3, 5, 9, 20, 40])]
    assert curve == [0.05, 0.23, 0.42, 0.54, 0.69, 0.82, 0.92, 0.97]
    s = W.strength
    nos = W.no_sharing
    assert round(s({"patients": nos, "same_practice": 1}), 2) == 0.74
    assert round(s({"patients": nos, "logged": 1}), 2) == 0.83
    assert round(s({"patients": W.patients_logodds(9), "reciprocity": 1}), 2) == 0.88
    # a nine-patient tie whose last referral is one half-life old, and two half-lives
    assert round(s({"patients": W.patients_logodds(9), "recency": 0.5}), 2) == 0.73
    assert round(s({"patients": W.patients_logodds(9), "recency": 0.25}), 2) == 0.68
    assert round(s({"patients": W.patients_logodds(1), "logged": 1}), 2) == 0.96
    assert W.volume == 0.0 and W.same_system == 0.0 and W.intercept == 0.0
    # no shared patients, same address: same hospital / different hospitals
    same = W.no_sharing + W.hospital_logodds(True) + W.distance_logodds(0.0)
    other = W.no_sharing + W.hospital_logodds(False) + W.distance_logodds(0.0)
    assert round(float(_logistic(np.array(same))), 3) == 0.118
    assert round(float(_logistic(np.array(other))), 3) == 0.012


@pytest.mark.datasets
def test_cms_sample_pairs_all_share_at_least_eleven(datasets_dir: Path) -> None:
    """docs/tie-strength.md: the CMS sample sits on the extrapolated part of the curve."""
    from refgraph.datasets import load_cms_sample

    cms = load_cms_sample(datasets_dir / "cms-shared-patients-sample")
    assert len(cms) == 200 and int(cms["bene_count"].min()) == 11
    assert (W.shared_patient_curve(cms["bene_count"].to_numpy()) > 0.82).all()


# ----------------------------------------------------------------------------- fitting
def _labelled_net(
    rng: np.random.Generator, n: int, truth: TieWeights
) -> tuple[ReferralNetwork, pd.DataFrame, pd.DataFrame]:
    ids = _npis(2 * n, start=500_000)
    a, b = np.array(ids[:n]), np.array(ids[n:])
    k = _mandl_counts(rng, n)
    flows = pd.DataFrame({"source_npi": a, "target_npi": b, "count": k, "patients": k})
    ties = pd.DataFrame({"npi_a": a, "npi_b": b})[rng.random(n) < 0.3]
    net = ReferralNetwork.from_frames(flows=flows)
    ts = tie_strength(net, ties=ties, weights=truth)
    y = (rng.random(len(ts)) < ts["strength"].to_numpy()).astype(int)
    lab = pd.DataFrame({"npi_a": ts["npi_a"], "npi_b": ts["npi_b"], "label": y})
    return net, lab, ties


def test_fit_starts_from_the_defaults_and_recovers_a_planted_change() -> None:
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(21)
    truth = TieWeights(logged=1.5)  # the team's logged ties are weaker than assumed
    net, lab, ties = _labelled_net(rng, 8000, truth)
    fit = fit_tie_strength(net, lab, ties=ties, C=100.0)
    assert fit.weights.logged == pytest.approx(1.5, abs=0.35)
    assert fit.weights.patients == pytest.approx(1.0, abs=0.2)  # the evidence holds
    assert fit.weights.patients_intercept == W.patients_intercept  # the curve is kept
    # an all-penalty fit stays at the start, whatever the labels say
    stay = fit_tie_strength(net, lab, ties=ties, C=1e-8)
    for f in FACTORS:
        assert getattr(stay.weights, f) == pytest.approx(getattr(W, f), abs=1e-3)
    # a different start is honoured
    other = fit_tie_strength(net, lab, ties=ties, C=1e-8, start={"logged": 2.0})
    assert other.weights.logged == pytest.approx(2.0, abs=1e-3)


def test_fit_on_labels_from_the_defaults_stays_calibrated() -> None:
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(4)
    net, lab, ties = _labelled_net(rng, 8000, W)
    fit = fit_tie_strength(net, lab, ties=ties)
    assert fit.auc == pytest.approx(fit.auc_default, abs=0.01)
    for f in ("patients", "logged"):
        assert getattr(fit.weights, f) == pytest.approx(getattr(W, f), abs=0.35)
