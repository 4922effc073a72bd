"""Tie strength: the probability that two physicians recognise a professional relationship.

``logit(strength) = intercept + sum(weight_f * factor_f)`` over :data:`FACTORS`. The
defaults are published evidence where it exists and labelled assumptions elsewhere;
docs/tie-strength.md plots the curve and tables every parameter with its source.

Evidence. ``patients`` is the log-odds of a recognised relationship given ``k`` shared
patients, ``a + b * log(k)``: through Barnett et al.'s (2011) 82% at nine shared patients,
with the slope that gives their ROC AUC of 0.73 when counts are distributed as Mandl et
al. (2014) report (54% of sharing pairs share one patient, 19% two; the ``k**-2`` tail
beyond is assumed). Past nine the curve is extrapolated (``patients_cap=9`` stops it).
``hospital`` and ``distance`` are log likelihood ratios from Landon et al. (2012): 96.0%
of connected vs 69.2% of unconnected pairs share a hospital; offices 13.2 vs 24.2 miles
apart on average (distances assumed exponential). They update only pairs with **no**
shared patients: for the others the count already says they are connected, and applying
Landon's ratios again would count the same evidence twice.

Assumptions: the 5% prior of a pair with no shared patients (``no_sharing``), ``recency``
(entering as ``recency - 1``), ``reciprocity``, ``same_practice``, ``logged``, one patient
per referral when flows carry no patient count; ``same_system`` and ``volume`` are off
(0) by default. Each is zero for the reference case, a current tie with only shared
patients known, so there ``strength`` is exactly Barnett's calibrated curve; unknown
facts (no date, no coordinates, no hospital) leave it alone. Terms add as independent
evidence (naive Bayes), which overstates correlated evidence (a colleague is also near).
Reading a recognised relationship as a willing introducer is itself an assumption.

Relationships are **undirected**: one row per unordered pair ``npi_a < npi_b``; the
direction survives in ``referrals_ab`` / ``referrals_ba`` and in ``reciprocity``.

References: Barnett, Landon, O'Malley, Keating, Christakis (2011), Health Services
Research 46(5):1592-1609; Landon, Keating, Barnett et al. (2012), JAMA 308(3):265-273;
Mandl, Olson, Mines, Liu, Tian (2014), J Gen Intern Med 29(11):1499-1505.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_float, check_int
from ._tie_data import (
    _CHUNK,
    LANDON_MEAN_MILES,
    LANDON_SAME_HOSPITAL,
    _aggregate,
    _as_of,
    _evidence,
    _node_arrays,
    _pair_context,
)

__all__ = ["FACTORS", "TieFit", "TieWeights", "tie_strength"]

#: Names of the tie-strength factors: columns of the tie table and of the design
#: matrix of :func:`fit_tie_strength`, each with a weight of the same name.
FACTORS: tuple[str, ...] = (
    "patients",
    "hospital",
    "distance",
    "recency",
    "reciprocity",
    "same_practice",
    "same_system",
    "logged",
    "volume",
)

_LOGIT_5PCT = float(np.log(0.05 / 0.95))


@dataclass(frozen=True)
class TieWeights:
    """Parameters of the tie-strength model (see the module notes and docs/tie-strength.md).

    Parameters
    ----------
    intercept
        Log-odds added to every tie (0: none; fitted models use it).
    patients, hospital, distance, recency, reciprocity, same_practice, same_system, logged, volume
        Weight of each factor of :data:`FACTORS`. The evidence factors (``patients``,
        ``hospital``, ``distance``) are log-odds or log likelihood ratios already, so
        their weight 1 takes the publications at face value.
    patients_intercept, patients_slope
        The shared-patient curve ``logit P = a + b * log(min(k, patients_cap))``
        (evidence: through Barnett et al.'s 82% at nine shared patients with the slope
        that gives their AUC 0.73; the fit is shown in docs/tie-strength.md).
    patients_cap
        Shared patients beyond which the curve stays flat. Default: none, the
        curve is extrapolated beyond Barnett et al.'s last point at nine (an
        assumption that keeps 10 and 100 shared patients apart); 9 stops at the
        evidence.
    no_sharing
        Log-odds of a relationship for a pair with no shared patients (assumption:
        5%).
    patients_per_referral
        Patients counted per referral when the flows carry no patient count
        (assumption: 1, an upper bound, since a patient may be referred twice).
    hospital_share_connected, hospital_share_unconnected
        Shares of connected and unconnected pairs based at the same hospital
        (evidence: Landon et al. 2012, 96.0% and 69.2%).
    miles_connected, miles_unconnected
        Mean office distance of connected and unconnected pairs (evidence: Landon
        et al. 2012, 13.2 and 24.2 miles); distances are assumed exponential.
    distance_cap_miles
        Distance beyond which the distance ratio stops falling (assumption: 50).
    volume_scale
        Referrals at which the (off by default) volume factor reaches 63%.
    undated_recency
        Recency factor of a referral tie with no date (1: an unknown date, like every
        unknown fact, leaves the evidence alone).

    Examples
    --------
    >>> w = TieWeights()
    >>> round(w.strength({"patients": w.patients_logodds(9)}), 2)  # Barnett: 82% at nine
    0.82
    >>> [round(float(p), 2) for p in w.shared_patient_curve([1, 2, 3, 5, 9, 40])]
    [0.23, 0.42, 0.54, 0.69, 0.82, 0.97]
    >>> round(w.strength({"patients": w.no_sharing, "logged": 1}), 2)  # a logged tie alone
    0.83
    >>> TieWeights.from_any({"logged": 5.0}).logged
    5.0
    """

    intercept: float = 0.0
    patients: float = 1.0
    hospital: float = 1.0
    distance: float = 1.0
    recency: float = 1.0
    reciprocity: float = 0.5
    same_practice: float = 4.0
    same_system: float = 0.0
    logged: float = 4.5
    volume: float = 0.0
    patients_intercept: float = -1.1857
    patients_slope: float = 1.2298
    patients_cap: float = float("inf")
    no_sharing: float = _LOGIT_5PCT
    patients_per_referral: float = 1.0
    hospital_share_connected: float = LANDON_SAME_HOSPITAL[0]
    hospital_share_unconnected: float = LANDON_SAME_HOSPITAL[1]
    miles_connected: float = LANDON_MEAN_MILES[0]
    miles_unconnected: float = LANDON_MEAN_MILES[1]
    distance_cap_miles: float = 50.0
    volume_scale: float = 10.0
    undated_recency: float = 1.0

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
            known = sorted(f.name for f in fields(cls))
            if bad := sorted(set(weights) - set(known)):
                raise ValidationError(f"weights: unknown key(s) {bad}; expected some of {known}")
            # caps may be infinite (patients_cap's default is); NaN never is a weight
            v = {k: check_float(x, f"weights[{k!r}]", finite=False) for k, x in weights.items()}
            return replace(cls(), **v)
        raise ValidationError(
            f"weights: expected TieWeights, TieFit, a mapping or None, got {type(weights).__name__}"
        )

    def coefficients(self) -> np.ndarray:
        """Factor weights as an array in :data:`FACTORS` order."""
        return np.array([getattr(self, f) for f in FACTORS], dtype="float64")

    def patients_logodds(self, k: Any) -> Any:
        """The ``patients`` factor for ``k`` shared patients (``no_sharing`` at 0).

        Examples
        --------
        >>> round(TieWeights().patients_logodds(1), 4) == TieWeights().patients_intercept
        True
        """
        k = np.asarray(k, dtype="float64")
        kc = np.clip(k, 1.0, max(self.patients_cap, 1.0))
        out = np.where(
            k >= 1.0, self.patients_intercept + self.patients_slope * np.log(kc), self.no_sharing
        )
        return float(out) if out.ndim == 0 else out

    def shared_patient_curve(self, k: Any) -> Any:
        """Probability of a recognised relationship from ``k`` shared patients alone.

        The calibrated curve (evidence terms only, nothing else known):
        ``1 / (1 + exp(-(intercept + patients * patients_logodds(k))))``.
        """
        z = self.intercept + self.patients * np.asarray(self.patients_logodds(k))
        out = 1.0 / (1.0 + np.exp(-z))
        return float(out) if np.ndim(out) == 0 else out

    def hospital_logodds(self, same: Any) -> Any:
        """Log likelihood ratio of sharing (``True``) or not sharing a hospital.

        Examples
        --------
        >>> w = TieWeights()
        >>> round(float(np.exp(w.hospital_logodds(True))), 3)  # .960 / .692
        1.387
        >>> round(float(np.exp(w.hospital_logodds(False))), 3)  # .040 / .308
        0.13
        """
        pc, pu = self.hospital_share_connected, self.hospital_share_unconnected
        same = np.asarray(same, dtype=bool)
        out = np.asarray(
            np.where(same, np.log(pc / pu), np.log((1.0 - pc) / (1.0 - pu))), dtype="float64"
        )
        return float(out) if out.ndim == 0 else out

    def distance_logodds(self, miles: Any) -> Any:
        """Log likelihood ratio of an office distance (exponential distances, capped).

        Examples
        --------
        >>> w = TieWeights()
        >>> round(float(np.exp(w.distance_logodds(0.0))), 3)  # 24.2 / 13.2
        1.833
        >>> round(float(w.distance_logodds(17.6)), 1)  # break-even distance
        0.0
        """
        mc, mu = self.miles_connected, self.miles_unconnected
        d = np.minimum(np.asarray(miles, dtype="float64"), self.distance_cap_miles)
        out = np.log(mu / mc) - d * (1.0 / mc - 1.0 / mu)
        return float(out) if out.ndim == 0 else out

    def strength(self, factors: Mapping[str, float]) -> float:
        """Strength of one relationship given its factor values.

        Missing factors take their neutral value: 1 for ``recency`` (a current tie),
        0 for the others.
        """
        bad = sorted(set(factors) - set(FACTORS))
        if bad:
            raise ValidationError(f"factors: unknown name(s) {bad}; expected some of {FACTORS}")
        x = {f: float(factors.get(f, 1.0 if f == "recency" else 0.0)) for f in FACTORS}
        x["recency"] -= 1.0
        z = self.intercept + sum(getattr(self, f) * x[f] for f in FACTORS)
        return float(1.0 / (1.0 + np.exp(-z)))

    def as_dict(self) -> dict[str, float]:
        """All fields as a plain dict."""
        return asdict(self)


def _design(x: np.ndarray) -> np.ndarray:
    """Factor values (columns in :data:`FACTORS` order) as the linear model's design matrix."""
    out = np.array(x, dtype="float64", copy=True)
    out[:, FACTORS.index("recency")] -= 1.0  # a current tie loses nothing
    return out


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
        AUC of the starting weights (default: the published-evidence defaults) on
        the same held-out pairs, for comparison.
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
    """Probability that each related pair recognises a professional relationship.

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
        ``shared_patients`` (NaN when the flows carry no patient count),
        ``patient_count`` (the ``k`` of the curve: shared patients, else
        referrals times ``patients_per_referral``), ``distance_miles``,
        ``last_date``, ``date_from_events``, ``days_since``, ``logged_kind``,
        the factors of :data:`FACTORS`, ``logit`` and ``strength``.

    Examples
    --------
    Nine shared patients, nothing else known: Barnett et al.'s 82%.

    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> one_way = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"],
    ...                         "count": [12], "patients": [9]})
    >>> round(float(tie_strength(ReferralNetwork.from_frames(flows=one_way))["strength"][0]), 2)
    0.82

    A current two-way tie adds the reciprocity assumption (+0.5 log-odds):

    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1003033051"],
    ...                       "target_npi": ["1003033051", "1234567893"],
    ...                       "count": [30, 5], "patients": [20, 4],
    ...                       "period_end": ["2024-12-31", "2024-12-31"]})
    >>> ts = tie_strength(ReferralNetwork.from_frames(flows=flows))
    >>> ts[["referrals_ab", "referrals_ba", "patient_count", "reciprocity", "recency"]
    ...    ].to_numpy().tolist()
    [[30.0, 5.0, 24.0, 1.0, 1.0]]
    >>> round(float(ts["strength"].iloc[0]), 3)
    0.962

    A colleague in the same small practice, with no referrals, and a logged
    "knows" tie with nothing else (assumptions, see the module notes):

    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051", "1003000126"],
    ...                      "practice_id": ["P1", "P1", None]})
    >>> net = ReferralNetwork.from_frames(physicians=phys)
    >>> knows = pd.DataFrame({"npi_a": ["1234567893"], "npi_b": ["1003000126"]})
    >>> ts = tie_strength(net, ties=knows)
    >>> ts[["same_practice", "logged"]].to_numpy().tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    >>> ts["strength"].round(2).tolist()
    [0.74, 0.83]

    Notes
    -----
    See the module docstring (and docs/tie-strength.md) for the factors, which
    parameters are published evidence and which are assumptions. The logistic
    form makes each weight a log-odds ratio, so weights fitted by logistic
    regression (:func:`fit_tie_strength`) plug in directly.
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


def _tie_inputs(
    net: Any,
    *,
    half_life_days: float,
    as_of: Any,
    ties: pd.DataFrame | None,
    colleagues_max_size: int,
) -> tuple[dict[str, np.ndarray], list[str], pd.Timestamp | None, float]:
    """The evidence summed per pair (:func:`_aggregate`), the logged kinds, the
    reference date of recency and the checked half-life."""
    half_life_days = check_float(half_life_days, "half_life_days", minimum=0, open_min=True)
    colleagues_max_size = check_int(colleagues_max_size, "colleagues_max_size", minimum=0)
    ref = _as_of(net, as_of)
    c, kinds = _evidence(net, ties, colleagues_max_size)
    agg = _aggregate(c, len(net.npis))
    return agg, kinds, ref, half_life_days


def _days_since(last: np.ndarray, ref: pd.Timestamp | None) -> np.ndarray:
    """Days from ``last`` (int64 ns, ``_NAT`` unknown) to ``ref``, at least 0 (NaN unknown)."""
    if ref is None:
        return np.full(len(last), np.nan)
    last_dt = np.asarray(last, np.int64).view("datetime64[ns]")
    age = (np.datetime64(ref.to_datetime64(), "ns") - last_dt) / np.timedelta64(1, "D")
    return np.asarray(np.where(np.isnat(last_dt), np.nan, np.maximum(age, 0.0)), "float64")


def _tie_factors(
    w: TieWeights,
    agg: dict[str, np.ndarray],
    sl: slice,
    node: dict[str, np.ndarray],
    ref: pd.Timestamp | None,
    half_life_days: float,
) -> dict[str, np.ndarray]:
    """Facts, factors, ``logit`` and ``strength`` of the ties ``agg[...][sl]``.

    Elementwise only, so a tie's numbers do not depend on the slice it is
    computed in. ``logit`` adds the weighted factors one by one in
    :data:`FACTORS` order, as :meth:`TieWeights.strength` does.
    """
    a, b = agg["a"][sl], agg["b"][sl]
    ab, ba, pat = agg["ab"][sl], agg["ba"][sl], agg["pat"][sl]
    ctx = _pair_context(None, a, b, node)
    miles = ctx["miles"]
    days = _days_since(agg["last"][sl], ref)
    refs = ab + ba
    # recency discounts referral evidence only: pairs without referrals have nothing to age
    recency = np.where(
        refs > 0,
        np.where(np.isnan(days), w.undated_recency, 0.5 ** (np.nan_to_num(days) / half_life_days)),
        1.0,
    )
    k = np.where(np.isnan(pat), refs * w.patients_per_referral, pat)
    unshared = k < 1.0  # Landon's ratios update only pairs without shared patients
    hospital = np.where(
        unshared & ctx["hospital_known"],
        np.asarray(w.hospital_logodds(ctx["same_hospital"]), "float64"),
        0.0,
    )
    near = unshared & ~np.isnan(miles)
    distance = np.where(near, np.asarray(w.distance_logodds(np.nan_to_num(miles)), "float64"), 0.0)
    fac = {
        "patients": np.asarray(w.patients_logodds(k), "float64").reshape(-1),
        "hospital": hospital,
        "distance": distance,
        "recency": recency,
        "reciprocity": ((ab > 0) & (ba > 0)).astype("float64"),
        "same_practice": ctx["same_practice"].astype("float64"),
        "same_system": ctx["same_system"].astype("float64"),
        "logged": (agg["kind"][sl] >= 0).astype("float64"),
        "volume": 1.0 - np.exp(-refs / w.volume_scale),
    }
    z = np.zeros(len(a))
    for f in FACTORS:  # x[recency] enters as recency - 1 (see _design)
        z = z + getattr(w, f) * (fac[f] - 1.0 if f == "recency" else fac[f])
    logit = w.intercept + z
    return {
        "patient_count": k,
        "distance_miles": miles,
        "days_since": days,
        **fac,
        "logit": logit,
        "strength": 1.0 / (1.0 + np.exp(-logit)),
    }


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
    agg, kinds, ref, half_life_days = _tie_inputs(
        net,
        half_life_days=half_life_days,
        as_of=as_of,
        ties=ties,
        colleagues_max_size=colleagues_max_size,
    )
    a, b = agg["a"].astype(np.int64), agg["b"].astype(np.int64)
    node = _node_arrays(net)
    chunks = [
        _tie_factors(w, agg, slice(i, i + _CHUNK), node, ref, half_life_days)
        for i in range(0, max(len(a), 1), _CHUNK)
    ]
    col = {k: np.concatenate([ch[k] for ch in chunks]) for k in chunks[0]}
    kind_i = agg["kind"]
    kind_arr = np.array([*kinds, None], dtype=object)[np.where(kind_i >= 0, kind_i, len(kinds))]
    data: dict[str, Any] = {}
    if with_npis:
        npis = np.asarray(net.npis, dtype=object)
        data["npi_a"] = pd.array(npis[a], dtype="string")
        data["npi_b"] = pd.array(npis[b], dtype="string")
    data.update(
        {
            "referrals_ab": agg["ab"],
            "referrals_ba": agg["ba"],
            "shared_patients": agg["pat"],
            "patient_count": col["patient_count"],
            "distance_miles": col["distance_miles"],
            "last_date": np.array(agg["last"]).view("datetime64[ns]"),  # may be a broadcast
            "date_from_events": np.asarray(agg["from_events"], dtype=bool),
            "days_since": col["days_since"],
            "logged_kind": pd.array(kind_arr, dtype="string"),
            **{f: col[f] for f in FACTORS},
            "logit": col["logit"],
            "strength": col["strength"],
        }
    )
    out = pd.DataFrame(data)
    out.attrs["as_of"] = None if ref is None else str(ref.date())
    return out, a, b
