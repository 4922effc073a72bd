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
they would be among all the others; those it accepts after coercion take their
validated values in their own places. The accepted table is then built once
(:mod:`refgraph.io._fast_build`): the rows kept, compacted in place, then the
summed rows of repeated keys.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._coerce import MAX_COUNT, _coerce_date
from .._npi import luhn_ok_ints
from .._tables import npi_ints as table_npi_ints
from .._tables import release_arrow_memory
from .._validate import IngestResult, empty_rejects, validate_table
from ._ahead import on_two_threads
from ._fast_build import Parts, chunked, const
from ._fast_keys import pair_keys, repeated_keys
from ._fast_sum import summed_rows

__all__ = ["fast_flows", "npi_ints", "npi_stems"]

_NPI = ("source_npi", "target_npi")
_COUNTS = ("count", "patients")
_DATES = ("period_start", "period_end")
_KNOWN = {*_NPI, *_COUNTS, *_DATES, "provenance", "same_day_count"}


def _is_text(a: pa.Array) -> bool:
    return bool(pa.types.is_string(a.type) or pa.types.is_large_string(a.type))


def _npi_rows(
    arr: pa.Array | pa.ChunkedArray, stems: bool = False
) -> tuple[np.ndarray, np.ndarray] | None:
    """int64 values of a text column of NPIs (0 where not valid) and the mask of valid ones.

    Valid: present, exactly 10 ASCII digits, the right check digit. ``None``
    when the column is not text. With ``stems``, the values are the NPIs'
    stems instead (:func:`npi_stems`, int32: half the memory, the same tell).
    """
    c = chunked(arr)
    if not _is_text(c):
        return None
    out, ok = np.empty(len(c), np.int32 if stems else np.int64), np.empty(len(c), bool)
    at = 0
    for a in c.chunks:  # each chunk into its place: no list of parts, no concatenation
        end = at + len(a)
        if stems:  # the chunk's values, then their stems in place
            values = np.empty(len(a), np.int64)
            _npi_chunk(a, values, ok[at:end])
            np.floor_divide(values, 10, out=values)
            out[at:end] = values
        else:
            _npi_chunk(a, out[at:end], ok[at:end])
        at = end
    return out, ok


