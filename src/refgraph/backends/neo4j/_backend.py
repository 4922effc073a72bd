"""The Neo4j backend class and :func:`connect`."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ..._errors import BackendError, ValidationError
from ._connect import _new_driver
from ._gds import _GdsMixin
from ._read import _ReadMixin
from ._schema import _Q
from ._write import _WriteMixin
from ._yen import _YenMixin

if TYPE_CHECKING:
    from neo4j import Driver

    from ...network import ReferralNetwork


logger = logging.getLogger("refgraph.backends.neo4j")


class Neo4jBackend(_ReadMixin, _WriteMixin, _GdsMixin, _YenMixin):
    """The refgraph tables stored in a Neo4j database.

    Parameters
    ----------
    uri
        Bolt/Neo4j URI (``bolt://``, ``neo4j://``, ``neo4j+s://`` for Aura or a
        cluster). Default: ``$NEO4J_URI``.
    auth
        ``(user, password)``. Default: ``$NEO4J_USER`` / ``$NEO4J_PASSWORD``.
    driver
        An existing :class:`neo4j.Driver` to use instead (not closed by
        :meth:`close`).
    database
        Database name (default ``$NEO4J_DATABASE`` or the server default).
    batch_size
        Rows per ``UNWIND`` batch in writes (5000: at 20,000 physicians the
        sweep in ``benchmarks/results/neo4j.md`` found 2,000-10,000 within the
        machine's noise of each other and 20,000-50,000 slower).
    progress
        Show progress bars for long reads and writes (default: the
        ``refgraph.config.config.progress`` setting).
    timeout
        Seconds to wait for a connection (default 5). A new backend checks
        the server and the credentials at once, so an unreachable server or
        a wrong password raises :class:`~refgraph.BackendError` (naming the
        URI, never the password) within about this time.
    write_workers
        Relationship batches written at once, each in its own transaction,
        when writing into an empty store (default 2; 1 writes one batch
        after another). On 20,000 physicians on a busy 2-core machine two
        threads wrote flows 1.0-1.5x as fast as one, never slower (see
        ``benchmarks/results/neo4j.md``); more helps only with cores to spare.
    read_streams
        Key ranges a read of the whole store fetches at once, each by its own
        thread in its own read transaction (default 2; 1 reads one page after
        another). The ranges are joined in key order, so the tables are the
        same for any number. Measured in ``benchmarks/results/neo4j.md``.
    retry_time
        Seconds the driver keeps retrying a transaction after transient
        errors such as a cluster leader switch (default 10; the driver's own
        default is 30).

    Examples
    --------
    >>> from refgraph.backends.neo4j import Neo4jBackend
    >>> db = Neo4jBackend("bolt://127.0.0.1:7687", auth=("neo4j", "secret"))  # doctest: +SKIP
    >>> db.write(net)  # doctest: +SKIP
    >>> same = db.read()  # doctest: +SKIP
    """

    name = "neo4j"

    def __init__(
        self,
        uri: str | None = None,
        auth: tuple[str, str] | None = None,
        *,
        driver: Driver | None = None,
        database: str | None = None,
        batch_size: int = 5000,
        progress: bool | None = None,
        timeout: float = 5.0,
        retry_time: float = 10.0,
        write_workers: int = 2,
        read_streams: int = 2,
    ) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size: expected a positive integer, got {batch_size!r}")
        if write_workers < 1:
            raise ValidationError(
                f"write_workers: expected a positive integer, got {write_workers!r}"
            )
        if read_streams < 1:
            raise ValidationError(
                f"read_streams: expected a positive integer, got {read_streams!r}"
            )
        self.batch_size = int(batch_size)
        self.read_streams = int(read_streams)
        self.write_workers = int(write_workers)
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self.progress = progress
        self._owns_driver = driver is None
        if driver is None:
            driver, self._uri = _new_driver(uri, auth, timeout=timeout, retry_time=retry_time)
        else:
            self._uri = "<driver>"
        self.driver = driver
        self._gds: str | bool | None = False  # False = not probed yet
        self._lazy_networks: weakref.WeakSet[Any] = weakref.WeakSet()

    # ------------------------------------------------------------------ plumbing
    def __repr__(self) -> str:
        db = f", database={self.database!r}" if self.database else ""
        return f"Neo4jBackend({self._uri}{db})"

    def close(self) -> None:
        """Drop the GDS projections this backend and its lazy networks keep; close the driver.

        The driver is closed only if the backend made it.
        """
        for lazy in list(self._lazy_networks):
            lazy.close()
        try:
            self._drop_cached()
        except Exception:  # the server may already be gone; nothing to keep then
            logger.debug("could not drop kept projections on close", exc_info=True)
        if self._owns_driver:
            self.driver.close()

    def __enter__(self) -> Neo4jBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema
    def setup_schema(self) -> None:
        """Create refgraph's uniqueness constraints and indexes (idempotent)."""
        for q in _Q["constraints"]:
            self._write(q)

    def counts(self) -> dict[str, int]:
        """Numbers of physicians, practices, flows, events and touchpoints stored."""
        rec = self._read(_Q["counts"])[0]
        return {k: int(v) for k, v in rec.items()}

    # ------------------------------------------------------------------ write
    def write(
        self,
        net: ReferralNetwork,
        *,
        on_batch: Callable[[str, int], None] | None = None,
        mode: str = "auto",
    ) -> dict[str, int]:
        """Write every table of ``net``; safe to re-run.

        Into an empty store (no refgraph node at all) the rows are written
        with ``CREATE``, which needs no look-up of existing elements, and the
        relationships find their end nodes by the internal ids that the node
        ``CREATE`` statements returned (Neo4j's ``id()``, kept only for the
        duration of this call), in the order of their start nodes, with the
        model's own columns named in the ``CREATE``; into a store that holds anything they are
        merged (``MERGE``) on their keys, found through the uniqueness indexes,
        so an incremental load or a re-run leaves exactly one copy of every row.
        Each batch travels as one parameter list per column (text and date
        columns with few distinct values as codes into those values), not as
        one map per row.
        The uniqueness constraints are in place either way. Nodes are written
        before relationships; each batch is one managed transaction, so an
        interrupted write leaves whole batches, and running it again (now
        into a non-empty store, so by ``MERGE``) completes it without
        duplicates.

        Parameters
        ----------
        net
            The network to store.
        on_batch
            Called as ``on_batch(what, n_rows)`` after each committed batch.
        mode
            ``"auto"`` (default): CREATE into an empty store, else MERGE;
            ``"merge"``: always MERGE.

        Returns
        -------
        dict
            Rows written per table.
        """
        if mode not in ("auto", "merge"):
            raise ValidationError(f"mode: expected 'auto' or 'merge', got {mode!r}")
        self.setup_schema()
        create = mode == "auto" and self._store_is_empty()
        self._changed()
        try:
            written = self._write_tables(net, on_batch, create)
        except BaseException:
            self._changed(quiet=True)
            raise
        self._changed()
        return written

    # ------------------------------------------------------------------ read
    def read(
        self,
        *,
        specialty: str | Iterable[str] | None = None,
        zips: Iterable[str] | None = None,
        within_km: tuple[float, float, float] | None = None,
        around: Iterable[str] | None = None,
        hops: int = 1,
        period: tuple[Any, Any] | None = None,
        flows: str = "both",
    ) -> ReferralNetwork:
        """Read the stored network (or a sub-network) back as a ReferralNetwork.

        The result carries this backend in ``net.backend`` so analyses can be
        pushed down to Graph Data Science.

        Parameters
        ----------
        specialty, zips, within_km
            Select physicians as :meth:`ReferralNetwork.select` does (the
            filtering happens in Cypher).
        around, hops
            Select the physicians within ``hops`` referral steps (either
            direction) of these NPIs.
        period
            Keep flows whose period overlaps ``(start, end)`` and events in it.
        flows
            Which flows and events of the selected physicians are read, as in
            :meth:`ReferralNetwork.select`: ``"both"`` (default) ends
            selected, ``"either"`` end, only the referring end (``"from"``) or
            only the receiving end (``"to"``); except for ``"both"`` the
            physicians at the other ends are read too. Warns when the
            selection keeps none of the stored flows.

        A read of the whole store (no selection) fetches each table in pages
        keyed by its indexed id (flows: by referring NPI), each page one record
        of column lists, ``read_streams`` key ranges at once, so its rows come in
        id order; a selection fetches
        value lists of the stored columns. Dates travel as ISO text. With
        progress on, a bar counts the rows on reads that take more than two
        seconds.
        """
        return self._read_network(
            flows=flows,
            specialty=specialty,
            zips=zips,
            within_km=within_km,
            around=around,
            hops=hops,
            period=period,
        )

    # ------------------------------------------------------------------ delete
    def delete(self, *, npis: Iterable[str] | None = None, everything: bool = False) -> None:
        """Delete physicians (with their flows) or everything refgraph stored.

        Parameters
        ----------
        npis
            Physicians to delete, with their flows, referral events and
            touchpoints.
        everything
            Delete all refgraph nodes and relationships, in batches.
        """
        self._changed()
        try:
            self._delete(npis, everything)
        except BaseException:
            self._changed(quiet=True)
            raise
        self._changed()

    def _delete(self, npis: Iterable[str] | None, everything: bool) -> None:
        if npis is not None:
            ids = [str(n) for n in npis]
            for batch in self._batches(ids, "delete"):
                self._write(_Q["delete_physicians"], ids=batch)
        if everything:
            while True:
                got = self._read_write_count()
                if got == 0:
                    break

    def _changed(self, *, quiet: bool = False) -> None:
        """Give the store a new change marker and forget projections built before.

        Called before and after every write and delete. Networks read earlier
        then no longer count as the store's induced sub-graph (their analyses
        project their own flows), and the ``intro_paths`` projections this
        backend keeps are dropped. ``quiet``: after a failure, best effort.
        """
        try:
            self._write(_Q["bump_version"])
            self._drop_cached()
        except BackendError:
            if not quiet:
                raise

    # ------------------------------------------------------------------ GDS
    @property
    def gds_version(self) -> str | None:
        """Version of Graph Data Science on the server, or ``None`` if absent."""
        if self._gds is False:
            try:
                self._gds = str(self._read(_Q["gds_version"])[0]["v"])
            except BackendError:
                self._gds = None
        return self._gds  # type: ignore[return-value]

    _PUSHED = frozenset({"pagerank", "betweenness", "louvain", "leiden", "degree", "intro_paths"})

    def supports(self, algorithm: str) -> bool:
        """Whether ``algorithm`` runs inside Neo4j (needs Graph Data Science)."""
        return algorithm in self._PUSHED and self.gds_version is not None

    def run(self, algorithm: str, net: ReferralNetwork, **options: Any) -> Any:
        """Run an analysis in Graph Data Science on the physicians of ``net``.

        The projection holds the physicians of ``net`` and one relationship
        per referring pair of ``net`` with ``weight`` = summed flow column
        (``count`` by default) and ``cost = 1 / weight``; it is dropped in
        ``finally``. It is built in the store when ``net`` is the store's
        induced sub-graph (read with ``flows="both"``, no ``period``, no
        write or delete since), else from the network's own pairs sent as
        parameters (``degree`` then runs in memory). Results have the same
        shape as the in-memory functions:

        - ``pagerank``: GDS scores are divided by their sum. GDS does not
          redistribute the rank of physicians who refer to nobody, but since
          networkx spreads it like the teleport vector, the two solutions are
          proportional, so normalising gives networkx's answer (up to the
          iteration tolerance).
        - ``betweenness``: on ``cost``; normalised like networkx for directed
          graphs (divided by ``(n-1)(n-2)``) when ``normalized=True``.
        - ``louvain``/``leiden``: on the undirected projection (both
          directions summed); community ids are relabelled ``0..c-1`` by size.
        - ``degree``: in/out degree and strength.
        - ``intro_paths``: GDS Yen on a layered copy of the tie graph, kept
          for the next query with the same arcs (any target); returns the
          same :class:`~refgraph.paths.IntroPaths` as memory, or ``None``
          (compute in memory) when equal-cost paths make the order ambiguous.
          See :meth:`_intro_paths`.
        """
        if algorithm not in self._PUSHED:
            raise ValidationError(f"algorithm: {algorithm!r} is not pushed down to GDS")
        if algorithm == "intro_paths":
            return self._intro_paths(net, **options)
        return self._run_gds(algorithm, net, **options)


def connect(target: str | Driver | Neo4jBackend | None = None, **kwargs: Any) -> Neo4jBackend:
    """A :class:`Neo4jBackend` from a URI, a driver, an existing backend or env vars.

    Examples
    --------
    >>> db = connect("neo4j+s://abc.databases.neo4j.io", auth=("neo4j", "pw"))  # doctest: +SKIP
    >>> db = connect()  # NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD  # doctest: +SKIP
    """
    if isinstance(target, Neo4jBackend):
        return target
    if target is None or isinstance(target, str):
        return Neo4jBackend(target, **kwargs)
    if hasattr(target, "session") and hasattr(target, "execute_query"):
        return Neo4jBackend(driver=target, **kwargs)
    raise ValidationError(
        f"target: expected a URI, a neo4j.Driver or a Neo4jBackend, got {type(target).__name__}"
    )
