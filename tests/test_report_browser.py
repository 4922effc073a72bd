"""The report renders in a real headless Chromium (Debian ``chromium``), driven over CDP.

Checks that the images load, that a table sorts when its header is clicked
(a real mouse click through the DevTools protocol), that nothing is logged
to the console as an error, and that the page makes no network request
(only ``file:`` and ``data:`` URLs), and takes screenshots (into a temporary
folder: the tests never write ``docs/images/``).

Skipped with a reason when Chromium or ``websocket-client`` is missing
(``scripts/install-browser`` installs Chromium); with ``CI=true`` a skip fails
the run (see ``conftest.py``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from refgraph.datasets import synthetic_region
from refgraph.report import build

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--mute-audio",
    "--window-size=1280,1600",
]


def _chromium() -> str:
    exe = os.environ.get("REFGRAPH_CHROMIUM") or shutil.which("chromium")
    exe = exe or shutil.which("chromium-browser")
    if not exe:
        pytest.skip("chromium not found on PATH (run scripts/install-browser, as root)")
    return exe


class CDP:
    """A minimal Chrome DevTools Protocol client over one page websocket."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return dict(msg.get("result", {}))
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        end = time.monotonic() + timeout
        seen = len(self.events)
        for ev in self.events:
            if ev["method"] == method:
                return ev
        while time.monotonic() < end:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(f"no {method} within {timeout}s ({len(self.events) - seen} events)")

    def js(self, expression: str) -> Any:
        r = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"JS failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[CDP]:
    exe = _chromium()
    try:
        import websocket  # noqa: F401
    except ImportError:
        pytest.skip("websocket-client is not installed (pip install websocket-client)")
    # Chromium's helper processes can still write to the profile while it is removed
    # (seen once: "Directory not empty: 'Default'"); the profile is scratch, not a result.
    with tempfile.TemporaryDirectory(
        prefix="refgraph-chromium-", ignore_cleanup_errors=True
    ) as profile:
        proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            end = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if proc.poll() is not None or time.monotonic() > end:
                    pytest.fail(f"chromium did not start (exit {proc.poll()})")
                time.sleep(0.05)
            port = int(port_file.read_text().split()[0])
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                targets = json.load(r)
            page = next(t for t in targets if t["type"] == "page")
            cdp = CDP(page["webSocketDebuggerUrl"])
            try:
                yield cdp
            finally:
                cdp.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def loaded(browser: CDP, tmp_path_factory: pytest.TempPathFactory) -> CDP:
    net = synthetic_region(400, seed=5, events=True, touchpoints=True)
    page = build(net, tmp_path_factory.mktemp("report"), title="Synthetic region report")
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable")
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=1200,
        height=1500,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.send("Page.navigate", url=page.resolve().as_uri())
    browser.wait_for("Page.loadEventFired")
    return browser


def _errors(cdp: CDP) -> list[str]:
    out = []
    for ev in cdp.events:
        m, p = ev["method"], ev.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append(json.dumps(p["exceptionDetails"])[:300])
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append(json.dumps(p.get("args"))[:300])
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append(p["entry"].get("text", "")[:300])
    return out


def test_images_load(loaded: CDP) -> None:
    imgs = loaded.js(
        "Array.from(document.images).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])"
    )
    assert imgs, "the report has no images"
    assert any(src == "map.png" for src, _, _ in imgs)
    for src, complete, width in imgs:
        assert complete and width > 0, f"{src} did not load"


def _column(cdp: CDP, table: str, col: int) -> list[str]:
    return cdp.js(
        f"Array.from(document.querySelector('table[data-csv=\"{table}\"]').tBodies[0].rows)"
        f".map(r => r.cells[{col}].getAttribute('data-value'))"
    )


def _click_header(cdp: CDP, table: str, col: int) -> None:
    box = cdp.js(
        f"(() => {{ const th = document.querySelector('table[data-csv=\"{table}\"]')"
        f".tHead.rows[0].cells[{col}]; th.scrollIntoView({{block: 'center'}});"
        "const r = th.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2];"
        "})()"
    )
    x, y = box
    for kind in ("mousePressed", "mouseReleased"):
        cdp.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def test_table_sorts_on_click(loaded: CDP) -> None:
    header = loaded.js(
        "Array.from(document.querySelector('table[data-csv=\"top_sources.csv\"]')"
        ".tHead.rows[0].cells).map(c => c.textContent)"
    )
    col = header.index("targets")
    before = [float(v) for v in _column(loaded, "top_sources.csv", col)]
    assert before != sorted(before), "fixture: column already ascending"
    _click_header(loaded, "top_sources.csv", col)
    up = [float(v) for v in _column(loaded, "top_sources.csv", col)]
    assert up == sorted(before)
    _click_header(loaded, "top_sources.csv", col)
    down = [float(v) for v in _column(loaded, "top_sources.csv", col)]
    assert down == sorted(before, reverse=True)
    aria = loaded.js(
        "document.querySelector('table[data-csv=\"top_sources.csv\"]')"
        f".tHead.rows[0].cells[{col}].getAttribute('aria-sort')"
    )
    assert aria == "descending"
    name_col = header.index("name")
    _click_header(loaded, "top_sources.csv", name_col)
    names = _column(loaded, "top_sources.csv", name_col)
    assert names == sorted(names)


def test_no_console_errors_and_no_network(loaded: CDP) -> None:
    loaded.js("new Promise(r => setTimeout(r, 200))")
    assert _errors(loaded) == []
    urls = [
        ev["params"]["request"]["url"]
        for ev in loaded.events
        if ev["method"] == "Network.requestWillBeSent"
    ]
    assert urls, "no requests recorded"
    assert all(u.startswith(("file:", "data:")) for u in urls), urls


def test_screenshot(loaded: CDP, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"  # + report_map.png
    loaded.js("window.scrollTo(0, 0)")
    shot = loaded.send("Page.captureScreenshot", format="png")
    data = base64.b64decode(shot["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    screenshot.write_bytes(data)
    assert screenshot.stat().st_size > 10_000
    loaded.js("document.getElementById('map').scrollIntoView()")
    shot = loaded.send("Page.captureScreenshot", format="png")
    screenshot.with_name("report_map.png").write_bytes(base64.b64decode(shot["data"]))
