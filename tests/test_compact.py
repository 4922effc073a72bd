"""The compact columns of the tables: provenance as a label column, one period date held once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import refgraph
from refgraph import ReferralNetwork, npi_check_digit
from refgraph._compact import (
    compact_flows,
    concat_column,
    concat_labels,
    const_dates,
    const_labels,
    is_const_dates,
    labels,
)
from refgraph._validate import validate_table

NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 9)]
MANY = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 1001)]


def _cms_file(path: Path, n: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    src = rng.integers(0, len(MANY), n)
    dst = (src + 1 + rng.integers(0, len(MANY) - 1, n)) % len(MANY)
    lines = [f"{MANY[a]},{MANY[b]},{20 + i},11,0\n" for i, (a, b) in enumerate(zip(src, dst))]
    path.write_text("".join(lines))
    return path


def _string_flows(flows: pd.DataFrame) -> pd.DataFrame:
    """``flows`` as the tables were held before: provenance as text, dates written out."""
    out = flows.copy()
    out["provenance"] = out["provenance"].astype("string")
    for c in ("period_start", "period_end"):
        out[c] = np.array(out[c].to_numpy(), dtype="datetime64[ns]")  # a dense copy
    return out


def test_cms_read_holds_provenance_as_a_label_and_the_period_once(tmp_path: Path) -> None:
    p = _cms_file(tmp_path / "pspp_days180.txt", 400)
    net = refgraph.read_cms_shared_patients(p, year=2015, block_size=4096)  # several blocks
    f = net.flows
    assert str(f["provenance"].dtype) == "category"
    assert f["provenance"].dtype.categories.tolist() == ["cms-pspp:180d"]
    assert str(f["period_start"].dtype) == "datetime64[ns]"
    assert is_const_dates(f["period_start"]) and is_const_dates(f["period_end"])
    assert (f["period_start"] == pd.Timestamp("2015-01-01")).all()
    assert (f["period_end"] == pd.Timestamp("2015-12-31")).all()
    # the promises of a text column hold
    assert (f["provenance"] == "cms-pspp:180d").all() and not f["provenance"].isna().any()
    assert f["provenance"].astype(str).tolist() == ["cms-pspp:180d"] * len(f)
    assert isinstance(f["provenance"].iloc[0], str)
    # a file without a year: the dates are missing, held once too
    nodate = refgraph.read_cms_shared_patients(p, block_size=4096).flows
    assert nodate["period_start"].isna().all() and is_const_dates(nodate["period_start"])


def test_flow_columns_take_less_memory_than_text_and_dense_dates(tmp_path: Path) -> None:
    # the baseline is built in the test: the same flows held as they were before
    p = _cms_file(tmp_path / "pspp_days30.txt", 20_000)
    f = refgraph.read_cms_shared_patients(p, year=2014).flows
    old = _string_flows(f)
    pd.testing.assert_frame_equal(
        old.assign(provenance=old["provenance"].astype(str)),
        f.assign(provenance=f["provenance"].astype(str)),
    )
    new_b = f["provenance"].memory_usage(deep=True, index=False) / len(f)
    old_b = old["provenance"].memory_usage(deep=True, index=False) / len(f)
    assert new_b <= 1.1 and old_b >= 13  # int8 codes against "cms-pspp:30d" + offsets
    for c in ("period_start", "period_end"):  # one 8-byte value under every row
        assert f[c].array._ndarray.strides == (0,)
        assert old[c].array._ndarray.strides == (8,)


def test_writes_into_compact_columns_copy_and_stay_local() -> None:
    day = np.datetime64("2015-01-01")
    shared = const_dates(day, 4)
    a = pd.DataFrame({"d": shared, "x": np.arange(4)}, copy=False)
    b = pd.DataFrame({"d": shared}, copy=False)
    del shared
    a.loc[1, "d"] = pd.Timestamp("2016-02-03")
    b.iloc[0, 0] = np.datetime64("2017-01-01", "ns")  # one block, no other frame left
    assert a["d"].dt.year.tolist() == [2015, 2016, 2015, 2015]
    assert b["d"].dt.year.tolist() == [2017, 2015, 2015, 2015]
    s = const_dates(day, 3)
    s[2] = pd.NaT
    assert s.isna().tolist() == [False, False, True]
    lab = pd.DataFrame({"p": const_labels("cms", 3)})
    lab.loc[1, "p"] = np.nan
    assert lab["p"].isna().tolist() == [False, True, False]
    with pytest.raises(TypeError):  # a label column takes only its categories
        lab.loc[0, "p"] = "other"


def test_concat_of_different_labels_unites_them() -> None:
    # pandas.concat of categoricals with different categories falls back to text
    a, b = const_labels("cms", 2), labels(pd.Series(["ckm", None, "cms"], dtype="string"))
    assert str(pd.concat([a, b]).dtype) != "category"
    got = concat_labels([a, b])
    assert str(got.dtype) == "category" and got.dtype.categories.tolist() == ["ckm", "cms"]
    assert got.astype("string").tolist() == ["cms", "cms", "ckm", pd.NA, "cms"]
    y15, y16 = np.datetime64("2015-01-01"), np.datetime64("2016-01-01")
    mixed = concat_column([const_dates(y15, 2), const_dates(y16, 1)])
    assert mixed.dt.year.tolist() == [2015, 2015, 2016] and not is_const_dates(mixed)


def test_add_flows_with_another_provenance_keeps_a_label_column() -> None:
    one = pd.DataFrame({"source_npi": NPIS[:2], "target_npi": NPIS[2:4], "count": [3, 4],
                        "provenance": "cms"})  # fmt: skip
    two = one.assign(provenance=["ckm", "cms"], count=[1, 2])
    net = ReferralNetwork(flows=one).add_flows(two)
    f = net.flows
    assert str(f["provenance"].dtype) == "category"
    assert f["provenance"].dtype.categories.tolist() == ["ckm", "cms"]
    got = f.assign(provenance=f["provenance"].astype(str))
    got = got.sort_values(["source_npi", "provenance"])[["source_npi", "provenance", "count"]]
    assert got.values.tolist() == [[NPIS[0], "ckm", 1], [NPIS[0], "cms", 3], [NPIS[1], "cms", 6]]
    # a selection keeps only the categories its rows use
    sub = net.subnetwork([NPIS[1], NPIS[3]])
    assert sub.flows["provenance"].dtype.categories.tolist() == ["cms"]


def test_duplicates_are_summed_by_provenance_like_text() -> None:
    # validate_table sums flows of the same key: with label columns as with text
    rng = np.random.default_rng(3)
    n = 300
    df = pd.DataFrame(
        {
            "source_npi": rng.choice(NPIS[:3], n),
            "target_npi": rng.choice(NPIS[3:], n),
            "count": rng.integers(0, 9, n),
            "period_start": rng.choice(pd.to_datetime(["2015-01-01", "2016-01-01"]), n),
            "provenance": pd.array(rng.choice(["a", "b", " a", "", None], n), dtype="string"),
        }
    )
    res = validate_table(df, "flows")
    assert str(res.table["provenance"].dtype) == "category"
    assert res.table["provenance"].dtype.categories.tolist() == ["a", "b"]
    key = ["source_npi", "target_npi", "period_start", "provenance"]
    clean = df.assign(provenance=df["provenance"].str.strip().replace("", pd.NA))

    def sums(frame: pd.DataFrame) -> list[tuple[str, ...]]:
        text = frame[[*key, "count"]].astype(object).fillna("-").astype(str)
        return sorted(map(tuple, text.groupby(key)["count"].apply(lambda c: str(
            sum(int(v) for v in c))).reset_index().values.tolist()))  # fmt: skip

    want = sums(clean)
    assert sums(res.table) == want
    assert res.n_accepted_rows == n and len(res.table) == len(want)
    # a categorical input is read as its text
    again = validate_table(df.assign(provenance=df["provenance"].astype("category")), "flows")
    pd.testing.assert_frame_equal(again.table, res.table)


def test_rejected_rows_keep_their_reasons_with_label_columns() -> None:
    df = pd.DataFrame({"source_npi": [NPIS[0], "123", NPIS[1]],
                       "target_npi": [NPIS[1], NPIS[2], NPIS[1]], "count": [1, 2, 3],
                       "provenance": pd.Categorical(["x", "y", "z"])})  # fmt: skip
    res = validate_table(df, "flows")
    assert res.table["provenance"].astype(str).tolist() == ["x"]
    assert res.table["provenance"].dtype.categories.tolist() == ["x"]
    assert res.rejected[["row", "reason"]].values.tolist() == [
        [1, "NPI must be a string of 10 digits"],
        [2, "self-referral (source and target are the same physician)"],
    ]
    assert res.n_accepted_rows + res.n_rejected_rows == 3


def test_save_and_load_round_trip_compact_columns(tmp_path: Path) -> None:
    p = _cms_file(tmp_path / "pspp_days90.txt", 300)
    net = refgraph.read_cms_shared_patients(p, year=2013)
    net.save(tmp_path / "net")
    back = refgraph.load(tmp_path / "net")
    pd.testing.assert_frame_equal(back.flows, net.flows)
    assert is_const_dates(back.flows["period_end"])
    assert back.flows["provenance"].dtype == net.flows["provenance"].dtype


def test_groupby_on_labels_lists_observed_values_only() -> None:
    s = labels(pd.Series(["a", "b", "a"], dtype="string")).iloc[[0, 2]]  # "b" is unused here
    f = pd.DataFrame({"provenance": s.to_numpy(), "count": [1, 2]})
    assert f.groupby("provenance", observed=True)["count"].sum().to_dict() == {"a": 3}
    tidy = compact_flows(pd.DataFrame({"provenance": s.reset_index(drop=True)}))
    assert tidy["provenance"].dtype.categories.tolist() == ["a"]


def test_a_format_1_folder_with_text_provenance_still_loads(tmp_path: Path) -> None:
    # refgraph 0.1 saved provenance as text, in folders whose dtypes the load compares
    # to the schema's: such a folder loads, and its provenance becomes a label column
    import json

    net = ReferralNetwork(
        flows=pd.DataFrame(
            {"source_npi": NPIS[:2], "target_npi": NPIS[2:4], "count": [3, 4], "provenance": "x"}
        )
    )
    folder = tmp_path / "old"
    folder.mkdir()
    for name, df in net.tables.items():
        if name == "flows":
            df = df.assign(provenance=df["provenance"].astype("string"))
        df.to_parquet(folder / f"{name}.parquet", index=False)
    net.rejected.to_parquet(folder / "rejected.parquet", index=False)
    manifest = {"format": "refgraph", "version": 1, "rejected": len(net.rejected),
                "tables": {n: len(df) for n, df in net.tables.items()}}  # fmt: skip
    (folder / "refgraph.json").write_text(json.dumps(manifest))
    back = refgraph.load(folder)
    assert str(back.flows["provenance"].dtype) == "category"
    pd.testing.assert_frame_equal(back.flows, net.flows)


def test_dates_held_in_full_on_pandas_without_copy_on_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pandas 2 without copy-on-write writes into a column's array in place, which a
    # read-only zero-stride array refuses: such a pandas gets the dates in full instead
    from refgraph._compact import const_dates, is_const_dates

    monkeypatch.setattr(pd, "__version__", "2.2.3")
    monkeypatch.setattr(pd, "get_option", lambda key: False)
    s = const_dates(np.datetime64("2015-01-01"), 4)
    assert not is_const_dates(s) and s.to_numpy().strides == (8,)
    assert s.dt.year.tolist() == [2015] * 4


_CATEGORY_VALUES = st.one_of(
    st.sampled_from(["cms", "ckm", "b", "a"]), st.integers(-3, 3), st.sampled_from([1.5, 2.0])
)


@settings(max_examples=150, deadline=None)
@given(
    cats=st.lists(_CATEGORY_VALUES, unique=True, max_size=5),
    picks=st.lists(st.integers(-1, 4), max_size=30),
    as_object=st.booleans(),
)
def test_labels_of_other_categoricals_equal_the_text_path(
    cats: list[object], picks: list[int], as_object: bool
) -> None:
    """A categorical of non-str categories (a saved column read back: ``object``
    categories when it had none) becomes the label column of its values as text."""
    codes = np.array([p if p < len(cats) else -1 for p in picks], dtype=np.int8)
    index = pd.Index(cats, dtype=object) if as_object or not cats else pd.Index(cats)
    s = pd.Series(pd.Categorical.from_codes(codes, categories=index), name="provenance")
    s.index = s.index + 7
    text = pd.Series([index[c] if c >= 0 else None for c in codes], dtype=object, index=s.index)
    got, want = labels(s), labels(text.astype("string").rename("provenance"))
    assert got.dtype == want.dtype
    assert got.dtype.categories.tolist() == want.dtype.categories.tolist()
    assert got.array.codes.tolist() == want.array.codes.tolist()
    assert got.array.codes.dtype == want.array.codes.dtype
    assert got.index.equals(want.index) and got.name == want.name


def test_load_reads_an_empty_provenance_without_text(tmp_path: Path) -> None:
    flows = pd.DataFrame({"source_npi": NPIS[:3], "target_npi": NPIS[1:4], "count": [11, 12, 13]})
    net = ReferralNetwork.from_frames(flows=flows)
    net.save(tmp_path / "n")
    back = refgraph.load(tmp_path / "n")
    assert back == net
    prov = back.flows["provenance"]
    assert str(prov.dtype.categories.dtype) == "str" and prov.isna().all()
