"""Tests of refgraph.tracking on constructed event logs with hand-computed answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from refgraph import ReferralNetwork, ValidationError, npi_check_digit
from refgraph.tracking import (
    NurturePlan,
    at_risk,
    bucket,
    call_list,
    check_events,
    funnel,
    leakage,
    loyalty,
    network_as_of,
    nurture_plan,
    outreach_lift,
    retention,
    structural_alerts,
    trends,
)


def npi(i: int) -> str:
    p = f"1{i + 100:08d}"
    return p + str(npi_check_digit(p))


HOME, RIVAL = npi(0), npi(90)


def events(rows: list[tuple[str, str, str, str]], **extra: list) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["date", "source_npi", "target_npi", "status"])
    for k, v in extra.items():
        df[k] = v
    return df


def log(dates: list, source: str, target: str = HOME, status: str = "referred") -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.to_datetime(dates), "source_npi": source, "target_npi": target,
         "status": status}
    )  # fmt: skip


def seasonal_dates(start: str, end: str = "2024-08-01") -> list[pd.Timestamp]:
    """8 referrals a month, 2 in June-August (days 10 and 20)."""
    out = []
    for m in pd.date_range(start, end, freq="MS"):
        days = [10, 20] if m.month in (6, 7, 8) else [2, 5, 9, 12, 16, 20, 24, 27]
        out += [m + pd.Timedelta(days=d - 1) for d in days]
    return out


# ---------------------------------------------------------------------- check_events
def test_check_events_rejects_with_reasons() -> None:
    phys = pd.DataFrame({"npi": [npi(1), HOME]})
    ev = events(
        [
            ("2024-01-05", npi(1), HOME, "referred"),  # 0 ok
            ("2024-01-02", npi(1), HOME, "seen"),  # 1 seen before referred
            ("2024-02-30", npi(1), HOME, "referred"),  # 2 bad date
            ("2024-01-07", npi(2), HOME, "referred"),  # 3 unknown NPI
            ("2024-01-08", npi(1), HOME, "cancelled"),  # 4 bad status
            ("2024-01-09", npi(1), "1234567890", "referred"),  # 5 bad check digit
            ("2024-01-10", npi(1), HOME, "scheduled"),  # 6 ok (referral 1)
            ("2024-01-11", npi(1), npi(2), "seen"),  # 7 referral_id reused for another pair
            ("2026-03-01", npi(1), HOME, "referred"),  # 8 outside the date range
        ],
        referral_id=[1, 1, 2, 3, 4, 5, 1, 1, 9],
    )
    res = check_events(ev, physicians=phys, date_range=("2020-01-01", "2025-12-31"))
    got = {(r["row"], r["column"]): r["reason"] for r in res.rejected.to_dict("records")}
    assert got[(1, "status")] == (
        "'seen' dated 2024-01-02 is before 'scheduled' dated 2024-01-10 of the same referral_id 1"
    )
    assert got[(2, "date")] == "unparseable date"
    assert got[(3, "source_npi")] == "NPI not in the physicians table"
    assert got[(4, "status")].startswith("expected one of")
    assert got[(5, "target_npi")] == "NPI check digit is wrong"
    assert got[(7, "referral_id")] == "referral_id already used for another source/target pair"
    assert got[(8, "date")].startswith("date outside the allowed range")
    assert sorted(res.rejected["row"].unique()) == [1, 2, 3, 4, 5, 7, 8]
    assert res.rejected.loc[res.rejected["row"] == 2, "value"].item() == "2024-02-30"
    assert res.n_accepted_rows == 2 and len(res.table) == 2
    assert res.n_accepted_rows + res.n_rejected_rows == res.n_input == 9
    with pytest.raises(ValidationError, match="rows rejected"):
        check_events(ev, physicians=phys, strict=True)


def test_check_events_uses_given_physicians_of_a_network() -> None:
    phys = pd.DataFrame({"npi": [npi(1), HOME]})
    ev = events([("2024-01-05", npi(1), HOME, "referred"), ("2024-01-06", npi(3), HOME, "seen")])
    net = ReferralNetwork.from_frames(physicians=phys, events=ev)
    res = check_events(net)
    assert res.rejected[["row", "column"]].values.tolist() == [[1, "source_npi"]]
    # and analyses leave the row out, saying so
    b = bucket(net)
    assert b["referrals"].sum() == 1
    assert len(b.attrs["rejected"]) == 1
    # without a physicians table, nobody is unknown
    assert check_events(ReferralNetwork.from_frames(events=ev)).n_rejected_rows == 0


def test_status_order_later_follow_up_is_fine() -> None:
    ev = events(
        [
            ("2024-01-01", npi(1), HOME, "referred"),
            ("2024-01-03", npi(1), HOME, "scheduled"),
            ("2024-01-10", npi(1), HOME, "seen"),
            ("2024-01-20", npi(1), HOME, "converted"),
            ("2024-03-10", npi(1), HOME, "seen"),  # follow-up visit after conversion
        ],
        referral_id=[7] * 5,
    )
    assert check_events(ev).n_rejected_rows == 0


# ---------------------------------------------------------------------- bucket
def test_bucket_by_freq_hand_computed() -> None:
    ev = events(
        [
            ("2024-01-01", npi(1), HOME, "referred"),  # Monday
            ("2024-01-07", npi(1), HOME, "seen"),  # Sunday, same week
            ("2024-01-08", npi(1), HOME, "converted"),  # next Monday
            ("2024-03-31", npi(2), HOME, "scheduled"),
            ("2024-04-01", npi(2), HOME, "referred"),
        ]
    )
    net = ReferralNetwork.from_frames(events=ev)
    w = bucket(net, freq="W")
    assert w[w["source_npi"] == npi(1)]["referrals"].tolist() == [2, 1]
    assert w["period"].iloc[0] == pd.Timestamp("2024-01-01")
    m = bucket(net, freq="month")
    cols = ["source_npi", "period", "referrals", "scheduled", "seen", "converted"]
    assert m[cols].values.tolist() == [
        [npi(1), pd.Timestamp("2024-01-01"), 3, 2, 2, 1],
        [npi(2), pd.Timestamp("2024-03-01"), 1, 1, 0, 0],
        [npi(2), pd.Timestamp("2024-04-01"), 1, 0, 0, 0],
    ]  # fmt: skip
    q = bucket(net, freq="Q", by="total")
    assert q["period"].tolist() == [pd.Timestamp("2024-01-01"), pd.Timestamp("2024-04-01")]
    assert q["referrals"].tolist() == [4, 1]
    d = bucket(net, freq="D", by="target", start="2024-01-02", end="2024-03-31")
    assert d["referrals"].sum() == 3
    filled = bucket(net, freq="M", by="source", fill=True)
    assert len(filled) == 2 * 4  # two sources x Jan..Apr
    assert filled["referrals"].sum() == 5


def test_bucket_by_practice_and_specialty() -> None:
    phys = pd.DataFrame(
        {"npi": [npi(1), npi(2), npi(3), HOME], "practice_id": ["P1", "P1", None, "H"],
         "specialty": ["family_medicine", "internal_medicine", None, "cardiology"]}
    )  # fmt: skip
    ev = events(
        [("2024-01-05", npi(1), HOME, "referred"), ("2024-01-06", npi(2), HOME, "referred"),
         ("2024-02-06", npi(3), HOME, "referred")]
    )  # fmt: skip
    net = ReferralNetwork.from_frames(physicians=phys, events=ev)
    p = bucket(net, by="practice")
    assert p[["source_practice_id", "referrals"]].values.tolist() == [["P1", 2], ["unknown", 1]]
    s = bucket(net, by="target_specialty", freq="Q")
    assert s[["target_specialty", "referrals"]].values.tolist() == [["cardiology", 3]]
    with pytest.raises(ValidationError, match="freq"):
        bucket(net, freq="Y")
    with pytest.raises(ValidationError, match="by"):
        bucket(net, by="zip")


def test_bucket_counts_a_referral_once_in_a_transition_log() -> None:
    ev = events(
        [("2024-01-30", npi(1), HOME, "referred"), ("2024-02-03", npi(1), HOME, "scheduled"),
         ("2024-02-20", npi(1), HOME, "seen"), ("2024-02-01", npi(1), HOME, "referred")],
        referral_id=[1, 1, 1, 2],
    )  # fmt: skip
    b = bucket(ReferralNetwork.from_frames(events=ev))
    assert b[["period", "referrals", "seen"]].values.tolist() == [
        [pd.Timestamp("2024-01-01"), 1, 1],
        [pd.Timestamp("2024-02-01"), 1, 0],
    ]


_STATUSES = ["referred", "scheduled", "seen", "converted"]


@st.composite
def event_logs(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(0, 60))
    days = draw(st.lists(st.integers(0, 800), min_size=n, max_size=n))
    src = draw(st.lists(st.integers(1, 6), min_size=n, max_size=n))
    tgt = draw(st.lists(st.integers(7, 9), min_size=n, max_size=n))
    sts = draw(st.lists(st.sampled_from(_STATUSES), min_size=n, max_size=n))
    return pd.DataFrame(
        {"date": pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D"),
         "source_npi": [npi(i) for i in src], "target_npi": [npi(i) for i in tgt],
         "status": sts}
    )  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=event_logs(), freq=st.sampled_from(["D", "W", "M", "Q"]),
       by=st.sampled_from(["source", "target", "pair", "total", "source_practice"]))  # fmt: skip
def test_bucket_totals_equal_event_counts(ev: pd.DataFrame, freq: str, by: str) -> None:
    net = ReferralNetwork.from_frames(events=ev)
    b = bucket(net, freq=freq, by=by)
    assert int(b["referrals"].sum()) == len(ev)
    for s in ("scheduled", "seen", "converted"):
        assert int(b[s].sum()) == int(ev["status"].isin(_STATUSES[_STATUSES.index(s) :]).sum())
    assert (b["referrals"] > 0).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ev=event_logs())
def test_funnel_stages_never_increase(ev: pd.DataFrame) -> None:
    f = funnel(ReferralNetwork.from_frames(events=ev))
    c = f[["referred", "scheduled", "seen", "converted"]].to_numpy()
    assert (np.diff(c, axis=1) <= 0).all()
    assert int(f["referred"].sum()) == len(ev)
    assert ((f["conversion"] >= 0) & (f["conversion"] <= 1)).all()


@settings(max_examples=30, deadline=None)
@given(ev=event_logs(), rid=st.lists(st.integers(0, 8), min_size=60, max_size=60))
def test_check_events_keeps_every_row(ev: pd.DataFrame, rid: list[int]) -> None:
    ev = ev.assign(referral_id=rid[: len(ev)])
    res = check_events(ev)
    assert res.n_accepted_rows + res.n_rejected_rows == res.n_input == len(ev)
    assert len(res.table) == res.n_accepted_rows


# ---------------------------------------------------------------------- network as of
def test_network_as_of_window() -> None:
    ev = events(
        [("2023-01-03", npi(1), HOME, "seen"), ("2024-01-20", npi(1), HOME, "referred"),
         ("2024-02-07", npi(1), HOME, "seen"), ("2024-02-08", npi(2), HOME, "seen"),
         ("2024-03-02", npi(2), HOME, "seen")],
        patient_id=["a", "a", "b", "c", "c"],
    )  # fmt: skip
    net = ReferralNetwork.from_frames(events=ev)
    g = network_as_of(net, "2024-03-01", window="365D")
    assert g.flows[["source_npi", "count", "patients"]].values.tolist() == [
        [npi(1), 2, 2], [npi(2), 1, 1]
    ]  # fmt: skip
    assert g.flows["period_start"].iloc[0] == pd.Timestamp("2023-03-03")
    assert len(g.events) == 4  # nothing after the date
    seen = network_as_of(net, "2024-03-01", window=None, min_stage="seen")
    assert seen.flows["count"].tolist() == [2, 1]


# ---------------------------------------------------------------------- trends and alerts
def test_trends_hand_computed_slope() -> None:
    # monthly counts 1, 3, 2, 4 -> slope 0.8, mean 2.5
    dates = ["2024-01-05"] + ["2024-02-05"] * 3 + ["2024-03-05"] * 2 + ["2024-04-05"] * 4
    t = trends(ReferralNetwork.from_frames(events=log(dates, npi(1))), as_of="2024-04-30",
               periods=4)  # fmt: skip
    row = t.loc[npi(1)]
    assert row["slope"] == pytest.approx(0.8)
    assert row["mean"] == pytest.approx(2.5)
    # residuals: fitted 1.3, 2.1, 2.9, 3.7 -> -0.3, 0.9, -0.9, 0.3; s2 = 1.8/2; Sxx = 5
    assert row["se"] == pytest.approx(math.sqrt(0.9 / 5))
    assert row["ci_low"] == pytest.approx(0.8 - 4.302652729911275 * math.sqrt(0.18))
    # the label is the calibrated status of at_risk: 9 referrals in the last 90 days
    # against none in the 26 days after the first one is no significant rise
    assert row["trend"] == "stable"


@pytest.fixture
def season_net() -> ReferralNetwork:
    seasonal = log(seasonal_dates("2022-09-01"), npi(1))  # two years of history
    short = log(seasonal_dates("2023-09-01"), npi(2))  # the same pattern, one year only
    weekly = log(pd.date_range("2022-09-05", "2024-06-24", freq="7D"), npi(3))  # then silent
    lost = log(pd.date_range("2023-01-02", "2024-03-25", freq="7D"), npi(4))
    new = log(["2024-08-01", "2024-08-15"], npi(5))
    return ReferralNetwork.from_frames(events=pd.concat([seasonal, short, weekly, lost, new]))


def test_seasonal_dip_with_covering_history_is_not_flagged(season_net: ReferralNetwork) -> None:
    r = at_risk(season_net, as_of="2024-08-31", season="own")
    s = r.loc[npi(1)]
    # recent 90 days (2024-06-03..08-31): Jun/Jul/Aug 10 and 20 -> 6 referrals;
    # the same window a year earlier (2023-06-04..09-01) also held 6: expected = 6
    assert s["observed"] == 6
    assert s["baseline"] == "seasonal"
    assert (s["baseline_referrals"], s["baseline_days"]) == (6, 90)
    assert s["expected"] == pytest.approx(6.0)
    assert s["ratio"] == 1.0 and s["drop"] == 0.0
    # conditional test: 6 of 12 referrals in the recent half, Binomial(12, 1/2)
    assert s["p_drop"] == pytest.approx(stats.binom.cdf(6, 12, 0.5))
    assert s["days_since"] == 11
    # no referral day in the same 11 days last year either: no evidence of silence
    assert s["p_silence"] == 1.0
    assert s["status"] == "stable" and not s["at_risk"]
    # without last year's season the same dip looks like a drop: trailing baseline of
    # days 90..364 before as_of without the first referral day (2023-09-02, 1 referral):
    # 71 referrals in 274 days
    short = r.loc[npi(2)]
    assert short["baseline"] == "trailing"
    assert (short["baseline_referrals"], short["baseline_days"]) == (71, 274)
    assert short["expected"] == pytest.approx(71 * 90 / 274)
    assert short["p_drop"] == pytest.approx(stats.binom.cdf(6, 77, 90 / 364))
    assert short["at_risk"]
    # the default seasonal index is pooled over the sources: in this tiny log it does
    # not know npi(1)'s own summer, but the same window last year vetoes the flag
    d = at_risk(season_net, as_of="2024-08-31")
    assert d.loc[npi(1), "last_year"] == 6
    assert d.loc[npi(1), "status"] == "stable"


def test_default_baseline_is_the_whole_history_with_a_season_index() -> None:
    # one weekly source, 2023-01-02 .. 2024-12-30; as of 2024-12-31 with season="none":
    # 13 Mondays in the last 90 days against the 91 - 1 after the first one before them
    dates = pd.date_range("2023-01-02", "2024-12-30", freq="7D")
    net = ReferralNetwork.from_frames(events=log(dates, npi(1)))
    r = at_risk(net, as_of="2024-12-31", season="none").loc[npi(1)]
    assert r["observed"] == 13
    assert r["baseline_referrals"] == len(dates) - 13 - 1
    assert r["baseline_days"] == 729 - 90  # days 90 .. 728 before as_of
    assert r["expected"] == pytest.approx((len(dates) - 14) * 90 / 639)
    assert r["p_drop"] == pytest.approx(stats.binom.cdf(13, len(dates) - 1, 90 / 729))
    assert r["season_factor"] == 1.0
    # the pooled index of one steady source: counts per calendar month over
    # source-days, shrunk towards 1 by 50 pseudo-referrals: close to 1
    m = at_risk(net, as_of="2024-12-31").loc[npi(1)]
    assert m["season_factor"] == pytest.approx(1.0, abs=0.05)
    assert m["status"] == "stable"
    with pytest.raises(ValidationError, match="season"):
        at_risk(net, season="yearly")
    with pytest.raises(ValidationError, match="dispersion"):
        at_risk(net, dispersion=0.5)


def test_cadence_break_is_flagged(season_net: ReferralNetwork) -> None:
    r = at_risk(season_net, as_of="2024-08-31", season="own")
    c = r.loc[npi(3)]
    # Mondays: 4 in 2024-06-03..06-24, 13 in 2023-06-04..09-01
    assert c["observed"] == 4
    assert c["expected"] == pytest.approx(13.0)
    assert c["days_since"] == 68
    assert c["usual_gap_days"] == 7
    assert c["expected_gap_days"] == pytest.approx(90 / 13)
    assert c["p_drop"] == pytest.approx(stats.binom.cdf(4, 17, 0.5))
    # silence: Mondays in the same 68 days last year (2023-06-26 .. 2023-09-01)
    span = pd.date_range("2023-06-26", "2023-09-01")
    k = int((span.day_of_week == 0).sum())
    assert c["p_silence"] == pytest.approx(0.5**k)
    assert c["p_drop"] < 0.05 and c["p_silence"] < 0.05
    assert c["status"] == "declining" and c["at_risk"]
    assert c["drop"] == pytest.approx(1 - 4 / 13)
    # exact 95% interval of the ratio: Clopper-Pearson limits of 4 of 17, as odds
    lo, hi = stats.beta.ppf([0.025, 0.975], [4, 5], [14, 13])
    assert c["ratio_ci_low"] == pytest.approx(lo / (1 - lo))
    assert c["ratio_ci_high"] == pytest.approx(hi / (1 - hi))
    assert c["score"] == pytest.approx((1 - (90 / 13) / 68) * 13 * 365 / 90)
    assert r.loc[npi(4), "status"] == "lost"
    assert r.loc[npi(5), "status"] == "new" and not r.loc[npi(5), "at_risk"]
    d = at_risk(season_net, as_of="2024-08-31")  # default: the same three verdicts
    assert d.loc[[npi(3), npi(4), npi(5)], "status"].tolist() == ["declining", "lost", "new"]
    cl = call_list(season_net, as_of="2024-08-31")
    assert npi(3) in cl.index and npi(4) in cl.index
    assert npi(1) not in cl.index and npi(5) not in cl.index
    assert cl["rank"].tolist() == list(range(1, len(cl) + 1))
    assert "no referral for 68 days (usually one every 7 days)" in cl.loc[npi(3), "reason"]


def test_growing_source() -> None:
    base = pd.date_range("2023-01-02", "2024-05-31", freq="14D")
    burst = pd.date_range("2024-06-03", "2024-08-30", freq="2D")
    net = ReferralNetwork.from_frames(events=log(base.append(burst), npi(1)))
    r = at_risk(net, as_of="2024-08-31")
    assert r.loc[npi(1), "status"] == "growing"


def test_at_risk_parameter_errors(season_net: ReferralNetwork) -> None:
    with pytest.raises(ValidationError, match="recent"):
        at_risk(season_net, recent="-3D")
    with pytest.raises(ValidationError, match="alpha"):
        at_risk(season_net, alpha=2)
    with pytest.raises(ValidationError, match="as_of"):
        at_risk(ReferralNetwork.from_frames())


def test_structural_bridge_stopped() -> None:
    t1, t2, b = npi(10), npi(11), npi(12)
    parts = [log(pd.date_range("2023-06-05", "2024-08-26", freq="7D"), s, t)
             for s, t in ((npi(1), t1), (npi(2), t1), (npi(3), t2), (npi(4), t2))]  # fmt: skip
    weekly = pd.date_range("2023-06-05", "2024-05-27", freq="7D")
    parts += [log(weekly, b, t1), log(weekly, b, t2)]  # the bridge, then silent
    net = ReferralNetwork.from_frames(events=pd.concat(parts))
    al = structural_alerts(net, as_of="2024-08-31")
    assert al["alert"].tolist() == ["bridge_stopped"]
    assert al["npi"].tolist() == [b]


def test_structural_community_moved_to_competitor() -> None:
    cs, ds = [npi(1), npi(2), npi(3)], [npi(4), npi(5), npi(6)]
    phys = pd.DataFrame({"npi": [HOME, RIVAL, *cs, *ds],
                         "specialty": ["cardiology"] * 2 + ["family_medicine"] * 6})  # fmt: skip
    before = pd.date_range("2023-06-05", "2024-05-27", freq="7D")
    after = pd.date_range("2024-06-03", "2024-08-26", freq="7D")
    parts = [log(before, c, HOME) for c in cs] + [log(after, c, RIVAL) for c in cs]
    parts += [log(before.append(after), d, RIVAL) for d in ds]
    net = ReferralNetwork.from_frames(physicians=phys, events=pd.concat(parts))
    al = structural_alerts(net, as_of="2024-08-31", home=HOME)
    moved = al[al["alert"] == "community_moved"]
    assert len(moved) == 1
    row = moved.iloc[0]
    assert row["share_before"] == 1.0 and row["share_now"] == 0.0
    assert row["top_competitor"] == RIVAL
    assert row["members"] == 3


# ---------------------------------------------------------------------- funnel, retention
def test_funnel_hand_computed() -> None:
    ev = events(
        [
            ("2024-01-01", npi(1), HOME, "referred"),
            ("2024-01-03", npi(1), HOME, "scheduled"),
            ("2024-01-11", npi(1), HOME, "seen"),
            ("2024-01-30", npi(1), HOME, "converted"),
            ("2024-01-02", npi(1), HOME, "referred"),
            ("2024-01-06", npi(1), HOME, "scheduled"),
            ("2024-01-20", npi(1), HOME, "seen"),
            ("2024-01-05", npi(1), HOME, "referred"),
            ("2024-01-04", npi(1), HOME, "scheduled"),  # before its referral: rejected
            ("2024-02-01", npi(2), HOME, "referred"),
        ],
        referral_id=[1, 1, 1, 1, 2, 2, 2, 3, 3, 4],
    )
    f = funnel(ReferralNetwork.from_frames(events=ev))
    a = f.loc[npi(1)]
    assert a[["referred", "scheduled", "seen", "converted"]].tolist() == [3, 2, 2, 1]
    assert a["scheduled_rate"] == pytest.approx(2 / 3)
    assert a["seen_rate"] == 1.0 and a["converted_rate"] == 0.5
    assert a["conversion"] == pytest.approx(1 / 3)
    assert a["days_to_schedule"] == 3.0  # median of 2 and 4
    assert a["days_to_appointment"] == 14.0  # median of 10 and 18
    assert a["drop_off"] == "seen->converted"
    b = f.loc[npi(2)]
    assert b["drop_off"] == "referred->scheduled"
    assert f.attrs["rejected"]["row"].tolist() == [8]


def test_funnel_min_age_leaves_out_young_referrals() -> None:
    ev = log(["2024-01-01", "2024-03-25"], npi(1), status="referred")
    f = funnel(ReferralNetwork.from_frames(events=ev), as_of="2024-03-31", min_age_days=30)
    assert f.loc[npi(1), "referred"] == 1


def test_retention_hand_computed() -> None:
    ev = events(
        [("2024-01-02", npi(1), HOME, "seen"), ("2024-03-01", npi(1), HOME, "seen"),
         ("2024-01-05", npi(1), HOME, "seen"), ("2025-06-01", npi(1), HOME, "seen"),
         ("2024-02-01", npi(2), HOME, "seen"), ("2024-02-01", npi(2), HOME, "referred")],
        patient_id=["p1", "p1", "p2", "p2", "p3", "p3"],
    )  # fmt: skip
    r = retention(ReferralNetwork.from_frames(events=ev))
    assert r.loc[npi(1)].tolist() == [2, 1, 0.5]  # p2 came back after more than a year
    assert r.loc[npi(2)].tolist() == [1, 0, 0.0]
    with pytest.raises(ValidationError, match="patient_id"):
        retention(ReferralNetwork.from_frames(events=ev.drop(columns="patient_id")))


# ---------------------------------------------------------------------- loyalty
@pytest.fixture
def market() -> ReferralNetwork:
    a, b, c = npi(1), npi(2), npi(3)
    phys = pd.DataFrame(
        {"npi": [HOME, RIVAL, npi(91), npi(92), a, b, c],
         "specialty": ["cardiology", "cardiology", "interventional_cardiology", "dermatology",
                       "family_medicine", "family_medicine", "family_medicine"],
         "practice_id": ["H", "R", "R", "X", "A", "B", "C"]}
    )  # fmt: skip
    flows = pd.DataFrame(
        {"source_npi": [a, a, a, b, b, b, c],
         "target_npi": [HOME, RIVAL, npi(92), HOME, RIVAL, npi(91), RIVAL],
         "count": [30, 10, 50, 5, 25, 20, 8]}
    )  # fmt: skip
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def test_loyalty_segments_hand_computed(market: ReferralNetwork) -> None:
    lo = loyalty(market, home="H")  # practice id
    # a: 30 of 40 in-specialty (dermatology does not count) -> loyalist
    # b: 5 of 50 (interventional cardiology competes) -> opportunity at splitter=0.1
    # c: 0 of 8 -> opportunity
    assert lo.loc[npi(1), ["market", "to_me", "share"]].tolist() == [40.0, 30.0, 0.75]
    assert lo.loc[npi(1), "segment"] == "loyalist"
    assert lo.loc[npi(2), "share"] == pytest.approx(0.1)
    assert lo.loc[npi(2), "segment"] == "splitter"
    assert lo.loc[npi(2), "top_competitor"] == RIVAL
    assert lo.loc[npi(3), "segment"] == "opportunity"
    assert lo.index.tolist() == [npi(2), npi(1), npi(3)]  # most leakage first: 45, 10, 8
    lk = leakage(market, home=HOME)
    assert lk.iloc[0][["source_npi", "competitor_npi", "count"]].tolist() == [npi(2), RIVAL, 25.0]
    assert lk.iloc[0]["share"] == pytest.approx(0.5)
    named = loyalty(market, home=HOME, competitors=[RIVAL])
    assert named.loc[npi(2), "share"] == pytest.approx(5 / 30)


def test_loyalty_from_my_own_log(market: ReferralNetwork) -> None:
    flows = market.flows[market.flows["target_npi"] != HOME]
    ev = log(["2024-01-02"] * 12, npi(2), HOME)
    net = ReferralNetwork.from_frames(physicians=market.physicians, flows=flows, events=ev)
    lo = loyalty(net, home=HOME)
    assert lo.attrs["mine"] == "events"
    assert lo.loc[npi(2), ["market", "to_me"]].tolist() == [57.0, 12.0]
    with pytest.raises(ValidationError, match="home"):
        loyalty(net, home="nowhere")


# ---------------------------------------------------------------------- outreach lift
def _lift_net(effect: float, *, n: int = 200, treated: int = 60, seed: int = 1) -> ReferralNetwork:
    """Sources referring at 0.1 a day for two years; ``treated`` of them visited mid-way.

    After the visit a treated source refers at 0.1 + effect a day.
    """
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    rate = np.full((n, days.size), 0.1)
    t0 = rng.integers(200, 500, size=treated)
    for i, t in enumerate(t0):  # small test fixture: a loop over 60 rows is fine
        rate[i, t:] += effect
    counts = rng.poisson(rate)
    src, day = np.nonzero(counts)
    reps = counts[src, day]
    ev = pd.DataFrame({"date": days[np.repeat(day, reps)],
                       "source_npi": [npi(int(s)) for s in np.repeat(src, reps)],
                       "target_npi": npi(999), "status": "referred"})  # fmt: skip
    tp = pd.DataFrame({"date": days[t0], "npi": [npi(i) for i in range(treated)],
                       "kind": "visit"})  # fmt: skip
    return ReferralNetwork.from_frames(events=ev, touchpoints=tp)


def test_outreach_lift_recovers_planted_effect() -> None:
    res = outreach_lift(_lift_net(0.05), kind="visit", window="90D")
    row = res.loc["visit"]
    planted = 0.05 * 90
    assert row["ci_low"] <= planted <= row["ci_high"]
    assert row["ci_low"] > 0
    assert row["conclusion"] == "increase"
    assert row["n_treated"] == 60 and row["n_control"] == 140


def test_outreach_lift_no_effect() -> None:
    res = outreach_lift(_lift_net(0.0), kind=["visit", "letter"])
    assert res.loc["visit", "conclusion"] == "no detectable effect"
    assert res.loc["visit", "ci_low"] < 0 < res.loc["visit", "ci_high"]
    assert "includes 0" in res.loc["visit", "reason"]
    assert res.loc["letter", "conclusion"] == "insufficient data"
    assert res.loc["letter", "reason"].startswith("only 0 touched source(s)")
    assert math.isnan(res.loc["letter", "did"])


def test_outreach_lift_refuses_small_samples() -> None:
    net = _lift_net(0.05, n=8, treated=3)
    res = outreach_lift(net)
    assert res.index.tolist() == ["any"]
    assert res.loc["any", "conclusion"] == "insufficient data"
    assert "need 5" in res.loc["any", "reason"]
    with pytest.raises(ValidationError, match="kind"):
        outreach_lift(net, kind="billboard")


# ---------------------------------------------------------------------- nurture
def test_nurture_plan(season_net: ReferralNetwork) -> None:
    plan = nurture_plan(season_net, as_of="2024-08-31", top=2)
    assert isinstance(plan, NurturePlan)
    ci = plan.check_ins
    # the weekly source last referred 2024-06-24, gap 7 -> due 2024-07-05: past, so today
    assert ci.loc[npi(3), "check_in"] == pd.Timestamp("2024-08-31")
    # the new source: referrals 14 days apart -> 2024-08-15 + 21 days
    assert ci.loc[npi(5), "check_in"] == pd.Timestamp("2024-09-05")
    thank = plan.thank_you
    assert thank.loc[npi(5), "why"] == "new referrer"
    assert thank["why"].tolist().count("new referrer") == 1
    assert "top referrer #1" in thank["why"].tolist()
    hl = plan.highlights
    assert hl.loc[npi(5), "message"] == (
        "Of the 2 patients you referred since 2023-09-02, 0 were seen and 0 converted."
    )


# ---------------------------------------------------------------------- synthetic data
def test_on_synthetic_region() -> None:
    datasets = pytest.importorskip("refgraph.datasets")
    tables = datasets.synthetic_tables(300, seed=3, events=True, touchpoints=True, months=24)
    net = ReferralNetwork.from_frames(**tables)
    b = bucket(net, freq="M")
    assert b["referrals"].sum() == len(net.events)
    r = at_risk(net)
    assert set(r["status"]) <= {"new", "growing", "stable", "declining", "lost"}
    f = funnel(net, by="total")
    assert f["referred"].item() == len(net.events)
    lift = outreach_lift(net, kind="each")
    assert (
        lift["conclusion"]
        .isin(["increase", "decrease", "no detectable effect", "insufficient data"])
        .all()
    )


def test_at_risk_controls_false_discoveries_across_sources() -> None:
    """300 sources with a constant Poisson rate for two years: nothing changed.

    Raw p-values at alpha=0.05 flag some of them by chance; Benjamini-Hochberg
    (the default) should flag (almost) none, and must never flag more.
    """
    rng = np.random.default_rng(7)
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    n_src = 300
    rates = rng.uniform(0.05, 0.4, n_src)  # referrals per day
    counts = rng.poisson(rates[:, None], size=(n_src, len(days)))
    src_idx, day_idx = np.nonzero(counts)
    reps = counts[src_idx, day_idx]
    events = pd.DataFrame(
        {
            "date": np.repeat(days.values[day_idx], reps),
            "source_npi": np.repeat([npi(i) for i in src_idx], reps),
            "target_npi": npi(999),
            "status": "referred",
        }
    )
    net = ReferralNetwork.from_frames(events=events)
    raw = at_risk(net, as_of="2024-12-31", adjust="none", with_trend=False)
    bh = at_risk(net, as_of="2024-12-31", with_trend=False)
    assert len(raw) == len(bh) == n_src
    assert raw["at_risk"].sum() >= 1  # chance findings at 5% per test
    assert bh["at_risk"].sum() <= raw["at_risk"].sum()
    assert bh["at_risk"].sum() <= 0.01 * n_src
    assert (bh["q_drop"] >= bh["p_drop"] - 1e-12).all()
    with pytest.raises(ValidationError, match="adjust"):
        at_risk(net, adjust="bonferroni")
