"""Referral communities: Louvain, Leiden, modularity and a summary table.

Communities are found on the **undirected projection** of the referral
network: the weight of the pair ``{i, j}`` is the volume of both directions
summed, :math:`w_{ij} + w_{ji}` (volume is a strength). NetworKit's parallel
Louvain (PLM) and Leiden run the heavy work; networkx's
``louvain_communities`` is the fallback when NetworKit cannot be imported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._errors import ValidationError
from ._kernels import (
    community_graph,
    frame,
    have_networkit,
    resolve_seed,
    row_blocks,
    seed_networkit,
    strength_matrix,
    symmetric,
)
from ._params import check_float, check_int
from ._tables import release_memory
from .backends import pushdown

if TYPE_CHECKING:
    from .network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["community_summary", "leiden", "louvain", "modularity"]


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Relabel: largest community 0, ties broken by the smallest member id."""
    uniq, inv, counts = np.unique(labels, return_inverse=True, return_counts=True)
    first = np.full(len(uniq), len(labels))
    np.minimum.at(first, inv, np.arange(len(labels)))
    order = np.lexsort((first, -counts))
    new = np.empty(len(uniq), dtype=np.int64)
    new[order] = np.arange(len(uniq))
    return new[inv]


def _check_resolution(resolution: float) -> float:
    return check_float(resolution, "resolution", minimum=0)


def _labels_vector(
    net: ReferralNetwork, communities: pd.DataFrame | pd.Series | Mapping[str, int]
) -> np.ndarray:
    if isinstance(communities, pd.DataFrame):
        if "community" not in communities.columns:
            raise ValidationError(
                "communities: expected a frame with a 'community' column indexed by NPI"
            )
        communities = communities["community"]
    s = pd.Series(communities) if not isinstance(communities, pd.Series) else communities
    s = s.reindex(pd.Index(net.npis))
    if s.isna().any():
        missing = s.index[s.isna().to_numpy()][:5].tolist()
        raise ValidationError(f"communities: no community for NPIs {missing}")
    codes, _ = pd.factorize(s.to_numpy())
    return np.asarray(codes, dtype=np.int64)


def _modularity(a: sp.csr_array, labels: np.ndarray, resolution: float) -> float:
    """Newman modularity of the undirected projection ``a + a.T`` of a strength matrix ``a``.

    Read off ``a`` itself, a block of rows at a time (no ``a + a.T``, no COO
    copy): ``2m`` is twice ``a``'s total, a node's degree its out- plus
    in-strength, and the weight inside communities twice that of ``a``'s
    entries whose two ends share a label. Exact for integer weights (every
    partial sum is an integer below 2**53), as the symmetric matrix's sums were.
    """
    data = np.asarray(a.data, dtype=float)
    two_m = 2.0 * float(data.sum())
    if two_m == 0:
        return float("nan")
    n = a.shape[0]
    indptr, indices = np.asarray(a.indptr, dtype=np.int64), np.asarray(a.indices)
    internal = 0.0
    for r0, r1 in row_blocks(indptr, 1 << 22):
        lo, hi = int(indptr[r0]), int(indptr[r1])
        own = np.repeat(labels[r0:r1], np.diff(indptr[r0 : r1 + 1]))
        internal += float(data[lo:hi][own == labels[indices[lo:hi]]].sum())
    internal *= 2.0
    deg = np.bincount(indices, weights=data, minlength=n)  # in-strength
    deg += np.asarray(a.sum(axis=1), dtype=float)  # plus out-strength
    tot = np.bincount(labels, weights=deg)
    return internal / two_m - resolution * float((tot**2).sum()) / two_m**2


