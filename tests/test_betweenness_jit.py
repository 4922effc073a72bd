"""The compiled Brandes kernel (``engine="numba"``, the ``fast`` extra) against references.

Its distances against SciPy's Dijkstra, bit for bit; its sums against the vectorised
kernel (which ``tests/test_betweenness_kernel.py`` checks against networkx and a
plain-Python Brandes; that file also runs every engine test on numba) to 1e-9 relative
on random, tie-heavy and real networks; against exact rational arithmetic through
``tests/test_betweenness_ties.py`` (parametrised to force it); and at the edges: sampled
sources, unreached nodes, zero costs, self-loops, one node, no edge. Without numba the
vectorised kernel runs (a fresh interpreter that cannot import numba).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from refgraph import ReferralNetwork
from refgraph._kernels import cost_csr
from refgraph.centrality import _brandes
from refgraph.centrality._brandes import dependencies

pytest.importorskip("numba")

from refgraph.centrality import _brandes_jit  # after the numba check


def _random_cost(rng, n: int, m: int, costs, loops: bool = False) -> sp.csr_array:
    s, t = rng.integers(0, n, (2, m))
    if not loops:
        s, t = s[s != t], t[s != t]
    c = rng.choice(np.asarray(costs, dtype=float), len(s))
    coo = sp.coo_array((c, (s, t)), shape=(n, n))
    coo.sum_duplicates()  # duplicates add up: costs other than the listed ones too
    return sp.csr_array(coo)


def _both(cost, sources, tol, **kw) -> tuple[np.ndarray, np.ndarray]:
    jit = dependencies(cost, sources, tol=tol, engine="numba", **kw)
    vec = dependencies(cost, sources, tol=tol, engine="scipy", **kw)
    return jit, vec


def _close(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * max(1.0, float(np.abs(b).max())))


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few sources: many blocks for the threads to share."""
    monkeypatch.setattr(_brandes, "_BLOCK_PAIRS", 1000)


# ------------------------------------------------------------------ distances
@pytest.mark.parametrize("kind", ["volumes", "uniform", "ties", "zeros"])
def test_distances_are_scipys_bit_for_bit(kind):
    """The same fixed point ``d(v) = min fl(d(u) + c)``: the same floats, every node."""
    rng = np.random.default_rng(21)
    costs = {
        "volumes": 1.0 / np.arange(1, 40),
        "uniform": rng.random(50) * 10,
        "ties": [1.0, 1 / 3, 1 / 6, 1 / 7, 2 / 7],
        "zeros": [0.0, 0.0, 1.0, 1 / 3, 0.5],
    }[kind]
    checked = 0
    for _ in range(6):
        n = int(rng.integers(50, 400))
        cost = _random_cost(rng, n, 6 * n, costs)
        if kind == "zeros":
            cost.data[rng.random(cost.nnz) < 0.3] = 0.0  # explicit zero costs, kept
            assert sp.csr_array(cost).nnz == cost.nnz
        ip = np.asarray(cost.indptr, np.int64)
        for s in rng.choice(n, 5, replace=False).tolist():
            got = _brandes_jit.distances(ip, cost.indices, cost.data, s)
            ref = dijkstra(sp.csr_matrix(cost), directed=True, indices=s)
            assert np.array_equal(got, ref)  # SciPy keeps explicit zeros as edges too
            checked += int(np.isfinite(got).sum())
    assert checked > 1000


def test_distances_on_a_cms_like_network_are_scipys():
    from refgraph.datasets import synthetic_region

    cost, _, _ = cost_csr(synthetic_region(800, seed=3), "count")
    ip = np.asarray(cost.indptr, np.int64)
    for s in range(0, cost.shape[0], 97):
        ref = dijkstra(sp.csr_matrix(cost), directed=True, indices=s)
        assert np.array_equal(_brandes_jit.distances(ip, cost.indices, cost.data, s), ref)


