"""Reading refgraph tables: CSV, Parquet, pandas."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd

from .._errors import NotFoundError, ValidationError
from .._validate import IngestResult, validate_table
from ..model import SCHEMAS, TABLES

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = [
    "read_events",
    "read_flows",
    "read_network",
    "read_physicians",
    "read_practices",
    "read_table",
    "read_touchpoints",
]

Source: TypeAlias = str | Path | pd.DataFrame


def _read_any(source: Source, table: str) -> pd.DataFrame:
    """Read a CSV/Parquet path or pass a DataFrame through (NPI-like columns as text)."""
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"{table}: file {str(path)!r} does not exist")
    text_cols = {c.name for c in SCHEMAS[table].columns if c.kind in ("npi", "zip", "str")}
    suffixes = "".join(path.suffixes).lower()
    if ".parquet" in suffixes or ".pq" in suffixes:
        return pd.read_parquet(path)
    if any(s in suffixes for s in (".csv", ".txt", ".tsv")):
        sep = "\t" if ".tsv" in suffixes else ","
        head = pd.read_csv(path, sep=sep, nrows=0)
        dtype = {c: "string" for c in head.columns if c in text_cols or "npi" in c.lower()}
        return pd.read_csv(path, sep=sep, dtype=dtype, keep_default_na=True)
    raise ValidationError(
        f"{table}: cannot tell the format of {str(path)!r}; expected .csv, .tsv, .txt or .parquet"
    )


def read_table(
    source: Source,
    table: str,
    *,
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    **kwargs: Any,
) -> IngestResult:
    """Read and validate one refgraph table from CSV, Parquet or a DataFrame.

    Parameters
    ----------
    source
        A path to a ``.csv``/``.tsv``/``.parquet`` file, or a DataFrame.
    table
        ``physicians``, ``practices``, ``flows``, ``events`` or ``touchpoints``.
    columns
        Optional renaming from the file's column names to canonical names,
        e.g. ``{"NPI": "npi", "Referrals": "count"}``.
    strict
        Raise :class:`~refgraph.ValidationError` if any row is rejected.
    **kwargs
        Passed to :func:`refgraph._validate.validate_table` (``duplicates``,
        ``self_referrals``).

    Returns
    -------
    IngestResult
        ``.table`` (accepted rows) and ``.rejected`` (row, column, value, reason).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"NPI": ["1234567893", "123"]})
    >>> res = read_table(df, "physicians", columns={"NPI": "npi"})
    >>> len(res.table), res.rejected["reason"].tolist()
    (1, ['NPI must be a string of 10 digits'])
    """
    if table not in SCHEMAS:
        raise ValidationError(f"table: expected one of {list(TABLES)}, got {table!r}")
    df = _read_any(source, table)
    if columns:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise ValidationError(f"columns: {unknown} not in the input; it has {list(df.columns)}")
        df = df.rename(columns=dict(columns))
    return validate_table(df, table, strict=strict, **kwargs)


def read_physicians(source: Source, **kwargs: Any) -> IngestResult:
    """Read a physicians table; see :func:`read_table`."""
    return read_table(source, "physicians", **kwargs)


def read_practices(source: Source, **kwargs: Any) -> IngestResult:
    """Read a practices table; see :func:`read_table`."""
    return read_table(source, "practices", **kwargs)


def read_flows(source: Source, **kwargs: Any) -> IngestResult:
    """Read a flows table; see :func:`read_table`."""
    return read_table(source, "flows", **kwargs)


def read_events(source: Source, **kwargs: Any) -> IngestResult:
    """Read a referral events table; see :func:`read_table`."""
    return read_table(source, "events", **kwargs)


def read_touchpoints(source: Source, **kwargs: Any) -> IngestResult:
    """Read an outreach touchpoints table; see :func:`read_table`."""
    return read_table(source, "touchpoints", **kwargs)


def read_network(
    physicians: Source | None = None,
    practices: Source | None = None,
    flows: Source | None = None,
    events: Source | None = None,
    touchpoints: Source | None = None,
    *,
    strict: bool = False,
) -> ReferralNetwork:
    """Read any of the five tables from files or frames into a network.

    Rejected rows of every table are in ``net.rejected``.
    """
    from ..network import ReferralNetwork

    given = {
        "physicians": physicians,
        "practices": practices,
        "flows": flows,
        "events": events,
        "touchpoints": touchpoints,
    }
    frames = {k: (_read_any(v, k) if v is not None else None) for k, v in given.items()}
    return ReferralNetwork.from_frames(**frames, strict=strict)
