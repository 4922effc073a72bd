"""Readers of public referral files: CMS shared-patient patterns, DocGraph hop teaming."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from .._compact import concat_column, const_dates, is_const_dates
from .._errors import NotFoundError, ValidationError
from .._tables import npi_ints, release_memory
from .._validate import (
    PAST_EXACT,
    IngestResult,
    add_line_rejects,
    duplicated_flows,
    empty_rejects,
    strict_error,
    validate_table,
)
from ._ahead import ahead
from ._fast import fast_flows, npi_stems
from ._fast_keys import member, pair_keys, spread
from ._text import TextChunk, TextFile, open_text

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["iter_cms_shared_patients", "read_cms_shared_patients", "read_docgraph_hop"]

CMS_COLUMNS = ["npi1", "npi2", "pair_count", "bene_count", "same_day_count"]
CMS_WINDOWS = (30, 60, 90, 180)
HOP_COLUMNS = [
    "from_npi",
    "to_npi",
    "patient_count",
    "transaction_count",
    "average_day_wait",
    "std_day_wait",
]

_ALIASES = {
    "initial physician npi": "npi1",
    "secondary physician npi": "npi2",
    "shared count": "pair_count",
    "total": "pair_count",
    "number unique beneficiaries": "bene_count",
    "number same day visits": "same_day_count",
}


def _norm(name: str) -> str:
    n = name.strip().lower()
    return _ALIASES.get(n, n.replace(" ", "_"))


def _window_from_name(path: Path) -> int | None:
    name = path.name.lower()
    for pattern in (r"days?[_-]?(\d+)", r"(\d+)[_-]?days?"):
        for m in re.finditer(pattern, name):
            if int(m.group(1)) in CMS_WINDOWS:
                return int(m.group(1))
    return None


#: Columns of counts, parsed as int64 where that is exact (see ``refgraph.io._text``).
_COUNT_COLUMNS = (
    "pair_count",
    "bene_count",
    "same_day_count",
    "patient_count",
    "transaction_count",
)


def _open_file(path: Path, expected: list[str], block_size: int) -> TextFile:
    """Open a delimited file, header or not; header names go through the documented aliases."""
    f = open_text(path, expected=expected, header=None, block_size=block_size)
    if f.header:
        f.names = [_norm(n.strip('"')) for n in f.names]
    if len(set(f.names)) == len(f.names):
        f.int_fields = {i for i, name in enumerate(f.names) if name in _COUNT_COLUMNS}
    return f


def _chunk_frame(chunk: TextChunk, names: list[str]) -> pd.DataFrame:
    df = chunk.frame
    df.columns = pd.Index(names, dtype=object)
    return df


def iter_cms_shared_patients(
    path: str | Path,
    *,
    window_days: int | None = None,
    year: int | None = None,
    block_size: int = 64 << 20,
    self_referrals: str = "reject",
) -> Any:
    """Yield :class:`~refgraph._validate.IngestResult` chunks of a CMS file.

    For files too large to hold as one table: each chunk holds the
    validated flows of about ``block_size`` bytes of text, with row numbers
    relative to the whole file. See :func:`read_cms_shared_patients`.
    """
    for res, _ in _cms_parts(path, window_days, year, block_size, self_referrals):
        yield res


def _cms_parts(
    path: str | Path,
    window_days: int | None,
    year: int | None,
    block_size: int,
    self_referrals: str,
) -> Iterator[Part]:
    """:func:`iter_cms_shared_patients`, each block with its NPI stems (fast path, see Part)."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"path: CMS file {str(path)!r} does not exist")
    window = _check_window(window_days, path)
    if year is not None and (
        isinstance(year, bool) or not isinstance(year, int) or not 1000 <= year <= 9999
    ):
        raise ValidationError(f"year: expected a 4-digit calendar year, got {year!r}")
    text = _open_file(path, CMS_COLUMNS, block_size)
    names = text.names
    rename = {
        "npi1": "source_npi",
        "npi2": "target_npi",
        "pair_count": "count",
        "bene_count": "patients",
    }
    missing = [c for c in ("npi1", "npi2", "pair_count") if c not in names]
    if missing:
        raise ValidationError(
            f"{path.name}: not a CMS shared-patient file; missing columns {missing}, got {names}"
        )
    for chunk in ahead(text.chunks):  # the next block parsed while this one is checked
        stems: list[Stems] = []
        fast = _fast_block(chunk, names, window, year, self_referrals, stems)
        if fast is not None:  # a clean block, checked in Arrow (see refgraph.io._fast)
            yield add_line_rejects(fast, chunk.rejects, chunk.n_lines), stems[0]
            continue
        df = _chunk_frame(chunk, names).rename(columns=rename)
        if "window_days" in df.columns:
            wd = pd.to_numeric(df["window_days"], errors="coerce")
            if window is not None and (wd.dropna() != window).any():
                raise ValidationError(
                    f"window_days: file says {sorted(wd.dropna().unique().tolist())}, "
                    f"argument says {window}"
                )
            df = df.drop(columns="window_days")
            if window is None and wd.notna().any():
                window = int(wd.dropna().iloc[0])
        yr = df.pop("year") if "year" in df.columns else None
        if yr is None and year is not None:  # checked above: dates, not text to parse
            df["period_start"] = np.full(len(df), np.datetime64(f"{year:04d}-01-01", "ns"))
            df["period_end"] = np.full(len(df), np.datetime64(f"{year:04d}-12-31", "ns"))
        elif yr is not None:  # a bad year becomes an unparseable period_start: a reject
            y = yr.astype("string").str.strip()
            y = y.where(y.str.fullmatch(r"\d{4}").fillna(False), "year " + y.fillna(""))
            df["period_start"] = y + "-01-01"
            df["period_end"] = y + "-12-31"
        df["provenance"] = f"cms-pspp:{window}d" if window else "cms-pspp"
        res = validate_table(
            df,
            "flows",
            duplicates="aggregate",
            self_referrals=self_referrals,  # type: ignore[arg-type]
            row_numbers=chunk.rows,
            extra_kinds={"same_day_count": "count"},
        )
        yield add_line_rejects(res, chunk.rejects, chunk.n_lines), None


