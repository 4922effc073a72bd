"""Progress bars of the file readers: drawn at a terminal, silent otherwise."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest
from tqdm import tqdm

import refgraph
from refgraph.config import config

LINES = "".join(f"1234567893,1003033051,{20 + i},{11 + i % 5},0\n" for i in range(2000))


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    plain = tmp_path / "pspp_days30.txt"
    plain.write_text(LINES)
    packed = tmp_path / "pspp_days60.txt.gz"
    packed.write_bytes(gzip.compress(LINES.encode()))
    flows = tmp_path / "flows.csv"
    flows.write_text("source_npi,target_npi,count\n1234567893,1003033051,4\n")
    return {"plain": plain, "gzip": packed, "flows": flows}


def _read(files: dict[str, Path]) -> None:
    for key in ("plain", "gzip"):
        net = refgraph.read_cms_shared_patients(files[key], year=2015, block_size=4096)
        assert net.n_flows == 1 and len(net.rejected) == 0
    assert len(refgraph.read_flows(files["flows"]).table) == 1


def test_silent_when_not_a_terminal(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("refgraph._progress.PROGRESS_DELAY", 0.0)
    monkeypatch.delenv("CI", raising=False)
    with config(progress=True):  # the captured stderr is not a terminal
        _read(files)
    assert capsys.readouterr().err == ""


def test_draws_at_a_terminal_unless_switched_off(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("refgraph._progress.PROGRESS_DELAY", 0.0)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with config(progress=False):
        _read(files)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("CI", "true")
    with config(progress=True):
        _read(files)
    assert capsys.readouterr().err == ""
    monkeypatch.delenv("CI")
    with config(progress=True):
        _read(files)
    err = capsys.readouterr().err
    # one bar a file, each over the bytes on disk (the compressed bytes for gzip), ending full
    for key in ("plain", "gzip", "flows"):
        name = files[key].name
        assert f"read {name}" in err
        last = err[err.rindex(f"read {name}") :].split("\r")[0].split("\n")[0]
        assert "100%" in last, last
    size = files["gzip"].stat().st_size
    assert size < len(LINES) / 4  # compressed: the bar counts compressed bytes
    shown = tqdm.format_sizeof(size, divisor=1024)
    assert f"read {files['gzip'].name}: 100%" in err and f"{shown}/{shown}" in err
