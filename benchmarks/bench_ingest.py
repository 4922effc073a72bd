"""Ingest speed: CMS shared-patient reader and Parquet flows, side by side with plain pandas.

Usage::

    python benchmarks/bench_ingest.py [--rows 5000000]

Each case runs in a fresh subprocess so peak memory (ru_maxrss) is its own.
The baseline is what a user would write without refgraph: ``pandas.read_csv``
with NPIs as strings (no validation, no rejects). refgraph additionally checks
every NPI check digit, count and date and builds the rejects table.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def make_cms_file(path: Path, rows: int, seed: int = 0) -> None:
    """A raw headerless CMS-format file with valid NPIs and realistic counts."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from refgraph import npi_check_digit

    rng = np.random.default_rng(seed)
    n_npis = max(rows // 20, 1000)
    base = rng.choice(np.arange(100_000_000, 199_999_999), size=n_npis, replace=False)
    npis = np.array([f"{b}{npi_check_digit(str(b))}" for b in base])
    src = npis[rng.integers(0, n_npis, rows)]
    dst = npis[rng.integers(0, n_npis, rows)]
    same = src == dst
    dst[same] = npis[(np.searchsorted(npis, dst[same]) + 1) % n_npis] if same.any() else dst[same]
    bene = 11 + rng.geometric(0.08, rows)
    pair = bene + rng.geometric(0.02, rows)
    sameday = rng.binomial(pair, 0.05)
    df = pd.DataFrame({"a": src, "b": dst, "p": pair, "n": bene, "s": sameday})
    df.to_csv(path, header=False, index=False)


def _case(kind: str, path: str) -> dict[str, float]:
    t0 = time.perf_counter()
    if kind == "refgraph_cms":
        import refgraph

        net = refgraph.read_cms_shared_patients(path, window_days=30, year=2015)
        n = net.ingest["flows"].n_input
    elif kind == "pandas_csv":
        df = pd.read_csv(
            path,
            header=None,
            names=["npi1", "npi2", "pair_count", "bene_count", "same_day_count"],
            dtype={"npi1": "string", "npi2": "string"},
        )
        n = len(df)
    elif kind == "refgraph_parquet":
        import refgraph

        res = refgraph.read_flows(path)
        n = res.n_input
    elif kind == "pandas_parquet":
        n = len(pd.read_parquet(path))
    else:
        raise ValueError(kind)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": dt, "rows": n, "peak_mib": peak}


def run_case(kind: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--case", kind, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--case", nargs=2)
    args = ap.parse_args()
    if args.case:
        print(json.dumps(_case(args.case[0], args.case[1])))
        return
    with tempfile.TemporaryDirectory() as d:
        cms = Path(d) / "pspp_days30.txt"
        make_cms_file(cms, args.rows)
        flows = pd.read_csv(
            cms,
            header=None,
            names=["source_npi", "target_npi", "count", "patients", "same_day_count"],
            dtype={"source_npi": "string", "target_npi": "string"},
        )
        pq = Path(d) / "flows.parquet"
        flows.to_parquet(pq)
        size_mb = cms.stat().st_size / 1e6
        rows = []
        for kind, path in [
            ("pandas_csv", cms),
            ("refgraph_cms", cms),
            ("pandas_parquet", pq),
            ("refgraph_parquet", pq),
        ]:
            r = run_case(kind, path)
            rows.append((kind, r))
        print(f"\n{args.rows:,} rows; CMS text {size_mb:.0f} MB\n")
        print("| case | seconds | rows/s | peak MiB |")
        print("|---|---:|---:|---:|")
        for kind, r in rows:
            print(
                f"| {kind} | {r['seconds']:.2f} | {r['rows'] / r['seconds']:,.0f} | "
                f"{r['peak_mib']:,.0f} |"
            )


if __name__ == "__main__":
    main()
