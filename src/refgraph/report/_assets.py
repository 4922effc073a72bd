"""Inline CSS and JavaScript of the HTML report (no CDN, no web fonts, no network)."""

from __future__ import annotations

__all__ = ["CSS", "MAP_JS", "SORT_JS"]

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
.zoom-map { position: relative; }
.zoom-map svg { display: block; width: 100%; height: auto; border: 1px solid var(--line);
                cursor: grab; touch-action: none; background: #fff; }
.zoom-map svg.dragging { cursor: grabbing; }
.zoom-map svg * { vector-effect: non-scaling-stroke; }
.zoom-map .sea { fill: #fbfbfc; }
.zoom-map .outl { fill: none; stroke-linejoin: round; }
.zoom-map .outl.state { stroke: #8a8f99; stroke-width: 1.1; }
.zoom-map .outl.county { stroke: #cfd3da; stroke-width: 0.7; }
.zoom-map .pt circle { stroke: none; }
.zoom-map .prac rect { fill: none; stroke-width: 1.1; pointer-events: all; }
.zoom-map .prac rect:hover, .zoom-map .pt circle:hover { stroke: #000; stroke-width: 2; }
.zoom-map .home text { font: bold 15px system-ui, sans-serif; paint-order: stroke;
                       stroke: #fff; stroke-width: 3px; }
.map-tools { display: flex; flex-wrap: wrap; align-items: center; gap: 6px;
             margin-bottom: 4px; font-size: 13px; }
.map-tools button { font: inherit; padding: 2px 10px; border: 1px solid #9aa3b5;
                    background: #eef1f7; border-radius: 4px; cursor: pointer; }
.map-hint { color: var(--muted); }
.map-hint.nudge { color: var(--fg); background: var(--warn-bg); border-radius: 4px; }
.map-scale { margin-left: auto; display: flex; align-items: center; gap: 6px;
             color: var(--muted); }
.map-scale .bar { display: inline-block; height: 6px; border: 2px solid #555;
                  border-top: none; }
.map-tip { position: absolute; z-index: 5; pointer-events: none; max-width: 340px;
           background: #1d2330; color: #fff; padding: 4px 8px; border-radius: 4px;
           font-size: 12px; white-space: pre-line; }
.map-legend { display: flex; flex-wrap: wrap; gap: 2px 16px; list-style: none;
              padding: 0; margin: 4px 0; font-size: 13px; }
.map-legend .key { display: inline-block; width: 11px; height: 11px; margin-right: 5px;
                   vertical-align: -1px; background: var(--c); border-radius: 50%; }
.map-legend .key.square { background: none; border: 1.5px solid var(--c); border-radius: 0; }
.map-legend .key.line { height: 3px; width: 18px; border-radius: 0; vertical-align: 3px; }
.map-legend .key.outline { background: none; border: 1px solid var(--c); border-radius: 0; }
.map-legend .key.star { border-radius: 0;
  clip-path: polygon(50% 0, 61% 35%, 98% 35%, 68% 57%, 79% 91%, 50% 70%, 21% 91%,
                     32% 57%, 2% 35%, 39% 35%); width: 14px; height: 14px; }
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

# Zoomable maps (figure.zoom-map, written by refgraph.report._svgmap): the wheel (once the
# map is clicked, or with Ctrl), the + / - buttons and a drag change the SVG's viewBox;
# markers keep their size on screen (their data-r, in CSS px), so a dense core spreads
# out as it is zoomed. "Whole region"
# and a double click restore the first view. Each marker's <title> becomes its tooltip.
# ES5, no network, works from a file:// URL.
MAP_JS = """
(function () {
  "use strict";
  function box(text) { return text.split(" ").map(parseFloat); }
  function setup(fig) {
    var svg = fig.querySelector("svg.zmap");
    var tip = fig.querySelector(".map-tip");
    var bar = fig.querySelector(".map-scale .bar");
    var km = fig.querySelector(".map-scale .km");
    var home = box(svg.getAttribute("data-home"));
    var vb = home.slice();
    var dots = svg.querySelectorAll("circle");
    var squares = svg.querySelectorAll("rect[data-x]");
    function size(el) {  // marker radius in CSS px: its own data-r, else its group's
      return parseFloat(el.getAttribute("data-r") || el.parentNode.getAttribute("data-r"));
    }
    var stars = svg.querySelectorAll("g.home");
    Array.prototype.forEach.call(svg.querySelectorAll("title"), function (t) {
      t.parentNode.setAttribute("data-tip", t.textContent);
      t.parentNode.removeChild(t);
    });
    function unit() {  // screen px per km ("meet": the smaller ratio)
      var r = svg.getBoundingClientRect();
      return Math.min(r.width / vb[2], r.height / vb[3]) || 1;
    }
    function draw() {
      svg.setAttribute("viewBox", vb.map(function (v) { return v.toFixed(3); }).join(" "));
      var u = unit(), i, el, s;
      for (i = 0; i < dots.length; i++) {
        dots[i].setAttribute("r", (size(dots[i]) / u).toFixed(4));
      }
      for (i = 0; i < squares.length; i++) {
        el = squares[i]; s = size(el) / u;
        el.setAttribute("x", (parseFloat(el.getAttribute("data-x")) - s).toFixed(4));
        el.setAttribute("y", (parseFloat(el.getAttribute("data-y")) - s).toFixed(4));
        el.setAttribute("width", (2 * s).toFixed(4));
        el.setAttribute("height", (2 * s).toFixed(4));
      }
      for (i = 0; i < stars.length; i++) {
        el = stars[i];
        el.setAttribute("transform", "translate(" + el.getAttribute("data-x") + " " +
          el.getAttribute("data-y") + ") scale(" + (1 / u).toFixed(6) + ")");
      }
      var want = 110 / u, p = Math.pow(10, Math.floor(Math.log(want) / Math.LN10));
      var nice = want >= 5 * p ? 5 * p : want >= 2 * p ? 2 * p : p;
      bar.style.width = Math.round(nice * u) + "px";
      km.textContent = (nice >= 1 ? nice : nice.toPrecision(1)) + " km";
    }
    function zoom(f, cx, cy) {  // f < 1 zooms in, around the point (cx, cy) in km
      var w = Math.min(Math.max(vb[2] * f, home[2] / 400), home[2] * 4);
      f = w / vb[2];
      vb = [cx - (cx - vb[0]) * f, cy - (cy - vb[1]) * f, vb[2] * f, vb[3] * f];
      draw();
    }
    function at(e) {  // pointer position in km
      var r = svg.getBoundingClientRect(), u = unit();
      var ox = (r.width - vb[2] * u) / 2, oy = (r.height - vb[3] * u) / 2;
      return [vb[0] + (e.clientX - r.left - ox) / u, vb[1] + (e.clientY - r.top - oy) / u];
    }
    // The wheel scrolls the page until the reader clicks the map (or holds Ctrl, which
    // is also what a touchpad pinch sends): a full-width map must not trap the scroll.
    var active = false, nudged = null, hint = fig.querySelector(".map-hint");
    svg.addEventListener("wheel", function (e) {
      if (!(active || e.ctrlKey || e.metaKey)) {
        hint.classList.add("nudge");
        clearTimeout(nudged);
        nudged = setTimeout(function () { hint.classList.remove("nudge"); }, 1500);
        return;
      }
      e.preventDefault();
      var p = at(e);
      zoom(Math.pow(1.0015, e.deltaY * (e.deltaMode === 1 ? 30 : 1)), p[0], p[1]);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (e) {
      if (e.button !== 0) { return; }
      active = true;
      drag = { x: e.clientX, y: e.clientY, vb: vb.slice(), u: unit() };
      svg.setPointerCapture(e.pointerId);
      svg.classList.add("dragging");
    });
    svg.addEventListener("pointermove", function (e) {
      if (drag) {
        vb[0] = drag.vb[0] - (e.clientX - drag.x) / drag.u;
        vb[1] = drag.vb[1] - (e.clientY - drag.y) / drag.u;
        draw();
      }
    });
    function stop() { drag = null; svg.classList.remove("dragging"); }
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    svg.addEventListener("dblclick", function () { vb = home.slice(); draw(); });
    function place(e) {
      var r = fig.getBoundingClientRect();
      var x = e.clientX - r.left + 14, y = e.clientY - r.top + 14;
      x = Math.max(0, Math.min(x, r.width - tip.offsetWidth));
      tip.style.left = x + "px";
      tip.style.top = y + "px";
    }
    svg.addEventListener("mouseover", function (e) {
      var t = e.target.closest ? e.target.closest("[data-tip]") : null;
      if (!t || drag) { tip.hidden = true; return; }
      tip.textContent = t.getAttribute("data-tip");
      tip.hidden = false;
      place(e);
    });
    svg.addEventListener("mousemove", function (e) { if (!tip.hidden) { place(e); } });
    svg.addEventListener("mouseleave", function () { tip.hidden = true; active = false; });
    Array.prototype.forEach.call(fig.querySelectorAll(".map-tools button"), function (b) {
      b.addEventListener("click", function () {
        var act = b.getAttribute("data-act");
        var c = [vb[0] + vb[2] / 2, vb[1] + vb[3] / 2];
        if (act === "in") { zoom(0.5, c[0], c[1]); }
        if (act === "out") { zoom(2, c[0], c[1]); }
        if (act === "reset") { vb = home.slice(); draw(); }
        if (act === "focus") { vb = box(svg.getAttribute("data-focus")); draw(); }
      });
    });
    window.addEventListener("resize", draw);
    draw();
  }
  Array.prototype.forEach.call(document.querySelectorAll("figure.zoom-map"), setup);
})();
"""
