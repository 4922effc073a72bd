"""The readers' fast path gives exactly what validate_table gives (issue 11).

:func:`refgraph.io._fast.fast_flows` checks flows given as Arrow text in Arrow
and numpy and sends only the rows it cannot accept as they are through
validate_table. These tests compare it with validate_table on the whole table
(the reference, the readers' former path) on random tables mixing clean rows,
rows validate_table accepts after coercion (spaces, ``05``, ``-0``), rejects of
every kind and repeated flow keys; and the CMS and DocGraph readers with and without it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import refgraph
from refgraph import npi_check_digit
from refgraph._validate import validate_table
from refgraph.io import _fast, _fast_keys, cms, tables


def _stems(npis: np.ndarray) -> np.ndarray:
    """The NPIs' stems, as the fast path keys pairs on them."""
    return _fast.npi_stems(npis, None)


NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 7)]
BAD_NPIS = [
    " " + NPIS[0],  # accepted after stripping
    NPIS[1] + ".0",  # accepted: a spreadsheet's number
    NPIS[2][:9] + str((int(NPIS[2][9]) + 1) % 10),  # check digit
    "0" + NPIS[3],
    "12345",
    "abcdefghij",
    "",
    None,
    "١٢٣٤٥٦٧٨٩٣",  # Arabic-Indic digits: not ASCII
]
COUNTS = ["0", "5", "11", "250", "05", "-0", "+5", " 7", "1.5", "-3", "x", "", None,
          "9007199254740992", "9007199254740993", "99999999999999999999"]  # fmt: skip
DATES = ["2015-01-01", "2015-12-31", "2014-06-30", None]
PROV = ["cms", "cms", "docgraph", " cms ", "", None]

npi = st.one_of(st.sampled_from(NPIS), st.sampled_from(NPIS), st.sampled_from(BAD_NPIS))
count = st.one_of(st.integers(0, 300).map(str), st.sampled_from(COUNTS))


@st.composite
def flow_text(draw: Any) -> dict[str, list[Any]]:
    n = draw(st.integers(0, 30))
    cols: dict[str, list[Any]] = {
        "source_npi": draw(st.lists(npi, min_size=n, max_size=n)),
        "target_npi": draw(st.lists(npi, min_size=n, max_size=n)),
        "count": draw(st.lists(count, min_size=n, max_size=n)),
    }
    for name, values in (
        ("patients", count),
        ("same_day_count", count),
        ("period_start", st.sampled_from(DATES)),
        ("period_end", st.sampled_from(DATES)),
        ("provenance", st.sampled_from(PROV)),
    ):
        if draw(st.booleans()):
            cols[name] = draw(st.lists(values, min_size=n, max_size=n))
    return cols


def _reference(cols: dict[str, list[Any]], rows: np.ndarray, self_referrals: str) -> Any:
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in cols.items()})
    frame.index = pd.RangeIndex(len(rows))
    return validate_table(
        frame, "flows", duplicates="aggregate", self_referrals=self_referrals, row_numbers=rows
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cols=flow_text(), self_referrals=st.sampled_from(["reject", "keep"]), row0=st.integers(0, 9))
def test_fast_flows_is_validate_table(
    cols: dict[str, list[Any]], self_referrals: str, row0: int, same_read: Any
) -> None:
    n = len(cols["source_npi"])
    rows = np.arange(row0, row0 + n, dtype=np.int64)
    arrow = {k: pa.array(v, type=pa.string()) for k, v in cols.items()}
    got = _fast.fast_flows(arrow, n, rows=rows, self_referrals=self_referrals)
    if got is None:  # only a column the fast path leaves whole to validate_table
        assert {"period_start", "period_end"} & set(cols)
        return
    same_read(got, _reference(cols, rows, self_referrals))


