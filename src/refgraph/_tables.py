"""Table helpers of the network core: empty tables, physicians implied by other tables."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._errors import ValidationError
from ._npi import luhn_ok_ints
from ._progress import progress_bar
from ._validate import IngestResult, _empty_column, validate_table
from .model import SCHEMAS


def empty_table(table: str) -> pd.DataFrame:
    """A valid table with no rows and the canonical columns and dtypes of ``table``.

    Made from the schema's column kinds, in the dtypes validate_table gives
    (``tests/test_io_ints.py`` compares the two); validate_table itself takes
    20-40 ms on an empty frame, and a network build wants four or five.

    Examples
    --------
    >>> empty_table("flows").dtypes["count"], len(empty_table("flows"))
    (Int64Dtype(), 0)
    """
    cols = {c.name: _empty_column(c.kind, 0) for c in SCHEMAS[table].columns}
    frame = pd.DataFrame(cols, copy=False)
    frame.index = pd.RangeIndex(0)
    return frame


def npi_ints(col: pd.Series) -> np.ndarray:
    """The NPIs of a validated column as int64 (missing: ``-1``), without Python strings.

    A valid NPI is 10 ASCII digits, so its integer value identifies it; Arrow
    casts the text to integers in one pass. Text that is not a number (not
    expected in a network's tables) falls back to factorising the strings:
    the values are then negative codes ``-2, -3, ...`` unique per string.

    Examples
    --------
    >>> npi_ints(pd.Series(["1234567893", None, "1003033051"], dtype="string")).tolist()
    [1234567893, -1, 1003033051]
    """
    if len(col) == 0:
        return np.zeros(0, dtype=np.int64)
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.empty(len(col), dtype=np.int64)
    try:
        arr = pa.chunked_array(pa.array(col.array, type=pa.large_string()))
        at = 0
        for chunk in arr.chunks:  # chunk by chunk into ``out``: no n-long Arrow buffer
            ints = pc.fill_null(pc.cast(chunk, pa.int64()), -1)
            out[at : at + len(chunk)] = ints.to_numpy()
            at += len(chunk)
    except (pa.ArrowException, TypeError, ValueError):
        codes, _ = pd.factorize(col.astype("string"), use_na_sentinel=True)
        return np.where(codes < 0, -1, -2 - codes.astype(np.int64))
    if (out < -1).any():  # a negative number is no NPI: keep it apart from "missing"
        codes, _ = pd.factorize(col.astype("string"), use_na_sentinel=True)
        return np.where(codes < 0, -1, -2 - codes.astype(np.int64))
    return out


def node_codes(npis: pd.Series, *cols: pd.Series) -> list[np.ndarray]:
    """Position in ``npis`` (a physicians ``npi`` column) of the NPIs of each of ``cols``.

    Hashing runs over int64 values (:func:`npi_ints`), not strings; an NPI
    that ``npis`` lacks, or a missing one, gets ``-1``.

    Examples
    --------
    >>> phys = pd.Series(["1234567893", "1003033051"], dtype="string")
    >>> [c.tolist() for c in node_codes(phys, pd.Series(["1003033051", "1154584084"]))]
    [[1, -1]]
    """
    index = pd.Index(npi_ints(npis))
    out = []
    for col in cols:
        codes = index.get_indexer(npi_ints(col))
        out.append(codes.astype(np.int32) if len(index) < 2**31 else codes)
    return out


#: Cache key of the flows' node ids (:func:`refgraph._views.flow_node_ids`).
FLOW_IDS_KEY = ("flow_node_ids",)


def build_tables(
    given: dict[str, pd.DataFrame | None],
    *,
    strict: bool,
    duplicates: str,
    self_referrals: str,
) -> tuple[dict[str, IngestResult], dict[str, pd.DataFrame], tuple[np.ndarray, np.ndarray] | None]:
    """The validation of a new :class:`~refgraph.ReferralNetwork`'s tables, then its physicians.

    Returns the ingest results of the given tables, the five tables (empty
    ones for those not given, the physicians completed) and the flows' node
    ids (:func:`physicians_and_flow_ids`). A progress bar (one step a given
    table, one for the physicians) is drawn on long builds, see
    :mod:`refgraph._progress`.

    Examples
    --------
    >>> flows = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"],
    ...                       "count": [3]})
    >>> ingest, tables, ids = build_tables({"flows": flows}, strict=False,
    ...                                    duplicates="aggregate", self_referrals="reject")
    >>> list(ingest), len(tables["physicians"]), [a.tolist() for a in ids]
    (['flows'], 2, [[0], [1]])
    """
    from .model import TABLES

    ingest: dict[str, IngestResult] = {}
    tables: dict[str, pd.DataFrame] = {}
    steps = sum(given.get(name) is not None for name in TABLES) + 1
    with progress_bar(steps, "build network", unit="step") as bar:
        for name in TABLES:
            df = given.get(name)
            if df is None:
                tables[name] = empty_table(name)
                continue
            if not isinstance(df, pd.DataFrame):
                raise ValidationError(
                    f"{name}: expected a pandas DataFrame or None, got {type(df).__name__}"
                )
            bar.set_postfix_str(name)
            kw: dict[str, Any] = {"strict": strict}
            if name == "flows":
                kw["duplicates"] = duplicates
            if name in ("flows", "events"):
                kw["self_referrals"] = self_referrals
            ingest[name] = validate_table(df, name, **kw)
            tables[name] = ingest[name].table
            bar.update(1)
        bar.set_postfix_str("physicians")
        tables["physicians"], ids = physicians_and_flow_ids(tables)
        bar.update(1)
    return ingest, tables, ids


def with_missing_physicians(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The physicians table plus a row of unknown attributes for every NPI that
    flows, events or touchpoints name but the physicians table lacks.

    New rows come in order of first appearance (flow sources, flow targets,
    event sources, event targets, touchpoints). The work runs on int64 NPI
    values (:func:`npi_ints`), never on Python strings.

    Examples
    --------
    >>> tables = {"physicians": empty_table("physicians"),
    ...           "flows": pd.DataFrame({"source_npi": ["1234567893"],
    ...                                  "target_npi": ["1003033051"]}),
    ...           "events": empty_table("events"), "touchpoints": empty_table("touchpoints")}
    >>> with_missing_physicians(tables)["npi"].tolist()
    ['1234567893', '1003033051']
    """
    return physicians_and_flow_ids(tables)[0]


