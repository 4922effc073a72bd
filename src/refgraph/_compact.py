"""Compact columns of the tables: low-cardinality text as categories, one date held once.

Two column forms keep the public dtypes' behaviour at a fraction of the memory
(measured in ``benchmarks/bench_tables.py --columns``, see ``docs/concepts.md``,
"How the tables are held"):

- **labels**: text with few distinct values (a flow's ``provenance``) as a pandas
  ``Categorical`` whose categories are pandas' default ``str`` (what
  ``pandas.read_parquet`` gives back, so a saved network loads with the same
  dtype): one byte a row for up to 127 values. A label of every row (a file's
  provenance) has all-zero codes from ``numpy.zeros``, fresh zero pages that the
  kernel maps only when written: no resident memory at all.
- **one date for every row** (a file's period): a ``datetime64[ns]`` column
  whose values are one 8-byte date seen through a zero stride (read-only). The
  dtype, comparisons, ``.dt`` and Parquet are those of any date column. A write
  into such a column (``flows.loc[i, "period_end"] = ...``) must not reach the
  shared date: the column carries a permanent reference in pandas' copy-on-write
  bookkeeping, so pandas copies it before any write, as it does for any column
  another frame shares. Any operation that makes new values (``take``,
  ``concat``, a selection of some rows) makes a dense column again;
  :func:`compact_flows` gives a network's flows the compact forms back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "LABEL_COLUMNS",
    "compact_flows",
    "concat_column",
    "concat_labels",
    "const_dates",
    "const_labels",
    "is_const_dates",
    "labels",
]

#: Text columns held as categories, by table (``docs/concepts.md``).
LABEL_COLUMNS: dict[str, tuple[str, ...]] = {"flows": ("provenance",)}

#: Date columns held once when every row has the same date, by table.
CONST_DATE_COLUMNS: dict[str, tuple[str, ...]] = {"flows": ("period_start", "period_end")}

#: Never freed: a reference that makes pandas copy a shared-date column before a write.
_PIN = pd.Index([], dtype="int64")


def _codes_dtype(k: int) -> type[np.signedinteger[Any]]:
    """The smallest code type for ``k`` categories (``-1`` marks a missing value)."""
    if k < 2**7:
        return np.int8
    if k < 2**15:
        return np.int16
    return np.int32 if k < 2**31 else np.int64


def _categories(values: Any) -> pd.Index:
    return pd.Index(np.asarray(values, dtype=object), dtype="str")


def labels(col: Any) -> pd.Series:
    """Text as a label column: a ``Categorical`` of ``str`` categories, missing kept.

    The categories are the values present, sorted, so that the same rows give
    the same column whatever their order or the rows dropped around them; a
    label column already is returned with its categories made so.
    Values compare as text: ``labels(x) == "a"``, ``.isna()`` and
    ``.astype(str)`` read as before.

    Examples
    --------
    >>> s = labels(pd.Series(["cms", None, "cms", "ckm"], dtype="string"))
    >>> s.dtype.categories.tolist(), s.cat.codes.tolist(), str(s.cat.codes.dtype)
    (['ckm', 'cms'], [1, -1, 1, 0], 'int8')
    >>> (s == "cms").tolist(), s.isna().tolist()
    ([True, False, True, False], [False, True, False, False])
    >>> labels(s.iloc[[0, 2]]).dtype.categories.tolist()  # "ckm" is in no row left
    ['cms']
    """
    s = col if isinstance(col, pd.Series) else pd.Series(col, copy=False)
    if _is_labels(s):
        return _tidy(s)
    if isinstance(s.dtype, pd.CategoricalDtype):  # categories of another dtype: as text
        recast = _recast(s)
        if recast is not None:
            return recast
        s = s.astype("string")
    codes, uniques = pd.factorize(s, sort=True, use_na_sentinel=True)
    if len(uniques) == 1 and codes.min() == 0:  # one value in every row: no codes to keep
        return const_labels(str(uniques[0]), len(s)).set_axis(s.index).rename(s.name)
    cats = _categories(uniques)
    out = pd.Categorical.from_codes(
        codes.astype(_codes_dtype(len(cats)), copy=False), categories=cats, validate=False
    )
    return pd.Series(out, index=s.index, name=s.name, copy=False)


def _recast(s: pd.Series) -> pd.Series | None:
    """A categorical whose categories are not ``str`` as labels, from its codes.

    The label column of its values as text, each category converted once
    rather than each row (a saved column with no value comes back with
    ``object`` categories; casting its 20M rows took 4 s of a load). None when
    two categories read as the same text.
    """
    text = pd.Series(s.dtype.categories, dtype=object).astype("string").to_numpy(object)
    if pd.Index(text).has_duplicates:
        return None
    cat = pd.Categorical.from_codes(s.array.codes, categories=_categories(text), validate=False)
    out = _tidy(pd.Series(cat, index=s.index, name=s.name, copy=False))
    kept, codes = out.dtype.categories, out.array.codes
    if len(kept) == 1 and len(codes) and codes.min() == 0:  # one value in every row
        return const_labels(str(kept[0]), len(s)).set_axis(s.index).rename(s.name)
    want = _codes_dtype(len(kept))
    if codes.dtype != want:
        cat = pd.Categorical.from_codes(codes.astype(want), categories=kept, validate=False)
        out = pd.Series(cat, index=s.index, name=s.name, copy=False)
    return out


#: Rows a block when codes are counted or recoded (bounded scratch memory).
_BLOCK = 1 << 20


def _tidy(s: pd.Series) -> pd.Series:
    """A label column with only the categories its rows use, sorted (``s`` if they are)."""
    cats = s.dtype.categories
    codes = s.array.codes  # a view of the codes (``.cat.codes`` is a copy)
    k = len(cats)
    if k == 0:
        return s
    counts = np.zeros(k + 1, dtype=np.int64)
    for at in range(0, len(codes), _BLOCK):
        counts += np.bincount(codes[at : at + _BLOCK].astype(np.int64) + 1, minlength=k + 1)
    used = counts[1:] > 0
    if used.all() and cats.is_monotonic_increasing:
        return s
    kept = cats[used]
    order = np.argsort(np.asarray(kept, dtype=object), kind="stable")
    table = np.full(k + 1, -1, dtype=np.int64)  # old code + 1 -> new code
    table[1:][np.flatnonzero(used)[order]] = np.arange(len(kept))
    new = np.empty(len(codes), dtype=_codes_dtype(len(kept)))
    for at in range(0, len(codes), _BLOCK):
        new[at : at + _BLOCK] = table[codes[at : at + _BLOCK].astype(np.int64) + 1]
    out = pd.Categorical.from_codes(new, categories=_categories(kept[order]), validate=False)
    return pd.Series(out, index=s.index, name=s.name, copy=False)


def _all_zero(s: pd.Series) -> bool:
    """Whether every code of a label column is 0 (reading zero pages maps none)."""
    codes = s.array.codes  # a view of the codes (``.cat.codes`` is a copy)
    return not len(codes) or bool(codes.min() == 0 == codes.max())


def _is_labels(s: pd.Series) -> bool:
    dtype = s.dtype
    return isinstance(dtype, pd.CategoricalDtype) and str(dtype.categories.dtype) == "str"


def _zero_pages(n: int) -> np.ndarray:
    """``numpy.zeros(n, int8)`` on pages of its own mapping: none is resident until written.

    ``numpy.zeros`` gets such pages only when the C allocator maps the block
    apart, which glibc does above a threshold that grows to 32 MiB after large
    frees; a private anonymous ``mmap`` always does.
    """
    import mmap

    if n < 1 << 20 or not hasattr(mmap, "MAP_PRIVATE"):  # small, or not POSIX
        return np.zeros(n, dtype=np.int8)
    # private: a read maps the shared zero page (a shared mapping would get real pages)
    pages = mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(pages, dtype=np.int8)


def const_labels(value: str | None, n: int) -> pd.Series:
    """A label column holding ``value`` (``None``: missing) in each of ``n`` rows.

    The codes of a present value are zeros on fresh pages of their own
    mapping, which the kernel maps only when written: the column costs no
    resident memory until a write.

    Examples
    --------
    >>> s = const_labels("cms-pspp:180d", 3)
    >>> s.tolist(), str(s.dtype)
    (['cms-pspp:180d', 'cms-pspp:180d', 'cms-pspp:180d'], 'category')
    >>> const_labels(None, 2).isna().tolist()
    [True, True]
    """
    if value is None:
        codes = np.full(n, -1, dtype=np.int8)
        cats = _categories([])
    else:
        codes = _zero_pages(n)
        cats = _categories([value])
    cat = pd.Categorical.from_codes(codes, categories=cats, validate=False)
    return pd.Series(cat, copy=False)


def concat_labels(parts: Iterable[pd.Series]) -> pd.Series:
    """Label columns one after another, their categories united (sorted).

    ``pandas.concat`` of categoricals with different categories gives plain
    text instead; this keeps a label column.

    Examples
    --------
    >>> s = concat_labels([const_labels("a", 2), const_labels("b", 1), const_labels(None, 1)])
    >>> s.tolist()[:3], s.dtype.categories.tolist(), s.isna().tolist()[3]
    (['a', 'a', 'b'], ['a', 'b'], True)
    """
    from pandas.api.types import union_categoricals

    cols = [labels(p) for p in parts]
    if not cols:
        return const_labels(None, 0)
    one = {tuple(c.dtype.categories) for c in cols}
    if len(one) == 1 and len(cats := one.pop()) == 1 and all(_all_zero(c) for c in cols):
        return const_labels(cats[0], sum(len(c) for c in cols))  # a file's provenance
    out = union_categoricals([c.array for c in cols], sort_categories=True, ignore_order=True)
    return pd.Series(out, copy=False)


def concat_column(parts: list[pd.Series]) -> pd.Series:
    """One table column from the same column of several blocks, kept compact.

    Label columns are joined by :func:`concat_labels`; date columns held once
    that share their date stay held once; others go through ``pandas.concat``.

    Examples
    --------
    >>> day = np.datetime64("2015-01-01")
    >>> s = concat_column([const_dates(day, 2), const_dates(day, 3)])
    >>> len(s), is_const_dates(s)
    (5, True)
    >>> str(concat_column([const_labels("a", 1), const_labels("b", 1)]).dtype)
    'category'
    """
    if parts and all(_is_labels(p) for p in parts):
        return concat_labels(parts)
    ns = np.dtype("datetime64[ns]")
    if parts and all(p.dtype == ns and (is_const_dates(p) or len(p) <= 1) for p in parts):
        firsts = {int(p.to_numpy().view(np.int64)[0]) for p in parts if len(p)}
        if len(firsts) == 1:
            return const_dates(np.datetime64(firsts.pop(), "ns"), sum(len(p) for p in parts))
    return pd.concat(parts, ignore_index=True)


def const_dates(value: Any, n: int) -> pd.Series:
    """A ``datetime64[ns]`` column of ``n`` rows holding ``value`` (``NaT`` allowed), held once.

    One 8-byte value seen through a zero stride, read-only; pandas copies the
    column before any write into it (see the module notes).

    Examples
    --------
    >>> s = const_dates(np.datetime64("2015-01-01"), 3)
    >>> s.dt.year.tolist(), str(s.dtype), s.to_numpy().strides
    ([2015, 2015, 2015], 'datetime64[ns]', (0,))
    >>> frame = pd.DataFrame({"d": s}, copy=False)
    >>> frame.loc[1, "d"] = pd.Timestamp("2016-05-01")  # copied first, then written
    >>> frame["d"].dt.year.tolist(), s.dt.year.tolist()
    ([2015, 2016, 2015], [2015, 2015, 2015])
    """
    one = np.array([value], dtype="datetime64[ns]")
    values = np.lib.stride_tricks.as_strided(one, shape=(n,), strides=(0,), writeable=False)
    s = pd.Series(values, copy=False)
    if not _pin(s):  # another pandas: hold the dates in full (writable) instead
        return pd.Series(np.full(n, one[0]), copy=False)
    return s


def _pin(s: pd.Series) -> bool:
    """Give ``s``'s values a reference that never dies, so pandas copies them before writing."""
    if int(pd.__version__.split(".")[0]) < 3 and pd.get_option("mode.copy_on_write") is not True:
        return False  # pandas 2 without copy-on-write writes into a column's array in place
    try:
        blocks = s._mgr.blocks
        refs = blocks[0].refs
        refs.add_index_reference(_PIN)
        return bool(refs.has_reference())
    except (AttributeError, IndexError, TypeError):  # pragma: no cover - other internals
        return False


