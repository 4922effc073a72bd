"""Neo4j backend: load rate and GDS PageRank vs in-memory PageRank, in one run.

Usage::

    python benchmarks/bench_neo4j.py [--physicians 100000] [--batch-size 10000]
        [--sweep 2000,5000,10000,20000] [--bulk] [--out FILE]
    python benchmarks/bench_neo4j.py --writes-only --before OLD_SRC [--repeat 2]
        [--physicians 20000] [--batch-size 5000] [--sweep 2000,5000,10000,20000,50000]
        [--warmup 5000] [--workers 1,2] [--existing --server-pid PID]

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

``--writes-only`` times only the online load into an empty store, each load in a fresh
child process against the same server: with ``--before OLD_SRC`` (a ``src`` folder of
older refgraph code) the old and this code alternate ``--repeat`` times, then
``--sweep`` loads this code at each batch size. Each row reports the physicians and
flows phases (from ``on_batch``), the whole ``write`` call, and the server JVM's CPU
seconds during it (from ``/proc``), so a slow row can be told apart from a busy machine.
Without ``--out`` the table is only printed.

``--bulk-parquet FILE`` times only ``import_network`` of a flows Parquet file, stage by stage,
in a fresh child and server per run (``--before OLD_SRC``: the old code in turns;
``--admin-memory SIZE`` or ``default``: the admin tool's off-heap budget); with
``--pagerank`` this code's child then runs PageRank in GDS through
``ReferralNetwork.from_neo4j(db, lazy=True)`` and in memory, and reports the max abs
difference. ``--workers 1,2`` loads this code once per
number of concurrent flow batches (``write_workers``) in each round; ``--existing`` uses
the running server of ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD`` (its store is
emptied before each load, and after the last unless ``--keep``; ``--server-pid`` names
its JVM for the CPU figures).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
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
    ap.add_argument("--writes-only", action="store_true")
    ap.add_argument("--before", default=None, help="src folder of the code to compare with")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="--writes-only: first an untimed load of this many physicians (the --before "
        "code, else this one), so that no timed row pays for the server's JIT warm-up",
    )
    ap.add_argument("--pagecache", default="2g")
    ap.add_argument("--workers", default="", help="--writes-only: e.g. 1,2 (write_workers)")
    ap.add_argument("--existing", action="store_true", help="use the server of NEO4J_URI")
    ap.add_argument("--server-pid", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="--writes-only: keep the last load")
    ap.add_argument(
        "--bulk-parquet",
        default=None,
        help="only the bulk import of this flows Parquet file (read_network(flows=...)), "
        "end to end with each stage, in a fresh child and server per run; with --before "
        "the old code and this code take turns --repeat times",
    )
    ap.add_argument(
        "--admin-memory",
        default="2g",
        help="--bulk-parquet: --max-off-heap-memory of the tool ('default': import_network's "
        "own default, the page cache size; main's code before it: the tool's 90%% of free RAM)",
    )
    ap.add_argument(
        "--pagerank",
        action="store_true",
        help="--bulk-parquet: then PageRank in GDS through from_neo4j(lazy=True) against "
        "in-memory centrality.pagerank on the same network (max |diff|); this code only",
    )
    args = ap.parse_args()
    if args.writes_only:
        _writes_only(args)
        return
    if args.bulk_parquet:
        _bulk_parquet(args)
        return

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
    with Neo4jDevServer(heap=args.heap, pagecache=args.pagecache) as server:
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
    _report(
        f"# Neo4j backend benchmark ({args.physicians:,} physicians, batch {args.batch_size})",
        rows,
        f"Python peak RSS {peak:,.0f} MiB (the server runs in its own JVM, heap {args.heap}).",
        args.out,
    )


def _report(title: str, rows: list[tuple[str, float, str]], foot: str, out: str | None) -> None:
    """Print the rows as a markdown table; also write it to ``out`` when given."""
    lines = [
        title,
        "",
        "| step | seconds | note |",
        "|---|---:|---|",
        *[f"| {a} | {b:.2f} | {c} |" for a, b, c in rows],
        "",
        foot,
    ]
    text = "\n".join(lines)
    print(text)
    if out:
        Path(out).write_text(text + "\n")


#: One online load into the (empty) server, run in a child process so that the code
#: under test is whatever ``PYTHONPATH`` names; prints its timings as JSON.
_CHILD = """
import json, sys, time
from refgraph.backends.neo4j import Neo4jBackend
from refgraph.datasets import synthetic_region
uri, user, pw, n, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
more = {"write_workers": int(sys.argv[6])} if int(sys.argv[6]) else {}
net = synthetic_region(n, seed=1)
db = Neo4jBackend(uri, auth=(user, pw), batch_size=batch, progress=False, **more)
assert db.counts()["physicians"] == 0
t = {}
last = [0.0]
def on_batch(what, k):
    now = time.perf_counter()
    t[what] = t.get(what, 0.0) + now - last[0]
    last[0] = now
