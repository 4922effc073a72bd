"""Compact integer-indexed graph view (CSR) used by heavy algorithms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

__all__ = ["CSRGraph"]


@dataclass(frozen=True)
class CSRGraph:
    """A directed weighted graph in compressed sparse row form.

    Node ``i`` is the physician ``npis[i]``. Row ``i`` of :attr:`matrix`
    holds the out-edges of node ``i``: ``matrix[i, j]`` is the aggregated
    weight of the flow ``i -> j``. Duplicate flows (several periods or
    provenances between the same pair) are summed.

    Attributes
    ----------
    matrix
        ``scipy.sparse.csr_array`` of shape ``(n, n)`` with float64 weights.
    npis
        NPI of each node, in node order: the network's
        :attr:`~refgraph.ReferralNetwork.npis` index itself (string dtype,
        no per-node Python objects; ``np.asarray(g.npis)`` gives an array).
    weight
        Name of the flow column the weights came from.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> npis = pd.Index(["1234567893", "1003033051"], dtype="string", name="npi")
    >>> src, dst, w = np.array([0, 0]), np.array([1, 1]), np.array([2.0, 3.0])
    >>> g = CSRGraph.from_edges(npis, src, dst, w, "count")
    >>> g.npis is npis, g.m, float(g.matrix[0, 1])
    (True, 1, 5.0)
    >>> g.index_of(["1003033051", "1999999999"]).tolist()
    [1, -1]
    """

    matrix: sp.csr_array
    npis: pd.Index
    weight: str

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.matrix.shape[0])

    @property
    def m(self) -> int:
        """Number of distinct directed edges."""
        return int(self.matrix.nnz)

    @property
    def indptr(self) -> np.ndarray:
        """CSR row pointer array."""
        return np.asarray(self.matrix.indptr)

    @property
    def indices(self) -> np.ndarray:
        """CSR column index array."""
        return np.asarray(self.matrix.indices)

    @property
    def data(self) -> np.ndarray:
        """CSR weight array (float64)."""
        return np.asarray(self.matrix.data)

    def index_of(self, npis: Any) -> np.ndarray:
        """Return node ids of the given NPIs (``-1`` for unknown NPIs)."""
        return np.asarray(self.npis.get_indexer(pd.Index(np.atleast_1d(npis))))

    def transpose(self) -> sp.csr_array:
        """The reversed graph (in-edges per row) as CSR."""
        return sp.csr_array(self.matrix.T)

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Edge arrays ``(source ids, target ids, weights)``."""
        coo = self.matrix.tocoo()
        return np.asarray(coo.row), np.asarray(coo.col), np.asarray(coo.data)

    @classmethod
    def from_edges(
        cls,
        npis: Any,
        src: np.ndarray,
        dst: np.ndarray,
        w: np.ndarray,
        weight: str,
    ) -> CSRGraph:
        """Build from integer edge arrays; duplicate pairs are summed.

        ``npis`` (node labels) is kept as it is when it is a ``pandas.Index``
        (no copy, no conversion to Python strings); other array-likes become one.
        """
        n = len(npis)
        mat = sp.csr_array(
            (np.asarray(w, dtype="float64"), (np.asarray(src), np.asarray(dst))), shape=(n, n)
        )
        mat.sum_duplicates()
        mat.sort_indices()
        index = npis if isinstance(npis, pd.Index) else pd.Index(npis)
        return cls(mat, index, weight)
