"""Planning introductions for a target list: :func:`intro_plan` (greedy, submodular).

Public through :mod:`refgraph.paths`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import NoPathError
from .._params import MAX_K, check_int
from ._intro import best_introducers
from ._ties import (
    TieFit,
    TieWeights,
)


# ---------------------------------------------------------------------------- plan
@dataclass
class IntroPlan:
    """Which introducers to ask, for which targets (:func:`intro_plan`).

    Attributes
    ----------
    asks
        Chosen asks in greedy order: ``step``, ``introducer``,
        ``introducer_name``, ``target``, ``target_name``, ``probability``,
        ``gain`` (marginal expected introductions), ``expected`` (cumulative).
    targets
        Per target: ``name``, ``probability`` (of at least one introduction
        under the plan), ``asks``, ``reachable``.
    expected
        Expected number of introductions of the plan.
    guarantee
        The approximation guarantee that applies (text).
    candidates
        Every candidate ask (introducer, target, probability) considered.
    """

    asks: pd.DataFrame
    targets: pd.DataFrame
    expected: float
    guarantee: str
    candidates: pd.DataFrame

    def _repr_html_(self) -> str:
        """Notebook display: the asks in order and the targets (escaped HTML)."""
        from .._html import result_html

        return result_html(
            "Introduction plan",
            [
                ("asks", len(self.asks)),
                ("expected introductions", self.expected),
                ("guarantee", self.guarantee),
            ],
            [("asks, in order", self.asks, None), ("targets", self.targets, None)],
        )


def expected_introductions(asks: Iterable[tuple[str, str, float]]) -> float:
    """Expected number of introduced targets of a set of asks (probabilistic OR per target).

    Examples
    --------
    >>> round(expected_introductions([("x", "t1", 0.5), ("y", "t1", 0.5), ("x", "t2", 0.2)]), 3)
    0.95
    """
    miss: dict[str, float] = {}
    for _, t, p in asks:
        miss[t] = miss.get(t, 1.0) * (1.0 - p)
    return float(sum(1.0 - m for m in miss.values()))


def greedy_asks(
    cand: list[tuple[str, str, float]], budget: int, capacity: int
) -> list[tuple[str, str, float, float]]:
    """Lazy greedy maximisation of :func:`expected_introductions`.

    At most ``budget`` asks in all and ``capacity`` per introducer; returns
    ``(introducer, target, p, gain)`` in the order chosen.
    """
    miss: dict[str, float] = {}
    used: dict[str, int] = {}
    heap = [(-p, i) for i, (_, _, p) in enumerate(cand) if p > 0]
    heapq.heapify(heap)
    out: list[tuple[str, str, float, float]] = []
    while heap and len(out) < budget:
        _neg, i = heapq.heappop(heap)
        x, t, p = cand[i]
        if used.get(x, 0) >= capacity:
            continue
        gain = p * miss.get(t, 1.0)
        if heap and gain < -heap[0][0] - 1e-15:
            heapq.heappush(heap, (-gain, i))  # stale: re-insert with its current gain
            continue
        out.append((x, t, p, gain))
        used[x] = used.get(x, 0) + 1
        miss[t] = miss.get(t, 1.0) * (1.0 - p)
    return out


def intro_plan(
    net: Any,
    targets: Iterable[str],
    *,
    budget: int,
    capacity_per_introducer: int = 1,
    sources: Iterable[str] | Mapping[str, float] | None = None,
    home: str | Iterable[str] | None = None,
    candidates_per_target: int = 10,
    max_hops: int = 3,
    exclude: Iterable[str] = (),
    exclude_competitors_of: str | None = None,
    region: Any = None,
    min_strength: float = 0.0,
    weights: TieWeights | TieFit | Mapping[str, float] | None = None,
    half_life_days: float = 180.0,
    as_of: Any = None,
) -> IntroPlan:
    """Choose introduction asks maximising the expected number of introductions.

    An *ask* is a pair (introducer ``x``, target ``t``) with success
    probability ``p(x, t)`` = the probability of the best path to ``t``
    whose last hop is ``x`` (:func:`best_introducers`; the top
    ``candidates_per_target`` introducers of every target are candidates).

    Parameters
    ----------
    net
        The network.
    targets
        NPIs to meet.
    budget
        Maximum number of asks in all.
    capacity_per_introducer
        Maximum number of asks to one introducer.
    sources, home, max_hops, exclude, exclude_competitors_of, region, min_strength
        As in :func:`intro_paths`.
    candidates_per_target
        Introducers considered per target.
    weights, half_life_days, as_of
        Tie-strength model.

    Returns
    -------
    IntroPlan

    Examples
    --------
    >>> from refgraph import ReferralNetwork, npi_check_digit
    >>> me, a, b, t1, t2 = [p + str(npi_check_digit(p)) for p in
    ...                     ("100000000", "100000001", "100000002", "100000003", "100000004")]
    >>> flows = pd.DataFrame({"source_npi": [me, me, a, a, b],
    ...                       "target_npi": [a, b, t1, t2, t2], "count": [40, 40, 30, 30, 30]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> plan = intro_plan(net, [t1, t2], budget=2, sources=[me])
    >>> sorted(zip(plan.asks["introducer"], plan.asks["target"])) == [(a, t1), (b, t2)]
    True

    Notes
    -----
    Objective: ``f(A) = sum_t [1 - prod_{(x,t) in A} (1 - p(x, t))]``, the
    expected number of targets introduced when asks succeed independently
    (a probabilistic-OR coverage model). ``f`` is monotone and submodular
    in the set of asks. The feasible sets (at most ``budget`` asks, at most
    ``capacity_per_introducer`` per introducer) are the independent sets of
    a partition matroid truncated to rank ``budget``, itself a matroid, so
    the greedy algorithm achieves at least 1/2 of the optimum [2]_; when the
    capacity does not bind (``capacity_per_introducer >= budget``) the
    constraint is a cardinality constraint and greedy achieves at least
    ``1 - 1/e`` (about 0.632) of the optimum [1]_. Greedy is run lazily
    (gains only shrink).

    References
    ----------
    .. [1] Nemhauser, G. L., Wolsey, L. A., Fisher, M. L. (1978). An analysis of
       approximations for maximizing submodular set functions I. Math. Prog. 14.
    .. [2] Fisher, M. L., Nemhauser, G. L., Wolsey, L. A. (1978). An analysis of
       approximations for maximizing submodular set functions II. Math. Prog. Study 8.
    """
    budget = check_int(budget, "budget", minimum=0)
    cap = check_int(capacity_per_introducer, "capacity_per_introducer", minimum=1)
    check_int(candidates_per_target, "candidates_per_target", minimum=1, maximum=MAX_K)
    tlist = [str(t) for t in ([targets] if isinstance(targets, str) else targets)]
    names = dict(zip(net.physicians["npi"].astype(str), net.physicians["name"].astype(object)))
    cand: list[tuple[str, str, float]] = []
    reachable: dict[str, bool] = {}
    for t in tlist:
        try:
            bi = best_introducers(
                net,
                t,
                sources=sources,
                home=home,
                top=candidates_per_target,
                max_hops=max_hops,
                exclude=exclude,
                exclude_competitors_of=exclude_competitors_of,
                region=region,
                min_strength=min_strength,
                weights=weights,
                half_life_days=half_life_days,
                as_of=as_of,
            )
        except NoPathError:
            reachable[t] = False
            continue
        reachable[t] = True
        cand.extend((x, t, float(p)) for x, p in bi["probability"].items())
    chosen = greedy_asks(cand, budget, cap)
    cum = np.cumsum([g for *_, g in chosen]) if chosen else np.zeros(0)
    asks = pd.DataFrame(
        {
            "step": np.arange(1, len(chosen) + 1),
            "introducer": [c[0] for c in chosen],
            "introducer_name": [names.get(c[0]) for c in chosen],
            "target": [c[1] for c in chosen],
            "target_name": [names.get(c[1]) for c in chosen],
            "probability": [c[2] for c in chosen],
            "gain": [c[3] for c in chosen],
            "expected": cum,
        }
    )
    per = pd.DataFrame(
        {
            "target": tlist,
            "name": [names.get(t) for t in tlist],
            "probability": [
                expected_introductions((c[0], c[1], c[2]) for c in chosen if c[1] == t)
                for t in tlist
            ],
            "asks": [sum(c[1] == t for c in chosen) for t in tlist],
            "reachable": [reachable[t] for t in tlist],
        }
    ).set_index("target")
    guarantee = (
        "greedy >= (1 - 1/e) x optimum (cardinality constraint)"
        if cap >= budget
        else "greedy >= 1/2 x optimum (matroid constraint: budget + capacity per introducer)"
    )
    return IntroPlan(
        asks=asks,
        targets=per,
        expected=float(cum[-1]) if len(cum) else 0.0,
        guarantee=guarantee,
        candidates=pd.DataFrame(cand, columns=["introducer", "target", "probability"]),
    )
