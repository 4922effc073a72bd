"""refgraph: physician referral networks as tables and graphs.

Tables are the truth, graphs are views: a :class:`ReferralNetwork` holds
validated physicians, practices, flows, events and touchpoints tables and
builds networkx and CSR views on demand.
"""

from ._errors import (
    BackendError,
    ConvergenceError,
    NoPathError,
    NotFoundError,
    RefgraphError,
    ValidationError,
)
from ._npi import is_valid_npi, npi_check_digit
from ._validate import IngestResult
from .io import (
    flows_from_events,
    read_cms_shared_patients,
    read_directory,
    read_docgraph_hop,
    read_events,
    read_flows,
    read_network,
    read_physicians,
    read_practices,
    read_table,
    read_touchpoints,
)
from .network import ReferralNetwork, load

__version__ = "0.1.0"

_SUBMODULES = frozenset(
    {
        "backends",
        "centrality",
        "community",
        "config",
        "datasets",
        "expansion",
        "geo",
        "influence",
        "io",
        "model",
        "paths",
        "plot",
        "report",
        "specialties",
        "tracking",
    }
)


def __getattr__(name: str) -> object:
    """Import analysis submodules on first use (``refgraph.centrality`` etc.)."""
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'refgraph' has no attribute {name!r}")


__all__ = [
    "BackendError",
    "ConvergenceError",
    "IngestResult",
    "NoPathError",
    "NotFoundError",
    "ReferralNetwork",
    "RefgraphError",
    "ValidationError",
    "__version__",
    "flows_from_events",
    "is_valid_npi",
    "load",
    "npi_check_digit",
    "read_cms_shared_patients",
    "read_directory",
    "read_docgraph_hop",
    "read_events",
    "read_flows",
    "read_network",
    "read_physicians",
    "read_practices",
    "read_table",
    "read_touchpoints",
]
