"""Distances, spatial queries, clustering, flow-based markets and GeoJSON export."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score

from refgraph import NotFoundError, ReferralNetwork, ValidationError
from refgraph.geo import (
    EARTH_RADIUS_KM,
    SpatialIndex,
    catchment,
    cluster,
    cluster_summary,
    distance_matrix,
    flow_communities,
    geodesic_km,
    haversine_km,
    leakage,
    market_share,
    nearest,
    plurality_regions,
    project_km,
    to_geojson,
    unit_table,
    within_km,
)

# ----------------------------------------------------------------------------- distances
lats = st.floats(15, 85, allow_nan=False)
lons = st.floats(-180, 180, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([-1.0, 1.0]), lats, lons, lats, lons)
def test_haversine_agrees_with_geodesic(
    hemi: float, a1: float, o1: float, a2: float, o2: float
) -> None:
    # Both points in one hemisphere, poleward of 15 degrees (all US ZIP codes are):
    # near the equator a sphere is > 0.5 % off for north-south paths (see the next test).
    a1, a2 = hemi * a1, hemi * a2
    h = haversine_km(a1, o1, a2, o2)
    # degenerate cases left out: coincident points (relative error undefined) and
    # near-antipodal pairs (where the ellipsoidal geodesic is ill-conditioned)
    assume(h > 1.0)
    assume(h < 0.9 * math.pi * EARTH_RADIUS_KM)
    g = geodesic_km(a1, o1, a2, o2)
    assert abs(h - g) / g < 0.005


def test_haversine_worst_case_is_documented() -> None:
    # north-south at the equator: the meridional radius of curvature is 6335 km
    h, g = haversine_km(0, 0, 1, 0), geodesic_km(0, 0, 1, 0)
    assert 0.005 < (h - g) / g < 0.006


def test_haversine_known_values_and_shapes() -> None:
    assert haversine_km(0, 0, 0, 0) == 0.0
    assert isinstance(haversine_km(0, 0, 1, 1), float)
    # a quarter of a great circle
    assert haversine_km(0, 0, 0, 90) == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM)
    assert haversine_km(90, 0, -90, 0) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    # symmetric, broadcasting, Series input, NaN propagates
    a = np.array([40.0, 41.0, np.nan])
    b = pd.Series([-70.0, -71.0, -72.0])
    d = haversine_km(a, b, 40.5, -70.5)
    assert d.shape == (3,) and np.isnan(d[2])
    np.testing.assert_allclose(d[:2], haversine_km(40.5, -70.5, a[:2], b[:2]))
    assert haversine_km(a[:, None], b.to_numpy()[:, None], a, b).shape == (3, 3)
    # read-only input arrays are fine (never modified)
    ro = np.array([1.0, 2.0])
    ro.flags.writeable = False
    haversine_km(ro, ro, ro, ro)


def test_distance_matrix() -> None:
    pts = pd.DataFrame({"lat": [40.0, 41.0, 42.0], "lon": [-70.0, -71.0, -72.0]})
    m = distance_matrix(pts)
    assert m.shape == (3, 3)
    np.testing.assert_allclose(np.diag(m), 0)
    np.testing.assert_allclose(m, m.T)
    np.testing.assert_allclose(m[0, 2], haversine_km(40, -70, 42, -72))
    g = distance_matrix(pts, pts.iloc[:2], method="geodesic")
    assert g.shape == (3, 2)
    np.testing.assert_allclose(g, m[:, :2], rtol=0.005)
    with pytest.raises(ValidationError):
        distance_matrix(pts, method="manhattan")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        distance_matrix(np.zeros((3, 3)))


def test_project_km_preserves_local_distances() -> None:
    rng = np.random.default_rng(0)
    lat = 42 + rng.normal(0, 0.5, 200)
    lon = -71 + rng.normal(0, 0.5, 200)
    xy = project_km(lat, lon)
    i, j = rng.integers(0, 200, (2, 500))
    eu = np.hypot(*(xy[i] - xy[j]).T)
    hv = haversine_km(lat[i], lon[i], lat[j], lon[j])
    ok = hv > 1
    assert np.max(np.abs(eu[ok] - hv[ok]) / hv[ok]) < 0.01


# ----------------------------------------------------------------------------- queries
@pytest.fixture(scope="module")
def points() -> pd.DataFrame:
    rng = np.random.default_rng(42)
    n = 3000
    df = pd.DataFrame(
        {
            "id": [f"P{i:05d}" for i in range(n)],
            "lat": 42 + rng.normal(0, 0.4, n),
            "lon": -71.5 + rng.normal(0, 0.6, n),
        },
        index=pd.RangeIndex(100, 100 + n),
    )
    df.loc[[100, 150], "lat"] = np.nan  # rows without coordinates
    return df


@pytest.mark.parametrize("km", [0.0, 1.0, 7.5, 40.0])
def test_within_km_matches_brute_force(points: pd.DataFrame, km: float) -> None:
    lat0, lon0 = 42.1, -71.4
    got = within_km(points, lat0, lon0, km)
    d = haversine_km(points["lat"], points["lon"], lat0, lon0)
    want = points.index[np.nan_to_num(d, nan=np.inf) <= km]
    assert sorted(got.index) == sorted(want)
    assert got["distance_km"].is_monotonic_increasing
    np.testing.assert_allclose(got["distance_km"], d[points.index.get_indexer(got.index)])
    assert list(got["rank"]) == list(range(1, len(got) + 1))


def test_within_km_many_query_points(points: pd.DataFrame) -> None:
    idx = SpatialIndex(points)
    assert idx.n_missing == 2 and len(idx) == len(points) - 2
    q = idx.within_km([42.0, 42.5], [-71.5, -71.0], 5)
    for k, (la, lo) in enumerate([(42.0, -71.5), (42.5, -71.0)]):
        one = idx.within_km(la, lo, 5)
        assert list(q[q["query"] == k].index) == list(one.index)
    with pytest.raises(ValidationError):
        idx.within_km(42, -71, -1)
    with pytest.raises(ValidationError):
        idx.within_km(np.nan, -71, 1)


def test_nearest_matches_brute_force(points: pd.DataFrame) -> None:
    got = nearest(points, 42.2, -71.3, k=10)
    d = pd.Series(haversine_km(points["lat"], points["lon"], 42.2, -71.3), index=points.index)
    want = d.dropna().sort_values().index[:10]
    assert list(got.index) == list(want)
    assert got["rank"].tolist() == list(range(1, 11))
    many = nearest(points, [42.2, 41.0], [-71.3, -71.0], k=3)
    assert many["query"].tolist() == [0, 0, 0, 1, 1, 1]
    assert len(nearest(points.head(3), 42, -71, k=10)) == 2  # 2 located rows in head(3)
    with pytest.raises(ValidationError):
        nearest(points, 42, -71, k=0)


def test_queries_on_a_network_use_the_chosen_table() -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(300, seed=2)
    lat, lon = float(net.practices["lat"].iloc[0]), float(net.practices["lon"].iloc[0])
    pr = within_km(net, lat, lon, 3, table="practices")
    assert "practice_id" in pr.columns and pr.index[0] == 0
    ph = within_km(net, lat, lon, 3)
    assert "npi" in ph.columns
    sel = net.select(within_km=(lat, lon, 3))
    assert sorted(ph["npi"]) == sorted(sel.physicians["npi"])
    with pytest.raises(ValidationError):
        within_km(net, lat, lon, 3, table="flows")
    with pytest.raises(ValidationError):
        within_km(pd.DataFrame({"x": [1]}), lat, lon, 3)


# ----------------------------------------------------------------------------- clustering
def planted(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Six towns (1.5 km spread) across the eastern US plus scattered noise."""
    rng = np.random.default_rng(seed)
    towns = [
        (42.36, -71.06),
        (40.71, -74.0),
        (39.95, -75.17),
        (38.9, -77.04),
        (41.82, -71.41),
        (42.89, -78.88),
    ]
    lat, lon, truth = [], [], []
    for k, (la, lo) in enumerate(towns):
        n = 40 + 10 * k
        lat += list(la + rng.normal(0, 1.5 / 111, n))
        lon += list(lo + rng.normal(0, 1.5 / (111 * math.cos(math.radians(la))), n))
        truth += [k] * n
    df = pd.DataFrame({"lat": lat, "lon": lon, "specialty": "cardiology"})
    return df, np.array(truth)


