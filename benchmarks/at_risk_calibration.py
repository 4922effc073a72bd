"""Calibration of ``refgraph.tracking.at_risk``: null false flags and recall, before/after.

Run from the repository root::

    PYTHONPATH=src .venv/bin/python benchmarks/at_risk_calibration.py             # 200 runs
    PYTHONPATH=src .venv/bin/python benchmarks/at_risk_calibration.py --runs 50   # quicker

The previous implementation (``--baseline``, a git revision; default the commit this
work started from) is unpacked with ``git archive`` into a temporary directory, and
every (implementation, scenario) pair runs in its own child process with its own
``PYTHONPATH``, on the same simulated logs (same seeds). The table is written to
``benchmarks/results/at_risk_calibration.md``.

Scenarios (two years of daily counts, 2023-01-01 .. 2024-12-31, scored as of the last
day with default settings unless the implementation says otherwise):

* ``steady null`` -- 50 sources at a constant Poisson rate drawn from U(0.05, 0.4) a
  day; nothing changes, so any flag is false;
* ``seasonal null`` -- the same rates times a monthly shape (summer and December
  dips) repeated each year;
* ``over-dispersed null`` -- steady rates, negative-binomial day counts with variance
  twice the mean (the default ``dispersion='estimate'`` is made for it; the
  ``dispersion=1`` row shows a Poisson model on the same counts);
* ``planted drop`` -- 50 sources at 2 referrals a week, 10 of which fall to 30% for
  the last 90 days: recall over the 10, false flags among the other 40;
* ``synthetic region`` -- :func:`refgraph.datasets.synthetic_region` (1,500
  physicians, one year with a seasonal shape, about 7% of physicians planted to
  decline or stop): share labelled declining or lost by ``at_risk`` and by
  ``trends`` (the old ``trends`` label was the sign of the least-squares slope).
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEASON = np.array([1.05, 1.05, 1.08, 1.02, 1.00, 0.95, 0.86, 0.90, 1.00, 1.05, 0.98, 0.84])
SCENARIOS = ("steady null", "seasonal null", "over-dispersed null", "planted drop")
ALL = (*SCENARIOS, "synthetic region")
IMPLS = {  # label: (code, keyword arguments of at_risk, scenarios)
    "before (Poisson test, known baseline)": ("baseline", {}, ALL),
    "after, default (season='market')": ("current", {}, ALL),
    "after, season='own'": ("current", {"season": "own"}, ALL),
    "after, dispersion=1 (Poisson model)": (
        "current",
        {"dispersion": 1.0},
        ("steady null", "over-dispersed null", "planted drop"),
    ),
}


def _worker(scenario: str, runs: int, kwargs: dict) -> dict:
    import pandas as pd
    from scipy import stats

    from refgraph import ReferralNetwork, npi_check_digit
    from refgraph.tracking import at_risk, trends

    def npi(i: int) -> str:
        p = f"1{i + 100:08d}"
        return p + str(npi_check_digit(p))

    t0 = time.perf_counter()
    if scenario == "synthetic region":
        from refgraph.datasets import synthetic_region

        net = synthetic_region(1500, seed=3, events=True)
        r = at_risk(net, **kwargs)
        tr = trends(net)
        return {
            "sources": len(r),
            "at_risk share": float(r["at_risk"].mean()),
            "growing share": float((r["status"] == "growing").mean()),
            "trends declining share": float(tr["trend"].isin(["declining", "lost"]).mean()),
            "trends growing share": float((tr["trend"] == "growing").mean()),
            "seconds": time.perf_counter() - t0,
        }
    days = pd.date_range("2023-01-01", "2024-12-31", freq="D")
    npis = np.array([npi(i) for i in range(50)], dtype=object)
    empty = ReferralNetwork()
    any_flag = any_grow = 0
    found: list[bool] = []
    false_flags = 0
    for seed in range(runs):
        rng = np.random.default_rng(seed)
        if scenario == "planted drop":
            lam = np.full((50, len(days)), 2 / 7)
            lam[:10, -90:] *= 0.3
        else:
            lam = rng.uniform(0.05, 0.4, 50)[:, None] * np.ones(len(days))
            if scenario == "seasonal null":
                lam = lam * SEASON[days.month.to_numpy() - 1][None, :]
        if scenario == "over-dispersed null":
            counts = rng.poisson(rng.gamma(lam / (2.0 - 1), 2.0 - 1))
        else:
            counts = rng.poisson(lam)
        s, d = np.nonzero(counts)
        reps = counts[s, d]
        ev = pd.DataFrame(
            {
                "date": np.repeat(days.values[d], reps),
                "source_npi": np.repeat(npis[s], reps),
                "target_npi": npi(999),
                "status": "referred",
            }
        )
        net = copy.deepcopy(empty).add_events(ev)
        r = at_risk(net, as_of="2024-12-31", with_trend=False, **kwargs)
        if scenario == "planted drop":
            found += r.loc[npis[:10], "at_risk"].tolist()
            false_flags += int(r.loc[npis[10:], "at_risk"].sum())
        any_flag += bool(r["at_risk"].any())
        any_grow += bool((r["status"] == "growing").any())
    lo, hi = stats.binomtest(any_flag, runs).proportion_ci(0.95)
    out = {
        "runs": runs,
        "runs with any flag": any_flag / runs,
        "ci": [lo, hi],
        "runs with any growing": any_grow / runs,
        "seconds": time.perf_counter() - t0,
    }
    if found:
        out["recall"] = float(np.mean(found))
        out["false flags per run"] = false_flags / runs
        out["false share of flags"] = false_flags / max(false_flags + int(np.sum(found)), 1)
    return out


def _baseline_src(rev: str, dest: Path) -> Path:
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "src/refgraph"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    return dest / "src"


def _run(src: Path, scenario: str, runs: int, kwargs: dict) -> dict:
    cmd = [sys.executable, __file__, "--worker", scenario, "--runs", str(runs)]
    cmd += ["--kwargs", json.dumps(kwargs)]
    env = {"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"}
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--baseline", default="c2e0335", help="git revision of the 'before' code")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--kwargs", default="{}", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/at_risk_calibration.md"))
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.runs, json.loads(args.kwargs))))
        return
    rows: list[tuple[str, str, dict]] = []
    syn: list[tuple[str, str, dict]] = []
    with tempfile.TemporaryDirectory() as tmp:
        srcs = {"baseline": _baseline_src(args.baseline, Path(tmp)), "current": ROOT / "src"}
        for label, (impl, kw, scenarios) in IMPLS.items():
            for sc in scenarios:
                res = _run(srcs[impl], sc, 1 if sc == "synthetic region" else args.runs, kw)
                (syn if sc == "synthetic region" else rows).append((label, sc, res))
                print(label, sc, res, flush=True)
    lines = [
        "# at_risk calibration: false flags under the null and recall, before and after",
        "",
        f"`benchmarks/at_risk_calibration.py --runs {args.runs}`; 'before' is git revision "
        f"`{args.baseline}`. Each run: 50 sources, two years of daily counts, scored as of "
        "the last day, `alpha=0.05`, `adjust='bh'`, `min_drop=0.3`. 'any flag' = share of "
        "runs in which at least one source was flagged at risk (95% Clopper-Pearson "
        "interval); for the null scenarios every flag is false, so the nominal level is at "
        "most 5%. Recall: share of the 10 planted drops (2 a week falling to 30% for the "
        "last 90 days) flagged.",
        "",
        "| implementation | scenario | any flag | 95% CI | any 'growing' | recall "
        "| false flags / run | false share of flags | time (s) |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for label, sc, res in rows:
        ci = f"{_pct(res['ci'][0])} - {_pct(res['ci'][1])}"
        rec = _pct(res["recall"]) if "recall" in res else ""
        ff = f"{res['false flags per run']:.2f}" if "recall" in res else ""
        fs = _pct(res["false share of flags"]) if "recall" in res else ""
        lines.append(
            f"| {label} | {sc} | {_pct(res['runs with any flag'])} | {ci} | "
            f"{_pct(res['runs with any growing'])} | {rec} | {ff} | {fs} | {res['seconds']:.0f} |"
        )
    lines += [
        "",
        "Synthetic region (`synthetic_region(1500, seed=3, events=True)`: one year with a "
        "seasonal shape; about 7% of physicians are planted to decline or stop, none to grow):",
        "",
        "| implementation | scored sources | at_risk | growing | trends: declining or lost "
        "| trends: growing |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, _sc, res in syn:
        lines.append(
            f"| {label} | {res['sources']} | {_pct(res['at_risk share'])} | "
            f"{_pct(res['growing share'])} | {_pct(res['trends declining share'])} | "
            f"{_pct(res['trends growing share'])} |"
        )
    lines += [
        "",
        "Before, `trends` labelled by the sign of the straight-line slope (its 'declining' "
        "counts the December dip); after, `trends` shows the `at_risk` status (the trends "
        "column of the 'season=own' row is the default's: `trends` takes no season).",
        "",
    ]
    Path(args.out).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
