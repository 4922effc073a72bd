"""The text reader's block layer: blocks read in place, lines counted by their newlines.

Two shortcuts of :mod:`refgraph.io._text` are checked against the code they
replace, on random damaged text: a plain file is read into a buffer and cut in
place (a compressed stream still reads and joins blocks), and a block without a
carriage return counts its data lines by its newlines once pyarrow has parsed
it as many rows (the reference counts empty lines first, as before).
"""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from refgraph import RefgraphError, npi_check_digit
from refgraph.io import _blocks, _fast_keys, _text, read_cms_shared_patients, read_flows
from refgraph.io._fast import npi_stems

NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 7)]

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

#: Pieces of fields: digits, NPIs, spaces, quotes, a tab, a comma, CR, NUL, non-UTF-8.
piece = st.sampled_from(
    ["", "7", "05", "-3", "2.5", " ", '"', '"a,b"', "\t", ",", "\r", "\x00", "x", *NPIS[:2]]
)
field = st.lists(piece, max_size=3).map("".join)
line_end = st.sampled_from(
    ["\n", "\n", "\n", "\r\n", "\r", "\r", "\n\n", "\n\n", "\r\n\r\n", " \n"]
)


@st.composite
def blocks(draw: Any) -> tuple[bytes, int]:
    """A block of whole lines (it ends with a newline) and its number of columns."""
    ncol = draw(st.integers(1, 4))
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        n = draw(st.sampled_from([ncol, ncol, ncol, ncol - 1, ncol + 1]))
        fields = [draw(field) for _ in range(max(n, 0))]
        lines.append(",".join(fields) + draw(line_end))
    text = "".join(lines)
    raw = text.encode("utf-8")
    if draw(st.booleans()) and raw:  # a byte that is not UTF-8
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + b"\xff" + raw[at:]
    if draw(st.booleans()):
        raw = b"\n" * draw(st.integers(1, 2)) + raw  # empty lines first
    if not raw.endswith(b"\n"):
        raw += b"\n"
    return raw, ncol


def _counted_first(block: Any) -> tuple[int, bool]:
    """The reference: as if every block had a carriage return (empty lines counted first)."""
    return block.count(b"\n"), False


def _same_chunk(got: Any, ref: Any) -> None:
    assert got.n_lines == ref.n_lines
    assert got.n_physical == ref.n_physical
    np.testing.assert_array_equal(got.rows, ref.rows)
    pd.testing.assert_frame_equal(got.rejects, ref.rejects)
    assert (got.table is None) == (ref.table is None)
    pd.testing.assert_frame_equal(got.frame, ref.frame)


@SETTINGS
@given(block=blocks(), ints=st.booleans(), as_array=st.booleans(), row0=st.integers(0, 5))
# a carriage return splits a line into two rows, an empty line makes up the count
@example(block=(b"a\rb\n\n", 1), ints=False, as_array=False, row0=0)
@example(block=(b"1,2\r3,4\n\n5,6\n", 2), ints=True, as_array=True, row0=0)
def test_parse_block_counts_lines_as_before(
    monkeypatch: pytest.MonkeyPatch, block: tuple[bytes, int], ints: bool, as_array: bool, row0: int
) -> None:
    raw, ncol = block
    names = [f"c{i}" for i in range(ncol)]
    int_fields = frozenset(range(1, ncol)) if ints else frozenset()
    data: Any = bytearray(raw) if as_array else raw
    args = (names, ",", _text.NULL_VALUES, row0, 3, int_fields)
    got = _text._parse_block(data, *args)
    with monkeypatch.context() as m:
        m.setattr(_text, "_newlines", _counted_first)
        ref = _text._parse_block(raw, *args)
    _same_chunk(got, ref)


def test_parse_block_takes_the_shortcut_on_a_clean_block(monkeypatch: pytest.MonkeyPatch) -> None:
    # the shortcut is taken (no search for empty lines) and gives the lines' rows
    block = b"".join(f"{a},{b},5\n".encode() for a, b in itertools.pairwise(NPIS))
    calls: list[Any] = []
    real = _text._count_lines
    monkeypatch.setattr(_text, "_count_lines", lambda b: calls.append(b) or real(b))
    chunk = _text._parse_block(block, ["a", "b", "c"], ",", _text.NULL_VALUES, 10, 0)
    assert calls == [] and chunk.table is not None
    assert chunk.rows.tolist() == list(range(10, 15)) and chunk.n_physical == 5
    # an empty line, or a carriage return, and the lines are counted the careful way
    for damaged in (block + b"\n", block.replace(b"\n", b"\r\n", 1)):
        chunk = _text._parse_block(damaged, ["a", "b", "c"], ",", _text.NULL_VALUES, 0, 0)
        assert chunk.n_lines == 5 and len(calls) >= 1
        calls.clear()


def _all_blocks(path: Path, size: int) -> list[bytes]:
    out = []
    for box in _blocks.blocks(path, size):
        block = box.pop()
        out.append(bytes(block))
    return out


