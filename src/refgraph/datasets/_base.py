"""Foundations of the synthetic generator: specialty model, ZIP geography and NPIs.

Public through :mod:`refgraph.datasets` (:data:`SYNTHETIC_PROVENANCE`, :func:`surrogate_npi`).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._distance import EARTH_RADIUS_KM, haversine_km
from .._errors import ValidationError
from .._params import check_int

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.datasets")


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
        from .. import specialties as vocab
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
    >>> from refgraph import is_valid_npi
    >>> is_valid_npi(surrogate_npi(246))
    True
    >>> surrogate_npi([0, 385], dataset=1).tolist()
    ['1001000003', '1001003858']
    """
    raw = np.asarray(node_id)
    fin = raw.dtype.kind == "f" and bool(np.isfinite(raw).all())
    whole = raw.dtype.kind in "iu" or (fin and bool((raw == np.round(raw)).all()))
    flat = raw.ravel()
    bad = flat if not whole else flat[(flat < 0) | (flat >= 100_000)]
    if len(bad):  # the first few offending values, as the caller gave them
        got = bad[0].item() if raw.ndim == 0 else bad[:3].tolist()
        raise ValidationError(f"node_id: expected integers in [0, 99999], got {got!r}")
    ids = raw.astype(np.int64)
    dataset = check_int(dataset, "dataset", minimum=0, maximum=999)
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
