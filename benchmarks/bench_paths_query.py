"""Benchmark: one ``intro_paths`` query end to end (explained result included), two code trees.

Usage::

    git archive main src | tar -x -C /tmp/before      # the baseline code tree
    python benchmarks/bench_paths_query.py --before-src /tmp/before/src \\
        [--physicians 100000] [--queries 1000]
    python benchmarks/bench_paths_query.py --before-src /tmp/before/src \\
        --physicians 1000000 --synthetic-random --flows 20000000 --queries 1000
    python benchmarks/bench_paths_query.py --before-src /tmp/before/src \\
        --cms-file /tmp/refgraph-bench-national/pspp_days180_2000000_31476_0.txt

With ``--cms-file`` the network is a synthetic CMS shared-patient file made by
``bench_national.py`` (dense, heavy-tailed), read with
``read_cms_shared_patients`` in each process (the read is timed apart), and the
queries are ``bench_national.py``'s: a random physician and the end of a random
walk of 1-3 referrals from them. Each worker is killed when its resident size
passes ``--max-rss-gb`` (the table says so).

One run: a SYNTHETIC network is built once (``synthetic_region``, or with
``--synthetic-random`` the random graph of ``bench_paths.random_network``, built
from arrays) and saved as Parquet with random source/target pairs (one source,
the target at the end of a random walk of 1-3 ties from it). Then the same
queries run in two fresh processes on the saved network, one after the other:
the baseline code tree (``--before-src``, e.g. ``main``) and this checkout's
``src``. Each process builds the tie graph (``_tie_graph``, private, in both
trees; timed, with its own bytes and the peak resident size of the build above
the network, not part of the queries), warms up on 5 queries, then times per
query, the layer cache cleared before each: the public call
``intro_paths(net, target, sources=[source], k=5, max_hops=3)`` with its
explained result (wall time and the process's CPU time, which a loaded machine
inflates less), and the search alone (``_prepare`` + ``_find``, private,
present in both trees). The two processes' results (paths and hops frames) are
compared exactly, and to 1e-12 relative. Peak memory is each process's peak
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


def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _nbytes(obj: object, depth: int = 0) -> int:
    """Bytes of the arrays and frames an object holds (the tie graph: either code tree's)."""
    import dataclasses

    import pandas as pd

    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    if isinstance(obj, pd.DataFrame):
        return int(obj.memory_usage(deep=True).sum())
    if dataclasses.is_dataclass(obj) and depth < 2:
        return sum(_nbytes(getattr(obj, f.name), depth + 1) for f in dataclasses.fields(obj))
    return 0


def _read_cms(path: str) -> object:
    """A CMS shared-patient text file, or a flows Parquet file (bench_parquet_pagerank.py's)."""
    import refgraph

    if path.endswith(".parquet"):
        return refgraph.read_network(flows=path)
    return refgraph.read_cms_shared_patients(path, window_days=180, year=2015)


def make(args: argparse.Namespace, data: Path) -> None:
    """Build and save the network and the queries (run in a child process)."""
    if args.cms_file:
        from bench_national import _walk_queries

        t0 = time.perf_counter()
        net = _read_cms(args.cms_file)
        build = time.perf_counter() - t0
        g = net.csr()  # type: ignore[attr-defined]
        rng = np.random.default_rng(7)
        pairs = _walk_queries(g.matrix.indptr, g.matrix.indices, args.queries, rng)
        npis = np.asarray(g.npis)
        info = {
            "what": (
                f"SYNTHETIC flows Parquet file `{Path(args.cms_file).name}` "
                "(bench_parquet_pagerank.py's, on bench_national.py's generator), read with "
                "`read_network(flows=...)`"
                if args.cms_file.endswith(".parquet")
                else f"SYNTHETIC CMS shared-patient file `{Path(args.cms_file).name}` "
                "(bench_national.py's generator), read with `read_cms_shared_patients`"
            ),
            "build_s": build,
            "physicians": net.n_physicians,  # type: ignore[attr-defined]
            "flows": net.n_flows,  # type: ignore[attr-defined]
            "ties": None,
            "queries": [(str(npis[s]), str(npis[t])) for s, t in pairs],
        }
        (data / "make.json").write_text(json.dumps(info))
        return
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


def query(data: Path, out: Path, cms_file: str | None = None) -> None:
    """Time the queries with whichever refgraph is importable (run in a child process)."""
    import gc
    from collections import OrderedDict

    import refgraph
    from refgraph import load
    from refgraph.paths import _intro, intro_paths

    try:  # the tie graph's builder: its own module on this branch, in _search before
        from refgraph.paths._tie_graph import _tie_graph
    except ImportError:
        from refgraph.paths._search import _tie_graph

    info = json.loads((data / "make.json").read_text())
    queries = info["queries"]
    t0 = time.perf_counter()
    net = _read_cms(cms_file) if cms_file else load(data / "net")
    read_s = time.perf_counter() - t0
    gc.collect()
    rss_net = _status_mib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here: the tie graph's build
    t0 = time.perf_counter()
    tg = _tie_graph(net)
    setup = time.perf_counter() - t0
    ties = len(tg.indices) // 2
    tg_bytes = _nbytes(tg)
    del tg
    gc.collect()
    rss_tg, hwm_tg = _status_mib("VmRSS"), _status_mib("VmHWM")
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
                "read_s": read_s,
                "ties": ties,
                "tg_bytes": tg_bytes,
                "rss_net": rss_net,
                "tg_held": rss_tg - rss_net,
                "tg_peak": hwm_tg - rss_net,
                "full": full,
                "cpu": cpu,
                "alone": alone,
                "results": results,
                "peak_mib": _peak_mib(),
                "load": (load0, os.getloadavg()[0]),
            }
        )
    )