def physicians_and_flow_ids(
    tables: dict[str, pd.DataFrame],
    flow_stems: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray] | None]:
    """:func:`with_missing_physicians` and, from the same pass, the flows' node ids.

    The codes of one ``pandas.factorize`` (computed a segment at a time,
    :class:`refgraph._codes.FirstSeenCoder`) over the int64 NPIs of the
    physicians, then of the flows' sources and targets, events and
    touchpoints: the physicians
    (unique) get codes ``0..k-1``, NPIs they lack get the next codes in order
    of first appearance, which is the order their new rows take. The codes of
    the flows are then their node ids (int32): the position of source and
    target in the completed physicians table. ``None`` instead of the ids when
    some NPI is missing or not a number (not expected in validated tables).

    ``flow_stems``: the flows' sources and targets as NPI stems (``npi // 10``,
    int32, row by row), as a reader that parsed them has them; the flows' text
    is then not read again. The NPIs are coded by their stems, which give the
    same codes for valid NPIs (a valid NPI's last digit follows from its stem);
    an NPI of the other tables that is not valid makes the pass code the text
    as without them.

    Examples
    --------
    >>> tables = {"physicians": pd.DataFrame({"npi": ["1003033051"]}),
    ...           "flows": pd.DataFrame({"source_npi": ["1234567893"],
    ...                                  "target_npi": ["1003033051"]}),
    ...           "events": empty_table("events"), "touchpoints": empty_table("touchpoints")}
    >>> phys, (src, dst) = physicians_and_flow_ids(tables)
    >>> phys["npi"].tolist(), src.tolist(), dst.tolist()
    (['1003033051', '1234567893'], [1], [0])
    """
    phys = tables["physicians"]
    seen = [
        tables["flows"]["source_npi"],
        tables["flows"]["target_npi"],
        tables["events"]["source_npi"],
        tables["events"]["target_npi"],
        tables["touchpoints"]["npi"],
    ]
    release_memory()  # what the read freed in the C heap, before the pass adds its own arrays
    got = None
    if flow_stems is not None and all(len(s) == len(c) for s, c in zip(flow_stems, seen)):
        got = _first_seen_flow_ids(phys, seen, flow_stems)
    if got is None:
        got = _first_seen_flow_ids(phys, seen)
    if got is None:
        return _with_missing_by_text(phys, [c for c in seen if len(c)]), None
    uniques, src, dst = got
    out = phys
    if len(uniques) > len(phys):
        out = _append_unknown(phys, npi_strings(uniques[len(phys) :]))
    release_memory()
    return out, (src, dst)


