"""Table helpers of the network core: empty tables, physicians implied by other tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._errors import ValidationError
from ._validate import validate_table
from .model import SCHEMAS


def empty_table(table: str) -> pd.DataFrame:
    """A valid table with no rows and the canonical columns and dtypes of ``table``."""
    res = validate_table(pd.DataFrame({c: [] for c in SCHEMAS[table].names}), table)
    return res.table


def with_missing_physicians(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The physicians table plus a row of unknown attributes for every NPI that
    flows, events or touchpoints name but the physicians table lacks."""
    phys = tables["physicians"]
    seen = [
        tables["flows"]["source_npi"],
        tables["flows"]["target_npi"],
        tables["events"]["source_npi"],
        tables["events"]["target_npi"],
        tables["touchpoints"]["npi"],
    ]
    known = pd.Index(phys["npi"].astype("string"))
    parts = []
    for col in seen:
        if len(col):
            uniq = pd.Index(col.astype("string").unique())
            parts.append(uniq[~uniq.isin(known)])
    if not parts:
        return phys
    missing = pd.Index(pd.concat([p.to_series() for p in parts], ignore_index=True)).unique()
    missing = missing[missing.notna()]
    if len(missing):
        extra = empty_table("physicians").reindex(range(len(missing)))
        extra["npi"] = pd.array(np.asarray(missing, dtype=object), dtype="string")
        for c in extra.columns:
            if c in phys.columns:
                extra[c] = extra[c].astype(phys[c].dtype)
        return pd.concat([phys, extra], ignore_index=True)
    return phys


def appended_table(name: str, old: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    """``old`` with validated ``new_rows`` appended, as ``ReferralNetwork.add_*`` defines it.

    Physicians and practices already known get the attributes the new rows
    give; flows with the same key are summed; events and touchpoints append.
    """
    if name in ("physicians", "practices"):
        key = SCHEMAS[name].key[0]
        new = new_rows.set_index(key)
        base = old.set_index(key)
        # known rows: update the attributes that the new rows give
        common = base.index.intersection(new.index)
        if len(common):
            upd = new.loc[common]
            base.update(upd)
        merged = pd.concat([base, new.loc[new.index.difference(base.index)]])
        return merged.reset_index()
    if name == "flows":
        both = pd.concat([old, new_rows], ignore_index=True)
        res = validate_table(both, "flows", duplicates="aggregate")
        if len(res.rejected):  # only a sum past MAX_COUNT can reject valid rows here
            raise ValidationError(
                f"flows: cannot add these flows: {res.rejected['reason'].iloc[0]}",
                rejected=res.rejected,
            )
        return res.table
    return pd.concat([old, new_rows], ignore_index=True)
