"""A heat map of a sensitivity report: constructions by measures, coloured by agreement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._optional import require
from .._plotting import axes as _axes
from ._report import REPORT_COLUMNS

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_sensitivity"]

_METRICS = ("spearman", "kendall", "top_k_overlap", "same_top", "ari", "nmi")
_DEFAULT = {"communities": "ari"}


def plot_sensitivity(
    report: pd.DataFrame,
    metric: str | None = None,
    *,
    ax: Axes | None = None,
    annotate: bool = True,
    title: str | None = None,
) -> tuple[Figure, Axes]:
    """Heat map of a :func:`sensitivity_report`: one row per construction, one column per measure.

    Parameters
    ----------
    report
        The report.
    metric
        The agreement shown: one of ``"spearman"``, ``"kendall"``,
        ``"top_k_overlap"``, ``"same_top"``, ``"ari"``, ``"nmi"``. Default:
        ``top_k_overlap`` for rankings and ``ari`` for communities, each
        column labelled with the metric it shows.
    ax
        Axes to draw on (default: a new figure).
    annotate
        Write each value in its cell.
    title
        Title (default: names the reference construction).

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The image's data is ``ax.images[0].get_array()`` (rows in report
        order, masked where a metric does not apply).

    Raises
    ------
    ValidationError
        For a frame that is not a report or an unknown metric.

    Examples
    --------
    >>> from refgraph.datasets import synthetic_region
    >>> from refgraph.sensitivity import construction_grid, sensitivity_report
    >>> net = synthetic_region(120, seed=5)
    >>> rep = sensitivity_report(net, construction_grid(min_counts=(0, 3, 8), column="count"))
    >>> fig, ax = plot_sensitivity(rep)
    >>> ax.images[0].get_array().shape
    (3, 1)
    """
    missing = [c for c in REPORT_COLUMNS if c not in report.columns]
    if missing:
        raise ValidationError(f"report: not a sensitivity report; missing columns {missing}")
    if metric is not None and metric not in _METRICS:
        raise ValidationError(f"metric: expected one of {list(_METRICS)}, got {metric!r}")
    require("matplotlib", "plot", purpose="plot_sensitivity")
    rows = list(dict.fromkeys(_row_label(r) for r in report.itertuples()))
    measures = list(dict.fromkeys(report["measure"]))
    shown = {m: metric or _DEFAULT.get(m, "top_k_overlap") for m in measures}
    data = np.full((len(rows), len(measures)), np.nan)
    for r in report.itertuples():
        i, j = rows.index(_row_label(r)), measures.index(r.measure)
        data[i, j] = getattr(r, shown[r.measure])
    fig, ax = _axes(ax, figsize=(2.0 + 1.6 * len(measures), 1.2 + 0.45 * len(rows)))
    image = ax.imshow(
        np.ma.masked_invalid(data),
        vmin=-1 if _signed(shown) else 0,
        vmax=1,
        cmap="viridis",
        aspect="auto",
    )
    ax.set_xticks(range(len(measures)), [f"{m}\n({shown[m]})" for m in measures])
    ax.set_yticks(range(len(rows)), rows)
    if annotate:
        for i in range(len(rows)):
            for j in range(len(measures)):
                if np.isfinite(data[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{data[i, j]:.2f}",
                        ha="center",
                        va="center",
                        color="white" if data[i, j] < 0.6 else "black",
                        fontsize=8,
                    )
    fig.colorbar(image, ax=ax, label="agreement with the reference")
    ref = report.attrs.get("reference")
    ax.set_title(title or (f"Agreement with {ref}" if ref else "Agreement with the reference"))
    fig.tight_layout()
    return fig, ax


def _row_label(r: Any) -> str:
    label = str(r.construction)
    return f"{label} (reseeded)" if r.kind == "reseeded" else label


def _signed(shown: dict[str, str]) -> bool:
    return any(v in ("spearman", "kendall", "ari") for v in shown.values())
