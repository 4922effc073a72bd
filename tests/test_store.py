"""The saved-network folder: damaged folders fail loudly, saves are atomic.

Each damaged folder must give one :class:`refgraph.ValidationError` naming the folder
and the problem (never a third-party exception, never a network with a table silently
empty or short); a save killed at any moment, or overlapping a load, must leave the old
or the new network at the path.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refgraph
from refgraph import NotFoundError, ReferralNetwork, RefgraphError, ValidationError
from refgraph.datasets import synthetic_region

TABLE_FILES = ("physicians", "practices", "flows", "events", "touchpoints", "rejected")


def _with_rejects(net: ReferralNetwork) -> ReferralNetwork:
    bad = pd.DataFrame({"source_npi": ["not-an-npi"], "target_npi": ["1234567893"], "count": [1]})
    return net.add_flows(bad)


@pytest.fixture(scope="module")
def net_a() -> ReferralNetwork:
    return _with_rejects(synthetic_region(120, seed=1, events=True))


@pytest.fixture(scope="module")
def net_b() -> ReferralNetwork:
    return synthetic_region(150, seed=2, events=True)


def same(x: ReferralNetwork, y: ReferralNetwork) -> bool:
    """Equal tables (dtypes included) and equal rejects."""
    return x == y and x.rejected.equals(y.rejected)


def data_dir(folder: Path) -> Path:
    return folder / json.loads((folder / "refgraph.json").read_text())["data"]


def write_v1(net: ReferralNetwork, folder: Path) -> Path:
    """A folder as refgraph 0.1 wrote it: flat files, a manifest of row counts."""
    folder.mkdir()
    for name, df in net.tables.items():
        df.to_parquet(folder / f"{name}.parquet", index=False)
    net.rejected.to_parquet(folder / "rejected.parquet", index=False)
    manifest = {
        "format": "refgraph",
        "version": 1,
        "tables": {n: len(df) for n, df in net.tables.items()},
        "rejected": len(net.rejected),
    }
    (folder / "refgraph.json").write_text(json.dumps(manifest))
    return folder


# ------------------------------------------------------------------ round trip, layout
def test_round_trip_and_layout(net_a: ReferralNetwork, tmp_path: Path) -> None:
    folder = net_a.save(tmp_path / "net")
    assert same(refgraph.load(folder), net_a)
    manifest = json.loads((folder / "refgraph.json").read_text())
    assert manifest["version"] == 2 and manifest["coerced"] == {}
    for name in TABLE_FILES:
        assert manifest["files"][name]["rows"] == len(
            net_a.rejected if name == "rejected" else net_a.tables[name]
        )
    assert sorted(p.name for p in data_dir(folder).iterdir()) == sorted(
        f"{n}.parquet" for n in TABLE_FILES
    )
    # nothing but the folder was created beside it
    assert [p.name for p in tmp_path.iterdir()] == ["net"]


def test_overwrite_keeps_one_old_generation(
    net_a: ReferralNetwork, net_b: ReferralNetwork, tmp_path: Path
) -> None:
    folder = tmp_path / "net"
    net_a.save(folder)
    with pytest.raises(ValidationError, match="exists; pass overwrite=True"):
        net_b.save(folder)
    assert same(refgraph.load(folder), net_a)
    for i, net in enumerate([net_b, net_a, net_b, net_b]):
        net.save(folder, overwrite=True)
        assert same(refgraph.load(folder), net)
        gens = [p for p in folder.iterdir() if p.name.startswith("data-")]
        # the current generation and the one before it (for readers still reading it)
        assert len(gens) == 2, (i, gens)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValidationError, match="not a saved refgraph network"):
        net_a.save(tmp_path / "file", overwrite=True)
    assert (tmp_path / "file").read_text() == "x"


def test_format_1_folders_load_and_are_upgraded(
    net_a: ReferralNetwork, net_b: ReferralNetwork, tmp_path: Path
) -> None:
    folder = write_v1(net_a, tmp_path / "old")
    assert same(refgraph.load(folder), net_a)
    net_b.save(folder, overwrite=True)
    assert same(refgraph.load(folder), net_b)
    # the flat files stay one generation (a reader may still be reading them) ...
    assert (folder / "flows.parquet").exists()
    net_b.save(folder, overwrite=True)
    # ... and are gone after the next save
    assert not (folder / "flows.parquet").exists()
    assert same(refgraph.load(folder), net_b)


# ------------------------------------------------------------------ damaged folders
def test_missing_table(net_a: ReferralNetwork, tmp_path: Path) -> None:
    folder = net_a.save(tmp_path / "net")
    (data_dir(folder) / "touchpoints.parquet").unlink()
    with pytest.raises(ValidationError, match=r"net: touchpoints\.parquet is missing"):
        refgraph.load(folder)
    old = write_v1(net_a, tmp_path / "old")
    (old / "events.parquet").unlink()
    with pytest.raises(ValidationError, match=r"old: events\.parquet is missing"):
        refgraph.load(old)


def test_shorter_table(net_a: ReferralNetwork, tmp_path: Path) -> None:
    folder = net_a.save(tmp_path / "net")
    net_a.flows.head(5).to_parquet(data_dir(folder) / "flows.parquet", index=False)
    with pytest.raises(ValidationError, match=r"flows\.parquet does not match its checksum"):
        refgraph.load(folder)
    # format 1 has no checksums: the row count catches it
    old = write_v1(net_a, tmp_path / "old")
    net_a.flows.head(5).to_parquet(old / "flows.parquet", index=False)
    with pytest.raises(
        ValidationError, match=rf"flows\.parquet has 5 rows; refgraph\.json says {net_a.n_flows}"
    ):
        refgraph.load(old)


def test_swapped_tables(net_a: ReferralNetwork, tmp_path: Path) -> None:
    folder = net_a.save(tmp_path / "net")
    d = data_dir(folder)
    (d / "flows.parquet").rename(d / "tmp")
    (d / "events.parquet").rename(d / "flows.parquet")
    (d / "tmp").rename(d / "events.parquet")
    with pytest.raises(ValidationError, match="does not match its checksum"):
        refgraph.load(folder)
    old = write_v1(net_a, tmp_path / "old")
    shutil.copy(old / "physicians.parquet", old / "practices.parquet")
    with pytest.raises(ValidationError, match=r"old: practices\.parquet has \d+ rows"):
        refgraph.load(old)
    # same length, wrong table: the columns give it away
    old2 = write_v1(net_a, tmp_path / "old2")
    net_a.flows.rename(columns={"source_npi": "npi"}).to_parquet(old2 / "flows.parquet")
    with pytest.raises(ValidationError, match=r"flows\.parquet lacks the columns \['source_npi'\]"):
        refgraph.load(old2)


def test_wrong_dtype_in_format_1(net_a: ReferralNetwork, tmp_path: Path) -> None:
    old = write_v1(net_a, tmp_path / "old")
    net_a.flows.astype({"count": "float64"}).to_parquet(old / "flows.parquet", index=False)
    with pytest.raises(ValidationError, match=r"flows\.parquet has wrong dtypes: count: float64"):
        refgraph.load(old)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"damaged manifest refgraph\.json \(Expecting"),
        ("", "damaged manifest"),
        ("\xff\xfe", "damaged manifest"),
        ('{"format": "refgraph", "version": 99}', "written by a newer refgraph .format 99"),
        ('{"format": "refgraph", "version": "2"}', r"damaged manifest refgraph\.json \(version"),
        ('{"format": "refgraph", "version": 2}', r"damaged manifest .*data or files entry"),
        ('{"format": "refgraph", "version": 2, "data": "../x", "files": {}}', "data or files"),
        ('{"format": "refgraph", "version": 1}', r"damaged manifest .*no tables entry"),
        ("[1, 2]", "not a refgraph network folder: .* has format 'list'"),
        ('{"name": "my project"}', "not a refgraph network folder: .* format None"),
    ],
)
def test_damaged_manifest(net_a: ReferralNetwork, tmp_path: Path, text: str, message: str) -> None:
    folder = net_a.save(tmp_path / "net")
    (folder / "refgraph.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(ValidationError, match=message):
        refgraph.load(folder)


def test_manifest_rows_that_lie(net_a: ReferralNetwork, tmp_path: Path) -> None:
    folder = net_a.save(tmp_path / "net")
    manifest = json.loads((folder / "refgraph.json").read_text())
    manifest["files"]["events"]["rows"] += 1
    (folder / "refgraph.json").write_text(json.dumps(manifest))
    with pytest.raises(ValidationError, match=r"events\.parquet has \d+ rows; refgraph\.json says"):
        refgraph.load(folder)


def test_manifest_columns_that_lie(
    net_a: ReferralNetwork, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = net_a.save(tmp_path / "net")
    path = folder / "refgraph.json"
    good = json.loads(path.read_text())
    bad = json.loads(path.read_text())
    bad["files"]["flows"]["columns"][0][0] = "from_npi"
    path.write_text(json.dumps(bad))
    with pytest.raises(ValidationError, match=r"flows\.parquet has the columns \['source_npi'"):
        refgraph.load(folder)
    # a dtype that differs while the file is byte for byte the one saved (another pandas
    # reading it differently) is reported in the log, not refused
    bad = json.loads(json.dumps(good))
    bad["files"]["flows"]["columns"][2][1] = "float64"
    path.write_text(json.dumps(bad))
    with caplog.at_level("WARNING", logger="refgraph.io._store"):
        assert same(refgraph.load(folder), net_a)
    assert "flows.parquet: dtypes read differently than saved: count: Int64" in caplog.text
    # without a checksum the dtype must match
    del bad["files"]["flows"]["sha256"]
    path.write_text(json.dumps(bad))
    with pytest.raises(ValidationError, match=r"flows\.parquet dtypes differ from .*count: Int64"):
        refgraph.load(folder)


def test_damaged_parquet(net_a: ReferralNetwork, tmp_path: Path) -> None:
    folder = net_a.save(tmp_path / "net")
    f = data_dir(folder) / "physicians.parquet"
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(ValidationError, match="does not match its checksum"):
        refgraph.load(folder)
    old = write_v1(net_a, tmp_path / "old")
    f = old / "physicians.parquet"
    f.write_bytes(f.read_bytes()[:-20])
    with pytest.raises(ValidationError, match=r"old: physicians\.parquet is not readable Parquet"):
        refgraph.load(old)


def test_foreign_folders(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    pd.DataFrame({"a": [1]}).to_parquet(other / "flows.parquet")
    with pytest.raises(ValidationError, match=r"not a refgraph network folder: .* no refgraph"):
        refgraph.load(other)
    (tmp_path / "file.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValidationError, match=r"not a refgraph network folder: .* is a file"):
        refgraph.load(tmp_path / "file.parquet")
    with pytest.raises(NotFoundError, match="does not exist"):
        refgraph.load(tmp_path / "nowhere")


# ------------------------------------------------------------------ what can be stored
def test_mixed_type_extra_column_is_saved_as_text(tmp_path: Path) -> None:
    a, b, c = "1234567893", "1003033051", "1154584084"
    flows = pd.DataFrame(
        {
            "source_npi": [a, a, b],
            "target_npi": [b, c, c],
            "count": [1, 2, 3],
            "mixed": [1, "x", None],
            "plain": ["u", "v", "w"],
        }
    )
    net = ReferralNetwork.from_frames(flows=flows)
    assert net.flows["mixed"].dtype == object  # accepted at ingest as it is
    folder = net.save(tmp_path / "net")
    assert [p.name for p in tmp_path.iterdir()] == ["net"]  # no temporary folder left
    assert json.loads((folder / "refgraph.json").read_text())["coerced"] == {"flows": ["mixed"]}
    back = refgraph.load(folder)
    assert back.flows["mixed"].tolist() == ["1", "x", pd.NA]
    assert str(back.flows["mixed"].dtype) == "string"
    pd.testing.assert_frame_equal(back.flows.drop(columns="mixed"), net.flows.drop(columns="mixed"))
    # saving what was loaded is a fixed point
    again = refgraph.load(back.save(tmp_path / "again"))
    assert same(again, back)


def test_failed_save_leaves_nothing_behind(net_a: ReferralNetwork, tmp_path: Path) -> None:
    flows = net_a.flows.assign(**{"7": 1}).rename(columns={"7": 7})
    net = ReferralNetwork.from_frames(flows=flows)
    assert 7 in net.flows.columns
    with pytest.raises(ValidationError, match=r"flows: column names must be text .* \[7\]"):
        net.save(tmp_path / "net")
    assert list(tmp_path.iterdir()) == []
    good = net_a.save(tmp_path / "net")
    with pytest.raises(ValidationError, match="column names must be text"):
        net.save(good, overwrite=True)
    assert same(refgraph.load(good), net_a)


def test_stray_temporary_folders_are_removed(net_a: ReferralNetwork, tmp_path: Path) -> None:
    import socket

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = socket.gethostname()
    stray = tmp_path / f".net.refgraph-tmp-{host}-{dead.pid}-abcd1234"
    live = tmp_path / f".net.refgraph-tmp-{host}-{os.getpid()}-abcd1234"
    stray.mkdir()
    live.mkdir()
    folder = net_a.save(tmp_path / "net")
    assert not stray.exists()
    assert live.exists()  # a save still running in a live process is left alone
    (folder / "data-0123456789abcdef").mkdir()  # a generation a killed save left
    (folder / ".refgraph.json.tmp-00ff").write_text("{")
    net_a.save(folder, overwrite=True)
    assert not (folder / "data-0123456789abcdef").exists()
    assert not (folder / ".refgraph.json.tmp-00ff").exists()
    assert same(refgraph.load(folder), net_a)


# ------------------------------------------------------------------ crashes and readers
KILL_AT_CALL = textwrap.dedent(
    """
    import os, signal, sys
    import refgraph
    net = refgraph.load(sys.argv[1])
    target, kill_at = sys.argv[2], int(sys.argv[3])
    calls = 0
    def counted(f):
        def g(*args, **kwargs):
            global calls
            calls += 1
            if calls == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return f(*args, **kwargs)
        return g
    os.fsync, os.replace, os.rename = counted(os.fsync), counted(os.replace), counted(os.rename)
    net.save(target, overwrite=True)
    print(calls)
    """
)


def _run(code: str, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("fresh", [False, True], ids=["overwrite", "first-save"])
def test_killed_at_every_durable_step(
    net_a: ReferralNetwork, net_b: ReferralNetwork, tmp_path: Path, fresh: bool
) -> None:
    source = net_b.save(tmp_path / "source")
    target = tmp_path / "target"
    probe = tmp_path / "probe"
    if not fresh:
        net_a.save(probe)
    done = _run(KILL_AT_CALL, source, probe, 0)
    assert done.returncode == 0, done.stderr
    steps = int(done.stdout)  # fsync/replace/rename calls of one save
    assert steps >= 8
    seen = []
    for kill_at in range(1, steps + 1):
        if target.exists():
            shutil.rmtree(target)
        if not fresh:
            net_a.save(target)
        proc = _run(KILL_AT_CALL, source, target, kill_at)
        assert proc.returncode == -signal.SIGKILL, (kill_at, proc.stderr)
        if fresh and not target.exists():
            seen.append("none")
        else:
            back = refgraph.load(target)
            assert same(back, net_b) or (not fresh and same(back, net_a)), kill_at
            seen.append("new" if same(back, net_b) else "old")
        # the next save cleans up whatever the killed one left and succeeds
        net_b.save(target, overwrite=True)
        assert same(refgraph.load(target), net_b)
        assert [p.name for p in tmp_path.iterdir() if "refgraph-tmp" in p.name] == []
    first = "none" if fresh else "old"
    # killed early the old state survives, killed after the swap the new one is there
    assert seen[0] == first and seen[-1] == "new" and set(seen) == {first, "new"}, seen


SAVE_BIG = textwrap.dedent(
    """
    import sys
    import refgraph
    net = refgraph.load(sys.argv[1])
    print("loaded", flush=True)
    while True:
        net.save(sys.argv[2], overwrite=True)
    """
)


def test_killed_at_random_moments(net_a: ReferralNetwork, tmp_path: Path) -> None:
    big = synthetic_region(800, seed=3, events=True)
    source = big.save(tmp_path / "source")
    t = time.perf_counter()
    big.save(tmp_path / "timing")
    one_save = time.perf_counter() - t
    target = net_a.save(tmp_path / "target")
    outcomes = []
    # moments spread over the first two saves of the loop; None: as soon as the
    # manifest has changed (the first save is through, the second one under way)
    for frac in (0.0, 0.1, 0.3, 0.6, 0.9, 1.3, 1.8, None):
        with subprocess.Popen(
            [sys.executable, "-c", SAVE_BIG, str(source), str(target)],
            stdout=subprocess.PIPE,
            text=True,
        ) as proc:
            before = (target / "refgraph.json").read_bytes()
            assert proc.stdout is not None and proc.stdout.readline().strip() == "loaded"
            if frac is None:
                while (target / "refgraph.json").read_bytes() == before:
                    time.sleep(0.001)
            else:
                time.sleep(frac * one_save)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        back = refgraph.load(target)
        assert same(back, big) or same(back, net_a)
        outcomes.append("new" if same(back, big) else "old")
        if outcomes[-1] == "new":
            net_a.save(target, overwrite=True)  # start from the old network again
    # killed at once the old network is there; killed after the swap the new one is
    assert outcomes[0] == "old" and outcomes[-1] == "new", outcomes


ALTERNATE = textwrap.dedent(
    """
    import sys, time
    import refgraph
    a, b = refgraph.load(sys.argv[1]), refgraph.load(sys.argv[2])
    print("ready", flush=True)
    stop = time.monotonic() + float(sys.argv[4])
    i = 0
    while time.monotonic() < stop:
        (a if i % 2 else b).save(sys.argv[3], overwrite=True)
        i += 1
    print(i)
    """
)


def test_loads_during_saves_see_one_network(
    net_a: ReferralNetwork, net_b: ReferralNetwork, tmp_path: Path
) -> None:
    src_a, src_b = net_a.save(tmp_path / "a"), net_b.save(tmp_path / "b")
    target = net_a.save(tmp_path / "target")
    seen = {"a": 0, "b": 0}
    with subprocess.Popen(
        [sys.executable, "-c", ALTERNATE, str(src_a), str(src_b), str(target), "6"],
        stdout=subprocess.PIPE,
        text=True,
    ) as writer:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        while writer.poll() is None:
            back = refgraph.load(target)
            if same(back, net_a):
                seen["a"] += 1
            else:
                assert same(back, net_b)
                seen["b"] += 1
        saves = int(writer.stdout.read())
    assert writer.returncode == 0
    assert saves >= 10 and seen["a"] > 0 and seen["b"] > 0, (saves, seen)


# ------------------------------------------------------------------ fuzz
@pytest.fixture(scope="module")
def saved(net_a: ReferralNetwork, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz") / "net"
    net_a.save(folder)
    net_a.save(folder, overwrite=True)  # two generations and the lock file
    return folder


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_fuzz_load(
    data: st.DataObject,
    saved: Path,
    net_a: ReferralNetwork,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("damaged") / "net"
    shutil.copytree(saved, folder)
    current = data_dir(folder).name
    names = [n for n in _files(folder) if n.startswith((current, "refgraph.json"))]
    for _ in range(data.draw(st.integers(1, 3), label="damages")):
        target = folder / data.draw(st.sampled_from(names), label="file")
        raw = bytearray(target.read_bytes())
        pos = data.draw(st.integers(0, max(len(raw) - 1, 0)), label="pos")
        how = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete", "zero"]))
        if how == "flip" and raw:
            raw[pos] ^= data.draw(st.integers(1, 255), label="mask")
        elif how == "truncate":
            del raw[pos:]
        elif how == "insert":
            raw[pos:pos] = data.draw(st.binary(min_size=1, max_size=16), label="bytes")
        elif how == "delete":
            del raw[pos : pos + data.draw(st.integers(1, 64), label="n")]
        elif how == "zero":
            raw[pos : pos + 8] = bytes(len(raw[pos : pos + 8]))
        target.write_bytes(bytes(raw))
    try:
        back = refgraph.load(folder)
    except RefgraphError as exc:
        assert "\n" not in str(exc)
        assert str(folder) in str(exc)
    else:
        assert same(back, net_a)
