"""Reading from Neo4j: selecting physicians in Cypher, restoring the tables."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._errors import BackendError, ValidationError
from ...model import SCHEMAS
from ._connect import _Connection
from ._schema import _LABELS, _Q, _page_columns, _page_statement

if TYPE_CHECKING:
    from ...network import ReferralNetwork

logger = logging.getLogger("refgraph.backends.neo4j")


#: The two NPI columns of flows and events.
_ENDS = ("source_npi", "target_npi")
#: Rows of a node table per page of a whole-store read (one record each).
_PAGE_NODES = 20_000
#: The NPIs of physicians given by internal id (targets created during a whole-store read).
_Q_NPI_BY_ID = "MATCH (b:Physician) WHERE id(b) IN $ids RETURN id(b) AS id, b.npi AS npi"
#: Source physicians per page of a whole-store flow read (their out-flows are one record).
_PAGE_SOURCES = 5_000


def _flow_page_statement(iso: tuple[bool, ...]) -> str:
    """The statement reading one page of the flows of a whole-store read.

    As :func:`~._schema._page_statement` for flows (``$after``, ``$page``,
    ``$keys``; ``n``, ``last``, ``npis``, ``s`` and ``cols``), but each flow's
    target comes as the internal id of its node (``t``) and the page gives the
    internal ids of its sources too (``ids``): every physician is the source
    of exactly one page, so the pages together map every target id to its
    NPI, and the server reads no property of the target (the NPI per flow was
    the largest part of its work after the dates). Ids are only compared
    within this read.

    Examples
    --------
    >>> q = _flow_page_statement((False, True))
    >>> "collect(id(b)) AS t" in q and "[x IN src | id(x)] AS ids" in q
    True
    """
    return (
        "MATCH (a:Physician) WHERE a.npi > $after WITH a ORDER BY a.npi LIMIT $page "
        "WITH collect(a) AS src "
        "CALL (src) { UNWIND range(0, size(src) - 1) AS j WITH src[j] AS a, j "
        "MATCH (a)-[f:REFERRED]->(b:Physician) "
        "RETURN collect(j) AS s, collect(id(b)) AS t, collect(f) AS fs } "
        "RETURN size(src) AS n, src[-1].npi AS last, [x IN src | x.npi] AS npis, "
        "[x IN src | id(x)] AS ids, s, t, "
        f"{_page_columns(iso, 'r', 'fs')} AS cols"
    )


def _from_neo4j(v: Any) -> Any:
    if hasattr(v, "to_native"):
        return v.to_native()
    return v


def _by(ids: list[str] | None) -> str:
    """The suffix of a read statement's variant for ``ids`` (``"@ids"``: index seeks)."""
    return "" if ids is None else "@ids"


def _iso_flags(keys: list[str], meta: dict[str, Any]) -> list[bool]:
    """Which of ``keys`` are tz-naive datetime columns (read back as ISO text)."""
    dtypes = dict(zip(meta["columns"], meta["dtypes"]))
    return [str(dtypes.get(k, "")).startswith("datetime64") and "," not in dtypes[k] for k in keys]


#: Stored dtypes whose values can never be Neo4j temporal objects.
_PLAIN = ("int", "uint", "float", "bool", "str", "string", "Int", "UInt", "Float", "boolean")


def _columns(rows: list[list[Any]], n_keys: int) -> list[Any]:
    """Value lists of rows turned into one sequence per column."""
    return list(zip(*rows)) if rows else [() for _ in range(n_keys)]


