"""Neo4j backend: the refgraph tables in a real Neo4j 5.x database.

Graph schema (labels and relationship types come from this fixed whitelist;
no user value is ever formatted into Cypher text, everything else is a
query parameter):

=====================  ======================================================
element                properties
=====================  ======================================================
``(:Physician)``       ``npi`` (unique), the physicians columns
``(:Practice)``        ``practice_id`` (unique), the practices columns
``[:PRACTICES_AT]``    physician -> practice (from ``practice_id``)
``[:REFERRED]``        physician -> physician, one per flow row: ``key``
                       (period and provenance), ``count``, ``patients``, ...
``(:ReferralEvent)``   ``eid`` (unique, content hash), the events columns
``(:Touchpoint)``      ``tid`` (unique, content hash), the touchpoints columns
``(:RefgraphTable)``   ``name`` (unique): column order and dtypes of a table
=====================  ======================================================

Writes are batched ``UNWIND $rows ... MERGE`` statements in managed
transactions (retried by the driver on transient errors); nodes are written
before relationships, so a load interrupted at any point and run again ends
with exactly the right content: no duplicates, nothing missing.

Analyses are pushed down to Neo4j Graph Data Science when the server has
it (PageRank, betweenness, Louvain, degree, and the k-best warm-introduction
paths with Yen's algorithm); see :meth:`Neo4jBackend.run`.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._errors import BackendError, ValidationError
from ...model import SCHEMAS

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction

    from ...network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["Neo4jBackend", "connect"]

#: Node label per table and the property that identifies a row (fixed whitelist).
_LABELS: dict[str, tuple[str, str]] = {
    "physicians": ("Physician", "npi"),
    "practices": ("Practice", "practice_id"),
    "events": ("ReferralEvent", "eid"),
    "touchpoints": ("Touchpoint", "tid"),
}
_FLOW_KEY = ("period_start", "period_end", "provenance")

#: Cypher statements. They are constants: the only variable parts are parameters.
_Q: dict[str, Any] = {
    "constraints": [
        "CREATE CONSTRAINT refgraph_physician_npi IF NOT EXISTS "
        "FOR (p:Physician) REQUIRE p.npi IS UNIQUE",
        "CREATE CONSTRAINT refgraph_practice_id IF NOT EXISTS "
        "FOR (o:Practice) REQUIRE o.practice_id IS UNIQUE",
        "CREATE CONSTRAINT refgraph_event_id IF NOT EXISTS "
        "FOR (e:ReferralEvent) REQUIRE e.eid IS UNIQUE",
        "CREATE CONSTRAINT refgraph_touchpoint_id IF NOT EXISTS "
        "FOR (t:Touchpoint) REQUIRE t.tid IS UNIQUE",
        "CREATE CONSTRAINT refgraph_table_name IF NOT EXISTS "
        "FOR (m:RefgraphTable) REQUIRE m.name IS UNIQUE",
        "CREATE INDEX refgraph_physician_specialty IF NOT EXISTS "
        "FOR (p:Physician) ON (p.specialty)",
        "CREATE INDEX refgraph_physician_zip IF NOT EXISTS FOR (p:Physician) ON (p.zip)",
    ],
    "Physician": "UNWIND $rows AS r MERGE (n:Physician {npi: r.id}) SET n = r.props",
    "Practice": "UNWIND $rows AS r MERGE (n:Practice {practice_id: r.id}) SET n = r.props",
    "ReferralEvent": "UNWIND $rows AS r MERGE (n:ReferralEvent {eid: r.id}) SET n = r.props",
    "Touchpoint": "UNWIND $rows AS r MERGE (n:Touchpoint {tid: r.id}) SET n = r.props",
    "practices_at": (
        "UNWIND $rows AS r MATCH (p:Physician {npi: r.npi}) "
        "MATCH (o:Practice {practice_id: r.practice_id}) MERGE (p)-[:PRACTICES_AT]->(o)"
    ),
    "flows": (
        "UNWIND $rows AS r MATCH (a:Physician {npi: r.s}) MATCH (b:Physician {npi: r.t}) "
        "MERGE (a)-[f:REFERRED {key: r.key}]->(b) SET f = r.props"
    ),
    "meta": "MERGE (m:RefgraphTable {name: $name}) SET m.columns = $columns, m.dtypes = $dtypes",
    "read_meta": "MATCH (m:RefgraphTable) RETURN m.name AS name, m.columns AS columns, "
    "m.dtypes AS dtypes",
    "read_Physician": "MATCH (n:Physician) WHERE $ids IS NULL OR n.npi IN $ids "
    "RETURN properties(n) AS p",
    "read_Practice": "MATCH (n:Practice) RETURN properties(n) AS p",
    "read_ReferralEvent": "MATCH (n:ReferralEvent) WHERE $ids IS NULL OR "
    "(n.source_npi IN $ids AND n.target_npi IN $ids) RETURN properties(n) AS p",
    "read_Touchpoint": "MATCH (n:Touchpoint) WHERE $ids IS NULL OR n.npi IN $ids "
    "RETURN properties(n) AS p",
    "read_flows": (
        "MATCH (a:Physician)-[f:REFERRED]->(b:Physician) "
        "WHERE $ids IS NULL OR (a.npi IN $ids AND b.npi IN $ids) "
        "RETURN a.npi AS source_npi, b.npi AS target_npi, properties(f) AS p"
    ),
    "read_flows_columns": (
        "MATCH (a:Physician)-[f:REFERRED]->(b:Physician) "
        "WHERE $ids IS NULL OR (a.npi IN $ids AND b.npi IN $ids) "
        "RETURN a.npi AS source_npi, b.npi AS target_npi, [k IN $keys | f[k]] AS vals"
    ),
    "select": (
        "MATCH (p:Physician) WHERE ($spec IS NULL OR p.specialty IN $spec) "
        "AND ($zips IS NULL OR p.zip IN $zips) "
        "AND ($lat IS NULL OR (p.lat IS NOT NULL AND point.distance("
        "point({latitude: p.lat, longitude: p.lon}), point({latitude: $lat, longitude: $lon})"
        ") <= $meters)) RETURN p.npi AS npi"
    ),
    "neighbours": (
        "UNWIND $ids AS id MATCH (:Physician {npi: id})-[:REFERRED]-(q:Physician) "
        "RETURN DISTINCT q.npi AS npi"
    ),
    "delete_batch": (
        "MATCH (n) WHERE n:Physician OR n:Practice OR n:ReferralEvent OR n:Touchpoint "
        "OR n:RefgraphTable WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS c"
    ),
    "delete_physicians": (
        "UNWIND $ids AS id MATCH (n:Physician {npi: id}) "
        "OPTIONAL MATCH (e:ReferralEvent) WHERE e.source_npi = id OR e.target_npi = id "
        "OPTIONAL MATCH (t:Touchpoint {npi: id}) DETACH DELETE n, e, t"
    ),
    "counts": (
        "CALL () { MATCH (n:Physician) RETURN count(n) AS physicians } "
        "CALL () { MATCH (n:Practice) RETURN count(n) AS practices } "
        "CALL () { MATCH ()-[r:REFERRED]->() RETURN count(r) AS flows } "
        "CALL () { MATCH (n:ReferralEvent) RETURN count(n) AS events } "
        "CALL () { MATCH (n:Touchpoint) RETURN count(n) AS touchpoints } "
        "RETURN physicians, practices, flows, events, touchpoints"
    ),
    "gds_version": "RETURN gds.version() AS v",
    "partners": (
        "MATCH (p:Physician)-[r:REFERRED]-(q:Physician) WHERE p.npi IN $ids AND q.npi IN $ids "
        "AND p <> q RETURN p.npi AS npi, count(DISTINCT q) AS degree, "
        "CASE WHEN count(r.patients) = 0 THEN null ELSE sum(r.patients) END AS shared"
    ),
    "gds_project": (
        "MATCH (s:Physician) WHERE s.npi IN $ids "
        "OPTIONAL MATCH (s)-[r:REFERRED]->(t:Physician) WHERE t.npi IN $ids "
        "WITH s, t, sum(coalesce(r[$weight], 0.0)) AS w "
        "WITH s, t, CASE WHEN t IS NULL THEN NULL ELSE toFloat(w) END AS w "
        "WITH gds.graph.project($graph, s, t, "
        "{relationshipProperties: CASE WHEN t IS NULL THEN {} ELSE "
        "{weight: w, cost: CASE WHEN w > 0 THEN 1.0 / w ELSE 1.0e12 END} END}, "
        "{undirectedRelationshipTypes: $undirected}) AS g "
        "RETURN g.nodeCount AS nodes, g.relationshipCount AS rels"
    ),
    "gds_drop": "CALL gds.graph.drop($graph, false) YIELD graphName RETURN graphName",
    "gds_pagerank": (
        "CALL gds.pageRank.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    "gds_betweenness": (
        "CALL gds.betweenness.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    "gds_louvain": (
        "CALL gds.louvain.stream($graph, $config) YIELD nodeId, communityId "
        "RETURN gds.util.asNode(nodeId).npi AS npi, communityId AS community"
    ),
    "gds_leiden": (
        "CALL gds.leiden.stream($graph, $config) YIELD nodeId, communityId "
        "RETURN gds.util.asNode(nodeId).npi AS npi, communityId AS community"
    ),
    "gds_degree": (
        "CALL gds.degree.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    "gds_pagerank_personal": (
        "OPTIONAL MATCH (p:Physician) WHERE p.npi IN $sources WITH collect(p) AS src "
        "WITH $config AS c, src "
        "CALL gds.pageRank.stream($graph, c {.*, sourceNodes: src}) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    # intro_paths: a projection built only from parameter lists of integer node ids
    # (a layered copy of the tie graph, see Neo4jBackend._intro_paths).
    "gds_project_arcs": (
        "UNWIND range(0, size($s) - 1) AS i "
        "WITH gds.graph.project($graph, $s[i], $t[i], {relationshipProperties: {cost: $c[i]}}) "
        "AS g RETURN g.nodeCount AS nodes, g.relationshipCount AS rels"
    ),
    "gds_yens": (
        "CALL gds.shortestPath.yens.stream($graph, $config) YIELD index, totalCost, nodeIds "
        "RETURN index, totalCost, nodeIds ORDER BY index"
    ),
}


def _redact(uri: str) -> str:
    """A URI without any ``user:password@`` part."""
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return uri


def _to_neo4j(v: Any) -> Any:
    """Convert a pandas/numpy cell to a Neo4j property value (``None`` = absent)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, np.generic):
        v = v.item()
        if isinstance(v, float) and np.isnan(v):
            return None
    if isinstance(v, (str, int, float, bool)):
        return v
    if isinstance(v, (list, tuple)):
        return [_to_neo4j(x) for x in v]
    return str(v)