@pytest.mark.parametrize(
    "kw",
    [
        {"method": "dbscan", "eps_km": 3, "min_samples": 5},
        {"method": "hdbscan", "min_samples": 5, "min_cluster_size": 20},
        {"method": "kmeans", "n_clusters": 6, "seed": 1},
    ],
)
def test_clustering_recovers_planted_clusters(kw: dict) -> None:
    df, truth = planted()
    out = cluster(df, **kw)
    lab = out["cluster"].to_numpy(dtype=int)
    assert adjusted_rand_score(truth, lab) > 0.95
    assert set(lab[lab >= 0]) == set(range(6))
    # largest cluster is number 0
    sizes = np.bincount(lab[lab >= 0])
    assert (np.diff(sizes) <= 0).all()


def test_cluster_keeps_rows_without_coordinates() -> None:
    df, _ = planted()
    df = df.copy()
    df.loc[[0, 5], "lon"] = np.nan
    out = cluster(df, eps_km=3, min_samples=5)
    assert len(out) == len(df) and out.index.equals(df.index)
    assert out["cluster"].dtype == "Int64"
    assert out.loc[[0, 5], "cluster"].isna().all()
    assert out["cluster"].notna().sum() == len(df) - 2
    assert "cluster" not in df.columns


def test_dbscan_eps_is_in_km() -> None:
    # two points 2.0 km apart: together for eps 2.1 km, apart for eps 1.9 km
    lat2 = 2.0 / EARTH_RADIUS_KM * 180 / math.pi
    df = pd.DataFrame({"lat": [0.0, lat2], "lon": [0.0, 0.0]})
    assert cluster(df, eps_km=2.1, min_samples=2)["cluster"].tolist() == [0, 0]
    assert cluster(df, eps_km=1.9, min_samples=2)["cluster"].tolist() == [-1, -1]


