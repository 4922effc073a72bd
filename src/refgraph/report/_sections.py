"""The section builders of the report: one function per key of :data:`SECTIONS`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._errors import RefgraphError, ValidationError
from ..network import ReferralNetwork
from ._actions import _sec_actions, _sec_expansion
from ._blocks import (
    SECTIONS,
    _call,
    _Ctx,
    _Empty,
    _names,
    _need,
    _NotApplicable,
    _score,
    _Section,
    _Svg,
    _Table,
    _Unavailable,
    _write_png,
    _write_table,
)
from ._maps import _sec_map

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.report")


def top_sources(net: ReferralNetwork, *, n: int = 25) -> pd.DataFrame:
    """Physicians ranked by referral volume they send.

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI: ``name``, ``specialty``, ``referrals_sent`` (sum of
        counts), ``targets`` (distinct physicians referred to),
        ``top_target_share`` (share of volume going to the single largest
        target).

    Examples
    --------
    >>> import pandas as pd
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1234567893"],
    ...                       "target_npi": ["1003033051", "1154584084"], "count": [30, 10]})
    >>> top_sources(ReferralNetwork.from_frames(flows=flows))[["referrals_sent", "targets"]]
                referrals_sent  targets
    npi
    1234567893              40        2
    """
    e = net.edges()
    g = e.groupby("source_npi")["count"]
    out = pd.DataFrame(
        {
            "referrals_sent": g.sum().astype("int64"),
            "targets": g.size().astype("int64"),
            "top_target_share": (g.max() / g.sum()).astype(float),
        }
    )
    out.index.name = "npi"
    phys = net.physicians.set_index("npi")[["name", "specialty"]]
    out = phys.join(out, how="inner")
    return out.sort_values(["referrals_sent", "targets"], ascending=False).head(n)


# ---------------------------------------------------------------------------- sections
def _sec_summary(ctx: _Ctx, sec: _Section) -> None:
    net = ctx.net
    s = net.summary()
    df = pd.DataFrame({"value": s.to_numpy()}, index=pd.Index(s.index, name="measure"))
    sec.blocks.append(_write_table(ctx, df, "summary", "Network summary", rows=100))
    f = net.flows
    if len(f):
        prov = f["provenance"].astype("string").fillna("(unknown)")
        g = f.groupby(prov.to_numpy())
        by = pd.DataFrame(
            {
                "flows": g.size(),
                "volume": g["count"].sum().astype("int64"),
                "period_start": g["period_start"].min(),
                "period_end": g["period_end"].max(),
            }
        )
        by.index.name = "provenance"
        sec.blocks.append(_write_table(ctx, by, "provenance", "Flows by provenance", rows=50))
    sec.intro.append(
        "Flows are aggregated directed referral edges; volume is the sum of referral counts "
        "and density counts distinct directed pairs over n(n-1)."
    )


def _sec_sources(ctx: _Ctx, sec: _Section) -> None:
    net = ctx.net
    if not len(net.flows):
        raise _NotApplicable("the network has no flows")
    top = top_sources(net, n=net.n_physicians)
    if len(net.events):
        (trends,) = _need("tracking", "trends")
        tr = _call(trends, net)
        tr.index = pd.Index(tr.index.astype(str), name="npi")
        keep = [c for c in ("mean", "slope", "ci_low", "ci_high", "trend") if c in tr.columns]
        tr = tr[keep].rename(columns={"mean": "monthly_mean", "slope": "monthly_slope"})
        top = top.join(tr, how="left")
        sec.intro.append(
            "Trend: the seasonally adjusted status of refgraph.tracking.at_risk (the last 90 "
            "days against the source's history, calibrated tests), the same label as the plot; "
            "the slope is the least-squares fit of the last 12 complete months (descriptive)."
        )
    sec.blocks.append(
        _write_table(
            ctx,
            top,
            "top_sources",
            "Physicians sending the most referrals",
            show=["name", "specialty", "referrals_sent", "trend", "monthly_slope", "targets"],
        )
    )
    if len(net.events):
        try:
            (plot_trends,) = _need("plot", "plot_trends")
        except _Unavailable as exc:
            sec.intro.append(f"Trend plot: {exc}.")
            return
        from .._plotting import axes as _axes

        _, ax = _axes(None, (10.0, 4.5))
        fig, _ = _call(plot_trends, net, sources=top.index[:5].tolist(), ax=ax)
        sec.blocks.append(
            _write_png(
                ctx,
                fig,
                "source_trends",
                "monthly referrals of the five largest sources",
                "Monthly referrals of the five largest sources (from the events table).",
            )
        )


def _sec_influence(ctx: _Ctx, sec: _Section) -> None:
    pagerank, betweenness = _need("centrality", "pagerank", "betweenness")
    net = ctx.net
    if not len(net.flows):
        raise _NotApplicable("the network has no flows")
    pr = _score(_call(pagerank, net, weight="count"), "pagerank")
    k = None if net.n_physicians <= 3000 else 500
    bc = _score(_call(betweenness, net, k=k, seed=ctx.seed), "betweenness")
    df = _names(net).join(pr, how="inner").join(bc, how="left")
    df["pagerank_rank"] = df["pagerank"].rank(ascending=False, method="min").astype("Int64")
    df["betweenness_rank"] = df["betweenness"].rank(ascending=False, method="min").astype("Int64")
    df = df.sort_values(["pagerank", "betweenness"], ascending=False)
    df = df[["name", "specialty", "pagerank", "pagerank_rank", "betweenness", "betweenness_rank"]]
    ctx.cache["influence"] = df
    sec.intro.append(
        "PageRank treats referral volume as strength (a referral is a vote for its target); "
        "betweenness counts how many shortest referral paths run through a physician "
        "(brokers), counted in hops"
        + (" and estimated from 500 sampled sources." if k else ", exactly.")
        + " See refgraph.centrality for the definitions."
    )
    sec.blocks.append(
        _write_table(
            ctx,
            df,
            "influence",
            "Physicians ranked by PageRank",
            show=["name", "specialty", "pagerank_rank", "betweenness_rank", "pagerank"],
        )
    )
    from .._plotting import axes

    fig, ax = axes(None, (9.0, 5.0))
    ok = df[(df["pagerank"] > 0) & (df["betweenness"] > 0)]
    ax.scatter(ok["pagerank"], ok["betweenness"], s=8, alpha=0.6, color="#2f4b8f", linewidths=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("PageRank")
    ax.set_ylabel("betweenness")
    ax.set_title(f"Influence vs brokerage ({len(ok)} physicians with both > 0)")
    sec.blocks.append(
        _write_png(
            ctx,
            fig,
            "influence",
            "scatter of PageRank against betweenness",
            "PageRank against betweenness (log scales); physicians with a zero score omitted.",
        )
    )


def _labels(result: Any) -> pd.Series:
    if isinstance(result, pd.DataFrame):
        col = "community" if "community" in result.columns else result.columns[0]
        result = result[col]
    if isinstance(result, dict):
        result = pd.Series(result)
    if not isinstance(result, pd.Series):
        # a list of sets of NPIs (networkx style)
        result = pd.Series({n: i for i, c in enumerate(result) for n in c})
    s = result.copy()
    s.index = pd.Index(s.index.astype(str), name="npi")
    return s.rename("community")


def _sec_communities(ctx: _Ctx, sec: _Section) -> None:
    (louvain,) = _need("community", "louvain")
    net = ctx.net
    if not len(net.flows):
        raise _NotApplicable("the network has no flows")
    lab = _labels(_call(louvain, net, seed=ctx.seed))
    members = _names(net).join(lab, how="inner")
    phys = net.physicians.set_index(net.physicians["npi"].astype(str))
    members["practice_id"] = phys["practice_id"].reindex(members.index).to_numpy()
    e = net.edges()
    cs = e["source_npi"].astype(str).map(lab)
    ct = e["target_npi"].astype(str).map(lab)
    vol = e["count"].astype("float64")
    internal = vol[(cs == ct).fillna(False).to_numpy(bool)].groupby(cs).sum()
    outgoing = vol[(cs != ct).fillna(False).to_numpy(bool)].groupby(cs).sum()
    incoming = vol[(cs != ct).fillna(False).to_numpy(bool)].groupby(ct).sum()
    g = members.groupby("community")
    summ = pd.DataFrame(
        {
            "physicians": g.size(),
            "top_specialty": g["specialty"].agg(
                lambda s: s.mode().iat[0] if s.notna().any() else ""
            ),
            "practices": g["practice_id"].nunique(),
        }
    )
    for col, v in (
        ("internal_volume", internal),
        ("volume_out", outgoing),
        ("volume_in", incoming),
    ):
        summ[col] = v.reindex(summ.index).fillna(0).astype("int64")
    tot = summ["internal_volume"] + summ["volume_out"]
    summ["internal_share"] = (summ["internal_volume"] / tot.where(tot > 0)).astype(float)
    summ = summ.sort_values("physicians", ascending=False)
    summ.index.name = "community"
    ctx.cache["communities"] = lab
    sec.intro.append(
        f"{len(summ)} communities (Louvain, refgraph.community.louvain, seed {ctx.seed}). "
        "internal_share: share of the referrals sent by members that stay in the community."
    )
    single = summ["physicians"] <= 1
    n_single = int(single.sum())
    alone = lab[lab.isin(summ.index[single.to_numpy(bool)])].index.astype(str)
    linked = set(e["source_npi"].astype(str)) | set(e["target_npi"].astype(str))
    n_isolated = int(sum(1 for n in alone if n not in linked))
    note = (
        f"Not listed: {n_single} one-physician communities ({n_isolated} of these physicians "
        "have no referral flow at all); they are in community_summary.csv and communities.csv."
        if n_single
        else ""
    )
    # sorted largest first, so the page's first rows are the groups of two or more
    tab = _write_table(
        ctx,
        summ,
        "community_summary",
        "Communities, largest first",
        rows=min(50, int((~single).sum()) or 50),
        show=["physicians", "top_specialty", "internal_share", "practices", "volume_in"],
        note=note,
    )
    sec.blocks.append(tab)
    sec.blocks.append(
        _write_table(
            ctx,
            members.sort_values("community"),
            "communities",
            "Members",
            show=["name", "specialty", "community", "practice_id"],
        )
    )
    if net.physicians["lat"].notna().any():
        from ._maps import community_map, community_svg

        big = [c for c in summ.index[~single.to_numpy(bool)][:9]]
        fig = community_map(net, lab, big)
        img = _write_png(
            ctx, fig, "communities", "map of physicians coloured by community", "static version"
        )
        sec.blocks.append(_Svg(community_svg(ctx, lab, big, img.png), img.png))


def _sec_targets(ctx: _Ctx, sec: _Section) -> None:
    (rank_targets,) = _need("expansion", "rank_targets")
    net = ctx.net
    if ctx.home is None:
        raise _NotApplicable("no home practice: pass home= (an NPI or a practice id)")
    sec.intro.append(f"Home: {ctx.home_label}.")
    mine = [str(n) for n in (ctx.home_npis if ctx.home_npis is not None else [])]
    res = _call(rank_targets, net, home=mine, n=ctx.top, top=ctx.top, seed=ctx.seed)
    if not isinstance(res, pd.DataFrame):
        res = getattr(res, "table", None) or getattr(res, "targets", None)
        if not isinstance(res, pd.DataFrame):
            raise _Unavailable("refgraph.expansion.rank_targets returned no DataFrame")
    df = res.copy()
    if df.index.name is None:
        df.index.name = "npi"
    if "name" not in df.columns and df.index.name == "npi":
        df = _names(net).join(df, how="inner").loc[df.index.astype(str)]
    if df.empty:
        spec = res.attrs.get("specialty", "the home specialty")
        raise _Empty(
            f"no physician outside the home practice sends referrals in {spec} (and its "
            "substitutes) to other practices; choose another home (home= / --home)"
        )
    df.index = pd.Index(df.index.astype(str), name=df.index.name)
    ctx.cache["targets"] = df
    sec.blocks.append(
        _write_table(
            ctx,
            df,
            "targets",
            "Physicians to meet next (refgraph.expansion)",
            show=["name", "specialty", "competitor_volume", "reach", "distance_km", "score"],
        )
    )
    try:
        (intro_paths,) = _need("paths", "intro_paths")
    except _Unavailable as exc:
        sec.intro.append(f"Introduction paths: {exc}.")
        return
    from .._errors import NoPathError

    rows = []
    who = _names(net)
    for target in [str(t) for t in df.index[:5]]:
        row = {"target": _label(who, target), "target_npi": target}
        try:
            r = _call(intro_paths, net, target, home=mine, k=1)
        except (NoPathError, ValidationError) as exc:
            rows.append({**row, "probability": np.nan, "path": f"no path ({exc})"})
            continue
        if len(r):
            b = r.best
            rows.append(
                {
                    **row,
                    "probability": float(b["probability"]),
                    "hops": int(b["hops"]),
                    "introducer": _label(who, str(b["introducer"])),
                    "path": " > ".join(map(str, b["names"])),
                    "introducer_npi": str(b["introducer"]),
                    "path_npis": " > ".join(map(str, b["path"])),
                }
            )
    if rows:
        paths = pd.DataFrame(rows).set_index("target")
        ctx.cache["intro_paths"] = paths.set_index("target_npi")
        sec.blocks.append(
            _write_table(
                ctx,
                paths,
                "intro_paths",
                "Best warm-introduction path to the first five targets",
                show=["introducer", "probability", "hops", "path"],
            )
        )


def _label(who: pd.DataFrame, npi: str) -> str:
    """``name (NPI, specialty)`` of a physician, the NPI alone when unknown."""
    if npi not in who.index:
        return npi
    r = who.loc[npi]
    name = r["name"] if isinstance(r["name"], str) and r["name"] else npi
    spec = f", {r['specialty']}" if isinstance(r["specialty"], str) and r["specialty"] else ""
    return f"{name} ({npi}{spec})"


def _sec_at_risk(ctx: _Ctx, sec: _Section) -> None:
    (at_risk,) = _need("tracking", "at_risk")
    net = ctx.net
    ev = net.events
    if not len(ev):
        raise _NotApplicable("the network has no referral events (dated referrals)")
    view = net
    if ctx.home_npis is not None and len(ctx.home_npis):
        mine = ev["target_npi"].astype(str).isin(ctx.home_npis.astype(str)).to_numpy(bool)
        if not mine.any():
            raise _NotApplicable(f"no referral events to the home physicians ({ctx.home_label})")
        view = type(net)._from_valid_tables({**net.tables, "events": ev[mine]})
        sec.intro.append(f"Referrals received by the home practice: {ctx.home_label}.")
    else:
        sec.intro.append("Referrals to any physician of the network (no home practice).")
    r = _call(at_risk, view)
    r.index = pd.Index(r.index.astype(str), name="npi")
    df = _names(net).join(r, how="inner")
    order = [c for c in ("at_risk", "score") if c in df.columns]
    if order:
        df = df.sort_values(order, ascending=False, kind="stable")
    from ._actions import risk_words

    df.insert(2, "reason", [risk_words(row) for row in df.to_dict("records")])
    ctx.cache["at_risk"] = df
    n_risk = int(df["at_risk"].sum()) if "at_risk" in df.columns else 0
    sec.intro.append(
        f"{n_risk} of {len(df)} active referrers are at risk (refgraph.tracking.at_risk: recent "
        "90 days against a seasonal or trailing baseline, plus unusual silence)."
    )
    sec.blocks.append(
        _write_table(
            ctx,
            df,
            "at_risk",
            "Referrers, flagged (highlighted) first, then by risk score",
            show=["name", "status", "reason", "q_drop", "p_drop", "score"],
            flag="at_risk" if "at_risk" in df.columns else None,
        )
    )


_BUILDERS: dict[str, Callable[[_Ctx, _Section], None]] = {
    "actions": _sec_actions,
    "summary": _sec_summary,
    "sources": _sec_sources,
    "influence": _sec_influence,
    "communities": _sec_communities,
    "map": _sec_map,
    "targets": _sec_targets,
    "expansion": _sec_expansion,
    "at_risk": _sec_at_risk,
}


def _run(key: str, ctx: _Ctx) -> _Section:
    sec = _Section(key, SECTIONS[key])
    logger.info("report: section %s", key)
    try:
        _BUILDERS[key](ctx, sec)
    except _Unavailable as exc:
        logger.warning("report: section %s not available: %s", key, exc)
        return _Section(key, SECTIONS[key], status="unavailable", reason=str(exc))
    except _Empty as exc:
        logger.info("report: section %s is empty: %s", key, exc)
        sec.status, sec.reason = "empty", str(exc)
        sec.blocks = [b for b in sec.blocks if not (isinstance(b, _Table) and b.n_rows == 0)]
        return sec
    except (_NotApplicable, RefgraphError) as exc:
        logger.info("report: section %s not applicable: %s", key, exc)
        return _Section(key, SECTIONS[key], status="not_applicable", reason=str(exc))
    tables = [b for b in sec.blocks if isinstance(b, _Table)]
    if not (sec.blocks or sec.html) or (
        tables and len(tables) == len(sec.blocks) and not any(t.n_rows for t in tables)
    ):
        sec.status = "empty"
        sec.reason = sec.reason or "the analysis returned no rows for this network"
    return sec
