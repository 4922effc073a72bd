"""Bulk import into the dev server: the store must be indistinguishable from an online write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from refgraph import ReferralNetwork, ValidationError
from refgraph.backends.devserver import DevServerError, Neo4jDevServer, main
from refgraph.backends.neo4j import Neo4jBackend, write_import_files

_NODES = "MATCH (n) RETURN labels(n) AS l, properties(n) AS p"
_RELS = (
    "MATCH (a)-[r]->(b) RETURN type(r) AS t, coalesce(a.npi, '') AS a, "
    "coalesce(b.npi, b.practice_id) AS b, properties(r) AS p"
)
_CONSTRAINTS = (
    "SHOW CONSTRAINTS YIELD name, type, entityType, labelsOrTypes, properties "
    "RETURN name, type, entityType, labelsOrTypes, properties ORDER BY name"
)
_INDEXES = (
    "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties, owningConstraint "
    "WHERE name STARTS WITH 'refgraph' "
    "RETURN name, type, entityType, labelsOrTypes, properties, owningConstraint ORDER BY name"
)


def _typed(v: Any) -> Any:
    """A value with its Neo4j type, so ``1`` (long) and ``1.0`` (double) differ."""
    if isinstance(v, list):
        return ("list", tuple(_typed(x) for x in v))
    return (type(v).__name__, repr(v))


def _dump(db: Neo4jBackend) -> dict[str, Any]:
    """Everything in the store with value types, except the random change marker."""
    nodes = []
    for r in db._read(_NODES):
        props = {k: _typed(v) for k, v in r["p"].items() if k != "version"}
        nodes.append((tuple(r["l"]), tuple(sorted(props.items()))))
    rels = [
        (r["t"], r["a"], r["b"], tuple(sorted((k, _typed(v)) for k, v in r["p"].items())))
        for r in db._read(_RELS)
    ]
    return {
        "nodes": sorted(nodes),
        "rels": sorted(rels),
        "constraints": db._read(_CONSTRAINTS),
        "indexes": db._read(_INDEXES),
        "marker": db._read("MATCH (m:RefgraphTable {name: '_store'}) RETURN m.version AS v"),
    }


def _assert_same_tables(a: ReferralNetwork, b: ReferralNetwork) -> None:
    for t in ("physicians", "practices", "flows", "events", "touchpoints"):
        x, y = a.tables[t], b.tables[t]
        assert list(x.columns) == list(y.columns), t
        assert list(x.dtypes.astype(str)) == list(y.dtypes.astype(str)), t
        if len(x) == 0 and len(y) == 0:
            continue
        keys = list(x.columns)
        xs = x.sort_values(keys, na_position="first").reset_index(drop=True)
        ys = y.sort_values(keys, na_position="first").reset_index(drop=True)
        pd.testing.assert_frame_equal(xs, ys, check_dtype=True, obj=t)


def _ckm(datasets_dir: Path) -> ReferralNetwork:
    from refgraph.datasets import ckm_network

    return ckm_network(datasets_dir / "ckm", aggregate=True)


def _synthetic(_: Path) -> ReferralNetwork:
    from refgraph.datasets import synthetic_region

    return synthetic_region(300, events=True, touchpoints=True)


def _tricky(_: Path) -> ReferralNetwork:
    """Text that CSV must quote, empty text, booleans, gaps and timestamps with a time."""
    from refgraph import npi_check_digit

    npis = [f"1{i:08d}" for i in range(4)]
    npis = [p + str(npi_check_digit(p)) for p in npis]
    phys = pd.DataFrame(
        {
            "npi": npis,
            "name": ['Dr "Quote", MD', "", "line\nbreak", None],
            "lat": [42.5, np.nan, 1e-5, -0.1],
            "board_certified": [True, False, True, False],
            "rating": [np.inf, 1.0, -np.inf, np.nan],
        }
    )
    flows = pd.DataFrame(
        {
            "source_npi": [npis[0], npis[1], npis[2]],
            "target_npi": [npis[1], npis[2], npis[0]],
            "count": [3, 1, 2],
            "period_start": ["2024-01-01", None, "2024-01-01"],
            "period_end": ["2024-12-31", None, "2024-12-31"],
            "provenance": ["cms", "crm, manual", None],
        }
    )
    events = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-02 10:30:00.123456", "2024-01-02 10:30:00.123456"]),
            "source_npi": [npis[0], npis[0]],
            "target_npi": [npis[1], npis[1]],
            "status": ["referred", "referred"],
        }
    )
    return ReferralNetwork.from_frames(physicians=phys, flows=flows, events=events)


@pytest.fixture
def store(neo4j_server: Neo4jDevServer):  # type: ignore[no-untyped-def]
    db = Neo4jBackend(neo4j_server.uri, auth=neo4j_server.auth, progress=False)
    db.delete(everything=True)
    try:
        yield db
    finally:
        db.delete(everything=True)
        db.close()


@pytest.mark.neo4j
@pytest.mark.datasets
@pytest.mark.parametrize("make", [_ckm, _synthetic, _tricky], ids=["ckm", "synthetic300", "tricky"])
def test_import_equals_online_write(
    neo4j_server: Neo4jDevServer, store: Neo4jBackend, datasets_dir: Path, make: Any
) -> None:
    from refgraph import centrality

    net = make(datasets_dir)
    store.write(net)
    online = _dump(store)
    online_net = store.read()
    online_pr = centrality.pagerank(online_net, tol=1e-12)

    counts = neo4j_server.import_network(net, overwrite=True)
    assert counts == store.counts()
    assert counts["flows"] == net.n_flows and counts["physicians"] == net.n_physicians
    imported = _dump(store)
    # every node and relationship, property by property with its Neo4j type
    assert imported["nodes"] == online["nodes"]
    assert imported["rels"] == online["rels"]
    assert imported["constraints"] == online["constraints"]
    assert len(imported["constraints"]) == 5
    assert imported["indexes"] == online["indexes"]
    # a new change marker, like any write
    assert imported["marker"][0]["v"] and imported["marker"] != online["marker"]

    back = store.read()
    _assert_same_tables(online_net, back)
    _assert_same_tables(net, back)
    pr = centrality.pagerank(back, tol=1e-12)  # GDS on the imported store
    np.testing.assert_allclose(
        pr.loc[online_pr.index, "pagerank"], online_pr["pagerank"], rtol=1e-9, atol=1e-12
    )
    memory = centrality.pagerank(net, tol=1e-12)
    np.testing.assert_allclose(
        pr.loc[memory.index, "pagerank"], memory["pagerank"], rtol=1e-4, atol=1e-7
    )


@pytest.mark.neo4j
def test_import_from_saved_folder(
    neo4j_server: Neo4jDevServer, store: Neo4jBackend, tmp_path: Path
) -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(60, seed=3)
    folder = net.save(tmp_path / "net")
    counts = neo4j_server.import_network(folder)  # the store is empty: no overwrite needed
    assert counts["flows"] == net.n_flows
    _assert_same_tables(net, store.read())


@pytest.mark.neo4j
def test_bad_input_leaves_the_server_and_its_data(
    neo4j_server: Neo4jDevServer, store: Neo4jBackend, tmp_path: Path
) -> None:
    from refgraph.datasets import synthetic_region

    net = synthetic_region(40, seed=4)
    store.write(net)
    before = store.counts()
    pid = neo4j_server.pid
    not_a_network = tmp_path / "notes"
    not_a_network.mkdir()
    (not_a_network / "readme.txt").write_text("hello")
    with pytest.raises(ValidationError, match="notes"):
        neo4j_server.import_network(not_a_network, overwrite=True)
    # the store holds data: refused without overwrite
    with pytest.raises(DevServerError, match="overwrite=True"):
        neo4j_server.import_network(net)
    assert neo4j_server.pid == pid and neo4j_server.is_running()
    assert store.counts() == before

    # the admin tool itself fails: the server runs again on its previous store
    with pytest.raises(DevServerError, match="import full failed"):
        neo4j_server.import_network(
            synthetic_region(20, seed=5), overwrite=True, admin_options=["--no-such-option"]
        )
    assert neo4j_server.is_running()
    assert store.counts() == before
    _assert_same_tables(net, store.read())


@pytest.mark.neo4j
def test_interrupted_import_leaves_the_store_and_can_run_again(
    neo4j_server: Neo4jDevServer, store: Neo4jBackend
) -> None:
    """The admin tool stopped mid-way (its timeout: the process is killed) puts the old
    store back; the same import then runs to the end."""
    from refgraph.datasets import synthetic_region

    old = synthetic_region(30, seed=7)
    store.write(old)
    before = _dump(store)
    new = synthetic_region(50, seed=8)
    with pytest.raises(DevServerError, match="did not finish"):
        neo4j_server.import_network(new, overwrite=True, timeout=0.5)  # the JVM alone takes longer
    assert neo4j_server.is_running()
    assert _dump(store) == before
    counts = neo4j_server.import_network(new, overwrite=True)
    assert counts["flows"] == new.n_flows and counts["physicians"] == new.n_physicians
    _assert_same_tables(new, store.read())


def _tool_memory_mib(server: Neo4jDevServer) -> float:
    """The off-heap budget the admin tool reports in its log (``Configured max memory``)."""
    import re

    assert server.home is not None
    log = (server.home / "logs" / "import.log").read_text(errors="replace")
    found = re.findall(r"Configured max memory: ([0-9.,]+) ?([KMGT]i?B)", log)
    assert found, log[-3000:]
    value, unit = found[-1]
    scale = {"KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "TiB": 1024.0**2}
    return float(value.replace(",", "")) * scale[unit.replace("iB", "") + "iB"]


@pytest.mark.neo4j
def test_import_memory_budget_reaches_the_admin_tool(
    neo4j_server: Neo4jDevServer, store: Neo4jBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """The admin tool runs with ``--max-off-heap-memory``: the server's page cache by
    default, else ``memory``; the tool's own log reports the budget it was given."""
    import logging

    from refgraph.datasets import synthetic_region

    net = synthetic_region(50, seed=9)
    caplog.set_level(logging.INFO, logger="refgraph.backends.devserver")
    for memory, option, mib in [
        (None, f"--max-off-heap-memory={neo4j_server.pagecache}", 256.0),
        ("300m", "--max-off-heap-memory=300m", 300.0),
    ]:
        caplog.clear()
        counts = neo4j_server.import_network(net, overwrite=True, memory=memory)
        assert counts["flows"] == net.n_flows
        command = [r.getMessage() for r in caplog.records if "Bulk import into" in r.getMessage()]
        assert len(command) == 1 and command[0].count("--max-off-heap-memory") == 1, command
        assert option in command[0].split()
        assert _tool_memory_mib(neo4j_server) == pytest.approx(mib, rel=0.01)
    assert neo4j_server.pagecache == "256m"  # the fixture's: the default above is its size
    _assert_same_tables(net, store.read())


