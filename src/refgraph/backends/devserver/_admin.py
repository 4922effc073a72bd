"""Bulk import into the dev server: ``neo4j-admin database import full`` on the cached jars."""

from __future__ import annotations

import logging
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..._errors import ValidationError
from ._maven import _read_manifest, ensure_neo4j
from ._tools import DevServerError, _tail_file

if TYPE_CHECKING:
    from ...network import ReferralNetwork
    from ._server import Neo4jDevServer

logger = logging.getLogger("refgraph.backends.devserver")

#: Main class of ``neo4j-admin`` (in ``neo4j-command-line``; the import command itself is in
#: ``neo4j-import-tool``, both on the server's classpath).
_ADMIN_TOOL = "org.neo4j.cli.AdminTool"
#: Seconds of each stage of the last import in this process (check_s: the node count and
#: the expected counts, write_files_s, stop_s, admin_s, admin_reported_s: the tool's own
#: total, restart_s, schema_s); read by the benchmarks.
_LAST_STAGES: dict[str, float] = {}
_COUNT_NODES = (
    "MATCH (n) WHERE NOT n:RefgraphTable RETURN count(n) AS n"  # a deleted store keeps its marker
)


def _as_network(net: object) -> ReferralNetwork:
    from ...network import ReferralNetwork, load

    if isinstance(net, ReferralNetwork):
        return net
    if isinstance(net, (str, os.PathLike)):
        return load(os.fspath(net))
    raise ValidationError(
        f"net: expected a ReferralNetwork or a folder saved by ReferralNetwork.save, "
        f"got {type(net).__name__}"
    )


_MEMORY = re.compile(r"(?:[1-9][0-9]*(?:[kmgt](?:i?b)?)?|(?:[1-9][0-9]?|100)%)", re.IGNORECASE)


def _memory_option(memory: str | None, default: str, admin_options: Sequence[str]) -> list[str]:
    """The admin tool's ``--max-off-heap-memory`` option for a budget (None: ``default``).

    An option already in ``admin_options`` is kept as it is when ``memory`` is None.
    """
    given = [o for o in map(str, admin_options) if o.startswith("--max-off-heap-memory")]
    if given and memory is not None:
        raise ValidationError(
            f"memory={memory!r} and admin_options {given[0]!r} both set the admin tool's "
            "off-heap memory; pass one of them"
        )
    if given:
        return []
    value = (default if memory is None else str(memory)).strip()
    if not _MEMORY.fullmatch(value):
        raise ValidationError(
            f"memory={value!r}: expected a size such as '512m', '2g' or 1073741824 "
            "(bytes), or a percentage of the free memory from '1%' to '100%'"
        )
    return [f"--max-off-heap-memory={value}"]


def _expected_counts(net: ReferralNetwork) -> dict[str, int]:
    """What the store must hold afterwards (flows only between stored physicians)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def text(s: pd.Series) -> pa.Array:  # Arrow text: no copy of Arrow-backed NPI columns
        if not (isinstance(s.dtype, pd.StringDtype) or str(s.dtype) == "str"):
            s = s.astype(str)
        arr = pa.array(s, type=pa.large_string(), from_pandas=True)
        return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr

    npis = text(net.physicians["npi"])
    flows = net.flows
    ends = [pc.is_in(text(flows[c]), value_set=npis) for c in ("source_npi", "target_npi")]
    return {
        "physicians": len(net.physicians),
        "practices": len(net.tables["practices"]),
        "flows": int(pc.sum(pc.and_(*ends), min_count=0).as_py() or 0),
        "events": len(net.tables["events"]),
        "touchpoints": len(net.tables["touchpoints"]),
    }


def _reported_seconds(log: Path) -> float | None:
    """The admin tool's own total time (its ``IMPORT DONE in 1m 2s 345ms.`` line), if any."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    done = re.findall(r"IMPORT DONE in ([^.]*)\.", text)
    if not done:
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+)(ms|h|m|s)\b", done[-1])
    return sum(int(v) * scale[u] for v, u in parts) if parts else None


def _relaunch(server: Neo4jDevServer, timeout: float = 180.0) -> None:
    """Start the JVM again in the same home, on the same ports, with the store on disk."""
    java = server._resolve_java()
    dist = ensure_neo4j(
        server.neo4j_version, server.requested_gds_version, cache_dir=server._cache_dir
    )
    manifest = _read_manifest(dist, server.neo4j_version, server.requested_gds_version)
    if manifest is None:  # pragma: no cover - checked when the server started
        raise DevServerError(f"the jar cache in {dist} is incomplete")
    server._bolt_port, server._http_port = server.bolt_port, server.http_port
    if server._console is not None:
        server._console.close()
        server._console = None
    server._launch(java, dist, manifest, fresh=False)
    server._wait_until_ready(time.monotonic() + timeout)


