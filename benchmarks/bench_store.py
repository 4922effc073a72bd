"""Save/load of a network folder: the checked, atomic format against plain Parquet.

Usage::

    python benchmarks/bench_store.py [--flows 2000000] [--repeat 3]
    python benchmarks/bench_store.py --flows-file FLOWS.parquet [--repeat 3]

``--flows-file`` reads the network from a flows file with ``refgraph.read_network``
(e.g. ``bench_parquet_pagerank.py``'s 1M-physician / 20M-flow Parquet file) instead of
generating one. The process's peak resident size is printed at the end.

The baseline is what refgraph 0.1 did and what a user would write without it:
``DataFrame.to_parquet`` per table into the folder, ``pandas.read_parquet`` back
(no fsync, no checksums, no checks); "0.1 load" also wraps the frames in a network
as refgraph 0.1's load did. refgraph 0.2 additionally fsyncs every file and
folder, hashes every file (SHA-256) and, at load, verifies the hash, row count,
columns and dtypes of every table. Both run in this process on the same network,
alternating, best of ``--repeat``; the page cache is warm for both.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_network(n_flows: int, seed: int = 0):  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from refgraph import ReferralNetwork, npi_check_digit

    rng = np.random.default_rng(seed)
    n = max(n_flows // 20, 1000)
    base = rng.choice(np.arange(100_000_000, 199_999_999), size=n, replace=False)
    npis = np.array([f"{b}{npi_check_digit(str(b))}" for b in base])
    src = rng.integers(0, n, n_flows)
    dst = (src + 1 + rng.integers(0, n - 1, n_flows)) % n
    flows = pd.DataFrame(
        {
            "source_npi": npis[src],
            "target_npi": npis[dst],
            "count": 11 + rng.geometric(0.02, n_flows),
            "patients": 11 + rng.geometric(0.08, n_flows),
        }
    ).drop_duplicates(["source_npi", "target_npi"])
    phys = pd.DataFrame(
        {"npi": npis, "lat": rng.uniform(40, 42, n), "lon": rng.uniform(-74, -71, n)}
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


def plain_save(net, folder: Path) -> None:  # type: ignore[no-untyped-def]
    folder.mkdir()
    for name, df in net.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    net.rejected.to_parquet(folder / "rejected.parquet", index=False)


def plain_load(folder: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in folder.glob("*.parquet")}


def v01_load(folder: Path):  # type: ignore[no-untyped-def]
    """What refgraph 0.1's load did: read the frames, wrap them in a network, no checks."""
    from refgraph import ReferralNetwork

    return ReferralNetwork._from_valid_tables(plain_load(folder))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flows", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--flows-file", help="read the network from this flows file instead")
    args = ap.parse_args()
    import refgraph

    t0 = time.perf_counter()
    net = (
        refgraph.read_network(flows=args.flows_file)
        if args.flows_file
        else make_network(args.flows)
    )
    print(f"network: {net} (built in {time.perf_counter() - t0:.1f} s)")
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        for i in range(args.repeat):
            plain = Path(d) / f"plain{i}"
            t = time.perf_counter()
            plain_save(net, plain)
            best["plain save"] = min(best.get("plain save", 1e9), time.perf_counter() - t)
            t = time.perf_counter()
            plain_load(plain)
            best["plain load"] = min(best.get("plain load", 1e9), time.perf_counter() - t)
            t = time.perf_counter()
            v01_load(plain)
            best["0.1 load"] = min(best.get("0.1 load", 1e9), time.perf_counter() - t)
            shutil.rmtree(plain)
            ours = Path(d) / f"ours{i}"
            t = time.perf_counter()
            net.save(ours)
            best["refgraph save"] = min(best.get("refgraph save", 1e9), time.perf_counter() - t)
            t = time.perf_counter()
            net.save(ours, overwrite=True)
            best["refgraph overwrite"] = min(
                best.get("refgraph overwrite", 1e9), time.perf_counter() - t
            )
            t = time.perf_counter()
            back = refgraph.load(ours)
            best["refgraph load"] = min(best.get("refgraph load", 1e9), time.perf_counter() - t)
            assert back == net
            size = sum(p.stat().st_size for p in ours.rglob("*.parquet")) / 2  # two generations
            shutil.rmtree(ours)
    print(f"folder: {size / 1e6:.1f} MB of Parquet per generation")
    for k, v in best.items():
        print(f"{k:20s} {v:7.3f} s")
    print(
        f"save overhead x{best['refgraph save'] / best['plain save']:.2f}, "
        f"load overhead x{best['refgraph load'] / best['plain load']:.2f} (frames only), "
        f"x{best['refgraph load'] / best['0.1 load']:.2f} (against 0.1's load)"
    )
    status = Path("/proc/self/status")
    if status.exists():  # Linux: the process's peak resident size
        peak = [ln for ln in status.read_text().splitlines() if ln.startswith("VmHWM")]
        print(f"peak resident: {int(peak[0].split()[1]) / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
