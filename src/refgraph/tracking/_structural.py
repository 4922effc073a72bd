"""Structural alerts of :mod:`refgraph.tracking`: lost bridges and communities that moved."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._params import check_float, check_int
from ..network import ReferralNetwork
from ._alerts import at_risk
from ._events import (
    _YEAR,
    _as_of,
    _competitor_npis,
    _days_param,
    _home_npis,
    _Referrals,
    _referrals,
)

__all__ = ["structural_alerts"]


def structural_alerts(
    net: ReferralNetwork,
    *,
    as_of: Any = None,
    home: Any = None,
    recent: Any = "90D",
    bridge_quantile: float = 0.9,
    min_share_drop: float = 0.2,
    seed: int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Alerts about the shape of the network: lost bridges and communities that moved.

    Parameters
    ----------
    net
        A network with events.
    as_of
        Reference date (default: the last event date).
    home
        My NPIs or practice id; needed for community alerts (skipped without).
    recent
        Recent window (as in :func:`at_risk`); the baseline is the year before it.
    bridge_quantile
        A source is a bridge when it is an articulation point of the
        baseline referral graph or its betweenness is at or above this
        quantile (among nodes with positive betweenness).
    min_share_drop
        A community alert needs its share of in-specialty referrals reaching
        ``home`` to fall by at least this much (absolute).
    seed
        Seed of the community detection (and betweenness sampling on large graphs).
    **kwargs
        Passed to :func:`at_risk`.

    Returns
    -------
    pandas.DataFrame
        One row per alert: ``alert`` (``"bridge_stopped"`` or
        ``"community_moved"``), ``npi`` (the bridge or the community's
        largest source), ``community``, ``members``, ``share_before``,
        ``share_now``, ``top_competitor`` and a ``detail`` sentence.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> structural_alerts(ReferralNetwork.from_frames()).empty
    True

    Notes
    -----
    The baseline graph is the undirected graph of referral pairs of the year
    before the recent window, weighted by referrals. Bridges are its
    articulation points (removing one disconnects the graph) and the nodes of
    highest betweenness centrality [1]_ (Brandes' algorithm in networkx,
    sampled with k = 500 pivots above 5,000 nodes). A bridge stopped referring
    when :func:`at_risk` classifies it as declining or lost. Communities are
    Louvain communities [2]_ of the same graph; a community *moved* when the
    share of its sources' referrals to ``home`` and its competitors (same or
    competing specialty, :func:`refgraph.specialties.competing`) that reach
    ``home`` fell by ``min_share_drop`` between the baseline and the recent
    window. This needs events that include referrals to competitors (e.g.
    claims-derived events); a CRM log of my own referrals alone cannot show it.

    References
    ----------
    .. [1] Brandes, U. (2001). A faster algorithm for betweenness centrality.
       *Journal of Mathematical Sociology*, 25(2), 163-177.
    .. [2] Blondel, V. D., Guillaume, J.-L., Lambiotte, R., & Lefebvre, E.
       (2008). Fast unfolding of communities in large networks. *J. Stat.
       Mech.*, P10008.
    """
    import networkx as nx

    cols = [
        "alert",
        "npi",
        "community",
        "members",
        "share_before",
        "share_now",
        "top_competitor",
        "detail",
    ]
    empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
    check_float(bridge_quantile, "bridge_quantile", minimum=0, maximum=1)
    check_float(min_share_drop, "min_share_drop", minimum=0, maximum=1)
    seed = check_int(seed, "seed", minimum=0)
    if home is not None:
        _home_npis(net, home)  # an unknown home is an error even with nothing to alert
    r = _referrals(net)
    if not len(r):
        return empty
    A = _as_of(r, as_of)
    R = _days_param(recent, "recent")
    age = A - r.day
    base = (age >= R) & (age < _YEAR + R)
    now = (age >= 0) & (age < R)
    s_npi = r.sources.take(r.src).to_numpy(dtype=object)
    t_npi = r.targets.take(r.tgt).to_numpy(dtype=object)
    pairs = pd.DataFrame({"s": s_npi[base], "t": t_npi[base]}).value_counts().reset_index()
    G = nx.Graph()
    G.add_weighted_edges_from(zip(pairs["s"], pairs["t"], pairs["count"].astype(float)))
    rows: list[dict[str, Any]] = []
    if G.number_of_nodes() > 2:
        k = 500 if G.number_of_nodes() > 5000 else None
        bc = pd.Series(nx.betweenness_centrality(G, k=k, seed=seed))
        pos = bc[bc > 0]
        cut = pos.quantile(bridge_quantile) if len(pos) else np.inf
        bridges = set(nx.articulation_points(G)) | set(pos[pos >= cut].index)
        risk = at_risk(
            net,
            as_of=pd.Timestamp(np.datetime64(A, "D")),
            recent=recent,
            with_trend=False,
            **kwargs,
        )
        hit = risk[risk["at_risk"] & risk.index.isin(list(bridges))]
        for npi, row in hit.iterrows():
            rows.append(
                {
                    "alert": "bridge_stopped",
                    "npi": npi,
                    "community": None,
                    "members": None,
                    "share_before": None,
                    "share_now": None,
                    "top_competitor": None,
                    "detail": f"bridge physician (betweenness {bc.get(npi, 0.0):.3f}) is "
                    f"{row['status']}: {row['observed']} referrals in {R} days vs "
                    f"{row['expected']:.1f} expected",
                }
            )
    if home is not None and G.number_of_nodes() > 1:
        rows.extend(_community_moves(net, G, r, home, base, now, min_share_drop, seed))
    return pd.DataFrame(rows, columns=cols) if rows else empty


