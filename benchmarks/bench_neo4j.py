"""Neo4j backend: load rate and GDS PageRank vs in-memory PageRank, in one run.

Usage::

    python benchmarks/bench_neo4j.py [--physicians 100000] [--batch-size 10000]
        [--sweep 2000,5000,10000,20000] [--bulk] [--out FILE]

Starts a local Neo4j 5.26 + GDS dev server (``refgraph.backends.devserver``), loads a
synthetic region into it with :meth:`Neo4jBackend.write` (batched idempotent
``UNWIND ... MERGE``), reads it back, and times PageRank pushed down to GDS
against refgraph's in-memory PageRank on the same network. Prints a markdown
table; writes ``benchmarks/results/neo4j.md`` (or ``--out``). The first load goes
into an empty store (``CREATE``), the re-run merges (``MERGE``). ``--bulk`` also
times :meth:`Neo4jDevServer.import_network` (``neo4j-admin database import full``) on the
same network and checks GDS PageRank on the imported store. ``--sweep`` also
times loads into an empty store at each batch size, by CREATE (what an empty store
gets) and by MERGE (what it got before), to choose the default.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--physicians", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--heap", default="4g")
    ap.add_argument("--sweep", default="")
    ap.add_argument("--out", default=None)
    ap.add_argument(
        "--bulk", action="store_true", help="also time the bulk import of the same network"
    )
    args = ap.parse_args()

    from refgraph import centrality
    from refgraph.backends.devserver import Neo4jDevServer
    from refgraph.backends.neo4j import Neo4jBackend
    from refgraph.datasets import synthetic_region

    t0 = time.perf_counter()
    net = synthetic_region(args.physicians, seed=1)
    t_gen = time.perf_counter() - t0
    rows: list[tuple[str, float, str]] = [
        (
            "generate synthetic region",
            t_gen,
            f"{net.n_physicians:,} physicians, {net.n_flows:,} flows",
        ),
    ]
    with Neo4jDevServer(heap=args.heap, pagecache="2g") as server:
        db = Neo4jBackend(server.uri, auth=server.auth, batch_size=args.batch_size, progress=False)
        timings: dict[str, float] = {}
        last = [time.perf_counter()]

        def on_batch(what: str, n: int) -> None:
            now = time.perf_counter()
            timings[what] = timings.get(what, 0.0) + (now - last[0])
            last[0] = now

        t0 = time.perf_counter()
        last[0] = t0
        db.write(net, on_batch=on_batch)
        t_load = time.perf_counter() - t0
        phys_s = timings.get("physicians", float("nan"))
        flow_s = timings.get("flows", float("nan"))
        rows.append(("load physicians", phys_s, f"{net.n_physicians / phys_s:,.0f} physicians/s"))
        rows.append(("load flows", flow_s, f"{net.n_flows / flow_s:,.0f} flows/s"))
        rows.append(("load everything (incl. schema, practices)", t_load, ""))
        t0 = time.perf_counter()
        db.write(net)
        rows.append(
            (
                "re-run the same load (idempotent MERGE)",
                time.perf_counter() - t0,
                f"counts unchanged: {db.counts()['flows'] == net.n_flows}",
            )
        )
        t0 = time.perf_counter()
        back = db.read()
        t_read = time.perf_counter() - t0
        rows.append(
            ("read back as a ReferralNetwork", t_read, f"{net.n_flows / t_read:,.0f} flows/s")
        )

        t0 = time.perf_counter()
        pr_gds = centrality.pagerank(back, tol=1e-10)
        t_gds = time.perf_counter() - t0
        t0 = time.perf_counter()
        pr_mem = centrality.pagerank(net, tol=1e-10)
        t_mem = time.perf_counter() - t0
        diff = float(np.abs(pr_gds.loc[pr_mem.index, "pagerank"] - pr_mem["pagerank"]).max())
        rows.append(
            (
                "PageRank pushed down to GDS (project+stream+drop)",
                t_gds,
                f"max |diff| vs memory {diff:.1e}",
            )
        )
        rows.append(("PageRank in memory (scipy CSR)", t_mem, ""))
        for size in [int(x) for x in args.sweep.split(",") if x]:
            for mode, how in (("auto", "CREATE"), ("merge", "MERGE")):
                db.delete(everything=True)
                db.batch_size = size
                timings.clear()
                last[0] = time.perf_counter()
                db.write(net, on_batch=on_batch, mode=mode)
                flow_s = timings.get("flows", float("nan"))
                rows.append(
                    (f"load flows into an empty store by {how}, batch {size}", flow_s,
                     f"{net.n_flows / flow_s:,.0f} flows/s")
                )  # fmt: skip
        if args.bulk:
            rows += _bulk(server, db, net, pr_mem)
        db.delete(everything=True)
        db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"# Neo4j backend benchmark ({args.physicians:,} physicians, batch {args.batch_size})",
        "",
        "| step | seconds | note |",
        "|---|---:|---|",
        *[f"| {a} | {b:.2f} | {c} |" for a, b, c in rows],
        "",
        f"Python peak RSS {peak:,.0f} MiB (the server runs in its own JVM, heap {args.heap}).",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(args.out) if args.out else Path(__file__).resolve().parent / "results" / "neo4j.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(text + "\n")


def _bulk(server: Any, db: Any, net: Any, pr_mem: Any) -> list[tuple[str, float, str]]:
    """Time the bulk import of ``net`` into the server; PageRank on it against memory."""
    import tempfile

    from refgraph import centrality
    from refgraph.backends.neo4j import write_import_files

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_import_files(net, tmp)
        t_files = time.perf_counter() - t0
    rows.append(("bulk: write the import files (alone)", t_files, ""))
    t0 = time.perf_counter()
    counts = server.import_network(net, overwrite=True)
    t_imp = time.perf_counter() - t0
    rows.append(
        (
            "bulk import_network (files, stop, neo4j-admin, restart, schema)",
            t_imp,
            f"{net.n_flows / t_imp:,.0f} flows/s; counts match: {counts == db.counts()}",
        )
    )
    log = server.home / "logs" / "import.log"
    done = [line for line in log.read_text().splitlines() if "IMPORT DONE" in line]
    rows.append(("bulk: the admin tool's own report", float("nan"), done[-1] if done else ""))
    back = db.read()
    t0 = time.perf_counter()
    pr = centrality.pagerank(back, tol=1e-10)
    t_gds = time.perf_counter() - t0
    diff = float(np.abs(pr.loc[pr_mem.index, "pagerank"] - pr_mem["pagerank"]).max())
    rows.append(
        ("PageRank in GDS on the imported store", t_gds, f"max |diff| vs memory {diff:.1e}")
    )
    return rows


if __name__ == "__main__":
    main()
