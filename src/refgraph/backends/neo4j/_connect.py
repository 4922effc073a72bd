"""Connecting to Neo4j: URI and credentials, the driver, sessions and transactions.

:class:`_Connection` is the base of :class:`~refgraph.backends.neo4j.Neo4jBackend`
(and of its mixins): it runs one statement per managed transaction (retried by
the driver on transient errors) and turns driver errors into
:class:`~refgraph.BackendError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from ..._errors import BackendError, ValidationError
from ..._optional import require

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction


def _redact(uri: str) -> str:
    """A URI without any ``user:password@`` part."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return uri


def _new_driver(
    uri: str | None,
    auth: tuple[str, str] | None,
    *,
    timeout: float = 5.0,
    retry_time: float = 10.0,
) -> tuple[Driver, str]:
    """A new, verified driver for ``uri`` (default ``$NEO4J_URI``) and that URI without credentials.

    ``auth`` defaults to ``$NEO4J_USER`` (else ``neo4j``) / ``$NEO4J_PASSWORD``.
    The driver gives up opening a connection after ``timeout`` seconds and
    retrying a transaction after ``retry_time`` seconds (the driver's own
    defaults are 30 s each), and one round trip checks the server and the
    credentials before the driver is returned: an unreachable server or a
    wrong password is a :class:`~refgraph.BackendError` naming the URI
    (never the password) within seconds.
    """
    require("neo4j", "neo4j", purpose="the Neo4j backend")
    from neo4j import GraphDatabase

    uri = uri or os.environ.get("NEO4J_URI")
    if not uri:
        raise ValidationError(
            "uri: no Neo4j URI given and NEO4J_URI is not set "
            "(e.g. bolt://127.0.0.1:7687 or neo4j+s://<id>.databases.neo4j.io)"
        )
    if auth is None and os.environ.get("NEO4J_PASSWORD") is not None:
        auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"])
    if timeout <= 0 or retry_time < 0:
        raise ValidationError(
            f"timeout/retry_time: expected timeout > 0 and retry_time >= 0 seconds, "
            f"got {timeout!r} and {retry_time!r}"
        )
    try:
        driver = GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=float(timeout),
            connection_acquisition_timeout=float(timeout) + float(retry_time),
            max_transaction_retry_time=float(retry_time),
        )
    except Exception as exc:  # driver raises ValueError/ConfigurationError
        raise BackendError(
            f"cannot create a Neo4j driver for {_redact(uri)}: {type(exc).__name__}"
        ) from None
    try:
        driver.verify_connectivity()
    except Exception as exc:
        driver.close()
        raise BackendError(f"cannot connect to Neo4j at {_redact(uri)}: {_why(exc)}") from None
    return driver, _redact(uri)


def _why(exc: BaseException) -> str:
    """A one-line reason for a driver error, without credentials.

    Authentication failures are reported by kind only; other messages are
    cut to their first line (they name addresses, never passwords).
    """
    name = type(exc).__name__
    if "Auth" in name or "Unauthorized" in str(getattr(exc, "code", "")):
        return f"{name}: authentication failed (check the user and password)"
    if "ServiceUnavailable" in name:
        return f"{name}: no Neo4j server answered (is it running, is the port right?)"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{name}: {first}" if first else name


class _Connection:
    """Sessions, managed transactions and write batches over ``self.driver``."""

    driver: Driver
    database: str | None
    batch_size: int
    progress: bool | None
    _uri: str

    def _session(self) -> Any:
        # Server notifications (e.g. "property key does not exist" on an empty
        # store) are not errors for refgraph; keep them out of the user's log.
        kwargs: dict[str, Any] = {"notifications_min_severity": "OFF"}
        if self.database:
            kwargs["database"] = self.database
        return self.driver.session(**kwargs)

    def _write(self, query: str, **params: Any) -> None:
        def work(tx: ManagedTransaction) -> None:
            tx.run(query, **params).consume()

        try:
            with self._session() as s:
                s.execute_write(work)
        except Exception as exc:
            raise BackendError(f"Neo4j write to {self._uri} failed: {_why(exc)}") from exc

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        return self._read_rows(query, lambda r: r.data(), params)

    def _read_values(
        self, query: str, *, what: str | None = None, **params: Any
    ) -> list[list[Any]]:
        """Rows of a read query as value lists (cheaper to build than dicts).

        With ``what``, a progress bar named after it counts the rows as they
        arrive (when progress is on; it appears only on reads longer than two
        seconds).
        """
        return self._read_rows(query, lambda r: r.values(), params, what)

    def _show_progress(self) -> bool:
        from ...config import config

        return bool(config.progress if self.progress is None else self.progress)

    def _read_rows(
        self,
        query: str,
        row: Callable[[Any], Any],
        params: dict[str, Any],
        what: str | None = None,
    ) -> Any:
        def work(tx: ManagedTransaction) -> list[Any]:
            records: Iterable[Any] = tx.run(query, **params)
            if what is not None and self._show_progress():
                from tqdm.auto import tqdm

                records = tqdm(records, desc=f"neo4j read {what}", unit=" rows", delay=2.0)
            return [row(r) for r in records]

        try:
            with self._session() as s:
                return s.execute_read(work)
        except Exception as exc:
            raise BackendError(f"Neo4j read from {self._uri} failed: {_why(exc)}") from exc

    def _batches(self, rows: list[Any], what: str) -> Iterator[list[Any]]:
        show = self._show_progress()
        starts = range(0, len(rows), self.batch_size)
        if show and len(rows) > 10 * self.batch_size:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"neo4j {what}", unit="batch")
        for i in starts:
            yield rows[i : i + self.batch_size]
