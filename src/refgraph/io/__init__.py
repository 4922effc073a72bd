"""Readers and writers: tables, CMS and DocGraph files, directories, claims, graph formats."""

from ._store import load_network, save_network
from .claims import flows_from_events
from .cms import iter_cms_shared_patients, read_cms_shared_patients, read_docgraph_hop
from .directory import read_directory
from .formats import to_csv, to_gexf, to_graphml
from .tables import (
    read_events,
    read_flows,
    read_network,
    read_physicians,
    read_practices,
    read_table,
    read_touchpoints,
)

__all__ = [
    "flows_from_events",
    "iter_cms_shared_patients",
    "load_network",
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
    "save_network",
    "to_csv",
    "to_gexf",
    "to_graphml",
]