def _community_moves(
    net: ReferralNetwork,
    G: Any,
    r: _Referrals,
    home: Any,
    base: np.ndarray,
    now: np.ndarray,
    min_share_drop: float,
    seed: int,
) -> list[dict[str, Any]]:
    import networkx as nx

    mine = _home_npis(net, home)
    rivals = _competitor_npis(net, mine)
    comms = nx.community.louvain_communities(G, weight="weight", seed=seed)
    label = {n: i for i, c in enumerate(comms) for n in c}
    s_npi = pd.Series(r.sources.take(r.src).to_numpy(dtype=object))
    t_npi = pd.Series(r.targets.take(r.tgt).to_numpy(dtype=object))
    to_me = t_npi.isin(mine).to_numpy(dtype=bool)
    to_rival = t_npi.isin(rivals).to_numpy(dtype=bool) & ~to_me
    comm = s_npi.map(label).to_numpy(dtype=np.float64, na_value=np.nan)
    df = pd.DataFrame(
        {
            "c": comm,
            "me": to_me,
            "rival": to_rival,
            "base": base,
            "now": now,
            "t": t_npi,
            "s": s_npi,
        }
    )
    df = df[(df["me"] | df["rival"]) & df["c"].notna()]
    out: list[dict[str, Any]] = []
    for win in ("base", "now"):
        df[f"me_{win}"] = df["me"] & df[win]
        df[f"all_{win}"] = df[win]
    agg = df.groupby("c").agg(
        me_b=("me_base", "sum"),
        all_b=("all_base", "sum"),
        me_n=("me_now", "sum"),
        all_n=("all_now", "sum"),
    )
    agg = agg[(agg["all_b"] > 0) & (agg["all_n"] > 0)]
    agg["before"] = agg["me_b"] / agg["all_b"]
    agg["now"] = agg["me_n"] / agg["all_n"]
    moved = agg[agg["before"] - agg["now"] >= min_share_drop]
    for c, row in moved.iterrows():
        sub = df[(df["c"] == c) & df["rival"] & df["now"]]
        top = sub["t"].value_counts().index[0] if len(sub) else None
        members = sorted(n for n in comms[int(c)] if n not in set(mine))
        lead = df[df["c"] == c]["s"].value_counts().index[0]
        out.append(
            {
                "alert": "community_moved",
                "npi": lead,
                "community": int(c),
                "members": len(members),
                "share_before": float(row["before"]),
                "share_now": float(row["now"]),
                "top_competitor": top,
                "detail": f"community {int(c)} ({len(members)} physicians) sent "
                f"{row['before']:.0%} of its in-specialty referrals to home before, "
                f"{row['now']:.0%} now; most now go to {top}",
            }
        )
    return out
