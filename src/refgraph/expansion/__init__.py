"""The regional scaling planner: whom to meet next, which region next, where to hold the event.

Built on the warm-introduction model of :mod:`refgraph.paths`. Every
function takes my practice as ``home`` / ``current`` (the NPIs of my
physicians); "my specialty" is the most common specialty among them unless
given. A physician's *potential* is their referral volume into my specialty
and its substitutes (:func:`refgraph.specialties.competing`) that does not
come to me (the leakage I could win); their *reach* is the probability of
their best warm-introduction path from my people (exact, hop-bounded).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import NoPathError, ValidationError
from ..paths import (
    _layers,
    _names,
    _tie_graph,
    haversine_km,
    intro_paths,
    region_mask,
    resolve_sources,
)

logger = logging.getLogger(__name__)

__all__ = [
    "EventSite",
    "ExpansionPlan",
    "add_cli",
    "cmd_targets",
    "event_site",
    "expansion_plan",
    "outreach_brief",
    "rank_targets",
]


# ---------------------------------------------------------------------------- helpers
def _home_ids(net: Any, home: Any) -> np.ndarray:
    if home is None:
        raise ValidationError("home: expected the NPIs of my practice's physicians, got None")
    lst = [home] if isinstance(home, str) else [str(h) for h in home]
    if not lst:
        raise ValidationError("home: expected at least one NPI")
    ids = np.asarray(net.npis.get_indexer(pd.Index(lst, dtype="string")))
    if (ids < 0).any():
        from .._errors import NotFoundError

        raise NotFoundError(f"home: {[lst[i] for i in np.flatnonzero(ids < 0)[:3]]} not found")
    return np.unique(ids)


def _my_specialty(net: Any, home_ids: np.ndarray, specialty: str | None) -> str:
    from ..specialties import normalize_specialty

    if specialty is not None:
        return normalize_specialty(specialty) or specialty
    specs = net.physicians["specialty"].iloc[home_ids].dropna()
    if not len(specs):
        raise ValidationError("specialty: my physicians have no specialty; pass specialty=...")
    return str(specs.value_counts().index[0])


def _potential(net: Any, home_ids: np.ndarray, spec: str) -> pd.DataFrame:
    """Per physician: volume into my specialty set, to me, to competitors (arrays by node)."""
    from ..specialties import competing

    n = net.n_physicians
    g = net.csr()
    src, dst, w = g.edges()
    comp = np.array(net.physicians["specialty"].isin(competing(spec)).fillna(False).to_numpy(bool))
    is_home = np.zeros(n, dtype=bool)
    is_home[home_ids] = True
    into = comp[dst] | is_home[dst]
    spec_vol = np.bincount(src, weights=np.where(into, w, 0.0), minlength=n)
    to_home = np.bincount(src, weights=np.where(is_home[dst], w, 0.0), minlength=n)
    total = np.bincount(src, weights=w, minlength=n)
    return pd.DataFrame(
        {
            "total_volume": total,
            "specialty_volume": spec_vol,
            "to_home": to_home,
            "competitor_volume": spec_vol - to_home,
        }
    )


def _reach(net: Any, sources: Any, home: Any, max_hops: int, weights: Any) -> np.ndarray:
    """Best warm-path probability from my people to every physician (exact, hop-bounded)."""
    tg = _tie_graph(net, weights=weights)
    src, c0 = resolve_sources(net, sources, home)
    g = _layers(net, tg, src, c0, max_hops + 1).layers[max_hops]
    return np.asarray(np.exp(-g))


def _distance_to(net: Any, ids: np.ndarray, to_ids: np.ndarray) -> np.ndarray:
    """Distance in km from each of ``ids`` to the nearest of ``to_ids`` (NaN when unknown)."""
    lat = net.physicians["lat"].to_numpy("float64", na_value=np.nan)
    lon = net.physicians["lon"].to_numpy("float64", na_value=np.nan)
    tl, tn = lat[to_ids], lon[to_ids]
    ok = ~(np.isnan(tl) | np.isnan(tn))
    out = np.full(len(ids), np.nan)
    if not ok.any() or not len(ids):
        return out
    tl, tn = tl[ok], tn[ok]
    for s in range(0, len(ids), 4096):
        chunk = ids[s : s + 4096]
        d = haversine_km(lat[chunk][:, None], lon[chunk][:, None], tl[None, :], tn[None, :])
        out[s : s + 4096] = np.nanmin(np.where(np.isnan(d), np.inf, d), axis=1)
    out[np.isinf(out)] = np.nan
    return out


# ---------------------------------------------------------------------------- targets
def rank_targets(
    net: Any,
    *,
    home: str | Iterable[str],
    region: Any = None,
    specialty: str | None = None,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    max_hops: int = 3,
    distance_scale_km: float = 25.0,
    reach_floor: float = 0.2,
    include_referrers: bool = False,
    top: int | None = None,
    weights: Any = None,
) -> pd.DataFrame:
    """Physicians not yet referring to me, ranked by their potential.

    Parameters
    ----------
    net
        The network.
    home
        NPIs of my practice's physicians.
    region
        Only rank physicians inside this region (:func:`refgraph.paths.region_mask`).
    specialty
        My specialty (default: the most common among ``home``).
    sources
        My people for warm paths (default ``home``).
    max_hops
        Maximum hops of a warm path.
    distance_scale_km
        Distance at which the distance factor falls to ``1/e``.
    reach_floor
        Score share kept by a target without any warm path (cold outreach
        still works sometimes).
    include_referrers
        Also rank physicians who already refer to me (their leakage is
        the share of their specialty volume going elsewhere).
    top
        Keep only the best ``top``.
    weights
        Tie-strength weights (:func:`refgraph.paths.tie_strength`).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI, best first: ``rank``, ``name``, ``specialty``,
        ``practice_id``, ``zip``, ``specialty_volume`` (their referrals into
        my specialty and its substitutes), ``to_home``, ``competitor_volume``,
        ``leakage`` (share of their specialty volume not coming to me),
        ``distance_km`` (to my nearest physician), ``reach`` (best warm-path
        probability), ``score``.

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(300, seed=2)
    >>> cardio = net.physicians.query("specialty == 'cardiology'")["npi"].tolist()[:2]
    >>> t = rank_targets(net, home=cardio)
    >>> bool((t["to_home"] == 0).all()), bool(t["score"].is_monotonic_decreasing)
    (True, True)

    Notes
    -----
    ``score = competitor_volume * (reach_floor + (1 - reach_floor) * reach)
    * exp(-distance_km / distance_scale_km)`` (distance factor 1 when a
    location is unknown): referrals I could win, discounted by how cold the
    approach is and how far they would send patients.
    """
    hid = _home_ids(net, home)
    spec = _my_specialty(net, hid, specialty)
    pot = _potential(net, hid, spec)
    n = net.n_physicians
    cand = pot["specialty_volume"].to_numpy() > 0
    if not include_referrers:
        cand &= pot["to_home"].to_numpy() == 0
    cand[hid] = False
    cand &= region_mask(net, region)
    ids = np.flatnonzero(cand)
    reach = _reach(net, sources, hid_list(net, hid), max_hops, weights)
    dist = _distance_to(net, ids, hid)
    p = pot.iloc[ids]
    phys = net.physicians.iloc[ids]
    dfac = np.where(np.isnan(dist), 1.0, np.exp(-np.nan_to_num(dist) / distance_scale_km))
    r = reach[ids]
    score = p["competitor_volume"].to_numpy() * (reach_floor + (1 - reach_floor) * r) * dfac
    out = pd.DataFrame(
        {
            "name": phys["name"].to_numpy(),
            "specialty": phys["specialty"].to_numpy(),
            "practice_id": phys["practice_id"].to_numpy(),
            "zip": phys["zip"].to_numpy(),
            "specialty_volume": p["specialty_volume"].to_numpy(),
            "to_home": p["to_home"].to_numpy(),
            "competitor_volume": p["competitor_volume"].to_numpy(),
            "leakage": p["competitor_volume"].to_numpy() / p["specialty_volume"].to_numpy(),
            "distance_km": dist,
            "reach": r,
            "score": score,
        },
        index=pd.Index(phys["npi"].to_numpy(), name="npi"),
    )
    out = out.sort_values(["score", "competitor_volume"], ascending=False, kind="stable")
    if top is not None:
        out = out.head(top)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.attrs["specialty"] = spec
    logger.info("rank_targets: %d candidates of %d physicians (specialty %s)", len(out), n, spec)
    return out


def hid_list(net: Any, hid: np.ndarray) -> list[str]:
    """NPIs of node ids."""
    return [str(x) for x in net.physicians["npi"].iloc[hid]]


def outreach_brief(
    net: Any,
    target: str,
    *,
    home: str | Iterable[str],
    sources: Iterable[str] | Mapping[str, float] | None = None,
    specialty: str | None = None,
    max_hops: int = 3,
    top: int = 5,
    weights: Any = None,
) -> dict[str, Any]:
    """The facts for a tailored introduction to ``target``.

    Returns
    -------
    dict
        ``target`` (npi, name, specialty, practice, zip), ``refers_to`` (their
        top destinations in my specialty and its substitutes, with counts,
        shares and distances), ``volume`` (specialty volume, to me, to
        competitors), ``shared_connections`` (physicians tied both to the
        target and to my people), ``best_path`` (the most probable
        introduction path, or ``None`` with ``no_path_reason``),
        ``what_we_add`` (sentences: distance advantage, services the target
        sends elsewhere that my practice covers, shared health system) and
        ``markdown`` (all of it as a Markdown section).

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(300, seed=2)
    >>> cardio = net.physicians.query("specialty == 'cardiology'")["npi"].tolist()[:2]
    >>> t = rank_targets(net, home=cardio).index[0]
    >>> brief = outreach_brief(net, t, home=cardio)
    >>> brief["markdown"].splitlines()[0].startswith("### ")
    True
    """
    from ..specialties import competing

    hid = _home_ids(net, home)
    spec = _my_specialty(net, hid, specialty)
    t = int(net.npis.get_indexer(pd.Index([str(target)], dtype="string"))[0])
    if t < 0:
        from .._errors import NotFoundError

        raise NotFoundError(f"target: {target!r} is not a physician of this network")
    phys = net.physicians
    prac = net.practices.set_index("practice_id") if len(net.practices) else None
    row = phys.iloc[t]

    def pname(pid: Any) -> str | None:
        if prac is None or pd.isna(pid) or pid not in prac.index:
            return None if pd.isna(pid) else str(pid)
        nm = prac.loc[pid, "name"]
        return str(nm) if pd.notna(nm) else str(pid)

    e = net.edges()
    mine = e[e["source_npi"] == str(target)]
    dspec = phys.set_index("npi").reindex(mine["target_npi"])["specialty"].to_numpy()
    comp = set(competing(spec))
    home_npis = set(hid_list(net, hid))
    rel = mine[[s in comp or d in home_npis for s, d in zip(dspec, mine["target_npi"])]]
    rel = rel.sort_values("count", ascending=False)
    spec_total = float(rel["count"].sum())
    dest_ids = net.npis.get_indexer(pd.Index(rel["target_npi"], dtype="string"))
    lat = phys["lat"].to_numpy("float64", na_value=np.nan)
    lon = phys["lon"].to_numpy("float64", na_value=np.nan)
    dd = haversine_km(lat[t], lon[t], lat[dest_ids], lon[dest_ids]) if len(rel) else np.zeros(0)
    refers_to = [
        {
            "npi": d,
            "name": _names(net, [i])[0],
            "specialty": phys["specialty"].iat[i],
            "practice": pname(phys["practice_id"].iat[i]),
            "count": float(c),
            "share": float(c) / spec_total if spec_total else float("nan"),
            "distance_km": float(km),
            "is_me": d in home_npis,
        }
        for d, c, i, km in zip(rel["target_npi"], rel["count"], dest_ids, dd)
    ][:top]
    to_home = float(rel.loc[rel["target_npi"].isin(home_npis), "count"].sum())
    # shared connections: tied to the target and to one of my people
    tg = _tie_graph(net, weights=weights)
    src, c0 = resolve_sources(net, sources, hid_list(net, hid))
    is_src = np.zeros(tg.n, dtype=bool)
    is_src[src] = True
    nb_t, s_t = tg.neighbours(t)
    shared = []
    for x, sxt in zip(nb_t.tolist(), s_t.tolist()):
        if is_src[x]:
            continue
        nb_x, s_x = tg.neighbours(x)
        m = is_src[nb_x]
        if m.any():
            j = int(np.argmax(np.where(m, s_x * np.exp(-tg_c0(c0, src, nb_x)), -1.0)))
            shared.append(
                {
                    "npi": phys["npi"].iat[x],
                    "name": _names(net, [x])[0],
                    "strength_to_target": sxt,
                    "strength_to_us": float(s_x[j]),
                    "via": _names(net, [int(nb_x[j])])[0],
                }
            )
    shared.sort(key=lambda d: -d["strength_to_target"] * d["strength_to_us"])
    best_path: dict[str, Any] | None = None
    reason = None
    try:
        res = intro_paths(
            net,
            str(target),
            sources=sources if sources is not None else hid_list(net, hid),
            k=1,
            max_hops=max_hops,
            weights=weights,
        )
        b = res.paths.iloc[0]
        best_path = {
            "path": list(b["path"]),
            "names": list(b["names"]),
            "probability": float(b["probability"]),
            "explanation": b["explanation"],
        }
    except NoPathError as exc:
        reason = str(exc)
    # what my practice adds
    add: list[str] = []
    my_dist = _distance_to(net, np.array([t]), hid)[0]
    if refers_to and not np.isnan(my_dist):
        cur = np.array([r["distance_km"] for r in refers_to if not r["is_me"]])
        wts = np.array([r["count"] for r in refers_to if not r["is_me"]])
        if len(cur) and np.isfinite(cur).all() and wts.sum() > 0:
            avg = float(np.average(cur, weights=wts))
            if my_dist < avg:
                add.append(
                    f"closer care: my nearest physician is {my_dist:.1f} km away, "
                    f"their current {spec} destinations average {avg:.1f} km"
                )
    my_specs = set(phys["specialty"].iloc[hid].dropna())
    other = mine[[s in my_specs and d not in home_npis for s, d in zip(dspec, mine["target_npi"])]]
    if len(other):
        add.append(
            f"my practice covers {', '.join(sorted(map(str, my_specs)))}, where they now send "
            f"{int(other['count'].sum())} referrals to {len(other)} other physician(s)"
        )
    if prac is not None and "system" in prac.columns:
        sys_t = prac["system"].get(row["practice_id"]) if pd.notna(row["practice_id"]) else None
        my_sys = {
            prac["system"].get(p) for p in phys["practice_id"].iloc[hid].dropna() if p in prac.index
        }
        if sys_t is not None and pd.notna(sys_t) and sys_t in my_sys:
            add.append(f"same health system ({sys_t}): in-network referrals")
    brief = {
        "target": {
            "npi": str(target),
            "name": _names(net, [t])[0],
            "specialty": row["specialty"] if pd.notna(row["specialty"]) else None,
            "practice": pname(row["practice_id"]),
            "zip": row["zip"] if pd.notna(row["zip"]) else None,
            "distance_km": None if np.isnan(my_dist) else float(my_dist),
        },
        "volume": {
            "specialty_volume": spec_total,
            "to_home": to_home,
            "competitor_volume": spec_total - to_home,
            "specialty": spec,
        },
        "refers_to": refers_to,
        "shared_connections": shared[:top],
        "best_path": best_path,
        "no_path_reason": reason,
        "what_we_add": add,
    }
    brief["markdown"] = _brief_markdown(brief)
    return brief


def tg_c0(c0: np.ndarray, src: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Start cost of ``nodes`` (inf for non-sources)."""
    pos = np.searchsorted(src, nodes)
    pos = np.minimum(pos, len(src) - 1)
    return np.where(src[pos] == nodes, c0[pos], np.inf)


