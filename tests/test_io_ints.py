"""Counts parsed as int64 by the text reader, and the fast path's in-place table (issue 11).

The text reader parses the count columns of flow files as int64 where that is
exact (every value of a block an integer Arrow reads, within 0..2**53) and
parses the block again with them as text otherwise. These tests compare the
readers with the former path (every column as text, validate_table) on the
values where Arrow's integer parse and the validator might part: ``05``,
``+5``, spaces and tabs around digits, ``-0``, the edge 2**53, values it
refuses (``5.0``) and values out of range (``-03``, whose text a reject shows).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refgraph
from refgraph import npi_check_digit
from refgraph._validate import validate_table
from refgraph.io import _fast, _fast_build, _text, cms, tables

NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 7)]
#: Texts Arrow's CSV reader parses as integers within 0..2**53 (spaces and tabs stripped).
INT_TEXTS = ["0", "7", "05", "-0", " 7", "8 ", "\t9", " 10\t", "000", "9007199254740992"]


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the column types of every block the text reader keeps."""
    seen: list[list[str]] = []
    real = _text._parse_block

    def parse(*a: Any, **k: Any) -> Any:
        chunk = real(*a, **k)
        if chunk.table is not None:
            seen.append([str(t) for t in chunk.table.schema.types])
        return chunk

    monkeypatch.setattr(_text, "_parse_block", parse)
    return seen


def _cms_file(path: Path, counts: list[str]) -> None:
    lines = [
        f"{NPIS[i % 6]},{NPIS[(i + 1 + i // 6) % 6]},{c},{c},{c}\n" for i, c in enumerate(counts)
    ]
    path.write_text("".join(lines))


def _cms_reference(path: Path, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> Any:
    with monkeypatch.context() as m:  # the former path: every column text, validate_table
        m.setattr(cms, "_fast_block", lambda *a, **k: None)
        m.setattr(cms, "_COUNT_COLUMNS", ())
        return refgraph.read_cms_shared_patients(path, **kw)


def test_csv_integers_are_what_the_validator_accepts() -> None:
    # wherever Arrow's CSV reader reads an integer within 0..2**53, the validator accepts
    # the text with that integer; where it reads none, the block is parsed as text
    rnd = random.Random(0)
    texts = sorted({"".join(rnd.choice("0123456789+- .e\t") for _ in range(rnd.randint(1, 7)))
                    for _ in range(3000)} | set(INT_TEXTS))  # fmt: skip
    ok, ints = [], []
    for t in texts:
        try:
            got = (
                pacsv.read_csv(
                    pa.py_buffer(f'x\n"{t}"\n'.encode()),
                    convert_options=pacsv.ConvertOptions(column_types={"x": pa.int64()}),
                )
                .column(0)[0]
                .as_py()
            )
        except pa.ArrowInvalid:
            continue
        if got is not None and 0 <= got <= 2**53:
            ok.append(t)
            ints.append(got)
    assert len(ok) > 200 and {" 7", "\t9", "-0", "05"} <= set(ok)
    n = len(ok)
    frame = pd.DataFrame({"source_npi": [NPIS[0]] * n, "target_npi": [NPIS[1]] * n,
                          "count": pd.array(ok, dtype="string")})  # fmt: skip
    res = validate_table(frame, "flows", duplicates="keep")
    assert len(res.rejected) == 0
    assert res.table["count"].tolist() == ints


def test_cms_counts_parsed_as_integers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_read: Any
) -> None:
    p = tmp_path / "pspp_days30.txt"
    _cms_file(p, [*INT_TEXTS, "", "3"])  # "" is a missing count: rejected, as before
    seen = _spy(monkeypatch)
    got = refgraph.read_cms_shared_patients(p, year=2015)
    assert seen == [["large_string", "large_string", "int64", "int64", "int64"]]
    same_read(got, _cms_reference(p, monkeypatch, year=2015))
    assert got.flows["count"].tolist()[:4] == [0, 7, 5, 0]
    assert got.rejected["reason"].tolist() == ["missing count"]


@pytest.mark.parametrize(
    "bad", ["+5", "5.0", "x", "-03", "9007199254740993", " -4", "99999999999999999999", "1e3"]
)
def test_cms_block_parsed_again_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, same_read: Any
) -> None:
    # a count Arrow cannot read as an integer, or reads outside 0..2**53: the block is
    # parsed again with the counts as text, and a reject shows the text as written
    p = tmp_path / "pspp_days30.txt"
    _cms_file(p, [*INT_TEXTS, bad])
    seen = _spy(monkeypatch)
    got = refgraph.read_cms_shared_patients(p, year=2015)
    assert seen == [["large_string"] * 5]
    ref = _cms_reference(p, monkeypatch, year=2015)
    same_read(got, ref)
    if bad in ("-03", " -4", "x"):
        assert got.rejected["value"].iloc[0] == bad


