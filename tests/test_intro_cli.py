"""``refgraph intro`` on the command line: NPI checks and what it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from refgraph.cli import main
from refgraph.datasets import synthetic_region


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    net = synthetic_region(300, seed=2, events=True)
    folder = net.save(tmp_path_factory.mktemp("net") / "net")
    e = net.edges().sort_values("count", ascending=False)
    a, b = str(e["source_npi"].iat[0]), str(e["target_npi"].iat[0])
    return folder, [a, b]


def test_bad_check_digit_is_named(
    saved: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, _ = saved
    assert main(["intro", "--to", "1234567890", "--network", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "'1234567890' is not a valid NPI (check digit" in err
    assert "should be 3" in err  # 123456789 -> check digit 3 (CMS example)
    assert main(["intro", "--to", "12345", "--network", str(folder)]) == 2
    assert "expected 10 digits" in capsys.readouterr().err


def test_output_names_npis_specialties_and_dates(
    saved: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    from refgraph.network import load

    folder, (a, b) = saved
    net = load(folder)
    assert main(["intro", "--to", b, "--from", a, "--network", str(folder), "--k", "1"]) == 0
    out = capsys.readouterr().out
    phys = net.physicians.set_index("npi")
    spec_b = str(phys.loc[b, "specialty"])
    assert f"{phys.loc[b, 'name']} ({b}, {spec_b})" in out.splitlines()[0]
    assert f"({a}, {phys.loc[a, 'specialty']})" in out
    last = max(net.flows["period_end"].max(), net.events["date"].max())
    assert f"data's last date, {last.date().isoformat()}" in out
    assert " ago" not in out
    assert "last referral" in out  # the hop has dated referrals (events=True)
    assert "before the data's last date" in out or "on the data's last date" in out
