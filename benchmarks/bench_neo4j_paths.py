"""``paths.intro_paths`` pushed down to Neo4j GDS against the in-memory search, per query.

Usage::

    python benchmarks/bench_neo4j_paths.py [--physicians 10000] [--queries 100]

Starts a local Neo4j 5.26 + GDS dev server, loads a synthetic region, reads it back
and runs the same ``--queries`` queries (five fixed sources, random targets, ``k=5``,
``max_hops=3``) three ways: in memory, pushed down with the projection kept across
queries (the default), and pushed down with one projection per query
(``reuse_projections = False``). Every pushed-down answer is checked against the
in-memory one. Prints a markdown table; ``--out FILE`` also writes it.

Run against an older checkout (no ``reuse_projections``) it times that code's
pushdown as "one projection per query".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--physicians", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from refgraph import NoPathError
    from refgraph.backends.devserver import Neo4jDevServer
    from refgraph.backends.neo4j import Neo4jBackend
    from refgraph.datasets import synthetic_region
    from refgraph.paths import intro_paths

    net = synthetic_region(args.physicians, seed=1)
    rng = np.random.default_rng(3)
    npis = [str(x) for x in net.npis]
    sources = [str(x) for x in rng.choice(npis, 5, replace=False)]
    targets = [str(x) for x in rng.choice([x for x in npis if x not in sources], args.queries)]
    opts = {"sources": sources, "k": 5, "max_hops": 3}

    def run(on: object) -> tuple[list[float], list[object]]:
        times, answers = [], []
        for t in targets:
            t0 = time.perf_counter()
            try:
                res: object = intro_paths(on, t, **opts)  # type: ignore[arg-type]
            except NoPathError:
                res = None
            times.append(time.perf_counter() - t0)
            answers.append(None if res is None else res.paths["path"].tolist())  # type: ignore[attr-defined]
        return times, answers

    rows: list[tuple[str, list[float]]] = []
    with Neo4jDevServer(heap=args.heap, pagecache="1g") as server:
        db = Neo4jBackend(server.uri, auth=server.auth, batch_size=10_000, progress=False)
        db.delete(everything=True)
        db.write(net)
        back = db.read()
        run(net)  # warm the in-memory caches (tie graph) like a session would
        mem_t, want = run(net)
        rows.append(("in memory", mem_t))
        modes = [("pushed down, projection kept across queries", True)]
        modes.append(("pushed down, one projection per query", False))
        if hasattr(Neo4jBackend, "_PRUNE_PER_QUERY"):
            modes.append(("pushed down, one projection per query, not target-pruned", None))
        if not hasattr(Neo4jBackend, "reuse_projections"):
            modes = [("pushed down, one projection per query (this checkout)", False)]
        for label, reuse in modes:
            if hasattr(db, "reuse_projections"):
                db.reuse_projections = bool(reuse)
            if hasattr(db, "_PRUNE_PER_QUERY"):
                db._PRUNE_PER_QUERY = reuse is not None  # None: the whole graph per query
            got_t, got = run(back)
            assert got == want, f"{label}: answers differ from memory"
            rows.append((label, got_t))
        db.delete(everything=True)
        db.close()
    base = statistics.median(mem_t)
    lines = [
        f"## `intro_paths` pushed down ({net.n_physicians:,} physicians, "
        f"{net.n_flows:,} flows, {args.queries} queries, k=5, max_hops=3, five sources)",
        "",
        "| how | total s | median ms | p90 ms | median / memory |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, ts in rows:
        med = statistics.median(ts)
        p90 = float(np.percentile(ts, 90))
        lines.append(
            f"| {label} | {sum(ts):.2f} | {med * 1e3:.1f} | {p90 * 1e3:.1f} | {med / base:.1f}x |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