def test_blocks_of_both_kinds_in_one_flows_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_read: Any
) -> None:
    # read_flows reads a file whole: blocks parsed with int64 counts and blocks parsed
    # as text are joined as text, which is exact for the validator (see _text._as_text)
    p = tmp_path / "flows.csv"
    lines = ["source_npi,target_npi,count,patients\n"]
    counts = [*INT_TEXTS * 20, "-3", *INT_TEXTS * 20, "2.5"]
    for i, c in enumerate(counts):
        lines.append(f"{NPIS[i % 6]},{NPIS[(i + 1 + i // 6) % 6]},{c},{c}\n")
    p.write_text("".join(lines))
    seen = _spy(monkeypatch)
    with monkeypatch.context() as m:
        m.setattr(refgraph.io._sources, "read_text", _small_blocks)
        got = refgraph.read_flows(p)
    assert ["large_string", "large_string", "int64", "int64"] in seen
    assert ["large_string"] * 4 in seen
    with monkeypatch.context() as m:
        m.setattr(tables, "_fast_read", lambda *a, **k: None)
        m.setattr(tables, "_FLOW_COUNTS", ())
        ref = refgraph.read_flows(p)
    same_read(got, ref)
    assert set(got.rejected["value"]) >= {"-3", "2.5"}


def _small_blocks(path: Path, **kw: Any) -> Any:
    return _text.read_text(path, block_size=512, **kw)


def test_flows_frame_of_integer_blocks_is_text(tmp_path: Path) -> None:
    # the slow path's frame (a date the fast path leaves whole to validate_table) has
    # the int64 counts as their decimals, and validate_table reads them as before
    p = tmp_path / "flows.csv"
    p.write_text(
        "source_npi,target_npi,count,period_start\n"
        f"{NPIS[0]},{NPIS[1]},05,2015-13-01\n{NPIS[1]},{NPIS[2]}, 7,2015-01-01\n"
    )
    res = refgraph.read_flows(p)
    assert res.table["count"].tolist() == [7]
    assert res.rejected["column"].tolist() == ["period_start"]


@pytest.mark.parametrize("seed", range(6))
def test_compact_is_concatenate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = [0, 1, 7, 1000, 200_000, 200_000][seed]
    values = rng.integers(0, 100, n)
    sel = rng.random(n) < [0.5, 1.0, 0.3, 0.99, 0.999, 0.2][seed]
    tail = rng.integers(0, 100, min(int((~sel).sum()), 5))
    want = np.concatenate([values[sel], tail])
    got = _fast_build.compact(values.copy(), sel, tail)
    np.testing.assert_array_equal(got, want)
    if sel.all():
        same = values.copy()
        assert _fast_build.compact(same, sel) is same  # nothing dropped: the array itself


def test_rejects_repeats_and_coerced_rows_in_one_table() -> None:
    # rows rejected, rows accepted after coercion (put back in their places) and repeated
    # keys among both: the table the validator gives on the whole input, in its order
    cols = {
        "source_npi": [NPIS[0], " " + NPIS[0], NPIS[2], NPIS[3], NPIS[0], NPIS[4], NPIS[1] + ".0"],
        "target_npi": [NPIS[1], NPIS[1], NPIS[2], NPIS[4], NPIS[1], NPIS[5], NPIS[3]],
        "count": ["3", "4", "5", "1.0", "x", "6", "2"],
        "patients": ["1", "2", None, "1", "1", "5", None],
        "provenance": ["cms", "cms", "cms", "cms", "cms", "cms ", None],
    }
    n = len(cols["source_npi"])
    got = _fast.fast_flows({k: pa.array(v, type=pa.large_string()) for k, v in cols.items()}, n)
    assert got is not None
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in cols.items()})
    ref = validate_table(frame, "flows", duplicates="aggregate")
    pd.testing.assert_frame_equal(got.table, ref.table)
    pd.testing.assert_frame_equal(got.rejected, ref.rejected)
    assert (got.n_input, got.n_accepted_rows) == (ref.n_input, ref.n_accepted_rows)
    assert got.table["count"].tolist() == [1, 6, 2, 7]  # rows 0 and 1 summed come last
    assert got.table["provenance"].isna().tolist() == [False, False, True, False]
    assert got.table["provenance"].dropna().tolist() == ["cms"] * 3


count_text = st.one_of(st.integers(0, 50).map(str), st.sampled_from([*INT_TEXTS, "", "-2", "1.5"]))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 5), count_text, count_text),
        min_size=1,
        max_size=60,
    ),
    block=st.sampled_from([64, 200, 1 << 20]),
)
def test_cms_integer_counts_same_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: Any, block: int, same_read: Any
) -> None:
    p = tmp_path / "pspp_days90.txt"
    p.write_text("".join(f"{NPIS[a]},{NPIS[b]},{c},{d},0\n" for a, b, c, d in rows))
    got = refgraph.read_cms_shared_patients(p, year=2014, block_size=block)
    same_read(got, _cms_reference(p, monkeypatch, year=2014, block_size=block))


