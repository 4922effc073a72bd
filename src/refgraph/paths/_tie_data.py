"""Inputs of the tie table: published evidence, dates, logged and touchpoint ties, colleague
pairs, hospital and distance context, NPI -> node ids.

Private helpers of :mod:`refgraph.paths._ties` (and of :func:`fit_tie_strength` in
:mod:`refgraph.paths._fit`). The published figures the default tie model is anchored on
live here, each with its source, and :func:`_barnett_curve` derives the default
shared-patient curve from them (docs/tie-strength.md shows the curve and the table).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ValidationError
from .._params import check_date
from .._tables import npi_ints

logger = logging.getLogger(__name__)

_NPI_IN_TEXT = re.compile(r"(?<!\d)(\d{10})(?!\d)")

# ------------------------------------------------------------------ published evidence
#: Barnett, Landon, O'Malley, Keating, Christakis (2011). Mapping physician networks with
#: self-reported and administrative data. Health Services Research 46(5):1592-1609.
#: Abstract (principal findings; the curve is its Figure 1): the share of physician pairs
#: recognising a professional relationship rises with the Medicare patients they shared
#: in 2006 (Boston HRR, 616 physicians surveyed, 63% response), up to 82% at nine shared
#: patients; shared patients as a test of a relationship has ROC AUC 0.73 (95% CI
#: 0.70-0.75); primary-care physicians recognise relationships more often than specialists.
BARNETT_P_AT_9 = 0.82
BARNETT_AUC = 0.73
BARNETT_AUC_CI = (0.70, 0.75)

#: Landon, Keating, Barnett, Onnela, Paul, O'Malley, Keegan, Christakis (2012). Variation
#: in patient-sharing networks of physicians across the United States. JAMA 308(3):265-273.
#: Results (abstract): 96.0% of connected physician pairs were based at the same hospital
#: vs 69.2% of unconnected pairs; mean office distance 13.2 miles (connected) vs 24.2.
LANDON_SAME_HOSPITAL = (0.960, 0.692)  # (connected, unconnected)
LANDON_MEAN_MILES = (13.2, 24.2)  # (connected, unconnected)

#: Mandl, Olson, Mines, Liu, Tian (2014). Provider collaboration: cohesion, constellations,
#: and shared patients. J Gen Intern Med 29(11):1499-1505. Results (abstract): of provider
#: pairs sharing at least one patient, 54% shared one and 19% shared two.
MANDL_SHARE_1_2 = (0.54, 0.19)

#: Tail of the shared-patient distribution beyond two patients: ``P(k) ~ k**-2`` for
#: ``k >= 3`` (an assumption; Mandl et al. give only the 27% total).
ROSTER_TAIL_EXPONENT = 2.0

MILES_PER_KM = 1.0 / 1.609344


def _roster_distribution(n_max: int = 100_000, tail: float = ROSTER_TAIL_EXPONENT) -> np.ndarray:
    """Assumed distribution of shared-patient counts ``k = 1..n_max`` among sharing pairs."""
    k = np.arange(1, n_max + 1, dtype="float64")
    p1, p2 = MANDL_SHARE_1_2
    pi = np.zeros(n_max)
    pi[0], pi[1] = p1, p2
    t = k[2:] ** -tail
    pi[2:] = (1.0 - p1 - p2) * t / t.sum()
    return pi


def _curve_auc(slope: float, intercept: float, cap: float, pi: np.ndarray) -> float:
    """ROC AUC of the raw count ``k`` as a test when ``P(y=1 | k)`` is the capped curve."""
    k = np.arange(1, len(pi) + 1, dtype="float64")
    p = 1.0 / (1.0 + np.exp(-(intercept + slope * np.log(np.minimum(k, cap)))))
    pos, neg = pi * p, pi * (1.0 - p)
    below = np.cumsum(neg) - neg  # negatives with a smaller count
    return float((np.sum(pos * below) + 0.5 * np.sum(pos * neg)) / (pos.sum() * neg.sum()))


def _barnett_curve(
    p_at_9: float = BARNETT_P_AT_9,
    auc: float = BARNETT_AUC,
    cap: float = 9.0,
    tail: float = ROSTER_TAIL_EXPONENT,
) -> tuple[float, float]:
    """Intercept and slope of ``logit P = a + b * log(min(k, cap))`` through Barnett's figures.

    The curve passes exactly through ``P(9) = p_at_9``; the slope is the one for which
    the count of shared patients, as a test, has ROC AUC ``auc`` when the counts are
    distributed as :func:`_roster_distribution` (bisection; AUC rises with the slope).
    """
    pi = _roster_distribution(tail=tail)
    l9 = float(np.log(p_at_9 / (1.0 - p_at_9)))

    def gap(b: float) -> float:
        return _curve_auc(b, l9 - b * np.log(9.0), cap, pi) - auc

    lo, hi = 1e-6, 20.0
    if gap(lo) > 0 or gap(hi) < 0:
        raise ValidationError(f"auc: {auc!r} is out of reach of a rising curve through P(9)")
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if gap(mid) < 0 else (lo, mid)
    b = 0.5 * (lo + hi)
    return l9 - b * float(np.log(9.0)), b


def _dates(col: pd.Series) -> np.ndarray:
    """A date column as datetime64[ns] (NaT for missing)."""
    return np.asarray(pd.to_datetime(col, errors="coerce").to_numpy(dtype="datetime64[ns]"))


def _as_of(net: Any, as_of: Any) -> pd.Timestamp | None:
    if as_of is not None:
        return check_date(as_of, "as_of")
    cands = []
    for col in (net.flows["period_end"], net.events["date"], net.touchpoints["date"]):
        if len(col) and col.notna().any():
            cands.append(pd.Timestamp(pd.to_datetime(col).max()))
    return max(cands) if cands else None


def _read_ties(ties: pd.DataFrame, idx: pd.Index) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if not isinstance(ties, pd.DataFrame):
        raise ValidationError(f"ties: expected a DataFrame or None, got {type(ties).__name__}")
    cols = list(ties.columns)
    if {"npi_a", "npi_b"} <= set(cols):
        ca, cb = "npi_a", "npi_b"
    elif {"source_npi", "target_npi"} <= set(cols):
        ca, cb = "source_npi", "target_npi"
    else:
        raise ValidationError(
            f"ties: expected columns npi_a, npi_b (or source_npi, target_npi), got {cols}"
        )
    a = idx.get_indexer(ties[ca].astype("string"))
    b = idx.get_indexer(ties[cb].astype("string"))
    kind = ties["kind"].astype(str).tolist() if "kind" in cols else ["knows"] * len(ties)
    ok = (a >= 0) & (b >= 0) & (a != b)
    if (~ok).any():
        logger.warning(
            "ties: %d row(s) name unknown physicians or a self-tie; ignored", (~ok).sum()
        )
    return a[ok], b[ok], [k for k, o in zip(kind, ok) if o]


def _touchpoint_ties(net: Any, idx: pd.Index) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Touchpoints whose notes name another physician's NPI ("introduced by 1234567893").

    The ties come in the order of the touchpoints' content (date, then kind, physician and
    notes), not of their rows, so that the kind a pair is labelled with (the last logged
    tie's) is the latest touchpoint's whatever order the table was read in.
    """
    tp = net.touchpoints
    if not len(tp) or tp["notes"].isna().all():
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    by = ["date", "kind", "npi", "notes"]
    keys = pd.DataFrame(
        {c: (tp[c] if c == "date" else tp[c].astype("string")).to_numpy() for c in by}
    )
    tp = tp.iloc[keys.sort_values(by, na_position="first").index.to_numpy()]
    notes = tp["notes"].astype("string").fillna("")
    found = notes.str.findall(_NPI_IN_TEXT.pattern)
    rows = [(i, m) for i, ms in enumerate(found.tolist()) for m in ms]
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), []
    who = idx.get_indexer(tp["npi"].astype("string").to_numpy()[[r[0] for r in rows]])
    other = idx.get_indexer(pd.Index([r[1] for r in rows]))
    kinds = tp["kind"].astype(str).to_numpy()[[r[0] for r in rows]]
    ok = (who >= 0) & (other >= 0) & (who != other)
    return who[ok], other[ok], [f"touchpoint: {k}" for k in kinds[ok]]


