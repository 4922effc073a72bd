"""Writing to Neo4j: property values, stable row ids, batched MERGEs and deletes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._connect import _Connection
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


class _WriteMixin(_Connection):
    """The writes of :class:`~refgraph.backends.neo4j.Neo4jBackend`."""

    def _write_tables(
        self,
        net: ReferralNetwork,
        on_batch: Callable[[str, int], None] | None,
        create: bool = False,
    ) -> dict[str, int]:
        """Body of :meth:`Neo4jBackend.write` after :meth:`Neo4jBackend.setup_schema`.

        ``create``: the store is empty, so CREATE instead of MERGE.
        """
        pre = "create_" if create else ""
        written: dict[str, int] = {}
        for table in ("physicians", "practices", "events", "touchpoints"):
            df = net.tables[table]
            label, key = _LABELS[table]
            ids = df[key].astype(str).tolist() if key in df.columns else _row_ids(df)
            props = _records(df)
            rows = [{"id": i, "props": {**p, key: i}} for i, p in zip(ids, props)]
            for batch in self._batches(rows, table):
                self._write(_Q[pre + label], rows=batch)
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
            self._write(_Q[pre + "practices_at"], rows=batch)
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
            self._write(_Q[pre + "flows"], rows=batch)
            if on_batch:
                on_batch("flows", len(batch))
        written["flows"] = len(frows)
        self._write_meta("flows", flows)
        return written

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