def test_cluster_bad_options() -> None:
    df, _ = planted()
    with pytest.raises(ValidationError, match="method"):
        cluster(df, method="optics")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="n_clusters"):
        cluster(df, method="kmeans")
    with pytest.raises(ValidationError, match="eps_km"):
        cluster(df, eps_km=0)
    with pytest.raises(ValidationError, match="min_samples"):
        cluster(df, min_samples=0)


@pytest.mark.datasets
@pytest.mark.parametrize("jitter_km", [0.0, 2.0])
def test_ckm_physicians_cluster_into_the_four_towns(datasets_dir, jitter_km: float) -> None:
    from refgraph.datasets import CKM_TOWNS, load_ckm

    phys = load_ckm(datasets_dir / "ckm")["physicians"]
    assert len(phys) == 246
    # placed at their towns' coordinates (optionally scattered around them)
    rng = np.random.default_rng(0)
    phys = phys.assign(
        lat=phys["lat"] + rng.normal(0, jitter_km / 111, len(phys)),
        lon=phys["lon"] + rng.normal(0, jitter_km / 85, len(phys)),
    )
    out = cluster(phys, method="dbscan", eps_km=5, min_samples=3)
    assert out["cluster"].nunique() == 4
    assert (out["cluster"] >= 0).all()
    assert adjusted_rand_score(out["town"].astype(str), out["cluster"].astype(int)) == 1.0
    summ = cluster_summary(out.assign(specialty=out["town"]))
    assert summ["members"].tolist() == [117, 50, 44, 35]  # Peoria is the largest town
    for _, row in summ.iterrows():
        town = row["top_specialty"]
        la, lo = next((v[1], v[2]) for v in CKM_TOWNS.values() if v[0] == town)
        assert haversine_km(row["lat"], row["lon"], la, lo) < 1 + jitter_km


def test_cluster_summary_hand_checked() -> None:
    df = pd.DataFrame(
        {
            "lat": [0.0, 0.0, 0.0, 5.0],
            "lon": [-0.1, 0.1, 0.0, 5.0],
            "specialty": ["cardiology", "cardiology", "urology", "urology"],
            "cluster": pd.array([0, 0, 0, -1], dtype="Int64"),
        }
    )
    s = cluster_summary(df)
    assert list(s.index) == [0]
    r = s.loc[0]
    assert r["members"] == 3
    assert r["lat"] == pytest.approx(0.0) and r["lon"] == pytest.approx(0.0, abs=1e-12)
    assert r["radius_km"] == pytest.approx(haversine_km(0, 0, 0, 0.1))
    assert r["median_km"] == pytest.approx(haversine_km(0, 0, 0, 0.1))
    assert r["top_specialty"] == "cardiology"
    assert r["specialty_mix"] == {
        "cardiology": pytest.approx(2 / 3, abs=1e-4),
        "urology": pytest.approx(1 / 3, abs=1e-4),
    }
    assert list(cluster_summary(df, include_noise=True).index) == [-1, 0]


