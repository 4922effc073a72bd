"""The core works without the optional extras, and each extra is named when missing.

A fresh interpreter hides matplotlib, geopy, scikit-learn and the Neo4j driver
behind an import hook (as if ``pip install refgraph`` had been run without
extras), then reads, analyses and plans; the functions that need an extra
must fail with an ImportError naming it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

HIDE = ("matplotlib", "geopy", "sklearn", "neo4j")

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HIDE:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Hide())

    import tempfile
    import refgraph
    from refgraph import centrality, community, datasets, paths, tracking, expansion

    out = {}
    net = datasets.synthetic_region(n_physicians=300, seed=4, events=True)
    out["n"] = net.n_physicians
    out["pagerank_sum"] = float(centrality.pagerank(net)["pagerank"].sum())
    out["louvain"] = int(community.louvain(net, seed=1)["community"].nunique())
    home = net.physicians["practice_id"].dropna().iloc[0]
    me = net.physicians.loc[net.physicians["practice_id"] == home, "npi"].tolist()
    target = [n for n in net.npis if n not in me][0]
    try:
        out["paths"] = len(paths.intro_paths(net, target, sources=me).paths)
    except refgraph.NoPathError:
        out["paths"] = 0
    out["at_risk"] = len(tracking.at_risk(net))
    with tempfile.TemporaryDirectory() as d:
        out["roundtrip"] = refgraph.load(net.save(d + "/n")) == net

    def message(call):
        try:
            call()
        except ImportError as exc:
            return str(exc)
        return "no error"

    from refgraph import geo, plot
    from refgraph.backends import neo4j as backend
    out["plot"] = message(lambda: plot.plot_map(net))
    out["cluster"] = message(lambda: geo.cluster(net.physicians, method="kmeans", n_clusters=2))
    out["geodesic"] = message(lambda: geo.geodesic_km(0, 0, 1, 1))
    out["within"] = message(lambda: geo.within_km(net, 42.0, -71.0, 10.0))
    out["nearest"] = message(lambda: geo.nearest(net, 42.0, -71.0))
    out["index"] = message(lambda: geo.SpatialIndex(net))
    out["geocode"] = message(lambda: geo.geocode(net.practices.head(1), geocoder="nominatim"))
    lab = net.flows.head(20).rename(columns={"source_npi": "npi_a", "target_npi": "npi_b"})
    lab["label"] = [i % 2 for i in range(len(lab))]
    out["fit"] = message(lambda: paths.fit_tie_strength(net, lab[["npi_a", "npi_b", "label"]]))
    out["neo4j"] = message(lambda: backend.connect("bolt://127.0.0.1:1", auth=("u", "p")))
    offline = geo.geocode(net.practices.head(3), geocoder="offline")
    out["offline"] = int(offline["geocode_status"].notna().sum())
    out["loaded"] = sorted(m for m in HIDE if m in sys.modules)
    print(json.dumps(out))
    """
)


def test_core_without_extras() -> None:
    code = f"HIDE = {HIDE!r}\n" + SCRIPT
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"REFGRAPH_PROGRESS": "0", "PATH": "/usr/bin:/bin", **_pythonpath()},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["n"] == 300
    assert abs(out["pagerank_sum"] - 1.0) < 1e-9
    assert out["louvain"] >= 2
    assert out["paths"] >= 0 and out["at_risk"] >= 0
    assert out["roundtrip"] is True
    assert "refgraph[plot]" in out["plot"] and "matplotlib" in out["plot"]
    assert "refgraph[geo]" in out["cluster"] and "sklearn" in out["cluster"]
    assert "refgraph[geo]" in out["geodesic"] and "geopy" in out["geodesic"]
    for key in ("within", "nearest", "index", "fit"):
        assert "refgraph[geo]" in out[key] and "sklearn" in out[key], (key, out[key])
    assert "refgraph[geo]" in out["geocode"] and "geopy" in out["geocode"]
    assert "refgraph[neo4j]" in out["neo4j"] and "neo4j" in out["neo4j"]
    assert out["offline"] == 3  # ZIP centroids need no extra
    assert out["loaded"] == []


def _pythonpath() -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOME", "TMPDIR")}
    return keep