def is_const_dates(col: pd.Series) -> bool:
    """Whether ``col`` is a date column held once (:func:`const_dates`).

    Examples
    --------
    >>> is_const_dates(const_dates(np.datetime64("NaT"), 4))
    True
    >>> is_const_dates(pd.Series(pd.to_datetime(["2015-01-01", "2015-01-01"])))
    False
    """
    if not (isinstance(col.dtype, np.dtype) and col.dtype.kind == "M"):
        return False
    values = col.array._ndarray  # the column's own array, not a copy
    return len(values) > 1 and values.strides == (0,)


def _one_date(col: pd.Series) -> np.datetime64 | None:
    """The date of every row of a ``datetime64[ns]`` column, or ``None`` if they differ."""
    if not (isinstance(col.dtype, np.dtype) and col.dtype == np.dtype("datetime64[ns]")):
        return None
    if len(col) < 2 or is_const_dates(col):
        return None
    i8 = col.to_numpy().view(np.int64)
    first = i8[0]
    if i8.min() != first or i8.max() != first:
        return None
    return np.datetime64(int(first), "ns")


def compact_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """``flows`` with its label columns as categories and each one-date column held once.

    The frame itself is changed (its columns replaced, never written into) and
    returned; columns already compact are left as they are.

    Examples
    --------
    >>> ns = "datetime64[ns]"
    >>> f = pd.DataFrame({"period_start": pd.to_datetime(["2015-01-01"] * 3).astype(ns),
    ...                   "period_end": pd.to_datetime(["2015-06-30", "2015-12-31"] * 2)[:3],
    ...                   "provenance": pd.array(["cms", "cms", None], dtype="string")})
    >>> f = compact_flows(f)
    >>> [is_const_dates(f[c]) for c in ("period_start", "period_end")]
    [True, False]
    >>> str(f["provenance"].dtype), f["provenance"].isna().tolist()
    ('category', [False, False, True])
    """
    for name in CONST_DATE_COLUMNS["flows"]:
        if name in flows.columns:
            one = _one_date(flows[name])
            if one is not None:
                flows[name] = const_dates(one, len(flows)).set_axis(flows.index)
    for name in LABEL_COLUMNS["flows"]:
        if name in flows.columns:
            col = flows[name]
            new = labels(col)
            if new is not col:
                flows[name] = new.set_axis(flows.index)
    return flows
