"""Fuzz tests of every file reader: random valid files with random damage (issue 13).

Each reader gets a small valid file built from random rows, then random damage
(truncation, inserted bytes and lines, a byte-order mark, another encoding,
compression, damaged compression). The promise checked: the reader either
raises a refgraph error (a :class:`~refgraph.RefgraphError` subclass) or
returns a result in which every data line is accepted or rejected:
``n_accepted_rows + n_rejected_rows == n_input == data lines``, with the data
lines counted here from the damaged bytes by the documented rule (non-empty
lines after the header; a CMS/DocGraph file has no header when its first field
is all digits).
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refgraph import RefgraphError, npi_check_digit
from refgraph.io import (
    flows_from_events,
    read_cms_shared_patients,
    read_directory,
    read_docgraph_hop,
    read_flows,
    read_physicians,
)

# REFGRAPH_FUZZ_EXAMPLES raises the number of examples for a longer local run.
FUZZ = settings(
    max_examples=int(os.environ.get("REFGRAPH_FUZZ_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    database=None,
)

NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 13)]
NAMES = ["OKAFOR, ADA", "Müller, José", 'Ørsted "Hans"', "Nguyễn, Lan", "O'Brien, Ann"]
ZIPS = [("10001", 40.75, -74.0), ("02114", 42.36, -71.07), ("60601", 41.88, -87.62)]

idx = st.integers(min_value=0, max_value=len(NPIS) - 1)


def _csv(header: list[str] | None, rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


@st.composite
def flow_rows(draw: Any) -> list[list[Any]]:
    n = draw(st.integers(min_value=0, max_value=12))
    rows = []
    for _ in range(n):
        a, b = draw(idx), draw(idx)
        count = draw(st.integers(min_value=0, max_value=500))
        rows.append([NPIS[a], NPIS[b], count, draw(st.integers(0, max(count, 0)))])
    return rows


# ----------------------------------------------------------------------------- damage
damage_op = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=12)),
    st.tuples(
        st.just("line"),
        st.floats(0, 1),
        st.sampled_from(
            [
                b"   ",
                b"",
                b"1,2",
                b'1234567893,"oops',
                b"a,b,c,d,e,f,g,h",
                b"\xff\xfe\x00",
                b"\xe9t\xe9",
                b",,,,",
                b'"',
                b"\t\t",
                b"\r",
                b"1003033051,1234567893,x,1,0",
            ]
        ),
    ),
    st.tuples(st.just("delete"), st.floats(0, 1), st.integers(1, 20)),
    st.tuples(st.just("bom")),
    st.tuples(st.just("encode"), st.sampled_from(["latin-1", "cp1252", "utf-16"])),
)


def damage(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    """Apply random damage to the bytes of a file."""
    for op in ops:
        pos = int(op[1] * len(data)) if len(op) > 1 and isinstance(op[1], float) else 0
        if op[0] == "truncate":
            data = data[:pos]
        elif op[0] == "insert":
            data = data[:pos] + op[2] + data[pos:]
        elif op[0] == "line":
            cut = data.rfind(b"\n", 0, pos) + 1
            data = data[:cut] + op[2] + b"\n" + data[cut:]
        elif op[0] == "delete":
            data = data[:pos] + data[pos + op[2] :]
        elif op[0] == "bom":
            data = b"\xef\xbb\xbf" + data
        elif op[0] == "encode":
            text = data.decode("utf-8", errors="replace")
            data = text.encode(op[1], errors="replace")
    return data


def data_lines(data: bytes, header: bool | None) -> int:
    """Data lines of a (decompressed) file by the documented rule."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in data.split(b"\n")]
    content = [i for i, ln in enumerate(lines) if ln.strip()]
    if not content:
        return 0
    first = content[0]
    if header is None:  # CMS/DocGraph: a header unless the first field is all digits
        text = lines[first].decode("utf-8", errors="replace")
        delim = "\t" if text.count("\t") > text.count(",") else ","
        header = not text.split(delim)[0].strip().strip('"').isdigit()
    body = lines[first + 1 :] if header else lines
    return sum(1 for ln in body if len(ln) > 0)


def check(read: Any, path: Path, raw: bytes, header: bool | None, ingest: Any) -> None:
    """Run ``read(path)``: a refgraph error, or every data line accounted for."""
    try:
        out = read(path)
    except RefgraphError:
        return
    res = ingest(out)
    assert res.n_accepted_rows + res.n_rejected_rows == res.n_input
    if raw is not None:
        assert res.n_input == data_lines(raw, header), (res.n_input, raw[:300])
    assert set(res.rejected.columns) >= {"row", "column", "value", "reason"}
    if len(res.rejected):
        assert res.rejected["row"].between(0, res.n_input - 1).all()


