"""Repeated flow keys of the readers' fast path (:mod:`refgraph.io._fast`), in numpy.

Rows that share a whole flow key (source, target, period dates, provenance) share
its (source, target) pair, so the pair is checked first, on one int64 key a pair
made of the NPI stems, and the other key columns only on the rows whose pair
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
    "spread",
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


def pair_keys(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """One int64 a (source, target) pair of NPI stems, side by side: 30 bits each.

    A valid NPI's stem (``npi // 10``, :func:`refgraph.io._fast.npi_stems`)
    is below 10**9 < 2**30 and identifies it (the tenth digit is the check
    digit of the first nine), so two valid NPIs' pairs have the same key
    only when they are the same pair. A shift and an or: no division, no
    hash table. ``src`` and ``dst`` are stems in 0..2**30 (a 0 for a row the
    fast path does not judge is fine: the caller leaves such rows out).
    """
    key = src.astype(np.int64)
    key <<= 30
    key |= dst
    return key


def repeated_pairs(src: np.ndarray, dst: np.ndarray, ok: np.ndarray | None = None) -> np.ndarray:
    """Rows whose (source, target) pair of NPI stems occurs more than once (all its rows).

    Only the rows of ``ok`` (all by default) count, and only they can be
    marked. Pairs already in order (a file sorted by source and target, as
    CMS ships it) are compared as neighbours. Otherwise each pair is hashed
    to an int32 (:func:`_pair_hash`), the hashes sorted (half the work of
    sorting int64 keys), and only the rows whose hash repeats (a repeated
    pair's rows, and the rare pairs whose hashes collide) have their exact
    keys (:func:`pair_keys`) compared.
    """
    if ok is not None and ok.all():
        ok = None
    s, d = (src, dst) if ok is None else (src[ok], dst[ok])
    if len(s) < 2:
        return np.zeros(len(src), dtype=bool)
    if _in_order(s, d):
        ordered = pair_keys(s, d)
        same = ordered[1:] == ordered[:-1]
        del ordered
        found = np.zeros(len(same) + 1, dtype=bool)
        found[1:] = same
        found[:-1] |= same
        return found if ok is None else spread(found, ok)
    hashed = _pair_hash(s, d)
    hashed.sort()
    twice = np.unique(hashed[1:][hashed[1:] == hashed[:-1]])
    del hashed
    if not len(twice):
        return np.zeros(len(src), dtype=bool)
    near = member(_pair_hash(s, d), twice)  # every row of a repeated pair, and a few more
    found = np.zeros(len(s), dtype=bool)
    found[near] = repeated_values(pair_keys(s[near], d[near]))
    return found if ok is None else spread(found, ok)


#: Knuth's multiplier 2654435761 (a prime near 2**32 / the golden ratio) as a signed int32.
_GOLDEN = np.int32(-1_640_531_535)


def _pair_hash(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """An int32 a pair of stems: ``src * _GOLDEN ^ dst``, wrapping (equal pairs, equal hashes)."""
    hashed = src.astype(np.int32)  # a copy, multiplied in place
    hashed *= _GOLDEN
    hashed ^= dst.astype(np.int32, copy=False)
    return hashed


def _in_order(src: np.ndarray, dst: np.ndarray) -> bool:
    """Whether the pairs are sorted by source, then target (the first 4,096 looked at first)."""
    for end in (4096, len(src)):
        s, d = src[:end], dst[:end]
        step = s[1:] > s[:-1]
        if not (step | ((s[1:] == s[:-1]) & (d[1:] >= d[:-1]))).all():
            return False
    return True


def spread(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A boolean array over the mask ``rows``: ``values`` at its rows, False elsewhere."""
    out = np.zeros(len(rows), dtype=bool)
    out[rows] = values
    return out


def member(values: np.ndarray, ordered: np.ndarray, block: int = 1 << 20) -> np.ndarray:
    """``np.isin(values, ordered)`` for sorted distinct ``ordered``, a block of values at a time.

    ``ordered`` is the few repeated keys. Each value's low bits are looked up
    first in a table of the low bits of ``ordered`` (a few MiB at most, so the
    look-ups stay in cache), and only the values found there are searched for
    in ``ordered``: no sort and no hash table of ``values``, and O(block)
    scratch memory, where ``np.isin`` sorts a copy of both.

    Examples
    --------
    >>> member(np.array([5, 7, 9, 1 << 40]), np.array([7, 1 << 40])).tolist()
    [False, True, False, True]
    """
    out = np.zeros(len(values), dtype=bool)
    if not len(ordered) or not len(values):
        return out
    size = 1 << min(24, max(10, (64 * len(ordered)).bit_length()))  # a slot in 64 is taken
    low = np.zeros(size, dtype=bool)
    low[ordered & (size - 1)] = True
    last = len(ordered) - 1
    for start in range(0, len(values), block):
        part = values[start : start + block]
        near = np.flatnonzero(low[part & (size - 1)])
        if len(near):
            got = part[near]
            at = np.searchsorted(ordered, got)
            np.minimum(at, last, out=at)
            out[start + near] = ordered[at] == got
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
