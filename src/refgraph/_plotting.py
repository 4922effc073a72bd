"""Shared matplotlib plumbing of the plot modules (no public API)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._optional import require

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["axes", "mpl"]


def mpl() -> Any:
    """``matplotlib.pyplot``, on the Agg backend when there is no display."""
    matplotlib = require("matplotlib", "plot", purpose="refgraph's plots")
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        import os

        if not os.environ.get("DISPLAY"):
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def axes(ax: Axes | None, figsize: tuple[float, float] = (7.0, 7.0)) -> tuple[Figure, Axes]:
    """``(fig, ax)``: the given axes and their figure, or a new figure of ``figsize``."""
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    fig, new_ax = mpl().subplots(figsize=figsize)
    return fig, new_ax