def modularity(
    net: ReferralNetwork,
    communities: pd.DataFrame | pd.Series | Mapping[str, int],
    *,
    weight: str | None = "count",
    resolution: float = 1.0,
) -> float:
    """Modularity of a partition of the physicians.

    Parameters
    ----------
    net
        The referral network.
    communities
        A :func:`louvain` frame, or a Series/dict of NPI -> community label
        covering every physician.
    weight
        Flow column used as tie strength (``None``: every tie 1).
    resolution
        Resolution :math:`\\gamma` (1 = Newman's modularity).

    Returns
    -------
    float

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.community import modularity
    >>> a, b, c, d = "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [a, c], "target_npi": [b, d], "count": [1, 1]})
    >>> modularity(ReferralNetwork.from_frames(flows=flows), {a: 0, b: 0, c: 1, d: 1})
    0.5

    Raises
    ------
    ValidationError
        When a physician has no community.

    See Also
    --------
    louvain

    Notes
    -----
    On the undirected projection :math:`A_{ij} = w_{ij} + w_{ji}`, with
    :math:`k_i = \\sum_j A_{ij}` and :math:`2m = \\sum_{ij} A_{ij}`:

    .. math:: Q = \\frac{1}{2m} \\sum_{ij} \\Big(A_{ij} - \\gamma
              \\frac{k_i k_j}{2m}\\Big) \\delta(c_i, c_j)

    (equal to networkx's ``modularity`` on the undirected graph).

    References
    ----------
    .. [1] Newman MEJ. Modularity and community structure in networks.
       PNAS 2006;103(23):8577-8582.
    """
    labels = _labels_vector(net, communities)
    return _modularity(strength_matrix(net, weight), labels, _check_resolution(resolution))


def _result(net: ReferralNetwork, labels: np.ndarray, q: float, engine: str) -> pd.DataFrame:
    out = frame(net, {"community": _canonical(labels)})
    out.attrs["modularity"] = q
    out.attrs["engine"] = engine
    out.attrs["n_communities"] = int(out["community"].max() + 1) if len(out) else 0
    return out


def louvain(
    net: ReferralNetwork,
    *,
    seed: int | None = None,
    resolution: float = 1.0,
    weight: str | None = "count",
) -> pd.DataFrame:
    """Referral communities by the Louvain method (modularity maximisation).

    Parameters
    ----------
    net
        The referral network.
    seed
        Seed (default ``refgraph.config.seed``). With a seed the node order is
        randomised from the seed and the run is sequential and reproducible;
        without one NetworKit runs in parallel (fastest, but the result can
        vary slightly between runs).
    resolution
        Resolution :math:`\\gamma`: above 1 gives smaller communities.
    weight
        Flow column used as tie strength (``None``: every tie 1).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, column ``community`` (0 = largest community).
        ``attrs``: ``modularity``, ``n_communities``, ``engine``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.community import louvain
    >>> a, b, c, d = "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [a, b, c, d], "target_npi": [b, a, d, c],
    ...                       "count": [5, 5, 7, 7]})
    >>> louvain(ReferralNetwork.from_frames(flows=flows), seed=1)["community"].tolist()
    [0, 0, 1, 1]

    Raises
    ------
    ValidationError
        For a negative resolution.

    See Also
    --------
    leiden, modularity, community_summary

    Notes
    -----
    Louvain greedily moves physicians between communities while modularity
    (see :func:`modularity`) increases, then aggregates communities into
    nodes and repeats. It runs on the undirected projection (both directions'
    volume summed), with NetworKit's PLM (parallel Louvain; Staudt &
    Meyerhenke 2016) when available, else networkx's ``louvain_communities``.
    Isolated physicians form their own communities.

    References
    ----------
    .. [1] Blondel VD, Guillaume JL, Lambiotte R, Lefebvre E. Fast unfolding
       of communities in large networks. J Stat Mech 2008:P10008.
    .. [2] Staudt CL, Meyerhenke H. Engineering parallel algorithms for
       community detection in massive networks. IEEE TPDS 2016;27(1):171-184.
    """
    resolution = _check_resolution(resolution)
    res = pushdown(net, "louvain", seed=seed, resolution=resolution, weight=weight)
    if res is not None:
        return res
    seed = resolve_seed(seed)
    n = len(net.npis)
    if n == 0:
        return _result(net, np.zeros(0, dtype=np.int64), float("nan"), "none")
    a = strength_matrix(net, weight)
    if have_networkit():
        import networkit as nk

        g = community_graph(net, weight)  # cached on small networks only
        seed_networkit(seed)
        par = "balanced" if seed is None else "none randomized"
        algo = nk.community.PLM(g, refine=False, gamma=resolution, par=par)
        algo.run()
        labels = np.asarray(algo.getPartition().getVector(), dtype=np.int64)
        del algo, g
        release_memory()  # an uncached graph's adjacency vectors were small heap blocks
        engine = "networkit.PLM"
    else:  # pragma: no cover - networkit is a dependency
        labels = _nx_louvain(symmetric(a), resolution, seed)
        engine = "networkx.louvain_communities"
    return _result(net, labels, _modularity(a, labels, resolution), engine)