# ------------------------------------------------------------------ sums
@pytest.mark.parametrize(
    ("costs", "tol"),
    [
        (1.0 / np.arange(1, 200), 1e-9),  # 1 / volume: tolerance ties
        ([1.0, 1 / 2, 1 / 3, 1 / 6, 1 / 9], 1e-9),  # many near-ties (1/3 + 1/3 + 1/3 vs 1)
        ([1.0, 2.0, 3.0, 6.0], 0.0),  # integer costs L / volume: exact ties
        ([1.0], 0.0),  # hops
    ],
    ids=["volumes", "thirds", "integers", "hops"],
)
def test_sums_match_the_vectorised_kernel(costs, tol, small_blocks):
    rng = np.random.default_rng(22)
    nonzero = 0
    for _ in range(5):
        n = int(rng.integers(30, 250))
        cost = _random_cost(rng, n, 5 * n, costs)
        if tol == 0:
            cost.data[:] = np.round(cost.data)  # duplicates summed: still integers
        jit, vec = _both(cost, np.arange(n), tol, threads=2)
        _close(jit, vec)
        nonzero += np.count_nonzero(vec)
        sample = rng.choice(n, n // 4, replace=False)
        _close(*_both(cost, sample, tol, threads=1))
    assert nonzero > 300


@pytest.mark.parametrize("weight", ["count", None])
def test_real_networks(datasets_dir, weight):
    """CKM (volumes 1-3: integer costs, exact ties), NYC cardiology and the CMS sample
    (``1 / volume``, tolerance), every physician a source."""
    from refgraph.datasets import ckm_network, load_cms_sample, nyc_cardiology_network

    cms = load_cms_sample(datasets_dir / "cms-shared-patients-sample")
    flows = pd.DataFrame(
        {"source_npi": cms["npi1"], "target_npi": cms["npi2"], "count": cms["pair_count"]}
    ).drop_duplicates(["source_npi", "target_npi"])
    nets = [  # with the physicians between others in each (the CMS sample is sparse)
        (ckm_network(datasets_dir / "ckm"), 100),
        (nyc_cardiology_network(datasets_dir / "nyc-cardiology-2015"), 15),
        (ReferralNetwork.from_frames(flows=flows), 2),
    ]
    for net, between in nets:
        cost, _, tol = cost_csr(net, weight)
        n = cost.shape[0]
        jit, vec = _both(cost, np.arange(n), tol)
        _close(jit, vec)
        assert np.count_nonzero(vec) >= between


def test_same_sum_for_any_number_of_threads(small_blocks):
    rng = np.random.default_rng(23)
    n = 300
    cost = _random_cost(rng, n, 2500, 1.0 / np.arange(5, 60))
    sources = rng.choice(n, 90, replace=False)
    assert _brandes._block_size(n, cost.nnz) < 30  # several blocks per thread
    runs = [dependencies(cost, sources, tol=1e-9, engine="numba", threads=t) for t in (1, 2, 3, 8)]
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])  # blocks added in block order, sources in order
    _close(runs[0], dependencies(cost, sources, tol=1e-9, engine="scipy"))


