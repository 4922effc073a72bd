"""Reading from Neo4j: selecting physicians in Cypher, restoring the tables."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..._errors import ValidationError
from ...model import SCHEMAS
from ._connect import _Connection
from ._schema import _LABELS, _Q

if TYPE_CHECKING:
    from ...network import ReferralNetwork

logger = logging.getLogger("refgraph.backends.neo4j")


def _from_neo4j(v: Any) -> Any:
    if hasattr(v, "to_native"):
        return v.to_native()
    return v


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
    ) -> ReferralNetwork:
        """Body of :meth:`Neo4jBackend.read` (same parameters)."""
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
