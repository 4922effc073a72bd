"""Calendar buckets of :mod:`refgraph.tracking`: :func:`bucket` and :func:`network_as_of`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._validate import validate_table
from ..model import EVENT_STATUSES
from ..network import ReferralNetwork
from ._events import _day, _days_param, _Referrals, _referrals

__all__ = ["bucket", "network_as_of"]

_FREQ_ALIASES = {
    "D": "D",
    "day": "D",
    "daily": "D",
    "W": "W",
    "week": "W",
    "weekly": "W",
    "M": "M",
    "MS": "M",
    "ME": "M",
    "month": "M",
    "monthly": "M",
    "Q": "Q",
    "QS": "Q",
    "QE": "Q",
    "quarter": "Q",
    "quarterly": "Q",
}

_BY = {
    "source": "source",
    "target": "target",
    "pair": "pair",
    "total": "total",
    "practice": "source_practice",
    "source_practice": "source_practice",
    "target_practice": "target_practice",
    "specialty": "source_specialty",
    "source_specialty": "source_specialty",
    "target_specialty": "target_specialty",
}


# ---------------------------------------------------------------------- periods
def _freq(freq: str) -> str:
    f = _FREQ_ALIASES.get(freq) if isinstance(freq, str) else None
    if f is None:
        raise ValidationError(
            f"freq: expected one of 'D', 'W', 'M', 'Q' (or day/week/month/quarter), got {freq!r}"
        )
    return f


def _period_codes(days: np.ndarray, freq: str) -> np.ndarray:
    """Integer period index of each day: days, Monday weeks, months or quarters."""
    if freq == "D":
        return days
    if freq == "W":  # 1970-01-01 was a Thursday: shift so that weeks start on Monday
        return np.floor_divide(days + 3, 7)
    if days.size == 0:
        return days.copy()
    lo, hi = int(days.min()), int(days.max())
    # months of the (short) range of days, then one gather: faster than a calendar astype
    table = np.arange(lo, hi + 1).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    months = table[days - lo]
    return months if freq == "M" else np.floor_divide(months, 3)


def _period_start(codes: np.ndarray, freq: str) -> np.ndarray:
    """First day (datetime64[ns]) of each period code."""
    codes = np.asarray(codes, dtype=np.int64)
    if freq == "D":
        d = codes.astype("datetime64[D]")
    elif freq == "W":
        d = (codes * 7 - 3).astype("datetime64[D]")
    elif freq == "M":
        d = codes.astype("datetime64[M]").astype("datetime64[D]")
    else:
        d = (codes * 3).astype("datetime64[M]").astype("datetime64[D]")
    return d.astype("datetime64[ns]")


# ---------------------------------------------------------------------- groups
def _attr_of(net: ReferralNetwork, npis: pd.Index, column: str) -> np.ndarray:
    """Physician attribute (practice_id, specialty) of each NPI, missing as ``"unknown"``."""
    phys = net.physicians.drop_duplicates("npi").set_index("npi")[column]
    vals = phys.reindex(npis).astype("string").fillna("unknown")
    return vals.to_numpy(dtype=object)


def _keys(net: ReferralNetwork, r: _Referrals, by: str) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code of each referral and the frame describing the groups."""
    if by == "total":
        return np.zeros(len(r), dtype=np.int64), pd.DataFrame({"total": ["all"]})
    if by == "source":
        return r.src, pd.DataFrame({"source_npi": r.sources.astype("string")})
    if by == "target":
        return r.tgt, pd.DataFrame({"target_npi": r.targets.astype("string")})
    if by == "pair":
        code = r.src * max(len(r.targets), 1) + r.tgt
        u, inv = np.unique(code, return_inverse=True)
        nt = max(len(r.targets), 1)
        return inv.astype(np.int64), pd.DataFrame(
            {
                "source_npi": r.sources.take(u // nt).astype("string"),
                "target_npi": r.targets.take(u % nt).astype("string"),
            }
        )
    side, attr = by.split("_")
    npis, codes = (r.sources, r.src) if side == "source" else (r.targets, r.tgt)
    col = "practice_id" if attr == "practice" else "specialty"
    labels = _attr_of(net, npis, col)
    lab_codes, uniq = pd.factorize(labels, sort=True)
    return lab_codes[codes].astype(np.int64), pd.DataFrame(
        {f"{side}_{col}": pd.array(np.asarray(uniq, dtype=object), dtype="string")}
    )


# ---------------------------------------------------------------------- public
def bucket(
    net: ReferralNetwork,
    *,
    freq: str = "M",
    by: str = "source",
    start: Any = None,
    end: Any = None,
    fill: bool = False,
) -> pd.DataFrame:
    """Referrals per time bucket and per source, target, practice or specialty.

    Parameters
    ----------
    net
        A network with an ``events`` table.
    freq
        Bucket length: ``"D"`` (day), ``"W"`` (week starting Monday), ``"M"``
        (calendar month) or ``"Q"`` (calendar quarter).
    by
        ``"source"`` (default), ``"target"``, ``"pair"``, ``"source_practice"``
        (alias ``"practice"``), ``"target_practice"``, ``"source_specialty"``
        (alias ``"specialty"``), ``"target_specialty"`` or ``"total"``.
        Practices and specialties come from the physicians table
        (``"unknown"`` when missing).
    start, end
        Keep referrals dated on or after ``start`` and on or before ``end``.
    fill
        Also return the empty buckets between the first and last bucket
        (zeros), for every group.

    Returns
    -------
    pandas.DataFrame
        One row per group and bucket: the group column(s), ``period`` (first
        day of the bucket), ``referrals`` and the number of those referrals
        that reached ``scheduled``, ``seen`` and ``converted``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> ev = pd.DataFrame({
    ...     "date": ["2024-01-03", "2024-01-20", "2024-02-07"],
    ...     "source_npi": ["1234567893"] * 3, "target_npi": ["1003033051"] * 3,
    ...     "status": ["seen", "referred", "converted"]})
    >>> net = ReferralNetwork.from_frames(events=ev)
    >>> bucket(net, freq="M")[["period", "referrals", "seen"]]
          period  referrals  seen
    0 2024-01-01          2     1
    1 2024-02-01          1     1

    Notes
    -----
    A referral is counted once, in the bucket of its date (the earliest date
    of its rows when a ``referral_id`` groups several status rows), and in
    the stage columns of every stage up to the furthest it reached, so
    ``referrals >= scheduled >= seen >= converted`` in every row. Totals over
    buckets equal the number of referrals. Rows rejected by
    :func:`check_events` are left out and listed in ``result.attrs["rejected"]``.
    """
    f = _freq(freq)
    by_ = _BY.get(by) if isinstance(by, str) else None
    if by_ is None:
        raise ValidationError(f"by: expected one of {sorted(_BY)}, got {by!r}")
    r = _referrals(net, targets=by_ in ("target", "pair", "target_practice", "target_specialty"))
    gcode, groups = _keys(net, r, by_)
    if start is not None and end is not None and _day(start, "start") > _day(end, "end"):
        raise ValidationError(f"start: expected a date on or before end={end!r}, got {start!r}")
    keep = np.ones(len(r), dtype=bool)
    if start is not None:
        keep &= r.day >= _day(start, "start")
    if end is not None:
        keep &= r.day <= _day(end, "end")
    p = _period_codes(r.day[keep], f)
    g = gcode[keep]
    st = r.stage[keep]
    cols = list(groups.columns)
    if p.size == 0:
        out = groups.iloc[:0].assign(period=pd.Series([], dtype="datetime64[ns]"))
        for c in ("referrals", "scheduled", "seen", "converted"):
            out[c] = pd.Series([], dtype="int64")
        out.attrs["rejected"] = r.rejected
        return out.reset_index(drop=True)
    p0, np_ = int(p.min()), int(p.max() - p.min() + 1)
    # order the groups by label, so that cells come out sorted without a sort of the output
    order = np.asarray(groups.sort_values(cols, kind="stable").index, dtype=np.int64)
    rank = np.empty(len(groups), dtype=np.int64)
    rank[order] = np.arange(len(groups))
    groups = groups.iloc[order].reset_index(drop=True)
    cell = rank[g] * np_ + (p - p0)
    ncell = len(groups) * np_
    # one pass: counts per (cell, furthest stage), then "at least stage s" by cumulative sums
    by_stage = np.bincount(cell * 4 + np.maximum(st, 0), minlength=ncell * 4).reshape(ncell, 4)
    at_least = np.cumsum(by_stage[:, ::-1], axis=1)[:, ::-1]
    if fill:
        present = np.zeros(len(groups), dtype=bool)
        present[rank[np.unique(g)]] = True
        cells = np.flatnonzero(np.repeat(present, np_))
    else:
        cells = np.flatnonzero(at_least[:, 0])
    out = groups.iloc[cells // np_].reset_index(drop=True)
    out["period"] = _period_start(cells % np_ + p0, f)
    for i, name in enumerate(("referrals", "scheduled", "seen", "converted")):
        out[name] = at_least[cells, i].astype(np.int64)
    out.attrs["rejected"] = r.rejected
    return out


def network_as_of(
    net: ReferralNetwork,
    date: Any,
    *,
    window: str | pd.Timedelta | None = "365D",
    min_stage: str = "referred",
) -> ReferralNetwork:
    """The network of flows aggregated from the referrals of a window ending at ``date``.

    Parameters
    ----------
    net
        A network with events.
    date
        Last day of the window (inclusive).
    window
        Window length (a pandas timedelta string such as ``"90D"``, or a
        whole number of days), or ``None`` for all referrals up to ``date``.
    min_stage
        Count only referrals that reached this stage (``"seen"`` gives a
        network of completed referrals).

    Returns
    -------
    ReferralNetwork
        Physicians, practices and touchpoints up to ``date`` of ``net``, with
        flows ``count`` = referrals per pair in the window, ``patients`` =
        distinct ``patient_id`` when events carry one, ``period_start``/
        ``period_end`` = the window and ``provenance`` = ``"events"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> ev = pd.DataFrame({
    ...     "date": ["2023-01-03", "2024-01-20", "2024-02-07"],
    ...     "source_npi": ["1234567893"] * 3, "target_npi": ["1003033051"] * 3,
    ...     "status": "referred"})
    >>> net = ReferralNetwork.from_frames(events=ev)
    >>> network_as_of(net, "2024-03-01", window="365D").flows["count"].tolist()
    [2]
    """
    if min_stage not in EVENT_STATUSES:
        raise ValidationError(f"min_stage: expected one of {EVENT_STATUSES}, got {min_stage!r}")
    end = _day(date, "date")
    r = _referrals(net, extra=("patient_id",))
    keep = (r.day <= end) & (r.stage >= EVENT_STATUSES.index(min_stage))
    if window is not None:
        w_days = _days_param(window, "window")
        keep &= r.day > end - w_days
        first = pd.Timestamp(np.datetime64(end - w_days + 1, "D"))
    else:
        first = pd.Timestamp(np.datetime64(int(r.day[keep].min()), "D")) if keep.any() else None
    df = pd.DataFrame(
        {
            "source_npi": r.sources.take(r.src[keep]).to_numpy(dtype=object),
            "target_npi": r.targets.take(r.tgt[keep]).to_numpy(dtype=object),
        }
    )
    agg: dict[str, Any] = {"count": ("source_npi", "size")}
    if r.extra is not None and "patient_id" in r.extra.columns:
        df["patient_id"] = r.extra["patient_id"].to_numpy(dtype=object)[keep]
        agg["patients"] = ("patient_id", "nunique")
    flows = df.groupby(["source_npi", "target_npi"], as_index=False, sort=True).agg(**agg)
    flows["period_start"] = first
    flows["period_end"] = pd.Timestamp(np.datetime64(end, "D"))
    flows["provenance"] = "events"
    flows = validate_table(flows, "flows", self_referrals="keep").table
    t = net.tables
    stamp = pd.Timestamp(np.datetime64(end, "D"))
    tp = t["touchpoints"][(t["touchpoints"]["date"] <= stamp).to_numpy(dtype=bool)]
    ev = t["events"][(t["events"]["date"] <= stamp).to_numpy(dtype=bool)]
    return ReferralNetwork._from_valid_tables(
        {
            "physicians": t["physicians"],
            "practices": t["practices"],
            "flows": flows,
            "events": ev,
            "touchpoints": tp,
        }
    )
