"""Rich notebook display of result objects: one small escaped-HTML helper (no public API).

Result classes with a readable form define ``_repr_html_`` as a call to
:func:`result_html`; Jupyter shows it instead of the dataclass ``repr`` (whose
nested DataFrames come out truncated). Every value is HTML-escaped; tuples
(paths of NPIs or names) read ``a → b → c``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = ["result_html"]

_STYLE = (
    "<style>.refgraph-result table{border-collapse:collapse;font-size:12px}"
    ".refgraph-result th,.refgraph-result td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:left;vertical-align:top}.refgraph-result td.num{text-align:right}"
    ".refgraph-result caption{text-align:left;color:#555;caption-side:top}"
    ".refgraph-result .more{color:#777;font-size:11px}</style>"
)


def _cell(v: Any) -> tuple[str, bool]:
    """(display text, numeric) of one value."""
    if isinstance(v, tuple | list):
        return " → ".join(map(str, v)), False
    if isinstance(v, bool):
        return str(v), False
    if isinstance(v, int | float) and not isinstance(v, bool):
        if isinstance(v, float):
            if math.isnan(v):
                return "", True
            return (f"{v:,.0f}" if v.is_integer() and abs(v) >= 1000 else f"{v:.4g}"), True
        return f"{v:,}", True
    try:
        if pd.isna(v):
            return "", False
    except (TypeError, ValueError):
        pass
    return str(v), False


def _table(df: pd.DataFrame, caption: str, columns: Sequence[str] | None, max_rows: int) -> str:
    cols = [c for c in (columns or list(df.columns)) if c in df.columns]
    shown = df.head(max_rows)
    show_index = not isinstance(df.index, pd.RangeIndex)
    head = ([f"<th>{html.escape(str(df.index.name or ''))}</th>"] if show_index else []) + [
        f"<th>{html.escape(str(c))}</th>" for c in cols
    ]
    rows = []
    for idx, r in zip(shown.index, shown[cols].itertuples(index=False)):
        cells = [f"<th>{html.escape(str(idx))}</th>"] if show_index else []
        for v in r:
            text, num = _cell(v)
            text = html.escape(text).replace("\n", "<br>")
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f'<div class="more">first {max_rows} of {len(df)} rows</div>' if len(df) > max_rows else ""
    )
    return (
        f"<table><caption>{html.escape(caption)} ({len(df)} rows)</caption>"
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"
    )


def result_html(
    title: str,
    facts: Iterable[tuple[str, Any]] = (),
    tables: Iterable[tuple[str, pd.DataFrame, Sequence[str] | None]] = (),
    *,
    max_rows: int = 20,
) -> str:
    """HTML of a result: a title, a line of facts and a few tables, every value escaped.

    Parameters
    ----------
    title
        Heading.
    facts
        ``(label, value)`` pairs shown on one line.
    tables
        ``(caption, frame, columns)``; ``columns=None`` shows every column.
    max_rows
        Rows shown per table.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"path": [("A", "<B>")], "p": [0.25]})
    >>> out = result_html("Paths", [("target", "X")], [("paths", df, None)])
    >>> "A → &lt;B&gt;" in out, "<td class=\\"num\\">0.25</td>" in out
    (True, True)
    """
    fact_text = " · ".join(
        f"{html.escape(str(k))}: <b>{html.escape(_cell(v)[0])}</b>" for k, v in facts
    )
    parts = [
        _STYLE,
        '<div class="refgraph-result">',
        f"<h4>{html.escape(title)}</h4>",
        f"<p>{fact_text}</p>" if fact_text else "",
    ]
    parts += [_table(df, cap, cols, max_rows) for cap, df, cols in tables]
    parts.append("</div>")
    return "".join(parts)
