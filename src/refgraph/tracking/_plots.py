"""Plots of referral tracking. Every ``plot_*`` function returns ``(fig, ax)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_int, check_npis_in_network
from .._plotting import axes as _axes
from ..network import ReferralNetwork
from ._alerts import at_risk
from ._events import _referrals
from ._funnel import funnel
from ._periods import _freq, _period_codes, _period_start, bucket

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_cohorts", "plot_funnel", "plot_trends"]

_ALERT_COLOR = "#d62728"


def plot_trends(
    net: ReferralNetwork,
    *,
    sources: list[str] | None = None,
    as_of: Any = None,
    freq: str = "M",
    n: int = 5,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Referrals per period of a few sources, with at-risk sources marked.

    Parameters
    ----------
    net
        A network with events.
    sources
        NPIs to draw (default: the ``n`` highest :func:`~refgraph.tracking.at_risk`
        scores).
    as_of
        Reference date of the risk scores (default: the last event date).
    freq
        Bucket length (``"W"``, ``"M"``, ``"Q"``).
    n
        Number of sources drawn by default.
    ax
        Axes to draw on (a new figure otherwise).

    Returns
    -------
    fig, ax
        One line per source (label = NPI and its ``status`` from
        :func:`~refgraph.tracking.at_risk`, the same word as the ``trend``
        column of :func:`~refgraph.tracking.trends`); at-risk sources get a
        red ``x`` on their last point, in a collection labelled ``"alert"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> days = pd.date_range("2023-01-02", "2024-11-01", freq="7D")
    >>> ev = pd.DataFrame({"date": days, "source_npi": "1234567893",
    ...                    "target_npi": "1003033051", "status": "seen"})
    >>> fig, ax = plot_trends(ReferralNetwork.from_frames(events=ev), as_of="2024-12-31")
    >>> [line.get_label() for line in ax.get_lines()]
    ['1234567893 (declining)']
    """
    n = check_int(n, "n", minimum=1)
    if sources is not None:
        sources = [sources] if isinstance(sources, str) else list(sources)
        if sources:
            check_npis_in_network(net, sources, "sources")
    risk = at_risk(net, as_of=as_of, with_trend=False)
    if sources is None:
        sources = risk.index[:n].tolist()
    b = bucket(net, freq=freq, by="source", end=risk.attrs.get("as_of"), fill=True)
    b = b[b["source_npi"].isin(sources)]
    fig, ax = _axes(ax, (8, 4.5))
    xs, ys = [], []
    for npi in sources:
        s = b[b["source_npi"] == npi]
        status = risk["status"].get(npi, "inactive")
        ax.plot(s["period"], s["referrals"], marker="o", ms=3, label=f"{npi} ({status})")
        if bool(risk["at_risk"].get(npi, False)) and len(s):
            xs.append(s["period"].iloc[-1])
            ys.append(s["referrals"].iloc[-1])
    if xs:
        ax.scatter(xs, ys, marker="x", s=80, color=_ALERT_COLOR, zorder=5, label="alert")
    ax.set_xlabel("period")
    ax.set_ylabel(f"referrals per {'day week month quarter'.split()['DWMQ'.index(_freq(freq))]}")
    ax.set_title("Referral trends (x = at risk)")
    if sources:
        ax.legend(fontsize="small")
    return fig, ax


def plot_funnel(
    net_or_funnel: ReferralNetwork | pd.DataFrame,
    *,
    source: str | None = None,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Horizontal funnel bars referred -> scheduled -> seen -> converted.

    Parameters
    ----------
    net_or_funnel
        A network or the output of :func:`~refgraph.tracking.funnel`.
    source
        One row of the funnel (a source NPI); default: all rows summed.
    ax
        Axes to draw on.

    Returns
    -------
    fig, ax
        Four bars, widest at the top, each annotated with its count and its
        share of referrals.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> ev = pd.DataFrame({"date": ["2024-01-03"] * 4, "source_npi": "1234567893",
    ...                    "target_npi": "1003033051",
    ...                    "status": ["referred", "seen", "seen", "converted"]})
    >>> fig, ax = plot_funnel(ReferralNetwork.from_frames(events=ev))
    >>> [float(p.get_width()) for p in ax.patches]
    [4.0, 3.0, 3.0, 1.0]
    """
    f = funnel(net_or_funnel) if isinstance(net_or_funnel, ReferralNetwork) else net_or_funnel
    stages = ["referred", "scheduled", "seen", "converted"]
    if source is not None:
        if source not in f.index:
            raise ValidationError(f"source: {source!r} is not a row of the funnel")
        counts = f.loc[source, stages].to_numpy(dtype=np.float64)
    else:
        counts = f[stages].sum().to_numpy(dtype=np.float64)
    fig, ax = _axes(ax, (6, 3.5))
    y = np.arange(len(stages))[::-1]
    ax.barh(y, counts, color=["#1f77b4", "#4c93c6", "#7fb0d8", "#2ca02c"])
    ax.set_yticks(y, stages)
    top = counts[0] if counts[0] > 0 else 1.0
    for yi, c in zip(y, counts):
        ax.text(c, yi, f" {int(c)} ({c / top:.0%})", va="center")
    ax.set_xlabel("referrals")
    ax.set_title("Referral funnel" + (f" of {source}" if source else ""))
    ax.set_xlim(0, max(counts.max(), 1) * 1.25)
    return fig, ax


def plot_cohorts(
    net: ReferralNetwork,
    *,
    freq: str = "Q",
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Active referrers per period, stacked by the period of their first referral.

    Parameters
    ----------
    net
        A network with events.
    freq
        Period of the cohorts and of the x axis (``"M"`` or ``"Q"`` ...).
    ax
        Axes to draw on.

    Returns
    -------
    fig, ax
        A stack plot, one layer per cohort (label = first period); the top
        of the stack is the number of active referring sources per period.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> ev = pd.DataFrame({"date": ["2024-01-03", "2024-04-03", "2024-04-05"],
    ...                    "source_npi": ["1234567893", "1234567893", "1245319599"],
    ...                    "target_npi": "1003033051", "status": "referred"})
    >>> fig, ax = plot_cohorts(ReferralNetwork.from_frames(events=ev))
    >>> [c.get_label() for c in ax.collections]
    ['2024-01', '2024-04']
    """
    f = _freq(freq)
    r = _referrals(net)
    fig, ax = _axes(ax, (8, 4.5))
    if not len(r):
        return fig, ax
    p = _period_codes(r.day, f)
    p0 = int(p.min())
    np_ = int(p.max()) - p0 + 1
    first = np.full(len(r.sources), np.iinfo(np.int64).max)
    np.minimum.at(first, r.src, p)
    active = np.unique(r.src * np_ + (p - p0))
    src, per = active // np_, active % np_
    coh = first[src] - p0
    mat = np.zeros((np_, np_))
    np.add.at(mat, (coh, per), 1)
    keep = mat.sum(axis=1) > 0
    x = _period_start(np.arange(np_) + p0, f)
    labels = [pd.Timestamp(t).strftime("%Y-%m") for t in x[keep]]
    ax.stackplot(x, mat[keep], labels=labels)
    ax.set_xlabel("period")
    ax.set_ylabel("active referring sources")
    ax.set_title("Referrers by cohort (period of first referral)")
    ax.legend(fontsize="small", title="cohort", loc="upper left")
    return fig, ax
