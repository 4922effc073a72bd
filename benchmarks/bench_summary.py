"""``ReferralNetwork.summary()`` of this checkout against another checkout's, same run.

Usage::

    python benchmarks/bench_summary.py --baseline-src /path/to/other/src \\
        [--physicians 1000000] [--flows 5000000] [--repeat 3] [--rounds 2] [--parquet]

With ``--parquet``: the flows Parquet read of this checkout, one
``pyarrow.parquet.read_table`` against the row-group read used under a progress bar,
in turns (``--rounds`` of ``--repeat`` reads each).

Each checkout runs in its own subprocess (one after the other, in turns) on
the same synthetic network (``bench_tables.make_tables``: valid NPIs, uniform
random pairs, no self-referrals). Two figures per checkout, best of
``--repeat``: ``summary()`` on a fresh network (it builds the CSR view, as the
first analysis of a session does) and ``summary()`` with the CSR view already
cached (the summary's own work). The figures of both checkouts must agree.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"


def worker(src: Path, n: int, m: int, repeat: int) -> dict[str, object]:
    sys.path.insert(0, str(src))
    sys.path.insert(0, str(HERE))
    import refgraph
    from bench_tables import make_tables

    phys, flows = make_tables(n, m)
    net = refgraph.ReferralNetwork(physicians=phys, flows=flows)
    fresh, cached = [], []
    for _ in range(repeat):
        net.clear_cached_views()
        from refgraph._views import flow_node_ids  # the node ids the network caches at build

        flow_node_ids(net)
        t = time.perf_counter()
        out = net.summary()
        fresh.append(time.perf_counter() - t)
        t = time.perf_counter()
        again = net.summary()
        cached.append(time.perf_counter() - t)
        assert out.astype(str).equals(again.astype(str))
    return {
        "fresh_s": min(fresh),
        "cached_s": min(cached),
        "figures": {k: str(v) for k, v in out.items()},
        "file": refgraph.__file__,
    }


def parquet(n: int, m: int, repeat: int, rounds: int) -> None:
    """One ``read_table`` against the row-group read drawn under a bar, in turns."""
    import tempfile

    import pyarrow.parquet as pq

    sys.path.insert(0, str(SRC))
    sys.path.insert(0, str(HERE))
    from bench_tables import make_tables
    from refgraph.io._sources import _read_row_groups

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "flows.parquet"
        make_tables(n, m)[1].to_parquet(path, index=False)
        groups = pq.ParquetFile(path).metadata.num_row_groups
        print(f"{m:,} rows, {groups} row groups; seconds, best and median of {repeat}")
        print("| round | `read_table` best | median | row groups best | median |")
        print("|---|---:|---:|---:|---:|")
        for r in range(rounds):
            cells = []
            for fn in (
                lambda: pq.read_table(path),
                lambda: _read_row_groups(pq.ParquetFile(path), path, None),
            ):
                ts = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    fn()
                    ts.append(time.perf_counter() - t)
                cells += [f"{min(ts):.2f}", f"{sorted(ts)[len(ts) // 2]:.2f}"]
            print(f"| {r + 1} | " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--baseline-src", type=Path, help="the src folder to compare with")
    ap.add_argument("--physicians", type=int, default=1_000_000)
    ap.add_argument("--flows", type=int, default=5_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2, help="turns of baseline, this checkout")
    ap.add_argument("--parquet", action="store_true", help="time the Parquet reads instead")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.parquet:
        parquet(args.physicians, args.flows, args.repeat, args.rounds)
        return
    if args.worker:
        print(json.dumps(worker(args.worker, args.physicians, args.flows, args.repeat)))
        return
    if args.baseline_src is None:
        ap.error("--baseline-src is needed to compare summary() timings")
    res: dict[str, list[dict[str, object]]] = {"baseline": [], "this": []}
    for _ in range(args.rounds):
        for name, src in (("baseline", args.baseline_src), ("this", SRC)):
            cmd = [sys.executable, __file__, "--baseline-src", str(args.baseline_src)]
            cmd += ["--physicians", str(args.physicians), "--flows", str(args.flows)]
            cmd += ["--repeat", str(args.repeat), "--worker", str(src)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            res[name].append(json.loads(out.strip().splitlines()[-1]))
    base, this = res["baseline"], res["this"]
    assert all(r["figures"] == base[0]["figures"] for r in base + this), "figures differ"
    b_fresh = min(float(r["fresh_s"]) for r in base)  # type: ignore[arg-type]
    t_fresh = min(float(r["fresh_s"]) for r in this)  # type: ignore[arg-type]
    b_cached = min(float(r["cached_s"]) for r in base)  # type: ignore[arg-type]
    t_cached = min(float(r["cached_s"]) for r in this)  # type: ignore[arg-type]
    print(f"{args.physicians:,} physicians, {args.flows:,} flows; figures identical")
    print("| `summary()` | baseline s | this s | speed-up |")
    print("|---|---:|---:|---:|")
    print(
        f"| fresh network (builds the CSR) | {b_fresh:.2f} | {t_fresh:.2f} | "
        f"{b_fresh / t_fresh:.1f}x |"
    )
    print(
        f"| CSR cached (the summary's own work) | {b_cached:.2f} | {t_cached:.2f} | "
        f"{b_cached / t_cached:.1f}x |"
    )


if __name__ == "__main__":
    main()