def _frame(
    cols: list[Any],
    keys: list[str],
    iso: list[bool] | None = None,
    meta: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """A frame of one value sequence per column of ``keys``.

    Neo4j temporal values become Python ones (looked for only in columns whose
    stored dtype in ``meta`` could hold them); the ``iso`` columns (ISO text from
    the store) are parsed by pandas in one pass.
    """
    dtypes = dict(zip(meta["columns"], meta["dtypes"])) if meta else {}
    n = len(cols[0]) if cols else 0
    data: dict[str, Any] = {}
    for j, k in enumerate(keys):
        col = np.empty(n, dtype=object)
        col[:] = cols[j]
        if iso is not None and iso[j]:
            try:
                data[k] = pd.to_datetime(pd.Series(col, dtype=object), format="ISO8601")
                continue
            except (TypeError, ValueError):
                pass  # not all dates after all: _restore tries (and logs) as before
        if str(dtypes.get(k, "object")).startswith(_PLAIN):
            data[k] = col
            continue
        if any(hasattr(v, "to_native") for v in col):
            col[:] = [_from_neo4j(v) for v in col]
        data[k] = col
    return pd.DataFrame(data, columns=keys)


class _ReadMixin(_Connection):
    """The reads of :class:`~refgraph.backends.neo4j.Neo4jBackend`."""

    def _read_network(
        self,
        *,
        specialty: str | Iterable[str] | None,
        zips: Iterable[str] | None,
        within_km: tuple[float, float, float] | None,
        around: Iterable[str] | None,
        hops: int,
        period: tuple[Any, Any] | None,
        flows: str = "both",
    ) -> ReferralNetwork:
        """Body of :meth:`Neo4jBackend.read` (same parameters)."""
        from ..._select import check_flows_mode, warn_no_flows
        from ...network import ReferralNetwork

        check_flows_mode(flows)
        ids = self._selected_ids(specialty, zips, within_km, around, hops)
        meta = {r["name"]: r for r in self._read(_Q["read_meta"])}
        tables: dict[str, pd.DataFrame] = {}
        tables["flows"] = self._read_flows(ids, flows, meta.get("flows"))
        tables["events"] = self._read_nodes("events", ids, meta.get("events"), flows)
        every = ids
        if ids is not None and flows != "both":
            ends = (tables["flows"], tables["events"])
            every = sorted(
                set(ids).union(*(set(df[c].dropna()) for df in ends for c in _ENDS if c in df))
            )
        for table in ("physicians", "touchpoints"):
            tables[table] = self._read_nodes(table, every, meta.get(table), flows)
        # the practices of the physicians read (each an index seek), or all of them
        pids = None
        if every is not None:
            pids = sorted({str(x) for x in tables["physicians"]["practice_id"].dropna()})
        tables["practices"] = self._read_nodes("practices", pids, meta.get("practices"), flows)
        if every is not None:
            keep = tables["physicians"]["practice_id"].dropna().unique()
            tables["practices"] = tables["practices"][tables["practices"]["practice_id"].isin(keep)]
        if ids is not None and not len(tables["flows"]):
            warn_no_flows(int(self._read(_Q["count_flows"])[0]["c"]), 0, len(ids))
        net = ReferralNetwork._from_valid_tables(tables, backend=self)
        if flows == "both":
            self._mark_induced(net)  # type: ignore[attr-defined]
        if period is not None:
            sub = net.select(period=period)
            sub.backend = self
            return sub
        return net

    def _selected_ids(
        self,
        specialty: str | Iterable[str] | None,
        zips: Iterable[str] | None,
        within_km: tuple[float, float, float] | None,
        around: Iterable[str] | None,
        hops: int,
    ) -> list[str] | None:
        """NPIs chosen by the filters (in Cypher), or ``None`` for everyone."""
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
        return ids

    def _read_nodes(
        self, table: str, ids: list[str] | None, meta: dict[str, Any] | None, flows: str
    ) -> pd.DataFrame:
        """One node table; value lists of the stored columns when they are known."""
        label, key = _LABELS[table]
        name = f"read_{label}_{flows}" if table == "events" else f"read_{label}"
        if meta is not None:
            keys = [str(c) for c in meta["columns"]]
            iso = _iso_flags(keys, meta)
            if ids is None:
                cols = self._read_pages(label, table, keys, iso)
            else:
                rows = self._read_values(
                    _Q[name + "_values@ids"], ids=ids, keys=keys, iso=iso, what=table
                )
                cols = _columns([r[0] for r in rows], len(keys))
            df = _frame(cols, keys, iso, meta)
            # an absent property is NaN, as when rows are built from property maps
            df = df.astype(object).where(df.notna(), np.nan)
        else:
            recs = [
                {k: _from_neo4j(v) for k, v in r["p"].items()}
                for r in self._read(_Q[name + _by(ids)], ids=ids)
            ]
            df = pd.DataFrame(recs)
            if table in ("events", "touchpoints") and key in df.columns:
                df = df.drop(columns=key)
        return self._restore(table, df, meta)

    def _read_flows(
        self, ids: list[str] | None, flows: str, meta: dict[str, Any] | None
    ) -> pd.DataFrame:
        """The flows table: both ends as NPIs, the other columns as value lists."""
        if meta is None:
            recs = []
            for r in self._read(_Q[f"read_flows_{flows}" + _by(ids)], ids=ids):
                p = {k: _from_neo4j(v) for k, v in r["p"].items() if k != "key"}
                recs.append({"source_npi": r["source_npi"], "target_npi": r["target_npi"], **p})
            return self._restore("flows", pd.DataFrame(recs), None)
        # Known columns come back as lists (property names are parameters, never
        # Cypher text): much less to decode than one map per flow.
        keys = [c for c in meta["columns"] if c not in _ENDS]
        iso = _iso_flags(keys, meta)
        if ids is None:
            src, dst, *cols = self._read_pages("flows", "flows", keys, iso)
        else:
            rows = self._read_values(
                _Q[f"read_flows_columns_{flows}@ids"], ids=ids, keys=keys, iso=iso, what="flows"
            )
            src, dst = [r[0] for r in rows], [r[1] for r in rows]
            cols = _columns([r[2] for r in rows], len(keys))
        df = _frame(cols, keys, iso, meta)
        df.insert(0, "source_npi", np.asarray(src, dtype=object))
        df.insert(1, "target_npi", np.asarray(dst, dtype=object))
        return self._restore("flows", df, meta)

    def _read_pages(self, label: str, what: str, keys: list[str], iso: list[bool]) -> list[Any]:
        """A whole table in pages keyed by an indexed property, in one read transaction.

        ``label``: a node label, or ``"flows"``. Each page is one record of
        lists, one per key (see :func:`~._schema._page_statement`); the
        lists of all pages are concatenated. For flows the result starts with
        the sources' and the targets' NPIs (object arrays), then the columns.
        A progress bar counts the rows (see :func:`refgraph._progress.progress_bar`).
        """
        from ..._progress import progress_bar

        flows = label == "flows"
        page = _PAGE_SOURCES if flows else _PAGE_NODES
        shape = tuple(bool(x) for x in iso)
        query = _flow_page_statement(shape) if flows else _page_statement(label, shape)
        count = _Q["count_flows" if flows else f"count_{label}"]

        def work(tx: Any) -> list[Any]:
            cols: list[list[Any]] = [[] for _ in keys]
            npis: list[str] = []
            ids: list[int] = []
            src: list[np.ndarray] = []
            dst: list[int] = []
            total = int(tx.run(count).single()["c"])
            after = ""
            with progress_bar(total, f"neo4j read {what}", unit=" rows", unit_scale=True) as bar:
                while True:
                    rec = tx.run(query, after=after, page=page, keys=keys).single()
                    for acc, part in zip(cols, rec["cols"]):
                        acc.extend(part)
                    if flows:  # sources as positions into all the pages' sources so far
                        src.append(np.asarray(rec["s"], dtype=np.int64) + len(npis))
                        npis.extend(rec["npis"])
                        ids.extend(rec["ids"])
                        dst.extend(rec["t"])
                        bar.update(len(rec["t"]))
                    else:
                        bar.update(rec["n"])
                    if rec["n"] < page:
                        break
                    after = rec["last"]
            if not flows:
                return cols
            at = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
            names = np.asarray(npis, dtype=object)
            return [names[at], self._targets(tx, names, ids, dst), *cols]

        if not self._show_progress():
            from ...config import config

            with config(progress=False):
                return self._in_read_tx(work)
        return self._in_read_tx(work)

    @staticmethod
    def _targets(tx: Any, npis: np.ndarray, ids: list[int], targets: list[int]) -> np.ndarray:
        """The NPIs of the flow targets ``targets`` (internal ids) from the pages' ``ids``/``npis``.

        A target that is no page's source (a physician created by someone
        else during the read) is looked up by its id.
        """
        node = np.asarray(ids, dtype=np.int64)
        want = np.asarray(targets, dtype=np.int64)
        order = np.argsort(node, kind="stable")
        pos = np.searchsorted(node[order], want).clip(0, max(len(node) - 1, 0))
        found = node[order][pos] == want if len(node) else np.zeros(len(want), dtype=bool)
        out = np.empty(len(want), dtype=object)
        out[found] = npis[order][pos[found]]
        if not found.all():
            late = sorted({int(x) for x in want[~found]})
            rows = tx.run(_Q_NPI_BY_ID, ids=late).values()
            by_id = {int(i): npi for i, npi in rows}
            out[~found] = [by_id.get(int(x)) for x in want[~found]]
        return out

    def _in_read_tx(self, work: Any) -> Any:
        """Run ``work(tx)`` in one managed read transaction; driver errors as BackendError."""
        from ._connect import _why

        try:
            with self._session() as s:
                return s.execute_read(work)
        except Exception as exc:
            raise BackendError(f"Neo4j read from {self._uri} failed: {_why(exc)}") from exc

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
