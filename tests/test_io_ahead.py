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


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_text_blocks_read_and_scanned_ahead_as_one_after_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str, same_read: Any
) -> None:
    # open_text reads and scans the next block in a worker while this one is parsed: the
    # same flows, rejects and line numbers as blocks read one after another, with damaged
    # lines (a NUL byte, two fields, an empty line) in several blocks
    from refgraph.io import _text

    lines = ["source_npi,target_npi,count"]
    lines += [f"{NPIS[i % 40]},{NPIS[(i * 7 + 1) % 40]},{i % 9}" for i in range(600)]
    lines[100] = f"{NPIS[0]},{NPIS[1]},4\x00"
    lines[350] = f"{NPIS[2]},{NPIS[3]}"
    lines[500] = ""
    p = tmp_path / "flows.csv"
    p.write_text(newline.join(lines) + newline, newline="")
    scanned: list[str] = []
    real = _text._scanned

    def spy(boxes: Any) -> Any:
        for item in real(boxes):
            scanned.append(threading.current_thread().name)
            yield item

    monkeypatch.setattr(_text, "_scanned", spy)
    small = {"block_size": 700}
    monkeypatch.setattr(
        refgraph.io._sources, "read_text", lambda path, **kw: _text.read_text(path, **small, **kw)
    )
    got = refgraph.read_flows(p)
    assert len(scanned) > 10 and all(n.startswith("refgraph-read") for n in scanned)
    with monkeypatch.context() as m:
        m.setattr(_text, "ahead", iter)  # one after another, as before
        want = refgraph.read_flows(p)
    same_read(got, want)
    assert {99, 349} <= set(got.rejected["row"])  # data rows from 0: the header is not one
    assert got.n_input == 599


def test_a_damaged_compressed_file_fails_at_its_block(tmp_path: Path) -> None:
    # the error of the block read ahead is raised where that block is reached
    import gzip

    lines = "".join(f"{NPIS[i % 40]},{NPIS[(i + 1) % 40]},{i % 9}\n" for i in range(20_000))
    data = gzip.compress(("source_npi,target_npi,count\n" + lines).encode())
    p = tmp_path / "flows.csv.gz"
    p.write_bytes(data[: len(data) * 2 // 3])  # cut short
    with pytest.raises(refgraph.ValidationError, match=r"flows\.csv\.gz"):
        refgraph.read_flows(p)


def test_two_threads_answer_in_order_and_raise_the_first_error_after_all_ended() -> None:
    import time

    ended: list[int] = []
    where: list[str] = []

    def call(i: int) -> int:
        where.append(threading.current_thread().name)
        time.sleep(0.01 * (5 - i))  # the first ones end last
        ended.append(i)
        if i in (1, 3):
            raise ValueError(f"column {i}")
        return i * i

    assert _ahead.on_two_threads([lambda i=i: call(i) for i in (0, 2, 4)]) == [0, 4, 16]
    assert {name.split("_")[0] for name in where} == {"refgraph-check"}
    ended.clear()
    with pytest.raises(ValueError, match="column 1"):
        _ahead.on_two_threads([lambda i=i: call(i) for i in range(5)])
    assert sorted(ended) == [0, 1, 2, 3, 4]  # every call ended before the error came


def test_one_reader_thread_reads_the_same_on_the_calling_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_read: Any, assert_refused: Any
) -> None:
    # config.reader_threads = 1: no worker thread of refgraph's, the same outcome
    from refgraph.config import config
    from refgraph.io import _fast, _text

    p = tmp_path / "pspp_days30.txt"
    p.write_text(_cms_lines(400, 5))
    where: list[str] = []
    real_scanned, real_npis = _text._scanned, _fast._npi_rows

    def scanned(boxes: Any) -> Any:
        for item in real_scanned(boxes):
            where.append(threading.current_thread().name)
            yield item

    def npi_rows(*a: Any, **k: Any) -> Any:
        where.append(threading.current_thread().name)
        return real_npis(*a, **k)

    monkeypatch.setattr(_text, "_scanned", scanned)
    monkeypatch.setattr(_fast, "_npi_rows", npi_rows)
    two = refgraph.read_cms_shared_patients(p, year=2015, block_size=2000)
    assert {n.split("_")[0] for n in where} == {"refgraph-read", "refgraph-check"}
    where.clear()
    with config(reader_threads=1):
        one = refgraph.read_cms_shared_patients(p, year=2015, block_size=2000)
    assert set(where) == {threading.current_thread().name}
    same_read(one, two)
    assert config.reader_threads == 2
    for bad in (0, 3, True, 2.0, "2"):
        assert_refused(
            lambda bad=bad: setattr(config, "reader_threads", bad),
            refgraph.ValidationError,
            "reader_threads",
        )