_CANONICAL = {
    "npi1": "source_npi",
    "npi2": "target_npi",
    "pair_count": "count",
    "bene_count": "patients",
    "same_day_count": "same_day_count",
}


def _fast_block(
    chunk: TextChunk,
    names: list[str],
    window: int | None,
    year: int | None,
    self_referrals: str,
    stems: list[Stems],
) -> IngestResult | None:
    """A block of a raw CMS file (the five documented columns) checked in Arrow, if all clean."""
    if chunk.table is None or len(set(names)) != len(names) or not set(names) <= set(_CANONICAL):
        return None
    table, chunk.table = chunk.table, None  # handed over: each column freed once used
    n = table.num_rows
    cols: dict[str, Any] = {_CANONICAL[c]: table.column(i) for i, c in enumerate(names)}
    del table
    if year is not None:
        cols["period_start"] = np.datetime64(f"{year:04d}-01-01", "ns")
        cols["period_end"] = np.datetime64(f"{year:04d}-12-31", "ns")
    cols["provenance"] = f"cms-pspp:{window}d" if window else "cms-pspp"
    got = fast_flows(
        cols, n, rows=chunk.rows, self_referrals=self_referrals, consume=True, npis=stems
    )
    if got is None:  # not emptied: the block goes back to the chunk for the slow path
        back = [cols[_CANONICAL[c]] for c in names]
        chunk.table = pa.table(back, names=[f"c{i}" for i in range(len(names))])
    return got


def _check_window(window_days: int | None, path: Path) -> int | None:
    if window_days is None:
        return _window_from_name(path)
    if window_days not in CMS_WINDOWS:
        raise ValidationError(
            f"window_days: CMS published windows of {list(CMS_WINDOWS)} days, got {window_days!r}"
        )
    return int(window_days)


