"""Benchmark: how optimistic the greedy selection's spread is, and what the re-estimate costs.

Usage::

    python benchmarks/bench_influence.py --n 3000 --k 10 --sims 1000 --seeds 5

For each seed, :func:`refgraph.influence.maximize` picks ``k`` physicians on
``synthetic_region(n, seed=1)``; the picked set's true spread is estimated with
``--truth`` fresh simulations (:func:`refgraph.influence.spread`, another seed). The table
gives the selection's own estimate (``attrs["selection_spread"]``) and the reported,
re-estimated ``cumulative_spread``, each relative to that truth, with the reported
standard error and the wall/CPU time of the call. Appended to
``benchmarks/results/influence.md``.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def main() -> None:
    from refgraph.config import config
    from refgraph.datasets import synthetic_region
    from refgraph.influence import maximize, spread

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--sims", type=int, default=1000)
    ap.add_argument("--truth", type=int, default=5000)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default=str(HERE / "results" / "influence.md"))
    a = ap.parse_args()
    net = synthetic_region(a.n, seed=1)
    lines = [
        f"\n## {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs: synthetic_region({a.n}, "
        f"seed=1), k={a.k}, n_simulations={a.sims}, truth from {a.truth} fresh simulations\n",
        "| seed | truth | selection's estimate | reported (re-estimated) | reported SE "
        "| wall s | CPU s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    sel_err, rep_err = [], []
    with config(progress=False):
        for s in range(a.seeds):
            t, c = time.perf_counter(), time.process_time()
            res = maximize(net, a.k, n_simulations=a.sims, seed=s)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            truth = spread(net, list(res.index), n_simulations=a.truth, seed=10_000 + s)
            sel = res.attrs["selection_spread"]
            rep = float(res["cumulative_spread"].iloc[-1])
            se = float(res["spread_se"].iloc[-1])
            sel_err.append(sel / truth - 1)
            rep_err.append(rep / truth - 1)
            lines.append(
                f"| {s} | {truth:.1f} | {sel:.1f} ({sel / truth - 1:+.2%}) "
                f"| {rep:.1f} ({rep / truth - 1:+.2%}) | {se:.2f} | {wall:.1f} | {cpu:.1f} |"
            )
            print(lines[-1], flush=True)
    mean_sel, mean_rep = np.mean(sel_err), np.mean(rep_err)
    lines.append(f"\nMean relative error: selection {mean_sel:+.2%}, reported {mean_rep:+.2%}.")
    text = "\n".join(lines) + "\n"
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text("# Influence maximisation (benchmarks/bench_influence.py)\n")
    with out.open("a") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
