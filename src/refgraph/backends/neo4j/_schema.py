"""The graph schema of the Neo4j backend: labels, keys and every Cypher statement.

Labels and relationship types come from this fixed whitelist; no user value is
ever formatted into Cypher text, everything else is a query parameter.
"""

from __future__ import annotations

from typing import Any

#: Node label per table and the property that identifies a row (fixed whitelist).
_LABELS: dict[str, tuple[str, str]] = {
    "physicians": ("Physician", "npi"),
    "practices": ("Practice", "practice_id"),
    "events": ("ReferralEvent", "eid"),
    "touchpoints": ("Touchpoint", "tid"),
}
_FLOW_KEY = ("period_start", "period_end", "provenance")

#: The end of a GDS projection from ``(s)-[r]->(t)`` rows: one relationship per pair,
#: ``weight`` = the summed ``$weight`` property and ``cost`` = ``$scale / weight``.
_PROJECT = (
    "WITH s, t, sum(coalesce(r[$weight], 0.0)) AS w "
    "WITH s, t, CASE WHEN t IS NULL THEN NULL ELSE toFloat(w) END AS w "
    "WITH gds.graph.project($graph, s, t, "
    "{relationshipProperties: CASE WHEN t IS NULL THEN {} ELSE "
    "{weight: w, cost: CASE WHEN w > 0 THEN $scale / w ELSE 1.0e12 END} END}, "
    "{undirectedRelationshipTypes: $undirected}) AS g "
    "RETURN g.nodeCount AS nodes, g.relationshipCount AS rels"
)
#: Cypher statements. They are constants: the only variable parts are parameters.
_Q: dict[str, Any] = {
    "constraints": [
        "CREATE CONSTRAINT refgraph_physician_npi IF NOT EXISTS "
        "FOR (p:Physician) REQUIRE p.npi IS UNIQUE",
        "CREATE CONSTRAINT refgraph_practice_id IF NOT EXISTS "
        "FOR (o:Practice) REQUIRE o.practice_id IS UNIQUE",
        "CREATE CONSTRAINT refgraph_event_id IF NOT EXISTS "
        "FOR (e:ReferralEvent) REQUIRE e.eid IS UNIQUE",
        "CREATE CONSTRAINT refgraph_touchpoint_id IF NOT EXISTS "
        "FOR (t:Touchpoint) REQUIRE t.tid IS UNIQUE",
        "CREATE CONSTRAINT refgraph_table_name IF NOT EXISTS "
        "FOR (m:RefgraphTable) REQUIRE m.name IS UNIQUE",
        "CREATE INDEX refgraph_physician_specialty IF NOT EXISTS "
        "FOR (p:Physician) ON (p.specialty)",
        "CREATE INDEX refgraph_physician_zip IF NOT EXISTS FOR (p:Physician) ON (p.zip)",
        "CREATE INDEX refgraph_physician_practice IF NOT EXISTS "
        "FOR (p:Physician) ON (p.practice_id)",
        "CREATE INDEX refgraph_event_source IF NOT EXISTS FOR (e:ReferralEvent) ON (e.source_npi)",
        "CREATE INDEX refgraph_event_target IF NOT EXISTS FOR (e:ReferralEvent) ON (e.target_npi)",
        "CREATE INDEX refgraph_touchpoint_npi IF NOT EXISTS FOR (t:Touchpoint) ON (t.npi)",
    ],
    "is_empty": (
        "OPTIONAL MATCH (n) WHERE n:Physician OR n:Practice OR n:ReferralEvent OR n:Touchpoint "
        "WITH n LIMIT 1 RETURN n IS NULL AS empty"
    ),
    "meta": "MERGE (m:RefgraphTable {name: $name}) SET m.columns = $columns, m.dtypes = $dtypes",
    "read_meta": "MATCH (m:RefgraphTable) RETURN m.name AS name, m.columns AS columns, "
    "m.dtypes AS dtypes",
    "count_flows": "MATCH ()-[r:REFERRED]->() RETURN count(r) AS c",
    "select": (
        "MATCH (p:Physician) WHERE ($spec IS NULL OR p.specialty IN $spec) "
        "AND ($zips IS NULL OR p.zip IN $zips) "
        "AND ($lat IS NULL OR (p.lat IS NOT NULL AND point.distance("
        "point({latitude: p.lat, longitude: p.lon}), point({latitude: $lat, longitude: $lon})"
        ") <= $meters)) RETURN p.npi AS npi"
    ),
    "neighbours": (
        "UNWIND $ids AS id MATCH (:Physician {npi: id})-[:REFERRED]-(q:Physician) "
        "RETURN DISTINCT q.npi AS npi"
    ),
    "delete_batch": (
        "MATCH (n) WHERE n:Physician OR n:Practice OR n:ReferralEvent OR n:Touchpoint "
        "OR n:RefgraphTable WITH n LIMIT $limit DETACH DELETE n RETURN count(*) AS c"
    ),
    "delete_physicians": (
        "UNWIND $ids AS id MATCH (n:Physician {npi: id}) "
        "OPTIONAL MATCH (e:ReferralEvent) WHERE e.source_npi = id OR e.target_npi = id "
        "OPTIONAL MATCH (t:Touchpoint {npi: id}) DETACH DELETE n, e, t"
    ),
    "counts": (
        "CALL () { MATCH (n:Physician) RETURN count(n) AS physicians } "
        "CALL () { MATCH (n:Practice) RETURN count(n) AS practices } "
        "CALL () { MATCH ()-[r:REFERRED]->() RETURN count(r) AS flows } "
        "CALL () { MATCH (n:ReferralEvent) RETURN count(n) AS events } "
        "CALL () { MATCH (n:Touchpoint) RETURN count(n) AS touchpoints } "
        "RETURN physicians, practices, flows, events, touchpoints"
    ),
    # --- the lazy network (refgraph.backends.neo4j.LazyNetwork): whole-store queries
    "lazy_npis": "MATCH (n:Physician) RETURN n.npi AS npi",
    "lazy_pairs": (
        "MATCH (a:Physician)-[r:REFERRED]->(b:Physician) "
        "WITH a, b, sum(r.count) AS vol, "
        "CASE WHEN count(r.patients) = 0 THEN null ELSE sum(r.patients) END AS pat "
        "RETURN count(*) AS edges, sum(CASE WHEN a <> b THEN 1 ELSE 0 END) AS loopless, "
        "sum(CASE WHEN a <> b AND EXISTS { (b)-[:REFERRED]->(a) } THEN 1 ELSE 0 END) AS mutual, "
        "sum(vol) AS volume, sum(pat) AS patients, count(pat) AS has_patients"
    ),
    "lazy_isolates": (
        "MATCH (p:Physician) WHERE NOT EXISTS { (p)-[:REFERRED]-(q:Physician) WHERE q <> p } "
        "RETURN count(p) AS c"
    ),
    "lazy_volumes": (
        "MATCH (a:Physician)-[r:REFERRED]->(b:Physician) "
        "WITH a, b, sum(coalesce(r[$weight], 0.0)) AS w RETURN DISTINCT toFloat(w) AS w"
    ),
    "lazy_present": "MATCH (p:Physician) WHERE p.npi IN $ids RETURN p.npi AS npi",
    "lazy_write_back": "UNWIND $rows AS r MATCH (n:Physician {npi: r.id}) SET n += r.props",
    # The latest flow period end, event date and touchpoint date with their holders (a
    # sub-network read with them has the store's latest date, the tie model's default
    # as_of): one pass over each kind. ORDER BY and max() order values alike; the ends are
    # read for the row kept only, not for every row sorted.
    "lazy_latest": (
        "CALL () { MATCH ()-[f:REFERRED]->() WHERE f.period_end IS NOT NULL "
        "WITH f ORDER BY f.period_end DESC LIMIT 1 "
        "RETURN [startNode(f).npi, endNode(f).npi] AS x, f.period_end AS d UNION "
        "MATCH (e:ReferralEvent) WHERE e.date IS NOT NULL WITH e ORDER BY e.date DESC LIMIT 1 "
        "RETURN [e.source_npi, e.target_npi] AS x, e.date AS d UNION "
        "MATCH (t:Touchpoint) WHERE t.date IS NOT NULL WITH t ORDER BY t.date DESC LIMIT 1 "
        "RETURN [t.npi] AS x, t.date AS d } RETURN x, d"
    ),
    "lazy_touchpoint_npis": "MATCH (t:Touchpoint) RETURN DISTINCT t.npi AS npi",
    "lazy_touchpoint_notes": (
        "MATCH (t:Touchpoint) WHERE t.notes IS NOT NULL RETURN t.npi AS npi, t.notes AS notes"
    ),
    # One step of the tie-graph neighbourhood (with "neighbours" for the flows): partners by
    # referral events either way (one scan), colleagues in practices of <= $colleagues.
    "lazy_event_partners": (
        "MATCH (e:ReferralEvent) WHERE e.source_npi IN $ids RETURN e.target_npi AS npi "
        "UNION MATCH (e:ReferralEvent) WHERE e.target_npi IN $ids RETURN e.source_npi AS npi"
    ),
    # (Every practice lookup below seeks p by NPI, then q by practice id in a subquery;
    # unhinted, the planner scanned the whole practice_id index once per NPI.)
    "lazy_colleagues": (
        "UNWIND $ids AS id MATCH (p:Physician {npi: id}) USING INDEX SEEK p:Physician(npi) "
        "WHERE p.practice_id IS NOT NULL WITH DISTINCT p.practice_id AS pid "
        "CALL (pid) { MATCH (q:Physician {practice_id: pid}) "
        "RETURN q.npi AS npi LIMIT $colleagues + 1 } "
        "WITH pid, collect(npi) AS c WHERE size(c) <= $colleagues "
        "UNWIND c AS npi RETURN DISTINCT npi"
    ),
    # The tie edges of $ids, as (id, partner) pairs, each kind an index seek per NPI (the
    # meet-in-the-middle reads of intro_paths): flows either way, events either way,
    # colleagues in practices of <= $colleagues physicians.
    "lazy_flow_edges": (
        "UNWIND $ids AS id MATCH (s:Physician {npi: id})-[:REFERRED]-(q:Physician) "
        "USING INDEX SEEK s:Physician(npi) RETURN DISTINCT id, q.npi AS npi"
    ),
    "lazy_event_edges": (
        "UNWIND $ids AS id CALL (id) { MATCH (e:ReferralEvent {source_npi: id}) "
        "RETURN e.target_npi AS npi UNION MATCH (e:ReferralEvent {target_npi: id}) "
        "RETURN e.source_npi AS npi } RETURN DISTINCT id, npi"
    ),
    "lazy_colleague_edges": (
        "UNWIND $ids AS id MATCH (p:Physician {npi: id}) USING INDEX SEEK p:Physician(npi) "
        "WHERE p.practice_id IS NOT NULL "
        "WITH id, p.practice_id AS pid CALL (pid) { MATCH (q:Physician {practice_id: pid}) "
        "RETURN q.npi AS npi LIMIT $colleagues + 1 } "
        "WITH id, collect(npi) AS c WHERE size(c) <= $colleagues "
        "UNWIND c AS npi RETURN id, npi"
    ),
    # Up to $limit members of each practice of $ids (with $ids themselves: the practice
    # sizes read back then compare with the colleague rule's bound as the store's do).
    "lazy_some_practice_members": (
        "UNWIND $ids AS id MATCH (p:Physician {npi: id}) USING INDEX SEEK p:Physician(npi) "
        "WHERE p.practice_id IS NOT NULL WITH DISTINCT p.practice_id AS pid "
        "CALL (pid) { MATCH (q:Physician {practice_id: pid}) "
        "RETURN q.npi AS npi LIMIT $limit } RETURN DISTINCT npi"
    ),
    # Every member of the practices of $ids (so that practice sizes read back are the store's).
    "lazy_practice_members": (
        "UNWIND $ids AS id MATCH (p:Physician {npi: id}) USING INDEX SEEK p:Physician(npi) "
        "WHERE p.practice_id IS NOT NULL WITH DISTINCT p.practice_id AS pid "
        "CALL (pid) { MATCH (q:Physician {practice_id: pid}) RETURN q.npi AS npi } "
        "RETURN DISTINCT npi"
    ),
    "gds_project_all": (
        "MATCH (s:Physician) OPTIONAL MATCH (s)-[r:REFERRED]->(t:Physician) " + _PROJECT
    ),
    "gds_wcc": (
        "CALL gds.wcc.stream($graph) YIELD componentId "
        "WITH componentId, count(*) AS size RETURN count(*) AS components, max(size) AS largest"
    ),
    "partners_all": (
        "MATCH (p:Physician)-[r:REFERRED]-(q:Physician) WHERE p <> q "
        "RETURN p.npi AS npi, count(DISTINCT q) AS degree, "
        "CASE WHEN count(r.patients) = 0 THEN null ELSE sum(r.patients) END AS shared"
    ),
    "gds_version": "RETURN gds.version() AS v",
    "gds_exists": "CALL gds.graph.exists($graph) YIELD exists RETURN exists",
    "partners": (
        "MATCH (p:Physician)-[r:REFERRED]-(q:Physician) WHERE p.npi IN $ids AND q.npi IN $ids "
        "AND p <> q RETURN p.npi AS npi, count(DISTINCT q) AS degree, "
        "CASE WHEN count(r.patients) = 0 THEN null ELSE sum(r.patients) END AS shared"
    ),
    "gds_project": (
        "MATCH (s:Physician) WHERE s.npi IN $ids "
        "OPTIONAL MATCH (s)-[r:REFERRED]->(t:Physician) WHERE t.npi IN $ids " + _PROJECT
    ),
    # A projection of the network's own flows, shipped as parameter lists of NPIs and
    # summed weights (used when the network is not the store's induced sub-graph).
    "gds_project_pairs": (
        "UNWIND range(0, size($s) - 1) AS i MATCH (s:Physician {npi: $s[i]}) "
        "OPTIONAL MATCH (t:Physician {npi: $t[i]}) WITH s, t, toFloat($w[i]) AS w "
        "WITH gds.graph.project($graph, s, t, "
        "{relationshipProperties: CASE WHEN t IS NULL THEN {} ELSE "
        "{weight: w, cost: CASE WHEN w > 0 THEN $scale / w ELSE 1.0e12 END} END}, "
        "{undirectedRelationshipTypes: $undirected}) AS g "
        "RETURN g.nodeCount AS nodes, g.relationshipCount AS rels"
    ),
    # The store's change marker: every write and delete through refgraph sets a new
    # random one (random, not a counter, so that deleting everything cannot repeat one).
    "bump_version": "MERGE (m:RefgraphTable {name: '_store'}) SET m.version = randomUUID()",
    "read_version": (
        "OPTIONAL MATCH (m:RefgraphTable {name: '_store'}) RETURN coalesce(m.version, '') AS v"
    ),
    "gds_drop": "CALL gds.graph.drop($graph, false) YIELD graphName RETURN graphName",
    "gds_pagerank": (
        "CALL gds.pageRank.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    "gds_betweenness": (
        "CALL gds.betweenness.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    "gds_louvain": (
        "CALL gds.louvain.stream($graph, $config) YIELD nodeId, communityId "
        "RETURN gds.util.asNode(nodeId).npi AS npi, communityId AS community"
    ),
    "gds_leiden": (
        "CALL gds.leiden.stream($graph, $config) YIELD nodeId, communityId "
        "RETURN gds.util.asNode(nodeId).npi AS npi, communityId AS community"
    ),
    "gds_degree": (
        "CALL gds.degree.stream($graph, $config) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    "gds_pagerank_personal": (
        "OPTIONAL MATCH (p:Physician) WHERE p.npi IN $sources WITH collect(p) AS src "
        "WITH $config AS c, src "
        "CALL gds.pageRank.stream($graph, c {.*, sourceNodes: src}) YIELD nodeId, score "
        "RETURN gds.util.asNode(nodeId).npi AS npi, score"
    ),
    # intro_paths: a projection built only from parameter lists of integer node ids
    # (a layered copy of the tie graph, see Neo4jBackend._intro_paths).
    "gds_project_arcs": (
        "UNWIND range(0, size($s) - 1) AS i "
        "WITH gds.graph.project($graph, $s[i], $t[i], {relationshipProperties: {cost: $c[i]}}) "
        "AS g RETURN g.nodeCount AS nodes, g.relationshipCount AS rels"
    ),
    "gds_yens_many": (
        "UNWIND $jobs AS job CALL gds.shortestPath.yens.stream($graph, job) "
        "YIELD index, totalCost, nodeIds "
        "RETURN job.targetNode AS target, index, totalCost, nodeIds ORDER BY target, index"
    ),
    "gds_yens": (
        "CALL gds.shortestPath.yens.stream($graph, $config) YIELD index, totalCost, nodeIds "
        "RETURN index, totalCost, nodeIds ORDER BY index"
    ),
}

