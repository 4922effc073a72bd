"""Readers on real rows: CMS shared-patient files, DocGraph hop, NPPES directory, tables."""

from __future__ import annotations

import gzip
from pathlib import Path

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
