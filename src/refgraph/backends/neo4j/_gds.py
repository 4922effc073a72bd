"""Analyses pushed down to Neo4j Graph Data Science.

PageRank, betweenness, Louvain (and Leiden) and degree run on a GDS projection
of the physicians of a network, dropped again in ``finally``.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..._errors import BackendError
from ..._kernels import cost_csr
from ._connect import _Connection
from ._schema import _Q

if TYPE_CHECKING:
    from ...network import ReferralNetwork

logger = logging.getLogger("refgraph.backends.neo4j")


class _GdsMixin(_Connection):
    """The GDS projections of :class:`~refgraph.backends.neo4j.Neo4jBackend`."""

    def _run_gds(self, algorithm: str, net: ReferralNetwork, **options: Any) -> Any:
        """:meth:`Neo4jBackend.run` for the algorithms other than ``intro_paths``."""
        if algorithm == "degree" and options.get("patients_per_physician") is not None:
            return None  # panel sizes live in memory
        if algorithm == "louvain" and float(options.get("resolution") or 1.0) != 1.0:
            return None  # GDS Louvain has no resolution parameter: compute in memory
        if (
            algorithm == "pagerank"
            and isinstance(options.get("personalization"), dict)
            and (len({float(v) for v in options["personalization"].values()}) > 1)
        ):
            return None  # GDS restarts uniformly on its source nodes
        ids = [str(x) for x in net.npis]
        weight = str(options.get("weight") or "count")
        undirected = ["*"] if algorithm in ("louvain", "leiden") else []
        induced = self._is_induced(net)
        if not induced and algorithm == "degree":
            return None  # partners and patients are counted in the store: compute in memory
        # Betweenness costs are scale / volume: with the integer scale of the
        # in-memory kernel (refgraph._kernels.cost_csr) every path sum is exact in
        # GDS too, so equal-cost paths tie there as they do in memory.
        scale = 1.0
        if algorithm == "betweenness" and options.get("weight") is not None:
            scale = float(cost_csr(net, str(options["weight"]))[1] or 1)
        graph = f"refgraph_{uuid.uuid4().hex}"
        try:
            flows: dict[str, Any]
            if induced:
                query, flows = _Q["gds_project"], {"ids": ids, "weight": weight}
            else:
                s, t, w = _pairs(net, weight)
                query, flows = _Q["gds_project_pairs"], {"s": s, "t": t, "w": w}
            self._write(query, graph=graph, undirected=undirected, scale=scale, **flows)
            return self._run_projected(algorithm, graph, ids, options, net.npis)
        finally:
            try:
                self._write(_Q["gds_drop"], graph=graph)
            except BackendError:
                logger.warning("could not drop GDS projection %s", graph)

    def _mark_induced(self, net: ReferralNetwork) -> None:
        """Remember that ``net`` holds every stored flow among its physicians.

        True of a network just read with ``flows="both"`` and no ``period``;
        the mark lives in the network's view cache (so any change to its
        tables drops it) together with the store's change marker.
        """
        version = self._store_version()
        net.cached_view(("refgraph.backends.neo4j", "induced", id(self)), lambda: version)

    def _is_induced(self, net: ReferralNetwork) -> bool:
        """Whether GDS may project ``net`` straight from the store (see :meth:`_mark_induced`).

        Otherwise the projection is built from the network's own flows, sent
        as parameter lists: same answer, more to send.
        """
        got = net.cached_view(("refgraph.backends.neo4j", "induced", id(self)), lambda: None)
        return got is not None and got == self._store_version()

    def _store_version(self) -> str:
        """The store's change marker (renewed by every refgraph write and delete)."""
        return str(self._read(_Q["read_version"])[0]["v"])

    def _stream(self, query: str, *, value: str = "score", **params: Any) -> pd.DataFrame:
        """A GDS stream of ``npi`` and ``value`` as a frame indexed by NPI.

        The rows are collected into two lists in the server and arrive as one
        record: a million physicians cost two Python lists, not a million records.
        """
        cols = self._read_values(
            "CALL () { " + query + f" }} RETURN collect(npi), collect({value})", **params
        )[0]
        return pd.DataFrame({"npi": cols[0], value: cols[1]}).set_index("npi")

    def _run_projected(
        self,
        algorithm: str,
        graph: str,
        ids: list[str],
        options: dict[str, Any],
        index: pd.Index,
        *,
        whole: bool = False,
    ) -> pd.DataFrame:
        """Stream ``algorithm`` on projection ``graph``; one row per NPI of ``ids``.

        ``whole``: the projection holds every stored physician (a lazy
        network), so degree counts partners over the whole store.
        """
        n = len(ids)
        if algorithm == "pagerank":
            config: dict[str, Any] = {
                "relationshipWeightProperty": "weight",
                "dampingFactor": float(options.get("alpha", 0.85)),
                "maxIterations": int(options.get("max_iter", 1000)),
                "tolerance": float(options.get("tol", 1e-12)),
            }
            pers = options.get("personalization")
            if pers:
                sources = [str(x) for x in pers]
                df = self._stream(
                    _Q["gds_pagerank_personal"], graph=graph, config=config, sources=sources
                )
            else:
                df = self._stream(_Q["gds_pagerank"], graph=graph, config=config)
            total = df["score"].sum()
            out = pd.DataFrame({"pagerank": df["score"] / total if total else df["score"]})
        elif algorithm == "betweenness":
            config = {}
            if options.get("weight") is not None:
                config["relationshipWeightProperty"] = "cost"
            if options.get("k") is not None:
                config["samplingSize"] = int(options["k"])
                if options.get("seed") is not None:
                    config["samplingSeed"] = int(options["seed"])
            df = self._stream(_Q["gds_betweenness"], graph=graph, config=config)
            score = df["score"].astype(float)
            if options.get("k") is not None and n:
                score = score * (n / int(options["k"]))
            if options.get("normalized", True) and n > 2:
                score = score / ((n - 1) * (n - 2))
            out = pd.DataFrame({"betweenness": score})
        elif algorithm in ("louvain", "leiden"):
            config = {"relationshipWeightProperty": "weight"}
            if options.get("seed") is not None and algorithm == "leiden":
                config["randomSeed"] = int(options["seed"])
            if algorithm == "leiden" and options.get("resolution") is not None:
                config["gamma"] = float(options["resolution"])
            df = self._stream(_Q[f"gds_{algorithm}"], graph=graph, config=config, value="community")
            sizes = df["community"].value_counts()
            order = {c: i for i, c in enumerate(sizes.index)}
            out = pd.DataFrame({"community": df["community"].map(order).astype("int64")})
        else:  # degree: GDS for the directed counts, Cypher for partners and patients
            cols = {}
            for name, orient, w in (
                ("in_degree", "REVERSE", None),
                ("out_degree", "NATURAL", None),
                ("in_strength", "REVERSE", "weight"),
                ("out_strength", "NATURAL", "weight"),
            ):
                config = {"orientation": orient}
                if w:
                    config["relationshipWeightProperty"] = w
                frame = self._stream(_Q["gds_degree"], graph=graph, config=config)
                cols[name] = frame["score"].astype(float)
            partners = (
                self._read(_Q["partners_all"]) if whole else self._read(_Q["partners"], ids=ids)
            )
            und = pd.DataFrame(partners, columns=["npi", "degree", "shared"]).set_index("npi")
            out = pd.DataFrame(cols).reindex(pd.Index(ids, name="npi"))
            out.insert(2, "degree", und["degree"].reindex(out.index).fillna(0).astype(float))
            has_patients = bool(und["shared"].notna().any()) if len(und) else False
            shared = und["shared"].reindex(out.index).astype(float)
            if has_patients:
                shared = shared.fillna(0.0)
            out["shared_patients"] = shared
            denom = out["shared_patients"].where(out["shared_patients"] > 0)
            out["adjusted_degree"] = 100.0 * out["degree"] / denom
        out = out.reindex(pd.Index(ids))
        out.index = pd.Index(index, name="npi")
        return out


def _pairs(net: ReferralNetwork, weight: str) -> tuple[list[str], list[str | None], list[float]]:
    """Referring pairs of ``net`` with summed ``weight``, plus each isolated physician.

    Isolated physicians come as ``(npi, None, 0.0)`` so that the projection
    holds every physician of the network, like the store-side projection.
    """
    f = net.flows
    if weight not in f.columns:
        from ..._errors import ValidationError

        raise ValidationError(f"weight: {weight!r} is not a flows column")
    agg = (
        f.assign(_w=pd.to_numeric(f[weight], errors="coerce").astype(float))
        .groupby(["source_npi", "target_npi"], sort=False)["_w"]
        .sum()
    )
    s = agg.index.get_level_values(0).astype(str).tolist()
    t: list[str | None] = list(agg.index.get_level_values(1).astype(str))
    w = agg.to_numpy(dtype=float).tolist()
    lone = pd.Index(net.npis).difference(pd.Index(s))
    s += [str(x) for x in lone]
    t += [None] * len(lone)
    w += [0.0] * len(lone)
    return s, t, w
