"""Tests of refgraph.datasets: the synthetic generator and the shared-dataset loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from refgraph import NotFoundError, ValidationError, is_valid_npi, npi_check_digit
from refgraph._validate import validate_table
from refgraph.datasets import (
    SYNTHETIC_PROVENANCE,
    ckm_network,
    dataset_path,
    load_ckm,
    load_cms_sample,
    load_nyc_cardiology,
    nyc_cardiology_network,
    surrogate_npi,
    synthetic_region,
    synthetic_tables,
)
from refgraph.geo import haversine_km as _haversine_km
from refgraph.model import EVENT_STATUSES, PRACTICE_KINDS, SCHEMAS, TOUCHPOINT_KINDS

# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def small() -> dict[str, pd.DataFrame]:
    return synthetic_tables(1500, seed=11, events=True, touchpoints=True)


@pytest.fixture(scope="module")
def medium() -> dict[str, pd.DataFrame]:
    return synthetic_tables(20_000, seed=5)


def _flow_ends(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    phys = tables["physicians"].set_index("npi")
    flows = tables["flows"]
    return phys.loc[flows["source_npi"]], phys.loc[flows["target_npi"]]


# ----------------------------------------------------------------------------- NPIs


def test_vectorised_check_digit_matches_reference() -> None:
    # the generator's private vectorised kernel (no public name), over every leading digit
    from refgraph.datasets._base import _npi_check_digits

    rng = np.random.default_rng(0)
    bodies = rng.integers(100_000_000, 1_000_000_000, 2000)
    ours = _npi_check_digits(bodies)
    ref = [npi_check_digit(str(b)) for b in bodies]
    assert ours.tolist() == ref


def test_surrogate_npi_check_digits() -> None:
    # The generator's NPIs (surrogate and random ones) get their check digit from one
    # vectorised function; surrogate_npi shows it for any nine-digit body 1DDDIIIII.
    rng = np.random.default_rng(0)
    datasets = rng.integers(0, 1000, 20)
    ids = rng.integers(0, 100_000, (20, 100))
    for dataset, row in zip(datasets, ids):
        npis = surrogate_npi(row, dataset=int(dataset))
        bodies = [f"1{int(dataset):03d}{int(i):05d}" for i in row]
        assert [x[:9] for x in npis] == bodies
        assert [int(x[9]) for x in npis] == [npi_check_digit(b) for b in bodies]


def test_surrogate_npis_are_valid_and_distinct() -> None:
    a = surrogate_npi(np.arange(1, 247), dataset=0)
    b = surrogate_npi(np.arange(0, 386), dataset=1)
    assert all(is_valid_npi(x) for x in [*a, *b])
    assert len(set(a) | set(b)) == len(a) + len(b)
    assert surrogate_npi(1) == "1000000012"
    with pytest.raises(ValidationError):
        surrogate_npi(100_000)


# ----------------------------------------------------------------------------- synthetic: basics


def test_deterministic_by_seed() -> None:
    a = synthetic_tables(800, seed=3, events=True, touchpoints=True)
    b = synthetic_tables(800, seed=3, events=True, touchpoints=True)
    c = synthetic_tables(800, seed=4)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["flows"].equals(c["flows"])
    assert not a["physicians"]["npi"].equals(c["physicians"]["npi"])


def test_flows_do_not_depend_on_events_or_touchpoints() -> None:
    a = synthetic_tables(600, seed=9)
    b = synthetic_tables(600, seed=9, events=True, touchpoints=True)
    for name in ("physicians", "practices", "flows"):
        pd.testing.assert_frame_equal(a[name], b[name])


def test_schema_and_strict_validation(small: dict[str, pd.DataFrame]) -> None:
    assert set(small) == {"physicians", "practices", "flows", "events", "touchpoints"}
    for name, df in small.items():
        assert list(df.columns[: len(SCHEMAS[name].names)]) == SCHEMAS[name].names, name
        assert df.attrs["synthetic"] is True
        res = validate_table(df, name, strict=True)  # raises on any rejected row
        assert res.n_accepted_rows == len(df)
        if name == "flows":  # no duplicate pairs to merge
            assert len(res.table) == len(df)
    phys = small["physicians"]
    assert phys["npi"].is_unique
    assert phys["npi"].map(is_valid_npi).all()
    assert phys["name"].str.startswith("Synthetic Physician ").all()
    assert phys["zip"].str.fullmatch(r"\d{5}").all()
    assert small["flows"]["provenance"].eq(SYNTHETIC_PROVENANCE).all()
    assert small["practices"]["name"].str.startswith("Synthetic ").all()
    assert set(small["practices"]["kind"]) <= set(PRACTICE_KINDS)
    assert set(small["events"]["status"]) <= set(EVENT_STATUSES)
    assert set(small["touchpoints"]["kind"]) <= set(TOUCHPOINT_KINDS)
    assert small["touchpoints"]["notes"].str.startswith("Synthetic").all()


def test_references_are_consistent(small: dict[str, pd.DataFrame]) -> None:
    phys, prac, flows = small["physicians"], small["practices"], small["flows"]
    assert phys["practice_id"].isin(prac["practice_id"]).all()
    assert prac["practice_id"].isin(phys["practice_id"]).all()  # no empty practices
    assert flows["source_npi"].isin(phys["npi"]).all()
    assert flows["target_npi"].isin(phys["npi"]).all()
    assert (flows["source_npi"] != flows["target_npi"]).all()
    assert not flows.duplicated(["source_npi", "target_npi"]).any()
    # physicians sit at their practice (a few hundred metres at most)
    p = prac.set_index("practice_id").loc[phys["practice_id"]]
    d = _haversine_km(phys["lat"].to_numpy(), phys["lon"].to_numpy(), p["lat"], p["lon"])
    assert np.quantile(d, 0.99) < 0.5
    assert (phys["zip"].to_numpy() == p["zip"].to_numpy()).all()


def test_state_and_region(small: dict[str, pd.DataFrame]) -> None:
    import zipcodes

    ma = {z["zip_code"] for z in zipcodes.filter_by(state="MA")}
    assert small["practices"]["zip"].isin(ma).all()
    ri = synthetic_tables(300, seed=1, state="RI")
    ri_zips = {z["zip_code"] for z in zipcodes.filter_by(state="RI")}
    assert ri["practices"]["zip"].isin(ri_zips).all()
    chicago = (41.8781, -87.6298)
    reg = synthetic_tables(300, seed=1, center=chicago, radius_km=30)
    d = _haversine_km(chicago[0], chicago[1], reg["practices"]["lat"], reg["practices"]["lon"])
    assert d.max() < 35  # ZIP centroids within 30 km, plus ~1 km of jitter
    us = synthetic_tables(3000, seed=1, state=None)
    states = {z["zip_code"]: z["state"] for z in zipcodes.list_all()}
    seen = set(us["practices"]["zip"].map(states))
    assert len(seen) > 20 and not seen & {"AK", "HI", "PR"}


def test_invalid_parameters() -> None:
    with pytest.raises(ValidationError, match="state"):
        synthetic_tables(100, state="XX")
    with pytest.raises(ValidationError, match="n_physicians"):
        synthetic_tables(1)
    with pytest.raises(ValidationError, match="radius_km"):
        synthetic_tables(100, radius_km=10)
    with pytest.raises(ValidationError, match="within"):
        synthetic_tables(100, center=(0.0, -30.0), radius_km=10)  # mid-Atlantic


@pytest.mark.parametrize("n", [2, 100, 250])
def test_small_sizes_work(n: int) -> None:
    t = synthetic_tables(n, seed=n, events=True, touchpoints=True)
    assert len(t["physicians"]) == n
    for name, df in t.items():
        validate_table(df, name, strict=True)
    assert t["flows"]["count"].sum() == len(t["events"])


# ----------------------------------------------------------------------------- synthetic: realism


def test_flow_count_target(medium: dict[str, pd.DataFrame]) -> None:
    per = len(medium["flows"]) / len(medium["physicians"])
    assert 18.0 <= per <= 21.0


def test_specialty_mix(medium: dict[str, pd.DataFrame]) -> None:
    from refgraph.specialties import SPECIALTIES, SPECIALTY_MIX

    # the documented model: refgraph.specialties.SPECIALTY_MIX (its known, positive shares)
    shares = {s: float(w) for s, w in SPECIALTY_MIX.items() if s in SPECIALTIES and w > 0}
    expected = pd.Series(shares) / sum(shares.values())
    observed = medium["physicians"]["specialty"].value_counts(normalize=True)
    observed = observed.reindex(expected.index, fill_value=0.0)
    n = len(medium["physicians"])
    # within 4 binomial standard errors (plus a little slack) for every specialty
    se = np.sqrt(expected * (1 - expected) / n)
    assert ((observed - expected).abs() <= 4 * se + 1e-3).all()
    card = medium["physicians"].query("specialty == 'cardiology'")["taxonomy"]
    assert card.eq(SPECIALTIES["cardiology"].taxonomy_codes[0]).all()


def test_distance_decay(medium: dict[str, pd.DataFrame]) -> None:
    s, t = _flow_ends(medium)
    d_flow = _haversine_km(s["lat"].to_numpy(), s["lon"].to_numpy(), t["lat"], t["lon"])
    phys = medium["physicians"]
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, len(phys), (2, 50_000))
    lat, lon = phys["lat"].to_numpy(), phys["lon"].to_numpy()
    d_rand = _haversine_km(lat[i], lon[i], lat[j], lon[j])
    assert d_flow.mean() < 0.5 * d_rand.mean()
    assert np.median(d_flow) < 0.6 * np.median(d_rand)
    # longer flows are rarer: the share of flows beyond 50 km is small
    assert (d_flow > 50).mean() < 0.5 * (d_rand > 50).mean()


def test_heavy_tailed_targets(medium: dict[str, pd.DataFrame]) -> None:
    vol = medium["flows"].groupby("target_npi")["count"].sum().sort_values(ascending=False)
    top = int(np.ceil(0.1 * len(vol)))
    assert vol.iloc[:top].sum() / vol.sum() > 0.4
    out = medium["flows"].groupby("source_npi")["count"].sum()
    assert out.max() > 10 * out.median()  # heavy-tailed source volumes too


def test_sources_and_specialists(medium: dict[str, pd.DataFrame]) -> None:
    s, t = _flow_ends(medium)
    primary = {
        "family_medicine",
        "internal_medicine",
        "pediatrics",
        "general_practice",
        "geriatric_medicine",
    }
    src_primary = s["specialty"].isin(primary).to_numpy()
    tgt_primary = t["specialty"].isin(primary).to_numpy()
    assert src_primary.mean() > 0.4  # primary care sends most flows
    assert (~src_primary & ~tgt_primary).mean() > 0.05  # some specialist -> specialist
    pairs = set(zip(medium["flows"]["source_npi"], medium["flows"]["target_npi"]))
    reciprocal = sum((b, a) in pairs for a, b in pairs) / len(pairs)
    assert 0.02 < reciprocal < 0.3


def test_counts_and_patients(medium: dict[str, pd.DataFrame]) -> None:
    f = medium["flows"]
    assert (f["count"] >= 1).all()
    assert (f["patients"] >= 1).all()
    assert (f["patients"] <= f["count"]).all()
    assert f["count"].dtype.kind == "i" and f["patients"].dtype.kind == "i"
    assert (f["period_start"] == pd.Timestamp("2024-01-01")).all()
    assert (f["period_end"] == pd.Timestamp("2024-12-31")).all()


def test_systems_own_many_practices(medium: dict[str, pd.DataFrame]) -> None:
    prac = medium["practices"]
    sizes = prac["system"].value_counts()
    assert 2 <= len(sizes) <= 60
    assert sizes.iloc[:3].sum() > 0.2 * len(prac)  # a few systems own many practices
    hospitals = prac[prac["kind"] == "hospital"]
    assert hospitals["system"].notna().mean() > 0.5


# ----------------------------------------------------------------------------- events/touchpoints


def test_events_consistent_with_flows(small: dict[str, pd.DataFrame]) -> None:
    ev, flows = small["events"], small["flows"]
    per_pair = ev.groupby(["source_npi", "target_npi"]).size()
    counts = flows.set_index(["source_npi", "target_npi"])["count"]
    pd.testing.assert_series_equal(
        per_pair.sort_index(), counts.sort_index(), check_names=False, check_dtype=False
    )
    assert ev["referral_id"].is_unique
    assert ev["date"].is_monotonic_increasing
    assert ev["date"].min() >= pd.Timestamp("2024-01-01")
    assert ev["date"].max() <= pd.Timestamp("2024-12-31")
    assert (ev["date"].dt.day_of_week < 5).all()  # business days


def test_event_funnel_and_seasonality(small: dict[str, pd.DataFrame]) -> None:
    ev = small["events"]
    share = ev["status"].value_counts(normalize=True)
    for status in EVENT_STATUSES:
        assert 0.05 < share[status] < 0.6, (status, share[status])
    # referrals in the last days of the period have not progressed yet
    late = ev[ev["date"] > pd.Timestamp("2024-12-27")]
    assert late["status"].isin(["referred", "scheduled"]).all()
    per_month = ev.groupby(ev["date"].dt.month).size()
    bdays = pd.bdate_range("2024-01-01", "2024-12-31")
    per_bday = per_month / pd.Series(bdays.month).value_counts().sort_index()
    assert per_bday[7] < per_bday[3]  # summer dip


def test_some_sources_decline_or_stop() -> None:
    t = synthetic_tables(3000, seed=21, events=True)
    ev = t["events"]
    first = ev[ev["date"] < pd.Timestamp("2024-04-01")].groupby("source_npi").size()
    last = ev[ev["date"] >= pd.Timestamp("2024-10-01")].groupby("source_npi").size()
    both = pd.concat([first, last], axis=1, keys=["first", "last"]).fillna(0)
    active = both[both["first"] >= 20]
    stopped = (active["last"] == 0).mean()
    declined = (active["last"] < 0.5 * active["first"]).mean()
    assert 0.003 < stopped < 0.1
    assert 0.02 < declined < 0.25


def test_touchpoints(small: dict[str, pd.DataFrame]) -> None:
    tp = small["touchpoints"]
    assert len(tp) > 0
    assert tp["npi"].isin(small["physicians"]["npi"]).all()
    assert tp["date"].between(pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-31")).all()
    assert tp["kind"].nunique() >= 4


def test_other_period() -> None:
    t = synthetic_tables(300, seed=2, events=True, start="2023-07-01", months=6)
    f, ev = t["flows"], t["events"]
    assert (f["period_start"] == pd.Timestamp("2023-07-01")).all()
    assert (f["period_end"] == pd.Timestamp("2023-12-31")).all()
    assert ev["date"].between(pd.Timestamp("2023-07-01"), pd.Timestamp("2023-12-31")).all()


# ----------------------------------------------------------------------------- network


_FALLBACK_SCRIPT = """
import logging, sys
sys.modules["refgraph.specialties"] = None  # import refgraph.specialties -> ImportError
logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
from refgraph._validate import validate_table
from refgraph.datasets import synthetic_tables
t = synthetic_tables(600, seed=1)
for name, df in t.items():
    validate_table(df, name, strict=True)