def _brief_markdown(b: dict[str, Any]) -> str:
    t = b["target"]
    v = b["volume"]
    lines = [f"### {t['name']} ({t['npi']})", ""]
    lines.append(
        f"{t['specialty'] or 'unknown specialty'}, {t['practice'] or 'unknown practice'}"
        + (f", ZIP {t['zip']}" if t["zip"] else "")
        + (f", {t['distance_km']:.1f} km from us" if t["distance_km"] is not None else "")
    )
    lines += [
        "",
        f"**Referrals into {v['specialty']} and substitutes:** "
        f"{v['specialty_volume']:.0f} ({v['to_home']:.0f} to us, "
        f"{v['competitor_volume']:.0f} elsewhere)",
        "",
    ]
    if b["refers_to"]:
        lines += [
            "| refers to | specialty | practice | referrals | share | km |",
            "|---|---|---|---:|---:|---:|",
        ]
        for r in b["refers_to"]:
            lines.append(
                f"| {r['name']}{' (us)' if r['is_me'] else ''} | {r['specialty']} | "
                f"{r['practice'] or ''} | {r['count']:.0f} | {r['share']:.0%} | "
                f"{r['distance_km']:.1f} |"
            )
        lines.append("")
    if b["shared_connections"]:
        lines.append(
            "**Shared connections:** "
            + "; ".join(
                f"{s['name']} (tie {s['strength_to_target']:.2f} to them, "
                f"{s['strength_to_us']:.2f} to {s['via']})"
                for s in b["shared_connections"]
            )
        )
        lines.append("")
    if b["best_path"]:
        p = b["best_path"]
        lines.append(
            f"**Best introduction path** (p = {p['probability']:.2f}): " + " → ".join(p["names"])
        )
        lines += [f"- {h}" for h in p["explanation"].splitlines()]
    else:
        lines.append(f"**No warm path:** {b['no_path_reason']}")
    lines.append("")
    if b["what_we_add"]:
        lines.append("**What we add:**")
        lines += [f"- {a}" for a in b["what_we_add"]]
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- regions
@dataclass
class ExpansionPlan:
    """Result of :func:`expansion_plan`.

    Attributes
    ----------
    regions
        One row per candidate region, best first: ``rank``, ``physicians``,
        ``potential`` (competitor volume in the region), ``reachable_potential``
        (potential weighted by reach), ``mean_reach``, ``reachable`` (physicians
        with reach >= 0.05), ``top_bridge``, ``top_organisation``.
    bridges
        Per region, the physicians to approach first: ``region``, ``npi``,
        ``name``, ``reach``, ``ties_into_region``, ``bridge_score``,
        ``practice``, ``system``.
    organisations
        Per region, hospital systems and group practices whose physicians
        bridge into it: ``region``, ``organisation``, ``kind``, ``score``,
        ``bridges``.
    order
        The outreach order: ``step``, ``region``, ``npi``, ``name``, ``reason``.
    """

    regions: pd.DataFrame
    bridges: pd.DataFrame
    organisations: pd.DataFrame
    order: pd.DataFrame


