"""Specialty mix: the approximate share of US physicians by specialty key.

The physician counts are read once, at import, from
``data/physician_counts.csv`` (see ``data/README.md`` for the source).
"""

from __future__ import annotations

from ._data import read_csv

#: Approximate total of active US physicians in 2021 (AAMC, about 950,000).
_TOTAL_ACTIVE_PHYSICIANS = 950_000

# Active physicians by specialty in 2021 as published in the AAMC 2022 Physician Specialty
# Data Report (figures as reported by the AAMC and trade press), folded into refgraph keys.
# Entries marked "assumption" are not in that report and were set by hand.
# One row of data/physician_counts.csv per figure: a key's count is the sum of its rows'
# ``physicians`` (times ``share`` when given), in file order; ``basis`` says whether a figure
# is from the report or an assumption and ``note`` what it is.


def _load_counts() -> dict[str, float]:
    counts: dict[str, float] = {}
    for key, physicians, share in read_csv("physician_counts.csv", "key", "physicians", "share"):
        n = int(physicians)
        counts[key] = counts.get(key, 0) + (n * float(share) if share else n)
    return counts


_PHYSICIAN_COUNTS: dict[str, float] = _load_counts()
_PHYSICIAN_COUNTS["other"] = max(_TOTAL_ACTIVE_PHYSICIANS - sum(_PHYSICIAN_COUNTS.values()), 0)

#: Approximate share of active US physicians (MD/DO) by specialty key, summing to 1.
#:
#: Based on the counts of active physicians in 2021 in the AAMC 2022 Physician Specialty Data
#: Report, folded into refgraph keys (pediatric subspecialties into their organ-system key,
#: child psychiatry into psychiatry, neuro- and interventional radiology into radiology,
#: internal medicine/pediatrics into internal medicine). Hospitalists, the family
#: medicine/general practice split, the preventive/occupational split, the critical
#: care/pulmonology split and the small specialties the report does not list are rough
#: assumptions; ``other`` takes the remainder up to about 950,000 active physicians.
#: Non-physician keys (nurse practitioners, physician assistants, psychology, counseling,
#: podiatry, optometry, physical therapy, chiropractic, audiology, midwifery) and
#: ``urgent_care`` (a facility type) are not included.
SPECIALTY_MIX: dict[str, float] = {
    k: v / sum(_PHYSICIAN_COUNTS.values()) for k, v in _PHYSICIAN_COUNTS.items()
}