def _from_neo4j(v: Any) -> Any:
    if hasattr(v, "to_native"):
        return v.to_native()
    return v


def _column_values(s: pd.Series) -> list[Any]:
    """A column as Neo4j-ready Python values (``None`` for missing).

    Dates without a time of day are sent as ``datetime.date`` (Neo4j
    ``Date``), which the driver packs far faster than date-times.
    """
    missing = s.isna().to_numpy(dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        present = s[~missing]
        if (present == present.dt.normalize()).all():
            vals = np.asarray(s.dt.date, dtype=object)
        else:
            vals = np.asarray(s.dt.to_pydatetime(), dtype=object)
    elif s.dtype == object:
        vals = np.array([_to_neo4j(v) for v in s.tolist()], dtype=object)
    else:
        vals = np.asarray(s.astype(object), dtype=object)
        if pd.api.types.is_float_dtype(s.dtype):
            vals = np.array([float(v) for v in vals], dtype=object)
    out = vals.copy()
    out[missing] = None
    return out.tolist()


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as property maps; missing values are ``None`` (``SET n = map`` skips them)."""
    if len(df) == 0:
        return []
    names = [str(c) for c in df.columns]
    columns = [_column_values(df[c]) for c in df.columns]
    return [dict(zip(names, row)) for row in zip(*columns)]


def _joined(df: pd.DataFrame, sep: str, *, missing: str = "") -> list[str]:
    """Row-wise text join of all columns (vectorised; missing values as ``missing``)."""
    parts = [df[c].astype("string").fillna(missing) for c in df.columns]
    return parts[0].str.cat(parts[1:], sep=sep).tolist() if len(parts) > 1 else (parts[0].tolist())


def _row_ids(df: pd.DataFrame) -> list[str]:
    """Content hash of each row plus its occurrence number among identical rows.

    Gives events and touchpoints (which have no natural key) stable ids, so
    re-running a load MERGEs onto the same nodes instead of duplicating them.
    """
    if len(df) == 0:
        return []
    text = pd.Series(_joined(df, "\x1f", missing="\x00"), index=df.index)
    occ = text.groupby(text, sort=False).cumcount().astype(str)
    return [
        hashlib.sha1(f"{t}\x1e{o}".encode()).hexdigest()
        for t, o in zip(text.tolist(), occ.tolist())
    ]


class Neo4jBackend:
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
        Rows per ``UNWIND`` batch in writes.

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
    ) -> None:
        if batch_size < 1:
            raise ValidationError(f"batch_size: expected a positive integer, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.database = database or os.environ.get("NEO4J_DATABASE") or None
        self.progress = progress
        self._owns_driver = driver is None
        if driver is None:
            from neo4j import GraphDatabase

            uri = uri or os.environ.get("NEO4J_URI")
            if not uri:
                raise ValidationError(
                    "uri: no Neo4j URI given and NEO4J_URI is not set "
                    "(e.g. bolt://127.0.0.1:7687 or neo4j+s://<id>.databases.neo4j.io)"
                )
            if auth is None and os.environ.get("NEO4J_PASSWORD") is not None:
                auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"])
            try:
                driver = GraphDatabase.driver(uri, auth=auth)
            except Exception as exc:  # driver raises ValueError/ConfigurationError
                raise BackendError(
                    f"cannot create a Neo4j driver for {_redact(uri)}: {type(exc).__name__}"
                ) from None
            self._uri = _redact(uri)
        else:
            self._uri = "<driver>"
        self.driver: Driver = driver
        self._gds: str | bool | None = False  # False = not probed yet

    # ------------------------------------------------------------------ plumbing
    def __repr__(self) -> str:
        db = f", database={self.database!r}" if self.database else ""
        return f"Neo4jBackend({self._uri}{db})"

    def close(self) -> None:
        """Close the driver (if this backend created it)."""
        if self._owns_driver:
            self.driver.close()

    def __enter__(self) -> Neo4jBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
            raise BackendError(f"Neo4j write failed: {type(exc).__name__}: {exc}") from exc

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        return self._read_rows(query, lambda r: r.data(), params)

    def _read_values(self, query: str, **params: Any) -> list[list[Any]]:
        """Rows of a read query as value lists (cheaper to build than dicts)."""
        return self._read_rows(query, lambda r: r.values(), params)

    def _read_rows(self, query: str, row: Callable[[Any], Any], params: dict[str, Any]) -> Any:
        def work(tx: ManagedTransaction) -> list[Any]:
            return [row(r) for r in tx.run(query, **params)]

        try:
            with self._session() as s:
                return s.execute_read(work)
        except Exception as exc:
            raise BackendError(f"Neo4j read failed: {type(exc).__name__}: {exc}") from exc

    def _batches(self, rows: list[Any], what: str) -> Iterator[list[Any]]:
        from ...config import config

        show = config.progress if self.progress is None else self.progress
        starts = range(0, len(rows), self.batch_size)
        if show and len(rows) > 10 * self.batch_size:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"neo4j {what}", unit="batch")
        for i in starts:
            yield rows[i : i + self.batch_size]

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
    ) -> dict[str, int]:
        """Write (MERGE) every table of ``net``; safe to re-run.

        Nodes are written before relationships; each batch is one managed
        transaction. Running the same write twice, or again after an
        interruption, leaves exactly one copy of every row.

        Parameters
        ----------
        net
            The network to store.
        on_batch
            Called as ``on_batch(what, n_rows)`` after each committed batch.

        Returns
        -------
        dict
            Rows written per table.
        """
        self.setup_schema()
        written: dict[str, int] = {}
        for table in ("physicians", "practices", "events", "touchpoints"):
            df = net.tables[table]
            label, key = _LABELS[table]
            ids = df[key].astype(str).tolist() if key in df.columns else _row_ids(df)
            props = _records(df)
            rows = [{"id": i, "props": {**p, key: i}} for i, p in zip(ids, props)]
            for batch in self._batches(rows, table):
                self._write(_Q[label], rows=batch)
                if on_batch:
                    on_batch(table, len(batch))
            written[table] = len(rows)
            self._write_meta(table, df)
        phys = net.physicians
        links = phys.loc[phys["practice_id"].notna(), ["npi", "practice_id"]]
        link_rows = [
            {"npi": a, "practice_id": b}
            for a, b in zip(links["npi"].tolist(), links["practice_id"].tolist())
        ]
        for batch in self._batches(link_rows, "practices_at"):
            self._write(_Q["practices_at"], rows=batch)
        flows = net.flows
        keys = _joined(flows[list(_FLOW_KEY)], "|") if len(flows) else []
        props = _records(flows.drop(columns=["source_npi", "target_npi"]))
        frows = [
            {"s": s, "t": t, "key": k, "props": {**p, "key": k}}
            for s, t, k, p in zip(
                flows["source_npi"].tolist(), flows["target_npi"].tolist(), keys, props
            )
        ]
        for batch in self._batches(frows, "flows"):
            self._write(_Q["flows"], rows=batch)
            if on_batch:
                on_batch("flows", len(batch))
        written["flows"] = len(frows)
        self._write_meta("flows", flows)
        return written

    def _write_meta(self, table: str, df: pd.DataFrame) -> None:
        self._write(
            _Q["meta"],
            name=table,
            columns=[str(c) for c in df.columns],
            dtypes=[str(t) for t in df.dtypes],
        )

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
        """
        from ...network import ReferralNetwork

        ids: list[str] | None = None
        if specialty is not None or zips is not None or within_km is not None:
            spec = (
                [specialty]
                if isinstance(specialty, str)
                else (list(specialty) if specialty is not None else None)
            )
            if spec is not None:
                from ...specialties import normalize_specialty

                spec = [normalize_specialty(s) or s.strip().lower() for s in spec]
            lat = lon = meters = None
            if within_km is not None:
                lat, lon, km = (float(x) for x in within_km)
                if km < 0:
                    raise ValidationError(f"within_km: radius must be >= 0, got {km}")
                meters = km * 1000.0
            z = [str(x).zfill(5) for x in zips] if zips is not None else None
            ids = [
                r["npi"]
                for r in self._read(
                    _Q["select"], spec=spec, zips=z, lat=lat, lon=lon, meters=meters
                )
            ]
        if around is not None:
            if hops < 0:
                raise ValidationError(f"hops: expected >= 0, got {hops}")
            seen = set(map(str, around))
            frontier = list(seen)
            for _ in range(hops):
                if not frontier:
                    break
                nxt = {r["npi"] for r in self._read(_Q["neighbours"], ids=frontier)}
                frontier = list(nxt - seen)
                seen |= nxt
            ids = list(seen) if ids is None else [i for i in ids if i in seen]
        meta = {r["name"]: r for r in self._read(_Q["read_meta"])}
        tables: dict[str, pd.DataFrame] = {}
        for table in ("physicians", "practices", "events", "touchpoints"):
            label, key = _LABELS[table]
            recs = [
                {k: _from_neo4j(v) for k, v in r["p"].items()}
                for r in self._read(_Q[f"read_{label}"], ids=ids)
            ]
            df = pd.DataFrame(recs)
            if table in ("events", "touchpoints") and key in df.columns:
                df = df.drop(columns=key)
            tables[table] = self._restore(table, df, meta.get(table))
        fmeta = meta.get("flows")
        if fmeta is not None:
            # Known columns come back as lists (property names are parameters, never
            # Cypher text): much less to decode than one map per flow.
            keys = [c for c in fmeta["columns"] if c not in ("source_npi", "target_npi")]
            rows = self._read_values(_Q["read_flows_columns"], ids=ids, keys=keys)
            flows = (
                pd.DataFrame([r[2] for r in rows], columns=keys, dtype=object)
                if rows
                else pd.DataFrame(columns=keys)
            )
            flows.insert(0, "source_npi", [r[0] for r in rows])
            flows.insert(1, "target_npi", [r[1] for r in rows])
            for c in flows.columns[2:]:
                if any(hasattr(v, "to_native") for v in flows[c].head(50)):
                    flows[c] = [_from_neo4j(v) for v in flows[c]]
        else:
            recs = []
            for r in self._read(_Q["read_flows"], ids=ids):
                p = {k: _from_neo4j(v) for k, v in r["p"].items() if k != "key"}
                recs.append({"source_npi": r["source_npi"], "target_npi": r["target_npi"], **p})
            flows = pd.DataFrame(recs)
        tables["flows"] = self._restore("flows", flows, fmeta)
        if tables["practices"] is not None and ids is not None:
            keep = tables["physicians"]["practice_id"].dropna().unique()
            tables["practices"] = tables["practices"][tables["practices"]["practice_id"].isin(keep)]
        net = ReferralNetwork._from_valid_tables(tables, backend=self)
        if period is not None:
            sub = net.select(period=period)
            sub.backend = self
            return sub
        return net

    @staticmethod
    def _restore(table: str, df: pd.DataFrame, meta: dict[str, Any] | None) -> pd.DataFrame:
        """Give a table read from Neo4j its canonical columns, order and dtypes."""
        from ..._validate import validate_table

        cols = list(meta["columns"]) if meta else list(SCHEMAS[table].names)
        dtypes = dict(zip(meta["columns"], meta["dtypes"])) if meta else {}
        for c in cols:
            if c not in df.columns:
                df[c] = None
        extras = [c for c in df.columns if c not in cols]
        df = df[cols + extras]
        base = validate_table(df.iloc[:0], table).table if len(df) == 0 else None
        out = df.copy()
        for c in out.columns:
            want = dtypes.get(c)
            if want is None:
                continue
            try:
                if want.startswith("datetime64"):
                    out[c] = pd.to_datetime(out[c]).astype(want)
                elif want in ("str", "string"):
                    out[c] = out[c].astype(want)
                elif want == "object":
                    pass
                else:
                    out[c] = out[c].astype(want)
            except (TypeError, ValueError):
                logger.warning("column %s of %s could not be restored as %s", c, table, want)
        if base is not None and not meta:
            return base
        return out.reset_index(drop=True)

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
        if npis is not None:
            ids = [str(n) for n in npis]
            for batch in self._batches(ids, "delete"):
                self._write(_Q["delete_physicians"], ids=batch)
        if everything:
            while True:
                got = self._read_write_count()
                if got == 0:
                    break

    def _read_write_count(self) -> int:
        def work(tx: ManagedTransaction) -> int:
            rec = tx.run(_Q["delete_batch"], limit=self.batch_size).single()
            return int(rec["c"]) if rec else 0

        with self._session() as s:
            return s.execute_write(work)

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
        per referring pair with ``weight`` = summed flow column (``count`` by
        default) and ``cost = 1 / weight``; it is dropped in ``finally``.
        Results have the same shape as the in-memory functions:

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
        - ``intro_paths``: GDS Yen on a layered copy of the tie graph; returns
          the same :class:`~refgraph.paths.IntroPaths` as memory, or ``None``
          (compute in memory) when equal-cost paths make the order ambiguous.
          See :meth:`_intro_paths`.
        """
        if algorithm not in self._PUSHED:
            raise ValidationError(f"algorithm: {algorithm!r} is not pushed down to GDS")
        if algorithm == "intro_paths":
            return self._intro_paths(net, **options)
        if algorithm == "degree" and options.get("patients_per_physician") is not None:
            return None  # panel sizes live in memory
        if algorithm == "louvain" and float(options.get("resolution") or 1.0) != 1.0:
            return None  # GDS Louvain has no resolution parameter: compute in memory
        if (
            algorithm == "pagerank"
            and isinstance(options.get("personalization"), dict)
            and (len({float(v) for v in options["personalization"].values()}) > 1)
        ):
            return None  # GDS restarts uniformly on its source nodes
        ids = [str(x) for x in net.npis]
        weight = str(options.get("weight") or "count")
        undirected = ["*"] if algorithm in ("louvain", "leiden") else []
        graph = f"refgraph_{uuid.uuid4().hex}"
        try:
            self._write(
                _Q["gds_project"], ids=ids, weight=weight, graph=graph, undirected=undirected
            )
            return self._run_projected(algorithm, graph, ids, options, net.npis)
        finally:
            try:
                self._write(_Q["gds_drop"], graph=graph)
            except BackendError:
                logger.warning("could not drop GDS projection %s", graph)

    def _run_projected(
        self,
        algorithm: str,
        graph: str,
        ids: list[str],
        options: dict[str, Any],
        index: pd.Index,
    ) -> pd.DataFrame:
        n = len(ids)
        if algorithm == "pagerank":
            config: dict[str, Any] = {
                "relationshipWeightProperty": "weight",
                "dampingFactor": float(options.get("alpha", 0.85)),
                "maxIterations": int(options.get("max_iter", 1000)),
                "tolerance": float(options.get("tol", 1e-12)),
            }
            pers = options.get("personalization")
            if pers:
                sources = [str(x) for x in pers]
                rows = self._read(
                    _Q["gds_pagerank_personal"], graph=graph, config=config, sources=sources
                )
            else:
                rows = self._read(_Q["gds_pagerank"], graph=graph, config=config)
            df = pd.DataFrame(rows, columns=["npi", "score"]).set_index("npi")
            total = df["score"].sum()
            out = pd.DataFrame({"pagerank": df["score"] / total if total else df["score"]})
        elif algorithm == "betweenness":
            config = {}
            if options.get("weight") is not None:
                config["relationshipWeightProperty"] = "cost"
            if options.get("k") is not None:
                config["samplingSize"] = int(options["k"])
                if options.get("seed") is not None:
                    config["samplingSeed"] = int(options["seed"])
            rows = self._read(_Q["gds_betweenness"], graph=graph, config=config)
            df = pd.DataFrame(rows, columns=["npi", "score"]).set_index("npi")
            score = df["score"].astype(float)
            if options.get("k") is not None and n:
                score = score * (n / int(options["k"]))
            if options.get("normalized", True) and n > 2:
                score = score / ((n - 1) * (n - 2))
            out = pd.DataFrame({"betweenness": score})
        elif algorithm in ("louvain", "leiden"):
            config = {"relationshipWeightProperty": "weight"}
            if options.get("seed") is not None and algorithm == "leiden":
                config["randomSeed"] = int(options["seed"])
            if algorithm == "leiden" and options.get("resolution") is not None:
                config["gamma"] = float(options["resolution"])
            rows = self._read(_Q[f"gds_{algorithm}"], graph=graph, config=config)
            df = pd.DataFrame(rows, columns=["npi", "community"]).set_index("npi")
            sizes = df["community"].value_counts()
            order = {c: i for i, c in enumerate(sizes.index)}
            out = pd.DataFrame({"community": df["community"].map(order).astype("int64")})
        else:  # degree: GDS for the directed counts, Cypher for partners and patients
            cols = {}
            for name, orient, w in (
                ("in_degree", "REVERSE", None),
                ("out_degree", "NATURAL", None),
                ("in_strength", "REVERSE", "weight"),
                ("out_strength", "NATURAL", "weight"),
            ):
                config = {"orientation": orient}
                if w:
                    config["relationshipWeightProperty"] = w
                rows = self._read(_Q["gds_degree"], graph=graph, config=config)
                frame = pd.DataFrame(rows, columns=["npi", "score"]).set_index("npi")
                cols[name] = frame["score"].astype(float)
            und = pd.DataFrame(
                self._read(_Q["partners"], ids=ids), columns=["npi", "degree", "shared"]
            ).set_index("npi")
            out = pd.DataFrame(cols).reindex(pd.Index(ids, name="npi"))
            out.insert(2, "degree", und["degree"].reindex(out.index).fillna(0).astype(float))
            has_patients = bool(und["shared"].notna().any()) if len(und) else False
            shared = und["shared"].reindex(out.index).astype(float)
            if has_patients:
                shared = shared.fillna(0.0)
            out["shared_patients"] = shared
            denom = out["shared_patients"].where(out["shared_patients"] > 0)
            out["adjusted_degree"] = 100.0 * out["degree"] / denom
        out = out.reindex(pd.Index(ids))
        out.index = pd.Index(index, name="npi")
        return out

    # ------------------------------------------------------------------ intro paths
    #: Costs closer than this (relative, at least absolute) count as tied: the order
    #: of tied paths is the in-memory search's, so such queries are computed there.
    _TIE_TOL = 1e-9
    #: Largest Yen ``k`` tried (as a multiple of ``k + 1``) before computing in memory.
    _YEN_MAX_FACTOR = 64

    def _intro_paths(self, net: ReferralNetwork, **options: Any) -> Any:
        """``paths.intro_paths`` with the path enumeration in GDS Yen.

        Tie strengths, sources, exclusions and region are prepared in memory
        by the very helpers :func:`refgraph.paths.intro_paths` uses (same
        validation, same errors), and the result is built by the same code;
        only the search for the ``k`` cheapest paths runs on the server.

        Layered graph. Node ``(v, r)`` (id ``r * n + v``) is physician ``v``
        reached after ``r`` hops, ``0 <= r <= max_hops``. A virtual source
        ``S`` has an arc to ``(s, 0)`` for each usable source ``s`` with cost
        ``-log w(s)``; a relationship ``u - v`` allowed by the constraints
        (neither end forbidden, ``-log p <= -log min_strength``) gives arcs
        ``(u, r) -> (v, r + 1)`` unless ``v`` is a source (paths never pass
        through another of my people) or ``u`` is the target; every
        ``(target, r)`` has an arc of cost 0 to a virtual sink ``T``. The
        ``S -> T`` paths are then exactly the walks of at most ``max_hops``
        hops that the in-memory search admits, with the same cost; nodes that
        cannot be on such a walk (not reachable from ``S`` or not reaching
        ``T`` within the hop budget) are pruned. It is a DAG, so Yen's
        loopless paths are all its paths.

        Exactness. Yen returns the ``K`` cheapest ``S -> T`` paths; every path
        it did not return costs at least the dearest one it returned, ``L``
        (or there is none when fewer than ``K`` came back). Walks that revisit
        a physician are dropped (impossible for ``max_hops <= 3``: the
        intermediates are neither sources nor the target, and consecutive
        ones differ). Each remaining path's cost is recomputed in memory in
        the in-memory search's order of additions. If the ``k``-th cheapest
        costs less than ``L`` (minus a tolerance), no unreturned path can
        enter the top ``k``; otherwise ``K`` grows (x4) up to a limit, then
        the query is computed in memory. Paths whose costs are tied (within
        the tolerance) among the first ``k + 1`` are ordered by the in-memory
        search's internal push order, which cannot be reproduced here: such
        queries are declined (``None``) and computed in memory too.
        """
        from ... import paths as _paths

        k = _paths._check_int(options.get("k", 5), "k", 1)
        target: Any = options.get("target")
        prep: dict[str, Any] = {
            "sources": None,
            "home": None,
            "max_hops": 3,
            "exclude": (),
            "exclude_competitors_of": None,
            "region": None,
            "min_strength": 0.0,
            "weights": None,
            "half_life_days": 180.0,
            "as_of": None,
            "ties": None,
        }
        prep.update({key: v for key, v in options.items() if key in prep})
        q = _paths._prepare(net, target, **prep)
        arcs = _layered_arcs(q.tg, q.t, q.start.c0full, q.forbid, q.cap, q.hops)
        if arcs is None:
            raise _paths._no_path(net, target, q)
        s_ids, t_ids, costs, source, sink = arcs
        graph = f"refgraph_{uuid.uuid4().hex}"
        n = q.tg.n
        yen_k = k + 1 if q.hops <= 3 else 2 * (k + 1)
        try:
            self._write(_Q["gds_project_arcs"], graph=graph, s=s_ids, t=t_ids, c=costs)
            while True:
                rows = self._read_values(
                    _Q["gds_yens"],
                    graph=graph,
                    config={
                        "sourceNode": source,
                        "targetNode": sink,
                        "k": yen_k,
                        "relationshipWeightProperty": "cost",
                    },
                )
                seen: set[tuple[int, ...]] = set()
                found: list[tuple[float, tuple[int, ...]]] = []
                for _, _, ids in rows:
                    fwd = tuple(int(x) % n for x in ids[1:-1])
                    if len(set(fwd)) != len(fwd) or fwd in seen:
                        continue
                    seen.add(fwd)
                    rev = fwd[::-1]
                    found.append((_path_cost(q.tg, rev, q.start.c0full, q.hops), rev))
                found.sort(key=lambda x: x[0])
                exhausted = len(rows) < yen_k
                dearest = max((float(r[1]) for r in rows), default=math.inf)
                if exhausted:
                    break
                if len(found) >= k:
                    if not _apart(found[k - 1][0], dearest, self._TIE_TOL):
                        logger.info("intro_paths: tie at the k-th path; computing in memory")
                        return None
                    break
                if yen_k >= self._YEN_MAX_FACTOR * (k + 1):
                    logger.info("intro_paths: Yen k limit reached; computing in memory")
                    return None
                yen_k *= 4
        finally:
            try:
                self._write(_Q["gds_drop"], graph=graph)
            except BackendError:
                logger.warning("could not drop GDS projection %s", graph)
        head = found[: k + 1]
        for (c1, _), (c2, _) in itertools.pairwise(head):
            if not _apart(c1, c2, self._TIE_TOL):
                logger.info("intro_paths: equal-cost paths; computing in memory")
                return None
        if not found:
            raise _paths._no_path(net, target, q)
        return _paths._build_result(net, q.tg, str(target), found[:k], q.constraints)


def _apart(a: float, b: float, tol: float) -> bool:
    """Whether ``a`` is below ``b`` by more than ``tol`` (relative, at least absolute)."""
    return b - a > tol * max(1.0, abs(a), abs(b))


def _arc_cost(tg: Any, u: int, v: int) -> float:
    """``-log p`` of the relationship ``u - v``, as stored in the tie graph's row of ``u``."""
    lo, hi = int(tg.indptr[u]), int(tg.indptr[u + 1])
    j = lo + int(np.searchsorted(tg.indices[lo:hi], v))
    return float(tg.cost[j])


def _path_cost(tg: Any, rev: tuple[int, ...], c0full: np.ndarray, max_hops: int) -> float:
    """Cost of a target-first path, added up in the in-memory search's order.

    The backward search accumulates ``g`` from the target; the last hop adds
    ``(g + c) + c0`` except on a path of exactly ``max_hops`` hops, where it
    adds ``g + (c + c0)``. Same order, same floats.
    """
    g = 0.0
    for a, b in itertools.pairwise(rev[:-1]):
        g = g + _arc_cost(tg, a, b)
    c = _arc_cost(tg, rev[-2], rev[-1])
    c0 = float(c0full[rev[-1]])
    if len(rev) - 1 == max_hops:
        return g + (c + c0)
    return (g + c) + c0


def _layered_arcs(
    tg: Any, t: int, c0full: np.ndarray, forbid: np.ndarray, cap: float, hops: int
) -> tuple[list[int], list[int], list[float], int, int] | None:
    """Arcs of the layered graph of :meth:`Neo4jBackend._intro_paths` (``None``: no path).

    Returns source ids, target ids, costs, and the ids of ``S`` and ``T``.
    """
    n = tg.n
    is_src = np.isfinite(c0full) & ~forbid
    tails = np.repeat(np.arange(n, dtype=np.int64), np.diff(tg.indptr))
    heads = tg.indices
    ok = ~forbid[tails] & ~forbid[heads] & ~np.isfinite(c0full[heads]) & (tails != t)
    if cap < math.inf:
        ok &= tg.cost <= cap
    a_u, a_v, a_c = tails[ok], heads[ok], tg.cost[ok]
    # forward: F[r] = physicians reachable from S in exactly r hops
    reach = [is_src]
    for _ in range(hops):
        nxt = np.zeros(n, dtype=bool)
        nxt[a_v[reach[-1][a_u]]] = True
        reach.append(nxt)
    # backward: U[r] = physicians in F[r] that reach the target within hops - r more hops
    useful: list[np.ndarray] = [np.zeros(n, dtype=bool) for _ in range(hops + 1)]
    is_t = np.zeros(n, dtype=bool)
    is_t[t] = True
    useful[hops] = reach[hops] & is_t
    for r in range(hops - 1, -1, -1):
        u = np.zeros(n, dtype=bool)
        u[a_u[useful[r + 1][a_v]]] = True
        useful[r] = reach[r] & (u | (is_t if r > 0 else False))
    src_nodes = np.flatnonzero(useful[0])
    if not len(src_nodes):
        return None
    source, sink = (hops + 1) * n, (hops + 1) * n + 1
    s_parts = [np.full(len(src_nodes), source, dtype=np.int64)]
    t_parts = [src_nodes.astype(np.int64)]
    c_parts = [c0full[src_nodes].astype("float64")]
    for r in range(1, hops + 1):
        m = useful[r - 1][a_u] & useful[r][a_v]
        s_parts.append(a_u[m] + (r - 1) * n)
        t_parts.append(a_v[m] + r * n)
        c_parts.append(a_c[m])
        if useful[r][t]:
            s_parts.append(np.array([r * n + t], dtype=np.int64))
            t_parts.append(np.array([sink], dtype=np.int64))
            c_parts.append(np.zeros(1))
    return (
        np.concatenate(s_parts).tolist(),
        np.concatenate(t_parts).tolist(),
        np.concatenate(c_parts).tolist(),
        source,
        sink,
    )


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
