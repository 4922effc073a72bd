"""Repeated flow keys of the readers' fast path (:mod:`refgraph.io._fast`), in numpy.

Rows that share a whole flow key (source, target, period dates, provenance) share
its (source, target) pair, so the pair is checked first, on one int64 key a pair
made of the NPI values, and the other key columns only on the rows whose pair
repeats (none, in a file with one row a pair). Same answer as
``DataFrame.duplicated(keep=False)`` over the whole key (``tests/test_io_fast.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

__all__ = [
    "member",
    "pair_keys",
    "repeated_keys",
    "repeated_pairs",
    "repeated_values",
    "same_instant",
]

_DATES = ("period_start", "period_end")


def same_instant(values: np.ndarray) -> bool:
    """Whether a datetime64 array holds one value (``NaT`` included) throughout."""
    i8 = values.view(np.int64)
    return bool(len(i8) == 0 or (i8 == i8[0]).all())


def repeated_values(key: np.ndarray) -> np.ndarray:
    """Whether each value of ``key`` occurs more than once (by a sort: no hash table)."""
    ordered = np.sort(key)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    if not len(twice):
        return np.zeros(len(key), dtype=bool)
    return np.isin(key, twice)


def pair_keys(src: np.ndarray, dst: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """One int64 a (source, target) pair of valid NPIs: their first nine digits side by side.

    The tenth digit of a valid NPI is its check digit, a function of the first
    nine, so ``npi // 10`` (below 10**9 < 2**30) identifies the NPI and two
    of them fit one int64, in two integer divisions (no hash table; the
    targets' a block at a time, so the key is the only n-long array made).
    ``src`` and ``dst`` must be valid NPI values (as the fast path has them;
    a 0 for a row it does not judge is fine, such rows are left out by the
    caller).
    """
    key = np.floor_divide(src, 10)
    key <<= 30
    for start in range(0, len(key), block):
        key[start : start + block] |= dst[start : start + block] // 10
    return key


def repeated_pairs(src: np.ndarray, dst: np.ndarray, ok: np.ndarray | None = None) -> np.ndarray:
    """Rows whose (source, target) pair occurs more than once (every row of such a pair).

    Only the rows of ``ok`` (all by default) count, and only they can be
    marked. The pair keys (:func:`pair_keys`) of those rows are sorted in
    place to find the repeated ones (one n-long array alive), and made again
    to look them up by hashing only when some pair repeats. Keys already in
    order (a file sorted by source and target, as CMS ships it) are neither
    sorted nor looked up: a repeated pair's rows are neighbours.
    """
    ordered = pair_keys(src, dst) if ok is None else pair_keys(src[ok], dst[ok])
    if len(ordered) > 1 and bool((ordered[1:] >= ordered[:-1]).all()):
        same = ordered[1:] == ordered[:-1]
        del ordered
        found = np.zeros(len(same) + 1, dtype=bool)
        found[1:] = same
        found[:-1] |= same
        if ok is None:
            return found
        out = np.zeros(len(src), dtype=bool)
        out[ok] = found
        return out
    ordered.sort()
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not len(twice):
        return np.zeros(len(src), dtype=bool)
    key = pair_keys(src, dst)
    found = pd.Series(key, copy=False).isin(twice).to_numpy(dtype=bool)  # read-only
    return found & ok if ok is not None else found.copy()


def member(values: np.ndarray, ordered: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """``np.isin(values, ordered)`` for sorted distinct ``ordered``, a block of values at a time.

    A binary search of each value (``ordered`` is the few repeated keys): no sort
    of ``values`` and O(block) scratch memory, where ``np.isin`` sorts a copy of both.
    """
    out = np.empty(len(values), dtype=bool)
    if not len(ordered):
        out[:] = False
        return out
    last = len(ordered) - 1
    for start in range(0, len(values), block):
        part = values[start : start + block]
        at = np.searchsorted(ordered, part)
        np.minimum(at, last, out=at)
        out[start : start + block] = ordered[at] == part
    return out


def repeated_keys(
    src: np.ndarray,
    dst: np.ndarray,
    ok: np.ndarray | None,
    key_column: Callable[[str, np.ndarray], pd.Series | None],
) -> np.ndarray:
    """Rows of ``ok`` whose flow key repeats among them (every row of such a key).

    As ``duplicated_flows(keep=False)`` over the rows of ``ok``. Rows sharing a
    whole key share its (source, target) pair, so the pair is checked first
    (:func:`repeated_pairs`) and the other key columns only on the rows whose
    pair repeats (none, in a file with one row a pair): ``key_column(name,
    rows)`` gives column ``name`` of the rows of the boolean mask ``rows`` in
    the validator's dtype, or ``None`` when it holds one value for the whole table.
    """
    same_pair = repeated_pairs(src, dst, ok)
    if not same_pair.any():
        return same_pair
    keys: dict[str, np.ndarray] = {"source": src[same_pair], "target": dst[same_pair]}
    for name in (*_DATES, "provenance"):
        col = key_column(name, same_pair)
        if col is None:
            continue
        codes = pd.factorize(col, use_na_sentinel=True)[0]
        if len(codes) and (codes != codes[0]).any():
            keys[name] = codes.astype(np.int64)
    if len(keys) == 2:  # no other key column varies among these rows
        return same_pair
    out = np.zeros(len(same_pair), dtype=bool)
    out[same_pair] = pd.DataFrame(keys).duplicated(keep=False).to_numpy(dtype=bool)
    return out
