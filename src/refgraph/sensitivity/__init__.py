"""How much the answers depend on how the network was built.

A shared-patient network is a construction. The window within which two
encounters of a patient link two physicians (CMS published 30, 60, 90 and
180-day files), the small-cell threshold (CMS suppressed pairs with fewer
than 11 shared patients) and whether ties are kept by an absolute count or by
their share of the sender's volume all change the network, and with it who
looks central, which communities appear and who can introduce whom.

:func:`sensitivity_report` builds the network under a grid of constructions
(:func:`construction_grid`, :func:`build_networks`) with the library's own
builders, computes the measures a user asks for (PageRank, betweenness,
Louvain communities, best introducers to a target) on each, and reports how
well each agrees with a reference construction: rank correlations
(:func:`rank_correlation`), top-k overlap (:func:`top_k_overlap`) and
partition similarity (:func:`adjusted_rand_index`,
:func:`normalized_mutual_information`), one tidy row per construction and
measure. :func:`plot_sensitivity` draws it as a heat map.

Examples
--------
>>> from refgraph.datasets import synthetic_region
>>> from refgraph.sensitivity import construction_grid, sensitivity_report
>>> net = synthetic_region(150, seed=3)
>>> grid = construction_grid(min_counts=(0, 5), min_shares=(0.2,), column="count")
>>> rep = sensitivity_report(net, grid, measures=("pagerank", "communities"), k=10)
>>> cols = ["construction", "measure", "n_ties", "spearman", "top_k_shared", "ari"]
>>> rep[rep["kind"] != "reseeded"][cols].round(2)
  construction      measure  n_ties  spearman  top_k_shared   ari
0     count>=0     pagerank    2786      1.00          10.0   NaN
1     count>=0  communities    2786       NaN           NaN  1.00
2     count>=5     pagerank    1064      0.93           6.0   NaN
3     count>=5  communities    1064       NaN           NaN  0.63
4   share>=0.2     pagerank      83      0.64           6.0   NaN
5   share>=0.2  communities      83       NaN           NaN  0.05

Louvain is random: run again with another seed on the reference network
itself, it agrees with its first run only this far (the ``"reseeded"`` row),
so an ``ari`` near this floor shows no effect of the construction.

>>> float(rep.loc[rep["kind"] == "reseeded", "ari"].round(2).iloc[0])
0.38
"""

from . import _report
from ._grid import Construction, build_networks, construction_grid
from ._metrics import (
    adjusted_rand_index,
    normalized_mutual_information,
    rank_correlation,
    top_k,
    top_k_overlap,
)
from ._plot import plot_sensitivity
from ._report import sensitivity_report

__all__ = [
    "MEASURES",
    "REPORT_COLUMNS",
    "Construction",
    "adjusted_rand_index",
    "build_networks",
    "construction_grid",
    "normalized_mutual_information",
    "plot_sensitivity",
    "rank_correlation",
    "sensitivity_report",
    "top_k",
    "top_k_overlap",
]

# The public constants are bound here (not imported) so that their ``#:`` docs stay
# on this module's API page.

#: The measures :func:`sensitivity_report` knows.
MEASURES = _report.MEASURES

#: The columns of a :func:`sensitivity_report`, in order.
REPORT_COLUMNS = _report.REPORT_COLUMNS
