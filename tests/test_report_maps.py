"""The report's zoomable maps, read from the written page (no browser; see
test_report_browser.py for the zoom and the tooltips in Chromium)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from refgraph.datasets import synthetic_region
from refgraph.geo import haversine_km
from refgraph.report import build
from refgraph.report._svgmap import SvgMap

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    net = synthetic_region(300, seed=4, events=True, touchpoints=True)
    pr = net.practices
    pr["name"] = pr["name"].astype(object)
    pr.loc[pr.index[0], "name"] = "<script>alert(1)</script> & Co"
    out = tmp_path_factory.mktemp("rep")
    build(net, out, sections=["communities", "map"], home=str(pr["practice_id"].iat[0]))
    return out, (out / "index.html").read_text(encoding="utf-8")


def _svg(html: str, key: str) -> ET.Element:
    fig = re.search(rf'<figure class="zoom-map" id="f-{key}">.*?</figure>', html, re.S)
    assert fig is not None, key
    svg = re.search(r"<svg .*?</svg>", fig.group(0), re.S)
    assert svg is not None
    return ET.fromstring(svg.group(0))  # well-formed XML, or this raises


def test_equal_scale_projection_in_km() -> None:
    m = SvgMap([42.0, 42.5], [-71.5, -71.0])
    (x, y) = m.xy([42.0, 42.0, 42.1], [-71.0, -70.9, -71.0])
    east = haversine_km(42.0, -71.0, 42.0, -70.9)
    north = haversine_km(42.0, -71.0, 42.1, -71.0)
    # one SVG unit is one km, east-west and north-south (north is up: y decreases)
    assert x[1] - x[0] == pytest.approx(east, rel=0.01)
    assert y[0] - y[2] == pytest.approx(north, rel=0.01)
    assert m.view[2] / m.view[3] == pytest.approx(1.6)


def test_map_layers_and_tooltips(page: tuple[Path, str]) -> None:
    out, html = page
    svg = _svg(html, "map")
    classes = [g.get("class") for g in svg]
    # outlines beneath, then flows, physicians, practices and the home star on top
    assert classes[:2] == ["sea", "outl county"] and classes.index("outl state") == 2
    assert classes.index("flows") < classes.index("pt") < classes.index("prac")
    assert classes[-1] == "home"
    squares = svg.findall(f"{SVG}g[@class='prac']/{SVG}rect")
    prac = pd.read_csv(out / "practices.csv", dtype={"practice_id": str})
    located = prac[prac["lat"].notna() & prac["lon"].notna()]
    assert len(squares) == len(located)
    tips = [r.find(f"{SVG}title").text for r in squares]  # type: ignore[union-attr]
    for pid, n, refs in (
        located[["practice_id", "physicians", "referrals_received"]]
        .head(20)
        .itertuples(index=False)
    ):
        hit = [t for t in tips if f"(practice {pid})" in t]
        assert len(hit) == 1
        assert f"{n:,} physicians" in hit[0] and f"{refs:,} referrals received" in hit[0]
    # the evil name is text in the title, escaped in the source
    assert any(t.startswith("<script>alert(1)</script> & Co") for t in tips)
    assert "<script>alert" not in html


def test_outlines_cut_to_the_view(page: tuple[Path, str]) -> None:
    _, html = page
    svg = _svg(html, "map")
    x0, y0, w, h = (float(v) for v in svg.get("viewBox", "").split())
    for level in ("state", "county"):
        path = svg.find(f"{SVG}path[@class='outl {level}']")
        assert path is not None
        pts = np.array(re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", path.get("d", "")), float)
        assert len(pts) > 50
        # runs inside the view widened by half on each side, plus one vertex beyond each end
        inside = (np.abs(pts[:, 0] - (x0 + w / 2)) <= w) & (np.abs(pts[:, 1] - (y0 + h / 2)) <= h)
        assert inside.mean() > 0.9


def test_community_map_tips_and_home(page: tuple[Path, str]) -> None:
    _, html = page
    svg = _svg(html, "communities")
    tips = [t.text or "" for t in svg.iter(f"{SVG}title")]
    dots = list(svg.iter(f"{SVG}circle"))
    assert len(tips) == len(dots) + 1  # one per physician, plus the home star
    assert sum("(NPI " in t and "community" in t for t in tips) == len(dots)
    assert svg.find(f"{SVG}g[@class='home']") is not None
    assert 'data-focus="' in html.split('id="f-communities"', 1)[1].split("</svg>", 1)[0]


def test_no_tooltips_above_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from refgraph.report import _maps

    monkeypatch.setattr(_maps, "MAX_TIPS", 10)
    net = synthetic_region(120, seed=2)
    build(net, tmp_path, sections=["communities"])
    svg = _svg((tmp_path / "index.html").read_text(encoding="utf-8"), "communities")
    dots = list(svg.iter(f"{SVG}circle"))
    assert len(dots) > 10
    assert not any(d.find(f"{SVG}title") is not None for d in dots)
