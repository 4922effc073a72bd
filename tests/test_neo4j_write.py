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