# ------------------------------------------------------------------ edges of the input
def test_unreached_nodes_sources_subsets_one_node_and_no_edges():
    edges = {(0, 1): 1.0, (1, 2): 1.0, (3, 4): 2.0, (4, 5): 2.0, (5, 3): 2.0}
    rows, cols = zip(*edges)
    cost = sp.csr_array((list(edges.values()), (rows, cols)), shape=(7, 7))
    got = dependencies(cost, np.arange(7), tol=0.0, engine="numba")
    assert got.tolist() == [0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    assert dependencies(cost, np.array([6, 2]), tol=0.0, engine="numba").tolist() == [0.0] * 7
    assert dependencies(cost, np.array([0]), tol=0.0, engine="numba").tolist()[1] == 1.0
    one = sp.csr_array((1, 1))
    assert dependencies(one, np.array([0]), tol=0.0, engine="numba").tolist() == [0.0]
    empty = sp.csr_array((0, 0))
    assert dependencies(empty, np.arange(0), tol=0.0, engine="numba").tolist() == []
    assert dependencies(cost, np.arange(0), tol=0.0, engine="numba").tolist() == [0.0] * 7
    no_edges = sp.csr_array((5, 5))
    assert dependencies(no_edges, np.arange(5), tol=1e-9, engine="numba").tolist() == [0.0] * 5


@pytest.mark.parametrize("tol", [0.0, 1e-9])
def test_zero_costs_and_self_loops_as_the_vectorised_kernel(tol, small_blocks):
    """Zero-cost edges (cycles of them too, where ``tol = 0`` keeps both directions and
    Kahn's order leaves the cycle out) and self-loops, which a CSR can hold."""
    rng = np.random.default_rng(24)
    for _ in range(6):
        n = int(rng.integers(20, 80))
        cost = _random_cost(rng, n, 4 * n, [0.0, 1.0, 2.0, 3.0], loops=True)
        tails = np.repeat(np.arange(n), np.diff(cost.indptr))
        assert np.any(cost.data == 0) and np.any(tails == cost.indices)  # zeros, self-loops
        for sources in (np.arange(n), rng.choice(n, 7, replace=False)):
            _close(*_both(cost, sources, tol, threads=2))
    chain = sp.csr_array(([0.0, 0.0, 1.0, 5.0], ([0, 1, 2, 2], [1, 2, 3, 2])), shape=(4, 4))
    got = dependencies(chain, np.arange(4), tol=tol, engine="numba")
    assert got.tolist() == [0.0, 2.0, 2.0, 0.0]  # 0 -> 1 -> 2 -> 3 at costs 0, 0, 1


def test_negative_costs_are_left_to_scipy():
    cost = sp.csr_array(([1.0, -1.0], ([0, 1], [1, 2])), shape=(3, 3))
    with pytest.raises(ValueError, match="costs >= 0"):
        dependencies(cost, np.arange(3), tol=0.0, engine="numba")
    assert _brandes._compiled(cost, 10**9, required=False) is None


# ------------------------------------------------------------------ which engine runs
def test_auto_takes_the_compiled_kernel_from_the_work_threshold(monkeypatch):
    calls = []
    real = _brandes_jit.run
    monkeypatch.setattr(_brandes_jit, "run", lambda *a: calls.append(len(a[1])) or real(*a))
    rng = np.random.default_rng(25)
    cost = _random_cost(rng, 100, 600, [1.0, 2.0])
    work = 10 * cost.nnz
    monkeypatch.setattr(_brandes, "_JIT_MIN_WORK", work)
    below = dependencies(cost, np.arange(9), tol=0.0)
    assert calls == []
    at = dependencies(cost, np.arange(10), tol=0.0)
    assert calls == [10]
    _close(below, dependencies(cost, np.arange(9), tol=0.0, engine="numba"))
    _close(at, dependencies(cost, np.arange(10), tol=0.0, engine="scipy"))


HIDDEN = textwrap.dedent(
    """
    import importlib.abc, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "numba":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())
    import numpy as np
    from refgraph.centrality import _brandes, betweenness
    from refgraph.datasets import synthetic_region

    _brandes._JIT_MIN_WORK = 0  # "auto" would take numba for any work
    net = synthetic_region(300, seed=2)
    res = betweenness(net, k=50, seed=1, weight="count")
    np.save(sys.argv[1], res["betweenness"].to_numpy())
    try:
        _brandes.dependencies(_brandes.sp.csr_array((2, 2)), np.arange(2), tol=0.0,
                              engine="numba")
        print("no error")
    except ImportError as exc:
        print(exc)
    print(sorted(m for m in sys.modules if m.startswith("numba")))
    """
)


def test_without_numba_the_vectorised_kernel_runs(tmp_path, monkeypatch):
    from refgraph.centrality import betweenness
    from refgraph.datasets import synthetic_region

    out = subprocess.run(
        [sys.executable, "-c", HIDDEN, str(tmp_path / "b.npy")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert "pip install 'refgraph[fast]'" in out[0]
    assert out[1] == "[]"
    monkeypatch.setattr(_brandes, "_JIT_MIN_WORK", 0)
    calls = []
    real = _brandes_jit.run
    monkeypatch.setattr(_brandes_jit, "run", lambda *a: calls.append(1) or real(*a))
    with_numba = betweenness(synthetic_region(300, seed=2), k=50, seed=1, weight="count")
    assert calls  # here the compiled kernel ran
    _close(with_numba["betweenness"].to_numpy(), np.load(tmp_path / "b.npy"))


def test_importing_the_analyses_does_not_import_numba():
    code = "import sys, refgraph, refgraph.centrality; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
