"""Table schemas of a referral network.

refgraph keeps a referral network as five tables with fixed canonical columns
("tables are the truth, graphs are views"). Readers map other layouts onto
these names; columns that are not part of a schema are kept unchanged.

=============  ==============================================================
table          canonical columns
=============  ==============================================================
physicians     npi, name, specialty, taxonomy, practice_id, zip, lat, lon
practices      practice_id, name, kind, system, address, zip, lat, lon
flows          source_npi, target_npi, count, patients, period_start,
               period_end, provenance
events         date, source_npi, target_npi, status
touchpoints    date, npi, kind, notes
=============  ==============================================================

NPIs are 10-character strings (never integers). Columns of kind ``"label"``
(low-cardinality text: a flow's ``provenance``) are pandas categoricals of
text (``docs/concepts.md``, "How the tables are held"). ``count`` is the referral
volume of a flow (number of referrals or shared encounters) and ``patients``
the number of distinct patients behind it. Both are non-negative integers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "EVENT_STATUSES",
    "PRACTICE_KINDS",
    "SCHEMAS",
    "TABLES",
    "TOUCHPOINT_KINDS",
    "Column",
    "Schema",
]

Kind = Literal["npi", "str", "label", "zip", "lat", "lon", "count", "date", "category", "float"]

#: Referral event statuses, in funnel order.
EVENT_STATUSES: tuple[str, ...] = ("referred", "scheduled", "seen", "converted")

#: Kinds of outreach touchpoints.
TOUCHPOINT_KINDS: tuple[str, ...] = ("visit", "letter", "call", "event", "email", "other")

#: Kinds of practices (organisations).
PRACTICE_KINDS: tuple[str, ...] = (
    "primary_care_clinic",
    "urgent_care",
    "hospital",
    "multi_specialty_group",
    "single_specialty_group",
    "ambulatory_surgery_center",
    "other",
)


@dataclass(frozen=True)
class Column:
    """One canonical column of a table.

    Parameters
    ----------
    name
        Canonical column name.
    kind
        How values are checked and coerced (``"npi"``, ``"count"``, ``"date"``, ...);
        ``"label"`` is text checked as ``"str"`` and held as a categorical.
    required
        Whether a missing value rejects the row.
    categories
        Allowed values for ``kind="category"``.
    """

    name: str
    kind: Kind
    required: bool = False
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schema:
    """Schema of one table: its columns and its primary key."""

    table: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """Canonical column names in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


SCHEMAS: dict[str, Schema] = {
    "physicians": Schema(
        "physicians",
        (
            Column("npi", "npi", required=True),
            Column("name", "str"),
            Column("specialty", "str"),
            Column("taxonomy", "str"),
            Column("practice_id", "str"),
            Column("zip", "zip"),
            Column("lat", "lat"),
            Column("lon", "lon"),
        ),
        key=("npi",),
    ),
    "practices": Schema(
        "practices",
        (
            Column("practice_id", "str", required=True),
            Column("name", "str"),
            Column("kind", "str"),
            Column("system", "str"),
            Column("address", "str"),
            Column("zip", "zip"),
            Column("lat", "lat"),
            Column("lon", "lon"),
        ),
        key=("practice_id",),
    ),
    "flows": Schema(
        "flows",
        (
            Column("source_npi", "npi", required=True),
            Column("target_npi", "npi", required=True),
            Column("count", "count", required=True),
            Column("patients", "count"),
            Column("period_start", "date"),
            Column("period_end", "date"),
            Column("provenance", "label"),
        ),
        key=("source_npi", "target_npi", "period_start", "period_end", "provenance"),
    ),
    "events": Schema(
        "events",
        (
            Column("date", "date", required=True),
            Column("source_npi", "npi", required=True),
            Column("target_npi", "npi", required=True),
            Column("status", "category", required=True, categories=EVENT_STATUSES),
        ),
    ),
    "touchpoints": Schema(
        "touchpoints",
        (
            Column("date", "date", required=True),
            Column("npi", "npi", required=True),
            Column("kind", "category", required=True, categories=TOUCHPOINT_KINDS),
            Column("notes", "str"),
        ),
    ),
}

#: Names of the five tables.
TABLES: tuple[str, ...] = tuple(SCHEMAS)
