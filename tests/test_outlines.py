"""The shipped US reference outlines (refgraph.geo.outlines) and the maps that draw them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomllib

from refgraph import ReferralNetwork, ValidationError
from refgraph.datasets import synthetic_region
from refgraph.geo import (
    COUNTY_MAX_KM,
    catchment,
    cluster,
    outlines,
    plot_catchment,
    plot_clusters,
    plot_flows,
    plot_outlines,
    plot_practices,
    plot_regions,
    plurality_regions,
)

ROOT = Path(__file__).resolve().parents[1]

# FIPS codes of the 50 states and DC (Census Bureau, "State FIPS codes"): 01-56 minus
# the five codes never assigned (03, 07, 14, 43, 52).
STATES_AND_DC = {f"{i:02d}" for i in range(1, 57)} - {"03", "07", "14", "43", "52"}


def _inside(lon: float, lat: float, ring: pd.DataFrame) -> bool:
    """Even-odd point-in-polygon (crossing number), written out here as the reference."""
    x, y = ring["lon"].to_numpy(), ring["lat"].to_numpy()
    x0, y0, x1, y1 = x[:-1], y[:-1], x[1:], y[1:]
    cross = (y0 > lat) != (y1 > lat)
    with np.errstate(divide="ignore", invalid="ignore"):
        xc = x0 + (lat - y0) * (x1 - x0) / (y1 - y0)
    return bool(np.sum(cross & (lon < xc)) % 2)


def _in_area(lon: float, lat: float, df: pd.DataFrame, state: str) -> bool:
    rings = df[df["state"] == state].groupby("ring")
    return sum(_inside(lon, lat, r) for _, r in rings) % 2 == 1


def test_states_by_fips() -> None:
    st = outlines("state")
    ids = set(st["geoid"])
    assert STATES_AND_DC <= ids
    assert ids - STATES_AND_DC == {"60", "66", "69", "72", "78"}  # AS, GU, MP, PR, VI
    assert len(STATES_AND_DC) == 51
    assert st.loc[st["geoid"] == "20", "name"].iat[0] == "Kansas"
    assert st.loc[st["geoid"] == "11", "state"].iat[0] == "DC"


def test_rings_are_closed_and_provenance_recorded() -> None:
    for level in ("state", "county"):
        df = outlines(level)
        first = df.groupby("ring")[["lon", "lat"]].first()
        last = df.groupby("ring")[["lon", "lat"]].last()
        assert np.allclose(first.to_numpy(), last.to_numpy())
        assert (df.groupby("ring").size() >= 4).all()
        meta = df.attrs
        assert "Census Bureau" in meta["source"] and "public domain" in meta["licence"]
        assert meta["vintage"] == 2016
        assert meta["tolerance_deg"] == {"state": 0.002, "county": 0.0015}[level]
        assert meta["vertices_out"] == len(df)


def test_point_in_kansas_not_in_nebraska() -> None:
    st = outlines("state")
    assert _in_area(-98.5, 39.0, st, "KS")
    assert not _in_area(-98.5, 39.0, st, "NE")
    assert _in_area(-98.5, 41.0, st, "NE") and not _in_area(-98.5, 41.0, st, "KS")
    # Lawrence, KS (Douglas County) and Kansas City, MO (Jackson County)
    co = outlines("county", bbox=(-95.5, 38.5, -94.0, 39.5))
    lawrence = co[co["geoid"] == "20045"]
    assert lawrence["name"].iat[0] == "Douglas"
    assert _in_area(-95.24, 38.97, lawrence, "KS")
    assert _in_area(-94.50, 39.05, co[co["geoid"] == "29095"], "MO")
    assert not _in_area(-94.50, 39.05, co, "KS")


def test_bounding_boxes_plausible() -> None:
    st = outlines("state")
    fl = st[st["state"] == "FL"]
    # Florida: Key West area about 24.5 N, the Alabama line 31.0 N; Perdido River
    # about 87.6 W, Atlantic coast about 80.0 W
    assert 24.3 < fl["lat"].min() < 24.7 and 30.9 < fl["lat"].max() < 31.1
    assert -87.7 < fl["lon"].min() < -87.5 and -80.1 < fl["lon"].max() < -79.9
    co = st[st["state"] == "CO"]  # a rectangle: 37-41 N, 102.05-109.05 W
    assert abs(co["lat"].min() - 37.0) < 0.02 and abs(co["lat"].max() - 41.0) < 0.02
    assert abs(co["lon"].min() + 109.05) < 0.02 and abs(co["lon"].max() + 102.04) < 0.02


def test_counties() -> None:
    co = outlines("county")
    assert co["geoid"].nunique() == 3233  # cb_2016: 3,142 counties + PR and island areas
    assert co["geoid"].str.len().eq(5).all()
    assert (co["geoid"].str[:2].isin(STATES_AND_DC)).sum() > 0.95 * len(co)
    assert co.loc[co["geoid"] == "17031", "name"].iat[0] == "Cook"


def test_bbox_selects_whole_rings() -> None:
    box = (-88.0, 41.6, -87.5, 42.1)  # Chicago
    co = outlines("county", bbox=box)
    assert "Cook" in set(co["name"]) and "Los Angeles" not in set(co["name"])
    full = outlines("county")
    for ring, part in co.groupby("ring"):
        assert len(part) == (full["ring"] == ring).sum()
    assert outlines("state", bbox=(0.0, 0.0, 1.0, 1.0)).empty
    with pytest.raises(ValidationError, match="bbox"):
        outlines("state", bbox=(-88, 42, -87))
    with pytest.raises(ValidationError, match="bbox"):
        outlines("state", bbox=(-87, 42, -88, 43))
    with pytest.raises(ValidationError, match="level"):
        outlines("zip")


def test_package_data_ships_the_files() -> None:
    pj = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "geo/data/*" in pj["tool"]["setuptools"]["package-data"]["refgraph"]
    for level in ("state", "county"):
        ref = resources.files("refgraph.geo").joinpath("data", f"us_{level}.npz")
        assert ref.is_file()
    sizes = {p.name: p.stat().st_size for p in (ROOT / "src/refgraph/geo/data").glob("*.npz")}
    assert sizes["us_state.npz"] < 300_000 and sizes["us_county.npz"] < 1_500_000, sizes


def _labels(ax) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(c.get_label() for c in ax.collections)


def test_auto_level_by_view_size() -> None:
    _, ax = plot_outlines(bbox=(-88.0, 41.6, -87.5, 42.1))  # ~55 km: counties help
    assert _labels(ax) == ["county outlines", "state outlines"]
    # ~700 km across (wider than COUNTY_MAX_KM): states only
    assert COUNTY_MAX_KM < 700
    _, ax = plot_outlines(bbox=(-96.0, 37.0, -88.0, 42.0))
    assert _labels(ax) == ["state outlines"]
    _, ax = plot_outlines(bbox=(-96.0, 37.0, -88.0, 42.0), level="county")
    assert _labels(ax) == ["county outlines", "state outlines"]
    _, ax = plot_outlines(bbox=(-96.0, 37.0, -88.0, 42.0), level="none")
    assert _labels(ax) == []
    with pytest.raises(ValidationError, match="level"):
        plot_outlines(bbox=(-96.0, 37.0, -88.0, 42.0), level="zip")


def test_outlines_beneath_points_without_moving_the_view() -> None:
    net = synthetic_region(300, seed=1)
    _fig, ax = plot_practices(net, outlines=None)
    before = (ax.get_xlim(), ax.get_ylim())
    _fig, ax2 = plot_practices(net)
    assert (ax2.get_xlim(), ax2.get_ylim()) == before
    lines = [c for c in ax2.collections if c.get_label().endswith("outlines")]
    assert lines
    points = [c for c in ax2.collections if c.get_label() in ("physicians", "practices")]
    assert max(c.get_zorder() for c in lines) < min(c.get_zorder() for c in points)
    # every outline drawn meets the view (rings far away are not drawn)
    x0, x1 = before[0]
    for lc in lines:
        for seg in lc.get_segments():
            assert seg[:, 0].max() > x0 - 5 and seg[:, 0].min() < x1 + 5


def test_every_geo_map_draws_outlines() -> None:
    net = synthetic_region(300, seed=1)
    pr = net.practices.copy()
    maps = {
        "practices": plot_practices(net)[1],
        "flows": plot_flows(net, max_flows=50)[1],
        "clusters": plot_clusters(cluster(net, eps_km=3, min_samples=3))[1],
        "regions": plot_regions(plurality_regions(net))[1],
        "catchment": plot_catchment(catchment(net, pr["practice_id"].iloc[0]))[1],
    }
    for name, ax in maps.items():
        n = sum(c.get_label() == "state outlines" for c in ax.collections)
        assert n == 1, name
    off = [
        plot_practices(net, outlines=None)[1],
        plot_flows(net, max_flows=50, outlines=None)[1],
        plot_regions(plurality_regions(net), outlines=None)[1],
    ]
    for ax in off:
        assert not any(c.get_label().endswith("outlines") for c in ax.collections)


def test_no_outlines_outside_the_us() -> None:
    phys = pd.DataFrame(
        {"npi": ["1234567893", "1003033051"], "lat": [48.85, 48.86], "lon": [2.35, 2.36]}
    )  # Paris
    net = ReferralNetwork.from_frames(physicians=phys)
    _, ax = plot_practices(net)
    assert not any(c.get_label().endswith("outlines") for c in ax.collections)


def test_plot_map_draws_outlines_beneath_without_moving_the_view() -> None:
    from refgraph.plot import plot_map

    net = synthetic_region(300, seed=1)
    _fig, ax = plot_map(net, outlines=None)
    before = (ax.get_xlim(), ax.get_ylim())
    assert not any(c.get_label().endswith("outlines") for c in ax.collections)
    _fig, ax2 = plot_map(net)
    assert (ax2.get_xlim(), ax2.get_ylim()) == before
    lines = [c for c in ax2.collections if c.get_label().endswith("outlines")]
    assert sum(c.get_label() == "state outlines" for c in lines) == 1
    others = [c for c in ax2.collections if not c.get_label().endswith("outlines")]
    assert max(c.get_zorder() for c in lines) < min(c.get_zorder() for c in others)
