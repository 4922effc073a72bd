"""Centrality measures of referral networks, as DataFrames indexed by NPI.

Weight semantics
----------------
Referral volume (the flow column named by ``weight``, ``count`` by default)
is a **strength**: more referrals mean a closer tie. Spectral measures
(PageRank, HITS, eigenvector, Katz), strengths, constraint and clustering use
it as is. Path-based measures (betweenness, harmonic closeness) need a
**distance**; they use ``cost = 1 / volume`` so that a heavily used referral
channel is short. ``weight=None`` means every tie counts 1 (hop distance).
Self-referrals are ignored everywhere.

Heavy kernels run on the CSR view (:meth:`ReferralNetwork.csr`) with scipy,
or on NetworKit (C++, parallel) for shortest-path measures; networkx is the
fallback when NetworKit cannot be imported.
"""

from .._kernels import ConvergenceError
from ._brokerage import bridges, brokerage
from ._degree import degree
from ._plots import plot_communities, plot_measure_distribution, plot_top_k
from ._shortest import betweenness, harmonic_closeness
from ._spectral import eigenvector, hits, katz, pagerank
from ._structure import care_density, clustering, concentration, k_core, reciprocity

__all__ = [
    "ConvergenceError",
    "betweenness",
    "bridges",
    "brokerage",
    "care_density",
    "clustering",
    "concentration",
    "degree",
    "eigenvector",
    "harmonic_closeness",
    "hits",
    "k_core",
    "katz",
    "pagerank",
    "plot_communities",
    "plot_measure_distribution",
    "plot_top_k",
    "reciprocity",
]
