"""A network whose tables stay in Neo4j: counts, selections and GDS analyses in place.

:class:`LazyNetwork` is what ``ReferralNetwork.from_neo4j(db, lazy=True)``
returns. It reads no table until asked: the counts and :meth:`summary` are
Cypher aggregates, the analyses Graph Data Science can run (PageRank plain
and personalised, betweenness, Louvain, Leiden, degree) run on a projection of
the whole store built store-side and kept across calls, ``intro_paths`` reads
only the physicians its paths can use, and :meth:`select` / :meth:`materialize`
return ordinary in-memory networks.

The analysis functions of :mod:`refgraph.centrality`, :mod:`refgraph.community`
and :mod:`refgraph.paths` need no change for it: they offer their work to
``net.backend`` through :func:`refgraph.backends.pushdown`, and a lazy
network is its own backend. What it cannot compute in the database it refuses
with a :class:`~refgraph.RefgraphError` that says to call :meth:`materialize`
or read a selection; it never falls back to reading everything silently.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._errors import BackendError, RefgraphError, ValidationError
from ._lazy_paths import _COLLEAGUES_MAX
from ._schema import _Q

if TYPE_CHECKING:
    from ...network import ReferralNetwork
    from ._backend import Neo4jBackend

logger = logging.getLogger("refgraph.backends.neo4j")
#: Names of the constraints' and indexes' backing indexes refgraph's schema creates.
_INDEX_NAMES = tuple(re.findall(r"(?:CONSTRAINT|INDEX) (\w+) IF", " ".join(_Q["constraints"])))

#: Analyses a lazy network runs in Neo4j (all need Graph Data Science).
_PUSHED = frozenset(
    {"pagerank", "betweenness", "louvain", "leiden", "degree", "intro_paths", "best_introducers"}
)


class LazyTableError(RefgraphError, AttributeError):
    """A lazy network was asked for something that needs its tables in Python."""


def _hint(what: str) -> str:
    return (
        f"{what} needs the tables in Python, and this LazyNetwork keeps them in Neo4j: "
        "call .materialize() for the whole network or .select(...) for a part of it"
    )


class LazyNetwork:
    """The network stored in a Neo4j database, analysed without reading it back.

    Made by ``ReferralNetwork.from_neo4j(target, lazy=True)`` (or directly
    from a :class:`Neo4jBackend`). It has the counts, :meth:`summary` and
    :attr:`npis` of a :class:`~refgraph.ReferralNetwork`, and these analyses
    accept it and run inside Neo4j Graph Data Science, returning the same
    frames as for the network in memory:

    - :func:`refgraph.centrality.pagerank` (plain, or personalised with a
      list of NPIs or a mapping of equal weights),
    - :func:`refgraph.centrality.betweenness`,
    - :func:`refgraph.community.louvain` (resolution 1) and
      :func:`refgraph.community.leiden`,
    - :func:`refgraph.centrality.degree` (without ``patients_per_physician``),
    - :func:`refgraph.paths.intro_paths`: reads only the physicians on paths
      of at most ``max_hops`` hops, found by meeting in the middle (the tie
      edges around the sources, radius ``ceil(max_hops / 2)``, and around
      the target, radius ``floor(max_hops / 2)``), and
      :func:`refgraph.paths.best_introducers` on the same sub-network; with
      ``max_hops <= 3`` the sub-network of the sources' ball is kept, and a
      target inside it costs the in-memory search and one store version check,
      sent while the search runs (the answer is kept only if the store has not
      changed; otherwise the query runs again on the current store).

    The projection of the whole store is built inside the database (nothing
    but the projection name and the weight property is sent) and kept for
    the next analysis with the same weight; it is dropped when the store's
    change marker changes (any write or delete through refgraph) and by
    :meth:`close`. Any other use of the tables raises
    :class:`LazyTableError` (a :class:`~refgraph.RefgraphError`) telling to
    call :meth:`materialize` or :meth:`select`.

    Parameters
    ----------
    db
        The backend holding the store.

    Examples
    --------
    >>> from refgraph import ReferralNetwork, centrality
    >>> lazy = ReferralNetwork.from_neo4j(lazy=True)  # NEO4J_* settings  # doctest: +SKIP
    >>> n = lazy.n_physicians  # a Cypher count; nothing is read  # doctest: +SKIP
    >>> top = centrality.pagerank(lazy).nlargest(5, "pagerank")  # in GDS  # doctest: +SKIP
    >>> lazy.write_back(top, prefix="refgraph_")  # doctest: +SKIP
    """

    #: Marks a network whose tables are not in Python (analysis functions may check it).
    is_lazy = True
    name = "neo4j-lazy"
    #: How many whole-store projections are kept (one per weight / direction).
    keep_projections = 4

    def __init__(self, db: Neo4jBackend) -> None:
        self.db = db
        self._kept: dict[tuple[Any, ...], str] = {}
        self._version: str | None = None
        self._memo: dict[str, Any] = {}
        db._lazy_networks.add(self)  # closing the backend drops this network's projections

    # ------------------------------------------------------------- port
    @property
    def backend(self) -> LazyNetwork:
        """The network itself: analyses offer it their work (see ``backends.pushdown``)."""
        return self

    def supports(self, algorithm: str) -> bool:
        """Whether ``algorithm`` is one the lazy network runs in Neo4j (all others refuse)."""
        return algorithm in _PUSHED

    def run(self, algorithm: str, net: Any, **options: Any) -> Any:
        """Run a pushed-down analysis on the whole store; never returns ``None``.

        Raises :class:`LazyTableError` for options GDS cannot honour (Louvain
        with a resolution other than 1, personalised PageRank with unequal
        weights, degree with ``patients_per_physician``).
        """
        if algorithm in ("intro_paths", "best_introducers"):  # Cypher and memory: no GDS
            from ._lazy_paths import lazy_intro_paths

            return lazy_intro_paths(self, introducers=algorithm == "best_introducers", **options)
        if self.db.gds_version is None:
            raise BackendError(
                f"{algorithm}: the Neo4j server has no Graph Data Science plugin; "
                + _hint("running it in Python")
            )
        declined = _declined(algorithm, options)
        if declined:
            raise LazyTableError(f"{algorithm}: GDS cannot compute {declined}; " + _hint("it"))
        if algorithm == "pagerank" and options.get("personalization"):
            from ..._params import check_npis_in_network

            pers = options["personalization"]
            check_npis_in_network(self, list(pers), "personalization")
        weight = str(options.get("weight") or "count")
        scale = 1.0
        if algorithm == "betweenness" and options.get("weight") is not None:
            scale = float(self._integer_scale(weight) or 1)
        undirected = algorithm in ("louvain", "leiden")
        graph = self._projection(weight, undirected, scale)
        ids = [str(x) for x in self.npis]
        return self.db._run_projected(algorithm, graph, ids, dict(options), self.npis, whole=True)

    # ------------------------------------------------------------- projections
    def _check_version(self, version: str | None = None) -> str:
        """The store's change marker (``version``: one just read); a new one drops kept
        projections and memos."""
        v = self._store_version() if version is None else version
        if v != self._version:
            self.drop_projections()
            self._memo.clear()
            self._version = v
        return v

    def _store_version(self) -> str:
        """The store's change marker in one auto-commit round trip.

        A managed read transaction (``Neo4jBackend._store_version``) costs three
        round trips (begin, run with pull, commit); this check runs before every
        query that uses kept values, so it is sent as one auto-commit statement.
        On any failure the managed read answers instead (with its retries and
        its error message).
        """
        kwargs: dict[str, Any] = {
            "notifications_min_severity": "OFF",
            "default_access_mode": "READ",
        }
        if self.db.database:
            kwargs["database"] = self.db.database
        try:
            with self.db.driver.session(**kwargs) as session:
                return str(session.run(_Q["read_version"]).single(strict=True)[0])
        except Exception:  # retried and reported by the managed read
            return self.db._store_version()

    def _projection(self, weight: str, undirected: bool, scale: float) -> str:
        """Name of a kept whole-store GDS projection, built store-side if needed."""
        self._check_version()
        key = (weight, undirected, scale)
        graph = self._kept.get(key)
        if graph is not None and self.db._graph_exists(graph):
            return graph
        graph = f"refgraph_lazy_{uuid.uuid4().hex}"
        self.db._write(
            _Q["gds_project_all"],
            graph=graph,
            weight=weight,
            scale=scale,
            undirected=["*"] if undirected else [],
        )
        self._kept[key] = graph
        while len(self._kept) > self.keep_projections:
            self.db._drop_graph(self._kept.pop(next(iter(self._kept))))
        return graph

    def projections(self) -> list[str]:
        """Names of the GDS projections this network keeps."""
        return list(self._kept.values())

    def drop_projections(self) -> None:
        """Drop every GDS projection this network keeps."""
        while self._kept:
            self.db._drop_graph(self._kept.pop(next(iter(self._kept))))

    def close(self) -> None:
        """Drop the kept projections (the backend stays open)."""
        try:
            self.drop_projections()
        except Exception:  # the server may be gone; nothing left to drop then
            logger.debug("could not drop lazy projections on close", exc_info=True)

    def __enter__(self) -> LazyNetwork:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _integer_scale(self, weight: str) -> int | None:
        """The in-memory kernel's integer cost scale, from the store's distinct pair volumes."""
        from ..._kernels import integer_scale

        vols = [float(r["w"]) for r in self.db._read(_Q["lazy_volumes"], weight=weight)]
        arr = np.asarray([v for v in vols if v != 0.0], dtype="float64")
        return integer_scale(arr, self.n_physicians)

    def _memoised(self, key: str, compute: Any, *, check: bool = True) -> Any:
        """``compute()``, kept until the store changes (``check=False``: the caller has
        just called :meth:`_check_version`)."""
        if check:
            self._check_version()
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def _warn_missing_indexes(self) -> list[str]:
        """Log a warning naming refgraph's indexes the store lacks; return their names.

        A store written by an older refgraph can lack indexes that later reads seek
        through (the event indexes, for example); its reads then scan and are slow,
        though their answers are the same. The check runs once per lazy network.
        """
        rows = self.db._read_values("SHOW INDEXES YIELD name RETURN name")
        have = {str(r[0]) for r in rows}
        missing = [n for n in _INDEX_NAMES if n not in have]
        if missing:
            logger.warning(
                "this Neo4j store lacks refgraph's indexes %s, so its reads scan; "
                "Neo4jBackend.setup_schema() creates them (idempotent, no data changes)",
                ", ".join(missing),
            )
        return missing

    # ------------------------------------------------------------- counts
    @property
    def n_physicians(self) -> int:
        """Number of physicians stored."""
        return int(self._counts()["physicians"])

    @property
    def n_flows(self) -> int:
        """Number of flow rows stored."""
        return int(self._counts()["flows"])

    def _counts(self) -> dict[str, int]:
        got: dict[str, int] = self._memoised("counts", self.db.counts)
        return got

    @property
    def npis(self) -> pd.Index:
        """NPIs of all stored physicians (one column read, kept until the store changes)."""

        def read() -> pd.Index:
            rows = self.db._read_values(_Q["lazy_npis"], what="npis")
            return pd.Index(pd.array([r[0] for r in rows], dtype="string"), name="npi")

        got: pd.Index = self._memoised("npis", read)
        return got

    def summary(self) -> pd.Series:
        """The figures of :meth:`ReferralNetwork.summary`, computed in Neo4j.

        Counts and pair statistics are Cypher aggregates; weak components
        come from GDS WCC on the kept projection. ``rejected_rows`` is 0 (a
        store keeps no ingest reports, as for a network read back).
        """
        c = self._counts()
        pairs = self.db._read(_Q["lazy_pairs"])[0]
        isolates = int(self.db._read(_Q["lazy_isolates"])[0]["c"])
        n = int(c["physicians"])
        ncomp = largest = 0
        if n:
            wcc = self.db._read(_Q["gds_wcc"], graph=self._projection("count", False, 1.0))[0]
            ncomp, largest = int(wcc["components"]), int(wcc["largest"])
        loopless = int(pairs["loopless"] or 0)
        return pd.Series(
            {
                "physicians": n,
                "practices": int(c["practices"]),
                "flows": int(c["flows"]),
                "edges": int(pairs["edges"] or 0),
                "total_volume": int(pairs["volume"] or 0),
                "total_patients": int(pairs["patients"] or 0) if pairs["has_patients"] else 0,
                "density": loopless / (n * (n - 1)) if n > 1 else float("nan"),
                "weak_components": ncomp,
                "largest_component": largest,
                "reciprocity": int(pairs["mutual"]) / loopless if loopless else float("nan"),
                "isolates": isolates,
                "events": int(c["events"]),
                "touchpoints": int(c["touchpoints"]),
                "rejected_rows": 0,
            },
            dtype=object,
        )

    def __len__(self) -> int:
        return self.n_physicians

    def __repr__(self) -> str:
        return f"LazyNetwork({self.db!r})"

    # ------------------------------------------------------------- reads
    def select(self, **filters: Any) -> ReferralNetwork:
        """A sub-network read into memory: :meth:`Neo4jBackend.read` with these filters.

        Takes ``specialty``, ``zips``, ``within_km``, ``around``/``hops``,
        ``period`` and ``flows`` (default ``"both"``).
        """
        return self.db.read(**filters)

    read = select

    def materialize(self) -> ReferralNetwork:
        """Read the whole network into memory (a progress bar counts the rows when on)."""
        return self.db.read()

    to_network = materialize

    def neighbourhood(
        self,
        sources: Iterable[str],
        hops: int,
        *,
        extra_pairs: Iterable[tuple[str, str]] = (),
    ) -> list[str]:
        """NPIs within ``hops`` tie steps of ``sources``, with whole practices.

        A tie step follows a stored flow either way, a referral event either
        way, a colleague in a practice of at most 10 physicians (the rule of
        :mod:`refgraph.paths`) or a pair of ``extra_pairs``. Every member of
        a practice of a chosen physician is added, so that practice sizes in
        the read sub-network are the store's.
        """
        adj: dict[str, set[str]] = {}
        for a, b in extra_pairs:
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
        seen = {str(s) for s in sources}
        frontier = sorted(seen)
        for _ in range(int(hops)):
            if not frontier:
                break
            rows = self.db._read_values(_Q["neighbours"], ids=frontier, what="neighbours")
            rows += self.db._read_values(_Q["lazy_event_partners"], ids=frontier)
            rows += self.db._read_values(
                _Q["lazy_colleagues"], ids=frontier, colleagues=_COLLEAGUES_MAX
            )
            nxt = {str(r[0]) for r in rows if r[0] is not None}
            for f in frontier:
                nxt |= adj.get(f, set())
            frontier = sorted(nxt - seen)
            seen |= nxt
        members = self.db._read_values(_Q["lazy_practice_members"], ids=sorted(seen))
        seen |= {str(r[0]) for r in members}
        return sorted(seen)

    def max_date(self) -> pd.Timestamp | None:
        """Latest flow ``period_end``, event ``date`` or touchpoint ``date`` in the store.

        The default ``as_of`` of the tie-strength model, as in memory.
        """

        return self._max_date()

    def _max_date(self, check: bool = True) -> pd.Timestamp | None:
        return self._latest(check)[1]

    def _latest(self, check: bool = True) -> tuple[frozenset[str], pd.Timestamp | None]:
        """The holders of the latest flow, event and touchpoint, and :meth:`max_date`,
        read in one statement and kept until the store changes."""
        got: tuple[frozenset[str], pd.Timestamp | None] = self._memoised(
            "latest", self._read_latest, check=check
        )
        return got

    def _read_latest(self) -> tuple[frozenset[str], pd.Timestamp | None]:
        """:meth:`_latest` from the store (not kept)."""
        holders: set[str] = set()
        dates = []
        for ends, v in self.db._read_values(_Q["lazy_latest"]):
            holders.update(str(n) for n in ends if n)
            v = v.to_native() if hasattr(v, "to_native") else v
            ts = pd.to_datetime(v, errors="coerce")
            if not pd.isna(ts):
                dates.append(pd.Timestamp(ts))
        return frozenset(holders), max(dates) if dates else None

    # ------------------------------------------------------------- write back
    def write_back(self, result: pd.DataFrame | pd.Series, *, prefix: str = "refgraph_") -> int:
        """Store an analysis result as properties of the physician nodes.

        Each column ``c`` of ``result`` (indexed by NPI, as every refgraph
        result frame) becomes the property ``prefix + c`` of the physician
        with that NPI; missing values remove the property. Names and values
        are query parameters, never Cypher text. These properties are for
        other users of the database (Cypher, Bloom); they are not part of
        the refgraph tables, so reading the network back does not return
        them, and they do not change the store's change marker.

        Returns
        -------
        int
            Number of physicians matched in the result's index.
        """
        frame = result.to_frame() if isinstance(result, pd.Series) else result
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError(
                f"result: expected a DataFrame or Series, got {type(result).__name__}"
            )
        meta = {r["name"]: r for r in self.db._read(_Q["read_meta"])}
        stored = set(meta["physicians"]["columns"]) if "physicians" in meta else set()
        names = [f"{prefix}{c}" for c in frame.columns]
        clash = sorted((set(names) & stored) | ({"npi"} & set(names)))
        if clash:
            raise ValidationError(
                f"prefix: {prefix!r} makes {clash} collide with stored physician columns; "
                "choose another prefix"
            )
        rows = []
        for npi, values in zip(frame.index.astype(str), frame.itertuples(index=False)):
            props = {n: _plain(v) for n, v in zip(names, values)}
            rows.append({"id": npi, "props": props})
        present = self.db._read_values(_Q["lazy_present"], ids=[r["id"] for r in rows])
        for batch in self.db._batches(rows, "write back"):
            self.db._write(_Q["lazy_write_back"], rows=batch)
        return len({str(r[0]) for r in present})

    # ------------------------------------------------------------- guards
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise LazyTableError(_hint(f"LazyNetwork.{name}"))

    @property
    def tables(self) -> Any:
        """Refused: see :class:`LazyTableError`."""
        raise LazyTableError(_hint("the tables"))


def _plain(v: Any) -> Any:
    """A value the driver can send: numpy scalars unwrapped, missing values ``None``."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, np.generic):
        return v.item()
    return v


def _declined(algorithm: str, options: Mapping[str, Any]) -> str:
    """Why GDS cannot honour these options (empty when it can)."""
    if algorithm == "degree" and options.get("patients_per_physician") is not None:
        return "degree with patients_per_physician (panel sizes live in memory)"
    if algorithm == "louvain" and float(options.get("resolution") or 1.0) != 1.0:
        return "Louvain with a resolution other than 1 (use leiden, which has one)"
    pers = options.get("personalization")
    if algorithm == "pagerank" and isinstance(pers, Mapping):
        if len({float(v) for v in pers.values()}) > 1:
            return "PageRank personalised with unequal weights (GDS restarts uniformly)"
    return ""
