"""The server's JVM: its command line and ``neo4j.conf``, AppCDS, signals, readiness.

:class:`_JvmProcess` holds what starting and stopping the ``java`` process of
:class:`~refgraph.backends.devserver.Neo4jDevServer` needs; the server class adds the
public life cycle (``start``, ``stop``, ``driver``, ``import_network``) on top.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._tools import DevServerError, _find_tool, _free_port, _java_version, _tail_file

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


class _JvmProcess:
    """The ``java`` process of a dev server; the attributes are set by the server class."""

    user: str
    password: str
    neo4j_version: str
    heap: str
    pagecache: str
    keep_home: bool
    class_data_sharing: bool
    gds_version: str
    uri: str
    http_uri: str
    bolt_port: int | None
    http_port: int | None
    home: Path | None
    log_path: Path | None
    console_log_path: Path | None
    _bolt_port: int | None
    _http_port: int | None
    _java: str | os.PathLike[str] | None
    _extra_conf: dict[str, str]
    _jvm_options: list[str]
    _java_fingerprint: str
    _cds_pending: tuple[Path, Path] | None
    _process: subprocess.Popen[bytes] | None
    _console: Any

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
                    self.uri,
                    auth=(self.user, self.password),
                    connection_timeout=5.0,
                    max_connection_pool_size=1,
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
