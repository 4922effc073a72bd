"""Validation that loses nothing: NPIs, coercion, rejects, conservation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refgraph import ValidationError, is_valid_npi, npi_check_digit
from refgraph._validate import validate_table


def reference_luhn_npi(npi: str) -> bool:
    """Independent reference: the textbook Luhn check over '80840' + NPI."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = "80840" + npi
    total = 0
    for pos, ch in enumerate(digits[::-1], start=1):
        d = int(ch)
        if pos % 2 == 0:
            d = d * 2
            d = d // 10 + d % 10
        total += d
    return total % 10 == 0


def test_known_npis() -> None:
    # CMS's worked example in the NPI check-digit document: 123456789 -> 3
    assert npi_check_digit("123456789") == 3
    assert is_valid_npi("1234567893")
    # real NPIs from the CMS sample file
    for npi in ["1003033051", "1154584084", "1275621542"]:
        assert is_valid_npi(npi)
    assert not is_valid_npi("1275621543")
    assert not is_valid_npi("12345678")
    assert not is_valid_npi(1234567893)
    assert not is_valid_npi("12345678a3")
    assert not is_valid_npi("１２３４５６７８９３")  # full-width digits


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_npi_agrees_with_reference_luhn(s: str) -> None:
    assert is_valid_npi(s) == reference_luhn_npi(s)


@given(st.lists(st.text(alphabet="0123456789", min_size=10, max_size=10), max_size=50))
def test_vectorised_npi_check_agrees(values: list[str]) -> None:
    df = pd.DataFrame({"npi": values})
    res = validate_table(df, "physicians", duplicates="keep")
    assert sorted(res.table["npi"].tolist()) == sorted(v for v in values if reference_luhn_npi(v))


def test_integer_npis_are_checked() -> None:
    df = pd.DataFrame({"npi": [1234567893, 1234567890, 12345]})
    res = validate_table(df, "physicians")
    assert res.table["npi"].tolist() == ["1234567893"]
    assert res.rejected["reason"].tolist() == [
        "NPI check digit is wrong",
        "NPI must have 10 digits",
    ]


def test_rejects_have_row_column_value_reason() -> None:
    df = pd.DataFrame(
        {
            "source_npi": ["1234567893", "1234567893", "1003033051", "1003033051", "1003033051"],
            "target_npi": ["1003033051", "1234567893", "1154584084", "1154584084", "9"],
            "count": [5, 3, -1, 2.5, 1],
            "period_start": ["2024-01-01", "2024-01-01", "nope", None, None],
        }
    )
    res = validate_table(df, "flows")
    assert res.table["count"].tolist() == [5]
    got = res.rejected[["row", "column", "reason"]].values.tolist()
    assert [1, "target_npi", "self-referral (source and target are the same physician)"] in got
    assert [2, "count", "negative count"] in got
    assert [2, "period_start", "unparseable date"] in got
    assert [3, "count", "count must be a whole number"] in got
    assert [4, "target_npi", "NPI must be a string of 10 digits"] in got
    assert res.rejected.loc[res.rejected["row"] == 2, "value"].tolist() == ["-1.0", "nope"]
    assert res.n_accepted_rows + res.n_rejected_rows == 5


def test_duplicate_flows_aggregate_and_physicians_reject() -> None:
    flows = pd.DataFrame(
        {
            "source_npi": ["1234567893"] * 3,
            "target_npi": ["1003033051"] * 3,
            "count": [5, 7, 1],
            "patients": [2, 3, None],
            "period_start": ["2024-01-01", "2024-01-01", "2025-01-01"],
        }
    )
    res = validate_table(flows, "flows")
    assert len(res.table) == 2 and res.n_accepted_rows == 3
    first = res.table[res.table["period_start"] == pd.Timestamp("2024-01-01")]
    assert first["count"].item() == 12 and first["patients"].item() == 5
    rej = validate_table(flows, "flows", duplicates="reject")
    assert len(rej.table) == 2 and rej.rejected["row"].tolist() == [1]
    phys = pd.DataFrame({"npi": ["1234567893", "1234567893"], "name": ["A", "B"]})
    res = validate_table(phys, "physicians")
    assert res.table["name"].tolist() == ["A"]
    assert res.rejected["reason"].str.contains("duplicate npi").all()