def read_cms_shared_patients(
    path: str | Path,
    *,
    window_days: int | None = None,
    year: int | None = None,
    strict: bool = False,
    block_size: int = 64 << 20,
) -> ReferralNetwork:
    """Read a CMS *Physician Shared Patient Patterns* file into a network.

    CMS released these files (2009–2015, one per year and window of 30, 60,
    90 or 180 days): each row says that physician ``npi1`` saw Medicare
    patients who were then seen by ``npi2`` within the window. Raw files
    have no header and five columns ``npi1, npi2, pair_count, bene_count,
    same_day_count``; files with a header (including a ``year`` and
    ``window_days`` column) are read too. Plain, ``.gz`` and ``.bz2`` text is
    streamed in blocks of ``block_size`` bytes, so multi-GB files never
    need their whole text in memory (the accepted flows still do).

    Mapping: ``npi1 -> source_npi``, ``npi2 -> target_npi``,
    ``pair_count -> count``, ``bene_count -> patients``; ``same_day_count``
    is kept; ``year`` becomes ``period_start``/``period_end`` (Jan 1–Dec 31);
    ``provenance`` is ``"cms-pspp:<window>d"``.

    Damaged input: a line that cannot be split into the expected fields
    (wrong number of fields, unbalanced quote, not UTF-8, only spaces) is a
    rejects row with column ``"<line>"``, its text and its line number, and
    reading goes on; a byte-order mark is ignored; header names from the CMS
    documentation (``Initial Physician NPI``, ``Shared Count``, ...) are
    mapped. An empty file or truncated/damaged compressed data raises one
    :class:`~refgraph.ValidationError` naming the file.

    Parameters
    ----------
    path
        The CMS file.
    window_days
        30, 60, 90 or 180. Default: read from a ``window_days`` column or
        from the file name (``...days180...``).
    year
        Calendar year of the file, when it has no ``year`` column.
    strict
        Raise :class:`~refgraph.ValidationError` if any row is rejected.
    block_size
        Bytes of text parsed at a time.

    Returns
    -------
    ReferralNetwork
        With the rejects of every row in ``net.rejected``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "pspp_days30.txt").write_text(
    ...     "1234567893,1003033051,40,12,3\\n1234567893,1234567890,20,11,0\\n")
    >>> net = read_cms_shared_patients(d / "pspp_days30.txt", year=2014)
    >>> net.n_flows, net.flows["provenance"][0], len(net.rejected)
    (1, 'cms-pspp:30d', 1)

    References
    ----------
    .. [1] CMS, "Physician Shared Patient Patterns Technical Requirements"
       (data.cms.gov FOIA release, 2009–2015).
    """
    from ..network import ReferralNetwork

    def read(size: int) -> list[Part]:
        return list(_cms_parts(path, window_days, year, size, "reject"))

    return _read_blocks(read, Path(path), block_size, strict=strict, cls=ReferralNetwork)


class _SumPastExact(Exception):
    """Flows repeated in different blocks sum to more than 2**53 (see :func:`_read_blocks`)."""


#: The NPI stems (:func:`refgraph.io._fast.npi_stems`) of a table's sources and targets.
Stems: TypeAlias = tuple[np.ndarray, np.ndarray]
#: A block's validated flows and their NPI stems row by row, when the fast path has them.
Part: TypeAlias = tuple[IngestResult, Stems | None]


def _read_blocks(
    read: Callable[[int], list[Part]],
    path: Path,
    block_size: int,
    *,
    strict: bool,
    cls: Any,
) -> Any:
    """:func:`_assemble` of ``read(block_size)``, read again as one block if it must be.

    Each block aggregates its own repeated flows, rejecting the rows of a flow
    whose counts sum past 2**53 with their line numbers. A flow repeated in two
    blocks is summed after the blocks, where its lines are no longer known; when
    such a sum passes 2**53, or a block rejected a flow's rows for that (never in
    a real file), the file is read again in one block, so all the rows of that
    flow are rejected exactly as a one-block read rejects them: the result does
    not depend on the block size.
    """
    try:
        return _assemble(read(block_size), strict=strict, what=path.name, cls=cls)
    except _SumPastExact:
        pass
    whole = path.stat().st_size + 1  # one block of a plain file; compressed: likely one
    for size in (whole, 16 * whole):
        if size > block_size:
            try:
                return _assemble(read(size), strict=strict, what=path.name, cls=cls)
            except _SumPastExact:
                continue
    raise ValidationError(
        f"{path.name}: flows whose counts sum to more than 2**53 span several blocks "
        "(read with a larger block_size to have their rows rejected one by one)"
    )


def _assemble(blocks: list[Part], *, strict: bool, what: str, cls: Any) -> Any:
    rejected = [p.rejected for p, _ in blocks if len(p.rejected)]
    if len(blocks) > 1 and any(r["reason"].eq(PAST_EXACT).any() for r in rejected):
        # a block rejected a flow's rows, which other blocks may repeat and would keep:
        # only a read in one block rejects all of them, whatever the block size
        raise _SumPastExact(what)
    n_in = sum(p.n_input for p, _ in blocks)
    accepted = sum(p.n_accepted_rows for p, _ in blocks)
    rej = pd.concat(rejected, ignore_index=True) if rejected else empty_rejects()
    if strict and len(rej):
        raise strict_error(what, rej, n_in)
    tables = [p.table for p, _ in blocks if len(p.table)]
    stems = [_stems_of(p.table) if s is None else s for p, s in blocks if len(p.table)]
    del blocks  # the tables are held by ``tables`` alone: emptied as they are joined
    flows, both = None, None
    if len(tables) > 1:  # each block is aggregated already; flows repeated across are left
        keeps = _merge_across(tables, stems, what)
        flows = _concat_blocks(tables, keeps)  # empties the blocks' tables
        both = (np.concatenate([s[0] for s in stems]), np.concatenate([s[1] for s in stems]))
    elif tables:  # one block (most files): no copy
        flows, both = tables[0], stems[0]
    del tables, stems
    net = cls._from_valid_tables({"flows": flows}, flow_stems=both)
    net.ingest["flows"] = IngestResult(net.flows, rej, n_in, accepted)
    return net


