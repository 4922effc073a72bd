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
FORMULAS = ["+cmd|' /C calc'!A0", '=HYPERLINK("http://example.invalid","x")']


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
    t["practices"].loc[1, "name"] = FORMULAS[0]
    second = t["flows"].groupby("source_npi")["count"].sum().sort_values().index[-2]
    phys.loc[phys["npi"] == second, "name"] = FORMULAS[1]
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
        assert s["status"] in ("ok", "empty", "unavailable", "not_applicable"), s
        if s["status"] == "ok":
            assert s["files"] or s["key"] == "actions", s
        else:
            assert s["reason"], s
        for f in s["files"]:
            assert (folder / f).stat().st_size > 0, f
    status = {s["key"]: s["status"] for s in manifest["sections"]}
    # the home is chosen so that every section has content
    assert set(status.values()) == {"ok"}, status
    assert "chosen automatically" in manifest["home"]
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
        csv = csv.map(lambda v: v[1:] if v[:1] == "'" and v[1:2] in "=+-@\t\r" else v)
        shown = [h for h, _ in t["header"]]
        assert shown[0] == csv.columns[0]  # the key column first
        assert set(shown) <= set(csv.columns) and len(shown) <= 7
        assert 0 < len(t["rows"]) <= len(csv)
        for i, row in enumerate(t["rows"]):
            assert [c["value"] for c in row] == csv.iloc[i][shown].tolist(), (t["csv"], i)
            for (col, typ), cell in zip(t["header"], row):
                if typ == "num" and cell["value"] not in ("", "nan", "inf", "-inf"):
                    if col.startswith(("p_", "q_")):
                        p = float(cell["value"])
                        assert cell["text"] == ("< 0.001" if p < 0.001 else f"{p:.3f}")
                    else:
                        assert _close(cell["text"], cell["value"]), (t["csv"], col, cell)
                    checked += 1
                elif typ == "str":
                    assert cell["text"] == cell["value"]
    assert checked > 300
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


