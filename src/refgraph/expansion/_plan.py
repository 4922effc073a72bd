"""Which region next, through whom: :func:`expansion_plan`.

Public through :mod:`refgraph.expansion`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import MAX_HOPS, check_int
from .._views import display_names as _names
from ..paths import region_mask, tie_matrix
from ._common import _home_ids, _my_specialty, _potential, _reach, hid_list


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

    def _repr_html_(self) -> str:
        """Notebook display: regions best first and the outreach order (escaped HTML)."""
        from .._html import result_html

        return result_html(
            "Expansion plan",
            [("regions", len(self.regions)), ("steps", len(self.order))],
            [("regions, best first", self.regions, None), ("outreach order", self.order, None)],
        )


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
    check_int(max_hops, "max_hops", minimum=0, maximum=MAX_HOPS)
    top_bridges = check_int(top_bridges, "top_bridges", minimum=1)
    spec = _my_specialty(net, hid, specialty)
    pot = _potential(net, hid, spec)["competitor_volume"].to_numpy()
    reach = _reach(net, sources, hid_list(net, hid), max_hops, weights)
    tm = tie_matrix(net, weights=weights)
    n = tm.shape[0]
    rows_of = np.repeat(np.arange(n), np.diff(tm.indptr))
    phys = net.physicians
    prac = net.practices.set_index("practice_id") if len(net.practices) else None
    is_home = np.zeros(n, dtype=bool)
    is_home[hid] = True
    reg_rows, bridge_rows, org_rows = [], [], []
    for name, spec_r in _regions(candidates, net).items():
        inside = region_mask(net, spec_r) & ~is_home
        pr = np.where(inside, pot, 0.0)
        total = float(pr.sum())
        touch = np.bincount(rows_of, weights=tm.data * pr[tm.indices], minlength=n)
        ties_in = np.bincount(rows_of, weights=inside[tm.indices].astype(float), minlength=n)
        score = reach * touch / total if total > 0 else np.zeros(n)
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
                    + (f", {b.system}" if isinstance(b.system, str) and b.system else ""),
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
