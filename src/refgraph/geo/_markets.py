"""Flow-based markets: plurality regions, geographically coherent communities, catchments.

Public names are re-exported from :mod:`refgraph.geo`; see there.

A *unit* is where a physician is: their ZIP code (``unit="zip"``) or their
practice (``unit="practice"``). Referral flows between physicians are summed
into flows between units, and markets are sets of units.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._distance import haversine_km
from .._errors import ValidationError
from .._optional import require
from .._params import check_float, check_int
from ._cluster import _relabel

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["flow_communities", "plurality_regions", "unit_table"]

_R = 6371.0088
Unit = Literal["zip", "practice"]


def _hav(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    return np.asarray(haversine_km(lat1, lon1, lat2, lon2), dtype=float)


# ----------------------------------------------------------------------------- units
def _unit_col(unit: str) -> str:
    if unit == "zip":
        return "zip"
    if unit == "practice":
        return "practice_id"
    raise ValidationError(f"unit: expected 'zip' or 'practice', got {unit!r}")


def _phys_attr(net: ReferralNetwork, col: str) -> pd.Series:
    """A physician attribute by NPI, taken from practices via practice_id when needed."""
    phys = net.physicians
    idx = pd.Index(phys["npi"].astype("string"), name="npi")
    if col == "npi":
        return pd.Series(idx.to_numpy(dtype=object), index=idx, dtype="string")
    if col in phys.columns:
        return pd.Series(phys[col].to_numpy(dtype=object), index=idx)
    pr = net.practices
    if col in pr.columns:
        m = pr.drop_duplicates("practice_id").set_index("practice_id")[col]
        return pd.Series(phys["practice_id"].map(m).to_numpy(dtype=object), index=idx)
    raise ValidationError(
        f"column {col!r} is neither a physicians nor a practices column "
        f"(physicians: {list(phys.columns)}, practices: {list(pr.columns)})"
    )


def unit_table(net: ReferralNetwork, *, unit: Unit = "zip") -> tuple[pd.Series, pd.DataFrame]:
    """Unit of each physician and the coordinates of each unit.

    Parameters
    ----------
    net
        The network.
    unit
        ``"zip"``: the physician's ZIP code (the practice's when the
        physician has none); located at the ZIP centroid of the ``zipcodes``
        package, else the mean of its physicians. ``"practice"``: the
        practice id; located at the practice coordinates, else the mean of
        its physicians.

    Returns
    -------
    (pandas.Series, pandas.DataFrame)
        The unit of each NPI (``<NA>`` when unknown), and a table indexed by
        unit with ``lat``, ``lon`` and ``physicians``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051"], "zip": ["10001", None]})
    >>> of, units = unit_table(ReferralNetwork.from_frames(physicians=phys))
    >>> of.tolist(), units.index.tolist(), round(float(units.loc["10001", "lat"]), 2)
    (['10001', <NA>], ['10001'], 40.75)
    """
    col = _unit_col(unit)
    phys = net.physicians
    npi = pd.Index(phys["npi"].astype("string"), name="npi")
    u = pd.Series(phys[col].astype("string").to_numpy(), index=npi, dtype="string")
    if unit == "zip":
        u = u.str.slice(0, 5)
        if u.isna().any() and "zip" in net.practices.columns:
            pz = net.practices.drop_duplicates("practice_id").set_index("practice_id")["zip"]
            fill = phys["practice_id"].map(pz).astype("string").str.slice(0, 5)
            u = u.fillna(pd.Series(fill.to_numpy(), index=npi, dtype="string"))
    u.name = col
    plat = pd.to_numeric(phys["lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    plon = pd.to_numeric(phys["lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    df = pd.DataFrame({"unit": u.to_numpy(), "lat": plat, "lon": plon}).dropna(subset=["unit"])
    g = df.groupby("unit", sort=True)
    units = pd.DataFrame({"lat": g["lat"].mean(), "lon": g["lon"].mean(), "physicians": g.size()})
    units.index = pd.Index(units.index.astype("string"), name=col)
    if unit == "zip":
        from ._geocode import _zip_frame

        z = _zip_frame()
        known = units.index.isin(z.index)
        units.loc[known, "lat"] = z.loc[units.index[known], "lat"].to_numpy(float)
        units.loc[known, "lon"] = z.loc[units.index[known], "lon"].to_numpy(float)
    else:
        pr = net.practices.drop_duplicates("practice_id").set_index("practice_id")
        for c in ("lat", "lon"):
            v = pd.to_numeric(pr[c], errors="coerce").reindex(units.index)
            units[c] = v.fillna(units[c]).to_numpy(float)
    units["physicians"] = units["physicians"].astype("int64")
    return u, units


def _unit_flows(
    net: ReferralNetwork, src_of: pd.Series, dst_of: pd.Series, weight: str
) -> pd.DataFrame:
    """Flows summed by (source label, target label); rows with an unknown label dropped."""
    e = net.edges(weight=weight)
    w = pd.to_numeric(e[weight], errors="coerce").fillna(0).to_numpy(dtype=float)
    s = src_of.reindex(e["source_npi"].astype("string")).to_numpy(dtype=object)
    t = dst_of.reindex(e["target_npi"].astype("string")).to_numpy(dtype=object)
    df = pd.DataFrame({"src": s, "dst": t, "w": w})
    ok = df["src"].notna() & df["dst"].notna()
    if (~ok).any():
        logger.info(
            "%d flows (volume %.0f) have an unknown unit and are left out",
            int((~ok).sum()),
            float(w[~ok.to_numpy()].sum()),
        )
    df = df[ok.to_numpy()]
    df = df.astype({"src": "string", "dst": "string"})
    return df.groupby(["src", "dst"], as_index=False, sort=True)["w"].sum()


def _knn_adjacency(units: pd.DataFrame, k: int) -> list[set[int]]:
    """Symmetric k-nearest-neighbour adjacency (great circle) between located units."""
    require("sklearn", "geo", purpose="market contiguity (k nearest neighbours)")
    from sklearn.neighbors import BallTree

    n = len(units)
    adj: list[set[int]] = [set() for _ in range(n)]
    ok = np.flatnonzero(
        np.isfinite(units["lat"].to_numpy(float)) & np.isfinite(units["lon"].to_numpy(float))
    )
    if len(ok) < 2:
        return adj
    X = np.radians(units[["lat", "lon"]].to_numpy(float)[ok])
    kk = min(k + 1, len(ok))
    _, ind = BallTree(X, metric="haversine").query(X, k=kk)
    for row, nbrs in zip(ok, ind):
        for j in ok[nbrs]:
            if j != row:
                adj[row].add(int(j))
                adj[int(j)].add(int(row))
    return adj


def _components(members: np.ndarray, adj: list[set[int]]) -> list[list[int]]:
    inside = set(members.tolist())
    seen: set[int] = set()
    comps = []
    for m in members.tolist():
        if m in seen:
            continue
        stack, comp = [m], []
        seen.add(m)
        while stack:
            x = stack.pop()
            comp.append(x)
            for y in adj[x]:
                if y in inside and y not in seen:
                    seen.add(y)
                    stack.append(y)
        comps.append(sorted(comp))
    return comps


def _make_contiguous(
    labels: np.ndarray,
    adj: list[set[int]],
    anchor: dict[Any, int],
    score: Any,
    how: np.ndarray,
    max_iter: int = 20,
) -> np.ndarray:
    """Reassign fragments of non-contiguous regions to the neighbouring region.

    ``anchor[label]`` is the unit whose component is kept (else the largest
    component); ``score(fragment, label)`` breaks ties between neighbouring
    regions (higher wins), then the label's string order.
    """
    labels = labels.copy()
    for _ in range(max_iter):
        changed = False
        for lab in sorted({x for x in labels if x is not None and x is not pd.NA}, key=str):
            members = np.flatnonzero(labels == lab)
            comps = _components(members, adj)
            if len(comps) < 2:
                continue
            a = anchor.get(lab)
            keep = next((c for c in comps if a in c), None)
            if keep is None:
                keep = max(comps, key=lambda c: (len(c), -c[0]))
            for frag in sorted((c for c in comps if c is not keep), key=len):
                fset = set(frag)
                votes: dict[Any, int] = {}
                for x in frag:
                    for y in adj[x]:
                        if y not in fset and labels[y] is not None and labels[y] != lab:
                            votes[labels[y]] = votes.get(labels[y], 0) + 1
                if not votes:
                    continue
                best = max(votes, key=lambda r: (votes[r], score(frag, r), _neg_str(r)))
                labels[frag] = best
                how[frag] = "contiguity"
                changed = True
        if not changed:
            break
    return labels


class _neg_str:
    def __init__(self, v: Any) -> None:
        self.s = str(v)

    def __lt__(self, other: _neg_str) -> bool:
        return self.s > other.s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _neg_str) and self.s == other.s


def _fill_from_neighbors(labels: np.ndarray, adj: list[set[int]], how: np.ndarray) -> None:
    """Give unlabelled units the most common label among their neighbours (repeat)."""
    for _ in range(50):
        todo = [i for i in range(len(labels)) if labels[i] is None]
        if not todo:
            return
        new = {}
        for i in todo:
            votes: dict[Any, int] = {}
            for j in adj[i]:
                if labels[j] is not None:
                    votes[labels[j]] = votes.get(labels[j], 0) + 1
            if votes:
                new[i] = max(votes, key=lambda r: (votes[r], _neg_str(r)))
        if not new:
            return
        for i, r in new.items():
            labels[i] = r
            how[i] = "neighbors"


# ----------------------------------------------------------------------------- plurality
def plurality_regions(
    net: ReferralNetwork,
    *,
    unit: Unit = "zip",
    hub: str | None = None,
    weight: str = "count",
    contiguity: bool = True,
    k_neighbors: int = 6,
    fill: bool = True,
) -> pd.DataFrame:
    """Dartmouth-Atlas-style plurality regions of referral flows.

    Each unit (ZIP code or practice) is assigned to the *hub* receiving the
    largest share (the plurality) of the referral volume its physicians send;
    the region of a hub is the set of units assigned to it.

    Parameters
    ----------
    net
        The network.
    unit
        ``"zip"`` or ``"practice"``: what is assigned.
    hub
        What receives: a physicians or practices column naming the target's
        hub (for example ``"system"``, or a column of hospital-town names).
        Default: the target's own unit (ZIP or practice).
    weight
        Flow column summed as volume.
    contiguity
        Make regions spatially contiguous (see Notes).
    k_neighbors
        Neighbours per unit in the adjacency used for contiguity and filling.
    fill
        Give units that send no referrals the most common region of their
        neighbours (``assignment="neighbors"``); otherwise their region is
        ``<NA>``.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit (``zip`` or ``practice_id``): ``region`` (a hub),
        ``plurality_region`` (before contiguity clean-up), ``lat``, ``lon``,
        ``physicians``, ``volume`` (volume sent), ``region_volume`` (volume
        sent to the assigned hub), ``share_to_hub`` (their ratio; the
        *localization index* of the Dartmouth Atlas), ``assignment``
        (``"plurality"``, ``"tie"``, ``"contiguity"``, ``"neighbors"`` or
        ``"none"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051", "1154584084"],
    ...                      "zip": ["02114", "02115", "02116"]})
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1234567893"],
    ...                       "target_npi": ["1003033051", "1154584084"], "count": [3, 5]})
    >>> net = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    >>> plurality_regions(net, contiguity=False, fill=False)["region"].tolist()
    ['02116', <NA>, <NA>]

    Notes
    -----
    *Ties* (two hubs receiving the same largest volume) go to the hub
    nearest to the unit, then to the smallest hub name; they are flagged
    ``"tie"``.

    *Contiguity clean-up*: units are adjacent when one is among the other's
    ``k_neighbors`` nearest units (great circle; ZIP centroids stand in for
    ZIP polygons, which the offline data do not have). A region whose units
    form several connected pieces keeps the piece containing the hub's own
    unit (else its largest piece); every other piece is moved, whole, to
    the neighbouring region it shares most adjacencies with (ties: more
    referral volume to that region's hub, then name). This repeats until no
    region changes (at most 20 rounds).

    References
    ----------
    .. [1] Wennberg JE, Cooper MM (eds.). The Dartmouth Atlas of Health
       Care 1996, Appendix on Methods (hospital service areas by plurality
       of Medicare hospitalisations, contiguity adjustment).
    """
    col = _unit_col(unit)
    k_neighbors = check_int(k_neighbors, "k_neighbors", minimum=1)
    unit_of, units = unit_table(net, unit=unit)
    hub_of = unit_of if hub is None else _phys_attr(net, hub).astype("string")
    f = _unit_flows(net, unit_of, hub_of, weight)
    names = units.index
    pos = pd.Series(np.arange(len(names)), index=names)
    n = len(names)
    labels = np.array([None] * n, dtype=object)
    how = np.array(["none"] * n, dtype=object)
    volume = np.zeros(n)
    # hub location: the unit receiving most of the hub's volume
    into = _unit_flows(net, hub_of, unit_of, weight)  # hub -> receiving unit
    hub_home = (
        into.sort_values(["w", "dst"], ascending=[False, True])
        .drop_duplicates("src")
        .set_index("src")["dst"]
    )
    if hub is None:
        hub_home = pd.Series(names.to_numpy(), index=names)
    hlat = units["lat"].reindex(hub_home.to_numpy()).to_numpy(float)
    hlon = units["lon"].reindex(hub_home.to_numpy()).to_numpy(float)
    hub_loc = pd.DataFrame({"lat": hlat, "lon": hlon}, index=hub_home.index)
    if len(f):
        tot = f.groupby("src")["w"].sum()
        volume[pos.reindex(tot.index).to_numpy()] = tot.to_numpy()
        best = f.groupby("src")["w"].transform("max")
        cand = f[(f["w"] == best) & (f["w"] > 0)].copy()
        ulat = units["lat"].reindex(cand["src"]).to_numpy(float)
        ulon = units["lon"].reindex(cand["src"]).to_numpy(float)
        clat = hub_loc["lat"].reindex(cand["dst"]).to_numpy(float)
        clon = hub_loc["lon"].reindex(cand["dst"]).to_numpy(float)
        cand["d"] = np.nan_to_num(_hav(ulat, ulon, clat, clon), nan=np.inf)
        ntie = cand.groupby("src")["dst"].transform("size")
        cand["tie"] = ntie > 1
        cand = cand.sort_values(["src", "d", "dst"]).drop_duplicates("src")
        p = pos.reindex(cand["src"]).to_numpy()
        labels[p] = cand["dst"].to_numpy(dtype=object)
        how[p] = np.where(cand["tie"].to_numpy(bool), "tie", "plurality")
    plurality = labels.copy()
    adj = _knn_adjacency(units, k_neighbors) if (contiguity or fill) else [set()] * n
    vol = f.set_index(["src", "dst"])["w"] if len(f) else pd.Series(dtype=float)

    def score(frag: list[int], region: Any) -> float:
        keys = [(names[i], region) for i in frag]
        return float(vol.reindex(keys).fillna(0).sum()) if len(vol) else 0.0

    if contiguity:
        anchor = {h: int(pos[u]) for h, u in hub_home.items() if u in pos.index}
        labels = _make_contiguous(labels, adj, anchor, score, how)
    if fill:
        _fill_from_neighbors(labels, adj, how)
    out = units.copy()
    out["region"] = pd.array(labels, dtype="string")
    out["plurality_region"] = pd.array(plurality, dtype="string")
    out["volume"] = volume
    keys = list(zip(names, labels))
    rv = vol.reindex(keys).fillna(0).to_numpy(float) if len(vol) else np.zeros(n)
    out["region_volume"] = rv
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_to_hub"] = np.where(volume > 0, rv / np.where(volume > 0, volume, 1), np.nan)
    out["assignment"] = pd.array(how, dtype="string")
    out.index.name = col
    logger.info(
        "plurality_regions: %d units into %d regions (%d moved for contiguity)",
        n,
        out["region"].nunique(),
        int((how == "contiguity").sum()),
    )
    return out[
        [
            "region",
            "plurality_region",
            "lat",
            "lon",
            "physicians",
            "volume",
            "region_volume",
            "share_to_hub",
            "assignment",
        ]
    ]


# ----------------------------------------------------------------------------- communities
def flow_communities(
    net: ReferralNetwork,
    *,
    unit: Unit = "zip",
    max_km: float | None = 50.0,
    decay_km: float | None = None,
    resolution: float = 1.0,
    weight: str = "count",
    seed: int | None = None,
    contiguity: bool = True,
    k_neighbors: int = 6,
) -> pd.DataFrame:
    """Communities of units on referral flows, constrained to be geographically coherent.

    Parameters
    ----------
    net
        The network.
    unit
        ``"zip"`` or ``"practice"``.
    max_km
        Flows between units farther apart than this are ignored (``None``:
        keep all).
    decay_km
        When given, each flow is down-weighted by ``exp(-distance / decay_km)``.
    resolution
        Louvain resolution (larger gives smaller communities).
    weight
        Flow column used as strength.
    seed
        Louvain seed (default ``config.seed``).
    contiguity, k_neighbors
        Spatial clean-up as in :func:`plurality_regions`; units without any
        kept flow join the most common community of their neighbours.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit: ``community`` (0, 1, ... by decreasing size),
        ``lat``, ``lon``, ``physicians``, ``volume`` (kept flow volume
        touching the unit, both directions), ``internal_share`` (the part
        of it that stays inside the community), ``assignment``
        (``"louvain"``, ``"contiguity"``, ``"neighbors"`` or ``"none"``).

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> com = flow_communities(synthetic_region(300, seed=1), seed=0)
    >>> bool(com["community"].notna().all())
    True

    Notes
    -----
    Flows are summed between units in both directions (an undirected
    weighted graph without self-loops), flows longer than ``max_km`` are
    removed (and the rest optionally decayed with distance), then Louvain
    modularity maximisation [1]_ (``networkx.community.louvain_communities``)
    runs on what remains. Cutting long edges keeps far-apart units from
    joining one community through a few long referrals; the contiguity
    step then moves spatially detached pieces to the surrounding community.

    References
    ----------
    .. [1] Blondel VD, Guillaume J-L, Lambiotte R, Lefebvre E. Fast unfolding
       of communities in large networks. J Stat Mech 2008:P10008.
    """
    import networkx as nx

    from ..config import config

    k_neighbors = check_int(k_neighbors, "k_neighbors", minimum=1)
    if max_km is not None:
        max_km = check_float(max_km, "max_km", minimum=0)
    if decay_km is not None:
        decay_km = check_float(decay_km, "decay_km", minimum=0, open_min=True)
    resolution = check_float(resolution, "resolution", minimum=0)
    unit_of, units = unit_table(net, unit=unit)
    f = _unit_flows(net, unit_of, unit_of, weight)
    f = f[f["src"] != f["dst"]]
    a = np.minimum(f["src"].to_numpy(dtype=object), f["dst"].to_numpy(dtype=object))
    b = np.maximum(f["src"].to_numpy(dtype=object), f["dst"].to_numpy(dtype=object))
    und = pd.DataFrame({"a": a, "b": b, "w": f["w"].to_numpy(float)})
    und = und.groupby(["a", "b"], as_index=False, sort=True)["w"].sum()
    d = _hav(
        units["lat"].reindex(und["a"]).to_numpy(float),
        units["lon"].reindex(und["a"]).to_numpy(float),
        units["lat"].reindex(und["b"]).to_numpy(float),
        units["lon"].reindex(und["b"]).to_numpy(float),
    )
    keep = und["w"].to_numpy(float) > 0
    if max_km is not None:
        keep &= np.nan_to_num(d, nan=np.inf) <= float(max_km)
    w = und["w"].to_numpy(float)
    if decay_km is not None:
        w = w * np.exp(-np.nan_to_num(d, nan=np.inf) / float(decay_km))
        keep &= w > 0
    und = und[keep].assign(w=w[keep])
    names = units.index
    pos = pd.Series(np.arange(len(names)), index=names)
    G = nx.Graph()
    G.add_weighted_edges_from(zip(und["a"], und["b"], und["w"]))
    rs = config.seed if seed is None else seed
    n = len(names)
    labels = np.array([None] * n, dtype=object)
    how = np.array(["none"] * n, dtype=object)
    if G.number_of_edges():
        comms = nx.community.louvain_communities(G, weight="weight", resolution=resolution, seed=rs)
        comms = sorted((sorted(map(str, c)) for c in comms), key=lambda c: (-len(c), c[0]))
        for i, c in enumerate(comms):
            p = pos.reindex(c).to_numpy()
            labels[p] = i
            how[p] = "louvain"
    adj = _knn_adjacency(units, k_neighbors)
    if contiguity:
        labels = _make_contiguous(labels, adj, {}, lambda frag, r: 0.0, how)
    _fill_from_neighbors(labels, adj, how)
    lab = np.array([-1 if x is None else int(x) for x in labels])
    lab = _relabel_sizes(lab)
    out = units.copy()
    col = pd.array(lab, dtype="Int64")
    col[lab < 0] = pd.NA
    out["community"] = col
    sa = pos.reindex(und["a"]).to_numpy()
    sb = pos.reindex(und["b"]).to_numpy()
    wv = und["w"].to_numpy(float)
    vol = np.bincount(sa, wv, n) + np.bincount(sb, wv, n)
    same = (lab[sa] == lab[sb]) & (lab[sa] >= 0)
    internal = np.bincount(sa, wv * same, n) + np.bincount(sb, wv * same, n)
    out["volume"] = vol
    with np.errstate(invalid="ignore", divide="ignore"):
        out["internal_share"] = np.where(vol > 0, internal / np.where(vol > 0, vol, 1), np.nan)
    out["assignment"] = pd.array(how, dtype="string")
    return out[["community", "lat", "lon", "physicians", "volume", "internal_share", "assignment"]]


def _relabel_sizes(lab: np.ndarray) -> np.ndarray:
    return _relabel(lab)
