"""Tests of the Neo4j dev server: a real Neo4j 5.26 + OpenGDS server from Maven Central jars."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from refgraph.backends.devserver import DevServerError, Neo4jDevServer, ensure_neo4j

IN_CI = os.environ.get("CI", "").lower() == "true"


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return True
    return shutil.which("java") is not None


def _require_tools() -> None:
    """Skip when java or mvn is missing, except in CI (CI=true), where that is a failure."""
    missing = [
        name
        for name, present in (("java", _java_available()), ("mvn", shutil.which("mvn")))
        if not present
    ]
    if missing:
        reason = (
            f"{' and '.join(missing)} not found on PATH: the Neo4j dev server needs Java 17+ "
            "and Apache Maven (apt-get install openjdk-17-jre-headless maven)"
        )
        if IN_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _pagerank(edges: list[tuple[str, str]], damping: float = 0.85) -> dict[str, float]:
    """PageRank as GDS defines it (unnormalised: each node gets ``1 - damping`` plus ...)."""
    nodes = sorted({n for edge in edges for n in edge})
    out_degree = {n: sum(1 for s, _ in edges if s == n) for n in nodes}
    rank = dict.fromkeys(nodes, 1.0 - damping)
    for _ in range(200):
        rank = {
            n: (1.0 - damping) + damping * sum(rank[s] / out_degree[s] for s, t in edges if t == n)
            for n in nodes
        }
    return rank


@pytest.mark.neo4j
def test_dev_server_runs_cypher_and_gds_pagerank() -> None:
    _require_tools()
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")]
    expected = _pagerank(edges)

    server = Neo4jDevServer()
    with server:
        assert server.is_running()
        assert server.uri.startswith("bolt://127.0.0.1:")
        assert server.auth == ("neo4j", server.password)
        assert server.gds_version.startswith("2.13")
        assert server.log_path is not None and server.log_path.is_file()
        pid, home, bolt_port = server.pid, server.home, server.bolt_port
        assert pid is not None and home is not None and bolt_port is not None

        with server.driver() as driver:
            records, _, _ = driver.execute_query("RETURN 1 AS one")
            assert records[0]["one"] == 1

            records, _, _ = driver.execute_query("RETURN gds.version() AS version")
            assert records[0]["version"].startswith("2.13")

            driver.execute_query(
                "UNWIND $edges AS e "
                "MERGE (s:Doc {name: e[0]}) MERGE (t:Doc {name: e[1]}) "
                "MERGE (s)-[:REFERS]->(t)",
                edges=[list(e) for e in edges],
            )
            records, _, _ = driver.execute_query(
                "CALL gds.graph.project('devserver-test', 'Doc', 'REFERS') "
                "YIELD nodeCount, relationshipCount RETURN nodeCount, relationshipCount"
            )
            assert (records[0]["nodeCount"], records[0]["relationshipCount"]) == (3, 4)
            try:
                ranked, _, _ = driver.execute_query(
                    "CALL gds.pageRank.stream('devserver-test', "
                    "{maxIterations: 100, tolerance: 1e-9, dampingFactor: 0.85}) "
                    "YIELD nodeId, score "
                    "RETURN gds.util.asNode(nodeId).name AS name, score"
                )
            finally:
                dropped, _, _ = driver.execute_query(
                    "CALL gds.graph.drop('devserver-test') YIELD graphName RETURN graphName"
                )
            assert dropped[0]["graphName"] == "devserver-test"
            records, _, _ = driver.execute_query(
                "CALL gds.graph.exists('devserver-test') YIELD exists RETURN exists"
            )
            assert records[0]["exists"] is False

        scores = {r["name"]: r["score"] for r in ranked}
        # No dangling nodes, so the unnormalised scores add up to the number of nodes.
        assert sum(scores.values()) == pytest.approx(3.0, rel=1e-3)
        assert scores == pytest.approx(expected, rel=1e-3)
        assert max(scores, key=scores.__getitem__) == "c"

    assert not server.is_running()
    assert server.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not home.exists()
    assert not _port_open(bolt_port)
    server.stop()  # idempotent


def test_missing_java_is_named(tmp_path: Path) -> None:
    server = Neo4jDevServer(java=tmp_path / "no-such-java", cache_dir=tmp_path)
    with pytest.raises(DevServerError, match=r"no-such-java.*Java"):
        server.start()
    assert not server.is_running()


def test_missing_mvn_is_named(tmp_path: Path) -> None:
    with pytest.raises(DevServerError, match=r"no-such-mvn.*jars"):
        ensure_neo4j(cache_dir=tmp_path, mvn=tmp_path / "no-such-mvn")


def test_short_password_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        Neo4jDevServer(password="short")


@pytest.mark.neo4j
def test_start_failure_reports_server_log() -> None:
    _require_tools()
    server = Neo4jDevServer(extra_conf={"dbms.refgraph_no_such_setting": "1"})
    with pytest.raises(DevServerError, match=r"(?s)exited during start.*refgraph_no_such_setting"):
        server.start(timeout=60)
    assert not server.is_running()
    assert server.home is not None and not server.home.exists()
