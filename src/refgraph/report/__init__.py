"""The HTML report people open: one self-contained folder, readable offline.

:func:`build` writes ``index.html`` plus the PNG plots and one CSV per table
into a folder. The page loads nothing from the network (no CDN, no web fonts,
no external scripts): styles and a small table sorter are inline, images are
files next to it. Every number shown in a table is read back from the CSV the
table links to, so anything in the page can be traced to a file.
:func:`run_demo` (the ``refgraph demo`` command) writes the report of a
synthetic region.

Sections (in order; ``sections=`` picks a subset):

===============  =============================================================
key              content
===============  =============================================================
``actions``      this week's actions in words: calls, people to meet and their
                 introducer, thank-yous, where to expand; each line links to
                 its evidence and CSV
``summary``      network summary (:meth:`ReferralNetwork.summary`), provenance
``sources``      top referral sources and, with events, their monthly trend
``influence``    PageRank and betweenness (:mod:`refgraph.centrality`)
``communities``  Louvain communities and their summary (:mod:`refgraph.community`)
``map``          practices, physicians and strongest flows on a map
``targets``      warm-introduction targets (:mod:`refgraph.expansion`) and the
                 best introduction path to the first few (:mod:`refgraph.paths`)
``expansion``    candidate ZIP codes by reachable potential
                 (:func:`refgraph.expansion.expansion_plan`)
``at_risk``      referrers at risk of being lost (:func:`refgraph.tracking.at_risk`)
===============  =============================================================

A section whose analysis module is missing from this version of refgraph is
kept in the page with a "not available in this version" note; a section that
does not apply to the data (no events, no coordinates) says why, and so does
a section that applies but finds nothing (status ``empty``). No section ever
shows made-up numbers.
"""

from . import _blocks
from ._build import build, is_synthetic
from ._cli import add_cli, cmd_report
from ._demo import run_demo

__all__ = ["SECTIONS", "add_cli", "build", "cmd_report", "is_synthetic", "run_demo"]

# SECTIONS is bound here (not imported) so that its ``#:`` doc stays on this module's API page.

#: Report sections in page order, with their headings.
SECTIONS: dict[str, str] = _blocks.SECTIONS
