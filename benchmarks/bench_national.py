"""The national benchmark (issue 11): a CMS shared-patient file end to end, beside a plain pipeline.

Usage::

    python benchmarks/bench_national.py [--pairs 65700000] [--npis N] [--out DIR]
        [--stages read summary pagerank louvain betweenness intro] [--queries 1000]
        [--query-budget 600] [--betweenness-k 256] [--results benchmarks/results/national.md]
        [--src OTHER_CHECKOUT/src]

1. **File.** A synthetic *Physician Shared Patient Patterns* file in the raw CMS
   format that :func:`refgraph.read_cms_shared_patients` reads: headerless lines
   ``npi1,npi2,pair_count,bene_count,same_day_count``. The 2015 180-day file has
   about 1.03M NPIs and 65.7M pairs; ``--pairs`` scales it down and ``--npis``
   defaults to the same NPIs-per-pair ratio. Shaped like the real file: NPIs are
   valid (Luhn check digit over ``80840``), one line per ordered pair, no self
   pairs, sorted by ``npi1``; out-degrees are lognormal (heavy tail: a few
   physicians share patients with thousands); targets are chosen by a heavy-tailed
   popularity (Pareto), 30% inside the physician's practice (1-60 physicians), 55%
   inside the region (about 2,000 physicians) and 15% anywhere; counts follow CMS
   suppression (``bene_count >= 11``), ``pair_count >= bene_count`` and
   ``same_day_count <= pair_count``. Generated with numpy and written by
   ``pyarrow.csv`` (no per-row Python); made once per size and seed, then reused.
2. **refgraph** (one subprocess): ``read_cms_shared_patients`` -> ``net.summary()``
   -> ``centrality.pagerank`` -> ``community.louvain`` -> ``centrality.betweenness
   (k=256)`` (``--betweenness-k``) -> ``--queries`` ``paths.intro_paths`` queries
   (k=5, max_hops=3), each from a random physician to one reached by a random walk
   of 1-3 ties (so 1-3 ties apart), stopped after ``--query-budget`` seconds.
3. **Plain pipeline** (another subprocess, same file): ``pyarrow.csv.read_csv``
   (NPIs as int64) -> Arrow ``dictionary_encode`` of both NPI columns together ->
   NetworKit graph from COO -> NetworKit PageRank on one thread -> PLM (Louvain,
   undirected graph built with scipy) -> ``EstimateBetweenness`` with 256 sources
   (cost ``1 / pair_count``, as refgraph's ``weight="count"``).

Each stage's wall time and peak resident memory (``VmHWM`` of the process, reset
at the start of each stage by writing ``5`` to ``/proc/self/clear_refs``, as in
``bench_readers.py``) are recorded. PageRank uses the L1 tolerance 1e-6 for both
(as ``bench_centrality.py``). The two pipelines run one after the other, not at
the same time, so they do not compete for the two cores.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _national_gen import make_file

ROOT = Path(__file__).resolve().parents[1]
NATIONAL_PAIRS, NATIONAL_NPIS = 65_739_582, 1_034_612  # 2015 180-day file
K_PATHS, MAX_HOPS, K_BETWEENNESS, TOL = 5, 3, 256, 1e-6
STAGES = ("read", "summary", "pagerank", "louvain", "betweenness", "intro")


# ------------------------------------------------------------------------------ measuring
def _status_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - Linux only


class Stages:
    """Wall time and peak RSS of each stage (``VmHWM`` reset at the start of each)."""

    def __init__(self, save: Path | None = None, info: dict[str, Any] | None = None) -> None:
        self.out: dict[str, dict[str, float]] = {}
        self.save = save  # what is known is written here at each stage (a killed run keeps it)
        self.info = {} if info is None else info

    def _dump(self) -> None:
        if self.save is not None:
            self.save.write_text(json.dumps({**self.info, "stages": self.out, "partial": True}))

    def run(self, name: str, fn: Any) -> Any:
        self._dump()
        Path("/proc/self/clear_refs").write_text("5")
        t0 = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - t0
        self.out[name] = {
            "s": seconds,
            "peak_mib": _status_mib("VmHWM"),
            "rss_after_mib": _status_mib("VmRSS"),  # what the process holds after the stage
        }
        print(
            f"  {name:22s} {seconds:8.2f} s  peak {self.out[name]['peak_mib']:7.0f} MiB"
            f"  after {self.out[name]['rss_after_mib']:7.0f} MiB",
            flush=True,
        )
        self._dump()
        return value


# ------------------------------------------------------------------------------ refgraph
def _walk_queries(indptr: np.ndarray, nbr: np.ndarray, n: int, rng: Any) -> list[tuple[int, int]]:
    """``n`` (source, target) node pairs 1-3 ties apart: a random walk of 1-3 referrals."""
    out: list[tuple[int, int]] = []
    deg = np.diff(indptr)
    starts = np.flatnonzero(deg > 0)
    while len(out) < n:
        s = int(rng.choice(starts))
        v = s
        for _ in range(int(rng.integers(1, MAX_HOPS + 1))):
            if deg[v] == 0:
                break
            v = int(nbr[indptr[v] + rng.integers(deg[v])])
        if v != s:
            out.append((s, v))
    return out


def _save_path(path: Path, worker: str) -> Path:
    return Path(f"{path}.{worker}.json")


def run_refgraph(
    path: Path, stages: list[str], n_queries: int, budget: float, bk: int = K_BETWEENNESS
) -> dict[str, Any]:

    import refgraph
    from refgraph import NoPathError
    from refgraph.centrality import betweenness, pagerank
    from refgraph.community import louvain
    from refgraph.paths import intro_paths

    info: dict[str, Any] = {"after_imports_mib": _status_mib("VmRSS")}
    st = Stages(_save_path(path, "refgraph"), info)
    net = st.run(
        "read", lambda: refgraph.read_cms_shared_patients(path, window_days=180, year=2015)
    )
    info.update(physicians=int(net.n_physicians), flows=int(net.n_flows))
    info["rejected_rows"] = int(net.ingest["flows"].n_rejected_rows)
    if "summary" in stages:
        info["summary"] = {k: str(v) for k, v in st.run("summary", net.summary).items()}
    if "pagerank" in stages:
        pr = st.run("pagerank", lambda: pagerank(net, tol=TOL))
        info["pagerank_iterations"] = int(pr.attrs.get("iterations", -1))
    if "louvain" in stages:
        lv = st.run("louvain", lambda: louvain(net, seed=1))
        info["louvain"] = {k: float(lv.attrs[k]) for k in ("modularity", "n_communities")}
    if "betweenness" in stages:
        st.run("betweenness", lambda: betweenness(net, k=bk, seed=1, weight="count"))
        info["betweenness_k"] = bk
    if "intro" in stages:
        g = net.csr()  # the network's own cached view: nothing is copied for the sampling
        rng = np.random.default_rng(7)
        pairs = _walk_queries(g.matrix.indptr, g.matrix.indices, n_queries, rng)
        npis = np.asarray(g.npis)
        times: list[float] = []
        cpu: list[float] = []  # process CPU time a query: steadier than wall when busy
        no_path = 0

        def queries() -> None:
            nonlocal no_path
            t_end = time.perf_counter() + budget
            for s, t in pairs:
                t0, c0 = time.perf_counter(), time.process_time()
                try:
                    intro_paths(
                        net, str(npis[t]), sources=[str(npis[s])], k=K_PATHS, max_hops=MAX_HOPS
                    )
                except NoPathError:
                    no_path += 1
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
                if time.perf_counter() > t_end:
                    break

        st.run("intro", queries)
        ms = np.array(times) * 1e3
        info["intro"] = {
            "queries": len(times),
            "asked": n_queries,
            "no_path": no_path,
            "median_ms": float(np.median(ms)),
            "mean_ms": float(ms.mean()),
            "p99_ms": float(np.percentile(ms, 99)),
            "cpu_median_ms": float(np.median(cpu) * 1e3),
        }
    info["stages"] = st.out
    return info


# ------------------------------------------------------------------------------ baseline
def nk_pagerank(g: Any) -> int:
    """The baseline's PageRank: NetworKit, damping 0.85, ``TOL``, sinks spread, L1 norm;
    its number of iterations."""
    import networkit as nk

    pr = nk.centrality.PageRank(
        g, damp=0.85, tol=TOL, distributeSinks=nk.centrality.SinkHandling.DistributeSinks
    )
    pr.norm = nk.centrality.Norm.L1_NORM
    pr.run()
    return int(pr.numberOfIterations())


def run_baseline(path: Path, stages: list[str], bk: int = K_BETWEENNESS) -> dict[str, Any]:
    import networkit as nk
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import scipy.sparse as sp

    nk.setNumberOfThreads(1)
    info: dict[str, Any] = {"after_imports_mib": _status_mib("VmRSS")}
    st = Stages(_save_path(path, "baseline"), info)
    names = ["npi1", "npi2", "pair_count", "bene_count", "same_day_count"]
    table = st.run(
        "read",
        lambda: pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.int64() for c in names}),
        ),
    )

    def encode(table: Any) -> tuple[np.ndarray, np.ndarray, int]:
        both = pa.concat_arrays([table["npi1"].combine_chunks(), table["npi2"].combine_chunks()])
        enc = pc.dictionary_encode(both)
        codes = enc.indices.to_numpy().astype(np.int64)
        m = table.num_rows
        return codes[:m], codes[m:], len(enc.dictionary)

    src, dst, n = st.run("encode", functools.partial(encode, table))
    w = table["pair_count"].to_numpy().astype(np.float64)
    del table
    info.update(physicians=n, flows=len(src))
    if "pagerank" in stages:  # the directed graph is PageRank's; later stages build their own
        g = st.run(
            "graph",
            lambda: nk.graph.GraphFromCoo((w, (src, dst)), n=n, weighted=True, directed=True),
        )
        info["pagerank_iterations"] = st.run("pagerank", functools.partial(nk_pagerank, g))
        del g  # a plain pipeline lets it go before Louvain
    if "louvain" in stages:

        def plm() -> dict[str, float]:
            a = sp.csr_array((w, (src, dst)), shape=(n, n))
            u = sp.triu(a + a.T, k=1).tocoo()
            del a
            gu = nk.graph.GraphFromCoo(
                (u.data, (u.row.astype(np.int64), u.col.astype(np.int64))),
                n=n,
                weighted=True,
                directed=False,
            )
            p = nk.community.PLM(gu, refine=False, gamma=1.0, par="balanced")
            p.run()
            part = p.getPartition()
            return {
                "modularity": nk.community.Modularity().getQuality(part, gu),
                "n_communities": part.numberOfSubsets(),
            }

        info["louvain"] = st.run("louvain", plm)
    if "betweenness" in stages:

        def eb() -> None:
            gc = nk.graph.GraphFromCoo((1.0 / w, (src, dst)), n=n, weighted=True, directed=True)
            nk.engineering.setSeed(1, False)
            nk.centrality.EstimateBetweenness(gc, bk, False, False).run()

        st.run("betweenness", eb)
        info["betweenness_k"] = bk
    info["stages"] = st.out
    return info


# ------------------------------------------------------------------------------ report
def _x(ratio: float) -> str:
    """A ratio as ``1.5x``; a dash when it could not be measured (NaN)."""
    return "—" if ratio != ratio else f"{ratio:.1f}x"


def _fmt(x: float | None, nd: int = 2) -> str:
    return "—" if x is None else f"{x:,.{nd}f}"


def report(args: argparse.Namespace, made: dict[str, float], rg: dict, base: dict) -> str:
    R, B = rg.get("stages", {}), base.get("stages", {})
    rows = [
        ("read (file -> validated network / Arrow table)", "read", "read"),
        ("encode NPIs (Arrow `dictionary_encode`)", None, "encode"),
        ("NetworKit graph from COO", None, "graph"),
        ("`net.summary()`", "summary", None),
        ("PageRank (tol 1e-6; NetworKit 1 thread)", "pagerank", "pagerank"),
        ("Louvain (NetworKit PLM, incl. undirected graph)", "louvain", "louvain"),
        (
            f"betweenness k={rg.get('betweenness_k', K_BETWEENNESS)} "
            "(NetworKit Estimate, incl. cost graph)",
            "betweenness",
            "betweenness",
        ),
        (
            f"{rg['intro']['queries']} `intro_paths` queries"
            if "intro" in rg
            else "`intro_paths` queries (not measured)",
            "intro",
            None,
        ),
    ]
    lines = [
        "| stage | refgraph s | baseline s | refgraph / baseline | refgraph peak MiB "
        "| baseline peak MiB |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r, b in rows:
        rs = R.get(r, {}).get("s") if r else None
        bs = B.get(b, {}).get("s") if b else None
        ratio = f"{rs / bs:.1f}x" if rs is not None and bs else "—"
        rp = R.get(r, {}).get("peak_mib") if r else None
        bp = B.get(b, {}).get("peak_mib") if b else None
        lines.append(
            f"| {label} | {_fmt(rs)} | {_fmt(bs)} | {ratio} | {_fmt(rp, 0)} | {_fmt(bp, 0)} |"
        )
    r_tot = sum(v["s"] for v in R.values())
    b_tot = sum(v["s"] for v in B.values())
    r_peak = max((v["peak_mib"] for v in R.values()), default=0.0)
    b_peak = max((v["peak_mib"] for v in B.values()), default=0.0)
    tot_ratio = f"{r_tot / b_tot:.1f}x" if R and b_tot > 0 else "—"
    lines.append(
        f"| **total** | {r_tot:,.1f} | {b_tot:,.1f} | {tot_ratio} | {r_peak:,.0f} | {b_peak:,.0f} |"
    )
    e2e_r = R.get("read", {}).get("s", 0) + R.get("pagerank", {}).get("s", 0)
    e2e_b = sum(B.get(k, {}).get("s", 0) for k in ("read", "encode", "graph", "pagerank"))
    intro = rg.get("intro", {})
    have_read = "read" in R and "read" in B
    read_ratio = R["read"]["s"] / B["read"]["s"] if have_read else float("nan")
    read_mem = (
        (R["read"]["peak_mib"] - rg.get("after_imports_mib", 0.0))
        / max(B["read"]["peak_mib"] - base.get("after_imports_mib", 0.0), 1.0)
        if have_read
        else float("nan")
    )
    national = args.pairs >= NATIONAL_PAIRS
    # whole-pipeline figures only judge a run with every stage, none stopped
    complete = set(STAGES) <= set(R) and not rg.get("killed")
    have_e2e = have_read and all(k in B for k in ("encode", "graph", "pagerank"))
    have_e2e = have_e2e and "pagerank" in R

    e2e_text = f"{e2e_r:.1f} s vs {e2e_b:.1f} s = {e2e_r / e2e_b:.1f}x" if have_e2e else "—"

    def verdict(ok: bool, applies: bool = True, measured: bool = True) -> str:
        if not measured:
            return "not measured (stages missing or stopped)"
        return (
            ("pass" if ok else "**fail**")
            if applies
            else ("pass" if ok else "fail")
            + " (target is set for the national size; shown for reference)"
        )

    targets = [
        "| issue 11 target | measured | verdict |",
        "|---|---|---|",
        f"| `read_cms_shared_patients` within 3x of `pyarrow.csv.read_csv` | {_x(read_ratio)} | "
        f"{verdict(read_ratio <= 3, measured=have_read)} |",
        f"| read's added peak memory under 2x the raw Arrow read's | {_x(read_mem)} | "
        f"{verdict(read_mem < 2, measured=have_read)} |",
        f"| file -> PageRank within 2x of pyarrow + `dictionary_encode` + NetworKit "
        f"(issue: Parquet at 1M/20M; here the CMS text file) | "
        f"{e2e_text} | {verdict(e2e_r <= 2 * e2e_b, measured=have_e2e)} |",
        "| `intro_paths` median <= 5 ms a query (k=5, max_hops=3) | "
        f"{_fmt(intro.get('median_ms'))} ms (mean {_fmt(intro.get('mean_ms'))}, "
        f"p99 {_fmt(intro.get('p99_ms'))}; CPU median {_fmt(intro.get('cpu_median_ms'))} ms) | "
        f"{verdict(intro.get('median_ms', 1e9) <= 5) if intro else 'not measured'} |",
        f"| whole pipeline <= 15 minutes | {r_tot / 60:.1f} min | "
        f"{verdict(r_tot <= 900, national, measured=complete)} |",
        f"| peak RSS <= 12 GB | {r_peak / 1024:.2f} GiB | "
        f"{verdict(r_peak <= 12 * 1024, national, measured=complete)} |",
    ]
    size = Path(args.file).stat().st_size / 2**20
    head = [
        f"## {args.pairs:,} pairs, {rg.get('physicians', 0):,} physicians",
        "",
        f"Command: `python benchmarks/bench_national.py --pairs {args.pairs} --npis {args.npis} "
        f"--queries {args.queries} --query-budget {args.query_budget:g}"
        + (f" --betweenness-k {args.betweenness_k}" if args.betweenness_k != K_BETWEENNESS else "")
        + "` "
        f"({time.strftime('%Y-%m-%d')}). "
        f"File: {size:,.0f} MiB of raw headerless CMS text"
        + (
            f", generated in {made['generate_s']:.1f} s and written in {made['write_s']:.1f} s"
            if made
            else " (made by an earlier run with the same size and seed)"
        )
        + f"; {rg.get('flows', 0):,} flows accepted, {rg.get('rejected_rows', 0)} rejected. "
        "refgraph and the plain pipeline each ran in their own process, one after the other; "
        "peak MiB is the process's `VmHWM` during the stage (reset at its start), so it "
        "includes what earlier stages still hold.",
        "",
    ]
    killed = [
        f"{w}: {d['killed']}" for w, d in (("refgraph", rg), ("baseline", base)) if d.get("killed")
    ]
    notes = [
        "",
        *(
            [
                f"**Stopped early** ({'; '.join(killed)}); the stages listed are those that "
                "finished.",
                "",
            ]
            if killed
            else []
        ),
        f"PageRank iterations: refgraph {rg.get('pagerank_iterations', '—')}, NetworKit "
        f"{base.get('pagerank_iterations', '—')}. Louvain: refgraph "
        f"{rg.get('louvain', {}).get('n_communities', 0):,.0f} communities, modularity "
        f"{rg.get('louvain', {}).get('modularity', float('nan')):.3f}; NetworKit PLM "
        f"{base.get('louvain', {}).get('n_communities', 0):,.0f}, "
        f"{base.get('louvain', {}).get('modularity', float('nan')):.3f}. "
        + (
            f"`intro_paths`: {intro.get('queries', 0)} of {intro.get('asked', 0)} queries ran "
            f"(budget {args.query_budget:g} s), {intro.get('no_path', 0)} raised `NoPathError`."
            if intro
            else ""
        ),
        "",
    ]
    return "\n".join(head + lines + [""] + targets + notes)


def write_section(results: Path, pairs: int, text: str) -> None:
    """Replace (or add) this size's section of the results file."""
    title = f"## {pairs:,} pairs"
    old = results.read_text() if results.exists() else "# National benchmark (issue 11)\n\n"
    parts = old.split("\n## ")
    kept = [parts[0]] + ["## " + p for p in parts[1:] if not ("## " + p).startswith(title)]
    results.write_text("\n".join(p.rstrip("\n") + "\n" for p in kept) + "\n" + text)


