"""Parquet flows file -> PageRank: refgraph against a plain pyarrow + NetworKit pipeline.

Issue 11's first target: at 1M physicians / 20M flows, a Parquet file read with
``refgraph.read_network(flows=path)`` then ``refgraph.centrality.pagerank(net)`` should run
within 2x of a plain pipeline on the same file in the same run, at a peak RSS of at most
2.6 GB. The plain pipeline is ``pyarrow.parquet.read_table`` -> Arrow ``dictionary_encode``
of both NPI columns together -> ``networkit.graph.GraphFromCoo`` -> NetworKit PageRank on
one thread.

The file (made once, kept under ``--dir``) has the flows table's columns: ``source_npi``
and ``target_npi`` as 10-digit valid NPI strings, ``count`` (int64) and ``period_end``
(date). Its pairs come from ``_national_gen.synthetic_pairs`` (heavy-tailed out- and
in-degrees, most ties inside a practice or a region; unique pairs, no self-loops).

Each pipeline runs in its own subprocess, one after the other (plain, refgraph, plain,
refgraph, ...), so they never share the two cores. Each stage's wall time and the
process's peak resident memory (``VmHWM``, reset at the stage's start, so it includes
what earlier stages still hold) are recorded; the table shows the best of ``--repeat``
turns for the times and the highest peak. Both PageRanks use damping 0.85, tolerance 1e-6
and the ``count`` column as weights.

``--baseline-src SRC`` adds a third pipeline, refgraph from another ``src`` folder (the code
before a change), run in the same turns (plain, before, refgraph); the table then has its
columns beside the others'.

``--profile`` runs the refgraph side once under cProfile (time) and once under
tracemalloc (memory, Python allocations only) and prints the top entries.

Run: ``python benchmarks/bench_parquet_pagerank.py --flows 20000000``
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _national_gen import synthetic_pairs
from bench_national import Stages, _run_capped, _status_mib, nk_pagerank

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-6
RSS_TARGET_GB = 2.6


def make_parquet(path: Path, flows: int, npis: int, seed: int) -> dict[str, float]:
    """Write the flows Parquet file unless it is there; generation and write seconds."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return {}
    t0 = time.perf_counter()
    cols = synthetic_pairs(flows, npis, seed)
    rng = np.random.default_rng(seed + 1)
    days = rng.integers(0, 4, len(cols["npi1"])) * 91  # four quarter ends, heavy on none
    period_end = (np.datetime64("2015-03-31") + days).astype("datetime64[D]")
    table = pa.table(
        {
            "source_npi": pa.array(cols["npi1"]).cast(pa.string()),
            "target_npi": pa.array(cols["npi2"]).cast(pa.string()),
            "count": pa.array(cols["pair_count"]),
            "period_end": pa.array(period_end, type=pa.date32()),
        }
    )
    del cols
    t1 = time.perf_counter()
    tmp = path.with_suffix(".part")
    pq.write_table(table, tmp)
    tmp.rename(path)
    return {"generate_s": t1 - t0, "write_s": time.perf_counter() - t1}


def run_refgraph(path: Path) -> dict[str, Any]:
    import refgraph
    from refgraph.centrality import pagerank

    info: dict[str, Any] = {"after_imports_mib": _status_mib("VmRSS")}
    st = Stages(None, info)
    net = st.run("read", lambda: refgraph.read_network(flows=path))
    info.update(physicians=len(net.physicians), flows=len(net.flows))
    info["rejected"] = len(net.rejected)
    st.run("pagerank", lambda: pagerank(net, tol=TOL))
    return {**info, "stages": st.out}


