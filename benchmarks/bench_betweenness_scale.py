"""Benchmark: sampled betweenness (k=256) at national scale, beside main's kernel and NetworKit.

Usage::

    python benchmarks/bench_betweenness_scale.py --pairs 5000000 --out /tmp/work/btw
    python benchmarks/bench_betweenness_scale.py --synthetic 100000 --out /tmp/work/btw
        [--k 256] [--rounds 2] [--cases new.1t,new.2t,main,networkit.1t,networkit.2t]
        [--baseline-src /work/main/src] [--results benchmarks/results/centrality.md]

The graph is either a CMS-like shared-patient file made by ``bench_national.py``'s
generator (``--pairs``; NPIs-per-pair ratio of the 2015 national file) or
``synthetic_region(N, seed=0)`` (``--synthetic``, as ``bench_centrality.py``). Its
cost CSR is what ``centrality.betweenness(net, weight="count")`` builds
(``refgraph._kernels.cost_csr``: ``1 / pair_count``, relative tie tolerance 1e-9 when no
integer scale fits) and is saved once as arrays. Every case then runs in a fresh
subprocess on those arrays with the same ``k`` sources (``default_rng(1).choice``, as
``betweenness(..., seed=1)`` draws them):

* ``new.1t`` / ``new.2t`` / ``new.2t.scipy``: this tree's vectorised kernel
  (``_brandes.dependencies`` with SciPy's Dijkstra on 1 thread, NetworKit's on 2, or
  ``.scipy``: SciPy's on 2 threads);
  with ``--paired``, ``new.1t.noprune``: this tree's kernel on the whole graph, without
  ``prune_dominated`` (which ``dependencies`` runs first from 64 sources on);
* ``numba.1t`` / ``numba.2t``: this tree's compiled kernel (``engine="numba"``, the
  ``fast`` extra) on 1 or 2 threads; with ``--paired``, on the pruned graph, its loading
  (and compiling, the first time) done before the timed batches; ``numba.1t.noprune``,
  ``numba.2t.noprune``: on the whole graph;
* ``auto``: this tree's ``dependencies`` with its defaults (what ``betweenness`` runs);
* ``main``: the same function from ``--baseline-src`` (main's code), in the same run;
* ``networkit.1t`` / ``networkit.2t``: NetworKit ``EstimateBetweenness`` (k sources, its
  own sampling, float costs ``1 / volume``: its ties are float-equality ties) on 1 or 2
  OpenMP threads; its graph build is timed apart.

Cases alternate round by round. Each reports the call's wall time, its process's peak RSS
(``VmHWM``) and the load average before it; refgraph cases save their result and the
report gives the largest difference of each to ``main``'s, relative to ``main``'s maximum.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
NATIONAL_PAIRS, NATIONAL_NPIS = 65_739_582, 1_034_612  # 2015 180-day file
CASES = ["new.1t", "new.2t", "numba.1t", "numba.2t", "main", "networkit.1t", "networkit.2t"]


# ------------------------------------------------------------------------------ data
def prepare(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The cost CSR arrays (made once) and what describes them."""
    import scipy.sparse as sp

    from refgraph._kernels import _cost_csr

    args.out.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {}
    if args.synthetic:
        npz = args.out / f"cost_synthetic_{args.synthetic}.npz"
        label = f"synthetic_region({args.synthetic}, seed=0)"
    else:
        npis = max(1000, round(args.pairs * NATIONAL_NPIS / NATIONAL_PAIRS))
        path = args.out / f"pspp_days180_{args.pairs}_{npis}_0.txt"
        npz = path.with_suffix(".cost.npz")
        label = f"CMS-like file {path.name} (bench_national.py generator)"
        if not path.exists():
            sys.path.insert(0, str(HERE))
            from _national_gen import make_file

            info["file"] = make_file(path, args.pairs, npis, 0)
    if not npz.exists():
        t = time.perf_counter()
        if args.synthetic:
            from refgraph._kernels import cost_csr
            from refgraph.datasets import synthetic_region

            cost, scale, tol = cost_csr(synthetic_region(args.synthetic, seed=0), "count")
        else:
            import pyarrow as pa
            import pyarrow.csv as pacsv

            names = ["npi1", "npi2", "pair_count", "bene_count", "same_day_count"]
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(column_names=names),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.int64() for c in names}, include_columns=names[:3]
                ),
            )
            a, b = table["npi1"].to_numpy(), table["npi2"].to_numpy()
            w = table["pair_count"].to_numpy().astype(np.float64)
            del table
            nodes = np.unique(np.concatenate([a, b]))  # sorted NPIs, as the physicians index
            n = len(nodes)
            # int32 positions, as refgraph's own CSR views hold them
            src = np.searchsorted(nodes, a).astype(np.int32)
            dst = np.searchsorted(nodes, b).astype(np.int32)
            del a, b
            cost, scale, tol = _cost_csr(sp.csr_array((w, (src, dst)), shape=(n, n)))
        np.savez(
            npz,
            indptr=cost.indptr,
            indices=cost.indices,
            data=cost.data,
            tol=tol,
            scale=-1 if scale is None else scale,
        )
        info["prepare_s"] = time.perf_counter() - t
    z = np.load(npz)
    info.update(label=label, n=len(z["indptr"]) - 1, m=len(z["indices"]), tol=float(z["tol"]))
    return npz, info


