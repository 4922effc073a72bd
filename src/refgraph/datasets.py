"""Synthetic referral networks and loaders of the shared real datasets.

Two kinds of data live here:

* **Synthetic** regional referral networks (:func:`synthetic_tables`,
  :func:`synthetic_region`) placed on real US ZIP code centroids (from the
  offline ``zipcodes`` package). Every physician, practice, health system,
  NPI, flow, event and touchpoint they contain is invented. NPIs carry a
  valid check digit (they have to, to pass validation) so some of them will
  coincide with real NPIs by chance; they do not identify anybody. Every table
  is marked: ``df.attrs["synthetic"] is True``, flows have
  ``provenance == "synthetic"``, names start with ``"Synthetic"``.
* **Real** public datasets kept in a shared folder (``../shared/datasets`` or
  ``$REFGRAPH_DATASETS``): the Coleman-Katz-Menzel physician network
  (:func:`load_ckm`), a 2015 New York City primary care -> cardiology
  referral network from CMS data (:func:`load_nyc_cardiology`) and a
  200-row sample of the CMS shared-patient files (:func:`load_cms_sample`).

The synthetic generator is fully vectorised (numpy, scipy ``cKDTree``); it
makes ~20 flows per physician, so 100,000 physicians give ~2 million flows
and 1,000,000 physicians ~20 million.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._distance import EARTH_RADIUS_KM, haversine_km
from ._errors import NotFoundError, ValidationError
from .model import EVENT_STATUSES, PRACTICE_KINDS

if TYPE_CHECKING:
    from .network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = [
    "CKM_TOWNS",
    "SYNTHETIC_PROVENANCE",
    "ckm_network",
    "dataset_path",
    "load_ckm",
    "load_cms_sample",
    "load_nyc_cardiology",
    "nyc_cardiology_network",
    "surrogate_npi",
    "synthetic_region",
    "synthetic_tables",
]

#: Provenance of every synthetic flow.
SYNTHETIC_PROVENANCE = "synthetic"

_EARTH_RADIUS_KM = EARTH_RADIUS_KM
_KM_PER_DEG = 111.195

# States and territories left out of the "continental US" (state=None).
_NON_CONTINENTAL = frozenset(
    {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"}
)

# ----------------------------------------------------------------------------------------------
# Specialty model: refgraph.specialties when available, else a small built-in vocabulary
# ----------------------------------------------------------------------------------------------

# Physician groups (drive practice placement and referral volume).
_PRIMARY, _URGENT, _EMERGENCY, _OBGYN, _MEDICAL, _SURGICAL, _HOSPITAL_BASED = range(7)

_PRIMARY_NAMES = frozenset(
    {
        "family_medicine",
        "internal_medicine",
        "pediatrics",
        "general_practice",
        "geriatric_medicine",
        "nurse_practitioner",
        "physician_assistant",
        "primary_care",
        "adolescent_medicine",
    }
)
_HOSPITAL_BASED_NAMES = frozenset(
    {
        "radiology",
        "diagnostic_radiology",
        "nuclear_medicine",
        "pathology",
        "anesthesiology",
        "hospitalist",
        "critical_care",
        "neonatology",
    }
)
_SURGICAL_NAMES = frozenset(
    {"urology", "otolaryngology", "ophthalmology", "podiatry", "oral_surgery"}
)

# Relative referral volume sent by a physician of each group.
_GROUP_INTENSITY = np.array([1.0, 0.6, 0.45, 0.5, 0.3, 0.2, 0.04])

# Built-in fallback: (specialty, share of clinicians, primary NUCC taxonomy code).
_BUILTIN_MIX: tuple[tuple[str, float, str], ...] = (
    ("family_medicine", 0.13, "207Q00000X"),
    ("internal_medicine", 0.13, "207R00000X"),
    ("pediatrics", 0.07, "208000000X"),
    ("nurse_practitioner", 0.11, "363L00000X"),
    ("obstetrics_gynecology", 0.04, "207V00000X"),
    ("emergency_medicine", 0.05, "207P00000X"),
    ("psychiatry", 0.045, "2084P0800X"),
    ("cardiology", 0.03, "207RC0000X"),
    ("gastroenterology", 0.02, "207RG0100X"),
    ("pulmonology", 0.015, "207RP1001X"),
    ("hematology_oncology", 0.02, "207RH0003X"),
    ("endocrinology", 0.01, "207RE0101X"),
    ("nephrology", 0.01, "207RN0300X"),
    ("neurology", 0.016, "2084N0400X"),
    ("dermatology", 0.014, "207N00000X"),
    ("orthopedic_surgery", 0.025, "207X00000X"),
    ("general_surgery", 0.03, "208600000X"),
    ("urology", 0.01, "208800000X"),
    ("otolaryngology", 0.01, "207Y00000X"),
    ("ophthalmology", 0.02, "207W00000X"),
    ("radiology", 0.035, "2085R0202X"),
)

# Built-in fallback: how often primary care refers to each specialty (relative).
_BUILTIN_PCP_TARGETS: dict[str, float] = {
    "cardiology": 0.12,
    "orthopedic_surgery": 0.10,
    "gastroenterology": 0.09,
    "dermatology": 0.08,
    "radiology": 0.08,
    "general_surgery": 0.06,
    "urology": 0.05,
    "ophthalmology": 0.05,
    "neurology": 0.05,
    "psychiatry": 0.05,
    "otolaryngology": 0.04,
    "pulmonology": 0.04,
    "hematology_oncology": 0.04,
    "endocrinology": 0.04,
    "nephrology": 0.03,
    "obstetrics_gynecology": 0.03,
}


# refgraph.specialties groups -> generator groups.
_GROUP_BY_LABEL = {
    "primary_care": _PRIMARY,
    "medical": _MEDICAL,
    "surgical": _SURGICAL,
    "hospital_based": _HOSPITAL_BASED,
    "diagnostic": _HOSPITAL_BASED,
    "behavioral": _MEDICAL,
    "allied": _MEDICAL,
}

# Referral volume sent, overriding the group default for a few specialties.
_INTENSITY_OVERRIDE = {
    "hospitalist": 0.4,
    "critical_care": 0.25,
    "neonatology": 0.15,
    "nurse_practitioner": 0.8,
    "physician_assistant": 0.6,
}


def _group_of(name: str, label: str | None = None) -> int:
    """Generator group of a specialty from its key (and its refgraph.specialties group)."""
    if name == "urgent_care":
        return _URGENT
    if name == "emergency_medicine":
        return _EMERGENCY
    if name == "obstetrics_gynecology":
        return _OBGYN
    if label is not None and label in _GROUP_BY_LABEL:
        return _GROUP_BY_LABEL[label]
    if name in _PRIMARY_NAMES:
        return _PRIMARY
    if name in _HOSPITAL_BASED_NAMES or "radiology" in name or "pathology" in name:
        return _HOSPITAL_BASED
    if name in _SURGICAL_NAMES or "surgery" in name:
        return _SURGICAL
    return _MEDICAL


@dataclass(frozen=True)
class _SpecialtyModel:
    names: tuple[str, ...]
    mix: np.ndarray  # share of physicians per specialty (sums to 1)
    taxonomy: tuple[str | None, ...]  # primary NUCC code per specialty (None: no code)
    target_p: np.ndarray  # (T, T) row-normalised P(target specialty | source specialty)
    intensity: np.ndarray  # relative referral volume sent per specialty
    group: np.ndarray  # physician group code per specialty
    origin: str


def _builtin_affinity(names: Sequence[str]) -> np.ndarray:
    """Source x target propensities of the built-in fallback vocabulary."""
    t = len(names)
    base = np.array([_BUILTIN_PCP_TARGETS.get(s, 0.0) for s in names])
    aff = np.zeros((t, t))
    for i, s in enumerate(names):
        g = _group_of(s)
        if g in (_PRIMARY, _URGENT, _EMERGENCY, _OBGYN):
            aff[i] = base
        else:  # specialists refer on to other specialists, imaging above all
            row = base * 0.5
            row[[j for j, n in enumerate(names) if "radiology" in n]] *= 3.0
            aff[i] = row
        aff[i, i] = 0.0
    return aff


@functools.lru_cache(maxsize=1)
def _specialty_model() -> _SpecialtyModel:
    """The specialty vocabulary, mix and referral affinity used by the generator."""
    vocab: Any
    try:
        from . import specialties as vocab
    except ImportError:
        vocab = None
    if vocab is not None:
        known, shares = vocab.SPECIALTIES, vocab.SPECIALTY_MIX
        names = tuple(s for s, w in shares.items() if s in known and w > 0)
        mix = np.array([float(shares[s]) for s in names])
        taxonomy = tuple(_primary_code(known[s]) for s in names)
        aff_df = vocab.referral_affinity()
        aff = (
            aff_df.reindex(index=list(names), columns=list(names))
            .fillna(0.0)
            .to_numpy(dtype=float, copy=True)
        )
        labels: list[str | None] = [getattr(known[s], "group", None) for s in names]
        origin = "refgraph.specialties"
    else:
        names = tuple(s for s, _, _ in _BUILTIN_MIX)
        mix = np.array([w for _, w, _ in _BUILTIN_MIX])
        taxonomy = tuple(c for _, _, c in _BUILTIN_MIX)
        aff = _builtin_affinity(names)
        labels = [None] * len(names)
        origin = "built-in"
    aff = np.clip(np.nan_to_num(aff), 0.0, None)
    group = np.array([_group_of(s, g) for s, g in zip(names, labels)], dtype=np.int64)
    rows = aff.sum(axis=1)
    base = np.array([_INTENSITY_OVERRIDE.get(s, _GROUP_INTENSITY[g]) for s, g in zip(names, group)])
    intensity = base * (rows > 0)
    target_p = np.divide(aff, rows[:, None], out=np.zeros_like(aff), where=rows[:, None] > 0)
    logger.debug("specialty model from %s: %d specialties", origin, len(names))
    return _SpecialtyModel(names, mix / mix.sum(), taxonomy, target_p, intensity, group, origin)


def _primary_code(spec: Any) -> str | None:
    codes = getattr(spec, "taxonomy_codes", None)
    if codes is None and isinstance(spec, dict):
        codes = spec.get("taxonomy_codes")
    return str(codes[0]) if codes else None


# ----------------------------------------------------------------------------------------------
# Geography helpers
# ----------------------------------------------------------------------------------------------


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Unit vectors on the sphere (for chord-distance k-d trees)."""
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _chord_to_km(chord: np.ndarray) -> np.ndarray:
    return 2.0 * _EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))