def _stems_of(table: pd.DataFrame) -> Stems:
    """The NPI stems of a validated table's sources and targets (from their text)."""
    return (npi_stems(npi_ints(table["source_npi"]), None),
            npi_stems(npi_ints(table["target_npi"]), None))  # fmt: skip


def _merge_across(
    tables: list[pd.DataFrame], stems: list[Stems], what: str
) -> list[np.ndarray | None]:
    """Sum the flows repeated in different blocks: the rows each block keeps (``None``: all).

    The result, the blocks joined, is ``validate_table(<the blocks joined>, "flows",
    duplicates="aggregate").table``: the rows of no repeated key in order, then
    one summed row a repeated key in order of first appearance. Each block is
    aggregated already, so a repeated key is in two blocks. Rows sharing a key
    share its (source, target) pair, so the pairs are compared first, as one
    int64 a pair made of the two NPI stems, sorted once (the pairs of the sources
    in several blocks only, when every block's sources are in order, as in a CMS
    file sorted by source: those that straddle a block boundary). The other
    key columns are compared on the rows of repeated pairs only, and only the
    rows of repeated keys go through the validator; the blocks with such rows
    are to lose them (the rows kept are returned; their stems are taken here),
    and the summed rows are appended to ``tables`` and ``stems`` as one more
    block. Raises :class:`_SumPastExact` when a sum passes 2**53.
    """
    keeps: list[np.ndarray | None] = [None] * len(tables)
    rows = _shared_source_rows(stems)
    keys = [_pair_keys(s, r) for s, r in zip(stems, rows)]
    ordered = np.concatenate(keys)
    ordered.sort()
    twice = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    if not len(twice):
        return keeps
    same = []  # each block's rows of a pair found in another block
    for key, r in zip(keys, rows):
        hit = member(key, twice)  # the few repeated keys
        if r is not None:
            hit = spread(hit, r)
        same.append(hit)
    del keys
    part = pd.concat([t.loc[h] for t, h in zip(tables, same) if h.any()], ignore_index=True)
    dup = duplicated_flows(part, checked=True)
    if not dup.any():
        return keeps
    merged = validate_table(part.loc[dup].reset_index(drop=True), "flows", duplicates="aggregate")
    del part
    if len(merged.rejected):
        raise _SumPastExact(what)
    at = 0
    for i, hit in enumerate(same):
        if not hit.any():
            continue
        drop = spread(dup[at : at + int(hit.sum())], hit)
        at += int(hit.sum())
        if drop.any():  # the block's rows are dropped as its columns are joined
            keeps[i] = ~drop
            stems[i] = (stems[i][0][~drop], stems[i][1][~drop])
    tables.append(merged.table)
    stems.append(_stems_of(merged.table))
    return [*keeps, None]


def _pair_keys(stems: Stems, rows: np.ndarray | None) -> np.ndarray:
    """One int64 a (source, target) pair of the rows of ``rows`` (all with ``None``)."""
    return pair_keys(*stems) if rows is None else pair_keys(stems[0][rows], stems[1][rows])


def _shared_source_rows(stems: list[Stems]) -> list[np.ndarray | None]:
    """Each block's rows whose source is in another block too, when every block's sources
    are in order (then found by comparing neighbours); else ``None`` (all rows) for each.

    A flow in two blocks has its source in both, so only these rows can repeat one.
    """
    src = [s[0] for s in stems]
    if not all(bool((v[1:] >= v[:-1]).all()) for v in src):
        return [None] * len(src)
    distinct = [v[np.r_[True, v[1:] != v[:-1]]] if len(v) else v for v in src]
    values, counts = np.unique(np.concatenate(distinct), return_counts=True)
    shared = values[counts > 1]
    return [member(v, shared) for v in src]


