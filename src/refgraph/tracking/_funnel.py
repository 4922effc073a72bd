"""Funnel, retention, loyalty, leakage and nurture plan of :mod:`refgraph.tracking`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_float, check_int
from ..network import ReferralNetwork
from ._alerts import at_risk
from ._events import (
    _competitor_npis,
    _day,
    _days_param,
    _home_npis,
    _referrals,
    _stage_codes,
    check_events,
)
from ._periods import _BY, _keys

logger = logging.getLogger("refgraph.tracking")

__all__ = ["NurturePlan", "funnel", "leakage", "loyalty", "nurture_plan", "retention"]

_STAGES = ("referred", "scheduled", "seen", "converted")
_STEPS = ("referred->scheduled", "scheduled->seen", "seen->converted")


def funnel(
    net: ReferralNetwork,
    *,
    by: str = "source",
    as_of: Any = None,
    min_age_days: int = 0,
) -> pd.DataFrame:
    """Referral funnel per source: referred -> scheduled -> seen -> converted.

    Parameters
    ----------
    net
        A network with events.
    by
        Grouping, as in :func:`bucket` (``"source"``, ``"target"``,
        ``"source_practice"``, ``"total"`` ...).
    as_of
        Count referrals dated on or before this day (default: all).
    min_age_days
        Leave out referrals younger than this many days at ``as_of`` (they
        have not had time to progress, and would bias the rates down).

    Returns
    -------
    pandas.DataFrame
        Indexed by the group: counts ``referred``, ``scheduled``, ``seen``,
        ``converted`` (referrals that reached at least that stage),
        ``scheduled_rate`` (scheduled / referred), ``seen_rate`` (seen /
        scheduled), ``converted_rate`` (converted / seen), ``conversion``
        (converted / referred), ``days_to_schedule`` and
        ``days_to_appointment`` (medians, from referral to the first
        *scheduled* / *seen* row; missing without dated status rows) and
        ``drop_off``, the step losing the largest share of referrals.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> ev = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-01-02", "2024-01-04", "2024-01-12",
    ...                             "2024-01-03", "2024-01-05"]),
    ...     "source_npi": "1234567893", "target_npi": "1003033051",
    ...     "status": ["referred", "scheduled", "seen", "referred", "scheduled"],
    ...     "referral_id": [1, 1, 1, 2, 2]})
    >>> f = funnel(ReferralNetwork.from_frames(events=ev))
    >>> f[["referred", "scheduled", "seen", "converted"]]
                referred  scheduled  seen  converted
    source_npi
    1234567893         2          2     1          0
    >>> f[["days_to_schedule", "days_to_appointment", "drop_off"]]
                days_to_schedule  days_to_appointment         drop_off
    source_npi
    1234567893               2.0                 10.0  seen->converted

    Notes
    -----
    A referral counts in every stage up to the furthest it reached, so the
    counts never increase along the funnel. With one row per referral the
    ``status`` is that furthest stage; with a ``referral_id`` grouping status
    rows, it is the furthest status among them, and the dates of the first
    row of each status give the times. Rows rejected by :func:`check_events`
    (e.g. *seen* dated before *referred*) are left out and listed in
    ``result.attrs["rejected"]``.
    """
    by_ = _BY.get(by) if isinstance(by, str) else None
    if by_ is None:
        raise ValidationError(f"by: expected one of {sorted(_BY)}, got {by!r}")
    min_age_days = check_int(min_age_days, "min_age_days", minimum=0)
    r = _referrals(net)
    code, groups = _keys(net, r, by_)
    keep = np.ones(len(r), dtype=bool)
    if as_of is not None:
        keep &= r.day <= _day(as_of, "as_of") - int(min_age_days)
    elif min_age_days:
        keep &= r.day <= (int(r.day.max()) if len(r) else 0) - int(min_age_days)
    c, st = code[keep], r.stage[keep]
    ng = len(groups)
    counts = np.vstack([np.bincount(c, weights=st >= s, minlength=ng) for s in range(4)])
    counts = counts.astype(np.int64)
    present = counts[0] > 0
    idx_cols = list(groups.columns)
    out = groups.loc[present].reset_index(drop=True)
    for i, name in enumerate(_STAGES):
        out[name] = counts[i][present]
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = counts[1:] / counts[:-1]
        out["scheduled_rate"] = rates[0][present]
        out["seen_rate"] = rates[1][present]
        out["converted_rate"] = rates[2][present]
        out["conversion"] = (counts[3] / counts[0])[present]
    out["days_to_schedule"] = np.nan
    out["days_to_appointment"] = np.nan
    if r.stage_day is not None:
        sd = r.stage_day[keep]
        for col, s in (("days_to_schedule", 1), ("days_to_appointment", 2)):
            ok = sd[:, s] >= 0
            med = (
                pd.Series(sd[ok, s] - r.day[keep][ok])
                .groupby(c[ok])
                .median()
                .reindex(np.flatnonzero(present))
            )
            out[col] = med.to_numpy(dtype=np.float64)
    lost = 1 - np.nan_to_num(np.vstack([rates[0], rates[1], rates[2]])[:, present], nan=1.0)
    # a step after an empty stage loses nothing new: only steps with entrants compete
    entrants = counts[:-1][:, present] > 0
    lost = np.where(entrants, lost, -1.0)
    step = np.argmax(lost, axis=0)
    out["drop_off"] = np.where(lost.max(axis=0) > 0, np.array(_STEPS, dtype=object)[step], "none")
    out = out.set_index(idx_cols[0] if len(idx_cols) == 1 else idx_cols)
    out.attrs["rejected"] = r.rejected
    return out


def retention(
    net: ReferralNetwork,
    *,
    by: str = "source",
    within: Any = "365D",
) -> pd.DataFrame:
    """Share of referred patients who came back for a follow-up visit.

    Parameters
    ----------
    net
        A network whose events carry a ``patient_id`` column.
    by
        ``"source"`` (default) or ``"target"``: whose patients.
    within
        A follow-up counts when it falls within this time of the first visit.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi`` (or ``target_npi``): ``patients_seen``,
        ``retained``, ``retention_rate``.

    Raises
    ------
    ValidationError
        When the events have no ``patient_id`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> ev = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-01-02", "2024-03-01", "2024-01-05"]),
    ...     "source_npi": "1234567893", "target_npi": "1003033051",
    ...     "status": "seen", "patient_id": ["p1", "p1", "p2"]})
    >>> retention(ReferralNetwork.from_frames(events=ev))
                patients_seen  retained  retention_rate
    source_npi
    1234567893              2         1             0.5

    Notes
    -----
    Input: every ``seen`` row is a visit of ``patient_id`` with
    ``target_npi``. A patient's first visit with a target is the index visit,
    credited to that row's source; the patient is *retained* when another
    ``seen`` row of the same patient and target follows within ``within``
    (a later row on the same day does not count).
    """
    if by not in ("source", "target"):
        raise ValidationError(f"by: expected 'source' or 'target', got {by!r}")
    ev = net.events
    if "patient_id" not in ev.columns:
        raise ValidationError(
            "retention needs a patient_id column in events (one row per visit with "
            "status 'seen'); the events have columns " + str(list(ev.columns))
        )
    w = _days_param(within, "within")
    res = check_events(net)
    ev = res.table if res.n_rejected_rows else ev
    seen = ev.loc[(_stage_codes(ev["status"]) == 2) & ev["patient_id"].notna().to_numpy()]
    df = pd.DataFrame(
        {
            "p": seen["patient_id"].astype("string").to_numpy(dtype=object),
            "t": seen["target_npi"].to_numpy(dtype=object),
            "s": seen["source_npi"].to_numpy(dtype=object),
            "d": seen["date"].to_numpy().astype("datetime64[D]").astype(np.int64),
        }
    ).sort_values(["p", "t", "d"], kind="stable")
    g = df.groupby(["p", "t"], sort=False)
    first = g.head(1).set_index(["p", "t"])
    later = df[df["d"] > g["d"].transform("min")].groupby(["p", "t"], sort=False)["d"].min()
    gap = later.reindex(first.index) - first["d"]
    first = first.assign(retained=(gap <= w).to_numpy(dtype=bool, na_value=False))
    key = "s" if by == "source" else "t_"
    if by == "target":
        first = first.reset_index().rename(columns={"t": "t_"})
    out = first.groupby(key).agg(patients_seen=("d", "size"), retained=("retained", "sum"))
    out["retained"] = out["retained"].astype(np.int64)
    out["retention_rate"] = out["retained"] / out["patients_seen"]
    out.index = pd.Index(out.index.astype("string"), name=f"{by}_npi")
    return out


# ---------------------------------------------------------------------- loyalty
def _market(
    net: ReferralNetwork,
    home: Any,
    specialty: str | None,
    competitors: Any,
    mine_from: str,
) -> tuple[pd.DataFrame, pd.Index, str]:
    """Long table (source, target, count, is_me) of in-specialty referrals."""
    mine = _home_npis(net, home)
    rivals = _competitor_npis(net, mine, specialty, competitors)
    f = net.flows
    fl = pd.DataFrame(
        {
            "s": f["source_npi"].astype("string"),
            "t": f["target_npi"].astype("string"),
            "n": f["count"].astype("float64"),
        }
    )
    if mine_from == "auto":
        mine_from = "flows" if fl["t"].isin(mine).any() or net.events.empty else "events"
    if mine_from not in ("flows", "events"):
        raise ValidationError(f"mine: expected 'auto', 'flows' or 'events', got {mine_from!r}")
    parts = [fl[fl["t"].isin(rivals)]]
    if mine_from == "flows":
        parts.append(fl[fl["t"].isin(mine)])
    else:
        r = _referrals(net)
        t = r.targets.take(r.tgt)
        m = np.asarray(t.isin(mine))
        parts.append(
            pd.DataFrame(
                {
                    "s": r.sources.take(r.src[m]).astype("string"),
                    "t": t[m].astype("string"),
                    "n": 1.0,
                }
            )
        )
    mk = pd.concat(parts, ignore_index=True)
    mk = mk[~mk["s"].isin(mine)]
    mk = mk.groupby(["s", "t"], as_index=False, sort=False)["n"].sum()
    mk["me"] = mk["t"].isin(mine).to_numpy(dtype=bool)
    return mk, mine, mine_from


def loyalty(
    net: ReferralNetwork,
    *,
    home: Any,
    specialty: str | None = None,
    competitors: Any = None,
    mine: str = "auto",
    loyal: float = 0.5,
    splitter: float = 0.1,
) -> pd.DataFrame:
    """Share of each source's in-specialty referrals that reach me, and its segment.

    Parameters
    ----------
    net
        A network with market-wide ``flows`` (e.g. a CMS shared-patient file)
        and, optionally, my own ``events``.
    home
        My NPI(s) or practice id.
    specialty
        My specialty (default: the most common specialty of ``home``).
    competitors
        Named competitor NPIs; default: every physician of my specialty or a
        competing one (:func:`refgraph.specialties.competing`).
    mine
        Where my own volume comes from: ``"flows"``, ``"events"`` (my
        referral log, joined with competitors' volume from flows) or
        ``"auto"`` (flows when they reach ``home``, else events).
    loyal, splitter
        Segment thresholds on the share.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi``, most leakage first: ``market`` (its
        in-specialty referrals), ``to_me``, ``share``, ``leakage`` (market -
        to_me), ``segment`` (``loyalist`` share >= loyal, ``splitter`` share
        >= splitter, else ``opportunity``), ``top_competitor`` and
        ``top_competitor_count``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> me, rival, a, b = "1003033051", "1154584084", "1234567893", "1245319599"
    >>> phys = pd.DataFrame({"npi": [me, rival, a, b],
    ...                      "specialty": ["cardiology", "cardiology", "family_medicine",
    ...                                    "family_medicine"]})
    >>> flows = pd.DataFrame({"source_npi": [a, a, b, b], "target_npi": [me, rival, me, rival],
    ...                       "count": [30, 10, 5, 45]})
    >>> net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    >>> loyalty(net, home=me)[["market", "to_me", "share", "segment", "top_competitor"]]
                market  to_me  share      segment top_competitor
    source_npi
    1245319599    50.0    5.0   0.10     splitter     1154584084
    1234567893    40.0   30.0   0.75    loyalist     1154584084

    Notes
    -----
    share = to_me / market, where market counts a source's referrals to
    ``home`` and its competitors. Flows from CMS files count shared patient
    encounters, not referrals; mixing them with my referral log
    (``mine="events"``) compares different units, so read the share as an
    index rather than an exact fraction.
    """
    mk, _, used = _market(net, home, specialty, competitors, mine)
    if not 0 <= splitter <= loyal <= 1:
        raise ValidationError(
            f"loyal, splitter: expected 0 <= splitter <= loyal <= 1, got {splitter}, {loyal}"
        )
    tot = mk.groupby("s", sort=False)["n"].sum()
    me = mk[mk["me"]].groupby("s", sort=False)["n"].sum().reindex(tot.index, fill_value=0.0)
    riv = mk[~mk["me"]].sort_values(["s", "n", "t"], ascending=[True, False, True])
    top = riv.drop_duplicates("s").set_index("s")
    out = pd.DataFrame({"market": tot, "to_me": me})
    out["share"] = out["to_me"] / out["market"]
    out["leakage"] = out["market"] - out["to_me"]
    out["segment"] = np.select(
        [out["share"] >= loyal, out["share"] >= splitter], ["loyalist", "splitter"], "opportunity"
    )
    out["top_competitor"] = top["t"].reindex(out.index).astype("string")
    out["top_competitor_count"] = top["n"].reindex(out.index).fillna(0.0)
    out.index = pd.Index(out.index.astype("string"), name="source_npi")
    out = out[out["market"] > 0].sort_values(["leakage", "market"], ascending=False, kind="stable")
    out.attrs["mine"] = used
    return out


def leakage(
    net: ReferralNetwork,
    *,
    home: Any,
    specialty: str | None = None,
    competitors: Any = None,
    mine: str = "auto",
) -> pd.DataFrame:
    """Referrals leaking from each source to each named competitor.

    Parameters are those of :func:`loyalty`.

    Returns
    -------
    pandas.DataFrame
        One row per (source, competitor), largest first: ``source_npi``,
        ``competitor_npi``, ``name`` and ``specialty`` of the competitor,
        ``count`` and ``share`` of the source's in-specialty market.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> flows = pd.DataFrame({"source_npi": ["1234567893"] * 2,
    ...                       "target_npi": ["1003033051", "1154584084"], "count": [30, 10]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> leakage(net, home="1003033051", competitors=["1154584084"])[["competitor_npi", "share"]]
      competitor_npi  share
    0     1154584084   0.25
    """
    mk, _, _ = _market(net, home, specialty, competitors, mine)
    tot = mk.groupby("s")["n"].transform("sum")
    out = mk.assign(share=mk["n"] / tot)[~mk["me"]]
    phys = net.physicians.drop_duplicates("npi").set_index("npi")
    out = pd.DataFrame(
        {
            "source_npi": out["s"].astype("string").to_numpy(),
            "competitor_npi": out["t"].astype("string").to_numpy(),
            "name": phys["name"].reindex(out["t"]).to_numpy(),
            "specialty": phys["specialty"].reindex(out["t"]).to_numpy(),
            "count": out["n"].to_numpy(),
            "share": out["share"].to_numpy(),
        }
    )
    return out.sort_values(
        ["count", "source_npi"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


# ---------------------------------------------------------------------- nurture
@dataclass
class NurturePlan:
    """Who to check in with, who to thank, and what to tell them.

    Attributes
    ----------
    check_ins
        Indexed by ``source_npi``: ``last_referral``, ``usual_gap_days``,
        ``check_in`` (date), ``status``; soonest first.
    thank_you
        Indexed by ``source_npi``: ``why`` (``"new referrer"`` or
        ``"top referrer #k"``) and ``referrals`` in the recent window.
    highlights
        Indexed by ``source_npi``: ``referred``, ``seen``, ``converted`` over
        the last year and a ``message`` to share.
    """

    check_ins: pd.DataFrame
    thank_you: pd.DataFrame
    highlights: pd.DataFrame


def nurture_plan(
    net: ReferralNetwork,
    *,
    as_of: Any = None,
    top: int = 10,
    recent: Any = "90D",
    patience: float = 1.5,
) -> NurturePlan:
    """Plan the relationship work: check-ins by cadence, thank-yous, outcome highlights.

    Parameters
    ----------
    net
        A network with events.
    as_of
        Reference date (default: the last event date).
    top
        Number of top referrers to thank.
    recent
        Window of "new" and "top" referrers.
    patience
        Check in when a source has not referred for ``patience`` times its
        usual gap.

    Returns
    -------
    NurturePlan

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2024-01-01", "2024-06-24", freq="14D")
    >>> ev = pd.DataFrame({"date": days, "source_npi": "1234567893",
    ...                    "target_npi": "1003033051", "status": "converted"})
    >>> plan = nurture_plan(ReferralNetwork.from_frames(events=ev), as_of="2024-06-30")
    >>> plan.check_ins[["last_referral", "usual_gap_days", "check_in"]]
               last_referral  usual_gap_days   check_in
    source_npi
    1234567893    2024-06-17            14.0 2024-07-08
    >>> print(plan.highlights["message"].iloc[0])
    Of the 13 patients you referred since 2023-07-02, 13 were seen and 13 converted.

    Notes
    -----
    The check-in date is the last referral plus ``patience`` x the usual gap
    (median days between referral days, or the expected gap of
    :func:`at_risk` when there is only one), and today when that is past.
    """
    top = check_int(top, "top", minimum=0)
    patience = check_float(patience, "patience", minimum=0)
    risk = at_risk(net, as_of=as_of, recent=recent, with_trend=False)
    A = risk.attrs.get("as_of") if len(risk) else pd.Timestamp(as_of or "1970-01-01")
    gap = risk["usual_gap_days"].fillna(risk["expected_gap_days"].replace(np.inf, np.nan))
    due = risk["last_referral"] + pd.to_timedelta(np.ceil(gap * patience).fillna(0), unit="D")
    due = due.where(due > A, A)
    check = pd.DataFrame(
        {
            "last_referral": risk["last_referral"],
            "usual_gap_days": gap,
            "check_in": due,
            "status": risk["status"],
        }
    )
    check = check.sort_values(["check_in", "last_referral"], kind="stable")
    new = risk[risk["status"] == "new"]
    best = risk[risk["status"] != "new"].sort_values("observed", ascending=False, kind="stable")
    best = best[best["observed"] > 0].head(top)
    thank = pd.concat(
        [
            pd.DataFrame({"why": "new referrer", "referrals": new["observed"]}),
            pd.DataFrame(
                {
                    "why": [f"top referrer #{i + 1}" for i in range(len(best))],
                    "referrals": best["observed"],
                },
                index=best.index,
            ),
        ]
    )
    thank.index.name = "source_npi"
    since = A - pd.Timedelta(days=365) + pd.Timedelta(days=1)
    r = _referrals(net)
    day0, day1 = _day(since), _day(A)
    m = (r.day >= day0) & (r.day <= day1)
    ns = len(r.sources)
    cnt = [
        np.bincount(r.src[m], weights=r.stage[m] >= s, minlength=ns).astype(np.int64)
        for s in (0, 2, 3)
    ]
    has = np.flatnonzero(cnt[0])
    hl = pd.DataFrame(
        {"referred": cnt[0][has], "seen": cnt[1][has], "converted": cnt[2][has]},
        index=pd.Index(r.sources.take(has), name="source_npi"),
    )
    hl["message"] = (
        "Of the "
        + hl["referred"].astype(str)
        + f" patients you referred since {since:%Y-%m-%d}, "
        + hl["seen"].astype(str)
        + " were seen and "
        + hl["converted"].astype(str)
        + " converted."
    )
    hl = hl.sort_values(["seen", "converted"], ascending=False, kind="stable")
    return NurturePlan(check, thank, hl)
