"""Referral structure between specialties (modelling assumptions).

The referral propensities are read once, at import, from
``data/referral_affinity.json`` and the substitute pairs from
``data/competing_pairs.csv`` (see ``data/README.md``).
"""

from __future__ import annotations

import difflib
import functools

import numpy as np
import pandas as pd

from .._errors import ValidationError
from ._data import read_csv, read_json
from ._normalize import normalize_specialty
from ._vocabulary import SPECIALTIES

# ---------------------------------------------------------------------------------------------
# Referral structure (modelling assumptions)
# ---------------------------------------------------------------------------------------------

# Directed edges source -> {target: propensity}, relative propensity (0-1, 1 = among the most
# frequent targets) that a clinician of the source specialty refers a patient to each target.
# Primary-care rows share profiles (adult primary care, with family, internist and geriatric
# variants, and pediatric); specialist rows list where a specialist sends patients on (work-up,
# procedures, co-management) and the back-referral to primary care.


def _load_edges() -> dict[str, dict[str, float]]:
    doc = read_json("referral_affinity.json")
    profiles: dict[str, dict[str, float]] = {}
    for name, profile in doc["profiles"].items():
        base = profiles[profile["extends"]] if "extends" in profile else {}
        profiles[name] = {**base, **profile["targets"]}
    edges: dict[str, dict[str, float]] = {
        src: dict(profiles[targets] if isinstance(targets, str) else targets)
        for src, targets in doc["edges"].items()
    }
    for src, row in edges.items():
        for key in (src, *row):
            if key not in SPECIALTIES:  # pragma: no cover - guarded by the tests
                raise RuntimeError(f"data/referral_affinity.json: unknown specialty {key!r}")
    return edges


_EDGES: dict[str, dict[str, float]] = _load_edges()

# Undirected substitute pairs (a, b, closeness in (0, 1]): a referring clinician could send the
# same patient to either, so they compete for the same referrals.
# The ``area`` column of data/competing_pairs.csv groups the pairs by clinical area.
_SUBSTITUTES: tuple[tuple[str, str, float], ...] = tuple(
    (a, b, float(w)) for a, b, w in read_csv("competing_pairs.csv", "a", "b", "closeness")
)


def _resolve_home(home: object, name: str = "home") -> str:
    if isinstance(home, str):
        if home in SPECIALTIES:
            return home
        key = normalize_specialty(home)
        if key is not None:
            return key
    close = difflib.get_close_matches(str(home), list(SPECIALTIES), n=3, cutoff=0.6)
    examples = close or ["cardiology", "family_medicine", "orthopedic_surgery"]
    hint = "did you mean" if close else "for example"
    raise ValidationError(
        f"{name}: unknown specialty {home!r}; expected one of the {len(SPECIALTIES)} keys of "
        f"refgraph.specialties.SPECIALTIES ({hint} {', '.join(map(repr, examples))}), "
        "or a label, synonym or NUCC taxonomy code of one"
    )


def _competitor_weights() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {k: {} for k in SPECIALTIES}
    for a, b, w in _SUBSTITUTES:
        out[a][b] = max(w, out[a].get(b, 0.0))
        out[b][a] = max(w, out[b].get(a, 0.0))
    return out


_COMPETITORS: dict[str, dict[str, float]] = _competitor_weights()
_ORDER: dict[str, int] = {k: i for i, k in enumerate(SPECIALTIES)}


def competing(home: str) -> list[str]:
    """Specialties that compete with ``home`` for the same referrals.

    Rule: two specialties compete when a referring clinician could plausibly
    send the same patient to either -- their scopes overlap for the same
    problem (cardiology and interventional cardiology for chest pain,
    orthopaedic surgery and sports medicine for a knee injury, urgent care and
    emergency medicine or family medicine for walk-in acute care). The pairs
    and their closeness are curated modelling assumptions and the relation is
    symmetric. The list starts with ``home`` itself (a physician's first
    competitors are others of the same specialty), followed by the substitutes
    by decreasing closeness.

    Parameters
    ----------
    home
        Specialty key (or a label, synonym or code of one).

    Returns
    -------
    list of str
        Specialty keys, ``home`` first.

    Raises
    ------
    ValidationError
        If ``home`` does not name a specialty.

    Examples
    --------
    >>> competing("cardiology")
    ['cardiology', 'interventional_cardiology', 'electrophysiology']
    >>> competing("orthopedic_surgery")[:4]
    ['orthopedic_surgery', 'sports_medicine', 'physical_medicine_rehab', 'neurosurgery']
    >>> competing("urgent_care")[:3]
    ['urgent_care', 'emergency_medicine', 'family_medicine']
    """
    key = _resolve_home(home)
    partners = _COMPETITORS[key]
    ranked = sorted(partners, key=lambda k: (-partners[k], _ORDER[k]))
    return [key, *ranked]


