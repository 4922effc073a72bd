"""Facts and words of the hops of found paths: the explained part of :func:`intro_paths`.

Private helpers of :mod:`refgraph.paths._intro`. Work is proportional to the hops
explained, not to the network: every fact is gathered by integer position (tie rows
found in the tie graph's CSR, physicians by node id) from the tie graph's per-tie
arrays and the tables' columns, without copying or filtering a whole column per
query; the practice facts a hop names come from dictionaries built once per network
(:meth:`~refgraph.ReferralNetwork.cached_view`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._views import display_names, node_values
from ._tie_graph import _CACHE, _TieGraph

_PRACTICE_LABEL = {
    "hospital": "same hospital",
    "multi_specialty_group": "same group practice",
    "single_specialty_group": "same group practice",
    "primary_care_clinic": "same clinic",
}


def _ago(days: float, ref: str = "the data's last date") -> str:
    """How long before ``ref`` (the date recency is counted from), in words."""
    if np.isnan(days):
        return "date unknown"
    d = round(days)
    if d < 1:
        return f"on {ref}"
    if d < 14:
        span = f"{d} day{'s' if d > 1 else ''}"
    elif d < 60:
        span = f"{round(d / 7)} weeks"
    elif d < 730:
        span = f"{round(d / 30.44)} months"
    else:
        span = f"{round(d / 365.25)} years"
    return f"{span} before {ref}"


def reference(net: Any, tg: _TieGraph) -> str:
    """What ``days_since`` counts back from: the data's last date, or the ``as_of`` date
    (worded once, when the tie graph is built)."""
    return tg.reference


def _practice_info(net: Any) -> tuple[dict[str, str], dict[str, str], dict[Any, Any]]:
    """Practice name and kind by ``str(practice_id)``, and the health system of each
    practice id (its first row, as the tie table's ``same_system`` reads it)."""

    def build() -> tuple[dict[str, str], dict[str, str], dict[Any, Any]]:
        pr = net.practices
        # a practice without a name is named by its id (pd.NA has no truth value)
        names = {
            str(p): str(nm)
            for p, nm in zip(pr["practice_id"], pr["name"].astype(object))
            if isinstance(nm, str) and nm
        }
        kinds = dict(zip(pr["practice_id"].astype(str), pr["kind"].astype(object)))
        first = pr.drop_duplicates("practice_id")
        first = first[first["practice_id"].notna()]
        systems = dict(zip(first["practice_id"], first["system"]))
        return names, kinds, systems

    got: tuple[dict[str, str], dict[str, str], dict[Any, Any]] = net.cached_view(
        (_CACHE, "practice_info"), build
    )
    return got


def hop_facts(net: Any, tg: _TieGraph, us: Any, vs: Any) -> dict[str, list[Any]]:
    """Numbers and words of the hops ``us[i] -> vs[i]``, one list per column.

    Recency is worded as time before :func:`reference` (the data's last date
    or the ``as_of`` date).

    Columns ``strength``, ``referrals_sent``, ``referrals_received``,
    ``shared_patients``, ``days_since``, ``same_practice``, ``same_system``,
    ``logged``, ``explanation``.
    """
    ref = reference(net, tg)
    us = np.asarray(us, dtype=np.int64)
    vs = np.asarray(vs, dtype=np.int64)
    rows = tg.edges(us, vs)
    cols = tg.facts.at(rows, us, vs)
    ab_l, ba_l = cols["referrals_ab"].tolist(), cols["referrals_ba"].tolist()
    pat_l = cols["shared_patients"].tolist()
    days_l = cols["days_since"].tolist()
    events_l = cols["date_from_events"].tolist()
    # the day of each date, as ``str(pd.Timestamp(d).date())`` words it (for every
    # datetime64[ns] value; tests/test_intro_labels.py), in one call for all hops
    day_l = np.datetime_as_string(cols["last_date"], unit="D").tolist()
    same_p_l, same_s_l = cols["same_practice"].tolist(), cols["same_system"].tolist()
    logged_l, kind_l = cols["logged"].tolist(), cols["logged_kind"].tolist()
    strength_l = tg.tie_strength[rows].astype("float64").tolist()
    pids = node_values(net, "practice_id", us) if any(same_p_l) or any(same_s_l) else None
    fwd_l, back_l, why = [], [], []
    for i, (u, v) in enumerate(zip(us.tolist(), vs.tolist())):
        ab, ba = ab_l[i], ba_l[i]
        fwd, back = (ab, ba) if u < v else (ba, ab)
        pat = pat_l[i]
        days = days_l[i]  # float, NaN unknown
        words = []
        if pat > 0:  # False for NaN
            words.append(f"{int(pat)} shared patients")
        if fwd + back > 0:
            words.append(f"{int(fwd + back)} referrals ({int(fwd)} sent, {int(back)} received)")
            if math.isnan(days):
                words.append("undated")
            elif events_l[i]:
                words.append(f"last referral {_ago(days, ref)}")
            else:  # aggregated flows only bound the date: say what the data say
                words.append(f"flows through {day_l[i]}")
        if same_p_l[i]:
            pid = pids[i]  # type: ignore[index]
            names, kinds, _ = _practice_info(net)
            nm = names.get(str(pid)) or str(pid)
            label = _PRACTICE_LABEL.get(str(kinds.get(str(pid))), "same practice")
            words.append(f"{label} ({nm})")
        elif same_s_l[i]:
            pid = pids[i]  # type: ignore[index]
            systems = _practice_info(net)[2]
            words.append(f"same health system ({systems[pid] if pid in systems else '?'})")
        if logged_l[i]:
            kind = kind_l[i]
            words.append(f"logged tie ({kind if pd.notna(kind) else 'knows'})")
        words.append(f"tie strength {strength_l[i]:.2f}")
        fwd_l.append(fwd)
        back_l.append(back)
        why.append(", ".join(words))
    return {
        "strength": strength_l,
        "referrals_sent": fwd_l,
        "referrals_received": back_l,
        "shared_patients": pat_l,
        "days_since": days_l,
        "same_practice": same_p_l,
        "same_system": same_s_l,
        "logged": logged_l,
        "explanation": why,
    }


# ---------------------------------------------------------------------------- frames
def _labels(net: Any, nodes: list[int]) -> tuple[dict[int, Any], dict[int, str]]:
    """NPI and display name of each node id (as :func:`node_values` and
    :func:`display_names` give them), read from the physicians' Arrow arrays when
    both columns are Arrow-backed strings (the arrays found once per network,
    :func:`_label_arrays`; a few nodes read one value at a time, more by
    :func:`_take`)."""
    got = _label_arrays(net)
    if got is not None:
        npi, name = got
        if len(nodes) <= _FEW_LABELS:
            npis = [npi[i].as_py() for i in nodes]
            names = [name[i].as_py() for i in nodes]
        else:
            npis, names = _take(npi, nodes), _take(name, nodes)
        if None not in npis:
            return dict(zip(nodes, npis)), {
                i: (nm if nm is not None else p) for i, nm, p in zip(nodes, names, npis)
            }
    return dict(zip(nodes, node_values(net, "npi", nodes))), dict(
        zip(nodes, display_names(net, nodes))
    )


#: Up to this many nodes, :func:`_labels` reads values one at a time (under a
#: microsecond each) rather than by ``take`` (tens of microseconds a call).
_FEW_LABELS = 64


def _take(col: Any, nodes: list[int]) -> list[Any]:
    """``col.take(nodes).to_pylist()`` for a chunked Arrow column, one ``take`` per chunk
    the nodes fall in: a chunked ``take`` costs time in proportion to the column
    (about 4 ms at a million rows, ``benchmarks/results/paths.md``), a chunk's in
    proportion to the nodes."""
    idx = np.asarray(nodes, dtype=np.int64)
    lengths = [len(c) for c in col.chunks]
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    which = np.searchsorted(starts, idx, side="right") - 1
    out: list[Any] = [None] * len(idx)
    for c in np.unique(which).tolist():
        pos = np.flatnonzero(which == c)
        vals = col.chunk(c).take(pa.array(idx[pos] - starts[c])).to_pylist()
        for i, v in zip(pos.tolist(), vals):
            out[i] = v
    return out


def _label_arrays(net: Any) -> tuple[Any, Any] | None:
    """The physicians' ``npi`` and ``name`` columns as Arrow arrays (no copy), kept
    on the network until a table changes; ``None`` when either is not an
    Arrow-backed string column."""

    def build() -> tuple[Any, Any] | None:
        ph = net.physicians
        npi, name = ph["npi"].array, ph["name"].array
        arrow = pd.arrays.ArrowStringArray
        if isinstance(npi, arrow) and isinstance(name, arrow):
            return npi.__arrow_array__(), name.__arrow_array__()
        return None

    got: tuple[Any, Any] | None = net.cached_view((_CACHE, "label_arrays"), build)
    return got


def _infer_str(values: list[str]) -> Any:
    """A column of Python strings as pandas' inference makes it (the default ``str``
    dtype of pandas 3, Arrow-backed: built from one Arrow array; else pandas' own)."""
    dt = _STR_DTYPE
    if dt is None:
        return values
    return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()), dtype=dt)