def _colleague_pairs(net: Any, max_size: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs of physicians sharing a practice of at most ``max_size`` physicians."""
    if max_size < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    prac = net.physicians["practice_id"]
    has = prac.notna().to_numpy(bool)
    codes, _ = pd.factorize(prac)
    ids = np.flatnonzero(has)
    g = codes[ids]
    sizes = np.bincount(g) if len(g) else np.zeros(0, np.int64)
    keep = sizes[g] <= max_size
    ids, g = ids[keep], g[keep]
    order = np.argsort(g, kind="stable")
    ids, g = ids[order], g[order]
    a_parts, b_parts = [], []
    for off in range(1, max_size):
        if off >= len(g):
            break
        same = g[:-off] == g[off:]
        a_parts.append(ids[:-off][same])
        b_parts.append(ids[off:][same])
    if not a_parts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(a_parts), np.concatenate(b_parts)


def _node_arrays(net: Any) -> dict[str, np.ndarray]:
    """Per physician: practice, system and hospital codes (-1 when unknown) and the
    office coordinates (NaN when unknown, absent without ``lat``/``lon`` columns)."""
    pcode, scode = _node_context(net)
    phys, prac = net.physicians, net.practices
    kind_of = pd.Series(prac["kind"].astype("string").to_numpy(), index=prac["practice_id"])
    kind_of = kind_of[~kind_of.index.duplicated()]
    is_hosp = (phys["practice_id"].map(kind_of) == "hospital").fillna(False).to_numpy(bool)
    n_sys = int(scode.max()) + 1 if len(scode) else 0
    hcode = np.where(scode >= 0, scode, np.where(is_hosp & (pcode >= 0), n_sys + pcode, -1))
    out = {"pcode": pcode, "scode": scode, "hcode": hcode}
    if {"lat", "lon"} <= set(phys.columns):
        for c in ("lat", "lon"):
            num = pd.to_numeric(phys[c], errors="coerce")
            out[c] = num.to_numpy("float64", na_value=np.nan)
    return out


def _pair_context(
    net: Any, a: np.ndarray, b: np.ndarray, node: dict[str, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Per pair: ``same_practice``, ``same_system``, ``hospital_known``, ``same_hospital``
    and ``miles`` (office distance, NaN when a coordinate is missing).

    A physician's hospital is the practice's ``system`` when known, else the practice
    itself when its ``kind`` is ``"hospital"``, else unknown (Landon et al. assign each
    physician to the hospital where they bill most; this is the nearest the tables hold).
    ``node`` is :func:`_node_arrays` of ``net`` when already at hand.
    """
    node = _node_arrays(net) if node is None else node
    pcode, scode, hcode = node["pcode"], node["scode"], node["hcode"]
    same_p = (pcode[a] >= 0) & (pcode[a] == pcode[b])
    same_s = (scode[a] >= 0) & (scode[a] == scode[b])
    known = (hcode[a] >= 0) & (hcode[b] >= 0)
    if len(a) and "lat" in node:
        from .._distance import haversine_km

        lat, lon = node["lat"], node["lon"]
        miles = np.asarray(haversine_km(lat[a], lon[a], lat[b], lon[b])) * MILES_PER_KM
    else:
        miles = np.full(len(a), np.nan)
    return {
        "same_practice": same_p,
        "same_system": same_s & ~same_p,
        "hospital_known": known,
        "same_hospital": known & (hcode[a] == hcode[b]),
        "miles": miles,
    }


def _node_context(net: Any) -> tuple[np.ndarray, np.ndarray]:
    """Practice code and system code per physician (-1 when unknown)."""
    phys, prac = net.physicians, net.practices
    pcode, puniq = pd.factorize(phys["practice_id"])
    sys_of = pd.Series(prac["system"].to_numpy(), index=prac["practice_id"].to_numpy())
    sys_of = sys_of[~sys_of.index.duplicated()]
    systems = pd.Series(puniq).map(sys_of) if len(puniq) else pd.Series([], dtype=object)
    scode_u, _ = pd.factorize(systems)
    scode = np.where(pcode >= 0, scode_u[np.maximum(pcode, 0)] if len(scode_u) else -1, -1)
    return np.asarray(pcode), np.asarray(scode)


def _ids(net: Any, col: pd.Series) -> np.ndarray:
    """Node ids of an NPI column (-1 for unknown), via integer search when possible
    (:func:`refgraph._tables.npi_ints`; text that is not a number falls back to the index)."""

    def build() -> tuple[np.ndarray, np.ndarray] | None:
        k = npi_ints(net.physicians["npi"])
        return None if (k < 0).any() else (np.argsort(k), np.sort(k))

    sorted_keys = net.cached_view(("refgraph.paths", "npi_ints"), build)
    v = npi_ints(col) if sorted_keys is not None and len(col) else None
    if sorted_keys is None or v is None or not len(sorted_keys[1]) or (v < -1).any():
        return np.asarray(net.npis.get_indexer(pd.Index(col.astype("string"))), dtype=np.int64)
    order, sk = sorted_keys
    pos = np.minimum(np.searchsorted(sk, v), len(sk) - 1)
    return np.where(sk[pos] == v, order[pos], -1).astype(np.int64)


# ------------------------------------------------------------------ evidence per pair
_NAT = np.iinfo(np.int64).min


def _evidence(
    net: Any, ties: pd.DataFrame | None, colleagues_max_size: int
) -> tuple[dict[str, np.ndarray], list[str]]:
    """One row per piece of evidence about a pair: flows, events, logged ties and
    touchpoints, colleague pairs; and the kinds of the logged ties.

    Columns: ``s``, ``d`` (node ids), ``cnt`` (referrals, missing 0), ``pat``
    (patients, NaN when unknown), ``last`` (date, int64 ns, ``_NAT`` when
    unknown), ``ev`` (an event), ``kind`` (index into the kinds, -1 for rows
    that are not logged ties). The flows' node ids are the network's cached ones.
    A network with flows only (a CMS file) keeps its ``count`` and ``patients``
    columns as they are (:func:`_numeric`), for :func:`_aggregate` to convert a
    chunk of rows at a time; constant columns are read-only broadcasts.
    """
    idx = net.npis
    parts: list[dict[str, np.ndarray]] = []

    def add(
        s: Any,
        d: Any,
        *,
        cnt: Any = 0.0,
        pat: Any = np.nan,
        last: Any = None,
        ev: bool = False,
        kind: Any = -1,
    ) -> None:
        m = len(s)
        parts.append(
            {
                "s": np.asarray(s),
                "d": np.asarray(d),
                "cnt": _numbers(cnt, m),
                "pat": _numbers(pat, m),
                "last": (
                    np.broadcast_to(np.int64(_NAT), (m,))
                    if last is None
                    else np.asarray(last).view(np.int64)
                ),
                "ev": np.broadcast_to(np.bool_(ev), (m,)),
                "kind": np.broadcast_to(np.asarray(kind, np.int32), (m,)),
            }
        )

    f = net.flows
    if len(f):
        from .._views import flow_node_ids

        src, dst = flow_node_ids(net)
        add(
            src,
            dst,
            cnt=_numeric(f["count"]),
            pat=_numeric(f["patients"]),
            last=_dates(f["period_end"]),
        )
    ev = net.events
    if len(ev):
        es, ed = _ids(net, ev["source_npi"]), _ids(net, ev["target_npi"])
        add(es, ed, last=_dates(ev["date"]), ev=True)
    kinds: list[str] = []
    la, lb = np.empty(0, np.int64), np.empty(0, np.int64)
    if ties is not None:
        la, lb, kinds = _read_ties(ties, idx)
    ta, tb, tk = _touchpoint_ties(net, idx)
    la, lb, kinds = np.concatenate([la, ta]), np.concatenate([lb, tb]), [*kinds, *tk]
    if len(la):
        add(la, lb, kind=np.arange(len(la)))
    ca, cb = _colleague_pairs(net, colleagues_max_size)
    if len(ca):
        add(ca, cb)
    if not parts:
        add(np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(parts) == 1:
        return dict(parts[0]), kinds
    return {
        k: np.concatenate([_dense(p[k], _NA.get(k, 0)) for p in parts]) for k in parts[0]
    }, kinds


def _numeric(col: pd.Series) -> Any:
    """A numeric flows column as its own pandas array (converted a chunk of rows at a
    time by :func:`_aggregate`); other columns converted to numbers now."""
    if pd.api.types.is_numeric_dtype(col.dtype):
        return col.array
    return pd.to_numeric(col).array


def _numbers(x: Any, m: int) -> Any:
    """An evidence column of numbers: a pandas array as it is, else float64 (a scalar
    broadcast to ``m`` rows)."""
    if isinstance(x, pd.api.extensions.ExtensionArray):
        return x
    return np.broadcast_to(np.asarray(x, "float64"), (m,))


def _dense(x: Any, na: float) -> np.ndarray:
    """An evidence column as numpy (a pandas array's missing values read as ``na``)."""
    if isinstance(x, np.ndarray):
        return x
    return np.asarray(x.to_numpy(dtype="float64", na_value=na))


#: Rows (of the evidence or of the ties) handled at once by the chunked passes.
_CHUNK = 1 << 20

#: What a missing value of a deferred evidence column reads as (see :func:`_evidence`).
_NA = {"cnt": 0.0, "pat": np.nan}


def _take(c: dict[str, Any], name: str, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` of evidence column ``name`` as float64 (a deferred pandas column
    converts only those rows, missing values reading as :data:`_NA`)."""
    x = c[name]
    if isinstance(x, np.ndarray):
        return np.asarray(x[idx], "float64")
    return np.asarray(x.take(idx).to_numpy(dtype="float64", na_value=_NA[name]))


def _pair_keys(s: np.ndarray, d: np.ndarray, n: int) -> np.ndarray:
    """``min(s, d) * n + max(s, d)`` as int64, a chunk of rows at a time."""
    key = np.empty(len(s), dtype=np.int64)
    for i in range(0, len(s), _CHUNK):
        a, b = s[i : i + _CHUNK], d[i : i + _CHUNK]
        k = np.minimum(a, b).astype(np.int64)
        k *= np.int64(max(n, 1))
        k += np.maximum(a, b)
        key[i : i + _CHUNK] = k
    return key


def _segment_starts(key: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Where each run of equal keys starts in ``key[order]`` (never built whole)."""
    parts = [np.zeros(0, order.dtype)]
    prev = None
    for i in range(0, len(order), _CHUNK):
        ks = key[order[i : i + _CHUNK]]
        brk = np.empty(len(ks), dtype=bool)
        brk[1:] = ks[1:] != ks[:-1]
        brk[0] = prev is None or bool(ks[0] != prev)
        parts.append((np.flatnonzero(brk) + i).astype(order.dtype))
        prev = ks[-1]
    return np.concatenate(parts)


def _aggregate(c: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    """The evidence summed per unordered pair ``a < b`` (rows sorted by ``(a, b)``).

    ``a``, ``b`` (node ids, int32 below 2**31 nodes), ``ab``, ``ba`` (referrals
    each way; a pair without flows counts its events), ``pat`` (patients, NaN
    when unknown), ``last`` (int64 ns, ``_NAT`` unknown: the latest event when
    the pair has events, else the end of the latest flow period),
    ``from_events`` and ``kind`` (the latest logged tie's kind index, -1 when
    none). Segment reductions over one stable sort of the pair keys.

    Consumes ``c``. Its ``cnt`` and ``pat`` may be pandas arrays (the flows'
    own columns, see :func:`_evidence`): only the rows of a chunk are
    converted at a time. The sort order and segment starts are int32 below
    2**31 rows, and the sums run a chunk of whole segments at a time, so no
    sorted copy of a column is held. ``last`` and ``kind`` are read-only
    broadcasts of one value when every row holds it (a file's period; flows
    carry no logged kind), as are ``last`` and ``from_events`` inputs. The
    values are those of one sort of all rows: each segment is reduced from
    the same rows in the same order.
    """
    s = np.asarray(c.pop("s"))
    d = np.asarray(c.pop("d"))
    if s.dtype.kind not in "iu" or d.dtype.kind not in "iu":
        s, d = s.astype(np.int64), d.astype(np.int64)
    m = len(s)
    key = _pair_keys(s, d, n)
    pos_t = np.int32 if m < 2**31 else np.int64
    order = np.argsort(key, kind="stable").astype(pos_t, copy=False)
    starts = _segment_starts(key, order)
    k = len(starts)
    ukey = key[order[starts]]
    del key

    def one_value(x: np.ndarray) -> bool:  # every row holds the same value
        return bool(len(x)) and bool(x.min() == x.max())

    ev, last_in, kind_in = np.asarray(c.pop("ev")), np.asarray(c.pop("last")), c.pop("kind")
    kind_in = np.asarray(kind_in)
    any_ev = bool(ev.any())
    ab, ba, pat = np.empty(k), np.empty(k), np.empty(k)
    from_events = np.zeros(k, dtype=bool)
    last: np.ndarray
    if not any_ev and one_value(last_in):
        last = np.broadcast_to(last_in[:1].copy(), (k,))
    else:
        last = np.empty(k, dtype=last_in.dtype)
    if not k:
        kind = np.zeros(0, np.int32)
    elif one_value(kind_in):
        kind = np.broadcast_to(kind_in[:1].copy(), (k,))
    else:
        kind = np.empty(k, dtype=kind_in.dtype)
    c0 = 0
    while c0 < k:  # a chunk of whole segments: rows r0:r1 of the sorted order
        r0 = int(starts[c0])
        c1 = max(c0 + 1, int(np.searchsorted(starts, r0 + _CHUNK, side="left")))
        r1 = int(starts[c1]) if c1 < k else m
        idx = order[r0:r1]
        st = starts[c0:c1] - r0
        out = slice(c0, c1)

        def seg_sum(x: np.ndarray, st: np.ndarray = st) -> np.ndarray:
            return np.add.reduceat(x, st)

        def seg_max(x: np.ndarray, st: np.ndarray = st) -> np.ndarray:
            return np.maximum.reduceat(x, st)

        fwd = s[idx] <= d[idx]
        is_ev = ev[idx]
        cnt = _take(c, "cnt", idx)
        flow_ab = seg_sum(np.where(fwd & ~is_ev, cnt, 0.0))
        cnt[fwd | is_ev] = 0.0  # what is left: the flows b -> a
        flow_ba = seg_sum(cnt)
        del cnt
        if any_ev:
            no_flow = (flow_ab + flow_ba) == 0
            ab[out] = np.where(no_flow, seg_sum((fwd & is_ev).astype("float64")), flow_ab)
            ba[out] = np.where(no_flow, seg_sum((~fwd & is_ev).astype("float64")), flow_ba)
        else:  # a pair without flows has no events either: its counts are the flows' zeros
            ab[out], ba[out] = flow_ab, flow_ba
        p = _take(c, "pat", idx)
        if bool(np.isfinite(p).all()):  # every patient count of these pairs is known
            pat[out] = seg_sum(p)
        else:
            pat_n = seg_sum((~np.isnan(p)).astype("float64"))
            pat[out] = np.where(pat_n > 0, seg_sum(np.nan_to_num(p, copy=False)), np.nan)
        if any_ev:
            lt = last_in[idx]
            last_ev = seg_max(np.where(is_ev, lt, _NAT))
            last[out] = np.where(last_ev != _NAT, last_ev, seg_max(np.where(is_ev, _NAT, lt)))
            from_events[out] = last_ev != _NAT
        elif last.flags.writeable:
            last[out] = seg_max(last_in[idx])
        if kind.flags.writeable:
            kind[out] = seg_max(kind_in[idx])
        c0 = c1
    del order, starts, s, d
    c.pop("cnt", None), c.pop("pat", None)
    ids = np.int32 if n < 2**31 else np.int64
    a, b = np.empty(k, dtype=ids), np.empty(k, dtype=ids)
    for i in range(0, k, _CHUNK):
        q, r = np.divmod(ukey[i : i + _CHUNK], n)
        a[i : i + _CHUNK], b[i : i + _CHUNK] = q, r
    return {
        "a": a,
        "b": b,
        "ab": ab,
        "ba": ba,
        "pat": pat,
        "last": last,
        "from_events": from_events,
        "kind": kind,
    }