def load_cost(npz: Path) -> tuple[Any, float]:
    import scipy.sparse as sp

    z = np.load(npz)
    n = len(z["indptr"]) - 1
    return sp.csr_array((z["data"], z["indices"], z["indptr"]), shape=(n, n)), float(z["tol"])


# ------------------------------------------------------------------------------ cases
def case(name: str, npz: Path, k: int, save: Path) -> dict[str, Any]:
    cost, tol = load_cost(npz)
    n = cost.shape[0]
    sources = np.random.default_rng(1).choice(n, k, replace=False)
    out: dict[str, Any] = {}
    if name.startswith("networkit"):
        import networkit as nk
        import scipy.sparse as sp

        nk.setNumberOfThreads(1 if name.endswith("1t") else 2)
        t = time.perf_counter()
        g = nk.graph.GraphFromCsr(sp.csr_matrix(cost), directed=True, weighted=True)
        out["build_s"] = time.perf_counter() - t
        nk.engineering.setSeed(1, False)
        t = time.perf_counter()
        nk.centrality.EstimateBetweenness(g, k, False, not name.endswith("1t")).run()
        out["s"] = time.perf_counter() - t
    else:
        from refgraph.centrality._brandes import dependencies

        kw: dict[str, Any] = {}
        if name.startswith("numba"):
            kw["threads"] = 1 if name == "numba.1t" else 2
            kw["engine"] = "numba"
        elif name.startswith("new"):  # the vectorised kernel, as "auto" chose it before numba
            kw["threads"] = 1 if name == "new.1t" else 2
            kw["engine"] = "networkit" if name == "new.2t" else "scipy"
        out["rss_before_mib"] = _status_mib("VmRSS")
        t, p = time.perf_counter(), time.process_time()
        raw = dependencies(cost, sources, tol=tol, **kw)
        out["s"] = time.perf_counter() - t
        out["cpu_s"] = time.process_time() - p  # all threads: the work, whatever the load
        np.save(save, raw)
    out["peak_mib"] = _status_mib("VmHWM")
    return out