@functools.lru_cache(maxsize=1)
def _zip_table() -> dict[str, np.ndarray]:
    """Active standard US ZIP codes with centroids and an urban-density weight.

    The weight stands in for population (which ``zipcodes`` does not have): it
    grows with the number of other ZIP centroids within 12 km, since ZIP areas
    are small where people are many.
    """
    import zipcodes
    from scipy.spatial import cKDTree

    rows = [
        z
        for z in zipcodes.list_all()
        if z.get("zip_code_type") == "STANDARD" and z.get("active") and z.get("lat")
    ]
    lat = np.array([float(z["lat"]) for z in rows])
    lon = np.array([float(z["long"]) for z in rows])
    keep = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    xyz = _xyz(lat[keep], lon[keep])
    tree = cKDTree(xyz)
    chord = 2.0 * np.sin(12.0 / (2.0 * _EARTH_RADIUS_KM))
    neighbours = tree.query_ball_point(xyz, r=chord, return_length=True)
    return {
        "zip": np.array([z["zip_code"] for z in rows])[keep],
        "state": np.array([z["state"] for z in rows])[keep],
        "city": np.array([z["city"] for z in rows], dtype=object)[keep],
        "lat": lat[keep],
        "lon": lon[keep],
        "xyz": xyz,
        "weight": np.asarray(neighbours, dtype=float) ** 1.5,
    }


def _region_mask(
    state: str | Iterable[str] | None,
    center: tuple[float, float] | None,
    radius_km: float | None,
) -> np.ndarray:
    zt = _zip_table()
    if center is not None:
        try:
            clat, clon = (float(v) for v in center)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"center: expected (lat, lon), got {center!r}") from exc
        if not (-90 <= clat <= 90 and -180 <= clon <= 180):
            raise ValidationError(f"center: expected (lat, lon) in degrees, got {center!r}")
        radius = 60.0 if radius_km is None else float(radius_km)
        if not radius > 0:
            raise ValidationError(f"radius_km: expected a positive number, got {radius_km!r}")
        mask = haversine_km(clat, clon, zt["lat"], zt["lon"]) <= radius
        if not mask.any():
            raise ValidationError(f"no US ZIP code centroid within {radius:g} km of {center!r}")
        return mask
    if radius_km is not None:
        raise ValidationError("radius_km needs a center=(lat, lon)")
    if state is None:
        return ~np.isin(zt["state"], list(_NON_CONTINENTAL))
    states = [state] if isinstance(state, str) else list(state)
    states = [str(s).strip().upper() for s in states]
    unknown = sorted(set(states) - set(zt["state"].tolist()))
    if unknown or not states:
        raise ValidationError(
            f"state: unknown US state code(s) {unknown or states!r}; use two-letter codes "
            "such as 'MA', a list of them, or None for the continental US"
        )
    return np.isin(zt["state"], states)


# ----------------------------------------------------------------------------------------------
# NPIs
# ----------------------------------------------------------------------------------------------


def _npi_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Vectorised NPI check digits of nine-digit integer bodies (Luhn over 80840 + body)."""
    x = np.asarray(bodies, dtype=np.int64).copy()
    total = np.full(x.shape, 24, dtype=np.int64)  # Luhn contribution of the prefix 80840
    for i in range(9):  # i = 0 is the last body digit, which is doubled
        d = x % 10
        x //= 10
        if i % 2 == 0:
            d = d * 2
            d = np.where(d > 9, d - 9, d)
        total += d
    return (10 - total % 10) % 10


def surrogate_npi(node_id: int | np.ndarray, *, dataset: int = 0) -> Any:
    """Deterministic surrogate NPI(s) for datasets that identify physicians otherwise.

    The surrogate is ``"1"`` + ``f"{dataset:03d}"`` + ``f"{node_id:05d}"`` + the
    NPI check digit, so it is a *valid* NPI string (10 digits, Luhn check digit
    over ``80840`` + the first nine digits). Such numbers lie below
    ``1003000000``, below the range NPPES appears to have issued, so they are
    unlikely to coincide with a real NPI, but that is not guaranteed: treat them
    as labels, never as identities.

    Parameters
    ----------
    node_id
        Node number(s), ``0 <= node_id < 100000``.
    dataset
        Dataset code, ``0 <= dataset < 1000`` (CKM uses 0, NYC cardiology 1).

    Returns
    -------
    str or numpy.ndarray
        One NPI string, or an array of them for an array input.

    Examples
    --------
    >>> surrogate_npi(1)
    '1000000012'
    >>> from refgraph._validate import is_valid_npi
    >>> is_valid_npi(surrogate_npi(246))
    True
    >>> surrogate_npi([0, 385], dataset=1).tolist()
    ['1001000003', '1001003858']
    """
    ids = np.asarray(node_id, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= 100_000):
        raise ValidationError("node_id: expected integers in [0, 100000)")
    if not 0 <= dataset < 1000:
        raise ValidationError(f"dataset: expected an integer in [0, 1000), got {dataset!r}")
    bodies = 100_000_000 + dataset * 100_000 + ids
    full = bodies * 10 + _npi_check_digits(bodies)
    if full.ndim == 0:
        return str(int(full))
    return full.astype(str).astype(object)


def _random_npis(rng: np.random.Generator, n: int) -> pd.Series:
    """``n`` distinct random valid NPI strings starting with ``1`` (type-1 style)."""
    bodies = 100_000_000 + rng.choice(100_000_000, size=n, replace=False).astype(np.int64)
    full = bodies * 10 + _npi_check_digits(bodies)
    return pd.Series(full).astype("string")


# ----------------------------------------------------------------------------------------------
# The synthetic generator
# ----------------------------------------------------------------------------------------------

# Practice kinds in model.PRACTICE_KINDS order:
# primary_care_clinic, urgent_care, hospital, multi_specialty_group,
# single_specialty_group, ambulatory_surgery_center, other
_KIND_SHARE = np.array([0.36, 0.06, 0.025, 0.05, 0.34, 0.035, 0.13])
_KIND_MEDIAN_SIZE = np.array([4.0, 4.0, 50.0, 15.0, 4.0, 4.0, 2.0])
_KIND_SIZE_SIGMA = np.array([0.6, 0.5, 0.8, 0.6, 0.6, 0.5, 0.5])
_KIND_LABEL = (
    "Primary Care",
    "Urgent Care",
    "Hospital",
    "Multispecialty Group",
    "Specialty Group",
    "Surgery Center",
    "Clinic",
)
# Probability that a practice of each kind belongs to a health system.
_KIND_SYSTEM_P = np.array([0.45, 0.55, 0.8, 0.5, 0.25, 0.3, 0.1])
# Where each physician group works: probability of each practice kind (single-specialty
# groups only take physicians of their own specialty; kinds without a suitable practice in
# the region are skipped and the rest renormalised).
_GROUP_KIND = np.array(
    [
        # pcc   urgent hosp  msg   ssg   asc   other
        [0.62, 0.04, 0.08, 0.18, 0.00, 0.00, 0.08],  # primary care
        [0.00, 0.80, 0.10, 0.00, 0.00, 0.00, 0.10],  # urgent care
        [0.00, 0.10, 0.90, 0.00, 0.00, 0.00, 0.00],  # emergency medicine
        [0.05, 0.00, 0.25, 0.20, 0.50, 0.00, 0.00],  # obstetrics/gynecology
        [0.00, 0.00, 0.30, 0.20, 0.45, 0.00, 0.05],  # medical specialties
        [0.00, 0.00, 0.35, 0.15, 0.40, 0.10, 0.00],  # surgical specialties
        [0.00, 0.00, 0.75, 0.05, 0.20, 0.00, 0.00],  # hospital-based and diagnostic
    ]
)
_SSG = PRACTICE_KINDS.index("single_specialty_group")
_HOSPITAL = PRACTICE_KINDS.index("hospital")
_PCC = PRACTICE_KINDS.index("primary_care_clinic")

# Monthly seasonality of referrals (January..December): summer and December dips.
_SEASON = np.array([1.05, 1.05, 1.08, 1.02, 1.00, 0.95, 0.86, 0.90, 1.00, 1.05, 0.98, 0.84])

_TOUCHPOINT_KINDS = ("visit", "letter", "call", "event", "email")
_TOUCHPOINT_P = np.array([0.35, 0.10, 0.20, 0.10, 0.25])
_TOUCHPOINT_NOTES: dict[str, tuple[str, ...]] = {
    "visit": (
        "Synthetic: office visit with physician and staff",
        "Synthetic: lunch-and-learn at the practice",
        "Synthetic: dropped off referral pads and clinic brochure",
    ),
    "letter": (
        "Synthetic: letter announcing a new clinic location",
        "Synthetic: thank-you letter for recent referrals",
    ),
    "call": (
        "Synthetic: call with practice manager about scheduling",
        "Synthetic: follow-up call after a referred patient was seen",
    ),
    "event": (
        "Synthetic: invited to CME dinner",
        "Synthetic: met at regional grand rounds",
    ),
    "email": (
        "Synthetic: newsletter email",
        "Synthetic: email with new-service information",
    ),
}

_K_NEAREST_CELLS = 64  # candidate target ZIP cells per (source ZIP, target specialty)
_SIR_CANDIDATES = 3  # proposals per referral slot for the same-practice/system bonus
_BONUS_SAME_PRACTICE = 6.0
_BONUS_SAME_SYSTEM = 3.0
_RECIPROCAL_SHARE = 0.07


def _mark(df: pd.DataFrame, table: str, seed: int) -> pd.DataFrame:
    df.attrs["synthetic"] = True
    df.attrs["generator"] = "refgraph.datasets.synthetic_tables"
    df.attrs["table"] = table
    df.attrs["seed"] = seed
    return df


def _zero_pad(values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(values).astype("string").str.zfill(width)


def _jitter(
    rng: np.random.Generator, lat: np.ndarray, lon: np.ndarray, sigma_km: float
) -> tuple[np.ndarray, np.ndarray]:
    dy = rng.normal(0.0, sigma_km, lat.size)
    dx = rng.normal(0.0, sigma_km, lat.size)
    new_lat = np.clip(lat + dy / _KM_PER_DEG, -89.9, 89.9)
    new_lon = lon + dx / (_KM_PER_DEG * np.cos(np.radians(new_lat)))
    return new_lat, new_lon


def _choice_rows(rng: np.random.Generator, cdf: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one column per entry of ``rows`` from row-wise normalised CDFs ``cdf``."""
    k = cdf.shape[1]
    flat = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
    pos = np.searchsorted(flat, rows + rng.random(rows.size), side="right")
    return np.clip(pos - rows * k, 0, k - 1)


