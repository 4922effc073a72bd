"""NPPES-style provider directories mapped to the physicians table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._validate import IngestResult, validate_table
from ._sources import load_source

__all__ = ["read_directory"]

# NPPES full-file column names (CMS NPPES Data Dissemination) and simpler aliases.
_NPPES = {
    "npi": "npi",
    "entity type code": "entity_type",
    "entity_type": "entity_type",
    "provider last name (legal name)": "last_name",
    "last_name": "last_name",
    "provider first name": "first_name",
    "first_name": "first_name",
    "provider organization name (legal business name)": "organization_name",
    "organization_name": "organization_name",
    "provider first line business practice location address": "address",
    "address": "address",
    "provider business practice location address city name": "city",
    "city": "city",
    "provider business practice location address state name": "state",
    "state": "state",
    "provider business practice location address postal code": "zip",
    "zip": "zip",
    "postal_code": "zip",
    "taxonomy": "taxonomy",
    "primary_taxonomy": "taxonomy",
    "name": "name",
    "practice_id": "practice_id",
}
_TAXONOMY_COL = "healthcare provider taxonomy code_"
_SWITCH_COL = "healthcare provider primary taxonomy switch_"


def _primary_taxonomy(df: pd.DataFrame, lower: dict[str, str]) -> pd.Series | None:
    """The taxonomy flagged primary (switch ``Y``), else the first one given."""
    codes = sorted(
        (int(k[len(_TAXONOMY_COL) :]), v)
        for k, v in lower.items()
        if k.startswith(_TAXONOMY_COL) and k[len(_TAXONOMY_COL) :].isdigit()
    )
    if not codes:
        return None
    result = pd.Series(pd.NA, index=df.index, dtype="string")
    first = pd.Series(pd.NA, index=df.index, dtype="string")
    for i, col in codes:
        code = df[col].astype("string").str.strip().replace("", pd.NA)
        first = first.fillna(code)
        sw = lower.get(f"{_SWITCH_COL}{i}")
        if sw is not None:
            primary = (df[sw].astype("string").str.upper() == "Y").fillna(False)
            result = result.where(~(primary & result.isna()), code)
    return result.fillna(first)


def read_directory(
    source: str | Path | pd.DataFrame,
    *,
    include_organizations: bool = False,
    strict: bool = False,
) -> IngestResult:
    """Read an NPPES-style provider directory into a physicians table.

    Accepts the NPPES full replacement file layout (``NPI``, ``Entity Type
    Code``, ``Provider Last Name (Legal Name)``, ``Provider First Name``,
    practice location address/city/state/postal code and the 15
    ``Healthcare Provider Taxonomy Code_N`` / ``... Primary Taxonomy
    Switch_N`` pairs) or a simple one (``npi``, ``first_name``, ``last_name``,
    ``taxonomy``, ``address``, ``city``, ``state``, ``zip``). The primary
    taxonomy is the code whose switch is ``Y`` (else the first code) and is
    mapped to the specialty vocabulary; ZIP+4 is cut to 5 digits; names
    become ``"LAST, FIRST"``.

    Parameters
    ----------
    source
        Path to a CSV/Parquet file or a DataFrame. Text files are read as
        :func:`refgraph.io.read_table` reads them: a line that cannot be
        split into the header's fields is a rejects row (column
        ``"<line>"``), a file that cannot be read at all raises one
        :class:`~refgraph.ValidationError`.
    include_organizations
        Keep organisation NPIs (entity type 2). By default they are rejected
        with the reason "organisation NPI".
    strict
        Raise :class:`~refgraph.ValidationError` if any row is rejected.

    Returns
    -------
    IngestResult
        Physicians table (with ``address``, ``city``, ``state`` and
        ``entity_type`` kept) and rejects.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"NPI": ["1234567893"], "Entity Type Code": ["1"],
    ...     "Provider Last Name (Legal Name)": ["OKAFOR"], "Provider First Name": ["ADA"],
    ...     "Provider Business Practice Location Address Postal Code": ["021141234"],
    ...     "Healthcare Provider Taxonomy Code_1": ["207RC0000X"],
    ...     "Healthcare Provider Primary Taxonomy Switch_1": ["Y"]})
    >>> res = read_directory(df)
    >>> res.table[["npi", "name", "zip", "specialty"]].values.tolist()
    [['1234567893', 'OKAFOR, ADA', '02114', 'cardiology']]
    """
    loaded = load_source(source, "directory", null_values=("",), infer=False)
    df = loaded.frame.reset_index(drop=True)
    rows = loaded.rows if loaded.rows is not None else np.arange(len(df), dtype=np.int64)
    if df.columns.duplicated().any():
        dup = list(df.columns[df.columns.duplicated()])
        raise ValidationError(f"directory: duplicated column names {dup}")
    lower = {str(c).strip().lower(): c for c in df.columns}
    if "npi" not in lower:
        raise ValidationError(f"source: a directory needs an NPI column; got {list(df.columns)}")
    out = pd.DataFrame(index=df.index)
    used = set()
    for key, canon in _NPPES.items():
        if key in lower and canon not in out.columns:
            out[canon] = df[lower[key]]
            used.add(lower[key])
    tax = _primary_taxonomy(df, lower)
    if tax is not None and "taxonomy" not in out.columns:
        out["taxonomy"] = tax
    if "name" not in out.columns and ("last_name" in out.columns or "first_name" in out.columns):
        last = out.get("last_name", pd.Series("", index=df.index)).astype("string").fillna("")
        first = out.get("first_name", pd.Series("", index=df.index)).astype("string").fillna("")
        name = (last.str.strip() + ", " + first.str.strip()).str.strip(", ")
        org = out.get("organization_name")
        if org is not None:
            name = name.where(name != "", org.astype("string"))
        out["name"] = name.replace("", pd.NA)
    for c in df.columns:
        lc = str(c).strip().lower()
        if c not in used and not lc.startswith(("healthcare provider", "provider license")):
            if lc in ("specialty",):
                out["specialty"] = df[c]
    # organisations
    org_rows = np.zeros(len(df), dtype=bool)
    if "entity_type" in out.columns:
        et = out["entity_type"].astype("string").str.strip()
        org_rows = (et == "2").fillna(False).to_numpy(dtype=bool)
    res = validate_table(out.loc[~org_rows], "physicians", row_numbers=rows[~org_rows])
    if org_rows.any() and not include_organizations:
        from .._validate import _Rejects

        rj = _Rejects(rows)
        rj.add(
            org_rows,
            "entity_type",
            out["entity_type"].to_numpy(dtype=object),
            "organisation NPI (entity type 2), not a physician",
        )
        res.rejected = (
            pd.concat([res.rejected, rj.frame()], ignore_index=True)
            .sort_values("row", kind="stable")
            .reset_index(drop=True)
        )
        res.n_input = len(df)
    elif org_rows.any():
        res = validate_table(out, "physicians", row_numbers=rows)
    res = loaded.finish(res)
    if strict and len(res.rejected):
        raise ValidationError(
            f"directory: {res.n_rejected_rows} of {res.n_input} rows rejected; first: "
            + "; ".join(
                f"row {r['row']}: {r['reason']}" for r in res.rejected.head(10).to_dict("records")
            ),
            rejected=res.rejected,
        )
    return res
