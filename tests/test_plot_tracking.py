"""Tests of the tracking plots: assert on what was drawn (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError, npi_check_digit
from refgraph.tracking import funnel, plot_cohorts, plot_funnel, plot_trends


def npi(i: int) -> str:
    p = f"1{i + 100:08d}"
    return p + str(npi_check_digit(p))


def log(dates: object, source: str, status: str = "referred") -> pd.DataFrame:
    return pd.DataFrame(
        {"date": pd.to_datetime(dates), "source_npi": source, "target_npi": npi(0),
         "status": status}
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _close() -> object:
    yield
    plt.close("all")


@pytest.fixture
def net() -> ReferralNetwork:
    steady = log(pd.date_range("2023-01-02", "2024-12-30", freq="7D"), npi(1), "seen")
    stops = log(pd.date_range("2023-01-02", "2024-09-30", freq="7D"), npi(2), "converted")
    late = log(pd.date_range("2024-05-06", "2024-12-30", freq="14D"), npi(3))
    return ReferralNetwork.from_frames(events=pd.concat([steady, stops, late]))


def test_plot_trends_marks_alerts(net: ReferralNetwork) -> None:
    _fig, ax = plot_trends(net, as_of="2024-12-31")
    labels = [ln.get_label() for ln in ax.get_lines()]
    assert f"{npi(2)} (lost)" in labels
    assert len(labels) == 3
    # one alert marker, on the last point of the stopped source's line
    (alerts,) = [c for c in ax.collections if c.get_label() == "alert"]
    offsets = alerts.get_offsets()
    assert offsets.shape == (1, 2)
    line = ax.get_lines()[labels.index(f"{npi(2)} (lost)")]
    x, y = line.get_xdata(), line.get_ydata()
    assert offsets[0, 1] == y[-1] == 0  # December: nothing
    assert matplotlib.dates.date2num(pd.Timestamp(x[-1])) == offsets[0, 0]
    # every month of 2023-01 .. 2024-12 for the steady source, counts sum to its events
    steady = ax.get_lines()[labels.index(f"{npi(1)} (stable)")]
    assert len(steady.get_xdata()) == 24
    assert steady.get_ydata().sum() == 105
    assert ax.get_ylabel() == "referrals per month"


def test_plot_trends_given_sources_and_axes(net: ReferralNetwork) -> None:
    fig0, ax0 = plt.subplots()
    fig, ax = plot_trends(net, sources=[npi(3)], as_of="2024-12-31", freq="Q", ax=ax0)
    assert ax is ax0 and fig is fig0
    assert [ln.get_label() for ln in ax.get_lines()] == [f"{npi(3)} (stable)"]
    assert not [c for c in ax.collections if c.get_label() == "alert"]


def test_plot_funnel_bars(net: ReferralNetwork) -> None:
    fig, ax = plot_funnel(net)
    assert ax.figure is fig
    widths = [p.get_width() for p in ax.patches]
    f = funnel(net)
    assert widths == f[["referred", "scheduled", "seen", "converted"]].sum().tolist()
    assert widths == sorted(widths, reverse=True)
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks())}
    assert ticks == {"referred": 3, "scheduled": 2, "seen": 1, "converted": 0}  # widest on top
    texts = [t.get_text() for t in ax.texts]
    assert texts[0] == f" {int(widths[0])} (100%)"
    _fig, ax = plot_funnel(f, source=npi(2))
    assert [p.get_width() for p in ax.patches] == [92.0, 92.0, 92.0, 92.0]
    with pytest.raises(ValidationError, match="source"):
        plot_funnel(f, source="nobody")


def test_plot_cohorts_layers(net: ReferralNetwork) -> None:
    _fig, ax = plot_cohorts(net, freq="Q")
    labels = [c.get_label() for c in ax.collections]
    assert labels == ["2023-01", "2024-04"]  # two cohorts: first quarter of 2023, Q2 2024
    # the top of the stack counts active sources per quarter: 2 until Q2 2024, 3 in Q2-Q3,
    # 2 in Q4 2024 (the stopped source's last referral is 2024-09-30)
    tops = np.vstack([p.vertices[:, 1] for p in ax.collections[-1].get_paths()]).max()
    assert tops == 3
    assert ax.get_ylabel() == "active referring sources"
    _fig, ax = plot_cohorts(ReferralNetwork.from_frames())
    assert not ax.collections
