"""The synthetic region generator: :func:`synthetic_tables` and :func:`synthetic_region`.

Public through :mod:`refgraph.datasets`; the model is described in
:func:`synthetic_tables`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._params import check_date, check_float, check_int
from ..model import PRACTICE_KINDS
from ._activity import _make_events, _make_touchpoints
from ._base import (
    SYNTHETIC_PROVENANCE,
    _random_npis,
    _region_mask,
    _specialty_model,
    _zip_table,
)
from ._synthetic import (
    _KIND_LABEL,
    _const_dates,
    _const_strings,
    _make_flows,
    _make_physicians,
    _make_practices,
    _mark,
    _rank_systems,
    _zero_pad,
)

if TYPE_CHECKING:
    from ..network import ReferralNetwork

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.datasets")


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
        Number of physicians, 2 to 5,000,000 (1,000,000 takes ~30 s of CPU
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
        Target mean number of distinct flows per physician, > 0 and at most
        1,000 (reached up to a few percent; fewer when the region is too
        small to hold that many distinct pairs).
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
    n = check_int(n_physicians, "n_physicians", minimum=2, maximum=5_000_000)
    months = check_int(months, "months", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    fpp = flows_per_physician
    check_float(fpp, "flows_per_physician", minimum=0, maximum=1000, open_min=True)
    check_float(distance_scale_km, "distance_scale_km", minimum=0, open_min=True)
    t0 = check_date(start, "start").normalize()
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
    from ..network import ReferralNetwork

    return ReferralNetwork.from_frames(**synthetic_tables(n_physicians, seed=seed, **kwargs))