def _const_strings(value: str, n: int) -> Any:
    """A string array holding ``value`` ``n`` times (fast, via an Arrow take)."""
    return pd.array([value], dtype="string").take(np.zeros(n, dtype=np.intp))


def _const_dates(value: np.datetime64, n: int) -> np.ndarray:
    out = np.empty(n, dtype="datetime64[ns]")
    out[:] = value.astype("datetime64[ns]")
    return out


def _run_starts(xs: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal values in ``xs``."""
    flag = np.empty(xs.size, dtype=bool)
    flag[:1] = True
    np.not_equal(xs[1:], xs[:-1], out=flag[1:])
    return flag


def _unique_sorted(x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` by sorting (faster than numpy's hash path for large int arrays)."""
    xs = np.sort(x)
    return xs[_run_starts(xs)]


def _unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` by sorting."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    flag = _run_starts(xs)
    inv = np.empty(x.size, dtype=np.int64)
    inv[order] = np.cumsum(flag) - 1
    return xs[flag], inv


def _unique_small(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(x, return_inverse=True)`` for integers in ``[0, size)`` (counting, O(n))."""
    present = np.bincount(x, minlength=size) > 0
    lookup = np.cumsum(present) - 1
    return np.flatnonzero(present), lookup[x]


def _row_cdf(w: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(w, axis=1)
    tot = cdf[:, -1:]
    return np.divide(cdf, tot, out=np.ones_like(cdf), where=tot > 0)


def synthetic_tables(
    n_physicians: int = 2000,
    *,
    seed: int = 0,
    state: str | Iterable[str] | None = "MA",
    center: tuple[float, float] | None = None,
    radius_km: float | None = None,
    events: bool = False,
    start: str | pd.Timestamp = "2024-01-01",
    months: int = 12,
    touchpoints: bool = False,
    flows_per_physician: float = 20.0,
    distance_scale_km: float = 15.0,
) -> dict[str, pd.DataFrame]:
    """Generate the tables of a SYNTHETIC regional referral network.

    Practices sit on real US ZIP code centroids; everything else (names,
    NPIs, systems, flows, events, touchpoints) is invented and marked as
    synthetic. The result is deterministic for a given ``seed`` and the other
    parameters, and the flows do not depend on ``events`` or ``touchpoints``.

    The model, in order:

    1. **Places.** The region's active standard ZIP codes (``state``, or
       within ``radius_km`` of ``center``) get a density weight (number of
       ZIP centroids within 12 km, to the power 1.5) standing in for
       population; practices are placed on ZIPs with probability
       proportional to it (hospitals more strongly), with ~1 km of jitter.
    2. **Practices** of the kinds in :data:`refgraph.model.PRACTICE_KINDS`
       with lognormal sizes (hospitals ~60 physicians, primary care ~4);
       single-specialty groups have a specialty. A few **health systems**
       grow around hub hospitals (weighted Voronoi regions of lognormal
       strength); most hospitals and about half of the clinics nearby belong
       to one, so a few systems own many practices.
    3. **Physicians**: specialty drawn from the specialty mix
       (``refgraph.specialties.SPECIALTY_MIX`` when available), placed in a
       compatible practice (emergency physicians in hospitals, specialists in
       groups of their specialty, multispecialty groups or hospitals, ...),
       ``taxonomy`` = the specialty's primary NUCC code, coordinates = the
       practice's plus ~50 m. NPIs are distinct random valid NPIs
       (``1xxxxxxxxc``); names are ``"Synthetic Physician 000123"``.
    4. **Flows** from a gravity model. Each source's referral volume is
       lognormal (primary care highest, specialists lower, hospital-based
       specialties ~0), its number of distinct targets grows as volume^0.75.
       Each referral picks a target specialty with probability ∝ the
       referral affinity (``refgraph.specialties.referral_affinity()``) ×
       sqrt(number of physicians of the specialty, so that rare
       specialties are not swamped), then a target with
       probability ∝ attractiveness (lognormal; 2% "star" physicians ×4-12)
       × ``exp(-distance / distance_scale_km)`` × a same-practice (×6) or
       same-system (×3) bonus. For speed, candidates are the 64 nearest ZIPs
       holding that specialty (scipy ``cKDTree``), and the bonus is applied by
       sampling-importance-resampling over 3 proposals. Duplicate pairs are
       merged; ``count`` = 1 + Poisson share of the source's volume,
       ``patients`` = 1 + Binomial(count - 1, 0.7) (so ``patients <= count``).
       Specialists refer to other specialists when the affinity says so, and
       ~7% of flows get a smaller reciprocal flow back.
    5. **Events** (``events=True``): one row per referral (``sum(count)``
       rows), consistent with the flows: a business day drawn with monthly
       seasonality; 5% of sources decline over the period and 2% stop
       referring at some month (their flow counts reflect this). ``status`` is
       the furthest funnel stage reached (referred -> scheduled -> seen ->
       converted; in-system referrals schedule more often; referrals near the
       period end have not progressed yet).
    6. **Touchpoints** (``touchpoints=True``): outreach by a few synthetic
       liaisons to ~10% of the referring physicians, favouring high-volume
       referrers.

    Parameters
    ----------
    n_physicians
        Number of physicians (2 to a few million; 1,000,000 takes ~30 s of CPU
        and ~3 GB of memory, ~20 million flows).
    seed
        Seed of the random generator.
    state
        Two-letter state code, a list of codes, or ``None`` for the
        continental US (48 states + DC). Ignored when ``center`` is given.
    center
        ``(lat, lon)`` of a region centre; with it, the region is every ZIP
        centroid within ``radius_km`` (default 60 km), whatever its state.
    radius_km
        Region radius around ``center``.
    events
        Also generate the ``events`` table (one row per referral; its size is
        the total flow volume, roughly 100-150 rows per physician per year).
    start
        First day of the period covered by flows and events.
    months
        Length of the period in months.
    touchpoints
        Also generate the ``touchpoints`` table.
    flows_per_physician
        Target mean number of distinct flows per physician (reached up to a
        few percent; fewer when the region is too small to hold that many
        distinct pairs).
    distance_scale_km
        Scale of the exponential distance decay of the gravity model.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``physicians``, ``practices``, ``flows`` and, when asked for,
        ``events`` and ``touchpoints``, each with the canonical columns of
        :mod:`refgraph.model` (events also have ``referral_id``, touchpoints
        ``rep``) and ``attrs["synthetic"] = True``.

    Raises
    ------
    ValidationError
        On invalid parameters (unknown state, empty region, ``n_physicians < 2``).

    Examples
    --------
    >>> tables = synthetic_tables(300, seed=1, events=True, touchpoints=True)
    >>> sorted(tables)
    ['events', 'flows', 'physicians', 'practices', 'touchpoints']
    >>> len(tables["physicians"]), tables["physicians"]["npi"].str.len().unique().tolist()
    (300, [10])
    >>> tables["physicians"]["name"].iloc[0]
    'Synthetic Physician 000000'
    >>> tables["flows"]["provenance"].unique().tolist()
    ['synthetic']
    >>> bool((tables["flows"]["patients"] <= tables["flows"]["count"]).all())
    True
    >>> int(tables["flows"]["count"].sum()) == len(tables["events"])
    True
    >>> all(df.attrs["synthetic"] for df in tables.values())
    True
    >>> synthetic_tables(300, seed=1)["flows"].equals(tables["flows"])
    True
    """
    n = _check_int(n_physicians, "n_physicians", minimum=2)
    months = _check_int(months, "months", minimum=1)
    seed = _check_int(seed, "seed", minimum=0)
    if not flows_per_physician > 0:
        raise ValidationError(
            f"flows_per_physician: expected a positive number, got {flows_per_physician!r}"
        )
    if not distance_scale_km > 0:
        raise ValidationError(
            f"distance_scale_km: expected a positive number, got {distance_scale_km!r}"
        )
    try:
        t0 = pd.Timestamp(start).normalize()
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"start: expected a date, got {start!r}") from exc
    period_start = np.datetime64(t0.date(), "D")
    t1 = t0 + pd.DateOffset(months=months) - pd.Timedelta(days=1)
    period_end = np.datetime64(t1.date(), "D")

    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    rng_place, rng_phys, rng_flows, rng_counts, rng_events, rng_touch = streams

    model = _specialty_model()
    zt = _zip_table()
    region = np.flatnonzero(_region_mask(state, center, radius_km))
    if n > 200 * region.size:
        logger.warning(
            "%d physicians on %d ZIP codes is far denser than real US regions; "
            "consider state=None (continental US) or a larger radius",
            n,
            region.size,
        )

    prac = _make_practices(rng_place, n, region, zt)
    phys = _make_physicians(rng_phys, n, model, prac, zt)
    # Drop practices that got no physician and renumber.
    used = np.zeros(prac["kind"].size, dtype=bool)
    used[phys["practice"]] = True
    remap = np.cumsum(used) - 1
    phys["practice"] = remap[phys["practice"]]
    for key in list(prac):
        prac[key] = prac[key][used]
    prac_sys = _rank_systems(prac["system"])

    flows = _make_flows(
        rng_flows,
        rng_counts,
        n,
        model,
        phys,
        prac_sys,
        zt,
        months=months,
        fpp=float(flows_per_physician),
        scale_km=float(distance_scale_km),
    )

    # ---- tables
    npi = _random_npis(rng_phys, n)
    width = max(6, len(str(n - 1)))
    pwidth = max(5, len(str(prac["kind"].size - 1)))
    practice_ids = ("SP" + _zero_pad(np.arange(prac["kind"].size), pwidth)).to_numpy()
    zip_str = zt["zip"]
    spec_names = np.array(model.names, dtype=object)
    tax = np.array(model.taxonomy, dtype=object)
    pz = prac["zip"]
    physicians = pd.DataFrame(
        {
            "npi": npi,
            "name": "Synthetic Physician " + _zero_pad(np.arange(n), width),
            "specialty": pd.array(spec_names[phys["spec"]], dtype="string"),
            "taxonomy": pd.array(tax[phys["spec"]], dtype="string"),
            "practice_id": pd.array(practice_ids[phys["practice"]], dtype="string"),
            "zip": pd.array(zip_str[pz[phys["practice"]]], dtype="string"),
            "lat": phys["lat"],
            "lon": phys["lon"],
        }
    )
    kinds = np.array(PRACTICE_KINDS, dtype=object)[prac["kind"]]
    labels = np.array(_KIND_LABEL, dtype=object)[prac["kind"]]
    n_sys = int(prac_sys.max()) + 1 if prac_sys.size and prac_sys.max() >= 0 else 0
    sys_names = np.array(
        [f"Synthetic Health System {i + 1:02d}" for i in range(n_sys)] + [None], dtype=object
    )
    city = zt["city"][pz]
    street_no = rng_place.integers(1, 2000, pz.size)
    address = (
        pd.Series(street_no).astype("string")
        + " Synthetic Way, "
        + pd.Series(city, dtype="string")
        + ", "
        + pd.Series(zt["state"][pz], dtype="string")
        + " "
        + pd.Series(zip_str[pz], dtype="string")
    )
    practices = pd.DataFrame(
        {
            "practice_id": pd.array(practice_ids, dtype="string"),
            "name": "Synthetic "
            + pd.Series(labels, dtype="string")
            + " "
            + pd.Series(practice_ids, dtype="string"),
            "kind": pd.array(kinds, dtype="string"),
            "system": pd.array(sys_names[prac_sys], dtype="string"),
            "address": address,
            "zip": pd.array(zip_str[pz], dtype="string"),
            "lat": prac["lat"],
            "lon": prac["lon"],
        }
    )
    npi_arr = npi.array
    f_src, f_tgt = flows["src"], flows["tgt"]
    n_flows = f_src.size
    ps = _const_dates(period_start, n_flows)
    pe = _const_dates(period_end, n_flows)
    flows_df = pd.DataFrame(
        {
            "source_npi": npi_arr.take(f_src),
            "target_npi": npi_arr.take(f_tgt),
            "count": flows["count"],
            "patients": flows["patients"],
            "period_start": ps,
            "period_end": pe,
            "provenance": _const_strings(SYNTHETIC_PROVENANCE, n_flows),
        }
    )
    out = {
        "physicians": _mark(physicians, "physicians", seed),
        "practices": _mark(practices, "practices", seed),
        "flows": _mark(flows_df, "flows", seed),
    }
    if events:
        ev = _make_events(rng_events, flows, phys, prac_sys, period_start, period_end, npi_arr)
        out["events"] = _mark(ev, "events", seed)
    if touchpoints:
        tp = _make_touchpoints(rng_touch, phys, model, period_start, period_end, npi_arr)
        out["touchpoints"] = _mark(tp, "touchpoints", seed)
    logger.info(
        "synthetic_tables: %d physicians, %d practices, %d systems, %d flows (%s specialties)",
        n,
        len(practices),
        n_sys,
        n_flows,
        model.origin,
    )
    return out


def _check_int(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{name}: expected an integer, got {value!r}")
    if value < minimum:
        raise ValidationError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _make_practices(
    rng: np.random.Generator, n: int, region: np.ndarray, zt: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Practices: kind, capacity, ZIP, location, system (-1 = independent)."""
    n_prac = max(4, round(n / 5))
    kind = rng.choice(len(PRACTICE_KINDS), size=n_prac, p=_KIND_SHARE / _KIND_SHARE.sum())
    kind[0], kind[1] = _HOSPITAL, _PCC  # every region has a hospital and a clinic
    cap = np.exp(
        np.log(_KIND_MEDIAN_SIZE[kind]) + _KIND_SIZE_SIGMA[kind] * rng.standard_normal(n_prac)
    )
    w = zt["weight"][region]
    hosp = kind == _HOSPITAL
    zip_idx = np.empty(n_prac, dtype=np.int64)
    for mask, power in ((hosp, 1.4), (~hosp, 1.0)):
        p = w**power
        zip_idx[mask] = region[rng.choice(region.size, size=int(mask.sum()), p=p / p.sum())]
    lat, lon = _jitter(rng, zt["lat"][zip_idx], zt["lon"][zip_idx], 1.0)
    system = _assign_systems(rng, kind, lat, lon)
    return {"kind": kind, "cap": cap, "zip": zip_idx, "lat": lat, "lon": lon, "system": system}


def _assign_systems(
    rng: np.random.Generator, kind: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> np.ndarray:
    """Health systems around hub hospitals; returns a system id per practice (-1 = none)."""
    from scipy.spatial import cKDTree

    system = np.full(kind.size, -1, dtype=np.int64)
    hospitals = np.flatnonzero(kind == _HOSPITAL)
    n_sys = max(1, round(0.8 * hospitals.size**0.6))
    hubs = rng.choice(hospitals, size=n_sys, replace=False)
    strength = np.exp(0.7 * rng.standard_normal(n_sys))
    d = haversine_km(lat[hospitals][:, None], lon[hospitals][:, None], lat[hubs], lon[hubs])
    system[hospitals] = np.argmin((d + 5.0) / strength, axis=1)
    independent = rng.random(hospitals.size) > _KIND_SYSTEM_P[_HOSPITAL]
    system[hospitals[independent]] = -1
    system[hubs] = np.arange(n_sys)
    member_h = np.flatnonzero((kind == _HOSPITAL) & (system >= 0))
    others = np.flatnonzero(kind != _HOSPITAL)
    joins = others[rng.random(others.size) < _KIND_SYSTEM_P[kind[others]]]
    if joins.size and member_h.size:
        k = min(3, member_h.size)
        tree = cKDTree(_xyz(lat[member_h], lon[member_h]))
        chord, nb = tree.query(_xyz(lat[joins], lon[joins]), k=k)
        chord, nb = chord.reshape(joins.size, k), nb.reshape(joins.size, k)
        dist = _chord_to_km(chord)
        wt = np.exp(-(dist - dist[:, :1]) / 25.0)
        col = _choice_rows(rng, _row_cdf(wt), np.arange(joins.size))
        system[joins] = system[member_h[nb[np.arange(joins.size), col]]]
    return system


def _rank_systems(system: np.ndarray) -> np.ndarray:
    """Renumber systems 0, 1, ... by number of practices, largest first (-1 stays -1)."""
    ids, counts = np.unique(system[system >= 0], return_counts=True)
    if ids.size == 0:
        return system
    order = ids[np.argsort(-counts, kind="stable")]
    rank = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    rank[order] = np.arange(order.size)
    return np.where(system >= 0, rank[np.maximum(system, 0)], -1)


def _make_physicians(
    rng: np.random.Generator,
    n: int,
    model: _SpecialtyModel,
    prac: dict[str, np.ndarray],
    zt: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Physicians: specialty, practice (loop over specialties, not physicians), location."""
    t = len(model.names)
    spec = rng.choice(t, size=n, p=model.mix)
    kind, cap = prac["kind"], prac["cap"]
    # Single-specialty groups get a specialty among the non-primary-care ones.
    ssg = np.flatnonzero(kind == _SSG)
    ssg_ok = ~np.isin(model.group, [_PRIMARY, _URGENT, _EMERGENCY])
    ssg_p = model.mix * ssg_ok
    prac_spec = np.full(kind.size, -1, dtype=np.int64)
    if ssg.size and ssg_p.sum() > 0:
        prac_spec[ssg] = rng.choice(t, size=ssg.size, p=ssg_p / ssg_p.sum())
    practice = np.empty(n, dtype=np.int64)
    order = np.argsort(spec, kind="stable")
    bounds = np.searchsorted(spec[order], np.arange(t + 1))
    n_kinds = len(PRACTICE_KINDS)
    for s in range(t):
        who = order[bounds[s] : bounds[s + 1]]
        if who.size == 0:
            continue
        # Level 1: the kind of practice; level 2: a practice of that kind by capacity.
        eligible = (kind != _SSG) | (prac_spec == s)
        has_kind = np.bincount(kind[eligible], minlength=n_kinds) > 0
        pk = _GROUP_KIND[model.group[s]] * has_kind
        if not pk.sum() > 0:
            pk = has_kind.astype(float)
        chosen_kind = rng.choice(n_kinds, size=who.size, p=pk / pk.sum())
        for k in np.unique(chosen_kind):
            cand = np.flatnonzero(eligible & (kind == k))
            sel = who[chosen_kind == k]
            practice[sel] = cand[
                rng.choice(cand.size, size=sel.size, p=cap[cand] / cap[cand].sum())
            ]
    lat, lon = _jitter(rng, prac["lat"][practice], prac["lon"][practice], 0.05)
    # Attractiveness as a referral target: lognormal, a few stars, hospital/group premium.
    attr = np.exp(0.8 * rng.standard_normal(n))
    stars = rng.random(n) < 0.02
    attr[stars] *= rng.uniform(4.0, 12.0, int(stars.sum()))
    attr *= np.where(np.isin(kind[practice], [_HOSPITAL, 3]), 1.4, 1.0)
    return {
        "spec": spec,
        "practice": practice,
        "lat": lat,
        "lon": lon,
        "attr": attr,
        "zip": prac["zip"][practice],
    }


def _source_volumes(
    rng: np.random.Generator, n: int, model: _SpecialtyModel, spec: np.ndarray, months: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Referral volume per physician, trend type (0 steady, 1 declining, 2 stopping), stop month."""
    volume = model.intensity[spec] * np.exp(np.log(200.0) + 0.8 * rng.standard_normal(n))
    volume *= months / 12.0
    trend = rng.choice(3, size=n, p=[0.93, 0.05, 0.02])
    stop = np.full(n, months, dtype=np.int64)
    if months > 1:
        n_stop = int((trend == 2).sum())
        stop[trend == 2] = rng.integers(max(1, months // 4), months, n_stop, endpoint=False)
        profile_mean = np.ones(n)
        profile_mean[trend == 1] = _decline_profile(months).mean()
        profile_mean[trend == 2] = stop[trend == 2] / months
        volume *= profile_mean
    else:
        trend[:] = 0
    return volume, trend, stop


def _decline_profile(months: int) -> np.ndarray:
    if months == 1:
        return np.ones(1)
    return 1.0 - 0.75 * np.arange(months) / (months - 1)


def _make_flows(
    rng: np.random.Generator,
    rng_counts: np.random.Generator,
    n: int,
    model: _SpecialtyModel,
    phys: dict[str, np.ndarray],
    prac_sys: np.ndarray,
    zt: dict[str, np.ndarray],
    *,
    months: int,
    fpp: float,
    scale_km: float,
) -> dict[str, np.ndarray]:
    spec = phys["spec"]
    volume, trend, stop = _source_volumes(rng, n, model, spec, months)
    phys["volume"], phys["trend"], phys["stop"] = volume, trend, stop
    target = round(fpp * n)
    primary_target = round(target / (1.0 + _RECIPROCAL_SHARE))
    breadth = volume**0.75
    sources = np.flatnonzero(breadth > 0)
    p_src = breadth[sources] / breadth[sources].sum() if sources.size else breadth[sources]
    # The number of possible targets bounds the out-degree of each source.
    supply = np.sqrt(np.bincount(spec, minlength=len(model.names)))
    reach = (model.target_p > 0) @ np.bincount(spec, minlength=len(model.names))
    max_deg = np.maximum(1, (0.8 * reach[spec[sources]]).astype(np.int64))

    keys = np.empty(0, dtype=np.int64)
    deficit = primary_target
    for round_no in range(4):
        if deficit <= 0 or sources.size == 0:
            break
        n_slots = int(deficit * (1.25 if round_no == 0 else 1.6))
        k = np.minimum(rng.poisson(n_slots * p_src), max_deg)
        src = np.repeat(sources, k)
        tgt = _draw_targets(rng, src, model, phys, prac_sys, zt, supply, scale_km)
        ok = tgt >= 0
        keys = _unique_sorted(np.concatenate([keys, src[ok] * n + tgt[ok]]))
        deficit = primary_target - keys.size
        logger.debug("flows round %d: %d slots, %d distinct pairs", round_no, src.size, keys.size)
    # Multiplicity is not tracked across rounds: every pair starts equal.
    if keys.size > primary_target:
        keep = np.sort(rng.choice(keys.size, size=primary_target, replace=False))
        keys = keys[keep]
    f_src, f_tgt = keys // n, keys % n

    # Counts: the source's volume shared over its flows by target attractiveness and noise.
    w = phys["attr"][f_tgt] ** 0.5 * rng_counts.gamma(0.8, 1 / 0.8, f_src.size)
    wsum = np.bincount(f_src, weights=w, minlength=n)
    nf = np.bincount(f_src, minlength=n)
    extra = np.maximum(volume - nf, 0.0)
    lam = extra[f_src] * w / np.where(wsum[f_src] > 0, wsum[f_src], 1.0)
    count = 1 + rng_counts.poisson(lam)

    # Reciprocal flows: the specialist sends some patients back (or on) to the source.
    p_rec = np.clip(0.035 * np.log1p(count), 0.0, 0.5)
    rec = np.flatnonzero(rng_counts.random(f_src.size) < p_rec)
    rec_count = 1 + rng_counts.poisson(0.25 * count[rec])
    all_keys = np.concatenate([f_src * n + f_tgt, f_tgt[rec] * n + f_src[rec]])
    all_count = np.concatenate([count, rec_count])
    ukeys, inv = _unique_inverse(all_keys)
    count = np.bincount(inv, weights=all_count).astype(np.int64)
    patients = 1 + rng_counts.binomial(count - 1, 0.7)
    return {"src": ukeys // n, "tgt": ukeys % n, "count": count, "patients": patients}


def _draw_targets(
    rng: np.random.Generator,
    src: np.ndarray,
    model: _SpecialtyModel,
    phys: dict[str, np.ndarray],
    prac_sys: np.ndarray,
    zt: dict[str, np.ndarray],
    supply: np.ndarray,
    scale_km: float,
) -> np.ndarray:
    """One target physician per referral slot (``-1`` when none could be drawn).

    The target specialty is drawn ∝ affinity × sqrt(number of physicians of that
    specialty), so that rare specialties are not swamped by referrals.
    """
    from scipy.spatial import cKDTree

    t_count = len(model.names)
    spec, pzip, attr, practice = phys["spec"], phys["zip"], phys["attr"], phys["practice"]
    # Target specialty per slot, from the affinity row of the source's specialty.
    slot_t = np.full(src.size, -1, dtype=np.int64)
    src_spec = spec[src]
    order = np.argsort(src_spec, kind="stable")
    bounds = np.searchsorted(src_spec[order], np.arange(t_count + 1))
    for s in range(t_count):
        idx = order[bounds[s] : bounds[s + 1]]
        p = model.target_p[s] * supply
        if idx.size == 0 or not p.sum() > 0:
            continue
        slot_t[idx] = rng.choice(t_count, size=idx.size, p=p / p.sum())
    tgt = np.full(src.size, -1, dtype=np.int64)
    # Slots by target specialty, then source ZIP (memory locality of the lookups below).
    n_zips = int(pzip.max()) + 1
    order = np.argsort(slot_t * n_zips + pzip[src])
    bounds = np.searchsorted(slot_t[order], np.arange(t_count + 1))
    spec_order = np.argsort(spec, kind="stable")
    spec_bounds = np.searchsorted(spec[spec_order], np.arange(t_count + 1))
    m = _SIR_CANDIDATES
    for t in range(t_count):
        idx = order[bounds[t] : bounds[t + 1]]
        members = spec_order[spec_bounds[t] : spec_bounds[t + 1]]
        if idx.size == 0 or members.size == 0:
            continue
        # Cells = ZIP codes holding physicians of specialty t; mass = sum of attractiveness.
        members = members[np.argsort(pzip[members], kind="stable")]
        cum = np.cumsum(attr[members])
        cell_start = np.flatnonzero(_run_starts(pzip[members]))
        cell_zip = pzip[members][cell_start]
        cell_end = np.append(cell_start[1:], members.size)
        cell_lo = np.where(cell_start > 0, cum[np.maximum(cell_start - 1, 0)], 0.0)
        cell_mass = cum[cell_end - 1] - cell_lo
        src_zip, inv = _unique_small(pzip[src[idx]], n_zips)
        k = min(_K_NEAREST_CELLS, cell_zip.size)
        tree = cKDTree(zt["xyz"][cell_zip])
        chord, nb = tree.query(zt["xyz"][src_zip], k=k, workers=-1)
        chord, nb = chord.reshape(src_zip.size, k), nb.reshape(src_zip.size, k)
        dist = _chord_to_km(chord)
        w = cell_mass[nb] * np.exp(-(dist - dist[:, :1]) / scale_km)
        rows = np.repeat(inv, m)
        cell = nb[rows, _choice_rows(rng, _row_cdf(w), rows)]
        r = cell_lo[cell] + rng.random(rows.size) * cell_mass[cell]
        j = np.clip(np.searchsorted(cum, r, side="right"), cell_start[cell], cell_end[cell] - 1)
        cand = members[j].reshape(idx.size, m)
        s_idx = src[idx][:, None]
        sp, cp = practice[s_idx], practice[cand]
        ss, cs = prac_sys[sp], prac_sys[cp]
        bonus = np.where(
            sp == cp,
            _BONUS_SAME_PRACTICE,
            np.where((ss == cs) & (ss >= 0), _BONUS_SAME_SYSTEM, 1.0),
        )
        bonus = np.where(cand == s_idx, 0.0, bonus)
        pick = _choice_rows(rng, _row_cdf(bonus), np.arange(idx.size))
        chosen = cand[np.arange(idx.size), pick]
        tgt[idx] = np.where(bonus.sum(axis=1) > 0, chosen, -1)
    return tgt


def _business_days(
    start: np.datetime64, end: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Business days of the period, the period-month of each, first index and count per month."""
    days = np.arange(start, end + np.timedelta64(1, "D"), dtype="datetime64[D]")
    bdays = days[np.is_busday(days)]
    if bdays.size == 0:
        bdays = days
    ym = bdays.astype("datetime64[M]").astype(np.int64)
    month = ym - start.astype("datetime64[M]").astype(np.int64)
    n_months = int(end.astype("datetime64[M]").astype(np.int64) - ym.min() + 1)
    first = np.searchsorted(month, np.arange(n_months))
    per_month = np.bincount(month, minlength=n_months)
    return bdays, month, first, per_month


def _make_events(
    rng: np.random.Generator,
    flows: dict[str, np.ndarray],
    phys: dict[str, np.ndarray],
    prac_sys: np.ndarray,
    period_start: np.datetime64,
    period_end: np.datetime64,
    npi_arr: Any,
) -> pd.DataFrame:
    bdays, _, first, per_month = _business_days(period_start, period_end)
    n_months = per_month.size
    cal_month = (period_start.astype("datetime64[M]").astype(np.int64) + np.arange(n_months)) % 12
    season = _SEASON[cal_month] * (per_month > 0)
    # Monthly profiles: row 0 steady, row 1 declining, row 2 + s stopping at month s.
    profiles = np.vstack(
        [
            season,
            season * _decline_profile(n_months),
            season * (np.arange(n_months)[None, :] < np.arange(n_months + 1)[:, None]),
        ]
    )
    profiles[2] = season  # a stop at month 0 never happens; keep the row valid
    cdf = _row_cdf(profiles)
    count = flows["count"]
    e_flow = np.repeat(np.arange(count.size), count)
    e_src, e_tgt = flows["src"][e_flow], flows["tgt"][e_flow]
    trend, stop = phys["trend"][e_src], phys["stop"][e_src]
    row = np.where(trend == 0, 0, np.where(trend == 1, 1, 2 + np.minimum(stop, n_months)))
    month = _choice_rows(rng, cdf, row)
    day_idx = first[month] + np.floor(rng.random(month.size) * per_month[month]).astype(np.int64)
    day_idx = np.minimum(day_idx, bdays.size - 1)
    dates = bdays[day_idx]
    # Funnel: referred -> scheduled -> seen -> converted; recent referrals lag behind.
    days_left = (period_end - dates).astype(np.int64)
    ss = prac_sys[phys["practice"][e_src]]
    same_sys = (ss >= 0) & (ss == prac_sys[phys["practice"][e_tgt]])
    u = rng.random((3, dates.size))
    scheduled = (u[0] < 0.74 + 0.12 * same_sys) & (days_left >= 2)
    seen = scheduled & (u[1] < 0.86) & (days_left >= 14)
    converted = seen & (u[2] < 0.40) & (days_left >= 30)
    stage = scheduled.astype(np.int64) + seen + converted
    order = np.lexsort((e_tgt, e_src, dates))
    statuses = pd.array(list(EVENT_STATUSES), dtype="string")
    events = pd.DataFrame(
        {
            "date": dates[order].astype("datetime64[ns]"),
            "source_npi": npi_arr.take(e_src[order]),
            "target_npi": npi_arr.take(e_tgt[order]),
            "status": statuses.take(stage[order]),
            "referral_id": np.arange(1, dates.size + 1, dtype=np.int64),
        }
    )
    return events


def _make_touchpoints(
    rng: np.random.Generator,
    phys: dict[str, np.ndarray],
    model: _SpecialtyModel,
    period_start: np.datetime64,
    period_end: np.datetime64,
    npi_arr: Any,
) -> pd.DataFrame:
    eligible = np.flatnonzero(model.intensity[phys["spec"]] >= 0.4)
    if eligible.size == 0:
        eligible = np.arange(phys["spec"].size)
    n_targets = max(1, round(0.1 * eligible.size))
    w = np.sqrt(phys["volume"][eligible]) + 1e-9
    who = rng.choice(eligible, size=n_targets, replace=False, p=w / w.sum())
    n_months = int(
        period_end.astype("datetime64[M]").astype(np.int64)
        - period_start.astype("datetime64[M]").astype(np.int64)
        + 1
    )
    per = 1 + rng.poisson(1.5 * n_months / 12.0, who.size)
    npi_idx = np.repeat(who, per)
    bdays, *_ = _business_days(period_start, period_end)
    dates = bdays[rng.integers(0, bdays.size, npi_idx.size)]
    kind_idx = rng.choice(len(_TOUCHPOINT_KINDS), size=npi_idx.size, p=_TOUCHPOINT_P)
    kinds = np.array(_TOUCHPOINT_KINDS, dtype=object)[kind_idx]
    notes = np.empty(npi_idx.size, dtype=object)
    for i, kname in enumerate(_TOUCHPOINT_KINDS):
        sel = np.flatnonzero(kind_idx == i)
        options = np.array(_TOUCHPOINT_NOTES[kname], dtype=object)
        notes[sel] = options[rng.integers(0, options.size, sel.size)]
    n_reps = max(1, n_targets // 150)
    rep_of = rng.integers(0, n_reps, who.size)
    rep = np.repeat(rep_of, per)
    order = np.lexsort((npi_idx, dates))
    return pd.DataFrame(
        {
            "date": dates[order].astype("datetime64[ns]"),
            "npi": npi_arr.take(npi_idx[order]),
            "kind": pd.array(kinds[order], dtype="string"),
            "notes": pd.array(notes[order], dtype="string"),
            "rep": "Synthetic Liaison " + _zero_pad(rep[order] + 1, 2),
        }
    )


def synthetic_region(n_physicians: int = 2000, *, seed: int = 0, **kwargs: Any) -> ReferralNetwork:
    """Build a SYNTHETIC regional :class:`~refgraph.ReferralNetwork`.

    Shorthand for ``ReferralNetwork.from_frames(**synthetic_tables(...))``;
    see :func:`synthetic_tables` for the model and the parameters.

    Parameters
    ----------
    n_physicians
        Number of physicians.
    seed
        Seed of the random generator.
    **kwargs
        Passed to :func:`synthetic_tables` (``state``, ``center``,
        ``radius_km``, ``events``, ``touchpoints``, ...).

    Returns
    -------
    ReferralNetwork
        The synthetic network.

    Examples
    --------
    >>> net = synthetic_region(200, seed=3)
    >>> net.n_physicians
    200
    >>> net.n_flows > 1000
    True
    """
    from .network import ReferralNetwork

    return ReferralNetwork.from_frames(**synthetic_tables(n_physicians, seed=seed, **kwargs))


# ----------------------------------------------------------------------------------------------
# Real datasets
# ----------------------------------------------------------------------------------------------

#: Approximate coordinates of the four CKM towns (town centres), by CKM city code.
#: The code -> town mapping is an assumption (ordered as the source README lists the towns;
#: city 1, the largest, is presumably Peoria) and is NOT verified.
CKM_TOWNS: dict[int, tuple[str, float, float]] = {
    1: ("Peoria, IL", 40.6936, -89.5890),
    2: ("Bloomington, IL", 40.4842, -88.9937),
    3: ("Quincy, IL", 39.9356, -91.4099),
    4: ("Galesburg, IL", 40.9478, -90.3712),
}

_CKM_LAYERS = ("advice", "discussion", "friend")
_CKM_DATASET_CODE = 0
_NYC_DATASET_CODE = 1
NYC_PROVENANCE = "cms-referral-2015:nyc-cardiology"


def dataset_path(name: str, path: str | os.PathLike[str] | None = None) -> Path:
    """Folder of a shared dataset, checked to exist.

    Parameters
    ----------
    name
        Dataset folder name (``"ckm"``, ``"nyc-cardiology-2015"``,
        ``"cms-shared-patients-sample"``).
    path
        Explicit folder. Default: ``$REFGRAPH_DATASETS/<name>`` when the
        environment variable ``REFGRAPH_DATASETS`` (the folder holding all the
        datasets) is set, else ``../shared/datasets/<name>`` relative to the
        current directory.

    Returns
    -------
    pathlib.Path
        The dataset folder.

    Raises
    ------
    NotFoundError
        When the folder does not exist.

    Examples
    --------
    >>> dataset_path("ckm", "/no/such/folder")
    Traceback (most recent call last):
    ...
    refgraph._errors.NotFoundError: dataset 'ckm': folder '/no/such/folder' does not exist ...
    """
    if path is not None:
        folder = Path(path)
        how = "given as path"
    elif os.environ.get("REFGRAPH_DATASETS"):
        folder = Path(os.environ["REFGRAPH_DATASETS"]) / name
        how = "from $REFGRAPH_DATASETS"
    else:
        folder = Path.cwd() / ".." / "shared" / "datasets" / name
        how = "default ../shared/datasets relative to the current directory"
    if not folder.is_dir():
        raise NotFoundError(
            f"dataset {name!r}: folder {str(folder)!r} does not exist ({how}); pass path=..., "
            "or set REFGRAPH_DATASETS to the folder that holds the shared datasets"
        )
    return folder


def _need_file(folder: Path, filename: str, name: str) -> Path:
    f = folder / filename
    if not f.is_file():
        raise NotFoundError(f"dataset {name!r}: file {str(f)!r} is missing")
    return f


def load_ckm(
    path: str | os.PathLike[str] | None = None,
    *,
    layers: Sequence[str] = _CKM_LAYERS,
    aggregate: bool = False,
) -> dict[str, pd.DataFrame]:
    """Load the Coleman-Katz-Menzel "Medical Innovation" physician network (real data).

    246 physicians in four Illinois towns (1955-56 survey) with three
    directed nomination relations: ``advice``, ``discussion`` and ``friend``
    (see ``SOURCE.txt`` in the dataset folder).

    Physicians get a deterministic surrogate NPI,
    ``surrogate_npi(node_id, dataset=0)`` = ``"1000" + f"{node_id:05d}"`` +
    check digit (e.g. node 1 -> ``"1000000012"``); they are labels, not real
    NPIs. All node columns are kept (``node_id``, ``city``,
    ``adoption_month``, ``med_sch_yr``, ..., ``in_adoption_sample``); the
    source's coded ``specialty`` column is renamed ``ckm_specialty`` (its
    codes are not documented here), so the canonical ``specialty`` is empty.
    In the attribute columns 9 appears to be the "missing" code; it is kept.

    Geography: each physician gets the approximate centre of its town
    (:data:`CKM_TOWNS`, column ``town``). The city code -> town name mapping
    (1 Peoria, 2 Bloomington, 3 Quincy, 4 Galesburg) is **unverified**: the
    source lists the four towns but does not say which code is which; only
    "city 1 is the largest, presumably Peoria" is suggested. Distances between
    towns are therefore only indicative; within a town all physicians share
    one point.

    Parameters
    ----------
    path
        Dataset folder (default: see :func:`dataset_path`, name ``"ckm"``).
    layers
        Relations to include, any of ``"advice"``, ``"discussion"``, ``"friend"``.
    aggregate
        ``False``: one flow per (source, target, layer) with ``count`` 1,
        a ``layer`` column and provenance ``"ckm:<layer>"``. ``True``: one
        flow per (source, target) with ``count`` = number of selected layers
        that contain the arc, a ``layers`` column (e.g. ``"advice+friend"``)
        and provenance ``"ckm:" + "+".join(layers)``.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``physicians`` and ``flows`` (no periods: the survey date is not
        recorded per tie; ``patients`` is empty).

    Raises
    ------
    NotFoundError
        When the dataset folder or a file is missing.
    ValidationError
        On an unknown layer name.

    Examples
    --------
    >>> try:
    ...     tables = load_ckm()
    ... except NotFoundError:
    ...     tables = None
    >>> tables is None or len(tables["physicians"]) == 246
    True
    """
    layers = _check_layers(layers)
    folder = dataset_path("ckm", path)
    nodes = pd.read_csv(_need_file(folder, "nodes.csv", "ckm"))
    edges = pd.read_csv(_need_file(folder, "edges.csv", "ckm"))
    node_id = nodes["node_id"].to_numpy(dtype=np.int64)
    npi = pd.Series(surrogate_npi(node_id, dataset=_CKM_DATASET_CODE), dtype="string")
    town = nodes["city"].map(lambda c: CKM_TOWNS.get(int(c), ("", np.nan, np.nan)))
    extra = nodes.rename(columns={"specialty": "ckm_specialty"})
    if "netdiffuser_row" in extra:
        extra["netdiffuser_row"] = extra["netdiffuser_row"].astype("Int64")
    physicians = pd.DataFrame(
        {
            "npi": npi,
            "name": "CKM physician " + nodes["node_id"].astype("string").str.zfill(3),
            "specialty": pd.array([pd.NA] * len(nodes), dtype="string"),
            "taxonomy": pd.array([pd.NA] * len(nodes), dtype="string"),
            "practice_id": pd.array([pd.NA] * len(nodes), dtype="string"),
            "zip": pd.array([pd.NA] * len(nodes), dtype="string"),
            "lat": town.map(lambda x: x[1]).astype(float),
            "lon": town.map(lambda x: x[2]).astype(float),
            "town": town.map(lambda x: x[0]).astype("string"),
        }
    )
    physicians = pd.concat([physicians, extra.reset_index(drop=True)], axis=1)
    npi_of = pd.Series(npi.to_numpy(), index=node_id)
    e = edges[edges["layer"].isin(layers)]
    src = npi_of.reindex(e["src"].to_numpy()).to_numpy()
    dst = npi_of.reindex(e["dst"].to_numpy()).to_numpy()
    if pd.isna(src).any() or pd.isna(dst).any():
        raise ValidationError("ckm: edges.csv names node ids that are not in nodes.csv")
    if aggregate:
        g = (
            pd.DataFrame({"source_npi": src, "target_npi": dst, "layer": e["layer"].to_numpy()})
            .groupby(["source_npi", "target_npi"], sort=True)["layer"]
            .agg(["size", lambda s: "+".join(sorted(s, key=_CKM_LAYERS.index))])
            .reset_index()
        )
        g.columns = ["source_npi", "target_npi", "count", "layers"]
        flows = _flow_frame(g["source_npi"], g["target_npi"], g["count"], "ckm:" + "+".join(layers))
        flows["layers"] = g["layers"].astype("string").to_numpy()
    else:
        flows = _flow_frame(src, dst, np.ones(len(e), dtype=np.int64), None)
        flows["provenance"] = ("ckm:" + e["layer"].astype("string")).to_numpy()
        flows["layer"] = e["layer"].astype("string").to_numpy()
    for df in (physicians, flows):
        df.attrs["dataset"] = "ckm"
        df.attrs["synthetic"] = False
    return {"physicians": physicians, "flows": flows}


def _check_layers(layers: Sequence[str]) -> tuple[str, ...]:
    if isinstance(layers, str):
        layers = (layers,)
    layers = tuple(layers)
    bad = [x for x in layers if x not in _CKM_LAYERS]
    if bad or not layers:
        raise ValidationError(
            f"layers: expected a non-empty selection of {list(_CKM_LAYERS)}, got {list(layers)}"
        )
    return tuple(sorted(set(layers), key=_CKM_LAYERS.index))


def _flow_frame(src: Any, dst: Any, count: Any, provenance: str | None) -> pd.DataFrame:
    n = len(src)
    return pd.DataFrame(
        {
            "source_npi": pd.array(np.asarray(src, dtype=object), dtype="string"),
            "target_npi": pd.array(np.asarray(dst, dtype=object), dtype="string"),
            "count": np.asarray(count, dtype=np.int64),
            "patients": pd.array([pd.NA] * n, dtype="Int64"),
            "period_start": _const_dates(np.datetime64("NaT"), n),
            "period_end": _const_dates(np.datetime64("NaT"), n),
            "provenance": pd.array([provenance] * n, dtype="string"),
        }
    )


def ckm_network(
    path: str | os.PathLike[str] | None = None,
    *,
    layers: Sequence[str] = _CKM_LAYERS,
    aggregate: bool = False,
) -> ReferralNetwork:
    """The CKM physician network as a :class:`~refgraph.ReferralNetwork`.

    See :func:`load_ckm` for the parameters, surrogate NPIs and the caveat
    on town names.

    Returns
    -------
    ReferralNetwork
        246 physicians; flows per layer (or aggregated).

    Examples
    --------
    >>> try:
    ...     net = ckm_network(layers=["advice"])
    ... except NotFoundError:
    ...     net = None
    >>> net is None or (net.n_physicians, net.n_flows) == (246, 480)
    True
    """
    from .network import ReferralNetwork

    return ReferralNetwork.from_frames(**load_ckm(path, layers=layers, aggregate=aggregate))


_ZIP_AT_END = re.compile(r"(\d{5})(?:-?\d{4})?\s*$")


def load_nyc_cardiology(path: str | os.PathLike[str] | None = None) -> dict[str, pd.DataFrame]:
    """Load the New York City primary care -> cardiology referral network (real, CMS 2015).

    386 physicians (254 ``referring`` internists, 132 ``referred``
    cardiologists) and 800 directed referral arcs from the 2015 CMS
    referral (shared-patient) data, as kept by a 2015 demo app (see
    ``SOURCE.txt`` in the dataset folder).

    NPIs: the 20 physicians listed in ``topdocs_eigenvector_rank.csv`` get
    their real NPI (and its address and ZIP code); every other node gets
    the surrogate ``surrogate_npi(node_index, dataset=1)`` =
    ``"1001" + f"{node_index:05d}"`` + check digit (column ``npi_is_real``
    tells which). Names are the real ``"LAST, FIRST"`` names of the source;
    ``specialty`` is ``internal_medicine`` for ``referring`` nodes and
    ``cardiology`` for ``referred`` ones (the source's selection rule; 151
    arcs go between referring nodes who also hold a cardiology code). ``lat``
    and ``lon`` come from the ZIP centroid when the ZIP's city agrees with
    the address (one address has ZIP ``11021``, Great Neck, with city New
    York: its coordinates are left empty). ``node_index``, ``role`` and
    ``component`` are kept.

    Flows: ``count`` = 1 (the source kept no weights), no ``patients``,
    ``window_days`` = 365, provenance ``"cms-referral-2015:nyc-cardiology"``.

    Parameters
    ----------
    path
        Dataset folder (default: see :func:`dataset_path`, name
        ``"nyc-cardiology-2015"``).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``physicians`` and ``flows``.

    Raises
    ------
    NotFoundError
        When the dataset folder or a file is missing.

    Examples
    --------
    >>> try:
    ...     tables = load_nyc_cardiology()
    ... except NotFoundError:
    ...     tables = None
    >>> tables is None or (len(tables["physicians"]), len(tables["flows"])) == (386, 800)
    True
    """
    import zipcodes

    name = "nyc-cardiology-2015"
    folder = dataset_path(name, path)
    nodes = pd.read_csv(_need_file(folder, "nodes.csv", name))
    edges = pd.read_csv(_need_file(folder, "edges.csv", name))
    top = pd.read_csv(
        _need_file(folder, "topdocs_eigenvector_rank.csv", name),
        dtype={"npi": "string", "address": "string", "name": "string"},
    )
    idx = nodes["node_index"].to_numpy(dtype=np.int64)
    npi = pd.Series(surrogate_npi(idx, dataset=_NYC_DATASET_CODE), index=idx, dtype="string")
    real = pd.Series(False, index=idx)
    top_idx = top["node_index"].to_numpy(dtype=np.int64)
    npi.loc[top_idx] = top["npi"].str.strip().to_numpy()
    real.loc[top_idx] = True
    if npi.duplicated().any():
        raise ValidationError(f"{name}: surrogate NPIs collide with real ones")
    address = pd.Series(pd.NA, index=idx, dtype="string")
    address.loc[top_idx] = top["address"].to_numpy()
    zips = address.str.extract(_ZIP_AT_END, expand=False).astype("string")
    lat = pd.Series(np.nan, index=idx)
    lon = pd.Series(np.nan, index=idx)
    for i in top_idx:
        z, addr = zips.loc[i], address.loc[i]
        if pd.isna(z):
            continue
        match = zipcodes.matching(str(z))
        if match and match[0]["city"].upper() in str(addr).upper():
            lat.loc[i], lon.loc[i] = float(match[0]["lat"]), float(match[0]["long"])
    role = nodes["role"].astype("string").to_numpy()
    referred = role == "referred"
    physicians = pd.DataFrame(
        {
            "npi": npi.to_numpy(),
            "name": nodes["name"].astype("string").to_numpy(),
            "specialty": pd.array(
                np.where(referred, "cardiology", "internal_medicine"), dtype="string"
            ),
            "taxonomy": pd.array(np.where(referred, "207RC0000X", "207R00000X"), dtype="string"),
            "practice_id": pd.array([pd.NA] * len(nodes), dtype="string"),
            "zip": zips.to_numpy(),
            "lat": lat.to_numpy(),
            "lon": lon.to_numpy(),
            "node_index": idx,
            "role": role,
            "component": nodes["component"].to_numpy(dtype=np.int64),
            "npi_is_real": real.to_numpy(),
            "address": address.to_numpy(),
        }
    )
    physicians["role"] = physicians["role"].astype("string")
    src = npi.reindex(edges["src"].to_numpy()).to_numpy()
    dst = npi.reindex(edges["dst"].to_numpy()).to_numpy()
    if pd.isna(src).any() or pd.isna(dst).any():
        raise ValidationError(f"{name}: edges.csv names nodes that are not in nodes.csv")
    flows = _flow_frame(src, dst, np.ones(len(edges), dtype=np.int64), NYC_PROVENANCE)
    flows["window_days"] = 365
    for df in (physicians, flows):
        df.attrs["dataset"] = name
        df.attrs["synthetic"] = False
    return {"physicians": physicians, "flows": flows}


def nyc_cardiology_network(path: str | os.PathLike[str] | None = None) -> ReferralNetwork:
    """The NYC cardiology referral network as a :class:`~refgraph.ReferralNetwork`.

    See :func:`load_nyc_cardiology`.

    Returns
    -------
    ReferralNetwork
        386 physicians and 800 flows.

    Examples
    --------
    >>> try:
    ...     net = nyc_cardiology_network()
    ... except NotFoundError:
    ...     net = None
    >>> net is None or (net.n_physicians, net.n_flows) == (386, 800)
    True
    """
    from .network import ReferralNetwork

    return ReferralNetwork.from_frames(**load_nyc_cardiology(path))


def load_cms_sample(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load the 200-row sample of the CMS shared-patient (days180) files, as is (real data).

    Columns: ``year``, ``npi1``, ``npi2`` (10-character strings),
    ``pair_count``, ``bene_count``, ``same_day_count``, ``window_days``.
    Map it onto flows with :func:`refgraph.read_cms_shared_patients` or by
    hand (``npi1 -> source_npi``, ``pair_count -> count``,
    ``bene_count -> patients``).

    Parameters
    ----------
    path
        Dataset folder (default: see :func:`dataset_path`, name
        ``"cms-shared-patients-sample"``) or the CSV file itself.

    Returns
    -------
    pandas.DataFrame
        The raw rows.

    Raises
    ------
    NotFoundError
        When the dataset folder or file is missing.

    Examples
    --------
    >>> load_cms_sample("/no/such/folder")
    Traceback (most recent call last):
    ...
    refgraph._errors.NotFoundError: dataset 'cms-shared-patients-sample': folder ...
    """
    name = "cms-shared-patients-sample"
    if path is not None and Path(path).is_file():
        f = Path(path)
    else:
        f = _need_file(dataset_path(name, path), "pspp_days180_sample.csv", name)
    df = pd.read_csv(f, dtype={"npi1": "string", "npi2": "string"})
    df.attrs["dataset"] = name
    df.attrs["synthetic"] = False
    return df
