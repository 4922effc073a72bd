"""Per-source referral trends of :mod:`refgraph.tracking`: :func:`trends` (row-wise OLS)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._errors import ValidationError
from .._params import check_int
from ..network import ReferralNetwork
from ._change import _check, _score, _status_series
from ._events import _YEAR, _as_of, _days_param, _Referrals, _referrals
from ._periods import _freq, _period_codes, _period_start

__all__ = ["trends"]


#: Largest ``periods`` :func:`trends` accepts (27 years of days).
MAX_PERIODS = 10_000


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
    recent: Any = "90D",
) -> pd.DataFrame:
    """Per-source referral trend: a seasonally adjusted label and the straight-line slope.

    Parameters
    ----------
    net
        A network with events.
    as_of
        Reference date (default: the last event date). The slope window is
        the ``periods`` complete buckets ending on or before it.
    freq
        Bucket length of the slope (``"W"``, ``"M"``, ``"Q"``).
    periods
        Number of buckets in the slope window (at least 3).
    alpha
        Significance level of the label's tests and 1 - confidence level of
        the slope interval.
    recent
        Recent window of the label (as in :func:`at_risk`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``source_npi`` (sources with a referral in the slope
        window): ``mean`` referrals per bucket, ``slope`` (referrals per
        bucket per bucket), ``se``, ``ci_low``, ``ci_high``, ``rel_slope``
        (slope / mean) and ``trend`` -- the ``status`` of :func:`at_risk`
        (``new``, ``growing``, ``stable``, ``declining`` or ``lost``), so a
        table and a plot of the same source say the same thing.

    Examples
    --------
    Monthly counts 1 to 6: the straight line climbs one referral a month per
    month, but the 11 referrals of the last 90 days against the 9 of the 91
    days before them are no significant rise, so the label is ``stable``:

    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2024-01-01", periods=6, freq="MS")
    >>> ev = pd.DataFrame({"date": days.repeat([1, 2, 3, 4, 5, 6]),
    ...                    "source_npi": "1234567893", "target_npi": "1003033051",
    ...                    "status": "referred"})
    >>> t = trends(ReferralNetwork.from_frames(events=ev), as_of="2024-06-30", periods=6)
    >>> t[["mean", "slope", "se", "trend"]]
                mean  slope   se   trend
    source_npi
    1234567893   3.5    1.0  0.0  stable

    Notes
    -----
    The label is not read from the slope: a straight line through a year
    with a summer or December dip slopes down although nothing changed. It
    is the calibrated year-over-year (or trailing) test of :func:`at_risk`
    with its defaults (``min_drop`` 0.3, Benjamini-Hochberg across sources,
    a two-year lookback or the slope window when longer).

    The slope is ordinary least squares of the count of bucket *t* on *t*
    (0 .. P-1), fitted source by source in one vectorised pass: slope
    :math:`b = \\sum (t-\\bar t)(y_t-\\bar y) / \\sum (t-\\bar t)^2`,
    standard error :math:`\\sqrt{s^2 / \\sum (t-\\bar t)^2}` with residual
    variance :math:`s^2` on P-2 degrees of freedom, and a Student-t
    interval; it describes, it is not seasonally adjusted.

    References
    ----------
    .. [1] Wooldridge, J. M. (2019). *Introductory Econometrics: A Modern
       Approach*, 7th ed., ch. 2 and 4. Cengage.
    """
    f = _freq(freq)
    # one count per source and period: MAX_PERIODS keeps that table bounded
    periods = check_int(periods, "periods", minimum=3, maximum=MAX_PERIODS)
    R = _days_param(recent, "recent")
    if R >= _YEAR:
        raise ValidationError(f"recent: expected less than 365 days, got {recent!r}")
    _check(alpha, 0.3, "bh", 1.0)
    r = _referrals(net, targets=False)
    a = _as_of(r, as_of)
    out = _ols_trends(r, a, f, periods, alpha)
    first = pd.Timestamp(out.attrs.get("window", (pd.Timestamp(0),))[0])
    L = max(2 * _YEAR, a - int(first.value // 86_400_000_000_000) + 1)
    sc = _score(r, a, R, L, alpha=alpha, min_drop=0.3, adjust="bh", dispersion="estimate")
    out["trend"] = _status_series(sc, r.sources).reindex(out.index).fillna("lost")
    return out


def _ols_trends(r: _Referrals, a: int, f: str, periods: int, alpha: float) -> pd.DataFrame:
    last = int(_period_codes(np.array([a + 1]), f)[0]) - 1
    first = last - periods + 1
    window = (
        pd.Timestamp(_period_start(np.array([first]), f)[0]),
        pd.Timestamp(np.datetime64(a, "D")),
    )
    p = _period_codes(r.day, f)
    keep = (p >= first) & (p <= last)
    src = r.src[keep]
    if src.size == 0:
        cols = ["mean", "slope", "se", "ci_low", "ci_high", "rel_slope"]
        out = pd.DataFrame(columns=cols, index=pd.Index([], name="source_npi", dtype="string"))
        out.attrs["window"] = window
        return out
    ns = len(r.sources)
    y = np.bincount(src * periods + (p[keep] - first), minlength=ns * periods)
    y = y.reshape(ns, periods)
    uniq = np.flatnonzero(y.sum(axis=1) > 0)
    res = _ols_rows(y[uniq].astype(np.float64), alpha)
    out = pd.DataFrame(res, index=pd.Index(r.sources.take(uniq), name="source_npi"))
    out["rel_slope"] = out["slope"] / out["mean"]
    out.attrs["window"] = window
    return out
