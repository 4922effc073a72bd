"""Calibration of the tie-strength weights on labelled relationships: :func:`fit_tie_strength`.

Public through :mod:`refgraph.paths`.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._optional import require
from ._tie_data import _node_context
from ._ties import FACTORS, TieFit, TieWeights, tie_strength

logger = logging.getLogger(__name__)

__all__ = ["fit_tie_strength"]


def _pair_factors(net: Any, ts: pd.DataFrame, a_npi: pd.Series, b_npi: pd.Series) -> np.ndarray:
    """Factor matrix for arbitrary pairs (pairs absent from ``ts`` get 0 contact factors)."""
    idx = net.npis
    a = idx.get_indexer(pd.Index(a_npi.astype("string")))
    b = idx.get_indexer(pd.Index(b_npi.astype("string")))
    if ((a < 0) | (b < 0)).any():
        raise ValidationError("labelled: some pairs name physicians not in the network")
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    ta = idx.get_indexer(pd.Index(ts["npi_a"]))
    tb = idx.get_indexer(pd.Index(ts["npi_b"]))
    n = len(idx)
    key_ts = pd.Index(ta.astype(np.int64) * n + tb)
    pos = key_ts.get_indexer(lo.astype(np.int64) * n + hi)
    X = np.zeros((len(a), len(FACTORS)))
    hit = pos >= 0
    X[hit] = ts[list(FACTORS)].to_numpy("float64")[pos[hit]]
    pcode, scode = _node_context(net)
    same_p = (pcode[lo] >= 0) & (pcode[lo] == pcode[hi])
    X[~hit, FACTORS.index("same_practice")] = same_p[~hit]
    X[~hit, FACTORS.index("same_system")] = (
        (~same_p) & (scode[lo] >= 0) & (scode[lo] == scode[hi])
    )[~hit]
    return X


def fit_tie_strength(
    net: Any,
    labelled: pd.DataFrame,
    *,
    label: str = "label",
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
    test_size: float = 0.3,
    C: float = 1.0,
    seed: int = 0,
) -> TieFit:
    """Calibrate the tie-strength weights on labelled known relationships.

    Fits a logistic regression of the label (1 = "they know each other well
    enough to introduce", 0 = not) on the seven factors, so the fitted
    coefficients are directly the weights of :func:`tie_strength`.

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
    test_size
        Share of pairs held out (stratified) to report fit quality.
    C
        Inverse L2 regularisation strength of scikit-learn's
        ``LogisticRegression``.
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
    """
    require("sklearn", "geo", purpose="fit_tie_strength")
    from sklearn.linear_model import LogisticRegression
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
    y = pd.to_numeric(labelled[label], errors="coerce").to_numpy("float64", na_value=np.nan)
    if not np.isin(y, [0.0, 1.0]).all():
        raise ValidationError(f"labelled[{label!r}]: expected only 0/1 labels")
    if len(np.unique(y)) < 2:
        raise ValidationError(f"labelled[{label!r}]: both classes (0 and 1) are needed to fit")
    ts = tie_strength(net, half_life_days=half_life_days, as_of=as_of, ties=ties)
    X = _pair_factors(net, ts, labelled[ca], labelled[cb])
    y = y.astype(int)
    n_min = int(min(np.bincount(y)))
    if n_min >= 5 and 0 < test_size < 1:
        Xtr, Xte, ytr, yte = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=y
        )
    else:
        logger.warning("fit_tie_strength: too few labels to hold out; reporting in-sample fit")
        Xtr, Xte, ytr, yte = X, X, y, y
    model = LogisticRegression(C=C, max_iter=1000)
    model.fit(Xtr, ytr)
    p = model.predict_proba(Xte)[:, 1]
    coef = model.coef_[0]
    fitted = replace(
        TieWeights(),
        intercept=float(model.intercept_[0]),
        **{f: float(c) for f, c in zip(FACTORS, coef)},
    )
    d = TieWeights()
    z_def = d.intercept + Xte @ d.coefficients()
    two = len(np.unique(yte)) > 1
    res = TieFit(
        weights=fitted,
        auc=float(roc_auc_score(yte, p)) if two else float("nan"),
        log_loss=float(log_loss(yte, p, labels=[0, 1])),
        brier=float(brier_score_loss(yte, p)),
        auc_default=float(roc_auc_score(yte, z_def)) if two else float("nan"),
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
