"""Trends and alerts of :mod:`refgraph.tracking`: slopes, at-risk scores, structural alerts."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import ValidationError
from ..network import ReferralNetwork
from ._events import (
    _day,
    _freq,
    _home_npis,
    _period_codes,
    _period_start,
    _Referrals,
    _referrals,
)

logger = logging.getLogger("refgraph.tracking")

__all__ = ["at_risk", "call_list", "structural_alerts", "trends"]

_YEAR = 365


def _as_of(r: _Referrals, as_of: Any) -> int:
    if as_of is None:
        if not len(r):
            raise ValidationError("as_of: the network has no events; give a date")
        return int(r.day.max())
    return _day(as_of)


def _days_param(value: Any, name: str) -> int:
    try:
        d = pd.Timedelta(value).days if not isinstance(value, (int, np.integer)) else int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name}: expected a duration like '90D', got {value!r}") from exc
    if d <= 0:
        raise ValidationError(f"{name}: expected a positive duration, got {value!r}")
    return d


def _ols_rows(y: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """Row-wise OLS of y (n, P) on t = 0..P-1: slope, standard error, CI."""
    p = y.shape[1]
    t = np.arange(p, dtype=np.float64)
    tc = t - t.mean()
    sxx = float((tc**2).sum())
    mean = y.mean(axis=1)
    slope = (y @ tc) / sxx
    resid = y - mean[:, None] - slope[:, None] * tc[None, :]
    dof = p - 2
    s2 = (resid**2).sum(axis=1) / dof
    se = np.sqrt(s2 / sxx)
    q = float(stats.t.ppf(1 - alpha / 2, dof))
    return {
        "mean": mean,
        "slope": slope,
        "se": se,
        "ci_low": slope - q * se,
        "ci_high": slope + q * se,
    }


def trends(
    net: ReferralNetwork,
    *,
    as_of: Any = None,
    freq: str = "M",
    periods: int = 12,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Per-source linear trend of referral counts over the last complete periods.

    Parameters
    ----------
    net
        A network with events.
    as_of
        Reference date (default: the last event date). The window is the
        ``periods`` complete buckets ending on or before it.
    freq
        Bucket length (``"W"``, ``"M"``, ``"Q"``).
    periods
        Number of buckets in the window (at least 3).
    alpha
        1 - confidence level of the slope interval.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi`` (sources with a referral in the window):
        ``mean`` referrals per bucket, ``slope`` (referrals per bucket per
        bucket), ``se``, ``ci_low``, ``ci_high``, ``rel_slope`` (slope /
        mean) and ``trend`` -- ``"growing"`` when the interval lies above 0,
        ``"declining"`` when below, else ``"flat"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2024-01-01", periods=6, freq="MS")
    >>> ev = pd.DataFrame({"date": days.repeat([1, 2, 3, 4, 5, 6]),
    ...                    "source_npi": "1234567893", "target_npi": "1003033051",
    ...                    "status": "referred"})
    >>> t = trends(ReferralNetwork.from_frames(events=ev), as_of="2024-06-30", periods=6)
    >>> t[["mean", "slope", "se", "trend"]]
                mean  slope   se    trend
    source_npi
    1234567893   3.5    1.0  0.0  growing

    Notes
    -----
    Ordinary least squares of the count of bucket *t* on *t* (0 .. P-1),
    fitted source by source in one vectorised pass: slope
    :math:`b = \\sum (t-\\bar t)(y_t-\\bar y) / \\sum (t-\\bar t)^2`, standard
    error :math:`\\sqrt{s^2 / \\sum (t-\\bar t)^2}` with residual variance
    :math:`s^2` on P-2 degrees of freedom, and a Student-t interval. Counts are
    not seasonally adjusted here (:func:`at_risk` is); a source with a
    seasonal dip at the end of the window shows a negative slope.

    References
    ----------
    .. [1] Wooldridge, J. M. (2019). *Introductory Econometrics: A Modern
       Approach*, 7th ed., ch. 2 and 4. Cengage.
    """
    f = _freq(freq)
    if not isinstance(periods, (int, np.integer)) or periods < 3:
        raise ValidationError(f"periods: expected an integer >= 3, got {periods!r}")
    r = _referrals(net, targets=False)
    return _trends(r, _as_of(r, as_of), f, periods, alpha)