def _npi_chunk(a: pa.Array, out: np.ndarray, ok: np.ndarray) -> None:
    """:func:`_npi_rows` of one Arrow text array, from its buffers into ``out`` and ``ok``."""
    n = len(a)
    if n == 0:
        return
    width = np.int64 if pa.types.is_large_string(a.type) else np.int32
    offsets = np.frombuffer(a.buffers()[1], dtype=width)[a.offset : a.offset + n + 1]
    data = (
        np.frombuffer(a.buffers()[2], dtype=np.uint8) if a.buffers()[2] else np.zeros(0, np.uint8)
    )
    np.equal(np.diff(offsets), 10, out=ok)
    if a.null_count:
        ok &= np.asarray(a.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    start = int(offsets[0])
    if ok.all() and int(offsets[-1]) - start == 10 * n:  # the usual column: one flat block
        flat = data[start : start + 10 * n]
        if (flat - np.uint8(48)).max() <= 9:  # 10 ASCII digits each (others wrap above 9)
            out[:] = pc.cast(a, pa.int64()).to_numpy()
            ok[:] = luhn_ok_ints(out)
            if not ok.all():
                out[~ok] = 0
            return
    digits = np.zeros((n, 10), dtype=np.uint8)
    at = offsets[:-1][ok].astype(np.int64)
    digits[ok] = data[at[:, None] + np.arange(10)] - np.uint8(48)
    ok &= (digits <= 9).all(axis=1)
    digits[~ok] = 0
    out[:] = 0
    for k in range(10):
        out *= 10
        out += digits[:, k]
    ok &= luhn_ok_ints(out)
    out[~ok] = 0


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
    Parquet column, or counts the text reader parsed as int64, see
    :mod:`refgraph.io._text`), within 0..2**53, or missing where that is
    allowed; any other row is left to validate_table.
    """
    a = chunked(arr)
    if pa.types.is_integer(a.type) and not pa.types.is_uint64(a.type):  # Parquet, or parsed
        ints, ok = a, np.ones(len(a), dtype=bool)
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
    values, missing = _int_values(chunked(ints))
    if len(values) and (values.min() < 0 or values.max() > MAX_COUNT):  # else all in range
        ok &= (values >= 0) & (values <= MAX_COUNT)
    if required and missing.any():
        ok &= ~missing
    if not ok.all():
        values[~ok] = 0
        missing &= ok
    return values, missing, ok


def _int_values(a: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """An integer column as one new int64 array (0 where missing) and its missing mask.

    Written chunk by chunk into place: no n-long Arrow intermediate, and the
    array is this function's own (the table built on it takes writes).
    """
    values = np.empty(len(a), dtype=np.int64)
    missing = np.zeros(len(a), dtype=bool)
    at = 0
    for c in a.chunks:
        end = at + len(c)
        if c.null_count:
            missing[at:end] = np.asarray(c.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            c = pc.fill_null(c, 0)
        values[at:end] = c.to_numpy(zero_copy_only=False)
        at = end
    return values, missing


def _writable(values: np.ndarray) -> np.ndarray:
    """``values``, or a copy when it is a read-only view of Arrow memory.

    The table's columns are built on these arrays without a copy, and a
    DataFrame's columns must take writes (``flows.loc[i, "count"] = 5``).
    """
    return values if values.flags.writeable else values.copy()


def _dates(arr: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A column of dates as a new ``datetime64[ns]`` array, or ``None`` if any is rejected.

    One date in every row is one value seen through a zero stride (read-only).

    The distinct texts go through the validator's own parser, whose one
    policy per column is decided over the distinct texts too; Arrow dates and
    timestamps (Parquet) are converted as the Parquet reader converts them and
    checked by the same function.
    """
    a = chunked(arr)
    if pa.types.is_date32(a.type):  # Parquet's usual date column
        return _days(a)
    if pa.types.is_date(a.type) or pa.types.is_timestamp(a.type):  # Parquet: as read_table does
        got, bad, _ = _coerce_date(pa.table({"d": a}).to_pandas(date_as_object=False)["d"])
        return None if bad.any() else np.array(got.to_numpy(dtype="datetime64[ns]"))
    if not _is_text(a):
        return None
    if len(a) and not a.null_count and pc.all(pc.equal(a, a[0])).as_py():
        distinct = pa.array([a[0].as_py()], a.type)  # a file's one period: no hash table
    else:
        distinct = pc.unique(a).drop_null()
    dates, bad, _ = _coerce_date(pd.Series(pd.array(distinct, dtype="string")))
    if bad.any():
        return None
    values = dates.to_numpy(dtype="datetime64[ns]")
    if len(distinct) == 1 and not a.null_count:  # one date throughout (a file's period)
        return np.broadcast_to(values[:1], (len(a),))  # held once (refgraph._compact)
    codes = pc.fill_null(pc.index_in(a, value_set=distinct), len(distinct))
    values = np.append(values, np.datetime64("NaT", "ns"))
    return values[np.asarray(codes.to_numpy(), dtype=np.int64)]


#: Days since 1970-01-01 of the first and last dates ``datetime64[ns]`` holds (the
#: validator's range, 1677-09-22..2262-04-11).
_NS_DAYS = (-106_751, 106_751)