#: Which ends of a flow (or event) must be among the selected ``$ids``, per
#: ``flows=`` mode of a selection (fixed whitelist; the mode is never Cypher text).
_ENDS: dict[str, str] = {
    "both": "{a} IN $ids AND {b} IN $ids",
    "either": "{a} IN $ids OR {b} IN $ids",
    "from": "{a} IN $ids",
    "to": "{b} IN $ids",
}
#: What a node read returns: the whole property map, or the values of ``$keys``
#: in that order (value lists are much cheaper to decode than one map per row).
#: The values of ``$keys`` of element ``{v}``; where ``$iso[i]`` is true (tz-naive datetime
#: columns) the value comes as its ISO text, which pandas parses in one vectorised pass,
#: instead of a driver ``Date`` object built in Python for each value.
_VALS = (
    "[i IN range(0, size($keys) - 1) | "
    "CASE WHEN $iso[i] THEN toString({v}[$keys[i]]) ELSE {v}[$keys[i]] END]"
)
_RETURNS = {"": "RETURN properties(n) AS p", "_values": f"RETURN {_VALS.format(v='n')} AS vals"}
for _suffix, _ret in _RETURNS.items():
    _Q[f"read_Physician{_suffix}"] = (
        f"MATCH (n:Physician) WHERE $ids IS NULL OR n.npi IN $ids {_ret}"
    )
    _Q[f"read_Practice{_suffix}"] = (
        f"MATCH (n:Practice) WHERE $ids IS NULL OR n.practice_id IN $ids {_ret}"
    )
    _Q[f"read_Touchpoint{_suffix}"] = (
        f"MATCH (n:Touchpoint) WHERE $ids IS NULL OR n.npi IN $ids {_ret}"
    )
