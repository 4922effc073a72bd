"""Catchment areas, market share and leakage of referral volume.

Public names are re-exported from :mod:`refgraph.geo`; see there. Units and
markets are those of :mod:`refgraph.geo._markets`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._errors import NotFoundError, ValidationError
from .._params import check_float
from ._markets import Unit, _hav, _phys_attr, _unit_col, unit_table
from ._spatial import _spherical_mean

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["Catchment", "catchment", "leakage", "market_share"]


# ----------------------------------------------------------------------------- catchment
@dataclass
class Catchment:
    """The catchment area of a practice or physician; see :func:`catchment`.

    Attributes
    ----------
    target
        Practice id or NPI.
    kind
        ``"practice"`` or ``"physician"``.
    lat, lon
        Location of the target.
    share
        Share of the referral volume the catchment holds.
    unit
        ``"zip"`` or ``"practice"``.
    direction
        ``"in"`` (referrals received) or ``"out"`` (referrals sent).
    total_volume
        Located volume (the denominator of the shares).
    unlocated_volume
        Volume from physicians whose unit is unknown (left out).
    radius_km
        Smallest radius around the target holding ``share`` of the volume.
    units
        One row per unit: ``lat``, ``lon``, ``volume``, ``share``,
        ``cum_share`` (by decreasing volume), ``distance_km``,
        ``in_catchment`` (the smallest set of units holding ``share``).
    """

    target: str
    kind: str
    lat: float
    lon: float
    share: float
    unit: str
    direction: str
    total_volume: float
    unlocated_volume: float
    radius_km: float
    units: pd.DataFrame = field(repr=False)

    @property
    def area(self) -> list[str]:
        """The units (ZIP codes or practice ids) of the catchment, largest first."""
        return [str(x) for x in self.units.index[self.units["in_catchment"].to_numpy(bool)]]

    @property
    def achieved_share(self) -> float:
        """Share of the volume actually held by :attr:`area` (>= ``share``)."""
        if not self.total_volume:
            return float("nan")
        return float(self.units.loc[self.units["in_catchment"], "volume"].sum() / self.total_volume)


def catchment(
    net: ReferralNetwork,
    target: str,
    *,
    share: float = 0.8,
    unit: Unit = "zip",
    direction: Literal["in", "out"] = "in",
    weight: str = "count",
) -> Catchment:
    """The smallest area holding ``share`` of a practice's (or physician's) referral volume.

    Parameters
    ----------
    net
        The network.
    target
        A practice id (its physicians together) or an NPI.
    share
        Share of the volume to hold, in (0, 1].
    unit
        Area building block: ``"zip"`` or ``"practice"``.
    direction
        ``"in"``: where the referrals it receives come from (default);
        ``"out"``: where the referrals it sends go.
    weight
        Flow column summed as volume.

    Returns
    -------
    Catchment
        The ZIPs (or practices) of the catchment (:attr:`Catchment.area`)
        and the radius around the target (:attr:`Catchment.radius_km`).

    Raises
    ------
    NotFoundError
        When ``target`` is neither a practice id nor an NPI of the network.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051", "1154584084"],
    ...                      "zip": ["10001", "10002", "02114"]})
    >>> flows = pd.DataFrame({"source_npi": ["1003033051", "1154584084"],
    ...                       "target_npi": ["1234567893", "1234567893"], "count": [9, 1]})
    >>> c = catchment(ReferralNetwork.from_frames(physicians=phys, flows=flows),
    ...               "1234567893", share=0.8)
    >>> c.area, round(c.radius_km, 1)
    (['10002'], 3.8)

    Notes
    -----
    Referrals among the target's own physicians are left out. The set of
    units is found greedily by decreasing volume (ties: nearer first), which
    is the smallest number of units holding the share; the radius is the
    distance to the farthest unit needed when units are added by distance.
    """
    share = check_float(share, "share", minimum=0, maximum=1, open_min=True)
    if direction not in ("in", "out"):
        raise ValidationError(f"direction: expected 'in' or 'out', got {direction!r}")
    phys = net.physicians
    target = str(target)
    pids = phys["practice_id"].astype("string")
    if (net.practices["practice_id"].astype("string") == target).any() or (pids == target).any():
        kind = "practice"
        members = set(phys.loc[(pids == target).fillna(False).to_numpy(bool), "npi"].astype(str))
        pr = net.practices[net.practices["practice_id"].astype("string") == target]
        plat = pd.to_numeric(pr["lat"], errors="coerce").to_numpy(float, na_value=np.nan)
        plon = pd.to_numeric(pr["lon"], errors="coerce").to_numpy(float, na_value=np.nan)
        lat = float(plat[0]) if len(plat) else np.nan
        lon = float(plon[0]) if len(plon) else np.nan
    elif (phys["npi"].astype("string") == target).any():
        kind, members = "physician", {target}
        lat, lon = np.nan, np.nan
    else:
        raise NotFoundError(
            f"target: {target!r} is neither a practice id nor an NPI of the network"
        )
    mem = phys[phys["npi"].astype(str).isin(members)]
    if not np.isfinite(lat) or not np.isfinite(lon):
        mlat = pd.to_numeric(mem["lat"], errors="coerce").to_numpy(float, na_value=np.nan)
        mlon = pd.to_numeric(mem["lon"], errors="coerce").to_numpy(float, na_value=np.nan)
        ok = np.isfinite(mlat) & np.isfinite(mlon)
        lat, lon = _spherical_mean(mlat[ok], mlon[ok]) if ok.any() else (np.nan, np.nan)
    unit_of, units = unit_table(net, unit=unit)
    if not (np.isfinite(lat) and np.isfinite(lon)):  # fall back on the members' units
        mu = unit_of.reindex(pd.Index(sorted(members), dtype="string")).dropna()
        loc = units.reindex(mu.to_numpy(dtype=object))[["lat", "lon"]].dropna()
        if len(loc):
            lat, lon = _spherical_mean(loc["lat"].to_numpy(float), loc["lon"].to_numpy(float))
    e = net.edges(weight=weight)
    mine, other = (
        ("target_npi", "source_npi") if direction == "in" else ("source_npi", "target_npi")
    )
    sel = e[e[mine].astype(str).isin(members) & ~e[other].astype(str).isin(members)]
    w = pd.to_numeric(sel[weight], errors="coerce").fillna(0).to_numpy(float)
    u = unit_of.reindex(sel[other].astype("string")).to_numpy(dtype=object)
    df = pd.DataFrame({"u": u, "w": w})
    located = df["u"].notna().to_numpy(bool)
    unlocated = float(w[~located].sum())
    vol = df[located].astype({"u": "string"}).groupby("u")["w"].sum()
    vol = vol[vol > 0]
    tab = units.reindex(vol.index)[["lat", "lon"]].copy()
    tab["volume"] = vol.to_numpy(float)
    tab["distance_km"] = _hav(lat, lon, tab["lat"].to_numpy(float), tab["lon"].to_numpy(float))
    tab.index.name = _unit_col(unit)
    total = float(tab["volume"].sum())
    tab["_n"] = tab.index.astype(str)
    tab = tab.sort_values(["volume", "distance_km", "_n"], ascending=[False, True, True])
    tab = tab.drop(columns="_n")
    tab["share"] = tab["volume"] / total if total else np.nan
    tab["cum_share"] = tab["share"].cumsum()
    eps = 1e-12
    need = int(np.searchsorted(tab["cum_share"].to_numpy(float), share - eps) + 1) if total else 0
    tab["in_catchment"] = np.arange(len(tab)) < need
    radius = np.nan
    if total:
        byd = tab.sort_values("distance_km")
        dist = byd["distance_km"].to_numpy(float)
        cum = np.cumsum(byd["volume"].to_numpy(float)) / total
        i = int(np.searchsorted(cum, share - eps))
        radius = float(dist[min(i, len(dist) - 1)])
    return Catchment(
        target=target,
        kind=kind,
        lat=float(lat),
        lon=float(lon),
        share=float(share),
        unit=unit,
        direction=direction,
        total_volume=total,
        unlocated_volume=unlocated,
        radius_km=radius,
        units=tab,
    )


# ----------------------------------------------------------------------------- share, leakage
def _market_map(markets: Any) -> pd.Series:
    if isinstance(markets, pd.Series):
        m = markets
    elif isinstance(markets, pd.DataFrame):
        col = next(
            (c for c in ("market", "region", "community", "cluster") if c in markets.columns), None
        )
        if col is None:
            raise ValidationError(
                "markets: expected a Series or a DataFrame with a 'market', 'region', "
                f"'community' or 'cluster' column, got columns {list(markets.columns)}"
            )
        m = markets[col]
    elif isinstance(markets, dict):
        m = pd.Series(markets)
    else:
        raise ValidationError(
            f"markets: expected a Series, DataFrame or dict, got {type(markets).__name__}"
        )
    m = m.dropna()
    m.index = pd.Index(m.index.astype("string"))
    return m.astype("string")


def _market_flows(net: ReferralNetwork, markets: Any, unit: Unit, weight: str) -> pd.DataFrame:
    unit_of, _ = unit_table(net, unit=unit)
    mm = _market_map(markets)
    e = net.edges(weight=weight)
    su = unit_of.reindex(e["source_npi"].astype("string"))
    tu = unit_of.reindex(e["target_npi"].astype("string"))
    return pd.DataFrame(
        {
            "source_npi": e["source_npi"].to_numpy(),
            "target_npi": e["target_npi"].to_numpy(),
            "src_market": mm.reindex(su.to_numpy()).to_numpy(dtype=object),
            "dst_market": mm.reindex(tu.to_numpy()).to_numpy(dtype=object),
            "w": pd.to_numeric(e[weight], errors="coerce").fillna(0).to_numpy(float),
        }
    )


def market_share(
    net: ReferralNetwork,
    markets: Any,
    *,
    by: str = "practice_id",
    unit: Unit = "zip",
    weight: str = "count",
) -> pd.DataFrame:
    """Share of each market's referral volume received by each provider.

    Parameters
    ----------
    net
        The network.
    markets
        Market of each unit: a Series (unit -> market), or the output of
        :func:`plurality_regions`, :func:`flow_communities` or a table with
        a ``market``/``region``/``community``/``cluster`` column indexed by
        unit.
    by
        Provider column of the receiving physician (``"practice_id"``,
        ``"system"``, ``"npi"``, ``"specialty"``...; practices columns are
        joined through ``practice_id``).
    unit
        Unit the markets are made of.
    weight
        Flow column summed as volume.

    Returns
    -------
    pandas.DataFrame
        Columns ``market``, ``provider``, ``volume``, ``share`` (of the
        volume *sent from* the market) and ``rank`` (1 = largest), sorted by
        market and rank. Providers of unknown ``by`` appear as ``<NA>``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051", "1154584084"],
    ...                      "zip": ["02114", "02115", "02116"],
    ...                      "practice_id": ["A", "B", "C"]})
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1234567893"],
    ...                       "target_npi": ["1003033051", "1154584084"], "count": [3, 1]})
    >>> net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    >>> ms = market_share(net, {"02114": "M", "02115": "M", "02116": "M"})
    >>> ms[["provider", "share"]].to_dict("list")
    {'provider': ['B', 'C'], 'share': [0.75, 0.25]}
    """
    f = _market_flows(net, markets, unit, weight)
    prov = _phys_attr(net, by).astype("string")
    f["provider"] = prov.reindex(f["target_npi"].astype("string")).to_numpy(dtype=object)
    f = f[pd.notna(f["src_market"])]
    g = f.groupby(["src_market", "provider"], dropna=False, sort=True)["w"].sum().reset_index()
    g.columns = ["market", "provider", "volume"]
    g["share"] = g["volume"] / g.groupby("market")["volume"].transform("sum")
    g = g.sort_values(["market", "volume", "provider"], ascending=[True, False, True])
    g["rank"] = g.groupby("market").cumcount() + 1
    g["market"] = g["market"].astype("string")
    g["provider"] = g["provider"].astype("string")
    return g.reset_index(drop=True)


def leakage(
    net: ReferralNetwork,
    markets: Any,
    *,
    by: str | None = None,
    unit: Unit = "zip",
    weight: str = "count",
) -> pd.DataFrame:
    """Referral volume leaving each market (and, with ``by``, leaving the network).

    Parameters
    ----------
    net
        The network.
    markets
        Market of each unit (see :func:`market_share`).
    by
        Optional organisation column (``"system"``, ``"practice_id"``...):
        adds out-of-network leakage, referrals whose target belongs to
        another organisation than the source (unknown counts as other).
    unit
        Unit the markets are made of.
    weight
        Flow column summed as volume.

    Returns
    -------
    pandas.DataFrame
        Indexed by market: ``volume`` (sent by physicians in the market),
        ``retained`` (to physicians in the same market), ``leaked``,
        ``leakage`` (leaked / volume), ``top_destination`` (market receiving
        most of the leaked volume; ``<NA>`` for targets outside every
        market); with ``by``: ``out_of_network`` and ``network_leakage``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051", "1154584084"],
    ...                      "zip": ["02114", "02115", "10001"]})
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1234567893"],
    ...                       "target_npi": ["1003033051", "1154584084"], "count": [3, 1]})
    >>> net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    >>> lk = leakage(net, {"02114": "Boston", "02115": "Boston", "10001": "NYC"})
    >>> lk.loc["Boston", ["volume", "leaked", "leakage"]].astype(float).tolist()
    [4.0, 1.0, 0.25]
    >>> lk.loc["Boston", "top_destination"]
    'NYC'
    """
    f = _market_flows(net, markets, unit, weight)
    f = f[pd.notna(f["src_market"])].copy()
    f["src_market"] = f["src_market"].astype(str)
    same = (f["src_market"] == f["dst_market"]).fillna(False).to_numpy(bool)
    f["retained"] = np.where(same, f["w"], 0.0)
    g = f.groupby("src_market", sort=True)
    out = pd.DataFrame({"volume": g["w"].sum(), "retained": g["retained"].sum()})
    out["leaked"] = out["volume"] - out["retained"]
    out["leakage"] = np.where(
        out["volume"] > 0, out["leaked"] / out["volume"].where(out["volume"] > 0, 1), np.nan
    )
    lk = f[~same]
    if len(lk):
        top = (
            lk.assign(dst=lk["dst_market"].astype("string"))
            .groupby(["src_market", "dst"], dropna=False)["w"]
            .sum()
            .reset_index()
            .sort_values(["src_market", "w", "dst"], ascending=[True, False, True])
            .drop_duplicates("src_market")
            .set_index("src_market")["dst"]
        )
        out["top_destination"] = top.reindex(out.index).astype("string")
    else:
        out["top_destination"] = pd.array([pd.NA] * len(out), dtype="string")
    if by is not None:
        org = _phys_attr(net, by).astype("string")
        so = org.reindex(f["source_npi"].astype("string")).to_numpy(dtype=object)
        to = org.reindex(f["target_npi"].astype("string")).to_numpy(dtype=object)
        inn = np.array(
            [a is not None and a is not pd.NA and a == b for a, b in zip(so, to)], dtype=bool
        )
        f["oon"] = np.where(inn, 0.0, f["w"])
        out["out_of_network"] = f.groupby("src_market", sort=True)["oon"].sum()
        out["network_leakage"] = out["out_of_network"] / out["volume"].where(out["volume"] > 0)
    out.index = pd.Index(out.index.astype("string"), name="market")
    return out