def test_coordinates_zip_dates_and_extras() -> None:
    df = pd.DataFrame(
        {
            "npi": ["1234567893", "1003033051", "1154584084", "1275621542"],
            "lat": [42.3, 95.0, "x", None],
            "lon": [-71.0, 0.0, 0.0, -200],
            "zip": ["02114-1234", "2114", 2114, "ABCDE"],
            "favourite_colour": ["red", "blue", "green", "teal"],
        }
    )
    res = validate_table(df, "physicians")
    assert res.table["npi"].tolist() == ["1234567893"]
    assert res.table["zip"].tolist() == ["02114"]
    assert "favourite_colour" in res.table.columns  # unknown columns are kept
    reasons = dict(
        zip(
            res.rejected["row"].astype(int).astype(str) + res.rejected["column"],
            res.rejected["reason"],
        )
    )
    assert reasons["1lat"].startswith("latitude outside")
    assert reasons["2lat"] == "not a number"
    assert reasons["3lon"].startswith("longitude outside")
    assert reasons["3zip"].startswith("ZIP code must be")
    ok = validate_table(pd.DataFrame({"npi": ["1003033051"], "zip": [2114]}), "physicians")
    assert ok.table["zip"].tolist() == ["02114"]


def test_events_status_and_touchpoint_kind() -> None:
    ev = pd.DataFrame(
        {
            "date": ["2024-01-02", "2024-13-45", "2024-01-03"],
            "source_npi": ["1234567893"] * 3,
            "target_npi": ["1003033051"] * 3,
            "status": ["Seen", "seen", "lost"],
        }
    )
    res = validate_table(ev, "events")
    assert res.table["status"].tolist() == ["seen"]
    assert set(res.rejected["reason"]) == {
        "unparseable date",
        "expected one of ['referred', 'scheduled', 'seen', 'converted']",
    }


def test_strict_raises_with_first_problems() -> None:
    df = pd.DataFrame({"npi": ["1234567890"]})
    with pytest.raises(ValidationError, match=r"row 0 npi='1234567890': NPI check digit") as ei:
        validate_table(df, "physicians", strict=True)
    assert len(ei.value.rejected) == 1
    assert isinstance(ei.value, ValueError)


def test_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="table: expected one of"):
        validate_table(pd.DataFrame(), "doctors")
    with pytest.raises(ValidationError, match="missing required column"):
        validate_table(pd.DataFrame({"name": ["x"]}), "physicians")
    with pytest.raises(ValidationError, match="duplicates"):
        validate_table(pd.DataFrame({"npi": []}), "physicians", duplicates="merge")  # type: ignore[arg-type]


messy = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(min_value=-(10**11), max_value=10**11),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["1234567893", "1003033051", "1154584084", "2024-01-01", "seen", ""]),
)


@settings(max_examples=60, deadline=None)
@given(
    table=st.sampled_from(["physicians", "practices", "flows", "events", "touchpoints"]),
    data=st.data(),
)
def test_conservation_on_messy_frames(table: str, data: st.DataObject) -> None:
    """Every input row is accepted or rejected with a reason, whatever comes in."""
    from refgraph.model import SCHEMAS

    n = data.draw(st.integers(min_value=0, max_value=25))
    cols = {c: data.draw(st.lists(messy, min_size=n, max_size=n)) for c in SCHEMAS[table].names}
    cols["extra"] = list(range(n))
    df = pd.DataFrame(cols, dtype=object)
    res = validate_table(df, table)
    assert res.n_accepted_rows + res.n_rejected_rows == n
    assert set(res.rejected.columns) == {"row", "column", "value", "reason"}
    assert res.rejected["reason"].notna().all()
    assert "extra" in res.table.columns
    assert set(res.rejected["row"]).issubset(range(n))
    # accepted rows are exactly the rows without a reject (before duplicate merging)
    if table in ("events", "touchpoints"):
        assert sorted(res.table["extra"]) == sorted(set(range(n)) - set(res.rejected["row"]))
    np.testing.assert_array_equal(
        res.table.columns[: len(SCHEMAS[table].names)], SCHEMAS[table].names
    )


# ----------------------------------------------------------------------------- issue 13
NPI_A, NPI_B, NPI_C = "1234567893", "1003033051", "1154584084"
NPI_D = "135630101" + str(npi_check_digit("135630101"))


def _events(dates: list) -> pd.DataFrame:
    n = len(dates)
    return pd.DataFrame(
        {"date": dates, "source_npi": [NPI_A] * n, "target_npi": [NPI_B] * n, "status": "seen"}
    )


