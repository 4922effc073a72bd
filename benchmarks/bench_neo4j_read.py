"""Read-back of a whole Neo4j store: this checkout's code against another's, same store.

Usage::

    python benchmarks/bench_neo4j_read.py [--physicians 20000] [--repeat 2]
        [--before-src /path/to/other/checkout/src] [--heap 2g] [--out FILE]
        [--around 10 --selections 20 --flows-mode either] [--streams 1,2]
        [--existing --server-pid PID]

Bulk-imports a synthetic region (``Neo4jDevServer.import_network``) into one local
dev server, then times ``Neo4jBackend.read()`` in child processes, alternating the
code under ``--before-src`` (e.g. the main branch) and this checkout's ``src``, so
both read the same store under the same machine load. Each child pickles the tables
it read; the parent checks that they equal the network written. The child's peak
RSS (``VmHWM``, Linux) is taken after the read and after pickling the tables. The server
JVM's CPU seconds during each child (``/proc``) and the load average at its start are
reported beside it. Prints a markdown table (and writes it to ``--out`` when given).

With ``--around N`` each child instead reads ``--selections`` sub-networks,
``read(around=<N random NPIs>, hops=0, flows=--flows-mode)`` (the same NPIs for both
codes), and reports the median seconds of one read; the parent checks that both codes
read the same tables.

``--streams 1,2`` runs this checkout's code once per number of concurrent page
streams (``Neo4jBackend(read_streams=k)``) in each round, after the other code.
``--existing`` reads the store of an already running server named by ``NEO4J_URI``,
``NEO4J_USER`` and ``NEO4J_PASSWORD`` (it must hold ``synthetic_region(--physicians,
seed=1)``; ``--server-pid`` gives its JVM for the CPU column) instead of starting one.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

# A running server named by NEO4J_* (--existing): the same helper as bench_neo4j.py's.
from bench_neo4j import _Existing  # noqa: E402  (this folder is the script's sys.path[0])

CHILD = """
import pickle, sys, time
from refgraph.backends.neo4j import Neo4jBackend
import json, statistics
uri, user, password, out, spec = sys.argv[1:6]
spec = json.loads(spec)
more = {"read_streams": spec["streams"]} if spec.get("streams") else {}
db = Neo4jBackend(uri, auth=(user, password), progress=False, **more)
if spec["selections"]:
    times, tables = [], []
    for ids in spec["selections"]:
        t0 = time.perf_counter()
        sub = db.read(around=ids, hops=0, flows=spec["mode"])
        times.append(time.perf_counter() - t0)
        tables.append(sub.tables)
    dt = statistics.median(times)
    net = type("Read", (), {"tables": tables})()
else:
    t0 = time.perf_counter()
    net = db.read()
    dt = time.perf_counter() - t0
db.close()
# VmHWM is this process's own peak (ru_maxrss would carry the parent's over the exec)
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) / 1024
with open(out, "wb") as f:
    pickle.dump({"seconds": dt, "peak": peak, "tables": net.tables}, f)
"""


def _server_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of process ``pid`` so far (Linux ``/proc``)."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    keys = list(a.columns)
    x = a.sort_values(keys, na_position="first").reset_index(drop=True)
    y = b.sort_values(keys, na_position="first").reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(x, y, check_dtype=True)
    except AssertionError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--physicians", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--before-src", default="/work/main/src")
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--out", default=None)
    ap.add_argument("--around", type=int, default=0, help="NPIs per selection (0: whole)")
    ap.add_argument("--selections", type=int, default=20)
    ap.add_argument("--flows-mode", default="either")
    ap.add_argument("--streams", default="", help="e.g. 1,2: this code with each stream count")
    ap.add_argument("--existing", action="store_true", help="use the server of NEO4J_URI")
    ap.add_argument("--server-pid", type=int, default=None)
    args = ap.parse_args()

    from refgraph.backends.devserver import Neo4jDevServer
    from refgraph.datasets import synthetic_region

    net = synthetic_region(args.physicians, seed=1)
    rng = np.random.default_rng(0)
    picks = [
        [str(x) for x in rng.choice(np.asarray(net.npis), args.around, replace=False)]
        for _ in range(args.selections if args.around else 0)
    ]
    codes: list[tuple[str, str, int]] = [("before", args.before_src, 0)]
    codes += [
        (f"after, {k} stream(s)", str(SRC), k)
        for k in map(int, args.streams.split(",") if args.streams else [])
    ]
    if not args.streams:
        codes.append(("after", str(SRC), 0))
    head = (
        f"| code | run | median s of {len(picks)} reads of {args.around} NPIs "
        f"(flows={args.flows_mode}) | child peak RSS MiB | same tables as before's |"
        if picks
        else "| code | run | seconds | flows/s | child peak RSS MiB | same tables as written "
        "| server CPU s | load avg |"
    )
    lines = [
        f"{net.n_physicians:,} physicians, {net.n_flows:,} flows, {len(net.practices):,} practices",
        "",
        head,
        "|---|---:|---:|---:|---|" if picks else "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    first: list[dict[str, pd.DataFrame]] | None = None
    if args.existing:
        server: Any = _Existing(args.server_pid)
    else:
        server = Neo4jDevServer(heap=args.heap, pagecache="1g")
    with server, tempfile.TemporaryDirectory() as tmp:
        if not args.existing:
            t0 = time.perf_counter()
            server.import_network(net, overwrite=True)
            print(f"import_network: {time.perf_counter() - t0:.1f} s", flush=True)
        user, password = server.auth
        for run in range(1, args.repeat + 1):
            for code, src, streams in codes:
                spec = json.dumps(
                    {"selections": picks, "mode": args.flows_mode, "streams": streams}
                )
                out = Path(tmp) / f"{run}.pkl"
                env = {**os.environ, "PYTHONPATH": src}
                cpu0, load0 = _server_cpu(server.pid), os.getloadavg()[0]
                subprocess.run(
                    [sys.executable, "-c", CHILD, server.uri, user, password, str(out), spec],
                    env=env,
                    check=True,
                )
                cpu = _server_cpu(server.pid) - cpu0
                with open(out, "rb") as f:
                    got = pickle.load(f)
                out.unlink()
                if picks:
                    if first is None:
                        first = got["tables"]
                    same = all(_same(a[t], b[t]) for a, b in zip(first, got["tables"]) for t in a)
                    row = f"| {code} | {run} | {got['seconds']:.3f} | {got['peak']:,.0f} | {same} |"
                else:
                    same = all(_same(net.tables[t], got["tables"][t]) for t in net.tables)
                    row = (
                        f"| {code} | {run} | {got['seconds']:.2f} | "
                        f"{net.n_flows / got['seconds']:,.0f} | {got['peak']:,.0f} | {same} "
                        f"| {cpu:.1f} | {load0:.1f} |"
                    )
                print(row, flush=True)
                lines.append(row)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
