"""Plots of centrality results, checked on what they drew."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError, npi_check_digit
from refgraph.centrality import (
    pagerank,
    plot_communities,
    plot_measure_distribution,
    plot_top_k,
)
from refgraph.community import louvain


def _npi(i: int) -> str:
    body = f"1{i + 500:08d}"
    return body + str(npi_check_digit(body))


@pytest.fixture
def net() -> ReferralNetwork:
    # two dense groups of 5 joined by one tie
    edges = [(i, j, 3) for g in (0, 5) for i in range(g, g + 5) for j in range(g, g + 5) if i != j]
    edges.append((0, 5, 1))
    phys = pd.DataFrame(
        {
            "npi": [_npi(i) for i in range(10)],
            "lat": [40.0 + i * 0.1 for i in range(10)],
            "lon": [-89.0 - i * 0.1 for i in range(10)],
        }
    )
    flows = pd.DataFrame(
        {
            "source_npi": [_npi(s) for s, _, _ in edges],
            "target_npi": [_npi(t) for _, t, _ in edges],
            "count": [w for *_, w in edges],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def teardown_function() -> None:
    plt.close("all")


def test_distribution_draws_all_positive_values(net):
    pr = pagerank(net)
    _, ax = plot_measure_distribution(pr, bins=10)
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 10
    assert sum(heights) == 10
    assert ax.get_xscale() == "log"
    _, ax2 = plot_measure_distribution(pd.Series([0.0, np.nan, 1.0, 2.0], name="x"), log=False)
    assert sum(p.get_height() for p in ax2.patches) == 3
    assert "1 zero/missing" in plot_measure_distribution(pd.Series([0.0, 1.0, 2.0]))[1].get_title()
    with pytest.raises(ValidationError, match="column"):
        plot_measure_distribution(pd.DataFrame({"a": [1.0], "b": [2.0]}))


def test_top_k_bars_are_sorted(net):
    pr = pagerank(net)
    _, ax = plot_top_k(pr, "pagerank", k=3, labels={_npi(0): "Dr Zero"})
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 3
    expected = pr["pagerank"].sort_values(ascending=False).iloc[:3][::-1]
    np.testing.assert_allclose(widths, expected.to_numpy())
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[-1] == ("Dr Zero" if expected.index[-1] == _npi(0) else expected.index[-1])
    assert ax.get_xlabel() == "pagerank"


def test_communities_coloured_by_community(net):
    comm = louvain(net, seed=1)
    assert comm["community"].nunique() == 2
    _, ax = plot_communities(net, comm)
    nodes = ax.collections[-1]
    assert len(nodes.get_offsets()) == 10
    colours = {tuple(c) for c in nodes.get_facecolors()}
    assert len(colours) == 2
    lines = ax.collections[0]
    assert len(lines.get_segments()) == 41  # one segment per directed tie
    _, ax_geo = plot_communities(net, comm, layout="geo", max_nodes=4)
    xy = ax_geo.collections[-1].get_offsets()
    assert ((xy[:, 0] <= -89.0) & (xy[:, 0] >= -90.0)).all()  # longitude on x
    assert ((xy[:, 1] >= 40.0) & (xy[:, 1] <= 41.0)).all()  # latitude on y
    assert len(ax_geo.collections[-1].get_offsets()) == 4
    with pytest.raises(ValidationError, match="layout"):
        plot_communities(net, comm, layout="circle")
