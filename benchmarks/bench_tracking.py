"""Benchmark: bucket and score 10 million referral events, next to a plain pandas baseline.

Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/bench_tracking.py            # 10 million
    PYTHONPATH=src .venv/bin/python benchmarks/bench_tracking.py --n 1e6    # quicker

Every stage runs in its own child process on the same generated event log
(same seed), so each peak resident memory figure belongs to that stage alone.
The table is written to ``benchmarks/results/tracking.md``.

Stages:

* ``pandas groupby (baseline)`` -- the plain way to bucket:
  ``events.groupby([events.source_npi, events.date.dt.to_period("M")]).size()``;
* ``bucket(freq="M")`` -- :func:`refgraph.tracking.bucket` per source and month
  (also counting the scheduled/seen/converted stages, which the baseline does not);
* ``at_risk`` -- :func:`refgraph.tracking.at_risk` (seasonal baseline, cadence,
  Poisson tests, monthly OLS trend of every source);
* ``bucket + at_risk`` -- both, as a weekly job would run them.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger("bench_tracking")

STAGES = ["pandas groupby (baseline)", "bucket(freq='M')", "at_risk", "bucket + at_risk"]


def _npis(n: int, rng: np.random.Generator) -> np.ndarray:
    from refgraph import npi_check_digit

    bodies = 100_000_000 + rng.choice(99_999_999, size=n, replace=False)
    return np.array([f"{b}{npi_check_digit(str(b))}" for b in bodies], dtype=object)


def make_events(n: int, *, n_sources: int, n_targets: int = 2000, seed: int = 0) -> pd.DataFrame:
    """A synthetic two-year event log: lognormal source volumes, monthly seasonality."""
    rng = np.random.default_rng(seed)
    npis = _npis(n_sources + n_targets, rng)
    vol = rng.lognormal(0.0, 1.0, n_sources)
    src = rng.choice(n_sources, size=n, p=vol / vol.sum())
    tgt = n_sources + rng.integers(0, n_targets, n)
    start = np.datetime64("2023-01-01")
    days = 731
    season = 1 + 0.25 * np.cos(2 * np.pi * np.arange(days) / 365.25)
    day = rng.choice(days, size=n, p=season / season.sum())
    status = np.array(["referred", "scheduled", "seen", "converted"], dtype=object)
    stage = np.minimum(rng.geometric(0.45, n) - 1, 3)
    s_arr = pd.array(npis, dtype="string")
    return pd.DataFrame(
        {
            "date": (start + day.astype("timedelta64[D]")).astype("datetime64[ns]"),
            "source_npi": s_arr.take(src),
            "target_npi": s_arr.take(tgt),
            "status": pd.array(status[stage], dtype="string"),
            "referral_id": np.arange(n, dtype=np.int64),
        }
    )


def _maxrss_mib() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 2**20


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> float:
    """Reset the peak RSS (Linux: write 5 to /proc/self/clear_refs); return the current RSS."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return _maxrss_mib()
    return _status_mib("VmRSS") or _maxrss_mib()


def _peak() -> float:
    return _status_mib("VmHWM") or _maxrss_mib()


def run_stage(stage: str, n: int, n_sources: int) -> dict[str, float]:
    from refgraph import ReferralNetwork
    from refgraph.tracking import at_risk, bucket

    ev = make_events(n, n_sources=n_sources)
    net = ReferralNetwork._from_valid_tables({"events": ev})
    as_of = "2024-12-31"
    loaded = _reset_peak()
    t0 = time.perf_counter()
    rows = 0
    if stage == STAGES[0]:
        out = ev.groupby([ev["source_npi"], ev["date"].dt.to_period("M")]).size()
        rows = len(out)
        assert int(out.sum()) == n
    if stage in (STAGES[1], STAGES[3]):
        b = bucket(net, freq="M")
        rows = len(b)
        assert int(b["referrals"].sum()) == n
    if stage in (STAGES[2], STAGES[3]):
        r = at_risk(net, as_of=as_of)
        rows = rows or len(r)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "loaded_mib": loaded, "peak_mib": _peak(), "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=float, default=10_000_000, help="number of events")
    ap.add_argument("--sources", type=int, default=100_000, help="number of referring sources")
    ap.add_argument("--stage", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "tracking.md"))
    args = ap.parse_args()
    n = int(args.n)
    if args.stage:
        print(json.dumps(run_stage(args.stage, n, args.sources)))  # child -> parent protocol
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    results = {}
    for stage in STAGES:
        cmd = [
            sys.executable,
            __file__,
            "--n",
            str(n),
            "--sources",
            str(args.sources),
            "--stage",
            stage,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[stage] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[stage]
        logger.info(
            "%-28s %7.2f s  peak %7.0f MiB (data loaded: %7.0f MiB)",
            stage,
            r["seconds"],
            r["peak_mib"],
            r["loaded_mib"],
        )
    base = results[STAGES[0]]["seconds"]
    lines = [
        "# Tracking benchmark",
        "",
        f"{n:,} synthetic referral events (two years, {args.sources:,} sources, 2,000 "
        "targets, one row per referral), bucketed by source and month and scored by "
        "`at_risk` as of 2024-12-31. Each stage ran in its own process on the same log. "
        "`data loaded` = resident memory when the stage started (the event log and the "
        "network wrapping it); the peak was reset then (Linux `/proc/self/clear_refs`), "
        "so `peak RSS` is the highest resident memory during the stage and the increment "
        "is what the stage itself needed on top of the data.",
        "",
        f"Machine: {platform.machine()}, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}.",
        "",
        "| stage | time (s) | vs baseline | data loaded (MiB) | peak RSS (MiB) "
        "| increment (MiB) | rows out |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for stage, r in results.items():
        lines.append(
            f"| {stage} | {r['seconds']:.2f} | {r['seconds'] / base:.2f}x | "
            f"{r['loaded_mib']:.0f} | {r['peak_mib']:.0f} | "
            f"{r['peak_mib'] - r['loaded_mib']:.0f} | {r['rows']:,} |"
        )
    lines += [
        "",
        "`bucket` also counts the scheduled/seen/converted stages and validates the log "
        "(`check_events`) on the way; the baseline only counts rows.",
        "",
    ]
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    logger.info("wrote %s", out)


if __name__ == "__main__":
    main()
