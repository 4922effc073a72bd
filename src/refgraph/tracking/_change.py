"""Calibrated change tests of :mod:`refgraph.tracking`: one status per referral source.

:func:`_score` is the single place that decides whether a source is ``new``,
``growing``, ``stable``, ``declining`` or ``lost``; :func:`~refgraph.tracking.at_risk`,
:func:`~refgraph.tracking.trends` and :func:`~refgraph.tracking.plot_trends` all read it.

The tests condition on what the baseline saw, so its own noise is accounted for:

* **drop / rise** -- the recent count *O* (``t_o`` days) against the baseline count
  *B* (``t_b`` days). Under equal daily rates and Poisson counts,
  ``O | O + B = n ~ Binomial(n, t_o / (t_o + t_b))`` exactly (the conditional test for
  two Poisson counts, Przyborowski & Wilenski 1940); with a dispersion
  :math:`\\phi > 1` (negative binomial of type 1, variance :math:`\\phi` x mean) the
  conditional law is beta-binomial.
* **silence** -- the chance that ``N`` referral days spread at random over the
  source's history (days weighted by the season index) all miss the last ``d`` days
  (hypergeometric); with ``season="own"`` and a year of history, the referral days of
  the same span last year against none this year (each day is equally likely to fall
  in either year under the null: ``p = 0.5 ** K``).
* **season index** -- referrals over source-days per calendar month, pooled over the
  sources outside the recent window (:func:`_season_weights`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from .._errors import ValidationError
from .._params import check_choice, check_float
from ._events import _YEAR, _Referrals

STATUSES = ("new", "growing", "stable", "declining", "lost")


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


def _rate_ratio(
    obs: np.ndarray, base: np.ndarray, w: np.ndarray, alpha: float, dispersion: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Conditional test of two counts with exposure share ``w`` of the first.

    Returns ``p_drop`` = P(X <= obs), ``p_rise`` = P(X >= obs) under the null of equal
    rates, and the ``1 - alpha`` interval of the rate ratio (Clopper-Pearson on the
    binomial share, counts divided by ``dispersion``). Rows with ``n = 0`` or no
    exposure get p = 1 and the interval (0, inf).
    """
    n = obs + base
    ok = (n > 0) & (w > 0) & (w < 1)
    nn, oo, ww = np.where(ok, n, 1.0), np.where(ok, obs, 0.0), np.where(ok, w, 0.5)
    if dispersion == 1.0:
        p_drop = stats.binom.cdf(oo, nn, ww)
        p_rise = stats.binom.sf(oo - 1, nn, ww)
    else:
        a, b = nn * ww / (dispersion - 1), nn * (1 - ww) / (dispersion - 1)
        p_drop = stats.betabinom.cdf(oo, nn, a, b)
        p_rise = stats.betabinom.sf(oo - 1, nn, a, b)
    p_drop = np.where(ok, np.minimum(p_drop, 1.0), 1.0)
    p_rise = np.where(ok, np.minimum(p_rise, 1.0), 1.0)
    # Clopper-Pearson interval of the share pi, on counts scaled by 1/dispersion
    xs, ns = oo / dispersion, nn / dispersion
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(xs > 0, stats.beta.ppf(alpha / 2, xs, ns - xs + 1), 0.0)
        hi = np.where(xs < ns, stats.beta.ppf(1 - alpha / 2, xs + 1, ns - xs), 1.0)
        odds = (1 - ww) / ww
        ci_lo = np.where(ok, lo / (1 - lo) * odds, 0.0)
        ci_hi = np.where(ok & (hi < 1), hi / (1 - hi) * odds, np.inf)
    return p_drop, p_rise, ci_lo, ci_hi


