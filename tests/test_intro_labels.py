"""The explained result's NPI/name reads and the query's NPI look-ups, against the tables.

``intro_paths`` reads the NPIs and display names of the nodes on its paths from
the physicians' Arrow arrays (kept per network) and looks a few NPIs up one at
a time; both must give what the general paths give (``node_values`` /
``display_names``; ``check_npis_in_network`` and its errors), for few and many
nodes, missing names, and after a table changes.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from refgraph import NotFoundError, ReferralNetwork, npi_check_digit
from refgraph._params import check_npis_in_network
from refgraph._views import display_names, node_values
from refgraph.datasets import synthetic_region
from refgraph.paths import _explain, _search, intro_paths, resolve_sources


def _npi(i: int) -> str:
    p = str(100000000 + i)
    return p + str(npi_check_digit(p))


def _reference(net: ReferralNetwork, nodes: list[int]) -> tuple[dict, dict]:
    return dict(zip(nodes, node_values(net, "npi", nodes))), dict(
        zip(nodes, display_names(net, nodes))
    )


@pytest.mark.parametrize("few", [0, 64, 10_000])  # always take, the default, never take
def test_labels_are_the_tables_values(monkeypatch: pytest.MonkeyPatch, few: int) -> None:
    monkeypatch.setattr(_explain, "_FEW_LABELS", few)
    net = synthetic_region(600, seed=4, state=None)
    ph = net.physicians.copy()
    ph.loc[ph.index[::7], "name"] = None  # some names missing: the NPI is shown
    net = ReferralNetwork.from_frames(physicians=ph, flows=net.flows)
    assert _explain._label_arrays(net) is not None  # the Arrow path is the one tested
    rnd = random.Random(3)
    for size in (1, 2, 13, 64, 65, 300, net.n_physicians):
        nodes = sorted(rnd.sample(range(net.n_physicians), size))
        got = _explain._labels(net, nodes)
        assert got == _reference(net, nodes)
        assert all(type(v) is str for d in got for v in d.values())


def test_labels_without_arrow_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    net = synthetic_region(200, seed=5, state=None)
    nodes = [0, 5, 17, 199]
    want = _explain._labels(net, nodes)
    monkeypatch.setattr(_explain, "_label_arrays", lambda net: None)  # the general path
    assert _explain._labels(net, nodes) == want == _reference(net, nodes)


def test_labels_follow_a_changed_table() -> None:
    me, a, dr_x = _npi(0), _npi(1), _npi(2)
    flows = pd.DataFrame({"source_npi": [me, a], "target_npi": [a, dr_x], "count": [40, 30]})
    net = ReferralNetwork.from_frames(flows=flows)
    before = intro_paths(net, dr_x, sources=[me]).paths["names"].iloc[0]
    assert before == (me, a, dr_x)  # no names: the NPIs
    net.add_physicians(pd.DataFrame({"npi": [a], "name": ["Dr A"]}))
    after = intro_paths(net, dr_x, sources=[me]).paths["names"].iloc[0]
    assert after == (me, "Dr A", dr_x)


def test_few_npis_looked_up_as_the_general_path() -> None:
    net = synthetic_region(300, seed=6, state=None)
    npis = [str(x) for x in net.physicians["npi"]]
    rnd = random.Random(1)
    for size in (1, 2, 5, 32, 33, 100):
        pick = rnd.sample(npis, size)
        got = _search._ids(net, pick)
        want = check_npis_in_network(net, pick, "sources")
        if size > _search._FEW:
            assert got is None
        else:
            assert got is not None and np.array_equal(got, want)
    assert _search._ids(net, [npis[0], "1234567893"]) is None  # unknown: the general path
    assert _search._ids(net, [int(npis[0])]) is None  # not text: the general path
    assert _search._node(net, npis[4], "target") == check_npis_in_network(net, npis[4], "t")[0]


def test_unknown_npis_raise_the_same_errors() -> None:
    net = synthetic_region(300, seed=6, state=None)
    npis = [str(x) for x in net.physicians["npi"]]
    with pytest.raises(NotFoundError, match=r"target: \['1234567893'\] not a physician"):
        intro_paths(net, "1234567893", sources=[npis[0]])
    with pytest.raises(NotFoundError, match=r"sources: \['1234567893'\] not a physician"):
        intro_paths(net, npis[1], sources=[npis[0], "1234567893"])
    weights = {npis[3]: 0.5, npis[2]: 1.0, npis[5]: 0.25}
    ids, c0 = resolve_sources(net, weights)
    want = {int(check_npis_in_network(net, k, "s")[0]): w for k, w in weights.items()}
    assert ids.tolist() == sorted(want)
    assert np.exp(-c0).tolist() == pytest.approx([want[i] for i in sorted(want)], rel=1e-15)


def test_days_worded_as_timestamps() -> None:
    # hop_facts words a flow's last date by numpy's day string: the same text as
    # str(pd.Timestamp(d).date()) over the whole datetime64[ns] range, both sides of 1970
    rng = np.random.default_rng(0)
    lo, hi = pd.Timestamp.min.value, pd.Timestamp.max.value
    edges = [lo, hi, -1, 0, 1, -86_400 * 10**9, -86_400 * 10**9 - 1, 951_782_400 * 10**9]
    ns = np.concatenate([rng.integers(lo, hi, 20_000), edges]).astype(np.int64)
    x = ns.view("datetime64[ns]")
    assert np.datetime_as_string(x, unit="D").tolist() == [str(pd.Timestamp(v).date()) for v in x]


def test_take_per_chunk_is_chunked_take() -> None:
    import pyarrow as pa

    rnd = random.Random(2)
    parts = [["a", None, "c"], [], ["d"], [None, None], ["e", "f", "g", "h"]]
    col = pa.chunked_array([pa.array(p, type=pa.large_string()) for p in parts])
    n = len(col)
    for size in (1, 3, n, 25):
        nodes = [rnd.randrange(n) for _ in range(size)]  # any order, repeats allowed
        assert _explain._take(col, nodes) == col.take(pa.array(nodes)).to_pylist()
    assert _explain._take(col, [0, n - 1, 3, 4]) == ["a", "h", "d", None]
    assert _explain._take(col, []) == []
