"""Draw the calibration curve of docs/tie-strength.md into docs/images/tie_strength_calibration.png.

Usage::

    python scripts/make_tie_strength_image.py [--out docs/images]

Offline and deterministic: it plots the default tie model of ``refgraph.paths``
against the published figures it is anchored on (Barnett et al. 2011; Landon et
al. 2012) and prints the numbers the page quotes.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
try:
    import refgraph  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(ROOT / "src"))

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from refgraph.paths import TieWeights  # noqa: E402
from refgraph.paths._tie_data import (  # noqa: E402
    BARNETT_AUC,
    BARNETT_P_AT_9,
    _barnett_curve,
)


def _logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def draw(out: Path) -> Path:
    w = TieWeights()
    k = np.geomspace(1.0, 100.0, 400)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)

    # left: the shared-patient curve against Barnett et al.'s published point
    curves = [_barnett_curve(cap=math.inf, tail=t) for t in (1.5, 3.0)]
    lo, hi = (_logistic(a + b * np.log(k)) for a, b in curves)
    ax.fill_between(k, np.minimum(lo, hi), np.maximum(lo, hi), color="0.85",
                    label="assumed tail exponent 1.5 to 3")  # fmt: skip
    p = w.shared_patient_curve(k)
    ev = k <= 9
    ax.plot(k[ev], p[ev], color="C0", lw=2.2, label="default curve (evidence range)")
    ax.plot(k[~ev], p[~ev], color="C0", lw=2.2, ls="--", label="default curve (extrapolated)")
    ax.plot(k, TieWeights(patients_cap=9.0).shared_patient_curve(k), color="C2", lw=1.2,
            ls=":", label="patients_cap=9 (stop at the evidence)")  # fmt: skip
    ax.plot([9], [BARNETT_P_AT_9], "o", color="C3", ms=8, zorder=5,
            label="Barnett et al. 2011: 82% at 9")  # fmt: skip
    ax.axhline(float(w.shared_patient_curve(0)), color="C1", lw=1, ls="-.",
               label="no shared patients: 5% (assumption)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlim(1, 100)
    ax.set_ylim(0, 1)
    ax.set_xlabel("shared patients k (log scale)")
    ax.set_ylabel("P(recognised professional relationship)")
    ax.set_title(f"Barnett et al. 2011: 82% at nine, ROC AUC {BARNETT_AUC}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")

    # right: Landon et al.'s ratios update a pair with no shared patients
    d = np.linspace(0, 60, 241)
    z0 = w.no_sharing
    for label, h, color in (
        ("same hospital (x1.39)", w.hospital_logodds(True), "C0"),
        ("hospital unknown", 0.0, "0.4"),
        ("different hospitals (x0.13)", w.hospital_logodds(False), "C3"),
    ):
        bx.plot(d, _logistic(z0 + h + w.distance_logodds(d)), color=color, lw=2, label=label)
    bx.axvline(17.6, color="0.6", lw=1, ls=":")
    bx.text(18.2, 0.115, "17.6 mi: ratio 1", fontsize=8, color="0.4")
    bx.axhline(_logistic(np.array(z0)), color="C1", lw=1, ls="-.", label="5% prior (assumption)")
    bx.set_xlabel("office distance (miles; capped at 50)")
    bx.set_ylabel("P(recognised professional relationship)")
    bx.set_title("Landon et al. 2012 ratios, pairs with no shared patients")
    bx.set_xlim(0, 60)
    bx.set_ylim(0, 0.2)
    bx.grid(alpha=0.3)
    bx.legend(fontsize=8, loc="upper right")

    out.mkdir(parents=True, exist_ok=True)
    path = out / "tie_strength_calibration.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"))
    args = ap.parse_args(argv)
    w = TieWeights()
    print(draw(Path(args.out)))
    for k in (0, 1, 2, 3, 5, 9, 20, 40):
        print(f"k={k:>2}: {float(w.shared_patient_curve(k)):.3f}")
    for t in (1.5, 2.0, 2.5, 3.0):
        a, b = _barnett_curve(cap=math.inf, tail=t)
        print(f"tail {t}: a={a:.4f} b={b:.4f} P(1)={float(_logistic(np.array(a))):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
