"""Vectorised coercion of ZIP, count and date columns, reporting what cannot be coerced."""

from __future__ import annotations

import warnings

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


def _coerce_count(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Non-negative whole numbers as nullable Int64, with a reason per bad value."""
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        if isinstance(values.dtype, np.dtype):  # plain numpy integers: no missing values
            arr = values.to_numpy()
            negative = arr < 0
            too_big = arr > 2**53
            bad = negative | too_big
            reason = np.where(negative, "negative count", "count too large")
            out = pd.Series(pd.array(arr, dtype="Int64"), index=values.index)
            return (out.where(~bad) if bad.any() else out), bad, reason
        ints = values.astype("Int64")
        negative = (ints < 0).fillna(False).to_numpy(dtype=bool)
        too_big = (ints > 2**53).fillna(False).to_numpy(dtype=bool)
        bad = negative | too_big
        reason = np.where(negative, "negative count", "count too large")
        return ints.where(~bad), bad, reason
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
    too_big = np.isfinite(fl) & (fl > 2.0**53)
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


def _coerce_date(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse dates; unparseable, bare numbers and out-of-range dates are flagged."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        out = values
        if getattr(out.dt, "tz", None) is not None:
            out = out.dt.tz_convert("UTC").dt.tz_localize(None)
        bad = ((out < _NS_MIN) | (out > _NS_MAX)).fillna(False).to_numpy(dtype=bool)
        return out.where(~bad).astype("datetime64[ns]"), bad
    text = values.astype("string").str.strip()
    present = values.notna().to_numpy() & (text.fillna("") != "").to_numpy()
    # bare numbers other than YYYYMMDD are not dates (dateutil would guess a day)
    digits = text.str.fullmatch(r"[+-]?\d+(\.\d+)?").fillna(False).to_numpy(dtype=bool)
    yyyymmdd = text.str.fullmatch(r"\d{8}").fillna(False).to_numpy(dtype=bool)
    numeric = digits & ~yyyymmdd
    text = text.where(~numeric, pd.NA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        if (present & ~numeric & parsed.isna().to_numpy()).any():
            retry = pd.to_datetime(text, errors="coerce", format="mixed")
            parsed = parsed.fillna(retry)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    out_of_range = ((parsed < _NS_MIN) | (parsed > _NS_MAX)).fillna(False).to_numpy(dtype=bool)
    parsed = parsed.where(~out_of_range)
    bad = present & parsed.isna().to_numpy()
    return parsed.astype("datetime64[ns]"), bad