def _regions(candidates: Any, net: Any) -> dict[str, Any]:
    if isinstance(candidates, str):
        col = candidates
        if col not in net.physicians.columns:
            raise ValidationError(f"candidates: physicians have no column {col!r}")
        vals = net.physicians[col].dropna().unique().tolist()
        return {f"{col}={v}": {col: v} for v in sorted(vals, key=str)}
    if isinstance(candidates, Mapping):
        return {str(k): v for k, v in candidates.items()}
    if isinstance(candidates, Iterable):
        return {f"region {i + 1}": r for i, r in enumerate(candidates)}
    raise ValidationError(
        "candidates: expected a column name, a mapping name -> region, or a list of regions"
    )


def expansion_plan(
    net: Any,
    *,
    current: str | Iterable[str],
    candidates: Any,
    specialty: str | None = None,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    max_hops: int = 3,
    top_bridges: int = 5,
    weights: Any = None,
) -> ExpansionPlan:
    """Rank candidate regions by reachable potential and name the bridges into each.

    Parameters
    ----------
    net
        The network.
    current
        NPIs of my practice's physicians (my current footprint).
    candidates
        Candidate regions: a mapping ``name -> region`` (ZIP lists,
        ``(lat, lon, km)`` circles or ``{column: values}``), a list of them,
        or the name of a physician column whose values are regions
        (e.g. ``"city"``).
    specialty, sources, max_hops, weights
        As in :func:`rank_targets`.
    top_bridges
        Bridges and organisations listed per region.

    Returns
    -------
    ExpansionPlan

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(400, seed=2)
    >>> cardio = net.physicians.query("specialty == 'cardiology'")["npi"].tolist()[:2]
    >>> zips = net.physicians["zip"].dropna().unique()
    >>> plan = expansion_plan(net, current=cardio, candidates={"A": zips[:20], "B": zips[20:40]})
    >>> sorted(plan.regions.index), plan.regions["rank"].tolist()
    (['A', 'B'], [1, 2])

    Notes
    -----
    A bridge ``x`` into region ``R`` scores ``reach(x) * sum_{y in R} s(x, y)
    * potential(y) / sum_{y in R} potential(y)``: how well I reach them times
    the share of the region's potential their ties touch. Organisations
    (practices and hospital systems) add up the scores of their physicians.
    """
    hid = _home_ids(net, current)
    spec = _my_specialty(net, hid, specialty)
    pot = _potential(net, hid, spec)["competitor_volume"].to_numpy()
    reach = _reach(net, sources, hid_list(net, hid), max_hops, weights)
    tg = _tie_graph(net, weights=weights)
    rows_of = np.repeat(np.arange(tg.n), np.diff(tg.indptr))
    phys = net.physicians
    prac = net.practices.set_index("practice_id") if len(net.practices) else None
    is_home = np.zeros(tg.n, dtype=bool)
    is_home[hid] = True
    reg_rows, bridge_rows, org_rows = [], [], []
    for name, spec_r in _regions(candidates, net).items():
        inside = region_mask(net, spec_r) & ~is_home
        pr = np.where(inside, pot, 0.0)
        total = float(pr.sum())
        touch = np.bincount(rows_of, weights=tg.strength * pr[tg.indices], minlength=tg.n)
        ties_in = np.bincount(rows_of, weights=inside[tg.indices].astype(float), minlength=tg.n)
        score = reach * touch / total if total > 0 else np.zeros(tg.n)
        score[is_home] = 0.0
        best = np.argsort(-score, kind="stable")[:top_bridges]
        best = best[score[best] > 0]
        for x in best.tolist():
            pid = phys["practice_id"].iat[x]
            system = prac["system"].get(pid) if prac is not None and pd.notna(pid) else None
            bridge_rows.append(
                {
                    "region": name,
                    "npi": phys["npi"].iat[x],
                    "name": _names(net, [x])[0],
                    "reach": float(reach[x]),
                    "ties_into_region": int(ties_in[x]),
                    "bridge_score": float(score[x]),
                    "practice": None if pd.isna(pid) else str(pid),
                    "system": None if system is None or pd.isna(system) else str(system),
                }
            )
        orgs = _org_scores(phys, prac, score)
        for org in orgs.head(top_bridges).itertuples():
            org_rows.append(
                {
                    "region": name,
                    "organisation": org.organisation,
                    "kind": org.kind,
                    "score": org.score,
                    "bridges": org.bridges,
                }
            )
        m = inside & (pot > 0)
        reg_rows.append(
            {
                "region": name,
                "physicians": int(inside.sum()),
                "potential": total,
                "reachable_potential": float((pr * reach).sum()),
                "mean_reach": float(reach[m].mean()) if m.any() else 0.0,
                "reachable": int((inside & (reach >= 0.05)).sum()),
                "top_bridge": _names(net, [int(best[0])])[0] if best.size else None,
                "top_organisation": orgs["organisation"].iloc[0] if len(orgs) else None,
            }
        )
    regions = pd.DataFrame(reg_rows).set_index("region")
    regions = regions.sort_values("reachable_potential", ascending=False, kind="stable")
    regions.insert(0, "rank", np.arange(1, len(regions) + 1))
    bridges = pd.DataFrame(
        bridge_rows,
        columns=[
            "region",
            "npi",
            "name",
            "reach",
            "ties_into_region",
            "bridge_score",
            "practice",
            "system",
        ],
    )
    organisations = pd.DataFrame(
        org_rows, columns=["region", "organisation", "kind", "score", "bridges"]
    )
    order: list[dict[str, Any]] = []
    for region in regions.index:
        for b in bridges[bridges["region"] == region].itertuples():
            order.append(
                {
                    "step": len(order) + 1,
                    "region": region,
                    "npi": b.npi,
                    "name": b.name,
                    "reason": f"reach {b.reach:.2f}, {b.ties_into_region} ties into {region}"
                    + (f", {b.system}" if b.system else ""),
                }
            )
    return ExpansionPlan(
        regions,
        bridges,
        organisations,
        pd.DataFrame(order, columns=["step", "region", "npi", "name", "reason"]),
    )


