"""Shared machinery of :mod:`refgraph.tracking`: event checks, referral arrays, buckets.

Events come in two layouts, both accepted everywhere in :mod:`refgraph.tracking`:

* **one row per referral** (no ``referral_id`` column, or unique ids): ``status``
  is the furthest funnel stage the referral reached (this is what
  :func:`refgraph.datasets.synthetic_tables` writes);
* **one row per status change** (a CRM log): rows sharing a ``referral_id``
  describe one referral; its date is the earliest date of the group and its
  stage the furthest status reached.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._validate import (
    IngestResult,
    _Rejects,
    empty_rejects,
    is_valid_npi,
    strict_error,
    validate_table,
)
from ..model import EVENT_STATUSES
from ..network import ReferralNetwork

logger = logging.getLogger("refgraph.tracking")

__all__ = ["bucket", "check_events", "network_as_of"]

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

_GROUPED = "referral_id groups several status rows of one referral"

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


def _days(dates: Any) -> np.ndarray:
    """Whole days since 1970-01-01 (int64) of a datetime-like array or Series."""
    arr = np.asarray(dates.to_numpy() if isinstance(dates, pd.Series) else dates)
    unit, step = np.datetime_data(arr.dtype)
    per_day = {"ns": 86_400 * 10**9, "us": 86_400 * 10**6, "ms": 86_400_000, "s": 86_400}
    if unit in per_day and step == 1:  # integer floor division: much faster than astype
        return np.floor_divide(arr.view(np.int64), per_day[unit])
    return arr.astype("datetime64[D]").astype(np.int64)


def _day(ts: Any) -> int:
    return int(np.datetime64(pd.Timestamp(ts).normalize().to_datetime64(), "D").astype(np.int64))


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


# ---------------------------------------------------------------------- checks
def _events_of(data: ReferralNetwork | pd.DataFrame) -> pd.DataFrame:
    if isinstance(data, ReferralNetwork):
        return data.events
    if isinstance(data, pd.DataFrame):
        return data
    raise ValidationError(
        f"net_or_events: expected a ReferralNetwork or a DataFrame, got {type(data).__name__}"
    )


def _known_npis(data: Any, physicians: Any) -> pd.Index | None:
    if physicians is None:
        if isinstance(data, ReferralNetwork) and "physicians" in data.ingest:
            # physicians that were *given*, not the ones added from flows/events
            return pd.Index(data.ingest["physicians"].table["npi"].astype("string"))
        return None
    if isinstance(physicians, pd.DataFrame):
        return pd.Index(physicians["npi"].astype("string"))
    if isinstance(physicians, ReferralNetwork):
        return pd.Index(physicians.physicians["npi"].astype("string"))
    return pd.Index(pd.Series(list(physicians), dtype="string"))


def check_events(
    net_or_events: ReferralNetwork | pd.DataFrame,
    *,
    physicians: pd.DataFrame | Iterable[str] | ReferralNetwork | None = None,
    date_range: tuple[Any, Any] | None = None,
    strict: bool = False,
) -> IngestResult:
    """Check a referral event log and reject bad rows with reasons.

    Parameters
    ----------
    net_or_events
        A network (its ``events`` table is checked) or a raw events frame
        (validated first with :func:`refgraph._validate.validate_table`).
    physicians
        Known physicians (a physicians frame, a network or NPIs). Events whose
        source or target is not among them are rejected. By default, the
        physicians table the network was built with, if any.
    date_range
        ``(first, last)`` allowed dates (either may be ``None``); dates outside
        are rejected (for example referrals dated in the future).
    strict
        Raise :class:`~refgraph.ValidationError` when any row is rejected.

    Returns
    -------
    IngestResult
        ``table`` holds the accepted events; ``rejected`` one row per problem
        (``row``, ``column``, ``value``, ``reason``), where ``row`` is the
        0-based row of the input frame (of ``net.events`` for a network).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "date": ["2024-01-05", "2024-01-02", "2024-13-01"],
    ...     "source_npi": ["1234567893"] * 3,
    ...     "target_npi": ["1003033051"] * 3,
    ...     "status": ["referred", "seen", "referred"],
    ...     "referral_id": [1, 1, 2]})
    >>> res = check_events(ev)
    >>> for rec in res.rejected.to_dict("records"):
    ...     print(rec["row"], rec["column"], "|", rec["reason"][:48])
    1 status | 'seen' dated 2024-01-02 is before 'referred' dat
    2 date | unparseable date
    >>> len(res.table)
    1

    Notes
    -----
    Checks, in order: the events schema (dates parse, NPIs are valid, status
    is one of referred/scheduled/seen/converted, no self-referrals); dates
    inside ``date_range``; source and target among the known physicians; and,
    when a ``referral_id`` column groups the rows of one referral, that its
    rows share one source and target and that no status is dated before an
    earlier funnel stage (e.g. *seen* before *referred*). Every input row ends
    up accepted or rejected: ``n_accepted_rows + n_rejected_rows == n_input``.
    """
    events = _events_of(net_or_events)
    n = len(events)
    if isinstance(net_or_events, ReferralNetwork):
        table = events
        rows = np.arange(n, dtype=np.int64)
        base = empty_rejects()
    else:
        res0 = validate_table(events, "events")
        table = res0.table
        bad_rows = np.unique(res0.rejected["row"].to_numpy(dtype=np.int64))
        rows = np.setdiff1d(np.arange(n, dtype=np.int64), bad_rows)
        base = res0.rejected
    rej = _Rejects(rows)
    if date_range is not None:
        lo, hi = (pd.Timestamp(d) if d is not None else None for d in date_range)
        d = table["date"]
        outside = np.zeros(len(table), dtype=bool)
        if lo is not None:
            outside |= (d < lo).to_numpy(dtype=bool, na_value=False)
        if hi is not None:
            outside |= (d > hi).to_numpy(dtype=bool, na_value=False)
        rej.add(
            outside,
            "date",
            d.dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
            f"date outside the allowed range [{lo}, {hi}]",
        )
    known = _known_npis(net_or_events, physicians)
    if known is not None:
        for col in ("source_npi", "target_npi"):
            s = table[col]
            unknown = ~s.isin(known).to_numpy(dtype=bool, na_value=False)
            rej.add(
                unknown & ~rej.bad, col, s.to_numpy(dtype=object), "NPI not in the physicians table"
            )
    grouped = False
    if "referral_id" in table.columns and len(table):
        grouped = _check_referral_groups(table, rej)
    extra = rej.frame()
    rejected = pd.concat([base, extra], ignore_index=True) if len(extra) else base
    if len(rejected):
        rejected = rejected.sort_values(["row", "column"], kind="stable").reset_index(drop=True)
    accepted = table.loc[~rej.bad].reset_index(drop=True)
    result = IngestResult(accepted, rejected, n, len(accepted))
    if grouped:
        result.notes.append(_GROUPED)
    if len(rejected):
        logger.warning("events: %d of %d rows rejected", result.n_rejected_rows, n)
        if strict:
            raise strict_error("events", rejected, n)
    return result


def _check_referral_groups(table: pd.DataFrame, rej: _Rejects) -> bool:
    rid = table["referral_id"]
    if pd.api.types.is_integer_dtype(rid.dtype) and not rid.hasnans and rid.is_monotonic_increasing:
        if not (np.diff(rid.to_numpy()) == 0).any():  # sorted, distinct ids: O(n), no hashing
            return False
    has = rid.notna().to_numpy(dtype=bool)
    dup = rid.duplicated(keep=False).to_numpy(dtype=bool) & has
    if not dup.any():
        return False
    pos = np.flatnonzero(dup)
    sub = pd.DataFrame(
        {
            "pos": pos,
            "rid": rid.to_numpy(dtype=object)[pos],
            "stage": _stage_codes(table["status"]).astype(np.int64)[pos],
            "date": table["date"].to_numpy()[pos],
            "pair": (table["source_npi"].astype("string") + ">" + table["target_npi"]).to_numpy(
                dtype=object
            )[pos],
        }
    )
    # one referral, one source and target
    npair = sub.groupby("rid", sort=False)["pair"].transform("nunique").to_numpy()
    first_pair = sub.groupby("rid", sort=False)["pair"].transform("first").to_numpy(dtype=object)
    mixed = (npair > 1) & (sub["pair"].to_numpy(dtype=object) != first_pair)
    m = np.zeros(len(table), dtype=bool)
    m[pos[mixed]] = True
    rej.add(
        m,
        "referral_id",
        rid.to_numpy(dtype=object),
        "referral_id already used for another source/target pair",
    )
    # status order: no stage dated before the first row of a lower stage of the referral
    agg = (
        sub.groupby(["rid", "stage"], sort=True)["date"]
        .min()
        .reset_index()
        .sort_values(["rid", "stage"], kind="stable")
    )
    cm = agg.groupby("rid", sort=False)["date"].cummax()
    is_max = (agg["date"] >= cm).to_numpy(dtype=bool)
    stage_at = agg["stage"].where(is_max).groupby(agg["rid"], sort=False).ffill()
    agg["prev_date"] = cm.groupby(agg["rid"], sort=False).shift(1)
    agg["prev_stage"] = stage_at.groupby(agg["rid"], sort=False).shift(1)
    sub = sub.merge(
        agg[["rid", "stage", "prev_date", "prev_stage"]], on=["rid", "stage"], how="left"
    )
    early = (sub["date"] < sub["prev_date"]).to_numpy(dtype=bool, na_value=False) & ~mixed
    if early.any():
        e = sub.loc[early]
        names = np.array(EVENT_STATUSES, dtype=object)
        reasons = [
            f"'{names[s]}' dated {pd.Timestamp(d):%Y-%m-%d} is before '{names[int(ps)]}' "
            f"dated {pd.Timestamp(pd_):%Y-%m-%d} of the same referral_id {r}"
            for s, d, ps, pd_, r in zip(
                e["stage"], e["date"], e["prev_stage"], e["prev_date"], e["rid"]
            )
        ]
        m = np.zeros(len(table), dtype=bool)
        m[e["pos"].to_numpy()] = True
        rs = np.full(len(table), "", dtype=object)
        rs[e["pos"].to_numpy()] = reasons
        rej.add(m, "status", table["status"].to_numpy(dtype=object), rs)
    return True


def _stage_codes(status: pd.Series) -> np.ndarray:
    """0..3 for referred..converted; -1 for anything else (vectorised via factorize)."""
    codes, uniq = pd.factorize(status, sort=False)
    lookup = np.array(
        [EVENT_STATUSES.index(u) if u in EVENT_STATUSES else -1 for u in uniq] + [-1],
        dtype=np.int8,
    )
    return lookup[codes]


# ---------------------------------------------------------------------- referrals
@dataclass
class _Referrals:
    """One entry per referral, as plain arrays (codes into ``sources``/``targets``)."""

    src: np.ndarray  # int64 codes into sources
    tgt: np.ndarray  # int64 codes into targets
    day: np.ndarray  # int64 days since epoch of the referral
    stage: np.ndarray  # int8 furthest stage reached (0..3)
    sources: pd.Index
    targets: pd.Index
    stage_day: np.ndarray | None  # (n, 4) first day of each stage, -1 when absent
    rejected: pd.DataFrame
    extra: pd.DataFrame | None  # per-referral extra columns (patient_id, value) if present

    def __len__(self) -> int:
        return int(self.day.size)


def _referrals(
    net: ReferralNetwork, *, extra: Iterable[str] = (), targets: bool = True
) -> _Referrals:
    """Check the events of ``net`` and collapse them to one row per referral.

    With ``targets=False`` the target codes are not computed (``tgt`` is empty).
    """
    ev = net.events
    res = check_events(net)
    if res.n_rejected_rows:
        ev = res.table
    src_codes, sources = pd.factorize(ev["source_npi"], sort=False)
    if targets:
        tgt_codes, tgt_index = pd.factorize(ev["target_npi"], sort=False)
    else:
        tgt_codes, tgt_index = np.zeros(len(ev), dtype=np.int64), pd.Index([], dtype="string")
    day = _days(ev["date"])
    stage = _stage_codes(ev["status"]).astype(np.int8)
    keep = [c for c in extra if c in ev.columns]
    grouped = _GROUPED in res.notes
    if not grouped:
        ext = ev[keep].reset_index(drop=True) if keep else None
        return _Referrals(
            src_codes.astype(np.int64),
            tgt_codes.astype(np.int64),
            day,
            stage,
            pd.Index(sources, dtype="string"),
            pd.Index(tgt_index, dtype="string"),
            None,
            res.rejected,
            ext,
        )
    # transition log: group rows of one referral (rows without an id are their own referral)
    rid = ev["referral_id"]
    key = rid.astype(object).where(rid.notna(), pd.Series(-np.arange(1, len(ev) + 1) - 0.5))
    g_codes, _ = pd.factorize(key, sort=False)
    ng = int(g_codes.max()) + 1 if len(g_codes) else 0
    big = np.iinfo(np.int64).max
    first_day = np.full(ng, big, dtype=np.int64)
    np.minimum.at(first_day, g_codes, day)
    top = np.full(ng, -1, dtype=np.int8)
    np.maximum.at(top, g_codes, stage)
    stage_day = np.full((ng, 4), big, dtype=np.int64)
    ok = stage >= 0
    np.minimum.at(stage_day, (g_codes[ok], stage[ok].astype(np.int64)), day[ok])
    stage_day[stage_day == big] = -1
    first_row = np.full(ng, len(ev), dtype=np.int64)
    np.minimum.at(first_row, g_codes, np.arange(len(ev)))
    ext = ev[keep].iloc[first_row].reset_index(drop=True) if keep else None
    return _Referrals(
        src_codes[first_row].astype(np.int64),
        tgt_codes[first_row].astype(np.int64),
        first_day,
        top,
        pd.Index(sources, dtype="string"),
        pd.Index(tgt_index, dtype="string"),
        stage_day,
        res.rejected,
        ext,
    )


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
    keep = np.ones(len(r), dtype=bool)
    if start is not None:
        keep &= r.day >= _day(start)
    if end is not None:
        keep &= r.day <= _day(end)
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
        Window length (a pandas timedelta string such as ``"90D"``), or
        ``None`` for all referrals up to ``date``.
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
    end = _day(date)
    r = _referrals(net, extra=("patient_id",))
    keep = (r.day <= end) & (r.stage >= EVENT_STATUSES.index(min_stage))
    if window is not None:
        w = pd.Timedelta(window)
        if w <= pd.Timedelta(0):
            raise ValidationError(f"window: expected a positive duration, got {window!r}")
        keep &= r.day > end - w.days
        first = pd.Timestamp(np.datetime64(end - w.days + 1, "D"))
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


def _home_npis(net: ReferralNetwork, home: Any) -> pd.Index:
    """NPIs of ``home``: an NPI, a practice id, or an iterable of NPIs / practice ids."""
    items = [home] if isinstance(home, str) else list(home) if home is not None else []
    if not items:
        raise ValidationError("home: expected an NPI, a practice id or a list of them, got none")
    phys = net.physicians
    out: list[str] = []
    for h in items:
        h = str(h)
        if is_valid_npi(h):
            out.append(h)
            continue
        hit = phys.loc[(phys["practice_id"] == h).to_numpy(dtype=bool, na_value=False), "npi"]
        if hit.empty:
            raise ValidationError(
                f"home: {h!r} is neither a valid NPI nor a practice_id of this network"
            )
        out.extend(hit.astype(str).tolist())
    return pd.Index(pd.unique(pd.Series(out, dtype="string")), dtype="string")