def test_fast_flows_declines_what_it_does_not_check() -> None:
    cols = {"source_npi": pa.array([NPIS[0]]), "target_npi": pa.array([NPIS[1]])}
    assert _fast.fast_flows({**cols, "count": pa.array(["3"])}, 1) is not None
    assert _fast.fast_flows({**cols, "count": pa.array([3])}, 1) is not None  # Parquet ints
    assert _fast.fast_flows({**cols, "count": pa.array([True])}, 1) is None  # not a count
    assert _fast.fast_flows({**cols, "count": pa.array([3.0])}, 1) is None  # floats: not here
    assert _fast.fast_flows({**cols, "count": pa.array(["3"]), "x": pa.array(["a"])}, 1) is None
    assert _fast.fast_flows({**cols, "count": pa.array(["3"])}, 1, duplicates="keep") is None
    bad_date = {**cols, "count": pa.array(["3"]), "period_start": pa.array(["2015-13-01"])}
    assert _fast.fast_flows(bad_date, 1) is None


def test_npi_ints_matches_is_valid_npi() -> None:
    rng = np.random.default_rng(3)
    values = [str(v) for v in rng.integers(1_000_000_000, 9_999_999_999, 3000)]
    values += [*NPIS, *[b for b in BAD_NPIS if b is not None]]
    got = _fast._npi_rows(pa.array(values))
    assert got is not None
    ints, ok = got
    expected = np.array([refgraph.is_valid_npi(v) for v in values])
    assert (ok == expected).all() and expected.sum() > 200
    assert (ints[ok] == np.array([int(v) for v, e in zip(values, expected) if e])).all()
    assert _fast.npi_ints(pa.array(np.array(values)[expected])) is not None
    assert _fast.npi_ints(pa.array(values)) is None
    # the fast path's own form: stems (int32), in chunks of one to many rows
    parts = pa.chunked_array([values[:1], values[1:1000], values[1000:]], pa.large_string())
    stems = _fast._npi_rows(parts, stems=True)
    assert stems is not None and stems[0].dtype == np.int32
    np.testing.assert_array_equal(stems[1], ok)
    np.testing.assert_array_equal(stems[0], np.where(ok, ints // 10, 0))


def _write_cms(path: Path, rows: list[list[Any]]) -> None:
    path.write_text("".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.tuples(npi, npi, count, count, count), min_size=1, max_size=40),
    block=st.sampled_from([64, 256, 1 << 20]),
    year=st.sampled_from([None, 2014]),
)
def test_cms_reader_same_with_and_without_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: Any, block: int, year: Any
) -> None:
    p = tmp_path / "pspp_days30.txt"
    _write_cms(p, [[NPIS[0], NPIS[1], 20, 11, 0], *[list(r) for r in rows]])
    fast = refgraph.read_cms_shared_patients(p, year=year, block_size=block)
    with monkeypatch.context() as m:  # the former path: counts read as text, validate_table
        m.setattr(cms, "_fast_block", lambda *a, **k: None)
        m.setattr(cms, "_COUNT_COLUMNS", ())
        slow = refgraph.read_cms_shared_patients(p, year=year, block_size=block)
    pd.testing.assert_frame_equal(fast.flows, slow.flows)
    pd.testing.assert_frame_equal(fast.rejected, slow.rejected)
    # flows repeated across blocks are found and summed: as one block read, up to row order
    one = refgraph.read_cms_shared_patients(p, year=year, block_size=1 << 20)
    key = ["source_npi", "target_npi"]
    pd.testing.assert_frame_equal(
        fast.flows.sort_values(key).reset_index(drop=True),
        one.flows.sort_values(key).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(fast.rejected, one.rejected)
    f, s = fast.ingest["flows"], slow.ingest["flows"]
    assert (
        (f.n_input, f.n_accepted_rows)
        == (s.n_input, s.n_accepted_rows)
        == (len(rows) + 1, f.n_accepted_rows)
    )


def test_cms_fast_path_is_taken_on_a_clean_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = tmp_path / "pspp_days180.txt"
    _write_cms(p, [[NPIS[0], NPIS[1], 20, 11, 0], [NPIS[1], NPIS[2], 30, 12, 1]])
    calls: list[int] = []
    original = cms.validate_table
    monkeypatch.setattr(cms, "validate_table", lambda *a, **k: calls.append(1) or original(*a, **k))
    net = refgraph.read_cms_shared_patients(p, year=2015)
    assert calls == [] and net.n_flows == 2
    assert net.flows["provenance"].tolist() == ["cms-pspp:180d"] * 2


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(cols=flow_text(), parquet=st.booleans())
def test_read_flows_same_with_and_without_fast_path(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cols: dict[str, list[Any]],
    parquet: bool,
    same_read: Any,
) -> None:
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in cols.items()})
    if parquet:  # typed columns where the text allows: integers with gaps, dates
        import pyarrow.parquet as pq

        arrays = {k: pa.array(v, type=pa.string()) for k, v in cols.items()}
        for name in ("count", "patients", "same_day_count"):
            if name in frame and frame[name].str.fullmatch(r"[0-9]{1,15}").fillna(True).all():
                arrays[name] = pa.array([None if v is None else int(v) for v in cols[name]])
        for name in ("period_start", "period_end"):
            if name in frame:
                days = pd.to_datetime(frame[name]).dt.date
                arrays[name] = pa.array(days.where(days.notna(), None), type=pa.date32())
        p = tmp_path / "flows.parquet"
        pq.write_table(pa.table(arrays), p)
    else:
        p = tmp_path / "flows.csv"
        frame.to_csv(p, index=False)
    fast = refgraph.read_flows(p)
    with monkeypatch.context() as m:  # the former path: counts read as text, validate_table
        m.setattr(tables, "_fast_read", lambda *a, **k: None)
        m.setattr(tables, "_FLOW_COUNTS", ())
        slow = refgraph.read_flows(p)
    same_read(fast, slow)


