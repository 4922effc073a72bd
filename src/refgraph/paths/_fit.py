"""Calibration of the tie-strength weights on labelled relationships: :func:`fit_tie_strength`.

Public through :mod:`refgraph.paths`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._optional import require
from .._params import check_float, check_int, check_npis_in_network
from ._tie_data import _pair_context
from ._ties import FACTORS, TieFit, TieWeights, _design, tie_strength

logger = logging.getLogger(__name__)

__all__ = ["fit_tie_strength"]


def _pair_factors(
    net: Any, ts: pd.DataFrame, a_npi: pd.Series, b_npi: pd.Series, w: TieWeights
) -> np.ndarray:
    """Factor values for arbitrary pairs; pairs absent from ``ts`` share no patients."""
    idx = net.npis
    a = check_npis_in_network(net, a_npi.astype("string").tolist(), "labelled")
    b = check_npis_in_network(net, b_npi.astype("string").tolist(), "labelled")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    ta = idx.get_indexer(pd.Index(ts["npi_a"]))
    tb = idx.get_indexer(pd.Index(ts["npi_b"]))
    n = len(idx)
    key_ts = pd.Index(ta.astype(np.int64) * n + tb)
    pos = key_ts.get_indexer(lo.astype(np.int64) * n + hi)
    X = np.zeros((len(a), len(FACTORS)))
    hit = pos >= 0
    X[hit] = ts[list(FACTORS)].to_numpy("float64")[pos[hit]]
    miss = ~hit
    ctx = _pair_context(net, lo[miss], hi[miss])
    col = FACTORS.index
    X[miss, col("patients")] = w.no_sharing
    X[miss, col("hospital")] = np.where(
        ctx["hospital_known"], w.hospital_logodds(ctx["same_hospital"]), 0.0
    )
    X[miss, col("distance")] = np.where(
        np.isnan(ctx["miles"]), 0.0, w.distance_logodds(np.nan_to_num(ctx["miles"]))
    )
    X[miss, col("recency")] = 1.0
    X[miss, col("same_practice")] = ctx["same_practice"]
    X[miss, col("same_system")] = ctx["same_system"]
    return X


def _fit_offset(X: np.ndarray, y: np.ndarray, offset: np.ndarray, C: float) -> np.ndarray:
    """L2-penalised logistic regression of ``y`` on ``X`` around ``offset``.

    Minimises ``sum(log-loss) + |delta|**2 / (2 C)`` over ``(delta_0, delta)`` with the
    linear predictor ``offset + delta_0 + X @ delta`` (the intercept is not
    penalised): scikit-learn's objective, shrunk toward the starting weights
    instead of toward zero.
    """
    from scipy.optimize import minimize

    Z = np.column_stack([np.ones(len(X)), X])
    pen = np.r_[0.0, np.ones(X.shape[1])] / C

    def f(d: np.ndarray) -> tuple[float, np.ndarray]:
        z = offset + Z @ d
        loss = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * np.sum(pen * d * d))
        grad = Z.T @ (1.0 / (1.0 + np.exp(-z)) - y) + pen * d
        return loss, grad

    res = minimize(f, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(res.x)


def fit_tie_strength(
    net: Any,
    labelled: pd.DataFrame,
    *,
    label: str = "label",
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
    start: TieWeights | TieFit | Mapping[str, float] | None = None,
    test_size: float = 0.3,
    C: float = 1.0,
    seed: int = 0,
) -> TieFit:
    """Calibrate the tie-strength weights on labelled known relationships.

    Fits a logistic regression of the label (1 = "they know each other well
    enough to introduce", 0 = not) on the factors of :data:`FACTORS`, so the
    fitted coefficients are directly the weights of :func:`tie_strength`. The
    fit starts from ``start`` (default: the published-evidence defaults of
    :class:`TieWeights`) and its L2 penalty shrinks toward them, not toward
    zero: with few labels the result stays near the evidence, with many it
    follows your data. The curve parameters (``patients_intercept``, caps,
    ...) are kept from ``start``; only the factor weights and the intercept
    are fitted.

    Parameters
    ----------
    net
        The network the factors are computed on.
    labelled
        Pairs ``npi_a``, ``npi_b`` (or ``source_npi``, ``target_npi``) and a
        0/1 ``label`` column. Pairs without any relationship in the network
        are allowed (their contact factors are 0).
    label
        Name of the label column.
    half_life_days, as_of, ties
        As in :func:`tie_strength`.
    start
        Weights to start from and shrink toward (:class:`TieWeights`, a
        :class:`TieFit` or a mapping of overrides of the defaults).
    test_size
        Share of pairs held out (stratified) to report fit quality.
    C
        Inverse L2 regularisation strength (as in scikit-learn's
        ``LogisticRegression``), on the distance from ``start``.
    seed
        Seed of the train/test split.

    Returns
    -------
    TieFit
        Fitted weights and held-out AUC, log-loss and Brier score.

    Raises
    ------
    ValidationError
        When labels are not 0/1 or only one class is present.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> rng = np.random.default_rng(0)
    >>> ids = [f"1{i:08d}" for i in range(100, 400)]
    >>> ids = [p + str(npi_check_digit(p)) for p in ids]
    >>> a, b = ids[::2], ids[1::2]
    >>> counts = rng.integers(1, 40, len(a))
    >>> net = ReferralNetwork.from_frames(flows=pd.DataFrame(
    ...     {"source_npi": a, "target_npi": b, "count": counts}))
    >>> lab = pd.DataFrame({"npi_a": a, "npi_b": b, "label": (counts > 15).astype(int)})
    >>> fit = fit_tie_strength(net, lab)
    >>> fit.auc > 0.9
    True
    >>> fit.weights.patients_intercept == TieWeights().patients_intercept  # curve kept
    True
    >>> tiny = fit_tie_strength(net, lab, C=1e-6)  # all penalty: stays at the start
    >>> abs(tiny.weights.logged - TieWeights().logged) < 1e-3
    True
    """
    require("sklearn", "geo", purpose="fit_tie_strength")
    from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
    from sklearn.model_selection import train_test_split

    cols = set(labelled.columns)
    if {"npi_a", "npi_b"} <= cols:
        ca, cb = "npi_a", "npi_b"
    elif {"source_npi", "target_npi"} <= cols:
        ca, cb = "source_npi", "target_npi"
    else:
        raise ValidationError(
            "labelled: expected columns npi_a, npi_b (or source_npi, target_npi), "
            f"got {sorted(cols)}"
        )
    if label not in cols:
        raise ValidationError(f"label: column {label!r} not in labelled ({sorted(cols)})")
    C = check_float(C, "C", minimum=0, open_min=True)
    test_size = check_float(test_size, "test_size", minimum=0, maximum=1, open_max=True)
    seed = check_int(seed, "seed", minimum=0)
    y = pd.to_numeric(labelled[label], errors="coerce").to_numpy("float64", na_value=np.nan)
    if not np.isin(y, [0.0, 1.0]).all():
        raise ValidationError(f"labelled[{label!r}]: expected only 0/1 labels")
    if len(np.unique(y)) < 2:
        raise ValidationError(f"labelled[{label!r}]: both classes (0 and 1) are needed to fit")
    w0 = TieWeights.from_any(start)
    ts = tie_strength(net, weights=w0, half_life_days=half_life_days, as_of=as_of, ties=ties)
    X = _design(_pair_factors(net, ts, labelled[ca], labelled[cb], w0))
    y = y.astype(int)
    n_min = int(min(np.bincount(y)))
    if n_min >= 5 and 0 < test_size < 1:
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=y
        )
    else:
        logger.warning("fit_tie_strength: too few labels to hold out; reporting in-sample fit")
        Xtr, Xte, ytr, yte = X, X, y, y
    coef0 = w0.coefficients()
    d = _fit_offset(Xtr, ytr.astype("float64"), w0.intercept + Xtr @ coef0, C)
    fitted = replace(
        w0,
        intercept=float(w0.intercept + d[0]),
        **{f: float(c) for f, c in zip(FACTORS, coef0 + d[1:])},
    )
    p = 1.0 / (1.0 + np.exp(-(fitted.intercept + Xte @ fitted.coefficients())))
    z_start = w0.intercept + Xte @ coef0
    two = len(np.unique(yte)) > 1
    res = TieFit(
        weights=fitted,
        auc=float(roc_auc_score(yte, p)) if two else float("nan"),
        log_loss=float(log_loss(yte, p, labels=[0, 1])),
        brier=float(brier_score_loss(yte, p)),
        auc_default=float(roc_auc_score(yte, z_start)) if two else float("nan"),
        n_train=len(ytr),
        n_test=len(yte),
    )
    logger.info(
        "fit_tie_strength: AUC %.3f (defaults %.3f), log-loss %.3f, Brier %.3f",
        res.auc,
        res.auc_default,
        res.log_loss,
        res.brier,
    )
    return res
