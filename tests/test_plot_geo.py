"""Maps: checked on what they drew (Agg backend, artists and their data)."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError
from refgraph.geo import (
    catchment,
    cluster,
    haversine_km,
    plot_catchment,
    plot_clusters,
    plot_flows,
    plot_practices,
    plot_regions,
    plurality_regions,
)


@pytest.fixture(autouse=True)
def _close() -> None:
    yield
    plt.close("all")


@pytest.fixture
def net(npis: list[str]) -> ReferralNetwork:
    practices = pd.DataFrame(
        {
            "practice_id": ["A", "B", "C"],
            "kind": ["hospital", "primary_care_clinic", "primary_care_clinic"],
            "lat": [42.0, 42.1, np.nan],
            "lon": [-71.0, -71.2, -71.1],
        }
    )
    phys = pd.DataFrame(
        {
            "npi": npis[:4],
            "practice_id": ["A", "A", "B", "C"],
            "lat": [42.0, 42.0, 42.1, np.nan],
            "lon": [-71.0, -71.0, -71.2, -71.1],
        }
    )
    flows = pd.DataFrame(
        {
            "source_npi": [npis[2], npis[2], npis[3]],
            "target_npi": [npis[0], npis[1], npis[0]],
            "count": [10, 2, 5],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)


def _coll(ax, label: str):
    return next(c for c in ax.collections if c.get_label() == label)


def test_plot_practices_draws_located_rows(net: ReferralNetwork) -> None:
    fig, ax = plot_practices(net)
    assert fig is ax.figure
    ph = _coll(ax, "physicians").get_offsets()
    assert len(ph) == 3  # the physician without coordinates is not drawn
    pr = _coll(ax, "practices").get_offsets()
    np.testing.assert_allclose(np.asarray(pr), [[-71.0, 42.0], [-71.2, 42.1]])  # x = lon
    sizes = _coll(ax, "practices").get_sizes()
    assert sizes[0] > sizes[1]  # A has 2 physicians, B one
    assert ax.get_xlabel() == "longitude"
    lat = np.r_[ph[:, 1], pr[:, 1]]  # every drawn point
    assert ax.get_aspect() == pytest.approx(1 / np.cos(np.radians(lat.mean())))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["hospital", "primary_care_clinic"]
    with pytest.raises(ValidationError):
        plot_practices(net, color_by="nope")


def test_plot_flows_widths_follow_volume(net: ReferralNetwork) -> None:
    _fig, ax = plot_flows(net)
    lc = _coll(ax, "flows")
    segs = lc.get_segments()
    assert len(segs) == 2  # the flow from the unlocated physician is left out
    w = lc.get_linewidths()
    # drawn smallest first; the 10-referral flow is the widest, on top
    assert w[-1] > w[0]
    np.testing.assert_allclose(segs[-1], [[-71.2, 42.1], [-71.0, 42.0]])
    _fig, ax = plot_flows(net, max_flows=1, points=False)
    assert len(_coll(ax, "flows").get_segments()) == 1
    assert _data_labels(ax) == ["flows"]


def _data_labels(ax: Any) -> list[str]:
    """Labels of the data layers (the reference outlines beneath are left out)."""
    return [c.get_label() for c in ax.collections if not c.get_label().endswith(" outlines")]


def test_plot_flows_between_units(net: ReferralNetwork) -> None:
    _fig, ax = plot_flows(net, unit="practice")
    segs = _coll(ax, "flows").get_segments()
    # B -> A summed (12); C has no coordinates of its own but gets its physicians' (none)
    assert len(segs) == 1
    np.testing.assert_allclose(segs[0], [[-71.2, 42.1], [-71.0, 42.0]])


def test_plot_clusters_hulls() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {
            "lat": np.r_[40 + rng.normal(0, 0.01, 30), 41 + rng.normal(0, 0.01, 30), 45.0],
            "lon": np.r_[-75 + rng.normal(0, 0.01, 30), -74 + rng.normal(0, 0.01, 30), -70.0],
        }
    )
    cl = cluster(df, eps_km=5, min_samples=3)
    _fig, ax = plot_clusters(cl)
    assert sorted(_data_labels(ax)) == ["0", "1", "noise"]
    assert len(ax.patches) == 2
    # each hull contains its cluster's points
    for k, patch in enumerate(ax.patches):
        pts = cl.loc[cl["cluster"] == k, ["lon", "lat"]].to_numpy(float)
        assert patch.get_path().contains_points(pts, radius=1e-9).sum() >= len(pts) - 10
        verts = patch.get_xy()
        assert verts[:, 1].mean() == pytest.approx(40 + k, abs=0.05)
    _fig, ax = plot_clusters(cl, hulls=False)
    assert len(ax.patches) == 0


def test_plot_regions_and_catchment(npis: list[str]) -> None:
    from refgraph.datasets import synthetic_region

    syn = synthetic_region(400, seed=3)
    reg = plurality_regions(syn)
    _fig, ax = plot_regions(reg)
    drawn = sum(len(c.get_offsets()) for c in ax.collections if c.get_label() in _data_labels(ax))
    assert drawn == reg[["lat", "lon"]].notna().all(axis=1).sum()
    pid = syn.practices["practice_id"].iloc[0]
    c = catchment(syn, pid, share=0.8)
    _fig, ax = plot_catchment(c)
    inside = _coll(ax, "in catchment").get_offsets()
    assert len(inside) == len(c.area)
    tgt = _coll(ax, "target").get_offsets()
    np.testing.assert_allclose(np.asarray(tgt)[0], [c.lon, c.lat])
    circle = next(p for p in ax.patches if p.get_label() == "radius")
    xy = circle.get_xy()
    d = haversine_km(c.lat, c.lon, xy[:, 1], xy[:, 0])
    np.testing.assert_allclose(d, c.radius_km, rtol=1e-6)
    assert "80%" in ax.get_title()


def test_plots_draw_on_given_axes(net: ReferralNetwork) -> None:
    fig, axes = plt.subplots(1, 2)
    f1, a1 = plot_practices(net, ax=axes[0])
    f2, a2 = plot_flows(net, ax=axes[1])
    assert f1 is fig and f2 is fig and a1 is axes[0] and a2 is axes[1]