def _write(tmp: Path, name: str, data: bytes, compress: str) -> tuple[Path, bytes]:
    """Write ``data`` (optionally compressed); returns the path and the text to count."""
    if compress == "gz":
        path = tmp / f"{name}.gz"
        path.write_bytes(gzip.compress(data))
    elif compress == "bz2":
        path = tmp / f"{name}.bz2"
        path.write_bytes(bz2.compress(data))
    else:
        path = tmp / name
        path.write_bytes(data)
    return path, data


compression = st.sampled_from(["", "", "gz", "bz2"])
ops = st.lists(damage_op, max_size=4)


def flows_ingest(res: Any) -> Any:
    return res


def net_ingest(net: Any) -> Any:
    return net.ingest["flows"]


# ----------------------------------------------------------------------------- readers
@FUZZ
@given(rows=flow_rows(), damage_ops=ops, comp=compression)
def test_fuzz_read_flows_csv(tmp_path: Path, rows: Any, damage_ops: Any, comp: str) -> None:
    header = ["source_npi", "target_npi", "count", "patients"]
    raw = damage(_csv(header, rows).encode(), damage_ops)
    path, text = _write(tmp_path, "flows.csv", raw, comp)
    check(read_flows, path, text, True, flows_ingest)


@st.composite
def physician_rows(draw: Any) -> list[list[Any]]:
    rows = []
    for i in draw(st.lists(idx, max_size=10)):
        z, lat, lon = draw(st.sampled_from(ZIPS))
        swap = draw(st.booleans())
        rows.append(
            [
                NPIS[i],
                draw(st.sampled_from(NAMES)),
                "cardiology",
                z,
                lon if swap else lat,
                lat if swap else lon,
            ]
        )
    return rows


@FUZZ
@given(rows=physician_rows(), damage_ops=ops, comp=compression)
def test_fuzz_read_physicians_csv(tmp_path: Path, rows: Any, damage_ops: Any, comp: str) -> None:
    header = ["npi", "name", "specialty", "zip", "lat", "lon"]
    raw = damage(_csv(header, rows).encode(), damage_ops)
    path, text = _write(tmp_path, "physicians.csv", raw, comp)
    check(read_physicians, path, text, True, flows_ingest)


