"""The per-query neighbourhood search of intro_paths gives the whole-graph answer exactly.

Two references: the whole-graph search (the code path used before the
neighbourhood extraction, kept behind the private switch
``refgraph.paths._intro._WHOLE_GRAPH``) on random queries of a synthetic region
and of CKM, compared for identity (same paths, same order, same floats); and a
brute-force enumeration of simple paths with networkx on small random graphs.
"""

from __future__ import annotations

import importlib
import itertools
import math
import random
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refgraph import NoPathError, ReferralNetwork, npi_check_digit
from refgraph.datasets import synthetic_region
from refgraph.paths import best_introducers, intro_paths, tie_strength
from refgraph.paths._intro import _prepare
from refgraph.paths._search import _local, _search, _search_local
from refgraph.specialties import competing

_intro = importlib.import_module("refgraph.paths._intro")

NPIS = [f"1{i + 300:08d}" for i in range(40)]
NPIS = [p + str(npi_check_digit(p)) for p in NPIS]
SPECS = ["cardiology", "interventional_cardiology", "family_medicine", "internal_medicine"]


def _random_query(net: ReferralNetwork, rnd: random.Random, graph: nx.Graph) -> dict[str, Any]:
    """Random sources, a target usually within reach, random constraints."""
    npis = net.physicians["npi"].tolist()
    hops = rnd.choice([1, 2, 3, 4])
    src = rnd.sample(npis, rnd.choice([1, 2, 5, 20]))
    near = nx.single_source_shortest_path_length(graph, src[0], cutoff=hops)
    pool = [x for x in near if x not in src]
    target = rnd.choice(pool) if pool and rnd.random() < 0.85 else rnd.choice(npis)
    if target in src:
        src = [s for s in src if s != target] or [rnd.choice([x for x in npis if x != target])]
    kw: dict[str, Any] = {"sources": src, "max_hops": hops, "k": rnd.choice([1, 3, 8])}
    if rnd.random() < 0.3:
        kw["sources"] = {s: rnd.choice([1.0, 0.5, 0.9]) for s in src}
    if rnd.random() < 0.3:
        kw["exclude"] = [x for x in rnd.sample(list(near), min(3, len(near))) if x != target]
    if rnd.random() < 0.2:
        kw["exclude_competitors_of"] = "cardiology"
    if rnd.random() < 0.2:
        kw["min_strength"] = rnd.choice([0.05, 0.2])
    if rnd.random() < 0.2 and "city" in net.physicians.columns:
        kw["region"] = {"city": net.physicians.set_index("npi").at[target, "city"]}
    return {"target": target, **kw}


def _compare_kernels(net: ReferralNetwork, n_queries: int, seed: int) -> tuple[int, int]:
    """Neighbourhood vs whole-graph kernel on random queries; (answered, paths) counts."""
    ts = tie_strength(net)
    graph = nx.Graph()
    graph.add_edges_from(zip(ts["npi_a"], ts["npi_b"]))
    graph.add_nodes_from(net.physicians["npi"])
    rnd = random.Random(seed)
    answered = n_paths = 0
    for _ in range(n_queries):
        kw = _random_query(net, rnd, graph)
        target, k = kw.pop("target"), kw.pop("k")
        kw = {
            "home": None,
            "exclude": (),
            "exclude_competitors_of": None,
            "region": None,
            "min_strength": 0.0,
            **kw,
        }
        try:
            q = _prepare(net, target, **kw)
        except NoPathError:  # target outside the region: raised before any search
            continue
        for intro in (False, True):
            new = _search_local(q.tg, q.src, q.c0, q.t, q.forbid, q.hops, k, q.cap, intro)
            old = _search(q.tg, q.t, q.start, q.forbid, q.hops, k, q.cap, intro)
            assert new == old, (target, kw, k, intro)
        answered += bool(old)
        n_paths += len(old)
    return answered, n_paths


def test_neighbourhood_kernel_is_whole_graph_kernel_synthetic() -> None:
    net = synthetic_region(3000, seed=5)
    answered, n_paths = _compare_kernels(net, 200, seed=11)
    assert answered >= 100 and n_paths >= 300  # most queries have paths to compare


@pytest.mark.datasets
def test_neighbourhood_kernel_is_whole_graph_kernel_ckm(datasets_dir: Path) -> None:
    from refgraph.datasets import ckm_network

    net = ckm_network(datasets_dir / "ckm")
    answered, n_paths = _compare_kernels(net, 200, seed=12)
    assert answered >= 100 and n_paths >= 300


def test_public_results_identical(monkeypatch: pytest.MonkeyPatch) -> None:
    """intro_paths / best_introducers frames equal with and without the neighbourhood."""
    net = synthetic_region(3000, seed=6)
    ts = tie_strength(net)
    graph = nx.Graph()
    graph.add_edges_from(zip(ts["npi_a"], ts["npi_b"]))
    rnd = random.Random(4)
    compared = 0
    for _ in range(30):
        kw = _random_query(net, rnd, graph)
        target, k = kw.pop("target"), kw.pop("k")
        got = []
        for whole in (False, True):  # local first: the whole-graph run caches the layers
            monkeypatch.setattr(_intro, "_WHOLE_GRAPH", whole)
            try:
                res = intro_paths(net, target, k=k, **kw)
                intro = best_introducers(net, target, top=k, **kw)
                got.append((res.paths, res.hops, intro))
            except NoPathError as exc:
                got.append(str(exc))
        if isinstance(got[0], str):
            assert got[0] == got[1]
            continue
        compared += 1
        for a, b in zip(got[0], got[1]):
            pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert compared >= 15


