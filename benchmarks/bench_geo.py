"""Benchmark: radius queries and spatial clustering of 100k practices, refgraph vs naive loops.

Usage::

    python benchmarks/bench_geo.py [--practices 100000] [--queries 1000] [--km 10]

Data: ``--practices`` points placed on seeded random US ZIP code centroids (continental
states, from the offline ``zipcodes`` package) with ~1 km of jitter, i.e. practices
clustered the way population is. Everything runs in one process, one run.

Radius queries (``--queries`` random query points, all practices within ``--km``):

* ``refgraph SpatialIndex``: one haversine ball tree, all queries in one vectorised call
  (build time reported separately and included in the total);
* ``refgraph within_km`` one call per query (rebuilds the tree each time);
* ``pandas vectorised scan``: per query, numpy haversine over the whole table and a
  boolean mask (O(n) per query) - the obvious pandas approach;
* ``geopy loop``: per query, ``DataFrame.apply`` with ``geopy.distance.great_circle``
  on every row. Too slow for all queries: it runs on a few queries and the time is
  **extrapolated** linearly to all of them (labelled).

Results of every method are checked to be the same sets of practices.

Clustering (DBSCAN, eps 2 km, min_samples 5):

* ``refgraph cluster`` DBSCAN (haversine ball tree) and k-means (k=200) on all practices,
  HDBSCAN on the first 20,000 (it grows faster than linearly: ~33 s at 20k, ~100 s at
  40k on 2 CPUs), not extrapolated;
* ``naive DBSCAN``: the region queries a hand-written DBSCAN needs, one pandas/numpy
  haversine scan per point, timed on a subsample of points and **extrapolated** to all
  of them (a lower bound: the cluster expansion itself is not counted).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
try:
    import refgraph  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

from refgraph.geo import SpatialIndex, cluster, haversine_km, within_km, zip_centroids  # noqa: E402

log = logging.getLogger("bench_geo")
_NON_CONTINENTAL = {"AK", "HI", "PR", "VI", "GU", "AS", "MP", "FM", "MH", "PW", "AA", "AE", "AP"}


def make_practices(n: int, seed: int) -> pd.DataFrame:
    z = zip_centroids(active_only=True)
    z = z[~z["state"].isin(_NON_CONTINENTAL) & z["lat"].notna()]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(z), n)
    lat = z["lat"].to_numpy(float)[pick] + rng.normal(0, 1 / 111, n)
    lon = z["lon"].to_numpy(float)[pick] + rng.normal(0, 1 / 85, n)
    return pd.DataFrame(
        {
            "practice_id": [f"BP{i:06d}" for i in range(n)],
            "lat": lat,
            "lon": lon,
            "zip": z.index.to_numpy()[pick],
        }
    )


def timed(fn, *args, **kw):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def naive_scan(df: pd.DataFrame, lat: float, lon: float, km: float) -> set[str]:
    d = haversine_km(df["lat"].to_numpy(), df["lon"].to_numpy(), lat, lon)
    return set(df.loc[d <= km, "practice_id"])


def geopy_loop(df: pd.DataFrame, lat: float, lon: float, km: float) -> set[str]:
    from geopy.distance import great_circle

    d = df.apply(lambda r: great_circle((r["lat"], r["lon"]), (lat, lon)).km, axis=1)
    return set(df.loc[d <= km, "practice_id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--practices", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--km", type=float, default=10.0)
    ap.add_argument("--geopy-queries", type=int, default=3)
    ap.add_argument("--naive-dbscan-points", type=int, default=500)
    ap.add_argument("--hdbscan-practices", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "geo.md")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    n, nq, km = args.practices, args.queries, args.km
    df = make_practices(n, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    qi = rng.integers(0, n, nq)
    qlat = df["lat"].to_numpy()[qi] + rng.normal(0, 0.05, nq)
    qlon = df["lon"].to_numpy()[qi] + rng.normal(0, 0.05, nq)
    rows: list[tuple[str, str, float, str]] = []

    # warm-up: imports (scikit-learn, geopy) are not part of the timings
    SpatialIndex(df.head(10)).within_km(0.0, 0.0, 1.0)
    cluster(df.head(50), method="hdbscan", min_samples=2)
    cluster(df.head(50), method="kmeans", n_clusters=2, seed=0)

    # ---------------------------------------------------------------- radius queries
    idx, t_build = timed(SpatialIndex, df)
    res, t_query = timed(idx.within_km, qlat, qlon, km)
    ref = [set(res.loc[res["query"] == i, "practice_id"]) for i in range(nq)]
    hits = sum(len(s) for s in ref)
    rows.append(
        (
            f"radius {km:g} km, {nq} queries",
            "refgraph SpatialIndex (build + query)",
            t_build + t_query,
            f"build {t_build:.3f} s + query {t_query:.3f} s; {hits / nq:.0f} hits/query",
        )
    )
    m1 = min(nq, 100)
    t = time.perf_counter()
    for i in range(m1):
        got = set(within_km(df, qlat[i], qlon[i], km)["practice_id"])
        assert got == ref[i]
    t1 = (time.perf_counter() - t) * nq / m1
    note = "measured" if m1 == nq else f"{m1} queries measured, extrapolated x{nq / m1:g}"
    rows.append(
        (f"radius {km:g} km, {nq} queries", "refgraph within_km per query (rebuilds)", t1, note)
    )
    t = time.perf_counter()
    for i in range(nq):
        got = naive_scan(df, qlat[i], qlon[i], km)
        assert got == ref[i], i
    t_scan = time.perf_counter() - t
    rows.append(
        (
            f"radius {km:g} km, {nq} queries",
            "pandas vectorised scan per query",
            t_scan,
            "measured; same results",
        )
    )
    g = max(1, min(args.geopy_queries, nq))
    t = time.perf_counter()
    for i in range(g):
        got = geopy_loop(df, qlat[i], qlon[i], km)
        # great_circle and haversine use slightly different radii: compare away from the edge
        d = haversine_km(df["lat"].to_numpy(), df["lon"].to_numpy(), qlat[i], qlon[i])
        edge = set(df.loc[np.abs(d - km) < 0.01, "practice_id"])
        assert got - edge == ref[i] - edge, i
    t_geo = (time.perf_counter() - t) * nq / g
    rows.append(
        (
            f"radius {km:g} km, {nq} queries",
            "geopy great_circle row loop (apply)",
            t_geo,
            f"EXTRAPOLATED from {g} queries (x{nq / g:g})",
        )
    )
    log.info("radius queries done")

    # ---------------------------------------------------------------- clustering
    what = f"cluster {n:,} practices"
    out, t_db = timed(cluster, df, method="dbscan", eps_km=2.0, min_samples=5)
    lab = out["cluster"].to_numpy(int)
    rows.append(
        (
            what,
            "refgraph cluster DBSCAN (eps 2 km, min_samples 5)",
            t_db,
            f"{lab.max() + 1} clusters, {np.mean(lab < 0):.0%} noise",
        )
    )
    nh = min(args.hdbscan_practices, n)
    out, t_h = timed(cluster, df.iloc[:nh], method="hdbscan", min_samples=5, min_cluster_size=10)
    lab = out["cluster"].to_numpy(int)
    rows.append(
        (
            what if nh == n else f"cluster {nh:,} of the practices",
            "refgraph cluster HDBSCAN (min_cluster_size 10)",
            t_h,
            f"{lab.max() + 1} clusters, {np.mean(lab < 0):.0%} noise"
            + ("" if nh == n else "; subsample, not extrapolated (not linear)"),
        )
    )
    out, t_k = timed(cluster, df, method="kmeans", n_clusters=200, seed=0)
    rows.append((what, "refgraph cluster k-means (k 200, projected)", t_k, "k-means++, one init"))
    p = min(args.naive_dbscan_points, n)
    lat_a, lon_a = df["lat"].to_numpy(), df["lon"].to_numpy()
    t = time.perf_counter()
    for i in range(p):
        d = haversine_km(lat_a, lon_a, lat_a[i], lon_a[i])
        _ = np.flatnonzero(d <= 2.0)
    t_nd = (time.perf_counter() - t) * n / p
    rows.append(
        (
            what,
            "naive DBSCAN region queries (scan per point)",
            t_nd,
            f"EXTRAPOLATED from {p} points (x{n / p:g}); lower bound",
        )
    )

    # ---------------------------------------------------------------- report
    head = (
        f"# Geography benchmark\n\n{n:,} synthetic practices on US ZIP centroids "
        f"(seed {args.seed}); one run of `python benchmarks/bench_geo.py"
        f"{'' if n == 100_000 else f' --practices {n}'}`.\n"
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"pandas {pd.__version__}.\n\n"
    )
    table = ["| task | method | seconds | speed-up vs slowest | note |", "|---|---|---:|---:|---|"]
    for task in dict.fromkeys(r[0] for r in rows):
        group = [r for r in rows if r[0] == task]
        slow = max(r[2] for r in group)
        for r in group:
            table.append(f"| {r[0]} | {r[1]} | {r[2]:.3f} | {slow / r[2]:,.0f}x | {r[3]} |")
    text = head + "\n".join(table) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    log.info("wrote %s", args.out)


if __name__ == "__main__":
    main()
