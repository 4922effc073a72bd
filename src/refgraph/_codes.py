"""Integer codes in order of first appearance, a segment at a time (bounded memory).

``pandas.factorize`` of one long array needs the whole array and its codes at
once; the network build codes the NPIs of the physicians, then of every
flow's source, then target (and events, touchpoints), which at the national
CMS size is 131M int64 values (1 GiB) and 131M codes besides the flows
table. :class:`FirstSeenCoder` takes the values a segment at a time and
gives the same codes: a segment is coded together with the distinct values
seen so far, placed first, so those keep their codes and the segment's new
values get the next ones in order of first appearance.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FirstSeenCoder"]


class FirstSeenCoder:
    """Codes ``0, 1, ...`` of int64 values in order of first appearance, over segments.

    Feeding the segments of an array one after another to :meth:`codes` gives
    the codes ``pandas.factorize`` gives on the whole array, and
    :attr:`uniques` its uniques; the memory is one segment (its values, its
    codes) and the distinct values, not the whole array. Each segment is
    dictionary-encoded by Arrow after the distinct values seen so far, so a
    segment costs its length plus the number of distinct values.

    Examples
    --------
    >>> coder = FirstSeenCoder()
    >>> coder.codes(np.array([7, 3, 7])).tolist(), coder.codes(np.array([9, 3])).tolist()
    ([0, 1, 0], [2, 1])
    >>> coder.uniques.tolist()
    [7, 3, 9]
    """

    def __init__(self) -> None:
        self.uniques = np.zeros(0, dtype=np.int64)

    def codes(self, values: np.ndarray) -> np.ndarray:
        """The codes of ``values`` (int32 while they fit, else int64); the new values are kept."""
        import pyarrow as pa
        import pyarrow.compute as pc

        values = np.asarray(values, dtype=np.int64)
        k = len(self.uniques)
        if k + len(values) >= 2**31:  # pragma: no cover - two billion values in one segment
            both = np.concatenate([self.uniques, values])
            codes, self.uniques = _pandas_codes(both)
            return codes[k:]
        both = np.concatenate([self.uniques, values]) if k else values
        enc = pc.dictionary_encode(pa.array(both, type=pa.int64()))
        del both
        self.uniques = np.asarray(enc.dictionary.to_numpy(), dtype=np.int64)
        codes = np.asarray(enc.indices.to_numpy(), dtype=np.int32)
        # the known values come first and are distinct: their codes are 0..k-1, unchanged
        return codes[k:] if k else codes


def _pandas_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
    import pandas as pd

    codes, uniques = pd.factorize(values)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=np.int64)
