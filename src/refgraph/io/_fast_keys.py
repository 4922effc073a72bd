"""Repeated flow keys of the readers' fast path (:mod:`refgraph.io._fast`), in numpy.

Rows that share a whole flow key (source, target, period dates, provenance) share
its (source, target) pair, so the pair is checked first, on int64 NPI values with
one n-long scratch array, and the other key columns only on the rows whose pair
repeats (none, in a file with one row a pair). Same answer as
``DataFrame.duplicated(keep=False)`` over the whole key (``tests/test_io_fast.py``).
"""

from __future__ import annotations

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


def pair_keys(src: np.ndarray, dst: np.ndarray) -> np.ndarray | None:
    """One int64 a (source, target) pair: the source's code above the target NPI (< 2**34).

    Built in place in ``pandas.factorize``'s codes (one n-long array); ``None``
    with 2**29 or more distinct sources.
    """
    codes, uniques = pd.factorize(src)
    if len(uniques) >= 2**29:  # pragma: no cover - more than 500M distinct sources in one table
        return None
    key = codes.astype(np.int64, copy=False)
    key <<= 34
    key |= dst
    return key


def repeated_pairs(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Rows whose (source, target) pair occurs more than once (every row of such a pair).

    :func:`repeated_values` of the pair keys with one n-long int64 array alive:
    the keys are sorted in place and made again only when some pair repeats.
    """
    key = pair_keys(src, dst)
    if key is None:  # pragma: no cover - more than 500M distinct sources in one table
        pairs = pd.DataFrame({"source": src, "target": dst}, copy=False)
        return pairs.duplicated(keep=False).to_numpy(dtype=bool)
    key.sort()
    twice = key[1:][key[1:] == key[:-1]]
    del key
    if not len(twice):
        return np.zeros(len(src), dtype=bool)
    again = pair_keys(src, dst)
    assert again is not None
    return member(again, np.unique(twice))


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
    table: pd.DataFrame,
    constant: set[str],
    *,
    same_pair: np.ndarray | None = None,
) -> np.ndarray:
    """Rows whose flow key repeats (every row of such a key), as ``duplicated_flows``.

    Rows sharing a whole key share its (source, target) pair, so the pair is checked
    first (:func:`repeated_pairs`) and the other key columns only on the rows whose
    pair repeats (none, in a file with one row a pair). With ``same_pair`` given (that
    first check, made by the caller), ``src`` and ``dst`` are the NPIs of its rows only.
    """
    if same_pair is None:
        same_pair = repeated_pairs(src, dst)
        src, dst = src[same_pair], dst[same_pair]
    if not same_pair.any():
        return same_pair
    keys: dict[str, np.ndarray] = {"source": src, "target": dst}
    for name in (*_DATES, "provenance"):
        col = table[name]
        if name in constant or (col.dtype.kind == "M" and same_instant(col.to_numpy())):
            continue
        codes = pd.factorize(col[same_pair], use_na_sentinel=True)[0]
        if len(codes) and (codes != codes[0]).any():
            keys[name] = codes.astype(np.int64)
    if len(keys) == 2:  # no other key column varies among these rows
        return same_pair
    out = np.zeros(len(same_pair), dtype=bool)
    out[same_pair] = pd.DataFrame(keys).duplicated(keep=False).to_numpy(dtype=bool)
    return out