#: Rows of a column coded at a time by the physicians' pass (64 MiB of int64 NPIs).
_SEGMENT = 1 << 23


def _first_seen_flow_ids(
    phys: pd.DataFrame,
    seen: list[pd.Series],
    flow_stems: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """First-seen codes of the physicians' NPIs, then of each column of ``seen``, a segment
    at a time (:class:`refgraph._codes.FirstSeenCoder`): ``(uniques, source ids, target ids)``
    of the flows (``seen[0]``, ``seen[1]``), or None when an NPI is missing or not a number,
    or the physicians repeat one. The codes are those of one factorize over all the values.

    With ``flow_stems`` (the flows' NPI stems, see :func:`physicians_and_flow_ids`) every
    NPI is coded by its stem and the flows' text is not read; None when an NPI of another
    table is not a valid one (its stem would not identify it).
    """
    from ._codes import FirstSeenCoder

    def coded(values: np.ndarray) -> np.ndarray | None:  # NPI values as the coder takes them
        if values.min(initial=0) < 0:
            return None
        if flow_stems is not None and len(values):  # by stems: only for valid NPIs
            if values.max() > 9_999_999_999 or not luhn_ok_ints(values).all():
                return None
            values //= 10
        return values

    known = coded(npi_ints(phys["npi"]))
    if known is None or pd.Index(known).has_duplicates:
        return None
    coder = FirstSeenCoder()
    coder.codes(known)
    total = len(known) + sum(len(c) for c in seen)
    dtype = np.int32 if total < 2**31 else np.int64
    ids = [np.empty(len(c), dtype=dtype) for c in seen[:2]]
    for j, col in enumerate(seen):
        for at in range(0, len(col), _SEGMENT):
            if flow_stems is not None and j < 2:
                values: np.ndarray | None = flow_stems[j][at : at + _SEGMENT]
            else:
                values = coded(npi_ints(col.iloc[at : at + _SEGMENT]))
            if values is None:
                return None
            codes = coder.codes(values)
            if j < 2:  # flows' sources, targets: their node ids
                ids[j][at : at + len(values)] = codes
    uniques = coder.uniques if flow_stems is None else npis_of_stems(coder.uniques)
    return uniques, ids[0], ids[1]


def npis_of_stems(stems: np.ndarray) -> np.ndarray:
    """The valid NPIs (int64) of NPI stems (their first nine digits): each with its check digit.

    The check digit makes the Luhn sum over ``80840`` and the ten digits a
    multiple of 10 (the stem's digits at odd places from the left doubled).

    Examples
    --------
    >>> npis_of_stems(np.array([123456789, 100303305])).tolist()
    [1234567893, 1003033051]
    """
    stems = np.asarray(stems, dtype=np.int64)
    doubled = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)
    total = np.full(len(stems), 24, dtype=np.int64)  # the prefix 80840's part
    rest = stems.copy()
    for k in range(9):  # from the ninth digit leftwards: doubled at the first, third, ...
        digit = rest % 10
        rest //= 10
        total += doubled[digit] if k % 2 == 0 else digit
    return stems * 10 + (10 - total % 10) % 10


