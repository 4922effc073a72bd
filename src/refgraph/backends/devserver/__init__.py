"""A throw-away Neo4j 5.26 LTS + Open Graph Data Science server for development and tests.

The server is assembled from Maven Central jars, with no Docker image and no Neo4j
distribution archive: :func:`ensure_neo4j` asks ``mvn`` to resolve the classpath of the
Neo4j Community server (``org.neo4j:neo4j``, which includes Bolt and the HTTP API) plus the
open edition of Graph Data Science (``org.neo4j.gds:*``) into ``~/.m2``, and records the
result in a small cache directory. :class:`Neo4jDevServer` then starts
``org.neo4j.server.CommunityEntryPoint`` with ``java`` in a temporary home directory, on free
loopback ports, with authentication enabled and a generated password.

Needs ``java`` (17 or 21) and, the first time only, ``mvn`` with access to Maven Central.
The jars stay in ``~/.m2``; the cache directory (``~/.cache/refgraph``, or
``$REFGRAPH_CACHE_DIR``) holds the resolved classpath, a copy of the GDS jars and, after the
first server has stopped, an AppCDS archive that makes later starts about 40% faster.

Examples
--------
>>> from refgraph.backends.devserver import Neo4jDevServer
>>> with Neo4jDevServer() as server:  # doctest: +SKIP
...     with server.driver() as driver:
...         records, _, _ = driver.execute_query("RETURN gds.version() AS v")

From a shell: ``python -m refgraph.backends.devserver`` (or ``scripts/neo4j-dev-server``) starts a
server and prints the ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD`` to export;
``python -m refgraph.backends.devserver --fetch-only`` only downloads the jars, and
``python -m refgraph.devserver --import NETWORK_DIR`` starts a server and bulk-imports a network
folder saved by :meth:`refgraph.ReferralNetwork.save` into it
(:meth:`Neo4jDevServer.import_network`, which runs ``neo4j-admin database import full`` from the
same jars).
"""

from __future__ import annotations

from ._cli import main
from ._maven import GDS_ARTIFACTS, GDS_VERSION, NEO4J_VERSION, ensure_neo4j
from ._server import Neo4jDevServer
from ._tools import DevServerError

__all__ = [
    "GDS_ARTIFACTS",
    "GDS_VERSION",
    "NEO4J_VERSION",
    "DevServerError",
    "Neo4jDevServer",
    "ensure_neo4j",
    "main",
]