# ----------------------------------------------------------------------------- markets
def _line_network(npis: list[str]) -> ReferralNetwork:
    """Six practices A..F on a line (0.1 degree apart); towns West (A) and East (F).

    Referral volume sent by each practice to the West / East hub physicians:

    ====  ====  ====  =====================================================
    unit  West  East  expected region
    ====  ====  ====  =====================================================
    A     10    0     West (plurality)
    B     5     2     West (plurality)
    C     3     3     West (tie: A is 0.2 degrees away, F 0.3)
    D     1     4     East (plurality)
    E     6     1     plurality West, but cut off from it: East (contiguity)
    F     0     10    East (plurality)
    ====  ====  ====  =====================================================
    """
    ids = list("ABCDEF")
    practices = pd.DataFrame({"practice_id": ids, "lat": 40.0, "lon": [0.1 * i for i in range(6)]})
    a1, a2, b, c, d, e, f1, f2 = npis[:8]
    phys = pd.DataFrame(
        {
            "npi": [a1, a2, b, c, d, e, f1, f2],
            "practice_id": ["A", "A", "B", "C", "D", "E", "F", "F"],
            "town": ["West", "West", None, None, None, None, "East", "East"],
        }
    )
    phys = phys.merge(practices, on="practice_id")
    rows = [
        (a1, a2, 10),
        (b, a1, 5),
        (b, f1, 2),
        (c, a2, 3),
        (c, f2, 3),
        (d, a1, 1),
        (d, f1, 4),
        (e, a1, 6),
        (e, f1, 1),
        (f1, f2, 10),
    ]
    flows = pd.DataFrame(rows, columns=["source_npi", "target_npi", "count"])
    return ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)


def test_plurality_regions_hand_computed(npis: list[str]) -> None:
    net = _line_network(npis)
    r = plurality_regions(net, unit="practice", hub="town", k_neighbors=2)
    assert r.index.name == "practice_id"
    assert r["region"].to_dict() == dict(zip("ABCDEF", ["West"] * 3 + ["East"] * 3))
    assert r["plurality_region"].to_dict() == dict(
        zip("ABCDEF", ["West"] * 3 + ["East", "West", "East"])
    )
    assert r["assignment"].tolist() == [
        "plurality",
        "plurality",
        "tie",
        "plurality",
        "contiguity",
        "plurality",
    ]
    assert r["volume"].tolist() == [10, 7, 6, 5, 7, 10]
    assert r["region_volume"].tolist() == [10, 5, 3, 4, 1, 10]
    assert r.loc["E", "share_to_hub"] == pytest.approx(1 / 7)
    # without the clean-up E stays with the plurality
    raw = plurality_regions(net, unit="practice", hub="town", k_neighbors=2, contiguity=False)
    assert raw.loc["E", "region"] == "West" and raw.loc["E", "assignment"] == "plurality"


def test_plurality_default_hub_is_the_target_unit(npis: list[str]) -> None:
    net = _line_network(npis)
    r = plurality_regions(net, unit="practice", contiguity=False, fill=False)
    # hubs are the receiving practices themselves
    assert r.loc["B", "region"] == "A" and r.loc["D", "region"] == "F"
    assert r.loc["C", "region"] == "A" and r.loc["C", "assignment"] == "tie"
    filled = plurality_regions(net, unit="practice", contiguity=False, fill=True, k_neighbors=2)
    assert filled["region"].notna().all()


def test_plurality_regions_on_zip_units() -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(800, seed=5)
    r = plurality_regions(net, unit="zip")
    unit_of, units = unit_table(net, unit="zip")
    assert list(r.index) == list(units.index)
    assert r["region"].notna().all()
    assert set(r["assignment"]) <= {"plurality", "tie", "contiguity", "neighbors"}
    ok = r["volume"] > 0
    assert (r.loc[ok, "share_to_hub"].between(0, 1)).all()
    # regions are named after hubs that receive referrals
    assert set(r["region"]) <= set(unit_of.dropna())


