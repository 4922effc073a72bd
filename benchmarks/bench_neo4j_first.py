"""Lazy ``intro_paths``: the first query from a source set, statement by statement, and
queries to targets outside the kept ball, for two copies of refgraph in turns.

Usage::

    python benchmarks/bench_neo4j_first.py [--physicians 100000] [--rounds 3]
        [--far 30] [--heap 1500m] [--pagecache 768m] SRC [SRC ...]

Generates ``synthetic_region(N, seed=1)``, bulk-imports it into a local dev server
(:meth:`Neo4jDevServer.import_network`), then runs, for each round, one child process per
``SRC`` (a ``src`` folder of refgraph, e.g. ``/work/main/src`` and this checkout's; the
order reverses every other round). Each child opens ``ReferralNetwork.from_neo4j(db,
lazy=True)`` and runs ``intro_paths(k=5, max_hops=3)`` from three fixed sources to six
targets within two referral steps (the first query reads the sources' ball and its
sub-network), then to ``--far`` targets three steps away (outside the kept ball). Every
Cypher statement is timed where it is sent (managed reads and auto-commit ones, from any
thread). Prints, per child, the first query with its statements, the other five, and the
far targets' median time and statements; then whether every child's answers (paths and
probabilities to 1e-9) equal the first child's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _child(plan_path: str, out_path: str) -> None:
    from neo4j import Session

    import refgraph
    from refgraph import NoPathError, ReferralNetwork
    from refgraph.backends.neo4j import Neo4jBackend
    from refgraph.paths import intro_paths

    plan = json.loads(Path(plan_path).read_text())
    log: list[tuple[str, float]] = []
    db = Neo4jBackend(plan["uri"], auth=tuple(plan["auth"]), progress=False)
    read_rows = db._read_rows

    def timed(query: str, *a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return read_rows(query, *a, **k)
        finally:
            log.append((" ".join(query.split())[:90], time.perf_counter() - t0))

    db._read_rows = timed  # type: ignore[method-assign]
    run = Session.run

    def timed_run(self: Any, query: Any, *a: Any, **k: Any) -> Any:
        t0 = time.perf_counter()
        got = run(self, query, *a, **k)
        log.append(("(auto) " + " ".join(str(query).split())[:80], time.perf_counter() - t0))
        return got

    Session.run = timed_run  # type: ignore[method-assign]
    net = ReferralNetwork.from_neo4j(db, lazy=True)
    out: dict[str, Any] = {"src": refgraph.__file__, "load": os.getloadavg()[0]}
    for key in ("targets", "far"):
        rows = []
        for target in plan[key]:
            start = len(log)
            t0 = time.perf_counter()
            try:
                res = intro_paths(net, target, sources=plan["sources"], k=5, max_hops=3)
                answer: Any = [
                    [list(p) for p in res.paths["path"]],
                    res.paths["probability"].tolist(),
                ]
            except NoPathError:
                answer = None
            rows.append(
                {"s": time.perf_counter() - t0, "statements": log[start:], "answer": answer}
            )
        out[key] = rows
    Path(out_path).write_text(json.dumps(out))


def _same(a: Any, b: Any) -> bool:
    import numpy as np

    if a is None or b is None:
        return a is None and b is None
    return bool(a[0] == b[0] and np.allclose(a[1], b[1], rtol=1e-9))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("srcs", nargs="*")
    ap.add_argument("--physicians", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--far", type=int, default=30)
    ap.add_argument("--heap", default="1500m")
    ap.add_argument("--pagecache", default="768m")
    ap.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import numpy as np

    from refgraph.backends.devserver import Neo4jDevServer
    from refgraph.datasets import synthetic_region

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_neo4j_overlap import rings

    net = synthetic_region(args.physicians, seed=1)
    near, far = rings(net)
    rng = np.random.default_rng(0)
    npis = net.npis
    plan: dict[str, Any] = {
        "sources": [str(npis[i]) for i in (0, 1, 2)],
        "targets": [str(npis[i]) for i in rng.choice(np.flatnonzero(near), 6, replace=False)],
        "far": [str(npis[i]) for i in rng.choice(np.flatnonzero(far), args.far, replace=False)],
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        Neo4jDevServer(heap=args.heap, pagecache=args.pagecache) as server,
    ):
        t0 = time.perf_counter()
        server.import_network(net, overwrite=True)
        print(f"import {time.perf_counter() - t0:.1f} s, {net.n_flows:,} flows", flush=True)
        del net
        plan.update(uri=server.uri, auth=list(server.auth))
        (Path(tmp) / "plan.json").write_text(json.dumps(plan))
        results = []
        for r in range(args.rounds):
            for k, src in enumerate(args.srcs if r % 2 == 0 else args.srcs[::-1]):
                out = Path(tmp) / f"r{r}-{k}.json"
                env = dict(os.environ, PYTHONPATH=src)
                cmd = [sys.executable, __file__, "--child", str(Path(tmp) / "plan.json"), str(out)]
                subprocess.run(cmd, env=env, check=True)
                got = json.loads(out.read_text())
                results.append(got)
                first, rest, far_rows = got["targets"][0], got["targets"][1:], got["far"]
                print(
                    f"round {r} {got['src']} (load {got['load']:.1f}): first query "
                    f"{first['s']:.2f} s, {len(first['statements'])} statements; next five "
                    + " ".join(f"{q['s'] * 1000:.0f}" for q in rest)
                    + " ms; far targets median "
                    f"{statistics.median(q['s'] for q in far_rows) * 1000:.1f} ms, "
                    f"{statistics.mean(len(q['statements']) for q in far_rows):.2f} statements",
                    flush=True,
                )
                for text, sec in first["statements"]:
                    print(f"    {sec:8.3f} s  {text}", flush=True)
        base = results[0]
        for got in results[1:]:
            same = sum(
                _same(p["answer"], q["answer"])
                for key in ("targets", "far")
                for p, q in zip(base[key], got[key])
            )
            print(f"{got['src']}: {same} of {len(base['targets']) + len(base['far'])} answers "
                  "equal the first child's", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