def test_mixed_offsets_keep_the_local_date_and_time_as_written() -> None:
    res = validate_table(
        _events(["2024-03-01T23:00:00-05:00", "2024-03-01T08:00:00+09:00", "2024-03-01T12:00Z"]),
        "events",
    )
    assert len(res.rejected) == 0
    assert res.table["date"].astype(str).tolist() == [
        "2024-03-01 23:00:00",
        "2024-03-01 08:00:00",
        "2024-03-01 12:00:00",
    ]
    aware = pd.Series(pd.to_datetime(["2024-03-01 23:00"]).tz_localize("US/Eastern"))
    got = validate_table(_events(list(aware)), "events").table["date"]
    assert got.iloc[0] == pd.Timestamp("2024-03-01 23:00")  # not 2 March (UTC)


@pytest.mark.parametrize(
    ("dates", "expected", "rejected"),
    [
        # one value can only be day-first: the whole column is day-first
        (["01/02/2024", "13/02/2024"], ["2024-02-01", "2024-02-13"], []),
        # one value can only be month-first: the whole column is month-first
        (["01/02/2024", "02/13/2024"], ["2024-01-02", "2024-02-13"], []),
        # no evidence: month-first (US convention), on every row alike
        (["01/02/2024", "03/04/24"], ["2024-01-02", "2024-03-04"], []),
        # evidence both ways: the values that fit both orders are ambiguous
        (["01/02/2024", "13/02/2024", "02/13/2024"], [None, "2024-02-13", "2024-02-13"], [0]),
    ],
)
def test_one_day_month_order_per_column(dates, expected, rejected) -> None:
    res = validate_table(_events(dates), "events")
    assert res.rejected["row"].tolist() == rejected
    if rejected:
        assert res.rejected["reason"].iloc[0].startswith("ambiguous date")
    got = res.table["date"].dt.strftime("%Y-%m-%d").tolist()
    assert got == [e for e in expected if e is not None]


def test_bare_numbers_and_out_of_range_dates_are_rejected_with_reasons() -> None:
    res = validate_table(_events(["20240105", "45123", "2300-01-01", "5 Jan 2024"]), "events")
    assert res.table["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-05", "2024-01-05"]
    assert res.rejected["reason"].tolist() == [
        "unparseable date",
        "date outside 1677-09-22..2262-04-11",
    ]


def test_duplicate_flows_cannot_overflow() -> None:
    big = 2**52 + 1
    flows = pd.DataFrame(
        {
            "source_npi": [NPI_A] * 3 + [NPI_B],
            "target_npi": [NPI_B] * 3 + [NPI_C],
            "count": [big, big, 1, 5],
        }
    )
    res = validate_table(flows, "flows")
    assert res.table["count"].tolist() == [5]  # never a wrapped, negative sum
    assert res.rejected["row"].tolist() == [0, 1, 2]
    assert set(res.rejected["reason"]) == {
        "sum of duplicate flows exceeds 9007199254740992 (2**53)"
    }
    assert res.n_accepted_rows + res.n_rejected_rows == 4
    # sums that reach int64 overflow in numpy are caught too
    huge = pd.DataFrame(
        {"source_npi": [NPI_A] * 2000, "target_npi": [NPI_B] * 2000, "count": [2**53] * 2000}
    )
    out = validate_table(huge, "flows")
    assert len(out.table) == 0 and out.n_rejected_rows == 2000
    # below the bound the sum is exact
    ok = validate_table(flows.iloc[[0, 2, 3]], "flows")
    assert sorted(ok.table["count"].tolist()) == [5, big + 1]


def test_counts_beyond_the_bound_and_booleans_are_rejected() -> None:
    flows = pd.DataFrame(
        {
            "source_npi": [NPI_A, NPI_A, NPI_B],
            "target_npi": [NPI_B, NPI_C, NPI_C],
            "count": ["9007199254740993", "99999999999999999999", "7"],
        }
    )
    res = validate_table(flows, "flows")
    assert res.table["count"].tolist() == [7]
    assert res.rejected["reason"].tolist() == ["count too large"] * 2
    bools = pd.DataFrame(
        {"source_npi": [NPI_A, NPI_B], "target_npi": [NPI_B, NPI_C], "count": [True, False]}
    )
    res = validate_table(bools, "flows")
    assert len(res.table) == 0
    assert set(res.rejected["reason"]) == {"a boolean (True/False) is not a count"}
    mixed = bools.astype({"count": object})
    mixed.loc[1, "count"] = 4
    res = validate_table(mixed, "flows")
    assert res.table["count"].tolist() == [4]
    assert res.rejected["row"].tolist() == [0]


