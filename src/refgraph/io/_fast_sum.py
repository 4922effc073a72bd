"""Sums of the rows of repeated flow keys of the readers' fast path (:mod:`refgraph.io._fast`).

The rows of a block that repeat a flow key are all accepted rows; validate_table
with ``duplicates="aggregate"`` would check them again and sum them with a
pandas group-by, 25-50 ms whatever their number (a third of a 1M-row read's
own work beside pyarrow's parse). :func:`summed_rows` sums them in numpy and
gives the frame validate_table gives: one row a key, in order of first
appearance, the first row's values but for the counts (``count``,
``patients``, ``same_day_count``: summed, missing where every row of the key
misses it) and the float extras (the first value present, as pandas' ``first``).
Where validate_table has more to do (a sum past 2**53, whose rows it rejects,
or key columns other than the pair that vary among the rows) it gets the rows,
as before. ``tests/test_io_fast.py`` compares the readers with validate_table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._coerce import MAX_COUNT

__all__ = ["summed_rows"]

_OTHER_KEYS = ("period_start", "period_end", "provenance")


def summed_rows(parts: Any, dup: np.ndarray, key: np.ndarray) -> pd.DataFrame | None:
    """The rows of ``dup`` summed by flow key, or ``None`` (validate_table's business).

    ``parts``: the block's :class:`~refgraph.io._fast_build.Parts`; ``dup``: the
    mask of the rows of repeated keys; ``key``: an int64 a row of ``dup`` that
    tells their (source, target) pairs apart (:func:`refgraph.io._fast_keys.pair_keys`).
    ``None`` when a key column other than the pair varies among these rows, or
    a sum passes 2**53.
    """
    for name in _OTHER_KEYS:
        col = parts.key_column(name, dup)
        if col is not None and len(col) and pd.factorize(col, use_na_sentinel=True)[0].any():
            return None  # another period or provenance among them: the full key decides
    codes, uniques = pd.factorize(key)
    k = len(uniques)
    codes = np.asarray(codes, dtype=np.int64)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    largest_group = int(np.diff(np.r_[starts, len(codes)]).max()) if k else 0
    first = np.zeros(len(parts.nums["count"][0]), dtype=bool)
    first[np.flatnonzero(dup)[order[starts]]] = True  # each key's first row
    sums: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, (values, missing) in parts.nums.items():
        v, m = values[dup], missing[dup]
        if len(v) and int(v.max()) * largest_group >= 2**62:  # an int64 sum could wrap
            return None
        total = np.add.reduceat(np.where(m, 0, v)[order], starts) if k else v[:0]
        present = np.add.reduceat((~m)[order].astype(np.int64), starts) > 0 if k else m[:0]
        if (total > MAX_COUNT).any():  # its rows are rejects: the validator's
            return None
        sums[name] = (np.where(present, total, 0), ~present)
    frame = parts.frame(first)  # first rows in file order: the keys' order of first appearance
    for name, (total, absent) in sums.items():
        frame[name] = pd.arrays.IntegerArray(total, absent)
    for name, values in parts.reals.items():
        v = values[dup]
        there = np.flatnonzero(~np.isnan(v))  # pandas' ``first`` skips missing values
        firsts = np.full(k, np.nan)
        got, at = np.unique(codes[there], return_index=True)
        firsts[got] = v[there[at]]
        frame[name] = firsts
    return frame
