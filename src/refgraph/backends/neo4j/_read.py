"""Reading from Neo4j: selecting physicians in Cypher, restoring the tables."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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


@dataclass
class _Part:
    """What one key range of a whole-store read gave: column lists, and for flows the ends."""

    cols: list[list[Any]]
    npis: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)
    src: list[np.ndarray] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)


def _joined(lists: Iterable[list[Any]]) -> list[Any]:
    """One list of the items of ``lists``, in order."""
    out: list[Any] = []
    for x in lists:
        out.extend(x)
    return out


def _range_statement(label: str, iso: tuple[bool, ...], bounded: bool) -> str:
    """The page statement of ``label`` (or ``"flows"``), with ``key <= $upto`` when ``bounded``.

    Examples
    --------
    >>> print(_range_statement("Practice", (False,), True).split(" WITH")[0])
    MATCH (n:Practice) WHERE n.practice_id > $after AND n.practice_id <= $upto
    >>> "$upto" in _range_statement("flows", (False,), False)
    False
    """
    flows = label == "flows"
    query = _flow_page_statement(iso) if flows else _page_statement(label, iso)
    if not bounded:
        return query
    var, key = ("a", "npi") if flows else ("n", dict(_LABELS.values())[label])
    where = f"WHERE {var}.{key} > $after "
    return query.replace(where, f"{where}AND {var}.{key} <= $upto ")


def _cuts(tx: Any, label: str, nodes: int, streams: int, page: int) -> list[str]:
    """Keys cutting the ``nodes`` nodes of ``label`` into ``streams`` ranges ``(lo, hi]``.

    Each cut is the key at a multiple of ``nodes / streams`` in key order (an
    index-ordered skip); tables of at most one page are not cut.
    """
    if streams <= 1 or nodes <= page:
        return []
    key = dict(_LABELS.values())[label]
    query = (
        f"MATCH (n:{label}) WHERE n.{key} > '' RETURN n.{key} AS k ORDER BY k SKIP $skip LIMIT 1"
    )
    cuts: list[str] = []
    for k in range(1, streams):
        rec = tx.run(query, skip=nodes * k // streams - 1).single()
        if rec is not None and rec["k"] is not None and (not cuts or rec["k"] > cuts[-1]):
            cuts.append(rec["k"])
    return cuts


def _read_range(
    tx: Any,
    query: str,
    lo: str,
    hi: str | None,
    page: int,
    keys: list[str],
    flows: bool,
    count_rows: Callable[[int], None],
) -> _Part:
    """The pages of ``query`` from key ``lo`` (exclusive) to ``hi`` (inclusive; None: the end)."""
    part = _Part([[] for _ in keys])
    after = lo
    while True:
        rec = tx.run(query, after=after, upto=hi, page=page, keys=keys).single()
        for acc, got in zip(part.cols, rec["cols"]):
            acc.extend(got)
        if flows:  # sources as positions into this range's sources so far
            part.src.append(np.asarray(rec["s"], dtype=np.int64) + len(part.npis))
            part.npis.extend(rec["npis"])
            part.ids.extend(rec["ids"])
            part.dst.extend(rec["t"])
            count_rows(len(rec["t"]))
        else:
            count_rows(rec["n"])
        if rec["n"] < page:
            return part
        after = rec["last"]


def _target_positions(
    tx: Any, npis: np.ndarray, ids: list[int], targets: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """``(names, positions)``: each of ``targets`` (internal ids) as a position in ``names``.

    ``names`` is ``npis`` (the NPIs of the nodes ``ids``, the pages' sources)
    followed by the NPIs of the targets that are no page's source (created by
    someone else during the read), looked up by id in ``tx``; a target gone
    since has the NPI ``None``.
    """
    node = np.asarray(ids, dtype=np.int64)
    want = np.asarray(targets, dtype=np.int64)
    order = np.argsort(node, kind="stable")
    pos = np.searchsorted(node[order], want).clip(0, max(len(node) - 1, 0))
    found = node[order][pos] == want if len(node) else np.zeros(len(want), dtype=bool)
    out = np.empty(len(want), dtype=np.int64)
    out[found] = order[pos[found]]
    if found.all():
        return npis, out
    late = np.unique(want[~found])
    by_id = {int(i): npi for i, npi in tx.run(_Q_NPI_BY_ID, ids=late.tolist()).values()}
    out[~found] = len(npis) + np.searchsorted(late, want[~found])
    extra = np.asarray([by_id.get(int(x)) for x in late], dtype=object)
    return np.concatenate([np.asarray(npis, dtype=object), extra]), out


def _npi_column(names: np.ndarray, at: np.ndarray, want: str | None) -> Any:
    """``names[at]`` as an array of the stored dtype ``want`` (converted once per name)."""
    col = pd.Series(names, dtype=object)
    if want is not None and want != "object":
        try:
            col = col.astype(want)
        except (TypeError, ValueError):
            pass  # _restore tries (and logs) as before
    return col.array.take(at)


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
            try:  # each distinct text parsed once (dates repeat: periods, event days)
                codes, uniq = pd.factorize(col, use_na_sentinel=True)
                days = pd.DatetimeIndex(pd.to_datetime(pd.Series(uniq), format="ISO8601"))
                data[k] = days.take(codes, allow_fill=True, fill_value=pd.NaT)
                continue
            except (TypeError, ValueError):
                pass  # not all dates after all: _restore tries (and logs) as before
        if str(dtypes.get(k, "object")).startswith(_PLAIN):
            data[k] = col
            continue
        try:  # Neo4j temporal values are looked for among the distinct values
            seen = pd.unique(col)
        except TypeError:  # unhashable cells (lists)
            seen = col
        if any(hasattr(v, "to_native") for v in seen):
            col[:] = [_from_neo4j(v) for v in col]
        data[k] = col
    return pd.DataFrame(data, columns=keys)


class _ReadMixin(_Connection):
    """The reads of :class:`~refgraph.backends.neo4j.Neo4jBackend`."""

    read_streams: int = 2

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
            names, at, to, *cols = self._read_pages("flows", "flows", keys, iso)
            want = dict(zip(meta["columns"], meta["dtypes"])).get("source_npi")
            src, dst = _npi_column(names, at, want), _npi_column(names, to, want)
        else:
            rows = self._read_values(
                _Q[f"read_flows_columns_{flows}@ids"], ids=ids, keys=keys, iso=iso, what="flows"
            )
            src, dst = [r[0] for r in rows], [r[1] for r in rows]
            cols = _columns([r[2] for r in rows], len(keys))
        df = _frame(cols, keys, iso, meta)
        if ids is not None:
            src, dst = np.asarray(src, dtype=object), np.asarray(dst, dtype=object)
        df.insert(0, "source_npi", src)
        df.insert(1, "target_npi", dst)
        return self._restore("flows", df, meta)

    def _read_pages(self, label: str, what: str, keys: list[str], iso: list[bool]) -> list[Any]:
        """A whole table in pages keyed by an indexed property, over ``read_streams`` key ranges.

        ``label``: a node label, or ``"flows"``. Each page is one record of
        lists, one per key (see :func:`~._schema._page_statement`); the
        lists of all pages are concatenated. For flows the result starts with
        the NPIs of the ends and the sources' and the targets' positions in
        them (see :func:`_target_positions`), then the columns.
        The keys are cut into ``self.read_streams`` ranges of about as many
        nodes each (flows: of source physicians), each read by its own thread
        in its own read transaction; the ranges are joined in key order, so the
        rows come in the same order as from one stream. A progress bar counts
        the rows (see :func:`refgraph._progress.progress_bar`).
        """
        from ..._progress import progress_bar

        flows = label == "flows"
        node = "Physician" if flows else label
        page = _PAGE_SOURCES if flows else _PAGE_NODES
        shape = tuple(bool(x) for x in iso)
        count = _Q["count_flows" if flows else f"count_{label}"]

        def plan(tx: Any) -> tuple[int, list[str]]:
            total = int(tx.run(count).single()["c"])
            nodes = total if not flows else int(tx.run(_Q[f"count_{node}"]).single()["c"])
            return total, _cuts(tx, node, nodes, self.read_streams, page)

        def run() -> list[_Part]:
            total, cuts = self._in_read_tx(plan)
            ranges = list(zip(["", *cuts], [*cuts, None]))
            with progress_bar(total, f"neo4j read {what}", unit=" rows", unit_scale=True) as bar:
                lock = threading.Lock()

                def count_rows(n: int) -> None:
                    with lock:
                        bar.update(n)

                def stream(lo: str, hi: str | None) -> _Part:
                    query = _range_statement(label, shape, hi is not None)
                    return self._in_read_tx(
                        lambda tx: _read_range(tx, query, lo, hi, page, keys, flows, count_rows)
                    )

                if len(ranges) == 1:
                    return [stream(*ranges[0])]
                from concurrent.futures import ThreadPoolExecutor

                with ThreadPoolExecutor(len(ranges)) as pool:
                    return list(pool.map(lambda r: stream(*r), ranges))

        if self._show_progress():
            parts = run()
        else:
            from ...config import config

            with config(progress=False):
                parts = run()
        cols = (
            parts[0].cols
            if len(parts) == 1
            else [_joined(p.cols[j] for p in parts) for j in range(len(keys))]
        )
        if not flows:
            return cols
        npis: list[str] = []
        ids: list[int] = []
        dst: list[int] = []
        src: list[np.ndarray] = []
        for part in parts:  # sources as positions into all the ranges' sources
            src += [s + len(npis) for s in part.src]
            npis += part.npis
            ids += part.ids
            dst += part.dst
        at = np.concatenate(src) if src else np.zeros(0, dtype=np.int64)
        names = np.asarray(npis, dtype=object)
        names, to = self._in_read_tx(lambda tx: _target_positions(tx, names, ids, dst))
        return [names, at, to, *cols]

    @staticmethod
    def _targets(tx: Any, npis: np.ndarray, ids: list[int], targets: list[int]) -> np.ndarray:
        """The NPIs of the flow targets ``targets`` (internal ids) from the pages' ``ids``/``npis``.

        A target that is no page's source (a physician created by someone
        else during the read) is looked up by its id.
        """
        names, pos = _target_positions(tx, npis, ids, targets)
        return names[pos]

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
