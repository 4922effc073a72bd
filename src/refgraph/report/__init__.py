"""The HTML report people open: one self-contained folder, readable offline.

:func:`build` writes ``index.html`` plus the PNG plots and one CSV per table
into a folder. The page loads nothing from the network (no CDN, no web fonts,
no external scripts): styles and a small table sorter are inline, images are
files next to it. Every number shown in a table is read back from the CSV the
table links to, so anything in the page can be traced to a file.

Sections (in order; ``sections=`` picks a subset):

===============  =============================================================
key              content
===============  =============================================================
``summary``      network summary (:meth:`ReferralNetwork.summary`), provenance
``sources``      top referral sources and, with events, their monthly trend
``influence``    PageRank and betweenness (:mod:`refgraph.centrality`)
``communities``  Louvain communities and their summary (:mod:`refgraph.community`)
``map``          practices, physicians and strongest flows on a map
``targets``      warm-introduction targets (:mod:`refgraph.expansion`) and the
                 best introduction path to the first few (:mod:`refgraph.paths`)
``at_risk``      referrers at risk of being lost (:func:`refgraph.tracking.at_risk`)
===============  =============================================================

A section whose analysis module is missing from this version of refgraph is
kept in the page with a "not available in this version" note; a section that
does not apply to the data (no events, no coordinates) says why. No section
ever shows made-up numbers.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import html
import importlib
import inspect
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import RefgraphError, ValidationError
from .._validate import is_valid_npi
from ._assets import CSS, SORT_JS

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["SECTIONS", "add_cli", "build", "cmd_report", "is_synthetic"]

#: Report sections in page order, with their headings.
SECTIONS: dict[str, str] = {
    "summary": "Network summary",
    "sources": "Top referral sources",
    "influence": "Influence rankings",
    "communities": "Communities",
    "map": "Map of practices and flows",
    "targets": "Warm-introduction targets",
    "at_risk": "At-risk referrers",
}

_ID_COLUMNS = re.compile(r"(^|_)(npi|id|zip|path|source|introducer|target)$")
_INT = re.compile(r"^-?\d+$")


# ---------------------------------------------------------------------------- building blocks
class _Unavailable(Exception):
    """The analysis module (or function) a section needs is not in this version."""


class _NotApplicable(Exception):
    """The section does not apply to this network (e.g. it has no events)."""


@dataclass
class _Table:
    csv: str
    caption: str
    header: list[str]
    types: list[str]
    rows: list[list[str]]
    n_rows: int


@dataclass
class _Image:
    png: str
    alt: str
    caption: str
    width: int
    height: int


@dataclass
class _Section:
    key: str
    title: str
    intro: list[str] = field(default_factory=list)
    blocks: list[_Table | _Image] = field(default_factory=list)
    status: str = "ok"  # ok | unavailable | not_applicable
    reason: str = ""


@dataclass
class _Ctx:
    net: ReferralNetwork
    out: Path
    top: int
    seed: int
    home: Any = None
    home_label: str = ""
    home_npis: pd.Index | None = None
    cache: dict[str, Any] = field(default_factory=dict)


def _need(module: str, *names: str) -> list[Any]:
    """Import ``refgraph.<module>`` and fetch ``names``; :class:`_Unavailable` if missing."""
    try:
        mod = importlib.import_module(f"refgraph.{module}")
        return [getattr(mod, n) for n in names]
    except (ImportError, AttributeError) as exc:
        what = ", ".join(f"refgraph.{module}.{n}" for n in names)
        raise _Unavailable(f"{what} is not available in this version ({exc})") from exc


def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with only the keyword options its signature accepts."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return func(*args, **kwargs)
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return func(*args, **kwargs)


def _score(result: Any, name: str) -> pd.Series:
    """One score per NPI from an analysis result (a Series or a DataFrame)."""
    if isinstance(result, pd.Series):
        s = result
    elif isinstance(result, pd.DataFrame):
        if name in result.columns:
            s = result[name]
        elif "score" in result.columns:
            s = result["score"]
        else:
            num = result.select_dtypes("number").columns
            if len(num) != 1:
                raise _Unavailable(
                    f"{name}: expected a {name!r} column, got columns {list(result.columns)}"
                )
            s = result[num[0]]
    else:
        raise _Unavailable(f"{name}: expected a pandas Series or DataFrame, got {type(result)}")
    s = s.copy()
    s.index = pd.Index(s.index.astype(str), name="npi")
    return s.rename(name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


def _fmt(value: str, numeric: bool) -> str:
    """Display text of a CSV cell (the exact value stays in ``data-value``)."""
    if not numeric or value == "":
        return value
    if _INT.match(value):
        return f"{int(value):,}"
    x = float(value)
    if not np.isfinite(x):
        return value
    return f"{x:,.1f}" if abs(x) >= 1000 else f"{x:.4g}"


def _write_table(
    ctx: _Ctx, df: pd.DataFrame, name: str, caption: str, *, rows: int | None = None
) -> _Table:
    """Write ``df`` to ``<name>.csv`` and read it back as the table shown."""
    path = ctx.out / f"{name}.csv"
    df = df.copy()
    for c in df.columns:  # tuples (paths, names) -> readable text
        if df[c].dtype == object and df[c].map(lambda v: isinstance(v, tuple)).any():
            df[c] = df[c].map(lambda v: " > ".join(map(str, v)) if isinstance(v, tuple) else v)
    index = df.index.name is not None or any(df.index.names)
    df.to_csv(path, index=index, lineterminator="\n")
    text = pd.read_csv(path, dtype=str, keep_default_na=False)
    header = [str(c) for c in text.columns]
    types = []
    for c in header:
        vals = text[c][text[c] != ""]
        num = pd.to_numeric(vals, errors="coerce")
        is_num = bool(len(vals)) and bool(num.notna().all()) and not _ID_COLUMNS.search(c)
        types.append("num" if is_num else "str")
    shown = text.head(ctx.top if rows is None else rows)
    body = [[str(v) for v in r] for r in shown.itertuples(index=False)]
    logger.debug("report: wrote %s (%d rows)", path.name, len(text))
    return _Table(f"{name}.csv", caption, header, types, body, len(text))


def _write_png(ctx: _Ctx, fig: Any, name: str, alt: str, caption: str) -> _Image:
    import matplotlib.pyplot as plt

    path = ctx.out / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    with open(path, "rb") as fh:  # PNG IHDR: width and height, big-endian
        head = fh.read(24)
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return _Image(f"{name}.png", alt, caption, w, h)


def _names(net: ReferralNetwork) -> pd.DataFrame:
    phys = net.physicians
    out = pd.DataFrame(
        {"name": phys["name"].to_numpy(), "specialty": phys["specialty"].to_numpy()},
        index=pd.Index(phys["npi"].astype(str).to_numpy(), name="npi"),
    )
    return out


def is_synthetic(net: ReferralNetwork) -> bool:
    """Whether the network holds synthetic data.

    True when any table carries ``attrs["synthetic"]`` or any flow has
    provenance ``"synthetic"`` (the marks :mod:`refgraph.datasets` sets).

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> is_synthetic(synthetic_region(50, seed=1))
    True
    """
    if any(bool(df.attrs.get("synthetic")) for df in net.tables.values()):
        return True
    prov = net.flows["provenance"].astype("string").str.lower()
    return bool((prov == "synthetic").fillna(False).any())


# ---------------------------------------------------------------------------- home practice
def _resolve_home(net: ReferralNetwork, home: Any) -> tuple[Any, str, pd.Index | None]:
    """``(home as given to analyses, label, NPIs)``; chooses a practice when None."""
    phys = net.physicians
    pid = phys["practice_id"].astype("string")
    if home is None:
        known = phys[pid.notna().to_numpy(bool)]
        if known.empty:
            return None, "", None
        owner = pd.Series(
            known["practice_id"].astype(str).to_numpy(), index=known["npi"].astype(str).to_numpy()
        )
        e = net.edges()
        sp = e["source_npi"].astype(str).map(owner).fillna("")
        tp = e["target_npi"].astype(str).map(owner).fillna("")
        keep = (tp != "") & (sp != tp)
        inbound = e.loc[keep.to_numpy(bool), "count"].groupby(tp[keep].to_numpy()).sum()
        if inbound.empty:
            return None, "", None
        kinds = net.practices.set_index(net.practices["practice_id"].astype(str))["kind"]
        kind = kinds.reindex(inbound.index.astype(str)).astype("string")
        is_group = kind.isin(["single_specialty_group", "multi_specialty_group"]).fillna(False)
        groups = inbound[is_group.to_numpy(bool)]
        choice = str((groups if len(groups) else inbound).idxmax())
        label = (
            f"practice {choice} (chosen automatically: the specialty group receiving the "
            "most referrals from other practices; pass home= to choose)"
        )
        chosen = pd.Index(owner.index[owner.to_numpy() == choice], dtype="string")
        return choice, label, chosen
    items = [home] if isinstance(home, str) else [str(h) for h in home]
    npis: list[str] = []
    known_npis = set(phys["npi"].astype(str))
    for h in items:
        if is_valid_npi(h) and h in known_npis:
            npis.append(h)
            continue
        hit = phys.loc[(pid == h).fillna(False).to_numpy(bool), "npi"].astype(str).tolist()
        if not hit:
            raise ValidationError(
                f"home: {h!r} is neither an NPI nor a practice_id of this network"
            )
        npis.extend(hit)
    label = ", ".join(items[:5]) + (" ..." if len(items) > 5 else "")
    return home, label, pd.Index(pd.unique(pd.Series(npis, dtype="string")), dtype="string")


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
    from ._demo import top_sources

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
            "Trend: least-squares slope of monthly referral counts over the last 12 complete "
            "months (refgraph.tracking.trends); 'declining'/'growing' when its 95% interval "
            "excludes 0."
        )
    sec.blocks.append(
        _write_table(ctx, top, "top_sources", "Physicians sending the most referrals")
    )
    if len(net.events):
        try:
            (plot_trends,) = _need("plot", "plot_trends")
        except _Unavailable as exc:
            sec.intro.append(f"Trend plot: {exc}.")
            return
        fig, _ = _call(plot_trends, net, sources=top.index[:5].tolist())
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
    sec.blocks.append(_write_table(ctx, df, "influence", "Physicians ranked by PageRank"))
    from .._plotting import axes

    fig, ax = axes(None, (6.5, 4.5))
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
    sec.blocks.append(
        _write_table(ctx, summ, "community_summary", "Communities, largest first", rows=50)
    )
    sec.blocks.append(_write_table(ctx, members.sort_values("community"), "communities", "Members"))
    if net.physicians["lat"].notna().any():
        from ..plot import plot_map

        big = summ.index[:9].astype(str)
        shown = lab.astype(str).where(lab.astype(str).isin(big), "other")
        phys2 = net.physicians.copy()
        phys2["community_label"] = (
            phys2["npi"].astype(str).map(shown).fillna("other").map(lambda c: f"community {c}")
        )
        view = type(net)._from_valid_tables({**net.tables, "physicians": phys2})
        fig, _ = plot_map(view, color_by="community_label", max_flows=1500, title="Communities")
        sec.blocks.append(
            _write_png(
                ctx,
                fig,
                "communities",
                "map of physicians coloured by community",
                "Physicians coloured by community (the nine largest; the rest as 'other').",
            )
        )


def _sec_map(ctx: _Ctx, sec: _Section) -> None:
    from ..plot import plot_map

    net = ctx.net
    phys = net.physicians
    if not phys["lat"].notna().any():
        raise _NotApplicable("no physician has coordinates (lat/lon)")
    fig, ax = plot_map(net, title="Physicians, practices and the strongest referral flows")
    pr = net.practices
    pid = phys["practice_id"].astype("string")
    size = pid.value_counts()
    owner = pd.Series(pid.to_numpy(), index=phys["npi"].astype(str).to_numpy())
    e = net.edges()
    inbound = e["count"].groupby(e["target_npi"].astype(str).map(owner).to_numpy()).sum()
    table = pd.DataFrame(
        {
            "name": pr["name"].to_numpy(),
            "kind": pr["kind"].to_numpy(),
            "physicians": size.reindex(pr["practice_id"]).fillna(0).astype("int64").to_numpy(),
            "referrals_received": inbound.reindex(pr["practice_id"].astype(str))
            .fillna(0)
            .astype("int64")
            .to_numpy(),
            "lat": pr["lat"].to_numpy(),
            "lon": pr["lon"].to_numpy(),
        },
        index=pd.Index(pr["practice_id"].astype(str).to_numpy(), name="practice_id"),
    ).sort_values("referrals_received", ascending=False)
    has = table["lat"].notna() & table["lon"].notna()
    if has.any():
        t = table[has]
        ax.scatter(
            t["lon"],
            t["lat"],
            s=12 + 60 * np.sqrt(t["physicians"] / max(1, t["physicians"].max())),
            marker="s",
            facecolors="none",
            edgecolors="#b03030",
            linewidths=0.8,
            zorder=3,
            label="practice",
        )
        ax.legend(loc="best", fontsize=8, markerscale=1.5, frameon=False)
    if ctx.home_npis is not None and len(ctx.home_npis):
        hp = phys[phys["npi"].astype(str).isin(ctx.home_npis.astype(str)).to_numpy(bool)]
        ax.scatter(hp["lon"], hp["lat"], s=90, marker="*", color="#e0a800", zorder=4)
    sec.blocks.append(
        _write_png(
            ctx,
            fig,
            "map",
            "map of practices, physicians and referral flows",
            "Points: physicians (primary care vs specialists); red squares: practices (size "
            "grows with headcount); lines: the 2,000 largest flows; star: the home practice.",
        )
    )
    sec.blocks.append(_write_table(ctx, table, "practices", "Practices by referrals received"))


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
    sec.blocks.append(
        _write_table(ctx, df, "targets", "Physicians to meet next (refgraph.expansion)")
    )
    try:
        (intro_paths,) = _need("paths", "intro_paths")
    except _Unavailable as exc:
        sec.intro.append(f"Introduction paths: {exc}.")
        return
    from .._errors import NoPathError

    rows = []
    for target in [str(t) for t in df.index[:5]]:
        try:
            r = _call(intro_paths, net, target, home=mine, k=1)
        except (NoPathError, ValidationError) as exc:
            rows.append({"target": target, "probability": np.nan, "path": f"no path ({exc})"})
            continue
        if len(r):
            b = r.best
            rows.append(
                {
                    "target": target,
                    "probability": float(b["probability"]),
                    "hops": int(b["hops"]),
                    "introducer": b["introducer"],
                    "path": " > ".join(map(str, b["names"])),
                }
            )
    if rows:
        paths = pd.DataFrame(rows).set_index("target")
        sec.blocks.append(
            _write_table(
                ctx, paths, "intro_paths", "Best warm-introduction path to the first five targets"
            )
        )


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
    df = _names(net).join(r, how="inner").sort_values("score", ascending=False)
    n_risk = int(df["at_risk"].sum()) if "at_risk" in df.columns else 0
    sec.intro.append(
        f"{n_risk} of {len(df)} active referrers are at risk (refgraph.tracking.at_risk: recent "
        "90 days against a seasonal or trailing baseline, plus unusual silence)."
    )
    sec.blocks.append(_write_table(ctx, df, "at_risk", "Referrers by risk score (highest first)"))


_BUILDERS: dict[str, Callable[[_Ctx, _Section], None]] = {
    "summary": _sec_summary,
    "sources": _sec_sources,
    "influence": _sec_influence,
    "communities": _sec_communities,
    "map": _sec_map,
    "targets": _sec_targets,
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
    except (_NotApplicable, RefgraphError) as exc:
        logger.info("report: section %s not applicable: %s", key, exc)
        return _Section(key, SECTIONS[key], status="not_applicable", reason=str(exc))
    return sec


# ---------------------------------------------------------------------------- HTML
def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _render_table(t: _Table) -> str:
    shown = len(t.rows)
    more = f"first {shown} of {t.n_rows} rows; " if shown < t.n_rows else f"{t.n_rows} rows; "
    head = "".join(
        f'<th scope="col" data-type="{ty}">{_e(h)}</th>' for h, ty in zip(t.header, t.types)
    )
    body = []
    for row in t.rows:
        cells = []
        for i, (v, ty) in enumerate(zip(row, t.types)):
            tag = "th" if i == 0 else "td"
            scope = ' scope="row"' if i == 0 else ""
            cls = ' class="num"' if ty == "num" else ""
            cells.append(
                f'<{tag}{scope}{cls} data-value="{_e(v)}">{_e(_fmt(v, ty == "num"))}</{tag}>'
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table class="sortable" data-csv="{_e(t.csv)}">'
        f'<caption>{_e(t.caption)} — {more}all values in <a href="{_e(t.csv)}">{_e(t.csv)}</a>'
        "; click a column to sort</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _render_section(s: _Section) -> str:
    parts = [f'<section id="{_e(s.key)}" data-status="{_e(s.status)}"><h2>{_e(s.title)}</h2>']
    if s.status == "unavailable":
        parts.append(
            f'<p class="unavailable"><strong>Not available in this version.</strong> '
            f"{_e(s.reason)}</p>"
        )
    elif s.status == "not_applicable":
        parts.append(f'<p class="unavailable"><strong>Not applicable:</strong> {_e(s.reason)}</p>')
    parts.extend(f'<p class="note">{_e(p)}</p>' for p in s.intro)
    for b in s.blocks:
        if isinstance(b, _Table):
            parts.append(_render_table(b))
        else:
            parts.append(
                f'<figure><img src="{_e(b.png)}" alt="{_e(b.alt)}" width="{b.width}" '
                f'height="{b.height}"><figcaption>{_e(b.caption)} '
                f'(<a href="{_e(b.png)}">{_e(b.png)}</a>)</figcaption></figure>'
            )
    parts.append("</section>")
    return "".join(parts)


def _render(title: str, net: ReferralNetwork, secs: list[_Section], synthetic: bool) -> str:
    from .. import __version__

    nav = "".join(f'<li><a href="#{_e(s.key)}">{_e(s.title)}</a></li>' for s in secs)
    banner = (
        '<p class="synthetic" id="synthetic-banner">SYNTHETIC DATA: every physician, practice '
        "and referral in this report is invented (generated by refgraph.datasets); it "
        "describes nobody.</p>"
        if synthetic
        else ""
    )
    files = sorted({b.csv if isinstance(b, _Table) else b.png for s in secs for b in s.blocks})
    links = " · ".join(f'<a href="{_e(f)}">{_e(f)}</a>' for f in files)
    meta = (
        f"{net.n_physicians:,} physicians · {len(net.practices):,} practices · "
        f"{net.n_flows:,} flows · {len(net.events):,} events · generated "
        f"{_dt.date.today().isoformat()} by refgraph {__version__}"
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="refgraph">'
        '<link rel="icon" href="data:,">'
        f"<title>{_e(title)}{' (SYNTHETIC DATA)' if synthetic else ''}</title>"
        f"<style>{CSS}</style></head>\n<body><header><h1>{_e(title)}</h1>"
        f'<p class="meta">{_e(meta)}</p>{banner}<nav><ol>{nav}</ol></nav></header>\n<main>'
        + "\n".join(_render_section(s) for s in secs)
        + f"</main>\n<footer>Files: {links}</footer>\n<script>{SORT_JS}</script></body></html>\n"
    )


# ---------------------------------------------------------------------------- public
def build(
    net: ReferralNetwork,
    out: str | Path,
    *,
    title: str = "refgraph report",
    home: str | Iterable[str] | None = None,
    sections: Sequence[str] | None = None,
    top: int = 25,
    seed: int = 0,
) -> Path:
    """Write a self-contained HTML report folder about a referral network.

    Parameters
    ----------
    net
        The network.
    out
        Folder to write (created if needed; files of the same names are
        replaced, other files are left alone).
    title
        Page title (HTML-escaped like every value shown).
    home
        The planner's own practice: an NPI, a practice id, or a list of them.
        Used by the ``targets`` and ``at_risk`` sections (and starred on the
        map). Default: the specialty group receiving the most referrals from
        other practices.
    sections
        Keys of :data:`SECTIONS` to include, in page order (default: all).
    top
        Rows shown per table in the page (the CSVs hold every row).
    seed
        Seed of the randomised analyses (Louvain, sampled betweenness).

    Returns
    -------
    pathlib.Path
        The path of ``index.html``.

    Examples
    --------
    >>> import tempfile
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(150, seed=2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     page = build(net, d, sections=["summary", "map"])
    ...     sorted(p.name for p in page.parent.iterdir())
    ['index.html', 'map.png', 'practices.csv', 'provenance.csv', 'report.json', 'summary.csv']

    Raises
    ------
    ValidationError
        On an unknown section key or a ``home`` that is not in the network.

    Notes
    -----
    Every table is written to ``<name>.csv`` first and the page shows the
    values read back from that file (exact value in the cell's
    ``data-value``, rounded text for display), so every number in the page
    is in a CSV. ``report.json`` lists the sections with their status
    (``ok``, ``unavailable``, ``not_applicable``) and files.
    """
    keys = list(SECTIONS) if sections is None else [str(s) for s in sections]
    bad = [k for k in keys if k not in SECTIONS]
    if bad:
        raise ValidationError(f"sections: unknown {bad}; expected some of {list(SECTIONS)}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValidationError(f"top: expected an integer >= 1, got {top!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = _Ctx(net=net, out=folder, top=top, seed=seed)
    ctx.home, ctx.home_label, ctx.home_npis = _resolve_home(net, home)
    synthetic = is_synthetic(net)
    logger.info("report: %d sections into %s (synthetic=%s)", len(keys), folder, synthetic)
    secs = [_run(k, ctx) for k in keys]
    page = folder / "index.html"
    page.write_text(_render(title, net, secs, synthetic), encoding="utf-8")
    manifest = {
        "title": title,
        "synthetic": synthetic,
        "home": ctx.home_label,
        "sections": [
            {
                "key": s.key,
                "status": s.status,
                "reason": s.reason,
                "files": [b.csv if isinstance(b, _Table) else b.png for b in s.blocks],
            }
            for s in secs
        ],
    }
    (folder / "report.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    logger.info("report: wrote %s", page)
    return page


# ---------------------------------------------------------------------------- command line
def cmd_report(args: argparse.Namespace) -> int:
    """``refgraph report NETWORK --out DIR``: the command-line entry point."""
    from ..network import load

    net = load(args.network)
    page = build(
        net,
        Path(args.out),
        title=args.title,
        home=args.home or None,
        sections=args.sections.split(",") if args.sections else None,
        top=args.top,
        seed=args.seed,
    )
    print(f"refgraph report: written to {page.parent}")
    print(f"open {page} in a browser")
    return 0


def add_cli(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``report`` subcommand on the ``refgraph`` parser's subparsers."""
    p = subparsers.add_parser(
        "report", help="write a self-contained HTML report folder about a saved network"
    )
    p.add_argument("network", help="network folder written by ReferralNetwork.save")
    p.add_argument("--out", default="refgraph-report", help="report folder (default: %(default)s)")
    p.add_argument("--title", default="refgraph report", help="page title")
    p.add_argument(
        "--home",
        action="append",
        metavar="NPI_OR_PRACTICE",
        help="my practice (repeatable; default: chosen automatically)",
    )
    p.add_argument(
        "--sections", help=f"comma-separated subset of: {','.join(SECTIONS)} (default: all)"
    )
    p.add_argument("--top", type=int, default=25, help="rows per table in the page")
    p.add_argument("--seed", type=int, default=0, help="seed of randomised analyses")
    p.set_defaults(func=cmd_report)
    return p
