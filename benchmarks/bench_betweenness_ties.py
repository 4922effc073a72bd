"""Benchmark: weighted betweenness with exact ties — accuracy and time, side by side.

Usage::

    python benchmarks/bench_betweenness_ties.py            # all parts
    python benchmarks/bench_betweenness_ties.py --part ckm # one part: ckm, estimate, speed

Parts:

* ``ckm``: on the CKM physician network (volumes 1-3), how many physicians get a
  different weighted betweenness from NetworKit on float costs ``1 / volume`` (what
  refgraph 0.1 did: equal-cost paths split by rounding) and from refgraph now, each
  against exact rational arithmetic (networkx on :class:`fractions.Fraction` costs).
* ``estimate``: the accuracy of the sampled estimate (``k`` sources, seeds 0-4) against
  the exact values on ``synthetic_region(3000, seed=1)``: the table in the
  :func:`refgraph.centrality.betweenness` docstring.
* ``speed``: wall time of exact and sampled weighted betweenness, refgraph now against
  NetworKit on float costs (the old engine), same graph, same process, alternating runs.

Results are appended to ``benchmarks/results/betweenness_ties.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def float_engine(net: Any, k: int | None, seed: int = 1) -> np.ndarray:
    """NetworKit on float costs ``1 / volume`` (refgraph 0.1's weighted betweenness)."""
    import networkit as nk
    import scipy.sparse as sp

    from refgraph._kernels import strength_matrix

    c = sp.csr_array(strength_matrix(net, "count"), copy=True)
    c.data = 1.0 / c.data
    g = nk.graph.GraphFromCsr(sp.csr_matrix(c), directed=True, weighted=True)
    nk.engineering.setSeed(seed, False)
    algo = (
        nk.centrality.Betweenness(g, normalized=False)
        if k is None
        else nk.centrality.EstimateBetweenness(g, k, False, True)
    )
    algo.run()
    return np.asarray(algo.scores(), dtype=float)


def exact_fraction(net: Any) -> np.ndarray:
    """Brandes on exact rational costs (networkx with Fraction weights)."""
    import networkx as nx

    from refgraph._kernels import strength_matrix

    a = strength_matrix(net, "count").tocoo()
    g = nx.DiGraph()
    g.add_nodes_from(range(a.shape[0]))
    for u, v, w in zip(a.row.tolist(), a.col.tolist(), a.data.tolist()):
        g.add_edge(u, v, cost=Fraction(1, int(w)))
    bc = nx.betweenness_centrality(g, weight="cost", normalized=False)
    return np.array([float(bc[i]) for i in range(a.shape[0])])


def part_ckm() -> list[str]:
    from refgraph import ReferralNetwork
    from refgraph.centrality import betweenness
    from refgraph.datasets import load_ckm

    net = ReferralNetwork.from_frames(**load_ckm())
    ref = exact_fraction(net)
    old = float_engine(net, None)
    res = betweenness(net, weight="count", normalized=False)
    new = res["betweenness"].to_numpy()
    lines = ["| engine | physicians off (of 246) | largest relative error |", "|---|---:|---:|"]
    for name, got in (("NetworKit, float costs (refgraph 0.1)", old), ("refgraph now", new)):
        off = ~np.isclose(got, ref, rtol=1e-9, atol=1e-9)
        worst = (
            float((np.abs(got - ref)[off] / np.maximum(ref[off], 1e-300)).max()) if off.any() else 0
        )
        lines.append(f"| {name} | {int(off.sum())} | {worst:.2%} |")
    lines.append(f"\nrefgraph attrs: {dict(res.attrs)}")
    return lines


def part_estimate() -> list[str]:
    import pandas as pd

    from refgraph.centrality import betweenness
    from refgraph.datasets import synthetic_region

    net = synthetic_region(3000, seed=1)
    t = time.perf_counter()
    exact = betweenness(net, weight="count", normalized=False)
    t_exact = time.perf_counter() - t
    ex = exact["betweenness"].to_numpy()
    nz = ex > 0
    top10 = set(np.argsort(-ex)[:10].tolist())
    top100 = np.argsort(-ex)[:100]
    lines = [
        f"exact: {t_exact:.1f} s, attrs {dict(exact.attrs)}",
        "",
        "| k | Spearman | exact top 10 recovered | exact top 100 recovered (mean) "
        "| median rel. err (top 100) | total est/exact |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for k in (64, 256, 1024):
        rows = []
        for seed in range(5):
            est = betweenness(net, k=k, seed=seed, weight="count", normalized=False)
            e = est["betweenness"].to_numpy()
            rho = pd.Series(e[nz]).corr(pd.Series(ex[nz]), method="spearman")
            r10 = len(top10 & set(np.argsort(-e)[:10].tolist()))
            r100 = len(set(top100.tolist()) & set(np.argsort(-e)[:100].tolist()))
            rel = float(np.median(np.abs(e[top100] - ex[top100]) / ex[top100]))
            rows.append((rho, r10, r100, rel, e.sum() / ex.sum()))
        r = np.array(rows)
        lines.append(
            f"| {k} | {r[:, 0].mean():.2f} | {int(r[:, 1].min())}-{int(r[:, 1].max())} "
            f"| {r[:, 2].mean():.0f} | {r[:, 3].mean():.0%} | {r[:, 4].mean():.2f} |"
        )
    return lines


def nk_threads() -> int:
    import networkit as nk

    return int(nk.getMaxNumberOfThreads())


def part_speed(n: int, k: int, repeats: int) -> list[str]:
    from refgraph.centrality import betweenness
    from refgraph.datasets import synthetic_region

    net = synthetic_region(n, seed=0)
    betweenness(net, k=2, seed=1, weight="count")  # build and cache the views once
    float_engine(net, 2)
    cases = {
        f"refgraph now, k={k}": lambda: betweenness(net, k=k, seed=1, weight="count"),
        f"NetworKit float costs (refgraph 0.1), k={k}": lambda: float_engine(net, k),
    }
    if n <= 5000:
        cases["refgraph now, exact"] = lambda: betweenness(net, weight="count")
        cases["NetworKit float costs (refgraph 0.1), exact"] = lambda: float_engine(net, None)
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):  # alternate, so load spikes hit both
        for name, fn in cases.items():
            t, c = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - t)
            cpu[name].append(time.process_time() - c)
    m = net.csr().m
    lines = [
        f"synthetic_region({n}, seed=0): {m:,} flows; {repeats} alternating runs each, "
        "median (min-max) wall seconds and median CPU seconds (all threads; NetworKit "
        f"runs {nk_threads()} threads, refgraph's kernel one)",
        "",
        "| case | median wall s | min-max wall s | median CPU s |",
        "|---|---:|---:|---:|",
    ]
    for name, ts in times.items():
        lines.append(
            f"| {name} | {np.median(ts):.2f} | {min(ts):.2f}-{max(ts):.2f} "
            f"| {np.median(cpu[name]):.2f} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["ckm", "estimate", "speed", "all"], default="all")
    ap.add_argument("--n", type=int, default=100_000, help="physicians for the speed part")
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "results" / "betweenness_ties.md"))
    a = ap.parse_args()
    parts = ["ckm", "estimate", "speed"] if a.part == "all" else [a.part]
    text = [f"\n## {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs"]
    for part in parts:
        text.append(f"\n### {part}\n")
        if part == "ckm":
            text += part_ckm()
        elif part == "estimate":
            text += part_estimate()
        else:
            text += part_speed(a.n, a.k, a.repeats)
        print("\n".join(text), flush=True)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text("# Weighted betweenness ties (benchmarks/bench_betweenness_ties.py)\n")
    with out.open("a") as fh:
        fh.write("\n".join(text) + "\n")


if __name__ == "__main__":
    main()