for _mode, _cond in _ENDS.items():
    _f = _cond.format(a="a.npi", b="b.npi")
    _e = _cond.format(a="n.source_npi", b="n.target_npi")
    for _suffix, _ret in _RETURNS.items():
        _Q[f"read_ReferralEvent_{_mode}{_suffix}"] = (
            f"MATCH (n:ReferralEvent) WHERE $ids IS NULL OR ({_e}) {_ret}"
        )
    _Q[f"read_flows_{_mode}"] = (
        "MATCH (a:Physician)-[f:REFERRED]->(b:Physician) "
        f"WHERE $ids IS NULL OR ({_f}) "
        "RETURN a.npi AS source_npi, b.npi AS target_npi, properties(f) AS p"
    )
    _Q[f"read_flows_columns_{_mode}"] = (
        "MATCH (a:Physician)-[f:REFERRED]->(b:Physician) "
        f"WHERE $ids IS NULL OR ({_f}) "
        f"RETURN a.npi AS source_npi, b.npi AS target_npi, {_VALS.format(v='f')} AS vals"
    )
#: The reads above for a given list of ids (``name + "@ids"``), without the
#: ``$ids IS NULL OR`` branch: with it the planner cannot seek the ids through the
#: key's index and scans every node of the label, whatever the list's length.
# Seeks are forced where the index always exists (the keys' uniqueness constraints): on a
# small store the planner may otherwise prefer a scan. Flows follow, matched from the ends.
_SEEK = {"Physician": "npi", "Practice": "practice_id"}
for _name in [
    k
    for k, q in _Q.items()
    if isinstance(q, str) and "$ids IS NULL OR " in q and not k.startswith("read_flows")
]:
    _q = _Q[_name].replace("$ids IS NULL OR ", "")
    for _label, _key in _SEEK.items():
        _q = _q.replace(
            f"(n:{_label}) WHERE", f"(n:{_label}) USING INDEX SEEK n:{_label}({_key}) WHERE"
        )
    _Q[_name + "@ids"] = _q