def _trends(r: _Referrals, a: int, f: str, periods: int, alpha: float) -> pd.DataFrame:
    last = int(_period_codes(np.array([a + 1]), f)[0]) - 1
    first = last - periods + 1
    p = _period_codes(r.day, f)
    keep = (p >= first) & (p <= last)
    src = r.src[keep]
    if src.size == 0:
        cols = ["mean", "slope", "se", "ci_low", "ci_high", "rel_slope", "trend"]
        return pd.DataFrame(columns=cols, index=pd.Index([], name="source_npi", dtype="string"))
    ns = len(r.sources)
    y = np.bincount(src * periods + (p[keep] - first), minlength=ns * periods)
    y = y.reshape(ns, periods)
    uniq = np.flatnonzero(y.sum(axis=1) > 0)
    res = _ols_rows(y[uniq].astype(np.float64), alpha)
    out = pd.DataFrame(res, index=pd.Index(r.sources.take(uniq), name="source_npi"))
    out["rel_slope"] = out["slope"] / out["mean"]
    out["trend"] = np.where(
        out["ci_low"] > 0, "growing", np.where(out["ci_high"] < 0, "declining", "flat")
    )
    out.attrs["window"] = (
        pd.Timestamp(_period_start(np.array([first]), f)[0]),
        pd.Timestamp(np.datetime64(a, "D")),
    )
    return out


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


