"""Constraints of a path query: regions, competitors, exclusions, evaluated where searched.

:func:`region_mask` is public through :mod:`refgraph.paths`. A query's constraints
(:class:`_Forbid`) are evaluated only at the nodes a search looks at (its
neighbourhood), so their cost follows the query, not the network; evaluated at
every node they give :func:`region_mask`'s whole-network mask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from .._distance import haversine_km
from .._errors import ValidationError
from .._params import check_float, check_latlon


def _column(net: Any, name: str, ids: np.ndarray | None) -> pd.Series:
    col = net.physicians[name]
    return col if ids is None else col.take(ids)


def _region_at(net: Any, region: Any, ids: np.ndarray | None) -> np.ndarray:
    """:func:`region_mask` at node ids only (``None``: every physician)."""
    phys = net.physicians
    n = len(phys) if ids is None else len(ids)
    if region is None:
        return np.ones(n, dtype=bool)
    if isinstance(region, pd.Series) and region.dtype == bool:
        where = net.npis if ids is None else net.npis[ids]
        return np.array(region.reindex(where, fill_value=False).to_numpy(bool))
    if isinstance(region, Mapping):
        m = np.ones(n, dtype=bool)
        for col, val in region.items():
            if col not in phys.columns:
                raise ValidationError(
                    f"region: physicians have no column {col!r}; columns are {list(phys.columns)}"
                )
            vals = (
                list(val) if isinstance(val, (list, tuple, set, frozenset, np.ndarray)) else [val]
            )
            m &= np.array(_column(net, col, ids).isin(vals).fillna(False).to_numpy(bool))
        return m
    if isinstance(region, tuple) and len(region) == 3 and all(isinstance(x, Real) for x in region):
        lat, lon = check_latlon(region[0], region[1], "region")
        km = check_float(region[2], "region.km", minimum=0)
        d = haversine_km(
            lat,
            lon,
            _column(net, "lat", ids).to_numpy("float64", na_value=np.nan),
            _column(net, "lon", ids).to_numpy("float64", na_value=np.nan),
        )
        return np.array(np.nan_to_num(d, nan=np.inf) <= km).reshape(-1)
    if isinstance(region, Iterable) and not isinstance(region, (str, bytes)):
        zips = [str(z).zfill(5) for z in region]
        return np.array(_column(net, "zip", ids).isin(zips).fillna(False).to_numpy(bool))
    raise ValidationError(
        "region: expected None, ZIP codes, a (lat, lon, km) circle, a {column: values} "
        f"mapping or a boolean Series by NPI; got {region!r}"
    )


def region_mask(net: Any, region: Any) -> np.ndarray:
    """Boolean mask over ``net.physicians`` rows of a region specification.

    Parameters
    ----------
    net
        The network.
    region
        ``None`` (everywhere); an iterable of ZIP codes; a ``(lat, lon, km)``
        circle; a mapping ``{column: value or values}`` of physician columns
        (e.g. ``{"city": 2}`` or ``{"npi": [...]}``); or a boolean Series
        indexed by NPI.

    Returns
    -------
    numpy.ndarray
        ``True`` for physicians inside the region.

    Examples
    --------
    >>> from refgraph import ReferralNetwork
    >>> phys = pd.DataFrame({"npi": ["1234567893", "1003033051"], "zip": ["02139", "10001"],
    ...                      "lat": [42.36, 40.75], "lon": [-71.10, -73.99]})
    >>> net = ReferralNetwork.from_frames(physicians=phys)
    >>> region_mask(net, ["02139"]).tolist(), region_mask(net, (42.3, -71.0, 30)).tolist()
    ([True, False], [True, False])
    """
    return _region_at(net, region, None)


def _describe_region(region: Any) -> str:
    if isinstance(region, pd.Series):
        return f"region=<{int(region.sum())} physicians>"
    text = repr(region)
    return "region=" + (text if len(text) <= 60 else text[:57] + "...")


def _competitors(net: Any, who: str) -> list[str]:
    """The specialties competing with ``who`` (a specialty, or an NPI meaning theirs)."""
    from ..specialties import competing

    spec: Any = who
    i = int(net.npis.get_indexer(pd.Index([who], dtype="string"))[0])
    if i >= 0:
        spec = net.physicians["specialty"].iat[i]
        if pd.isna(spec):
            raise ValidationError(
                f"exclude_competitors_of: physician {who} has no specialty to compare with"
            )
    return list(competing(str(spec)))


@dataclass(frozen=True)
class _Forbid:
    """The nodes a query must not use: excluded NPIs, competitors (except my own
    people) and physicians outside the region; never the target."""

    net: Any
    t: int
    excluded: np.ndarray  # node ids, sorted
    src: np.ndarray  # node ids of my people, sorted
    competitors: tuple[str, ...] | None
    region: Any

    def at(self, ids: np.ndarray | None) -> np.ndarray:
        """The mask at node ids (``None``: at every node)."""
        n = self.net.n_physicians if ids is None else len(ids)
        nodes = np.arange(n) if ids is None else np.asarray(ids, dtype=np.int64)
        out = np.zeros(n, dtype=bool)
        if len(self.excluded):
            out |= np.isin(nodes, self.excluded)
        if self.competitors is not None:
            comp = _column(self.net, "specialty", ids).isin(list(self.competitors))
            out |= np.array(comp.fillna(False).to_numpy(bool)) & ~np.isin(nodes, self.src)
        if self.region is not None:
            out |= ~_region_at(self.net, self.region, ids)
        out[nodes == self.t] = False
        return out
