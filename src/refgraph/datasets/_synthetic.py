"""Internals of the synthetic generator: practices, physicians, flows.

Used by :func:`refgraph.datasets.synthetic_tables`.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from .._distance import haversine_km
from ..model import PRACTICE_KINDS
from ._base import (
    _EMERGENCY,
    _KM_PER_DEG,
    _PRIMARY,
    _URGENT,
    _chord_to_km,
    _SpecialtyModel,
    _xyz,
)

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.datasets")


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