def _concat_blocks(
    tables: list[pd.DataFrame], keeps: list[np.ndarray | None] | None = None
) -> pd.DataFrame:
    """``pandas.concat`` of the blocks' tables, one column at a time, emptying them as it goes.

    ``keeps``: the rows of each table to keep (``None``: all), dropped a column at a time.

    A column of every block is dropped from its block once it is joined, so the
    peak is the result plus one column of the blocks, not the result plus all of
    them (Arrow string columns are joined without a copy in any case). The
    blocks' columns are small enough to live in the C heap, which keeps their
    pages once they are freed: :func:`~refgraph._tables.release_memory` gives
    them back after each column (at the national CMS size the heap otherwise
    held 1-2 GiB of freed blocks through the network build, the read's peak).
    """
    keeps = keeps or [None] * len(tables)
    names = list(tables[0].columns)
    if any(list(t.columns) != names for t in tables):  # not expected: one header a file
        kept = [t if k is None else t.loc[k] for t, k in zip(tables, keeps)]
        return pd.concat(kept, ignore_index=True)
    cols = {}
    for name in names:  # label columns united, one-date columns held once
        cols[name] = concat_column([_rows(t.pop(name), k) for t, k in zip(tables, keeps)])
        release_memory()
    return pd.DataFrame(cols, copy=False)


def _rows(col: pd.Series, keep: np.ndarray | None) -> pd.Series:
    """The rows ``keep`` of a column (all with ``None``); one date held once stays so."""
    if keep is None:
        return col
    if is_const_dates(col) and len(col):
        return const_dates(col.to_numpy()[0], int(keep.sum()))
    return col[keep]


def read_docgraph_hop(
    path: str | Path,
    *,
    strict: bool = False,
    provenance: str = "docgraph-hop",
    block_size: int = 64 << 20,
) -> ReferralNetwork:
    """Read a DocGraph "hop teaming" file into a network.

    Columns ``from_npi, to_npi, patient_count, transaction_count,
    average_day_wait, std_day_wait`` (header optional). Mapping:
    ``from_npi -> source_npi``, ``to_npi -> target_npi``,
    ``transaction_count -> count``, ``patient_count -> patients``; the wait
    columns are kept. Damaged lines and unreadable files are handled as in
    :func:`read_cms_shared_patients`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "hop.csv"
    >>> _ = p.write_text("from_npi,to_npi,patient_count,transaction_count,"
    ...                  "average_day_wait,std_day_wait\\n"
    ...                  "1234567893,1003033051,11,25,14.2,9.1\\n")
    >>> net = read_docgraph_hop(p)
    >>> net.flows[["count", "patients", "average_day_wait"]].values.tolist()
    [[25, 11, 14.2]]
    """
    from ..network import ReferralNetwork

    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"path: DocGraph file {str(path)!r} does not exist")

    def read(size: int) -> list[Part]:
        text = _open_file(path, HOP_COLUMNS, size)
        names = text.names
        missing = [c for c in ("from_npi", "to_npi", "transaction_count") if c not in names]
        if missing:
            raise ValidationError(
                f"{path.name}: not a DocGraph hop file; missing columns {missing}, got {names}"
            )
        rename = {
            "from_npi": "source_npi",
            "to_npi": "target_npi",
            "transaction_count": "count",
            "patient_count": "patients",
        }
        waits = {"average_day_wait": "float", "std_day_wait": "float"}
        parts: list[Part] = []
        for chunk in ahead(text.chunks):  # the next block parsed while this one is checked
            fast = None
            stems: list[Stems] = []
            if chunk.table is not None and len(set(names)) == len(names):
                cols: dict[str, Any] = {
                    rename.get(c, c): chunk.table.column(i) for i, c in enumerate(names)
                }
                cols["provenance"] = provenance
                floats = tuple(c for c in waits if c in cols)
                fast = fast_flows(
                    cols, chunk.table.num_rows, rows=chunk.rows, floats=floats, npis=stems
                )
            if fast is not None:  # a block checked in Arrow (see refgraph.io._fast)
                parts.append((add_line_rejects(fast, chunk.rejects, chunk.n_lines), stems[0]))
                continue
            df = _chunk_frame(chunk, names).rename(columns=rename)
            df["provenance"] = provenance
            res = validate_table(
                df, "flows", duplicates="aggregate", row_numbers=chunk.rows, extra_kinds=waits
            )
            parts.append((add_line_rejects(res, chunk.rejects, chunk.n_lines), None))
        return parts

    return _read_blocks(read, path, block_size, strict=strict, cls=ReferralNetwork)
