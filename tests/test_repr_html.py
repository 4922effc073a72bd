"""Rich notebook display (``_repr_html_``) of the result objects with a readable form."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import pandas as pd
import pytest

from refgraph.datasets import synthetic_region
from refgraph.expansion import event_site, expansion_plan
from refgraph.paths import TieFit, TieWeights, intro_paths, intro_plan

EVIL = "<img src=x onerror=alert(1)>"


class _Cells(HTMLParser):
    """Text of every table cell, and whether any tag is a script or an img."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: set[str] = set()
        self._in = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.add(tag)
        if tag in ("td", "th"):
            self._in = True
            self.cells.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in = False

    def handle_data(self, data: str) -> None:
        if self._in:
            self.cells[-1] += data


def _cells(markup: str) -> _Cells:
    p = _Cells()
    p.feed(markup)
    return p


@pytest.fixture(scope="module")
def net():  # type: ignore[no-untyped-def]
    n = synthetic_region(300, seed=2, events=True)
    phys = n.physicians.copy()
    phys["name"] = phys["name"].astype(object)
    busiest = n.edges().groupby("source_npi")["count"].sum().idxmax()
    phys.loc[phys["npi"] == busiest, "name"] = EVIL
    return type(n).from_frames(**{**n.tables, "physicians": phys})


def test_intro_paths_html_shows_every_path_and_hop(net) -> None:  # type: ignore[no-untyped-def]
    from refgraph.paths import reach

    phys = net.physicians
    src = str(phys.loc[phys["name"] == EVIL, "npi"].iat[0])  # the hostile name
    r = reach(net, sources=[src]).drop(src, errors="ignore")
    r.index = r.index.astype(str)
    target = str(r.sort_values().index[-len(r) // 3])  # reachable, not a neighbour
    res = intro_paths(net, target, sources=[src], k=3)
    assert len(res) >= 2
    out = res._repr_html_()
    parsed = _cells(out)
    assert "img" not in parsed.tags and "script" not in parsed.tags  # escaped, not markup
    text = "\n".join(parsed.cells)
    for names in res.paths["names"]:
        assert " → ".join(names) in text  # full path, not a truncated tuple
    for expl in res.hops["explanation"]:
        assert expl in text
    assert EVIL in text and html.escape(EVIL) in out
    assert res.table()  # the plain-text form stays


def test_plans_and_sites_html(net) -> None:  # type: ignore[no-untyped-def]
    home = net.physicians.loc[net.physicians["specialty"] == "cardiology", "npi"].tolist()[:3]
    others = [x for x in net.physicians["npi"] if x not in home][:6]
    plan = intro_plan(net, others, budget=4, home=home, candidates_per_target=3)
    cells = _cells(plan._repr_html_()).cells
    for v in plan.asks["target"].astype(str):
        assert v in cells
    assert f"{plan.expected:.4g}" in plan._repr_html_()
    zips = net.physicians["zip"].dropna().unique()
    ep = expansion_plan(net, current=home, candidates={"A": zips[:10], "B": zips[10:20]})
    cells = _cells(ep._repr_html_()).cells
    assert {"A", "B"} <= set(cells)
    cands = pd.DataFrame({"name": ["north", "south"], "lat": [42.4, 42.2], "lon": [-71.1, -71.0]})
    site = event_site(net, None, max_travel_km=15, candidates=cands)
    cells = _cells(site._repr_html_()).cells
    assert set(site.sites["name"]) <= set(cells)


def test_tie_fit_html() -> None:
    fit = TieFit(
        TieWeights(), auc=0.81, log_loss=0.5, brier=0.18, auc_default=0.7, n_train=900, n_test=300
    )
    out = fit._repr_html_()
    cells = _cells(out).cells
    assert "0.81" in out and "auc_default" in cells and "intercept" in cells
