"""Parameter checks, continued: tracking, influence, shortest paths, ties, sensitivity, datasets.

Same contract as ``tests/test_params.py``: one bad parameter gives the error
class and the one-line message of :mod:`refgraph._params` (``<name>: expected
<what>, got <value>``; unknown NPIs: ``<role>: [...] not a physician of this
network``), and the edge values that are allowed still answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

import refgraph.centrality as C
import refgraph.influence as I
import refgraph.paths as P
import refgraph.sensitivity as S
import refgraph.tracking as T
from refgraph import NotFoundError, ReferralNetwork, ValidationError
from refgraph._params import check_choice, check_date, check_float
from refgraph.datasets import surrogate_npi, synthetic_region, synthetic_tables

UNKNOWN = "1000000004"  # a valid NPI (check digit) that is in no network here


@pytest.fixture(scope="module")
def net() -> ReferralNetwork:
    return synthetic_region(80, seed=4, events=True)


@pytest.fixture(scope="module")
def who(net: ReferralNetwork) -> dict[str, str]:
    e = net.edges()
    assert UNKNOWN not in set(net.physicians["npi"])
    return {"home": str(e["source_npi"].iloc[0]), "target": str(e["target_npi"].iloc[0])}


def _grid() -> list[S.Construction]:
    return S.construction_grid(min_counts=(0, 3), column="count")


Case = tuple[str, Callable[[ReferralNetwork, dict[str, str]], Any], type[Exception], str]

CASES: list[Case] = [
    # ------------------------------------------------------------ centrality
    ("betweenness k=0", lambda n, w: C.betweenness(n, k=0), ValidationError,
     "k: expected an integer >= 1, got 0"),
    ("betweenness k=2.5", lambda n, w: C.betweenness(n, k=2.5), ValidationError,
     "k: expected an integer >= 1, got 2.5"),
    ("betweenness seed<0", lambda n, w: C.betweenness(n, k=3, seed=-1), ValidationError,
     "seed: expected an integer >= 0, got -1"),
    ("harmonic direction", lambda n, w: C.harmonic_closeness(n, direction="up"),
     ValidationError, "direction: expected one of 'in', 'out', got 'up'"),
    ("degree panel unknown NPI", lambda n, w: C.degree(
        n, patients_per_physician={w["home"]: 10.0, UNKNOWN: 5.0}), NotFoundError,
     rf"patients_per_physician: \['{UNKNOWN}'\] not a physician of this network"),
    ("concentration direction", lambda n, w: C.concentration(n, direction="both"),
     ValidationError, "direction: expected one of 'out', 'in', got 'both'"),
    ("care_density encounters", lambda n, w: C.care_density(n, [w["home"]]), ValidationError,
     "encounters: expected a DataFrame with columns 'patient_id' and 'npi', got list"),
    ("care_density unknown NPI", lambda n, w: C.care_density(
        n, pd.DataFrame({"patient_id": ["p1", "p1"], "npi": [w["home"], UNKNOWN]})),
     NotFoundError, rf"encounters.npi: \['{UNKNOWN}'\] not a physician of this network"),
    ("care_density source", lambda n, w: C.care_density(
        n, pd.DataFrame({"patient_id": ["p1"], "npi": [w["home"]]}), source="x"),
     ValidationError, "source: expected one of 'encounters', 'network', got 'x'"),
    # ------------------------------------------------------------ influence
    ("spread n_simulations=0", lambda n, w: I.spread(n, [w["home"]], n_simulations=0),
     ValidationError, r"n_simulations: expected an integer in \[1, "),
    ("spread n_simulations text", lambda n, w: I.spread(n, [w["home"]], n_simulations="x"),
     ValidationError, "n_simulations: expected an integer in .* got 'x'"),
    ("spread n_simulations huge", lambda n, w: I.spread(n, [w["home"]], n_simulations=10**12),
     ValidationError, r"n_simulations: expected an integer in \[1, \d+\], got 1000000000000"),
    ("spread seeds unknown", lambda n, w: I.spread(n, [UNKNOWN], n_simulations=5),
     NotFoundError, rf"seeds: \['{UNKNOWN}'\] not a physician of this network"),
    ("spread model", lambda n, w: I.spread(n, [w["home"]], model="sir"), ValidationError,
     "model: expected one of 'ic', 'lt', got 'sir'"),
    ("maximize k=0", lambda n, w: I.maximize(n, 0), ValidationError,
     "k: expected an integer >= 1, got 0"),
    ("maximize k=2.5", lambda n, w: I.maximize(n, 2.5, n_simulations=5), ValidationError,
     "k: expected an integer >= 1, got 2.5"),
    ("maximize k text", lambda n, w: I.maximize(n, "a", n_simulations=5), ValidationError,
     "k: expected an integer >= 1, got 'a'"),
    ("maximize budget inf", lambda n, w: I.maximize(n, 2, budget=math.inf, n_simulations=5),
     ValidationError, "budget: expected a finite number > 0, got inf"),
    ("maximize candidates=-1", lambda n, w: I.maximize(n, 2, candidates=-1, n_simulations=5),
     ValidationError, "candidates: expected an integer >= 1, got -1"),
    ("maximize candidates unknown",
     lambda n, w: I.maximize(n, 2, candidates=[w["home"], UNKNOWN], n_simulations=5),
     NotFoundError, rf"candidates: \['{UNKNOWN}'\] not a physician"),
    ("maximize cost unknown", lambda n, w: I.maximize(n, 2, cost={UNKNOWN: 1.0}, n_simulations=5),
     NotFoundError, rf"cost: \['{UNKNOWN}'\] not a physician"),
    ("maximize evaluation_simulations",
     lambda n, w: I.maximize(n, 2, n_simulations=5, evaluation_simulations="x"),
     ValidationError, "evaluation_simulations: expected an integer in"),
    # ------------------------------------------------------------ tracking
    ("at_risk as_of", lambda n, w: T.at_risk(n, as_of="notadate"), ValidationError,
     "as_of: expected a date like '2024-03-01', got 'notadate'"),
    ("at_risk lookback<recent", lambda n, w: T.at_risk(n, recent="90D", lookback="30D"),
     ValidationError, r"lookback: expected a duration longer than recent \(90 days\), got '30D'"),
    ("at_risk alpha text", lambda n, w: T.at_risk(n, alpha="x"), ValidationError,
     r"alpha: expected a finite number in \(0, 1\), got 'x'"),
    ("at_risk min_drop nan", lambda n, w: T.at_risk(n, min_drop=math.nan), ValidationError,
     r"min_drop: expected a finite number in \[0, 1\), got nan"),
    ("at_risk dispersion bool", lambda n, w: T.at_risk(n, dispersion=True), ValidationError,
     "dispersion: expected a number >= 1 or 'estimate', got True"),
    ("at_risk adjust", lambda n, w: T.at_risk(n, adjust="holm"), ValidationError,
     "adjust: expected one of 'bh', 'none', got 'holm'"),
    ("call_list n=0", lambda n, w: T.call_list(n, n=0), ValidationError,
     "n: expected an integer >= 1, got 0"),
    ("call_list n text", lambda n, w: T.call_list(n, n="x"), ValidationError,
     "n: expected an integer >= 1, got 'x'"),
    ("trends periods", lambda n, w: T.trends(n, periods=10**9), ValidationError,
     r"periods: expected an integer in \[3, 10000\], got 1000000000"),
    ("trends as_of", lambda n, w: T.trends(n, as_of="x"), ValidationError,
     "as_of: expected a date like"),
    ("bucket start", lambda n, w: T.bucket(n, start="notadate"), ValidationError,
     "start: expected a date like '2024-03-01', got 'notadate'"),
    ("bucket end", lambda n, w: T.bucket(n, end=3.5), ValidationError,
     "end: expected a date like '2024-03-01', got 3.5"),
    ("funnel min_age_days", lambda n, w: T.funnel(n, min_age_days=-1), ValidationError,
     "min_age_days: expected an integer >= 0, got -1"),
    ("funnel as_of", lambda n, w: T.funnel(n, as_of="x"), ValidationError,
     "as_of: expected a date like"),
    ("loyalty competitors", lambda n, w: T.loyalty(n, home=w["home"], competitors=[UNKNOWN]),
     NotFoundError, rf"competitors: \['{UNKNOWN}'\] not a physician of this network"),
    ("leakage competitors", lambda n, w: T.leakage(n, home=w["home"], competitors=UNKNOWN),
     NotFoundError, rf"competitors: \['{UNKNOWN}'\] not a physician of this network"),
    ("nurture_plan top", lambda n, w: T.nurture_plan(n, top=-1), ValidationError,
     "top: expected an integer >= 0, got -1"),
    ("nurture_plan patience", lambda n, w: T.nurture_plan(n, patience=math.nan),
     ValidationError, "patience: expected a finite number >= 0, got nan"),
    ("outreach_lift alpha", lambda n, w: T.outreach_lift(n, alpha=1.5), ValidationError,
     r"alpha: expected a finite number in \(0, 1\), got 1.5"),
    ("outreach_lift seed", lambda n, w: T.outreach_lift(n, seed="x"), ValidationError,
     "seed: expected an integer >= 0, got 'x'"),
    ("outreach_lift n_boot huge", lambda n, w: T.outreach_lift(n, n_boot=10**12),
     ValidationError, r"n_boot: expected an integer in \[99, 100000\], got 1000000000000"),
    ("structural bridge_quantile", lambda n, w: T.structural_alerts(n, bridge_quantile=2),
     ValidationError, r"bridge_quantile: expected a finite number in \[0, 1\], got 2"),
    ("structural min_share_drop", lambda n, w: T.structural_alerts(n, min_share_drop=math.nan),
     ValidationError, r"min_share_drop: expected a finite number in \[0, 1\], got nan"),
    ("plot_trends n", lambda n, w: T.plot_trends(n, n=0), ValidationError,
     "n: expected an integer >= 1, got 0"),
    ("plot_trends sources", lambda n, w: T.plot_trends(n, sources=[UNKNOWN]), NotFoundError,
     rf"sources: \['{UNKNOWN}'\] not a physician of this network"),
    ("network_as_of date", lambda n, w: T.network_as_of(n, "x"), ValidationError,
     "date: expected a date like '2024-03-01', got 'x'"),
    ("network_as_of window", lambda n, w: T.network_as_of(n, "2024-06-01", window="x"),
     ValidationError, "window: expected a duration like '90D', got 'x'"),
    ("check_events date_range order",
     lambda n, w: T.check_events(n, date_range=("2025-01-01", "2024-01-01")), ValidationError,
     "date_range: expected start on or before end"),
    ("check_events date_range date",
     lambda n, w: T.check_events(n, date_range=("someday", None)), ValidationError,
     r"date_range\[0\]: expected a date like '2024-03-01', got 'someday'"),
    # ------------------------------------------------------------ ties
    ("tie_strength half_life text", lambda n, w: P.tie_strength(n, half_life_days="x"),
     ValidationError, "half_life_days: expected a finite number > 0, got 'x'"),
    ("tie_strength as_of", lambda n, w: P.tie_strength(n, as_of="x"), ValidationError,
     "as_of: expected a date like '2024-03-01', got 'x'"),
    ("tie_strength weight nan", lambda n, w: P.tie_strength(n, weights={"volume": math.nan}),
     ValidationError, r"weights\['volume'\]: expected a number, got nan"),
    ("tie_strength weight text", lambda n, w: P.tie_strength(n, weights={"recency": "high"}),
     ValidationError, r"weights\['recency'\]: expected a number, got 'high'"),
    ("tie_strength ties list", lambda n, w: P.tie_strength(n, ties=[w["home"]]), ValidationError,
     "ties: expected a DataFrame or None, got list"),
    ("tie_strength colleagues_max_size", lambda n, w: P.tie_strength(n, colleagues_max_size=-1),
     ValidationError, "colleagues_max_size: expected an integer >= 0, got -1"),
    ("fit_tie_strength unknown pair",
     lambda n, w: P.fit_tie_strength(
         n, pd.DataFrame({"npi_a": [w["home"], UNKNOWN], "npi_b": [w["target"]] * 2,
                          "label": [1, 0]})),
     NotFoundError, rf"labelled: \['{UNKNOWN}'\] not a physician of this network"),
    ("fit_tie_strength C", lambda n, w: P.fit_tie_strength(
        n, pd.DataFrame({"npi_a": [w["home"]], "npi_b": [w["target"]], "label": [1]}), C=0),
     ValidationError, "C: expected a finite number > 0, got 0"),
    # ------------------------------------------------------------ sensitivity
    ("sensitivity target", lambda n, w: S.sensitivity_report(
        n, _grid(), measures="intro", target=UNKNOWN), NotFoundError,
     rf"target: \['{UNKNOWN}'\] not a physician of this network"),
    ("sensitivity sources", lambda n, w: S.sensitivity_report(
        n, _grid(), measures="intro", target=w["target"], sources=[UNKNOWN]), NotFoundError,
     rf"sources: \['{UNKNOWN}'\] not a physician"),
    ("sensitivity k", lambda n, w: S.sensitivity_report(n, _grid(), k=0), ValidationError,
     "k: expected an integer >= 1, got 0"),
    ("sensitivity seed", lambda n, w: S.sensitivity_report(n, _grid(), seed=-3),
     ValidationError, "seed: expected an integer >= 0, got -3"),
    ("Construction window_days", lambda n, w: S.Construction(window_days=0), ValidationError,
     "window_days: expected an integer >= 1, got 0"),
    ("Construction share", lambda n, w: S.Construction(rule="share", min_value=2),
     ValidationError, r"min_value: expected a finite number in \[0, 1\], got 2"),
    ("Construction rule", lambda n, w: S.Construction(rule="max"), ValidationError,
     "rule: expected one of 'count', 'share', got 'max'"),
    ("top_k_overlap k", lambda n, w: S.top_k_overlap(pd.Series([1.0]), pd.Series([1.0]), 0),
     ValidationError, "k: expected an integer >= 1, got 0"),
    # ------------------------------------------------------------ datasets
    ("synthetic n_physicians", lambda n, w: synthetic_tables(1.5), ValidationError,
     r"n_physicians: expected an integer in \[2, 5000000\], got 1.5"),
    ("synthetic months", lambda n, w: synthetic_tables(10, months=0), ValidationError,
     "months: expected an integer >= 1, got 0"),
    ("synthetic flows_per_physician", lambda n, w: synthetic_tables(10, flows_per_physician=0),
     ValidationError, r"flows_per_physician: expected a finite number in \(0, 1000\], got 0"),
    ("synthetic n_physicians huge", lambda n, w: synthetic_tables(10**9), ValidationError,
     r"n_physicians: expected an integer in \[2, 5000000\], got 1000000000"),
    ("synthetic flows_per_physician huge",
     lambda n, w: synthetic_tables(10, flows_per_physician=1e12), ValidationError,
     r"flows_per_physician: expected a finite number in \(0, 1000\], got 1000000000000.0"),
    ("surrogate_npi fraction", lambda n, w: surrogate_npi(1.5), ValidationError,
     r"node_id: expected integers in \[0, 99999\], got 1.5"),
    ("surrogate_npi range", lambda n, w: surrogate_npi([1, -2, 100000]), ValidationError,
     r"node_id: expected integers in \[0, 99999\], got \[-2, 100000\]"),
    ("surrogate_npi dataset", lambda n, w: surrogate_npi(1, dataset="x"), ValidationError,
     r"dataset: expected an integer in \[0, 999\], got 'x'"),
    ("synthetic start", lambda n, w: synthetic_tables(10, start="soon"), ValidationError,
     "start: expected a date like '2024-03-01', got 'soon'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("func", "exc", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_parameter_is_refused(
    net: ReferralNetwork,
    who: dict[str, str],
    func: Callable[[ReferralNetwork, dict[str, str]], Any],
    exc: type[Exception],
    match: str,
    assert_refused: Callable[[Callable[[], object], type[Exception], str], None],
) -> None:
    assert_refused(lambda: func(net, who), exc, match)


GOOD: list[tuple[str, Callable[[ReferralNetwork, dict[str, str]], Any]]] = [
    ("betweenness k=3.0", lambda n, w: C.betweenness(n, k=3.0, seed=0)),
    ("spread one NPI as text", lambda n, w: I.spread(n, w["home"], n_simulations=5, seed=0)),
    ("spread no seeds", lambda n, w: I.spread(n, [], n_simulations=5, seed=0) == 0.0 or None),
    ("maximize candidates=1", lambda n, w: I.maximize(n, 1, candidates=1, n_simulations=5)),
    ("at_risk lookback=recent+1", lambda n, w: T.at_risk(n, recent="90D", lookback="91D")),
    ("call_list n=1", lambda n, w: T.call_list(n, n=1)),
    ("trends periods=3", lambda n, w: T.trends(n, periods=3)),
    ("funnel min_age_days=0", lambda n, w: T.funnel(n, min_age_days=0)),
    ("nurture_plan top=0 patience=0", lambda n, w: T.nurture_plan(n, top=0, patience=0)),
    ("structural quantile 0 and 1", lambda n, w: T.structural_alerts(
        n, bridge_quantile=1, min_share_drop=0)),
    ("leakage no competitors", lambda n, w: T.leakage(n, home=w["home"], competitors=[])),
    ("bucket start == end", lambda n, w: T.bucket(n, start="2024-03-01", end="2024-03-01")),
    ("network_as_of window=30", lambda n, w: T.network_as_of(n, "2024-06-01", window=30)),
    ("tie_strength infinite cap", lambda n, w: P.tie_strength(
        n, weights={"patients_cap": math.inf})),
    ("surrogate_npi edges", lambda n, w: surrogate_npi([0, 99999.0], dataset=999)),
    ("Construction share=1", lambda n, w: S.Construction(rule="share", min_value=1)),
]  # fmt: skip


@pytest.mark.parametrize("func", [g[1] for g in GOOD], ids=[g[0] for g in GOOD])
def test_edge_values_are_accepted(
    net: ReferralNetwork, who: dict[str, str], func: Callable[..., Any]
) -> None:
    assert func(net, who) is not None


def test_betweenness_k_beyond_n_is_the_exact_answer(net: ReferralNetwork) -> None:
    # a huge k costs what k = n costs: every source, the exact values
    exact = C.betweenness(net)
    huge = C.betweenness(net, k=10**12, seed=0)
    assert huge.attrs["k"] is None
    pd.testing.assert_series_equal(huge["betweenness"], exact["betweenness"])


def test_spread_of_one_npi_as_text_is_that_of_the_list(
    net: ReferralNetwork, who: dict[str, str]
) -> None:
    a = I.spread(net, who["home"], n_simulations=50, seed=3)
    b = I.spread(net, [who["home"]], n_simulations=50, seed=3)
    assert a == b and a >= 1.0


def test_network_as_of_integer_window_is_days(net: ReferralNetwork) -> None:
    # an int used to be read as nanoseconds, silently keeping no referral at all
    by_int = T.network_as_of(net, "2024-09-30", window=90)
    by_text = T.network_as_of(net, "2024-09-30", window="90D")
    pd.testing.assert_frame_equal(by_int.flows, by_text.flows)
    assert len(by_int.flows) > 0


# ------------------------------------------------------------------ the new helpers
@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-03-01", True),
        (pd.Timestamp("2024-03-01"), True),
        ("2024-02-30", False),
        ("soon", False),
        (None, False),
        (True, False),
        (math.nan, False),
        ([2024, 3, 1], False),
    ],
)
def test_check_date(value: Any, ok: bool) -> None:
    if ok:
        assert check_date(value, "d") == pd.Timestamp("2024-03-01")
    else:
        with pytest.raises(ValidationError, match=r"^d: expected a date like '2024-03-01', got "):
            check_date(value, "d")


@pytest.mark.parametrize(("value", "ok"), [("a", True), ("c", False), (["a"], False), (1, False)])
def test_check_choice(value: Any, ok: bool) -> None:
    if ok:
        assert check_choice(value, "x", ("a", "b")) == value
    else:
        with pytest.raises(ValidationError, match=r"^x: expected one of 'a', 'b', got "):
            check_choice(value, "x", ("a", "b"))


def test_check_float_infinite_caps() -> None:
    assert check_float(math.inf, "cap", minimum=0, finite=False) == math.inf
    with pytest.raises(ValidationError, match=r"^cap: expected a number >= 0, got nan$"):
        check_float(math.nan, "cap", minimum=0, finite=False)
    with pytest.raises(ValidationError, match=r"^cap: expected a finite number >= 0, got inf$"):
        check_float(math.inf, "cap", minimum=0)


def test_n_simulations_cap_is_the_memory_bound(net: ReferralNetwork) -> None:
    # simulations x (physicians + channels) <= MAX_SIMULATED, channels counted independently
    channels = len(I.edge_probabilities(net))
    cap = 200_000_000 // (len(net.npis) + channels)  # the documented 200 million
    want = rf"^n_simulations: expected an integer in \[1, {cap}\], got {cap + 1}$"
    with pytest.raises(ValidationError, match=want):
        I.spread(net, [], n_simulations=cap + 1)
    with pytest.raises(ValidationError, match=rf"evaluation_simulations: .*\[1, {cap}\]"):
        I.maximize(net, 1, n_simulations=5, evaluation_simulations=cap + 1)
