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
``python -m refgraph.backends.devserver --fetch-only`` only downloads the jars.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .._errors import RefgraphError

if TYPE_CHECKING:
    from neo4j import Driver

__all__ = [
    "GDS_ARTIFACTS",
    "GDS_VERSION",
    "NEO4J_VERSION",
    "DevServerError",
    "Neo4jDevServer",
    "ensure_neo4j",
    "main",
]

logger = logging.getLogger(__name__)

#: Neo4j Community server version (the newest 5.26 LTS patch on Maven Central when written).
NEO4J_VERSION = "5.26.30"
#: Open GDS version; 2.13.x is the GDS line for Neo4j 5.26, and 2.13.9 is the first (and
#: only) 2.13 release that publishes ``opengds-extension`` to Maven Central.
GDS_VERSION = "2.13.9"
#: The ``org.neo4j.gds`` artifacts that make up the OpenGDS plugin (the same modules that
#: GDS's own ``open-packaging`` shades into ``open-gds.jar``). ``opengds-extension`` is the
#: kernel extension that wires the ``gds.*`` procedures to their implementation.
GDS_ARTIFACTS: tuple[str, ...] = (
    "proc",
    "proc-sysinfo",
    "opengds-extension",
    "open-model-catalog",
    "open-write-services",
)

_MAVEN_DEPENDENCY_PLUGIN = "3.8.1"
_MANIFEST = "manifest.json"
_MANIFEST_FORMAT = 1
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


class DevServerError(RefgraphError, RuntimeError):
    """The development Neo4j server could not be fetched, started or checked.

    The message says what went wrong: a missing tool (``java`` or ``mvn``), a failed Maven
    resolution (with the tail of its output) or a server that did not come up (with the tail
    of its logs).
    """


# --------------------------------------------------------------------------------------
# Fetching the jars
# --------------------------------------------------------------------------------------


