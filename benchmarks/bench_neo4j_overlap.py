"""Lazy ``intro_paths`` with the store version check overlapped, check-first, and in memory.

Usage::

    python benchmarks/bench_neo4j_overlap.py [--physicians 100000] [--queries 100]
        [--rounds 6] [--heap 2g] [--pagecache 1g] [--delay-ms 0]

Generates a synthetic region, bulk-imports it into a local Neo4j + GDS dev server,
opens it lazily (``ReferralNetwork.from_neo4j(db, lazy=True)``), makes the first
query from three fixed sources (it reads and keeps the sources' ball network), then,
in ONE process so that the machine's load falls alike on all three, runs ``--rounds``
rounds of the same ``--queries`` targets (random physicians within two referral steps of
the sources, k=5, ``max_hops=3``) three ways, in alternating order: the lazy network with
its version check overlapped (``_lazy_paths._OVERLAP_CHECK = True``, the default), the
lazy network checking first (``False``, the code before), and the network in memory.
A warm-up round of each comes first and is not counted. Prints each round's medians,
the version check's round trip alone, and whether every answer equals memory's.

With ``--delay-ms D`` the lazy network talks to the server through a local proxy
(``_delay_proxy.py``) that holds every chunk ``D`` ms each way, as a server across a
network would (a round trip of about ``2 D`` ms more).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "src"))


def rings(net: Any) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the physicians one or two ties from physicians 0-2 (the sources of the
    benchmarks' queries; the kept ball of ``max_hops=3``), and of those exactly three ties
    away (outside it), ties taken both ways."""
    a = net.csr().matrix
    und = ((a + a.T) > 0).astype(np.int8)
    x = np.zeros(a.shape[0], dtype=np.int8)
    x[[0, 1, 2]] = 1
    one = und @ x
    near = (one + und @ one) > 0
    near[[0, 1, 2]] = False
    far = ((und @ (und @ one)) > 0) & ~near
    far[[0, 1, 2]] = False
    return near, far


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--physicians", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--heap", default="2g")
    ap.add_argument("--pagecache", default="1g")
    ap.add_argument("--delay-ms", type=float, default=0.0)
    args = ap.parse_args()

    from refgraph import NoPathError, ReferralNetwork
    from refgraph.backends.devserver import Neo4jDevServer
    from refgraph.backends.neo4j import Neo4jBackend, _lazy_paths
    from refgraph.datasets import synthetic_region
    from refgraph.paths import intro_paths

    net = synthetic_region(args.physicians, seed=1)
    near, _ = rings(net)
    rng = np.random.default_rng(0)
    npis = net.npis
    sources = [str(npis[i]) for i in (0, 1, 2)]
    targets = [str(npis[i]) for i in rng.choice(np.flatnonzero(near), args.queries)]

    def answer(on: Any, target: str) -> Any:
        try:
            res = intro_paths(on, target, sources=sources, k=5, max_hops=3)
        except NoPathError:
            return None
        return res.paths["path"].tolist(), res.paths["probability"].tolist()

    def same(got: Any, want: Any) -> bool:
        if got is None or want is None:
            return got is None and want is None
        return bool(got[0] == want[0] and np.allclose(got[1], want[1], rtol=1e-9))

    server = Neo4jDevServer(heap=args.heap, pagecache=args.pagecache)
    server.start(timeout=300)
    try:
        t0 = time.perf_counter()
        server.import_network(net, overwrite=True)
        print(f"bulk import {time.perf_counter() - t0:.1f} s", flush=True)
        uri = server.uri
        if args.delay_ms:
            import socket
            import subprocess

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            upstream = uri.rsplit(":", 1)[1]
            script = str(Path(__file__).parent / "_delay_proxy.py")
            proxy = subprocess.Popen(
                [sys.executable, script, str(port), upstream, str(args.delay_ms)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proxy.stdout is not None and proxy.stdout.readline().strip() == "ready"
            uri = f"bolt://127.0.0.1:{port}"
        db = Neo4jBackend(uri, auth=server.auth, progress=False)
        lazy = ReferralNetwork.from_neo4j(db, lazy=True)
        t0 = time.perf_counter()
        answer(lazy, targets[0])
        print(f"first lazy query (reads the ball) {time.perf_counter() - t0:.1f} s", flush=True)
        want = {t: answer(net, t) for t in targets}
        kinds = ["overlap", "check_first", "memory"]
        medians: dict[str, list[float]] = {k: [] for k in kinds}
        agree = dict.fromkeys(kinds[:2], 0)
        print("| round | order | overlapped (ms) | check first (ms) | memory (ms) | load |")
        print("|---|---|---:|---:|---:|---:|")
        for r in range(args.rounds + 1):
            order = kinds if r % 2 == 0 else kinds[::-1]
            got: dict[str, float] = {}
            for kind in order:
                _lazy_paths._OVERLAP_CHECK = kind == "overlap"
                on = net if kind == "memory" else lazy
                times = []
                for t in targets:
                    t0 = time.perf_counter()
                    res = answer(on, t)
                    times.append(time.perf_counter() - t0)
                    if r and kind != "memory":
                        agree[kind] += same(res, want[t])
                got[kind] = float(np.median(times)) * 1e3
            if r == 0:
                continue  # warm-up
            for k in kinds:
                medians[k].append(got[k])
            print(
                f"| {r} | {', '.join(order)} | {got['overlap']:.2f} | {got['check_first']:.2f} "
                f"| {got['memory']:.2f} | {os.getloadavg()[0]:.1f} |",
                flush=True,
            )
        _lazy_paths._OVERLAP_CHECK = True
        rtt = []
        for _ in range(100):
            t0 = time.perf_counter()
            lazy._store_version()
            rtt.append(time.perf_counter() - t0)
        m = {k: float(np.median(v)) for k, v in medians.items()}
        print(
            f"\nmedian of round medians: overlapped {m['overlap']:.2f} ms "
            f"({m['overlap'] / m['memory']:.2f}x memory), check first {m['check_first']:.2f} ms "
            f"({m['check_first'] / m['memory']:.2f}x), memory {m['memory']:.2f} ms; version "
            f"check alone {float(np.median(rtt)) * 1e3:.2f} ms (median of 100); answers equal "
            f"to memory's: overlapped {agree['overlap']}, check first {agree['check_first']} "
            f"of {args.rounds * len(targets)}"
        )
    finally:
        if args.delay_ms:
            proxy.kill()
        server.stop()


if __name__ == "__main__":
    main()