def _run_capped(cmd: list[str], env: dict[str, str], max_gb: float) -> str:
    """Run a worker, killing it if its resident size passes ``max_gb``; why it was killed."""
    proc = subprocess.Popen(cmd, env=env)
    top = 0.0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            rss = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))
        except (OSError, StopIteration):
            rss = 0
        top = max(top, rss / 2**20)
        if top > max_gb:
            proc.kill()
            proc.wait()
            print(f"  killed: resident size {top:.1f} GiB > --max-rss-gb {max_gb:g}", flush=True)
            return f"killed at {top:.1f} GiB resident (cap {max_gb:g} GiB)"
        time.sleep(0.25)
    if proc.returncode:
        return f"exited with status {proc.returncode}"
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=NATIONAL_PAIRS)
    ap.add_argument("--npis", type=int, help="default: the national NPIs-per-pair ratio")
    ap.add_argument("--out", type=Path, default=Path("/tmp/refgraph-bench-national"))
    ap.add_argument("--stages", nargs="*", default=list(STAGES), choices=STAGES)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--query-budget", type=float, default=600.0, help="seconds for the queries")
    ap.add_argument(
        "--betweenness-k", type=int, default=K_BETWEENNESS, help="sampled sources (issue: 256)"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--no-refgraph", action="store_true", help="run the plain pipeline only")
    ap.add_argument("--max-rss-gb", type=float, default=8.0, help="kill a worker above this")
    ap.add_argument("--results", type=Path, help="markdown file to write this size's section in")
    ap.add_argument(
        "--report-from",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="write the report from saved worker results (refgraph JSON files, later ones "
        "adding stages, then the baseline JSON) instead of running",
    )
    ap.add_argument(
        "--src",
        type=Path,
        default=ROOT / "src",
        help="the refgraph source tree the workers import (default: this checkout's src; "
        "give another checkout's to measure a baseline version of the library)",
    )
    ap.add_argument("--worker", choices=("refgraph", "baseline"), help=argparse.SUPPRESS)
    ap.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.npis is None:
        args.npis = max(1000, round(args.pairs * NATIONAL_NPIS / NATIONAL_PAIRS))
    if args.worker:
        if args.worker == "refgraph":
            res = run_refgraph(
                args.file, args.stages, args.queries, args.query_budget, args.betweenness_k
            )
        else:
            res = run_baseline(args.file, args.stages, args.betweenness_k)
        _save_path(args.file, args.worker).write_text(json.dumps(res))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    args.file = args.out / f"pspp_days180_{args.pairs}_{args.npis}_{args.seed}.txt"
    if args.report_from:
        *parts, base_json = [json.loads(p.read_text()) for p in args.report_from]
        rg: dict[str, Any] = {"stages": {}}
        for part in parts:  # a run of some stages completes or replaces another's
            stages = {**rg["stages"], **part.get("stages", {})}
            rg = {**rg, **part, "stages": stages}
        rg["killed"] = "; ".join(p["killed"] for p in parts if p.get("killed"))
        text = report(args, {}, rg, base_json)
        print(text)
        if args.results:
            write_section(args.results, args.pairs, text)
        return
    made = make_file(args.file, args.pairs, args.npis, args.seed)
    if made:
        print(f"file: generated in {made['generate_s']:.1f} s, written in {made['write_s']:.1f} s")
    got: dict[str, dict] = {}
    workers = [w for w in ("refgraph", "baseline") if not getattr(args, f"no_{w}")]
    for worker in workers:
        print(worker, flush=True)
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            worker,
            "--file",
            str(args.file),
            "--pairs",
            str(args.pairs),
            "--npis",
            str(args.npis),
            "--queries",
            str(args.queries),
            "--query-budget",
            str(args.query_budget),
            "--betweenness-k",
            str(args.betweenness_k),
            "--stages",
            *args.stages,
        ]
        env = {**os.environ, "PYTHONPATH": str(args.src)}
        _save_path(args.file, worker).unlink(missing_ok=True)
        killed = _run_capped(cmd, env, args.max_rss_gb)
        saved = _save_path(args.file, worker)
        got[worker] = json.loads(saved.read_text()) if saved.exists() else {"stages": {}}
        if killed:
            got[worker]["killed"] = killed
            saved.write_text(json.dumps(got[worker]))
    text = report(
        args, made, got.get("refgraph", {"stages": {}}), got.get("baseline", {"stages": {}})
    )
    print(text)
    if args.results:
        write_section(args.results, args.pairs, text)


if __name__ == "__main__":
    main()