def _status_mib(field: str) -> float:
    """A memory figure of this process from ``/proc/self/status``: ``VmHWM`` is the peak
    resident memory (``ru_maxrss`` would carry the parent's peak over ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - Linux only


def paired(args: argparse.Namespace, npz: Path, info: dict[str, Any]) -> str:
    """Every case in one process, batch by batch of sources in turn (load drifts hit all)."""
    import importlib.util

    import networkit as nk
    import scipy.sparse as sp

    from refgraph.centrality import _brandes as new

    spec = importlib.util.spec_from_file_location(
        # a submodule name, so that its relative imports (refgraph._kernels) resolve
        "refgraph.centrality._main_brandes",
        args.baseline_src / "refgraph" / "centrality" / "_brandes.py",
    )
    assert spec is not None and spec.loader is not None
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    cost, tol = load_cost(npz)
    n = cost.shape[0]
    sources = np.random.default_rng(1).choice(n, args.k, replace=False)
    cases = args.cases.split(",")
    g, nk_build, new_build = None, float("nan"), float("nan")
    if any(c.startswith("networkit") for c in cases):  # about 52 bytes an edge: only if run
        t = time.perf_counter()
        g = nk.graph.GraphFromCsr(sp.csr_matrix(cost), directed=True, weighted=True)
        nk_build = time.perf_counter() - t
    block = new._block_size(n, cost.nnz)
    # what dependencies() builds per call: the pruned graph (prune=None prunes from
    # _PRUNE_MIN_SOURCES sources on, the bench's k) and a kernel on it
    t = time.perf_counter()
    pruned = new.prune_dominated(cost, tol) if hasattr(new, "prune_dominated") else cost
    prune_s = time.perf_counter() - t
    k_nk = None
    if "new.2t" in cases:
        t = time.perf_counter()
        k_nk = new._Kernel(pruned, tol, "networkit", block)
        new_build = time.perf_counter() - t
    k_sp = new._Kernel(pruned, tol, "scipy", block)
    k_full = new._Kernel(cost, tol, "scipy", block)
    jit_s = None
    if any(c.startswith("numba") for c in args.cases.split(",")):
        from refgraph.centrality import _brandes_jit as jit

        t = time.perf_counter()
        jit.run(pruned, sources[:1], tol, block, 1, new.sum_blocks)  # load / compile
        jit_s = time.perf_counter() - t

        def numba(s: np.ndarray, threads: int) -> np.ndarray:
            return jit.run(pruned, s, tol, block, threads, new.sum_blocks)  # type: ignore[no-any-return]

    calls: dict[str, Any] = {
        "main": lambda s: old.dependencies(cost, s, tol=tol),
        "new.1t": lambda s: k_sp.run(s, 1),
        "new.1t.noprune": lambda s: k_full.run(s, 1),
        "new.2t": lambda s: k_nk.run(s, 2),  # type: ignore[union-attr]
        "new.2t.scipy": lambda s: k_sp.run(s, 2),
        "numba.1t": lambda s: numba(s, 1),
        "numba.2t": lambda s: numba(s, 2),
        "numba.1t.noprune": lambda s: jit.run(cost, s, tol, block, 1, new.sum_blocks),
        "numba.2t.noprune": lambda s: jit.run(cost, s, tol, block, 2, new.sum_blocks),
    }
    secs = {c: 0.0 for c in cases}
    cpu = {c: 0.0 for c in cases}  # this process's CPU seconds (all threads): load-proof
    sums = {c: np.zeros(n) for c in cases if not c.startswith("networkit")}
    loads = []
    for i, start in enumerate(range(0, args.k, args.batch)):
        batch = sources[start : start + args.batch]
        loads.append(os.getloadavg()[0])
        for c in cases if i % 2 == 0 else cases[::-1]:
            t, p = time.perf_counter(), time.process_time()
            if c.startswith("networkit"):
                nk.setNumberOfThreads(1 if c.endswith("1t") else 2)
                nk.engineering.setSeed(1 + i, False)
                nk.centrality.EstimateBetweenness(g, len(batch), False, c.endswith("2t")).run()
            else:
                sums[c] += calls[c](batch)
            secs[c] += time.perf_counter() - t
            cpu[c] += time.process_time() - p
        print(
            f"batch {i + 1}: "
            + json.dumps({c: round(v, 1) for c, v in secs.items()})
            + " cpu "
            + json.dumps({c: round(v, 1) for c, v in cpu.items()}),
            flush=True,
        )
    ref = sums.get("main")
    lines = [
        f"Graph: {info['label']}: {info['n']:,} physicians, {info['m']:,} directed pairs, "
        f"tie tolerance {info['tol']:g}; k = {args.k} sources in batches of {args.batch}, "
        f"every case on every batch in turn (order reversed every other batch), one process; "
        f"load average {min(loads):.1f}-{max(loads):.1f} at the batch starts. Graph builds, "
        f"once, are outside the times: NetworKit's {nk_build:.1f} s, the new kernel's set-up "
        f"with its NetworKit graph (new.2t) {new_build:.1f} s (nan: not run). The new and "
        f"numba cases (not "
        f"`.noprune`) run on the graph without dominated edges "
        f"(`prune_dominated`: {pruned.nnz:,} of {cost.nnz:,} edges kept, "
        f"{pruned.nnz / max(1, cost.nnz):.1%}), made once in {prune_s:.1f} s, which the "
        f"column 'with pruning' adds."
        + (
            ""
            if jit_s is None
            else f" The compiled kernel's first call (numba import, compiling or loading "
            f"it from the cache, one source), outside the times: {jit_s:.1f} s."
        ),
        "",
        "| case | seconds for k sources | with pruning | vs main | CPU seconds | "
        "max diff to main |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in cases:
        diff = "—"
        if ref is not None and c in sums and c != "main":
            diff = f"{np.max(np.abs(sums[c] - ref)) / max(np.max(np.abs(ref)), 1e-300):.1e}"
        pruned_case = c.startswith(("new", "numba")) and "noprune" not in c
        total = secs[c] + (prune_s if pruned_case else 0.0)
        ratio = f"{secs['main'] / total:.2f}x" if "main" in secs else "—"
        lines.append(f"| {c} | {secs[c]:.1f} | {total:.1f} | {ratio} | {cpu[c]:.1f} | {diff} |")
    return "\n".join(lines) + "\n"


def run_case(name: str, npz: Path, k: int, save: Path, baseline_src: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(baseline_src if name == "main" else SRC)
    cmd = [sys.executable, __file__, "--case", name, "--npz", str(npz), "--k", str(k)]
    cmd += ["--save", str(save)]
    load = os.getloadavg()[0]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        return {"error": p.stderr.strip().splitlines()[-1:], "load": load}
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["load"] = load
    return res


# ------------------------------------------------------------------------------ report
def report(args: argparse.Namespace, info: dict[str, Any], runs: dict[str, list[dict]]) -> str:
    saved = {c: args.out / f"result_{info['n']}_{c}.npy" for c in runs}
    ref = np.load(saved["main"]) if "main" in runs and saved["main"].exists() else None
    lines = [
        f"Graph: {info['label']}: {info['n']:,} physicians, {info['m']:,} directed pairs, "
        f"tie tolerance {info['tol']:g}; k = {args.k} sources.",
        "",
        "| case | call (s; CPU s of all threads), each round | median (s) | vs main "
        "| graph build (s) | peak RSS (MB; resident before the call) | load avg before "
        "| max diff to main |",
        "|---|---|---:|---:|---:|---:|---|---:|",
    ]
    main_s = np.median([r["s"] for r in runs.get("main", []) if "s" in r] or [np.nan])
    for c, rs in runs.items():
        ok = [r for r in rs if "s" in r]
        if not ok:
            lines.append(f"| {c} | failed: {rs[0].get('error')} | | | | | | |")
            continue
        med = float(np.median([r["s"] for r in ok]))
        diff = "—"
        if ref is not None and c not in ("main",) and not c.startswith("networkit"):
            got = np.load(saved[c])
            diff = f"{np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-300):.1e}"
        build = ok[0].get("build_s")
        each = ", ".join(
            f"{r['s']:.1f}" + (f" ({r['cpu_s']:.0f} CPU)" if "cpu_s" in r else "") for r in ok
        )
        loads = ", ".join(f"{r['load']:.1f}" for r in rs)
        lines.append(
            f"| {c} | {each} | {med:.1f} "
            f"| {'—' if np.isnan(main_s) else f'{main_s / med:.2f}x'} "
            f"| {'—' if build is None else f'{build:.1f}'} "
            f"| {max(r['peak_mib'] for r in ok):,.0f}"
            + (f" ({ok[0]['rss_before_mib']:,.0f} before)" if "rss_before_mib" in ok[0] else "")
            + " "
            f"| {loads} | {diff} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pairs", type=int, default=5_000_000)
    ap.add_argument("--synthetic", type=int, help="synthetic_region(N) instead of a CMS file")
    ap.add_argument("--out", type=Path, default=Path("/tmp/refgraph-bench-betweenness"))
    ap.add_argument("--k", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--paired", action="store_true", help="one process, cases batch by batch")
    ap.add_argument("--batch", type=int, default=16, help="sources per batch with --paired")
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--baseline-src", type=Path, default=Path("/work/main/src"))
    ap.add_argument("--results", type=Path)
    ap.add_argument("--case", help=argparse.SUPPRESS)
    ap.add_argument("--npz", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--save", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(case(args.case, args.npz, args.k, args.save)))
        return
    npz, info = prepare(args)
    print(json.dumps(info), flush=True)
    cases = args.cases.split(",")
    runs: dict[str, list[dict]] = {c: [] for c in cases}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if args.paired:
        _publish(args, started, paired(args, npz, info))
        return
    for r in range(args.rounds):
        for c in cases if r % 2 == 0 else cases[::-1]:
            save = args.out / f"result_{info['n']}_{c}.npy"
            res = run_case(c, npz, args.k, save, args.baseline_src)
            runs[c].append(res)
            print(f"round {r + 1} {c:14s} {json.dumps(res)}", flush=True)
    _publish(args, started, report(args, info, runs))


def _publish(args: argparse.Namespace, started: str, body: str) -> None:
    """Print the results with the machine and the command, and append them to --results."""
    text = (
        f"Machine: {os.cpu_count()} CPUs; started {started}; command: `python "
        f"benchmarks/bench_betweenness_scale.py {' '.join(sys.argv[1:])}`\n\n" + body
    )
    print(text)
    if args.results:
        with args.results.open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