def _spawn(worker: str, src: Path, data: Path, out: Path, args: argparse.Namespace) -> str:
    """Run a worker; why it was stopped ("" when it finished)."""
    from bench_national import _run_capped

    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--worker", worker, "--data", str(data), "--result", str(out)]
    cmd += ["--physicians", str(args.physicians), "--queries", str(args.queries)]
    cmd += ["--seed", str(args.seed), "--flows", str(args.flows)]
    cmd += ["--synthetic-random"] if args.synthetic_random else []
    cmd += ["--cms-file", args.cms_file] if args.cms_file else []
    here = os.getcwd()
    os.chdir(Path(__file__).parent)
    try:
        return _run_capped(cmd, env, args.max_rss_gb)
    finally:
        os.chdir(here)


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


def _close(a: tuple, b: tuple) -> bool:
    """Same frames, float columns equal to 1e-12 relative (the paths themselves exactly)."""
    import pandas as pd

    try:
        for x, y in zip(a, b):
            pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-12, atol=0)
        pd.testing.assert_series_equal(a[0]["path"], b[0]["path"])
    except AssertionError:
        return False
    return True


def report(args: argparse.Namespace, info: dict, runs: dict) -> str:
    def stats(x: list[float]) -> str:
        v = np.array(x) * 1e3
        return f"{np.median(v):.2f} / {v.mean():.2f} / {np.percentile(v, 99):.2f} ms"

    done = {k: r for k, r in runs.items() if not r.get("killed")}
    n = len(next(iter(done.values()))["full"]) if done else 0
    if args.cms_file:
        cmd_net = f"--cms-file {Path(args.cms_file).name} --queries {args.queries}"
        title = (
            f"## One query end to end, explained result included, CMS-like file, "
            f"{info['physicians']:,} physicians / {info['flows']:,} flows"
        )
        qdesc = (
            f"Queries: {args.queries} pairs from bench_national.py's sampler (a random physician "
            f"and the end of a random walk of 1-{MAX_HOPS} referrals from them), k={K}, "
            f"max_hops={MAX_HOPS}, layer cache cleared before every query."
        )
    else:
        cmd_net = f"--physicians {args.physicians} --queries {args.queries}" + (
            f" --synthetic-random --flows {args.flows}" if args.synthetic_random else ""
        )
        title = (
            f"## One query end to end, explained result included, {args.physicians:,} physicians"
        )
        qdesc = (
            f"Queries: {n} random source/target pairs (target 1-{MAX_HOPS} random ties from the "
            f"source), k={K}, max_hops={MAX_HOPS}, layer cache cleared before every query."
        )
    cmd = f"python benchmarks/bench_paths_query.py --before-src BEFORE/src {cmd_net}"
    rows = []
    for label in ("before", "after"):
        r = runs[label]
        if r.get("killed"):
            rows.append(f"| {label}: {r['label']} | {r['killed']} |" + " — |" * 8)
            continue
        expl = np.median(r["full"]) - np.median(r["alone"])
        rows.append(
            f"| {label}: {r['label']} | {r['read_s']:.1f} s | {r['setup_s']:.1f} s | "
            f"{r['tg_bytes'] / 2**20:.0f} MiB / {r['tg_peak']:+.0f} MiB | {stats(r['alone'])} | "
            f"{stats(r['full'])} | {stats(r['cpu'])} | {expl * 1e3:.2f} ms | "
            f"{r['peak_mib']:.0f} MiB | {r['load'][0]:.1f} / {r['load'][1]:.1f} |"
        )
    ties = next((r["ties"] for r in done.values()), info.get("ties"))
    lines = [
        title,
        "",
        f"Command: `{cmd}` (BEFORE/src: `git archive main src`, see the file's docstring); "
        f"run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
        "",
        f"Network: {info['what']}; {info['physicians']:,} physicians, {info['flows']:,} "
        f"flows, {ties:,} ties; read/built in {info['build_s']:.0f} s. Machine: "
        f"{platform.machine()}, {os.cpu_count()} CPUs, shared with other jobs (load averages "
        "in the table). Each code tree in its own process, one after the other, same queries; "
        f"a process is stopped when its resident size passes {args.max_rss_gb:g} GiB.",
        "",
        qdesc,
        "",
        "| code | read the network | tie graph (once) | tie graph's memory: its arrays and "
        "frames / peak RSS of the build above the network | search alone: median / mean / "
        "p99 | `intro_paths` with the "
        "explained result: median / mean / p99 | the same call, CPU time of the process | "
        "explained result (difference of the wall-time medians) | peak RSS of the process | "
        "load average (start / end of the queries) |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "Wall times are inflated by the machine's load (other jobs on its 2 cores); the CPU "
        "time of the process (`time.process_time`, which excludes time spent waiting for a "
        "core) is the steadier figure of the two.",
        "",
    ]
    if len(done) == 2:
        b, a = done["before"], done["after"]
        same = sum(_same(x, y) for x, y in zip(b["results"], a["results"]))
        close = sum(_close(x, y) for x, y in zip(b["results"], a["results"]))
        lines += [
            f"Speed-up of the median `intro_paths` call: "
            f"{np.median(b['full']) / np.median(a['full']):.1f}x (CPU time: "
            f"{np.median(b['cpu']) / np.median(a['cpu']):.1f}x). Results identical (paths and "
            f"hops frames, every column, dtypes, compared exactly) on {same} of {n} queries; "
            f"the same paths with probabilities, costs and strengths within 1e-12 (relative) "
            f"on {close} of {n}.",
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before-src", default=None, help="src folder of the baseline code tree")
    p.add_argument("--before-label", default="main", help="name of the baseline in the table")
    p.add_argument("--physicians", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--synthetic-random", action="store_true", help="random graph from arrays")
    p.add_argument("--flows", type=int, default=10_000_000, help="flows of --synthetic-random")
    p.add_argument(
        "--cms-file",
        default=None,
        help="network from a bench_national.py CMS file (or a flows .parquet file)",
    )
    p.add_argument("--max-rss-gb", type=float, default=6.0, help="stop a worker above this")
    p.add_argument("--skip-before", default=None, metavar="WHY", help="run this checkout only")
    p.add_argument("--data", default=None, help="keep/reuse the saved network in this folder")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "paths.md"))
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker == "make":
        make(args, Path(args.data))
        return
    if args.worker == "query":
        query(Path(args.data), Path(args.result), args.cms_file)
        return
    if not args.before_src:
        p.error("--before-src is required (the baseline code tree's src folder)")
    with tempfile.TemporaryDirectory() as tmpd:
        data = Path(args.data) if args.data else Path(tmpd) / "data"
        data.mkdir(parents=True, exist_ok=True)
        if not (data / "make.json").exists():
            why = _spawn("make", ROOT / "src", data, Path(tmpd) / "none", args)
            if why:
                raise SystemExit(f"making the data: {why}")
        info = json.loads((data / "make.json").read_text())
        runs: dict[str, dict] = {}
        for label, src in (("before", Path(args.before_src)), ("after", ROOT / "src")):
            if label == "before" and args.skip_before:
                runs[label] = {"killed": f"not run: {args.skip_before}", "label": args.before_label}
                continue
            res = Path(tmpd) / f"{label}.pkl"
            why = _spawn("query", src, data, res, args)
            runs[label] = {"killed": why} if why else pickle.loads(res.read_bytes())
            runs[label]["label"] = args.before_label if label == "before" else _head()
            print(label, why or "done", flush=True)
    text = report(args, info, runs)
    from bench_paths import write_section

    write_section(Path(args.out), text)
    print(text)


if __name__ == "__main__":
    main()