t0 = last[0] = time.perf_counter()
db.write(net, on_batch=on_batch)
t["total"] = time.perf_counter() - t0
c = db.counts()
t["ok"] = c["flows"] == net.n_flows and c["physicians"] == net.n_physicians
t["n_flows"], t["n_physicians"] = net.n_flows, net.n_physicians
db.close()
print(json.dumps(t))
"""


def _server_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of process ``pid`` so far."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Existing:
    """A running server named by ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD``."""

    def __init__(self, pid: int | None) -> None:
        self.uri = os.environ["NEO4J_URI"]
        self.auth = (os.environ.get("NEO4J_USER", "neo4j"), os.environ["NEO4J_PASSWORD"])
        self.pid = pid

    def __enter__(self) -> _Existing:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _writes_only(args: Any) -> None:
    """Time online loads into an empty store: old code against this code, then a batch sweep."""
    from refgraph.backends.devserver import Neo4jDevServer
    from refgraph.backends.neo4j import Neo4jBackend

    here = str(Path(__file__).resolve().parents[1] / "src")
    workers = [int(x) for x in args.workers.split(",") if x] or [0]
    runs: list[tuple[str, str, int, int]] = []
    if args.warmup:
        runs.append(("warm-up", args.before or here, args.batch_size, 0))
    for _ in range(args.repeat):
        if args.before:
            runs.append(("before", args.before, args.batch_size, 0))
        runs += [("after", here, args.batch_size, w) for w in workers]
    runs += [("after", here, int(x), w) for x in args.sweep.split(",") if x for w in workers]
    rows: list[tuple[str, float, str]] = []
    if args.existing:
        server: Any = _Existing(args.server_pid)
    else:
        server = Neo4jDevServer(heap=args.heap, pagecache=args.pagecache)
    with server:
        db = Neo4jBackend(server.uri, auth=server.auth, progress=False)
        for code, src, batch, w in runs:
            db.delete(everything=True)
            env = dict(os.environ, PYTHONPATH=src)
            cpu0 = _server_cpu(server.pid)
            load0 = os.getloadavg()[0]
            size = args.warmup if code == "warm-up" else args.physicians
            out = subprocess.run(
                [sys.executable, "-c", _CHILD, server.uri, *server.auth,
                 str(size), str(batch), str(w)],
                env=env, check=True, capture_output=True, text=True,
            )  # fmt: skip
            cpu = _server_cpu(server.pid) - cpu0
            if code == "warm-up":
                continue
            if w:
                code = f"{code}, {w} worker(s)"
            t = json.loads(out.stdout.strip().splitlines()[-1])
            label = f"{code}, batch {batch}"
            rows.append(
                (f"{label}: physicians", t["physicians"],
                 f"{t['n_physicians'] / t['physicians']:,.0f} physicians/s")
            )  # fmt: skip
            rows.append(
                (f"{label}: flows", t["flows"], f"{t['n_flows'] / t['flows']:,.0f} flows/s")
            )  # fmt: skip
            rows.append(
                (f"{label}: whole write", t["total"],
                 f"{t['n_flows'] / t['total']:,.0f} flows/s; server CPU {cpu:.1f} s; "
                 f"load avg {load0:.1f}; counts right: {t['ok']}")
            )  # fmt: skip
            print(rows[-3:], flush=True)
        if not args.keep:
            db.delete(everything=True)
        db.close()
    _report(
        f"# Online load into an empty store ({args.physicians:,} physicians)",
        rows,
        f"Server heap {args.heap}, page cache {args.pagecache}; before = {args.before}.",
        args.out,
    )


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


_BULK_CHILD = r"""
import inspect, json, resource, sys, time
import numpy as np
import refgraph
from refgraph.backends.devserver import Neo4jDevServer
from refgraph.backends.devserver import _admin
path, heap, pagecache, memory, pagerank = sys.argv[1:6]
t0 = time.perf_counter()
net = refgraph.read_network(flows=path)
read_s = time.perf_counter() - t0
out = {}
with Neo4jDevServer(heap=heap, pagecache=pagecache) as server:
    options = {}
    if memory != "default":  # else import_network's own default (older code: the tool's)
        if "memory" in inspect.signature(server.import_network).parameters:
            options["memory"] = memory
        else:
            options["admin_options"] = [f"--max-off-heap-memory={memory}"]
    t0 = time.perf_counter()
    counts = server.import_network(net, overwrite=True, **options)
    total = time.perf_counter() - t0
    log = (server.home / "logs" / "import.log").read_text(errors="replace")
    steps = [ln.strip() for ln in log.splitlines() if "COMPLETED in" in ln]
    steps += [ln.strip() for ln in log.splitlines() if "Configured max memory" in ln]
    if pagerank == "1":  # GDS through the lazy network against memory, same network
        from refgraph import ReferralNetwork, centrality
        from refgraph.backends.neo4j import Neo4jBackend

        t0 = time.perf_counter()
        pr_mem = centrality.pagerank(net, tol=1e-10)
        out["pagerank_memory_s"] = time.perf_counter() - t0
        with Neo4jBackend(server.uri, auth=server.auth, progress=False) as db:
            t0 = time.perf_counter()
            lazy = ReferralNetwork.from_neo4j(db, lazy=True)
            pr = centrality.pagerank(lazy, tol=1e-10)
            out["pagerank_gds_s"] = time.perf_counter() - t0
        got = pr["pagerank"].reindex(pr_mem.index)
        diff = (got - pr_mem["pagerank"]).abs()
        out["pagerank_rows"] = [len(pr), len(pr_mem), int(got.isna().sum())]
        out["pagerank_max_abs_diff"] = float(diff.max())
        out["pagerank_max_rel_diff"] = float((diff / pr_mem["pagerank"]).max())
        out["pagerank_max"] = float(pr_mem["pagerank"].max())
        top = pr_mem["pagerank"].nlargest(100).index
        out["pagerank_top100_same"] = bool(list(pr["pagerank"].nlargest(100).index) == list(top))
