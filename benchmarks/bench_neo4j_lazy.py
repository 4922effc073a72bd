"""Lazy Neo4j network against in-memory, same network, same run: time and Python peak RSS.

Usage::

    python benchmarks/bench_neo4j_lazy.py [--physicians 100000] [--queries 100]
        [--hops 3] [--far 0] [--heap 3g] [--pagecache 1g] [--intro-only] [--no-before]
        [--flows-parquet FILE] [--light-memory] [--tmp DIR] [--before-src DIR] [--main-first]

Generates a synthetic region (or, with ``--flows-parquet``, reads a flows-only network
from a Parquet file such as ``bench_parquet_pagerank.py`` makes; the sources are then
three physicians of median degree), saves it, bulk-imports it into a local Neo4j + GDS
dev server (:meth:`Neo4jDevServer.import_network`, each stage timed), then runs child
processes, one after the other, so that each reports its own peak RSS (``VmHWM``) and
the lazy ones the Cypher statements they send (managed reads and auto-commit ones):

- ``lazy``: ``ReferralNetwork.from_neo4j(db, lazy=True)``; PageRank (first call builds
  the store-side projection, the second reuses it), Louvain, and ``--queries``
  ``intro_paths`` queries from three fixed sources to random targets within two referral
  steps of them (the first query reads the sources' ball and, when ``max_hops <= 3``,
  the sub-network of that ball, both kept for the others; a target inside the ball is
  then searched on the kept sub-network after one store-version check, one outside it
  reads the target's ball and the physicians on its paths), then the version check
  alone 50 times (its round trip bounds a query from below) and the size of the kept
  ball network;
- ``lazy_before`` (unless ``--no-before``): the same lazy queries with the statements
  as they were before they were merged (private switch
  ``_lazy_paths._FEW_ROUND_TRIPS = False``: three statements per tie-edge read, the
  general ``Neo4jBackend.read`` of the sub-network, a store version check per kept
  value);
- ``lazy_main`` (with ``--before-src DIR``, e.g. ``/work/main/src``): the ``lazy`` child
  run on the refgraph package in ``DIR`` (the code before a change, same store, same run);
- ``memory``: loads the saved network (Parquet) and runs the same analyses in memory,
  then compares: PageRank max |diff|, the modularity of both partitions, and the paths.

With ``--far N`` every child also times ``N`` queries to targets three referral steps
from the sources (by flows; colleague ties can bring some nearer), which the lazy network
mostly answers by its per-query reads, outside its kept ball.

With ``--intro-only`` the children skip PageRank and Louvain (peak RSS is then the
``intro_paths`` queries' own). With ``--light-memory`` the memory child only runs
PageRank once and scores the lazy partition's modularity (in-memory Louvain and
``intro_paths`` need several GB at 1M physicians).

Prints a markdown table; append it to ``benchmarks/results/neo4j.md`` by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, os.environ.get("REFGRAPH_BENCH_SRC") or str(Path(__file__).parents[1] / "src"))


def _rss_mib() -> float:
    """Peak resident set of this process so far (VmHWM: reset by exec, unlike ru_maxrss)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(kind: str, work: Path) -> None:
    """One side of the comparison; writes ``work/<kind>.json`` (and result files)."""
    import pandas as pd

    from refgraph import NoPathError, ReferralNetwork, centrality, community, load
    from refgraph.paths import intro_paths

    plan = json.loads((work / "plan.json").read_text())
    import refgraph

    out: dict[str, Any] = {"rss_start": _rss_mib(), "src": refgraph.__file__}
    t0 = time.perf_counter()
    if kind.startswith("lazy"):
        from refgraph.backends.neo4j import Neo4jBackend, _lazy_paths

        if kind != "lazy_main":  # (lazy_main runs another copy's code as it is)
            _lazy_paths._FEW_ROUND_TRIPS = kind != "lazy_before"

        db = Neo4jBackend(plan["uri"], auth=tuple(plan["auth"]), progress=False)
        read_rows = db._read_rows

        def counted(*args: Any, **kwargs: Any) -> Any:  # Cypher statements sent
            out["statements"] = out.get("statements", 0) + 1
            return read_rows(*args, **kwargs)

        db._read_rows = counted  # type: ignore[method-assign]
        from neo4j import Session

        session_run = Session.run

        def counted_run(self: Any, *args: Any, **kwargs: Any) -> Any:  # auto-commit ones
            out["statements"] = out.get("statements", 0) + 1
            return session_run(self, *args, **kwargs)

        Session.run = counted_run  # type: ignore[method-assign]
        net: Any = ReferralNetwork.from_neo4j(db, lazy=True)
        out["n"] = net.n_physicians
    else:
        net = load(work / "net")
    out["open"] = time.perf_counter() - t0
    analyses = not plan["intro_only"] and kind in ("lazy", "memory")
    light = kind == "memory" and plan.get("light_memory", False)
    if analyses:
        if kind == "lazy":  # the store-side projections alone, so that their time shows
            t0 = time.perf_counter()
            net._projection("count", False, 1.0)
            out["project"] = time.perf_counter() - t0
            out["rss_after_project"] = _rss_mib()
        t0 = time.perf_counter()
        pr = centrality.pagerank(net, tol=1e-10)
        out["pagerank"] = time.perf_counter() - t0
        if not light:
            t0 = time.perf_counter()
            pr = centrality.pagerank(net, tol=1e-10)
            out["pagerank_again"] = time.perf_counter() - t0
        out["rss_after_pagerank"] = _rss_mib()
        if kind == "lazy":
            t0 = time.perf_counter()
            net._projection("count", True, 1.0)
            out["project_undirected"] = time.perf_counter() - t0
        if not light:
            t0 = time.perf_counter()
            comm = community.louvain(net, seed=1)
            out["louvain"] = time.perf_counter() - t0
    out["rss_before_intro"] = _rss_mib()
    times, found, sent = [], [], []
    n_near = len(plan["targets"])
    for target in [] if light else plan["targets"] + plan.get("far", []):
        before = out.get("statements", 0)
        t0 = time.perf_counter()
        try:
            res = intro_paths(net, target, sources=plan["sources"], k=5, max_hops=plan["hops"])
            found.append([list(p) for p in res.paths["path"]])
            found[-1].append(res.paths["probability"].tolist())
        except NoPathError:
            found.append(None)
        times.append(time.perf_counter() - t0)
        sent.append(out.get("statements", 0) - before)
    if times:
        far, times, far_sent, sent = times[n_near:], times[:n_near], sent[n_near:], sent[:n_near]
        if far:  # targets three referral steps away (after the others)
            out["intro_far_median"] = float(np.median(far))
            out["intro_far_mean"] = float(np.mean(far))
            if kind.startswith("lazy"):
                out["statements_far"] = float(np.mean(far_sent))
        out["intro_first"] = times[0]
        rest = times[1:] or [float("nan")]
        out["intro_rest_mean"] = float(np.mean(rest))
        out["intro_rest_median"] = float(np.median(rest))
        out["intro_total"] = float(np.sum(times))
        if kind.startswith("lazy"):
            out["statements_first"] = sent[0]
            out["statements_rest"] = float(np.mean(sent[1:] or [float("nan")]))
    if kind.startswith("lazy") and times:
        # the one round trip a query on kept values cannot avoid: the store version check,
        # as this code sends it (auto-commit where it has one) and as a managed read
        # transaction (begin, run, commit), alternating
        checks = {"version_rtt_median": getattr(net, "_store_version", None)}
        checks["version_managed_median"] = net.db._store_version
        rtt: dict[str, list[float]] = {k: [] for k, f in checks.items() if f is not None}
        for _ in range(50):
            for key in rtt:
                t0 = time.perf_counter()
                checks[key]()  # type: ignore[misc]
                rtt[key].append(time.perf_counter() - t0)
        out.update({key: float(np.median(v)) for key, v in rtt.items()})
        kept = net._memo.get("intro_ball_networks") or {}
        for got in kept.values():
            if got is not None:
                out["ball_physicians"], out["ball_flows"] = got[0].n_physicians, got[0].n_flows
    if kind in ("lazy", "memory") and not light:  # (the code before had no lazy one)
        from refgraph.paths import best_introducers

        times, best = [], []
        for target in plan["targets"]:
            t0 = time.perf_counter()
            try:
                bi = best_introducers(net, target, sources=plan["sources"], top=5)
                best.append([bi.index.tolist(), bi["probability"].tolist()])
            except NoPathError:
                best.append(None)
            times.append(time.perf_counter() - t0)
        out["best_median"] = float(np.median(times))
        out["best_mean"] = float(np.mean(times))
        (work / f"{kind}_best.json").write_text(json.dumps(best))
    out["rss_peak"] = _rss_mib()
    if analyses and not light:
        pr.to_parquet(work / f"{kind}_pr.parquet")
        comm.to_parquet(work / f"{kind}_comm.parquet")
    if not light:
        (work / f"{kind}_paths.json").write_text(json.dumps(found))
    if kind == "memory":  # compare with the lazy sides, which ran first
        if analyses:
            lp = pd.read_parquet(work / "lazy_pr.parquet")
            out["pr_diff"] = float((lp.loc[pr.index, "pagerank"] - pr["pagerank"]).abs().max())
            lc = pd.read_parquet(work / "lazy_comm.parquet").loc[pr.index]
            out["q_lazy"] = float(community.modularity(net, lc))
            if not light:
                out["q_memory"] = float(community.modularity(net, comm))
        for other in ("lazy", "lazy_before", "lazy_main"):
            if light or not (work / f"{other}_paths.json").exists():
                continue
            lazy_paths = json.loads((work / f"{other}_paths.json").read_text())
            same = 0
            for a, b in zip(lazy_paths, found):
                if a is None or b is None:
                    same += a is None and b is None
                else:
                    same += a[:-1] == b[:-1] and np.allclose(a[-1], b[-1], rtol=1e-9)
            out[f"paths_same_{other}"] = same
        if (work / "lazy_best.json").exists() and not light:
            got = json.loads((work / "lazy_best.json").read_text())
            want = json.loads((work / "memory_best.json").read_text())
            out["best_same"] = sum(
                (a is None and b is None)
                or (a is not None and b is not None and a[0] == b[0] and np.allclose(a[1], b[1]))
                for a, b in zip(got, want)
            )
            out["best_same_probabilities"] = sum(
                (a is None) == (b is None) and (a is None or np.allclose(a[1], b[1], rtol=1e-9))
                for a, b in zip(got, want)
            )
    (work / f"{kind}.json").write_text(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--physicians", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--hops", type=int, default=3)
    ap.add_argument(
        "--far",
        type=int,
        default=0,
        help="also time this many queries to targets three referral steps from the sources "
        "(after the others)",
    )
    ap.add_argument("--heap", default="3g")
    ap.add_argument("--pagecache", default="1g")
    ap.add_argument(
        "--flows-parquet",
        default=None,
        help="read this flows file (bench_parquet_pagerank.py makes one) instead of "
        "generating a synthetic region; sources are then three physicians of median degree",
    )
    ap.add_argument(
        "--light-memory",
        action="store_true",
        help="the memory child runs PageRank once and the lazy partition's modularity only "
        "(in-memory Louvain and intro_paths need several GB at 1M physicians)",
    )
    ap.add_argument("--tmp", default=None, help="folder for the work files")
    ap.add_argument("--intro-only", action="store_true", help="skip PageRank and Louvain")
    ap.add_argument("--no-before", action="store_true", help="skip the lazy_before child")
    ap.add_argument(
        "--main-first",
        action="store_true",
        help="run the lazy_main child before the lazy one (it meets the cold page cache)",
    )
    ap.add_argument(
        "--before-src",
        default=None,
        help="also run the lazy child on the refgraph package in this src folder (lazy_main)",
    )
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--work", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, Path(args.work))
        return

    import refgraph
    from refgraph.backends.devserver import Neo4jDevServer, _admin
    from refgraph.datasets import synthetic_region

    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        if args.flows_parquet:
            net = refgraph.read_network(flows=args.flows_parquet)
        else:
            net = synthetic_region(args.physicians, seed=1)
        gen = time.perf_counter() - t0
        t0 = time.perf_counter()
        net.save(work / "net")
        saved = time.perf_counter() - t0
        # three sources and random targets within two referral steps of them
        rng = np.random.default_rng(0)
        a = net.csr().matrix
        und = ((a + a.T) > 0).astype(np.int8)
        if args.flows_parquet:  # hubs would make every ball the whole network: median ones
            deg = np.asarray(und.sum(axis=1)).ravel()
            mid = np.flatnonzero(deg == int(np.median(deg[deg > 0])))
            src_ids = sorted(rng.choice(mid, 3, replace=False).tolist())
        else:
            src_ids = [0, 1, 2]
        x = np.zeros(a.shape[0], dtype=np.int8)
        x[src_ids] = 1
        one = und @ x
        near = (one + und @ one) > 0
        far = ((und @ (und @ one)) > 0) & ~near
        near[src_ids] = False
        far[src_ids] = False
        cands = np.flatnonzero(near)
        npis = net.npis
        plan: dict[str, Any] = {
            "sources": [str(npis[i]) for i in src_ids],
            "targets": [str(npis[i]) for i in rng.choice(cands, args.queries, replace=True)],
            "far": [str(npis[i]) for i in rng.choice(np.flatnonzero(far), args.far)],
            "hops": args.hops,
            "intro_only": bool(args.intro_only),
            "light_memory": bool(args.light_memory),
        }
        n_phys, n_flows = net.n_physicians, net.n_flows
        del a, und, x, one, near, far, npis
        server = Neo4jDevServer(heap=args.heap, pagecache=args.pagecache)
        server.start(timeout=300)
        try:
            rss0 = _rss_mib()
            t0 = time.perf_counter()
            server.import_network(net, overwrite=True)
            imp = time.perf_counter() - t0
            stages = dict(_admin._LAST_STAGES)
            rss_import = _rss_mib()
            del net
            plan.update(uri=server.uri, auth=list(server.auth))
            (work / "plan.json").write_text(json.dumps(plan))
            print(
                f"import {imp:.1f} s, stages {stages}, main VmHWM {rss0:,.0f} -> "
                f"{rss_import:,.0f} MiB",
                flush=True,
            )
            res = {}
            kinds = ["lazy"] + ([] if args.no_before else ["lazy_before"])
            kinds += (["lazy_main"] if args.before_src else []) + ["memory"]
            if args.main_first and args.before_src:
                kinds.remove("lazy_main")
                kinds.insert(0, "lazy_main")
            for kind in kinds:
                cmd = [sys.executable, __file__, "--child", kind, "--work", str(work)]
                env = dict(os.environ)
                if kind == "lazy_main":
                    env["REFGRAPH_BENCH_SRC"] = str(Path(args.before_src).resolve())
                subprocess.run(cmd, check=True, env=env)
                res[kind] = json.loads((work / f"{kind}.json").read_text())
                print(kind, res[kind], flush=True)
        finally:
            server.stop()
    cols = [k for k in ("lazy_before", "lazy_main", "lazy", "memory") if k in res]
    rows: list[list[str]] = []

    def row(step: str, key: str, note: str = "", fmt: str = "{:.3f}") -> None:
        cells = [fmt.format(res[k][key]) if key in res[k] else "" for k in cols]
        rows.append([step, *cells, note])

    mem = res["memory"]
    made = "read_network(flows=Parquet)" if args.flows_parquet else "generate synthetic region"
    rows.append([made, *[""] * len(cols), f"{gen:.1f} s"])
    rows[-1][-1] += f"; {n_phys:,} physicians / {n_flows:,} flows; save {saved:.1f} s"
    rows.append(
        [
            "bulk import_network (end to end)",
            *[""] * len(cols),
            f"{imp:.1f} s = {n_flows / imp:,.0f} flows/s; Python peak RSS {rss_import:,.0f} MiB",
        ]
    )
    for key, label in (
        ("write_files_s", "write import files (Python)"),
        ("admin_s", "neo4j-admin import (wall)"),
        ("admin_reported_s", "neo4j-admin import (its own report)"),
        ("restart_s", "restart the server"),
        ("schema_s", "constraints, indexes, counts"),
    ):
        if key in stages:
            rate = f" = {n_flows / stages[key]:,.0f} flows/s" if key.startswith("admin") else ""
            rows.append([f"- {label}", *[""] * len(cols), f"{stages[key]:.1f} s{rate}"])
    row("open (lazy: connect + count; memory: load Parquet)", "open")
    if not args.intro_only:
        row("GDS projection, directed (store-side Cypher aggregation)", "project")
        row(
            "PageRank, first call (lazy: builds the projection)",
            "pagerank",
            f"max abs diff {mem['pr_diff']:.1e}",
        )
        row("PageRank, second call (lazy: kept projection)", "pagerank_again")
        row("GDS projection, undirected", "project_undirected")
        row(
            "Louvain (undirected projection, then kept)",
            "louvain",
            f"modularity lazy {mem['q_lazy']:.4f}, memory {mem.get('q_memory', float('nan')):.4f}",
        )
    same = ", ".join(
        f"{k} {mem['paths_same_' + k]}/{args.queries + args.far}"
        for k in cols
        if "paths_same_" + k in mem
    )
    row(f"intro_paths: first of {args.queries} (lazy: reads the sources' ball)", "intro_first")
    row(
        f"intro_paths: mean of the other {args.queries - 1}",
        "intro_rest_mean",
        f"same paths and probabilities as memory: {same}",
    )
    row(f"intro_paths: median of the other {args.queries - 1}", "intro_rest_median")
    row("Cypher statements: first intro_paths query", "statements_first", "", "{:,.0f}")
    row("Cypher statements per other query (mean)", "statements_rest", "", "{:.1f}")
    row(f"intro_paths: all {args.queries}", "intro_total")
    if args.far:
        row(
            f"intro_paths: median of {args.far} targets three referral steps away",
            "intro_far_median",
        )
        row(f"intro_paths: mean of those {args.far}", "intro_far_mean")
        row("Cypher statements per query to those (mean)", "statements_far", "", "{:.1f}")
    row("store version check alone, auto-commit: median of 50", "version_rtt_median")
    row("store version check alone, managed read: median of 50", "version_managed_median")
    row("kept ball network: physicians", "ball_physicians", "", "{:,.0f}")
    row("kept ball network: flows", "ball_flows", "", "{:,.0f}")
    if "best_same" in mem:
        note = (
            f"same introducers in the same order as memory: {mem['best_same']}/{args.queries}, "
            f"same probabilities: {mem['best_same_probabilities']}/{args.queries}"
        )
        row(f"best_introducers: median of {args.queries} (after intro_paths)", "best_median", note)
        row(f"best_introducers: mean of {args.queries}", "best_mean")
    row("Python peak RSS (MiB), whole child", "rss_peak", "", "{:,.0f}")
    row(
        "Python peak RSS before intro_paths (MiB)",
        "rss_before_intro",
        "after open" + ("" if args.intro_only else ", PageRank x2, Louvain"),
        "{:,.0f}",
    )
    if not args.intro_only:
        row("Python peak RSS after projection (MiB)", "rss_after_project", "", "{:,.0f}")
        row("Python peak RSS after PageRank x2 (MiB)", "rss_after_pagerank", "", "{:,.0f}")
    row("Python RSS at start (MiB)", "rss_start", "", "{:,.0f}")
    print("| step | " + " | ".join(f"{k} (s)" for k in cols) + " | note |")
    print("|---|" + "---:|" * len(cols) + "---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()