@functools.lru_cache(maxsize=1)
def _affinity_array() -> np.ndarray:
    keys = list(SPECIALTIES)
    idx = _ORDER
    a = np.zeros((len(keys), len(keys)), dtype=np.float64)
    for src, targets in _EDGES.items():
        for dst, w in targets.items():
            if dst != src and w > 0:
                a[idx[src], idx[dst]] = w
    a.setflags(write=False)
    return a


def referral_affinity() -> pd.DataFrame:
    """Relative referral propensities between specialties.

    ``A.loc[s, t]`` is how readily a clinician of specialty ``s`` refers a
    patient to specialty ``t``, on a 0-1 scale where 1 marks the most frequent
    targets of primary care (cardiology, orthopaedics, gastroenterology). Rows
    are not normalised: divide a row by its sum to get the probability that a
    referral from ``s`` goes to ``t``.

    **These are modelling assumptions, not measured data.** They were set by
    hand to reproduce the broad, well-known shape of US referral patterns:
    primary care rows put most weight on the common specialist targets
    (cardiology, orthopaedics, gastroenterology, dermatology, ENT, urology,
    neurology, general surgery...), pediatric and geriatric rows are tilted
    to their populations, specialist rows send patients on for procedures
    (cardiology to interventional cardiology and cardiac surgery), work-up
    (radiology, pathology) or co-management, plus a small back-referral to
    primary care. Same-specialty referral is not modelled, so the diagonal is
    zero for every specialty; ``other`` has an all-zero row and column. Use
    measured flows (for example CMS shared-patient data) when available.

    :func:`complementary` is derived from this matrix, so the two agree.

    Returns
    -------
    pandas.DataFrame
        Square float matrix, index (``source``) and columns (``target``) both
        the keys of :data:`SPECIALTIES` in order; a fresh copy on every call.

    Examples
    --------
    >>> a = referral_affinity()
    >>> a.shape == (len(SPECIALTIES), len(SPECIALTIES))
    True
    >>> float(a.loc["family_medicine", "cardiology"]), float(a.loc["cardiology", "cardiology"])
    (1.0, 0.0)
    >>> a.loc["family_medicine"].nlargest(3).index.tolist()
    ['cardiology', 'gastroenterology', 'orthopedic_surgery']
    """
    keys = list(SPECIALTIES)
    return pd.DataFrame(
        _affinity_array().copy(),
        index=pd.Index(keys, name="source"),
        columns=pd.Index(keys, name="target"),
    )


def complementary(home: str) -> list[str]:
    """Specialties that exchange referrals with ``home``, strongest first.

    Rule: a specialty ``s`` is complementary to ``home`` when it typically
    refers patients to ``home`` or receives them from it, i.e. when
    ``A[s, home] + A[home, s] > 0`` in :func:`referral_affinity`, and it is
    not one of the substitutes returned by :func:`competing`. The list is
    ordered by that two-way propensity (ties in vocabulary order). For a
    specialist home this starts with the primary care referrers; for a
    primary-care home it lists the specialists it refers to (and the
    hospital and emergency services that send patients back).

    Parameters
    ----------
    home
        Specialty key (or a label, synonym or code of one).

    Returns
    -------
    list of str
        Specialty keys, never containing ``home`` or its competitors.

    Raises
    ------
    ValidationError
        If ``home`` does not name a specialty.

    Examples
    --------
    >>> c = complementary("cardiology")
    >>> c[:3]
    ['family_medicine', 'internal_medicine', 'cardiothoracic_surgery']
    >>> {"endocrinology", "nephrology", "pulmonology", "vascular_surgery"} <= set(c)
    True
    >>> complementary("family_medicine")[:3]
    ['cardiology', 'gastroenterology', 'orthopedic_surgery']
    """
    key = _resolve_home(home)
    a = _affinity_array()
    i = _ORDER[key]
    both = a[i, :] + a[:, i]
    excluded = set(competing(key))
    strength = {k: round(float(both[j]), 9) for k, j in _ORDER.items() if both[j] > 0}
    ranked = sorted(
        (k for k in strength if k not in excluded), key=lambda k: (-strength[k], _ORDER[k])
    )
    return ranked
