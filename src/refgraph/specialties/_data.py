"""Package data of :mod:`refgraph.specialties`: the tables under ``data/``.

The vocabulary, the NUCC taxonomy codes, the synonyms, the referral
structure and the specialty mix are data files shipped with the package
(``refgraph/specialties/data``, declared as package data in
``pyproject.toml``); ``data/README.md`` describes their columns and sources.
Each file is read once, when the module that needs it is imported.
"""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from operator import itemgetter
from typing import Any

#: The package that holds the ``data/`` folder (``refgraph.specialties``).
_PACKAGE = __name__.rpartition(".")[0]

#: Every data file the package reads, all under ``refgraph/specialties/data``.
DATA_FILES: tuple[str, ...] = (
    "specialties.csv",
    "taxonomy_codes.csv",
    "synonyms.csv",
    "taxonomy_prefix_fallback.csv",
    "referral_affinity.json",
    "competing_pairs.csv",
    "physician_counts.csv",
)


def _read_text(name: str) -> str:
    if name not in DATA_FILES:  # pragma: no cover - guarded by the tests
        raise KeyError(f"{name!r} is not a data file of {_PACKAGE}")
    return (files(_PACKAGE) / "data" / name).read_text(encoding="utf-8")


def read_csv(name: str, *columns: str) -> list[tuple[str, ...]]:
    """The values of ``columns`` (two or more) in each row of the CSV data file ``name``."""
    header, *rows = csv.reader(_read_text(name).splitlines())
    missing = [c for c in columns if c not in header]
    if missing or len(columns) < 2 or any(len(r) != len(header) for r in rows):
        raise RuntimeError(  # pragma: no cover - guarded by the tests
            f"data/{name}: malformed, or no column {missing} (header {header})"
        )
    return list(map(itemgetter(*map(header.index, columns)), rows))


def read_json(name: str) -> Any:
    """The parsed JSON data file ``name``."""
    return json.loads(_read_text(name))


def parse_bool(value: str, where: str) -> bool:
    """``"true"`` or ``"false"`` (a boolean column of a data file)."""
    if value not in ("true", "false"):  # pragma: no cover - guarded by the tests
        raise RuntimeError(f"{where}: expected 'true' or 'false', got {value!r}")
    return value == "true"
