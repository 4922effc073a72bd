"""Geography of referral networks: geocoding, distances, spatial clusters and markets.

Everything works offline: coordinates come from the tables (``lat``/``lon``)
or from ZIP code centroids of the ``zipcodes`` package; geopy is only used
for online geocoding (:func:`geocode`) and precise ellipsoidal distances
(:func:`geodesic_km`).

Functions taking ``net_or_table`` accept a :class:`~refgraph.ReferralNetwork`
(its ``physicians`` table by default; ``table="practices"`` for practices) or
any DataFrame with ``lat`` and ``lon`` columns in decimal degrees (WGS84).

Distances are great-circle distances on a sphere of radius
:data:`EARTH_RADIUS_KM` (the IUGG mean radius) unless stated otherwise.

Maps (:func:`plot_practices`, :func:`plot_flows`, :func:`plot_clusters`,
:func:`plot_regions`, :func:`plot_catchment`) return ``(fig, ax)``; matplotlib
is imported when one is called, not with this package. They draw US state (and,
in small views, county) outlines beneath the data: :func:`outlines` returns them,
:func:`plot_outlines` draws them (Census Bureau 2016 cartographic boundaries,
public domain, shipped with refgraph).
"""

from __future__ import annotations

from .._distance import EARTH_RADIUS_KM, haversine_km
from ._catchment import Catchment, catchment, leakage, market_share
from ._cluster import cluster, cluster_summary
from ._geocache import GeocodeCache, normalize_address
from ._geocode import geocode, zip_centroids
from ._geojson import to_geojson
from ._markets import flow_communities, plurality_regions, unit_table
from ._outlines import COUNTY_MAX_KM, outlines, plot_outlines
from ._plots import plot_catchment, plot_clusters, plot_flows, plot_practices, plot_regions
from ._spatial import SpatialIndex, distance_matrix, geodesic_km, nearest, project_km, within_km

__all__ = [
    "COUNTY_MAX_KM",
    "EARTH_RADIUS_KM",
    "Catchment",
    "GeocodeCache",
    "SpatialIndex",
    "catchment",
    "cluster",
    "cluster_summary",
    "distance_matrix",
    "flow_communities",
    "geocode",
    "geodesic_km",
    "haversine_km",
    "leakage",
    "market_share",
    "nearest",
    "normalize_address",
    "outlines",
    "plot_catchment",
    "plot_clusters",
    "plot_flows",
    "plot_outlines",
    "plot_practices",
    "plot_regions",
    "plurality_regions",
    "project_km",
    "to_geojson",
    "unit_table",
    "within_km",
    "zip_centroids",
]
