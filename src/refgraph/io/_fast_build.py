"""The tables of the readers' fast path (:mod:`refgraph.io._fast`), built once, in place.

:class:`Parts` holds a block's checked columns (int64 counts, dates, the Arrow
text of the NPIs) and builds from them, in the validator's dtypes and column
order, the frames the fast path needs: the suspect rows as text for
validate_table, the rows of repeated keys for it to sum, and the accepted
table. That last one is made once, from the rows kept (``sel``) followed by
the summed rows: each numpy column is compacted in place (a row kept moves
down over the rows dropped before it, then the summed rows go after), so a
reject or a repeated key costs no copy of the table; Arrow text columns are
filtered by Arrow, and used as they are when every row is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .._compact import compact_flows, const_dates, const_labels, labels
from .._tables import npi_ints
from ._ahead import on_two_threads

__all__ = ["Parts", "absent", "chunked", "compact", "const"]

_NPI = ("source_npi", "target_npi")
_COUNTS = ("count", "patients")
_DATES = ("period_start", "period_end")

#: Rows a block when numpy columns are compacted (the only scratch memory).
_BLOCK = 1 << 16


def chunked(arr: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """``arr`` as a chunked array, without copying (pyarrow's CSV reader gives many chunks)."""
    return arr if isinstance(arr, pa.ChunkedArray) else pa.chunked_array([arr])


def compact(values: np.ndarray, sel: np.ndarray, tail: np.ndarray | None = None) -> np.ndarray:
    """``numpy.concatenate([values[sel], tail])``, written over ``values`` itself.

    The rows of ``sel`` move down in order over the rows dropped before them,
    a block of rows at a time, and ``tail`` follows; the result is a view of
    the start of ``values`` (a copy when it is less than three quarters of
    it, so that the rest is given back). ``values`` must be the caller's own
    array, and ``sel.sum() + len(tail) <= len(values)``.

    Examples
    --------
    >>> v = np.arange(6)
    >>> compact(v, np.array([1, 0, 1, 1, 0, 1], bool), np.array([9])).tolist()
    [0, 2, 3, 5, 9]
    """
    n = len(values)
    extra = 0 if tail is None else len(tail)
    first = int(np.argmin(sel)) if n else 0  # rows before the first dropped one stay
    if n == 0 or (sel[first] and extra == 0):
        return values
    at = first if not sel[first] else n
    for start in range(at, n, _BLOCK):
        part = values[start : start + _BLOCK][sel[start : start + _BLOCK]]
        values[at : at + len(part)] = part
        at += len(part)
    if extra:
        assert at + extra <= n, "more rows than the array holds"
        values[at : at + extra] = tail
    out = values[: at + extra]
    return out.copy() if len(out) < 0.75 * n else out


#: A column loses its rows by slices of the kept runs (no copy) when it has at most this many
#: runs, and by Arrow's filter (a copy of the kept values) when it has more.
_FEW_RUNS = 4096


def kept_rows(col: pa.ChunkedArray, sel: np.ndarray) -> list[pa.Array]:
    """The rows of the mask ``sel`` of ``col``, as a list of Arrow arrays in order.

    When the rows dropped are few (a file's rejects and repeated flows: tens
    or hundreds among millions), the kept runs between them are zero-copy
    slices of ``col``; otherwise ``col`` is filtered (a copy).

    Examples
    --------
    >>> col = pa.chunked_array([["a", "b"], ["c", "d", "e"]])
    >>> parts = kept_rows(col, np.array([True, False, True, True, False]))
    >>> pa.chunked_array(parts).to_pylist()
    ['a', 'c', 'd']
    """
    edges = np.flatnonzero(np.diff(sel.view(np.int8), prepend=0, append=0))
    if len(edges) > 2 * _FEW_RUNS:
        return [chunk for chunk in col.filter(pa.array(sel)).chunks if len(chunk)]
    runs = [col.slice(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]
    return [chunk for run in runs for chunk in run.chunks if len(chunk)]


def const(value: str | np.datetime64, m: int) -> pd.Series:
    """One value for every row, as validate_table types it, held compactly (no resident rows).

    A date is one value seen through a zero stride, a provenance a label of
    all-zero codes (:mod:`refgraph._compact`).
    """
    if isinstance(value, np.datetime64):
        return const_dates(value, m)
    return const_labels(value, m)


def absent(name: str, m: int) -> pd.Series:
    """A flow column the input does not have: all missing, in the column's validated dtype.

    The missing values cost no resident memory where their buffers can be
    zeros: ``np.zeros`` asks the allocator for fresh zero pages (``calloc``),
    which the kernel maps only when they are written, so the ``patients``
    values stay unmapped (``memory_usage`` still counts them). ``NaT`` is not
    zero: the period dates are one ``NaT`` seen through a zero stride
    (:func:`refgraph._compact.const_dates`); a missing ``provenance`` is a
    label of ``-1`` codes, one byte a row.
    """
    if name == "patients":
        values = pd.arrays.IntegerArray(np.zeros(m, np.int64), np.ones(m, bool))
        return pd.Series(values, copy=False)
    if name in _DATES:
        return const_dates(np.datetime64("NaT"), m)
    if name == "provenance":
        return const_labels(None, m)
    validity = pa.py_buffer(np.zeros((m + 7) // 8, np.uint8))
    offsets = pa.py_buffer(np.zeros(m + 1, np.int64))
    data = pa.py_buffer(b"")
    nulls = pa.Array.from_buffers(pa.large_string(), m, [validity, offsets, data], null_count=m)
    return pd.Series(pd.array(nulls, dtype="string"), copy=False)


def _text(a: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as the validator's input: integers (counts parsed as int64) as their decimals."""
    return a.cast(pa.large_string()) if pa.types.is_integer(a.type) else a


class Parts:
    """The checked columns of a block, and the frames built from them.

    ``columns``: Arrow columns by name (NPIs and provenance as text, counts
    as text or integers); ``consts``: values of a whole block (dates, a
    provenance); ``nums``: int64 values and missing mask of each count;
    ``ready``: dates parsed (``datetime64[ns]`` arrays, ``owned`` naming those
    built here, which may be written over); ``reals``: float64 extras.
    """

    def __init__(
        self,
        columns: Mapping[str, Any],
        consts: dict[str, Any],
        nums: dict[str, tuple[np.ndarray, np.ndarray]],
        ready: dict[str, np.ndarray],
        reals: dict[str, np.ndarray],
        n: int,
        owned: set[str],
    ) -> None:
        self.columns = dict(columns)
        self.consts, self.nums, self.ready, self.reals = consts, nums, ready, reals
        self.n, self.owned = n, owned
        self.same_day = "same_day_count" in self.columns

    def order(self) -> list[str]:
        """validate_table's columns: the flow columns, the float extras, ``same_day_count``."""
        names = [*_NPI, *_COUNTS, *_DATES, "provenance", *self.reals]
        if self.same_day:
            names.append("same_day_count")
        return names

    def column(self, name: str, mask: np.ndarray) -> pd.Series:
        """Column ``name`` of the rows of ``mask``, in the validator's dtype."""
        m = int(mask.sum())
        if name in self.consts:
            return const(self.consts[name], m)
        if name in self.nums:
            v, missing = self.nums[name]
            return pd.Series(pd.arrays.IntegerArray(v[mask], missing[mask]), copy=False)
        if name in self.reals:
            return pd.Series(self.reals[name][mask], dtype="float64", copy=False)
        if name in self.ready:
            return pd.Series(self.ready[name][mask], copy=False)
        if name in self.columns:
            text = pd.Series(pd.array(chunked(self.columns[name]).filter(pa.array(mask)),
                                      dtype="string"))  # fmt: skip
            return labels(text) if name == "provenance" else text
        return absent(name, m)

    def key_column(self, name: str, mask: np.ndarray) -> pd.Series | None:
        """:meth:`column`, or ``None`` when it holds one value for every row (a constant)."""
        if name in self.consts or (name not in self.ready and name not in self.columns):
            return None
        return self.column(name, mask)

    def frame(self, mask: np.ndarray) -> pd.DataFrame:
        """The rows of ``mask`` as validate_table builds them, in its column order."""
        cols = {name: self.column(name, mask) for name in self.order()}
        frame = pd.DataFrame(cols, copy=False)
        frame.index = pd.RangeIndex(int(mask.sum()))
        return frame

    def text_frame(self, mask: np.ndarray) -> pd.DataFrame:
        """The rows of ``mask`` as validate_table's input: text, the dates parsed column-wide."""
        m = int(mask.sum())
        cols: dict[str, Any] = {}
        for name, col in self.columns.items():
            if name in self.consts:
                cols[name] = const(self.consts[name], m)
            elif name in self.ready:
                cols[name] = pd.Series(self.ready[name][mask], copy=False)
            else:
                cols[name] = pd.Series(
                    pd.array(_text(chunked(col).filter(pa.array(mask))), dtype="string")
                )
        return pd.DataFrame(cols)

    def drop_text(self) -> None:
        """Drop the Arrow columns of counts and floats (once no row needs their text)."""
        for name in (*self.nums, *self.reals):
            self.columns.pop(name, None)

    def patch(self, at: np.ndarray, table: pd.DataFrame, ints: dict[str, np.ndarray]) -> None:
        """Put the rows of ``table`` (validate_table's, accepted) at positions ``at``.

        Rows the fast path could not accept as they were but the validator
        accepted after coercion (an NPI with spaces, a count ``5.0``) take
        their validated values in their own places, so the table is then
        built as if they had been clean: the NPI stems ``ints``
        (:func:`refgraph.io._fast.npi_stems`) and count,
        float and text columns are written over there (text columns as new
        Arrow arrays, made only when some row is patched).
        """
        for name, (v, missing) in self.nums.items():
            got = table[name]
            missing[at] = got.isna().to_numpy()
            v[at] = got.fillna(0).to_numpy(dtype=np.int64)
        for name, values in self.reals.items():
            values[at] = table[name].to_numpy(dtype="float64", na_value=np.nan)
        for name in _NPI:
            ints[name][at] = npi_ints(table[name]) // 10  # valid NPIs' stems
        mask = np.zeros(self.n, dtype=bool)
        mask[at] = True
        for name in (*_NPI, "provenance"):
            col = self.columns.get(name)
            if name in self.consts or col is None or name in self.ready:
                continue
            col = chunked(col).combine_chunks()
            new = pa.array(table[name].to_numpy(dtype=object, na_value=None), type=col.type)
            self.columns[name] = pc.replace_with_mask(col, pa.array(mask), new)

    def table(self, sel: np.ndarray, merged: pd.DataFrame | None) -> pd.DataFrame:
        """The accepted table: the rows of ``sel`` in order, then the rows of ``merged``.

        Built once, two columns at a time (:func:`~refgraph.io._ahead.on_two_threads`);
        numpy columns of this block are compacted in place (:func:`compact`) and
        the parts are dropped as they are used.
        """
        m = int(sel.sum()) + (0 if merged is None else len(merged))
        everything = m == self.n and merged is None
        names = self.order()
        built = on_two_threads(
            [partial(self._built, name, sel, merged, m, everything) for name in names]
        )
        cols = dict(zip(names, built))
        # copy=False: the columns are new arrays, and pandas would otherwise copy each one and
        # consolidate the two date columns into one 2-D block (another copy of both)
        frame = pd.DataFrame(cols, copy=False)
        frame.index = pd.RangeIndex(m)
        return compact_flows(frame)  # a Parquet file's one date (date32) is held once too

    def _built(
        self, name: str, sel: np.ndarray, merged: pd.DataFrame | None, m: int, everything: bool
    ) -> pd.Series:
        """Column ``name`` of :meth:`table` (its parts dropped once used)."""
        tail = None if merged is None else merged[name]
        if name in self.consts:
            return const(self.consts[name], m)
        elif name in self.nums:
            v, missing = self.nums.pop(name)
            if not everything:
                t = None if tail is None else tail.fillna(0).to_numpy(dtype=np.int64)
                tm = None if tail is None else tail.isna().to_numpy()
                v, missing = compact(v, sel, t), compact(missing, sel, tm)
            return pd.Series(pd.arrays.IntegerArray(v, missing), copy=False)
        elif name in self.reals:
            values = self.reals.pop(name)
            if not everything:
                t = None if tail is None else tail.to_numpy(dtype="float64", na_value=np.nan)
                values = compact(values, sel, t)
            return pd.Series(values, dtype="float64", copy=False)
        elif name in self.ready:
            dates = self.ready.pop(name)
            if dates.strides == (0,) and len(dates):  # one date: it stays one
                return const_dates(dates[0], m)
            if not everything:
                t = None if tail is None else tail.to_numpy(dtype="datetime64[ns]")
                if name in self.owned:
                    dates = compact(dates, sel, t)
                else:
                    dates = np.concatenate([dates[sel], *([] if t is None else [t])])
            return pd.Series(dates, copy=False)
        elif name in self.columns:
            col = chunked(self.columns.pop(name))
            if not everything:
                parts = kept_rows(col, sel)
                if tail is not None:
                    values = tail.to_numpy(dtype=object, na_value=None)
                    parts.append(pa.array(values, type=col.type))
                col = pa.chunked_array(parts, type=col.type)
            text = pd.Series(pd.array(col, dtype="string"), copy=False)
            return labels(text) if name == "provenance" else text
        else:
            return absent(name, m)
