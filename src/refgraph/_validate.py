"""Validation and coercion of referral tables that loses nothing.

Every row that goes in comes out either accepted (possibly merged with its
duplicates) or in a rejects table with its source row number, the column, the
offending value and the reason. The invariant
``result.n_accepted_rows + result.n_rejected_rows == result.n_input`` always holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._coerce import (
    FLOW_KEY,
    MAX_COUNT,
    _bool_values,
    _coerce_count,
    _coerce_date,
    _coerce_zip,
    _zip_mismatch,
    duplicated_flows,
)
from ._compact import compact_flows, const_labels, labels
from ._errors import ValidationError
from ._npi import _normalise_npis
from .model import SCHEMAS, Column, Schema

logger = logging.getLogger(__name__)

#: Events and touchpoints dated more than this many days after today are rejected.
FUTURE_DAYS = 366

__all__ = [
    "REJECT_COLUMNS",
    "IngestResult",
    "duplicated_flows",  # re-exported from _coerce for the readers
    "validate_table",
]

#: Columns of every rejects table.
REJECT_COLUMNS = ["row", "column", "value", "reason"]

#: The reason given to the rows of a flow whose counts sum past 2**53 (the
#: block readers of ``refgraph.io.cms`` look for it).
PAST_EXACT = f"sum of duplicate flows exceeds {MAX_COUNT} (2**53)"

Duplicates = Literal["aggregate", "reject", "keep"]


@dataclass
class IngestResult:
    """What an ingest produced: the accepted table and the rejects.

    Attributes
    ----------
    table
        Accepted rows with canonical columns first, then any extra columns.
    rejected
        One row per problem found: ``row`` (0-based data row of the input,
        header excluded), ``column``, ``value`` (as text) and ``reason``.
    n_input
        Number of input rows.
    n_accepted_rows
        Number of input rows that are represented in ``table`` (merged
        duplicates count once each).
    """

    table: pd.DataFrame
    rejected: pd.DataFrame
    n_input: int
    n_accepted_rows: int
    notes: list[str] = field(default_factory=list)

    @property
    def n_rejected_rows(self) -> int:
        """Number of distinct input rows that were rejected."""
        return int(self.rejected["row"].nunique()) if len(self.rejected) else 0

    def __repr__(self) -> str:
        return (
            f"IngestResult(n_input={self.n_input}, accepted_rows={self.n_accepted_rows}, "
            f"rejected_rows={self.n_rejected_rows}, table_rows={len(self.table)})"
        )


def strict_error(what: str, rejected: pd.DataFrame, n_input: int) -> ValidationError:
    """The error ``strict=True`` raises: counts and the first ten problems, rejects attached."""
    lines = "; ".join(
        f"row {r['row']} {r['column']}={r['value']!r}: {r['reason']}"
        for r in rejected.head(10).to_dict("records")
    )
    return ValidationError(
        f"{what}: {rejected['row'].nunique()} of {n_input} rows rejected; first problems: {lines}",
        rejected=rejected,
    )


_EMPTY_REJECTS = pd.DataFrame(
    {
        "row": pd.Series([], dtype="int64"),
        "column": pd.Series([], dtype="string"),
        "value": pd.Series([], dtype="string"),
        "reason": pd.Series([], dtype="string"),
    }
)


def empty_rejects() -> pd.DataFrame:
    """An empty rejects table with the right dtypes (a new frame each call)."""
    return _EMPTY_REJECTS.copy()


def _as_text(values: Iterable[Any]) -> list[str]:
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
            out.append("")
        else:
            out.append(str(v))
    return out


class _Rejects:
    """Collects reject records while a table is validated."""

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows  # source row number per position
        self.parts: list[pd.DataFrame] = []
        self.bad = np.zeros(len(rows), dtype=bool)

    def add(self, mask: np.ndarray, column: str, values: Any, reason: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        if values is None:
            vals: Any = ""
        elif isinstance(values, pd.Series):
            vals = _as_text(values.iloc[idx].to_numpy(dtype=object))
        else:
            vals = _as_text(np.asarray(values, dtype=object)[idx])
        reason_arr = np.asarray(reason, dtype=object)
        reasons = reason_arr[idx] if reason_arr.ndim else [str(reason)] * len(idx)
        self.parts.append(
            pd.DataFrame(
                {
                    "row": self.rows[idx].astype("int64"),
                    "column": pd.array([column] * len(idx), dtype="string"),
                    "value": pd.array(
                        vals if isinstance(vals, list) else [vals] * len(idx), dtype="string"
                    ),
                    "reason": pd.array([str(r) for r in reasons], dtype="string"),
                }
            )
        )
        self.bad |= mask

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return empty_rejects()
        out = pd.concat(self.parts, ignore_index=True)
        return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def validate_table(
    df: pd.DataFrame,
    table: str,
    *,
    duplicates: Duplicates | None = None,
    self_referrals: Literal["reject", "keep"] = "reject",
    strict: bool = False,
    row_numbers: np.ndarray | None = None,
    extra_kinds: dict[str, str] | None = None,
) -> IngestResult:
    """Validate and coerce one table, reporting every rejected row.

    Parameters
    ----------
    df
        Input frame with canonical column names (extra columns are kept).
    table
        One of ``physicians``, ``practices``, ``flows``, ``events``, ``touchpoints``.
    duplicates
        Policy for rows sharing the table key. ``"aggregate"`` (default for
        flows) sums ``count`` and ``patients`` of flows with the same source,
        target, period and provenance; ``"reject"`` (default for physicians
        and practices) keeps the first row and rejects later ones;
        ``"keep"`` keeps all rows (default for events and touchpoints).
    self_referrals
        ``"reject"`` (default) rejects flows and events whose source and
        target are the same physician; ``"keep"`` keeps them.
    strict
        Raise :class:`~refgraph.ValidationError` listing the first problems
        when any row is rejected.
    row_numbers
        Source row numbers of the input rows (default ``0..n-1``).
    extra_kinds
        Checks for columns outside the schema, e.g. ``{"same_day_count":
        "count", "average_day_wait": "float"}``; such columns are coerced
        and bad values rejected like canonical ones. A flows column
        ``same_day_count`` is always checked as a count, and rows with
        ``same_day_count > count`` are rejected.

    Returns
    -------
    IngestResult
        The accepted table, the rejects table and row accounting.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"npi": ["1234567893", "1234567890"], "name": ["A", "B"]})
    >>> res = validate_table(df, "physicians")
    >>> list(res.table["npi"])
    ['1234567893']
    >>> res.rejected[["row", "reason"]].to_dict("records")
    [{'row': 1, 'reason': 'NPI check digit is wrong'}]

    Raises
    ------
    ValidationError
        On an unknown table name, on missing required columns, or with
        ``strict=True`` when any row is rejected.
    """
    if table not in SCHEMAS:
        raise ValidationError(f"table: expected one of {sorted(SCHEMAS)}, got {table!r}")
    schema: Schema = SCHEMAS[table]
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"{table}: expected a pandas DataFrame, got {type(df).__name__}")
    if duplicates is None:
        defaults: dict[str, Duplicates] = {
            "flows": "aggregate",
            "physicians": "reject",
            "practices": "reject",
        }
        duplicates = defaults.get(table, "keep")
    if duplicates not in ("aggregate", "reject", "keep"):
        raise ValidationError(
            f"duplicates: expected 'aggregate', 'reject' or 'keep', got {duplicates!r}"
        )
    if duplicates == "aggregate" and table != "flows":
        raise ValidationError("duplicates='aggregate' is only defined for flows")
    missing_cols = [c.name for c in schema.columns if c.required and c.name not in df.columns]
    if missing_cols:
        raise ValidationError(
            f"{table}: missing required column(s) {missing_cols}; got columns {list(df.columns)}"
        )
    if df.columns.duplicated().any():
        dup = list(df.columns[df.columns.duplicated()])
        raise ValidationError(f"{table}: duplicated column names {dup}")

    n = len(df)
    rows = np.arange(n, dtype="int64") if row_numbers is None else np.asarray(row_numbers)
    rej = _Rejects(rows)
    src = df.reset_index(drop=True)
    out: dict[str, Any] = {}

    extra_kinds = dict(extra_kinds or {})
    if table == "flows" and "same_day_count" in src.columns:
        extra_kinds.setdefault("same_day_count", "count")
    extra_cols = tuple(
        Column(name, kind)  # type: ignore[arg-type]
        for name, kind in extra_kinds.items()
        if name in src.columns
    )
    for col in (*schema.columns, *extra_cols):
        if col.name not in src.columns:
            out[col.name] = _empty_column(col.kind, n)
            continue
        raw = src[col.name]
        raw_values = raw
        if col.kind == "npi":
            vals, reasons = _normalise_npis(raw)
            bad = reasons != None  # noqa: E711 - elementwise on an object array
            if not col.required:
                bad &= reasons != "missing NPI"
            rej.add(bad, col.name, raw_values, reasons)
            out[col.name] = vals
        elif col.kind == "count":
            cnt, bad, reason = _coerce_count(raw)
            rej.add(bad, col.name, raw_values, reason)
            if col.required:
                rej.add(cnt.isna().to_numpy() & ~bad, col.name, raw_values, "missing count")
            out[col.name] = cnt
        elif col.kind == "float":
            fl = _float_values(raw)
            present = raw.notna().to_numpy()
            if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
                present = present & (raw.astype("string").str.strip().fillna("") != "").to_numpy()
            rej.add(present & np.isnan(fl), col.name, raw_values, "not a number")
            out[col.name] = pd.Series(fl, dtype="float64")
        elif col.kind in ("lat", "lon"):
            num = pd.to_numeric(_without_bools(raw), errors="coerce")
            fl = num.to_numpy(dtype="float64", na_value=np.nan)
            present = raw.notna().to_numpy()
            if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
                present = present & (raw.astype("string").str.strip().fillna("") != "").to_numpy()
            limit = 90.0 if col.kind == "lat" else 180.0
            unparsable = present & np.isnan(fl)
            outside = ~np.isnan(fl) & ((np.abs(fl) > limit) | ~np.isfinite(fl))
            rej.add(unparsable, col.name, raw_values, "not a number")
            rej.add(
                outside,
                col.name,
                raw_values,
                f"{'latitude' if col.kind == 'lat' else 'longitude'} outside "
                f"[-{limit:g}, {limit:g}]",
            )
            out[col.name] = pd.Series(np.where(outside, np.nan, fl), dtype="float64")
        elif col.kind == "date":
            dates, bad, why = _coerce_date(raw)
            rej.add(bad, col.name, raw_values, why)
            if col.required:
                rej.add(dates.isna().to_numpy() & ~bad, col.name, raw_values, "missing date")
            out[col.name] = dates
        elif col.kind == "zip":
            z, bad = _coerce_zip(raw)
            rej.add(bad, col.name, raw_values, "ZIP code must be 5 digits (or ZIP+4)")
            out[col.name] = z
        elif col.kind == "category":
            s = raw.astype("string").str.strip().str.lower()
            ok = s.isin(list(col.categories)).to_numpy()
            missing = s.isna().to_numpy()
            rej.add(~ok & ~missing, col.name, raw_values, f"expected one of {list(col.categories)}")
            if col.required:
                rej.add(missing, col.name, raw_values, f"missing {col.name}")
            out[col.name] = s.where(ok, pd.NA)
        else:  # str, label
            s = raw.astype("string").str.strip()
            s = s.where(s != "", pd.NA)
            if col.required:
                rej.add(s.isna().to_numpy(), col.name, raw_values, f"missing {col.name}")
            out[col.name] = labels(s) if col.kind == "label" else s

    result = pd.DataFrame(out, copy=False)  # copy-on-write: the columns are new already
    result.index = pd.RangeIndex(n)
    extras = [c for c in src.columns if c not in out]
    for c in extras:
        result[c] = src[c].to_numpy()

    if table == "physicians":
        _fill_specialty(result)

    if table in ("physicians", "practices") and {"zip", "lat", "lon"} <= set(src.columns):
        far = _zip_mismatch(
            result["zip"], result["lat"].to_numpy(float), result["lon"].to_numpy(float)
        )
        rej.add((far != None) & ~rej.bad, "lat", result["lat"], far)  # noqa: E711

    if table in ("flows", "events") and self_referrals == "reject":
        same = (result["source_npi"] == result["target_npi"]).fillna(False).to_numpy().astype(bool)
        rej.add(
            same & ~rej.bad,
            "target_npi",
            result["target_npi"],
            "self-referral (source and target are the same physician)",
        )

    if table == "flows":
        ps, pe = result["period_start"], result["period_end"]
        inverted = (ps > pe).fillna(False).to_numpy().astype(bool)
        rej.add(
            inverted & ~rej.bad,
            "period_end",
            pe,
            "period_end is before period_start",
        )
        if "patients" in src.columns:
            more = (result["patients"] > result["count"]).fillna(False).to_numpy().astype(bool)
            rej.add(
                more & ~rej.bad,
                "patients",
                result["patients"],
                "more patients than referrals (patients > count)",
            )
        if "same_day_count" in extra_kinds and "same_day_count" in result.columns:
            over = (result["same_day_count"] > result["count"]).fillna(False)
            rej.add(
                over.to_numpy(dtype=bool) & ~rej.bad,
                "same_day_count",
                result["same_day_count"],
                "more same-day pairs than pairs (same_day_count > count)",
            )

    if table in ("events", "touchpoints"):
        # One mistyped year (2224 for 2024) would move every "as of the last
        # date" default two centuries ahead; such rows are rejected.
        horizon = pd.Timestamp.now().normalize() + pd.Timedelta(days=FUTURE_DAYS)
        late = (result["date"] > horizon).fillna(False).to_numpy().astype(bool)
        rej.add(
            late & ~rej.bad,
            "date",
            result["date"],
            f"date more than {FUTURE_DAYS} days after today ({horizon.date()})",
        )

    good = ~rej.bad
    accepted = result if good.all() else result.loc[good]  # no copy of a clean table
    n_accepted_rows = int(good.sum())

    if duplicates != "keep" and schema.key and len(accepted):
        key = list(schema.key)
        if duplicates == "reject":
            dup = accepted.duplicated(subset=key, keep="first").to_numpy()
            if dup.any():
                first_pos = accepted.groupby(key, dropna=False, sort=False).cumcount()
                del first_pos
                keycol = key[0]
                mask = np.zeros(n, dtype=bool)
                mask[np.flatnonzero(good)[dup]] = True
                rej.add(
                    mask,
                    keycol,
                    result[keycol],
                    f"duplicate {keycol} (first occurrence kept)",
                )
                accepted = accepted.loc[~dup]
                n_accepted_rows -= int(dup.sum())
        else:  # aggregate flows, rejecting groups whose sums would pass MAX_COUNT
            dup_all = duplicated_flows(accepted, checked=True)
            over = _overflowing_groups(accepted, dup_all)
            if over.any():
                mask = np.zeros(n, dtype=bool)
                mask[np.flatnonzero(good)[over]] = True
                rej.add(
                    mask,
                    "count",
                    result["count"],
                    PAST_EXACT,
                )
                accepted = accepted.loc[~over]
                n_accepted_rows -= int(over.sum())
                dup_all = duplicated_flows(accepted, checked=True)
            accepted = _aggregate_flows(accepted, dup_all)

    rejected = rej.frame()
    accepted = accepted.reset_index(drop=True)
    if table == "flows":  # a selection or a sum made the one-date columns dense again
        accepted = compact_flows(accepted)
    res = IngestResult(accepted, rejected, n, n_accepted_rows)
    assert res.n_accepted_rows + res.n_rejected_rows == n, "row accounting broken"
    if len(rejected):
        logger.info("%s: %d of %d rows rejected", table, res.n_rejected_rows, n)
        if strict:
            raise strict_error(table, rejected, n)
    return res


def _float_values(raw: pd.Series) -> np.ndarray:
    """``raw`` as float64, unparseable values NaN; clean Arrow text is cast by Arrow."""
    if pd.api.types.is_string_dtype(raw.dtype) and raw.dtype != object:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:  # strict: any odd text fails the cast and the column goes through pandas
            cast = pc.cast(pa.array(raw.array, type=pa.large_string()), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        else:
            return np.asarray(cast.to_numpy(zero_copy_only=False), dtype=np.float64)
    num = pd.to_numeric(_without_bools(raw), errors="coerce")
    return num.to_numpy(dtype="float64", na_value=np.nan)


def _without_bools(raw: pd.Series) -> pd.Series:
    """``raw`` with booleans made missing (a boolean is not a number here)."""
    bools = _bool_values(raw)
    return raw.where(~bools, None) if bools.any() else raw


def _empty_column(kind: str, n: int) -> pd.Series:
    if kind in ("lat", "lon", "float"):
        return pd.Series(np.full(n, np.nan))
    if kind == "count":  # built from arrays: a list of n Python NAs costs seconds at 1M rows
        return pd.Series(pd.arrays.IntegerArray(np.zeros(n, np.int64), np.ones(n, bool)))
    if kind == "date":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    if kind == "label":
        return const_labels(None, n)
    import pyarrow as pa

    return pd.Series(pd.array(pa.nulls(n, pa.large_string()), dtype="string"))


def _fill_specialty(result: pd.DataFrame) -> None:
    """Normalise specialties to the vocabulary; fill missing ones from NUCC taxonomy codes.

    Values that are not in the vocabulary are kept (lower-cased), not dropped.
    """
    try:
        from .specialties import normalize_specialty, specialty_from_taxonomy
    except ImportError:  # pragma: no cover - the vocabulary ships with refgraph
        return
    raw = result["specialty"].astype(object).where(result["specialty"].notna(), None).tolist()
    tax = result["taxonomy"].astype(object).where(result["taxonomy"].notna(), None).tolist()
    cache: dict[object, object] = {}
    out: list[object] = []
    for v, t in zip(raw, tax):
        key = (v, t)
        if key not in cache:
            if isinstance(v, str):
                cache[key] = normalize_specialty(v) or v.strip().lower()
            elif isinstance(t, str):
                cache[key] = specialty_from_taxonomy(t)
            else:
                cache[key] = None
        out.append(cache[key])
    result["specialty"] = pd.array(out, dtype="string")


_FLOW_KEY = FLOW_KEY


def _summed_columns(flows: pd.DataFrame) -> list[str]:
    extras = [c for c in flows.columns if c not in (*_FLOW_KEY, "count", "patients")]
    return [c for c in extras if c.endswith("_count") and pd.api.types.is_numeric_dtype(flows[c])]


def _overflowing_groups(flows: pd.DataFrame, dup: np.ndarray | None = None) -> np.ndarray:
    """Rows of duplicate-flow groups whose summed counts would exceed :data:`MAX_COUNT`.

    The sums are taken in float64 first: below 2**62 the int64 sum is exact
    and decides; at or above it the group is over the bound either way.
    """
    if dup is None:
        dup = duplicated_flows(flows)
    out = np.zeros(len(flows), dtype=bool)
    if not dup.any():
        return out
    part = flows.loc[dup]
    cols = ["count", "patients", *_summed_columns(flows)]
    largest = max(float(part[c].max()) if part[c].notna().any() else 0.0 for c in cols)
    if largest * len(part) <= MAX_COUNT:  # no group can reach the bound: skip the group-by
        return out
    keys = [part[k] for k in _FLOW_KEY]
    fsum = part[cols].astype("float64").groupby(keys, dropna=False, observed=True).transform("sum")
    huge = (fsum >= 2.0**62).to_numpy().any(axis=1)
    safe = part[cols].astype("Int64")
    if huge.any():  # avoid a wrapping int64 sum; these groups are over the bound anyway
        safe.iloc[np.flatnonzero(huge)] = 0
    isum = safe.groupby(keys, dropna=False, observed=True).transform("sum")
    over = huge | (isum > MAX_COUNT).fillna(False).to_numpy(dtype=bool).any(axis=1)
    out[np.flatnonzero(dup)] = over
    return out


def add_line_rejects(res: IngestResult, lines: pd.DataFrame, n_lines: int) -> IngestResult:
    """``res`` with the rejects of unreadable lines added and ``n_input`` set to ``n_lines``.

    ``lines`` is a rejects table of lines the reader could not split into
    fields (column ``"<line>"``); ``res`` covers the others.
    """
    if len(lines):
        res.rejected = (
            pd.concat([res.rejected, lines], ignore_index=True)
            .sort_values(["row", "column"], kind="stable")
            .reset_index(drop=True)
        )
    res.n_input = n_lines
    assert res.n_accepted_rows + res.n_rejected_rows == n_lines, "row accounting broken"
    return res


def _aggregate_flows(flows: pd.DataFrame, dup: np.ndarray | None = None) -> pd.DataFrame:
    """Merge flows that share source, target, period and provenance.

    ``count`` and ``patients`` are summed (``patients`` stays missing when
    all merged values are missing); other columns keep the first value
    (numeric extras named like counts are summed too). Only the duplicated
    keys go through the group-by, so the common case stays fast.
    """
    key = _FLOW_KEY
    if dup is None:
        dup = duplicated_flows(flows)
    if not dup.any():
        return flows
    part = flows.loc[dup]
    g = part.groupby(key, dropna=False, sort=False, observed=True)
    sums = g[["count", "patients"]].sum(min_count=1)
    extras = [c for c in flows.columns if c not in (*key, "count", "patients")]
    summed = _summed_columns(flows)
    pieces = [sums]
    if summed:
        pieces.append(g[summed].sum(min_count=1))
    others = [c for c in extras if c not in summed]
    if others:
        pieces.append(g[others].first())
    merged = pd.concat(pieces, axis=1).reset_index()
    out = pd.concat([flows.loc[~dup], merged[list(flows.columns)]], ignore_index=True)
    for c in ("count", "patients", *summed):
        out[c] = out[c].astype(flows[c].dtype)
    return out
