"""Reading and writing refgraph tables: CSV, Parquet, pandas, saved networks."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import pandas as pd

from .._errors import NotFoundError, ValidationError
from .._validate import IngestResult, strict_error, validate_table
from ..model import SCHEMAS, TABLES
from ._sources import Loaded, load_source

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = [
    "load_network",
    "read_events",
    "read_flows",
    "read_network",
    "read_physicians",
    "read_practices",
    "read_table",
    "read_touchpoints",
    "save_network",
]

_FORMAT_VERSION = 1

Source: TypeAlias = str | Path | pd.DataFrame


def _read_any(source: Source, table: str) -> Loaded:
    """Load a CSV/TSV/TXT/Parquet path (text read tolerantly) or pass a DataFrame through."""
    text_cols = {c.name for c in SCHEMAS[table].columns}
    return load_source(source, table, text_columns=text_cols)


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
        A path to a ``.csv``/``.tsv``/``.txt``/``.parquet`` file (text may be
        gzip, bz2 or xz compressed), or a DataFrame. Text is read with every
        column as text; a line that cannot be split into the header's fields
        (wrong number of fields, unbalanced quote, not UTF-8, only spaces)
        becomes a rejects row with column ``"<line>"``, its text and its
        line number, and reading goes on. A file that cannot be read at all
        (empty, damaged compression, corrupt Parquet, UTF-16) raises one
        :class:`~refgraph.ValidationError` naming the file.
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
    loaded = _read_any(source, table)
    df = loaded.frame
    if columns:
        unknown = [c for c in columns if c not in df.columns]
        if unknown:
            raise ValidationError(f"columns: {unknown} not in the input; it has {list(df.columns)}")
        df = df.rename(columns=dict(columns))
    res = validate_table(df, table, strict=False, row_numbers=loaded.rows, **kwargs)
    res = loaded.finish(res)
    if strict and len(res.rejected):
        raise strict_error(table, res.rejected, res.n_input)
    return res


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
    results = {k: read_table(v, k, strict=strict) for k, v in given.items() if v is not None}
    net = ReferralNetwork._from_valid_tables({k: r.table for k, r in results.items()})
    net.ingest.update(results)
    return net


def save_network(net: ReferralNetwork, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a network as a folder of Parquet files plus a manifest.

    The write goes to a temporary sibling folder first and is moved into
    place at the end, so a failed save never leaves a half-written network.
    """
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise ValidationError(f"path: {str(path)!r} exists; pass overwrite=True to replace it")
        if not (path / "refgraph.json").exists():
            raise ValidationError(
                f"path: {str(path)!r} exists and is not a saved refgraph network; refusing to "
                "overwrite it"
            )
    tmp = path.with_name(path.name + ".tmp-refgraph")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    manifest: dict[str, Any] = {"format": "refgraph", "version": _FORMAT_VERSION, "tables": {}}
    for name, df in net.tables.items():
        df.to_parquet(tmp / f"{name}.parquet", index=False)
        manifest["tables"][name] = len(df)
    rej = net.rejected
    rej.to_parquet(tmp / "rejected.parquet", index=False)
    manifest["rejected"] = len(rej)
    (tmp / "refgraph.json").write_text(json.dumps(manifest, indent=2))
    if path.exists():
        shutil.rmtree(path)
    tmp.rename(path)
    return path


def load_network(path: str | Path) -> ReferralNetwork:
    """Load a folder written by :func:`save_network`."""
    from .._validate import IngestResult
    from ..network import ReferralNetwork

    path = Path(path)
    manifest_path = path / "refgraph.json"
    if not manifest_path.exists():
        raise NotFoundError(
            f"path: {str(path)!r} is not a saved refgraph network (no refgraph.json)"
        )
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("version", 0) > _FORMAT_VERSION:
        raise ValidationError(
            f"{str(path)!r} was written by a newer refgraph (format {manifest['version']})"
        )
    tables = {}
    for name in TABLES:
        f = path / f"{name}.parquet"
        tables[name] = pd.read_parquet(f) if f.exists() else None
    net = ReferralNetwork._from_valid_tables(tables)
    rej_path = path / "rejected.parquet"
    if rej_path.exists():
        rej = pd.read_parquet(rej_path)
        for name, part in rej.groupby("table", sort=False):
            part = part.drop(columns="table").reset_index(drop=True)
            net.ingest[str(name)] = IngestResult(
                net.tables[str(name)], part, 0, 0, notes=["loaded from disk"]
            )
    return net