def test_read_flows_fast_path_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "flows.csv"
    p.write_text(
        "source_npi,target_npi,count,period_start,period_end\n"
        f"{NPIS[0]},{NPIS[1]},5,2015-01-01,2015-12-31\n{NPIS[0]},{NPIS[1]},6,2015-01-01,2015-12-31\n"
    )
    monkeypatch.setattr(tables, "validate_table", lambda *a, **k: pytest.fail("slow path"))
    res = refgraph.read_flows(p)
    assert res.table["count"].tolist() == [11] and res.n_accepted_rows == 2


WAITS = ["14.2", "0", "-0", "-3.5", "1e5", "1E-320", "1.", ".5", "nan", "inf", "-inf",
         "Infinity", " 2.5", "x", "", None, "0.1000000000000000055511151231257827",
         "99999999999999999999"]  # fmt: skip
wait = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr), st.sampled_from(WAITS))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cols=flow_text(), waits=st.data(), row0=st.integers(0, 9))
def test_fast_flows_with_float_extras_is_validate_table(
    cols: dict[str, list[Any]], waits: Any, row0: int, same_read: Any
) -> None:
    n = len(cols["source_npi"])
    floats = waits.draw(st.sampled_from([("average_day_wait",), ("average_day_wait", "x_wait")]))
    for name in floats:
        cols[name] = waits.draw(st.lists(wait, min_size=n, max_size=n))
    rows = np.arange(row0, row0 + n, dtype=np.int64)
    arrow = {k: pa.array(v, type=pa.string()) for k, v in cols.items()}
    got = _fast.fast_flows(arrow, n, rows=rows, floats=floats)
    if got is None:
        assert {"period_start", "period_end"} & set(cols)
        return
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in cols.items()})
    ref = validate_table(
        frame,
        "flows",
        duplicates="aggregate",
        row_numbers=rows,
        extra_kinds=dict.fromkeys(floats, "float"),
    )
    same_read(got, ref)


