"""Export to graph file formats: GraphML, GEXF (Gephi) and CSV."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import networkx as nx

    from ..network import ReferralNetwork

__all__ = ["to_csv", "to_gexf", "to_graphml"]


def _plain_graph(net: ReferralNetwork, weight: str) -> nx.DiGraph:
    """Copy of the networkx view with only GraphML/GEXF-friendly attribute values."""
    import networkx as nx

    G = net.to_networkx(weight=weight)
    H = nx.DiGraph()

    def clean(d: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in d.items():
            if v is None or (isinstance(v, float) and v != v):
                continue
            if isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif hasattr(v, "item"):
                v = v.item()
            if isinstance(v, (str, int, float, bool)):
                out[str(k)] = v
            else:
                out[str(k)] = str(v)
        return out

    H.add_nodes_from((n, clean(d)) for n, d in G.nodes(data=True))
    H.add_edges_from((s, t, clean(d)) for s, t, d in G.edges(data=True))
    return H


def to_graphml(net: ReferralNetwork, path: str | Path, *, weight: str = "count") -> Path:
    """Write the network's graph view as GraphML; returns the path.

    Node ids are NPIs; node attributes are the physician columns; edge
    attributes ``weight``, ``count`` and ``patients``. Missing values are
    left out (GraphML has no null).
    """
    import networkx as nx

    path = Path(path)
    nx.write_graphml(_plain_graph(net, weight), path)
    return path


def to_gexf(net: ReferralNetwork, path: str | Path, *, weight: str = "count") -> Path:
    """Write the network's graph view as GEXF 1.2 (Gephi); returns the path."""
    import networkx as nx

    path = Path(path)
    nx.write_gexf(_plain_graph(net, weight), path)
    return path


def to_csv(net: ReferralNetwork, path: str | Path) -> Path:
    """Write each non-empty table to ``<path>/<table>.csv``; returns the folder."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, df in net.tables.items():
        if len(df):
            df.to_csv(path / f"{name}.csv", index=False)
    return path
