"""Online writes against a real server: column lists, coded columns, CREATE by internal ids."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork
from refgraph.backends.neo4j import Neo4jBackend
from test_neo4j import assert_same_tables as same_tables
from test_neo4j import make_npi

pytestmark = pytest.mark.neo4j


def mixed_network(n: int = 40) -> ReferralNetwork:
    """Columns of every kind the writer encodes differently, over ``n`` flows.

    ``provenance``, ``period_*`` and ``seen_at`` (date-times with a time of day) have few
    distinct values, so they travel as codes; ``note`` is distinct per row and ``weight``
    is a float with gaps, so they travel as values.
    """
    rng = np.random.default_rng(3)
    npis = [make_npi(i) for i in range(12)]
    phys = pd.DataFrame(
        {
            "npi": npis,
            "name": [f"Dr {i}" for i in range(12)],
            "specialty": ["cardiology", "urology", None] * 4,
            "practice_id": ["P1", "P2", None, "P9"] * 3,  # P9 has no practices row
            "lat": rng.normal(42, 0.1, 12),
            "lon": rng.normal(-71, 0.1, 12),
        }
    )
    prac = pd.DataFrame({"practice_id": ["P1", "P2"], "name": ["North", "South"]})
    k = n // 4
    src = rng.integers(0, 12, n)
    dst = (src + rng.integers(1, 12, n)) % 12
    flows = pd.DataFrame(
        {
            "source_npi": [npis[i] for i in src],
            "target_npi": [npis[i] for i in dst],
            "count": rng.integers(1, 50, n),
            "patients": pd.array([None if i % 7 == 0 else int(i) for i in range(n)], "Int64"),
            "period_start": pd.to_datetime(["2023-01-01", "2024-01-01"] * (n // 2)),
            "period_end": pd.to_datetime(["2023-12-31", "2024-12-31"] * (n // 2)),
            "provenance": [["cms", "crm", None][i % 3] for i in range(n)],
            "seen_at": pd.to_datetime(["2024-05-01 09:30", "2024-05-02 17:45", None, None] * k),
            "note": [f"note {i}" for i in range(n)],
            "weight": [np.nan if i % 5 == 0 else i / 3 for i in range(n)],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, practices=prac, flows=flows)


def practice_links(db: Neo4jBackend) -> list[tuple[str, str]]:
    rows = db._read(
        "MATCH (p:Physician)-[:PRACTICES_AT]->(o:Practice) RETURN p.npi AS a, o.practice_id AS b"
    )
    return sorted((r["a"], r["b"]) for r in rows)


def test_mixed_columns_round_trip_by_create_then_merge(neo4j_db: Neo4jBackend) -> None:
    net = mixed_network()
    neo4j_db.batch_size = 7  # several batches, a short last one
    neo4j_db.write(net)  # empty store: CREATE, ends by internal id
    same_tables(net, neo4j_db.read())
    assert "P9" not in set(net.practices["practice_id"])
    phys = net.physicians.dropna(subset=["practice_id"])
    want = sorted((a, b) for a, b in zip(phys["npi"], phys["practice_id"]) if b != "P9")
    assert len(want) == 6
    assert practice_links(neo4j_db) == want  # P9 (no practices row) links to nothing
    before = neo4j_db.counts()
    neo4j_db.write(net)  # now MERGE: nothing doubled, nothing changed
    assert neo4j_db.counts() == before
    assert practice_links(neo4j_db) == want
    same_tables(net, neo4j_db.read())


def test_merge_replaces_changed_values(neo4j_db: Neo4jBackend) -> None:
    net = mixed_network()
    neo4j_db.write(net)
    flows = net.flows.copy()
    flows["weight"] = np.nan  # every weight removed
    flows["note"] = "same for all"  # now few distinct values: sent as codes
    changed = ReferralNetwork.from_frames(
        physicians=net.physicians, practices=net.practices, flows=flows
    )
    neo4j_db.write(changed, mode="merge")
    same_tables(changed, neo4j_db.read())
    assert neo4j_db.counts()["flows"] == net.n_flows


def test_create_and_merge_store_the_same(neo4j_db: Neo4jBackend) -> None:
    net = mixed_network(24)
    neo4j_db.write(net)  # CREATE
    created = neo4j_db.read()
    neo4j_db.delete(everything=True)
    neo4j_db.write(net, mode="merge")  # MERGE into the same empty store
    merged = neo4j_db.read()
    same_tables(created, merged)
    same_tables(net, merged)


def stored_flows(db: Neo4jBackend) -> list[tuple[str, str, list[tuple[str, object]]]]:
    """Every REFERRED relationship as (source, target, sorted property items)."""
    rows = db._read(
        "MATCH (a:Physician)-[f:REFERRED]->(b:Physician) "
        "RETURN a.npi AS a, b.npi AS b, properties(f) AS p"
    )
    return sorted((r["a"], r["b"], sorted((k, str(v)) for k, v in r["p"].items())) for r in rows)


def test_create_names_model_columns_and_stores_what_merge_stores(neo4j_db: Neo4jBackend) -> None:
    # flows out of source order (the CREATE path sorts them by start node), model columns
    # named in the CREATE's map, extra ones (seen_at, note, weight) set by dynamic keys,
    # missing values of both kinds: the stored relationships are the MERGE path's exactly
    net = mixed_network(40)
    src = net.flows["source_npi"].tolist()
    assert src != sorted(src)
    neo4j_db.batch_size = 9
    neo4j_db.write(net)  # CREATE
    created = stored_flows(neo4j_db)
    neo4j_db.delete(everything=True)
    neo4j_db.write(net, mode="merge")
    assert stored_flows(neo4j_db) == created
    assert len(created) == net.n_flows
    # a missing value is no property at all (not a stored null) in both paths
    keys = [dict(p) for _, _, p in created]
    assert sum("patients" not in k for k in keys) == int(net.flows["patients"].isna().sum()) > 0
    assert sum("weight" not in k for k in keys) == int(net.flows["weight"].isna().sum()) > 0


def test_interrupted_create_write_resumes_without_duplicates(neo4j_db: Neo4jBackend) -> None:
    # the sorted, concurrent CREATE of flows stopped after its first round of batches:
    # whole batches are stored; running the write again (now MERGE) completes it exactly
    net = mixed_network(40)
    neo4j_db.batch_size = 6
    seen: list[int] = []

    def stop(what: str, n: int) -> None:
        if what == "flows":
            seen.append(n)
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        neo4j_db.write(net, on_batch=stop)
    partial = neo4j_db.counts()["flows"]
    assert 0 < partial < net.n_flows and partial % 6 == 0
    neo4j_db.write(net)
    assert neo4j_db.counts()["flows"] == net.n_flows
    same_tables(net, neo4j_db.read())


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_failed_concurrent_batch_leaves_whole_batches_and_resumes(
    neo4j_db: Neo4jBackend, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    # the fourth flows batch fails in the server's hands (as a dropped connection would):
    # the batches already running end as whole transactions, no new batch starts, and
    # the error reaches the caller; the re-run (MERGE) completes the store exactly
    from refgraph import BackendError

    net = mixed_network(60)
    neo4j_db.batch_size = 5
    neo4j_db.write_workers = workers
    calls: list[int] = []
    original = Neo4jBackend._write

    def failing(self: Neo4jBackend, query: str, **params: object) -> None:
        if "REFERRED" in query and query.startswith("UNWIND"):
            calls.append(len(params["s"]))  # type: ignore[arg-type]
            if len(calls) == 4:
                raise BackendError("Neo4j write failed: injected")
        original(self, query, **params)

    monkeypatch.setattr(Neo4jBackend, "_write", failing)
    reported: list[int] = []
    with pytest.raises(BackendError, match="injected"):
        neo4j_db.write(
            net, on_batch=lambda what, n: reported.append(n) if what == "flows" else None
        )
    partial = neo4j_db.counts()["flows"]
    # batches started: the three before the failure, and at most workers - 1 besides
    assert 4 <= len(calls) <= 3 + workers
    assert partial == 5 * (len(calls) - 1) and len(reported) <= len(calls) - 1
    monkeypatch.setattr(Neo4jBackend, "_write", original)
    neo4j_db.write(net)
    assert neo4j_db.counts()["flows"] == net.n_flows
    same_tables(net, neo4j_db.read())


class _Rows:
    def __init__(self, rows: list[list[object]]) -> None:
        self.rows = rows

    def values(self) -> list[list[object]]:
        return self.rows


class _Tx:
    """A stand-in read transaction that knows the NPIs of some internal ids."""

    def __init__(self, known: dict[int, str]) -> None:
        self.known, self.asked = known, []

    def run(self, query: str, ids: list[int]) -> _Rows:
        self.asked.append(list(ids))
        return _Rows([[i, self.known[i]] for i in ids if i in self.known])


def test_flow_targets_by_internal_id() -> None:
    npis = np.asarray(["n7", "n3", "n9"], dtype=object)  # pages' sources, internal ids 7, 3, 9
    tx = _Tx({11: "late"})
    got = Neo4jBackend._targets(tx, npis, [7, 3, 9], [3, 9, 3, 7, 11, 9])
    assert got.tolist() == ["n3", "n9", "n3", "n7", "late", "n9"]
    assert tx.asked == [[11]]  # only the target that is no page's source is looked up
    tx = _Tx({})
    assert Neo4jBackend._targets(tx, npis, [7, 3, 9], [9, 7]).tolist() == ["n9", "n7"]
    assert tx.asked == []
    assert Neo4jBackend._targets(tx, npis[:0], [], []).tolist() == []
