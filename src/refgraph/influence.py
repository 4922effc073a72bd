"""Influence maximisation: whom should a liaison visit first?

Referral behaviour (adopting a new service, a new referral pattern) is
modelled as spreading over referral ties by the **independent cascade** (IC)
or the **linear threshold** (LT) model of Kempe, Kleinberg & Tardos (2003),
with *per-edge* probabilities derived from referral shares (see
:func:`edge_probabilities`), never one global constant. Seeds are picked by
CELF lazy greedy selection (Leskovec et al. 2007) on a Monte-Carlo estimate.

Both models are simulated through their live-edge form: each simulation
draws a random subgraph of "live" ties once, and the spread of a seed set is
the number of physicians reachable from it. All simulations are stacked in
one block-diagonal sparse graph and explored together (numpy/scipy, no
Python loop over simulations). Reusing the
same draws for every candidate (common random numbers) makes the estimated
spread exactly monotone and submodular, so the greedy gains never increase.
The spread reported for the picked physicians is then re-estimated on fresh,
independently drawn simulations, with its standard error (see :func:`maximize`).
A reachability search works on index arrays and costs O(physicians reached).
"""

from __future__ import annotations

import heapq
import logging
import numbers
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._errors import ValidationError
from ._kernels import node_vector, resolve_seed, strength_matrix
from ._params import (
    check_choice,
    check_float,
    check_int,
    check_npis_in_network,
)
from .config import config

if TYPE_CHECKING:
    from .network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["edge_probabilities", "maximize", "spread"]

Model = Literal["ic", "lt"]
Direction = Literal["to_referrer", "to_receiver"]


def _prob_matrix(net: ReferralNetwork, weight: str, direction: Direction) -> sp.csr_array:
    """``P[u, v]``: probability that an active ``u`` activates ``v``."""
    if direction not in ("to_referrer", "to_receiver"):
        raise ValidationError(
            f"direction: expected 'to_referrer' or 'to_receiver', got {direction!r}"
        )
    a = strength_matrix(net, weight)
    n = a.shape[0]
    if direction == "to_referrer":
        out_s = np.asarray(a.sum(axis=1), dtype=float)
        inv = np.divide(1.0, out_s, out=np.zeros(n), where=out_s > 0)
        p = sp.csr_array(sp.csr_array(a.multiply(inv[:, None])).T)
    else:
        in_s = np.asarray(a.sum(axis=0), dtype=float)
        inv = np.divide(1.0, in_s, out=np.zeros(n), where=in_s > 0)
        p = sp.csr_array(a.multiply(inv[None, :]))
    p.sort_indices()
    return p


def edge_probabilities(
    net: ReferralNetwork, *, weight: str = "count", direction: Direction = "to_referrer"
) -> pd.DataFrame:
    """Per-edge influence probabilities derived from referral shares.

    Parameters
    ----------
    net
        The referral network.
    weight
        Flow column measuring volume.
    direction
        ``"to_referrer"`` (default): a physician ``v`` influences those who
        refer to them; the probability that ``v`` sways referrer ``u`` is the
        share of ``u``'s referrals that go to ``v``, :math:`w_{uv} / \\sum_k
        w_{uk}`. ``"to_receiver"``: ``u`` influences whom they refer to, with
        the share of ``v``'s incoming referrals that come from ``u``,
        :math:`w_{uv} / \\sum_k w_{kv}`.

    Returns
    -------
    pandas.DataFrame
        One row per influence edge: ``influencer``, ``influenced``,
        ``probability``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.influence import edge_probabilities
    >>> pcp, c1, c2 = "1234567893", "1003033051", "1154584084"
    >>> flows = pd.DataFrame({"source_npi": [pcp, pcp], "target_npi": [c1, c2],
    ...                       "count": [3, 1]})
    >>> edge_probabilities(ReferralNetwork.from_frames(flows=flows))["probability"].tolist()
    [0.75, 0.25]

    Notes
    -----
    In both directions the probabilities into any physician sum to 1 (or 0),
    which is what the linear threshold model requires; for the independent
    cascade it is Kempe et al.'s *weighted cascade* generalised from tie
    counts to referral volumes.
    """
    p = _prob_matrix(net, weight, direction).tocoo()
    npis = np.asarray(net.npis, dtype=object)
    return pd.DataFrame(
        {
            "influencer": pd.array(npis[p.row], dtype="string"),
            "influenced": pd.array(npis[p.col], dtype="string"),
            "probability": p.data,
        }
    )


