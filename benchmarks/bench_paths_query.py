"""Benchmark: one ``intro_paths`` query end to end (explained result included), two code trees.

Usage::

    git archive main src | tar -x -C /tmp/before      # the baseline code tree
    python benchmarks/bench_paths_query.py --before-src /tmp/before/src \\
        [--physicians 100000] [--queries 1000]
    python benchmarks/bench_paths_query.py --before-src /tmp/before/src \\
        --physicians 1000000 --synthetic-random --flows 20000000 --queries 1000

One run: a SYNTHETIC network is built once (``synthetic_region``, or with
``--synthetic-random`` the random graph of ``bench_paths.random_network``, built
from arrays) and saved as Parquet with random source/target pairs (one source,
the target at the end of a random walk of 1-3 ties from it). Then the same
queries run in two fresh processes on the saved network, one after the other:
the baseline code tree (``--before-src``, e.g. ``main``) and this checkout's
``src``. Each process builds the tie table and its CSR (timed, not part of the
queries), warms up on 5 queries, then times per query, the layer cache cleared
before each: the public call ``intro_paths(net, target, sources=[source], k=5,
max_hops=3)`` with its explained result (wall time and the process's CPU time,
which a loaded machine inflates less), and the search alone (``_prepare`` +
``_find``, private, present in both trees). The two processes' results (paths
and hops frames) are compared exactly. Peak memory is each process's peak
resident set size. The section written replaces the previous one of the same
size in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
K, MAX_HOPS = 5, 3


def _peak_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make(args: argparse.Namespace, data: Path) -> None:
    """Build and save the network and the queries (run in a child process)."""
    from bench_paths import draw_queries, make_network
    from refgraph.paths import tie_matrix

    net, what, build = make_network(args)
    net.save(data / "net", overwrite=True)
    m = tie_matrix(net)
    queries = draw_queries(net, m, args.queries, args.seed)
    info = {
        "what": what,
        "build_s": build,
        "physicians": net.n_physicians,
        "flows": net.n_flows,
        "ties": int(m.nnz // 2),
        "queries": queries,
    }
    (data / "make.json").write_text(json.dumps(info))


def query(data: Path, out: Path) -> None:
    """Time the queries with whichever refgraph is importable (run in a child process)."""
    from collections import OrderedDict

    import refgraph
    from refgraph import load
    from refgraph.paths import _intro, intro_paths, tie_matrix

    info = json.loads((data / "make.json").read_text())
    queries = info["queries"]
    net = load(data / "net")
    t0 = time.perf_counter()
    tie_matrix(net)
    setup = time.perf_counter() - t0
    lru = net.cached_view(("refgraph.paths", "layers"), OrderedDict)
    for s, t in queries[:5]:  # warm-up: imports, first allocations, per-network views
        intro_paths(net, t, sources=[s], k=K, max_hops=MAX_HOPS)
    load0 = os.getloadavg()[0]
    full, cpu, alone, results = [], [], [], []
    for s, t in queries:
        lru.clear()
        c1, t1 = time.process_time(), time.perf_counter()
        res = intro_paths(net, t, sources=[s], k=K, max_hops=MAX_HOPS)
        full.append(time.perf_counter() - t1)
        cpu.append(time.process_time() - c1)
        lru.clear()
        t1 = time.perf_counter()
        _intro._find(_intro._prepare(net, t, sources=[s], max_hops=MAX_HOPS), K)
        alone.append(time.perf_counter() - t1)
        results.append((res.paths, res.hops))
    out.write_bytes(
        pickle.dumps(
            {
                "code": str(Path(refgraph.__file__).parent),
                "setup_s": setup,
                "full": full,
                "cpu": cpu,
                "alone": alone,
                "results": results,
                "peak_mib": _peak_mib(),
                "load": (load0, os.getloadavg()[0]),
            }
        )
    )


def _spawn(worker: str, src: Path, data: Path, out: Path, args: argparse.Namespace) -> None:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--worker", worker, "--data", str(data), "--result", str(out)]
    cmd += ["--physicians", str(args.physicians), "--queries", str(args.queries)]
    cmd += ["--seed", str(args.seed), "--flows", str(args.flows)]
    cmd += ["--synthetic-random"] if args.synthetic_random else []
    subprocess.run(cmd, env=env, check=True, cwd=Path(__file__).parent)


def _head() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
        )
        return f"this branch ({out.stdout.strip()})"
    except (OSError, subprocess.CalledProcessError):
        return "this branch"


def _same(a: tuple, b: tuple) -> bool:
    import pandas as pd

    try:
        for x, y in zip(a, b):
            pd.testing.assert_frame_equal(x, y, check_exact=True)
    except AssertionError:
        return False
    return True


def report(args: argparse.Namespace, info: dict, runs: dict) -> str:
    def stats(x: list[float]) -> str:
        v = np.array(x) * 1e3
        return f"{np.median(v):.2f} / {v.mean():.2f} / {np.percentile(v, 99):.2f} ms"

    b, a = runs["before"], runs["after"]
    same = sum(_same(x, y) for x, y in zip(b["results"], a["results"]))
    n = len(a["full"])
    cmd = (
        f"python benchmarks/bench_paths_query.py --before-src BEFORE/src --physicians "
        f"{args.physicians} --queries {args.queries}"
        + (f" --synthetic-random --flows {args.flows}" if args.synthetic_random else "")
    )
    rows = []
    for label, r in (("before", b), ("after", a)):
        expl = np.median(r["full"]) - np.median(r["alone"])
        rows.append(
            f"| {label}: {r['label']} | {r['setup_s']:.1f} s | {stats(r['alone'])} | "
            f"{stats(r['full'])} | {stats(r['cpu'])} | {expl * 1e3:.2f} ms | "
            f"{r['peak_mib']:.0f} MiB | "
            f"{r['load'][0]:.1f} / {r['load'][1]:.1f} |"
        )
    return "\n".join(
        [
            f"## One query end to end, explained result included, {args.physicians:,} physicians",
            "",
            f"Command: `{cmd}` (BEFORE/src: `git archive main src`, see the file's docstring); "
            f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
            "",
            f"Network: {info['what']}; {info['physicians']:,} physicians, {info['flows']:,} "
            f"flows, {info['ties']:,} ties; built in {info['build_s']:.0f} s (not in the query "
            f"times). Machine: {platform.machine()}, {os.cpu_count()} CPUs, shared with other "
            "jobs (load averages in the table). Each code tree in its own process on the "
            "saved network, one after the other, same queries.",
            "",
            f"Queries: {n} random source/target pairs (target 1-{MAX_HOPS} random ties from the "
            f"source), k={K}, max_hops={MAX_HOPS}, layer cache cleared before every query.",
            "",
            "| code | tie table + CSR (once) | search alone: median / mean / p99 | `intro_paths` "
            "with the explained result: median / mean / p99 | the same call, CPU time of the "
            "process | explained result (difference of the wall-time medians) | peak RSS | load "
            "average (start / end of the queries) |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "Wall times are inflated by the machine's load (other jobs on its 2 cores); the CPU "
            "time of the process (`time.process_time`, which excludes time spent waiting for a "
            "core) is the steadier figure of the two.",
            "",
            f"Speed-up of the median `intro_paths` call: "
            f"{np.median(b['full']) / np.median(a['full']):.1f}x. Results identical (paths and "
            f"hops frames, every column, dtypes, compared exactly) on {same} of {n} queries.",
            "",
        ]
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before-src", default=None, help="src folder of the baseline code tree")
    p.add_argument("--before-label", default="main", help="name of the baseline in the table")
    p.add_argument("--physicians", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--synthetic-random", action="store_true", help="random graph from arrays")
    p.add_argument("--flows", type=int, default=10_000_000, help="flows of --synthetic-random")
    p.add_argument("--data", default=None, help="keep/reuse the saved network in this folder")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "paths.md"))
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker == "make":
        make(args, Path(args.data))
        return
    if args.worker == "query":
        query(Path(args.data), Path(args.result))
        return
    if not args.before_src:
        p.error("--before-src is required (the baseline code tree's src folder)")
    with tempfile.TemporaryDirectory() as tmpd:
        data = Path(args.data) if args.data else Path(tmpd) / "data"
        data.mkdir(parents=True, exist_ok=True)
        if not (data / "make.json").exists():
            _spawn("make", ROOT / "src", data, Path(tmpd) / "none", args)
        info = json.loads((data / "make.json").read_text())
        runs = {}
        for label, src in (("before", Path(args.before_src)), ("after", ROOT / "src")):
            res = Path(tmpd) / f"{label}.pkl"
            _spawn("query", src, data, res, args)
            runs[label] = pickle.loads(res.read_bytes())
            runs[label]["label"] = args.before_label if label == "before" else _head()
            print(label, "done", flush=True)
    text = report(args, info, runs)
    from bench_paths import write_section

    write_section(Path(args.out), text)
    print(text)


if __name__ == "__main__":
    main()
