"""Benchmark of the synthetic network generator (time and peak memory).

Each size runs in its own Python process so that the peak resident memory
(``ru_maxrss``) belongs to that size alone. Prints a markdown table.

Usage::

    PYTHONPATH=src python benchmarks/bench_synthetic.py            # 10k and 100k
    PYTHONPATH=src python benchmarks/bench_synthetic.py --million  # also 1M (~30 s CPU, ~3 GB)
    PYTHONPATH=src python benchmarks/bench_synthetic.py --sizes 2000 20000 --state MA --events
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time

logger = logging.getLogger("bench_synthetic")


def _child(n: int, seed: int, state: str | None, events: bool, network: bool) -> dict:
    """Run one generation in this process and report measurements."""
    import resource

    from refgraph.datasets import _zip_table, synthetic_tables

    _zip_table()  # one-off ZIP table load (~1 s) is not part of the per-size time
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    tables = synthetic_tables(n, seed=seed, state=state, events=events)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    out = {
        "n": n,
        "seconds": seconds,
        "cpu": cpu,
        "flows": len(tables["flows"]),
        "practices": len(tables["practices"]),
        "events": len(tables["events"]) if "events" in tables else None,
        "volume": int(tables["flows"]["count"].sum()),
        "base_rss_mb": base / 1024,
    }
    if network:
        from refgraph.network import ReferralNetwork

        t1 = time.perf_counter()
        ReferralNetwork.from_frames(**tables)
        out["network_seconds"] = time.perf_counter() - t1
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--million", action="store_true", help="also run 1,000,000 physicians")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--state", default=None, help="two-letter state code (default: continental US)"
    )
    parser.add_argument("--events", action="store_true", help="also generate events")
    parser.add_argument(
        "--network", action="store_true", help="also time ReferralNetwork.from_frames"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    if args.child is not None:
        res = _child(args.child, args.seed, args.state, args.events, args.network)
        sys.stdout.write(json.dumps(res) + "\n")
        return 0

    sizes = list(args.sizes) + ([1_000_000] if args.million else [])
    rows = []
    for n in sizes:
        cmd = [
            sys.executable,
            os.path.abspath(__file__),
            "--child",
            str(n),
            "--seed",
            str(args.seed),
        ]
        if args.state:
            cmd += ["--state", args.state]
        if args.events:
            cmd.append("--events")
        if args.network:
            cmd.append("--network")
        logger.info("generating %d physicians ...", n)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            logger.error("size %d failed:\n%s", n, proc.stderr[-2000:])
            return proc.returncode
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    region = args.state or "continental US"
    lines = [
        f"Synthetic generator, region: {region}, seed {args.seed}"
        + (", with events" if args.events else ""),
        "",
        "| physicians | practices | flows | flows/physician | referrals (sum count) "
        + ("| events " if args.events else "")
        + "| wall s | CPU s "
        + ("| from_frames s " if args.network else "")
        + "| peak RSS MB | RSS before MB |",
        "|---:|---:|---:|---:|---:|"
        + ("---:|" if args.events else "")
        + "---:|---:|"
        + ("---:|" if args.network else "")
        + "---:|---:|",
    ]
    for r in rows:
        cells = [
            f"{r['n']:,}",
            f"{r['practices']:,}",
            f"{r['flows']:,}",
            f"{r['flows'] / r['n']:.1f}",
            f"{r['volume']:,}",
        ]
        if args.events:
            cells.append(f"{r['events']:,}")
        cells += [f"{r['seconds']:.1f}", f"{r['cpu']:.1f}"]
        if args.network:
            cells.append(f"{r['network_seconds']:.1f}")
        cells += [f"{r['peak_rss_mb']:,.0f}", f"{r['base_rss_mb']:,.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
