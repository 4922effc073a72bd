"""Progress bars of Parquet reads, building a network, saving and loading.

Drawn at a terminal (stderr forced to say it is one), silent when stderr is no
terminal, in CI or when ``config.progress`` is off; the results are the same
whether a bar is drawn or not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import refgraph
from refgraph import ReferralNetwork, npi_check_digit
from refgraph.config import config


def make_npi(i: int) -> str:
    p = f"1{i:08d}"
    return p + str(npi_check_digit(p))


@pytest.fixture
def flows() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    npis = [make_npi(i) for i in range(60)]
    src = rng.integers(0, 30, 500)
    dst = 30 + rng.integers(0, 30, 500)
    f = pd.DataFrame(
        {
            "source_npi": [npis[i] for i in src],
            "target_npi": [npis[i] for i in dst],
            "count": rng.integers(11, 90, 500),
        }
    )
    return f.drop_duplicates(["source_npi", "target_npi"]).reset_index(drop=True)


@pytest.fixture
def no_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("refgraph._progress.PROGRESS_DELAY", 0.0)
    monkeypatch.delenv("CI", raising=False)


def _work(flows: pd.DataFrame, tmp: Path) -> tuple[ReferralNetwork, ReferralNetwork, object]:
    """Build, save, load, and read flows from a Parquet file of several row groups."""
    net = ReferralNetwork(flows=flows)
    loaded = refgraph.load(net.save(tmp / "net", overwrite=True))
    flows.to_parquet(tmp / "f.parquet", index=False, row_group_size=100)
    read = refgraph.read_flows(tmp / "f.parquet")
    return net, loaded, read


def _last_state(err: str, desc: str) -> str:
    """The last drawing of the bar named ``desc``."""
    assert desc in err, err
    return err[err.rindex(desc) :].split("\r")[0].split("\n")[0]


@pytest.mark.usefixtures("no_delay")
def test_silent_when_not_a_terminal(
    flows: pd.DataFrame, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with config(progress=True):  # the captured stderr is not a terminal
        _work(flows, tmp_path)
    assert capsys.readouterr().err == ""


@pytest.mark.usefixtures("no_delay")
def test_bars_at_a_terminal_unless_switched_off(
    flows: pd.DataFrame,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with config(progress=False):
        quiet = _work(flows, tmp_path)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CI", "true")
    _work(flows, tmp_path)
    assert capsys.readouterr().err == ""
    monkeypatch.delenv("CI")
    with config(progress=True):
        net, loaded, read = _work(flows, tmp_path)
    err = capsys.readouterr().err
    # building: one step for the flows, one for the physicians
    assert "2/2" in _last_state(err, "build network:") and "100%" in _last_state(
        err, "build network:"
    )
    # saving: one step a table file (five tables and the rejects)
    assert "6/6" in _last_state(err, "save net:")
    # loading: six files, then the network
    assert "7/7" in _last_state(err, "load net:")
    # Parquet read: over the rows, row group by row group (several groups here)
    n = len(flows)
    assert pq.ParquetFile(tmp_path / "f.parquet").metadata.num_row_groups == -(-n // 100) > 1
    state = _last_state(err, "read f.parquet:")
    assert "100%" in state and f"{n}/{n}" in state, state
    # the same results with and without bars
    assert net == quiet[0] and loaded == quiet[1] == net
    assert read.table.equals(quiet[2].table)  # type: ignore[attr-defined]
    assert read.table.equals(ReferralNetwork(flows=flows).flows)  # type: ignore[attr-defined]


def test_row_group_read_equals_one_read(flows: pd.DataFrame, tmp_path: Path) -> None:
    from refgraph.io._sources import _read_row_groups

    path = tmp_path / "f.parquet"
    flows.to_parquet(path, index=False, row_group_size=37)
    for cols in (None, ["count", "source_npi"]):
        one = pq.read_table(path, columns=cols)
        parts = _read_row_groups(pq.ParquetFile(path), path, cols)
        assert parts.equals(one) and parts.schema.equals(one.schema, check_metadata=True)
    empty = tmp_path / "empty.parquet"
    flows.iloc[:0].to_parquet(empty, index=False)
    assert _read_row_groups(pq.ParquetFile(empty), empty, None).equals(pq.read_table(empty))