# Flows are matched from the given end(s) explicitly (the planner may otherwise pick a
# scan of every relationship for an OR of the two ends).
_FROM = (
    "MATCH (a:Physician) USING INDEX SEEK a:Physician(npi) WHERE a.npi IN $ids "
    "MATCH (a)-[f:REFERRED]->(b:Physician) "
)
_TO = (
    "MATCH (b:Physician) USING INDEX SEEK b:Physician(npi) WHERE b.npi IN $ids "
    "MATCH (a:Physician)-[f:REFERRED]->(b) "
)
_ANCHORED = {
    "both": _FROM + "WHERE b.npi IN $ids ",
    "either": f"CALL () {{ {_FROM}RETURN a, f, b UNION {_TO}RETURN a, f, b }} ",
    "from": _FROM,
    "to": _TO,
}
for _mode, _match in _ANCHORED.items():
    _Q[f"read_flows_{_mode}@ids"] = (
        _match + "RETURN a.npi AS source_npi, b.npi AS target_npi, properties(f) AS p"
    )
    _Q[f"read_flows_columns_{_mode}@ids"] = (
        _match + f"RETURN a.npi AS source_npi, b.npi AS target_npi, {_VALS.format(v='f')} AS vals"
    )
# Whole-store reads in pages keyed by an indexed property (a range seek on the key's
# uniqueness index, in key order): each page is one record whose values are lists, so the
# driver decodes a few large messages instead of one message per row. See _page_statement.
for _label, _key in _LABELS.values():
    _Q[f"count_{_label}"] = f"MATCH (n:{_label}) RETURN count(n) AS c"


