"""Derive refgraph's shipped US reference outlines from the Census Bureau's boundary files.

Run once by a maintainer; the output (``src/refgraph/geo/data/us_state.npz`` and
``us_county.npz``) is committed, the inputs are not::

    python scripts/make_outlines.py DIR

``DIR`` holds ``cb_2016_us_state_500k.{shp,dbf}`` and ``cb_2016_us_county_500k.{shp,dbf}``,
the US Census Bureau's 2016 cartographic boundary files at 1:500,000 (public domain, a
work of the US government). One copy is inside the ``plotly-geo`` 1.0.0 wheel on PyPI
(``_plotly_geo/package_data/``); the Census Bureau publishes them at
https://www2.census.gov/geo/tiger/GENZ2016/shp/.

What the script does: reads the shapefiles with a small reader of its own (polygon
records only, ESRI shapefile technical description, 1998; dBASE III table), simplifies
every ring with Douglas–Peucker in degrees (tolerance ``TOL``), drops rings that
collapse to fewer than four points, rounds the vertices to ``QUANTUM`` degrees, stores
them as delta-encoded integers in a compressed ``.npz`` with the source, vintage,
licence and tolerances in its ``meta`` entry (JSON). An area whose rings all collapse
(Rose Island, American Samoa, at coarser tolerances) keeps its largest ring at a tenth
of the tolerance.
Needs numpy only.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np

#: Douglas–Peucker tolerance in degrees, per level (0.001 degree is about 111 m north-south).
TOL = {"state": 0.002, "county": 0.0015}
#: Vertices are stored as integer multiples of this many degrees (about 11 m north-south).
QUANTUM = 1e-4

SOURCE = {
    "state": "cb_2016_us_state_500k",
    "county": "cb_2016_us_county_500k",
}

USPS = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI",
}  # fmt: skip


def read_dbf(path: Path) -> list[dict[str, str]]:
    """Rows of a dBASE III table as text (fields stripped)."""
    raw = path.read_bytes()
    n, header_len, rec_len = struct.unpack("<IHH", raw[4:12])
    fields = []
    pos = 32
    while raw[pos] != 0x0D:
        name = raw[pos : pos + 11].split(b"\0")[0].decode("ascii")
        fields.append((name, raw[pos + 16]))
        pos += 32
    rows = []
    for i in range(n):
        rec = raw[header_len + i * rec_len : header_len + (i + 1) * rec_len]
        off, row = 1, {}  # byte 0: deletion flag
        for name, length in fields:
            row[name] = rec[off : off + length].decode("latin-1").strip()
            off += length
        rows.append(row)
    return rows


def read_shp(path: Path) -> list[list[np.ndarray]]:
    """The rings (``(n, 2)`` lon/lat arrays) of each polygon record, in file order."""
    raw = path.read_bytes()
    pos, out = 100, []
    while pos < len(raw):
        _, words = struct.unpack(">ii", raw[pos : pos + 8])
        body = raw[pos + 8 : pos + 8 + 2 * words]
        pos += 8 + 2 * words
        kind = struct.unpack("<i", body[:4])[0]
        if kind == 0:  # null shape
            out.append([])
            continue
        if kind != 5:
            raise ValueError(f"{path.name}: shape type {kind}, expected 5 (polygon)")
        n_parts, n_points = struct.unpack("<ii", body[36:44])
        parts = np.frombuffer(body, "<i4", n_parts, 44)
        pts = np.frombuffer(body, "<f8", 2 * n_points, 44 + 4 * n_parts).reshape(-1, 2)
        ends = [*parts[1:].tolist(), n_points]
        out.append([pts[a:b].copy() for a, b in zip(parts, ends)])
    return out


def douglas_peucker(pts: np.ndarray, tol: float) -> np.ndarray:
    """Keep the vertices of a closed ring that matter at ``tol`` (iterative, planar)."""
    n = len(pts)
    if n < 4:
        return pts
    keep = np.zeros(n, dtype=bool)
    keep[0] = keep[-1] = True
    # a closed ring: split at the vertex farthest from the first one
    far = int(np.argmax(((pts - pts[0]) ** 2).sum(1)))
    keep[far] = True
    stack = [(0, far), (far, n - 1)]
    while stack:
        a, b = stack.pop()
        if b <= a + 1:
            continue
        seg = pts[b] - pts[a]
        rel = pts[a + 1 : b] - pts[a]
        L2 = float(seg @ seg)
        if L2 == 0:
            d2 = (rel**2).sum(1)
        else:
            d2 = (rel[:, 0] * seg[1] - rel[:, 1] * seg[0]) ** 2 / L2
        i = int(np.argmax(d2))
        if d2[i] > tol * tol:
            m = a + 1 + i
            keep[m] = True
            stack.extend([(a, m), (m, b)])
    return pts[keep]


def simplify(ring: np.ndarray, tol: float) -> np.ndarray:
    """Douglas-Peucker, then rounding to ``QUANTUM`` (repeated vertices dropped)."""
    q = np.round(douglas_peucker(ring, tol) / QUANTUM).astype(np.int64)
    return q[np.r_[True, (np.diff(q, axis=0) != 0).any(1)]]


def build(directory: Path, level: str) -> dict[str, np.ndarray]:
    stem = SOURCE[level]
    shapes = read_shp(directory / f"{stem}.shp")
    rows = read_dbf(directory / f"{stem}.dbf")
    if len(shapes) != len(rows):
        raise ValueError(f"{stem}: {len(shapes)} shapes but {len(rows)} table rows")
    order = sorted(range(len(rows)), key=lambda i: rows[i]["GEOID"])
    geoid, name, state, ring_owner, ring_len, chunks = [], [], [], [], [], []
    n_in = n_out = 0
    for k, i in enumerate(order):
        row = rows[i]
        geoid.append(row["GEOID"])
        name.append(row["NAME"])
        state.append(USPS.get(row["STATEFP"], row["STATEFP"]))
        kept = []
        for ring in shapes[i]:
            n_in += len(ring)
            q = simplify(ring, TOL[level])
            if len(q) >= 4:
                kept.append(q)
        if not kept and shapes[i]:  # a tiny area (an atoll): keep its largest ring, finer
            big = max(shapes[i], key=lambda r: float(np.ptp(r, axis=0).sum()))
            kept = [q for q in (simplify(big, TOL[level] / 10),) if len(q) >= 4]
            print(f"{row['GEOID']} {row['NAME']}: every ring collapses; largest kept at tol/10")
        for q in kept:
            n_out += len(q)
            ring_owner.append(k)
            ring_len.append(len(q))
            chunks.append(q)
    xy = np.concatenate(chunks)
    delta = np.diff(xy, axis=0, prepend=np.zeros((1, 2), np.int64))
    if np.abs(delta).max() >= 2**31:
        raise ValueError("delta does not fit int32")
    meta = {
        "source": f"US Census Bureau, {stem} (2016 cartographic boundary file, 1:500,000)",
        "url": "https://www2.census.gov/geo/tiger/GENZ2016/shp/",
        "vintage": 2016,
        "licence": "public domain (a work of the US government, 17 U.S.C. 105)",
        "datum": "NAD83 (EPSG:4269), drawn as WGS84 (they differ by about a metre)",
        "simplification": f"Douglas-Peucker per ring, tolerance {TOL[level]} degrees",
        "tolerance_deg": TOL[level],
        "quantum_deg": QUANTUM,
        "vertices_in": n_in,
        "vertices_out": n_out,
        "made_by": "scripts/make_outlines.py",
    }
    print(f"{level}: {len(geoid)} areas, {len(ring_len)} rings, {n_in:,} -> {n_out:,} vertices")
    return {
        "meta": np.array(json.dumps(meta, sort_keys=True)),
        "geoid": np.array(geoid),
        "name": np.array(name),
        "state": np.array(state),
        "ring_owner": np.array(ring_owner, dtype=np.int32),
        "ring_len": np.array(ring_len, dtype=np.int32),
        "delta": delta.astype(np.int32),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    directory = Path(argv[1])
    out = Path(__file__).resolve().parents[1] / "src" / "refgraph" / "geo" / "data"
    out.mkdir(parents=True, exist_ok=True)
    for level in ("state", "county"):
        path = out / f"us_{level}.npz"
        np.savez_compressed(path, **build(directory, level))
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