def run_plain(path: Path) -> dict[str, Any]:
    import networkit as nk
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    nk.setNumberOfThreads(1)
    info: dict[str, Any] = {"after_imports_mib": _status_mib("VmRSS")}
    st = Stages(None, info)
    table = st.run("read", lambda: pq.read_table(path))

    def encode(table: Any) -> tuple[Any, Any, Any, int]:
        both = pa.concat_arrays(
            [table["source_npi"].combine_chunks(), table["target_npi"].combine_chunks()]
        )
        enc = pc.dictionary_encode(both)
        codes = enc.indices.to_numpy().astype(np.int64)
        m = table.num_rows
        w = table["count"].to_numpy().astype(np.float64)
        return codes[:m], codes[m:], w, len(enc.dictionary)

    src, dst, w, n = st.run("encode", functools.partial(encode, table))
    del table
    info.update(physicians=n, flows=len(src))
    g = st.run(
        "graph", lambda: nk.graph.GraphFromCoo((w, (src, dst)), n=n, weighted=True, directed=True)
    )
    info["pagerank_iterations"] = st.run("pagerank", functools.partial(nk_pagerank, g))
    return {**info, "stages": st.out}


def rss_by_line(path: Path, every: float = 0.02, top: int = 12) -> None:
    """Sample VmRSS with the main thread's innermost refgraph line during ``read_network``."""
    import threading

    import refgraph

    main = threading.main_thread().ident
    samples: list[tuple[float, str]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            frame = sys._current_frames().get(main)
            where = "?"
            while frame is not None:
                name = frame.f_code.co_filename
                if "refgraph" in name and "benchmarks" not in name:
                    where = f"{Path(name).name}:{frame.f_lineno} {frame.f_code.co_name}"
                    break
                frame = frame.f_back
            samples.append((_status_mib("VmRSS"), where))
            time.sleep(every)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    net = refgraph.read_network(flows=path)
    done.set()
    thread.join()
    high: dict[str, float] = {}
    for rss, where in samples:
        high[where] = max(high.get(where, 0.0), rss)
    print(f"RSS during read_network ({len(samples)} samples): highest resident MiB by line")
    for where, rss in sorted(high.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {rss:9,.0f} MiB  {where}")
    del net


def profile_refgraph(path: Path, top: int = 12) -> None:
    """cProfile (cumulative and own time), then tracemalloc (peak, top lines) of refgraph."""
    import cProfile
    import pstats
    import tracemalloc

    import refgraph
    from refgraph.centrality import pagerank

    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    net = refgraph.read_network(flows=path)
    t1 = time.perf_counter()
    pagerank(net, tol=TOL)
    prof.disable()
    print(f"cProfile run: read {t1 - t0:.1f} s, pagerank {time.perf_counter() - t1:.1f} s")
    print(f"VmHWM after the profiled run: {_status_mib('VmHWM'):,.0f} MiB")
    stats = pstats.Stats(prof).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top * 2)
    stats.sort_stats("tottime").print_stats(top)
    del net
    tracemalloc.start(6)
    net = refgraph.read_network(flows=path)
    snap_read = tracemalloc.take_snapshot()
    cur, peak = tracemalloc.get_traced_memory()
    print(f"tracemalloc after read: current {cur / 2**20:,.0f} MiB, peak {peak / 2**20:,.0f} MiB")
    tracemalloc.reset_peak()
    pagerank(net, tol=TOL)
    cur, peak = tracemalloc.get_traced_memory()
    print(f"tracemalloc pagerank: current {cur / 2**20:,.0f} MiB, peak {peak / 2**20:,.0f} MiB")
    tracemalloc.stop()
    print("top allocations alive after read (by line):")
    for s in snap_read.statistics("lineno")[:top]:
        print(f"  {s.size / 2**20:9,.1f} MiB  {s.count:>9,}  {s.traceback}")
    print("sizes of what the network holds:")
    for name in ("physicians", "flows"):
        df = getattr(net, name)
        mem = df.memory_usage(deep=True, index=True)
        print(
            f"  net.{name}: {mem.sum() / 2**20:,.0f} MiB; "
            + ", ".join(f"{k} {v / 2**20:,.0f}" for k, v in mem.items())
        )
        print(f"    dtypes: {dict(df.dtypes.astype(str))}")


def _fmt(x: float | None, nd: int = 2) -> str:
    return "—" if x is None else f"{x:,.{nd}f}"


def report(args: argparse.Namespace, made: dict[str, float], runs: dict[str, list]) -> str:
    """The markdown section: command, date, load, table and verdicts."""

    def best(worker: str, stage: str) -> tuple[float | None, float | None]:
        ok = [r for r in runs[worker] if stage in r.get("stages", {})]
        if not ok:
            return None, None
        return (
            min(r["stages"][stage]["s"] for r in ok),
            max(r["stages"][stage]["peak_mib"] for r in ok),
        )

    rg, pl = runs["refgraph"], runs["plain"]
    size = Path(args.file).stat().st_size / 2**20
    info = next((r for r in rg + pl if "physicians" in r), {})
    workers = [w for w in ("refgraph", "before", "plain") if runs.get(w)]
    names = {"refgraph": "refgraph", "before": "before", "plain": "plain"}
    lines = [
        args.title,
        "",
        f"Command: `python benchmarks/bench_parquet_pagerank.py --flows {args.flows} "
        f"--npis {args.npis} --repeat {args.repeat}` ({dt.date.today().isoformat()}). "
        f"File: {size:,.0f} MiB of Parquet (pyarrow defaults), columns `source_npi`, "
        "`target_npi` (10-digit NPI strings), `count` (int64), `period_end` (date); "
        f"{info.get('flows', 0):,} flows between {info.get('physicians', 0):,} physicians"
        + (f" (generated in {made['generate_s']:.0f} s)" if made else " (made by an earlier run)")
        + f". Load average before the runs: {args.load}. Each pipeline ran in its own process, "
        f"in turns ({', '.join(reversed(workers))}) x {args.repeat}; times are the best turn, "
        "peak MiB the highest `VmHWM` of the stage (reset at its start, so it includes what "
        "earlier stages still hold). PageRanks: damping 0.85, tol 1e-6, weights `count`; "
        "NetworKit on 1 thread."
        + (
            f' "before" is refgraph from `{args.baseline_src}` in the same turns.'
            if args.baseline_src
            else ""
        ),
        "",
        "| stage | "
        + " | ".join(f"{names[w]} s" for w in workers)
        + " | "
        + " | ".join(f"{names[w]} peak MiB" for w in workers)
        + " |",
        "|---|" + "---:|" * (2 * len(workers)),
    ]
    stages = [
        ("read (`read_network(flows=path)` / `pq.read_table`)", "read"),
        ("encode NPIs (Arrow `dictionary_encode`)", "encode"),
        ("NetworKit graph from COO", "graph"),
        ("PageRank", "pagerank"),
    ]
    tot = dict.fromkeys(workers, 0.0)
    top = dict.fromkeys(workers, 0.0)
    for label, key in stages:
        got = {w: best(w, key) for w in workers}
        for w in workers:
            tot[w] += got[w][0] or 0.0
            top[w] = max(top[w], got[w][1] or 0.0)
        lines.append(
            f"| {label} | "
            + " | ".join(_fmt(got[w][0]) for w in workers)
            + " | "
            + " | ".join(_fmt(got[w][1], 0) for w in workers)
            + " |"
        )
    lines.append(
        "| **total** | "
        + " | ".join(f"{tot[w]:.2f}" for w in workers)
        + " | "
        + " | ".join(f"{top[w]:,.0f}" for w in workers)
        + " |"
    )
    ratio = tot["refgraph"] / tot["plain"] if tot["plain"] else float("nan")
    peak_gb = top["refgraph"] * 2**20 / 1e9
    every = ", ".join(
        f"{w} " + " / ".join(f"{sum(s['s'] for s in r['stages'].values()):.1f}" for r in runs[w])
        for w in workers
    )
    lines += [
        "",
        f"Totals of each turn (s): {every}. Failures: "
        + (
            "; ".join(f"{w}: {r['error']}" for w in runs for r in runs[w] if r.get("error"))
            or "none"
        )
        + ".",
        "",
        "| issue 11 target | measured | verdict |",
        "|---|---|---|",
        f"| file -> PageRank within 2x of the plain pipeline | {tot['refgraph']:.1f} s vs "
        f"{tot['plain']:.1f} s = {ratio:.2f}x | **{'pass' if ratio <= 2 else 'fail'}** |",
        f"| peak RSS <= {RSS_TARGET_GB} GB | {peak_gb:.2f} GB ({top['refgraph']:,.0f} MiB) | "
        f"**{'pass' if peak_gb <= RSS_TARGET_GB else 'fail'}** |",
        "",
    ]
    if "before" in workers:
        lines[-1:-1] = [
            f"| (before) peak RSS <= {RSS_TARGET_GB} GB | "
            f"{top['before'] * 2**20 / 1e9:.2f} GB ({top['before']:,.0f} MiB) | "
            f"{'pass' if top['before'] * 2**20 / 1e9 <= RSS_TARGET_GB else 'fail'} |",
        ]
    return "\n".join(lines)


def write_section(results: Path, text: str, title: str) -> None:
    """Replace (or add) the results file's section headed ``title`` (a ``## `` line)."""
    old = results.read_text() if results.exists() else "# National benchmark (issue 11)\n\n"
    parts = old.split("\n## ")
    kept = [parts[0]] + ["## " + p for p in parts[1:] if ("## " + p).split("\n")[0] != title]
    results.write_text("\n".join(p.rstrip("\n") + "\n" for p in kept) + "\n" + text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--flows", type=int, default=20_000_000)
    ap.add_argument("--npis", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dir", default="/tmp/refgraph-bench-parquet")
    ap.add_argument("--max-rss-gb", type=float, default=9.0)
    ap.add_argument("--no-write", action="store_true", help="print, do not edit national.md")
    ap.add_argument("--profile", action="store_true", help="profile the refgraph side only")
    ap.add_argument("--baseline-src", help="a src folder: refgraph before a change, same turns")
    ap.add_argument(
        "--title",
        default="## Parquet file to PageRank, issue 11's first target",
        help="heading of the section written to national.md (a section with it is replaced)",
    )
    ap.add_argument("--worker", choices=["refgraph", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fn = run_refgraph if args.worker == "refgraph" else run_plain
        Path(args.out).write_text(json.dumps(fn(Path(args.file))))
        return
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    args.file = str(folder / f"flows-{args.flows}-{args.npis}-{args.seed}.parquet")
    made = make_parquet(Path(args.file), args.flows, args.npis, args.seed)
    if made:
        print(f"made {args.file}: {made}", flush=True)
    if args.profile:
        rss_by_line(Path(args.file))
        profile_refgraph(Path(args.file))
        return
    args.load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    srcs = {"plain": ROOT / "src", "refgraph": ROOT / "src"}
    if args.baseline_src:
        srcs = {"plain": ROOT / "src", "before": Path(args.baseline_src), "refgraph": ROOT / "src"}
    runs: dict[str, list] = {w: [] for w in srcs}
    for turn in range(args.repeat):
        for worker, src in srcs.items():
            env = {**os.environ, "PYTHONPATH": f"{src}:{ROOT / 'benchmarks'}"}
            out = folder / f"{worker}-{turn}.json"
            out.unlink(missing_ok=True)
            print(f"turn {turn + 1}: {worker}", flush=True)
            kind = "plain" if worker == "plain" else "refgraph"
            cmd = [sys.executable, __file__, "--worker", kind, "--file", args.file]
            err = _run_capped([*cmd, "--out", str(out)], env, args.max_rss_gb)
            res = json.loads(out.read_text()) if out.exists() else {"stages": {}}
            if err:
                res["error"] = err
            runs[worker].append(res)
    text = report(args, made, runs)
    print(text)
    if not args.no_write:
        write_section(ROOT / "benchmarks" / "results" / "national.md", text, args.title)


if __name__ == "__main__":
    main()
