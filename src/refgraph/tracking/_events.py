"""Shared machinery of :mod:`refgraph.tracking`: event checks, referral arrays, home NPIs.

Events come in two layouts, both accepted everywhere in :mod:`refgraph.tracking`:

* **one row per referral** (no ``referral_id`` column, or unique ids): ``status``
  is the furthest funnel stage the referral reached (this is what
  :func:`refgraph.datasets.synthetic_tables` writes);
* **one row per status change** (a CRM log): rows sharing a ``referral_id``
  describe one referral; its date is the earliest date of the group and its
  stage the furthest status reached.

Calendar buckets are in :mod:`refgraph.tracking._periods`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import NotFoundError, ValidationError
from .._npi import is_valid_npi
from .._params import check_date, check_npis_in_network
from .._validate import (
    IngestResult,
    _Rejects,
    empty_rejects,
    strict_error,
    validate_table,
)
from ..model import EVENT_STATUSES
from ..network import ReferralNetwork

logger = logging.getLogger("refgraph.tracking")

__all__ = ["check_events"]

_GROUPED = "referral_id groups several status rows of one referral"

_YEAR = 365


# ---------------------------------------------------------------------- days
def _days(dates: Any) -> np.ndarray:
    """Whole days since 1970-01-01 (int64) of a datetime-like array or Series."""
    arr = np.asarray(dates.to_numpy() if isinstance(dates, pd.Series) else dates)
    unit, step = np.datetime_data(arr.dtype)
    per_day = {"ns": 86_400 * 10**9, "us": 86_400 * 10**6, "ms": 86_400_000, "s": 86_400}
    if unit in per_day and step == 1:  # integer floor division: much faster than astype
        return np.floor_divide(arr.view(np.int64), per_day[unit])
    return arr.astype("datetime64[D]").astype(np.int64)


def _day(ts: Any, name: str = "date") -> int:
    """Whole days since 1970-01-01 of one date parameter (refused when it does not parse)."""
    day = check_date(ts, name).normalize().to_datetime64()
    return int(np.datetime64(day, "D").astype(np.int64))


def _days_param(value: Any, name: str) -> int:
    try:
        d = pd.Timedelta(value).days if not isinstance(value, (int, np.integer)) else int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name}: expected a duration like '90D', got {value!r}") from exc
    if d <= 0:
        raise ValidationError(f"{name}: expected a positive duration, got {value!r}")
    return d


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
        if not isinstance(date_range, tuple | list) or len(date_range) != 2:
            raise ValidationError(f"date_range: expected (start, end), got {date_range!r}")
        lo, hi = (
            check_date(d, f"date_range[{i}]") if d is not None else None
            for i, d in enumerate(date_range)
        )
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError(
                f"date_range: expected start on or before end, got {date_range!r}"
            )
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


def _as_of(r: _Referrals, as_of: Any) -> int:
    if as_of is None:
        if not len(r):
            raise ValidationError("as_of: the network has no events; give a date")
        return int(r.day.max())
    return _day(as_of, "as_of")


# ---------------------------------------------------------------------- home and competitors
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
            if h not in net.npis:
                raise NotFoundError(f"home: [{h!r}] not a physician of this network")
            out.append(h)
            continue
        hit = phys.loc[(phys["practice_id"] == h).to_numpy(dtype=bool, na_value=False), "npi"]
        if hit.empty:
            raise ValidationError(
                f"home: {h!r} is neither a valid NPI nor a practice_id of this network"
            )
        out.extend(hit.astype(str).tolist())
    return pd.Index(pd.unique(pd.Series(out, dtype="string")), dtype="string")


def _home_specialty(net: ReferralNetwork, mine: pd.Index, specialty: str | None) -> str:
    if specialty is not None:
        return specialty
    spec = net.physicians.set_index("npi")["specialty"].reindex(mine).dropna()
    if spec.empty:
        raise ValidationError(
            "specialty: the home physicians have no specialty in the physicians table; "
            "pass specialty='cardiology' (for example)"
        )
    return str(spec.mode().iloc[0])


def _competitor_npis(
    net: ReferralNetwork,
    mine: pd.Index,
    specialty: str | None = None,
    competitors: Any = None,
) -> pd.Index:
    """NPIs competing with ``mine``: named ones, else same or competing specialty."""
    if competitors is not None:
        items = [competitors] if isinstance(competitors, str) else list(competitors)
        if items:  # an empty list means: no competitor at all
            check_npis_in_network(net, items, "competitors")
        return pd.Index(pd.Series(items, dtype="string")).difference(mine)
    home_spec = _home_specialty(net, mine, specialty)
    try:
        from ..specialties import competing

        specs = competing(home_spec)
    except (ImportError, ValueError):  # unknown key: fall back on the exact specialty
        specs = [home_spec]
    phys = net.physicians
    hit = phys.loc[phys["specialty"].isin(specs).to_numpy(dtype=bool, na_value=False), "npi"]
    return pd.Index(hit.astype("string")).difference(mine)
