"""The report in a real headless Chromium (Debian ``chromium``), driven by Playwright.

Playwright for Python drives the system Chromium (``executable_path``; no browser
download). Checks: the action page comes first and each of its lists has
lines whose links resolve; no horizontal scroll at 1,280 px; images load; a
table sorts when its header is clicked; nothing is logged to the console as an
error; no network request (only ``file:`` and ``data:`` URLs). Screenshots go
to a temporary folder (the tests never write ``docs/images/``).

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


def test_images_load(page: Any) -> None:
    imgs = page.evaluate(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    assert any(src == "map.png" for src, _, _ in imgs)
    for src, complete, width in imgs:
        assert complete and width > 0, f"{src} did not load"


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