def test_neighbourhood_is_small_and_far_target_is_none() -> None:
    net = synthetic_region(3000, seed=5)
    q = _prepare(
        net,
        net.physicians["npi"].iat[10],
        sources=list(net.physicians["npi"].iloc[:3]),
        max_hops=2,
    )
    loc = _local(q.tg, q.src, q.c0, q.t, 2)
    sp = nx.Graph()
    sp.add_edges_from(
        (int(a), int(b))
        for a in range(q.tg.n)
        for b in q.tg.indices[q.tg.indptr[a] : q.tg.indptr[a + 1]]
    )
    sp.add_nodes_from(range(q.tg.n))
    d_t = nx.single_source_shortest_path_length(sp, q.t, cutoff=2)
    d_s = nx.multi_source_dijkstra_path_length(sp, set(q.src.tolist()), cutoff=2, weight=None)
    want = sorted(v for v in d_t if v in d_s and d_t[v] + d_s[v] <= 2)
    if loc is None:
        assert q.t not in d_s
    else:
        assert loc[0].nodes.tolist() == want  # exactly the nodes with dS + dT <= hops
        assert len(want) < q.tg.n // 10


# ----------------------------------------------------------------------------- brute force
def _net(edges: list[tuple[int, int, int]], n: int, specs: list[str]) -> ReferralNetwork:
    phys = pd.DataFrame({"npi": NPIS[:n], "name": [f"Dr {i}" for i in range(n)]})
    phys["specialty"] = specs
    flows = pd.DataFrame(
        {
            "source_npi": [NPIS[a] for a, _, _ in edges],
            "target_npi": [NPIS[b] for _, b, _ in edges],
            "count": [c for *_, c in edges],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows)


@st.composite
def graphs(draw: st.DrawFn) -> tuple[ReferralNetwork, int]:
    n = draw(st.integers(5, 12))
    pairs = [(a, b) for a in range(n) for b in range(n) if a < b]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=3, max_size=3 * n, unique=True))
    counts = draw(st.lists(st.integers(1, 60), min_size=len(chosen), max_size=len(chosen)))
    specs = draw(st.lists(st.sampled_from(SPECS), min_size=n, max_size=n))
    return _net([(a, b, c) for (a, b), c in zip(chosen, counts)], n, specs), n


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    g=graphs(),
    seed=st.integers(0, 10**6),
    hops=st.integers(1, 5),
    k=st.sampled_from([1, 3, 8]),
    min_strength=st.sampled_from([0.0, 0.3]),
    comp=st.booleans(),
    use_region=st.booleans(),
)
def test_against_brute_force_enumeration(
    g: tuple[ReferralNetwork, int],
    seed: int,
    hops: int,
    k: int,
    min_strength: float,
    comp: bool,
    use_region: bool,
) -> None:
    net, n = g
    rnd = random.Random(seed)
    nodes = list(range(n))
    rnd.shuffle(nodes)
    target = NPIS[nodes[0]]
    weights = {NPIS[i]: rnd.choice([1.0, 0.6]) for i in nodes[1 : 1 + rnd.randint(1, 3)]}
    excluded = [NPIS[nodes[-1]]] if rnd.random() < 0.5 else []
    region = {"npi": [NPIS[i] for i in nodes if rnd.random() < 0.8 or i == nodes[0]]}
    ts = tie_strength(net)
    graph = nx.Graph()
    graph.add_weighted_edges_from(zip(ts["npi_a"], ts["npi_b"], ts["strength"]))
    spec = dict(zip(net.physicians["npi"], net.physicians["specialty"]))
    comps = set(competing("cardiology"))
    banned = set(excluded)
    if comp:
        banned |= {x for x in spec if spec[x] in comps and x not in weights}
    if use_region:
        banned |= set(spec) - set(region["npi"])
    costs = []
    for s, w in weights.items():
        if s not in graph or target not in graph or s in banned:
            continue
        for p in nx.all_simple_paths(graph, s, target, cutoff=hops):
            if set(p[1:]) & set(weights) or set(p[1:-1]) & banned:
                continue
            st_ = [graph[a][b]["weight"] for a, b in itertools.pairwise(p)]
            if min(st_) < min_strength:
                continue
            costs.append(-math.log(w) + sum(-math.log(x) for x in st_))
    costs.sort()
    try:
        got = intro_paths(
            net,
            target,
            sources=weights,
            k=k,
            max_hops=hops,
            exclude=excluded,
            min_strength=min_strength,
            exclude_competitors_of="cardiology" if comp else None,
            region=region if use_region else None,
        ).paths["cost"]
    except NoPathError:
        got = pd.Series([], dtype=float)
    assert np.allclose(got.to_numpy(), costs[:k], atol=1e-9, rtol=0)
    assert len(got) == min(k, len(costs))
