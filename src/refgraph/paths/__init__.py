"""Warm-introduction paths: who can introduce me to Dr. X, by which path, and why.

Relationships get a strength ``p`` in [0, 1] (:func:`tie_strength`, the
probability that the tie would carry an introduction). A path from one of
*my people* to the target succeeds with probability ``w(source) * prod(p)``
(hops independent), so the most probable paths are the shortest paths under
the cost ``-log p``. :func:`intro_paths` returns the ``k`` most probable
simple paths of at most ``max_hops`` hops, each hop explained in words and
numbers; :func:`best_introducers` ranks the physicians who would make the
final introduction, and :func:`intro_plan` chooses whom to ask for a whole
target list.

Search. Warm paths are short, so instead of Yen's algorithm (``k`` Dijkstra
runs per spur node, on the whole graph) the search is a best-first (A*)
enumeration of simple paths *backwards from the target* on a CSR array view
with precomputed ``-log p``. The heuristic is ``G_r(v)``, the exact least
cost from my people to ``v`` within ``r`` hops, computed once per source set
by ``max_hops - 1`` vectorised min-plus passes over the edge arrays and
cached. ``G_r`` relaxes the simplicity and exclusion constraints, so it
never overestimates (it is admissible), and a tree search with an
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

import logging
from typing import Any

from .._distance import haversine_km  # noqa: F401  (re-exported: expansion imports it from here)
from .._errors import NoPathError, NotFoundError, ValidationError  # noqa: F401
from ._intro import (  # noqa: F401  (private names re-exported for existing importers)
    IntroPaths,
    _ago,
    _build_result,
    _check_int,
    _hop_facts,
    _introducer_frame,
    _names,
    _no_path,
    _practice_info,
    _prepare,
    _Query,
    best_introducers,
    intro_paths,
)
from ._plan import (  # noqa: F401  (private names re-exported for existing importers)
    IntroPlan,
    expected_introductions,
    greedy_asks,
    intro_plan,
)
from ._search import (  # noqa: F401  (private names re-exported for existing importers)
    _CACHE,
    _competitor_mask,
    _describe_region,
    _layers,
    _node,
    _search,
    _Start,
    _tie_graph,
    _TieGraph,
    region_mask,
    resolve_sources,
)
from ._ties import (  # noqa: F401
    FACTORS,
    TieFit,
    TieWeights,
    _tie_core,
    fit_tie_strength,
    tie_strength,
)

logger = logging.getLogger(__name__)

__all__ = [
    "FACTORS",
    "IntroPaths",
    "IntroPlan",
    "TieFit",
    "TieWeights",
    "best_introducers",
    "cmd_intro",
    "fit_tie_strength",
    "intro_paths",
    "intro_plan",
    "tie_strength",
]


# ---------------------------------------------------------------------------- CLI
def _load_network(path: str | None) -> Any:
    import os

    from ..network import load

    path = path or os.environ.get("REFGRAPH_NETWORK")
    if not path:
        raise ValidationError("--network: no network folder given (or set REFGRAPH_NETWORK)")
    return load(path)


def cmd_intro(args: Any) -> int:
    """``refgraph intro --to NPI [--from NPI ...] [--network PATH] [--k 5]``: print paths."""
    import sys

    net = _load_network(getattr(args, "network", None))
    res = intro_paths(
        net,
        args.to,
        sources=args.sources or None,
        home=getattr(args, "home", None),
        k=args.k,
        max_hops=args.max_hops,
    )
    sys.stdout.write(res.table() + "\n")
    return 0
