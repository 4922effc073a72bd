"""At-risk referral sources of :mod:`refgraph.tracking`: :func:`at_risk`, :func:`call_list`."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import ValidationError
from ..network import ReferralNetwork
from ._events import _YEAR, _as_of, _days_param, _referrals
from ._trends import _trends

logger = logging.getLogger("refgraph.tracking")

__all__ = ["at_risk", "call_list"]


def _sorted_days(
    src: np.ndarray, age: np.ndarray, A: int, L: int, ns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (source, referral day) pairs sorted by source then day.

    A presence matrix (sources x days of the lookback) yields them in order for the
    price of one pass when it is small enough; otherwise a sort of combined keys.
    """
    if ns * L <= 250_000_000:
        seen = np.zeros(ns * L, dtype=np.bool_)
        seen[src * L + (L - 1 - age)] = True
        s, d = np.divmod(np.flatnonzero(seen), L)
        return s, A - (L - 1 - d)
    key = np.unique(src * L + (L - 1 - age))
    s, d = np.divmod(key, L)
    return s, A - (L - 1 - d)


def _bh(p: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values of ``p`` over the entries in ``mask`` (1.0 elsewhere)."""
    q = np.ones(len(p), dtype=np.float64)
    idx = np.flatnonzero(mask & ~np.isnan(p))
    m = len(idx)
    if m:
        order = np.argsort(p[idx], kind="stable")
        ranked = p[idx][order] * m / np.arange(1, m + 1)
        ranked = np.minimum.accumulate(ranked[::-1])[::-1]
        q[idx[order]] = np.minimum(ranked, 1.0)
    return q


def at_risk(
    net: ReferralNetwork,
    *,
    as_of: Any = None,
    recent: Any = "90D",
    lookback: Any = "730D",
    alpha: float = 0.05,
    min_drop: float = 0.3,
    with_trend: bool = True,
    adjust: str = "bh",
) -> pd.DataFrame:
    """Score every active referral source for the risk of losing it.

    Parameters
    ----------
    net
        A network with events.
    as_of
        Reference date (default: the last event date).
    recent
        Length of the recent window compared with the source's history.
    lookback
        History used (sources without a referral in it are not scored). Two
        years lets the same season of last year serve as the baseline.
    alpha
        Significance level of the drop, rise and silence tests.
    min_drop
        Smallest relative drop (or rise) that counts as a change.
    with_trend
        Add the monthly OLS trend columns of :func:`trends`.
    adjust
        Multiple-testing control across sources: ``"bh"`` (default) compares
        Benjamini-Hochberg q-values with ``alpha`` (false discovery rate
        ``alpha`` among the flagged sources of each test); ``"none"``
        compares the raw p-values (about ``alpha`` of unchanged sources get
        flagged by chance).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi``, sorted by decreasing ``score``:
        ``observed`` (referrals in the recent window), ``expected``,
        ``baseline`` (``"seasonal"`` or ``"trailing"``), ``drop``,
        ``p_drop``, ``last_referral``, ``days_since``, ``expected_gap_days``,
        ``usual_gap_days`` (median inter-referral gap), ``p_silence``,
        ``annual_referrals`` (value: expected referrals per year),
        ``severity``, ``score``, ``status`` (new, growing, stable, declining,
        lost), ``at_risk`` and, with ``with_trend``, ``slope``, ``slope_se``,
        ``slope_ci_low``, ``slope_ci_high``.

    Examples
    --------
    A source that referred every week for two years and went silent 64 days
    ago is flagged:

    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2023-01-02", "2024-11-01", freq="7D")
    >>> ev = pd.DataFrame({"date": days, "source_npi": "1234567893",
    ...                    "target_npi": "1003033051", "status": "seen"})
    >>> r = at_risk(ReferralNetwork.from_frames(events=ev), as_of="2024-12-31")
    >>> row = r.loc["1234567893"]
    >>> int(row["observed"]), round(float(row["expected"]), 1), int(row["days_since"])
    (4, 12.7, 64)
    >>> row["status"]
    'declining'

    Notes
    -----
    For a source and reference day *A* with recent window *R* days:

    * **observed** *O*: its referrals in the *R* days ending on *A*.
    * **expected** *E*: when its history covers the same window one year
      earlier (first referral at least 365 + R - 1 days before *A*), the
      referrals of that window times the year-over-year level ratio *g*
      (referrals of days R..364 before *A* over the same days a year
      earlier, clipped to [0.5, 2], 1 when the earlier year is not covered):
      a **seasonal** baseline, so a dip the source also had last year is
      expected. Otherwise a **trailing** rate: referrals of days R..364 before
      *A* scaled to *R* days over the part of that span its history covers.
    * **drop** = max(0, 1 - O/E); **p_drop** = P(X <= O) for X ~ Poisson(E),
      the chance of so few referrals if nothing changed.
    * **cadence**: with the expected daily rate :math:`\\lambda = E/R`, the
      expected gap is :math:`1/\\lambda` and **p_silence** =
      :math:`e^{-\\lambda d}` is the chance of no referral in the *d* days since
      the last one (Poisson process); ``usual_gap_days`` is the median gap
      between its referral days in the lookback, for reference.
    * **status**: ``new`` (first referral in the recent window), ``lost``
      (O = 0 and p_silence < alpha), ``declining`` (p_drop < alpha and
      drop >= min_drop, or p_silence < alpha), ``growing`` (P(X >= O) < alpha
      and O >= (1 + min_drop) E), else ``stable``; ``at_risk`` means declining
      or lost.
    * **score** = severity x annual_referrals, with severity = max(drop,
      1 - expected_gap / days_since) and annual_referrals = 365 E / R: the
      referrals a year at stake, weighted by how clearly they are slipping.

    With ``adjust="bh"`` the drop, silence and rise tests each compare
    Benjamini-Hochberg q-values (columns ``q_drop``, ``q_silence``) with
    ``alpha`` instead of the raw p-values: testing thousands of sources at
    ``alpha = 0.05`` would otherwise flag about 5% of unchanged sources by
    chance alone.

    The Poisson model ignores over-dispersion (bursty sources), so p-values
    are optimistic for them; the seasonal baseline rests on one year and is
    noisy for small counts.

    References: Benjamini Y, Hochberg Y. Controlling the false discovery
    rate. J R Stat Soc B 1995;57:289-300.

    References
    ----------
    .. [1] Hyndman, R. J., & Athanasopoulos, G. (2021). *Forecasting:
       Principles and Practice*, 3rd ed., sec. 5.2 (seasonal naive method).
       OTexts.
    """
    R = _days_param(recent, "recent")
    L = _days_param(lookback, "lookback")
    if R >= _YEAR:
        raise ValidationError(f"recent: expected less than 365 days, got {recent!r}")
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha: expected a number in (0, 1), got {alpha!r}")
    r = _referrals(net, targets=False)
    A = _as_of(r, as_of)
    age = A - r.day
    inwin = (age >= 0) & (age < L)
    src, age = r.src[inwin], age[inwin]
    ns = len(r.sources)

    # one pass over the events: window of each referral, counts per (source, window)
    edges = np.array([0, R, _YEAR, _YEAR + R, 2 * _YEAR])
    win = np.searchsorted(edges, age, side="right") - 1  # 0..4 (4 = older than 2 years)
    wc = np.bincount(src * 5 + win, minlength=ns * 5).reshape(ns, 5).astype(np.float64)
    obs, trailing, same_ly, prior_ly = wc[:, 0], wc[:, 1], wc[:, 2], wc[:, 3]
    # first referral ever (up to A), last referral, inter-referral gaps in the lookback
    hist = r.day <= A
    first_day = np.full(ns, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_day, r.src[hist], r.day[hist])
    active = wc[:, :4].sum(axis=1) + wc[:, 4] > 0
    age_first = A - first_day
    s_sorted, d_sorted = _sorted_days(src, age, A, L, ns)
    last_day = np.full(ns, -1, dtype=np.int64)
    if s_sorted.size:
        ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
        last_day[s_sorted[ends]] = d_sorted[ends]
    gaps = np.diff(d_sorted)
    same = s_sorted[1:] == s_sorted[:-1]
    gmask = same & (gaps > 0)
    gap_df = pd.DataFrame({"s": s_sorted[1:][gmask], "g": gaps[gmask]})
    usual = gap_df.groupby("s", sort=True)["g"].median().reindex(range(ns)).to_numpy()

    covered = age_first >= _YEAR + R - 1
    covered2 = age_first >= 2 * _YEAR - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(covered2 & (prior_ly > 0), trailing / prior_ly, 1.0)
    g = np.clip(g, 0.5, 2.0)
    span = np.minimum(_YEAR, age_first + 1) - R
    with np.errstate(divide="ignore", invalid="ignore"):
        trail_exp = np.where(span > 0, trailing * R / np.maximum(span, 1), 0.0)
    expected = np.where(covered, same_ly * g, trail_exp)
    days_since = (A - last_day).astype(np.float64)
    lam = expected / R
    p_silence = np.exp(-lam * days_since)
    p_drop = stats.poisson.cdf(obs, expected)
    p_rise = np.where(obs > 0, stats.poisson.sf(obs - 1, expected), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.where(expected > 0, np.clip(1 - obs / expected, 0, 1), 0.0)
        exp_gap = np.where(lam > 0, 1 / lam, np.inf)
        silence = np.where(days_since > 0, np.clip(1 - exp_gap / days_since, 0, 1), 0.0)
    new = age_first < R
    if adjust not in ("bh", "none"):
        raise ValidationError(f"adjust: expected 'bh' or 'none', got {adjust!r}")
    tested = active & ~new
    if adjust == "bh":
        q_drop, q_silence, q_rise = (_bh(p, tested) for p in (p_drop, p_silence, p_rise))
    else:
        q_drop, q_silence, q_rise = p_drop, p_silence, p_rise
    lost = (obs == 0) & (q_silence < alpha) & ~new
    declining = ~new & ~lost & (((q_drop < alpha) & (drop >= min_drop)) | (q_silence < alpha))
    growing = ~new & (q_rise < alpha) & (obs >= (1 + min_drop) * expected)
    status = np.select(
        [new, lost, declining, growing], ["new", "lost", "declining", "growing"], "stable"
    )
    annual = expected * _YEAR / R
    severity = np.where(new, 0.0, np.maximum(drop, silence))
    idx = np.flatnonzero(active)
    out = pd.DataFrame(
        {
            "observed": obs[idx].astype(np.int64),
            "expected": expected[idx],
            "baseline": np.where(covered[idx], "seasonal", "trailing"),
            "drop": drop[idx],
            "p_drop": p_drop[idx],
            "q_drop": q_drop[idx],
            "last_referral": last_day[idx].astype("datetime64[D]").astype("datetime64[ns]"),
            "days_since": days_since[idx].astype(np.int64),
            "expected_gap_days": exp_gap[idx],
            "usual_gap_days": usual[idx],
            "p_silence": p_silence[idx],
            "q_silence": q_silence[idx],
            "annual_referrals": annual[idx],
            "severity": severity[idx],
            "score": severity[idx] * annual[idx],
            "status": status[idx],
            "at_risk": lost[idx] | declining[idx],
        },
        index=pd.Index(r.sources.take(idx), name="source_npi"),
    )
    if with_trend:
        tr = _trends(r, A, "M", 12, alpha).reindex(out.index)
        out["slope"] = tr["slope"]
        out["slope_se"] = tr["se"]
        out["slope_ci_low"] = tr["ci_low"]
        out["slope_ci_high"] = tr["ci_high"]
    out = out.sort_values(["at_risk", "score"], ascending=[False, False], kind="stable")
    out.attrs["as_of"] = pd.Timestamp(np.datetime64(A, "D"))
    out.attrs["rejected"] = r.rejected
    n_flag = int(out["at_risk"].sum())
    logger.info(
        "at_risk: %d of %d active sources flagged as of %s",
        n_flag,
        len(out),
        out.attrs["as_of"].date(),
    )
    return out


def call_list(
    net: ReferralNetwork,
    *,
    as_of: Any = None,
    n: int = 20,
    **kwargs: Any,
) -> pd.DataFrame:
    """The at-risk sources to call this week, most referrals at stake first.

    Parameters
    ----------
    net
        A network with events (and physicians for names and practices).
    as_of
        Reference date (default: the last event date).
    n
        Length of the list.
    **kwargs
        Passed to :func:`at_risk` (``recent``, ``alpha``, ``min_drop`` ...).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi``: ``rank``, ``name``, ``practice_id``,
        ``status``, ``score``, ``annual_referrals``, ``observed``,
        ``expected``, ``days_since`` and a plain-language ``reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2023-01-02", "2024-11-01", freq="7D")
    >>> ev = pd.DataFrame({"date": days, "source_npi": "1234567893",
    ...                    "target_npi": "1003033051", "status": "seen"})
    >>> cl = call_list(ReferralNetwork.from_frames(events=ev), as_of="2024-12-31")
    >>> print(cl["reason"].iloc[0])  # doctest: +NORMALIZE_WHITESPACE
    4 referrals in the last 90 days vs 12.7 expected (-68%);
    no referral for 64 days (usually one every 7 days)
    """
    risk = at_risk(net, as_of=as_of, with_trend=False, **kwargs)
    top = risk[risk["at_risk"]].head(n)
    phys = net.physicians.drop_duplicates("npi").set_index("npi")
    out = pd.DataFrame(index=top.index)
    out["rank"] = np.arange(1, len(top) + 1)
    out["name"] = phys["name"].reindex(top.index).to_numpy()
    out["practice_id"] = phys["practice_id"].reindex(top.index).to_numpy()
    for c in ("status", "score", "annual_referrals", "observed", "expected", "days_since"):
        out[c] = top[c]
    R = _days_param(kwargs.get("recent", "90D"), "recent")
    pct = (-top["drop"] * 100).round().astype(np.int64).astype(str)
    gap = top["usual_gap_days"].round().astype("Int64").astype("string").fillna("?")
    part1 = (
        top["observed"].astype(str)
        + f" referrals in the last {R} days vs "
        + top["expected"].round(1).astype(str)
        + " expected ("
        + pct
        + "%)"
    )
    part2 = (
        "no referral for "
        + top["days_since"].astype(str)
        + " days (usually one every "
        + gap
        + " days)"
    )
    out["reason"] = (part1 + "; " + part2).astype("string")
    out.attrs = dict(risk.attrs)
    return out
