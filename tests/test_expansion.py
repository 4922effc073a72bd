"""Tests of the regional planner: targets, briefs, regions, event sites, CLI."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError, npi_check_digit
from refgraph.datasets import synthetic_region
from refgraph.expansion import (
    add_cli,
    cmd_targets,
    event_site,
    expansion_plan,
    outreach_brief,
    rank_targets,
)

N = [p + str(npi_check_digit(p)) for p in (f"1{i + 500:08d}" for i in range(40))]
H, C, A, B, D, X, E, F = N[:8]  # home cardiologist, competitor, PCPs..., bridge


def _planner_net() -> ReferralNetwork:
    phys = pd.DataFrame(
        {
            "npi": [H, C, A, B, D, X, E, F],
            "name": ["Home", "Rival", "Ann", "Bo", "Dee", "Xavier", "Eve", "Fay"],
            "specialty": [
                "cardiology",
                "cardiology",
                "family_medicine",
                "family_medicine",
                "family_medicine",
                "internal_medicine",
                "family_medicine",
                "family_medicine",
            ],
            "practice_id": ["PH", "PC", "P1", "P2", "P3", "P1", "P4", "P5"],
            "zip": ["02139", "02139", "02139", "02139", "02139", "02139", "01001", "01001"],
            "lat": [42.36, 42.36, 42.37, 42.36, 42.36, 42.37, 42.10, 42.10],
            "lon": [-71.10, -71.10, -71.11, -71.10, -71.10, -71.11, -72.59, -72.59],
        }
    )
    practices = pd.DataFrame(
        {
            "practice_id": ["PH", "PC", "P1", "P2", "P3", "P4", "P5"],
            "name": [
                "Home Heart",
                "Rival Heart",
                "Elm Clinic",
                "Bo Clinic",
                "Dee Clinic",
                "West Clinic",
                "Fay Clinic",
            ],
            "kind": [
                "single_specialty_group",
                "single_specialty_group",
                "multi_specialty_group",
                "primary_care_clinic",
                "primary_care_clinic",
                "primary_care_clinic",
                "primary_care_clinic",
            ],
            "system": ["Mass Sys", None, "Mass Sys", None, None, None, None],
        }
    )
    flows = pd.DataFrame(
        {
            "source_npi": [A, B, D, X, X, E, F],
            "target_npi": [C, H, "1234567893", H, A, C, C],
            "count": [50, 10, 30, 20, 25, 40, 40],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, practices=practices, flows=flows)


def test_rank_targets_known_answer() -> None:
    net = _planner_net()
    t = rank_targets(net, home=[H])
    # B and X already refer to me, D refers nothing into cardiology, C is a cardiologist
    assert set(t.index) == {A, E, F}
    assert t.index[0] == A  # near and reachable through X (X refers to me and knows A)
    assert t.loc[A, "competitor_volume"] == 50 and t.loc[A, "leakage"] == 1.0
    assert t.loc[A, "reach"] > 0 and t.loc[E, "reach"] == 0
    assert t.loc[E, "distance_km"] == pytest.approx(t.loc[F, "distance_km"])
    assert t.loc[E, "distance_km"] > 100
    assert t["rank"].tolist() == [1, 2, 3]
    assert t.attrs["specialty"] == "cardiology"
    ref = rank_targets(net, home=[H], include_referrers=True)
    assert ref.loc[B, "leakage"] == 0.0 and ref.loc[X, "to_home"] == 20
    # score formula
    r = t.loc[A]
    expect = 50 * (0.2 + 0.8 * r["reach"]) * math.exp(-r["distance_km"] / 25)
    assert r["score"] == pytest.approx(expect)
    assert list(rank_targets(net, home=[H], region=["01001"]).index) in ([E, F], [F, E])


def test_outreach_brief_facts() -> None:
    net = _planner_net()
    b = outreach_brief(net, A, home=[H])
    assert b["refers_to"][0]["name"] == "Rival" and b["refers_to"][0]["count"] == 50
    assert b["refers_to"][0]["share"] == 1.0
    assert b["volume"]["competitor_volume"] == 50 and b["volume"]["to_home"] == 0
    assert [s["name"] for s in b["shared_connections"]] == ["Xavier"]
    assert b["best_path"]["names"] == ["Home", "Xavier", "Ann"]
    assert any("same health system (Mass Sys)" in a for a in b["what_we_add"])
    md = b["markdown"]
    assert md.startswith("### Ann") and "Best introduction path" in md and "| Rival |" in md
    cold = outreach_brief(net, E, home=[H])
    assert cold["best_path"] is None and E in cold["no_path_reason"]
    assert "No warm path" in cold["markdown"]


def test_expansion_plan_known_answer() -> None:
    net = _planner_net()
    plan = expansion_plan(net, current=[H], candidates={"east": ["02139"], "west": ["01001"]})
    assert plan.regions.index.tolist() == ["east", "west"]
    assert plan.regions.loc["east", "reachable_potential"] > 0
    assert plan.regions.loc["west", "reachable_potential"] == 0
    assert plan.regions.loc["west", "potential"] == 80
    east = plan.bridges[plan.bridges["region"] == "east"]
    assert east["name"].iloc[0] == "Xavier"
    assert plan.regions.loc["east", "top_bridge"] == "Xavier"
    orgs = plan.organisations[plan.organisations["region"] == "east"]
    assert {"Mass Sys", "Elm Clinic"} <= set(orgs["organisation"])
    assert plan.order["step"].tolist() == list(range(1, len(plan.order) + 1))
    assert plan.order["region"].iloc[0] == "east"
    with pytest.raises(ValidationError, match="candidates"):
        expansion_plan(net, current=[H], candidates=42)


@pytest.mark.datasets
def test_expansion_plan_ckm_towns(datasets_dir: Path) -> None:
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm")
    phys = net.physicians.assign(specialty="family_medicine")
    net = ReferralNetwork.from_frames(physicians=phys, flows=net.flows)
    home = phys.loc[phys["city"] == 1, "npi"].tolist()[:3]
    plan = expansion_plan(net, current=home, candidates="city", specialty="family_medicine")
    assert len(plan.regions) == 4
    # towns are disconnected: only the home town is reachable
    assert plan.regions.index[0] == "city=1"
    assert (plan.regions.drop("city=1")["reachable_potential"] == 0).all()


def _site_net() -> tuple[ReferralNetwork, pd.Series]:
    rng = np.random.default_rng(1)
    lat = np.r_[42.0 + rng.normal(0, 0.01, 10), 42.5 + rng.normal(0, 0.01, 10)]
    lon = np.r_[-71.0 + rng.normal(0, 0.01, 10), -71.5 + rng.normal(0, 0.01, 10)]
    phys = pd.DataFrame({"npi": N[10:30], "lat": lat, "lon": lon})
    net = ReferralNetwork.from_frames(physicians=phys)
    infl = pd.Series(np.r_[np.full(10, 1.0), np.full(10, 3.0)], index=N[10:30])
    return net, infl


def test_event_site_known_answer() -> None:
    net, infl = _site_net()
    cands = pd.DataFrame(
        {
            "name": ["south", "north", "middle"],
            "lat": [42.0, 42.5, 42.25],
            "lon": [-71.0, -71.5, -71.25],
        }
    )
    one = event_site(net, None, max_travel_km=10, candidates=cands, influence=infl)
    assert one.sites["name"].tolist() == ["north"]
    assert one.sites["covered_influence"].iloc[0] == pytest.approx(0.75)
    assert one.invitees["covered"].sum() == 10
    two = event_site(net, None, max_travel_km=10, candidates=cands, influence=infl, p=2)
    assert set(two.sites["name"]) == {"south", "north"}
    assert two.sites["covered_influence"].sum() == pytest.approx(1.0)
    # a wide radius: the middle site covers everyone with less travel than either cluster
    wide = event_site(net, None, max_travel_km=60, candidates=cands, influence=infl)
    assert wide.sites["name"].tolist() == ["middle"]
    # greedy fallback reaches at least (1 - 1/e) of the exhaustive coverage
    greedy = event_site(
        net, None, max_travel_km=10, candidates=cands, influence=infl, p=2, max_combinations=0
    )
    assert not greedy.exact
    assert greedy.sites["covered_influence"].sum() >= (1 - 1 / math.e) * 1.0
    with pytest.raises(ValidationError, match="max_travel_km"):
        event_site(net, None, max_travel_km=0)


def test_event_site_default_influence_and_sites() -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(300, seed=4)
    lat, lon = net.physicians[["lat", "lon"]].median()
    res = event_site(net, (lat, lon, 30), max_travel_km=10, p=2)
    assert len(res.sites) == 2 and res.exact
    assert res.invitees["influence"].sum() == pytest.approx(1.0)
    assert set(res.sites["site"]) <= set(net.practices["practice_id"])
    best1 = res.candidates["covered_influence"].max()
    assert res.sites["covered_influence"].sum() >= best1 - 1e-12


def test_cli_targets_and_parser(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = _planner_net()
    folder = net.save(tmp_path / "net")
    args = argparse.Namespace(
        network=str(folder), home=[H], out=str(tmp_path / "out"), top=10, briefs=2, max_hops=3
    )
    assert cmd_targets(args) == 0
    csv = pd.read_csv(tmp_path / "out" / "targets.csv", dtype={"npi": str})
    assert csv["npi"].iloc[0] == A and csv["best_path"].iloc[0] == "Home -> Xavier -> Ann"
    md = (tmp_path / "out" / "targets.md").read_text()
    assert "# Outreach targets (cardiology)" in md and "### Ann" in md
    assert "targets.csv" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    add_cli(parser.add_subparsers(dest="command"))
    a = parser.parse_args(["intro", "--to", A, "--from", H, "--network", str(folder), "--k", "2"])
    assert a.func(a) == 0
    assert "Home -> Xavier -> Ann" in capsys.readouterr().out
    t = parser.parse_args(
        ["targets", "--network", str(folder), "--home", H, "--out", str(tmp_path / "o2")]
    )
    assert t.func.__name__ == "cmd_targets"


def test_plots_draw_what_they_say() -> None:
    import matplotlib.pyplot as plt

    from refgraph.expansion import plot_event_site
    from refgraph.paths import intro_paths, intro_plan, plot_intro_paths, plot_intro_plan

    net = _planner_net()
    res = intro_paths(net, A, sources=[H])
    _fig, ax = plot_intro_paths(net, res)
    assert len(ax.lines) == 2 and len(ax.collections) == 3
    assert "Ann" in ax.get_title() and ax.get_xlabel() == "longitude"
    xs = sorted(float(c.get_offsets()[0][0]) for c in ax.collections)
    assert xs == pytest.approx(sorted([-71.10, -71.11, -71.11]))
    plan = intro_plan(net, [A, E], budget=2, sources=[H])
    _fig2, ax2 = plot_intro_plan(plan)
    widths = sorted(p.get_width() for p in ax2.patches)
    assert widths == pytest.approx(sorted(plan.targets["probability"]))
    site_net, infl = _site_net()
    site = event_site(
        site_net,
        None,
        max_travel_km=10,
        influence=infl,
        p=2,
        candidates=[(42.0, -71.0), (42.5, -71.5)],
    )
    _fig3, ax3 = plot_event_site(site)
    assert len(ax3.patches) == 2 and "100%" in ax3.get_title()
    plt.close("all")


def test_outreach_reasons_never_print_a_missing_system() -> None:
    # Bridges in practices without a health system used to read "..., nan".
    net = synthetic_region(600, seed=2)
    ph = net.physicians
    home = ph.loc[ph["practice_id"] == ph["practice_id"].value_counts().index[0], "npi"]
    zips = ph["zip"].value_counts().index[5:25].tolist()
    plan = expansion_plan(net, current=home.tolist(), candidates={z: [z] for z in zips})
    no_system = plan.bridges["system"].isna()
    assert no_system.any() and (~no_system).any()  # both kinds of bridge are present
    assert not plan.order["reason"].str.contains("nan").any()
    with_system = plan.bridges.loc[~no_system, "system"].iloc[0]
    assert plan.order["reason"].str.contains(with_system, regex=False).any()
