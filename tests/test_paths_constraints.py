"""A query's constraints evaluated at a neighbourhood's nodes equal the whole-network mask.

``intro_paths`` evaluates exclusions, competitors and regions only at the nodes
its search looks at. Reference: the whole-network mask composed from the public
:func:`refgraph.paths.region_mask` and :func:`refgraph.specialties.competing`
exactly as the search used it before (excluded NPIs, competitors except my own
people, outside the region; never the target), compared on every node and on
random node subsets, for every kind of region.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from refgraph import NoPathError, ValidationError
from refgraph.datasets import synthetic_region
from refgraph.paths import region_mask
from refgraph.paths._intro import _prepare
from refgraph.specialties import competing


def _regions(net: Any, target: str, rnd: random.Random) -> list[Any]:
    phys = net.physicians.set_index("npi")
    lat, lon = float(phys.at[target, "lat"]), float(phys.at[target, "lon"])
    zips = phys["zip"].dropna().unique().tolist()
    inside = pd.Series(np.array([rnd.random() < 0.7 for _ in range(len(phys))]), index=phys.index)
    inside[target] = True
    return [
        None,
        [*rnd.sample(zips, 30), phys.at[target, "zip"]],
        (lat, lon, rnd.choice([5.0, 20.0, 80.0])),
        {"specialty": [phys.at[target, "specialty"], "cardiology", "family_medicine"]},
        {"practice_id": phys.at[target, "practice_id"], "zip": phys.at[target, "zip"]},
        inside,
    ]


def _old_mask(net: Any, t: int, src: np.ndarray, kw: dict[str, Any]) -> np.ndarray:
    forbid = np.zeros(net.n_physicians, dtype=bool)
    if kw["exclude"]:
        ids = net.npis.get_indexer(pd.Index(kw["exclude"]))
        forbid[ids[ids >= 0]] = True
    if kw["exclude_competitors_of"] is not None:
        comp = net.physicians["specialty"].isin(competing(kw["exclude_competitors_of"]))
        comp = np.array(comp.fillna(False).to_numpy(bool))
        comp[src] = False
        forbid |= comp
    if kw["region"] is not None:
        forbid |= ~region_mask(net, kw["region"])
    forbid[t] = False
    return forbid


def test_constraints_at_nodes_equal_whole_network_mask() -> None:
    net = synthetic_region(1500, seed=8)
    npis = net.physicians["npi"].tolist()
    rnd = random.Random(3)
    checked = 0
    for _ in range(25):
        target = rnd.choice(npis)
        src = rnd.sample([x for x in npis if x != target], rnd.choice([1, 3, 20]))
        for region in _regions(net, target, rnd):
            kw = {
                "sources": src,
                "region": region,
                "exclude": [x for x in rnd.sample(npis, 40) if x != target],
                "exclude_competitors_of": rnd.choice([None, "cardiology", src[0]]),
            }
            try:
                q = _prepare(net, target, **kw)
            except NoPathError:
                continue  # the target's specialty or ZIP may be unknown
            if kw["exclude_competitors_of"] == src[0]:  # an NPI means their specialty
                spec = net.physicians["specialty"].iat[npis.index(src[0])]
                kw["exclude_competitors_of"] = str(spec)
            want = _old_mask(net, q.t, q.src, kw)
            assert np.array_equal(q.forbid, want)
            ids = np.sort(np.array([*rnd.sample(range(len(npis)), 300), q.t]))
            assert np.array_equal(q.rules.at(ids), want[ids])
            checked += 1
    assert checked >= 100


def test_constraint_errors_unchanged() -> None:
    net = synthetic_region(300, seed=2)
    npis = net.physicians["npi"].tolist()
    with pytest.raises(NoPathError, match="outside region"):
        _prepare(net, npis[0], sources=[npis[1]], region={"npi": [npis[1]]})
    with pytest.raises(ValidationError, match="physicians have no column 'nope'"):
        _prepare(net, npis[0], sources=[npis[1]], region={"nope": 1})
    with pytest.raises(ValidationError, match=r"the target \d+ itself is excluded"):
        _prepare(net, npis[0], sources=[npis[1]], exclude=[npis[0]])
