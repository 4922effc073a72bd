"""Warm-introduction paths: who can introduce me to Dr. X, by which path, and why.

Relationships get a strength ``p`` in [0, 1] (:func:`tie_strength`): the
probability that the two physicians recognise a professional relationship,
calibrated on published survey and claims evidence (Barnett et al. 2011,
Landon et al. 2012; docs/tie-strength.md) where it exists and labelled an
assumption where it does not. Taking ``p`` as the chance that the hop carries
an introduction is itself an assumption: a path from one of *my people* to
the target then succeeds with probability ``w(source) * prod(p)`` (hops
independent), so the most probable paths are the shortest paths under
the cost ``-log p``. :func:`intro_paths` returns the ``k`` most probable
simple paths of at most ``max_hops`` hops, each hop explained in words and
numbers; :func:`best_introducers` ranks the physicians who would make the
final introduction, and :func:`intro_plan` chooses whom to ask for a whole
target list. :func:`reach` gives the best path's probability to every
physician at once, and :func:`tie_matrix` the tie strengths as a sparse matrix.

Search. Warm paths are short, so instead of Yen's algorithm (``k`` Dijkstra
runs per spur node, on the whole graph) the search is a best-first (A*)
enumeration of simple paths *backwards from the target* on a CSR array view
with precomputed ``-log p``. The heuristic is ``G_r(v)``, the exact least
cost from my people to ``v`` within ``r`` hops, computed by ``max_hops - 1``
vectorised min-plus passes over the query's neighbourhood only: the
physicians ``v`` with ``dS(v) + dT(v) <= max_hops`` (hop distances from my
people and from the target, found by a breadth-first search from both
ends that scans, level by level, whichever side's neighbour lists are
shorter) and the ties among them that fit on a walk of ``max_hops``
between the two ends. Every walk the heuristic needs lies in it, so
``G_r`` there is the same number as on the whole network, and a query's
work follows its neighbourhood rather than the network's size. The tie
graph itself (built once per network and tie model) is compact numpy
arrays: an int32 CSR with the costs, and per tie its strength and the few
facts an explanation reads. ``G_r`` relaxes the
simplicity and exclusion constraints, so it never overestimates (it is
admissible), and a tree search with an
admissible heuristic pops complete paths in non-decreasing cost: the first
``k`` complete paths popped are exactly the ``k`` best (Hart, Nilsson and
Raphael 1968; for k-best enumeration see Eppstein 1998). Partial paths are
also pruned once ``k`` complete paths cheaper than them are known. The
result is exact for any ``max_hops``; its work grows with the branching
below the ``k``-th best cost, which is small for ``max_hops <= 4``.
Exactness is tested against networkx ``shortest_simple_paths`` (Yen 1971)
on ``-log p`` with a hop filter.

References
----------
.. [1] Hart, P. E., Nilsson, N. J., Raphael, B. (1968). A formal basis for the
   heuristic determination of minimum cost paths. IEEE Trans. SSC 4(2).
.. [2] Yen, J. Y. (1971). Finding the k shortest loopless paths in a network.
   Management Science 17(11).
.. [3] Nemhauser, G. L., Wolsey, L. A., Fisher, M. L. (1978). An analysis of
   approximations for maximizing submodular set functions I. Math. Prog. 14.
.. [4] Fisher, M. L., Nemhauser, G. L., Wolsey, L. A. (1978). An analysis of
   approximations for maximizing submodular set functions II. Math. Prog. Study 8.
"""

from __future__ import annotations

from .._errors import NoPathError, NotFoundError, ValidationError  # noqa: F401  (also refgraph.*)
from ._cli import cmd_intro
from ._constraints import region_mask
from ._fit import fit_tie_strength
from ._intro import IntroPaths, best_introducers, intro_paths
from ._plan import IntroPlan, expected_introductions, greedy_asks, intro_plan
from ._plots import plot_intro_paths, plot_intro_plan
from ._reach import reach, tie_matrix
from ._search import resolve_sources
from ._ties import FACTORS, TieFit, TieWeights, tie_strength

__all__ = [
    "FACTORS",
    "IntroPaths",
    "IntroPlan",
    "TieFit",
    "TieWeights",
    "best_introducers",
    "cmd_intro",
    "expected_introductions",
    "fit_tie_strength",
    "greedy_asks",
    "intro_paths",
    "intro_plan",
    "plot_intro_paths",
    "plot_intro_plan",
    "reach",
    "region_mask",
    "resolve_sources",
    "tie_matrix",
    "tie_strength",
]
