"""One way to load a table source (path or frame) for every reader, with line-level rejects."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .._errors import NotFoundError, ValidationError
from .._progress import progress_bar, showing
from .._validate import IngestResult, add_line_rejects
from ._ahead import on_two_threads
from ._text import NULL_VALUES, read_text, text_frame

__all__ = ["Loaded", "load_source", "parquet_frame", "read_parquet_file", "read_parquet_table"]

_PARQUET_ERRORS = (
    pa.ArrowException,
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    UnicodeDecodeError,
    zlib.error,
)


class Loaded:
    """A source as a frame, with the data-row number of each frame row and line rejects.

    ``arrow`` is the source as an Arrow table with the frame's column names
    (text columns as pyarrow parsed them, or a Parquet file's columns) when
    it was read from a file; ``frame`` is then made from it on first use by
    ``make_frame(arrow)``. A reader may take ``arrow`` away (set it to
    ``None``) to free its columns as it uses them, and put it back if it
    needs the frame after all.
    """

    def __init__(
        self,
        frame: pd.DataFrame | None,
        rows: np.ndarray | None = None,
        rejects: pd.DataFrame | None = None,
        n_lines: int | None = None,
        *,
        arrow: pa.Table | None = None,
        make_frame: Callable[[pa.Table], pd.DataFrame] | None = None,
    ) -> None:
        self._frame = frame
        self.rows = rows  # None: rows are 0..n-1
        self.rejects = rejects
        self.n_lines = n_lines  # None: len(frame)
        self.arrow = arrow
        self._make_frame = make_frame

    @property
    def frame(self) -> pd.DataFrame:
        """The source as a pandas frame."""
        if self._frame is None:
            assert self._make_frame is not None and self.arrow is not None
            self._frame = self._make_frame(self.arrow)
        return self._frame

    def finish(self, res: IngestResult) -> IngestResult:
        """Add the line rejects to ``res`` and set ``n_input`` to the number of data lines."""
        if self.rejects is None or self.n_lines is None:
            return res
        return add_line_rejects(res, self.rejects, self.n_lines)


def read_parquet_file(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file as a frame, every read failure as one :class:`ValidationError`.

    Read with pyarrow and converted once; Arrow dates become ``datetime64``
    columns (``pandas.read_parquet`` makes them columns of Python
    ``datetime.date`` objects, which cost seconds a million rows to check).
    """
    return parquet_frame(read_parquet_table(path, columns), path)


def parquet_frame(table: pa.Table, path: Path) -> pd.DataFrame:
    """An Arrow table read from ``path`` as a frame (dates as ``datetime64``)."""
    try:
        return table.to_pandas(date_as_object=False, split_blocks=True)
    except _PARQUET_ERRORS as exc:
        raise _parquet_error(path, exc) from exc


def read_parquet_table(path: Path, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file as an Arrow table, every read failure as one :class:`ValidationError`."""
    try:
        import pyarrow.parquet as pq

        if showing():
            table = _read_row_groups(pq.ParquetFile(path), path, columns)
        else:
            table = pq.read_table(path, columns=columns)
        table.validate()  # the structure; then each column's data in full, two at a time:
        on_two_threads([partial(c.validate, full=True) for c in table.columns])  # e.g. bad
        # UTF-8 in a damaged text page (about 3% of a read)
        return table
    except _PARQUET_ERRORS as exc:
        raise _parquet_error(path, exc) from exc


def _read_row_groups(pf: Any, path: Path, columns: list[str] | None) -> pa.Table:
    """The file read one row group at a time under a progress bar over its rows.

    Used only when a bar is drawn; each row group is still read with threads
    (``benchmarks/results/summary.md`` measures it against one ``read_table``).
    """
    meta = pf.metadata
    with progress_bar(meta.num_rows, f"read {path.name}", unit="row", unit_scale=True) as bar:
        parts = []
        for i in range(meta.num_row_groups):
            parts.append(pf.read_row_group(i, columns=columns, use_pandas_metadata=True))
            bar.update(meta.row_group(i).num_rows)
    if not parts:
        return pf.read(columns=columns, use_pandas_metadata=True)
    return pa.concat_tables(parts)


def _parquet_error(path: Path, exc: BaseException) -> ValidationError:
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ValidationError(
        f"{path.name}: cannot read the Parquet file (damaged or not Parquet?): {msg}"
    )


def _is_parquet(path: Path) -> bool:
    suffixes = "".join(path.suffixes).lower()
    return ".parquet" in suffixes or ".pq" in suffixes


def _infer_numeric(frame: pd.DataFrame, keep_text: set[str]) -> pd.DataFrame:
    """Extra columns that are all numbers become numeric, as ``pandas.read_csv`` would."""
    for i, name in enumerate(list(frame.columns)):
        lname = str(name).lower()
        if name in keep_text or any(t in lname for t in ("npi", "zip", "id", "code")):
            continue
        col = frame.iloc[:, i]
        present = col.notna()
        if not present.any():
            continue
        num = pd.to_numeric(col, errors="coerce")
        if num[present].isna().any():
            continue
        arr = num.to_numpy(dtype="float64", na_value=np.nan)
        if not present.all() or not np.all(np.floor(arr) == arr) or np.abs(arr).max() > 2**53:
            frame.isetitem(i, pd.Series(arr, index=frame.index))
        else:
            frame.isetitem(i, pd.Series(arr.astype(np.int64), index=frame.index))
    return frame


def load_source(
    source: Any,
    what: str,
    *,
    text_columns: set[str] | frozenset[str] = frozenset(),
    null_values: tuple[str, ...] = NULL_VALUES,
    infer: bool = True,
    int_columns: frozenset[str] = frozenset(),
) -> Loaded:
    """Load a DataFrame, a Parquet file or a delimited text file.

    Text files are read with :func:`refgraph.io._text.read_text`: every
    column as text, bad lines as rejects. Columns outside ``text_columns``
    that are all numbers are made numeric when ``infer`` is true. Columns
    named in ``int_columns`` (counts) are parsed as int64 in ``arrow`` where
    that is exact (see :func:`refgraph.io._text.read_text`); ``frame`` has
    them as text.
    """
    if isinstance(source, pd.DataFrame):
        return Loaded(source)
    if not isinstance(source, (str, Path)):
        raise ValidationError(
            f"{what}: expected a path or a pandas DataFrame, got {type(source).__name__}"
        )
    path = Path(source)
    if not path.exists():
        raise NotFoundError(f"{what}: file {str(path)!r} does not exist")
    if path.is_dir():
        raise ValidationError(f"{what}: {str(path)!r} is a folder, not a file")
    if _is_parquet(path):
        table = read_parquet_table(path)
        return Loaded(None, arrow=table, make_frame=lambda t: parquet_frame(t, path))
    suffixes = "".join(path.suffixes).lower()
    if not any(s in suffixes for s in (".csv", ".txt", ".tsv")):
        raise ValidationError(
            f"{what}: cannot tell the format of {str(path)!r}; expected .csv, .tsv, .txt or "
            ".parquet (optionally .gz/.bz2/.xz compressed)"
        )
    delimiter = "\t" if ".tsv" in suffixes else None
    names, chunk = read_text(
        path, header=True, delimiter=delimiter, null_values=null_values, int_columns=int_columns
    )

    if chunk.table is None:  # some lines read one by one: the frame is made already
        frame = _infer_numeric(chunk.frame, set(text_columns)) if infer else chunk.frame
        return Loaded(frame, chunk.rows, chunk.rejects, chunk.n_lines)

    def make_frame(arrow: pa.Table) -> pd.DataFrame:
        frame = text_frame(arrow, names)
        return _infer_numeric(frame, set(text_columns)) if infer else frame

    arrow = chunk.table.rename_columns(names)
    return Loaded(
        None, chunk.rows, chunk.rejects, chunk.n_lines, arrow=arrow, make_frame=make_frame
    )
