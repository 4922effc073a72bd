"""Draw the maps of docs/geography.md into docs/images/geo_*.png.

Usage::

    python scripts/make_geo_images.py [--out docs/images]

Offline and deterministic: a SYNTHETIC Massachusetts network
(``synthetic_region(3000, seed=7)``) and, when ../shared/datasets is present,
the real CKM physicians at their towns' coordinates.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
try:
    import refgraph  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

import matplotlib.pyplot as plt  # noqa: E402

from refgraph import geo  # noqa: E402
from refgraph.datasets import synthetic_region  # noqa: E402
from refgraph.geo import (  # noqa: E402
    plot_catchment,
    plot_clusters,
    plot_flows,
    plot_practices,
    plot_regions,
)

log = logging.getLogger("make_geo_images")


def save(fig: plt.Figure, out: Path, name: str) -> None:
    path = out / f"geo_{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    log.info("wrote %s", path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    net = synthetic_region(3000, seed=7)
    fig, _ = plot_practices(net, title="SYNTHETIC practices and physicians (Massachusetts)")
    save(fig, out, "practices")

    fig, _ = plot_flows(
        net, unit="zip", max_flows=1500, title="Referral flows between ZIP codes (1,500 largest)"
    )
    save(fig, out, "flows")

    cl = geo.cluster(net, table="practices", method="hdbscan", min_samples=4, min_cluster_size=8)
    fig, _ = plot_clusters(cl, title="HDBSCAN local markets of practices (haversine)")
    save(fig, out, "clusters")

    reg = geo.plurality_regions(net, unit="zip")
    fig, _ = plot_regions(reg, title="Plurality referral regions of ZIP codes")
    save(fig, out, "regions")

    com = geo.flow_communities(net, unit="zip", max_km=40, seed=0)
    fig, _ = plot_regions(com, title="Flow communities (Louvain, flows <= 40 km)")
    save(fig, out, "communities")

    hosp = net.practices[net.practices["kind"] == "hospital"]["practice_id"]
    inflow = net.flows.merge(
        net.physicians[["npi", "practice_id"]], left_on="target_npi", right_on="npi"
    )
    busiest = inflow[inflow["practice_id"].isin(hosp)].groupby("practice_id")["count"].sum()
    c = geo.catchment(net, str(busiest.idxmax()), share=0.8)
    fig, _ = plot_catchment(c)
    save(fig, out, "catchment")

    try:
        from refgraph.datasets import dataset_path, load_ckm

        phys = load_ckm(dataset_path("ckm", ROOT.parent / "shared" / "datasets" / "ckm"))[
            "physicians"
        ]
    except Exception as exc:  # the shared datasets are not part of a user's clone
        log.warning("CKM map skipped: %s", exc)
    else:
        import numpy as np

        rng = np.random.default_rng(0)  # scatter around the town centres to show the points
        phys = phys.assign(
            lat=phys["lat"] + rng.normal(0, 0.02, len(phys)),
            lon=phys["lon"] + rng.normal(0, 0.025, len(phys)),
        )
        cl = geo.cluster(phys, eps_km=10, min_samples=3)
        fig, _ = plot_clusters(cl, title="CKM physicians (jittered around their towns): 4 clusters")
        save(fig, out, "ckm")


if __name__ == "__main__":
    main()