def _page_columns(iso: tuple[bool, ...], var: str, rows: str) -> str:
    """A Cypher list of one list per column: ``{var}[$keys[j]]`` over the elements ``rows``.

    Column ``j`` is named by the parameter ``$keys[j]`` (only the position is
    statement text); where ``iso[j]``, its values come as ISO text. A list
    comprehension keeps absent values as nulls (``collect`` would drop them).

    Examples
    --------
    >>> _page_columns((False, True), "x", "xs")
    '[[x IN xs | x[$keys[0]]], [x IN xs | toString(x[$keys[1]])]]'
    """
    get = [f"toString({var}[$keys[{j}]])" if t else f"{var}[$keys[{j}]]" for j, t in enumerate(iso)]
    cols = [f"[{var} IN {rows} | {g}]" for g in get]
    return "[" + ", ".join(cols) + "]"


def _page_statement(label: str, iso: tuple[bool, ...]) -> str:
    """The statement reading one page of a whole table (``label`` or ``"flows"``).

    Parameters ``$after`` (the last key of the previous page, ``""`` first),
    ``$page`` (rows, or for flows source physicians, per page) and ``$keys``
    (the stored columns, read in that order; ``iso``: which come as ISO text).
    The record holds ``n`` (rows or sources in the page), ``last`` (its last
    key) and ``cols`` (one list per key). For flows the page is the
    out-flows of ``$page`` source physicians in NPI order: ``npis`` are
    those sources, ``s`` each flow's source as a position in ``npis`` (a
    small integer instead of an NPI text per flow) and ``t`` its target's NPI.
    Each column is one list comprehension (no list per row, no transposition
    in the server: half the server time of the per-row form on 2M flows).

    Examples
    --------
    >>> "$keys[1]" in _page_statement("flows", (False, True))
    True
    """
    if label == "flows":
        return (
            "MATCH (a:Physician) WHERE a.npi > $after WITH a ORDER BY a.npi LIMIT $page "
            "WITH collect(a) AS src "
            "CALL (src) { UNWIND range(0, size(src) - 1) AS j WITH src[j] AS a, j "
            "MATCH (a)-[f:REFERRED]->(b:Physician) "
            "RETURN collect(j) AS s, collect(b.npi) AS t, collect(f) AS fs } "
            "RETURN size(src) AS n, src[-1].npi AS last, [x IN src | x.npi] AS npis, s, t, "
            f"{_page_columns(iso, 'r', 'fs')} AS cols"
        )
    key = dict(_LABELS.values())[label]
    return (
        f"MATCH (n:{label}) WHERE n.{key} > $after WITH n ORDER BY n.{key} LIMIT $page "
        f"WITH collect(n) AS ns RETURN size(ns) AS n, ns[-1].{key} AS last, "
        f"{_page_columns(iso, 'x', 'ns')} AS cols"
    )


