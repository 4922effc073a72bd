"""The report's maps: practices and flows (home marked, with a close-up) and communities.

Both use an equal-scale projection: one degree of longitude is drawn
``cos(latitude)`` as wide as one degree of latitude, so distances read the same
in every direction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._blocks import _Ctx, _NotApplicable, _Section, _write_png, _write_table

if TYPE_CHECKING:
    from ..network import ReferralNetwork

_HOME = "#d4380d"


def _equal_scale(ax: Any, lat: Any) -> None:
    lat = np.asarray(lat, dtype=float)
    lat = lat[np.isfinite(lat)]
    if len(lat):
        ax.set_aspect(1 / np.cos(np.radians(float(np.median(lat)))), adjustable="datalim")


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


def _sec_map(ctx: _Ctx, sec: _Section) -> None:
    from .._plotting import mpl
    from ..plot import plot_map

    net = ctx.net
    phys = net.physicians
    if not phys["lat"].notna().any():
        raise _NotApplicable("no physician has coordinates (lat/lon)")
    table = _practice_table(net)
    hp = phys.iloc[0:0]
    if ctx.home_npis is not None and len(ctx.home_npis):
        hp = phys[phys["npi"].astype(str).isin(ctx.home_npis.astype(str)).to_numpy(bool)]
        hp = hp[hp["lat"].notna() & hp["lon"].notna()]
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
    sec.blocks.append(
        _write_png(
            ctx,
            fig,
            "map",
            "map of practices, physicians and referral flows",
            "Points: physicians (primary care vs specialists); squares: practices (size grows "
            "with headcount); lines: the 2,000 largest flows (500 in the close-up); star: the "
            "home practice. "
            "Equal-scale projection (no base map: the points are the geography).",
        )
    )
    sec.blocks.append(
        _write_table(
            ctx,
            table,
            "practices",
            "Practices by referrals received",
            show=["name", "kind", "physicians", "referrals_received"],
        )
    )