def test_flow_communities_respect_distance(npis: list[str]) -> None:
    # two towns 100 km apart, dense inside; one big long-distance flow between them
    rng = np.random.default_rng(0)
    lat = np.r_[40 + rng.normal(0, 0.01, 10), 40.9 + rng.normal(0, 0.01, 10)]
    lon = np.r_[-75 + rng.normal(0, 0.01, 10), -75 + rng.normal(0, 0.01, 10)]
    pid = [f"P{i:02d}" for i in range(20)]
    practices = pd.DataFrame({"practice_id": pid, "lat": lat, "lon": lon})
    phys = practices.assign(npi=npis).copy()
    rows = []
    for town in (range(10), range(10, 20)):
        for i in town:
            for j in town:
                if i != j:
                    rows.append((npis[i], npis[j], 2))
    rows.append((npis[0], npis[10], 500))
    flows = pd.DataFrame(rows, columns=["source_npi", "target_npi", "count"])
    net = ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)
    com = flow_communities(net, unit="practice", max_km=50, seed=1)
    assert com["community"].notna().all()
    towns = np.r_[[0] * 10, [1] * 10]
    assert adjusted_rand_score(towns, com.loc[pid, "community"].astype(int)) == 1.0
    # without the distance cut the long flow ties P00 and P10 together ...
    loose = flow_communities(net, unit="practice", max_km=None, seed=1, contiguity=False)
    assert loose.loc["P00", "community"] == loose.loc["P10", "community"]
    # ... and the contiguity clean-up moves the detached piece back to its own town
    fixed = flow_communities(net, unit="practice", max_km=None, seed=1)
    assert fixed.loc["P00", "community"] != fixed.loc["P10", "community"]
    assert (fixed.loc["P10", "assignment"], fixed.loc["P00", "assignment"]).count("contiguity") == 1
    decayed = flow_communities(net, unit="practice", max_km=None, decay_km=10, seed=1)
    assert decayed.loc["P00", "community"] != decayed.loc["P10", "community"]
    assert com["internal_share"].between(0, 1).all()


def test_catchment_hand_computed(npis: list[str]) -> None:
    # target practice T at (40, -75); sources in ZIP-like practices at growing distance
    practices = pd.DataFrame(
        {
            "practice_id": ["T", "S1", "S2", "S3", "S4"],
            "lat": [40.0, 40.0, 40.0, 40.0, 40.0],
            "lon": [-75.0, -74.9, -74.8, -74.5, -74.0],
        }
    )
    phys = pd.DataFrame({"npi": npis[:6], "practice_id": ["T", "T", "S1", "S2", "S3", "S4"]}).merge(
        practices, on="practice_id"
    )
    t1, t2, s1, s2, s3, s4 = npis[:6]
    flows = pd.DataFrame(
        [(s1, t1, 10), (s2, t2, 40), (s3, t1, 30), (s4, t1, 20), (t2, t1, 99)],
        columns=["source_npi", "target_npi", "count"],
    )
    net = ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)
    c = catchment(net, "T", share=0.7, unit="practice")
    assert c.kind == "practice" and (c.lat, c.lon) == (40.0, -75.0)
    assert c.total_volume == 100  # the internal T->T flow is left out
    assert c.area == ["S2", "S3"]  # 40 + 30 = 70 %
    assert c.achieved_share == pytest.approx(0.7)
    # by distance: S1 (10), S2 (50), S3 (80 >= 70) -> radius is the distance to S3
    assert c.radius_km == pytest.approx(haversine_km(40, -75, 40, -74.5))
    assert c.units["volume"].tolist() == [40, 30, 20, 10]
    c1 = catchment(net, "T", share=1.0, unit="practice")
    assert c1.area == ["S2", "S3", "S4", "S1"]
    assert c1.radius_km == pytest.approx(haversine_km(40, -75, 40, -74.0))
    cp = catchment(net, t1, share=0.5, unit="practice")  # one physician
    assert cp.kind == "physician" and cp.total_volume == 60 + 99
    out = catchment(net, s2, share=1.0, unit="practice", direction="out")
    assert out.area == ["T"]
    with pytest.raises(NotFoundError):
        catchment(net, "nope")
    with pytest.raises(ValidationError):
        catchment(net, "T", share=0)


def test_market_share_and_leakage(npis: list[str]) -> None:
    net = _line_network(npis)
    markets = pd.Series({"A": "W", "B": "W", "C": "W", "D": "E", "E": "E", "F": "E"})
    ms = market_share(net, markets, unit="practice", by="town")
    w = ms[ms["market"] == "W"].set_index("provider")
    # sent from W: A 10 (West), B 5/2, C 3/3 -> West 18, East 5
    assert w.loc["West", "volume"] == 18 and w.loc["East", "volume"] == 5
    assert w.loc["West", "share"] == pytest.approx(18 / 23) and w.loc["West", "rank"] == 1
    lk = leakage(net, markets, unit="practice")
    # W keeps flows to A (in W): 10 + 5 + 3 = 18; E keeps 4 + 1 + 10 = 15 of 22
    assert lk.loc["W", "volume"] == 23 and lk.loc["W", "retained"] == 18
    assert lk.loc["E", "leaked"] == 7 and lk.loc["E", "top_destination"] == "W"
    lk2 = leakage(net, markets, unit="practice", by="town")
    # only A->A (West->West) and F->F (East->East) stay inside their "network"
    assert lk2.loc["W", "out_of_network"] == 13 and lk2.loc["E", "out_of_network"] == 12
    regions = plurality_regions(net, unit="practice", hub="town", k_neighbors=2)
    assert set(market_share(net, regions, unit="practice")["market"]) == {"West", "East"}


