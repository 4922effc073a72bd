"""Building blocks of the report: section keys, page blocks, lazy analysis imports, file writers.

Public through :mod:`refgraph.report` (:data:`SECTIONS`).
"""

from __future__ import annotations

import importlib
import inspect
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ..network import ReferralNetwork

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.report")

#: Report sections in page order, with their headings.
SECTIONS: dict[str, str] = {
    "actions": "This week's actions",
    "summary": "Network summary",
    "sources": "Top referral sources",
    "influence": "Influence rankings",
    "communities": "Communities",
    "map": "Map of practices and flows",
    "targets": "Warm-introduction targets",
    "expansion": "Where to expand next",
    "at_risk": "At-risk referrers",
}

#: Most columns a table shows in the page, its first (key) column included; the CSV
#: holds them all.
MAX_SHOWN = 7

_ID_COLUMNS = re.compile(r"(^|_)(npi|id|zip|path|source|introducer|target)$")


# ---------------------------------------------------------------------------- building blocks
class _Unavailable(Exception):
    """The analysis module (or function) a section needs is not in this version."""


class _NotApplicable(Exception):
    """The section does not apply to this network (e.g. it has no events)."""


class _Empty(Exception):
    """The section applies but has nothing to show; the message says why."""


@dataclass
class _Table:
    csv: str
    caption: str
    header: list[str]
    types: list[str]
    rows: list[list[str]]
    n_rows: int
    n_columns: int = 0  # columns in the CSV (the page shows ``header``)
    flagged: list[bool] = field(default_factory=list)
    note: str = ""


@dataclass
class _Image:
    png: str
    alt: str
    caption: str
    width: int
    height: int


@dataclass
class _Svg:
    """A zoomable map written inline (``html``, escaped already) and its static PNG."""

    html: str
    png: str


@dataclass
class _Section:
    key: str
    title: str
    intro: list[str] = field(default_factory=list)
    blocks: list[_Table | _Image | _Svg] = field(default_factory=list)
    html: list[str] = field(default_factory=list)  # pre-escaped HTML shown before the notes
    status: str = "ok"  # ok | empty | unavailable | not_applicable
    reason: str = ""


@dataclass
class _Ctx:
    net: ReferralNetwork
    out: Path
    top: int
    seed: int
    home: Any = None
    home_label: str = ""
    home_npis: pd.Index | None = None
    cache: dict[str, Any] = field(default_factory=dict)


def _need(module: str, *names: str) -> list[Any]:
    """Import ``refgraph.<module>`` and fetch ``names``; :class:`_Unavailable` if missing."""
    try:
        mod = importlib.import_module(f"refgraph.{module}")
        return [getattr(mod, n) for n in names]
    except (ImportError, AttributeError) as exc:
        what = ", ".join(f"refgraph.{module}.{n}" for n in names)
        raise _Unavailable(f"{what} is not available in this version ({exc})") from exc


def _call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with only the keyword options its signature accepts."""
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return func(*args, **kwargs)
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return func(*args, **kwargs)


def _score(result: Any, name: str) -> pd.Series:
    """One score per NPI from an analysis result (a Series or a DataFrame)."""
    if isinstance(result, pd.Series):
        s = result
    elif isinstance(result, pd.DataFrame):
        if name in result.columns:
            s = result[name]
        elif "score" in result.columns:
            s = result["score"]
        else:
            num = result.select_dtypes("number").columns
            if len(num) != 1:
                raise _Unavailable(
                    f"{name}: expected a {name!r} column, got columns {list(result.columns)}"
                )
            s = result[num[0]]
    else:
        raise _Unavailable(f"{name}: expected a pandas Series or DataFrame, got {type(result)}")
    s = s.copy()
    s.index = pd.Index(s.index.astype(str), name="npi")
    return s.rename(name)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe.

    OWASP "CSV injection": cells starting with ``= + - @``, tab or carriage
    return; numbers (``-3``, ``+1.5e3``) are left as they are.
    """
    if not isinstance(value, str) or not value.startswith(_FORMULA):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value


def _unneutralise(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA) else value


