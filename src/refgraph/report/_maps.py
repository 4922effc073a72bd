"""The report's maps: practices and flows (home marked, with a close-up) and communities.

Both use an equal-scale projection: one degree of longitude is drawn
``cos(latitude)`` as wide as one degree of latitude, so distances read the same
in every direction. US state outlines (county outlines too in views narrower than
:data:`refgraph.geo.COUNTY_MAX_KM` km) are drawn beneath, in grey.

The page shows each map as a zoomable inline SVG (:mod:`._svgmap`: hover a practice or
a physician for its name, id and referrals; the markers keep their screen size as the
reader zooms, so a dense core spreads out); the folder keeps a static PNG of each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._blocks import _Ctx, _NotApplicable, _Section, _Svg, _write_png, _write_table
from ._svgmap import SvgMap

if TYPE_CHECKING:
    from ..network import ReferralNetwork

_HOME = "#d4380d"
_FLOW = "#33508f"
_PRACTICE = "#7a1f1f"
_OTHER = "#c4c8d0"
#: Physicians drawn with a tooltip each in the page's maps (beyond it, dots only).
MAX_TIPS = 20_000


def _equal_scale(ax: Any, lat: Any) -> None:
    lat = np.asarray(lat, dtype=float)
    lat = lat[np.isfinite(lat)]
    if len(lat):
        ax.set_aspect(1 / np.cos(np.radians(float(np.median(lat)))), adjustable="datalim")


def _outlines(ax: Any, level: str = "auto") -> None:
    from ..geo import plot_outlines

    plot_outlines(ax, level=level, zorder=0.2)


def community_map(net: ReferralNetwork, labels: pd.Series, big: list[Any]) -> Any:
    """Physicians coloured by community: the ``big`` ones in colour, the rest grey beneath."""
    from .._plotting import mpl

    plt = mpl()
    fig, ax = plt.subplots(figsize=(10.0, 7.0))
    phys = net.physicians
    has = (phys["lat"].notna() & phys["lon"].notna()).to_numpy(bool)
    pts = phys[has]
    lab = pts["npi"].astype(str).map(labels.astype(str)).fillna("")
    big_s = [str(c) for c in big]
    other = ~lab.isin(big_s).to_numpy(bool)
    ax.scatter(
        pts["lon"].to_numpy()[other],
        pts["lat"].to_numpy()[other],
        s=5,
        color="#c4c8d0",
        linewidths=0,
        zorder=1,
        label=f"other ({int(other.sum())})",
    )
    cmap = plt.get_cmap("tab10")
    for i, c in enumerate(big_s):
        m = (lab == c).to_numpy(bool)
        ax.scatter(
            pts["lon"].to_numpy()[m],
            pts["lat"].to_numpy()[m],
            s=9,
            color=cmap(i % 10),
            linewidths=0,
            zorder=2,
            label=f"community {c} ({int(m.sum())})",
        )
    _equal_scale(ax, pts["lat"])
    _outlines(ax)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Communities (the nine largest in colour)")
    ax.legend(
        loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False, markerscale=2
    )
    return fig


def _practice_table(net: ReferralNetwork) -> pd.DataFrame:
    phys = net.physicians
    pr = net.practices
    pid = phys["practice_id"].astype("string")
    size = pid.value_counts()
    owner = pd.Series(pid.to_numpy(), index=phys["npi"].astype(str).to_numpy())
    e = net.edges()
    inbound = e["count"].groupby(e["target_npi"].astype(str).map(owner).to_numpy()).sum()
    return pd.DataFrame(
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


def _home_physicians(ctx: _Ctx) -> pd.DataFrame:
    """The home practice's physicians that have coordinates (none without a home)."""
    phys = ctx.net.physicians
    if ctx.home_npis is None or not len(ctx.home_npis):
        return phys.iloc[0:0]
    hp = phys[phys["npi"].astype(str).isin(ctx.home_npis.astype(str)).to_numpy(bool)]
    return hp[hp["lat"].notna() & hp["lon"].notna()]