assert len(t["flows"]) > 5000
assert t["physicians"]["taxonomy"].notna().all()
print("ok")
"""


def test_builtin_specialty_fallback() -> None:
    """Without refgraph.specialties the generator falls back to its own small vocabulary.

    Run in a fresh interpreter, where the specialty model is built without
    refgraph.specialties (in this process it is built once and cached).
    """
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-c", _FALLBACK_SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"
    assert "(built-in specialties)" in r.stderr, r.stderr


def test_synthetic_region_network() -> None:
    net = synthetic_region(500, seed=2, events=True)
    tables = synthetic_tables(500, seed=2)
    assert net.n_physicians == 500
    assert net.n_flows == len(tables["flows"])
    assert len(net.rejected) == 0
    assert len(net.events) == tables["flows"]["count"].sum()


# ----------------------------------------------------------------------------- real datasets


def test_missing_dataset_raises(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="REFGRAPH_DATASETS"):
        dataset_path("ckm", tmp_path / "nope")
    with pytest.raises(NotFoundError):
        load_ckm(tmp_path / "nope")
    with pytest.raises(NotFoundError):
        load_nyc_cardiology(tmp_path)  # exists, but has no files
    with pytest.raises(NotFoundError):
        load_cms_sample(tmp_path / "nope")


def test_env_var_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REFGRAPH_DATASETS", str(tmp_path))
    (tmp_path / "ckm").mkdir()
    assert dataset_path("ckm") == tmp_path / "ckm"


# The datasets_dir fixture (tests/conftest.py) skips with a reason when ../shared/datasets
# is absent, and fails instead when CI=true.


@pytest.mark.datasets
def test_default_dataset_location(
    datasets_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # layout <tmp>/repo (the cwd) next to <tmp>/shared/datasets/<name>
    repo, shared = tmp_path / "repo", tmp_path / "shared" / "datasets"
    repo.mkdir()
    shared.mkdir(parents=True)
    (shared / "cms-shared-patients-sample").symlink_to(datasets_dir / "cms-shared-patients-sample")
    monkeypatch.delenv("REFGRAPH_DATASETS", raising=False)
    monkeypatch.chdir(repo)
    assert (
        dataset_path("cms-shared-patients-sample").resolve()
        == (datasets_dir / "cms-shared-patients-sample").resolve()
    )
    assert len(load_cms_sample()) == 200
    with pytest.raises(NotFoundError, match="does not exist"):
        dataset_path("ckm")
    monkeypatch.chdir(tmp_path)  # the default is relative to the current directory
    with pytest.raises(NotFoundError, match="REFGRAPH_DATASETS"):
        load_cms_sample()
    monkeypatch.setenv("REFGRAPH_DATASETS", str(datasets_dir))
    assert len(load_cms_sample()) == 200


@pytest.mark.datasets
def test_ckm(datasets_dir: Path) -> None:
    t = load_ckm(datasets_dir / "ckm")
    phys, flows = t["physicians"], t["flows"]
    assert len(phys) == 246
    assert phys["npi"].map(is_valid_npi).all() and phys["npi"].is_unique
    assert phys.loc[phys["node_id"] == 1, "npi"].item() == surrogate_npi(1)
    for col in ("node_id", "city", "adoption_month", "ckm_specialty", "in_adoption_sample"):
        assert col in phys.columns
    assert phys["city"].value_counts().sort_index().tolist() == [117, 50, 44, 35]
    assert phys.groupby("city")[["lat", "lon"]].nunique().eq(1).all().all()
    assert flows.groupby("layer").size().to_dict() == {
        "advice": 480,
        "discussion": 565,
        "friend": 506,
    }
    assert (flows["provenance"] == "ckm:" + flows["layer"]).all()
    assert (flows["count"] == 1).all()
    for name, df in t.items():
        validate_table(df, name, strict=True)
    # towns are separate components: no tie crosses towns
    city = phys.set_index("npi")["city"]
    assert (city.loc[flows["source_npi"]].to_numpy() == city.loc[flows["target_npi"]]).all()


@pytest.mark.datasets
def test_ckm_layers_and_aggregate(datasets_dir: Path) -> None:
    path = datasets_dir / "ckm"
    advice = load_ckm(path, layers=["advice"])["flows"]
    assert len(advice) == 480
    assert len(load_ckm(path, layers=("friend", "advice"))["flows"]) == 480 + 506
    agg = load_ckm(path, aggregate=True)["flows"]
    assert len(agg) == 1099  # union of the three layers (SOURCE.txt)
    assert agg["count"].sum() == 1551
    assert agg["count"].between(1, 3).all()
    assert agg["provenance"].eq("ckm:advice+discussion+friend").all()
    with pytest.raises(ValidationError):
        load_ckm(path, layers=["enemies"])


@pytest.mark.datasets
def test_ckm_network(datasets_dir: Path) -> None:
    net = ckm_network(datasets_dir / "ckm")
    assert net.n_physicians == 246
    assert net.n_flows == 1551
    assert len(net.rejected) == 0
    assert ckm_network(datasets_dir / "ckm", aggregate=True).n_flows == 1099


@pytest.mark.datasets
def test_nyc_cardiology(datasets_dir: Path) -> None:
    path = datasets_dir / "nyc-cardiology-2015"
    t = load_nyc_cardiology(path)
    phys, flows = t["physicians"], t["flows"]
    assert len(phys) == 386 and len(flows) == 800
    assert phys["npi"].map(is_valid_npi).all() and phys["npi"].is_unique
    assert phys["npi_is_real"].sum() == 20
    okin = phys[phys["node_index"] == 346]
    assert okin["npi"].item() == "1275621542"
    assert okin["name"].item() == "OKIN, PETER"
    assert (flows["target_npi"] == okin["npi"].item()).sum() == 57
    assert flows["provenance"].eq("cms-referral-2015:nyc-cardiology").all()
    assert (flows["count"] == 1).all()
    assert phys["role"].value_counts().to_dict() == {"referring": 254, "referred": 132}
    assert phys["component"].nunique() == 25
    for name, df in t.items():
        validate_table(df, name, strict=True)
    net = nyc_cardiology_network(path)
    assert (net.n_physicians, net.n_flows) == (386, 800)
    indeg = net.flows.groupby("target_npi").size()
    assert indeg.idxmax() == "1275621542" and indeg.max() == 57


@pytest.mark.datasets
def test_cms_sample(datasets_dir: Path) -> None:
    path = datasets_dir / "cms-shared-patients-sample"
    df = load_cms_sample(path)
    assert len(df) == 200
    assert isinstance(df["npi1"].dtype, pd.StringDtype)
    assert df["npi1"].map(is_valid_npi).all() and df["npi2"].map(is_valid_npi).all()
    assert (df["bene_count"] >= 11).all()
    assert load_cms_sample(path / "pspp_days180_sample.csv").equals(df)
