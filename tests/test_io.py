"""Readers on real rows: CMS shared-patient files, DocGraph hop, NPPES directory, tables."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import refgraph
from refgraph import ValidationError, is_valid_npi
from refgraph.io import iter_cms_shared_patients


@pytest.fixture
def cms_sample(datasets_dir: Path) -> Path:
    return datasets_dir / "cms-shared-patients-sample" / "pspp_days180_sample.csv"


@pytest.mark.datasets
def test_cms_sample_loads_200_flows_396_physicians(cms_sample: Path) -> None:
    net = refgraph.read_cms_shared_patients(cms_sample)
    assert net.n_flows == 200
    assert net.n_physicians == 396
    assert len(net.rejected) == 0
    assert net.physicians["npi"].map(is_valid_npi).all()
    f = net.flows
    assert set(f["provenance"]) == {"cms-pspp:180d"}
    assert (f["patients"] >= 11).all() and (f["count"] >= f["patients"]).all()
    assert f["count"].min() == 14 and f["count"].max() == 4591
    assert f["patients"].min() == 11 and f["patients"].max() == 674
    assert f["same_day_count"].max() == 769
    assert set(f["period_start"].dt.year) == {2013, 2014}
    raw = pd.read_csv(cms_sample, dtype={"npi1": str, "npi2": str})
    assert int(f["count"].sum()) == int(raw["pair_count"].sum())


@pytest.mark.datasets
def test_cms_raw_headerless_gz_and_chunks(cms_sample: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(cms_sample, dtype={"npi1": str, "npi2": str})
    body = raw[["npi1", "npi2", "pair_count", "bene_count", "same_day_count"]]
    p = tmp_path / "physician-shared-patient-patterns-2014-days180.txt.gz"
    with gzip.open(p, "wt") as fh:
        body.to_csv(fh, header=False, index=False)
        fh.write("1234567890,1003033051,20,11,0\n")  # bad check digit
        fh.write("1003033051,1154584084,x,11,0\n")  # bad count
    chunks = list(iter_cms_shared_patients(p, year=2014, block_size=2048))
    assert len(chunks) > 1  # streamed in blocks, not read at once
    net = refgraph.read_cms_shared_patients(p, year=2014, block_size=2048)
    assert net.n_flows == 200
    assert set(net.flows["provenance"]) == {"cms-pspp:180d"}  # window from the file name
    rej = net.rejected.sort_values("row")
    assert rej["row"].tolist() == [200, 201]
    assert rej["reason"].tolist() == ["NPI check digit is wrong", "not a number"]
    ing = net.ingest["flows"]
    assert ing.n_accepted_rows + ing.n_rejected_rows == ing.n_input == 202
    with pytest.raises(ValidationError, match="2 of 202 rows rejected"):
        refgraph.read_cms_shared_patients(p, year=2014, strict=True)


def test_cms_window_validation(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("1234567893,1003033051,40,12,3\n")
    with pytest.raises(ValidationError, match="window_days: CMS published windows"):
        refgraph.read_cms_shared_patients(p, window_days=45)
    net = refgraph.read_cms_shared_patients(p, window_days=30)
    assert net.flows["provenance"].tolist() == ["cms-pspp:30d"]
    q = tmp_path / "bad.csv"
    q.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationError, match="not a CMS shared-patient file"):
        refgraph.read_cms_shared_patients(q)
    with pytest.raises(refgraph.NotFoundError):
        refgraph.read_cms_shared_patients(tmp_path / "missing.csv")


@pytest.mark.datasets
def test_docgraph_hop_on_real_npis(cms_sample: Path, tmp_path: Path) -> None:
    raw = pd.read_csv(cms_sample, dtype={"npi1": str, "npi2": str}).head(30)
    hop = pd.DataFrame(
        {
            "from_npi": raw["npi1"],
            "to_npi": raw["npi2"],
            "patient_count": raw["bene_count"],
            "transaction_count": raw["pair_count"],
            "average_day_wait": 12.5,
            "std_day_wait": 3.25,
        }
    )
    p = tmp_path / "hop.csv"
    hop.to_csv(p, index=False)
    net = refgraph.read_docgraph_hop(p)
    assert net.n_flows == 30
    assert net.flows["count"].tolist() == raw["pair_count"].tolist()
    assert net.flows["patients"].tolist() == raw["bene_count"].tolist()
    assert net.flows["average_day_wait"].eq(12.5).all()
    headerless = tmp_path / "hop_noheader.csv"
    hop.to_csv(headerless, index=False, header=False)
    assert refgraph.read_docgraph_hop(headerless) == net


@pytest.mark.datasets
def test_directory_nppes_layout(datasets_dir: Path) -> None:
    top = pd.read_csv(
        datasets_dir / "nyc-cardiology-2015" / "topdocs_eigenvector_rank.csv", dtype={"npi": str}
    )
    last_first = top["name"].str.split(", ", n=1, expand=True)
    zips = top["address"].str.extract(r"(\d{5,9})\s*$")[0]
    nppes = pd.DataFrame(
        {
            "NPI": top["npi"],
            "Entity Type Code": "1",
            "Provider Last Name (Legal Name)": last_first[0],
            "Provider First Name": last_first[1],
            "Provider First Line Business Practice Location Address": top["address"],
            "Provider Business Practice Location Address Postal Code": zips,
            "Healthcare Provider Taxonomy Code_1": "207R00000X",
            "Healthcare Provider Primary Taxonomy Switch_1": "N",
            "Healthcare Provider Taxonomy Code_2": "207RC0000X",
            "Healthcare Provider Primary Taxonomy Switch_2": "Y",
        }
    )
    org = nppes.iloc[:1].copy()
    org["NPI"] = "1234567893"
    org["Entity Type Code"] = "2"
    res = refgraph.read_directory(pd.concat([nppes, org], ignore_index=True))
    assert len(res.table) == 20
    assert res.rejected["reason"].tolist() == ["organisation NPI (entity type 2), not a physician"]
    assert res.n_accepted_rows + res.n_rejected_rows == 21
    row = res.table.set_index("npi").loc["1275621542"]
    assert row["name"] == "OKIN, PETER" and row["zip"] == "10021"
    assert row["taxonomy"] == "207RC0000X"
    assert set(res.table["zip"].str.len()) == {5}


def test_table_readers_csv_parquet(tmp_path: Path) -> None:
    df = pd.DataFrame({"npi": ["0123456789", "1234567893"], "zip": ["02114", "02139"]})
    df.to_csv(tmp_path / "p.csv", index=False)
    res = refgraph.read_physicians(tmp_path / "p.csv")
    # leading zeros survive: the first NPI is kept as text (and rejected as invalid)
    assert res.rejected["value"].tolist() == ["0123456789"]
    assert res.table["zip"].tolist() == ["02139"]
    df.to_parquet(tmp_path / "p.parquet")
    assert refgraph.read_physicians(tmp_path / "p.parquet").table.equals(res.table)
    with pytest.raises(ValidationError, match="cannot tell the format"):
        (tmp_path / "p.xlsx").write_bytes(b"PK")
        refgraph.read_physicians(tmp_path / "p.xlsx")
    with pytest.raises(ValidationError, match="columns"):
        refgraph.read_physicians(df, columns={"NPI": "npi"})


@pytest.mark.parametrize(
    "dtype",
    [
        "date32[pyarrow]",
        "date64[pyarrow]",
        "timestamp[s][pyarrow]",
        "timestamp[ns][pyarrow]",
        "timestamp[us, tz=America/New_York][pyarrow]",
        "datetime64[s]",
        "datetime64[ns, Europe/Paris]",
    ],
)
def test_read_flows_parquet_dates_of_any_arrow_or_pandas_type(tmp_path: Path, dtype: str) -> None:
    # an extra column and a bad NPI keep the reader off its fast path (validate_table)
    ends = pd.Series(pd.to_datetime(["2020-01-31", "2021-06-30", None]))
    zone = next((z for z in ("America/New_York", "Europe/Paris") if z in dtype), None)
    if zone:  # local midnight in that zone (a UTC conversion would change the date)
        ends = ends.dt.tz_localize(zone)
    df = pd.DataFrame(
        {
            "source_npi": ["1234567893", "1003033051", "12345"],
            "target_npi": ["1003033051", "1234567893", "1234567893"],
            "count": [3, 4, 5],
            "period_end": ends.astype(dtype),
            "note": ["a", "b", "c"],
        }
    )
    df.to_parquet(tmp_path / "f.parquet")
    res = refgraph.read_flows(tmp_path / "f.parquet")
    # the local calendar date survives whatever the type (no UTC conversion)
    assert res.table["period_end"].tolist() == [
        pd.Timestamp("2020-01-31"),
        pd.Timestamp("2021-06-30"),
    ]
    assert res.table["note"].tolist() == ["a", "b"]
    assert res.rejected[["row", "column"]].values.tolist() == [[2, "source_npi"]]


def test_arrow_date_outside_the_nanosecond_range_is_a_reject() -> None:
    import datetime as dt

    import pyarrow as pa

    ends = pd.arrays.ArrowExtensionArray(pa.array([dt.date(2020, 1, 31), dt.date(3000, 1, 1)]))
    df = pd.DataFrame(
        {
            "source_npi": ["1234567893", "1003033051"],
            "target_npi": ["1003033051", "1234567893"],
            "count": [3, 4],
            "period_end": ends,
        }
    )
    res = refgraph.read_flows(df)
    assert res.table["period_end"].tolist() == [pd.Timestamp("2020-01-31")]
    assert res.rejected[["row", "column", "reason"]].values.tolist() == [
        [1, "period_end", "date outside 1677-09-22..2262-04-11"]
    ]


# ----------------------------------------------------------------------------- damaged input
# (issue 13: one bad line never sinks a file; an unreadable file is one ValidationError)

A_NPI, B_NPI, C_NPI = "1234567893", "1003033051", "1154584084"
FLOWS_HEAD = "source_npi,target_npi,count,patients\n"


def _flows_file(tmp_path: Path, body: bytes, name: str = "flows.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(body)
    return p


def _line_rejects(res) -> dict[int, str]:
    rej = res.rejected[res.rejected["column"] == "<line>"]
    return dict(zip(rej["row"].tolist(), rej["reason"].tolist()))


def test_bad_lines_become_rejects_and_reading_goes_on(tmp_path: Path) -> None:
    body = (
        FLOWS_HEAD
        + f"{A_NPI},{B_NPI},10,3\n"
        + f"{A_NPI},{C_NPI},7\n"  # too few fields
        + "   \n"  # only spaces
        + f"{B_NPI},{C_NPI},4,2,9\n"  # too many fields
        + f'{B_NPI},"{A_NPI},5,1\n'  # unbalanced quote
        + "\n"  # empty: skipped, not a data line
        + f"{C_NPI},{A_NPI},6,2\n"
    ).encode() + f"{C_NPI},{B_NPI},\xe9,1\n".encode("latin-1")  # not UTF-8
    res = refgraph.read_flows(_flows_file(tmp_path, body))
    assert sorted(zip(res.table["source_npi"], res.table["target_npi"])) == sorted(
        [(A_NPI, B_NPI), (C_NPI, A_NPI)]
    )
    assert res.n_input == 7
    assert res.n_accepted_rows + res.n_rejected_rows == 7
    reasons = _line_rejects(res)
    assert reasons == {
        1: "line 3: expected 4 fields, found 3",
        2: "line 4: blank line (only spaces)",
        3: "line 5: expected 4 fields, found 5",
        4: "line 6: cannot split into fields (unexpected end of data)",
        6: "line 9: not valid UTF-8 (byte 0xe9 at 22)",
    }
    raw = res.rejected.set_index("row")["value"]
    assert raw[1] == f"{A_NPI},{C_NPI},7"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\n", "the file is empty"),
        (b"  \n\n", "the file is empty"),
        ("source_npi,count\n1,2\n".encode("utf-16"), "UTF-16"),
        (b"\x00\x01\x02binary", "not a text file"),
    ],
)
def test_unreadable_text_file_is_one_validation_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    p = _flows_file(tmp_path, content)
    with pytest.raises(ValidationError, match=message) as err:
        refgraph.read_flows(p)
    assert "flows.csv" in str(err.value)


def test_truncated_and_fake_gzip(tmp_path: Path) -> None:
    rows = "".join(f"{A_NPI},{B_NPI},{i},1\n" for i in range(1, 3000))
    data = gzip.compress((FLOWS_HEAD + rows).encode())
    cut = _flows_file(tmp_path, data[: len(data) // 2], "flows.csv.gz")
    with pytest.raises(ValidationError, match=r"flows\.csv\.gz: cannot read the file"):
        refgraph.read_flows(cut)
    fake = _flows_file(tmp_path, (FLOWS_HEAD + rows).encode(), "plain.csv.gz")
    with pytest.raises(ValidationError, match=r"plain\.csv\.gz: named \.gz but is not gzip"):
        refgraph.read_flows(fake)
    # gzip data without the .gz name is recognised by its magic bytes
    ok = _flows_file(tmp_path, data, "really-gzip.csv")
    assert refgraph.read_flows(ok).n_input == 2999


def test_corrupt_parquet_is_one_validation_error(tmp_path: Path) -> None:
    p = tmp_path / "flows.parquet"
    pd.DataFrame({"source_npi": [A_NPI], "target_npi": [B_NPI], "count": [3]}).to_parquet(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 20])
    with pytest.raises(ValidationError, match=r"flows\.parquet: cannot read the Parquet file"):
        refgraph.read_flows(p)
    p.write_bytes(b"PAR1 not really")
    with pytest.raises(ValidationError, match="cannot read the Parquet file"):
        refgraph.read_flows(p)


def test_parquet_with_invalid_utf8_text_is_one_validation_error(tmp_path: Path) -> None:
    # found by test_io_fuzz: one flipped byte in a text page made pyarrow's strip raise
    p = tmp_path / "flows.parquet"
    rows = {"source_npi": ["1000000103", "1000000012"], "target_npi": ["1000000012"] * 2}
    pd.DataFrame({**rows, "count": [0, 0], "patients": [0, 0]}).astype(
        {"source_npi": "string", "target_npi": "string"}
    ).to_parquet(p, index=False)
    data = bytearray(p.read_bytes())
    data[int(0.015625 * (len(data) - 1))] = 128
    p.write_bytes(bytes(data))
    with pytest.raises(ValidationError, match=r"flows\.parquet: cannot read .*UTF8"):
        refgraph.read_flows(p)


def test_bom_cms_file_and_documented_header_aliases(tmp_path: Path) -> None:
    head = "Initial Physician NPI,Secondary Physician NPI,Shared Count,Number Unique Beneficiaries,"
    head += "Number Same Day Visits\n"
    body = f"{A_NPI},{B_NPI},40,12,3\n{B_NPI},{C_NPI},25,11,0\n"
    p = tmp_path / "pspp_days30.csv"
    p.write_bytes(b"\xef\xbb\xbf" + (head + body).encode())
    net = refgraph.read_cms_shared_patients(p, year=2014)
    f = net.flows.sort_values("count", ascending=False)
    assert f[["count", "patients", "same_day_count"]].values.tolist() == [[40, 12, 3], [25, 11, 0]]
    # a BOM on a headerless file too
    q = tmp_path / "raw_days30.txt"
    q.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert refgraph.read_cms_shared_patients(q, year=2014).n_flows == 2


def test_cms_same_day_count_above_count_and_bad_year(tmp_path: Path) -> None:
    p = tmp_path / "pspp_days30.txt"
    p.write_text(f"{A_NPI},{B_NPI},40,12,3\n{B_NPI},{C_NPI},25,11,26\n")
    net = refgraph.read_cms_shared_patients(p, year=2014)
    assert net.n_flows == 1
    assert net.rejected["reason"].tolist() == [
        "more same-day pairs than pairs (same_day_count > count)"
    ]
    for bad in (14, True, "2014", 99999):
        with pytest.raises(ValidationError, match="year: expected a 4-digit calendar year"):
            refgraph.read_cms_shared_patients(p, year=bad)
    q = tmp_path / "with_year_days30.csv"
    q.write_text(
        "npi1,npi2,pair_count,bene_count,year\n"
        f"{A_NPI},{B_NPI},40,12,2014\n{B_NPI},{C_NPI},25,11,20x4\n"
    )
    net = refgraph.read_cms_shared_patients(q)
    assert net.n_flows == 1
    assert net.rejected[["row", "column", "reason"]].values.tolist() == [
        [1, "period_end", "unparseable date"],
        [1, "period_start", "unparseable date"],
    ]


def test_hop_directory_and_network_keep_line_rejects(tmp_path: Path) -> None:
    hop = tmp_path / "hop.csv"
    hop.write_text(
        "from_npi,to_npi,patient_count,transaction_count,average_day_wait,std_day_wait\n"
        f"{A_NPI},{B_NPI},11,25,14.2,9.1\n{A_NPI},{C_NPI},11\n"
    )
    net = refgraph.read_docgraph_hop(hop)
    assert net.n_flows == 1
    assert _line_rejects(net.ingest["flows"]) == {1: "line 3: expected 6 fields, found 3"}

    d = tmp_path / "npidata.csv"
    d.write_bytes(
        b"NPI,Entity Type Code,Provider Last Name (Legal Name),Provider First Name\n"
        + f"{A_NPI},1,OKAFOR,ADA\n{B_NPI},1,M\u00dcLLER\n".encode()
        + f"{C_NPI},1,M\u00dcLLER,JOS\u00c9\n".encode("latin-1")
    )
    res = refgraph.read_directory(d)
    assert res.table["name"].tolist() == ["OKAFOR, ADA"]
    assert res.n_input == 3 and res.n_rejected_rows == 2
    assert _line_rejects(res) == {
        1: "line 3: expected 4 fields, found 3",
        2: "line 4: not valid UTF-8 (byte 0xdc at 14)",
    }

    flows = _flows_file(tmp_path, (FLOWS_HEAD + f"{A_NPI},{B_NPI},10,3\n1,2\n").encode())
    net = refgraph.read_network(flows=flows)
    assert net.n_flows == 1
    assert net.rejected[["table", "row", "column"]].values.tolist() == [["flows", 1, "<line>"]]
    ing = net.ingest["flows"]
    assert ing.n_accepted_rows + ing.n_rejected_rows == ing.n_input == 2


def test_extra_columns_of_a_csv_are_inferred_as_numbers(tmp_path: Path) -> None:
    p = _flows_file(
        tmp_path,
        (
            "source_npi,target_npi,count,weight,label,ratio\n"
            f"{A_NPI},{B_NPI},10,3,x,0.5\n{B_NPI},{C_NPI},4,7,y,\n"
        ).encode(),
    )
    t = refgraph.read_flows(p).table
    assert t["weight"].tolist() == [3, 7] and t["weight"].dtype == "int64"
    assert t["label"].tolist() == ["x", "y"]
    assert t["ratio"].iloc[0] == 0.5 and np.isnan(t["ratio"].iloc[1])


def test_directory_with_duplicated_columns_is_one_error(tmp_path: Path) -> None:
    p = tmp_path / "npidata.csv"
    p.write_text(f"NPI,NPI,Provider First Name\n{A_NPI},{A_NPI},ADA\n")
    with pytest.raises(ValidationError, match=r"directory: duplicated column names \['NPI'\]"):
        refgraph.read_directory(p)


def test_nul_byte_line_and_bz2_xz_text(tmp_path: Path) -> None:
    import bz2
    import lzma

    body = (FLOWS_HEAD + f"{A_NPI},{B_NPI},10,3\n{A_NPI},{C_NPI},\x007,1\n").encode()
    for name, data in (
        ("f.csv", body),
        ("f.csv.bz2", bz2.compress(body)),
        ("f.csv.xz", lzma.compress(body)),
    ):
        res = refgraph.read_flows(_flows_file(tmp_path, data, name))
        assert len(res.table) == 1
        assert _line_rejects(res) == {1: "line 3: holds a NUL byte"}