def test_import_memory_budget_is_checked_before_anything_runs() -> None:
    from refgraph.datasets import synthetic_region

    server = Neo4jDevServer()  # never started: the checks come first
    net = synthetic_region(10, seed=1)
    for bad in ["lots", "0", "2x", "150%", "-1g"]:
        with pytest.raises(ValidationError, match="memory="):
            server.import_network(net, memory=bad)
    with pytest.raises(ValidationError, match="both set"):
        server.import_network(net, memory="1g", admin_options=["--max-off-heap-memory=2g"])
    with pytest.raises(DevServerError, match="not started"):  # accepted forms pass the check
        server.import_network(net, memory="25%")
    with pytest.raises(DevServerError, match="not started"):
        server.import_network(net, admin_options=["--max-off-heap-memory=2g"])


def test_cli_rejects_a_folder_that_is_not_a_network(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # fails before any server starts
    assert main(["--import", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(tmp_path) in err


def test_cli_rejects_a_bad_import_memory_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from refgraph.datasets import synthetic_region

    folder = synthetic_region(20, seed=2).save(tmp_path / "net")
    assert main(["--import", str(folder), "--import-memory", "lots"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "memory='lots'" in err


def test_import_files_refuse_mixed_types(tmp_path: Path) -> None:
    flows = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"], "count": [7]})
    net = ReferralNetwork.from_frames(flows=flows)
    write_import_files(net, tmp_path / "ok")
    with pytest.raises(ValidationError, match="holds import files already"):
        write_import_files(net, tmp_path / "ok")
    phys = net.physicians.assign(extra=pd.Series([1, "x"], dtype=object))
    mixed = ReferralNetwork.from_frames(physicians=phys, flows=flows)
    with pytest.raises(ValidationError, match="extra"):
        write_import_files(mixed, tmp_path / "mixed")


def _rows(path: Path) -> list[list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _flow_rows(folder: Path) -> list[list[str]]:
    """The flows file with its two node ids replaced by the NPIs of those nodes."""
    npi_of = {r[0]: r[1] for r in _rows(folder / "physicians.csv")}
    return [[npi_of[r[0]], npi_of[r[1]], *r[2:]] for r in _rows(folder / "flows.csv")]


def test_import_files_node_ids_are_store_positions(tmp_path: Path) -> None:
    """Nodes are numbered 0, 1, ... across all node files in the order of the options
    (``--id-type=actual``), each key kept as a text property, and every relationship's
    ends are the ids of the nodes with its NPIs / practice id."""
    from refgraph.datasets import synthetic_region

    net = synthetic_region(40, seed=6, events=True, touchpoints=True)
    options = write_import_files(net, tmp_path)
    assert "--id-type=actual" in options
    ids: list[int] = []
    key_of: dict[str, tuple[str, str]] = {}
    for o in options:
        if not o.startswith("--nodes="):
            continue
        label, files = o[len("--nodes=") :].split("=", 1)
        head, data = files.split(",")
        header = Path(head).read_text().strip().split(",")
        assert header[0] == ":ID" and header[1].endswith(":string")
        for r in _rows(Path(data)):
            ids.append(int(r[0]))
            key_of[r[0]] = (label, r[1])
    assert ids == list(range(len(ids)))
    assert (
        len(ids)
        == sum(len(net.tables[t]) for t in ("physicians", "practices", "events", "touchpoints")) + 6
    )
    flows = {(key_of[r[0]], key_of[r[1]]) for r in _rows(tmp_path / "flows.csv")}
    expected = {
        (("Physician", s), ("Physician", t))
        for s, t in zip(net.flows["source_npi"].astype(str), net.flows["target_npi"].astype(str))
    }
    assert flows == expected and len(flows) == net.n_flows
    links = {(key_of[r[0]], key_of[r[1]]) for r in _rows(tmp_path / "practices_at.csv")}
    phys = net.physicians.dropna(subset=["practice_id"])
    assert links == {
        (("Physician", n), ("Practice", p))
        for n, p in zip(phys["npi"].astype(str), phys["practice_id"].astype(str))
    }
    assert links  # the region has practices: the check above compared something


def test_import_files_chunked_equal_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Files written a few rows at a time are the files written in one piece, and the
    flows' key is the online writer's text (date-only and time-of-day periods alike)."""
    from refgraph import npi_check_digit

    npis = [f"1{i:08d}" for i in range(4)]
    npis = [p + str(npi_check_digit(p)) for p in npis]
    flows = pd.DataFrame(
        {
            "source_npi": [npis[0], npis[1], npis[2], npis[3], npis[0]],
            "target_npi": [npis[1], npis[2], npis[3], npis[0], npis[2]],
            "count": [3, 1, 2, 4, 5],
            "period_start": pd.to_datetime(
                ["2024-01-01 08:30", None, "2024-02-01", "2024-03-01", "2024-04-01"],
                format="mixed",
            ),
            "period_end": pd.to_datetime(
                ["2024-12-31", None, "2024-12-31", "2025-01-31", "2025-02-28"]
            ),
            "provenance": ["cms", None, 'say "x"', "", "a,b"],
            "score": [np.inf, -np.inf, 0.5, np.nan, 1e-7],
        }
    )
    net = ReferralNetwork.from_frames(flows=flows)
    whole = write_import_files(net, tmp_path / "whole")
    monkeypatch.setattr("refgraph.backends.neo4j._import._CHUNK", 2)
    parts = write_import_files(net, tmp_path / "parts")
    assert [o.split("=")[:2] for o in whole] == [o.split("=")[:2] for o in parts]
    for name in ("flows.csv", "flows.header.csv", "physicians.csv"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "parts" / name).read_bytes()
    header = (tmp_path / "parts" / "flows.header.csv").read_text().strip().split(",")
    assert header[3:] == [
        "count:long",
        "patients:long",
        "period_start:localdatetime",
        "period_end:date",
        "provenance:string",
        "score:double",
    ]
    got = {(r[0], r[1]): r for r in _flow_rows(tmp_path / "parts")}
    row = got[(npis[0], npis[1])]
    # the key: pandas' text of each key column, "|"-joined, missing values empty
    assert row[2] == "2024-01-01 08:30:00|2024-12-31|cms"
    assert row[5:] == ["2024-01-01T08:30:00.000000", "2024-12-31", "cms", "Infinity"]
    assert got[(npis[1], npis[2])][2:] == ["||", "1", "", "", "", "", "-Infinity"]
    assert got[(npis[2], npis[3])][2] == '2024-02-01 00:00:00|2024-12-31|say "x"'
    assert got[(npis[3], npis[0])][7:] == ["", ""]  # missing text and NaN: absent
    raw = (tmp_path / "parts" / "flows.csv").read_text()
    assert ',"say ""x""",' in raw and ',"a,b",' in raw  # text quoted, quotes doubled