def _nx_louvain(s: sp.csr_array, resolution: float, seed: int | None) -> np.ndarray:
    import networkx as nx

    g = nx.Graph()
    g.add_nodes_from(range(s.shape[0]))
    u = sp.triu(s, k=1).tocoo()
    g.add_weighted_edges_from(zip(u.row.tolist(), u.col.tolist(), u.data.tolist()))
    comms = nx.community.louvain_communities(g, weight="weight", resolution=resolution, seed=seed)
    labels = np.empty(s.shape[0], dtype=np.int64)
    for i, c in enumerate(comms):
        labels[list(c)] = i
    return labels


def leiden(
    net: ReferralNetwork,
    *,
    seed: int | None = None,
    resolution: float = 1.0,
    weight: str | None = "count",
    iterations: int = 3,
) -> pd.DataFrame:
    """Referral communities by the Leiden method (NetworKit's ParallelLeiden).

    Parameters
    ----------
    net
        The referral network.
    seed
        Seed (default ``refgraph.config.seed``); with a seed NetworKit runs
        on one thread so the result is reproducible.
    resolution
        Resolution :math:`\\gamma`.
    weight
        Flow column used as tie strength (``None``: every tie 1).
    iterations
        Maximum number of Leiden rounds.

    Returns
    -------
    pandas.DataFrame
        As :func:`louvain`.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.community import leiden
    >>> a, b, c, d = "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [a, b, c, d], "target_npi": [b, a, d, c],
    ...                       "count": [5, 5, 7, 7]})
    >>> leiden(ReferralNetwork.from_frames(flows=flows), seed=1)["community"].tolist()
    [0, 0, 1, 1]

    Raises
    ------
    ImportError
        When NetworKit is not installed (no other engine provides Leiden).

    See Also
    --------
    louvain, modularity

    Notes
    -----
    Leiden refines Louvain's communities so that every community is
    internally connected, on the same undirected projection.

    References
    ----------
    .. [1] Traag VA, Waltman L, van Eck NJ. From Louvain to Leiden:
       guaranteeing well-connected communities. Scientific Reports
       2019;9:5233.
    """
    iterations = check_int(iterations, "iterations", minimum=1)
    resolution = _check_resolution(resolution)
    res = pushdown(
        net, "leiden", seed=seed, resolution=resolution, weight=weight, iterations=iterations
    )
    if res is not None:
        return res
    seed = resolve_seed(seed)
    if not have_networkit():  # pragma: no cover - networkit is a dependency
        raise ImportError("leiden needs NetworKit: pip install networkit")
    import networkit as nk

    n = len(net.npis)
    if n == 0:
        return _result(net, np.zeros(0, dtype=np.int64), float("nan"), "none")
    a = strength_matrix(net, weight)
    g = community_graph(net, weight)  # as in louvain
    threads = nk.getMaxNumberOfThreads()
    try:
        if seed is not None:
            nk.setNumberOfThreads(1)
            seed_networkit(seed)
        algo = nk.community.ParallelLeiden(
            g, randomize=True, iterations=int(iterations), gamma=resolution
        )
        algo.run()
        labels = np.asarray(algo.getPartition().getVector(), dtype=np.int64)
        del algo, g
        release_memory()
    finally:
        nk.setNumberOfThreads(threads)
    return _result(net, labels, _modularity(a, labels, resolution), "networkit.ParallelLeiden")


