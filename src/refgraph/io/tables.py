"""Reading refgraph tables: CSV, Parquet, pandas."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from .._errors import ValidationError
from .._tables import release_arrow_memory
from .._validate import IngestResult, strict_error, validate_table
from ..model import SCHEMAS, TABLES
from ._fast import fast_flows
from ._sources import Loaded, load_source

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


#: Flow columns of counts: read from text as int64 where that is exact (``io._text``).
_FLOW_COUNTS = ("count", "patients", "same_day_count")


def _read_any(source: Source, table: str, columns: Mapping[str, str] | None = None) -> Loaded:
    """Load a CSV/TSV/TXT/Parquet path (text read tolerantly) or pass a DataFrame through."""
    text_cols = {c.name for c in SCHEMAS[table].columns}
    ints: set[str] = set()
    if table == "flows":  # the file's names of the count columns
        rename = dict(columns or {})
        ints = {c for c in _FLOW_COUNTS if c not in rename and c not in rename.values()}
        ints |= {c for c, canon in rename.items() if canon in _FLOW_COUNTS}
    return load_source(source, table, text_columns=text_cols, int_columns=frozenset(ints))


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
    return _read_table(source, table, columns=columns, strict=strict, **kwargs)


def _read_table(
    source: Source,
    table: str,
    *,
    columns: Mapping[str, str] | None = None,
    strict: bool = False,
    npis: list[tuple[np.ndarray, np.ndarray]] | None = None,
    **kwargs: Any,
) -> IngestResult:
    """:func:`read_table`; ``npis``, a list, gets the accepted flows' NPI stems when the
    fast path read them (:func:`refgraph.io._fast.fast_flows`), for the network build."""
    if table not in SCHEMAS:
        raise ValidationError(f"table: expected one of {list(TABLES)}, got {table!r}")
    loaded = _read_any(source, table, columns)
    fast = _fast_read(loaded, table, columns, kwargs, npis)
    if fast is not None:  # a file's flows checked in Arrow (see refgraph.io._fast)
        res = loaded.finish(fast)
        del loaded, fast  # the Arrow table, but for the buffers the flows share with it
        release_arrow_memory()
        if strict and len(res.rejected):
            raise strict_error(table, res.rejected, res.n_input)
        return res
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


def _fast_read(
    loaded: Loaded,
    table: str,
    columns: Mapping[str, str] | None,
    kwargs: dict[str, Any],
    npis: list[tuple[np.ndarray, np.ndarray]] | None = None,
) -> IngestResult | None:
    """The flows of a file through :func:`refgraph.io._fast.fast_flows`, when it applies."""
    if table != "flows" or loaded.arrow is None or set(kwargs) - {"duplicates", "self_referrals"}:
        return None
    arrow = loaded.arrow
    if columns and any(c not in arrow.column_names for c in columns):
        return None  # validate_table's path names the unknown column
    names = [dict(columns or {}).get(c, c) for c in arrow.column_names]
    known = {c.name for c in SCHEMAS["flows"].columns}  # extras are made numeric first: slow path
    if len(set(names)) != len(names) or not set(names) <= known:
        return None
    file_names, n = arrow.column_names, arrow.num_rows
    cols = {name: arrow.column(i) for i, name in enumerate(names)}
    loaded.arrow = None  # handed over: each column is freed once used
    del arrow
    got = fast_flows(
        cols,
        n,
        rows=loaded.rows,
        self_referrals=kwargs.get("self_referrals", "reject"),
        duplicates=kwargs.get("duplicates", "aggregate"),
        consume=True,
        npis=npis,
    )
    if got is None:  # not emptied: the table goes back for the slow path
        loaded.arrow = pa.table([cols[name] for name in names], names=file_names)
    return got


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

    Rejected rows of every table are in ``net.rejected``. A flows file read by
    the fast path (:mod:`refgraph.io._fast`) hands its NPIs' stems to the
    build, which then codes them without reading their text again.
    """
    from ..network import ReferralNetwork

    given = {
        "physicians": physicians,
        "practices": practices,
        "flows": flows,
        "events": events,
        "touchpoints": touchpoints,
    }
    stems: list[tuple[np.ndarray, np.ndarray]] = []  # the flows' NPI stems, if read fast
    results = {
        k: _read_table(v, k, strict=strict, npis=stems if k == "flows" else None)
        for k, v in given.items()
        if v is not None
    }
    net = ReferralNetwork._from_valid_tables(
        {k: r.table for k, r in results.items()}, flow_stems=stems[0] if stems else None
    )
    net.ingest.update(results)
    return net
