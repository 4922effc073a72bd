"""Builders of the derived views of a :class:`~refgraph.network.ReferralNetwork`.

The network caches what these return (:meth:`ReferralNetwork.cached_view`);
they read tables and never modify them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._csr import CSRGraph
from ._errors import ValidationError
from ._tables import FLOW_IDS_KEY, node_codes, release_memory

if TYPE_CHECKING:
    import networkx as nx

    from .network import ReferralNetwork


def flow_node_ids(net: ReferralNetwork) -> tuple[np.ndarray, np.ndarray]:
    """Node ids (positions in :attr:`~ReferralNetwork.npis`) of each flow's source and target.

    Cached on the network; computed on int64 NPI values, not strings.
    """

    def build() -> tuple[np.ndarray, np.ndarray]:
        f = net.flows
        src, dst = node_codes(net.physicians["npi"], f["source_npi"], f["target_npi"])
        return src, dst

    return net.cached_view(FLOW_IDS_KEY, build)


def _check_weight(f: pd.DataFrame, weight: str) -> None:
    if weight not in f.columns:
        raise ValidationError(
            f"weight: expected a numeric flows column, got {weight!r}; "
            f"columns are {list(f.columns)}"
        )


def edge_table(net: ReferralNetwork, weight: str) -> pd.DataFrame:
    """Flows summed to one row per directed pair (see :meth:`ReferralNetwork.edges`)."""
    f = net.flows
    _check_weight(f, weight)
    cols = ["count", "patients"] + ([weight] if weight not in ("count", "patients") else [])
    src, dst = flow_node_ids(net)
    pair = src.astype(np.int64) * max(net.n_physicians, 1) + dst
    if len(pair) and pd.Series(pair).duplicated().any():  # int64 keys, not NPI strings
        out = (
            f.groupby(["source_npi", "target_npi"], sort=False)[cols].sum(min_count=1).reset_index()
        )
    else:
        out = f[["source_npi", "target_npi", *cols]].reset_index(drop=True)
    return out


def csr_view(net: ReferralNetwork, weight: str) -> CSRGraph:
    """The CSR view of the flows (see :meth:`ReferralNetwork.csr`).

    Built from the flows' integer node ids: flows between the same pair
    (several periods or provenances) are summed by the sparse matrix, as the
    edge table would sum them; a missing weight counts as 0.
    """
    f = net.flows
    _check_weight(f, weight)
    src, dst = flow_node_ids(net)
    w = pd.to_numeric(f[weight], errors="coerce").to_numpy(dtype="float64", na_value=0.0)
    return CSRGraph.from_edges(net.npis, src, dst, w, weight)


def networkx_view(phys: pd.DataFrame, e: pd.DataFrame, weight: str, attributes: bool) -> nx.DiGraph:
    """The networkx view (see :meth:`ReferralNetwork.to_networkx`)."""
    import networkx as nx

    G = nx.DiGraph()
    if attributes:
        recs = phys.astype(object).where(phys.notna(), None).to_dict("records")
        G.add_nodes_from((r["npi"], {k: v for k, v in r.items() if k != "npi"}) for r in recs)
    else:
        G.add_nodes_from(phys["npi"].tolist())
    w = pd.to_numeric(e[weight], errors="coerce").fillna(0).astype(float).tolist()
    cnt = e["count"].astype(object).where(e["count"].notna(), None).tolist()
    pat = e["patients"].astype(object).where(e["patients"].notna(), None).tolist()
    G.add_edges_from(
        (s, t, {"weight": wi, "count": c, "patients": p})
        for s, t, wi, c, p in zip(e["source_npi"], e["target_npi"], w, cnt, pat)
    )
    return G


def networkx_frames(G: nx.Graph, weight: str) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Physicians and flows of a networkx graph (see :meth:`ReferralNetwork.from_networkx`)."""
    rows = [{"npi": n, **d} for n, d in G.nodes(data=True)]
    phys = pd.DataFrame(rows) if rows else None
    edges = []
    directed = G.is_directed()
    for s, t, d in G.edges(data=True):
        c = d.get(weight, d.get("count", d.get("weight", 1)))
        rec = {"source_npi": s, "target_npi": t, "count": c}
        for k, v in d.items():
            if k not in ("weight", weight, "count"):
                rec[k] = v
        edges.append(rec)
        if not directed:
            edges.append({**rec, "source_npi": t, "target_npi": s})
    flows = pd.DataFrame(edges) if edges else None

    return phys, flows