def _sec_map(ctx: _Ctx, sec: _Section) -> None:
    from .._plotting import mpl
    from ..plot import plot_map

    net = ctx.net
    phys = net.physicians
    if not phys["lat"].notna().any():
        raise _NotApplicable("no physician has coordinates (lat/lon)")
    table = _practice_table(net)
    hp = _home_physicians(ctx)
    close = len(hp) > 0
    fig, axs = mpl().subplots(1, 2 if close else 1, figsize=(12.0, 6.0) if close else (9, 7))
    axs = list(np.atleast_1d(axs))
    titles = ["Whole region", "Around the home practice (20 km square)"]
    for ax, ttl in zip(axs, titles):
        plot_map(net, ax=ax, title=ttl, max_flows=2000 if ax is axs[0] else 500)
        t = table[table["lat"].notna() & table["lon"].notna()]
        ax.scatter(
            t["lon"],
            t["lat"],
            s=12 + 60 * np.sqrt(t["physicians"] / max(1, t["physicians"].max())),
            marker="s",
            facecolors="none",
            edgecolors="#7a1f1f",
            linewidths=0.7,
            zorder=3,
            label="practice",
        )
        if close:
            lon, lat = float(hp["lon"].median()), float(hp["lat"].median())
            ax.scatter(
                [lon],
                [lat],
                s=320,
                marker="*",
                color=_HOME,
                edgecolors="black",
                linewidths=1.0,
                zorder=5,
                label="home practice",
            )
            ax.annotate(
                "home",
                (lon, lat),
                xytext=(8, 8),
                textcoords="offset points",
                fontsize=11,
                fontweight="bold",
                color=_HOME,
                zorder=6,
            )
        _equal_scale(ax, phys["lat"])
        _outlines(ax, "auto" if ax is axs[0] else "county")
    axs[0].legend(loc="lower left", fontsize=8, markerscale=1.2, frameon=True, framealpha=0.85)
    if close:
        lat0 = float(hp["lat"].median())
        dlat = 10 / 111.2
        dlon = dlat / np.cos(np.radians(lat0))
        lon0 = float(hp["lon"].median())
        axs[1].set_aspect(1 / np.cos(np.radians(lat0)), adjustable="box")
        axs[1].set_xlim(lon0 - dlon, lon0 + dlon)
        axs[1].set_ylim(lat0 - dlat, lat0 + dlat)
        axs[1].get_legend().remove() if axs[1].get_legend() else None
    fig.tight_layout()
    img = _write_png(
        ctx,
        fig,
        "map",
        "map of practices, physicians and referral flows",
        "static version",
    )
    sec.blocks.append(_Svg(_flow_svg(ctx, table, hp), img.png))
    sec.blocks.append(
        _write_table(
            ctx,
            table,
            "practices",
            "Practices by referrals received",
            show=["name", "kind", "physicians", "referrals_received"],
        )
    )


def _groups(phys: pd.DataFrame) -> np.ndarray:
    """``primary care``, ``specialist`` or ``unknown`` per physician (as :func:`plot_map`)."""
    from ..specialties import SPECIALTIES

    pc = {k for k, v in SPECIALTIES.items() if v.primary_care}
    spec = phys["specialty"]
    out = np.where(spec.isin(pc).fillna(False).to_numpy(bool), "primary care", "specialist")
    return np.where(spec.isna().to_numpy(bool), "unknown", out)


def _km(x: float) -> str:
    return f"{x:,.0f} km" if x >= 10 else f"{x:.1f} km"


def _flow_svg(ctx: _Ctx, table: pd.DataFrame, hp: pd.DataFrame) -> str:
    """The zoomable map of the page: outlines, flows, physicians, practices, home."""
    from ..geo import COUNTY_MAX_KM

    net = ctx.net
    phys = net.physicians
    pts = phys[phys["lat"].notna() & phys["lon"].notna()]
    t = table[table["lat"].notna() & table["lon"].notna()]
    m = SvgMap(pd.concat([pts["lat"], t["lat"]]), pd.concat([pts["lon"], t["lon"]]))
    levels = m.outlines(COUNTY_MAX_KM)
    pos = pd.DataFrame(
        {"lat": pts["lat"].to_numpy(float), "lon": pts["lon"].to_numpy(float)},
        index=pts["npi"].astype(str).to_numpy(),
    )
    e = net.edges()
    e = e[e["source_npi"].astype(str).isin(pos.index) & e["target_npi"].astype(str).isin(pos.index)]
    e = e.sort_values("count", ascending=False, kind="stable").head(2000).iloc[::-1]
    if len(e):
        s = pos.loc[e["source_npi"].astype(str).to_numpy()]
        d = pos.loc[e["target_npi"].astype(str).to_numpy()]
        c = e["count"].to_numpy(float)
        v = c / c.max()
        m.lines(s["lat"], s["lon"], d["lat"], d["lon"], 0.4 + 2.6 * v, 0.10 + 0.55 * v, _FLOW)
    group = _groups(pts)
    colors = {"primary care": "#1f77b4", "specialist": "#ff7f0e", "unknown": "#8c8c8c"}
    # physicians sit at (or next to) their practice's square: the squares carry the tooltips
    m.points(pts["lat"], pts["lon"], r=2.4, colors=[colors[g] for g in group])
    size = 3.5 + 7 * np.sqrt(t["physicians"].to_numpy(float) / max(1, t["physicians"].max()))
    order = np.argsort(-size, kind="stable")  # small squares on top of large ones
    t = t.iloc[order]
    m.points(
        t["lat"],
        t["lon"],
        r=4,
        size=size[order],
        colors=[_PRACTICE] * len(t),
        cls="prac",
        square=True,
        titles=[
            f"{nm} (practice {pid})\n{str(kind).replace('_', ' ')} · {n:,} physicians · "
            f"{r:,} referrals received"
            for nm, pid, kind, n, r in zip(
                t["name"], t.index, t["kind"], t["physicians"], t["referrals_received"]
            )
        ],
    )
    focus = None
    if len(hp):
        lat, lon = float(hp["lat"].median()), float(hp["lon"].median())
        m.star(lat, lon, f"Home: {ctx.home_label}", _HOME)
        focus = (lat, lon, 20.0)
    used = sorted(set(group.tolist()), key=["primary care", "specialist", "unknown"].index)
    legend = [("dot", colors[g], f"{g} physician") for g in used]
    legend += [("square", _PRACTICE, "practice (size: headcount)")]
    legend += [("line", _FLOW, f"referral flow ({len(e):,} largest)")]
    if focus:
        legend += [("star", _HOME, "home practice")]
    legend += [("outline", "#8a8f99", f"{lv} lines") for lv in reversed(levels)]
    w_km = m.view[2]
    cap = (
        f"Practices, physicians and the {len(e):,} largest referral flows over "
        f"{_km(w_km)} (north up; equal scale in every direction at {m.lat0:.1f}° latitude). "
        "Hover a square for the practice; "
        "zoom keeps the markers' size, so the dense core opens up. "
        "Outlines: US Census Bureau 2016 cartographic boundaries (public domain), simplified. "
        f'Static two-panel version with a 20 km close-up: <a href="map.png">map.png</a>.'
    )
    return m.figure(
        "map", "zoomable map of practices, physicians and referral flows", cap, legend, focus
    )


