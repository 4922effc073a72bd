"""Shared fixtures and the CI rule that no test may be skipped."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
_DATASETS = Path(
    os.environ.get(
        "REFGRAPH_DATASETS", Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets"
    )
).resolve()


_SKIPPED: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # A docstring whose every example is marked +SKIP (it needs a server or the
    # internet) is reported as skipped by pytest; that is not a skipped test.
    if report.skipped and "all tests skipped by +SKIP option" not in str(report.longrepr):
        _SKIPPED.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _SKIPPED and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if IN_CI and _SKIPPED:
        terminalreporter.write_line(
            f"CI=true: {len(_SKIPPED)} test(s) were skipped, which fails the run: "
            + ", ".join(_SKIPPED[:10]),
            red=True,
        )


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """``../shared/datasets``; skipped with a reason when absent (a failure in CI)."""
    if not _DATASETS.is_dir():
        msg = f"shared datasets not found at {_DATASETS} (set REFGRAPH_DATASETS)"
        if IN_CI:
            pytest.fail(msg + "; they are required when CI=true")
        pytest.skip(msg)
    return _DATASETS


@pytest.fixture
def npis() -> list[str]:
    """Twenty valid, distinct NPIs."""
    from refgraph import npi_check_digit

    out = []
    for i in range(20):
        p = f"1{i + 100:08d}"
        out.append(p + str(npi_check_digit(p)))
    return out


@pytest.fixture(scope="session")
def same_read() -> Callable[[Any, Any], None]:
    """Check that two reads gave the same outcome, frame by frame.

    For two networks: the flows, the physicians and the rejects, and the
    counts of the flows' ingest; for two :class:`~refgraph._validate.IngestResult`:
    the table, the rejects and the counts.
    """

    def check(got: Any, want: Any) -> None:
        if hasattr(got, "ingest"):  # networks
            pd.testing.assert_frame_equal(got.flows, want.flows)
            pd.testing.assert_frame_equal(got.physicians, want.physicians)
            pd.testing.assert_frame_equal(got.rejected, want.rejected)
            got, want = got.ingest["flows"], want.ingest["flows"]
        else:
            pd.testing.assert_frame_equal(got.table, want.table)
            pd.testing.assert_frame_equal(got.rejected, want.rejected)
        assert (got.n_input, got.n_accepted_rows) == (want.n_input, want.n_accepted_rows)

    return check


@pytest.fixture(scope="session")
def assert_refused() -> Callable[[Callable[[], object], type[Exception], str], None]:
    """Check that a call raises exactly ``exc`` (no subclass) with one line matching ``match``."""

    def check(call: Callable[[], object], exc: type[Exception], match: str) -> None:
        with pytest.raises(exc, match=match) as info:
            call()
        assert type(info.value) is exc  # not a subclass or a third-party error
        assert "\n" not in str(info.value)

    return check


@pytest.fixture(scope="session")
def neo4j_server():  # type: ignore[no-untyped-def]
    """A real Neo4j 5.26 + GDS server for the whole session (skipped without java/mvn)."""
    import shutil

    if not shutil.which("java") or not shutil.which("mvn"):
        pytest.skip("Neo4j tests need java (17+) and mvn on PATH to run a real server")
    from refgraph.backends.devserver import Neo4jDevServer

    server = Neo4jDevServer(heap="1g", pagecache="256m")
    server.start(timeout=240)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def neo4j_db(neo4j_server):  # type: ignore[no-untyped-def]
    """An empty refgraph store on the session server (cleaned before and after)."""
    from refgraph.backends.neo4j import Neo4jBackend

    db = Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, batch_size=500, progress=False)
    db.delete(everything=True)
    try:
        yield db
    finally:
        db.delete(everything=True)
        db.close()
