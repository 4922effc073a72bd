"""Tolerant reading of delimited text files: every line is accepted or rejected with a reason.

Every reader of refgraph that takes a CSV/TSV/TXT file (optionally gzip, bz2 or
xz compressed) goes through :func:`open_text`. The file is read in blocks of
whole lines; each block is parsed by pyarrow's CSV parser (all columns as text)
and only a block that the fast parser refuses is re-read line by line, so a
clean file costs one pyarrow pass and a damaged line costs one rejects row.

Rules (see ``docs/formats``):

- one record per line; a quoted field may not hold a line break;
- empty lines are skipped and are not data lines; a line of only spaces is
  rejected;
- a UTF-8 byte-order mark is ignored; a line that is not valid UTF-8, has the
  wrong number of fields or an unbalanced quote is rejected with its 1-based
  line number in the reason, and reading continues;
- a file that cannot be read at all (empty, damaged or truncated compressed
  data, UTF-16, binary) raises one :class:`~refgraph.ValidationError` naming
  the file.

Row numbers (``row`` in rejects) count data lines from 0, header and empty
lines excluded, so ``accepted + rejected == data lines``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from .._coerce import MAX_COUNT
from .._errors import ValidationError
from .._tables import release_arrow_memory
from .._validate import empty_rejects
from ._ahead import ahead
from ._blocks import Block, blocks

__all__ = ["LINE", "TextChunk", "TextFile", "open_text", "read_text", "text_frame"]

#: What :func:`_parse_block` needs to know of a block before parsing it: its newlines,
#: whether it has no carriage return, whether it has a NUL byte.
Scan: TypeAlias = tuple[int, bool, bool]

#: Bytes pyarrow's CSV parser takes at a time (its threads parse such pieces side by side):
#: 8 MiB, where its default of 1 MiB gave the checks that follow columns of about
#: 20,000 rows a chunk, whose per-chunk costs added up.
_PARSE_BLOCK = 8 << 20

#: ``column`` of rejects that concern a whole line.
LINE = "<line>"

#: Values read as missing (pyarrow's defaults).
NULL_VALUES: tuple[str, ...] = tuple(pacsv.ConvertOptions().null_values)

_MAX_SHOWN = 200  # characters of a rejected line kept in ``value``


class TextChunk:
    """Parsed lines of one block: text columns, their data-row numbers, line rejects.

    ``table`` is the block as pyarrow parsed it (every column as text, in file
    order) when the fast parser read every line; ``frame`` is the same as a
    pandas frame of ``string`` columns, made on first use.
    """

    def __init__(
        self,
        frame: pd.DataFrame | None,
        rows: np.ndarray,
        rejects: pd.DataFrame,
        n_lines: int,
        *,
        table: pa.Table | None = None,
        names: list[str] | None = None,
    ) -> None:
        self._frame = frame
        self.rows = rows
        self.rejects = rejects
        self.n_lines = n_lines
        self.table = table
        self.names = names
        self.n_physical: int | None = None  # lines of the block, empty ones included

    @property
    def frame(self) -> pd.DataFrame:
        """The text columns as a pandas frame (``string`` dtype; duplicate names kept)."""
        if self._frame is None:
            assert self.table is not None and self.names is not None
            self._frame = _to_frame(self.table, self.names)
        return self._frame


@dataclass
class TextFile:
    """An opened delimited file: its column names and an iterator of chunks.

    ``int_fields``: positions of columns of counts, which blocks read after it
    is set parse as int64 where that is exact (see :func:`_parse_block`).
    """

    names: list[str]
    header: bool
    delimiter: str
    chunks: Iterator[TextChunk]
    int_fields: set[int] = field(default_factory=set)


def _line_lengths(block: Block) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets and lengths (without ``\\n``/``\\r\\n``) of the lines of a block."""
    a = np.frombuffer(block, dtype=np.uint8)
    ends = np.flatnonzero(a == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    cr = lengths > 0
    cr[cr] = a[ends[cr] - 1] == 13
    return starts, lengths - cr


def _decode_header(path: Path, line: Block) -> str:
    if line.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValidationError(f"{path.name}: the file is UTF-16 text; save it as UTF-8")
    if b"\x00" in line:
        raise ValidationError(f"{path.name}: not a text file (its first line holds NUL bytes)")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{path.name}: the first line is not UTF-8 text ({exc.reason} at byte "
            f"{exc.start}); save the file as UTF-8"
        ) from exc


def open_text(
    path: Path,
    *,
    expected: list[str] | None = None,
    header: bool | None = True,
    delimiter: str | None = None,
    null_values: tuple[str, ...] = NULL_VALUES,
    block_size: int = 64 << 20,
) -> TextFile:
    """Open a delimited file for tolerant reading.

    Parameters
    ----------
    path
        The file (plain, gzip, bz2 or xz).
    expected
        Column names of a headerless file (``header=False`` or detected).
    header
        ``True``: the first non-empty line is the header; ``None``: a header
        unless the first field is all digits (CMS/DocGraph files).
    delimiter
        ``","`` or ``"\\t"``; default: the more frequent one in the first line.
    null_values
        Field texts read as missing.
    block_size
        Bytes of decompressed text parsed at a time.
    """
    boxes = blocks(path, block_size)
    first_block: Block = b""
    for box in boxes:  # blocks of only white space are kept: their lines count
        first_block = first_block + box.pop() if first_block else box.pop()
        if not first_block.isspace():
            break
    if first_block.startswith(b"\xef\xbb\xbf"):
        first_block = first_block[3:]
    if not first_block or first_block.isspace():
        raise ValidationError(f"{path.name}: the file is empty (no header and no data lines)")
    # the first line with something other than white space
    i0, start = 0, 0
    while True:
        end = first_block.index(b"\n", start)
        if end > start and not first_block[start:end].isspace():
            break
        i0, start = i0 + 1, end + 1
    head_line = first_block[start:end].removesuffix(b"\r")
    head = _decode_header(path, head_line)
    if delimiter is None:
        delimiter = "\t" if head.count("\t") > head.count(",") else ","
    try:
        fields = next(csv.reader([head], delimiter=delimiter))
    except (csv.Error, StopIteration):
        fields = head.split(delimiter)
    fields = [f.strip() for f in fields]
    has_header = header if header is not None else not fields[0].isdigit()
    line0 = i0  # physical 0-based line index of the first line of the body
    if has_header:
        names = fields
        body: Block = first_block
        if isinstance(body, bytearray):  # a bytearray drops a head without a copy
            del body[: end + 1]
        else:
            body = first_block[end + 1 :]
        line0 = i0 + 1
    else:
        n = len(fields)
        exp = list(expected or [])
        names = exp[:n] + [f"extra_{i}" for i in range(n - len(exp))] if n > len(exp) else exp[:n]
        body = first_block
    if not names or any(not n for n in names):
        names = [n or f"column_{i}" for i, n in enumerate(names)]
    first: list[Block] = [body] if body else []
    del first_block, body  # held by ``first`` only, until it is parsed

    def chunks() -> Iterator[TextChunk]:
        row = 0
        line = line0 if has_header else 0
        for box, scan in ahead(_scanned(_chain(first, boxes))):  # read while one is parsed
            block = box.pop()
            chunk = _parse_block(
                block, names, delimiter, null_values, row, line, frozenset(text.int_fields), scan
            )
            row += chunk.n_lines
            line += chunk.n_physical if chunk.n_physical is not None else scan[0]
            del block  # not kept while the chunk is used
            release_arrow_memory()  # the parser's scratch pages, which Arrow's allocator keeps
            yield chunk

    text = TextFile(names, bool(has_header), delimiter, chunks())
    return text


def _chain(first: list[Block], rest: Iterator[list[Block]]) -> Iterator[list[Block]]:
    if first:
        yield first
    yield from rest


def _scanned(boxes: Iterator[list[Block]]) -> Iterator[tuple[list[Block], Scan]]:
    """Each block (in its box) with its :data:`Scan`.

    :func:`open_text` reads and scans the next block in a worker thread
    (:func:`~refgraph.io._ahead.ahead`) while pyarrow parses this one: the
    scans (``bytes.count``, which holds the GIL) and the file read (page
    faults of a new buffer) no longer wait for the parse, nor it for them.
    """
    for box in boxes:
        scan = (*_newlines(box[0]), b"\x00" in box[0])
        yield box, scan


def read_text(
    path: Path, *, int_columns: frozenset[str] | set[str] = frozenset(), **kwargs: Any
) -> tuple[list[str], TextChunk]:
    """Read a whole file with :func:`open_text`; one chunk with every line.

    ``int_columns``: names of columns of counts, parsed as int64 where that
    is exact (see :func:`_parse_block`).
    """
    f = open_text(path, **kwargs)
    f.int_fields = {i for i, name in enumerate(f.names) if name in int_columns}
    parts = list(f.chunks)
    if not parts:
        empty = _frame([[] for _ in f.names], f.names)
        return f.names, TextChunk(empty, np.empty(0, np.int64), empty_rejects(), 0)
    rows = np.concatenate([p.rows for p in parts])
    rej = [p.rejects for p in parts if len(p.rejects)]
    rejects = pd.concat(rej, ignore_index=True) if rej else empty_rejects()
    n_lines = sum(p.n_lines for p in parts)
    tables = [p.table for p in parts if p.table is not None]
    if len(tables) == len(parts):  # every block parsed by pyarrow: no copy, frame lazy
        if len({t.schema for t in tables}) > 1:  # counts read as int64 and as text: text
            tables = [_as_text(t) for t in tables]
        table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
        return f.names, TextChunk(None, rows, rejects, n_lines, table=table, names=f.names)
    frame = (
        pd.concat([p.frame for p in parts], ignore_index=True) if len(parts) > 1 else parts[0].frame
    )
    return f.names, TextChunk(frame, rows, rejects, n_lines)


def _frame(columns: list[Any], names: list[str]) -> pd.DataFrame:
    """A frame of ``string`` columns named ``names`` (duplicates kept for the validator)."""
    frame = pd.DataFrame({i: pd.array(c, dtype="string") for i, c in enumerate(columns)})
    frame.columns = pd.Index(names, dtype=object)
    return frame


def text_frame(table: pa.Table, names: list[str]) -> pd.DataFrame:
    """A block's Arrow table as a frame of ``string`` columns named ``names`` (counts as text)."""
    return _to_frame(table, names)


def _to_frame(table: pa.Table, names: list[str]) -> pd.DataFrame:
    text = _as_text(table)
    return _frame([text.column(i) for i in range(len(names))], names)


def _as_text(table: pa.Table) -> pa.Table:
    """``table`` with its int64 columns (counts parsed as such) as their decimal text.

    Exact for the validator: a block keeps int64 counts only when every one is
    within 0..2**53, and those it accepts with the same value whatever their
    text was (``05``, ``-0``, `` 7``); it never shows their text in a reject.
    """
    cols = [c.cast(pa.large_string()) if pa.types.is_integer(c.type) else c for c in table.columns]
    return pa.table(cols, names=table.column_names)


def _parse_block(
    block: Block,
    names: list[str],
    delimiter: str,
    null_values: tuple[str, ...],
    row0: int,
    line0: int,
    int_fields: frozenset[int] = frozenset(),
    scan: Scan | None = None,
) -> TextChunk:
    """Parse one block of whole lines; fall back to line-by-line on any parse failure.

    ``scan``: the block's :data:`Scan`, when it was made already (else made here).

    Columns are parsed as text, but for those in ``int_fields`` (counts),
    which are parsed as int64 when the block allows it: when every value is
    missing or an integer Arrow reads and within 0..2**53. Each such value is
    one the validator accepts with that same integer, whatever its text
    (``05``, ``-0``, a space or tab around the digits: Arrow's CSV reader
    strips spaces and tabs around a number, its text cast does not, the
    validator does), and whose text no reject shows (``tests/test_io_ints.py``);
    a block with any other value in those columns (``+5``, ``5.0``, ``-3``,
    ``x``, ``2**53 + 1``) is parsed again with them as text, for the
    validator to judge.
    """
    starts: np.ndarray | None = None
    lengths: np.ndarray | None = None
    physical, plain, nul = (*_newlines(block), b"\x00" in block) if scan is None else scan
    n_lines: int | None = None
    if not plain or physical == len(block):  # CR somewhere, or nothing but newlines
        n_lines, physical, starts, lengths = _count_lines(block)
        if n_lines == 0:
            return TextChunk(
                _frame([[] for _ in names], names), np.empty(0, np.int64), empty_rejects(), 0
            )
    table = None
    if int_fields:
        table = _pyarrow_parse(block, len(names), delimiter, null_values, int_fields)
        if table is not None and not _counts_in_range(table, int_fields):
            table = None
    if table is None:
        table = _pyarrow_parse(block, len(names), delimiter, null_values, frozenset())
    if n_lines is None:
        if table is not None and table.num_rows == physical:
            n_lines = physical
        else:
            n_lines, physical, starts, lengths = _count_lines(block)
    if (
        table is not None
        and table.num_rows == n_lines
        and not nul  # pyarrow keeps NUL bytes inside fields
        # with one column a line of spaces is a valid row to pyarrow
        and (len(names) > 1 or not re.search(rb"(?m)^[ \t]+\r?$", block))
    ):
        rows = np.arange(row0, row0 + n_lines, dtype=np.int64)
        chunk = TextChunk(None, rows, empty_rejects(), n_lines, table=table, names=names)
        chunk.n_physical = physical
        return chunk
    if starts is None or lengths is None:
        starts, lengths = _line_lengths(block)
    return _parse_lines(block, starts, lengths, names, delimiter, null_values, row0, line0)


def _newlines(block: Block) -> tuple[int, bool]:
    """The newlines of a block, and whether it has no carriage return.

    Without a carriage return pyarrow ends rows at newlines only and skips
    empty lines, so it makes at most one row of a line, and as many rows as
    newlines only when no line is empty: :func:`_parse_block` then counts the
    data lines without looking for empty ones (two more scans of the block).
    """
    return block.count(b"\n"), b"\r" not in block


def _count_lines(block: Block) -> tuple[int, int, np.ndarray | None, np.ndarray | None]:
    """Data lines (not empty), all lines, and the line starts and lengths if they were needed.

    A block whose lines are all non-empty is counted by its newlines alone.
    """
    if b"\n\n" in block or b"\n\r\n" in block or block.startswith((b"\n", b"\r\n")):
        starts, lengths = _line_lengths(block)  # some empty lines: count the others
        return int((lengths > 0).sum()), len(starts), starts, lengths
    physical = block.count(b"\n")
    return physical, physical, None, None


def _pyarrow_parse(
    block: Block,
    ncol: int,
    delimiter: str,
    null_values: tuple[str, ...],
    int_fields: frozenset[int],
) -> pa.Table | None:
    """A block as pyarrow's CSV reader parses it (``None`` where it refuses it).

    Every column as ``large_string`` (pandas' own Arrow text type: the frame
    wraps it without a copy) but those in ``int_fields``, as int64.
    """
    unique_names = [f"c{i}" for i in range(ncol)]
    types = {
        n: pa.int64() if i in int_fields else pa.large_string() for i, n in enumerate(unique_names)
    }
    try:
        return pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(
                column_names=unique_names, use_threads=True, block_size=_PARSE_BLOCK
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=list(null_values), strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None


def _counts_in_range(table: pa.Table, int_fields: frozenset[int]) -> bool:
    """Whether every present value of the int64 columns is within 0..2**53."""
    for i in int_fields:
        if i >= table.num_columns:
            continue
        got = pc.min_max(table.column(i))
        low, high = got["min"].as_py(), got["max"].as_py()
        if low is not None and (low < 0 or high > MAX_COUNT):
            return False
    return True


def _parse_lines(
    block: Block,
    starts: np.ndarray,
    lengths: np.ndarray,
    names: list[str],
    delimiter: str,
    null_values: tuple[str, ...],
    row0: int,
    line0: int,
) -> TextChunk:
    """The slow path: every line on its own, bad ones to rejects."""
    ncol = len(names)
    nulls = set(null_values)
    good: list[list[str | None]] = []
    good_rows: list[int] = []
    bad_rows: list[int] = []
    bad_text: list[str] = []
    bad_reason: list[str] = []
    row = row0
    for i, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist())):
        if n == 0:
            continue
        raw = block[s : s + n]
        lineno = line0 + i + 1
        reason = None
        fields: list[str] = []
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            reason = f"line {lineno}: not valid UTF-8 (byte 0x{raw[exc.start]:02x} at {exc.start})"
        if reason is None:
            if "\x00" in text:
                reason = f"line {lineno}: holds a NUL byte"
            elif not text.strip():
                reason = f"line {lineno}: blank line (only spaces)"
            else:
                try:
                    fields = next(csv.reader([text], delimiter=delimiter, strict=True))
                except csv.Error as exc:
                    reason = f"line {lineno}: cannot split into fields ({exc})"
                else:
                    if len(fields) != ncol:
                        reason = f"line {lineno}: expected {ncol} fields, found {len(fields)}"
        if reason is None:
            good.append([None if f in nulls else f for f in fields])
            good_rows.append(row)
        else:
            bad_rows.append(row)
            bad_text.append(text[:_MAX_SHOWN])
            bad_reason.append(reason)
        row += 1
    cols = [list(c) for c in zip(*good)] if good else [[] for _ in range(ncol)]
    frame = _frame(cols, names)
    rejects = pd.DataFrame(
        {
            "row": pd.Series(bad_rows, dtype="int64"),
            "column": pd.array([LINE] * len(bad_rows), dtype="string"),
            "value": pd.array(bad_text, dtype="string"),
            "reason": pd.array(bad_reason, dtype="string"),
        }
    )
    return TextChunk(frame, np.asarray(good_rows, dtype=np.int64), rejects, row - row0)
