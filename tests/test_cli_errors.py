"""The command line never shows a traceback for a refgraph error, a file error or a
damaged network: one line on stderr and exit status 2 (``--debug`` shows it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from refgraph import ReferralNetwork, ValidationError
from refgraph.cli import main
from refgraph.datasets import synthetic_region

UNKNOWN = "1000000004"


@pytest.fixture(scope="module")
def net() -> ReferralNetwork:
    return synthetic_region(60, seed=5)


@pytest.fixture
def good(net: ReferralNetwork, tmp_path: Path) -> Path:
    return net.save(tmp_path / "good")


def _damage(folder: Path, how: str) -> Path:
    manifest = folder / "refgraph.json"
    data = folder / json.loads(manifest.read_text())["data"]
    if how == "manifest":
        manifest.write_text('{"format": "refgraph", "vers')
    elif how == "missing table":
        (data / "flows.parquet").unlink()
    elif how == "parquet":
        f = data / "physicians.parquet"
        f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2])
    elif how == "foreign":
        manifest.unlink()
    return folder


DAMAGES = ["manifest", "missing table", "parquet", "foreign"]


def _one_error_line(err: str, command: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"refgraph {command}: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("how", DAMAGES)
@pytest.mark.parametrize("command", ["info", "intro", "targets", "report"])
def test_damaged_network_is_one_line(
    good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], how: str, command: str
) -> None:
    folder = str(_damage(good, how))
    argv = {
        "info": ["info", folder],
        "intro": ["intro", "--network", folder, "--to", UNKNOWN, "--from", UNKNOWN],
        "targets": ["targets", "--network", folder, "--home", UNKNOWN, "--out", str(tmp_path)],
        "report": ["report", folder, "--out", str(tmp_path / "rep")],
    }[command]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err, command)
    assert "good" in line  # names the folder
    expected = {
        "manifest": "damaged manifest",
        "missing table": "flows.parquet is missing",
        "parquet": "physicians.parquet does not match its checksum",
        "foreign": "not a refgraph network folder",
    }[how]
    assert expected in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["info", "{tmp}/nowhere"], "does not exist"),
        (["intro", "--network", "{good}", "--to", UNKNOWN, "--home", UNKNOWN], "not a physician"),
        (["intro", "--network", "{good}", "--to", "{npi}", "--home", "{npi}", "--k", "0"], "k: "),
        (
            [
                "intro",
                "--network",
                "{good}",
                "--to",
                "{npi}",
                "--home",
                "{npi}",
                "--max-hops",
                "-1",
            ],
            "max_hops: expected an integer in [1, 10], got -1",
        ),
        (["targets", "--network", "{good}", "--home", UNKNOWN, "--out", "{tmp}/t"], "home: "),
        (
            ["targets", "--network", "{good}", "--home", "{npi}", "--out", "{tmp}/t", "--top", "0"],
            "top: expected an integer >= 1, got 0",
        ),
        (
            [
                "targets",
                "--network",
                "{good}",
                "--home",
                "{npi}",
                "--out",
                "{tmp}/t",
                "--briefs",
                "-1",
            ],
            "--briefs: expected an integer >= 0, got -1",
        ),
        # a file error: the output folder cannot be created under a file
        (["targets", "--network", "{good}", "--home", "{npi}", "--out", "{file}/x"], "Errno"),
    ],
)
def test_bad_arguments_are_one_line(
    net: ReferralNetwork,
    good: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    (tmp_path / "a-file").write_text("x")
    npi = str(net.physicians.dropna(subset=["specialty"])["npi"].iloc[0])
    fill = {"tmp": str(tmp_path), "good": str(good), "npi": npi, "file": str(tmp_path / "a-file")}
    args = [a.format(**fill) for a in argv]
    assert main(args) == 2
    line = _one_error_line(capsys.readouterr().err, args[0])
    assert message in line


def test_debug_shows_the_error(good: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _damage(good, "manifest")
    with pytest.raises(ValidationError, match="damaged manifest"):
        main(["--debug", "info", str(good)])
    monkeypatch.setenv("REFGRAPH_DEBUG", "1")
    with pytest.raises(ValidationError, match="damaged manifest"):
        main(["info", str(good)])
    monkeypatch.setenv("REFGRAPH_DEBUG", "0")
    assert main(["info", str(good)]) == 2


def test_info_on_a_good_folder(good: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", str(good)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{good}: <ReferralNetwork physicians=60 ")
    assert "total_volume" in out


def test_subprocess_on_a_damaged_folder(good: Path) -> None:
    _damage(good, "parquet")
    env = {k: v for k, v in os.environ.items() if k != "REFGRAPH_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "refgraph", "info", str(good)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "physicians.parquet does not match its checksum" in proc.stderr
    debug = subprocess.run(
        [sys.executable, "-m", "refgraph", "--debug", "info", str(good)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert debug.returncode == 1 and "Traceback" in debug.stderr