def test_leading_block_of_spaces_is_a_rejected_line(tmp_path: Path) -> None:
    # a first block of only white space (here: a line of spaces, then a last line without
    # a newline) is part of the body: its line is a data line, rejected as blank
    p = tmp_path / "pspp_days30.txt"
    p.write_bytes(b"   \n" + f"{NPIS[0]},{NPIS[1]},10,0,0".encode())
    net = refgraph.read_cms_shared_patients(p, year=2014)
    res = net.ingest["flows"]
    assert (res.n_input, res.n_accepted_rows) == (2, 1)
    assert net.rejected["reason"].tolist() == ["line 1: blank line (only spaces)"]


def test_empty_tables_are_validate_tables() -> None:
    # the empty tables of a network (made from the schema's column kinds) are what
    # validate_table makes of an empty frame: same columns, dtypes and index
    from refgraph._tables import empty_table
    from refgraph.model import SCHEMAS

    for name, schema in SCHEMAS.items():
        ref = validate_table(pd.DataFrame({c: [] for c in schema.names}), name).table
        pd.testing.assert_frame_equal(empty_table(name), ref)
        assert empty_table(name) is not empty_table(name)


@pytest.mark.parametrize("reader", ["cms", "hop"])
def test_sum_past_2_53_across_blocks_rejects_rows_as_one_block(
    tmp_path: Path, reader: str, same_read: Any
) -> None:
    # the same flow in two blocks whose counts sum past 2**53: the rows are rejected with
    # their line numbers, exactly as when the whole file is one block (it used to raise)
    big = 2**53
    lines = [f"{NPIS[1]},{NPIS[0]},7,0,0"] + [f"{NPIS[0]},{NPIS[0]},0,0,0"] * 12
    lines += [f"{NPIS[1]},{NPIS[0]},{big},0,0", f"{NPIS[2]},{NPIS[3]},5,0,0"]
    if reader == "cms":
        p = tmp_path / "pspp_days90.txt"
        p.write_text("".join(line + "\n" for line in lines))

        def read(block: int) -> Any:
            return refgraph.read_cms_shared_patients(p, year=2014, block_size=block)
    else:
        p = tmp_path / "hop.csv"
        rows = [line.split(",") for line in lines]
        header = "from_npi,to_npi,patient_count,transaction_count\n"
        p.write_text(header + "".join(f"{a},{b},{d},{c}\n" for a, b, c, d, _ in rows))

        def read(block: int) -> Any:
            return refgraph.read_docgraph_hop(p, block_size=block)

    small, whole = read(64), read(1 << 20)
    same_read(small, whole)
    past = small.rejected[small.rejected["reason"].str.contains("2\\*\\*53")]
    assert len(past) == 2  # the two rows of the flow that passes 2**53 (and 12 self-loops)
    assert len(small.rejected) == 14
    kept = set(zip(small.flows["source_npi"], small.flows["target_npi"], strict=True))
    assert (NPIS[1], NPIS[0]) not in kept and (NPIS[2], NPIS[3]) in kept


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
@pytest.mark.parametrize("with_physicians", [False, True])
def test_read_network_hands_the_flows_stems_to_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, with_physicians: bool
) -> None:
    # read_network(flows=path) codes the flows' NPIs by the stems the fast path made: the
    # same physicians, flows and node ids as the build from the table's text
    import pyarrow.parquet as pq

    from refgraph import _tables
    from refgraph.network import ReferralNetwork

    rng = np.random.default_rng(4)
    n = 300
    src = rng.choice(NPIS, n)
    dst = rng.choice(NPIS, n)
    counts = [str(c) for c in rng.integers(0, 50, n)]
    counts[7] = "x"  # a reject
    t = pa.table({"source_npi": src, "target_npi": dst, "count": counts})  # self-referrals, repeats
    p = tmp_path / f"flows.{suffix}"
    if suffix == "csv":
        pacsv.write_csv(t, p)
    else:
        pq.write_table(t, p)
    phys = None
    if with_physicians:  # some of the flows' NPIs and one of no flow, in another order
        phys = tmp_path / "physicians.csv"
        phys.write_text("npi\n" + "\n".join([NPIS[3], NPIS[0], "1245319599"]) + "\n")
    used: list[bool] = []
    real = _tables._first_seen_flow_ids

    def spy(phys_: Any, seen: Any, flow_stems: Any = None) -> Any:
        used.append(flow_stems is not None)
        return real(phys_, seen, flow_stems)

    monkeypatch.setattr(_tables, "_first_seen_flow_ids", spy)
    got = refgraph.read_network(physicians=phys, flows=p)
    assert used == [True]
    tables = {"flows": refgraph.read_flows(p).table}
    if phys is not None:
        tables["physicians"] = refgraph.read_physicians(phys).table
    want = ReferralNetwork._from_valid_tables(tables)
    assert used == [True, False]
    pd.testing.assert_frame_equal(got.flows, want.flows)
    pd.testing.assert_frame_equal(got.physicians, want.physicians)
    a, b = got.csr(), want.csr()
    pd.testing.assert_index_equal(a.npis, b.npis)
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(a.matrix, part), getattr(b.matrix, part))
    assert len(got.rejected) > 0 and len(got.flows) < n
