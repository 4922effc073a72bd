"""``paths.intro_paths`` on a :class:`~refgraph.backends.neo4j.LazyNetwork`.

The query reads only what it needs: the physicians within ``max_hops`` tie
steps of the sources (see :meth:`LazyNetwork.neighbourhood`) plus the target,
with every flow, event and touchpoint among them, then runs the ordinary
in-memory :func:`refgraph.paths.intro_paths` on that sub-network. Every path of at most
``max_hops`` hops from a source lies in that neighbourhood, each tie's
strength depends only on the pair's own rows and the reference date, and the
reference date (``as_of``) defaults to the store's latest date, as it
defaults to the network's in memory: so the answer is the whole network's.
The sub-network is kept for the next query with the same sources and hops
while the store is unchanged, so consecutive queries also reuse its tie graph
and its GDS projection.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..._errors import ValidationError
from ..._params import MAX_HOPS, check_int
from ._schema import _Q

if TYPE_CHECKING:
    from ._lazy import LazyNetwork

#: An NPI named in a touchpoint's notes (the tie rule of :mod:`refgraph.paths`).
_NPI_TEXT = re.compile(r"(?<!\d)(\d{10})(?!\d)")
#: Sub-networks a lazy network keeps for ``intro_paths`` (least recently used dropped).
_KEEP = 2


def _seeds(lazy: LazyNetwork, sources: Any, home: Any) -> list[str]:
    """NPIs the search starts from, as :func:`refgraph.paths.resolve_sources` picks them."""
    if sources is not None:
        if isinstance(sources, str):
            return [sources]
        if isinstance(sources, Mapping):
            return [str(s) for s in sources]
        return [str(s) for s in sources]
    if home is not None:
        return [home] if isinstance(home, str) else [str(h) for h in home]
    rows = lazy.db._read_values(_Q["lazy_touchpoint_npis"])
    return [str(r[0]) for r in rows if r[0] is not None]


def _extra_pairs(lazy: LazyNetwork | None, ties: Any) -> list[tuple[str, str]]:
    """Tie pairs that are not stored flows or events: touchpoint notes (with ``lazy``)
    and the ``ties`` frame."""
    pairs = []
    rows = lazy.db._read_values(_Q["lazy_touchpoint_notes"]) if lazy is not None else []
    for npi, notes in rows:
        for other in _NPI_TEXT.findall(str(notes)):
            pairs.append((str(npi), other))
    if isinstance(ties, pd.DataFrame):
        cols = ("npi_a", "npi_b") if "npi_a" in ties.columns else ("source_npi", "target_npi")
        if set(cols) <= set(ties.columns):
            pairs += list(zip(ties[cols[0]].astype(str), ties[cols[1]].astype(str)))
    return pairs


def lazy_intro_paths(lazy: LazyNetwork, **options: Any) -> Any:
    """:func:`refgraph.paths.intro_paths` for a lazy network (options as there)."""
    from ...paths import intro_paths

    target = options.get("target")
    if not isinstance(target, str):
        raise ValidationError(f"target: expected an NPI string, got {target!r}")
    hops = check_int(options.get("max_hops", 3), "max_hops", minimum=1, maximum=MAX_HOPS)
    seeds = _seeds(lazy, options.get("sources"), options.get("home"))
    notes = lazy._memoised("touchpoint_notes", lambda: _extra_pairs(lazy, None))
    extra = notes + _extra_pairs(None, options.get("ties"))
    comp = options.get("exclude_competitors_of")
    also = [target] + ([str(comp)] if comp is not None and str(comp).isdigit() else [])
    memo = lazy._memoised("intro_neighbourhoods", dict)
    key = (tuple(sorted(set(seeds))), hops, tuple(sorted(extra)))
    if key not in memo:
        memo[key] = lazy.neighbourhood(seeds, hops, extra_pairs=extra)
    near = set(memo[key])
    if target not in near:
        # Unreachable within max_hops; read its own ties too, so that the "no path"
        # message tells, as in memory, whether it has relationships at all.
        near |= set(lazy.neighbourhood([target], 1))
    ids = sorted(near.union(also))
    subs = lazy._memoised("intro_networks", dict)
    sub_key = tuple(ids)
    sub = subs.pop(sub_key, None)
    if sub is None:
        with warnings.catch_warnings():
            # a neighbourhood without flows is an answer here ("no path"), not a mistake
            warnings.filterwarnings("ignore", message="the selection keeps", category=UserWarning)
            sub = lazy.db.read(around=ids, hops=0)
        # The sub-network is in memory now: search it there (a GDS round trip per
        # query would cost more than the search; the answer is the same).
        sub.backend = None
    subs[sub_key] = sub
    while len(subs) > _KEEP:
        subs.pop(next(iter(subs)))
    opts = dict(options)
    if opts.get("as_of") is None:
        opts["as_of"] = lazy.max_date()
    return intro_paths(sub, **opts)
