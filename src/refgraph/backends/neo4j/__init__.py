"""Neo4j backend: the refgraph tables in a real Neo4j 5.x database.

Graph schema (labels and relationship types come from this fixed whitelist;
no user value is ever formatted into Cypher text, everything else is a
query parameter):

=====================  ======================================================
element                properties
=====================  ======================================================
``(:Physician)``       ``npi`` (unique), the physicians columns
``(:Practice)``        ``practice_id`` (unique), the practices columns
``[:PRACTICES_AT]``    physician -> practice (from ``practice_id``)
``[:REFERRED]``        physician -> physician, one per flow row: ``key``
                       (period and provenance), ``count``, ``patients``, ...
``(:ReferralEvent)``   ``eid`` (unique, content hash), the events columns
``(:Touchpoint)``      ``tid`` (unique, content hash), the touchpoints columns
``(:RefgraphTable)``   ``name`` (unique): column order and dtypes of a table
=====================  ======================================================

Writes are batched ``UNWIND range(...)`` statements over parameter lists (one
list per column, few-valued text and date columns as codes into their distinct
values) in managed transactions (retried by the driver on transient errors):
``CREATE`` into an empty store, where relationships find their end nodes by the
internal ids the node ``CREATE`` returned, and ``MERGE`` on each row's key
otherwise. Nodes are written before
relationships, so a load interrupted at any point and run again (by then a
``MERGE``) ends with exactly the right content: no duplicates, nothing
missing. A new backend checks the server and the credentials at once and
fails within seconds with a :class:`~refgraph.BackendError` naming the URI.

Analyses are pushed down to Neo4j Graph Data Science when the server has
it (PageRank, betweenness, Louvain, degree, and the k-best warm-introduction
paths with Yen's algorithm, on a projection kept across queries); see
:meth:`Neo4jBackend.run`. ``ReferralNetwork.from_neo4j(db, lazy=True)`` gives a
:class:`LazyNetwork` that runs them on the whole store without reading it.
"""

from __future__ import annotations

from ._backend import Neo4jBackend, connect
from ._import import write_import_files
from ._lazy import LazyNetwork, LazyTableError

__all__ = ["LazyNetwork", "LazyTableError", "Neo4jBackend", "connect", "write_import_files"]
