"""The dev server object: its settings and life cycle (start, stop, drivers, bulk import).

The ``java`` process itself (command line, ``neo4j.conf``, AppCDS, signals, readiness) is
``_jvm._JvmProcess``.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._jvm import _MIN_PASSWORD_LENGTH, _USER, _JvmProcess
from ._maven import GDS_VERSION, NEO4J_VERSION, _read_manifest, ensure_neo4j
from ._tools import DevServerError

if TYPE_CHECKING:
    from neo4j import Driver

    from ...network import ReferralNetwork

logger = logging.getLogger("refgraph.backends.devserver")


class Neo4jDevServer(_JvmProcess):
    """A local Neo4j Community + OpenGDS server in a temporary directory.

    Use it as a context manager (``with Neo4jDevServer() as server: ...``) or call
    :meth:`start` and :meth:`stop`. The server listens on 127.0.0.1 only, with
    authentication enabled for user ``neo4j``, ``gds.*`` procedures unrestricted, and heap
    and page cache sized for tests. Everything it writes lives in a temporary home directory
    that :meth:`stop` removes (unless ``keep_home``). A server still running when the
    interpreter exits is stopped by an :mod:`atexit` hook.

    Parameters
    ----------
    bolt_port, http_port
        Ports on 127.0.0.1; default: free ports picked at start.
    password
        Password of user ``neo4j`` (at least 8 characters); default: a random one.
    heap
        JVM heap (``-Xms`` and ``-Xmx``), e.g. ``"1g"``.
    pagecache
        Neo4j page cache size, e.g. ``"256m"``.
    neo4j_version, gds_version
        Passed to :func:`ensure_neo4j`.
    java
        The ``java`` executable (17 or 21); default ``$JAVA_HOME/bin/java`` if set, else
        ``java`` from ``PATH``.
    cache_dir
        Passed to :func:`ensure_neo4j`.
    extra_conf
        Additional ``neo4j.conf`` settings; they override the generated ones.
    jvm_options
        Additional JVM options, placed after the defaults (so they can override them). For
        example ``["-XX:TieredStopAtLevel=1"]`` starts faster on a busy machine but runs
        long computations slower.
    class_data_sharing
        Use an AppCDS archive of the server's classes, which cuts the start time by about
        40%. The first server started with a given ``java`` records the archive (about
        150 MB, next to the cached jars) when it stops; that run starts more slowly and
        always stops cleanly, so it takes longer too.
    keep_home
        Keep the home directory (database and logs) after :meth:`stop`.

    Attributes
    ----------
    uri : str
        ``bolt://127.0.0.1:<port>``, set by :meth:`start`.
    http_uri : str
        ``http://127.0.0.1:<port>``, set by :meth:`start`.
    user, password : str
        The credentials; :attr:`auth` is the ``(user, password)`` tuple.
    gds_version : str
        What ``RETURN gds.version()`` answered, set by :meth:`start`.
    home : pathlib.Path
        The server's home directory (``conf/``, ``data/``, ``logs/``), set by :meth:`start`.
    log_path : pathlib.Path
        The server's user log (``logs/neo4j.log``); :attr:`console_log_path` has the JVM's
        stdout and stderr, and ``logs/debug.log`` beside them the details.
    """

    def __init__(
        self,
        *,
        bolt_port: int | None = None,
        http_port: int | None = None,
        password: str | None = None,
        heap: str = "1g",
        pagecache: str = "256m",
        neo4j_version: str = NEO4J_VERSION,
        gds_version: str = GDS_VERSION,
        java: str | os.PathLike[str] | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        extra_conf: Mapping[str, str] | None = None,
        jvm_options: Sequence[str] = (),
        class_data_sharing: bool = True,
        keep_home: bool = False,
    ) -> None:
        if password is not None and len(password) < _MIN_PASSWORD_LENGTH:
            raise ValueError(f"password must have at least {_MIN_PASSWORD_LENGTH} characters")
        self.user = _USER
        self.password = password if password is not None else secrets.token_urlsafe(18)
        self.neo4j_version = neo4j_version
        self.requested_gds_version = gds_version
        self.heap = heap
        self.pagecache = pagecache
        self.keep_home = keep_home
        self._bolt_port = bolt_port
        self._http_port = http_port
        self._java = java
        self._cache_dir = cache_dir
        self._extra_conf = dict(extra_conf or {})
        self._jvm_options = list(jvm_options)
        self.class_data_sharing = class_data_sharing
        self._java_fingerprint = ""
        self._cds_pending = None
        self._process = None
        self._console = None
        self.bolt_port = None
        self.http_port = None
        self.uri = ""
        self.http_uri = ""
        self.gds_version = ""
        self.home = None
        self.log_path = None
        self.console_log_path = None
        self.startup_seconds: float | None = None

    # -- public API ---------------------------------------------------------------------

    @property
    def auth(self) -> tuple[str, str]:
        """The ``(user, password)`` tuple for :func:`neo4j.GraphDatabase.driver`."""
        return (self.user, self.password)

    @property
    def pid(self) -> int | None:
        """Process id of the server JVM, or None when not started."""
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        """Return True while the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def driver(self, **kwargs: Any) -> Driver:
        """Return a new :class:`neo4j.Driver` for this server; the caller closes it.

        Parameters
        ----------
        **kwargs
            Passed to :func:`neo4j.GraphDatabase.driver`.
        """
        from neo4j import GraphDatabase

        if not self.uri:
            raise DevServerError("the server is not started")
        return GraphDatabase.driver(self.uri, auth=self.auth, **kwargs)

    def start(self, timeout: float = 120.0) -> Neo4jDevServer:
        """Start the server and wait until it answers queries, GDS included.

        Parameters
        ----------
        timeout
            Seconds to wait for Bolt to accept a login (not counting the download of the
            jars on the very first run).

        Returns
        -------
        Neo4jDevServer
            ``self``.

        Raises
        ------
        DevServerError
            If ``java`` or ``mvn`` is missing, the jars cannot be fetched, the server exits
            or does not answer within ``timeout``, or ``gds.version()`` fails; the message
            carries the tail of the server's logs.
        """
        if self._process is not None:
            raise DevServerError("the server is already started")
        java = self._resolve_java()
        dist = ensure_neo4j(
            self.neo4j_version, self.requested_gds_version, cache_dir=self._cache_dir
        )
        manifest = _read_manifest(dist, self.neo4j_version, self.requested_gds_version)
        if manifest is None:  # pragma: no cover - ensure_neo4j just checked it
            raise DevServerError(f"the jar cache in {dist} is incomplete")

        started = time.monotonic()
        self.gds_version = ""
        self.home = Path(tempfile.mkdtemp(prefix="refgraph-neo4j-"))
        try:
            self._launch(java, dist, manifest)
            atexit.register(self.stop)
            self._wait_until_ready(started + timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        logger.info(
            "Neo4j %s + GDS %s ready at %s in %.1f s (home %s)",
            self.neo4j_version,
            self.gds_version,
            self.uri,
            self.startup_seconds,
            self.home,
        )
        return self

    def stop(self, timeout: float = 30.0, *, graceful: bool | None = None) -> None:
        """Stop the server (and its process group) and remove its home directory.

        Safe to call more than once and on a server that never started.

        Parameters
        ----------
        timeout
            Seconds to wait for a clean shutdown (after SIGTERM) before SIGKILL.
        graceful
            Shut Neo4j down cleanly (SIGTERM, which takes some seconds) rather than kill it
            at once (SIGKILL). Default: only when ``keep_home`` is set (the database of a
            throw-away home directory is deleted anyway) or when this run records the
            class-data-sharing archive, which the JVM writes as it exits (``timeout`` is
            then at least 180 s).
        """
        if graceful is None:
            # A JVM recording the AppCDS archive writes it only on a clean exit.
            graceful = self.keep_home or (self._cds_pending is not None and bool(self.gds_version))
        if self._cds_pending is not None and graceful:
            timeout = max(timeout, 180.0)  # shutting down, then writing ~150 MB of archive
        self._halt(timeout, graceful)
        if self._console is not None:
            self._console.close()
            self._console = None
        if self.home is not None and not self.keep_home:
            shutil.rmtree(self.home, ignore_errors=True)
        # Last, so that the atexit hook still cleans up if this call was interrupted.
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)

    def __enter__(self) -> Neo4jDevServer:
        if self._process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<Neo4jDevServer {self.neo4j_version} {self.uri or '(not started)'} {state}>"

    def import_network(
        self,
        net: ReferralNetwork | str | os.PathLike[str],
        *,
        database: str = "neo4j",
        overwrite: bool = False,
        memory: str | None = None,
        admin_options: Sequence[str] = (),
        timeout: float = 3600.0,
    ) -> dict[str, int]:
        """Replace the server's database by ``net`` with the bulk importer.

        Writes the tables as import files (:func:`refgraph.backends.neo4j.write_import_files`),
        stops the server, runs ``neo4j-admin database import full`` on the cached jars,
        starts the server again on the same ports and creates refgraph's constraints and
        indexes, so the store is what :meth:`Neo4jBackend.write
        <refgraph.backends.neo4j.Neo4jBackend.write>` would have made. The old store is
        moved aside during the import and put back if the import fails. Drivers opened
        earlier reconnect by themselves; GDS projections held in memory are gone.

        Parameters
        ----------
        net
            The network, or a folder written by :meth:`ReferralNetwork.save
            <refgraph.ReferralNetwork.save>` (loaded with :func:`refgraph.load`).
        database
            The database to replace; Neo4j Community has one user database, ``neo4j``.
        overwrite
            Allow replacing a database that holds nodes (default: refuse).
        memory
            Off-heap memory budget of the admin tool (its ``--max-off-heap-memory``): a
            size such as ``"2g"`` or ``"512m"``, or a percentage of the memory free when
            the tool starts, such as ``"25%"``. Default: the server's ``pagecache``. The
            server is stopped while the tool runs and the tool's heap is the server's
            ``heap``, so by default the import stays within the memory granted to the
            server (the tool's own default is 90% of the free memory). A larger budget
            lets the tool keep more in memory: at 1M physicians and 20M flows it
            estimated 1.0 GiB, and took 94 s with 1 GiB against 75 s with its own default
            (7.7 GiB) in one pair of runs (``benchmarks/results/neo4j.md``).
        admin_options
            More options for the admin tool, e.g. ``["--threads=2"]``. A
            ``--max-off-heap-memory`` option here replaces the default budget (giving it
            together with ``memory`` is refused).
        timeout
            Seconds allowed for the import itself.

        Returns
        -------
        dict
            Rows per table in the new store (physicians, practices, flows, events,
            touchpoints), counted on the restarted server.

        Raises
        ------
        ValidationError, NotFoundError
            ``net`` is not a network or a saved network folder (or nothing is there), it
            cannot be written as import files, or ``memory`` is not a size or percentage;
            the server is not touched.
        DevServerError
            The server is not running, the database holds nodes and ``overwrite`` is
            false, or the import failed (the message has the tool's output; the server
            runs again on its old store).

        Examples
        --------
        >>> with Neo4jDevServer() as server:  # doctest: +SKIP
        ...     server.import_network(net)["flows"] == net.n_flows
        True
        """
        from ._admin import import_network

        return import_network(
            self,
            net,
            database=database,
            overwrite=overwrite,
            memory=memory,
            admin_options=admin_options,
            timeout=timeout,
        )
