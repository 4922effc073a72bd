"""Whole-store reads in concurrent key ranges (``read_streams``): the same tables as one stream."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError
from refgraph.backends.neo4j import Neo4jBackend
from test_neo4j import _random_network, assert_same_tables, make_npi

pytestmark = pytest.mark.neo4j

_TABLES = ("physicians", "practices", "flows", "events", "touchpoints")


def _backend(server: Any, streams: int) -> Neo4jBackend:
    return Neo4jBackend(server.uri, auth=server.auth, progress=False, read_streams=streams)


def _identical(a: ReferralNetwork, b: ReferralNetwork) -> None:
    """The same frames: rows in the same order, same index, columns and dtypes."""
    for t in _TABLES:
        pd.testing.assert_frame_equal(a.tables[t], b.tables[t], check_exact=True, obj=t)


@pytest.mark.parametrize("page", [3, 7, 10_000])
def test_streams_read_the_same_frames_as_one(
    neo4j_db: Neo4jBackend, neo4j_server: Any, monkeypatch: pytest.MonkeyPatch, page: int
) -> None:
    # small pages make every table cross many page and range boundaries; 10,000 keeps
    # every table in one page, so nothing is cut
    monkeypatch.setattr("refgraph.backends.neo4j._read._PAGE_NODES", page)
    monkeypatch.setattr("refgraph.backends.neo4j._read._PAGE_SOURCES", page)
    net = _random_network(3)
    neo4j_db.write(net)
    readers = {k: _backend(neo4j_server, k) for k in (1, 2, 3, 5)}
    try:
        one = readers[1].read()
        assert_same_tables(net, one)
        for k in (2, 3, 5):
            _identical(one, readers[k].read())
        # selections (value lists, not pages) agree too, whatever the stream count
        npis = list(net.physicians["npi"][:15])
        for flows in ("both", "either"):
            sel = readers[1].read(around=npis, hops=1, flows=flows)
            assert sel.n_flows > 0
            _identical(sel, readers[2].read(around=npis, hops=1, flows=flows))
        _identical(readers[1].read(specialty="cardiology"), readers[2].read(specialty="cardiology"))
    finally:
        for db in readers.values():
            db.close()


def test_ranges_are_cut_at_equal_node_counts(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from refgraph.backends.neo4j import _read

    monkeypatch.setattr(_read, "_PAGE_SOURCES", 4)
    net = _random_network(1)
    neo4j_db.write(net)
    npis = sorted(net.physicians["npi"])
    seen: list[tuple[str, str | None, int]] = []
    original = _read._read_range

    def spy(tx: Any, query: str, lo: str, hi: str | None, page: int, *rest: Any) -> Any:
        part = original(tx, query, lo, hi, page, *rest)
        if "REFERRED" in query:
            seen.append((lo, hi, len(part.npis)))
            assert ("$upto" in query) == (hi is not None)
        return part

    monkeypatch.setattr(_read, "_read_range", spy)
    for streams in (2, 3):
        seen.clear()
        neo4j_db.read_streams = streams
        neo4j_db.read()
        n = len(npis)
        cuts = [npis[n * k // streams - 1] for k in range(1, streams)]
        assert sorted(seen, key=lambda r: r[0]) == [
            (lo, hi, sum(lo < x <= (hi or "~") for x in npis))
            for lo, hi in zip(["", *cuts], [*cuts, None])
        ]
        assert sum(r[2] for r in seen) == n


def test_a_write_during_a_streamed_read(
    neo4j_db: Neo4jBackend, neo4j_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After the first key range has read its first page of flows, someone adds a
    # physician whose NPI sorts before every other (so no range reads it as a source) and
    # a flow to it from the last physician (read later by the second range, which waits
    # for the write): the flow's target, known only by its internal id, is looked up,
    # and the physicians table (read after the flows) has the new physician.
    from refgraph.backends.neo4j import _read

    monkeypatch.setattr(_read, "_PAGE_SOURCES", 3)
    net = _random_network(2)
    neo4j_db.write(net)
    npis = sorted(net.physicians["npi"])
    new = make_npi(0)
    assert new < npis[0]
    other = _backend(neo4j_server, 1)
    wrote = threading.Event()
    original = _read._read_range

    class Racing:  # the first range's transaction: writes before its second page
        def __init__(self, tx: Any) -> None:
            self.tx, self.pages = tx, 0

        def run(self, query: str, **params: Any) -> Any:
            self.pages += 1
            if self.pages == 2 and not wrote.is_set():
                other._write(
                    "MATCH (a:Physician {npi: $a}) CREATE (b:Physician {npi: $b}) "
                    "CREATE (a)-[:REFERRED {key: $a + '|' + $b, count: 5, "
                    "provenance: 'late'}]->(b)",
                    a=npis[-1],
                    b=new,
                )
                wrote.set()
            return self.tx.run(query, **params)

    def racing(tx: Any, query: str, lo: str, hi: str | None, *rest: Any) -> Any:
        if "REFERRED" in query:
            if lo == "":
                return original(Racing(tx), query, lo, hi, *rest)
            assert wrote.wait(60)
        return original(tx, query, lo, hi, *rest)

    monkeypatch.setattr(_read, "_read_range", racing)
    try:
        got = neo4j_db.read()
    finally:
        other.close()
    assert wrote.is_set()
    flows = got.flows
    row = flows[flows["target_npi"] == new]
    assert list(zip(row["source_npi"], row["count"], row["provenance"])) == [(npis[-1], 5, "late")]
    assert got.n_flows == net.n_flows + 1
    assert new in set(got.physicians["npi"])
    # everything else as written
    for t in _TABLES:
        x, y = net.tables[t], got.tables[t]
        if t == "flows":  # (the late flow's provenance is a category the others lack)
            y = y[y["target_npi"] != new]
            y = y.assign(provenance=y["provenance"].cat.remove_unused_categories())
        if t == "physicians":
            y = y[y["npi"] != new]
        keys = list(x.columns)
        pd.testing.assert_frame_equal(
            x.sort_values(keys, na_position="first").reset_index(drop=True),
            y.sort_values(keys, na_position="first").reset_index(drop=True),
            obj=t,
        )


def test_read_streams_must_be_positive(neo4j_server: Any) -> None:
    with pytest.raises(ValidationError, match="read_streams"):
        _backend(neo4j_server, 0)