def _write_table(
    ctx: _Ctx,
    df: pd.DataFrame,
    name: str,
    caption: str,
    *,
    rows: int | None = None,
    show: list[str] | None = None,
    flag: str | None = None,
    note: str = "",
) -> _Table:
    """Write ``df`` to ``<name>.csv`` and read it back as the table shown.

    ``show``: the columns shown in the page, deciding ones first (default:
    the first :data:`MAX_SHOWN`; the index is always shown first). ``flag``:
    a boolean column whose true rows are highlighted.
    """
    path = ctx.out / f"{name}.csv"
    df = df.copy()
    for c in df.columns:  # tuples (paths, names) -> readable text
        if df[c].dtype == object and df[c].map(lambda v: isinstance(v, tuple)).any():
            df[c] = df[c].map(lambda v: " > ".join(map(str, v)) if isinstance(v, tuple) else v)
    index = df.index.name is not None or any(df.index.names)
    safe = df.copy()
    for c in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[c]) and not pd.api.types.is_bool_dtype(safe[c]):
            safe[c] = safe[c].map(_neutralise)
    if index and not pd.api.types.is_numeric_dtype(safe.index):
        safe.index = pd.Index([_neutralise(v) for v in safe.index], name=safe.index.name)
    safe.to_csv(path, index=index, lineterminator="\n")
    text = pd.read_csv(path, dtype=str, keep_default_na=False).map(_unneutralise)
    flagged: list[bool] = []
    if flag is not None and flag in text.columns:
        flagged = (text[flag].str.lower() == "true").tolist()
    all_cols = [str(c) for c in text.columns]
    keep = all_cols[: 1 if index else 0]
    wanted = show if show is not None else all_cols[len(keep) :]
    keep += [c for c in wanted if c in all_cols and c not in keep][: MAX_SHOWN - len(keep)]
    text_shown = text[keep]
    header = keep
    types = []
    for c in header:
        vals = text[c][text[c] != ""]
        num = pd.to_numeric(vals, errors="coerce")
        is_num = bool(len(vals)) and bool(num.notna().all()) and not _ID_COLUMNS.search(c)
        types.append("num" if is_num else "str")
    n = ctx.top if rows is None else rows
    shown = text_shown.head(n)
    body = [[str(v) for v in r] for r in shown.itertuples(index=False)]
    logger.debug("report: wrote %s (%d rows)", path.name, len(text))
    return _Table(
        f"{name}.csv", caption, header, types, body, len(text), len(all_cols), flagged[:n], note
    )


def _write_png(ctx: _Ctx, fig: Any, name: str, alt: str, caption: str) -> _Image:
    import matplotlib.pyplot as plt

    path = ctx.out / f"{name}.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    with open(path, "rb") as fh:  # PNG IHDR: width and height, big-endian
        head = fh.read(24)
    w, h = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return _Image(f"{name}.png", alt, caption, w, h)


def _names(net: ReferralNetwork) -> pd.DataFrame:
    phys = net.physicians
    out = pd.DataFrame(
        {"name": phys["name"].to_numpy(), "specialty": phys["specialty"].to_numpy()},
        index=pd.Index(phys["npi"].astype(str).to_numpy(), name="npi"),
    )
    return out


class _Stages:
    """A progress bar over named stages, on a terminal only.

    Shown when :attr:`refgraph.config.config.progress` is on, stderr is a
    terminal and ``$CI`` is not set; silent otherwise (files, pipes, CI logs).
    The elapsed time ticks every second while a long stage runs.
    """

    def __init__(self, desc: str, total: int) -> None:
        import sys
        import threading

        from tqdm.auto import tqdm

        from ..config import config

        self.desc = desc
        quiet = not config.show_progress(sys.stderr)
        self.bar = tqdm(
            total=total,
            desc=desc,
            unit="step",
            disable=quiet,
            leave=True,
            file=sys.stderr,
            bar_format="{desc} |{bar:20}| {n_fmt}/{total_fmt} [{elapsed}]",
        )
        self._stop = threading.Event()
        if not quiet:
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            self.bar.refresh()

    def start(self, name: str) -> None:
        """Say which stage runs now."""
        self.bar.set_description_str(f"{self.desc}: {name:<36.36}")

    def done(self) -> None:
        """Count one stage as finished."""
        self.bar.update(1)

    def close(self) -> None:
        """Close the bar (idempotent)."""
        if not self._stop.is_set():
            self._stop.set()
            self.bar.set_description_str(f"{self.desc}: {'done':<36}")
            self.bar.close()
