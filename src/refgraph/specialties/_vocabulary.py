"""The specialty vocabulary: :class:`Specialty` records loaded from the package data.

:data:`SPECIALTIES` is built once, at import, from ``data/specialties.csv``
(one row per specialty, in display order), ``data/taxonomy_codes.csv`` (one
row per NUCC code, generic code of each specialty first) and
``data/synonyms.csv`` (one row per synonym); see ``data/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._errors import ValidationError
from ._data import parse_bool, read_csv

#: Allowed values of :attr:`Specialty.group`.
GROUPS: tuple[str, ...] = (
    "primary_care",
    "urgent_emergency",
    "medical",
    "surgical",
    "hospital_based",
    "diagnostic",
    "behavioral",
    "allied",
)


@dataclass(frozen=True)
class Specialty:
    """One specialty of the vocabulary.

    Parameters
    ----------
    key
        Identifier used throughout refgraph (``snake_case``).
    label
        Human-readable name.
    group
        One of :data:`GROUPS`.
    primary_care
        Whether physicians of this specialty act as primary care providers
        (the usual referrers of the network).
    taxonomy_codes
        NUCC taxonomy codes mapping to this key, generic code first.
    synonyms
        Other names accepted by :func:`normalize_specialty`.

    Examples
    --------
    >>> s = SPECIALTIES["cardiology"]
    >>> s.label, s.group, s.primary_care, s.taxonomy_codes[0]
    ('Cardiology', 'medical', False, '207RC0000X')
    """

    key: str
    label: str
    group: str
    primary_care: bool
    taxonomy_codes: tuple[str, ...]
    synonyms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.group not in GROUPS:
            raise ValidationError(
                f"group: {self.group!r} is not a specialty group; expected one of {GROUPS}"
            )


def _load_specialties() -> tuple[Specialty, ...]:
    rows = read_csv("specialties.csv", "key", "label", "group", "primary_care")
    codes: dict[str, list[str]] = {r[0]: [] for r in rows}
    synonyms: dict[str, list[str]] = {r[0]: [] for r in rows}
    for name, column, lists in (
        ("taxonomy_codes.csv", "code", codes),
        ("synonyms.csv", "synonym", synonyms),
    ):
        for key, value in read_csv(name, "key", column):
            if key not in lists:  # pragma: no cover - guarded by the tests
                raise RuntimeError(f"data/{name}: {key!r} is not a key of specialties.csv")
            lists[key].append(value)
    return tuple(
        Specialty(
            key,
            label,
            group,
            parse_bool(primary_care, f"data/specialties.csv, {key}"),
            tuple(codes[key]),
            tuple(synonyms[key]),
        )
        for key, label, group, primary_care in rows
    )


_SPECIALTY_LIST: tuple[Specialty, ...] = _load_specialties()

#: The specialty vocabulary, keyed by specialty key (insertion order is the display order).
SPECIALTIES: dict[str, Specialty] = {s.key: s for s in _SPECIALTY_LIST}


def specialty_table() -> pd.DataFrame:
    """The vocabulary as a table.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``key``, with columns ``label``, ``group``,
        ``primary_care`` (bool), ``taxonomy_codes`` (comma-joined, generic
        code first) and ``n_codes`` (int).

    Examples
    --------
    >>> t = specialty_table()
    >>> t.loc["orthopedic_surgery", ["label", "group"]].tolist()
    ['Orthopedic Surgery', 'surgical']
    >>> bool(t.loc["orthopedic_surgery", "primary_care"])
    False
    >>> t.loc["urgent_care", "taxonomy_codes"]
    '261QU0200X'
    >>> int(t.loc["other", "n_codes"])
    0
    """
    specs = list(SPECIALTIES.values())
    table = pd.DataFrame(
        {
            "label": [s.label for s in specs],
            "group": [s.group for s in specs],
            "primary_care": np.array([s.primary_care for s in specs], dtype=bool),
            "taxonomy_codes": [",".join(s.taxonomy_codes) for s in specs],
            "n_codes": np.array([len(s.taxonomy_codes) for s in specs], dtype=np.int64),
        },
        index=pd.Index([s.key for s in specs], name="key"),
    )
    return table