def _live_edges(p: sp.csr_array, model: Model, r: int, rng: np.random.Generator) -> sp.csr_array:
    """Transposed block-diagonal live-edge graph of ``r`` simulations (row = target)."""
    n = p.shape[0]
    coo = p.tocoo()
    src, dst, prob = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    rows, cols = [], []
    if model == "ic":
        chunk = max(1, int(2e7 // max(1, len(prob))))
        for r0 in range(0, r, chunk):
            r1 = min(r, r0 + chunk)
            live = rng.random((r1 - r0, len(prob))) < prob
            sim, e = np.nonzero(live)
            off = (sim + r0).astype(np.int64) * n
            rows.append(off + dst[e])
            cols.append(off + src[e])
    else:  # linear threshold: each node keeps at most one in-edge, edge e with prob p_e
        pin = sp.csr_array(p.T)  # row v: in-edges u -> v
        pin.sort_indices()
        indptr = pin.indptr.astype(np.int64)
        row_of = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
        cum = np.asarray(pin.data, dtype=float).copy()
        if len(cum):
            cs = np.cumsum(cum)
            base = np.repeat(np.concatenate([[0.0], cs])[indptr[:-1]], np.diff(indptr))
            cum = cs - base
        keys = row_of + np.minimum(cum, 1.0)
        has = np.diff(indptr) > 0
        nodes = np.flatnonzero(has)
        chunk = max(1, int(2e7 // max(1, len(nodes))))
        for r0 in range(0, r, chunk):
            r1 = min(r, r0 + chunk)
            u = rng.random((r1 - r0, len(nodes)))
            q = nodes[None, :] + u
            e = np.searchsorted(keys, q.ravel(), side="right")
            v = np.broadcast_to(nodes, q.shape).ravel()
            ok = (e < indptr[v + 1]) & (e < len(keys))
            sim = np.repeat(np.arange(r0, r1, dtype=np.int64), len(nodes))[ok]
            off = sim * n
            rows.append(off + v[ok])
            cols.append(off + pin.indices[e[ok]].astype(np.int64))
    rr = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    cc = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    return sp.csr_array((np.ones(len(rr), np.float32), (rr, cc)), shape=(r * n, r * n))


class _Simulator:
    """Live-edge samples and reachability counts of seed sets.

    Node ``v`` of simulation ``r`` is ``r * n + v`` in one block-diagonal graph.
    Reachability is a frontier search over index arrays, so one evaluation costs
    O(physicians reached), not O(n x simulations).
    """

    def __init__(self, p: sp.csr_array, model: Model, r: int, rng: np.random.Generator):
        self.n = p.shape[0]
        self.r = r
        fwd = sp.csr_array(_live_edges(p, model, r, rng).T)  # row = influencer
        self.indptr = np.asarray(fwd.indptr, dtype=np.int64)
        self.indices = np.asarray(fwd.indices, dtype=np.int64)
        self.active = np.zeros(r * self.n, dtype=bool)
        self._mark = np.zeros(r * self.n, dtype=bool)
        self._offs = np.arange(r, dtype=np.int64) * self.n

    def _reach(self, seeds: np.ndarray) -> np.ndarray:
        """Ids newly reached from ``seeds`` in every simulation, beyond ``self.active``."""
        idx = (self._offs[:, None] + np.asarray(seeds, dtype=np.int64)[None, :]).ravel()
        idx = np.unique(idx[~self.active[idx]])
        mark = self._mark
        mark[idx] = True
        reached = [idx]
        frontier = idx
        while len(frontier):
            starts = self.indptr[frontier]
            lens = self.indptr[frontier + 1] - starts
            total = int(lens.sum())
            if total == 0:
                break
            shift = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
            nb = self.indices[shift + np.arange(total)]
            nb = np.unique(nb[~mark[nb] & ~self.active[nb]])
            mark[nb] = True
            reached.append(nb)
            frontier = nb
        out = np.concatenate(reached)
        mark[out] = False
        return out

    def gains(self, candidates: np.ndarray, progress: bool = False) -> np.ndarray:
        """Expected marginal gain of adding each candidate (one at a time)."""
        from tqdm.auto import tqdm

        out = np.zeros(len(candidates))
        for i, c in enumerate(
            tqdm(candidates, desc="influence: first pass", disable=not progress, leave=False)
        ):
            out[i] = len(self._reach(np.array([c]))) / self.r
        return out

    def add(self, seeds: np.ndarray) -> np.ndarray:
        """Activate what ``seeds`` reach; returns the newly reached count per simulation."""
        new = self._reach(seeds)
        self.active[new] = True
        return np.bincount(new // self.n, minlength=self.r).astype(float)

    @property
    def spread(self) -> float:
        return float(self.active.sum()) / self.r

    def per_simulation(self) -> np.ndarray:
        return np.asarray(self.active.reshape(self.r, self.n).sum(axis=1), dtype=float)


#: Largest simulations x (physicians + referral channels) the simulator holds:
#: each simulation keeps two flags per physician and at most one live edge per
#: channel, so this bounds its memory whatever ``n_simulations`` is passed
#: (tracemalloc peak of ``spread`` on ``synthetic_region(80, seed=4)``: 7-8.5
#: bytes per simulation x (physicians + channels), so about 1.7 GB at the cap).
MAX_SIMULATED = 200_000_000


def _check_simulations(value: object, name: str, p: sp.csr_array) -> int:
    """``n_simulations``-like parameter, at most ``MAX_SIMULATED // (n + channels)``."""
    size = max(1, p.shape[0] + p.nnz)
    return check_int(value, name, minimum=1, maximum=max(1, MAX_SIMULATED // size))


def _check_common(model: str, n_simulations: int, p: sp.csr_array) -> int:
    check_choice(model, "model", ("ic", "lt"))
    return _check_simulations(n_simulations, "n_simulations", p)


def _seed_ids(net: ReferralNetwork, npis: object, name: str) -> np.ndarray:
    """Node ids of NPIs (one NPI or a list; an empty list gives no ids)."""
    items = [npis] if isinstance(npis, str) else npis
    if isinstance(items, Iterable) and not len(items := list(items)):
        return np.zeros(0, dtype=np.int64)
    return check_npis_in_network(net, items, name)


def spread(
    net: ReferralNetwork,
    seeds: Iterable[str],
    *,
    model: Model = "ic",
    n_simulations: int = 1000,
    seed: int | None = None,
    weight: str = "count",
    direction: Direction = "to_referrer",
) -> float:
    """Expected number of physicians reached from a seed set (Monte Carlo).

    Parameters
    ----------
    net
        The referral network.
    seeds
        NPIs activated first (counted in the spread).
    model, n_simulations, seed, weight, direction
        As in :func:`maximize`.

    Returns
    -------
    float
        Mean number of active physicians at the end of the cascade.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.influence import spread
    >>> pcp, spec = "1234567893", "1003033051"
    >>> flows = pd.DataFrame({"source_npi": [pcp], "target_npi": [spec], "count": [5]})
    >>> spread(ReferralNetwork.from_frames(flows=flows), [spec], n_simulations=10, seed=0)
    2.0
    """
    check_choice(model, "model", ("ic", "lt"))
    ids = _seed_ids(net, seeds, "seeds")
    p = _prob_matrix(net, weight, direction)
    n_simulations = _check_common(model, n_simulations, p)
    rng = np.random.default_rng(resolve_seed(seed))
    sim = _Simulator(p, model, n_simulations, rng)
    if len(ids):
        sim.add(ids)
    return sim.spread


def maximize(
    net: ReferralNetwork,
    k: int | None = 10,
    *,
    model: Model = "ic",
    seed: int | None = None,
    n_simulations: int = 1000,
    budget: float | None = None,
    cost: Mapping[str, float] | pd.Series | None = None,
    candidates: Iterable[str] | int | None = None,
    weight: str = "count",
    direction: Direction = "to_referrer",
    evaluation_simulations: int | None = None,
) -> pd.DataFrame:
    """Pick the physicians to visit so that referral behaviour spreads most.

    Parameters
    ----------
    net
        The referral network.
    k
        Maximum number of physicians to pick (``None``: as many as the
        budget allows).
    model
        ``"ic"`` independent cascade or ``"lt"`` linear threshold.
    seed
        Seed of the Monte-Carlo draws (default ``refgraph.config.seed``).
    n_simulations
        Number of Monte-Carlo simulations (live-edge samples) the greedy
        selection uses.
    budget
        Total cost allowed (e.g. hours of liaison time). Requires ``cost``
        or uses a cost of 1 per physician.
    cost
        Cost of visiting each physician (NPI -> cost > 0; missing = 1).
    candidates
        Physicians who may be picked: NPIs, or an int N for the N physicians
        with the largest expected direct influence (sum of their outgoing
        probabilities). ``None``: everybody up to 5,000 physicians, else the
        top 1,000.
    weight
        Flow column measuring volume.
    direction
        Direction of influence, see :func:`edge_probabilities`.
    evaluation_simulations
        Number of fresh simulations, drawn independently of the selection's,
        that estimate the spread of the picked physicians (default:
        ``n_simulations``).

    Returns
    -------
    pandas.DataFrame
        Indexed by NPI in pick order:

        - ``rank``: 1 = first visit;
        - ``cumulative_spread``: expected number of physicians reached by the
          first ``rank`` picks together (themselves included), estimated on
          the fresh simulations, so unbiased for the picked set;
        - ``spread_se``: its Monte-Carlo standard error (standard deviation
          over the fresh simulations / :math:`\\sqrt{n}`); a 95% interval is
          about ``cumulative_spread +- 1.96 * spread_se``;
        - ``marginal_gain`` and ``gain_se``: the increase of
          ``cumulative_spread`` over the previous row, and its standard error
          (the same fresh simulations serve every row, so the gains add up to
          ``cumulative_spread``; on those draws they need not decrease);
        - ``selection_gain``: the gain the greedy selection saw on its own
          simulations when it picked this physician (why it was picked;
          non-increasing, and biased upwards because the best of noisy
          estimates was chosen);
        - ``cost``.

        ``attrs``: ``spread_se`` (of the whole set), ``selection_spread`` (the
        selection's own, optimistic, estimate of the whole set), ``model``,
        ``n_simulations``, ``evaluation_simulations``.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> from refgraph.influence import maximize
    >>> spec, p1, p2, p3 = "1234567893", "1003033051", "1154584084", "1245319599"
    >>> flows = pd.DataFrame({"source_npi": [p1, p2, p3], "target_npi": [spec] * 3,
    ...                       "count": [4, 2, 1]})
    >>> best = maximize(ReferralNetwork.from_frames(flows=flows), 1, n_simulations=50, seed=1)
    >>> best.index[0] == spec, float(best["cumulative_spread"].iloc[0])
    (True, 4.0)
    >>> float(best["spread_se"].iloc[0])  # every referrer follows: no uncertainty
    0.0

    Raises
    ------
    ValidationError
        For an unknown model, non-positive ``k``/``n_simulations``/costs, or
        more simulations than ``MAX_SIMULATED`` (200 million) / (physicians
        + referral channels), the memory bound of the simulator.
    NotFoundError
        When ``candidates`` or ``cost`` name unknown NPIs.

    See Also
    --------
    edge_probabilities, spread, refgraph.centrality.pagerank

    Notes
    -----
    Influence probabilities come from referral shares (see
    :func:`edge_probabilities`). IC: every newly active physician gets one
    chance to activate each neighbour ``v`` with probability :math:`p_{uv}`.
    LT: physician ``v`` draws a threshold :math:`\\theta_v \\sim U(0,1)` and
    activates when :math:`\\sum_{u\\ active} p_{uv} \\ge \\theta_v`. Both are
    simulated as live-edge graphs (Kempe et al. 2003, Claims 2.3 and 2.6).

    The expected spread is monotone and submodular, so greedy selection is
    within :math:`1 - 1/e` of the best seed set; CELF evaluates only the
    candidates whose stale gain could still win. With a ``budget``, CELF's
    rule is applied: the better of the unit-cost greedy and the
    gain-per-cost greedy (Leskovec et al. 2007).

    **Reported spread.** The greedy step picks the candidate with the
    largest *estimated* gain, so the selection's own estimate of the picked
    set is biased upwards (the winner's curse: an audit found it up to 2.6%
    above the truth at 1,000 simulations; ``tests/test_influence.py`` sees
    about 2% at 100 simulations). The reported ``cumulative_spread`` is therefore re-estimated
    on ``evaluation_simulations`` fresh live-edge samples drawn from a
    separate random stream (``numpy.random.SeedSequence(seed).spawn``):
    given the picked set, it is an unbiased estimate of its expected spread
    and ``spread_se`` is its standard error. Results are reproducible with
    ``seed``. ``spread_se`` does not cover the model itself: the influence
    probabilities are assumptions derived from referral shares.

    References
    ----------
    .. [1] Kempe D, Kleinberg J, Tardos E. Maximizing the spread of influence
       through a social network. KDD 2003:137-146.
    .. [2] Leskovec J, Krause A, Guestrin C, Faloutsos C, VanBriesen J,
       Glance N. Cost-effective outbreak detection in networks. KDD
       2007:420-429.
    """
    n = len(net.npis)
    check_choice(model, "model", ("ic", "lt"))
    p = _prob_matrix(net, weight, direction)
    n_simulations = _check_common(model, n_simulations, p)
    if evaluation_simulations is not None:
        evaluation_simulations = _check_simulations(
            evaluation_simulations, "evaluation_simulations", p
        )
    if k is None and budget is None:
        raise ValidationError("k: give k, a budget, or both")
    # picks stop at the candidates: a k beyond them costs nothing more
    k = None if k is None else check_int(k, "k", minimum=1)
    if budget is not None:
        budget = check_float(budget, "budget", minimum=0, open_min=True)
    costs = np.ones(n)
    if cost is not None:
        keys = list(cost.index) if isinstance(cost, pd.Series) else list(cost)
        ids = _seed_ids(net, keys, "cost")
        given = node_vector(net, cost, name="cost")
        if (given[ids] <= 0).any():
            raise ValidationError("cost: every cost must be > 0")
        costs[ids] = given[ids]
    direct = np.asarray(p.sum(axis=1), dtype=float)
    if candidates is None:
        cand = np.arange(n) if n <= 5000 else np.argsort(-direct, kind="stable")[:1000]
    elif isinstance(candidates, numbers.Number | np.bool_) or not isinstance(candidates, Iterable):
        top = check_int(candidates, "candidates", minimum=1)
        cand = np.argsort(-direct, kind="stable")[:top]
    else:
        cand = _seed_ids(net, candidates, "candidates")
    cand = np.unique(cand)
    rng_seed = resolve_seed(seed)
    progress = config.show_progress()
    kmax = int(k) if k is not None else n

    def run(ratio: bool) -> tuple[list[tuple[int, float, float]], _Simulator]:
        rng = np.random.default_rng(rng_seed)
        sim = _Simulator(p, model, int(n_simulations), rng)
        first = sim.gains(cand, progress=progress)
        heap = [(-(g / costs[c] if ratio else g), int(c), 0) for g, c in zip(first, cand.tolist())]
        heapq.heapify(heap)
        picks: list[tuple[int, float, float]] = []
        spent = 0.0
        while heap and len(picks) < kmax:
            _, c, rnd = heapq.heappop(heap)
            if budget is not None and spent + costs[c] > float(budget):
                continue
            if rnd == len(picks):
                before = sim.spread
                sim.add(np.array([c]))
                picks.append((c, sim.spread - before, sim.spread))
                spent += costs[c]
                logger.debug("influence: pick %d gain %.3f", c, picks[-1][1])
            else:
                g = sim.gains(np.array([c]))[0]
                heapq.heappush(heap, (-(g / costs[c] if ratio else g), c, len(picks)))
        return picks, sim

    picks, sim = run(ratio=False)
    if budget is not None:
        alt, alt_sim = run(ratio=True)
        if alt and (not picks or alt[-1][2] > picks[-1][2]):
            picks, sim = alt, alt_sim
    npis = np.asarray(net.npis, dtype=object)
    ids = np.array([c for c, _, _ in picks], dtype=np.int64)
    r_eval = int(n_simulations if evaluation_simulations is None else evaluation_simulations)
    gains, gain_se, cum, cum_se = _evaluate(p, model, ids, r_eval, rng_seed)
    out = pd.DataFrame(
        {
            "rank": np.arange(1, len(picks) + 1, dtype=np.int64),
            "cumulative_spread": cum,
            "spread_se": cum_se,
            "marginal_gain": gains,
            "gain_se": gain_se,
            "selection_gain": [g for _, g, _ in picks],
            "cost": costs[ids] if len(ids) else np.zeros(0),
        },
        index=pd.Index(pd.array(npis[ids], dtype="string"), name="npi"),
    )
    out.attrs["spread_se"] = float(cum_se[-1]) if len(ids) else 0.0
    out.attrs["selection_spread"] = float(sim.spread)
    out.attrs["model"] = model
    out.attrs["n_simulations"] = int(n_simulations)
    out.attrs["evaluation_simulations"] = r_eval
    return out


def _evaluate(
    p: sp.csr_array, model: Model, ids: np.ndarray, r: int, seed: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Gains and prefix spreads of ``ids`` (in order) on ``r`` fresh simulations, with SEs.

    The draws come from a child of ``SeedSequence(seed)``, a stream independent of
    the selection's ``default_rng(seed)``.
    """
    k = len(ids)
    if k == 0:
        z = np.zeros(0)
        return z, z, z, z
    rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    sim = _Simulator(p, model, r, rng)
    inc = np.stack([sim.add(np.array([c])) for c in ids.tolist()])  # (k, r)
    per = np.cumsum(inc, axis=0)

    def se(x: np.ndarray) -> np.ndarray:
        return x.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.zeros(len(x))

    return inc.mean(axis=1), se(inc), per.mean(axis=1), se(per)
