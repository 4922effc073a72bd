"""The HTML report: files, CSV traceability, escaping, placeholders, command line."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError
from refgraph.datasets import synthetic_tables
from refgraph.report import SECTIONS, add_cli, build, is_synthetic

EVIL = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Collects tables (csv link, header, cells), images, sections and links."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, Any]] = []
        self.images: list[dict[str, str]] = []
        self.sections: dict[str, str] = {}
        self.links: list[str] = []
        self.scripts = 0
        self._cell: dict[str, Any] | None = None
        self._in_caption = False
        self._section_text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self._section_text = a["id"]
            self.sections[a["id"]] = a["data-status"]
        elif tag == "table":
            self.tables.append({"csv": a.get("data-csv"), "header": [], "rows": [], "links": []})
        elif tag == "tr" and self.tables:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td") and self.tables:
            self._cell = {"value": a.get("data-value"), "text": "", "type": a.get("data-type")}
        elif tag == "caption":
            self._in_caption = True
        elif tag == "a":
            self.links.append(a["href"])
            if self._in_caption:
                self.tables[-1]["links"].append(a["href"])
        elif tag == "img":
            self.images.append(a)
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            t = self.tables[-1]
            if self._cell["value"] is None:  # header cell
                t["header"].append((self._cell["text"], self._cell["type"]))
                t["rows"].pop() if t["rows"] and not t["rows"][-1] else None
            else:
                t["rows"][-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data


def _parse(page: Path) -> _Page:
    p = _Page()
    p.feed(page.read_text(encoding="utf-8"))
    for t in p.tables:
        t["rows"] = [r for r in t["rows"] if r]
    return p


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    t = synthetic_tables(400, seed=3, events=True, touchpoints=True)
    top = t["flows"].groupby("source_npi")["count"].sum().idxmax()
    phys = t["physicians"]
    phys["name"] = phys["name"].astype(object)
    phys.loc[phys["npi"] == top, "name"] = EVIL
    t["practices"]["name"] = t["practices"]["name"].astype(object)
    t["practices"].loc[0, "name"] = 'Clinic "A" & <b>B</b>'
    return t


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, tables: dict[str, pd.DataFrame]) -> Path:
    net = ReferralNetwork.from_frames(**tables)
    return build(net, tmp_path_factory.mktemp("report"), title=f"Region {EVIL}", seed=1)


def test_files_and_manifest(report: Path) -> None:
    folder = report.parent
    assert report.name == "index.html"
    manifest = json.loads((folder / "report.json").read_text())
    assert [s["key"] for s in manifest["sections"]] == list(SECTIONS)
    assert manifest["synthetic"] is True
    for s in manifest["sections"]:
        assert s["status"] in ("ok", "unavailable", "not_applicable"), s
        if s["status"] == "ok":
            assert s["files"], s
        for f in s["files"]:
            assert (folder / f).stat().st_size > 0, f
    status = {s["key"]: s["status"] for s in manifest["sections"]}
    # modules that exist in this version must give real sections
    assert status["summary"] == status["sources"] == status["map"] == "ok"
    assert status["at_risk"] == "ok"
    for name in ("summary.csv", "top_sources.csv", "map.png", "at_risk.csv", "practices.csv"):
        assert (folder / name).is_file(), name
    assert (folder / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sections_in_page_match_manifest(report: Path) -> None:
    page = _parse(report)
    manifest = json.loads((report.parent / "report.json").read_text())
    assert page.sections == {s["key"]: s["status"] for s in manifest["sections"]}
    html = report.read_text()
    for s in manifest["sections"]:
        if s["status"] == "unavailable":
            block = html.split(f'id="{s["key"]}"', 1)[1].split("</section>", 1)[0]
            assert "Not available in this version" in block


def test_every_table_links_an_existing_csv(report: Path) -> None:
    page = _parse(report)
    assert len(page.tables) >= 5
    for t in page.tables:
        assert t["csv"] and t["csv"].endswith(".csv")
        assert t["csv"] in t["links"], t["csv"]
        assert (report.parent / t["csv"]).is_file()
    for img in page.images:
        assert (report.parent / img["src"]).is_file()
        assert int(img["width"]) > 0 and img["alt"]


def _close(text: str, value: str) -> bool:
    x, y = float(text.replace(",", "")), float(value)
    if math.isnan(y):
        return text.lower() == "nan"
    return math.isclose(x, y, rel_tol=1e-3, abs_tol=0.051)


def test_numbers_in_html_match_csvs(report: Path) -> None:
    page = _parse(report)
    checked = 0
    for t in page.tables:
        csv = pd.read_csv(report.parent / t["csv"], dtype=str, keep_default_na=False)
        assert [h for h, _ in t["header"]] == list(csv.columns)
        assert 0 < len(t["rows"]) <= len(csv)
        for i, row in enumerate(t["rows"]):
            assert [c["value"] for c in row] == csv.iloc[i].tolist(), (t["csv"], i)
            for (col, typ), cell in zip(t["header"], row):
                if typ == "num" and cell["value"] not in ("", "nan", "inf", "-inf"):
                    assert _close(cell["text"], cell["value"]), (t["csv"], col, cell)
                    checked += 1
                elif typ == "str":
                    assert cell["text"] == cell["value"]
    assert checked > 500
    summary = pd.read_csv(report.parent / "summary.csv", index_col=0)["value"]
    assert int(summary["physicians"]) == 400


def test_user_values_are_escaped(report: Path) -> None:
    html = report.read_text()
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("<script") == 1  # the inline sorter only
    assert "<b>B</b>" not in html and "Clinic &quot;A&quot; &amp; &lt;b&gt;B&lt;/b&gt;" in html
    page = _parse(report)
    assert page.scripts == 1
    shown = [c["text"] for t in page.tables for r in t["rows"] for c in r]
    assert EVIL in shown  # escaped in the source, shown verbatim to the reader


def test_report_is_offline(report: Path) -> None:
    html = report.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I)
    assert "@import" not in html and "url(" not in html
    page = _parse(report)
    for href in page.links:
        assert href.startswith("#") or (report.parent / href).is_file(), href


def test_synthetic_label() -> None:
    flows = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"], "count": [3]})
    net = ReferralNetwork.from_frames(flows=flows)
    assert not is_synthetic(net)
    net2 = ReferralNetwork.from_frames(flows=flows.assign(provenance="synthetic"))
    assert is_synthetic(net2)


def test_report_page_marks_synthetic(report: Path, tmp_path: Path) -> None:
    assert 'id="synthetic-banner"' in report.read_text()
    flows = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"], "count": [3]})
    page = build(ReferralNetwork.from_frames(flows=flows), tmp_path, sections=["summary"])
    assert "synthetic-banner" not in page.read_text()


def test_missing_module_gives_placeholder(
    tables: dict[str, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = ReferralNetwork.from_frames(**tables)
    monkeypatch.setitem(sys.modules, "refgraph.centrality", None)  # import -> ImportError
    monkeypatch.setitem(sys.modules, "refgraph.expansion", None)
    page = build(net, tmp_path, sections=["influence", "targets", "summary"])
    parsed = _parse(page)
    assert parsed.sections == {
        "influence": "unavailable",
        "targets": "unavailable",
        "summary": "ok",
    }
    html = page.read_text()
    assert html.count("Not available in this version") == 2
    assert not (tmp_path / "influence.csv").exists()
    assert (tmp_path / "summary.csv").is_file()


def test_not_applicable_without_events(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    net = ReferralNetwork.from_frames(physicians=tables["physicians"], flows=tables["flows"])
    page = build(net, tmp_path, sections=["at_risk", "sources"])
    assert _parse(page).sections == {"at_risk": "not_applicable", "sources": "ok"}
    assert "no referral events" in page.read_text()
    assert not (tmp_path / "source_trends.png").exists()


def test_home_and_validation(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    net = ReferralNetwork.from_frames(**tables)
    pid = str(tables["physicians"]["practice_id"].iloc[0])
    page = build(net, tmp_path, home=pid, sections=["at_risk"], top=5)
    manifest = json.loads((tmp_path / "report.json").read_text())
    assert manifest["home"] == pid
    if manifest["sections"][0]["status"] == "ok":
        assert len(_parse(page).tables[0]["rows"]) <= 5
    with pytest.raises(ValidationError, match="sections"):
        build(net, tmp_path, sections=["nope"])
    with pytest.raises(ValidationError, match="home"):
        build(net, tmp_path, home="NOT-A-PRACTICE")
    with pytest.raises(ValidationError, match="top"):
        build(net, tmp_path, top=0)


def test_cli(tables: dict[str, pd.DataFrame], tmp_path: Path) -> None:
    net = ReferralNetwork.from_frames(physicians=tables["physicians"], flows=tables["flows"])
    net.save(tmp_path / "net")
    parser = argparse.ArgumentParser(prog="refgraph")
    add_cli(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "report",
            str(tmp_path / "net"),
            "--out",
            str(tmp_path / "rep"),
            "--sections",
            "summary,map",
            "--top",
            "10",
        ]
    )
    assert args.func(args) == 0
    assert (tmp_path / "rep" / "index.html").is_file()
    assert (tmp_path / "rep" / "map.png").is_file()