def _silence_uniform(span: np.ndarray, n_days: np.ndarray, d: np.ndarray) -> np.ndarray:
    """P(none of ``n_days`` referral days drawn at random from ``span`` days is among the
    last ``d``): C(span - d, n) / C(span, n)."""
    ok = (n_days > 0) & (span > 0) & (d > 0)
    s = np.where(ok, span, 1.0)
    n = np.where(ok, n_days, 0.0)
    dd = np.where(ok, np.minimum(d, s), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        logp = (
            special.gammaln(s - dd + 1)
            - special.gammaln(s - dd - n + 1)
            - special.gammaln(s + 1)
            + special.gammaln(s - n + 1)
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        approx = (1 - dd / s) ** n  # when weighted days leave fewer than n "days"
    p = np.where(s - dd - n + 1 > 0, np.exp(logp), approx)
    return np.where(ok, np.clip(p, 0.0, 1.0), 1.0)


@dataclass
class _Score:
    """Per-source arrays (over all sources of the referrals) of :func:`_score`."""

    active: np.ndarray
    obs: np.ndarray
    base: np.ndarray
    base_days: np.ndarray
    expected: np.ndarray
    seasonal: np.ndarray
    season_factor: np.ndarray
    last_year: np.ndarray
    p_drop: np.ndarray
    p_rise: np.ndarray
    p_silence: np.ndarray
    q_drop: np.ndarray
    q_rise: np.ndarray
    q_silence: np.ndarray
    ratio: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    drop: np.ndarray
    new: np.ndarray
    status: np.ndarray
    at_risk: np.ndarray
    first_day: np.ndarray
    last_day: np.ndarray
    s_sorted: np.ndarray  # distinct (source, referral day) pairs of the lookback
    d_sorted: np.ndarray
    dispersion: float  # the variance-to-mean ratio the tests used


def _check(alpha: float, min_drop: float, adjust: str, dispersion: float | str) -> None:
    check_float(alpha, "alpha", minimum=0, maximum=1, open_min=True, open_max=True)
    check_float(min_drop, "min_drop", minimum=0, maximum=1, open_max=True)
    check_choice(adjust, "adjust", ("bh", "none"))
    if isinstance(dispersion, str) and dispersion == "estimate":
        return
    if not (
        isinstance(dispersion, int | float)
        and not isinstance(dispersion, bool)
        and 1.0 <= float(dispersion) < 1e6
    ):
        raise ValidationError(
            f"dispersion: expected a number >= 1 or 'estimate', got {dispersion!r}"
        )


def _estimate_dispersion(
    src: np.ndarray, age: np.ndarray, lo: int, hi: np.ndarray, tested: np.ndarray
) -> float:
    """Pooled variance-to-mean ratio of the sources' weekly counts before the recent window.

    Pearson's statistic of the full weeks (ages ``lo`` .. ``hi[s] - 1``) of every tested
    source around its own mean, summed over sources and divided by the summed degrees of
    freedom (weeks - 1); at least 1. Seasons and real changes in the history add to it,
    so it errs towards wider tests.
    """
    weeks = np.where(tested, np.maximum(hi - lo, 0) // 7, 0)
    use = tested[src] & (age >= lo) & ((age - lo) // 7 < weeks[src])
    ns, k = len(hi), int(weeks.max(initial=0))
    if k < 2:
        return 1.0
    y = np.bincount(src[use] * k + (age[use] - lo) // 7, minlength=ns * k).reshape(ns, k)
    valid = np.arange(k)[None, :] < weeks[:, None]
    mean = y.sum(axis=1) / np.maximum(weeks, 1)
    ok = (weeks >= 2) & (mean > 0)
    if not ok.any():
        return 1.0
    dev = np.where(valid, (y - mean[:, None]) ** 2, 0.0).sum(axis=1)
    chi2 = (dev[ok] / mean[ok]).sum()
    return max(1.0, float(chi2 / (weeks[ok] - 1).sum()))


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


def _month_of_age(A: int, L: int) -> np.ndarray:
    """Calendar month (0..11) of each day ``A - age`` for ages 0..L-1."""
    days = (A - np.arange(L)).astype("datetime64[D]")
    return days.astype("datetime64[M]").astype(np.int64) % 12


def _season_weights(
    src: np.ndarray,
    age: np.ndarray,
    lo: int,
    hi: np.ndarray,
    tested: np.ndarray,
    month: np.ndarray,
) -> np.ndarray:
    """Calendar-month index of the pooled referral rate (mean about 1), one weight per day.

    Pooled over the tested sources, on their history before the recent window (ages
    ``lo`` .. ``hi[s] - 1``): referrals over source-days per calendar month, shrunk
    towards 1 by :data:`_SHRINK` pseudo-referrals so that a small log is not adjusted
    on noise.
    """
    L = month.size
    onehot = np.zeros((L + 1, 12))
    onehot[np.arange(1, L + 1), month] = 1.0
    cum = onehot.cumsum(axis=0)
    h = np.clip(hi[tested], lo, L)
    exposure = (cum[h] - cum[lo]).sum(axis=0)
    use = tested[src] & (age >= lo) & (age < hi[src])
    counts = np.bincount(month[age[use]], minlength=12).astype(np.float64)
    rate = counts.sum() / exposure.sum() if exposure.sum() > 0 else 0.0
    if rate <= 0:
        return np.ones(L)
    index = (counts + _SHRINK) / (exposure * rate + _SHRINK)
    return index[month]


#: Pseudo-referrals per calendar month that pull the seasonal index towards 1.
_SHRINK = 50.0


def _score(
    r: _Referrals,
    A: int,
    R: int,
    L: int,
    *,
    alpha: float,
    min_drop: float,
    adjust: str,
    dispersion: float | str,
    season: str = "market",
) -> _Score:
    """Counts, calibrated tests, q-values and the status of every source as of day ``A``."""
    _check(alpha, min_drop, adjust, dispersion)
    if season not in ("market", "own", "none"):
        raise ValidationError(f"season: expected 'market', 'own' or 'none', got {season!r}")
    ns = len(r.sources)
    age_all = A - r.day
    inwin = (age_all >= 0) & (age_all < L)
    src, age = r.src[inwin], age_all[inwin]
    hist = age_all >= 0
    first_day = np.full(ns, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_day, r.src[hist], r.day[hist])
    age_first = A - first_day
    active = np.bincount(src, minlength=ns) > 0
    new = age_first < R
    covers = (age_first >= _YEAR + R - 1) & (L >= _YEAR + R)
    # the first referral day is given (it makes the source exist): the baselines use
    # the days after it, ages 0 .. a_f - 1, so that they are a fair sample of the rate
    a_f = np.minimum(age_first, L)
    later = age < a_f[src]
    obs = np.bincount(src[age < R], minlength=ns).astype(np.float64)
    s_sorted, d_sorted = _sorted_days(src, age, A, L, ns)
    last_day = np.full(ns, -1, dtype=np.int64)
    if s_sorted.size:
        ends = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
        last_day[s_sorted[ends]] = d_sorted[ends]
    d_since = np.where(active, A - last_day, 0).astype(np.float64)
    d_age = A - d_sorted
    d_later = d_age < a_f[s_sorted]  # every referral day but the first
    n_days = np.bincount(s_sorted[d_later], minlength=ns).astype(np.float64)
    # the same window last year, and referral days in the same span as the silence
    in_ly_win = later & (age >= _YEAR) & (age < _YEAR + R)
    last_year = np.bincount(src[in_ly_win], minlength=ns).astype(np.float64)
    last_year_days = R - (covers & (age_first < _YEAR + R))
    cap = np.minimum(d_since, _YEAR)
    in_ly = d_later & (d_age >= _YEAR) & (d_age < _YEAR + cap[s_sorted])
    k_ly = np.bincount(s_sorted[in_ly], minlength=ns).astype(np.float64)
    if season == "own":
        seasonal = covers
        # same window last year (ages 365 .. 365+R-1), else the rest of the last year
        lo = np.where(seasonal, _YEAR, R)
        hi = np.where(seasonal, _YEAR + R, np.minimum(_YEAR, L))
        hi = np.minimum(hi, a_f)
        in_base = later & (age >= lo[src]) & (age < hi[src])
        base = np.bincount(src[in_base], minlength=ns).astype(np.float64)
        base_days = np.maximum(hi - lo, 0).astype(np.float64)
        t_o, t_b = np.full(ns, float(R)), base_days
        p_sil_season = np.where(cap > 0, 0.5**k_ly, 1.0)
        p_sil_trail = _silence_uniform(a_f.astype(np.float64), n_days, d_since)
        p_silence = np.where(seasonal, p_sil_season, p_sil_trail)
    else:
        seasonal = covers if season == "market" else np.zeros(ns, dtype=bool)
        in_base = later & (age >= R)
        base = np.bincount(src[in_base], minlength=ns).astype(np.float64)
        base_days = np.maximum(a_f - R, 0).astype(np.float64)
        if season == "market":
            wday = _season_weights(src, age, R, a_f, active & ~new, _month_of_age(A, L))
        else:
            wday = np.ones(L)
        wcum = np.r_[0.0, np.cumsum(wday)]
        t_o = np.full(ns, wcum[R])
        t_b = np.where(base_days > 0, wcum[a_f] - wcum[R], 0.0)
        d_idx = np.minimum(d_since, a_f).astype(np.int64)
        p_silence = _silence_uniform(wcum[a_f], n_days, wcum[d_idx])
    tested = active & ~new & (t_b > 0)
    if dispersion == "estimate":
        phi = _estimate_dispersion(src, age, R, a_f, tested)
    else:
        phi = float(dispersion)
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = np.where(t_b > 0, base * t_o / t_b, 0.0)
        w = np.where(t_b > 0, t_o / (t_o + t_b), 0.0)
        factor = np.where(t_b > 0, (t_o / R) / (t_b / base_days), np.nan)
    p_drop, p_rise, ci_lo, ci_hi = _rate_ratio(obs, base, w, alpha, phi)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected > 0, obs / expected, np.nan)
        drop = np.where(expected > 0, np.clip(1 - obs / expected, 0, 1), 0.0)
    p_drop, p_rise, p_silence = (np.where(tested, p, 1.0) for p in (p_drop, p_rise, p_silence))
    if adjust == "bh":
        # drop and silence are one family (either flags a source), so the share of
        # runs of unchanged sources with any flag stays at alpha
        q2 = _bh(np.r_[p_drop, p_silence], np.r_[tested, tested])
        q_drop, q_silence = q2[:ns], q2[ns:]
        q_rise = _bh(p_rise, tested)
    else:
        q_drop, q_silence, q_rise = p_drop, p_silence, p_rise
    # a change must also show against the source's own same window last year when its
    # history covers it (a source with a season of its own is not flagged for it);
    # these conditions only take flags away, so the error rates stay within alpha
    ly_rate = last_year * R / np.maximum(last_year_days, 1)
    own_drop = ~covers | (obs <= (1 - min_drop) * ly_rate)
    own_silence = ~covers | (k_ly >= 1)
    own_rise = ~covers | (obs >= (1 + min_drop) * ly_rate)
    flag = tested & (
        ((q_drop < alpha) & (drop >= min_drop) & own_drop) | ((q_silence < alpha) & own_silence)
    )
    lost = flag & (obs == 0)
    growing = tested & ~flag & (q_rise < alpha) & (obs >= (1 + min_drop) * expected) & own_rise
    status = np.select(
        [new, lost, flag, growing], ["new", "lost", "declining", "growing"], "stable"
    )
    return _Score(
        active, obs, base, base_days, expected, seasonal, factor,
        np.where(covers, last_year, np.nan), p_drop, p_rise, p_silence,
        q_drop, q_rise, q_silence, ratio, ci_lo, ci_hi, drop, new, status, flag,
        first_day, last_day, s_sorted, d_sorted, phi,
    )  # fmt: skip


def _status_series(sc: _Score, sources: pd.Index) -> pd.Series:
    """The status of every active source, indexed by ``source_npi``."""
    idx = np.flatnonzero(sc.active)
    return pd.Series(
        sc.status[idx], index=pd.Index(sources.take(idx), name="source_npi"), name="status"
    )