# --- writes. A batch is parameter lists: the keys ``$ids`` (relationships: the end keys or,
# into an empty store, the ends' internal ids ``$s`` / ``$t``) and the other columns as
# ``$names`` / ``$cols`` (codes into ``$uniq`` where ``$coded``), set by name through a
# dynamic property key, so no column name is ever Cypher text.
_PROPS = (
    "FOREACH (j IN range(0, size($names) - 1) | SET {v}[$names[j]] = "
    "CASE WHEN $coded[j] THEN $uniq[j][$cols[j][i]] ELSE $cols[j][i] END)"
)
for _label, _key in _LABELS.values():
    # MERGE replaces all properties (as ``SET n = map`` did): the key, then the columns
    _Q[_label] = (
        f"UNWIND range(0, size($ids) - 1) AS i MERGE (n:{_label} {{{_key}: $ids[i]}}) "
        f"SET n = {{{_key}: $ids[i]}} {_PROPS.format(v='n')}"
    )
    # An empty store: CREATE needs no look-up; the internal ids come back for the
    # relationships of the same write.
    _Q[f"create_{_label}"] = (
        f"UNWIND range(0, size($ids) - 1) AS i CREATE (n:{_label} {{{_key}: $ids[i]}}) "
        "<props>RETURN collect(i) AS i, collect(id(n)) AS id"
    )