@FUZZ
@given(rows=flow_rows(), damage_ops=ops, headerless=st.booleans(), comp=compression)
def test_fuzz_read_cms(
    tmp_path: Path, rows: Any, damage_ops: Any, headerless: bool, comp: str
) -> None:
    header = None if headerless else ["npi1", "npi2", "pair_count", "bene_count"]
    rows = [[*r, r[3] // 2] for r in rows]
    if header:
        header = [*header, "same_day_count"]
    raw = damage(_csv(header, rows).encode(), damage_ops)
    path, text = _write(tmp_path, "pspp_days30.txt", raw, comp)
    check(lambda p: read_cms_shared_patients(p, year=2014), path, text, None, net_ingest)


@FUZZ
@given(rows=flow_rows(), damage_ops=ops, comp=compression)
def test_fuzz_read_docgraph_hop(tmp_path: Path, rows: Any, damage_ops: Any, comp: str) -> None:
    header = [
        "from_npi",
        "to_npi",
        "transaction_count",
        "patient_count",
        "average_day_wait",
        "std_day_wait",
    ]
    rows = [[*r, 3.5, 1.25] for r in rows]
    raw = damage(_csv(header, rows).encode(), damage_ops)
    path, text = _write(tmp_path, "hop.csv", raw, comp)
    check(read_docgraph_hop, path, text, None, net_ingest)


@FUZZ
@given(rows=physician_rows(), damage_ops=ops, comp=compression)
def test_fuzz_read_directory(tmp_path: Path, rows: Any, damage_ops: Any, comp: str) -> None:
    header = [
        "NPI",
        "Entity Type Code",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Business Practice Location Address Postal Code",
        "Healthcare Provider Taxonomy Code_1",
        "Healthcare Provider Primary Taxonomy Switch_1",
    ]
    body = [[r[0], "1", r[1].split(",")[0], "X", r[3] + "1234", "207RC0000X", "Y"] for r in rows]
    raw = damage(_csv(header, body).encode(), damage_ops)
    path, text = _write(tmp_path, "npidata.csv", raw, comp)
    check(read_directory, path, text, True, flows_ingest)


@FUZZ
@given(
    enc=st.lists(st.tuples(st.integers(0, 3), idx, st.integers(0, 40)), max_size=15),
    damage_ops=ops,
    comp=compression,
    style=st.sampled_from(["iso", "us", "tz"]),
)
def test_fuzz_claims_encounters(
    tmp_path: Path, enc: Any, damage_ops: Any, comp: str, style: str
) -> None:
    def date(d: int) -> str:
        ts = pd.Timestamp("2024-01-01") + pd.Timedelta(days=d)
        if style == "us":
            return ts.strftime("%m/%d/%Y")
        if style == "tz":
            return ts.strftime("%Y-%m-%dT10:00:00") + ("+05:00" if d % 2 else "-08:00")
        return ts.strftime("%Y-%m-%d")

    rows = [[f"p{p}", NPIS[i], date(d)] for p, i, d in enc]
    raw = damage(_csv(["patient_id", "npi", "date"], rows).encode(), damage_ops)
    path, text = _write(tmp_path, "encounters.csv", raw, comp)
    check(lambda p: flows_from_events(p, min_patients=0), path, text, True, flows_ingest)


@FUZZ
@given(
    rows=flow_rows(),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
    truncate=st.booleans(),
)
def test_fuzz_parquet(tmp_path: Path, rows: Any, cut: float, flips: Any, truncate: bool) -> None:
    df = pd.DataFrame(rows, columns=["source_npi", "target_npi", "count", "patients"])
    df = df.astype({"source_npi": "string", "target_npi": "string"})
    path = tmp_path / "flows.parquet"
    df.to_parquet(path, index=False)
    data = bytearray(path.read_bytes())
    for pos, byte in flips:
        data[int(pos * (len(data) - 1))] = byte
    if truncate:
        data = data[: int(cut * len(data))]
    path.write_bytes(bytes(data))
    check(read_flows, path, None, True, flows_ingest)  # type: ignore[arg-type]


@FUZZ
@given(rows=flow_rows(), cut=st.floats(0, 1), junk=st.binary(max_size=8))
def test_fuzz_damaged_gzip(tmp_path: Path, rows: Any, cut: float, junk: bytes) -> None:
    """Damage to the compressed bytes: truncated or corrupted gzip data."""
    header = ["source_npi", "target_npi", "count", "patients"]
    data = gzip.compress(_csv(header, rows).encode())
    pos = int(cut * len(data))
    path = tmp_path / "flows.csv.gz"
    path.write_bytes(data[:pos] + junk)
    try:
        res = read_flows(path)
    except RefgraphError:
        return
    assert res.n_accepted_rows + res.n_rejected_rows == res.n_input


def test_fuzz_damage_helper_counts_lines() -> None:
    """The test's own line count on a hand-checked file."""
    raw = b"\xef\xbb\xbfa,b\r\n1,2\r\n\r\n   \n3,4"
    assert data_lines(raw, True) == 3
    assert data_lines(b"1,2\n\n3,4\n", None) == 2
    assert data_lines(b"npi1,npi2\n1,2\n", None) == 1


def _outcome(read: Any, path: Path) -> Any:
    """What a read gave: its result, or its refgraph error's type and message."""
    try:
        return read(path)
    except RefgraphError as exc:
        return (type(exc), str(exc))


@FUZZ
@given(
    rows=flow_rows(),
    damage_ops=ops,
    comp=compression,
    cms=st.booleans(),
    block=st.sampled_from([40, 97, 1 << 20]),
)
def test_fuzz_reads_do_not_depend_on_threads(
    tmp_path: Path,
    monkeypatch: Any,
    same_read: Any,
    rows: Any,
    damage_ops: Any,
    comp: str,
    cms: bool,
    block: int,
) -> None:
    # damaged files in blocks of a few lines: reading the next block in a worker thread and
    # checking columns two at a time gives what the calling thread alone gives (the same
    # result, or the same error)
    from refgraph.config import config
    from refgraph.io import _sources, _text

    monkeypatch.setattr(
        _sources, "read_text", lambda path, **kw: _text.read_text(path, block_size=block, **kw)
    )
    if cms:
        header = None
        raw = damage(_csv(header, [[*r, r[3] // 2] for r in rows]).encode(), damage_ops)
        path, _ = _write(tmp_path, "pspp_days30.txt", raw, comp)

        def read(p: Path) -> Any:
            return read_cms_shared_patients(p, year=2014, block_size=block)
    else:
        raw = damage(
            _csv(["source_npi", "target_npi", "count", "patients"], rows).encode(), damage_ops
        )
        path, _ = _write(tmp_path, "flows.csv", raw, comp)
        read = read_flows
    two = _outcome(read, path)
    with config(reader_threads=1):
        one = _outcome(read, path)
    if isinstance(two, tuple):
        assert one == two
    else:
        same_read(one, two)