def _write_hop(p: Path, rows: list[list[Any]]) -> None:
    head = "from_npi,to_npi,patient_count,transaction_count,average_day_wait,std_day_wait\n"
    body = "".join(",".join("" if v is None else str(v) for v in r) + "\n" for r in rows)
    p.write_text(head + body)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    rows=st.lists(st.tuples(npi, npi, count, count, wait, wait), min_size=1, max_size=40),
    block=st.sampled_from([128, 1 << 20]),
)
def test_docgraph_hop_same_with_and_without_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: Any, block: int, same_read: Any
) -> None:
    p = tmp_path / "hop.csv"
    _write_hop(p, [[NPIS[0], NPIS[1], 11, 25, "14.2", "9.1"], *[list(r) for r in rows]])
    fast = refgraph.read_docgraph_hop(p, block_size=block)
    with monkeypatch.context() as m:  # the former path: counts read as text, validate_table
        m.setattr(cms, "fast_flows", lambda *a, **k: None)
        m.setattr(cms, "_COUNT_COLUMNS", ())
        slow = refgraph.read_docgraph_hop(p, block_size=block)
    same_read(fast, slow)


def test_docgraph_hop_fast_path_is_taken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "hop.csv"
    _write_hop(p, [[NPIS[0], NPIS[1], 11, 25, "14.2", "9.1"], [NPIS[1], NPIS[2], 12, 30, "", "2"]])
    monkeypatch.setattr(cms, "validate_table", lambda *a, **k: pytest.fail("slow path"))
    net = refgraph.read_docgraph_hop(p)
    assert net.flows["count"].tolist() == [25, 30]
    assert net.flows["average_day_wait"].tolist()[0] == 14.2
    assert np.isnan(net.flows["average_day_wait"].tolist()[1])
    assert net.flows["provenance"].tolist() == ["docgraph-hop"] * 2


@pytest.mark.parametrize("seed", range(8))
def test_repeated_is_duplicated_on_the_whole_key(seed: int) -> None:
    # repeated_keys checks the pair first and the dates/provenance only where pairs repeat;
    # the reference is DataFrame.duplicated over the whole key of every row
    rng = np.random.default_rng(seed)
    n = 400
    src = rng.choice([1000000004, 1000000012, 1000000020], n).astype(np.int64)
    dst = rng.choice([1000000038, 1000000046, 1000000053, 1000000061], n).astype(np.int64)
    if seed == 0:  # every pair once: nothing repeats whatever the dates
        keys = np.unique(np.stack([src, dst]), axis=1)
        src, dst, n = keys[0], keys[1], keys.shape[1]
    dates = np.array(["2015-03-31", "2015-06-30", "NaT"], dtype="datetime64[ns]")
    table = pd.DataFrame(
        {
            "period_start": dates[rng.integers(0, 3 if seed % 2 else 1, n)],
            "period_end": dates[rng.integers(0, 3, n)],
            "provenance": pd.array(rng.choice(["cms", "docgraph", None], n), dtype="string"),
        }
    )
    whole = pd.DataFrame({"s": src, "t": dst}).join(table)
    want = whole.duplicated(keep=False).to_numpy()

    def key_column(name: str, rows: np.ndarray, constant: tuple[str, ...] = ()) -> Any:
        return None if name in constant else table[name][rows].reset_index(drop=True)

    got = _fast_keys.repeated_keys(_stems(src), _stems(dst), None, key_column)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, want)
    assert want.any() == (seed != 0)
    # a constant key column is left out of the key, as the caller says
    only_pairs = whole[["s", "t", "period_start", "period_end"]].duplicated(keep=False)
    got = _fast_keys.repeated_keys(
        _stems(src), _stems(dst), None, lambda name, rows: key_column(name, rows, ("provenance",))
    )
    np.testing.assert_array_equal(got, only_pairs.to_numpy())
    # only the rows of ``ok`` count, and only they are marked
    ok = rng.random(n) < 0.7
    want_ok = np.zeros(n, dtype=bool)
    want_ok[ok] = whole[ok].duplicated(keep=False).to_numpy()
    np.testing.assert_array_equal(
        _fast_keys.repeated_keys(_stems(src), _stems(dst), ok, key_column), want_ok
    )