@SETTINGS
@given(
    text=st.lists(st.sampled_from(["a,1\n", "bb,22\r\n", "\n", "ccc,333", "d" * 40 + "\n"])),
    size=st.integers(1, 48),
)
def test_blocks_read_in_place_are_the_streamed_blocks(
    tmp_path: Path, text: list[str], size: int
) -> None:
    # a plain file (read into one buffer a block, cut in place) against the same bytes
    # gzip-compressed (read and joined as before): the same blocks, byte for byte
    raw = "".join(text).encode()
    plain, packed = tmp_path / "f.csv", tmp_path / "f.csv.gz"
    plain.write_bytes(raw)
    packed.write_bytes(gzip.compress(raw))
    got = _all_blocks(plain, size)
    assert got == _all_blocks(packed, size)
    assert b"".join(got) == (raw if raw.endswith(b"\n") or not raw else raw + b"\n")
    assert all(b.endswith(b"\n") for b in got)


def test_blocks_of_a_plain_file_are_bytearrays_cut_in_place(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_bytes(b"a,1\nbb,22\nccc,333\n")
    got = [box.pop() for box in _blocks.blocks(p, 7)]
    assert [bytes(b) for b in got] == [b"a,1\n", b"bb,22\n", b"ccc,333\n"]
    assert all(isinstance(b, bytearray) for b in got)


@st.composite
def cms_text(draw: Any) -> bytes:
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        a, b = draw(st.integers(0, 5)), draw(st.integers(0, 5))
        count = draw(st.integers(0, 60))
        rows.append(f"{NPIS[a]},{NPIS[b]},{count},{draw(st.integers(0, count))},0")
    ends = [draw(st.sampled_from(["\n", "\n", "\r\n", "\n\n", "\n \n"])) for _ in rows]
    raw = "".join(r + e for r, e in zip(rows, ends)).encode()
    if draw(st.booleans()):  # a damaged byte somewhere
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\r", b"\x00", b",", b'"'])) + raw[at:]
    return raw


def _outcome(read: Any, path: Path, **kw: Any) -> Any:
    """The frames a reader gives, or its error with the file's name left out."""
    try:
        got = read(path, **kw)
    except RefgraphError as exc:
        return type(exc).__name__, str(exc).replace(path.name, "<file>")
    if hasattr(got, "flows"):
        return got.flows, got.rejected
    return got.table, got.rejected


def _same_outcome(got: Any, ref: Any) -> None:
    if isinstance(ref[0], str):
        assert got == ref
        return
    pd.testing.assert_frame_equal(got[0], ref[0])
    pd.testing.assert_frame_equal(got[1], ref[1])


@settings(SETTINGS, max_examples=40)
@given(raw=cms_text(), size=st.integers(8, 200), header=st.booleans())
def test_readers_same_on_plain_and_compressed_files(
    tmp_path: Path, raw: bytes, size: int, header: bool
) -> None:
    # every line accepted or rejected alike (or the same error) whichever way the
    # blocks are read
    plain, packed = tmp_path / "pspp_days30.txt", tmp_path / "pspp_days30.txt.gz"
    plain.write_bytes(raw)
    packed.write_bytes(gzip.compress(raw))
    kw = {"year": 2015, "block_size": size}
    got = _outcome(read_cms_shared_patients, plain, **kw)
    _same_outcome(got, _outcome(read_cms_shared_patients, packed, **kw))
    if header:  # and the flows reader, whose header line is cut off the first block
        head = b"source_npi,target_npi,count,patients,same_day_count\n"
        plain, packed = tmp_path / "flows.csv", tmp_path / "flows.csv.gz"
        plain.write_bytes(head + raw)
        packed.write_bytes(gzip.compress(head + raw))
        _same_outcome(_outcome(read_flows, plain), _outcome(read_flows, packed))


@pytest.mark.parametrize("seed", range(6))
def test_repeated_pairs_of_keys_in_order_is_duplicated(seed: int) -> None:
    # a file sorted by source and target (as CMS ships it): repeats found as neighbours,
    # the same rows as pandas' duplicated, with or without rows left out
    rng = np.random.default_rng(seed)
    n = [2, 3, 50, 400, 400, 3000][seed]
    npis = np.array(sorted(int(x) for x in NPIS), dtype=np.int64)
    src, dst = np.sort(rng.choice(npis, n)), rng.choice(npis, n)
    order = np.lexsort((dst, src))
    src, dst = src[order], dst[order]
    if seed == 4:  # every pair once
        keys = np.unique(np.stack([src, dst]), axis=1)
        src, dst = keys[0], keys[1]
    want = pd.DataFrame({"s": src, "t": dst}).duplicated(keep=False).to_numpy()
    np.testing.assert_array_equal(
        _fast_keys.repeated_pairs(npi_stems(src, None), npi_stems(dst, None)), want
    )
    ok = rng.random(len(src)) < 0.6
    want_ok = np.zeros(len(src), dtype=bool)
    want_ok[ok] = pd.DataFrame({"s": src[ok], "t": dst[ok]}).duplicated(keep=False).to_numpy()
    np.testing.assert_array_equal(
        _fast_keys.repeated_pairs(npi_stems(src, None), npi_stems(dst, None), ok), want_ok
    )


def test_parquet_file_of_one_period_same_as_validate_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_read: Any
) -> None:
    # a Parquet file whose dates are one period throughout (date32): the dates are held
    # once from the start; the table, the rejects (a self-referral) and the summed
    # repeated pair are the validator's, and the date columns take writes
    import pyarrow as pa
    import pyarrow.parquet as pq

    from refgraph.io import tables

    n = 60
    src = [NPIS[i % 6] for i in range(n)]
    dst = [NPIS[(i + 1 + i // 6) % 6] for i in range(n)]
    dst[7] = src[7]  # a self-referral
    day = pd.Timestamp("2015-01-01").date()
    t = pa.table(
        {
            "source_npi": src,
            "target_npi": dst,
            "count": pa.array(range(5, 5 + n)),
            "period_start": pa.array([day] * n, type=pa.date32()),
            "period_end": pa.array([pd.Timestamp("2015-12-31").date()] * n, type=pa.date32()),
        }
    )
    p = tmp_path / "flows.parquet"
    pq.write_table(t, p)
    fast = read_flows(p)
    with monkeypatch.context() as m:  # the former path
        m.setattr(tables, "_fast_read", lambda *a, **k: None)
        slow = read_flows(p)
    same_read(fast, slow)
    assert 7 in fast.rejected["row"].tolist()
    assert fast.rejected["reason"].str.startswith("self-referral").all()
    assert len(fast.table) < n - len(fast.rejected)  # repeated pairs summed
    flows = fast.table
    flows.loc[1, "period_end"] = pd.Timestamp("2016-01-01")
    assert flows["period_end"].iloc[1] == pd.Timestamp("2016-01-01")
    assert flows["period_end"].iloc[0] == pd.Timestamp("2015-12-31")


def _merge_whole(tables: list[pd.DataFrame], stems: list[Any], what: str) -> list[None]:
    """The former merge of flows repeated across blocks: the whole table through the validator."""
    from refgraph._validate import validate_table
    from refgraph.io import cms

    merged = validate_table(pd.concat(tables, ignore_index=True), "flows", duplicates="aggregate")
    if len(merged.rejected):
        raise cms._SumPastExact(what)
    tables[:] = [merged.table]
    stems[:] = [cms._stems_of(merged.table)]
    return [None]


@st.composite
def unsorted_cms(draw: Any) -> bytes:
    """A CMS file in no order, its pairs repeated within and across blocks."""
    lines = []
    for _ in range(draw(st.integers(2, 40))):
        a, b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        big = draw(st.sampled_from([False, False, False, True]))
        count = 2**52 + draw(st.integers(0, 9)) if big else draw(st.integers(0, 60))
        lines.append(f"{NPIS[a]},{NPIS[b]},{count},{draw(st.integers(0, min(count, 60)))},0\n")
    return "".join(lines).encode()


@settings(SETTINGS, max_examples=30)
@given(raw=unsorted_cms(), size=st.integers(40, 300))
def test_flows_repeated_across_blocks_summed_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes, size: int, same_read: Any
) -> None:
    # the validator on the rows of repeated keys only gives the table, physicians, rejects
    # (self-referrals; sums past 2**53, after the read again in one block) of the former
    # merge of the whole joined table
    from refgraph.io import cms

    p = tmp_path / "pspp_days30.txt"
    p.write_bytes(raw)
    got = read_cms_shared_patients(p, year=2015, block_size=size)
    with monkeypatch.context() as m:
        m.setattr(cms, "_merge_across", _merge_whole)
        ref = read_cms_shared_patients(p, year=2015, block_size=size)
    same_read(got, ref)


def test_merge_across_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a pair in two blocks: merged by _merge_across, summed
    from refgraph.io import cms

    p = tmp_path / "pspp_days30.txt"
    p.write_text(
        f"{NPIS[0]},{NPIS[1]},5,2,0\n{NPIS[2]},{NPIS[3]},1,1,0\n{NPIS[0]},{NPIS[1]},7,3,0\n"
    )
    calls: list[int] = []
    real = cms._merge_across

    def spy(tables: list[pd.DataFrame], stems: list[Any], what: str) -> Any:
        calls.append(sum(len(t) for t in tables))
        return real(tables, stems, what)

    monkeypatch.setattr(cms, "_merge_across", spy)
    net = read_cms_shared_patients(p, year=2015, block_size=30)
    assert calls == [3]
    assert net.flows["count"].tolist() == [1, 12] and net.flows["patients"].tolist() == [1, 5]
