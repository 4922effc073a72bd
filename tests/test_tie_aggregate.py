"""The tie graph's per-pair sums (``paths._tie_data._aggregate``) against a plain reference.

Each case is random evidence (flows and events both ways, unknown patients, unknown and
shared dates, logged kinds, int32 and int64 node ids), summed per unordered pair once by
the kernel and once row by row in Python, following its documented rules; chunks far
smaller than the default give the same bytes, the flows' own nullable columns sum as
their float64 copies, and the tie graph's CSR is scipy's symmetric matrix of the ties.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from refgraph.paths import _tie_data, _tie_graph
from refgraph.paths._tie_data import _NAT, _aggregate


def _evidence(seed: int, m: int, n: int, **kw: Any) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    dt = kw.get("ids", np.int32)
    last = (
        np.broadcast_to(np.int64(1_700_000_000 * 10**9), (m,))
        if kw.get("one_date")
        else np.where(rng.random(m) < 0.2, _NAT, rng.integers(10**17, 2 * 10**17, m))
    )
    kind = (
        np.where(rng.random(m) < 0.3, rng.integers(0, 4, m), -1).astype(np.int32)
        if kw.get("kinds")
        else np.broadcast_to(np.int32(-1), (m,))
    )
    return {
        "s": rng.integers(0, n, m).astype(dt),
        "d": rng.integers(0, n, m).astype(dt),
        "cnt": rng.integers(0, 5, m).astype("float64"),
        "pat": np.where(rng.random(m) < kw.get("unknown_pat", 0.0), np.nan, rng.integers(0, 9, m)),
        "last": last,
        "ev": rng.random(m) < kw.get("events", 0.0),
        "kind": kind,
    }


def _reference(c: dict[str, np.ndarray]) -> dict[tuple[int, int], tuple[Any, ...]]:
    rows: dict[tuple[int, int], list[int]] = {}
    for i, (s, d) in enumerate(zip(c["s"].tolist(), c["d"].tolist(), strict=True)):
        rows.setdefault((min(s, d), max(s, d)), []).append(i)
    out = {}
    for (a, b), idx in rows.items():
        fwd = [c["s"][i] <= c["d"][i] for i in idx]
        ev = [bool(c["ev"][i]) for i in idx]
        ab = sum(c["cnt"][i] for i, f, e in zip(idx, fwd, ev, strict=True) if f and not e)
        ba = sum(c["cnt"][i] for i, f, e in zip(idx, fwd, ev, strict=True) if not f and not e)
        if ab + ba == 0:  # no referrals: the pair's events each way
            ab = float(sum(f and e for f, e in zip(fwd, ev, strict=True)))
            ba = float(sum((not f) and e for f, e in zip(fwd, ev, strict=True)))
        pats = [c["pat"][i] for i in idx if not np.isnan(c["pat"][i])]
        pat = float(sum(pats)) if pats else np.nan
        ev_last = max([int(c["last"][i]) for i, e in zip(idx, ev, strict=True) if e] or [_NAT])
        other = max([int(c["last"][i]) for i, e in zip(idx, ev, strict=True) if not e] or [_NAT])
        last = ev_last if ev_last != _NAT else other
        kind = max(int(c["kind"][i]) for i in idx)
        out[(a, b)] = (ab, ba, pat, last, ev_last != _NAT, kind)
    return out


@pytest.mark.parametrize("ids", [np.int32, np.int64])
@pytest.mark.parametrize(
    "kw",
    [
        {},  # flows only: a CMS file
        {"one_date": True},  # one period for every flow
        {"unknown_pat": 0.4},
        {"events": 0.3, "unknown_pat": 0.3, "kinds": True},
        {"events": 0.6, "one_date": True, "kinds": True},
    ],
    ids=["flows", "one-date", "unknown-patients", "events-kinds", "events-one-date"],
)
@pytest.mark.parametrize("m,n", [(0, 5), (1, 5), (300, 12), (3000, 400)])
def test_pair_sums_match_a_row_by_row_reference(
    kw: dict[str, Any], ids: Any, m: int, n: int
) -> None:
    c = _evidence(m * 7 + n, m, n, ids=ids, **kw)
    _check(c, _aggregate(dict(c), n))


def _check(c: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> None:
    ref = _reference(c)
    pairs = list(zip(got["a"].tolist(), got["b"].tolist(), strict=True))
    assert pairs == sorted(ref)  # one row per pair, sorted by (a, b), a <= b
    assert got["a"].dtype == np.int32 and got["kind"].dtype == np.int32
    assert got["last"].dtype == np.int64 and got["from_events"].dtype == bool
    for i, p in enumerate(pairs):
        ab, ba, pat, last, from_events, kind = ref[p]
        assert (got["ab"][i], got["ba"][i]) == (ab, ba)
        assert got["pat"][i] == pat or (np.isnan(pat) and np.isnan(got["pat"][i]))
        assert (int(got["last"][i]), bool(got["from_events"][i])) == (last, from_events)
        assert int(got["kind"][i]) == kind


_CASES = [
    {"unknown_pat": 0.3},
    {"events": 0.3, "unknown_pat": 0.3, "kinds": True},
    {"events": 0.5, "one_date": True},
]


@pytest.mark.parametrize("chunk", [1, 3, 64])
@pytest.mark.parametrize("kw", _CASES, ids=["flows", "events-kinds", "events-one-date"])
def test_sums_a_chunk_of_segments_at_a_time_are_the_same(
    kw: dict[str, Any], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks far smaller than the segments' rows (cut between whole pairs) give the
    reference's values and the one-chunk result byte for byte."""
    c = _evidence(chunk + 11, 2000, 60, **kw)  # 60 nodes: pairs repeat many times
    whole = _aggregate(dict(c), 60)
    monkeypatch.setattr(_tie_data, "_CHUNK", chunk)
    got = _aggregate(dict(c), 60)
    _check(c, got)
    for k, v in whole.items():
        assert v.dtype == got[k].dtype and np.array(v).tobytes() == np.array(got[k]).tobytes(), k


