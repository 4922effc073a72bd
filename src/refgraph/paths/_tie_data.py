"""Inputs of the tie table: dates, logged and touchpoint ties, colleague pairs, NPI -> node ids.

Private helpers of :mod:`refgraph.paths._ties` (and of :func:`fit_tie_strength` in
:mod:`refgraph.paths._fit`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError

logger = logging.getLogger(__name__)

_NPI_IN_TEXT = re.compile(r"(?<!\d)(\d{10})(?!\d)")


def _dates(col: pd.Series) -> np.ndarray:
    """A date column as datetime64[ns] (NaT for missing)."""
    return np.asarray(pd.to_datetime(col, errors="coerce").to_numpy(dtype="datetime64[ns]"))


def _as_of(net: Any, as_of: Any) -> pd.Timestamp | None:
    if as_of is not None:
        try:
            return pd.Timestamp(as_of)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"as_of: expected a date, got {as_of!r}") from exc
    cands = []
    for col in (net.flows["period_end"], net.events["date"], net.touchpoints["date"]):
        if len(col) and col.notna().any():
            cands.append(pd.Timestamp(pd.to_datetime(col).max()))
    return max(cands) if cands else None


def _read_ties(ties: pd.DataFrame, idx: pd.Index) -> tuple[np.ndarray, np.ndarray, list[str]]:
    cols = list(ties.columns)
    if {"npi_a", "npi_b"} <= set(cols):
        ca, cb = "npi_a", "npi_b"
    elif {"source_npi", "target_npi"} <= set(cols):
        ca, cb = "source_npi", "target_npi"
    else:
        raise ValidationError(
            f"ties: expected columns npi_a, npi_b (or source_npi, target_npi), got {cols}"
        )
    a = idx.get_indexer(ties[ca].astype("string"))
    b = idx.get_indexer(ties[cb].astype("string"))
    kind = ties["kind"].astype(str).tolist() if "kind" in cols else ["knows"] * len(ties)
    ok = (a >= 0) & (b >= 0) & (a != b)
    if (~ok).any():
        logger.warning(
            "ties: %d row(s) name unknown physicians or a self-tie; ignored", (~ok).sum()
        )
    return a[ok], b[ok], [k for k, o in zip(kind, ok) if o]


def _touchpoint_ties(net: Any, idx: pd.Index) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Touchpoints whose notes name another physician's NPI ("introduced by 1234567893")."""
    tp = net.touchpoints
    if not len(tp) or tp["notes"].isna().all():
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    notes = tp["notes"].astype("string").fillna("")
    found = notes.str.findall(_NPI_IN_TEXT.pattern)
    rows = [(i, m) for i, ms in enumerate(found.tolist()) for m in ms]
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    who = idx.get_indexer(tp["npi"].astype("string").to_numpy()[[r[0] for r in rows]])
    other = idx.get_indexer(pd.Index([r[1] for r in rows]))
    kinds = tp["kind"].astype(str).to_numpy()[[r[0] for r in rows]]
    ok = (who >= 0) & (other >= 0) & (who != other)
    return who[ok], other[ok], [f"touchpoint: {k}" for k in kinds[ok]]


def _colleague_pairs(net: Any, max_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of physicians sharing a practice of at most ``max_size`` physicians."""
    if max_size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    prac = net.physicians["practice_id"]
    has = prac.notna().to_numpy(bool)
    codes, _ = pd.factorize(prac)
    ids = np.flatnonzero(has)
    g = codes[ids]
    sizes = np.bincount(g) if len(g) else np.zeros(0, np.int64)
    keep = sizes[g] <= max_size
    ids, g = ids[keep], g[keep]
    order = np.argsort(g, kind="stable")
    ids, g = ids[order], g[order]
    a_parts, b_parts = [], []
    for off in range(1, max_size):
        if off >= len(g):
            break
        same = g[:-off] == g[off:]
        a_parts.append(ids[:-off][same])
        b_parts.append(ids[off:][same])
    if not a_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(a_parts), np.concatenate(b_parts)


def _node_context(net: Any) -> tuple[np.ndarray, np.ndarray]:
    """Practice code and system code per physician (-1 when unknown)."""
    phys, prac = net.physicians, net.practices
    pcode, puniq = pd.factorize(phys["practice_id"])
    sys_of = pd.Series(prac["system"].to_numpy(), index=prac["practice_id"].to_numpy())
    sys_of = sys_of[~sys_of.index.duplicated()]
    systems = pd.Series(puniq).map(sys_of) if len(puniq) else pd.Series([], dtype=object)
    scode_u, _ = pd.factorize(systems)
    scode = np.where(pcode >= 0, scode_u[np.maximum(pcode, 0)] if len(scode_u) else -1, -1)
    return np.asarray(pcode), np.asarray(scode)


def _npi_ints(values: Any) -> np.ndarray | None:
    """10-digit NPI strings as int64 (None when some value is not all digits)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(np.asarray(values, dtype=object), type=pa.string())
        return np.asarray(pc.cast(arr, pa.int64()).to_numpy(zero_copy_only=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError):
        return None


def _ids(net: Any, col: pd.Series) -> np.ndarray:
    """Node ids of an NPI column (-1 for unknown), via integer search when possible."""

    def build() -> tuple[np.ndarray, np.ndarray] | None:
        k = _npi_ints(net.npis)
        return None if k is None else (np.argsort(k), np.sort(k))

    sorted_keys = net.cached_view(("refgraph.paths", "npi_ints"), build)
    v = _npi_ints(col) if sorted_keys is not None and len(col) else None
    if sorted_keys is None or v is None or not len(sorted_keys[1]):
        return np.asarray(net.npis.get_indexer(pd.Index(col.astype("string"))), dtype=np.int64)
    order, sk = sorted_keys
    pos = np.minimum(np.searchsorted(sk, v), len(sk) - 1)
    return np.where(sk[pos] == v, order[pos], -1).astype(np.int64)
