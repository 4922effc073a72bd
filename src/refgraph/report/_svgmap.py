"""Zoomable maps of the HTML report: inline SVG written here, no matplotlib, no network.

Coordinates are projected to kilometres with a local equal-scale projection
(``x = 111.32 cos(lat0) (lon - lon0)``, ``y = 111.32 (lat0 - lat)``), so one SVG unit is
one kilometre in every direction and the scale bar is exact at the centre latitude.
Markers and strokes are sized in screen pixels: the page's script (``MAP_JS`` in
:mod:`refgraph.report._assets`) keeps them that size as the reader zooms, so a dense
core spreads out instead of growing with it. Every marker may carry a ``<title>`` (the
tooltip; the script shows it at the pointer). US state and county outlines come from
:func:`refgraph.geo.outlines`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

KM_PER_DEG = 111.32
#: Width (CSS px) the page gives a map; the markers' initial size assumes it.
PAGE_PX = 1060.0
ASPECT = 1.6  # viewBox width / height


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _f(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _thin(x: np.ndarray, y: np.ndarray, start: np.ndarray, tol: float) -> list[str]:
    """Path commands of polylines (``start`` opens each), dropping vertices closer than
    ``tol`` km to the last one kept (under a screen px at the first view, so a map of
    the whole country does not carry every county bend); ends of lines are kept."""
    end = np.r_[start[1:], True]
    out = []
    lx = ly = np.inf
    for a, b, st, en in zip(x.tolist(), y.tolist(), start.tolist(), end.tolist()):
        if st or en or abs(a - lx) + abs(b - ly) >= tol:
            out.append(("M" if st else "L") + _f(a) + " " + _f(b))
            lx, ly = a, b
    return out


class SvgMap:
    """One map: projection from the points it must show, layers added in drawing order."""

    def __init__(self, lat: Any, lon: Any, *, pad: float = 0.04) -> None:
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        ok = np.isfinite(lat) & np.isfinite(lon)
        lat, lon = lat[ok], lon[ok]
        self.lat0 = float(np.median(lat))
        self.lon0 = float(np.median(lon))
        self.kx = KM_PER_DEG * float(np.cos(np.radians(self.lat0)))
        x, y = self.xy(lat, lon)
        x0, x1, y0, y1 = float(x.min()), float(x.max()), float(y.min()), float(y.max())
        w, h = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
        x0, x1, y0, y1 = x0 - pad * w, x1 + pad * w, y0 - pad * h, y1 + pad * h
        w, h = x1 - x0, y1 - y0
        if w / h < ASPECT:  # widen or heighten around the centre to the page's aspect
            x0 -= (ASPECT * h - w) / 2
            w = ASPECT * h
        else:
            y0 -= (w / ASPECT - h) / 2
            h = w / ASPECT
        self.view = (x0, y0, w, h)
        self.unit = PAGE_PX / w  # screen px per km at the initial view
        self.layers: list[str] = []

    def xy(self, lat: Any, lon: Any) -> tuple[np.ndarray, np.ndarray]:
        """Projected kilometres (x east, y south) of degrees."""
        lat = np.asarray(lat, dtype=float)
        lon = np.asarray(lon, dtype=float)
        return (lon - self.lon0) * self.kx, (self.lat0 - lat) * KM_PER_DEG

    def bbox(self, margin: float = 0.5) -> tuple[float, float, float, float]:
        """The view in degrees (lon_min, lat_min, lon_max, lat_max), widened by ``margin``."""
        x0, y0, w, h = self.view
        x0, y0, w, h = x0 - margin * w, y0 - margin * h, w * (1 + 2 * margin), h * (1 + 2 * margin)
        lon = (self.lon0 + x0 / self.kx, self.lon0 + (x0 + w) / self.kx)
        lat = (self.lat0 - (y0 + h) / KM_PER_DEG, self.lat0 - y0 / KM_PER_DEG)
        return lon[0], max(lat[0], -90.0), lon[1], min(lat[1], 90.0)

    # ---------------------------------------------------------------- layers
    def outlines(self, county_max_km: float) -> list[str]:
        """US state outlines, and county outlines when the view is under ``county_max_km``."""
        from ..geo import outlines

        levels = ["county", "state"] if max(self.view[2:]) < county_max_km else ["state"]
        drawn = []
        box = self.bbox(0.15)
        for level in levels:
            df = outlines(level, bbox=box)
            if df.empty:
                continue
            x, y = self.xy(df["lat"], df["lon"])
            lon, lat, ring = df["lon"].to_numpy(), df["lat"].to_numpy(), df["ring"].to_numpy()
            inside = (lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3])
            same_prev = np.r_[False, ring[1:] == ring[:-1]]
            same_next = np.r_[ring[1:] == ring[:-1], False]
            # runs of vertices inside the box, plus one beyond each end, as open lines
            keep = inside | (np.r_[False, inside[:-1]] & same_prev)
            keep |= np.r_[inside[1:], False] & same_next
            start = keep & ~(np.r_[False, keep[:-1]] & same_prev)
            parts = _thin(x[keep], y[keep], start[keep], self.view[2] / 1500)
            self.layers.append(f'<path class="outl {level}" d="{"".join(parts)}"/>')
            drawn.append(level)
        return drawn

    def lines(
        self, lat1: Any, lon1: Any, lat2: Any, lon2: Any, width: Any, opacity: Any, color: str
    ) -> None:
        """Straight lines (flows); ``width`` in screen px."""
        x1, y1 = self.xy(lat1, lon1)
        x2, y2 = self.xy(lat2, lon2)
        out = [f'<g class="flows" stroke="{_e(color)}" fill="none">']
        for a, b, c, d, w, o in zip(x1, y1, x2, y2, width, opacity):
            out.append(
                f'<path d="M{_f(a)} {_f(b)}L{_f(c)} {_f(d)}" stroke-width="{w:.2f}" '
                f'stroke-opacity="{o:.2f}"/>'
            )
        out.append("</g>")
        self.layers.append("".join(out))

    def points(
        self,
        lat: Any,
        lon: Any,
        *,
        r: float,
        colors: Sequence[str],
        titles: Sequence[str] | None = None,
        cls: str = "pt",
        square: bool = False,
        size: Any = None,
    ) -> None:
        """Dots (or hollow squares) of ``r`` screen px (``size``: one radius each)."""
        x, y = self.xy(lat, lon)
        rr = np.full(len(x), float(r)) if size is None else np.asarray(size, dtype=float)
        # one radius for the group unless each marker has its own (``size``)
        group_r = f' data-r="{float(r):.1f}"' if size is None else ""
        out = [f'<g class="{_e(cls)}"{group_r}>']
        for i in range(len(x)):
            tip = f"<title>{_e(titles[i])}</title>" if titles is not None else ""
            s = rr[i] / self.unit
            own = "" if size is None else f' data-r="{rr[i]:.1f}"'
            if square:
                out.append(
                    f'<rect x="{_f(x[i] - s)}" y="{_f(y[i] - s)}" width="{_f(2 * s)}" '
                    f'height="{_f(2 * s)}" data-x="{_f(x[i])}" data-y="{_f(y[i])}"{own} '
                    f'stroke="{_e(colors[i])}">{tip}</rect>'
                )
            else:
                out.append(
                    f'<circle cx="{_f(x[i])}" cy="{_f(y[i])}" r="{s:.3f}"{own} '
                    f'fill="{_e(colors[i])}">{tip}</circle>'
                )
        out.append("</g>")
        self.layers.append("".join(out))

    def star(self, lat: float, lon: float, title: str, color: str) -> None:
        """The home practice: a star of constant screen size, labelled ``home``."""
        x, y = self.xy([lat], [lon])
        ang = np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, 13.0, 5.5)
        d = "M" + "L".join(f"{r * np.cos(a):.1f} {-r * np.sin(a):.1f}" for r, a in zip(rad, ang))
        s = 1 / self.unit
        self.layers.append(
            f'<g class="home" data-x="{_f(x[0])}" data-y="{_f(y[0])}" '
            f'transform="translate({_f(x[0])} {_f(y[0])}) scale({s:.5f})">'
            f'<path d="{d}Z" fill="{_e(color)}" stroke="#000" stroke-width="1"/>'
            f'<text x="15" y="-8" fill="{_e(color)}">home</text>'
            f"<title>{_e(title)}</title></g>"
        )

    # ---------------------------------------------------------------- page
    def figure(
        self,
        key: str,
        label: str,
        caption_html: str,
        legend: Sequence[tuple[str, str, str]],
        focus: tuple[float, float, float] | None = None,
    ) -> str:
        """The ``<figure>``: tool bar, SVG, legend and caption (``caption_html`` escaped).

        ``legend``: ``(shape, color, text)`` with shape ``dot``, ``square``,
        ``line``, ``star`` or ``outline``. ``focus``: ``(lat, lon, km)``, a
        square the "Around home" button zooms to.
        """
        x0, y0, w, h = self.view
        vb = f"{_f(x0)} {_f(y0)} {_f(w)} {_f(h)}"
        tools = [
            '<button type="button" data-act="in" title="Zoom in">+</button>',
            '<button type="button" data-act="out" title="Zoom out">&minus;</button>',
            '<button type="button" data-act="reset">Whole region</button>',
        ]
        focus_attr = ""
        if focus is not None:
            fx, fy = self.xy([focus[0]], [focus[1]])
            k = float(focus[2])
            fw = max(k * ASPECT, k)
            focus_attr = f' data-focus="{_f(fx[0] - fw / 2)} {_f(fy[0] - k / 2)} {_f(fw)} {_f(k)}"'
            tools.append(f'<button type="button" data-act="focus">Around home ({k:g} km)</button>')
        keys = "".join(
            f'<li><span class="key {_e(shape)}" style="--c:{_e(color)}"></span>{_e(text)}</li>'
            for shape, color, text in legend
        )
        return (
            f'<figure class="zoom-map" id="f-{_e(key)}">'
            f'<div class="map-tools">{"".join(tools)}'
            '<span class="map-hint">click the map, then wheel to zoom (or Ctrl + wheel); '
            "drag to move; hover for details</span>"
            '<span class="map-scale"><span class="bar"></span><span class="km"></span>'
            "</span></div>"
            f'<svg class="zmap" viewBox="{vb}" data-home="{vb}"{focus_attr} role="img" '
            f'aria-label="{_e(label)}" xmlns="http://www.w3.org/2000/svg">'
            f'<rect class="sea" x="{_f(x0 - 10 * w)}" y="{_f(y0 - 10 * h)}" width="{_f(21 * w)}" '
            f'height="{_f(21 * h)}"/>' + "".join(self.layers) + "</svg>"
            '<div class="map-tip" hidden></div>'
            f'<ul class="map-legend">{keys}</ul>'
            f"<figcaption>{caption_html}</figcaption></figure>"
        )