def _cache_root(cache_dir: str | os.PathLike[str] | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("REFGRAPH_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "refgraph"


_APT_PACKAGES = {"java": "openjdk-17-jre-headless", "mvn": "maven"}


def _find_tool(name: str, explicit: str | os.PathLike[str] | None, purpose: str) -> str:
    """Return the path of an executable or raise :class:`DevServerError` naming it."""
    candidate = os.fspath(explicit) if explicit is not None else name
    found = shutil.which(candidate)
    if found is None:
        where = "is not an executable file" if explicit is not None else "was not found on PATH"
        raise DevServerError(
            f"`{candidate}` {where}; it is needed {purpose}. "
            f"Install it (Debian/Ubuntu: `apt-get install {_APT_PACKAGES.get(name, name)}`)."
        )
    return found


def _pom(neo4j_version: str, gds_version: str) -> str:
    deps = [("org.neo4j", "neo4j", neo4j_version)]
    deps += [("org.neo4j.gds", artifact, gds_version) for artifact in GDS_ARTIFACTS]
    dep_xml = "\n".join(
        "    <dependency>"
        f"<groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>"
        "</dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by refgraph.backends.devserver: the classpath of a Neo4j + OpenGDS dev server. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>refgraph.backends.devserver</groupId>
  <artifactId>neo4j-gds-classpath</artifactId>
  <version>{neo4j_version}-gds-{gds_version}</version>
  <packaging>pom</packaging>
  <dependencies>
{dep_xml}
  </dependencies>
  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-dependency-plugin</artifactId>
        <version>{_MAVEN_DEPENDENCY_PLUGIN}</version>
      </plugin>
    </plugins>
  </build>
</project>
"""


def _read_manifest(dist: Path, neo4j_version: str, gds_version: str) -> dict[str, Any] | None:
    """Return the manifest of a complete cache directory, or None if it must be rebuilt."""
    try:
        manifest = json.loads((dist / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != _MANIFEST_FORMAT
        or manifest.get("neo4j_version") != neo4j_version
        or manifest.get("gds_version") != gds_version
    ):
        return None
    jars = [Path(p) for p in manifest.get("classpath", [])]
    plugins = [dist / "plugins" / name for name in manifest.get("plugins", [])]
    if not jars or not plugins or not all(p.is_file() for p in [*jars, *plugins]):
        return None
    return manifest


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (a no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def ensure_neo4j(
    neo4j_version: str = NEO4J_VERSION,
    gds_version: str = GDS_VERSION,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    mvn: str | os.PathLike[str] | None = None,
    timeout: float = 1800.0,
) -> Path:
    """Make sure the jars of a Neo4j + OpenGDS server are available locally.

    The first call writes a tiny ``pom.xml`` into
    ``<cache>/neo4j-<neo4j_version>-gds-<gds_version>/`` and runs
    ``mvn dependency:build-classpath`` on it, which downloads the jars (about 250 MB) into the
    Maven local repository (``~/.m2/repository``). The GDS jars are then copied into the
    ``plugins/`` subdirectory, where Neo4j scans them for procedures, and ``manifest.json``
    records the classpath. Later calls only check that manifest and the files it names, so
    they are fast and work offline; ``mvn`` is then not needed.

    Parameters
    ----------
    neo4j_version
        Version of ``org.neo4j:neo4j`` (the Community server).
    gds_version
        Version of the ``org.neo4j.gds`` artifacts listed in :data:`GDS_ARTIFACTS`; it must
        be a GDS release compatible with ``neo4j_version``.
    cache_dir
        Root of the cache; default ``$REFGRAPH_CACHE_DIR``, else
        ``$XDG_CACHE_HOME/refgraph``, else ``~/.cache/refgraph``.
    mvn
        The Maven executable; default ``mvn`` from ``PATH``.
    timeout
        Seconds allowed for the Maven run.

    Returns
    -------
    pathlib.Path
        The cache directory, holding ``manifest.json`` (``classpath``: absolute paths of the
        server jars; ``plugins``: file names of the GDS jars in ``plugins/``), ``plugins/``
        and the generated ``pom.xml``.

    Raises
    ------
    DevServerError
        If ``mvn`` is needed but missing, or the Maven run fails or times out.
    """
    root = _cache_root(cache_dir)
    dist = root / f"neo4j-{neo4j_version}-gds-{gds_version}"
    manifest = _read_manifest(dist, neo4j_version, gds_version)
    if manifest is not None:
        logger.debug("Neo4j %s + GDS %s already cached in %s", neo4j_version, gds_version, dist)
        return dist

    dist.mkdir(parents=True, exist_ok=True)
    with _locked(dist.parent / f".{dist.name}.lock"):
        # Another process may have finished the job while we waited for the lock.
        if _read_manifest(dist, neo4j_version, gds_version) is not None:
            return dist
        mvn_path = _find_tool("mvn", mvn, "once, to download the Neo4j and GDS jars")
        (dist / "pom.xml").write_text(_pom(neo4j_version, gds_version), encoding="utf-8")
        classpath_file = dist / "classpath.txt"
        classpath_file.unlink(missing_ok=True)
        command = [
            mvn_path,
            "-B",
            "-q",
            "-Dstyle.color=never",
            "-f",
            str(dist / "pom.xml"),
            "dependency:build-classpath",
            f"-Dmdep.outputFile={classpath_file}",
        ]
        logger.info(
            "Resolving Neo4j %s + GDS %s with Maven (the first run downloads ~250 MB)...",
            neo4j_version,
            gds_version,
        )
        started = time.monotonic()
        try:
            result = subprocess.run(
                command,
                cwd=dist,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise DevServerError(
                f"Maven did not resolve Neo4j {neo4j_version} + GDS {gds_version} within "
                f"{timeout:.0f} s: {shlex.join(command)}"
            ) from exc
        if result.returncode != 0 or not classpath_file.is_file():
            output = (result.stdout + "\n" + result.stderr).strip()
            raise DevServerError(
                f"Maven failed (exit code {result.returncode}) to resolve Neo4j "
                f"{neo4j_version} + GDS {gds_version}: {shlex.join(command)}\n"
                + _tail_text(output, 40)
            )
        entries = [
            Path(p)
            for p in classpath_file.read_text(encoding="utf-8").strip().split(os.pathsep)
            if p.strip()
        ]
        gds_marker = f"{os.sep}org{os.sep}neo4j{os.sep}gds{os.sep}"
        gds_jars = [p for p in entries if gds_marker in str(p)]
        server_jars = [p for p in entries if gds_marker not in str(p)]
        if not gds_jars or not any(p.name.startswith("neo4j-") for p in server_jars):
            raise DevServerError(
                f"Maven's classpath for Neo4j {neo4j_version} + GDS {gds_version} looks "
                f"incomplete ({len(server_jars)} server jars, {len(gds_jars)} GDS jars); "
                f"see {classpath_file}"
            )
        plugins = dist / "plugins"
        if plugins.exists():
            shutil.rmtree(plugins)
        plugins.mkdir()
        for jar in gds_jars:
            shutil.copy2(jar, plugins / jar.name)
        manifest = {
            "format": _MANIFEST_FORMAT,
            "neo4j_version": neo4j_version,
            "gds_version": gds_version,
            "gds_artifacts": list(GDS_ARTIFACTS),
            "classpath": [str(p) for p in server_jars],
            "plugins": sorted(p.name for p in gds_jars),
        }
        tmp = dist / f"{_MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        tmp.replace(dist / _MANIFEST)
        logger.info(
            "Neo4j %s + GDS %s resolved in %.1f s (%d server jars, %d GDS jars) into %s",
            neo4j_version,
            gds_version,
            time.monotonic() - started,
            len(server_jars),
            len(gds_jars),
            dist,
        )
    return dist


# --------------------------------------------------------------------------------------
# Running the server
# --------------------------------------------------------------------------------------


def _free_port(exclude: Sequence[int] = ()) -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in exclude:
            return port
    raise DevServerError("could not find a free TCP port on 127.0.0.1")


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


def _tail_text(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _tail_file(path: Path, lines: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return _tail_text(data, lines)


def _java_version(java: str) -> tuple[int | None, str]:
    """Return the major version of ``java`` and its full ``java -version`` text."""
    try:
        result = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None, ""
    text = (result.stderr + result.stdout).strip()
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        return None, text
    major = int(match.group(1))
    return (int(match.group(2) or 0) if major == 1 else major), text


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

    def _launch(self, java: str, dist: Path, manifest: Mapping[str, Any]) -> None:
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
        self._console = open(self.console_log_path, "wb")  # closed in stop()
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


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m refgraph.backends.devserver",
        description=(
            "Run a local Neo4j Community + OpenGDS server for development and tests, "
            "from Maven Central jars. Stop it with Ctrl-C."
        ),
    )
    parser.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    parser.add_argument(
        "--http-port", type=int, default=None, help="HTTP port (default: a free one)"
    )
    parser.add_argument("--password", default=None, help="password of user neo4j (default: random)")
    parser.add_argument("--heap", default="1g", help="JVM heap size (default: 1g)")
    parser.add_argument("--pagecache", default="256m", help="page cache size (default: 256m)")
    parser.add_argument("--neo4j-version", default=NEO4J_VERSION)
    parser.add_argument("--gds-version", default=GDS_VERSION)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the server to start"
    )
    parser.add_argument(
        "--fetch-only", action="store_true", help="only download the jars, then exit"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point of ``python -m refgraph.backends.devserver``.

    Parameters
    ----------
    argv
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 after Ctrl-C (or SIGTERM), 1 if the server failed or died.
    """
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.fetch_only:
            dist = ensure_neo4j(args.neo4j_version, args.gds_version)
            print(f"Neo4j {args.neo4j_version} + GDS {args.gds_version} jars ready in {dist}")
            return 0
        server = Neo4jDevServer(
            bolt_port=args.port,
            http_port=args.http_port,
            password=args.password,
            heap=args.heap,
            pagecache=args.pagecache,
            neo4j_version=args.neo4j_version,
            gds_version=args.gds_version,
        )
    except (DevServerError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        server.start(timeout=args.timeout)
        print(
            f"Neo4j {server.neo4j_version} + GDS {server.gds_version} is ready "
            f"(started in {server.startup_seconds:.1f} s).\n"
            f"  Bolt URI: {server.uri}\n"
            f"  HTTP:     {server.http_uri}\n"
            f"  user:     {server.user}\n"
            f"  password: {server.password}\n"
            f"  logs:     {server.log_path}\n"
            "\n"
            "Export these to point refgraph (and its tests) at it:\n"
            f"export NEO4J_URI={shlex.quote(server.uri)}\n"
            f"export NEO4J_USER={shlex.quote(server.user)}\n"
            f"export NEO4J_PASSWORD={shlex.quote(server.password)}\n"
            "\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while server.is_running():
            time.sleep(1.0)
        print("error: the Neo4j server exited unexpectedly" + server._logs(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopping Neo4j...", flush=True)
        return 0
    except DevServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the clean-up.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            server.stop()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


if __name__ == "__main__":
    sys.exit(main())
