"""The reads of a lazy ``intro_paths`` query: tie edges and a sub-network, one statement each.

:func:`tie_edges` returns the tie edges of some physicians (flows and referral
events either way, colleagues in practices of at most 10) as two column lists;
:func:`sub_network` reads the physicians of a list of NPIs with every flow, event
and touchpoint among them and their practices, as
``Neo4jBackend.read(around=ids, hops=0)`` does, but in one statement that starts
from the NPIs' index entries (the general read filters a scan of the whole store)
and returns one record of lists.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._read import _ENDS, _PLAIN, _columns, _from_neo4j, _iso_flags
from ._schema import _Q

if TYPE_CHECKING:
    from ...network import ReferralNetwork
    from ._lazy import LazyNetwork

#: The values of the stored columns ``$k.<table>`` of ``{v}`` (``$i.<table>``: as ISO text).
_VALS = (
    "[j IN range(0, size($k.{t}) - 1) | "
    "CASE WHEN $i.{t}[j] THEN toString({v}[$k.{t}[j]]) ELSE {v}[$k.{t}[j]] END]"
)

#: Tie edges ``(id, partner)`` of ``$ids``: flows either way, events either way (index
#: seeks on both NPI properties), colleagues in practices of at most ``$colleagues``.
_TIE_EDGES = (
    "CALL () { "
    "UNWIND $ids AS id MATCH (s:Physician {npi: id})-[:REFERRED]-(q:Physician) "
    "USING INDEX SEEK s:Physician(npi) "
    "RETURN id, q.npi AS npi "
    "UNION UNWIND $ids AS id MATCH (e:ReferralEvent {source_npi: id}) "
    "RETURN id, e.target_npi AS npi "
    "UNION UNWIND $ids AS id MATCH (e:ReferralEvent {target_npi: id}) "
    "RETURN id, e.source_npi AS npi "
    "UNION UNWIND $ids AS id MATCH (p:Physician {npi: id}) USING INDEX SEEK p:Physician(npi) "
    "WHERE p.practice_id IS NOT NULL "
    "WITH id, p.practice_id AS pid CALL (pid) { MATCH (q:Physician {practice_id: pid}) "
    "RETURN q.npi AS npi LIMIT $colleagues + 1 } "
    "WITH id, collect(npi) AS c WHERE size(c) <= $colleagues UNWIND c AS npi RETURN id, npi } "
    "RETURN collect(id) AS a, collect(npi) AS b"
)

#: ``$limit`` members of each practice of ``$ids`` that has at least ``$limit``, as one
#: list: with ``$limit`` = the colleague rule's bound + 1, a practice read with them is
#: large exactly when it is in the store (a small one keeps the members of ``$ids`` only,
#: and stays small). The hint keeps the planner from scanning the whole practice index
#: once per NPI, which it otherwise picks for ``practice_id IS NOT NULL``.
_MEMBERS = (
    "UNWIND $ids AS id MATCH (p:Physician {npi: id}) USING INDEX SEEK p:Physician(npi) "
    "WHERE p.practice_id IS NOT NULL WITH DISTINCT p.practice_id AS pid "
    "CALL (pid) { MATCH (q:Physician {practice_id: pid}) RETURN q.npi AS npi LIMIT $limit } "
    "WITH pid, collect(npi) AS c WHERE size(c) >= $limit UNWIND c AS npi "
    "RETURN collect(DISTINCT npi) AS npis"
)

#: The physicians ``ids`` with the flows, events and touchpoints among the physicians
#: ``inner`` (every part an index seek per NPI or practice id; the events' hint keeps
#: the planner from seeking every target NPI once per source NPI).
_SUB_BODY = (
    "CALL (ids) { UNWIND ids AS id MATCH (n:Physician {npi: id}) "
    "USING INDEX SEEK n:Physician(npi) "
    f"RETURN collect({_VALS.format(t='physicians', v='n')}) AS phys, "
    "collect(DISTINCT n.practice_id) AS pids } "
    "CALL (pids) { UNWIND pids AS pid MATCH (n:Practice {practice_id: pid}) "
    "USING INDEX SEEK n:Practice(practice_id) "
    f"RETURN collect({_VALS.format(t='practices', v='n')}) AS practices }} "
    "CALL (inner) { UNWIND inner AS id "
    "MATCH (a:Physician {npi: id})-[f:REFERRED]->(b:Physician) "
    "USING INDEX SEEK a:Physician(npi) "
    "WHERE b.npi IN inner "
    f"RETURN collect(a.npi) AS s, collect(b.npi) AS t, "
    f"collect({_VALS.format(t='flows', v='f')}) AS flows }} "
    "CALL (inner) { UNWIND inner AS id MATCH (n:ReferralEvent {source_npi: id}) "
    "USING INDEX n:ReferralEvent(source_npi) WHERE n.target_npi IN inner "
    f"RETURN collect({_VALS.format(t='events', v='n')}) AS events }} "
    "CALL (inner) { MATCH (n:Touchpoint) WHERE n.npi IN inner "
    f"RETURN collect({_VALS.format(t='touchpoints', v='n')}) AS touchpoints }} "
    "RETURN phys, practices, s, t, flows, events, touchpoints"
)
#: ``_SUB_BODY`` that also reads the store's change marker, last, in the same statement.
_SUB_BODY_VERSION = _SUB_BODY.replace(
    "RETURN phys, practices, s, t, flows, events, touchpoints",
    "CALL () { OPTIONAL MATCH (m:RefgraphTable {name: '_store'}) "
    "RETURN coalesce(m.version, '') AS version } "
    "RETURN phys, practices, s, t, flows, events, touchpoints, version",
)
#: The sub-network of ``$ids``.
_SUB_NETWORK = "WITH $ids AS ids, $ids AS inner " + _SUB_BODY
#: The sub-network of ``$ids`` with the ``_MEMBERS`` of their practices as physicians
#: only (in NPI order, as a sorted list of them would be read).
_SUB_NETWORK_MEMBERS = (
    "CALL () { " + _MEMBERS.replace("RETURN collect(DISTINCT npi) AS npis", "RETURN npi") + " } "
    "WITH collect(DISTINCT npi) AS more "
    "CALL (more) { UNWIND $ids + more AS x WITH DISTINCT x ORDER BY x RETURN collect(x) AS ids } "
    "WITH ids, $ids AS inner " + _SUB_BODY
)
#: The two statements above, each also returning the store's change marker.
_SUB_NETWORK_VERSION = _SUB_NETWORK.replace(_SUB_BODY, _SUB_BODY_VERSION)
_SUB_NETWORK_MEMBERS_VERSION = _SUB_NETWORK_MEMBERS.replace(_SUB_BODY, _SUB_BODY_VERSION)

_TABLES = ("physicians", "practices", "flows", "events", "touchpoints")
logger = logging.getLogger("refgraph.backends.neo4j")


def _column(vals: Any, want: str | None, iso: bool, missing_nan: bool, name: str) -> Any:
    """One stored column as ``Neo4jBackend.read`` restores it (see :func:`_table`)."""
    col = np.empty(len(vals), dtype=object)
    col[:] = vals
    if iso:
        try:
            col = np.asarray(pd.to_datetime(pd.Series(col, dtype=object), format="ISO8601"))
        except (TypeError, ValueError):
            pass  # not all dates after all: converted below as the general read does
    if col.dtype == object and not str(want or "object").startswith(_PLAIN):
        if any(hasattr(v, "to_native") for v in col):
            col[:] = [_from_neo4j(v) for v in col]
    if missing_nan and col.dtype == object:
        col[pd.isna(col)] = np.nan
    if want is None or want == "object":
        return col.astype(object, copy=False)
    try:
        if want.startswith("datetime64"):
            return pd.to_datetime(pd.Series(col, copy=False)).astype(want)
        dtype = pd.api.types.pandas_dtype(want)
        if isinstance(dtype, np.dtype):  # as Series.astype (bool of NaN, for one, is True)
            return pd.Series(col, copy=False).astype(dtype)
        return pd.array(col, dtype=dtype)
    except (TypeError, ValueError):
        logger.warning("column %s could not be restored as %s", name, want)
        return col


def _table(
    rows: list[Any],
    keys: list[str],
    iso: list[bool],
    meta: dict[str, Any],
    ends: tuple[Any, Any] | None = None,
) -> pd.DataFrame:
    """A table of value lists with the columns, order and dtypes ``Neo4jBackend.read``
    gives it (``_restore`` of ``_frame``, missing values NaN but in the flows, as there),
    built column by column in one pass; ``ends``: the flows' two NPI lists."""
    dtypes = dict(zip(meta["columns"], meta["dtypes"]))
    cols = _columns(rows, len(keys))
    data: dict[str, Any] = {}
    for j, k in enumerate(keys):
        data[k] = _column(cols[j], dtypes.get(k), iso[j], ends is None, k)
    if ends is not None:
        for k, vals in zip(_ENDS, ends):
            data[k] = _column(vals, dtypes.get(k), False, False, k)
    names = [c for c in meta["columns"] if c in data] + [c for c in data if c not in dtypes]
    return pd.DataFrame({c: data[c] for c in names}, columns=names)