def test_flow_columns_are_read_as_the_old_float64_copies() -> None:
    """``cnt``/``pat`` handed over as the flows' own nullable columns (converted a chunk at
    a time, missing counts 0, missing patients NaN) sum as their float64 copies do."""
    c = _evidence(5, 3000, 300, unknown_pat=0.3)
    cnt = pd.array(np.where(np.random.default_rng(1).random(3000) < 0.2, None, c["cnt"]),
                   dtype="Int64")  # fmt: skip
    pat = pd.array(np.where(np.isnan(c["pat"]), None, c["pat"]), dtype="Int64")
    dense = {**c, "cnt": cnt.to_numpy("float64", na_value=0.0),
             "pat": pat.to_numpy("float64", na_value=np.nan)}  # fmt: skip
    want = _aggregate(dict(dense), 300)
    got = _aggregate({**c, "cnt": cnt, "pat": pat}, 300)
    _check(dense, got)
    for k, v in want.items():
        assert np.array(v).tobytes() == np.array(got[k]).tobytes(), k


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_csr_of_ties_is_scipys_symmetric_matrix(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tie graph's CSR, placed a chunk of ties at a time with each tie's ``a`` read
    off ``tstart``, against scipy's canonical CSR of the symmetric tie-id matrix."""
    monkeypatch.setattr(_tie_graph, "_CHUNK", chunk)
    rng = np.random.default_rng(chunk)
    n = 90
    keys = np.unique(rng.integers(0, n * n, 1500))
    a, b = keys // n, keys % n
    keep = a < b
    a, b = a[keep].astype(np.int32), b[keep].astype(np.int32)
    strength = rng.random(len(a))
    strength[::17] = 0.0  # floored at 1e-300
    up = np.bincount(a, minlength=n)
    indptr, indices, cost, tstart = _tie_graph._csr_of_ties(b, up, n, strength)
    tie = np.arange(1, len(a) + 1, dtype=np.float64)
    ref = sp.csr_array((np.r_[tie, tie], (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    ref.sort_indices()
    assert np.array_equal(indptr, ref.indptr) and np.array_equal(indices, ref.indices)
    want = -np.log(np.clip(strength[ref.data.astype(np.int64) - 1], 1e-300, 1.0))
    assert cost.tobytes() == want.tobytes()
    assert np.array_equal(tstart, np.r_[0, np.cumsum(up)])
