"""Progress bars of long work (reads, building a network, saving, loading).

A bar is a ``tqdm`` bar on ``sys.stderr`` that appears only after
:data:`PROGRESS_DELAY` seconds, so short work draws nothing, and only when
:meth:`refgraph.config.Config.show_progress` says so (``config.progress`` on,
not in CI, stderr a terminal). Otherwise :func:`progress_bar` gives a bar
that does nothing, so callers need no branches.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .config import config

__all__ = ["PROGRESS_DELAY", "NoBar", "progress_bar", "showing"]

#: Seconds work runs before its progress bar appears.
PROGRESS_DELAY = 2.0


class NoBar:
    """The stand-in when bars are off: the calls of a tqdm bar, doing nothing.

    Examples
    --------
    >>> bar = NoBar()
    >>> bar.update(3); bar.set_postfix_str("flows"); bar.close()
    """

    n = 0

    def update(self, n: float = 1) -> None:
        """Ignore progress."""

    def set_postfix_str(self, s: str = "") -> None:
        """Ignore the stage name."""

    def close(self) -> None:
        """Nothing to close."""


def showing() -> bool:
    """Whether a bar would be drawn now (see :meth:`refgraph.config.Config.show_progress`).

    Examples
    --------
    >>> with config(progress=False):
    ...     showing()
    False
    """
    return config.show_progress(sys.stderr)


@contextmanager
def progress_bar(
    total: float | None, desc: str, *, unit: str = "it", unit_scale: bool = False
) -> Iterator[Any]:
    """A tqdm bar (or a :class:`NoBar`) for a ``with`` block; closed at its end.

    Parameters
    ----------
    total
        The amount of work (bytes, rows, tables), ``None`` if unknown.
    desc
        What is being done, e.g. ``"save flows.parquet"``.
    unit, unit_scale
        As in ``tqdm`` (``unit="B", unit_scale=True`` for bytes).

    Examples
    --------
    >>> with progress_bar(3, "build network", unit="step") as bar:
    ...     bar.update(1)
    >>> import io
    >>> config.show_progress(io.StringIO())  # doctest output is no terminal: no bar above
    False
    """
    if not showing():
        yield NoBar()
        return
    from tqdm.auto import tqdm

    kw: dict[str, Any] = {"unit_divisor": 1024} if unit == "B" else {}
    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit_scale,
        delay=PROGRESS_DELAY,
        file=sys.stderr,
        **kw,
    )
    try:
        yield bar
    finally:
        bar.close()