def community_summary(
    net: ReferralNetwork,
    communities: pd.DataFrame | pd.Series | Mapping[str, int],
    *,
    weight: str = "count",
    top: int = 3,
) -> pd.DataFrame:
    """One row per community: size, volume inside and across, dominant specialties.

    Parameters
    ----------
    net
        The referral network.
    communities
        A :func:`louvain` frame, or a Series/dict of NPI -> community label.
    weight
        Flow column measuring volume.
    top
        Number of specialties listed in ``dominant_specialties``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``community``, sorted by size: ``size``, ``volume_internal``
        (flows with both ends inside), ``volume_out`` (to other communities),
        ``volume_in`` (from other communities), ``internal_share`` =
        internal / (internal + out + in), ``top_specialty``,
        ``top_specialty_share`` (share of the members with a known specialty)
        and ``dominant_specialties`` (e.g. ``"cardiology 40%, family_medicine 25%"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.community import community_summary
    >>> a, b, c = "1234567893", "1003033051", "1154584084"
    >>> phys = pd.DataFrame({"npi": [a, b, c],
    ...                      "specialty": ["cardiology", "cardiology", "family_medicine"]})
    >>> flows = pd.DataFrame({"source_npi": [a, b], "target_npi": [b, c], "count": [3, 1]})
    >>> net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    >>> s = community_summary(net, {a: 0, b: 0, c: 1})
    >>> s[["size", "volume_internal", "internal_share", "top_specialty"]]
               size  volume_internal  internal_share    top_specialty
    community
    0             2              3.0            0.75       cardiology
    1             1              0.0            0.00  family_medicine

    See Also
    --------
    louvain, modularity
    """
    top = check_int(top, "top", minimum=0)
    labels = pd.Series(
        communities["community"] if isinstance(communities, pd.DataFrame) else communities
    )
    lab = _labels_vector(net, communities)
    # keep the user's labels for the output index
    user = pd.Series(labels).reindex(pd.Index(net.npis)).to_numpy()
    names = pd.Series(user).groupby(lab).first().to_numpy()
    k = int(lab.max()) + 1 if len(lab) else 0
    a = strength_matrix(net, weight).tocoo()
    ls, lt = lab[a.row], lab[a.col]
    same = ls == lt
    internal = np.bincount(ls[same], weights=a.data[same], minlength=k)
    out_v = np.bincount(ls[~same], weights=a.data[~same], minlength=k)
    in_v = np.bincount(lt[~same], weights=a.data[~same], minlength=k)
    size = np.bincount(lab, minlength=k)
    touch = internal + out_v + in_v
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(touch > 0, internal / np.where(touch > 0, touch, 1), np.nan)
    spec = net.physicians["specialty"].astype("string").to_numpy()
    top_name: list[str | None] = []
    top_share: list[float] = []
    dominant: list[str] = []
    df = pd.DataFrame({"c": lab, "s": spec}).dropna()
    counts = df.groupby(["c", "s"]).size() if len(df) else pd.Series(dtype=float)
    for ci in range(k):
        if len(counts) and ci in counts.index.get_level_values(0):
            vc = counts.loc[ci].sort_values(ascending=False, kind="stable")
            tot = float(vc.sum())
            top_name.append(str(vc.index[0]))
            top_share.append(float(vc.iloc[0]) / tot)
            dominant.append(", ".join(f"{s} {v / tot:.0%}" for s, v in vc.iloc[: int(top)].items()))
        else:
            top_name.append(None)
            top_share.append(np.nan)
            dominant.append("")
    out = pd.DataFrame(
        {
            "size": size,
            "volume_internal": internal,
            "volume_out": out_v,
            "volume_in": in_v,
            "internal_share": share,
            "top_specialty": pd.array(top_name, dtype="string"),
            "top_specialty_share": top_share,
            "dominant_specialties": pd.array(dominant, dtype="string"),
        },
        index=pd.Index(names, name="community"),
    )
    return out.sort_values("size", ascending=False, kind="stable")