def summary_series(net: ReferralNetwork) -> pd.Series:
    """The figures of :meth:`ReferralNetwork.summary`.

    Array work only, linear in the edges: the structure of the cached CSR
    view without its self-loops, one transpose of it (a counting sort) for
    reciprocity and in-degrees, and scipy's weak components.
    """
    g = net.csr()
    n, m = g.n, g.m
    mat = g.matrix
    if not mat.has_canonical_format:  # from_edges sorts and sums; stay right if it did not
        mat = mat.copy()
        mat.sum_duplicates()
        m = int(mat.nnz)
    loops, recip_pairs, degree = structure_counts(mat.indptr, mat.indices, n)
    m_nl = m - loops
    if n:
        import scipy.sparse.csgraph as csg

        ncomp, labels = csg.connected_components(g.matrix, directed=True, connection="weak")
        largest = int(np.bincount(labels).max())
        del labels
    else:
        ncomp, largest = 0, 0
    release_memory()  # the transpose and the component labels were freed into the C heap
    f = net.flows
    return pd.Series(
        {
            "physicians": n,
            "practices": len(net.practices),
            "flows": len(f),
            "edges": m,
            "total_volume": int(f["count"].sum()) if len(f) else 0,
            "total_patients": int(f["patients"].sum()) if f["patients"].notna().any() else 0,
            "density": m_nl / (n * (n - 1)) if n > 1 else float("nan"),
            "weak_components": int(ncomp),
            "largest_component": largest,
            "reciprocity": float(recip_pairs / m_nl) if m_nl else float("nan"),
            "isolates": int((degree == 0).sum()),
            "events": len(net.events),
            "touchpoints": len(net.touchpoints),
            "rejected_rows": int(sum(r.n_rejected_rows for r in net.ingest.values())),
        },
        dtype=object,
    )


def structure_counts(
    indptr: np.ndarray, indices: np.ndarray, n: int
) -> tuple[int, int, np.ndarray]:
    """Self-loops, edges with a reverse edge (loops aside) and loop-free degrees of a CSR.

    ``indptr``/``indices`` are a canonical CSR structure (sorted, no repeated
    entries) of ``n`` nodes. The edges without self-loops are transposed once
    (``scipy``'s counting sort) and the two sorted structures are intersected
    row by row (``scipy``'s element-wise product), all linear in the edges.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csr_array(np.array([[1, 1, 1], [1, 0, 0], [0, 0, 0]]))  # 0<->1, 0->2, loop 0
    >>> loops, recip, deg = structure_counts(a.indptr, a.indices, 3)
    >>> loops, recip, deg.tolist()
    (1, 2, [3, 2, 1])
    """
    import scipy.sparse as sp

    idx = np.int32 if n < 2**31 else np.int64
    counts = np.diff(indptr)
    keep = np.repeat(np.arange(n, dtype=idx), counts) != indices
    loops = len(keep) - int(np.count_nonzero(keep))
    if loops:
        cols = np.asarray(indices)[keep]
        counts = counts - np.bincount(np.asarray(indices)[~keep], minlength=n)  # loop at i: i == j
    else:
        cols = np.asarray(indices)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    a = sp.csr_array((np.ones(len(cols), dtype=np.int8), cols, ptr), shape=(n, n))
    a.has_canonical_format = True  # a subset of a canonical structure
    t = sp.csr_array(a.T)  # rows: in-edges, columns sorted (a counting sort)
    both = int(a.multiply(t).nnz) if len(cols) else 0
    degree = counts + np.diff(t.indptr)
    return loops, both, degree


def _take(col: pd.Series, pos: np.ndarray) -> list[Any]:
    """Values at integer positions of a column, as the scalars ``.iloc`` gives."""
    arr = col.array
    if isinstance(arr, pd.arrays.NumpyExtensionArray):
        return list(arr.to_numpy()[pos])  # numpy scalars, as a row of a mixed frame holds
    # one scalar at a time: for the few positions of a result this beats a vector
    # take of an Arrow-backed column (which costs a fixed ~0.5 ms)
    return [arr[i] for i in pos.tolist()]


def node_values(net: Any, column: str, ids: Any) -> list[Any]:
    """``net.physicians[column]`` at node ids."""
    return _take(net.physicians[column], np.asarray(ids, dtype=np.int64))


def display_names(net: Any, ids: Any) -> list[str]:
    """Display names of node ids (the NPI where the name is missing)."""
    ids = np.asarray(ids, dtype=np.int64)
    names = node_values(net, "name", ids)
    missing = [i for i, nm in enumerate(names) if pd.isna(nm)]
    npis = node_values(net, "npi", ids[missing]) if missing else []
    out = [str(nm) for nm in names]
    for i, npi in zip(missing, npis):
        out[i] = str(npi)
    return out
