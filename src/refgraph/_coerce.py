"""Vectorised coercion of ZIP, count and date columns, reporting what cannot be coerced.

Also the integer-coded finder of repeated flow keys used by validation and the readers.
"""

from __future__ import annotations

import functools
import warnings
from typing import Literal

import numpy as np
import pandas as pd


def _coerce_zip(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """ZIP codes as 5-character strings; ZIP+4 is cut to 5 digits."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        fl = values.to_numpy(dtype="float64", na_value=np.nan)
        s = pd.Series(
            [f"{int(v):05d}" if np.isfinite(v) and v >= 0 and v == int(v) else None for v in fl],
            index=values.index,
            dtype="string",
        )
        bad = np.isfinite(fl) & s.isna().to_numpy()
        return s, bad
    s = values.astype("string").str.strip().str.replace("-", "", regex=False)
    present = s.notna().to_numpy() & (s.fillna("") != "").to_numpy()
    digits = s.str.isdigit().fillna(False).to_numpy().astype(bool)
    lens = s.str.len().fillna(0).to_numpy()
    ok = present & digits & np.isin(lens, [3, 4, 5, 9])
    out = s.where(ok, pd.NA)
    out = out.where(~np.isin(lens, [9]), out.str.slice(0, 5))
    out = out.where(~np.isin(lens, [3, 4]), out.str.zfill(5))
    return out, present & ~ok


BOOL_COUNT = "a boolean (True/False) is not a count"


def _int_reasons(negative: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Reasons of bad integer counts; one 0-d reason when none is bad (no n-long text array)."""
    if bad.any():
        return np.where(negative, "negative count", "count too large")
    return np.asarray("count too large", dtype=object)


def _coerce_count(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Non-negative whole numbers up to :data:`MAX_COUNT` as nullable Int64, with reasons.

    Booleans (a bool column, or ``True``/``False`` among objects) are rejected:
    ``True`` is not a referral count.
    """
    bools = _bool_values(values)
    if bools.any():
        keep = values.where(~bools, None) if values.dtype == object else None
        if keep is None:  # a whole bool column
            n = len(values)
            out = pd.Series(pd.array([pd.NA] * n, dtype="Int64"), index=values.index)
            return out, bools, np.full(n, BOOL_COUNT, dtype=object)
        cnt, bad, reason = _coerce_count(keep)
        reason = np.where(bools, BOOL_COUNT, reason)
        return cnt, bad | bools, reason
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        if isinstance(values.dtype, np.dtype):  # plain numpy integers: no missing values
            arr = values.to_numpy()
            negative = arr < 0
            too_big = arr > MAX_COUNT
            bad = negative | too_big
            reason = _int_reasons(negative, bad)
            if bad.any():
                arr = np.where(bad, 0, arr)
            out = pd.Series(pd.array(arr.astype(np.int64), dtype="Int64"), index=values.index)
            return (out.where(~bad) if bad.any() else out), bad, reason
        if str(values.dtype) == "UInt64":
            big = (values > MAX_COUNT).fillna(False).to_numpy(dtype=bool)
            if big.any():
                ints = values.where(~big).astype("Int64")
                return ints, big, np.full(len(values), "count too large", dtype=object)
        ints = values.astype("Int64")
        negative = (ints < 0).fillna(False).to_numpy(dtype=bool)
        too_big = (ints > MAX_COUNT).fillna(False).to_numpy(dtype=bool)
        bad = negative | too_big
        return ints.where(~bad), bad, _int_reasons(negative, bad)
    if pd.api.types.is_string_dtype(values.dtype) and values.dtype != object:
        # fast path: text that is all clean integers (the usual case in big files)
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            ints_pa = pc.cast(pa.array(values, from_pandas=True), pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        else:
            as_int = pd.Series(ints_pa.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get))
            as_int.index = values.index
            return _coerce_count(as_int)
    num = pd.to_numeric(values, errors="coerce")
    fl = num.to_numpy(dtype="float64", na_value=np.nan)
    present = values.notna().to_numpy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        present = present & (values.astype("string").str.strip().fillna("") != "").to_numpy()
    unparsable = present & np.isnan(fl)
    fractional = np.isfinite(fl) & (np.floor(fl) != fl)
    negative = np.isfinite(fl) & (fl < 0)
    too_big = np.isfinite(fl) & (fl > float(MAX_COUNT))
    edge = np.flatnonzero(np.isfinite(fl) & (fl == float(MAX_COUNT)))
    for i in edge:  # float64 rounds 2**53 + 1 to 2**53: decide exactly on the text
        try:
            too_big[i] = int(str(values.iloc[i]).strip()) > MAX_COUNT
        except ValueError:
            pass
    infinite = np.isinf(fl)
    bad = unparsable | negative | fractional | too_big | infinite
    reason = np.where(
        unparsable & ~infinite,
        "not a number",
        np.where(
            negative,
            "negative count",
            np.where(too_big | infinite, "count too large", "count must be a whole number"),
        ),
    )
    out = pd.Series(np.where(np.isfinite(fl) & ~bad, fl, np.nan), index=values.index)
    return out.astype("Int64"), bad, reason


_NS_MIN = pd.Timestamp("1677-09-22")
_NS_MAX = pd.Timestamp("2262-04-11")

#: Largest accepted count (2**53, the largest integer a float64 holds exactly);
#: larger values, and sums of duplicate flows that would exceed it, are rejected.
MAX_COUNT = 2**53

# ----------------------------------------------------------------------------- dates
# One policy per column (see docs/concepts.md, "Dates and time zones"):
# - a time-zone offset is dropped and the local date and time are kept as written;
# - ISO 8601 (``2024-03-01``, ``2024-03-01T10:00``) and ``YYYYMMDD`` are read as such;
# - numeric ``a/b/yyyy`` (also ``.`` or ``-``) is read with one order per column:
#   day-first when some value can only be day-first (a > 12) and none can only be
#   month-first (b > 12), otherwise month-first (the US convention); when a
#   column has values of both kinds, the values that fit both orders are rejected
#   as ambiguous;
# - text with a month name and a 4-digit year (``5 Jan 2024``) is read as written;
# - anything else, including bare numbers, is rejected.
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)"
_TZ_RE = r"^(.*\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_ISO_RE = rf"^\d{{4}}-\d{{1,2}}-\d{{1,2}}{_TIME}?$"
_NUM_RE = rf"^(\d{{1,2}})([/.-])(\d{{1,2}})\2(\d{{4}}|\d{{2}})({_TIME}?)$"
_MONTHS = r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b"

AMBIGUOUS_DATE = "ambiguous date: the column has both day-first and month-first dates"


def _parse_date_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse text dates with one policy for the column.

    ``values`` holds distinct non-blank strings. Returns ``datetime64[us]``
    values (NaT where rejected) and a reason per value (``None`` when parsed).
    """
    text = values.astype("string").str.strip()
    text = text.str.replace(_TZ_RE, r"\1", regex=True)
    n = len(text)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
    reason = np.full(n, "unparseable date", dtype=object)

    def parse(mask: np.ndarray, fmt: str, src: pd.Series | None = None) -> None:
        if not mask.any():
            return
        part = (text if src is None else src)[mask]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = pd.to_datetime(part, format=fmt, errors="coerce")
        arr = np.asarray(got.to_numpy(dtype="datetime64[us]"))
        ok = ~np.isnat(arr)
        idx = np.flatnonzero(mask)
        out[idx[ok]] = arr[ok]
        reason[idx[ok]] = None

    iso = text.str.fullmatch(_ISO_RE).fillna(False).to_numpy(dtype=bool)
    parse(iso, "ISO8601")
    compact = text.str.fullmatch(r"\d{8}").fillna(False).to_numpy(dtype=bool)
    parse(compact, "%Y%m%d")
    parts = text.str.extract(_NUM_RE)
    num = parts[0].notna().to_numpy(dtype=bool)
    if num.any():
        a = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float, na_value=0)
        b = pd.to_numeric(parts[2], errors="coerce").to_numpy(dtype=float, na_value=0)
        only_day_first = num & (a > 12) & (b <= 12)
        only_month_first = num & (b > 12) & (a <= 12)
        both_ok = num & (a <= 12) & (b <= 12)
        conflict = only_day_first.any() and only_month_first.any()
        day_first_col = only_day_first.any() and not only_month_first.any()
        yy = parts[3].fillna("")
        short = yy.str.len() == 2
        century = np.where(pd.to_numeric(yy, errors="coerce").fillna(0) < 69, "20", "19")
        year = yy.where(~short, pd.Series(century, index=yy.index) + yy)  # strptime's %y pivot
        time = parts[4].fillna("").str.replace(",", ".", regex=False)
        use_both = both_ok & (not conflict)
        day_first = only_day_first | (use_both & day_first_col)
        month_first = only_month_first | (use_both & (not day_first_col))
        for day, month, mask in (
            (parts[0], parts[2], day_first),
            (parts[2], parts[0], month_first),
        ):
            iso_text = year + "-" + month.fillna("") + "-" + day.fillna("") + time
            parse(mask, "ISO8601", iso_text)
        if conflict:
            reason[both_ok] = AMBIGUOUS_DATE
    rest = ~(iso | compact | num)
    if rest.any():
        has_month = text.str.contains(_MONTHS, regex=True).fillna(False).to_numpy(dtype=bool)
        has_year = text.str.contains(r"(?<!\d)\d{4}(?!\d)", regex=True).fillna(False)
        parse(rest & has_month & has_year.to_numpy(dtype=bool), "mixed")
    return out, reason


def _coerce_date(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse a date column with one policy (see :func:`_parse_date_text`).

    Returns naive ``datetime64[ns]`` values, the mask of rejected values and
    a reason per value. Time-zone-aware values keep their local date and
    time (the offset is dropped, not converted to UTC); dates outside the
    nanosecond range 1677-09-22..2262-04-11 are rejected.
    """
    n = len(values)
    reasons = np.full(n, None, dtype=object)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        arr = _datetime_us(values)
    elif n and _bool_values(values).any():
        arr = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        present = values.notna().to_numpy(dtype=bool)
        reasons[present] = "unparseable date"
        return pd.Series(arr.astype("datetime64[ns]")), present, reasons
    else:
        codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
        u = pd.Series(uniques, dtype="string").str.strip()
        blank = (u == "").to_numpy(dtype=bool, na_value=True)
        u_arr = np.full(len(u), np.datetime64("NaT"), dtype="datetime64[us]")
        u_reason = np.full(len(u), None, dtype=object)
        if (~blank).any():
            got, why = _parse_date_text(u[~blank].reset_index(drop=True))
            u_arr[~blank] = got
            u_reason[~blank] = why
        arr = np.append(u_arr, np.datetime64("NaT"))[codes]
        reasons = np.append(u_reason, np.array([None], dtype=object))[codes]
    lo, hi = np.datetime64(_NS_MIN.to_datetime64(), "us"), np.datetime64(_NS_MAX, "us")
    outside = ~np.isnat(arr) & ((arr < lo) | (arr > hi))
    reasons[outside] = "date outside 1677-09-22..2262-04-11"
    arr = np.where(outside, np.datetime64("NaT"), arr)
    bad = np.asarray(reasons != None, dtype=bool)  # noqa: E711 - elementwise
    return pd.Series(arr.astype("datetime64[ns]")), bad, reasons


def _datetime_us(values: pd.Series) -> np.ndarray:
    """Naive ``datetime64[us]`` values of any pandas or Arrow date/timestamp column.

    Arrow ``date32``/``date64`` (which have no time zone) become midnight;
    time-zone-aware timestamps keep their local date and time.
    """
    dtype = values.dtype
    is_date = isinstance(dtype, pd.ArrowDtype) and str(dtype.pyarrow_dtype).startswith("date")
    if not is_date and getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    return np.asarray(values.astype("datetime64[us]").to_numpy(), dtype="datetime64[us]")


def _bool_values(values: pd.Series) -> np.ndarray:
    """Mask of values that are booleans (a bool dtype, or Python/numpy bools in objects)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.notna().to_numpy(dtype=bool)
    if values.dtype == object:
        return np.fromiter(
            (isinstance(v, (bool, np.bool_)) for v in values.to_numpy(dtype=object)),
            dtype=bool,
            count=len(values),
        )
    return np.zeros(len(values), dtype=bool)


# ----------------------------------------------------------------------------- ZIP vs coordinates
#: Largest accepted distance (km) between a row's lat/lon and the centroid of
#: its ZIP code. The largest US ZIP areas (rural Alaska, Nevada) are a few
#: hundred km across; a swapped lat/lon or a sign error is thousands of km off.
ZIP_MAX_KM = 500.0


@functools.lru_cache(maxsize=1)
def zip_frame() -> pd.DataFrame:
    """ZIP codes of the ``zipcodes`` package, one row each, sorted: city, state, centroid."""
    import zipcodes

    rows = zipcodes.list_all()
    df = pd.DataFrame(
        {
            "zip": [r["zip_code"] for r in rows],
            "city": [r.get("city") for r in rows],
            "state": [r.get("state") for r in rows],
            "lat": pd.to_numeric(pd.Series([r.get("lat") for r in rows]), errors="coerce"),
            "lon": pd.to_numeric(pd.Series([r.get("long") for r in rows]), errors="coerce"),
            "active": [bool(r.get("active")) for r in rows],
            "zip_type": [r.get("zip_code_type") for r in rows],
        }
    )
    df = df.drop_duplicates("zip").set_index("zip").sort_index()
    df.index = df.index.astype("string")
    return df


@functools.lru_cache(maxsize=1)
def _zip_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted 5-digit ZIP codes and their centroids, as arrays for ``searchsorted``."""
    z = zip_frame()
    return z.index.to_numpy(dtype=str), z["lat"].to_numpy(float), z["lon"].to_numpy(float)


def _zip_mismatch(zips: pd.Series, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A reason per row whose lat/lon lies more than :data:`ZIP_MAX_KM` from its ZIP centroid.

    Rows without a ZIP, without both coordinates or with a ZIP the
    ``zipcodes`` package does not know are not checked (reason ``None``).
    """
    from ._distance import haversine_km

    n = len(zips)
    reasons = np.full(n, None, dtype=object)
    has = zips.notna().to_numpy(dtype=bool) & ~np.isnan(lat) & ~np.isnan(lon)
    if not has.any():
        return reasons
    table_zip, table_lat, table_lon = _zip_table()
    idx = np.flatnonzero(has)
    z = zips.to_numpy(dtype=object)[idx].astype(str)
    pos = np.searchsorted(table_zip, z).clip(0, len(table_zip) - 1)
    known = table_zip[pos] == z
    idx, pos = idx[known], pos[known]
    clat, clon = table_lat[pos], table_lon[pos]
    d = haversine_km(lat[idx], lon[idx], clat, clon)
    far = d > ZIP_MAX_KM
    swapped = haversine_km(lon[idx], lat[idx], clat, clon) <= ZIP_MAX_KM
    for i, dist, sw, zc in zip(idx[far], d[far], swapped[far], z[known][far]):
        hint = "; lat and lon look swapped" if sw else ""
        reasons[i] = (
            f"lat/lon is {dist:,.0f} km from the centroid of ZIP {zc} "
            f"(more than {ZIP_MAX_KM:g} km){hint}"
        )
    return reasons


#: The columns that identify a flow (rows sharing them are one flow, summed).
FLOW_KEY = ["source_npi", "target_npi", "period_start", "period_end", "provenance"]


def duplicated_flows(
    flows: pd.DataFrame, keep: Literal["first", False] = False, *, checked: bool = False
) -> np.ndarray:
    """Rows of ``flows`` whose key (source, target, period, provenance) is repeated.

    Same answer as ``flows.duplicated(subset=key, keep=keep)`` with missing
    values equal to each other, computed on integer codes: NPIs of 10 digits
    become their int64 value (text that is not 10 digits falls back to
    factorising), the other key columns their factorised codes, and a key
    column holding one value throughout is left out. ``checked=True`` says
    the NPIs are known to be 10 ASCII digits (validated flows).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"source_npi": ["1234567893", "1234567893", "1003033051"],
    ...                   "target_npi": ["1003033051"] * 3, "period_start": pd.NaT,
    ...                   "period_end": pd.NaT, "provenance": "x"})
    >>> duplicated_flows(f).tolist()
    [True, True, False]
    """
    codes = {}
    for k in FLOW_KEY:
        col = flows[k]
        if k not in ("source_npi", "target_npi") and _constant(col):
            continue
        code = _npi_codes(col, checked) if k in ("source_npi", "target_npi") else None
        if code is None:
            code = pd.factorize(col, use_na_sentinel=True)[0].astype(np.int64, copy=False)
        codes[k] = code
    src, dst = codes.get("source_npi"), codes.get("target_npi")
    if src is not None and dst is not None and dst.min(initial=0) >= -1:
        # one int64 key for the pair: source code (< 2**29) above the target NPI (< 2**34)
        s_codes, uniques = pd.factorize(src)
        if len(uniques) < 2**29:
            del codes["source_npi"], codes["target_npi"]
            codes["pair"] = (s_codes.astype(np.int64) << 34) | (dst + 1)
    if len(codes) == 1:
        return pd.Series(next(iter(codes.values()))).duplicated(keep=keep).to_numpy(dtype=bool)
    return pd.DataFrame(codes).duplicated(keep=keep).to_numpy(dtype=bool)


def _constant(col: pd.Series) -> bool:
    """Whether ``col`` holds one value (missing counts as a value) in every row."""
    if len(col) == 0:
        return True
    if isinstance(col.dtype, np.dtype) and col.dtype.kind == "M":
        i8 = col.to_numpy().view(np.int64)
        return i8.strides == (0,) or bool(i8.min() == i8[0] == i8.max())
    if isinstance(col.dtype, pd.CategoricalDtype):  # a label column: its codes
        codes = col.array.codes  # a view (``.cat.codes`` is a copy)
        return bool(codes.min() == codes[0] == codes.max())
    if pd.api.types.is_string_dtype(col.dtype) and not col.dtype == object:
        if col.isna().all():
            return True
        return bool(col.notna().all() and col.min() == col.max())
    return False


def _npi_codes(col: pd.Series, checked: bool) -> np.ndarray | None:
    """NPI strings as int64 (missing: -1), or ``None`` when some are not 10 ASCII digits."""
    if not pd.api.types.is_string_dtype(col.dtype):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.chunked_array(pa.array(col.array, type=pa.large_string()))
    except (pa.ArrowException, TypeError, ValueError):
        return None
    if (
        not checked
        and not pc.all(pc.match_substring_regex(arr, r"^[0-9]{10}$"), skip_nulls=True).as_py()
    ):
        return None
    ints = pc.fill_null(pc.cast(arr, pa.int64()), -1)
    return np.asarray(ints.to_numpy(), dtype=np.int64)