@pytest.mark.parametrize("n", [0, 1, 2, 50, 1000])
def test_repeated_values_is_series_duplicated(n: int) -> None:
    rng = np.random.default_rng(n)
    for key in (rng.integers(0, max(1, n // 3), n), np.arange(n), rng.permutation(n) * 7):
        key = key.astype(np.int64)
        want = pd.Series(key).duplicated(keep=False).to_numpy()
        np.testing.assert_array_equal(_fast_keys.repeated_values(key), want)


def test_parquet_dates_at_the_range_edges_as_validate_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_read: Any
) -> None:
    # date32 columns are read from their day numbers on the fast path; the edges of
    # datetime64[ns] (1677-09-22..2262-04-11) are accepted, a day past them sends the
    # table to validate_table, which rejects it with its reason
    import datetime as dt

    import pyarrow.parquet as pq

    inside = [dt.date(1677, 9, 22), dt.date(2262, 4, 11), None, dt.date(1970, 1, 1)]
    real = _fast._days
    taken: list[bool] = []

    def days(a: Any) -> Any:
        got = real(a)
        taken.append(got is not None)
        return got

    for ends, fast in ((inside, True), ([*inside, dt.date(1677, 9, 21)], False),
                       ([*inside, dt.date(2262, 4, 12)], False)):  # fmt: skip
        n = len(ends)
        p = tmp_path / f"flows-{n}-{fast}.parquet"
        pq.write_table(
            pa.table(
                {
                    "source_npi": [NPIS[i % 6] for i in range(n)],
                    "target_npi": [NPIS[(i + 1) % 6] for i in range(n)],
                    "count": list(range(1, n + 1)),
                    "period_end": pa.array(ends, type=pa.date32()),
                }
            ),
            p,
        )
        with monkeypatch.context() as m:
            m.setattr(tables, "_fast_read", lambda *a, **k: None)
            slow = refgraph.read_flows(p)
        taken.clear()
        with monkeypatch.context() as m:
            m.setattr(_fast, "_days", days)
            got = refgraph.read_flows(p)
        same_read(got, slow)
        assert taken == [fast]
        assert len(slow.rejected) == (0 if fast else 1)


def test_absent_columns_are_missing_in_their_dtypes(same_read: Any) -> None:
    # columns a file does not have: all missing, the validator's dtypes, and (but for the
    # period dates) on zero pages that are never written
    cols = {
        "source_npi": pa.array(NPIS[:3]),
        "target_npi": pa.array(NPIS[1:4]),
        "count": pa.array(["1", "2", "3"]),
    }
    got = _fast.fast_flows(cols, 3)
    assert got is not None
    ref = _reference({k: v.to_pylist() for k, v in cols.items()}, np.arange(3), "reject")
    same_read(got, ref)
    t = got.table
    assert t[["patients", "period_start", "period_end", "provenance"]].isna().all().all()
    assert str(t["provenance"].dtype) == "category"  # a label column (refgraph._compact)
    # a missing value written over keeps the others missing (the buffers are ordinary)
    t.loc[1, "patients"] = 1
    assert t["patients"].tolist() == [pd.NA, 1, pd.NA]


@pytest.mark.parametrize("seed", range(6))
def test_repeated_pairs_is_duplicated(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = [0, 1, 50, 400, 400, 3000][seed]
    npis = np.array([int(x) for x in NPIS] + [9_999_999_995], dtype=np.int64)
    src, dst = rng.choice(npis, n), rng.choice(npis, n)
    if seed == 4:  # every pair once
        keys = np.unique(np.stack([src, dst]), axis=1)
        src, dst = keys[0], keys[1]
    want = pd.DataFrame({"s": src, "t": dst}).duplicated(keep=False).to_numpy()
    got = _fast_keys.repeated_pairs(_stems(src), _stems(dst))
    np.testing.assert_array_equal(got, want)
    before = (src.copy(), dst.copy())
    ok = rng.random(len(src)) < 0.6
    want_ok = np.zeros(len(src), dtype=bool)
    want_ok[ok] = pd.DataFrame({"s": src[ok], "t": dst[ok]}).duplicated(keep=False).to_numpy()
    np.testing.assert_array_equal(_fast_keys.repeated_pairs(_stems(src), _stems(dst), ok), want_ok)
    np.testing.assert_array_equal(before[0], src)  # the inputs are left alone
    np.testing.assert_array_equal(before[1], dst)


@pytest.mark.parametrize("seed", range(4))
def test_repeated_pairs_when_hashes_collide(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # the int32 hashes only choose the rows whose exact keys are compared: with hashes that
    # collide for most pairs (a few values for all of them) the answer is still pandas'
    rng = np.random.default_rng(seed)
    n = [2, 60, 500, 4000][seed]
    src = rng.integers(10**8, 10**9, n // 2 + 1)[rng.integers(0, n // 2 + 1, n)].astype(np.int32)
    dst = rng.integers(10**8, 10**9, 7)[rng.integers(0, 7, n)].astype(np.int32)
    want = pd.DataFrame({"s": src, "t": dst}).duplicated(keep=False).to_numpy()
    ok = rng.random(n) < 0.8
    want_ok = np.zeros(n, dtype=bool)
    want_ok[ok] = pd.DataFrame({"s": src[ok], "t": dst[ok]}).duplicated(keep=False).to_numpy()
    for hashed in (_fast_keys._pair_hash, lambda s, d: (s % 3 + d % 2).astype(np.int32)):
        monkeypatch.setattr(_fast_keys, "_pair_hash", hashed)
        np.testing.assert_array_equal(_fast_keys.repeated_pairs(src, dst), want)
        np.testing.assert_array_equal(_fast_keys.repeated_pairs(src, dst, ok), want_ok)
    assert (want.any() and not want.all()) or n == 2


def test_pair_keys_tell_valid_npis_apart() -> None:
    # a valid NPI is identified by its first nine digits (the tenth is their check digit),
    # so two pairs of valid NPIs have the same key only when they are the same pair
    rng = np.random.default_rng(7)
    base = rng.choice(np.arange(100_000_000, 999_999_999), 400, replace=False)
    npis = np.array([int(f"{b}{npi_check_digit(str(b))}") for b in base], dtype=np.int64)
    src, dst = rng.choice(npis, 5000), rng.choice(npis, 5000)
    keys = _fast_keys.pair_keys(_stems(src), _stems(dst))
    pairs = pd.MultiIndex.from_arrays([src, dst])
    assert pd.Series(keys).nunique() == pairs.nunique()
    np.testing.assert_array_equal(
        pd.Series(keys).duplicated(keep=False).to_numpy(), pairs.duplicated(keep=False)
    )


def test_blocks_are_joined_as_concat() -> None:
    # read_cms_shared_patients joins its blocks a column at a time, emptying them
    cols = {"source_npi": pa.array(NPIS[:4]), "target_npi": pa.array(NPIS[1:5]),
            "count": pa.array(["1", "2", "3", "4"]), "period_start": np.datetime64("2014-01-01"),
            "provenance": "cms-pspp"}  # fmt: skip
    parts = [_fast.fast_flows(cols, 4), _fast.fast_flows({**cols, "count": pa.array(["5"] * 4)}, 4)]
    blocks = [p.table for p in parts if p is not None]
    want = pd.concat(blocks, ignore_index=True)
    got = cms._concat_blocks(blocks)
    pd.testing.assert_frame_equal(got, want)
    assert all(b.shape[1] == 0 for b in blocks)


@pytest.mark.parametrize("seed", range(4))
def test_member_is_isin(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(-50, 50, [0, 1, 100, 5000][seed]).astype(np.int64)
    ordered = np.unique(rng.integers(-60, 60, [0, 3, 20, 200][seed]))
    for block in (1, 7, 1 << 20):
        got = _fast_keys.member(values, ordered, block=block)
        np.testing.assert_array_equal(got, np.isin(values, ordered))
    # pair keys: values whose low bits are those of a key but are not keys (the table of
    # low bits lets them through; the search turns them away), int32 stems too
    keys = np.unique(rng.integers(0, 1 << 60, [1, 5, 300, 20_000][seed]))
    near = np.concatenate([keys, keys + (1 << 24), keys ^ (1 << 40), rng.integers(0, 1 << 60, 999)])
    rng.shuffle(near)
    np.testing.assert_array_equal(_fast_keys.member(near, keys), np.isin(near, keys))
    stems = rng.integers(0, 10**9, 3000).astype(np.int32)
    np.testing.assert_array_equal(
        _fast_keys.member(stems, np.unique(stems[::7])), np.isin(stems, stems[::7])
    )


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_fast_path_tables_take_writes(tmp_path: Path, suffix: str) -> None:
    # the table is built on the checked arrays without copies; none may be a read-only
    # view of Arrow memory (a Parquet integer column without nulls converts zero-copy)
    import pyarrow.parquet as pq

    t = pa.table({"source_npi": NPIS[:3], "target_npi": NPIS[1:4], "count": pa.array([3, 4, 5]),
                  "average_day_wait": pa.array([1.5, 2.0, 3.25])})  # fmt: skip
    p = tmp_path / f"flows.{suffix}"
    if suffix == "csv":
        t.drop_columns("average_day_wait").to_pandas().to_csv(p, index=False)
        flows = refgraph.read_flows(p).table
    else:
        pq.write_table(t.drop_columns("average_day_wait"), p)
        flows = refgraph.read_flows(p).table
    flows["provenance"] = flows["provenance"].cat.add_categories(["x"])  # a label column
    for name, value in (("count", 9), ("patients", 2), ("provenance", "x"),
                        ("period_end", pd.Timestamp("2015-01-01"))):  # fmt: skip
        flows.loc[1, name] = value
        assert flows[name].iloc[1] == value and flows[name].isna().iloc[0] == (name != "count")
    hop = tmp_path / "hop.csv"
    t.to_pandas().rename(columns={"source_npi": "from_npi", "target_npi": "to_npi",
                                  "count": "transaction_count"}).assign(
        patient_count=[3, 4, 5]).to_csv(hop, index=False)  # fmt: skip
    net = refgraph.read_docgraph_hop(hop)
    net.flows.loc[0, "average_day_wait"] = 7.5
    assert net.flows["average_day_wait"].tolist() == [7.5, 2.0, 3.25]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 7), min_size=1, max_size=6),
    keep=st.lists(st.booleans(), min_size=42, max_size=42),
    few=st.sampled_from([0, 1, 4096]),
)
def test_kept_rows_are_the_filter(sizes: list[int], keep: list[bool], few: int) -> None:
    # the kept runs as slices (few runs) or Arrow's filter (many): the same rows in order
    from refgraph.io import _fast_build

    n = sum(sizes)
    values = [f"v{i}" if i % 5 else None for i in range(n)]
    chunks, at = [], 0
    for size in sizes:
        chunks.append(pa.array(values[at : at + size], pa.large_string()))
        at += size
    col = pa.chunked_array(chunks, pa.large_string())
    sel = np.array(keep[:n], dtype=bool)
    old = _fast_build._FEW_RUNS
    _fast_build._FEW_RUNS = few
    try:
        parts = _fast_build.kept_rows(col, sel)
    finally:
        _fast_build._FEW_RUNS = old
    got = pa.chunked_array(parts, pa.large_string()).to_pylist()
    assert got == [v for v, k in zip(values, sel) if k]
    assert all(len(p) for p in parts)
