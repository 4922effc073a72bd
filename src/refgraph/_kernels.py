"""Shared CSR kernels and engine adapters of the analysis modules (private).

Everything here works on integer node ids of :meth:`ReferralNetwork.csr`;
the public modules (:mod:`refgraph.centrality`, :mod:`refgraph.community`,
:mod:`refgraph.influence`) translate to and from NPIs.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._errors import ConvergenceError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from .network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = [
    "ConvergenceError",
    "binary",
    "community_graph",
    "cost_csr",
    "frame",
    "have_networkit",
    "networkit_graph",
    "node_vector",
    "row_blocks",
    "strength_matrix",
    "symmetric",
    "transition_t",
    "undirected_networkit",
    "upper_symmetric",
]


def have_networkit() -> bool:
    """Whether NetworKit can be imported."""
    try:
        import networkit  # noqa: F401
    except ImportError:
        return False
    return True


def strength_matrix(net: ReferralNetwork, weight: str | None) -> sp.csr_array:
    """Adjacency as CSR: weights (a strength) or 1 per edge when ``weight`` is None.

    The diagonal (self-referrals) is dropped and non-positive weights are
    removed so that every stored entry is a real tie. The result is cached on
    the network and shared: callers must not modify it in place.
    """
    return net.cached_view(
        ("refgraph._kernels.strength", weight), lambda: _strength_matrix(net, weight)
    )


def _strength_matrix(net: ReferralNetwork, weight: str | None) -> sp.csr_array:
    mat = net.csr(weight=weight or "count").matrix
    n = mat.shape[0]
    indptr = np.asarray(mat.indptr, dtype=np.int64)
    indices = np.asarray(mat.indices)
    data = np.asarray(mat.data, dtype=np.float64)
    rows = np.repeat(np.arange(n, dtype=indices.dtype), np.diff(indptr))
    # no setdiag/eliminate_zeros: plain array filters are O(nnz) and never touch the input
    keep = indices != rows
    keep &= np.isfinite(data)
    keep &= data > 0
    if weight is not None and keep.all() and mat.has_sorted_indices:
        return mat  # every entry is a tie: the CSR view itself (shared, as this one is)
    counts = np.bincount(rows[keep], minlength=n)
    new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(indices.dtype)
    vals = np.ones(int(keep.sum())) if weight is None else data[keep].copy()
    a = sp.csr_array((vals, indices[keep].copy(), new_ptr), shape=(n, n))
    if not a.has_sorted_indices:
        a.sort_indices()
    return a


def transition_t(a: sp.csr_array, *, block: int = 1 << 20) -> tuple[sp.csr_array, np.ndarray]:
    """``(P^T, dangling ids)`` of a strength matrix ``a``: row v of P^T holds w_uv / s_u.

    ``s_u`` is the out-strength of u (row sum of ``a``); a node without out-strength is
    dangling (its row of P is empty). One transpose of ``a`` (scipy's counting sort, sorted
    indices, ``a``'s index dtype) and the scaling in place, a block of entries at a time,
    so that besides P^T only O(n + block) memory is allocated. Each entry is the one
    product ``w_uv * (1 / s_u)``.

    Examples
    --------
    >>> a = sp.csr_array(np.array([[0.0, 2.0, 2.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    >>> pt, dangling = transition_t(a, block=2)
    >>> pt.toarray().tolist(), dangling.tolist()
    ([[0.0, 1.0, 0.0], [0.5, 0.0, 0.0], [0.5, 0.0, 0.0]], [2])
    """
    n = a.shape[0]
    out_s = np.asarray(a.sum(axis=1), dtype=float)
    dangling = out_s <= 0
    inv = np.divide(1.0, out_s, out=np.zeros(n), where=~dangling)
    pt = sp.csr_array(a.T)  # a CSC view of a, converted: new arrays, rows sorted
    if pt.data is a.data or np.shares_memory(pt.data, a.data):  # pragma: no cover - scipy
        pt = sp.csr_array(pt, copy=True)
    data, cols = pt.data, pt.indices
    for start in range(0, len(data), block):  # entry (v, u) of P^T scaled by 1 / s_u
        stop = start + block
        data[start:stop] *= inv[cols[start:stop]]
    if not pt.has_sorted_indices:  # pragma: no cover - csc -> csr sorts
        pt.sort_indices()
    return pt, np.flatnonzero(dangling)


def binary(a: sp.csr_array) -> sp.csr_array:
    """Same pattern with all entries 1."""
    b = sp.csr_array(a, copy=True)
    b.data = np.ones_like(b.data)
    return b


def symmetric(a: sp.csr_array) -> sp.csr_array:
    """Undirected projection ``A + A^T`` (weights of both directions summed)."""
    s = sp.csr_array(a + a.T)
    s.sort_indices()
    return s


def upper_symmetric(a: sp.csr_array, *, block: int = 1 << 22) -> sp.csr_array:
    """``triu(a + a.T, k=1)`` in canonical CSR, without forming ``a + a.T``.

    The undirected projection's pairs ``i < j`` with weight ``a_ij + a_ji``
    (the diagonal dropped): the entries of ``a`` above the diagonal plus the
    transpose of those below it, summed by scipy's sorted merge. Besides the
    result this holds the two halves (about ``a``'s size in all), where
    ``symmetric(a)`` then ``triu`` held ``a + a.T`` (twice ``a``) and a COO
    copy of it. The values are the same floats (``a_ij + a_ji``, one addition).
    ``a`` must be canonical (sorted indices, no repeated entries).

    Examples
    --------
    >>> a = sp.csr_array(np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0], [0.0, 4.0, 0.0]]))
    >>> upper_symmetric(a, block=2).toarray().tolist()
    [[0.0, 5.0, 1.0], [0.0, 0.0, 4.0], [0.0, 0.0, 0.0]]
    """
    n = a.shape[0]
    indptr = np.asarray(a.indptr, dtype=np.int64)
    indices, data = np.asarray(a.indices), np.asarray(a.data)
    upper = np.empty(len(indices), dtype=bool)
    lower = np.empty(len(indices), dtype=bool)
    for r0, r1 in row_blocks(indptr, block):  # rows per block: O(block) scratch
        lo, hi = int(indptr[r0]), int(indptr[r1])
        rows = np.repeat(np.arange(r0, r1, dtype=indices.dtype), np.diff(indptr[r0 : r1 + 1]))
        np.greater(indices[lo:hi], rows, out=upper[lo:hi])
        np.less(indices[lo:hi], rows, out=lower[lo:hi])
    ptr = np.zeros(n + 1, dtype=np.int64)
    halves = []
    for mask in (upper, lower):
        np.cumsum(_row_counts(mask, indptr), out=ptr[1:])
        halves.append(sp.csr_array((data[mask], indices[mask], ptr.copy()), shape=(n, n)))
    del upper, lower
    u1, low = halves
    halves.clear()
    u2 = sp.csr_array(low.T)  # the lower half's transpose: scipy's counting sort, sorted rows
    del low
    u = sp.csr_array(u1 + u2)
    del u1, u2
    u.sort_indices()  # the merge of sorted rows is sorted: a no-op kept for safety
    return u


def row_blocks(indptr: np.ndarray, block: int) -> list[tuple[int, int]]:
    """Consecutive row ranges ``[r0, r1)`` of a CSR ``indptr``, about ``block`` entries each.

    Every row is in exactly one range, in order; a range holds at least one
    row and at most ``block`` entries plus those of its first row.

    Examples
    --------
    >>> row_blocks(np.array([0, 2, 2, 5, 6]), 3)
    [(0, 2), (2, 4)]
    """
    n = len(indptr) - 1
    cuts = np.searchsorted(indptr, np.arange(0, int(indptr[-1]), max(1, block)), side="right") - 1
    starts = np.unique(np.concatenate([[0], np.clip(cuts, 0, n)]))
    stops = np.concatenate([starts[1:], [n]])
    return [(int(s), int(e)) for s, e in zip(starts, stops) if e > s]


def _row_counts(mask: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Number of ``True`` entries of ``mask`` in each CSR row."""
    csum = np.zeros(len(mask) + 1, dtype=np.int64) if len(mask) < 2**20 else None
    if csum is not None:
        np.cumsum(mask, out=csum[1:])
        return np.diff(csum[indptr])
    out = np.zeros(len(indptr) - 1, dtype=np.int64)
    for r0, r1 in row_blocks(indptr, 1 << 22):
        lo = int(indptr[r0])
        part = np.zeros(int(indptr[r1]) - lo + 1, dtype=np.int64)
        np.cumsum(mask[lo : int(indptr[r1])], out=part[1:])
        out[r0:r1] = np.diff(part[indptr[r0 : r1 + 1] - lo])
    return out


def frame(net: ReferralNetwork, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A result frame indexed by NPI (index name ``npi``)."""
    idx = pd.Index(net.npis, name="npi")
    return pd.DataFrame({k: np.asarray(v) for k, v in columns.items()}, index=idx)


def node_ids(net: ReferralNetwork, npis: Iterable[str], *, name: str) -> np.ndarray:
    """Node ids of NPIs; raises :class:`NotFoundError` naming the unknown ones."""
    arr = pd.Index(pd.Series(list(npis), dtype="string"))
    ids = net.npis.get_indexer(arr)
    if (ids < 0).any():
        bad = arr[ids < 0][:5].tolist()
        raise NotFoundError(f"{name}: NPIs not in the network: {bad}")
    return np.asarray(ids, dtype=np.int64)


def node_vector(
    net: ReferralNetwork, values: Mapping[str, float] | Iterable[str] | pd.Series, *, name: str
) -> np.ndarray:
    """A non-negative length-n vector from a dict/Series of NPI -> value or a set of NPIs.

    A plain iterable of NPIs gives each of them the value 1. The result is not
    normalised. Raises :class:`ValidationError` for negative values or an
    all-zero vector and :class:`NotFoundError` for unknown NPIs.
    """
    n = len(net.npis)
    if isinstance(values, pd.Series):
        keys, vals = list(values.index), values.to_numpy(dtype=float)
    elif isinstance(values, Mapping):
        keys, vals = list(values.keys()), np.asarray(list(values.values()), dtype=float)
    elif isinstance(values, str):
        keys, vals = [values], np.ones(1)
    else:
        keys = list(values)
        vals = np.ones(len(keys))
    ids = node_ids(net, keys, name=name)
    if (vals < 0).any() or not np.isfinite(vals).all():
        raise ValidationError(f"{name}: values must be finite and >= 0")
    out = np.zeros(n)
    np.add.at(out, ids, vals)
    if out.sum() <= 0:
        raise ValidationError(f"{name}: expected at least one NPI with a positive value")
    return out


def networkit_graph(net: ReferralNetwork, weight: str | None, kind: str) -> Any:
    """A NetworKit graph of the network, cached on the network until it changes.

    ``kind``: ``"cost"`` (directed, weight ``1/volume``; unweighted when
    ``weight`` is None), ``"scaled_cost"`` (directed, weight ``L/volume`` for
    integer volumes whose least common multiple ``L`` keeps every path cost an
    exact float64 integer, see :func:`cost_csr`) or ``"undirected"`` (volume
    of both directions summed).
    """
    return net.cached_view(
        ("refgraph._kernels.networkit", weight, kind), lambda: _networkit_graph(net, weight, kind)
    )


def _networkit_graph(net: ReferralNetwork, weight: str | None, kind: str) -> Any:
    import networkit as nk

    a = strength_matrix(net, weight)
    if kind == "cost":
        c = sp.csr_array(a, copy=True)
        if weight is not None:
            c.data = 1.0 / c.data
        g = nk.graph.GraphFromCsr(sp.csr_matrix(c), directed=True, weighted=weight is not None)
    elif kind == "scaled_cost":
        c, scale, _ = cost_csr(net, weight)
        if scale is None:  # pragma: no cover - internal misuse
            raise ValueError("costs of this network are not integer-scalable")
        g = nk.graph.GraphFromCsr(sp.csr_matrix(c), directed=True, weighted=True)
    elif kind == "undirected":
        g = undirected_networkit(a)
    else:  # pragma: no cover - internal misuse
        raise ValueError(kind)
    return g


#: Ties up to which the undirected NetworKit graph of Louvain/Leiden is cached on the
#: network (2**24: about 0.5 GB of graph); above, it is rebuilt at each call, so that
#: it does not stay beside the tables (2 GiB at the national CMS size).
CACHE_UNDIRECTED_MAX = 1 << 24


def community_graph(net: ReferralNetwork, weight: str | None) -> Any:
    """The undirected NetworKit graph for community detection: cached up to
    :data:`CACHE_UNDIRECTED_MAX` ties (:func:`networkit_graph`), else built for this call."""
    a = strength_matrix(net, weight)
    if a.nnz > CACHE_UNDIRECTED_MAX:
        return undirected_networkit(a)
    return networkit_graph(net, weight, "undirected")


def undirected_networkit(a: sp.csr_array) -> Any:
    """The undirected weighted NetworKit graph of a strength matrix, not cached.

    Edge ``{i, j}`` weighs ``a_ij + a_ji``; built by ``GraphFromCsr`` from
    :func:`upper_symmetric`, freed once the graph holds the edges (NetworKit
    keeps each edge at both ends: 32 bytes an edge). ``GraphFromCsr`` reads
    int64 indices; they are made here and the int32 ones dropped first, so
    the build does not hold both.
    """
    import networkit as nk

    u = upper_symmetric(a)
    arrays = _CsrArrays(
        np.asarray(u.indptr, dtype=np.int64),
        np.asarray(u.indices, dtype=np.int64),
        np.asarray(u.data, dtype=np.float64),
        (int(u.shape[0]), int(u.shape[1])),
    )
    del u
    return nk.graph.GraphFromCsr(arrays, directed=False, weighted=True)


class _CsrArrays:
    """The ``indptr``/``indices``/``data``/``shape`` of a CSR that ``GraphFromCsr`` reads.

    scipy's CSR constructor would turn int64 indices that fit back into int32
    (a copy), which ``GraphFromCsr`` then turns into int64 again (another).
    """

    def __init__(
        self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int]
    ) -> None:
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape


#: Edges above which :func:`cost_csr` is rebuilt at each call instead of cached (2**25:
#: about 400 MB). Its build is one copy of the strength matrix and one pass over the
#: distinct volumes, seconds against the minutes of a sampled betweenness at that
#: size; the 0.75 GB it would hold at the national CMS size stays free for the stages
#: after it (``benchmarks/results/national.md``).
CACHE_COST_MAX = 1 << 25


def cost_csr(net: ReferralNetwork, weight: str | None) -> tuple[sp.csr_array, int | None, float]:
    """Edge costs for shortest paths: ``(costs, scale, tol)``, cached up to
    :data:`CACHE_COST_MAX` edges.

    Costs are ``1 / volume`` up to a constant factor, which changes no shortest
    path. When every volume is a positive integer and the least common
    multiple ``L`` of the distinct volumes satisfies ``n * L < 2**53``, the
    costs are the integers ``L / volume`` (``scale = L``, ``tol = 0``): every
    path sum is then exact in float64 and equal-cost paths compare equal.
    Otherwise the costs are ``1 / volume`` (``scale = None``) and ``tol`` is the
    relative tolerance under which two path costs count as equal.
    ``weight=None`` gives cost 1 per edge (``scale = 1``).
    """
    a = strength_matrix(net, weight)
    if a.nnz > CACHE_COST_MAX:
        return _cost_csr(a)
    return net.cached_view(
        ("refgraph._kernels.cost_csr", weight), lambda: _cost_csr(strength_matrix(net, weight))
    )


#: Relative tolerance under which two non-integer path costs count as equal.
COST_REL_TOL = 1e-9


def integer_scale(volumes: np.ndarray, n: int) -> int | None:
    """Least common multiple ``L`` of positive integer ``volumes``, if ``n * L < 2**53``.

    Returns None for a non-integer or non-positive volume, or a too large ``L``.
    """
    if len(volumes) == 0:
        return 1
    if not bool(np.all(volumes == np.floor(volumes))) or float(volumes.min()) < 1:
        return None
    limit = 2**53 // max(1, n)
    scale = 1
    for v in np.unique(volumes).tolist():
        scale = math.lcm(scale, int(v))
        if scale >= limit:
            return None
    return scale


def _cost_csr(a: sp.csr_array) -> tuple[sp.csr_array, int | None, float]:
    c = sp.csr_array(a, copy=True)
    scale = integer_scale(np.asarray(c.data), int(c.shape[0]))
    if scale is not None:
        c.data = (scale // np.asarray(c.data, dtype=np.int64)).astype(np.float64)
        return c, scale, 0.0
    c.data = 1.0 / np.asarray(c.data, dtype=np.float64)
    return c, None, COST_REL_TOL


def seed_networkit(seed: int | None) -> None:
    """Seed NetworKit's global generator (``None`` leaves it alone)."""
    if seed is not None:
        import networkit as nk

        nk.engineering.setSeed(int(seed), False)


def resolve_seed(seed: int | None) -> int | None:
    """The explicit seed, else ``refgraph.config.seed``."""
    from .config import config

    if seed is None:
        seed = config.seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise ValidationError(f"seed: expected an int or None, got {seed!r}")
    return None if seed is None else int(seed)


def masked_product(
    left: sp.csr_array, right: sp.csr_array, mask: sp.csr_array, *, chunk: int = 20000
) -> sp.csr_array:
    """``(left @ right)`` restricted to the pattern of ``mask``, computed in row chunks.

    Keeps peak memory bounded on heavy-tailed graphs where the full product
    has far more entries than the mask.
    """
    n = left.shape[0]
    parts = []
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        prod = sp.csr_array(left[start:stop] @ right)
        parts.append(sp.csr_array(prod.multiply(mask[start:stop])))
    out = sp.csr_array(sp.vstack(parts, format="csr")) if parts else sp.csr_array((0, 0))
    return out