def tie_edges(lazy: LazyNetwork, ids: list[str], colleagues: int) -> list[tuple[str, str]]:
    """The stored tie edges ``(id, partner)`` of ``ids`` (one statement, two lists back)."""
    if not ids:
        return []
    a, b = lazy.db._read_values(_TIE_EDGES, ids=ids, colleagues=colleagues)[0]
    return [(str(x), str(y)) for x, y in zip(a, b) if y is not None]


def practice_members(lazy: LazyNetwork, ids: list[str], limit: int) -> list[str]:
    """``limit`` members of each practice of the physicians ``ids`` that has at least
    ``limit`` (see ``_MEMBERS``)."""
    if not ids:
        return []
    return [str(x) for x in lazy.db._read_values(_MEMBERS, ids=ids, limit=limit)[0][0]]


def _meta(lazy: LazyNetwork) -> dict[str, Any]:
    """The stored tables' columns and dtypes (kept until the store changes)."""
    got: dict[str, Any] = lazy._memoised(
        "read_meta",
        lambda: {r["name"]: r for r in lazy.db._read(_Q["read_meta"])},
        check=False,
    )
    return got


def sub_network(
    lazy: LazyNetwork,
    ids: list[str],
    members: int = 0,
    version: dict[str, str] | None = None,
) -> ReferralNetwork:
    """The physicians ``ids`` with everything among them, as ``read(around=ids, hops=0)``.

    With ``members``, the physicians are ``ids`` and ``members`` members of each
    of their practices that has at least that many (chosen by the server, as
    :func:`practice_members` chooses them), read in the same statement; the
    flows, events and touchpoints are still those among ``ids`` (the members are
    there so that a practice is large in the sub-network exactly when it is in
    the store, for the colleague rule). Falls back to reads of the general
    ``Neo4jBackend.read`` for a store without table metadata (written by an
    older refgraph).

    With a ``version`` dict, the same statement also reads the store's change
    marker after the tables, into ``version["version"]`` (not on the fallback).
    """
    from ...network import ReferralNetwork

    meta = _meta(lazy)
    if any(t not in meta for t in _TABLES):
        net = lazy.db.read(around=ids, hops=0)
        if not members:
            return net
        more = sorted(set(ids).union(practice_members(lazy, ids, members)))
        parts = dict(net.tables)
        parts["physicians"] = lazy.db.read(around=more, hops=0).tables["physicians"]
        return ReferralNetwork._from_valid_tables(parts)
    keys = {t: [str(c) for c in meta[t]["columns"]] for t in _TABLES}
    keys["flows"] = [c for c in keys["flows"] if c not in _ENDS]
    iso = {t: _iso_flags(keys[t], meta[t]) for t in _TABLES}
    # value lists, not dicts: Record.data() would walk every nested list once more
    if version is None:
        statement = _SUB_NETWORK_MEMBERS if members else _SUB_NETWORK
    else:
        statement = _SUB_NETWORK_MEMBERS_VERSION if members else _SUB_NETWORK_VERSION
    row = lazy.db._read_values(statement, ids=ids, k=keys, i=iso, limit=members)[0]
    phys, practices, src, dst, flows, events, touchpoints = row[:7]
    if version is not None:
        version["version"] = str(row[7])
    tables = {
        table: _table(rows, keys[table], iso[table], meta[table])
        for table, rows in (
            ("physicians", phys),
            ("practices", practices),
            ("events", events),
            ("touchpoints", touchpoints),
        )
    }
    tables["flows"] = _table(flows, keys["flows"], iso["flows"], meta["flows"], (src, dst))
    return ReferralNetwork._from_valid_tables(tables)