def structural_alerts(
    net: ReferralNetwork,
    *,
    as_of: Any = None,
    home: Any = None,
    recent: Any = "90D",
    bridge_quantile: float = 0.9,
    min_share_drop: float = 0.2,
    seed: int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Alerts about the shape of the network: lost bridges and communities that moved.

    Parameters
    ----------
    net
        A network with events.
    as_of
        Reference date (default: the last event date).
    home
        My NPIs or practice id; needed for community alerts (skipped without).
    recent
        Recent window (as in :func:`at_risk`); the baseline is the year before it.
    bridge_quantile
        A source is a bridge when it is an articulation point of the
        baseline referral graph or its betweenness is at or above this
        quantile (among nodes with positive betweenness).
    min_share_drop
        A community alert needs its share of in-specialty referrals reaching
        ``home`` to fall by at least this much (absolute).
    seed
        Seed of the community detection (and betweenness sampling on large graphs).
    **kwargs
        Passed to :func:`at_risk`.

    Returns
    -------
    pandas.DataFrame
        One row per alert: ``alert`` (``"bridge_stopped"`` or
        ``"community_moved"``), ``npi`` (the bridge or the community's
        largest source), ``community``, ``members``, ``share_before``,
        ``share_now``, ``top_competitor`` and a ``detail`` sentence.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> structural_alerts(ReferralNetwork.from_frames()).empty
    True

    Notes
    -----
    The baseline graph is the undirected graph of referral pairs of the year
    before the recent window, weighted by referrals. Bridges are its
    articulation points (removing one disconnects the graph) and the nodes of
    highest betweenness centrality [1]_ (Brandes' algorithm in networkx,
    sampled with k = 500 pivots above 5,000 nodes). A bridge stopped referring
    when :func:`at_risk` classifies it as declining or lost. Communities are
    Louvain communities [2]_ of the same graph; a community *moved* when the
    share of its sources' referrals to ``home`` and its competitors (same or
    competing specialty, :func:`refgraph.specialties.competing`) that reach
    ``home`` fell by ``min_share_drop`` between the baseline and the recent
    window. This needs events that include referrals to competitors (e.g.
    claims-derived events); a CRM log of my own referrals alone cannot show it.

    References
    ----------
    .. [1] Brandes, U. (2001). A faster algorithm for betweenness centrality.
       *Journal of Mathematical Sociology*, 25(2), 163-177.
    .. [2] Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E.
       (2008). Fast unfolding of communities in large networks. *J. Stat.
       Mech.*, P10008.
    """
    import networkx as nx

    cols = [
        "alert",
        "npi",
        "community",
        "members",
        "share_before",
        "share_now",
        "top_competitor",
        "detail",
    ]
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    r = _referrals(net)
    if not len(r):
        return empty
    A = _as_of(r, as_of)
    R = _days_param(recent, "recent")
    age = A - r.day
    base = (age >= R) & (age < _YEAR + R)
    now = (age >= 0) & (age < R)
    s_npi = r.sources.take(r.src).to_numpy(dtype=object)
    t_npi = r.targets.take(r.tgt).to_numpy(dtype=object)
    pairs = pd.DataFrame({"s": s_npi[base], "t": t_npi[base]}).value_counts().reset_index()
    G = nx.Graph()
    G.add_weighted_edges_from(zip(pairs["s"], pairs["t"], pairs["count"].astype(float)))
    rows: list[dict[str, Any]] = []
    if G.number_of_nodes() > 2:
        k = 500 if G.number_of_nodes() > 5000 else None
        bc = pd.Series(nx.betweenness_centrality(G, k=k, seed=seed))
        pos = bc[bc > 0]
        cut = pos.quantile(bridge_quantile) if len(pos) else np.inf
        bridges = set(nx.articulation_points(G)) | set(pos[pos >= cut].index)
        risk = at_risk(
            net,
            as_of=pd.Timestamp(np.datetime64(A, "D")),
            recent=recent,
            with_trend=False,
            **kwargs,
        )
        hit = risk[risk["at_risk"] & risk.index.isin(list(bridges))]
        for npi, row in hit.iterrows():
            rows.append(
                {
                    "alert": "bridge_stopped",
                    "npi": npi,
                    "community": None,
                    "members": None,
                    "share_before": None,
                    "share_now": None,
                    "top_competitor": None,
                    "detail": f"bridge physician (betweenness {bc.get(npi, 0.0):.3f}) is "
                    f"{row['status']}: {row['observed']} referrals in {R} days vs "
                    f"{row['expected']:.1f} expected",
                }
            )
    if home is not None and G.number_of_nodes() > 1:
        rows.extend(_community_moves(net, G, r, home, base, now, min_share_drop, seed))
    return pd.DataFrame(rows, columns=cols) if rows else empty


def _community_moves(
    net: ReferralNetwork,
    G: Any,
    r: _Referrals,
    home: Any,
    base: np.ndarray,
    now: np.ndarray,
    min_share_drop: float,
    seed: int,
) -> list[dict[str, Any]]:
    import networkx as nx

    from ._funnel import _competitor_npis

    mine = _home_npis(net, home)
    rivals = _competitor_npis(net, mine)
    comms = nx.community.louvain_communities(G, weight="weight", seed=seed)
    label = {n: i for i, c in enumerate(comms) for n in c}
    s_npi = pd.Series(r.sources.take(r.src).to_numpy(dtype=object))
    t_npi = pd.Series(r.targets.take(r.tgt).to_numpy(dtype=object))
    to_me = t_npi.isin(mine).to_numpy(dtype=bool)
    to_rival = t_npi.isin(rivals).to_numpy(dtype=bool) & ~to_me
    comm = s_npi.map(label).to_numpy(dtype=np.float64, na_value=np.nan)
    df = pd.DataFrame(
        {
            "c": comm,
            "me": to_me,
            "rival": to_rival,
            "base": base,
            "now": now,
            "t": t_npi,
            "s": s_npi,
        }
    )
    df = df[(df["me"] | df["rival"]) & df["c"].notna()]
    out: list[dict[str, Any]] = []
    for win in ("base", "now"):
        df[f"me_{win}"] = df["me"] & df[win]
        df[f"all_{win}"] = df[win]
    agg = df.groupby("c").agg(
        me_b=("me_base", "sum"),
        all_b=("all_base", "sum"),
        me_n=("me_now", "sum"),
        all_n=("all_now", "sum"),
    )
    agg = agg[(agg["all_b"] > 0) & (agg["all_n"] > 0)]
    agg["before"] = agg["me_b"] / agg["all_b"]
    agg["now"] = agg["me_n"] / agg["all_n"]
    moved = agg[agg["before"] - agg["now"] >= min_share_drop]
    for c, row in moved.iterrows():
        sub = df[(df["c"] == c) & df["rival"] & df["now"]]
        top = sub["t"].value_counts().index[0] if len(sub) else None
        members = sorted(n for n in comms[int(c)] if n not in set(mine))
        lead = df[df["c"] == c]["s"].value_counts().index[0]
        out.append(
            {
                "alert": "community_moved",
                "npi": lead,
                "community": int(c),
                "members": len(members),
                "share_before": float(row["before"]),
                "share_now": float(row["now"]),
                "top_competitor": top,
                "detail": f"community {int(c)} ({len(members)} physicians) sent "
                f"{row['before']:.0%} of its in-specialty referrals to home before, "
                f"{row['now']:.0%} now; most now go to {top}",
            }
        )
    return out