def test_same_day_count_above_count_is_rejected() -> None:
    flows = pd.DataFrame(
        {
            "source_npi": [NPI_A, NPI_B],
            "target_npi": [NPI_B, NPI_C],
            "count": [10, 10],
            "same_day_count": ["3", "11"],
        }
    )
    res = validate_table(flows, "flows")
    assert res.table["same_day_count"].tolist() == [3]
    assert res.rejected[["row", "column"]].values.tolist() == [[1, "same_day_count"]]


def test_coordinates_far_from_their_zip_are_rejected() -> None:
    phys = pd.DataFrame(
        {
            "npi": [NPI_A, NPI_B, NPI_C, NPI_D],
            "zip": ["10001", "10001", "02114", "00000"],
            "lat": [40.75, -74.0, 34.05, 10.0],  # ok, swapped, Los Angeles, unknown ZIP
            "lon": [-74.0, 40.75, -118.24, 10.0],
        }
    )
    res = validate_table(phys, "physicians")
    assert res.table["npi"].tolist() == [NPI_A, NPI_D]
    reasons = dict(zip(res.rejected["row"], res.rejected["reason"]))
    assert reasons[1].endswith("lat and lon look swapped")
    assert "from the centroid of ZIP 10001 (more than 500 km)" in reasons[1]
    assert "ZIP 02114" in reasons[2] and "swapped" not in reasons[2]
    # the distance in the reason is the great-circle distance to the centroid
    from refgraph.geo import haversine_km, zip_centroids

    c = zip_centroids().loc["02114"]
    expect = haversine_km(34.05, -118.24, float(c["lat"]), float(c["lon"]))
    assert f"{expect:,.0f} km" in reasons[2]


def test_adding_flows_that_would_overflow_raises() -> None:
    from refgraph import ReferralNetwork

    net = ReferralNetwork.from_frames(
        flows=pd.DataFrame({"source_npi": [NPI_A], "target_npi": [NPI_B], "count": [2**53]})
    )
    with pytest.raises(ValidationError, match="cannot add these flows: sum of duplicate flows"):
        net.add_flows(pd.DataFrame({"source_npi": [NPI_A], "target_npi": [NPI_B], "count": [1]}))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["1234567893", "1003033051", "0123456789", None, "12345", " 1"]),
            st.sampled_from(["1234567893", "9999999999", None, "x"]),
            st.sampled_from(["2015-01-01", "2016-01-01", None]),
            st.sampled_from(["a", "b", None]),
        ),
        max_size=40,
    ),
    st.sampled_from(["first", False]),
)
def test_duplicated_flows_matches_pandas(rows: list[tuple], keep: str | bool) -> None:
    # the integer-coded duplicate finder against pandas' own duplicated() (missing == missing)
    from refgraph._validate import duplicated_flows

    cols = list(zip(*rows)) if rows else [[], [], [], []]
    flows = pd.DataFrame(
        {
            "source_npi": pd.array(list(cols[0]), dtype="string"),
            "target_npi": pd.array(list(cols[1]), dtype="string"),
            "period_start": pd.to_datetime(pd.Series(list(cols[2]), dtype=object)),
            "period_end": pd.NaT,
            "provenance": pd.array(list(cols[3]), dtype="string"),
        }
    )
    got = duplicated_flows(flows, keep)  # type: ignore[arg-type]
    assert got.tolist() == flows.duplicated(keep=keep).tolist()  # type: ignore[arg-type]


def test_npi_text_check_matches_reference_luhn() -> None:
    # every 10-digit string with a random prefix and each possible last digit, plus
    # near misses, judged by the Arrow text path and by the textbook Luhn reference
    rng = np.random.default_rng(7)
    texts = [f"{p:09d}{d}" for p in rng.integers(0, 10**9, 300) for d in range(10)]
    texts += [" 1234567893 ", "1234567893.0", "123456789３", "12345678 93", "", None]
    res = validate_table(
        pd.DataFrame({"npi": pd.array(texts, dtype="string")}), "physicians", duplicates="keep"
    )
    # ASCII digits only: a full-width digit is a digit to str.isdigit but not in an NPI
    want = [
        t is not None and t.isascii() and reference_luhn_npi(t.strip().removesuffix(".0"))
        for t in texts
    ]
    accepted = set(res.rejected["row"])
    assert [i not in accepted for i in range(len(texts))] == want
    assert sum(want) == 300 + 2  # one check digit a prefix; the padded and ".0" forms
