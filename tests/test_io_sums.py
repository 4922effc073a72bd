"""Repeated flows summed in numpy and across blocks by int64 pair keys (issue 11).

The readers' fast path sums a block's repeated flows in numpy
(:mod:`refgraph.io._fast_sum`), and the CMS reader finds the flows repeated in
different blocks by one sort of int64 keys made of the NPI stems, then codes the
network's NPIs from those stems. References: validate_table on the whole table,
a pandas group-by of the file's lines, and the node ids computed from the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from refgraph import npi_check_digit
from refgraph._tables import node_codes, npis_of_stems
from refgraph._validate import validate_table
from refgraph._views import flow_node_ids
from refgraph.io import _fast, read_cms_shared_patients

NPIS = [f"1{i:08d}{npi_check_digit(f'1{i:08d}')}" for i in range(1, 5)]
BIG = 2**52
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a failure is shown unshrunk
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

count = st.one_of(st.integers(0, 60).map(str), st.integers(BIG, BIG + 9).map(str))
maybe = st.one_of(st.integers(0, 60).map(str), st.just(""), st.just(None))
wait = st.one_of(st.floats(0, 99, allow_nan=False).map(repr), st.just(""), st.just(None))


@st.composite
def repeated_flows(draw: Any) -> dict[str, list[Any]]:
    """Flows of three NPIs (most keys repeat), counts past 2**52 now and then."""
    n = draw(st.integers(1, 40))
    pick = st.sampled_from(NPIS[:3])
    cols: dict[str, list[Any]] = {
        "source_npi": draw(st.lists(pick, min_size=n, max_size=n)),
        "target_npi": draw(st.lists(pick, min_size=n, max_size=n)),
        "count": draw(st.lists(count, min_size=n, max_size=n)),
    }
    for name, values in (("patients", maybe), ("same_day_count", maybe)):
        if draw(st.booleans()):
            cols[name] = draw(st.lists(values, min_size=n, max_size=n))
    return cols


@SETTINGS
@given(cols=repeated_flows(), floats=st.sampled_from([(), ("average_day_wait",)]), data=st.data())
def test_summed_in_numpy_is_validate_table(
    monkeypatch: pytest.MonkeyPatch,
    cols: dict[str, list[Any]],
    floats: Any,
    data: Any,
    same_read: Any,
) -> None:
    # a file's one period and provenance (as the CMS reader gives them), repeated keys
    # summed in numpy, or by the validator for sums past 2**53: the validator's result
    n = len(cols["source_npi"])
    for name in floats:
        cols[name] = data.draw(st.lists(wait, min_size=n, max_size=n))
    taken: list[bool] = []
    real = _fast.summed_rows

    def spy(*args: Any) -> Any:
        got = real(*args)
        taken.append(got is not None)
        return got

    monkeypatch.setattr(_fast, "summed_rows", spy)
    arrow: dict[str, Any] = {k: pa.array(v, type=pa.string()) for k, v in cols.items()}
    start, end = np.datetime64("2015-01-01", "ns"), np.datetime64("2015-12-31", "ns")
    consts = {"period_start": start, "period_end": end, "provenance": "cms-pspp:30d"}
    got = _fast.fast_flows({**arrow, **consts}, n, floats=floats)
    assert got is not None
    frame = pd.DataFrame({k: pd.array(v, dtype="string") for k, v in cols.items()})
    frame["period_start"], frame["period_end"] = start, end
    frame["provenance"] = "cms-pspp:30d"
    kinds = dict.fromkeys(floats, "float")
    ref = validate_table(frame, "flows", duplicates="aggregate", extra_kinds=kinds)
    same_read(got, ref)
    big = any(c is not None and len(c) > 2 for c in cols["count"])
    if taken and not big:  # small sums: summed in numpy, never handed back
        assert all(taken)


def test_summed_rows_declines_other_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # two periods among the rows of one pair: the full key decides, the validator's business
    answers: list[Any] = []
    real = _fast.summed_rows
    monkeypatch.setattr(_fast, "summed_rows", lambda *a: answers.append(real(*a)) or answers[-1])
    cols = {
        "source_npi": pa.array([NPIS[0]] * 4),
        "target_npi": pa.array([NPIS[1]] * 4),
        "count": pa.array(["1", "2", "3", "5"]),
        "period_start": pa.array(["2015-01-01", "2016-01-01", "2015-01-01", "2016-01-01"]),
    }
    got = _fast.fast_flows(cols, 4)
    assert got is not None and len(answers) == 1 and answers[0] is None
    assert got.table["count"].tolist() == [4, 7]
    one = {**cols, "period_start": pa.array(["2015-01-01"] * 4)}  # one period: numpy's
    assert _fast.fast_flows(one, 4).table["count"].tolist() == [11]  # type: ignore[union-attr]
    assert len(answers) == 2 and answers[1] is not None


def test_npis_of_stems_gives_valid_npis() -> None:
    rng = np.random.default_rng(3)
    stems = rng.integers(0, 10**9, 2000)
    got = npis_of_stems(stems)
    want = [int(f"{s:09d}{npi_check_digit(f'{s:09d}')}") for s in stems.tolist()]
    assert got.tolist() == want


@st.composite
def unsorted_lines(draw: Any) -> list[tuple[int, int, int, int, int]]:
    """A CMS file's lines in no order: repeated pairs, self-referrals, bad patient counts.

    Now and then a count near 2**52, so that a pair's sum passes 2**53 inside one
    block, across blocks, or both.
    """
    out = []
    for _ in range(draw(st.integers(2, 60))):
        a, b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
        pair = draw(st.one_of(st.integers(0, 60), st.integers(0, 60).map(lambda x: BIG + x)))
        bene = draw(st.integers(0, min(pair, 60) + 2))  # now and then more than pair
        out.append((a, b, pair, bene, draw(st.integers(0, 3))))
    return out


def _groupby_reference(lines: list[tuple[int, int, int, int, int]]) -> tuple[Any, set[int]]:
    """The flows (sorted by pair) and rejected line numbers, by a pandas group-by."""
    df = pd.DataFrame(lines, columns=["a", "b", "count", "patients", "same_day_count"])
    df["src"] = [NPIS[i] for i in df["a"]]
    df["dst"] = [NPIS[i] for i in df["b"]]
    bad = (
        (df["src"] == df["dst"])
        | (df["patients"] > df["count"])
        | (df["same_day_count"] > df["count"])
    )
    good = df[~bad]
    cols = ["count", "patients", "same_day_count"]
    exact = good[cols].map(int)  # Python integers: exact sums past 2**53
    sums = exact.groupby([good["src"], good["dst"]]).sum()
    over = sums.index[(sums > 2**53).any(axis=1)]
    key = pd.MultiIndex.from_frame(good[["src", "dst"]])
    over_rows = set(good.index[key.isin(over)].tolist())
    flows = sums.drop(index=over).reset_index()
    return flows, set(df.index[bad].tolist()) | over_rows


@SETTINGS
@given(lines=unsorted_lines(), size=st.integers(40, 400))
def test_unsorted_blocks_are_a_groupby(
    tmp_path: Path, lines: list[tuple[int, int, int, int, int]], size: int
) -> None:
    # a file in no order read in small blocks: the pairs summed across blocks, every row
    # accepted or rejected, the physicians and node ids those of the flows' text
    p = tmp_path / "pspp_days30.txt"
    p.write_text("".join(f"{NPIS[a]},{NPIS[b]},{x},{y},{z}\n" for a, b, x, y, z in lines))
    net = read_cms_shared_patients(p, year=2015, block_size=size)
    flows, rejected = _groupby_reference(lines)
    got = net.flows.sort_values(["source_npi", "target_npi"]).reset_index(drop=True)
    assert got["source_npi"].tolist() == flows["src"].tolist()
    assert got["target_npi"].tolist() == flows["dst"].tolist()
    for c in ("count", "patients", "same_day_count"):
        if len(flows):  # (a table of no flows has no same_day_count column)
            assert got[c].astype(object).tolist() == flows[c].tolist(), c
    assert set(net.rejected["row"].tolist()) == rejected
    res = net.ingest["flows"]
    assert res.n_accepted_rows + res.n_rejected_rows == len(lines)
    seen = pd.concat([net.flows["source_npi"], net.flows["target_npi"]])
    assert net.physicians["npi"].tolist() == pd.unique(seen.to_numpy(dtype=object)).tolist()
    src, dst = flow_node_ids(net)  # from the reader's stems, cached by the build
    want = node_codes(net.physicians["npi"], net.flows["source_npi"], net.flows["target_npi"])
    assert src.tolist() == want[0].tolist() and dst.tolist() == want[1].tolist()


def test_sums_past_2_53_across_blocks_are_rejected(tmp_path: Path) -> None:
    # one pair in the first and the last block, summing past 2**53 only across them: the
    # file is read again in one block and both rows are rejected, as a group-by says
    lines = [f"{NPIS[0]},{NPIS[1]},{BIG + 5},3,0\n"]
    lines += [f"{NPIS[2]},{NPIS[i % 2]},{i},1,0\n" for i in range(1, 30)]
    lines += [f"{NPIS[0]},{NPIS[1]},{BIG + 1},2,0\n"]
    p = tmp_path / "pspp_days30.txt"
    p.write_text("".join(lines))
    net = read_cms_shared_patients(p, year=2015, block_size=200)
    assert sorted(net.rejected["row"].tolist()) == [0, 30]
    assert net.rejected["reason"].str.startswith("sum of duplicate flows").all()
    assert len(net.flows) == 2 and net.flows["count"].sum() == sum(range(1, 30))
    assert not (net.flows["source_npi"] == NPIS[0]).any()


def test_a_sum_past_2_53_inside_a_block_rejects_the_flow_in_every_block(tmp_path: Path) -> None:
    # the pair passes 2**53 within the first block and repeats in the last: a read in
    # small blocks rejects its three rows, as a read in one block does
    lines = [f"{NPIS[0]},{NPIS[1]},{BIG + 5},3,0\n", f"{NPIS[0]},{NPIS[1]},{BIG + 1},2,0\n"]
    lines += [f"{NPIS[2]},{NPIS[i % 2]},{i},1,0\n" for i in range(1, 30)]
    lines += [f"{NPIS[0]},{NPIS[1]},7,2,0\n"]
    p = tmp_path / "pspp_days30.txt"
    p.write_text("".join(lines))
    small = read_cms_shared_patients(p, year=2015, block_size=200)
    whole = read_cms_shared_patients(p, year=2015)
    assert sorted(small.rejected["row"].tolist()) == [0, 1, 31]
    assert small.rejected.equals(whole.rejected)
    assert small.flows.equals(whole.flows)
