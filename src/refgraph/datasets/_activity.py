"""Internals of the synthetic generator: referral events and outreach touchpoints.

Used by :func:`refgraph.datasets.synthetic_tables` (``events=True``, ``touchpoints=True``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..model import EVENT_STATUSES
from ._base import _SpecialtyModel
from ._synthetic import _choice_rows, _decline_profile, _row_cdf, _zero_pad

# Monthly seasonality of referrals (January..December): summer and December dips.
_SEASON = np.array([1.05, 1.05, 1.08, 1.02, 1.00, 0.95, 0.86, 0.90, 1.00, 1.05, 0.98, 0.84])

_TOUCHPOINT_KINDS = ("visit", "letter", "call", "event", "email")
_TOUCHPOINT_P = np.array([0.35, 0.10, 0.20, 0.10, 0.25])
_TOUCHPOINT_NOTES: dict[str, tuple[str, ...]] = {
    "visit": (
        "Synthetic: office visit with physician and staff",
        "Synthetic: lunch-and-learn at the practice",
        "Synthetic: dropped off referral pads and clinic brochure",
    ),
    "letter": (
        "Synthetic: letter announcing a new clinic location",
        "Synthetic: thank-you letter for recent referrals",
    ),
    "call": (
        "Synthetic: call with practice manager about scheduling",
        "Synthetic: follow-up call after a referred patient was seen",
    ),
    "event": (
        "Synthetic: invited to CME dinner",
        "Synthetic: met at regional grand rounds",
    ),
    "email": (
        "Synthetic: newsletter email",
        "Synthetic: email with new-service information",
    ),
}


def _business_days(
    start: np.datetime64, end: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Business days of the period, the period-month of each, first index and count per month."""
    days = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    bdays = days[np.is_busday(days)]
    if bdays.size == 0:
        bdays = days
    ym = bdays.astype("datetime64[M]").astype(np.int64)
    month = ym - start.astype("datetime64[M]").astype(np.int64)
    n_months = int(end.astype("datetime64[M]").astype(np.int64) - ym.min() + 1)
    first = np.searchsorted(month, np.arange(n_months))
    per_month = np.bincount(month, minlength=n_months)
    return bdays, month, first, per_month


def _make_events(
    rng: np.random.Generator,
    flows: dict[str, np.ndarray],
    phys: dict[str, np.ndarray],
    prac_sys: np.ndarray,
    period_start: np.datetime64,
    period_end: np.datetime64,
    npi_arr: Any,
) -> pd.DataFrame:
    bdays, _, first, per_month = _business_days(period_start, period_end)
    n_months = per_month.size
    cal_month = (period_start.astype("datetime64[M]").astype(np.int64) + np.arange(n_months)) % 12
    season = _SEASON[cal_month] * (per_month > 0)
    # Monthly profiles: row 0 steady, row 1 declining, row 2 + s stopping at month s.
    profiles = np.vstack(
        [
            season,
            season * _decline_profile(n_months),
            season * (np.arange(n_months)[None, :] < np.arange(n_months + 1)[:, None]),
        ]
    )
    profiles[2] = season  # a stop at month 0 never happens; keep the row valid
    cdf = _row_cdf(profiles)
    count = flows["count"]
    e_flow = np.repeat(np.arange(count.size), count)
    e_src, e_tgt = flows["src"][e_flow], flows["tgt"][e_flow]
    trend, stop = phys["trend"][e_src], phys["stop"][e_src]
    row = np.where(trend == 0, 0, np.where(trend == 1, 1, 2 + np.minimum(stop, n_months)))
    month = _choice_rows(rng, cdf, row)
    day_idx = first[month] + np.floor(rng.random(month.size) * per_month[month]).astype(np.int64)
    day_idx = np.minimum(day_idx, bdays.size - 1)
    dates = bdays[day_idx]
    # Funnel: referred -> scheduled -> seen -> converted; recent referrals lag behind.
    days_left = (period_end - dates).astype(np.int64)
    ss = prac_sys[phys["practice"][e_src]]
    same_sys = (ss >= 0) & (ss == prac_sys[phys["practice"][e_tgt]])
    u = rng.random((3, dates.size))
    scheduled = (u[0] < 0.74 + 0.12 * same_sys) & (days_left >= 2)
    seen = scheduled & (u[1] < 0.86) & (days_left >= 14)
    converted = seen & (u[2] < 0.40) & (days_left >= 30)
    stage = scheduled.astype(np.int64) + seen + converted
    order = np.lexsort((e_tgt, e_src, dates))
    statuses = pd.array(list(EVENT_STATUSES), dtype="string")
    events = pd.DataFrame(
        {
            "date": dates[order].astype("datetime64[ns]"),
            "source_npi": npi_arr.take(e_src[order]),
            "target_npi": npi_arr.take(e_tgt[order]),
            "status": statuses.take(stage[order]),
            "referral_id": np.arange(1, dates.size + 1, dtype=np.int64),
        }
    )
    return events


def _make_touchpoints(
    rng: np.random.Generator,
    phys: dict[str, np.ndarray],
    model: _SpecialtyModel,
    period_start: np.datetime64,
    period_end: np.datetime64,
    npi_arr: Any,
) -> pd.DataFrame:
    eligible = np.flatnonzero(model.intensity[phys["spec"]] >= 0.4)
    if eligible.size == 0:
        eligible = np.arange(phys["spec"].size)
    n_targets = max(1, round(0.1 * eligible.size))
    w = np.sqrt(phys["volume"][eligible]) + 1e-9
    who = rng.choice(eligible, size=n_targets, replace=False, p=w / w.sum())
    n_months = int(
        period_end.astype("datetime64[M]").astype(np.int64)
        - period_start.astype("datetime64[M]").astype(np.int64)
        + 1
    )
    per = 1 + rng.poisson(1.5 * n_months / 12.0, who.size)
    npi_idx = np.repeat(who, per)
    bdays, *_ = _business_days(period_start, period_end)
    dates = bdays[rng.integers(0, bdays.size, npi_idx.size)]
    kind_idx = rng.choice(len(_TOUCHPOINT_KINDS), size=npi_idx.size, p=_TOUCHPOINT_P)
    kinds = np.array(_TOUCHPOINT_KINDS, dtype=object)[kind_idx]
    notes = np.empty(npi_idx.size, dtype=object)
    for i, kname in enumerate(_TOUCHPOINT_KINDS):
        sel = np.flatnonzero(kind_idx == i)
        options = np.array(_TOUCHPOINT_NOTES[kname], dtype=object)
        notes[sel] = options[rng.integers(0, options.size, sel.size)]
    n_reps = max(1, n_targets // 150)
    rep_of = rng.integers(0, n_reps, who.size)
    rep = np.repeat(rep_of, per)
    order = np.lexsort((npi_idx, dates))
    return pd.DataFrame(
        {
            "date": dates[order].astype("datetime64[ns]"),
            "npi": npi_arr.take(npi_idx[order]),
            "kind": pd.array(kinds[order], dtype="string"),
            "notes": pd.array(notes[order], dtype="string"),
            "rep": "Synthetic Liaison " + _zero_pad(rep[order] + 1, 2),
        }
    )
