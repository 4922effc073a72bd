"""Storage backends behind one port: memory (default) and Neo4j.

Analysis functions run on the tables and views of a
:class:`~refgraph.ReferralNetwork`. A network read from a backend carries it
in ``net.backend``; before computing in memory, an analysis function offers
the work to the backend with :func:`pushdown`, which returns a result when
the backend can compute it itself (for example Neo4j Graph Data Science) and
``None`` otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

    from ..network import ReferralNetwork

__all__ = ["Backend", "pushdown"]


@runtime_checkable
class Backend(Protocol):
    """What a storage backend provides.

    ``name`` identifies it; ``supports(algorithm)`` tells whether
    ``run(algorithm, net, **options)`` can compute an analysis natively.
    """

    name: str

    def supports(self, algorithm: str) -> bool:
        """Whether ``algorithm`` can run inside the backend."""
        ...

    def run(self, algorithm: str, net: ReferralNetwork, **options: Any) -> pd.DataFrame | None:
        """Run ``algorithm`` inside the backend; ``None`` declines (compute in memory)."""
        ...


def pushdown(net: ReferralNetwork, algorithm: str, **options: Any) -> pd.DataFrame | None:
    """Run ``algorithm`` in the network's backend when it supports it.

    Parameters
    ----------
    net
        The network; ``net.backend`` is ``None`` for in-memory networks.
    algorithm
        Name such as ``"pagerank"``, ``"betweenness"``, ``"louvain"``, ``"degree"``.
    **options
        The analysis function's keyword options, unchanged.

    Returns
    -------
    pandas.DataFrame or None
        The backend's answer, or ``None`` to compute in memory.

    Examples
    --------
    >>> from refgraph import ReferralNetwork
    >>> pushdown(ReferralNetwork(), "pagerank") is None
    True
    """
    backend = getattr(net, "backend", None)
    if backend is None or not hasattr(backend, "supports"):
        return None
    if not backend.supports(algorithm):
        return None
    result: pd.DataFrame | None = backend.run(algorithm, net, **options)
    return result
