"""The referral network: tables plus cached graph views.

A :class:`ReferralNetwork` holds the five tables of :mod:`refgraph.model` and builds
graph views on demand: a networkx ``DiGraph`` for interoperability and small work, and
a compact CSR view (:class:`refgraph._csr.CSRGraph`) for heavy algorithms; analysis
modules keep their own derived views with :meth:`ReferralNetwork.cached_view`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import pandas as pd

from ._compact import compact_flows
from ._csr import CSRGraph
from ._errors import NotFoundError, ValidationError
from ._select import select, subnetwork
from ._tables import (
    FLOW_IDS_KEY,
    appended_table,
    build_tables,
    empty_table,
    physicians_and_flow_ids,
)
from ._validate import empty_rejects, validate_table
from ._views import csr_view, edge_table, networkx_frames, networkx_view, summary_series
from .model import TABLES

if TYPE_CHECKING:
    import networkx as nx

logger = logging.getLogger(__name__)

__all__ = ["ReferralNetwork", "load"]

_FORMAT_VERSION = 1

_V = TypeVar("_V")


class ReferralNetwork:
    """A physician referral network: validated tables and graph views.

    Build one with :meth:`from_frames`, a reader such as
    :func:`refgraph.read_cms_shared_patients`, :func:`refgraph.load`, or a
    generator such as :func:`refgraph.datasets.synthetic_region`.

    Parameters
    ----------
    physicians, practices, flows, events, touchpoints
        Tables with canonical columns (any may be omitted). Physicians named
        only in flows, events or touchpoints are added with unknown attributes.
    strict
        Raise :class:`~refgraph.ValidationError` on the first rejected row
        instead of collecting rejects.
    duplicates
        Policy for duplicate flows (``"aggregate"`` sums counts of flows with
        the same source, target, period and provenance; ``"reject"`` keeps
        the first). Physicians and practices with a repeated key always keep
        the first row and reject the rest.
    self_referrals
        ``"reject"`` (default) or ``"keep"`` flows from a physician to themself.

    Attributes
    ----------
    rejected
        All rejected rows of all tables, with a ``table`` column.
    ingest
        The :class:`~refgraph._validate.IngestResult` of each table.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> flows = pd.DataFrame({"source_npi": ["1234567893", "1234567893"],
    ...                       "target_npi": ["1003033051", "1154584084"],
    ...                       "count": [12, 30]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> net.n_physicians, net.n_flows
    (3, 2)
    >>> net.summary()["total_volume"]
    42
    """

    def __init__(
        self,
        physicians: pd.DataFrame | None = None,
        practices: pd.DataFrame | None = None,
        flows: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        touchpoints: pd.DataFrame | None = None,
        *,
        strict: bool = False,
        duplicates: Literal["aggregate", "reject"] = "aggregate",
        self_referrals: Literal["reject", "keep"] = "reject",
        backend: Any = None,
    ) -> None:
        given = {
            "physicians": physicians,
            "practices": practices,
            "flows": flows,
            "events": events,
            "touchpoints": touchpoints,
        }
        self.ingest, self._tables, ids = build_tables(
            given, strict=strict, duplicates=duplicates, self_referrals=self_referrals
        )
        self._cache: dict[Any, Any] = {} if ids is None else {FLOW_IDS_KEY: ids}
        self.backend = backend

    # ------------------------------------------------------------------ build
    @classmethod
    def from_frames(
        cls,
        physicians: pd.DataFrame | None = None,
        practices: pd.DataFrame | None = None,
        flows: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        touchpoints: pd.DataFrame | None = None,
        **kwargs: Any,
    ) -> ReferralNetwork:
        """Build a network from pandas DataFrames with canonical columns.

        See :class:`ReferralNetwork` for the parameters.

        Examples
        --------
        >>> import pandas as pd
        >>> phys = pd.DataFrame({"npi": ["1234567893"], "specialty": ["Cardiology"]})
        >>> ReferralNetwork.from_frames(physicians=phys).physicians["specialty"].tolist()
        ['cardiology']
        """
        return cls(physicians, practices, flows, events, touchpoints, **kwargs)

    @classmethod
    def _from_valid_tables(
        cls, tables: dict[str, pd.DataFrame], *, backend: Any = None, flow_stems: Any = None
    ) -> ReferralNetwork:
        """Wrap tables that are already valid (no re-validation); ``flow_stems``: the flows'
        NPI stems a reader has (:func:`refgraph._tables.physicians_and_flow_ids`)."""
        self = cls.__new__(cls)
        self.ingest = {}
        self._tables = {}
        for name in TABLES:
            df = tables.get(name)
            self._tables[name] = empty_table(name) if df is None else df.reset_index(drop=True)
        compact_flows(self._tables["flows"])  # labels as categories, one date held once
        self._cache = {}
        self._add_missing_physicians(flow_stems)
        self.backend = backend
        return self

    def _add_missing_physicians(self, flow_stems: Any = None) -> None:
        """Complete the physicians; the same pass gives the flows' node ids (cached)."""
        self._cache.clear()
        self._tables["physicians"], ids = physicians_and_flow_ids(self._tables, flow_stems)
        self._cache.update({} if ids is None else {FLOW_IDS_KEY: ids})

    # ------------------------------------------------------------------ tables
    @property
    def physicians(self) -> pd.DataFrame:
        """Physicians table (one row per NPI)."""
        return self._tables["physicians"]

    @property
    def practices(self) -> pd.DataFrame:
        """Practices table (one row per practice id)."""
        return self._tables["practices"]

    @property
    def flows(self) -> pd.DataFrame:
        """Aggregated directed referral flows."""
        return self._tables["flows"]

    @property
    def events(self) -> pd.DataFrame:
        """Individual referral events."""
        return self._tables["events"]

    @property
    def touchpoints(self) -> pd.DataFrame:
        """Outreach touchpoints."""
        return self._tables["touchpoints"]

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """All five tables by name (the frames themselves, not copies)."""
        return dict(self._tables)

    @property
    def rejected(self) -> pd.DataFrame:
        """Rejected input rows of every table, with a ``table`` column."""
        parts = []
        for name, res in self.ingest.items():
            if len(res.rejected):
                parts.append(res.rejected.assign(table=name))
        if not parts:
            return empty_rejects().assign(table=pd.Series([], dtype="string"))
        return pd.concat(parts, ignore_index=True)

    @property
    def n_physicians(self) -> int:
        """Number of physicians."""
        return len(self._tables["physicians"])

    @property
    def n_flows(self) -> int:
        """Number of rows in the flows table."""
        return len(self._tables["flows"])

    @property
    def npis(self) -> pd.Index:
        """NPIs of all physicians, in node order of the graph views."""
        return self.cached_view(
            ("npis",), lambda: pd.Index(self.physicians["npi"].astype("string"), name="npi")
        )

    def __repr__(self) -> str:
        backend = "memory" if self.backend is None else getattr(self.backend, "name", "custom")
        return (
            f"<ReferralNetwork physicians={self.n_physicians} practices={len(self.practices)} "
            f"flows={self.n_flows} events={len(self.events)} backend={backend}>"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReferralNetwork):
            return NotImplemented
        return all(self._tables[t].equals(other._tables[t]) for t in TABLES)

    __hash__ = None  # type: ignore[assignment]

    # ------------------------------------------------------------------ cache
    def cached_view(self, key: Hashable, build: Callable[[], _V]) -> _V:
        """A derived view of the tables, built once and kept until a table changes.

        Analysis modules keep what they derive from the tables (a transition
        matrix, a tie graph, a NetworKit graph) here, so that repeated calls on
        an unchanged network reuse it. Every ``add_*`` call drops all views.

        Parameters
        ----------
        key
            Hashable name of the view; start it with your module's name (for
            example ``("mypackage.views", "transition", weight)``) so that keys
            of different modules cannot collide.
        build
            Called without arguments, once, to make the view when ``key`` is
            not cached. The view is shared: callers must not modify it.

        Returns
        -------
        object
            What ``build()`` returned, now or on an earlier call.

        Examples
        --------
        >>> import pandas as pd
        >>> from refgraph import ReferralNetwork
        >>> net = ReferralNetwork.from_frames(flows=pd.DataFrame(
        ...     {"source_npi": ["1234567893"], "target_npi": ["1003033051"], "count": [7]}))
        >>> calls = []
        >>> def total():
        ...     calls.append(1)
        ...     return int(net.flows["count"].sum())
        >>> net.cached_view(("doc", "total"), total), net.cached_view(("doc", "total"), total)
        (7, 7)
        >>> len(calls)
        1
        >>> net = net.add_flows(pd.DataFrame(
        ...     {"source_npi": ["1003033051"], "target_npi": ["1234567893"], "count": [2]}))
        >>> net.cached_view(("doc", "total"), total), len(calls)
        (9, 2)
        """
        try:
            view: _V = self._cache[key]
        except KeyError:
            view = self._cache[key] = build()
        return view

    def clear_cached_views(self) -> None:
        """Drop every cached view (they are rebuilt on next use)."""
        self._cache.clear()

    # ------------------------------------------------------------------ mutate
    def _invalidate(self) -> None:
        self.clear_cached_views()

    def add_flows(self, flows: pd.DataFrame, *, strict: bool = False) -> ReferralNetwork:
        """Validate and append flows; returns the network itself.

        Duplicate flows (same source, target, period, provenance) are
        aggregated with the existing ones. Rejected rows are appended to
        :attr:`rejected`.

        Examples
        --------
        >>> net = ReferralNetwork()
        >>> _ = net.add_flows(pd.DataFrame({"source_npi": ["1234567893"],
        ...                                 "target_npi": ["1003033051"], "count": [5]}))
        >>> net.n_flows
        1
        """
        return self._add("flows", flows, strict=strict)

    def add_physicians(self, physicians: pd.DataFrame, *, strict: bool = False) -> ReferralNetwork:
        """Validate and add physicians; known NPIs get their attributes updated."""
        return self._add("physicians", physicians, strict=strict)

    def add_practices(self, practices: pd.DataFrame, *, strict: bool = False) -> ReferralNetwork:
        """Validate and add practices; known ids get their attributes updated."""
        return self._add("practices", practices, strict=strict)

    def add_events(self, events: pd.DataFrame, *, strict: bool = False) -> ReferralNetwork:
        """Validate and append referral events."""
        return self._add("events", events, strict=strict)

    def add_touchpoints(
        self, touchpoints: pd.DataFrame, *, strict: bool = False
    ) -> ReferralNetwork:
        """Validate and append outreach touchpoints."""
        return self._add("touchpoints", touchpoints, strict=strict)

    def _add(self, name: str, df: pd.DataFrame, *, strict: bool) -> ReferralNetwork:
        res = validate_table(df, name, strict=strict)
        self._tables[name] = appended_table(name, self._tables[name], res.table)
        prev = self.ingest.get(name)
        if prev is not None and len(prev.rejected):
            res.rejected = pd.concat([prev.rejected, res.rejected], ignore_index=True)
        self.ingest[name] = res
        self._invalidate()
        self._add_missing_physicians()
        return self

    # ------------------------------------------------------------------ views
    def edges(self, *, weight: str = "count") -> pd.DataFrame:
        """Flows aggregated to one row per directed pair.

        Flows of several periods or provenances between the same pair are
        summed (``count`` exactly; ``patients`` as a sum, which can count a
        patient seen in two periods twice).

        Parameters
        ----------
        weight
            Column used as edge weight in the views (``count`` or ``patients``
            or any numeric extra column).

        Returns
        -------
        pandas.DataFrame
            Columns ``source_npi``, ``target_npi``, ``count``, ``patients``
            (and ``weight`` when another column is asked for).
        """
        return self.cached_view(("edges", weight), lambda: edge_table(self, weight))

    def csr(self, *, weight: str = "count") -> CSRGraph:
        """Compact CSR view: integer node ids in :attr:`npis` order.

        Parameters
        ----------
        weight
            Flow column used as edge weight (a *strength*: larger means more
            referral volume). Missing weights count as 0.

        Returns
        -------
        CSRGraph

        Examples
        --------
        >>> flows = pd.DataFrame({"source_npi": ["1234567893"],
        ...                       "target_npi": ["1003033051"], "count": [7]})
        >>> g = ReferralNetwork.from_frames(flows=flows).csr()
        >>> g.n, g.m, float(g.data.sum())
        (2, 1, 7.0)
        """
        return self.cached_view(("csr", weight), lambda: csr_view(self, weight))

    def to_networkx(self, *, weight: str = "count", attributes: bool = True) -> nx.DiGraph:
        """A networkx ``DiGraph`` view (cached; do not mutate it).

        Nodes are NPIs with the physician columns as attributes; edges carry
        ``count``, ``patients`` and ``weight`` (the chosen weight column).

        Examples
        --------
        >>> flows = pd.DataFrame({"source_npi": ["1234567893"],
        ...                       "target_npi": ["1003033051"], "count": [7]})
        >>> G = ReferralNetwork.from_frames(flows=flows).to_networkx()
        >>> G["1234567893"]["1003033051"]["weight"]
        7.0
        """
        return self.cached_view(
            ("nx", weight, attributes),
            lambda: networkx_view(self.physicians, self.edges(weight=weight), weight, attributes),
        )

    @classmethod
    def from_networkx(
        cls, G: nx.Graph, *, weight: str = "count", strict: bool = False
    ) -> ReferralNetwork:
        """Build a network from a networkx graph whose nodes are NPIs.

        Node attributes become physician columns; the edge attribute
        ``weight`` (default ``count``; falling back to ``weight``, then 1)
        becomes the flow count. Undirected graphs give flows both ways.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.DiGraph()
        >>> G.add_edge("1234567893", "1003033051", count=3)
        >>> ReferralNetwork.from_networkx(G).flows["count"].tolist()
        [3]
        """
        phys, flows = networkx_frames(G, weight)
        return cls(physicians=phys, flows=flows, strict=strict)

    # ------------------------------------------------------------------ select
    def subnetwork(self, npis: Iterable[str]) -> ReferralNetwork:
        """The network induced by the given physicians.

        Keeps the listed physicians, flows and events among them, their
        touchpoints and the practices they belong to.
        """
        return subnetwork(self, npis)

    def select(
        self,
        *,
        specialty: str | Iterable[str] | None = None,
        zips: Iterable[str] | None = None,
        within_km: tuple[float, float, float] | None = None,
        period: tuple[Any, Any] | None = None,
        flows: str = "both",
    ) -> ReferralNetwork:
        """Select a sub-network by specialty, region and period (a new network).

        Parameters
        ----------
        specialty, zips, within_km
            Keep physicians of these specialties, with these ZIPs, and within
            ``(lat, lon, km)`` great-circle km (no coordinates: dropped).
        period
            ``(start, end)``: keep flows overlapping it (or without a period), events in it.
        flows
            Which flows (and events) stay: ``"both"`` (default) between two
            selected physicians, ``"either"`` with one or both ends selected,
            ``"from"``/``"to"`` sent/received by them (the other ends come
            along). Warns when a selection keeps none of the network's flows.

        Examples
        --------
        >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051"],
        ...                      "specialty": ["cardiology", "family_medicine"]})
        >>> net = ReferralNetwork.from_frames(physicians=phys, flows=pd.DataFrame(
        ...     {"source_npi": ["1003033051"], "target_npi": ["1234567893"], "count": [4]}))
        >>> net.select(specialty="cardiology", flows="to").n_flows
        1
        """
        return select(
            self, specialty=specialty, zips=zips, within_km=within_km, period=period, flows=flows
        )

    def physician(self, npi: str) -> pd.Series:
        """The physicians-table row of one NPI.

        Raises
        ------
        NotFoundError
            When the NPI is not in the network.
        """
        hit = self.physicians[self.physicians["npi"] == npi]
        if hit.empty:
            raise NotFoundError(f"npi: {npi!r} is not a physician of this network")
        return hit.iloc[0]

    def summary(self) -> pd.Series:
        """Summary statistics a researcher expects.

        Returns
        -------
        pandas.Series
            ``physicians``, ``practices``, ``flows`` (rows), ``edges``
            (distinct directed pairs), ``total_volume`` (sum of counts),
            ``total_patients``, ``density`` (edges / n(n-1)),
            ``weak_components``, ``largest_component``, ``reciprocity``
            (share of edges whose reverse edge exists), ``isolates``,
            ``events``, ``touchpoints``, ``rejected_rows``.
        """
        return summary_series(self)

    # ------------------------------------------------------------------ persist
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Save the network losslessly and atomically as a folder of Parquet files.

        Parameters
        ----------
        path
            Folder to create: the tables, the rejects and a checked manifest
            (:func:`refgraph.io.save_network`, docs page "Parquet folder").
        overwrite
            Replace the network saved there; readers see the old or the new.

        Returns
        -------
        pathlib.Path
            The folder written.
        """
        from .io import save_network

        return save_network(self, path, overwrite=overwrite)

    def to_graphml(self, path: str | Path, *, weight: str = "count") -> Path:
        """Write the graph view as GraphML (opens in Gephi, yEd, Cytoscape)."""
        from .io.formats import to_graphml

        return to_graphml(self, path, weight=weight)

    def to_gexf(self, path: str | Path, *, weight: str = "count") -> Path:
        """Write the graph view as GEXF (Gephi's native format)."""
        from .io.formats import to_gexf

        return to_gexf(self, path, weight=weight)

    def to_neo4j(self, target: Any = None, **kwargs: Any) -> Any:
        """Write the network into Neo4j; returns the :class:`~refgraph.backends.neo4j.Neo4jBackend`.

        ``target`` is a URI, a ``neo4j.Driver``, a backend, or ``None`` for the
        ``NEO4J_URI``/``NEO4J_USER``/``NEO4J_PASSWORD`` environment variables;
        other keyword arguments go to the backend (``auth``, ``database``,
        ``batch_size``). The write is idempotent: running it again, or after
        an interruption, leaves exactly one copy of every row.

        Examples
        --------
        >>> db = net.to_neo4j("bolt://127.0.0.1:7687", auth=("neo4j", "pw"))  # doctest: +SKIP
        >>> same = db.read()  # doctest: +SKIP
        """
        from .backends.neo4j import connect

        db = connect(target, **kwargs)
        db.write(self)
        return db

    @classmethod
    def from_neo4j(cls, target: Any = None, *, lazy: bool = False, **read_options: Any) -> Any:
        """Read a network (or a sub-network) from Neo4j, or analyse it there (``lazy=True``).

        ``target`` is as in :meth:`to_neo4j`; ``read_options`` are those of
        :meth:`~refgraph.backends.neo4j.Neo4jBackend.read` (``specialty``, ``zips``,
        ``within_km``, ``around``/``hops``, ``period``, ``flows``). The result keeps
        the connection in ``net.backend``, so analyses such as :func:`refgraph.centrality.pagerank`
        run in Graph Data Science. With ``lazy=True`` nothing is read: a
        :class:`~refgraph.backends.neo4j.LazyNetwork` keeps the tables in the database.

        >>> big = ReferralNetwork.from_neo4j(lazy=True)  # doctest: +SKIP
        """
        from .backends.neo4j import LazyNetwork, connect

        if lazy and read_options:
            raise ValidationError(f"lazy=True takes no read options, got {sorted(read_options)}")
        return LazyNetwork(connect(target)) if lazy else connect(target).read(**read_options)

    def to_csv(self, path: str | Path) -> Path:
        """Write each non-empty table as ``<table>.csv`` into a folder."""
        from .io.formats import to_csv

        return to_csv(self, path)


def load(path: str | Path) -> ReferralNetwork:
    """Load a network saved with :meth:`ReferralNetwork.save`; damage raises ValidationError.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from refgraph import ReferralNetwork, load
    >>> flows = pd.DataFrame({"source_npi": ["1234567893"],
    ...                       "target_npi": ["1003033051"], "count": [7]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     load(net.save(d + "/net")) == net
    True
    """
    from .io import load_network

    return load_network(path)
