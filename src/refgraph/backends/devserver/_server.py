"""Running the dev server: ``java`` on the cached jars, ports, AppCDS, clean stops."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._maven import GDS_VERSION, NEO4J_VERSION, _read_manifest, ensure_neo4j
from ._tools import DevServerError, _find_tool, _free_port, _java_version, _tail_file

if TYPE_CHECKING:
    from neo4j import Driver

    from ...network import ReferralNetwork

logger = logging.getLogger("refgraph.backends.devserver")

_ENTRY_POINT = "org.neo4j.server.CommunityEntryPoint"
_USER = "neo4j"
_MIN_PASSWORD_LENGTH = 8  # Neo4j's dbms.security.auth_minimum_password_length default
# JVM options from the default neo4j.conf of 5.26 that matter when java is launched directly
# (the neo4j launcher script normally adds them). AlwaysPreTouch is left out: it slows start.
_JVM_OPTIONS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
)


def _auth_ini_line(user: str, password: str) -> str:
    """Return the ``data/dbms/auth.ini`` line that ``neo4j-admin set-initial-password`` writes.

    Neo4j 5 stores ``user:SHA-256,<hash>,<salt>,<iterations>:<flags>``, where the hash is
    SHA-256 of ``salt + password`` re-hashed ``iterations - 1`` more times (Shiro's
    ``SimpleHash``), all hex encoded. Writing it directly saves a JVM start.
    """
    iterations = 1024
    salt = secrets.token_bytes(32)
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    for _ in range(iterations - 1):
        digest = hashlib.sha256(digest).digest()
    return f"{user}:SHA-256,{digest.hex()},{salt.hex()},{iterations}:\n"


class Neo4jDevServer:
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
        self._cds_pending: tuple[Path, Path] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._console: Any = None
        self.bolt_port: int | None = None
        self.http_port: int | None = None
        self.uri = ""
        self.http_uri = ""
        self.gds_version = ""
        self.home: Path | None = None
        self.log_path: Path | None = None
        self.console_log_path: Path | None = None
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
        admin_options
            More options for the admin tool, e.g. ``["--max-off-heap-memory=2g"]``.
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
            ``net`` is not a network or a saved network folder (or nothing is there), or
            it cannot be written as import files; the server is not touched.
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
            admin_options=admin_options,
            timeout=timeout,
        )

    def _halt(self, timeout: float, graceful: bool) -> None:
        """Stop the JVM (and its process group); the home directory stays."""
        kill = getattr(signal, "SIGKILL", signal.SIGTERM)
        process = self._process
        if process is not None:
            if process.poll() is None:
                logger.info(
                    "Stopping Neo4j dev server (pid %d, %s)",
                    process.pid,
                    "clean shutdown" if graceful else "kill",
                )
                self._signal(process, signal.SIGTERM if graceful else kill)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    logger.warning("Neo4j did not stop in %.0f s; killing it", timeout)
                    self._signal(process, kill)
                    process.wait(timeout)
            # Children of the JVM (there are normally none) share its process group.
            self._signal(process, kill)
            self._process = None
            self._finish_cds(process)

    # -- internals ----------------------------------------------------------------------

    def _resolve_java(self) -> str:
        explicit = self._java
        if explicit is None and os.environ.get("JAVA_HOME"):
            candidate = Path(os.environ["JAVA_HOME"]) / "bin" / "java"
            if candidate.is_file():
                explicit = candidate
        java = _find_tool("java", explicit, "to run the Neo4j server (Java 17 or 21)")
        major, version_text = _java_version(java)
        self._java_fingerprint = hashlib.sha256(
            f"{os.path.realpath(java)}\n{version_text}".encode()
        ).hexdigest()[:12]
        if major is not None and major < 17:
            raise DevServerError(f"{java} is Java {major}; Neo4j 5.26 needs Java 17 or 21")
        if major is not None and major not in (17, 21):
            logger.warning("%s is Java %d; Neo4j 5.26 supports Java 17 and 21", java, major)
        return java

    def _conf(self, plugins: Path) -> dict[str, str]:
        assert self.bolt_port is not None and self.http_port is not None
        conf = {
            "server.default_listen_address": "127.0.0.1",
            "server.default_advertised_address": "127.0.0.1",
            "server.bolt.enabled": "true",
            "server.bolt.listen_address": f"127.0.0.1:{self.bolt_port}",
            "server.bolt.advertised_address": f"127.0.0.1:{self.bolt_port}",
            "server.http.enabled": "true",
            "server.http.listen_address": f"127.0.0.1:{self.http_port}",
            "server.http.advertised_address": f"127.0.0.1:{self.http_port}",
            "server.https.enabled": "false",
            "dbms.security.auth_enabled": "true",
            "dbms.security.procedures.unrestricted": "gds.*",
            "server.directories.plugins": str(plugins),
            # Only read by Neo4j's own checks here: the JVM gets -Xms/-Xmx below.
            "server.memory.heap.initial_size": self.heap,
            "server.memory.heap.max_size": self.heap,
            "server.memory.pagecache.size": self.pagecache,
            "dbms.usage_report.enabled": "false",
            "db.tx_log.rotation.retention_policy": "2 files",
        }
        conf.update(self._extra_conf)
        return conf

    def _launch(
        self, java: str, dist: Path, manifest: Mapping[str, Any], *, fresh: bool = True
    ) -> None:
        assert self.home is not None
        home = self.home
        self.bolt_port = self._bolt_port or _free_port()
        self.http_port = self._http_port or _free_port(exclude=(self.bolt_port,))
        self.uri = f"bolt://127.0.0.1:{self.bolt_port}"
        self.http_uri = f"http://127.0.0.1:{self.http_port}"

        conf_dir, logs_dir, dbms_dir = home / "conf", home / "logs", home / "data" / "dbms"
        for directory in (conf_dir, logs_dir, dbms_dir):
            directory.mkdir(parents=True, exist_ok=True)
        plugins = dist / "plugins"
        conf = self._conf(plugins)
        (conf_dir / "neo4j.conf").write_text(
            "# Generated by refgraph.backends.devserver\n"
            + "".join(f"{key}={value}\n" for key, value in conf.items()),
            encoding="utf-8",
        )
        if fresh:  # read once, when the system database is created
            auth_ini = dbms_dir / "auth.ini"
            auth_ini.write_text(_auth_ini_line(self.user, self.password), encoding="utf-8")
            auth_ini.chmod(0o600)

        classpath = os.pathsep.join(
            [*manifest["classpath"], *(str(plugins / name) for name in manifest["plugins"])]
        )
        command = [
            java,
            f"-Xms{self.heap}",
            f"-Xmx{self.heap}",
            *_JVM_OPTIONS,
            *self._cds_options(dist),
            *self._jvm_options,
            "-cp",
            classpath,
            _ENTRY_POINT,
            f"--home-dir={home}",
            f"--config-dir={conf_dir}",
        ]
        self.log_path = logs_dir / "neo4j.log"
        self.console_log_path = logs_dir / "console.log"
        self._console = open(self.console_log_path, "ab")  # closed in stop()
        env = dict(os.environ)
        env.update({"NEO4J_HOME": str(home), "NEO4J_CONF": str(conf_dir)})
        logger.info(
            "Starting Neo4j %s (bolt %d, http %d) in %s",
            self.neo4j_version,
            self.bolt_port,
            self.http_port,
            home,
        )
        logger.debug("Command: %s", shlex.join(command))
        self._process = subprocess.Popen(
            command,
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._console,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _cds_options(self, dist: Path) -> list[str]:
        """JVM options to use, or else to record, the AppCDS archive of this classpath."""
        self._cds_pending = None
        if not self.class_data_sharing or not self._java_fingerprint:
            return []
        archive = dist / f"appcds-{self._java_fingerprint}.jsa"
        if archive.is_file():
            return [f"-XX:SharedArchiveFile={archive}"]
        for stale in dist.glob("appcds-*.jsa.*.tmp"):  # left by killed recordings
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 24 * 3600:
                    stale.unlink()
        partial = archive.with_name(f"{archive.name}.{os.getpid()}-{id(self)}.tmp")
        partial.unlink(missing_ok=True)
        self._cds_pending = (partial, archive)
        logger.info("Recording a class-data-sharing archive for faster starts: %s", archive)
        return [f"-XX:ArchiveClassesAtExit={partial}"]

    def _finish_cds(self, process: subprocess.Popen[bytes]) -> None:
        """Keep the AppCDS archive that the JVM wrote at exit, if it exited cleanly."""
        if self._cds_pending is None:
            return
        partial, archive = self._cds_pending
        self._cds_pending = None
        # A JVM stopped by SIGTERM runs its shutdown hooks and exits with 143.
        clean = process.returncode in (0, 128 + signal.SIGTERM)
        try:
            if clean and partial.is_file() and partial.stat().st_size > 0:
                os.replace(partial, archive)
                logger.info("Class-data-sharing archive saved: %s", archive)
            else:
                partial.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("Could not save the class-data-sharing archive %s: %s", archive, exc)

    def _wait_until_ready(self, deadline: float) -> None:
        from neo4j import GraphDatabase
        from neo4j.exceptions import AuthError, Neo4jError, TransientError

        last_error: BaseException | None = None
        while True:
            if self._process is None or self._process.poll() is not None:
                code = None if self._process is None else self._process.returncode
                raise DevServerError(f"Neo4j exited during start (exit code {code})" + self._logs())
            if time.monotonic() > deadline:
                raise DevServerError(
                    f"Neo4j did not accept a Bolt login at {self.uri} in time "
                    f"(last error: {last_error!r})" + self._logs()
                )
            try:
                with GraphDatabase.driver(
                    self.uri, auth=self.auth, connection_timeout=5.0, max_connection_pool_size=1
                ) as driver:
                    driver.verify_connectivity()
                    records, _, _ = driver.execute_query("RETURN gds.version() AS version")
                    self.gds_version = str(records[0]["version"])
                    return
            except AuthError as exc:
                raise DevServerError(f"Neo4j rejected the login: {exc}" + self._logs()) from exc
            except TransientError as exc:  # e.g. the database is still starting
                last_error = exc
                time.sleep(0.5)
            except Neo4jError as exc:
                # The server answers Cypher, so this is not a start-up race: GDS is broken.
                raise DevServerError(
                    f"Neo4j is up at {self.uri} but `RETURN gds.version()` failed: {exc}"
                    + self._logs()
                ) from exc
            except Exception as exc:  # not listening yet (ServiceUnavailable...): retry
                last_error = exc
                time.sleep(0.5)

    def _logs(self) -> str:
        parts = []
        for path in (self.console_log_path, self.log_path):
            if path is not None:
                tail = _tail_file(path, 40).strip()
                if tail:
                    parts.append(f"\n--- last lines of {path} ---\n{tail}")
        if self.home is not None:
            debug_log = self.home / "logs" / "debug.log"
            errors = [
                line
                for line in _tail_file(debug_log, 400).splitlines()
                if " ERROR " in line or "Exception" in line
            ]
            if errors:
                parts.append(f"\n--- errors in {debug_log} ---\n" + "\n".join(errors[-15:]))
        return "".join(parts) or "\n(the server wrote no log)"

    @staticmethod
    def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
        killpg = getattr(os, "killpg", None)
        with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
            if killpg is not None:
                killpg(process.pid, sig)
            else:  # pragma: no cover - Windows
                process.send_signal(sig)