def _days(a: pa.ChunkedArray) -> np.ndarray | None:
    """A ``date32`` column as ``datetime64[ns]`` midnights (what the validator makes of it).

    Straight from the day numbers, one int64 array written once (one value seen
    through a zero stride when every row has the same date); ``None`` (the
    validator's business) when a date is outside ``datetime64[ns]``'s range.
    """
    days = np.asarray(pc.fill_null(a.cast(pa.int32()), 0).to_numpy(), dtype=np.int32)
    low, high = (int(days.min()), int(days.max())) if len(days) else (0, 0)
    if low < _NS_DAYS[0] or high > _NS_DAYS[1]:
        return None
    if len(days) and low == high and not a.null_count:  # one date throughout (a file's period)
        one = np.array([low * 86_400 * 10**9], dtype=np.int64).view("datetime64[ns]")
        return np.broadcast_to(one, (len(days),))  # held once, as for text dates
    out = np.multiply(days, np.int64(86_400 * 10**9), dtype=np.int64)
    del days
    if a.null_count:
        out[np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = np.iinfo(
            np.int64
        ).min
    return out.view("datetime64[ns]")


_PLAIN_FLOAT = r"^-?[0-9]{1,17}(\.[0-9]{1,17})?$"


def _float_rows(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """A float extra column of text: float64 values (NaN where missing), rows accepted as is.

    Arrow's cast of the whole column, when every text parses, or else of the
    plain decimal texts only; a row is accepted as is when its value is finite
    and not ``-0`` (pandas reads ``"-0"`` as the integer 0; ``nan`` and ``inf``
    texts are left to validate_table).
    """
    a = chunked(arr)
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
    a = chunked(arr)
    if not _is_text(a):
        return None
    same = pc.and_(pc.equal(pc.utf8_trim_whitespace(a), a), pc.not_equal(a, ""))
    return np.asarray(pc.fill_null(same, True).to_numpy(zero_copy_only=False), dtype=bool)


def npi_stems(values: np.ndarray, sel: np.ndarray | None) -> np.ndarray:
    """``values // 10`` of the rows of ``sel`` (all with ``None``) as int32: an NPI's stem.

    The tenth digit of a valid NPI is its check digit, a function of the
    first nine, so the stem (below 10**9 < 2**31) identifies a valid NPI in
    half the memory of its int64 value (:func:`refgraph._tables.npis_of_stems`
    gives the NPI back).

    Examples
    --------
    >>> npi_stems(np.array([1234567893, 1003033051]), None).tolist()
    [123456789, 100303305]
    """
    part = values if sel is None or sel.all() else values[sel]
    return np.floor_divide(part, 10).astype(np.int32)


def _rows_of(values: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """The rows of the mask ``sel`` of ``values``: ``values`` itself when that is all of them."""
    return values if sel.all() else values[sel]


def fast_flows(
    columns: Mapping[str, Any],
    n: int,
    *,
    rows: np.ndarray | None = None,
    self_referrals: str = "reject",
    duplicates: str | None = "aggregate",
    floats: tuple[str, ...] = (),
    consume: bool = False,
    npis: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> IngestResult | None:
    """Validate flows given as Arrow text columns; the result validate_table would give.

    ``columns`` maps canonical flow column names (and ``same_day_count``) to
    Arrow text arrays; the period dates and provenance of a whole file may be
    one value instead (a ``numpy.datetime64``, a ``str``), or a pandas Series
    of the validated dtype. ``floats`` names extra columns of ``columns``
    validated as ``extra_kinds={name: "float"}`` (DocGraph's wait columns).
    ``None`` (validate_table's business) when a column is not text or has
    another name, a date is unreadable, or ``duplicates`` is not
    ``"aggregate"``. With ``consume``, a ``dict`` given as ``columns`` is
    emptied once the table is taken on (never when the answer is ``None``),
    so that each Arrow column is freed as soon as it is used, when the
    caller keeps no other reference to it. ``npis``, a list, gets the NPI
    values of the accepted table's sources and targets appended, row by row,
    as :func:`npi_stems` (int32), for a reader of several blocks to find the
    flows repeated in more than one and for the network build to code the
    NPIs without reading their text again.
    """
    given = columns
    if duplicates not in (None, "aggregate") or set(columns) - _KNOWN - set(floats):
        return None
    if set(floats) & _KNOWN or not set(floats) <= set(columns):
        return None
    kinds = {name: "float" for name in floats}
    if not {*_NPI, "count"} <= set(columns):
        return None
    given_rows = None if rows is None else np.asarray(rows, dtype=np.int64)

    def rows_at(at: np.ndarray) -> np.ndarray:  # the row numbers of positions or of a mask
        if given_rows is not None:
            return given_rows[at]
        return np.flatnonzero(at) if at.dtype == bool else at

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
            **{c: const(consts.pop(c), n) for c in dates if c in consts},
        }
    if isinstance(columns.get("provenance"), pd.Series):
        return None
    checks: dict[str, Callable[[], Any]] = {}  # each column's own checks, independent
    for name in _NPI:
        checks[name] = partial(_npi_rows, columns[name], stems=True)
    for name in (*_COUNTS, "same_day_count"):
        if name in columns:
            checks[name] = partial(_count_rows, columns[name], required=name == "count")
    for name in floats:
        checks[name] = partial(_float_rows, columns[name])
    for name in (*_DATES, "provenance"):
        col = columns.get(name)
        if name not in consts and col is not None and not isinstance(col, pd.Series):
            checks[name] = partial(_dates if name in _DATES else _text_rows, col)
    got = dict(zip(checks, on_two_threads(list(checks.values()))))
    if any(v is None for v in got.values()):
        return None
    ok = np.ones(n, dtype=bool)
    ints: dict[str, np.ndarray] = {}  # the NPIs' stems (npi_stems), 0 where not valid
    nums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    reals: dict[str, np.ndarray] = {}
    for name, value in got.items():
        if name in _NPI:
            ints[name], valid = value
            ok &= valid
        elif name in floats:
            reals[name] = value[0]
            ok &= value[1]
        elif name not in _DATES and name != "provenance":  # counts
            nums[name] = value[:2]
            ok &= value[2]
        elif name == "provenance":  # as text
            ok &= value
    ready: dict[str, np.ndarray] = {}
    owned: set[str] = set()
    for name in _DATES:
        col = columns.get(name)
        if isinstance(col, pd.Series):  # validated already: not ours
            ready[name] = col.to_numpy(dtype="datetime64[ns]")
        elif name in got:
            ready[name], owned = got[name], owned | {name}
    del got
    if self_referrals == "reject":
        ok &= ints["source_npi"] != ints["target_npi"]
    count = nums["count"][0]
    for name in ("patients", "same_day_count"):
        if name in nums:
            ok &= nums[name][1] | (nums[name][0] <= count)
    if "period_start" in ready and "period_end" in ready:
        ok &= ~(ready["period_start"] > ready["period_end"])
    del count
    parts = Parts(columns, consts, nums, ready, reals, n, owned)
    del nums, ready, reals, columns  # held by ``parts``, which drops each one once used
    if consume and isinstance(given, dict):
        given.clear()
    rejected = empty_rejects()
    if not ok.all():  # the suspect rows alone through the validator
        sus = ~ok
        part = validate_table(
            parts.text_frame(sus),
            "flows",
            duplicates="keep",
            self_referrals=self_referrals,  # type: ignore[arg-type]
            row_numbers=rows_at(sus),
            extra_kinds=kinds,
        )
        rejected = part.rejected
        if len(part.table):  # accepted after coercion: their values in their places
            at = np.flatnonzero(sus)
            at = at[~np.isin(rows_at(at), rejected["row"].to_numpy())]
            parts.patch(at, part.table, ints)
            ok[at] = True
        del part, sus
    parts.drop_text()  # the counts and floats as read: every row is judged now
    release_arrow_memory()  # their pages, which Arrow's allocator would keep
    n_acc = int(ok.sum())
    dup = None
    if duplicates is not None and n_acc:
        dup = repeated_keys(ints["source_npi"], ints["target_npi"], ok, parts.key_column)
    if dup is None or not dup.any():
        if npis is not None:
            npis.append((_rows_of(ints["source_npi"], ok), _rows_of(ints["target_npi"], ok)))
        del ints
        return IngestResult(parts.table(ok, None), rejected, n, n_acc)
    # only the rows of repeated keys are summed: in numpy (refgraph.io._fast_sum), or by the
    # validator where it has more to do (a sum past 2**53, periods that differ)
    summed = summed_rows(parts, dup, pair_keys(ints["source_npi"][dup], ints["target_npi"][dup]))
    if summed is None:
        merged = validate_table(
            parts.frame(dup),
            "flows",
            duplicates="aggregate",
            self_referrals="keep",
            row_numbers=rows_at(dup),
            extra_kinds=kinds,
        )
    else:
        merged = IngestResult(summed, empty_rejects(), int(dup.sum()), int(dup.sum()))
    ok &= ~dup
    if npis is not None:  # the rows kept, then the summed rows
        npis.append(
            tuple(  # type: ignore[arg-type]
                np.concatenate(
                    [_rows_of(ints[c], ok), npi_stems(table_npi_ints(merged.table[c]), None)]
                )
                for c in _NPI
            )
        )
    del ints
    table = parts.table(ok, merged.table)
    if len(merged.rejected):
        rejected = (
            pd.concat([rejected, merged.rejected], ignore_index=True)
            .sort_values(["row", "column"], kind="stable")
            .reset_index(drop=True)
        )
    n_acc = n_acc - int(dup.sum()) + merged.n_accepted_rows
    return IngestResult(table, rejected, n, n_acc)