_Q["practices_at"] = (
    "UNWIND range(0, size($s) - 1) AS i MATCH (p:Physician {npi: $s[i]}) "
    "MATCH (o:Practice {practice_id: $t[i]}) MERGE (p)-[:PRACTICES_AT]->(o)"
)
_Q["create_practices_at"] = (
    "UNWIND range(0, size($s) - 1) AS i MATCH (p) WHERE id(p) = $s[i] AND p:Physician "
    "MATCH (o) WHERE id(o) = $t[i] AND o:Practice CREATE (p)-[:PRACTICES_AT]->(o)"
)
_Q["flows"] = (
    "UNWIND range(0, size($s) - 1) AS i MATCH (a:Physician {npi: $s[i]}) "
    "MATCH (b:Physician {npi: $t[i]}) MERGE (a)-[f:REFERRED {key: $ids[i]}]->(b) "
    f"SET f = {{key: $ids[i]}} {_PROPS.format(v='f')}"
)
_Q["create_flows"] = (
    "UNWIND range(0, size($s) - 1) AS i MATCH (a) WHERE id(a) = $s[i] AND a:Physician "
    "MATCH (b) WHERE id(b) = $t[i] AND b:Physician "
    "CREATE (a)-[f:REFERRED {key: $ids[i]}]->(b) <props>"
)
