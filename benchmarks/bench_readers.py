"""Clean-file reading speed and peak memory of the readers, before/after (issues 13, 11).

Usage::

    python benchmarks/bench_readers.py [--rows 300000] [--dir DIR] [--baseline OLD_SRC]
        [--cases read_cms read_flows_csv read_flows_parquet]

``--baseline SRC`` names a ``src`` folder with the code before the change; each
case then runs alternately with it and with this checkout's ``src`` (so a busy
machine slows both alike), each in a fresh subprocess, ``--repeat`` times;
the medians (and the best wall time) are reported with the after/before
ratio. The files are made once (same seed) and reused.

Each run also reports its CPU seconds (``time.process_time``, every thread
of the process: less moved by other processes on a busy machine than the
wall time), its peak resident memory (``VmHWM`` of the subprocess) and how
much of it the read itself added (peak after the read minus the resident
size after the imports). The ``read_cms``,
``read_flows_csv`` and ``read_flows_parquet`` cases are set beside plain
pyarrow on the same file (``pyarrow.csv.read_csv`` with the NPIs as text,
``pyarrow.parquet.read_table``), run in the same way, as the file-speed
baseline of issue 11.

Both sides of that comparison run in the same conditions: every child
process imports ``pyarrow.csv``, ``pyarrow.parquet`` and ``pyarrow.compute``
(and refgraph) before its clock starts, so neither pays a module import
inside the timed read (the pyarrow cases imported ``pyarrow.parquet`` before
their clock, refgraph's Parquet read imported it inside: about 40 ms of a
0.2 s read); both parse with pyarrow's threads (its default). The
``read_cms`` case times ``read_cms_shared_patients``, which returns a
network, so it includes the network build (the physicians implied by the
flows and the flows' node ids); ``read_cms_flows`` times the same file's
validated flows alone (``iter_cms_shared_patients``), to show the split.
``--cms-file`` reads another CMS-like file (for example a sorted, clean
5M-pair file of ``bench_national.py``) in the ``read_cms*`` cases.

Each line reports the median wall and CPU seconds of ``--repeat`` runs (and
the best wall), the ratio of the medians to pyarrow's, and the load
average of the machine before and after the case's runs.
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
import pandas as pd

CASES = (
    "read_flows_csv",
    "read_flows_parquet",
    "read_cms",
    "read_cms_flows",
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
        if not (d / f"flows_{rows}.parquet").exists():
            _flows_parquet(d, rows)
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
    _flows_parquet(d, rows)
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


def _flows_parquet(d: Path, rows: int) -> None:
    """The flows CSV as Parquet: NPIs as text, periods as Arrow dates."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    npi = {"source_npi": pa.string(), "target_npi": pa.string()}
    table = pacsv.read_csv(
        d / f"flows_{rows}.csv", convert_options=pacsv.ConvertOptions(column_types=npi)
    )
    pq.write_table(table, d / f"flows_{rows}.parquet")


#: The plain pyarrow read set beside each refgraph reader (same file).
PYARROW = {
    "read_cms": "pyarrow_csv_cms",
    "read_cms_flows": "pyarrow_csv_cms",
    "read_flows_csv": "pyarrow_csv_flows",
    "read_flows_parquet": "pyarrow_parquet_flows",
}


def _cms_file(d: Path, rows: int) -> Path:
    """The CMS-like file of the ``read_cms*`` cases: ``--cms-file``, or the one made here."""
    given = os.environ.get("BENCH_READERS_CMS_FILE")
    return Path(given) if given else d / f"cms_{rows}.txt"


def _case(kind: str, d: Path, rows: int) -> float:
    if kind.startswith("pyarrow_"):
        return _pyarrow_case(kind, d, rows)
    import refgraph

    t0 = time.perf_counter()
    if kind == "read_flows_csv":
        refgraph.read_flows(d / f"flows_{rows}.csv")
    elif kind == "read_flows_parquet":
        refgraph.read_flows(d / f"flows_{rows}.parquet")
    elif kind == "read_cms":
        refgraph.read_cms_shared_patients(_cms_file(d, rows), window_days=30, year=2015)
    elif kind == "read_cms_flows":  # the validated flows alone, without the network build
        from refgraph.io import iter_cms_shared_patients

        list(iter_cms_shared_patients(_cms_file(d, rows), window_days=30, year=2015))
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


