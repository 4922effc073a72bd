"""Benchmark: shared-patient flows from encounters, refgraph vs a plain-pandas self-merge.

Usage::

    python benchmarks/bench_claims.py [--events 10000000] [--baseline-events N]

Generates seeded synthetic encounters (patients, physicians grouped in practices of
10 who mostly see the practice's patients, dates in 2024), writes them once to a
Parquet file, then runs each method in its own fresh Python process on the same
file so that peak memory is measured per method:

* ``refgraph``: :func:`refgraph.io.claims.flows_from_events` (includes NPI and date
  validation and the rejects bookkeeping);
* ``pandas``: the obvious approach - drop duplicate encounters, self-merge on
  ``patient_id`` in chunks of patients, keep pairs by date difference, group by
  the NPI pair. It does no validation.

Both apply the same counting rules (see ``flows_from_events`` Notes). Timings
cover the computation only, not reading the Parquet file. Peak memory is the
process's peak resident set size during the call (``resource.getrusage``
``ru_maxrss`` after resetting the high-water mark through
``/proc/self/clear_refs`` where Linux allows it), and the same minus the resident
size just before the call. The flows of both methods are compared on the
largest size where the baseline ran.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
try:
    import refgraph  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))


# --------------------------------------------------------------------------- data


def make_events(n_events: int, n_patients: int, n_physicians: int, seed: int) -> pd.DataFrame:
    """Seeded synthetic encounters: 90 % within the patient's practice of 10."""
    from refgraph import npi_check_digit

    rng = np.random.default_rng(seed)
    npis = np.array([f"1{i:08d}" + str(npi_check_digit(f"1{i:08d}")) for i in range(n_physicians)])
    pids = np.array([f"P{i:08d}" for i in range(n_patients)])
    practice_size = 10
    n_practices = max(1, n_physicians // practice_size)
    practice = rng.integers(0, n_practices, n_patients)
    patient = rng.integers(0, n_patients, n_events)
    own = rng.random(n_events) < 0.9
    doc = np.where(
        own,
        np.minimum(
            practice[patient] * practice_size + rng.integers(0, practice_size, n_events),
            n_physicians - 1,
        ),
        rng.integers(0, n_physicians, n_events),
    )
    day = rng.integers(0, 366, n_events)
    return pd.DataFrame(
        {
            "patient_id": pd.array(pids[patient], dtype="str"),
            "npi": pd.array(npis[doc], dtype="str"),
            "date": np.datetime64("2024-01-01", "ns") + day.astype("timedelta64[D]"),
        }
    )


# --------------------------------------------------------------------------- methods


def run_refgraph(df: pd.DataFrame, window: int, min_patients: int) -> pd.DataFrame:
    from refgraph.io.claims import flows_from_events

    res = flows_from_events(df, window_days=window, min_patients=min_patients)
    return res.table


def run_pandas(
    df: pd.DataFrame, window: int, min_patients: int, chunk_patients: int = 100_000
) -> pd.DataFrame:
    """Plain pandas: self-merge per chunk of patients, then group by NPI pair."""
    ev = df[["patient_id", "npi", "date"]].copy()
    ev["date"] = pd.to_datetime(ev["date"]).dt.normalize()
    ev = ev.drop_duplicates()
    chunk = pd.factorize(ev["patient_id"])[0] // chunk_patients
    parts = []
    for _, sub in ev.groupby(chunk, sort=False):
        m = sub.merge(sub, on="patient_id", suffixes=("_a", "_b"))
        gap = (m["date_b"] - m["date_a"]).dt.days
        keep = (m["npi_a"] != m["npi_b"]) & (
            ((gap > 0) & (gap <= window)) | ((gap == 0) & (m["npi_a"] < m["npi_b"]))
        )
        part = m.loc[keep, ["npi_a", "npi_b", "patient_id"]]
        parts.append(part.assign(same=(gap[keep] == 0).to_numpy()))
        del m, gap, keep
    pairs = pd.concat(parts, ignore_index=True)
    out = (
        pairs.groupby(["npi_a", "npi_b"], sort=True)
        .agg(
            count=("patient_id", "size"),
            patients=("patient_id", "nunique"),
            same_day_count=("same", "sum"),
        )
        .reset_index()
        .rename(columns={"npi_a": "source_npi", "npi_b": "target_npi"})
    )
    return out[out["patients"] >= min_patients].reset_index(drop=True)


METHODS = {"refgraph": run_refgraph, "pandas": run_pandas}


# --------------------------------------------------------------------------- worker


def _rss_kib() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def worker(method: str, data: str, out: str, window: int, min_patients: int) -> None:
    df = pd.read_parquet(data)
    n = len(df)
    reset = _reset_peak()
    before = _rss_kib()
    t0 = time.perf_counter()
    flows = METHODS[method](df, window, min_patients)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    keep = ["source_npi", "target_npi", "count", "patients", "same_day_count"]
    flows[keep].astype(
        {
            "source_npi": "str",
            "target_npi": "str",
            "count": "int64",
            "patients": "int64",
            "same_day_count": "int64",
        }
    ).to_parquet(out)
    print(
        json.dumps(
            {
                "method": method,
                "events": n,
                "seconds": seconds,
                "flows": len(flows),
                "peak_mib": peak / 1024,
                "delta_mib": max(0, peak - before) / 1024,
                "peak_reset": reset,
            }
        )
    )


def spawn(method: str, data: Path, out: Path, args: argparse.Namespace) -> dict | None:
    cmd = [
        sys.executable, __file__, "--worker", method, "--data", str(data), "--out", str(out),
        "--window", str(args.window), "--min-patients", str(args.min_patients),
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=args.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        print(f"  {method}: timed out after {args.timeout} s", file=sys.stderr)
        return None
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        print(f"  {method}: failed ({proc.returncode}): {' | '.join(tail)}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def same_flows(a: Path, b: Path) -> tuple[bool, str]:
    x = pd.read_parquet(a).sort_values(["source_npi", "target_npi"]).reset_index(drop=True)
    y = pd.read_parquet(b).sort_values(["source_npi", "target_npi"]).reset_index(drop=True)
    try:
        pd.testing.assert_frame_equal(x, y, check_dtype=False)
    except AssertionError as exc:
        return False, str(exc).splitlines()[0]
    return True, f"{len(x)} flows, {int(x['count'].sum())} pairs identical"


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--patients", type=int, default=None, help="default: events / 10")
    ap.add_argument("--physicians", type=int, default=20_000)
    ap.add_argument("--baseline-events", type=int, default=None, help="default: --events")
    ap.add_argument(
        "--fallback-events",
        type=int,
        default=1_000_000,
        help="baseline size to retry with if it fails at --baseline-events",
    )
    ap.add_argument("--window", type=int, default=30)
    ap.add_argument("--min-patients", type=int, default=11)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per method run")
    ap.add_argument("--worker", choices=sorted(METHODS), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        worker(args.worker, args.data, args.out, args.window, args.min_patients)
        return

    base_n = args.baseline_events or args.events
    sizes = sorted({args.events, base_n})
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench_claims_") as tmp:
        tmpdir = Path(tmp)

        def data_for(n: int) -> Path:
            path = tmpdir / f"events_{n}.parquet"
            if not path.exists():
                t0 = time.perf_counter()
                n_pat = args.patients or max(1, n // 10)
                make_events(n, n_pat, args.physicians, args.seed).to_parquet(path)
                print(
                    f"generated {n:,} events ({n_pat:,} patients, {args.physicians:,} "
                    f"physicians) in {time.perf_counter() - t0:.1f} s",
                    file=sys.stderr,
                )
            return path

        results: dict[tuple[str, int], dict] = {}
        for n in sizes:
            path = data_for(n)
            for method in METHODS:
                if method == "pandas" and n != base_n:
                    continue
                if method == "refgraph" and n != args.events and n != base_n:
                    continue
                print(f"running {method} on {n:,} events ...", file=sys.stderr)
                r = spawn(method, path, tmpdir / f"{method}_{n}.parquet", args)
                if r:
                    results[(method, n)] = r

        check_n = base_n
        if ("pandas", base_n) not in results and args.fallback_events < base_n:
            check_n = args.fallback_events
            notes.append(
                f"the pandas baseline did not finish on {base_n:,} events; it was run on "
                f"{check_n:,} events instead"
            )
            path = data_for(check_n)
            for method in METHODS:
                print(f"running {method} on {check_n:,} events ...", file=sys.stderr)
                r = spawn(method, path, tmpdir / f"{method}_{check_n}.parquet", args)
                if r:
                    results[(method, check_n)] = r

        if ("refgraph", check_n) in results and ("pandas", check_n) in results:
            ok, msg = same_flows(
                tmpdir / f"refgraph_{check_n}.parquet", tmpdir / f"pandas_{check_n}.parquet"
            )
            notes.append(f"identical flows on {check_n:,} events: {'yes' if ok else 'NO'} ({msg})")
        else:
            notes.append("no size where both methods finished: flows not compared")

        rows = [r for _, r in sorted(results.items(), key=lambda kv: (-kv[0][1], kv[0][0]))]

    print(
        f"\nwindow_days={args.window}, min_patients={args.min_patients}, seed={args.seed}, "
        f"{os.cpu_count()} CPUs\n"
    )
    print(
        "| method | events | seconds | events/s | flows | peak RSS (MiB) | RSS above input (MiB) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['method']} | {r['events']:,} | {r['seconds']:.2f} | "
            f"{r['events'] / r['seconds']:,.0f} | {r['flows']:,} | {r['peak_mib']:,.0f} | "
            f"{r['delta_mib']:,.0f} |"
        )
    if rows and not all(r["peak_reset"] for r in rows):
        notes.append("peak RSS could not be reset after loading: it includes the load peak")
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