def _org_scores(phys: pd.DataFrame, prac: pd.DataFrame | None, score: np.ndarray) -> pd.DataFrame:
    df = pd.DataFrame({"practice_id": phys["practice_id"].to_numpy(), "score": score})
    df = df[(df["score"] > 0) & df["practice_id"].notna()]
    if not len(df) or prac is None:
        return pd.DataFrame(columns=["organisation", "kind", "score", "bridges"])
    df["system"] = prac["system"].reindex(df["practice_id"]).to_numpy()
    df["kind"] = prac["kind"].reindex(df["practice_id"]).to_numpy()
    df["pname"] = prac["name"].reindex(df["practice_id"]).to_numpy()
    parts = []
    s = df[df["system"].notna()].groupby("system")["score"].agg(["sum", "size"])
    parts.append(
        pd.DataFrame(
            {
                "organisation": s.index.astype(str),
                "kind": "health_system",
                "score": s["sum"].to_numpy(),
                "bridges": s["size"].to_numpy(),
            }
        )
    )
    g = df[df["kind"].isin(["multi_specialty_group", "hospital"])]
    s2 = g.groupby(["pname", "kind"])["score"].agg(["sum", "size"]).reset_index()
    parts.append(
        pd.DataFrame(
            {
                "organisation": s2["pname"].astype(str),
                "kind": s2["kind"],
                "score": s2["sum"].to_numpy(),
                "bridges": s2["size"].to_numpy(),
            }
        )
    )
    out = (
        pd.concat([p for p in parts if len(p)], ignore_index=True)
        if any(len(p) for p in parts)
        else parts[0]
    )
    return out.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------- event site