print("RESULT " + json.dumps({
    "read_s": read_s, "total_s": total, "flows": counts["flows"],
    "stages": dict(_admin._LAST_STAGES),
    "tool_steps": steps, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    **out,
}))
"""


def _bulk_parquet(args: Any) -> None:
    """End-to-end bulk import of a flows Parquet file: old code and this code in turns."""
    here = str(Path(__file__).resolve().parents[1] / "src")
    runs = []
    for _ in range(args.repeat):
        runs.append(("after", here))
        if args.before:
            runs.append(("before", args.before))
    rows: list[tuple[str, float, str]] = []
    for name, src in runs:
        env = dict(os.environ, PYTHONPATH=src)
        load = os.getloadavg()[0]
        out = subprocess.run(
            [sys.executable, "-c", _BULK_CHILD, args.bulk_parquet, args.heap, args.pagecache,
             args.admin_memory, "1" if args.pagerank and name == "after" else "0"],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        got = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
        if not got:
            print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"the {name} child failed")
        r = json.loads(got[0][len("RESULT ") :])
        note = (
            f"{r['flows'] / r['total_s']:,.0f} flows/s; load {load:.1f}->{os.getloadavg()[0]:.1f}"
            f"; peak {r['peak_mib']:,.0f} MiB"
        )
        rows.append((f"{name}: import_network end to end", r["total_s"], note))
        for stage, sec in r["stages"].items():
            rows.append((f"{name}:   {stage}", sec, ""))
        rows.append((f"{name}:   tool steps", float("nan"), "; ".join(r["tool_steps"])))
        if "pagerank_gds_s" in r:
            rows.append(
                (
                    f"{name}: PageRank in GDS (lazy network, projection included)",
                    r["pagerank_gds_s"],
                    f"max abs diff vs memory {r['pagerank_max_abs_diff']:.2e} "
                    f"(max rel {r['pagerank_max_rel_diff']:.2e}, largest score "
                    f"{r['pagerank_max']:.2e}); rows gds/memory/missing {r['pagerank_rows']}; "
                    f"top 100 same order: {r['pagerank_top100_same']}",
                )
            )
            rows.append((f"{name}: PageRank in memory", r["pagerank_memory_s"], ""))
        print(r, flush=True)
    _report(
        f"# Bulk import of {args.bulk_parquet}",
        rows,
        f"Server heap {args.heap}, page cache {args.pagecache}; before = {args.before}.",
        args.out,
    )


if __name__ == "__main__":
    main()
