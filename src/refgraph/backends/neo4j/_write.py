"""Writing to Neo4j: property values as column lists, stable row ids, batched writes and deletes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._errors import BackendError
from ._connect import _Connection, _why
from ._schema import _FLOW_KEY, _LABELS, _Q

if TYPE_CHECKING:
    from neo4j import ManagedTransaction

    from ...network import ReferralNetwork


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


#: A text or date column is sent as codes into its distinct values when it has at most
#: this many of them (and at most half as many as rows): the driver then packs each
#: distinct value once per batch instead of once per row (dates are costly to pack).
_MAX_CODES = 4096


def _columns(df: pd.DataFrame, skip: str | None = None) -> dict[str, Any]:
    """The columns of ``df`` (but ``skip``) as write parameters: names and value lists.

    Returns ``names``, ``coded`` (per column: sent as codes), ``uniq`` (the
    distinct values of a coded column, else empty) and ``cols`` (per column
    its values, or its codes with ``None`` for missing); the Cypher
    ``SET x[$names[j]] = CASE WHEN $coded[j] THEN $uniq[j][$cols[j][i]] ELSE
    $cols[j][i] END`` sets row ``i``'s properties (missing ones stay absent)
    without any column name in the statement text.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"k": ["a", "b", "a", None], "n": [1, 2, 3, 4]})
    >>> p = _columns(df)
    >>> p["names"], p["coded"], p["uniq"], p["cols"]
    (['k', 'n'], [True, False], [['a', 'b'], []], [[0, 1, 0, None], [1, 2, 3, 4]])
    """
    out: dict[str, Any] = {"names": [], "coded": [], "uniq": [], "cols": []}
    for c in df.columns:
        if str(c) == skip:
            continue
        s = df[c]
        codes = _codes(s)
        out["names"].append(str(c))
        out["coded"].append(codes is not None)
        if codes is None:
            out["uniq"].append([])
            out["cols"].append(_column_values(s))
        else:
            out["uniq"].append(codes[1])
            out["cols"].append(codes[0])
    return out


def _codes(s: pd.Series) -> tuple[list[Any], list[Any]] | None:
    """``(codes, distinct values)`` of a text or date column with few distinct values, else None."""
    kind = s.dtype
    if pd.api.types.is_object_dtype(kind):  # all-text ones only (factorize equates 1 and True)
        if pd.api.types.infer_dtype(s, skipna=True) != "string":
            return None
    elif not (
        isinstance(kind, (pd.StringDtype, pd.CategoricalDtype))
        or pd.api.types.is_datetime64_any_dtype(kind)
    ):
        return None
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists): sent as they are
        return None
    if len(uniques) > _MAX_CODES or 2 * len(uniques) > len(s):
        return None
    # the same conversion as an uncoded column (dates stay dates when all are midnights)
    values = _column_values(pd.Series(uniques).astype(s.dtype)) if len(uniques) else []
    out = codes.astype(object)
    out[codes < 0] = None
    return out.tolist(), values


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


#: Property names that CREATE statements may name in their text: the model's own columns
#: (a fixed whitelist, see :data:`refgraph.model.SCHEMAS`); any other column is set
#: through a dynamic key named by a parameter.
_NAMED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _create_statement(name: str, names: list[str], coded: list[bool], table: str) -> str:
    """The CREATE statement ``_Q[name]`` (an empty store) setting the columns ``names``.

    Columns of the model's schema for ``table`` go into the CREATE's own
    property map by name (``key: $ids[i], `count`: $cols[0][i], ...``; a
    coded column as ``$uniq[j][$cols[j][i]]``, and a null value sets no
    property); any other column is one ``SET x[$names[j]] = ...`` item, so
    only whitelisted names are ever statement text. Named properties cost the
    server about a fifth less per relationship than a dynamic ``SET`` for each
    (``benchmarks/results/neo4j.md``).

    Examples
    --------
    >>> q = _create_statement("create_flows", ["count", "extra"], [False, True], "flows")
    >>> print(q.split("CREATE ")[1].replace(" SET", "\\nSET"))
    (a)-[f:REFERRED {key: $ids[i], `count`: $cols[0][i]}]->(b)
    SET f[$names[1]] = $uniq[1][$cols[1][i]]
    """
    from ...model import SCHEMAS

    allowed = set(SCHEMAS[table].names) if table in SCHEMAS else set()
    var = "f" if name == "create_flows" else "n"
    named, dynamic = [], []
    for j, (col, c) in enumerate(zip(names, coded)):
        value = f"$uniq[{j}][$cols[{j}][i]]" if c else f"$cols[{j}][i]"
        if col in allowed and _NAMED.fullmatch(col):
            named.append(f", `{col}`: {value}")
        else:
            dynamic.append(f"{var}[$names[{j}]] = {value}")
    head, tail = str(_Q[name]).split("CREATE ", 1)
    tail = tail.replace("$ids[i]}", "$ids[i]" + "".join(named) + "}", 1)
    return f"{head}CREATE {tail}".replace(
        "<props>", "SET " + ", ".join(dynamic) + " " if dynamic else ""
    )


class _WriteMixin(_Connection):
    """The writes of :class:`~refgraph.backends.neo4j.Neo4jBackend`."""

    write_workers: int = 1

    def _write_tables(
        self,
        net: ReferralNetwork,
        on_batch: Callable[[str, int], None] | None,
        create: bool = False,
    ) -> dict[str, int]:
        """Body of :meth:`Neo4jBackend.write` after :meth:`Neo4jBackend.setup_schema`.

        Every batch sends column lists (see :func:`_columns`), not one map per
        row. ``create``: the store is empty, so nodes are CREATEd and return
        their internal ids, and the relationships find their ends by those ids
        (a direct record look-up) instead of by key through the index; else
        everything is MERGEd on its key.
        """
        written: dict[str, int] = {}
        node_ids: dict[str, pd.Series] = {}
        for table in ("physicians", "practices", "events", "touchpoints"):
            df = net.tables[table]
            label, key = _LABELS[table]
            ids = df[key].astype(str).tolist() if key in df.columns else _row_ids(df)
            got = self._write_rows(
                ("create_" if create else "") + label,
                table,
                {"ids": ids},
                _columns(df, skip=key),
                on_batch,
                collect=create,
            )
            if create and table in ("physicians", "practices"):
                node_ids[table] = pd.Series(got, index=ids, dtype="int64")
            written[table] = len(ids)
            self._write_meta(table, df)
        phys = net.physicians
        links = phys.loc[phys["practice_id"].notna(), ["npi", "practice_id"]].astype(str)
        if create:  # a practice_id without a practices row links to nothing (as MATCH finds none)
            links = links[links["practice_id"].isin(node_ids["practices"].index)]
        ends = {"s": links["npi"], "t": links["practice_id"]}
        ends = self._ends(ends, node_ids, "physicians", "practices", create)
        self._write_rows(
            ("create_" if create else "") + "practices_at", "practices_at", ends, None, None
        )
        flows = net.flows
        ends = {"s": flows["source_npi"].astype(str), "t": flows["target_npi"].astype(str)}
        ends = self._ends(ends, node_ids, "physicians", "physicians", create)
        if create and len(flows) > 1:
            # in the order of their start nodes: a batch then touches each start node's
            # records once, and the server needs about a fifth less CPU than for the
            # same flows in random order (benchmarks/results/neo4j.md)
            start = np.asarray(ends["s"], dtype=np.int64)
            if (np.diff(start) < 0).any():
                order = np.argsort(start, kind="stable")
                ends = {k: np.asarray(v)[order].tolist() for k, v in ends.items()}
                flows = flows.iloc[order]
        ends["ids"] = _joined(flows[list(_FLOW_KEY)], "|") if len(flows) else []
        rest = flows.drop(columns=["source_npi", "target_npi"])
        self._write_rows(
            ("create_" if create else "") + "flows", "flows", ends, _columns(rest), on_batch
        )
        written["flows"] = len(flows)
        self._write_meta("flows", flows)
        return written

    @staticmethod
    def _ends(
        ends: dict[str, pd.Series],
        node_ids: dict[str, pd.Series],
        src: str,
        dst: str,
        create: bool,
    ) -> dict[str, list[Any]]:
        """The end keys of relationships as lists; with ``create``, the nodes' internal ids."""
        if not create:
            return {k: v.tolist() for k, v in ends.items()}
        out = {}
        for k, table in (("s", src), ("t", dst)):
            mapped = ends[k].map(node_ids[table])
            if mapped.isna().any():  # cannot happen: every end is a node written just now
                bad = ends[k][mapped.isna()].iloc[0]
                raise BackendError(f"{table}: {bad!r} was not written before its relationships")
            out[k] = mapped.astype("int64").tolist()
        return out

    def _write_rows(
        self,
        query: str,
        what: str,
        rows: dict[str, list[Any]],
        props: dict[str, Any] | None,
        on_batch: Callable[[str, int], None] | None,
        *,
        collect: bool = False,
    ) -> list[int]:
        """Run ``_Q[query]`` on batches of the row lists ``rows`` (with the column lists ``props``).

        ``collect``: the statement returns ``i`` and ``id`` lists (the row
        numbers in the batch and the internal ids of the nodes made); then the
        ids in row order are returned.
        """
        n = len(next(iter(rows.values()))) if rows else 0
        if n == 0:
            return []
        out: list[int] = []
        statement = str(_Q[query])
        if query.startswith("create_"):  # columns by name where whitelisted (_create_statement)
            statement = _create_statement(
                query, props["names"] if props else [], props["coded"] if props else [], what
            )

        def params(lo: int) -> dict[str, Any]:
            hi = lo + self.batch_size
            got: dict[str, Any] = {k: v[lo:hi] for k, v in rows.items()}
            if props is not None:
                got.update(
                    names=props["names"],
                    coded=props["coded"],
                    uniq=props["uniq"],
                    cols=[c[lo:hi] for c in props["cols"]],
                )
            return got

        workers = self.write_workers if query.startswith("create_") and not collect else 1
        if workers > 1:  # relationships into an empty store: `workers` batches at a time
            self._write_concurrently(statement, what, n, params, on_batch, workers)
            return out
        for lo in self._starts(n, what):
            if collect:
                rec = self._write_single(statement, **params(lo))
                got = [0] * len(rec["i"])
                for i, x in zip(rec["i"], rec["id"]):
                    got[i] = int(x)
                out += got
            else:
                self._write(statement, **params(lo))
            if on_batch:
                on_batch(what, min(lo + self.batch_size, n) - lo)
        return out

    def _write_concurrently(
        self,
        query: str,
        what: str,
        n: int,
        params: Callable[[int], dict[str, Any]],
        on_batch: Callable[[str, int], None] | None,
        workers: int,
    ) -> None:
        """Run the batches of statement ``query`` ``workers`` at a time, each its own transaction.

        Each round waits for all its batches (so a failure leaves whole
        batches, resumable by a re-run) and then reports them to ``on_batch``
        in order; a transient error such as a deadlock between two batches
        is retried by the driver.
        """
        from concurrent.futures import ThreadPoolExecutor

        starts = list(self._starts(n, what))
        with ThreadPoolExecutor(workers) as pool:
            for r in range(0, len(starts), workers):
                round_ = starts[r : r + workers]
                futures = [pool.submit(self._write, query, **params(lo)) for lo in round_]
                for f in futures:
                    f.result()
                if on_batch:
                    for lo in round_:
                        on_batch(what, min(lo + self.batch_size, n) - lo)

    def _starts(self, n: int, what: str) -> Iterable[int]:
        """Batch starts ``0, batch_size, ...`` below ``n``, with a progress bar when long."""
        starts: Iterable[int] = range(0, n, self.batch_size)
        if self._show_progress() and n > 10 * self.batch_size:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"neo4j {what}", unit="batch")
        return starts

    def _write_single(self, query: str, **params: Any) -> dict[str, Any]:
        """Run a write statement in one managed transaction; its single record as a dict."""

        def work(tx: ManagedTransaction) -> dict[str, Any]:
            rec = tx.run(query, **params).single(strict=True)
            return dict(rec.items())

        try:
            with self._session() as s:
                return dict(s.execute_write(work))
        except Exception as exc:
            raise BackendError(f"Neo4j write to {self._uri} failed: {_why(exc)}") from exc

    def _store_is_empty(self) -> bool:
        """Whether the store holds no refgraph node (then a write may CREATE)."""
        return bool(self._read(_Q["is_empty"])[0]["empty"])

    def _write_meta(self, table: str, df: pd.DataFrame) -> None:
        self._write(
            _Q["meta"],
            name=table,
            columns=[str(c) for c in df.columns],
            dtypes=[str(t) for t in df.dtypes],
        )

    def _read_write_count(self) -> int:
        def work(tx: ManagedTransaction) -> int:
            rec = tx.run(_Q["delete_batch"], limit=self.batch_size).single()
            return int(rec["c"]) if rec else 0

        with self._session() as s:
            return s.execute_write(work)