def _run_import(
    server: Neo4jDevServer, options: Sequence[str], database: str, folder: Path, timeout: float
) -> float:
    """Run the admin tool on the stopped server's home; return its wall time in seconds."""
    assert server.home is not None
    dist = ensure_neo4j(
        server.neo4j_version, server.requested_gds_version, cache_dir=server._cache_dir
    )
    manifest = _read_manifest(dist, server.neo4j_version, server.requested_gds_version)
    assert manifest is not None
    command = [
        server._resolve_java(),
        f"-Xmx{server.heap}",
        "-cp",
        os.pathsep.join(manifest["classpath"]),
        _ADMIN_TOOL,
        "database",
        "import",
        "full",
        "--overwrite-destination=true",
        f"--report-file={folder / 'import.report'}",
        *options,
        database,
    ]
    env = dict(os.environ)
    env.update({"NEO4J_HOME": str(server.home), "NEO4J_CONF": str(server.home / "conf")})
    log = server.home / "logs" / "import.log"
    logger.info("Bulk import into %s: %s", database, shlex.join(command[4:]))
    started = time.monotonic()
    with open(log, "wb") as out:
        try:
            result = subprocess.run(
                command,
                cwd=server.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DevServerError(f"the bulk import did not finish in {timeout:.0f} s") from exc
    if result.returncode != 0:
        raise DevServerError(
            f"neo4j-admin database import full failed (exit code {result.returncode}); "
            f"the server runs again on its previous store\n--- last lines of {log} ---\n"
            + _tail_file(log, 40)
        )
    return time.monotonic() - started


def import_network(
    server: Neo4jDevServer,
    net: ReferralNetwork | str | os.PathLike[str],
    *,
    database: str,
    overwrite: bool,
    memory: str | None,
    admin_options: Sequence[str],
    timeout: float,
) -> dict[str, int]:
    """Body of :meth:`Neo4jDevServer.import_network` (same parameters)."""
    from ..neo4j import Neo4jBackend, write_import_files

    budget = _memory_option(memory, server.pagecache, admin_options)
    network = _as_network(net)
    if database != "neo4j":
        raise DevServerError(
            f"database {database!r}: the Community server has one user database, 'neo4j'"
        )
    if not server.is_running() or server.home is None:
        raise DevServerError("the server is not started")
    checked = time.monotonic()
    with server.driver(notifications_min_severity="OFF") as driver:  # a fresh store: no label
        records, _, _ = driver.execute_query(_COUNT_NODES, database_=database)
    held = int(records[0]["n"])
    if held and not overwrite:
        raise DevServerError(
            f"database {database!r} holds {held} nodes; pass overwrite=True to replace them"
        )
    expected = _expected_counts(network)
    stages = _LAST_STAGES
    stages.clear()
    stages["check_s"] = time.monotonic() - checked
    folder = Path(tempfile.mkdtemp(prefix="import-", dir=server.home))
    try:
        started = time.monotonic()
        options = [*write_import_files(network, folder / "files"), *budget, *admin_options]
        stages["write_files_s"] = time.monotonic() - started
        data = server.home / "data"
        stores = [data / "databases" / database, data / "transactions" / database]
        aside = folder / "previous"
        aside.mkdir()
        started = time.monotonic()
        server._halt(120.0, graceful=True)
        stages["stop_s"] = time.monotonic() - started
        for i, path in enumerate(stores):
            if path.exists():
                path.rename(aside / str(i))
        try:
            seconds = _run_import(server, options, database, folder, timeout)
            stages["admin_s"] = seconds
            reported = _reported_seconds(server.home / "logs" / "import.log")
            if reported is not None:
                stages["admin_reported_s"] = reported
        except BaseException:
            for i, path in enumerate(stores):
                if (aside / str(i)).exists():
                    shutil.rmtree(path, ignore_errors=True)
                    (aside / str(i)).rename(path)
            _relaunch(server)
            raise
        started = time.monotonic()
        _relaunch(server)
        stages["restart_s"] = time.monotonic() - started
        logger.info("Bulk import of %d flows took %.1f s", expected["flows"], seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    with Neo4jBackend(server.uri, auth=server.auth, database=database, progress=False) as db:
        db.setup_schema()
        counts = db.counts()
    stages["schema_s"] = time.monotonic() - started
    logger.info("Bulk import stages (s): %s", stages)
    if counts != expected:
        raise DevServerError(f"the imported store holds {counts}, expected {expected}")
    return counts
