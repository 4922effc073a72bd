"""Tie strength: the probability that a relationship would carry an introduction.

The model is a logistic combination of seven factors, each scaled to [0, 1]:

==================  ==========================================================  =======
factor              definition                                                  default
==================  ==========================================================  =======
``volume``          ``1 - exp(-referrals / volume_scale)``, referrals both ways   2.5
``patients``        ``1 - exp(-shared_patients / patients_scale)``                1.0
``recency``         ``0.5 ** (days since last referral / half_life_days)``        1.5
``reciprocity``     1 when referrals flow both ways                               1.0
``same_practice``   1 when both work in the same practice                         2.0
``same_system``     1 when their practices differ but share a hospital system     0.75
``logged``          1 for an explicit logged tie (knows / introduced-by)          3.0
==================  ==========================================================  =======

``strength = 1 / (1 + exp(-(intercept + sum(weight * factor))))`` with
``intercept = -3``. Rationale of the defaults: a relationship with nothing
but a single old referral is weak (strength ~0.1), a busy, recent two-way
referral tie or a colleague in the same group practice is strong (~0.8-0.95),
and a logged "knows" tie alone (strength 0.5) is worth as much as a fresh
referral relationship of ~10 referrals. The saturating transforms keep a
physician with 2,000 referrals from counting 100 times more than one with 20:
what matters for an introduction is that they know each other. Any weight can
be overridden (``weights={"logged": 5}``), and :func:`fit_tie_strength`
calibrates them on labelled known relationships.

Relationships are **undirected**: an introduction can travel either way along
a referral tie (the referring physician and the specialist both know each
other), so the table has one row per unordered pair ``npi_a < npi_b``; the
direction survives in ``referrals_ab`` / ``referrals_ba`` and in the
reciprocity factor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from ._tie_data import (
    _as_of,
    _colleague_pairs,
    _dates,
    _ids,
    _node_context,
    _read_ties,
    _touchpoint_ties,
)

__all__ = ["FACTORS", "TieFit", "TieWeights", "tie_strength"]

#: Names of the tie-strength factors, in the order of :class:`TieWeights`.
FACTORS: tuple[str, ...] = (
    "volume",
    "patients",
    "recency",
    "reciprocity",
    "same_practice",
    "same_system",
    "logged",
)


@dataclass(frozen=True)
class TieWeights:
    """Weights of the logistic tie-strength model (see the module notes).

    Parameters
    ----------
    intercept
        Log-odds of a relationship with every factor at 0.
    volume, patients, recency, reciprocity, same_practice, same_system, logged
        Log-odds added per unit of each factor (factors lie in [0, 1]).
    volume_scale
        Referrals at which the volume factor reaches ``1 - 1/e`` (63%).
    patients_scale
        Shared patients at which the patients factor reaches 63%.
    undated_recency
        Recency factor of a relationship with referrals or a logged tie but
        no date (half credit: we know of contact, not when).

    Examples
    --------
    >>> w = TieWeights()
    >>> round(w.strength({"volume": 1, "recency": 1, "reciprocity": 1}), 3)
    0.881
    >>> TieWeights.from_any({"logged": 5.0}).logged
    5.0
    """

    intercept: float = -3.0
    volume: float = 2.5
    patients: float = 1.0
    recency: float = 1.5
    reciprocity: float = 1.0
    same_practice: float = 2.0
    same_system: float = 0.75
    logged: float = 3.0
    volume_scale: float = 10.0
    patients_scale: float = 5.0
    undated_recency: float = 0.5

    @classmethod
    def from_any(cls, weights: TieWeights | TieFit | Mapping[str, float] | None) -> TieWeights:
        """Coerce ``None``, a mapping of overrides, a :class:`TieFit` or weights."""
        if weights is None:
            return cls()
        if isinstance(weights, TieWeights):
            return weights
        if isinstance(weights, TieFit):
            return weights.weights
        if isinstance(weights, Mapping):
            known = {f.name for f in fields(cls)}
            bad = sorted(set(weights) - known)
            if bad:
                raise ValidationError(
                    f"weights: unknown key(s) {bad}; expected some of {sorted(known)}"
                )
            return replace(cls(), **{k: float(v) for k, v in weights.items()})
        raise ValidationError(
            f"weights: expected TieWeights, TieFit, a mapping or None, got {type(weights).__name__}"
        )

    def coefficients(self) -> np.ndarray:
        """Factor weights as an array in :data:`FACTORS` order."""
        return np.array([getattr(self, f) for f in FACTORS], dtype="float64")

    def strength(self, factors: Mapping[str, float]) -> float:
        """Strength of one relationship given its factor values (missing = 0)."""
        z = self.intercept + sum(getattr(self, f) * float(factors.get(f, 0.0)) for f in FACTORS)
        return float(1.0 / (1.0 + np.exp(-z)))

    def as_dict(self) -> dict[str, float]:
        """All fields as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class TieFit:
    """Result of :func:`fit_tie_strength`.

    Attributes
    ----------
    weights
        Fitted :class:`TieWeights` (pass it, or this object, to ``weights=``).
    auc, log_loss, brier
        Fit quality on the held-out pairs (in-sample when too few labels).
    auc_default
        AUC of the default weights on the same held-out pairs, for comparison.
    n_train, n_test
        Number of labelled pairs used to fit and to evaluate.
    """

    weights: TieWeights
    auc: float
    log_loss: float
    brier: float
    auc_default: float
    n_train: int
    n_test: int

    def summary(self) -> pd.Series:
        """Fit quality and coefficients as one Series."""
        out = {
            "auc": self.auc,
            "log_loss": self.log_loss,
            "brier": self.brier,
            "auc_default": self.auc_default,
            "n_train": self.n_train,
            "n_test": self.n_test,
            "intercept": self.weights.intercept,
        }
        out.update({f: getattr(self.weights, f) for f in FACTORS})
        return pd.Series(out, dtype=object)

    def _repr_html_(self) -> str:
        """Notebook display: fit quality and coefficients (escaped HTML)."""
        from .._html import result_html

        s = self.summary()
        return result_html(
            "Tie-strength fit",
            [("AUC", self.auc), ("default AUC", self.auc_default), ("test pairs", self.n_test)],
            [("fit and coefficients", s.to_frame("value"), None)],
        )


