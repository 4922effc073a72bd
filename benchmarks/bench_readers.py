"""Clean-file reading speed of the tolerant readers, before/after (issue 13).

Usage::

    python benchmarks/bench_readers.py [--rows 300000] [--dir DIR] [--baseline OLD_SRC]

``--baseline SRC`` names a ``src`` folder with the code before the change; each
case then runs alternately with it and with this checkout's ``src`` (so a busy
machine slows both alike), each in a fresh subprocess, and the best of
``--repeat`` runs of each is reported with the after/before ratio. The files
are made once (same seed) and reused.
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

import numpy as np
import pandas as pd

CASES = (
    "read_flows_csv",
    "read_cms",
    "read_docgraph_hop",
    "read_directory",
    "claims_csv",
    "claims_placeholder",
)


def make_files(d: Path, rows: int, seed: int = 0) -> None:
    """A flows CSV, a headerless CMS file, a hop file, a directory and encounters."""
    from refgraph import npi_check_digit

    d.mkdir(parents=True, exist_ok=True)
    if (d / f"flows_{rows}.csv").exists():
        return
    rng = np.random.default_rng(seed)
    n_npis = max(rows // 20, 1000)
    base = rng.choice(np.arange(100_000_000, 199_999_999), size=n_npis, replace=False)
    npis = np.array([f"{b}{npi_check_digit(str(b))}" for b in base])
    src = npis[rng.integers(0, n_npis, rows)]
    dst = npis[(np.searchsorted(npis, src) + 1 + rng.integers(0, n_npis - 1, rows)) % n_npis]
    bene = 11 + rng.geometric(0.08, rows)
    pair = bene + rng.geometric(0.02, rows)
    same = rng.binomial(pair, 0.05)
    flows = pd.DataFrame(
        {
            "source_npi": src,
            "target_npi": dst,
            "count": pair,
            "patients": bene,
            "period_start": "2015-01-01",
            "period_end": "2015-12-31",
        }
    )
    flows.to_csv(d / f"flows_{rows}.csv", index=False)
    pd.DataFrame({"a": src, "b": dst, "p": pair, "n": bene, "s": same}).to_csv(
        d / f"cms_{rows}.txt", header=False, index=False
    )
    pd.DataFrame(
        {
            "from_npi": src,
            "to_npi": dst,
            "patient_count": bene,
            "transaction_count": pair,
            "average_day_wait": rng.random(rows) * 30,
            "std_day_wait": rng.random(rows) * 9,
        }
    ).to_csv(d / f"hop_{rows}.csv", index=False)
    pd.DataFrame(
        {
            "NPI": npis,
            "Entity Type Code": "1",
            "Provider First Name": "ADA",
            "Provider Last Name (Legal Name)": "OKAFOR",
            "Provider Business Practice Location Address Postal Code": "021141234",
            "Healthcare Provider Taxonomy Code_1": "207RC0000X",
            "Healthcare Provider Primary Taxonomy Switch_1": "Y",
        }
    ).sample(rows, replace=True, random_state=seed).to_csv(d / f"dir_{rows}.csv", index=False)
    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 365, rows), unit="D")
    pd.DataFrame(
        {
            "patient_id": rng.integers(0, rows // 8, rows),
            "npi": src,
            "date": days.strftime("%Y-%m-%d"),
        }
    ).to_csv(d / f"enc_{rows}.csv", index=False)


def _case(kind: str, d: Path, rows: int) -> float:
    import refgraph

    t0 = time.perf_counter()
    if kind == "read_flows_csv":
        refgraph.read_flows(d / f"flows_{rows}.csv")
    elif kind == "read_cms":
        refgraph.read_cms_shared_patients(d / f"cms_{rows}.txt", window_days=30, year=2015)
    elif kind == "read_docgraph_hop":
        refgraph.read_docgraph_hop(d / f"hop_{rows}.csv")
    elif kind == "read_directory":
        refgraph.read_directory(d / f"dir_{rows}.csv")
    elif kind == "claims_csv":
        from refgraph.io import flows_from_events

        flows_from_events(d / f"enc_{rows}.csv", min_patients=0)
    elif kind == "claims_placeholder":
        # one placeholder patient id with 8000 encounters over 1000 NPIs and 30 days
        # (about 25 million pairs in a 30-day window); peak memory is the figure
        from refgraph import npi_check_digit
        from refgraph.io import flows_from_events

        rng = np.random.default_rng(0)
        npis = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 1001)]
        n = 8000
        days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 30, n), unit="D")
        enc = pd.DataFrame(
            {
                "patient_id": "UNKNOWN",
                "npi": [npis[i] for i in rng.integers(0, 1000, n)],
                "date": days,
            }
        )
        t0 = time.perf_counter()
        flows_from_events(enc, min_patients=0)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/refgraph-bench-readers"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case")
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--baseline", type=Path, help="a src folder with the code before the change")
    args = ap.parse_args()
    if args.case:
        seconds = _case(args.case, args.dir, args.rows)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps([seconds, peak]))
        return
    make_files(args.dir, args.rows)
    srcs = {"after": str(Path(__file__).resolve().parents[1] / "src")}
    if args.baseline:
        srcs = {"before": str(args.baseline), **srcs}
    out: dict[str, dict[str, float]] = {k: {} for k in srcs}
    for kind in args.cases:
        times: dict[str, list[float]] = {k: [] for k in srcs}
        peaks: dict[str, float] = {}
        for _ in range(args.repeat):  # interleaved, so load on the machine hits both alike
            for label, src in srcs.items():
                run = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--case",
                        kind,
                        "--dir",
                        str(args.dir),
                        "--rows",
                        str(args.rows),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": src},
                )
                seconds, peak = json.loads(run.stdout)
                times[label].append(seconds)
                peaks[label] = max(peaks.get(label, 0.0), peak)
        line = f"{kind:20s}"
        for label in srcs:
            out[label][kind] = round(min(times[label]), 3)
            out[label][kind + "_peak_mib"] = round(peaks[label])
            line += f" {label} {min(times[label]):7.3f} s {peaks[label]:6.0f} MiB"
        if args.baseline:
            line += f"  ratio {min(times['after']) / min(times['before']):.2f}"
        print(line, flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