def test_csv_cells_cannot_run_as_formulas(report: Path) -> None:
    import csv

    def cells(name: str) -> list[list[str]]:
        with open(report.parent / name, newline="", encoding="utf-8") as fh:
            return list(csv.reader(fh))

    practices = [c for row in cells("practices.csv") for c in row]
    sources = [c for row in cells("top_sources.csv") for c in row]
    assert "'" + FORMULAS[0] in practices and FORMULAS[0] not in practices
    assert "'" + FORMULAS[1] in sources and FORMULAS[1] not in sources
    for name in ("practices.csv", "top_sources.csv", "at_risk.csv", "influence.csv"):
        for row in cells(name)[1:]:
            for c in row:
                if c[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    float(c)  # only numbers may start with a formula character
    negatives = [c for c in sources if c.startswith("-")]
    assert negatives and all(float(c) < 0 for c in negatives)  # numbers stay numbers
    html = report.read_text()
    assert html.count(FORMULAS[1].replace('"', "&quot;")) >= 1  # the page shows the value
    again = pd.read_csv(report.parent / "top_sources.csv")
    assert pd.api.types.is_float_dtype(again["monthly_slope"])


def _section(report: Path, key: str) -> str:
    return report.read_text().split(f'<section id="{key}"', 1)[1].split("</section>", 1)[0]


def test_action_page_first_with_evidence_links(report: Path) -> None:
    page = _parse(report)
    assert next(iter(page.sections)) == "actions"
    block = _section(report, "actions")
    lists = re.findall(r"<h3>(.*?)</h3>(<ol>.*?</ol>|<p)", block)
    titles = [t for t, _ in lists]
    assert [t.split(" ")[0] for t in titles] == ["Calls", "People", "Thank-yous", "Where"]
    for title, body in lists:
        items = re.findall(r"<li>(.*?)</li>", body)
        assert items, title  # every list has at least one line
        for item in items:
            anchor, csv_name = re.findall(r'href="([^"]+)"', item)[-2:]
            assert anchor.startswith("#") and f'id="{anchor[1:]}"' in report.read_text()
            assert (report.parent / csv_name).is_file()
    calls = re.findall(r"<li>(.*?)</li>", lists[0][1])
    risk = pd.read_csv(report.parent / "at_risk.csv", dtype={"npi": str})
    flagged = risk[risk["at_risk"]]
    assert len(calls) == min(5, len(flagged))
    for npi, item in zip(flagged["npi"], calls):
        assert npi in item
        assert re.search(r"referrals (down|up) \d+% against", item)
        assert re.search(r"(strong|good|some|weak) evidence", item)
        assert "before the data&#x27;s last date" in item


def test_empty_section_says_why(
    tables: dict[str, pd.DataFrame], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import refgraph.expansion

    net = ReferralNetwork.from_frames(**tables)
    none = pd.DataFrame(columns=["rank", "name", "specialty", "competitor_volume"])
    none.attrs["specialty"] = "cardiology"
    monkeypatch.setattr(refgraph.expansion, "rank_targets", lambda net, **kw: none)
    pid = str(tables["physicians"]["practice_id"].dropna().iloc[0])
    page = build(net, tmp_path, home=pid, sections=["targets", "summary"])
    manifest = json.loads((tmp_path / "report.json").read_text())
    sec = {s["key"]: s for s in manifest["sections"]}
    assert sec["targets"]["status"] == "empty"
    assert "cardiology" in sec["targets"]["reason"] and "--home" in sec["targets"]["reason"]
    assert sec["summary"]["status"] == "ok"
    block = _section(page, "targets")
    assert "Nothing to show" in block and "cardiology" in block


def test_tables_show_deciding_columns_and_flags(
    report: Path, tables: dict[str, pd.DataFrame]
) -> None:
    page = _parse(report)
    by_csv = {t["csv"]: t for t in page.tables}
    risk = by_csv["at_risk.csv"]
    header = [h for h, _ in risk["header"]]
    assert header[:4] == ["npi", "name", "status", "reason"]
    html = _section(report, "at_risk")
    flagged_rows = re.findall(r'<tr class="flag">', html)
    csv = pd.read_csv(report.parent / "at_risk.csv")
    assert len(flagged_rows) == min(25, int(csv["at_risk"].sum())) > 0
    comm = pd.read_csv(report.parent / "community_summary.csv")
    singles = int((comm["physicians"] == 1).sum())
    shown = by_csv["community_summary.csv"]["rows"]
    assert all(int(r[1]["value"]) > 1 for r in shown)
    assert singles > 0  # the fixture has one-physician communities (38)
    if singles:
        members = pd.read_csv(report.parent / "communities.csv", dtype={"npi": str})
        alone = members.loc[
            members["community"].isin(comm.loc[comm["physicians"] == 1, "community"]), "npi"
        ]
        f = tables["flows"]
        linked = set(f["source_npi"].astype(str)) | set(f["target_npi"].astype(str))
        assert len(alone) == singles
        n_iso = int((~alone.isin(linked)).sum())
        assert f"{singles} one-physician communities ({n_iso} of these physicians" in _section(
            report, "communities"
        )


def test_demo_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from refgraph.cli import main

    assert main(["demo", "--physicians", "0", "--out", str(tmp_path / "bad")]) == 2
    assert "--physicians: expected an integer >= 2, got 0" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
    out = tmp_path / "demo"
    assert (
        main(["demo", "--physicians", "150", "--seed", "3", "--out", str(out), "--home", "SP00001"])
        == 0
    )
    manifest = json.loads((out / "report.json").read_text())
    assert manifest["home"] == "SP00001"


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from refgraph.config import config
    from refgraph.report import _blocks

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    def run() -> str:
        err = Tty()
        monkeypatch.setattr(sys, "stderr", err)
        bar = _blocks._Stages("report", 2)
        bar.start("Communities")
        bar.done()
        bar.close()
        return err.getvalue()

    monkeypatch.delenv("CI", raising=False)
    shown = run()
    assert "report: Communities" in shown and "1/2" in shown
    monkeypatch.setenv("CI", "true")
    assert run() == ""
    monkeypatch.delenv("CI")
    with config(progress=False):
        assert run() == ""
    monkeypatch.setattr(Tty, "isatty", lambda self: False)
    assert run() == ""


def test_default_home_skips_a_group_without_a_story(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    """The documented rule, checked by brute force: groups in order of referrals received
    from other practices; the first with a named specialty, warm targets and a flagged
    referrer. The busiest group is made an 'other' group so that it must be skipped."""
    from refgraph.expansion import rank_targets
    from refgraph.tracking import at_risk

    t = {k: v.copy() for k, v in tables.items()}
    phys, prac = t["physicians"], t["practices"]
    owner = phys.set_index("npi")["practice_id"].astype(str)
    f = t["flows"]
    sp, tp = f["source_npi"].map(owner), f["target_npi"].map(owner)
    inbound = f.loc[(sp != tp) & tp.notna(), "count"].groupby(tp).sum()
    kinds = prac.set_index(prac["practice_id"].astype(str))["kind"]
    groups = [
        p
        for p in inbound.sort_values(ascending=False, kind="stable").index
        if kinds.get(p) in ("single_specialty_group", "multi_specialty_group")
    ]
    busiest = groups[0]
    phys.loc[phys["practice_id"] == busiest, "specialty"] = "other"
    net = ReferralNetwork.from_frames(**t)
    expected = None
    for p in groups[:12]:
        npis = phys.loc[phys["practice_id"] == p, "npi"].tolist()
        spec = phys.loc[phys["practice_id"] == p, "specialty"].value_counts().index[0]
        if spec == "other":
            continue
        tg = rank_targets(net, home=npis, top=5)
        ev = net.events[net.events["target_npi"].isin(npis)]
        if not len(tg) or not (tg["reach"] > 0).any() or not len(ev):
            continue
        r = at_risk(ReferralNetwork.from_frames(physicians=phys, events=ev), with_trend=False)
        if r["at_risk"].any():
            expected = p
            break
    assert expected is not None and expected != busiest
    build(net, tmp_path, sections=["targets", "at_risk"])
    manifest = json.loads((tmp_path / "report.json").read_text())
    assert manifest["home"].startswith(f"practice {expected} (chosen automatically")
    assert {s["status"] for s in manifest["sections"]} == {"ok"}


def test_action_page_without_events_says_why(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    t = {k: v for k, v in tables.items() if k not in ("events", "touchpoints")}
    page = build(ReferralNetwork.from_frames(**t), tmp_path, sections=["actions", "at_risk"])
    sec = {s["key"]: s for s in json.loads((tmp_path / "report.json").read_text())["sections"]}
    assert sec["at_risk"]["status"] == "not_applicable"
    block = _section(page, "actions")
    assert block.count("not computed: see the at-risk referrers section below") == 2
    # the other lists were not run either (their sections were not asked for)
    assert sec["actions"]["status"] == "empty" and sec["actions"]["reason"]
