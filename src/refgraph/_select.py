"""Sub-networks: by a set of physicians, and by specialty, region and period."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._distance import haversine_km
from ._errors import ValidationError

if TYPE_CHECKING:
    from .network import ReferralNetwork


def subnetwork(net: ReferralNetwork, npis: Iterable[str]) -> ReferralNetwork:
    """The sub-network induced by ``npis`` (see :meth:`ReferralNetwork.subnetwork`)."""
    keep = pd.Index(pd.Series(list(npis), dtype="string")).unique()
    t = net._tables
    phys = t["physicians"][t["physicians"]["npi"].isin(keep)]
    flows = t["flows"][t["flows"]["source_npi"].isin(keep) & t["flows"]["target_npi"].isin(keep)]
    ev = t["events"][t["events"]["source_npi"].isin(keep) & t["events"]["target_npi"].isin(keep)]
    tp = t["touchpoints"][t["touchpoints"]["npi"].isin(keep)]
    pr = t["practices"][t["practices"]["practice_id"].isin(phys["practice_id"].dropna())]
    return type(net)._from_valid_tables(
        {"physicians": phys, "practices": pr, "flows": flows, "events": ev, "touchpoints": tp},
        backend=None,
    )


#: Which flows a selection keeps (see :meth:`ReferralNetwork.select`): both ends
#: selected, at least one end, the referring end, the receiving end.
FLOW_MODES = ("both", "either", "from", "to")


def check_flows_mode(flows: str) -> str:
    """``flows`` if it is one of :data:`FLOW_MODES`, else a ValidationError."""
    if flows not in FLOW_MODES:
        raise ValidationError(
            f"flows: expected one of {', '.join(map(repr, FLOW_MODES))}, got {flows!r}"
        )
    return flows


def flow_mask(source: pd.Series, target: pd.Series, keep: pd.Index, flows: str) -> np.ndarray:
    """Rows (flows or events) that a selection of ``keep`` retains under ``flows``."""
    s = source.isin(keep).to_numpy(bool)
    t = target.isin(keep).to_numpy(bool)
    if flows == "both":
        return s & t
    if flows == "either":
        return s | t
    return s if flows == "from" else t


def warn_no_flows(had: int, kept: int, n_selected: int) -> None:
    """Warn when a selection of physicians leaves none of the network's flows."""
    if had and not kept and n_selected:
        warnings.warn(
            f"the selection keeps {n_selected} physician(s) but none of the {had} flows; "
            "flows='either' keeps flows with one end selected",
            UserWarning,
            stacklevel=4,
        )


def select_flows(net: ReferralNetwork, npis: Iterable[str], flows: str) -> ReferralNetwork:
    """The selection of physicians ``npis`` with the flows that ``flows`` keeps.

    With ``flows="both"`` this is :func:`subnetwork`. Otherwise the flows and
    events with the required end(s) among ``npis`` are kept, and the network
    also holds the physicians at their other ends (with their touchpoints
    and practices).
    """
    check_flows_mode(flows)
    keep = pd.Index(pd.Series(list(npis), dtype="string")).unique()
    if flows == "both":
        return subnetwork(net, keep)
    t = net._tables
    f = t["flows"][flow_mask(t["flows"]["source_npi"], t["flows"]["target_npi"], keep, flows)]
    ev = t["events"][flow_mask(t["events"]["source_npi"], t["events"]["target_npi"], keep, flows)]
    ends = pd.concat([f["source_npi"], f["target_npi"], ev["source_npi"], ev["target_npi"]])
    every = keep.union(pd.Index(ends.astype("string")).unique())
    phys = t["physicians"][t["physicians"]["npi"].isin(every)]
    tp = t["touchpoints"][t["touchpoints"]["npi"].isin(every)]
    pr = t["practices"][t["practices"]["practice_id"].isin(phys["practice_id"].dropna())]
    return type(net)._from_valid_tables(
        {"physicians": phys, "practices": pr, "flows": f, "events": ev, "touchpoints": tp},
        backend=None,
    )


def select(
    net: ReferralNetwork,
    *,
    specialty: str | Iterable[str] | None = None,
    zips: Iterable[str] | None = None,
    within_km: tuple[float, float, float] | None = None,
    period: tuple[Any, Any] | None = None,
    flows: str = "both",
) -> ReferralNetwork:
    """The selection of :meth:`ReferralNetwork.select`."""
    check_flows_mode(flows)
    phys = net.physicians
    mask = pd.Series(True, index=phys.index)
    if specialty is not None:
        specs = [specialty] if isinstance(specialty, str) else list(specialty)
        try:
            from .specialties import normalize_specialty

            specs = [normalize_specialty(s) or s.strip().lower() for s in specs]
        except ImportError:  # pragma: no cover - vocabulary always shipped
            pass
        mask &= phys["specialty"].isin(specs).fillna(False)
    if zips is not None:
        mask &= phys["zip"].isin([str(z).zfill(5) for z in zips]).fillna(False)
    if within_km is not None:
        lat, lon, km = within_km
        if km < 0:
            raise ValidationError(f"within_km: radius must be >= 0, got {km}")
        d = haversine_km(lat, lon, phys["lat"].to_numpy(float), phys["lon"].to_numpy(float))
        mask &= pd.Series(np.nan_to_num(d, nan=np.inf) <= km, index=phys.index)
    chosen = phys.loc[mask.to_numpy(bool), "npi"]
    sub = select_flows(net, chosen, flows)
    warn_no_flows(net.n_flows, sub.n_flows, len(chosen))
    if period is not None:
        start, end = (pd.Timestamp(p) if p is not None else None for p in period)
        f = sub._tables["flows"]
        keep = pd.Series(True, index=f.index)
        if end is not None:
            keep &= ~(f["period_start"] > end).fillna(False)
        if start is not None:
            keep &= ~(f["period_end"] < start).fillna(False)
        sub._tables["flows"] = f[keep.to_numpy(bool)].reset_index(drop=True)
        ev = sub._tables["events"]
        em = pd.Series(True, index=ev.index)
        if start is not None:
            em &= ev["date"] >= start
        if end is not None:
            em &= ev["date"] <= end
        sub._tables["events"] = ev[em.to_numpy(bool)].reset_index(drop=True)
        sub._invalidate()
    return sub
