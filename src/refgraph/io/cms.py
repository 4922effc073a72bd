"""Readers of public referral files: CMS shared-patient patterns, DocGraph hop teaming."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from .._errors import NotFoundError, ValidationError
from .._validate import IngestResult, empty_rejects, strict_error, validate_table

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["iter_cms_shared_patients", "read_cms_shared_patients", "read_docgraph_hop"]

CMS_COLUMNS = ["npi1", "npi2", "pair_count", "bene_count", "same_day_count"]
CMS_WINDOWS = (30, 60, 90, 180)
HOP_COLUMNS = [
    "from_npi",
    "to_npi",
    "patient_count",
    "transaction_count",
    "average_day_wait",
    "std_day_wait",
]

_ALIASES = {
    "initial physician npi": "npi1",
    "secondary physician npi": "npi2",
    "shared count": "pair_count",
    "total": "pair_count",
    "number unique beneficiaries": "bene_count",
    "number same day visits": "same_day_count",
}


def _norm(name: str) -> str:
    n = name.strip().lower()
    return _ALIASES.get(n, n.replace(" ", "_"))


def _open(path: Path) -> pa.NativeFile:
    return pa.input_stream(str(path), compression="detect")


def _first_line(path: Path) -> str:
    with _open(path) as f:
        return f.read(4096).decode("utf-8", errors="replace").splitlines()[0]


def _window_from_name(path: Path) -> int | None:
    name = path.name.lower()
    for pattern in (r"days?[_-]?(\d+)", r"(\d+)[_-]?days?"):
        for m in re.finditer(pattern, name):
            if int(m.group(1)) in CMS_WINDOWS:
                return int(m.group(1))
    return None


def _batches(path: Path, expected: list[str], block_size: int) -> tuple[list[str], Any]:
    """Stream record batches of a delimited file, header or not, NPIs as text."""
    first = _first_line(path)
    delim = "\t" if first.count("\t") > first.count(",") else ","
    fields = [f.strip().strip('"') for f in first.split(delim)]
    has_header = not fields[0].isdigit()
    if has_header:
        names = [_norm(f) for f in fields]
        read = pacsv.ReadOptions(block_size=block_size)
    else:
        if len(fields) > len(expected):
            names = expected + [f"extra_{i}" for i in range(len(fields) - len(expected))]
        else:
            names = expected[: len(fields)]
        read = pacsv.ReadOptions(column_names=names, block_size=block_size)
    # Everything is read as text and coerced by the validator, so that one bad
    # value late in a multi-GB file becomes a reject, not a parse failure.
    types = {n: pa.string() for n in names}
    conv = pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    parse = pacsv.ParseOptions(delimiter=delim)
    reader = pacsv.open_csv(
        _open(path), read_options=read, parse_options=parse, convert_options=conv
    )
    return names, reader


def iter_cms_shared_patients(
    path: str | Path,
    *,
    window_days: int | None = None,
    year: int | None = None,
    block_size: int = 64 << 20,
    self_referrals: str = "reject",
) -> Any:
    """Yield :class:`~refgraph._validate.IngestResult` chunks of a CMS file.

    For files too large to hold as one table: each chunk holds the
    validated flows of about ``block_size`` bytes of text, with row numbers
    relative to the whole file. See :func:`read_cms_shared_patients`.
    """
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"path: CMS file {str(path)!r} does not exist")
    window = _check_window(window_days, path)
    names, reader = _batches(path, CMS_COLUMNS, block_size)
    rename = {
        "npi1": "source_npi",
        "npi2": "target_npi",
        "pair_count": "count",
        "bene_count": "patients",
    }
    missing = [c for c in ("npi1", "npi2", "pair_count") if c not in names]
    if missing:
        raise ValidationError(
            f"{path.name}: not a CMS shared-patient file; missing columns {missing}, got {names}"
        )
    offset = 0
    for batch in reader:
        df = batch.to_pandas(types_mapper=_types_mapper).rename(columns=rename)
        n = len(df)
        if "window_days" in df.columns:
            wd = pd.to_numeric(df["window_days"], errors="coerce")
            if window is not None and (wd.dropna() != window).any():
                raise ValidationError(
                    f"window_days: file says {sorted(wd.dropna().unique().tolist())}, "
                    f"argument says {window}"
                )
            df = df.drop(columns="window_days")
            if window is None and wd.notna().any():
                window = int(wd.dropna().iloc[0])
        yr = df.pop("year") if "year" in df.columns else None
        if yr is None and year is not None:
            yr = pd.Series(year, index=df.index)
        if yr is not None:
            y = pd.to_numeric(yr, errors="coerce").astype("Int64")
            df["period_start"] = pd.to_datetime(y.astype("string") + "-01-01", errors="coerce")
            df["period_end"] = pd.to_datetime(y.astype("string") + "-12-31", errors="coerce")
        df["provenance"] = f"cms-pspp:{window}d" if window else "cms-pspp"
        res = validate_table(
            df,
            "flows",
            duplicates="aggregate",
            self_referrals=self_referrals,  # type: ignore[arg-type]
            row_numbers=np.arange(offset, offset + n),
            extra_kinds={"same_day_count": "count"},
        )
        offset += n
        yield res


def _types_mapper(t: pa.DataType) -> Any:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pd.StringDtype()
    return None


def _check_window(window_days: int | None, path: Path) -> int | None:
    if window_days is None:
        return _window_from_name(path)
    if window_days not in CMS_WINDOWS:
        raise ValidationError(
            f"window_days: CMS published windows of {list(CMS_WINDOWS)} days, got {window_days!r}"
        )
    return int(window_days)


def read_cms_shared_patients(
    path: str | Path,
    *,
    window_days: int | None = None,
    year: int | None = None,
    strict: bool = False,
    block_size: int = 64 << 20,
) -> ReferralNetwork:
    """Read a CMS *Physician Shared Patient Patterns* file into a network.

    CMS released these files (2009–2015, one per year and window of 30, 60,
    90 or 180 days): each row says that physician ``npi1`` saw Medicare
    patients who were then seen by ``npi2`` within the window. Raw files
    have no header and five columns ``npi1, npi2, pair_count, bene_count,
    same_day_count``; files with a header (including a ``year`` and
    ``window_days`` column) are read too. Plain, ``.gz`` and ``.bz2`` text is
    streamed in blocks of ``block_size`` bytes, so multi-GB files never
    need their whole text in memory (the accepted flows still do).

    Mapping: ``npi1 -> source_npi``, ``npi2 -> target_npi``,
    ``pair_count -> count``, ``bene_count -> patients``; ``same_day_count``
    is kept; ``year`` becomes ``period_start``/``period_end`` (Jan 1–Dec 31);
    ``provenance`` is ``"cms-pspp:<window>d"``.

    Parameters
    ----------
    path
        The CMS file.
    window_days
        30, 60, 90 or 180. Default: read from a ``window_days`` column or
        from the file name (``...days180...``).
    year
        Calendar year of the file, when it has no ``year`` column.
    strict
        Raise :class:`~refgraph.ValidationError` if any row is rejected.
    block_size
        Bytes of text parsed at a time.

    Returns
    -------
    ReferralNetwork
        With the rejects of every row in ``net.rejected``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "pspp_days30.txt").write_text(
    ...     "1234567893,1003033051,40,12,3\\n1234567893,1234567890,20,11,0\\n")
    >>> net = read_cms_shared_patients(d / "pspp_days30.txt", year=2014)
    >>> net.n_flows, net.flows["provenance"][0], len(net.rejected)
    (1, 'cms-pspp:30d', 1)

    References
    ----------
    .. [1] CMS, "Physician Shared Patient Patterns Technical Requirements"
       (data.cms.gov FOIA release, 2009–2015).
    """
    from ..network import ReferralNetwork

    parts: list[IngestResult] = list(
        iter_cms_shared_patients(path, window_days=window_days, year=year, block_size=block_size)
    )
    return _assemble(parts, strict=strict, what=Path(path).name, cls=ReferralNetwork)


def _assemble(parts: list[IngestResult], *, strict: bool, what: str, cls: Any) -> Any:
    tables = [p.table for p in parts if len(p.table)]
    rejected = [p.rejected for p in parts if len(p.rejected)]
    n_in = sum(p.n_input for p in parts)
    flows = pd.concat(tables, ignore_index=True) if tables else None
    rej = pd.concat(rejected, ignore_index=True) if rejected else empty_rejects()
    if strict and len(rej):
        raise strict_error(what, rej, n_in)
    if (
        flows is not None
        and flows.duplicated(
            ["source_npi", "target_npi", "period_start", "period_end", "provenance"]
        ).any()
    ):
        flows = validate_table(flows, "flows", duplicates="aggregate").table
    net = cls._from_valid_tables({"flows": flows})
    accepted = sum(p.n_accepted_rows for p in parts)
    net.ingest["flows"] = IngestResult(net.flows, rej, n_in, accepted)
    return net


def read_docgraph_hop(
    path: str | Path,
    *,
    strict: bool = False,
    provenance: str = "docgraph-hop",
    block_size: int = 64 << 20,
) -> ReferralNetwork:
    """Read a DocGraph "hop teaming" file into a network.

    Columns ``from_npi, to_npi, patient_count, transaction_count,
    average_day_wait, std_day_wait`` (header optional). Mapping:
    ``from_npi -> source_npi``, ``to_npi -> target_npi``,
    ``transaction_count -> count``, ``patient_count -> patients``; the wait
    columns are kept.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hop.csv"
    >>> _ = p.write_text("from_npi,to_npi,patient_count,transaction_count,"
    ...                  "average_day_wait,std_day_wait\\n"
    ...                  "1234567893,1003033051,11,25,14.2,9.1\\n")
    >>> net = read_docgraph_hop(p)
    >>> net.flows[["count", "patients", "average_day_wait"]].values.tolist()
    [[25, 11, 14.2]]
    """
    from ..network import ReferralNetwork

    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"path: DocGraph file {str(path)!r} does not exist")
    names, reader = _batches(path, HOP_COLUMNS, block_size)
    missing = [c for c in ("from_npi", "to_npi", "transaction_count") if c not in names]
    if missing:
        raise ValidationError(
            f"{path.name}: not a DocGraph hop file; missing columns {missing}, got {names}"
        )
    rename = {
        "from_npi": "source_npi",
        "to_npi": "target_npi",
        "transaction_count": "count",
        "patient_count": "patients",
    }
    parts = []
    offset = 0
    for batch in reader:
        df = batch.to_pandas(types_mapper=_types_mapper).rename(columns=rename)
        df["provenance"] = provenance
        n = len(df)
        parts.append(
            validate_table(
                df,
                "flows",
                duplicates="aggregate",
                row_numbers=np.arange(offset, offset + n),
                extra_kinds={"average_day_wait": "float", "std_day_wait": "float"},
            )
        )
        offset += n
    return _assemble(parts, strict=strict, what=path.name, cls=ReferralNetwork)
