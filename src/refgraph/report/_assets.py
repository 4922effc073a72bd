"""Inline CSS and JavaScript of the HTML report (no CDN, no web fonts, no network)."""

from __future__ import annotations

__all__ = ["CSS", "SORT_JS"]

CSS = """
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dde6; --accent: #2f4b8f;
        --warn-bg: #fff4d6; --warn-line: #e0a800; --na-bg: #f3f4f7; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header h1 { margin: 24px 0 4px; font-size: 26px; }
.meta { color: var(--muted); margin: 0 0 12px; }
.synthetic { border: 2px solid var(--warn-line); background: var(--warn-bg);
             padding: 8px 12px; border-radius: 6px; font-weight: 600; }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; list-style: none; }
nav a { color: var(--accent); }
section { border-top: 1px solid var(--line); padding: 8px 0 16px; }
section h2 { font-size: 20px; margin: 14px 0 6px; }
.note { color: var(--muted); }
.unavailable { background: var(--na-bg); border: 1px dashed #9aa3b5; padding: 10px 12px;
               border-radius: 6px; }
figure { margin: 12px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
.table-wrap { overflow-x: auto; margin: 10px 0 18px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { text-align: left; padding: 4px 0; color: var(--muted); caption-side: top; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left;
         white-space: nowrap; }
td.num { text-align: right; }
thead th { position: sticky; top: 0; background: #eef1f7; cursor: pointer;
           user-select: none; }
thead th::after { content: " \\2195"; color: #9aa3b5; font-size: 11px; }
thead th[aria-sort="ascending"]::after { content: " \\25B2"; color: var(--accent); }
thead th[aria-sort="descending"]::after { content: " \\25BC"; color: var(--accent); }
tbody tr:nth-child(even) { background: #fafbfd; }
tbody tr.flag, tbody tr.flag:nth-child(even) { background: #fde8e4; }
tbody tr.flag th { border-left: 4px solid #d4380d; }
td.long, th.long { white-space: normal; min-width: 16em; max-width: 34em; }
.empty { color: var(--muted); font-style: italic; }
.actions { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr));
           gap: 12px 24px; }
.action h3 { font-size: 16px; margin: 10px 0 4px; }
.action ol { margin: 0; padding-left: 22px; }
.action li { margin: 4px 0; }
.ev { color: var(--muted); font-size: 13px; white-space: nowrap; }
section[data-status="empty"] h2::after { content: " (nothing to show)"; color: var(--muted);
                                         font-size: 14px; font-weight: normal; }
footer { color: var(--muted); font-size: 13px; padding: 16px 20px 32px; }
"""

# A tiny table sorter: click (or Enter on) a column header to sort by the cells'
# ``data-value`` (the exact CSV value); numeric columns sort numerically with empty
# cells last. Written in ES5 so that any browser runs it from a file:// URL.
SORT_JS = """
(function () {
  "use strict";
  function key(cell, numeric) {
    var v = cell.getAttribute("data-value");
    if (v === null) { v = cell.textContent; }
    if (!numeric) { return v; }
    var x = parseFloat(v);
    return isNaN(x) ? null : x;
  }
  function compare(a, b, numeric) {
    if (!numeric) { return a.localeCompare(b); }
    if (a === null && b === null) { return 0; }
    if (a === null) { return 1; }
    if (b === null) { return -1; }
    return a - b;
  }
  function makeSortable(table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) { return; }
    var heads = head.cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      th.tabIndex = 0;
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        var numeric = th.getAttribute("data-type") === "num";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
          return { row: row, key: key(row.cells[col], numeric), i: i };
        });
        rows.sort(function (a, b) {
          var c = compare(a.key, b.key, numeric);
          if (c === 0) { return a.i - b.i; }
          if (numeric && (a.key === null || b.key === null)) { return c; }
          return ascending ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r.row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); }
      });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
})();
"""