# ----------------------------------------------------------------------------- GeoJSON
def _ring_area(ring: list[list[float]]) -> float:
    x = np.array([p[0] for p in ring])
    y = np.array([p[1] for p in ring])
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def check_geojson(fc: dict) -> None:
    """RFC 7946 checks of a FeatureCollection."""
    json.dumps(fc, allow_nan=False)  # no NaN / Infinity
    assert fc["type"] == "FeatureCollection"

    def pos(p: list[float]) -> None:
        assert len(p) == 2 and all(isinstance(v, float | int) for v in p)
        assert -180 <= p[0] <= 180 and -90 <= p[1] <= 90

    for f in fc["features"]:
        assert f["type"] == "Feature" and isinstance(f["properties"], dict)
        g = f["geometry"]
        if g["type"] == "Point":
            pos(g["coordinates"])
        elif g["type"] == "LineString":
            assert len(g["coordinates"]) >= 2
            for p in g["coordinates"]:
                pos(p)
        elif g["type"] == "Polygon":
            for ring in g["coordinates"]:
                assert len(ring) >= 4 and ring[0] == ring[-1]
                for p in ring:
                    pos(p)
            assert _ring_area(g["coordinates"][0]) > 0  # exterior ring counterclockwise
        else:
            raise AssertionError(g["type"])


def test_geojson_points_are_lon_lat(tmp_path) -> None:
    df = pd.DataFrame(
        {
            "npi": ["a", "b", "c"],
            "lat": [42.36, np.nan, 40.7],
            "lon": [-71.06, -70.0, -74.0],
            "score": [1.5, np.nan, 2.0],
        }
    )
    fc = to_geojson(df, path=tmp_path / "p.geojson")
    check_geojson(fc)
    assert fc["skipped"] == 1 and len(fc["features"]) == 2
    assert fc["features"][0]["geometry"]["coordinates"] == [-71.06, 42.36]
    assert fc["features"][0]["properties"] == {"npi": "a", "score": 1.5}
    assert json.loads((tmp_path / "p.geojson").read_text()) == fc


def test_geojson_network_points_and_flows() -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(200, seed=4)
    pts = to_geojson(net)
    check_geojson(pts)
    layers = [f["properties"]["layer"] for f in pts["features"]]
    assert layers.count("physicians") == 200 and layers.count("practices") == len(net.practices)
    fl = to_geojson(net, kind="flows", max_flows=50)
    check_geojson(fl)
    assert len(fl["features"]) == 50
    top = net.edges().sort_values("count", ascending=False).iloc[0]
    f0 = fl["features"][0]
    assert f0["properties"]["source_npi"] == top["source_npi"]
    src = net.physicians.set_index("npi").loc[top["source_npi"]]
    assert f0["geometry"]["coordinates"][0] == [round(src["lon"], 7), round(src["lat"], 7)]


def test_geojson_clusters_and_catchment(npis: list[str]) -> None:
    df, _ = planted()
    cl = cluster(df, eps_km=3, min_samples=5)
    fc = to_geojson(cl, kind="clusters")
    check_geojson(fc)
    assert len(fc["features"]) == 6
    assert {f["geometry"]["type"] for f in fc["features"]} == {"Polygon"}
    assert fc["features"][0]["properties"]["members"] == cl["cluster"].eq(0).sum()
    net = _line_network(npis)
    c = catchment(net, "A", share=0.9, unit="practice")
    fcc = to_geojson(c)
    check_geojson(fcc)
    roles = [f["properties"]["role"] for f in fcc["features"]]
    assert roles[:3] == ["target", "radius", "area"]
    with pytest.raises(ValidationError):
        to_geojson(net, kind="clusters")
    with pytest.raises(ValidationError):
        to_geojson(df, kind="flows")