# ---------------------------------------------------------------------------- main
def tie_strength(
    net: Any,
    *,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
    ties: pd.DataFrame | None = None,
    colleagues_max_size: int = 10,
) -> pd.DataFrame:
    """Strength in [0, 1] of every relationship of the network (undirected pairs).

    A relationship is a pair of physicians with referral flows or events in
    either direction, an explicit logged tie, or a shared small practice.

    Parameters
    ----------
    net
        The :class:`~refgraph.ReferralNetwork`.
    weights
        :class:`TieWeights`, a :class:`TieFit`, or a mapping of overrides of
        the defaults (e.g. ``{"same_practice": 3.0}``).
    half_life_days
        Half-life of the recency decay: a tie whose last referral is
        ``half_life_days`` old gets half the recency credit.
    as_of
        Reference date of the recency factor; default the latest date in
        the flows (``period_end``), events and touchpoints, so that results
        do not change with the day they are computed.
    ties
        Optional logged relationships: columns ``npi_a``, ``npi_b`` (or
        ``source_npi``, ``target_npi``) and optionally ``kind`` (``"knows"``,
        ``"introduced_by"``, ...). Touchpoints whose ``notes`` contain
        another physician's NPI (e.g. "introduced by 1234567893") are logged
        ties too.
    colleagues_max_size
        Physicians of the same practice with at most this many physicians
        are related even without flows (everybody knows everybody in a small
        group); 0 disables. Large practices (hospitals) only relate
        physicians with flows or logged ties.

    Returns
    -------
    pandas.DataFrame
        One row per unordered pair: ``npi_a``, ``npi_b`` (``npi_a < npi_b``
        in node order), raw facts ``referrals_ab``, ``referrals_ba``,
        ``shared_patients``, ``last_date``, ``days_since``, ``logged_kind``,
        the factors ``volume``, ``patients``, ``recency``, ``reciprocity``,
        ``same_practice``, ``same_system``, ``logged`` (each in [0, 1]),
        ``logit`` and ``strength``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1234567893"],
    ...                       "count": [30, 5], "patients": [20, 4],
    ...                       "period_end": ["2024-12-31", "2024-12-31"]})
    >>> ts = tie_strength(ReferralNetwork.from_frames(flows=flows))
    >>> ts[["referrals_ab", "referrals_ba", "reciprocity", "recency"]].to_numpy().tolist()
    [[30.0, 5.0, 1.0, 1.0]]
    >>> round(float(ts["strength"].iloc[0]), 3)
    0.949

    Notes
    -----
    See the module docstring for the factors, the defaults and their
    rationale. The logistic form makes each weight a log-odds ratio, so
    weights fitted by logistic regression (:func:`fit_tie_strength`) plug in
    directly.
    """
    frame, _, _ = _tie_core(
        net,
        TieWeights.from_any(weights),
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
        colleagues_max_size=colleagues_max_size,
        with_npis=True,
    )
    return frame