def _pyarrow_case(kind: str, d: Path, rows: int) -> float:
    """Plain pyarrow reads of the same files (NPIs as text, as refgraph keeps them)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    if kind == "pyarrow_csv_cms":
        names = ["npi1", "npi2", "pair_count", "bene_count", "same_day_count"]
        pacsv.read_csv(
            _cms_file(d, rows),
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(
                column_types={"npi1": pa.string(), "npi2": pa.string()}
            ),
        )
    elif kind == "pyarrow_csv_flows":
        npi = {"source_npi": pa.string(), "target_npi": pa.string()}
        pacsv.read_csv(
            d / f"flows_{rows}.csv", convert_options=pacsv.ConvertOptions(column_types=npi)
        )
    elif kind == "pyarrow_parquet_flows":
        pq.read_table(d / f"flows_{rows}.parquet")
    return time.perf_counter() - t0


def _status_mib(field: str) -> float:
    """``VmRSS``/``VmHWM`` of this process in MiB (Linux); ``ru_maxrss`` elsewhere.

    ``ru_maxrss`` survives ``exec`` on Linux (a fresh subprocess reports its
    parent's peak), so the per-process ``/proc`` figures are used.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start ``VmHWM`` again from the current resident size (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _median(values: Any) -> float:
    return float(np.median(list(values)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/refgraph-bench-readers"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--case")
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--baseline", type=Path, help="a src folder with the code before the change")
    ap.add_argument("--cms-file", type=Path, help="a CMS-like file for the read_cms* cases")
    args = ap.parse_args()
    if args.case:
        # every module either side uses, imported before the clock and the "after imports"
        # size, so that neither side's time includes an import
        import pyarrow
        import pyarrow.compute
        import pyarrow.csv
        import pyarrow.parquet  # noqa: F401

        import refgraph  # noqa: F401

        before = _status_mib("VmRSS")
        _reset_peak()
        cpu = time.process_time()
        seconds = _case(args.case, args.dir, args.rows)
        cpu = time.process_time() - cpu
        peak = _status_mib("VmHWM")
        print(json.dumps([seconds, peak, peak - before, cpu]))
        return
    make_files(args.dir, args.rows)
    here = str(Path(__file__).resolve().parents[1] / "src")
    srcs = {"after": here}
    if args.baseline:
        srcs = {"before": str(args.baseline), **srcs}
    env = dict(os.environ)
    if args.cms_file:
        env["BENCH_READERS_CMS_FILE"] = str(args.cms_file.resolve())
    out: dict[str, dict[str, float]] = {}
    for kind in args.cases:
        labels = dict(srcs)
        if kind in PYARROW:  # the plain pyarrow read of the same file, interleaved too
            labels["pyarrow"] = here
        runs: dict[str, list[tuple[float, ...]]] = {k: [] for k in labels}
        load0 = os.getloadavg()[0]
        for _ in range(args.repeat):  # interleaved, so load on the machine hits all alike
            for label, src in labels.items():
                case = PYARROW[kind] if label == "pyarrow" else kind
                cmd = [sys.executable, __file__, "--case", case, "--dir", str(args.dir)]
                run = subprocess.run(
                    [*cmd, "--rows", str(args.rows)],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**env, "PYTHONPATH": src},
                )
                runs[label].append(tuple(json.loads(run.stdout)))  # type: ignore[arg-type]
        load1 = os.getloadavg()[0]
        line = f"{kind:20s}"
        med = {
            k: (_median(r[0] for r in got), _median(r[3] for r in got)) for k, got in runs.items()
        }
        for label, got in runs.items():
            best = min(r[0] for r in got)
            wall, cpu = med[label]
            peak = max(r[1] for r in got)
            grew = max(r[2] for r in got)
            out[f"{kind}:{label}"] = {
                "seconds": round(best, 3),
                "median_s": round(wall, 3),
                "cpu_s": round(min(r[3] for r in got), 3),
                "median_cpu_s": round(cpu, 3),
                "rows_per_s": round(args.rows / wall),
                "peak_mib": round(peak),
                "read_added_mib": round(grew),
                "load": round(load0, 1),
            }
            line += (
                f" | {label} {wall:6.2f} s (best {best:5.2f}, cpu {cpu:5.2f})"
                f" peak {peak:5.0f} MiB (+{grew:4.0f})"
            )
        for label in srcs:
            if "pyarrow" in med:
                line += (
                    f" | {label}/pyarrow {med[label][0] / med['pyarrow'][0]:.2f}x"
                    f" (cpu {med[label][1] / med['pyarrow'][1]:.2f}x)"
                )
        if args.baseline:
            line += f" | after/before {med['after'][0] / med['before'][0]:.2f}"
        print(f"{line} | load {load0:.1f}->{load1:.1f}", flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