def release_arrow_memory() -> None:
    """Give the memory Arrow's allocator keeps after large conversions back to the system.

    pyarrow's default pool (mimalloc or jemalloc) keeps the pages of freed
    buffers for its own reuse; NumPy and pandas allocate elsewhere, so after a
    large read or NPI conversion those pages only add to the process's
    resident size (1.2 GB after a 20M-row Parquet read of flows,
    ``benchmarks/results/national.md``). A no-op when pyarrow is not loaded.

    Examples
    --------
    >>> release_arrow_memory()
    """
    import sys

    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()


def release_memory() -> None:
    """:func:`release_arrow_memory`, then give the C heap's free pages back (glibc).

    Reading a large file allocates and frees many block-sized NumPy arrays
    below glibc's mmap threshold; glibc keeps their pages in its heap, and
    the later large arrays (graph views, kernels) are mmapped apart, so those
    pages would stay resident (2.2 GiB of 9.7 GiB after the national CMS read,
    ``benchmarks/results/national.md``). ``malloc_trim(0)`` returns them; a
    no-op where the C library has no ``malloc_trim`` (macOS, Windows, musl).

    Examples
    --------
    >>> release_memory()
    """
    import ctypes

    release_arrow_memory()
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):  # no such symbol, or no C library handle
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)


def _with_missing_by_text(phys: pd.DataFrame, cols: list[pd.Series]) -> pd.DataFrame:
    """:func:`with_missing_physicians` on text, for NPIs that are missing or not numbers."""
    known = pd.Index(phys["npi"].astype("string"))
    parts = []
    for col in cols:
        uniq = pd.Index(col.astype("string").unique())
        parts.append(uniq[~uniq.isin(known)])
    if not parts:
        return phys
    missing = pd.Index(pd.concat([p.to_series() for p in parts], ignore_index=True)).unique()
    missing = missing[missing.notna()]
    if not len(missing):
        return phys
    return _append_unknown(phys, pd.array(np.asarray(missing, dtype=object), dtype="string"))


def _append_unknown(phys: pd.DataFrame, npis: Any) -> pd.DataFrame:
    """``phys`` with one row per NPI of ``npis``, every other attribute missing."""
    extra = empty_table("physicians").reindex(range(len(npis)))
    extra["npi"] = npis
    for c in extra.columns:
        if c in phys.columns:
            extra[c] = extra[c].astype(phys[c].dtype)
    return pd.concat([phys, extra], ignore_index=True)


def npi_strings(values: np.ndarray) -> Any:
    """int64 NPI values back to 10-character strings (leading zeros kept), Arrow-backed.

    Examples
    --------
    >>> list(npi_strings(np.array([1234567893, 42])))
    ['1234567893', '0000000042']
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_lpad(pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string()), 10, "0")
    return pd.array(text, dtype="string")


def appended_table(name: str, old: pd.DataFrame, new_rows: pd.DataFrame) -> pd.DataFrame:
    """``old`` with validated ``new_rows`` appended, as ``ReferralNetwork.add_*`` defines it.

    Physicians and practices already known get the attributes the new rows
    give; flows with the same key are summed; events and touchpoints append.
    """
    if name in ("physicians", "practices"):
        key = SCHEMAS[name].key[0]
        new = new_rows.set_index(key)
        base = old.set_index(key)
        # known rows: update the attributes that the new rows give
        common = base.index.intersection(new.index)
        if len(common):
            upd = new.loc[common]
            base.update(upd)
        merged = pd.concat([base, new.loc[new.index.difference(base.index)]])
        return merged.reset_index()
    if name == "flows":
        both = pd.concat([old, new_rows], ignore_index=True)
        res = validate_table(both, "flows", duplicates="aggregate")
        if len(res.rejected):  # only a sum past MAX_COUNT can reject valid rows here
            raise ValidationError(
                f"flows: cannot add these flows: {res.rejected['reason'].iloc[0]}",
                rejected=res.rejected,
            )
        return res.table
    return pd.concat([old, new_rows], ignore_index=True)
