"""Optional dependencies: imported on first use, with the extra that installs them.

``pip install refgraph`` brings what the tables, the readers, the analyses and
the warm-introduction planner need. Four groups are extras, each left out by
an application that does not use it (sizes and import times measured for
issue 16, see ``docs/install.md``):

``plot``
    matplotlib: every ``plot_*`` function and the HTML report.
``geo``
    geopy and scikit-learn: geocoding, geodesic distances, the spatial index,
    clustering, markets, and fitting tie-strength weights.
``neo4j``
    the Neo4j Python driver: the Neo4j backend and its dev server.
``fast``
    numba: the compiled kernel of sampled and weighted betweenness on large
    networks (without it the vectorised kernel gives the same values, slower).
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "require"]

#: Extra -> the distributions it installs (as named on PyPI).
EXTRAS: dict[str, tuple[str, ...]] = {
    "plot": ("matplotlib",),
    "geo": ("geopy", "scikit-learn"),
    "neo4j": ("neo4j",),
    "fast": ("numba",),
}


def require(module: str, extra: str, *, purpose: str = "this function") -> ModuleType:
    """Import ``module`` or raise an ImportError that names the extra to install.

    Parameters
    ----------
    module
        Dotted module name, e.g. ``"sklearn.neighbors"``.
    extra
        The refgraph extra that provides it (a key of :data:`EXTRAS`).
    purpose
        What needs it, for the message.

    Returns
    -------
    types.ModuleType
        The imported module.

    Examples
    --------
    >>> require("math", "geo").sqrt(4.0)
    2.0
    >>> require("no_such_module_here", "geo", purpose="clustering")
    Traceback (most recent call last):
    ...
    ImportError: clustering needs the optional dependency 'no_such_module_here' ...
    """
    if extra not in EXTRAS:
        raise ValueError(f"extra: expected one of {sorted(EXTRAS)}, got {extra!r}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise ImportError(
            f"{purpose} needs the optional dependency {top!r} ({exc}); "
            f"install it with: pip install 'refgraph[{extra}]'"
        ) from exc