def community_svg(ctx: _Ctx, labels: pd.Series, big: list[Any], png: str) -> str:
    """The zoomable community map: the ``big`` communities in colour, the rest grey beneath."""
    from html import escape

    from ..geo import COUNTY_MAX_KM

    phys = ctx.net.physicians
    pts = phys[(phys["lat"].notna() & phys["lon"].notna()).to_numpy(bool)]
    lab = pts["npi"].astype(str).map(labels.astype(str)).fillna("")
    big_s = [str(c) for c in big]
    m = SvgMap(pts["lat"], pts["lon"])
    levels = m.outlines(COUNTY_MAX_KM)
    palette = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ]  # fmt: skip
    tips = len(pts) <= MAX_TIPS

    def titles(sub: pd.DataFrame, what: pd.Series) -> list[str] | None:
        if not tips:
            return None
        return [
            f"{nm} (NPI {n})\n{sp if isinstance(sp, str) else 'specialty unknown'} · {w}"
            for nm, n, sp, w in zip(sub["name"], sub["npi"].astype(str), sub["specialty"], what)
        ]

    other = ~lab.isin(big_s).to_numpy(bool)
    o = pts[other]
    what = lab[other].map(lambda c: f"community {c}" if c else "no community")
    m.points(o["lat"], o["lon"], r=2.0, colors=[_OTHER] * len(o), titles=titles(o, what))
    legend = [("dot", _OTHER, f"other ({int(other.sum()):,})")]
    for i, c in enumerate(big_s):
        sel = (lab == c).to_numpy(bool)
        sub = pts[sel]
        col = palette[i % 10]
        m.points(
            sub["lat"],
            sub["lon"],
            r=2.8,
            colors=[col] * len(sub),
            titles=titles(sub, pd.Series([f"community {c}"] * len(sub))),
            cls="pt com",
        )
        legend.append(("dot", col, f"community {c} ({int(sel.sum()):,})"))
    focus = None
    hp = _home_physicians(ctx)
    if len(hp):
        lat, lon = float(hp["lat"].median()), float(hp["lon"].median())
        m.star(lat, lon, f"Home: {ctx.home_label}", _HOME)
        focus = (lat, lon, 20.0)
        legend.append(("star", _HOME, "home practice"))
    legend += [("outline", "#8a8f99", f"{lv} lines") for lv in reversed(levels)]
    cap = (
        f"Physicians coloured by community: the {len(big_s)} largest in colour, the rest in "
        "grey as 'other', drawn underneath. Hover a dot for the physician; zoom keeps the "
        "dots' size, so the dense core opens up. Outlines: US Census Bureau 2016 "
        f'cartographic boundaries (public domain), simplified. Static version: <a href="'
        f'{escape(png)}">{escape(png)}</a>.'
    )
    return m.figure("communities", "zoomable map of physicians by community", cap, legend, focus)
