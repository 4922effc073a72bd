"""At-risk referral sources of :mod:`refgraph.tracking`: :func:`at_risk`, :func:`call_list`."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_int
from ..network import ReferralNetwork
from ._change import _check, _score
from ._events import _YEAR, _as_of, _days_param, _referrals
from ._trends import _ols_trends

logger = logging.getLogger("refgraph.tracking")

__all__ = ["at_risk", "call_list"]


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
    dispersion: float | str = "estimate",
    season: str = "market",
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
        Significance level of the drop, rise and silence tests, and
        ``1 - alpha`` is the level of the ratio interval.
    min_drop
        Smallest relative drop (or rise) that counts as a change.
    with_trend
        Add the monthly OLS trend columns of :func:`trends` (descriptive; the
        status does not use them).
    adjust
        Multiple-testing control across sources: ``"bh"`` (default) compares
        Benjamini-Hochberg q-values with ``alpha``; ``"none"`` compares the
        raw p-values (about ``alpha`` of unchanged sources get flagged by
        chance).
    dispersion
        Variance-to-mean ratio of a source's counts. ``"estimate"`` (default)
        pools it from the sources' weekly counts before the recent window
        (Pearson statistic over degrees of freedom, at least 1): about 1 for
        Poisson sources, so nothing changes for them, and larger for sources
        that refer in bursts, whose drop and rise tests then become
        beta-binomial (negative-binomial counts) with a wider ratio interval.
        A number fixes it (1 = Poisson). The value used is in
        ``result.attrs["dispersion"]``.
    season
        How the baseline allows for seasons: ``"market"`` (default) -- the
        source's whole history before the recent window, days weighted by a
        calendar-month index pooled over all sources; ``"own"`` -- the
        source's own same window last year (fewer referrals, less power);
        ``"none"`` -- its whole history at a flat rate.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi``, sorted by ``at_risk`` then decreasing
        ``score``:

        * ``observed`` -- referrals in the recent window;
        * ``baseline`` (``"seasonal"`` or ``"trailing"``),
          ``baseline_referrals`` and ``baseline_days`` -- what the baseline
          window saw and how long it was, ``season_factor`` (busyness of a
          recent day over a baseline day) and ``last_year`` (referrals in the
          same window last year, NaN without that history);
        * ``expected`` = baseline_referrals x recent days / baseline_days x
          season_factor;
        * ``ratio`` = observed / expected, with ``ratio_ci_low`` and
          ``ratio_ci_high`` (``1 - alpha`` exact interval): 0.3 reads
          "down 70%"; ``drop`` = max(0, 1 - ratio);
        * ``p_drop``, ``q_drop``, ``p_rise``, ``q_rise`` -- conditional tests
          of the recent count against the baseline count;
        * ``last_referral``, ``days_since``, ``expected_gap_days``,
          ``usual_gap_days`` (median gap between referral days),
          ``p_silence``, ``q_silence``;
        * ``annual_referrals`` (expected referrals a year), ``severity``,
          ``score``;
        * ``status`` (new, growing, stable, declining, lost), ``at_risk``
          (declining or lost) and, with ``with_trend``, ``slope``,
          ``slope_se``, ``slope_ci_low``, ``slope_ci_high``.

    Examples
    --------
    A source that referred every Monday for two years and went silent 64
    days ago is flagged: 4 referrals in the last 90 days where its 91
    referrals of the 639 days before predict 12.8, down 69% (exact 95%
    interval: down 17% to 92%):

    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2023-01-02", "2024-11-01", freq="7D")
    >>> ev = pd.DataFrame({"date": days, "source_npi": "1234567893",
    ...                    "target_npi": "1003033051", "status": "seen"})
    >>> net = ReferralNetwork.from_frames(events=ev)
    >>> row = at_risk(net, as_of="2024-12-31").loc["1234567893"]
    >>> int(row["observed"]), int(row["baseline_referrals"]), int(row["baseline_days"])
    (4, 91, 639)
    >>> round(float(row["expected"]), 1), round(float(row["ratio"]), 2)
    (12.8, 0.31)
    >>> round(float(row["ratio_ci_low"]), 2), round(float(row["ratio_ci_high"]), 2)
    (0.08, 0.83)
    >>> round(float(row["p_drop"]), 4), int(row["days_since"]), row["status"]
    (0.0065, 64, 'declining')

    Against its own same 90 days last year only (13 referrals), the test is
    Binomial(17, 1/2) and the interval wider:

    >>> own = at_risk(net, as_of="2024-12-31", season="own").loc["1234567893"]
    >>> float(own["expected"]), round(float(own["p_drop"]), 4), own["status"]
    (13.0, 0.0245, 'declining')

    Notes
    -----
    For a source and reference day *A* with recent window *R* days, *O* is
    its referrals in the *R* days ending on *A*. Its first referral day is
    left out of every baseline (it is what makes the source exist, not a
    sample of its rate).

    * **Baseline** (``season="market"``, default). *B* = its referrals in
      the days R .. H-1 before *A* (H = age of its first referral day, at
      most ``lookback``). Each day weighs by a calendar-month index of the
      referral rate pooled over all tested sources (referrals over
      source-days per month, outside the recent window, shrunk towards 1 by
      50 pseudo-referrals a month); the recent window's share of the
      weighted days is *w* and ``season_factor`` its weight per day over the
      baseline's. ``baseline`` says ``"seasonal"`` when the history covers
      the same window last year (first referral at least 365 + R - 1 days
      before *A*), else ``"trailing"``.
    * **Baseline** (``season="own"``): with that coverage, the referrals of
      the same window last year (``baseline_days`` = R; **seasonal**);
      otherwise a **trailing** baseline, days R..364 before *A*.
      ``season="none"``: the market baseline with every day weighing 1.
    * **Drop and rise tests.** If the daily rate did not change,
      ``O | O + B = n ~ Binomial(n, w)`` exactly (the
      conditional test for two Poisson counts [1]_), whatever the rate:
      the baseline's own noise is accounted for. ``p_drop`` = P(X <= O),
      ``p_rise`` = P(X >= O). With ``dispersion`` = :math:`\\phi > 1` the
      counts are negative binomial of type 1 and the conditional law is
      beta-binomial with shape parameters ``n w / (phi - 1)`` and
      ``n (1 - w) / (phi - 1)``.
    * **Ratio interval.** Clopper-Pearson [2]_ limits of the binomial share,
      mapped to the rate ratio (counts divided by ``dispersion``).
    * **Silence.** *d* = days since the last referral. The chance that the
      source's *N* later referral days, spread at random over its *H* days of
      history (seasonally weighted), all miss the last *d*: C(H - d, N) /
      C(H, N) (gamma functions for weighted days). With ``season="own"`` and
      a seasonal baseline instead: *K* = referral days in the same *d* days
      last year (capped at 365), ``p_silence`` = 0.5 ** K (each referral day
      of the two spans is equally likely to be this year's). Counting days,
      not referrals, keeps a burst of same-day referrals from counting as
      many.
    * **status**: ``new`` (first referral in the recent window, never
      tested); ``declining`` when (q_drop < alpha and drop >= min_drop) or
      q_silence < alpha, ``lost`` when that holds and O = 0; ``growing``
      when q_rise < alpha and O >= (1 + min_drop) E; else ``stable``. With
      the market or no season and a history covering the same window last
      year (``last_year`` referrals), a drop also needs O <= (1 - min_drop)
      x last_year, a rise O >= (1 + min_drop) x last_year and a silence one
      referral day in the same span last year: a source with a season of
      its own is not flagged for it (these conditions only remove flags).
      :func:`trends` and :func:`plot_trends` show the same status.
    * **score** = severity x annual_referrals, with severity = max(drop,
      1 - expected_gap / days_since), expected_gap = R / E and
      annual_referrals = 365 E / R.

    With ``adjust="bh"`` the drop and silence p-values of all tested sources
    form one Benjamini-Hochberg [3]_ family (either test flags a source) and
    the rise p-values another. In simulations of 50 unchanged Poisson sources
    (``docs/tracking.md``, ``benchmarks/at_risk_calibration.py``) the share of
    runs with any flag stays below ``alpha``; the exact tests are
    conservative for small counts.

    Over-dispersed sources (referrals in bursts) would get p-values that are
    too small under a Poisson model (``dispersion=1``); the default estimate
    widens the tests for them (one pooled value for all sources).
    A steady trend over years (growth or decline) is not removed: the
    baseline is the source's average level over the lookback. The market
    index assumes the sources share one calendar shape.

    References
    ----------
    .. [1] Przyborowski, J., & Wilenski, H. (1940). Homogeneity of results
       in testing samples from Poisson series. *Biometrika* 31, 313-323.
    .. [2] Clopper, C. J., & Pearson, E. S. (1934). The use of confidence or
       fiducial limits illustrated in the case of the binomial.
       *Biometrika* 26, 404-413.
    .. [3] Benjamini, Y., & Hochberg, Y. (1995). Controlling the false
       discovery rate. *J R Stat Soc B* 57, 289-300.
    """
    R = _days_param(recent, "recent")
    L = _days_param(lookback, "lookback")
    if R >= _YEAR:
        raise ValidationError(f"recent: expected less than 365 days, got {recent!r}")
    if L <= R:
        raise ValidationError(
            f"lookback: expected a duration longer than recent ({R} days), got {lookback!r}"
        )
    _check(alpha, min_drop, adjust, dispersion)
    r = _referrals(net, targets=False)
    A = _as_of(r, as_of)
    sc = _score(
        r,
        A,
        R,
        L,
        alpha=alpha,
        min_drop=min_drop,
        adjust=adjust,
        dispersion=dispersion,
        season=season,
    )
    ns = len(r.sources)
    gaps = np.diff(sc.d_sorted)
    gmask = (sc.s_sorted[1:] == sc.s_sorted[:-1]) & (gaps > 0)
    gap_df = pd.DataFrame({"s": sc.s_sorted[1:][gmask], "g": gaps[gmask]})
    usual = gap_df.groupby("s", sort=True)["g"].median().reindex(range(ns)).to_numpy()
    days_since = (A - sc.last_day).astype(np.float64)
    lam = sc.expected / R
    with np.errstate(divide="ignore", invalid="ignore"):
        exp_gap = np.where(lam > 0, 1 / lam, np.inf)
        silence = np.where(days_since > 0, np.clip(1 - exp_gap / days_since, 0, 1), 0.0)
    annual = sc.expected * _YEAR / R
    severity = np.where(sc.new, 0.0, np.maximum(sc.drop, silence))
    idx = np.flatnonzero(sc.active)
    out = pd.DataFrame(
        {
            "observed": sc.obs[idx].astype(np.int64),
            "expected": sc.expected[idx],
            "baseline": np.where(sc.seasonal[idx], "seasonal", "trailing"),
            "baseline_referrals": sc.base[idx].astype(np.int64),
            "baseline_days": sc.base_days[idx].astype(np.int64),
            "season_factor": sc.season_factor[idx],
            "last_year": sc.last_year[idx],
            "ratio": sc.ratio[idx],
            "ratio_ci_low": sc.ci_low[idx],
            "ratio_ci_high": sc.ci_high[idx],
            "drop": sc.drop[idx],
            "p_drop": sc.p_drop[idx],
            "q_drop": sc.q_drop[idx],
            "p_rise": sc.p_rise[idx],
            "q_rise": sc.q_rise[idx],
            "last_referral": sc.last_day[idx].astype("datetime64[D]").astype("datetime64[ns]"),
            "days_since": days_since[idx].astype(np.int64),
            "expected_gap_days": exp_gap[idx],
            "usual_gap_days": usual[idx],
            "p_silence": sc.p_silence[idx],
            "q_silence": sc.q_silence[idx],
            "annual_referrals": annual[idx],
            "severity": severity[idx],
            "score": severity[idx] * annual[idx],
            "status": sc.status[idx],
            "at_risk": sc.at_risk[idx],
        },
        index=pd.Index(r.sources.take(idx), name="source_npi"),
    )
    if with_trend:
        tr = _ols_trends(r, A, "M", 12, alpha).reindex(out.index)
        out["slope"] = tr["slope"]
        out["slope_se"] = tr["se"]
        out["slope_ci_low"] = tr["ci_low"]
        out["slope_ci_high"] = tr["ci_high"]
    out = out.sort_values(["at_risk", "score"], ascending=[False, False], kind="stable")
    out.attrs["as_of"] = pd.Timestamp(np.datetime64(A, "D"))
    out.attrs["rejected"] = r.rejected
    out.attrs["dispersion"] = sc.dispersion
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
    4 referrals in the last 90 days vs 12.8 expected (-69%);
    no referral for 64 days (usually one every 7 days)
    """
    n = check_int(n, "n", minimum=1)
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
