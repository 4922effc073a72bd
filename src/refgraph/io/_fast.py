"""The fast path of the flow readers: a clean table of text checked in Arrow and numpy.

A file's text columns, as pyarrow parsed them, are checked row by row with the
rules of :func:`refgraph._validate.validate_table` for flows, without pandas
text or Python objects. A row that passes every check is accepted as it is and
its typed values are built straight from the Arrow arrays. A row that fails any
check here (a "suspect" row) goes, with the other suspect rows only, through
validate_table, which accepts it (for example an NPI with spaces around it) or
rejects it with its reason. The fast path itself never rejects anything, and the
result is the one validate_table gives on the whole table: the same columns,
dtypes, values, row order and rejects (``tests/test_io_fast.py`` compares the
two on clean and damaged tables).

Checks, as validate_table makes them for text:

- NPIs: exactly 10 ASCII digits (no spaces, sign or ``.0``, not missing) with
  the right check digit (:func:`refgraph.is_valid_npi`);
- counts: Arrow's strict text to int64 cast (validate_table's own first step),
  0..2**53, present where required;
- dates: the distinct texts parsed by the validator's date parser (one policy
  per column, decided over the whole column as there); a column with a date
  the parser rejects sends the whole table to validate_table;
- text: nothing to strip;
- float extras (``floats``, as validate_table's ``extra_kinds`` ``"float"``): text
  Arrow casts to a finite double (the same double as pandas' parse), or missing;
- no self-referral, no ``patients > count``, no ``same_day_count > count``,
  no ``period_end < period_start``.

Rows repeating a flow key are a valid input, not a reject: only those rows go
through validate_table (which sums them, or rejects a group whose sum passes
2**53), and the result is assembled in validate_table's order. Every check but
the date policy is a check of one row, so the suspect rows are judged alone as
they would be among all the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._coerce import MAX_COUNT, _coerce_date
from .._npi import luhn_ok_ints
from .._tables import npi_ints as _column_npi_ints
from .._validate import IngestResult, empty_rejects, validate_table
from ._fast_keys import repeated_keys, repeated_pairs

__all__ = ["fast_flows", "npi_ints"]

_NPI = ("source_npi", "target_npi")
_COUNTS = ("count", "patients")
_DATES = ("period_start", "period_end")
_KNOWN = {*_NPI, *_COUNTS, *_DATES, "provenance", "same_day_count"}


def _chunked(arr: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``arr`` as a chunked array, without copying (pyarrow's CSV reader gives many chunks)."""
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def _is_text(a: pa.Array) -> bool:
    return bool(pa.types.is_string(a.type) or pa.types.is_large_string(a.type))