def _str_dtype() -> Any:
    """The dtype pandas infers for Python strings, when :func:`_infer_str` can build
    it directly (checked once against pandas' own inference), else ``None``."""
    try:
        dt = pd.Series(["x", "y"]).dtype
        if not (isinstance(dt, pd.StringDtype) and dt.storage == "pyarrow"):
            return None
        fast = pd.arrays.ArrowStringArray(pa.array(["x", "y"], type=pa.large_string()), dtype=dt)
        ok = pd.Series(fast).equals(pd.Series(["x", "y"])) and fast.dtype == dt
        return dt if ok else None
    except Exception:  # an older pandas: ArrowStringArray without ``dtype``
        return None


_STR_DTYPE = _str_dtype()


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A small frame from lists, with the dtypes pandas infers from rows of Python values.

    Numbers and flags are handed over as typed arrays (``int64``, ``float64``,
    ``bool``: what inference gives for Python ``int``, ``float`` and ``bool``),
    tuples as one object per row, strings as the column pandas infers for
    them (built in one step, :func:`_infer_str`); numpy arrays are taken as
    they are (the caller gives them the inferred dtype). When every column
    ends up a typed array the frame is assembled from them directly
    (:data:`_FROM_ARRAYS`), else by :class:`pandas.DataFrame`.
    """
    data: dict[str, Any] = {}
    for c, values in columns.items():
        if isinstance(values, np.ndarray):
            data[c] = values
            continue
        kinds = {type(v) for v in values}
        if kinds == {tuple}:
            arr = np.empty(len(values), dtype=object)
            arr[:] = values
            data[c] = arr
        elif kinds in ({int}, {float}, {bool}):
            data[c] = np.array(
                values, dtype={int: np.int64, float: np.float64, bool: bool}[kinds.pop()]
            )
        elif kinds == {str}:
            data[c] = _infer_str(values)
        else:
            data[c] = values
    arrays = (np.ndarray, pd.api.extensions.ExtensionArray)
    typed = all(isinstance(v, arrays) for v in data.values())
    if typed and _FROM_ARRAYS is not None:
        n = len(next(iter(data.values()))) if data else 0
        return _FROM_ARRAYS(
            list(data.values()),
            columns=_columns(tuple(data)),
            index=pd.RangeIndex(n),
            verify_integrity=False,
        )
    return pd.DataFrame(data, copy=False)


def _columns(names: tuple[str, ...]) -> pd.Index:
    """The column index of these names (immutable, built once per layout)."""
    got = _COLUMNS.get(names)
    if got is None:
        got = _COLUMNS[names] = pd.Index(list(names))
    return got


_COLUMNS: dict[tuple[str, ...], pd.Index] = {}

#: pandas' constructor from finished 1-D arrays, when this pandas has it (a frame of
#: typed columns in a quarter of ``pd.DataFrame(dict)``'s time); the same frame.
_FROM_ARRAYS = getattr(pd.DataFrame, "_from_arrays", None)