def _tie_core(
    net: Any,
    w: TieWeights,
    *,
    half_life_days: float,
    as_of: Any,
    ties: pd.DataFrame | None,
    colleagues_max_size: int,
    with_npis: bool,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Tie table plus the node ids ``a < b`` of each row (numpy segment reductions)."""
    if not half_life_days > 0:
        raise ValidationError(f"half_life_days: expected a positive number, got {half_life_days!r}")
    idx = net.npis
    n = len(idx)
    ref = _as_of(net, as_of)
    nat = np.iinfo(np.int64).min
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("s", "d", "cnt", "pat", "has_pat", "last", "ev", "logged", "kind")
    }

    def add(
        s: np.ndarray,
        d: np.ndarray,
        *,
        cnt: Any = 0.0,
        pat: Any = np.nan,
        last: Any = None,
        ev: float = 0.0,
        logged: float = 0.0,
        kind: Any = -1,
    ) -> None:
        m = len(s)
        cols["s"].append(np.asarray(s, np.int64))
        cols["d"].append(np.asarray(d, np.int64))
        cols["cnt"].append(np.broadcast_to(np.asarray(cnt, "float64"), (m,)))
        p = np.broadcast_to(np.asarray(pat, "float64"), (m,))
        cols["pat"].append(np.nan_to_num(p))
        cols["has_pat"].append(~np.isnan(p))
        lv = np.full(m, nat) if last is None else np.asarray(last).view(np.int64)
        cols["last"].append(lv)
        cols["ev"].append(np.full(m, ev))
        cols["logged"].append(np.full(m, logged))
        cols["kind"].append(np.broadcast_to(np.asarray(kind, np.int64), (m,)))

    f = net.flows
    if len(f):
        add(
            _ids(net, f["source_npi"]),
            _ids(net, f["target_npi"]),
            cnt=pd.to_numeric(f["count"]).to_numpy(dtype="float64", na_value=0.0),
            pat=pd.to_numeric(f["patients"]).to_numpy(dtype="float64", na_value=np.nan),
            last=_dates(f["period_end"]),
        )
    ev = net.events
    if len(ev):
        add(
            _ids(net, ev["source_npi"]),
            _ids(net, ev["target_npi"]),
            last=_dates(ev["date"]),
            ev=1.0,
        )
    kinds: list[str] = []
    la, lb = np.empty(0, np.int64), np.empty(0, np.int64)
    if ties is not None:
        la, lb, kinds = _read_ties(ties, idx)
    ta, tb, tk = _touchpoint_ties(net, idx)
    la, lb, kinds = np.concatenate([la, ta]), np.concatenate([lb, tb]), [*kinds, *tk]
    if len(la):
        add(la, lb, logged=1.0, kind=np.arange(len(la)))
    ca, cb = _colleague_pairs(net, colleagues_max_size)
    if len(ca):
        add(ca, cb)
    if cols["s"]:
        c = {k: np.concatenate(v) for k, v in cols.items()}
    else:
        c = {
            k: np.zeros(0, np.int64 if k in ("s", "d", "last", "kind") else "float64") for k in cols
        }
    s, d = c["s"], c["d"]
    lo, hi = np.minimum(s, d), np.maximum(s, d)
    fwd = s <= d
    key = lo * n + hi
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)

    def seg_sum(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, "float64")[order]
        return np.add.reduceat(x, starts) if len(starts) else np.zeros(0)

    def seg_max(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)[order]
        return np.maximum.reduceat(x, starts) if len(starts) else x[:0]

    is_ev = c["ev"] > 0
    flow_ab = seg_sum(np.where(fwd & ~is_ev, c["cnt"], 0.0))
    flow_ba = seg_sum(np.where(~fwd & ~is_ev, c["cnt"], 0.0))
    ev_ab = seg_sum(fwd & is_ev)
    ev_ba = seg_sum(~fwd & is_ev)
    pat_sum = seg_sum(c["pat"])
    pat_n = seg_sum(c["has_pat"])
    # the last referral: the latest event when the pair has events (exact dates), else the
    # end of the latest flow period (aggregated flows only bound the date from above)
    last_ev = seg_max(np.where(is_ev, c["last"], nat))
    last = np.where(last_ev != nat, last_ev, seg_max(np.where(is_ev, nat, c["last"])))
    logged = seg_max(c["logged"])
    kind_i = seg_max(c["kind"])
    a = key[starts] // n if n else key[starts]
    b = key[starts] - a * n
    # pairs with events but no flows count their events as referrals
    no_flow = (flow_ab + flow_ba) == 0
    ab = np.where(no_flow, ev_ab, flow_ab)
    ba = np.where(no_flow, ev_ba, flow_ba)
    pat = np.where(pat_n > 0, pat_sum, np.nan)
    last_dt = np.where(last == nat, np.datetime64("NaT", "ns").view(np.int64), last).view(
        "datetime64[ns]"
    )
    pcode, scode = _node_context(net)
    same_p = (pcode[a] >= 0) & (pcode[a] == pcode[b])
    same_s = (~same_p) & (scode[a] >= 0) & (scode[a] == scode[b])
    if ref is not None:
        age = (np.datetime64(ref.to_datetime64(), "ns") - last_dt) / np.timedelta64(1, "D")
        days: np.ndarray = np.where(np.isnat(last_dt), np.nan, np.maximum(age, 0.0))
    else:
        days = np.full(len(a), np.nan)
    contact = (ab + ba > 0) | (logged > 0)
    recency = np.where(
        np.isnan(days),
        np.where(contact, w.undated_recency, 0.0),
        0.5 ** (np.nan_to_num(days) / half_life_days),
    )
    fac = {
        "volume": 1.0 - np.exp(-(ab + ba) / w.volume_scale),
        "patients": 1.0 - np.exp(-np.nan_to_num(pat) / w.patients_scale),
        "recency": recency,
        "reciprocity": ((ab > 0) & (ba > 0)).astype("float64"),
        "same_practice": same_p.astype("float64"),
        "same_system": same_s.astype("float64"),
        "logged": (logged > 0).astype("float64"),
    }
    logit = w.intercept + sum(getattr(w, k) * v for k, v in fac.items())
    kind_arr = np.array([*kinds, None], dtype=object)[np.where(kind_i >= 0, kind_i, len(kinds))]
    data: dict[str, Any] = {}
    if with_npis:
        npis = np.asarray(idx, dtype=object)
        data["npi_a"] = pd.array(npis[a], dtype="string")
        data["npi_b"] = pd.array(npis[b], dtype="string")
    data.update(
        {
            "referrals_ab": ab,
            "referrals_ba": ba,
            "shared_patients": pat,
            "last_date": last_dt,
            "date_from_events": np.asarray(last_ev != nat, dtype=bool),
            "days_since": days,
            "logged_kind": pd.array(kind_arr, dtype="string"),
            **fac,
            "logit": np.asarray(logit, "float64"),
            "strength": 1.0 / (1.0 + np.exp(-np.asarray(logit, dtype="float64"))),
        }
    )
    out = pd.DataFrame(data)
    out.attrs["as_of"] = None if ref is None else str(ref.date())
    return out, a, b