def _npi_rows(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """int64 values of a text column of NPIs (0 where not valid) and the mask of valid ones.

    Valid: present, exactly 10 ASCII digits, the right check digit. ``None``
    when the column is not text.
    """
    c = _chunked(arr)
    if not _is_text(c):
        return None
    if c.num_chunks == 0:
        return np.empty(0, np.int64), np.empty(0, bool)
    if c.num_chunks == 1:
        return _npi_chunk(c.chunk(0))
    out, ok = np.empty(len(c), np.int64), np.empty(len(c), bool)
    at = 0
    for a in c.chunks:  # each chunk into its place: no list of parts, no concatenation
        out[at : at + len(a)], ok[at : at + len(a)] = _npi_chunk(a)
        at += len(a)
    return out, ok


def _npi_chunk(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_npi_rows` of one Arrow text array, read from its buffers."""
    n = len(a)
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, bool)
    width = np.int64 if pa.types.is_large_string(a.type) else np.int32
    offsets = np.frombuffer(a.buffers()[1], dtype=width)[a.offset : a.offset + n + 1]
    data = (
        np.frombuffer(a.buffers()[2], dtype=np.uint8) if a.buffers()[2] else np.zeros(0, np.uint8)
    )
    ok = np.diff(offsets) == 10
    if a.null_count:
        ok &= np.asarray(a.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    start = int(offsets[0])
    if ok.all() and int(offsets[-1]) - start == 10 * n:  # the usual column: one flat block
        flat = data[start : start + 10 * n]
        if (flat - np.uint8(48)).max() <= 9:  # 10 ASCII digits each (others wrap above 9)
            out = np.asarray(pc.cast(a, pa.int64()).to_numpy(), dtype=np.int64).copy()
            ok = luhn_ok_ints(out)
            out[~ok] = 0
            return out, ok
    digits = np.zeros((n, 10), dtype=np.uint8)
    at = offsets[:-1][ok].astype(np.int64)
    digits[ok] = data[at[:, None] + np.arange(10)] - np.uint8(48)
    ok &= (digits <= 9).all(axis=1)
    digits[~ok] = 0
    out = np.zeros(n, dtype=np.int64)
    for k in range(10):
        out *= 10
        out += digits[:, k]
    ok &= luhn_ok_ints(out)
    out[~ok] = 0
    return out, ok


def npi_ints(arr: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """The int64 values of a text column of valid NPIs; ``None`` if any value is not one.

    A valid value is exactly 10 ASCII digits whose last digit is the NPI check
    digit (Luhn over ``80840`` and the first nine); a missing value, a space, a
    sign or a ``.0`` makes the answer ``None``. The digits are read straight
    from the Arrow character buffer.

    Examples
    --------
    >>> import pyarrow as pa
    >>> npi_ints(pa.array(["1234567893", "1003033051"])).tolist()
    [1234567893, 1003033051]
    >>> npi_ints(pa.array(["1234567893", "1234567890"])) is None  # check digit
    True
    >>> npi_ints(pa.array([" 234567893", "01234567893", None])) is None  # not 10 digits
    True
    """
    got = _npi_rows(arr)
    if got is None or not got[1].all():
        return None
    return got[0]


def _count_rows(
    arr: pa.Array | pa.ChunkedArray, required: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A column of counts: int64 values, missing mask, mask of rows accepted as they are.

    A row is accepted as it is when its text is what Arrow's strict int64
    cast reads (validate_table's own first step), or it is an integer (a
    Parquet column), within 0..2**53, or missing where that is allowed; any
    other row is left to validate_table.
    """
    a = _chunked(arr)
    if pa.types.is_integer(a.type) and not pa.types.is_uint64(a.type):  # Parquet
        ints, ok = a.cast(pa.int64()), np.ones(len(a), dtype=bool)
    elif not _is_text(a):
        return None
    else:
        try:
            ints = pc.cast(a, pa.int64())
            ok = np.ones(len(a), dtype=bool)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            plain = pc.fill_null(
                pc.and_(
                    pc.match_substring_regex(a, r"^[0-9]+$"), pc.less_equal(pc.binary_length(a), 16)
                ),
                True,  # missing values are decided below
            )
            ok = np.asarray(plain.to_numpy(zero_copy_only=False), dtype=bool)
            ints = pc.cast(pc.if_else(plain, a, pa.scalar("0", a.type)), pa.int64())
    missing = np.asarray(ints.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(pc.fill_null(ints, 0).to_numpy(), dtype=np.int64)
    ok &= (values >= 0) & (values <= MAX_COUNT)
    if required:
        ok &= ~missing
    if not ok.all():
        values = np.where(ok, values, 0)
    return _writable(values), missing & ok, ok


def _writable(values: np.ndarray) -> np.ndarray:
    """``values``, or a copy when it is a read-only view of Arrow memory.

    The table's columns are built on these arrays without a copy, and a
    DataFrame's columns must take writes (``flows.loc[i, "count"] = 5``).
    """
    return values if values.flags.writeable else values.copy()


def _dates(arr: pa.Array | pa.ChunkedArray) -> pd.Series | None:
    """A column of dates as ``datetime64[ns]``, or ``None`` if any value is rejected.

    The distinct texts go through the validator's own parser, whose one
    policy per column is decided over the distinct texts too; Arrow dates and
    timestamps (Parquet) are converted as the Parquet reader converts them and
    checked by the same function.
    """
    a = _chunked(arr)
    if pa.types.is_date32(a.type):  # Parquet's usual date column
        return _days(a)
    if pa.types.is_date(a.type) or pa.types.is_timestamp(a.type):  # Parquet: as read_table does
        got, bad, _ = _coerce_date(pa.table({"d": a}).to_pandas(date_as_object=False)["d"])
        return None if bad.any() else got
    if not _is_text(a):
        return None
    distinct = pc.unique(a).drop_null()
    dates, bad, _ = _coerce_date(pd.Series(pd.array(distinct, dtype="string")))
    if bad.any():
        return None
    values = dates.to_numpy(dtype="datetime64[ns]")
    if len(distinct) == 1 and not a.null_count:  # one date throughout (a file's period)
        return pd.Series(np.full(len(a), values[0]), copy=False)
    codes = pc.fill_null(pc.index_in(a, value_set=distinct), len(distinct))
    values = np.append(values, np.datetime64("NaT", "ns"))
    return pd.Series(values[np.asarray(codes.to_numpy(), dtype=np.int64)], copy=False)


#: Days since 1970-01-01 of the first and last dates ``datetime64[ns]`` holds (the
#: validator's range, 1677-09-22..2262-04-11).
_NS_DAYS = (-106_751, 106_751)


def _days(a: pa.ChunkedArray) -> pd.Series | None:
    """A ``date32`` column as ``datetime64[ns]`` midnights (what the validator makes of it).

    Straight from the day numbers, one int64 array written once; ``None`` (the
    validator's business) when a date is outside ``datetime64[ns]``'s range.
    """
    days = np.asarray(pc.fill_null(a.cast(pa.int32()), 0).to_numpy(), dtype=np.int32)
    if len(days) and (days.min() < _NS_DAYS[0] or days.max() > _NS_DAYS[1]):
        return None
    out = np.multiply(days, np.int64(86_400 * 10**9), dtype=np.int64)
    del days
    if a.null_count:
        out[np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = np.iinfo(
            np.int64
        ).min
    return pd.Series(out.view("datetime64[ns]"), copy=False)


_PLAIN_FLOAT = r"^-?[0-9]{1,17}(\.[0-9]{1,17})?$"


def _float_rows(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """A float extra column of text: float64 values (NaN where missing), rows accepted as is.

    Arrow's cast of the whole column, when every text parses, or else of the
    plain decimal texts only; a row is accepted as is when its value is finite
    and not ``-0`` (pandas reads ``"-0"`` as the integer 0; ``nan`` and ``inf``
    texts are left to validate_table).
    """
    a = _chunked(arr)
    if not _is_text(a):
        return None
    try:
        cast = pc.cast(a, pa.float64())
        ok = np.ones(len(a), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        plain = pc.fill_null(pc.match_substring_regex(a, _PLAIN_FLOAT), True)
        ok = np.asarray(plain.to_numpy(zero_copy_only=False), dtype=bool)
        cast = pc.cast(pc.if_else(plain, a, pa.scalar(None, a.type)), pa.float64())
    values = _writable(np.asarray(cast.to_numpy(zero_copy_only=False), dtype="float64"))
    missing = np.asarray(cast.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    ok &= missing | (np.isfinite(values) & ~((values == 0) & np.signbit(values)))
    return values, ok


def _text_rows(arr: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """Rows of a text column the validator keeps as they are (nothing to strip, not blank)."""
    a = _chunked(arr)
    if not _is_text(a):
        return None
    same = pc.and_(pc.equal(pc.utf8_trim_whitespace(a), a), pc.not_equal(a, ""))
    return np.asarray(pc.fill_null(same, True).to_numpy(zero_copy_only=False), dtype=bool)


def fast_flows(
    columns: Mapping[str, Any],
    n: int,
    *,
    rows: np.ndarray | None = None,
    self_referrals: str = "reject",
    duplicates: str | None = "aggregate",
    floats: tuple[str, ...] = (),
) -> IngestResult | None:
    """Validate flows given as Arrow text columns; the result validate_table would give.

    ``columns`` maps canonical flow column names (and ``same_day_count``) to
    Arrow text arrays; the period dates and provenance of a whole file may be
    one value instead (a ``numpy.datetime64``, a ``str``), or a pandas Series
    of the validated dtype. ``floats`` names extra columns of ``columns``
    validated as ``extra_kinds={name: "float"}`` (DocGraph's wait columns).
    ``None`` (validate_table's business) when a column is not text or has
    another name, a date is unreadable, or ``duplicates`` is not
    ``"aggregate"``.
    """
    if duplicates not in (None, "aggregate") or set(columns) - _KNOWN - set(floats):
        return None
    if set(floats) & _KNOWN or not set(floats) <= set(columns):
        return None
    kinds = {name: "float" for name in floats}
    if not {*_NPI, "count"} <= set(columns):
        return None
    rows = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    consts = {k: v for k, v in columns.items() if isinstance(v, (str, np.datetime64))}
    prov = consts.get("provenance")
    if prov is not None and (not isinstance(prov, str) or prov == "" or prov.strip() != prov):
        return None  # a provenance the validator would change: its business
    dates = [c for c in _DATES if c in columns]
    if len(dates) == 2 and all(c in consts for c in dates):
        if consts["period_start"] > consts["period_end"]:
            return None
    elif any(c in consts for c in dates):  # one given for the file, the other per row
        columns = {
            **columns,
            **{c: _const(consts.pop(c), n) for c in dates if c in consts},
        }
    ok = np.ones(n, dtype=bool)
    ints: dict[str, np.ndarray] = {}
    for name in _NPI:
        got = _npi_rows(columns[name])
        if got is None:
            return None
        ints[name], valid = got
        ok &= valid
    nums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in (*_COUNTS, "same_day_count"):
        if name in columns:
            got3 = _count_rows(columns[name], required=name == "count")
            if got3 is None:
                return None
            nums[name] = got3[:2]
            ok &= got3[2]
    reals: dict[str, np.ndarray] = {}
    for name in floats:
        got_f = _float_rows(columns[name])
        if got_f is None:
            return None
        reals[name] = got_f[0]
        ok &= got_f[1]
    ready: dict[str, pd.Series] = {}
    for name in (*_DATES, "provenance"):
        col = columns.get(name)
        if name in consts:
            continue
        if isinstance(col, pd.Series):
            ready[name] = col.reset_index(drop=True)
        elif col is not None and name in _DATES:
            got_d = _dates(col)
            if got_d is None:
                return None
            ready[name] = got_d
        elif col is not None:
            got_t = _text_rows(col)
            if got_t is None:
                return None
            ok &= got_t
    if self_referrals == "reject":
        ok &= ints["source_npi"] != ints["target_npi"]
    count = nums["count"][0]
    for name in ("patients", "same_day_count"):
        if name in nums:
            ok &= nums[name][1] | (nums[name][0] <= count)
    if "period_start" in ready and "period_end" in ready:
        ok &= ~(ready["period_start"] > ready["period_end"]).to_numpy(dtype=bool)
    same_pair = None
    if ok.all():
        if duplicates is not None:  # before the frame, so that the NPI values can go first
            same_pair = repeated_pairs(ints["source_npi"], ints["target_npi"])
            ints = {k: v[same_pair] for k, v in ints.items()}
        table = _frame(columns, consts, nums, ready, n, None, reals)
        rejected = empty_rejects()
        kept_rows = rows
    else:  # the suspect rows alone through the validator, then back in their places
        sus = ~ok
        part = validate_table(
            _text_frame(columns, consts, ready, sus),
            "flows",
            duplicates="keep",
            self_referrals=self_referrals,  # type: ignore[arg-type]
            row_numbers=rows[sus],
            extra_kinds=kinds,
        )
        rejected = part.rejected
        table = _frame(columns, consts, nums, ready, n, ok, reals)
        kept_rows = rows[ok]
        ints = {k: v[ok] for k, v in ints.items()}
        if len(part.table):  # accepted after coercion: merged back in row order
            part_rows = rows[sus]
            part_rows = part_rows[~np.isin(part_rows, rejected["row"].to_numpy())]
            table = pd.concat([table, part.table], ignore_index=True)
            kept_rows = np.concatenate([kept_rows, part_rows])
            order = np.argsort(kept_rows, kind="stable")
            table = table.take(order).reset_index(drop=True)
            kept_rows = kept_rows[order]
            for name in ints:  # their NPIs too, for the duplicate keys
                ints[name] = np.concatenate([ints[name], _column_npi_ints(part.table[name])])[order]
    del nums, ready, reals, count  # the table's columns hold what is still needed
    n_acc = len(table)
    if duplicates is None or not len(table):
        return IngestResult(table, rejected, n, n_acc)
    if same_pair is None:
        same_pair = repeated_pairs(ints["source_npi"], ints["target_npi"])
        ints = {k: v[same_pair] for k, v in ints.items()}
    dup = repeated_keys(
        ints["source_npi"], ints["target_npi"], table, set(consts), same_pair=same_pair
    )
    del ints
    if not dup.any():
        return IngestResult(table, rejected, n, n_acc)
    # only the rows of repeated keys go through the validator, which sums them
    merged = validate_table(
        table.loc[dup].reset_index(drop=True),
        "flows",
        duplicates="aggregate",
        self_referrals="keep",
        row_numbers=kept_rows[dup],
        extra_kinds=kinds,
    )
    out = _merge_back(table, ~dup, merged.table)
    if len(merged.rejected):
        rejected = (
            pd.concat([rejected, merged.rejected], ignore_index=True)
            .sort_values(["row", "column"], kind="stable")
            .reset_index(drop=True)
        )
    n_acc = n_acc - int(dup.sum()) + merged.n_accepted_rows
    return IngestResult(out, rejected, n, n_acc)


def _merge_back(table: pd.DataFrame, keep: np.ndarray, merged: pd.DataFrame) -> pd.DataFrame:
    """``table``'s rows in ``keep`` then ``merged``'s (validate_table's order), in its dtypes.

    ``pandas.concat(table.loc[keep], merged)`` one column at a time, each column of
    ``table`` dropped once joined: the peak is the result and one column, not three
    copies of the table. ``table`` is left without columns.
    """
    cols = {}
    for name in list(table.columns):
        col = table.pop(name)
        joined = pd.concat([col[keep], merged[name]], ignore_index=True)
        if name in ("count", "patients", "same_day_count"):
            joined = joined.astype(col.dtype)
        cols[name] = joined
        del col
    return pd.DataFrame(cols, copy=False)


def _take(a: pa.Array | pa.ChunkedArray, mask: np.ndarray | None) -> pa.ChunkedArray:
    a = _chunked(a)
    return a if mask is None else a.filter(pa.array(mask))


def _const(value: str | np.datetime64, m: int) -> pd.Series:
    """One value for every row, as validate_table types it."""
    if isinstance(value, np.datetime64):
        return pd.Series(np.full(m, value, dtype="datetime64[ns]"), copy=False)
    return pd.Series(pd.array(pa.repeat(pa.scalar(value, pa.large_string()), m), dtype="string"))


def _absent(name: str, m: int) -> pd.Series:
    """A flow column the input does not have: all missing, in the column's validated dtype.

    The missing values cost no resident memory where their buffers can be
    zeros: ``np.zeros`` asks the allocator for fresh zero pages (``calloc``),
    which the kernel maps only when they are written, so the ``patients``
    values and the ``provenance`` offsets and validity bits stay unmapped
    (``memory_usage`` still counts them). ``NaT`` is not zero: the period
    dates are written out.
    """
    if name == "patients":
        values = pd.arrays.IntegerArray(np.zeros(m, np.int64), np.ones(m, bool))
        return pd.Series(values, copy=False)
    if name in _DATES:
        return pd.Series(np.full(m, np.datetime64("NaT"), dtype="datetime64[ns]"), copy=False)
    validity = pa.py_buffer(np.zeros((m + 7) // 8, np.uint8))
    offsets = pa.py_buffer(np.zeros(m + 1, np.int64))
    data = pa.py_buffer(b"")
    nulls = pa.Array.from_buffers(pa.large_string(), m, [validity, offsets, data], null_count=m)
    return pd.Series(pd.array(nulls, dtype="string"), copy=False)


def _frame(
    columns: Mapping[str, Any],
    consts: dict[str, Any],
    nums: dict[str, tuple[np.ndarray, np.ndarray]],
    ready: dict[str, pd.Series],
    n: int,
    mask: np.ndarray | None,
    reals: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """The rows in ``mask`` (all when ``None``) as validate_table builds them, in its order.

    Its order: the flow columns, the float extras, then ``same_day_count``.
    """
    m = n if mask is None else int(mask.sum())
    cols: dict[str, Any] = {}
    for name, values in (reals or {}).items():  # placed after the flow columns below
        cols[name] = pd.Series(
            values if mask is None else values[mask], dtype="float64", copy=False
        )
    order = [*_NPI, *_COUNTS, *_DATES, "provenance", *cols, "same_day_count"]
    for name in (*_NPI, *_COUNTS, *_DATES, "provenance", "same_day_count"):
        if name in consts:
            cols[name] = _const(consts[name], m)
        elif name in nums:
            v, missing = nums[name]
            if mask is not None:
                v, missing = v[mask], missing[mask]
            cols[name] = pd.Series(pd.arrays.IntegerArray(v, missing), copy=False)
        elif name in ready:
            cols[name] = ready[name] if mask is None else ready[name][mask].reset_index(drop=True)
        elif name in columns:
            cols[name] = pd.Series(pd.array(_take(columns[name], mask), dtype="string"))
        elif name in ("patients", *_DATES, "provenance"):
            cols[name] = _absent(name, m)
    # copy=False: the columns are new arrays, and pandas would otherwise copy each one and
    # consolidate the two date columns into one 2-D block (another copy of both)
    frame = pd.DataFrame({name: cols[name] for name in order if name in cols}, copy=False)
    frame.index = pd.RangeIndex(m)
    return frame


def _text_frame(
    columns: Mapping[str, Any],
    consts: dict[str, Any],
    ready: dict[str, pd.Series],
    mask: np.ndarray,
) -> pd.DataFrame:
    """The rows in ``mask`` as validate_table's input: text, and the dates parsed column-wide."""
    cols: dict[str, Any] = {}
    for name, col in columns.items():
        if name in consts:
            cols[name] = _const(consts[name], int(mask.sum()))
        elif name in ready:
            cols[name] = ready[name][mask].reset_index(drop=True)
        else:
            cols[name] = pd.Series(pd.array(_take(col, mask), dtype="string"))
    return pd.DataFrame(cols)
