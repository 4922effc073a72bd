"""Blocks parsed ahead in a thread: same items, same errors, same reads as one after another."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import refgraph
from refgraph import npi_check_digit
from refgraph.io import _ahead, cms, iter_cms_shared_patients

NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 41)]


def test_items_in_order_each_made_in_the_worker() -> None:
    made_in: list[str] = []

    def gen() -> Iterator[int]:
        for i in range(20):
            made_in.append(threading.current_thread().name)
            yield i

    assert list(_ahead.ahead(gen())) == list(range(20))
    assert all(name.startswith("refgraph-read") for name in made_in)


def test_an_error_comes_at_its_item_and_an_early_stop_makes_no_more() -> None:
    made: list[int] = []

    def gen() -> Iterator[int]:
        for i in range(100):
            made.append(i)
            if i == 5:
                raise ValueError("block 5 is damaged")
            yield i

    got = _ahead.ahead(gen())
    assert [next(got) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="block 5"):
        next(got)
    early = _ahead.ahead(iter(made.append(i) or i for i in range(1000)))
    assert next(early) == 0
    early.close()  # waits for the one item under way: at most two were made
    assert len(made) <= 6 + 2


def _cms_lines(n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, len(NPIS), n), rng.integers(0, len(NPIS), n)
    count = rng.integers(0, 40, n)
    bene = rng.integers(0, 45, n)  # now and then more than the count: rejected
    return "".join(f"{NPIS[x]},{NPIS[y]},{c},{p},0\n" for x, y, c, p in zip(a, b, count, bene))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("size", [300, 2000])
def test_reads_equal_the_blocks_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, size: int, same_read: Any
) -> None:
    p = tmp_path / "pspp_days30.txt"
    p.write_text(_cms_lines(400, seed))
    got = refgraph.read_cms_shared_patients(p, year=2015, block_size=size)
    parts = list(iter_cms_shared_patients(p, year=2015, block_size=size))
    with monkeypatch.context() as m:
        m.setattr(cms, "ahead", iter)  # the blocks made one after another, as before
        want = refgraph.read_cms_shared_patients(p, year=2015, block_size=size)
        want_parts = list(iter_cms_shared_patients(p, year=2015, block_size=size))
    assert len(parts) > 1 and len(parts) == len(want_parts)
    for a, b in zip(parts, want_parts):
        same_read(a, b)
    same_read(got, want)
    assert len(got.rejected) > 0


def test_a_damaged_line_late_in_the_file_is_reported_with_its_number(tmp_path: Path) -> None:
    p = tmp_path / "pspp_days30.txt"
    text = _cms_lines(300, 3).splitlines(keepends=True)
    text[250] = f"{NPIS[0]},{NPIS[1]}\n"  # two fields
    p.write_text("".join(text))
    net = refgraph.read_cms_shared_patients(p, year=2015, block_size=500)
    bad = net.rejected[net.rejected["row"] == 250]
    assert len(bad) == 1 and "expected" in bad["reason"].iloc[0]