def _pagerank(net: Any, alpha: float = 0.85, tol: float = 1e-10, max_iter: int = 500) -> np.ndarray:
    """Weighted PageRank on referral counts (power iteration, dangling mass spread evenly)."""
    import scipy.sparse as sp

    A = net.csr().matrix
    n = A.shape[0]
    if n == 0:
        return np.zeros(0)
    out = np.asarray(A.sum(axis=1)).ravel()
    dangling = out == 0
    inv = np.where(dangling, 0.0, 1.0 / np.where(dangling, 1.0, out))
    P = sp.csr_array(sp.diags_array(inv) @ A)
    PT = sp.csr_array(P.T)
    x = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nx_ = alpha * (PT @ x + x[dangling].sum() / n) + (1 - alpha) / n
        if np.abs(nx_ - x).sum() < tol:
            return np.asarray(nx_)
        x = nx_
    logger.warning("pagerank: no convergence in %d iterations", max_iter)
    return np.asarray(x)


@dataclass
class EventSite:
    """Result of :func:`event_site`.

    Attributes
    ----------
    sites
        Chosen sites: ``site``, ``name``, ``lat``, ``lon``, ``covered_influence``
        (share of the invitees' influence within reach of a chosen site),
        ``invitees_covered``, ``mean_travel_km`` (influence-weighted, to the
        nearest chosen site).
    invitees
        Per invitee: ``npi``, ``name``, ``influence``, ``lat``, ``lon``,
        ``site``, ``travel_km``, ``covered``.
    candidates
        Every candidate site with its single-site coverage.
    max_travel_km
        The travel limit used.
    exact
        Whether the choice is optimal (exhaustive) or greedy.
    """

    sites: pd.DataFrame
    invitees: pd.DataFrame
    candidates: pd.DataFrame
    max_travel_km: float
    exact: bool


