"""The report in a real headless Chromium (Debian ``chromium``), driven by Playwright.

Playwright for Python drives the system Chromium (``executable_path``; no browser
download). Checks: the action page comes first and each of its lists has
lines whose links resolve; no horizontal scroll at 1,280 px; images load; a
table sorts when its header is clicked; the maps draw reference outlines, show a
practice's tooltip when the mouse is over it, leave the wheel to the page until
clicked, then zoom on the wheel (the viewBox shrinks, the markers keep their size on
screen), pan on a drag and come back with "Whole region"; nothing is logged to the
console as an error; no network request (only ``file:`` and ``data:`` URLs).
Screenshots go to a temporary folder (the tests never write ``docs/images/``).

Skipped with a reason when Chromium or Playwright is missing
(``scripts/install-browser`` installs Chromium, the ``browser`` extra installs
Playwright); with ``CI=true`` a skip fails the run (see ``conftest.py``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from refgraph.datasets import synthetic_region
from refgraph.report import build

WIDTH = 1280


def _chromium() -> str:
    exe = os.environ.get("REFGRAPH_CHROMIUM") or shutil.which("chromium")
    exe = exe or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("chromium not found on PATH (run scripts/install-browser, as root)")
    return exe


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = synthetic_region(400, seed=5, events=True, touchpoints=True)
    return build(net, tmp_path_factory.mktemp("report"), title="Synthetic region report")


@pytest.fixture(scope="module")
def page(report: Path) -> Iterator[Any]:
    exe = _chromium()
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install refgraph[browser])"
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=["--no-sandbox", "--disable-gpu"])
        try:
            pg = browser.new_page(viewport={"width": WIDTH, "height": 900})
            pg.errors = []  # console errors and uncaught exceptions
            pg.requests = []
            pg.on(
                "console",
                lambda m: pg.errors.append(m.text) if m.type in ("error", "assert") else None,
            )
            pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))
            pg.on("request", lambda r: pg.requests.append(r.url))
            pg.goto(report.resolve().as_uri(), wait_until="load")
            yield pg
        finally:
            browser.close()


def test_action_page_first_and_non_empty(page: Any) -> None:
    first = page.evaluate("document.querySelector('main section').id")
    assert first == "actions"
    lists = page.evaluate(
        """Array.from(document.querySelectorAll('#actions .action')).map(a => [
             a.querySelector('h3').textContent,
             Array.from(a.querySelectorAll('li')).map(li => li.textContent),
             Array.from(a.querySelectorAll('li a')).map(x => x.getAttribute('href'))])"""
    )
    assert [t.split(" ")[0] for t, _, _ in lists] == ["Calls", "People", "Thank-yous", "Where"]
    ids = set(page.evaluate("Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
    for title, lines, links in lists:
        assert lines, f"{title}: no line"
        assert all(len(x) > 40 for x in lines), lines  # a sentence, not a bare number
        for href in links:
            if href.startswith("#"):
                assert href[1:] in ids, href
            else:
                assert href.endswith(".csv")
    assert page.locator("#actions").is_visible()


def test_no_horizontal_scroll_at_laptop_width(page: Any) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1] == WIDTH, widths
    # the deciding columns of the at-risk table are on screen, not scrolled off
    right = page.evaluate(
        """(() => { const t = document.querySelector('table[data-csv="at_risk.csv"]');
                    const r = t.getBoundingClientRect(); return r.right; })()"""
    )
    assert right <= WIDTH


def test_images_load(page: Any, report: Path) -> None:
    imgs = page.evaluate(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    assert imgs
    for src, complete, width in imgs:
        assert complete and width > 0, f"{src} did not load"
    # the maps are inline SVG; their static PNG is linked from the caption
    for key, png in (("map", "map.png"), ("communities", "communities.png")):
        links = page.evaluate(
            f"Array.from(document.querySelectorAll('#f-{key} figcaption a'))"
            ".map(a => a.getAttribute('href'))"
        )
        assert png in links
        assert (report.parent / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _view_box(page: Any, key: str) -> list[float]:
    vb = page.evaluate(f"document.querySelector('#f-{key} svg').getAttribute('viewBox')")
    return [float(v) for v in vb.split()]


def _topmost_practice(page: Any) -> Any:
    """Centre (x, y) and tooltip text of a practice square that is on top at its centre."""
    page.locator("#f-map svg").scroll_into_view_if_needed()
    return page.evaluate(
        """(() => { for (const r of document.querySelectorAll('#f-map g.prac rect')) {
             const b = r.getBoundingClientRect(), x = b.left + b.width / 2,
                   y = b.top + b.height / 2;
             if (y > 0 && y < innerHeight && document.elementFromPoint(x, y) === r)
               return [x, y, r.getAttribute('data-tip')]; }
           return null; })()"""
    )


def test_maps_have_outlines_and_home(page: Any) -> None:
    for key in ("map", "communities"):
        n = page.evaluate(f"document.querySelectorAll('#f-{key} path.outl.state').length")
        assert n == 1, key
        d = page.evaluate(f"document.querySelector('#f-{key} path.outl.state').getAttribute('d')")
        assert d.count("L") > 100  # real outlines, not a token line
        assert page.evaluate(f"document.querySelectorAll('#f-{key} g.home').length") == 1


def test_map_tooltip_on_hover(page: Any) -> None:
    found = _topmost_practice(page)
    assert found is not None, "no practice square is on top at its centre"
    x, y, text = found
    assert "practice" in text and "referrals received" in text
    tip = page.locator("#f-map .map-tip")
    assert tip.is_hidden()
    page.mouse.move(x, y)
    assert tip.is_visible()
    assert tip.text_content() == text
    page.mouse.move(x, 5)  # off the map
    page.locator("#actions").hover()
    assert tip.is_hidden()


def test_community_map_tooltip(page: Any) -> None:
    page.locator("#f-communities svg").scroll_into_view_if_needed()
    found = page.evaluate(
        """(() => { for (const c of document.querySelectorAll('#f-communities g.com circle')) {
             const b = c.getBoundingClientRect(), x = b.left + b.width / 2,
                   y = b.top + b.height / 2;
             if (y > 0 && y < innerHeight && document.elementFromPoint(x, y) === c)
               return [x, y, c.getAttribute('data-tip')]; }
           return null; })()"""
    )
    assert found is not None
    x, y, text = found
    assert "(NPI " in text and "community " in text
    page.mouse.move(x, y)
    tip = page.locator("#f-communities .map-tip")
    assert tip.is_visible() and tip.text_content() == text
    page.locator("#actions").hover()
    assert tip.is_hidden()


def test_map_wheel_zoom_drag_and_reset(page: Any, tmp_path: Path) -> None:
    svg = page.locator("#f-map svg")
    svg.scroll_into_view_if_needed()
    home = _view_box(page, "map")
    dot = "document.querySelector('#f-map g.pt circle').getBoundingClientRect().width"
    size = page.evaluate(dot)
    box = svg.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # the wheel over a map the reader has not clicked scrolls the page (no scroll trap)
    page.mouse.move(cx, cy)
    scroll = page.evaluate("window.scrollY")
    page.mouse.wheel(0, 200)
    page.wait_for_timeout(100)
    assert page.evaluate("window.scrollY") > scroll
    assert _view_box(page, "map") == home
    assert "nudge" in (page.locator("#f-map .map-hint").get_attribute("class") or "")
    # after a click the wheel zooms around the pointer
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(cx, cy)
    scroll = page.evaluate("window.scrollY")
    page.mouse.wheel(0, -400)
    page.wait_for_timeout(100)
    vb = _view_box(page, "map")
    assert vb[2] < 0.75 * home[2] and vb[3] < 0.75 * home[3]  # zoomed in
    assert vb[2] / vb[3] == pytest.approx(home[2] / home[3], rel=1e-4)  # same shape
    assert page.evaluate("window.scrollY") == scroll  # the wheel zoomed, not scrolled
    assert page.evaluate(dot) == pytest.approx(size, rel=0.05)  # markers keep their size
    page.locator("#f-map").screenshot(path=str(tmp_path / "map_zoomed.png"))
    # drag: the view moves with the mouse (content follows the pointer)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 40, steps=4)
    page.mouse.up()
    moved = _view_box(page, "map")
    assert moved[0] < vb[0] and moved[1] < vb[1] and moved[2] == pytest.approx(vb[2])
    page.locator('#f-map button[data-act="focus"]').click()
    focus = _view_box(page, "map")
    assert focus[3] == pytest.approx(20.0, abs=0.01)  # the 20 km square around home
    page.locator('#f-map button[data-act="reset"]').click()
    assert _view_box(page, "map") == pytest.approx(home, abs=1e-3)


def _column(page: Any, table: str, col: int) -> list[str]:
    return list(
        page.evaluate(
            f"Array.from(document.querySelector('table[data-csv=\"{table}\"]').tBodies[0].rows)"
            f".map(r => r.cells[{col}].getAttribute('data-value'))"
        )
    )


def test_table_sorts_on_click(page: Any) -> None:
    table = 'table[data-csv="top_sources.csv"]'
    header = page.evaluate(
        f"Array.from(document.querySelector('{table}').tHead.rows[0].cells).map(c => c.textContent)"
    )
    col = header.index("targets")
    before = [float(v) for v in _column(page, "top_sources.csv", col)]
    assert before != sorted(before), "fixture: column already ascending"
    th = page.locator(f"{table} thead th").nth(col)
    th.click()  # a real mouse click
    assert [float(v) for v in _column(page, "top_sources.csv", col)] == sorted(before)
    th.click()
    down = [float(v) for v in _column(page, "top_sources.csv", col)]
    assert down == sorted(before, reverse=True)
    assert th.get_attribute("aria-sort") == "descending"
    name_col = header.index("name")
    page.locator(f"{table} thead th").nth(name_col).click()
    names = _column(page, "top_sources.csv", name_col)
    assert names == sorted(names)


def test_no_console_errors_and_no_network(page: Any) -> None:
    page.wait_for_timeout(200)
    assert page.errors == []
    assert page.requests, "no requests recorded"
    assert all(u.startswith(("file:", "data:")) for u in page.requests), page.requests


def test_screenshots(page: Any, tmp_path: Path) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    top = tmp_path / "report.png"
    page.screenshot(path=str(top))
    assert top.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and top.stat().st_size > 10_000
    page.locator("#map").screenshot(path=str(tmp_path / "report_map.png"))
    assert (tmp_path / "report_map.png").stat().st_size > 10_000
