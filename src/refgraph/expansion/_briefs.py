"""The facts for a tailored introduction: :func:`outreach_brief`.

Public through :mod:`refgraph.expansion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._distance import haversine_km
from .._errors import NoPathError
from .._params import MAX_HOPS, check_int, check_npi_in_network
from .._views import display_names as _names
from ..paths import intro_paths, resolve_sources, tie_matrix
from ._common import _distance_to, _home_ids, _my_specialty, hid_list


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
    >>> from refgraph.expansion import rank_targets
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
    t = check_npi_in_network(net, target, "target")
    top = check_int(top, "top", minimum=0)
    check_int(max_hops, "max_hops", minimum=1, maximum=MAX_HOPS)
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
    tm = tie_matrix(net, weights=weights)
    src, c0 = resolve_sources(net, sources, hid_list(net, hid))
    is_src = np.zeros(tm.shape[0], dtype=bool)
    is_src[src] = True
    nb_t, s_t = _neighbours(tm, t)
    shared = []
    for x, sxt in zip(nb_t.tolist(), s_t.tolist()):
        if is_src[x]:
            continue
        nb_x, s_x = _neighbours(tm, x)
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


def _neighbours(m: Any, u: int) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours of node ``u`` in a CSR matrix and the values of those entries."""
    lo, hi = int(m.indptr[u]), int(m.indptr[u + 1])
    return m.indices[lo:hi], m.data[lo:hi]


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