def event_site(
    net: Any,
    region: Any,
    *,
    max_travel_km: float,
    candidates: pd.DataFrame | Iterable[tuple[float, float]] | None = None,
    p: int = 1,
    influence: pd.Series | None = None,
    max_combinations: int = 20_000,
) -> EventSite:
    """Where to host an educational event: maximal influence coverage, then least travel.

    Parameters
    ----------
    net
        The network.
    region
        The invitees: physicians inside this region
        (:func:`refgraph.paths.region_mask`) with known coordinates.
    max_travel_km
        An invitee is covered by a site within this great-circle distance.
    candidates
        Candidate sites: a DataFrame with ``lat``, ``lon`` (and optionally
        ``name``), or ``(lat, lon)`` pairs. Default: the practices of the
        invitees with coordinates (their own offices and hospitals).
    p
        Number of sites (events) to choose.
    influence
        Weight of each invitee by NPI; default their weighted PageRank on
        referral counts in the whole network (computed here with scipy).
    max_combinations
        Choose exhaustively when ``C(candidates, p)`` is at most this, else
        greedily.

    Returns
    -------
    EventSite

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(300, seed=2)
    >>> lat, lon = net.physicians[["lat", "lon"]].median()
    >>> res = event_site(net, (lat, lon, 40), max_travel_km=15)
    >>> len(res.sites), bool(0 < res.sites["covered_influence"].iloc[0] <= 1), res.exact
    (1, True, True)

    Notes
    -----
    Maximal covering location (Church and ReVelle 1974) with the p-median
    objective (Hakimi 1964) as tie-break: choose ``p`` sites maximising the
    influence within ``max_travel_km``, then minimising influence-weighted
    travel to the nearest site. Exhaustive search is exact; the greedy
    fallback achieves at least ``1 - 1/e`` of the best coverage (coverage is
    monotone submodular; Nemhauser, Wolsey and Fisher 1978).
    """
    if not max_travel_km > 0:
        raise ValidationError(f"max_travel_km: expected a positive number, got {max_travel_km!r}")
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValidationError(f"p: expected an integer >= 1, got {p!r}")
    phys = net.physicians
    lat = phys["lat"].to_numpy("float64", na_value=np.nan)
    lon = phys["lon"].to_numpy("float64", na_value=np.nan)
    inv = np.flatnonzero(region_mask(net, region) & ~np.isnan(lat) & ~np.isnan(lon))
    if not len(inv):
        raise ValidationError("region: no physician with coordinates inside the region")
    if influence is None:
        w = _pagerank(net)[inv]
    else:
        w = influence.reindex(phys["npi"].iloc[inv].to_numpy()).fillna(0).to_numpy("float64")
    w = w / w.sum() if w.sum() > 0 else np.full(len(inv), 1 / len(inv))
    cands = _candidate_sites(net, inv, candidates)
    if not len(cands):
        raise ValidationError("candidates: no candidate site with coordinates")
    d = haversine_km(
        lat[inv][:, None],
        lon[inv][:, None],
        cands["lat"].to_numpy()[None, :],
        cands["lon"].to_numpy()[None, :],
    )
    cov = d <= max_travel_km
    single = (w[:, None] * cov).sum(axis=0)
    cands = cands.assign(covered_influence=single, mean_travel_km=(w[:, None] * d).sum(axis=0))
    m = len(cands)
    p_eff = min(p, m)
    exact = math.comb(m, p_eff) <= max_combinations

    def value(sel: tuple[int, ...]) -> tuple[float, float]:
        dm = d[:, list(sel)].min(axis=1)
        return float((w * (dm <= max_travel_km)).sum()), -float((w * dm).sum())

    if exact:
        if p_eff == 1:
            order = np.lexsort((cands["mean_travel_km"].to_numpy(), -single))
            chosen: tuple[int, ...] = (int(order[0]),)
        else:
            chosen = max(itertools.combinations(range(m), p_eff), key=value)
    else:
        sel: list[int] = []
        for _ in range(p_eff):
            rest = [j for j in range(m) if j not in sel]
            sel.append(max(rest, key=lambda j: value((*sel, j))))
        chosen = tuple(sel)
    dsel = d[:, list(chosen)]
    near = dsel.argmin(axis=1)
    dmin = dsel.min(axis=1)
    covered = dmin <= max_travel_km
    site_rows = []
    for k, j in enumerate(chosen):
        mine = near == k
        site_rows.append(
            {
                "site": cands.index[j],
                "name": cands["name"].iloc[j],
                "lat": float(cands["lat"].iloc[j]),
                "lon": float(cands["lon"].iloc[j]),
                "covered_influence": float((w * (covered & mine)).sum()),
                "invitees_covered": int((covered & mine).sum()),
                "mean_travel_km": float(np.average(dmin[mine], weights=w[mine]))
                if mine.any() and w[mine].sum() > 0
                else float("nan"),
            }
        )
    invitees = (
        pd.DataFrame(
            {
                "npi": phys["npi"].iloc[inv].to_numpy(),
                "name": phys["name"].iloc[inv].to_numpy(),
                "influence": w,
                "lat": lat[inv],
                "lon": lon[inv],
                "site": [cands.index[chosen[i]] for i in near],
                "travel_km": dmin,
                "covered": covered,
            }
        )
        .sort_values("influence", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    return EventSite(pd.DataFrame(site_rows), invitees, cands, float(max_travel_km), exact)


def _candidate_sites(net: Any, inv: np.ndarray, candidates: Any) -> pd.DataFrame:
    if candidates is None:
        pr = net.practices
        pids = net.physicians["practice_id"].iloc[inv].dropna().unique()
        c = pr[pr["practice_id"].isin(pids) & pr["lat"].notna() & pr["lon"].notna()]
        if len(c):
            return pd.DataFrame(
                {
                    "name": c["name"].astype(object).fillna(c["practice_id"]).to_numpy(),
                    "lat": c["lat"].to_numpy("float64"),
                    "lon": c["lon"].to_numpy("float64"),
                },
                index=pd.Index(c["practice_id"].to_numpy(), name="site"),
            )
        ph = net.physicians.iloc[inv]
        loc = ph[["lat", "lon"]].round(3).drop_duplicates()
        return pd.DataFrame(
            {
                "name": [f"{a:.3f},{b:.3f}" for a, b in loc.to_numpy()],
                "lat": loc["lat"].to_numpy("float64"),
                "lon": loc["lon"].to_numpy("float64"),
            },
            index=pd.Index(range(len(loc)), name="site"),
        )
    if isinstance(candidates, pd.DataFrame):
        if not {"lat", "lon"} <= set(candidates.columns):
            raise ValidationError("candidates: expected columns lat and lon")
        names = candidates["name"] if "name" in candidates.columns else candidates.index
        out = pd.DataFrame(
            {
                "name": np.asarray(names, dtype=object),
                "lat": candidates["lat"].to_numpy("float64"),
                "lon": candidates["lon"].to_numpy("float64"),
            },
            index=pd.Index(candidates.index, name="site"),
        )
        return out.dropna(subset=["lat", "lon"])
    pts = [(float(a), float(b)) for a, b in candidates]
    return pd.DataFrame(
        {
            "name": [f"{a:.4f},{b:.4f}" for a, b in pts],
            "lat": [a for a, _ in pts],
            "lon": [b for _, b in pts],
        },
        index=pd.Index(range(len(pts)), name="site"),
    )


# ---------------------------------------------------------------------------- CLI
def cmd_targets(args: Any) -> int:
    """``refgraph targets --network PATH --home NPI... --out DIR``: ranked targets + briefs."""
    import sys

    from ..paths import _load_network

    net = _load_network(args.network)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ranked = rank_targets(
        net, home=args.home, top=getattr(args, "top", 50), max_hops=getattr(args, "max_hops", 3)
    )
    n_briefs = min(getattr(args, "briefs", 10), len(ranked))
    briefs = [outreach_brief(net, t, home=args.home) for t in ranked.index[:n_briefs]]
    table = ranked.copy()
    table["best_path"] = None
    table["best_path_probability"] = np.nan
    for t, b in zip(ranked.index[:n_briefs], briefs):
        if b["best_path"]:
            table.loc[t, "best_path"] = " -> ".join(b["best_path"]["names"])
            table.loc[t, "best_path_probability"] = b["best_path"]["probability"]
    table.to_csv(out / "targets.csv")
    md = [
        f"# Outreach targets ({ranked.attrs.get('specialty')})",
        "",
        "| rank | name | specialty | competitor volume | km | reach | score |",
        "|---:|---|---|---:|---:|---:|---:|",
    ]
    for npi, r in ranked.iterrows():
        md.append(
            f"| {r['rank']} | {r['name']} ({npi}) | {r['specialty']} | "
            f"{r['competitor_volume']:.0f} | {r['distance_km']:.1f} | {r['reach']:.2f} | "
            f"{r['score']:.1f} |"
        )
    md += ["", "## Briefs", ""] + [b["markdown"] for b in briefs]
    (out / "targets.md").write_text("\n".join(md), encoding="utf-8")
    sys.stdout.write(
        f"refgraph targets: {len(ranked)} targets, {n_briefs} briefs written to "
        f"{out / 'targets.csv'} and {out / 'targets.md'}\n"
    )
    return 0


def add_cli(subparsers: Any) -> None:
    """Register ``refgraph intro`` and ``refgraph targets`` on an argparse subparsers object."""
    from ..paths import cmd_intro

    i = subparsers.add_parser("intro", help="warm-introduction paths to a physician")
    i.add_argument("--to", required=True, help="NPI of the physician to meet")
    i.add_argument(
        "--from",
        dest="sources",
        nargs="*",
        default=None,
        metavar="NPI",
        help="my people (default: physicians with touchpoints)",
    )
    i.add_argument(
        "--home",
        nargs="*",
        default=None,
        metavar="NPI",
        help="my practice's physicians (start of paths when --from is not given)",
    )
    i.add_argument(
        "--network", default=None, help="saved network folder (default: $REFGRAPH_NETWORK)"
    )
    i.add_argument("--k", type=int, default=5, help="number of paths (default: %(default)s)")
    i.add_argument("--max-hops", type=int, default=3, help="maximum hops (default: %(default)s)")
    i.set_defaults(func=cmd_intro)
    t = subparsers.add_parser("targets", help="ranked outreach targets with briefs (CSV + MD)")
    t.add_argument("--network", required=True, help="saved network folder")
    t.add_argument(
        "--home", nargs="+", required=True, metavar="NPI", help="my practice's physicians"
    )
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--top", type=int, default=50, help="targets listed (default: %(default)s)")
    t.add_argument("--briefs", type=int, default=10, help="briefs written (default: %(default)s)")
    t.add_argument("--max-hops", type=int, default=3, help="maximum hops (default: %(default)s)")
    t.set_defaults(func=cmd_targets)
