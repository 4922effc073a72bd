"""Compact integer-indexed graph view (CSR) used by heavy algorithms."""

from __future__ import annotations

from dataclasses import dataclass, field
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
        NPI of each node, in node order.
    weight
        Name of the flow column the weights came from.
    """

    matrix: sp.csr_array
    npis: np.ndarray
    weight: str
    _index: pd.Index = field(repr=False)

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
        return np.asarray(self._index.get_indexer(pd.Index(np.atleast_1d(npis))))

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
        npis: np.ndarray,
        src: np.ndarray,
        dst: np.ndarray,
        w: np.ndarray,
        weight: str,
    ) -> CSRGraph:
        """Build from integer edge arrays; duplicate pairs are summed."""
        n = len(npis)
        mat = sp.csr_array(
            (np.asarray(w, dtype="float64"), (np.asarray(src), np.asarray(dst))), shape=(n, n)
        )
        mat.sum_duplicates()
        mat.sort_indices()
        return cls(mat, np.asarray(npis, dtype=object), weight, pd.Index(npis))
