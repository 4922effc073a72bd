"""Bulk import files: the refgraph tables as ``neo4j-admin database import full`` input.

The files hold exactly what the online writer (:meth:`Neo4jBackend.write`) stores: the
same labels, relationship types, property names and property types, the ``RefgraphTable``
nodes with each table's columns and dtypes, and a fresh store change marker. Only the
constraints and indexes are left: the importer cannot create them on Community, so
:meth:`Neo4jBackend.setup_schema` creates them once the server runs on the new store.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..._errors import ValidationError
from ._schema import _FLOW_KEY, _LABELS
from ._write import _row_ids, _to_neo4j

if TYPE_CHECKING:
    from ...network import ReferralNetwork

#: Separator of array elements (``--array-delimiter=U+001F``): a control character that
#: refgraph's column names and dtypes never contain (checked when writing).
_ARRAY_SEP = "\x1f"
#: Rows converted and written per chunk (bounds the memory a table's file text takes).
_CHUNK = 1_000_000
#: Characters a property name cannot hold in an import header.
_BAD_NAME = (":", ",", '"', "\n", "\r", _ARRAY_SEP)
#: CSV as the importer reads it: text always quoted (so ``""`` is an empty string and an
#: empty field a missing value), numbers, booleans and dates bare, ``"`` doubled.
_CSV = pacsv.WriteOptions(include_header=False, quoting_style="needed")

#: One column of an import file: its values at the rows of a slice, as an Arrow array.
_Convert = Callable[[slice], pa.Array]


def _arrow(values: Any, kind: pa.DataType) -> pa.Array:
    arr = pa.array(values, type=kind, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _text(s: pd.Series) -> pa.Array:
    """A column as Arrow text (no copy for Arrow-backed strings; ``str`` of other values)."""
    if not (isinstance(s.dtype, pd.StringDtype) or str(s.dtype) == "str"):
        s = s.astype(str)
    return _arrow(s, pa.large_string())


def _python_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "long"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        kinds = {_python_kind(x) for x in v if x is not None}
        return (kinds.pop() + "[]") if len(kinds) == 1 else ("string[]" if not kinds else "mixed")
    return "mixed"


def _scalar_text(kind: str, values: list[Any]) -> list[str]:
    if kind == "boolean":
        return ["true" if v else "false" for v in values]
    if kind == "double":
        return [_double_text(v) for v in values]
    return [str(v) for v in values]


def _double_text(v: float) -> str:
    if np.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(float(v))


def _column(s: pd.Series, where: str) -> tuple[str, _Convert]:
    """The import type of a column and how to convert a slice of its rows.

    The types are the ones the online writer's values get in Neo4j: integers are
    ``long``, floats ``double``, dates without a time of day ``date``, other
    timestamps ``localdatetime`` (``datetime`` with a time zone), text ``string``.
    Missing values are nulls (empty fields: the property is absent). Typed columns
    are converted a chunk at a time; only object columns are looked at whole.
    """
    if isinstance(s.dtype, pd.CategoricalDtype) and str(s.dtype.categories.dtype) == "str":
        s = s.astype("string")  # a label column (refgraph._compact): its text
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", lambda p: _arrow(s.iloc[p], pa.bool_())
    if pd.api.types.is_integer_dtype(dtype):
        return "long", lambda p: _arrow(s.iloc[p], pa.int64())
    if pd.api.types.is_float_dtype(dtype):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        if not np.isinf(arr).any():
            return "double", lambda p: _arrow(arr[p], pa.float64())
        text = [None if np.isnan(v) else _double_text(v) for v in arr.tolist()]
        whole = _arrow(text, pa.large_string())  # Java reads Infinity, not inf
        return "double", lambda p: whole[p]
    if pd.api.types.is_datetime64_any_dtype(dtype):
        present = s[s.notna().to_numpy(dtype=bool)]
        if getattr(dtype, "tz", None) is not None:
            kind, fmt = "datetime", "%Y-%m-%dT%H:%M:%S.%f%z"
        elif bool((present == present.dt.normalize()).all()):
            return "date", lambda p: _arrow(s.iloc[p], None).cast(pa.date32())
        else:
            kind, fmt = "localdatetime", "%Y-%m-%dT%H:%M:%S.%f"
        return kind, lambda p: _arrow(s.iloc[p].dt.strftime(fmt), pa.large_string())
    if isinstance(dtype, pd.StringDtype) or str(dtype) == "str":
        return "string", lambda p: _text(s.iloc[p])
    # object: one Neo4j type per column, as the online writer's values would have
    values = [_to_neo4j(v) for v in s.tolist()]
    kinds = {_python_kind(v) for v in values if v is not None}
    if len(kinds) > 1 or "mixed" in kinds:
        raise ValidationError(
            f"{where}: values of several types ({', '.join(sorted(kinds))}); an import "
            "file holds one type per column, so write this network with "
            "Neo4jBackend.write instead, or give the column one type"
        )
    kind = kinds.pop() if kinds else "string"
    if kind.endswith("[]"):
        elem = kind[:-2]
        out: list[str | None] = []
        for v in values:
            if v is None:
                out.append(None)
                continue
            parts = _scalar_text(elem, v)
            if any(_ARRAY_SEP in x or '"' in x for x in parts):
                raise ValidationError(
                    f"{where}: a list element holds a double quote or the character "
                    "U+001F, which import files cannot carry in lists"
                )
            out.append(_ARRAY_SEP.join(parts))
        whole = _arrow(out, pa.large_string())
    elif kind in ("string", "boolean", "long"):
        types = {"string": pa.large_string(), "boolean": pa.bool_(), "long": pa.int64()}
        whole = _arrow(values, types[kind])
    else:  # double: as text, so that infinities are written the way Java reads them
        whole = _arrow([None if v is None else _double_text(v) for v in values], pa.large_string())
    return kind, lambda p: whole[p]


def _check_name(name: str, where: str) -> str:
    if not name or any(c in name for c in _BAD_NAME):
        raise ValidationError(
            f"{where}: column name {name!r} cannot be an import header (it is empty or holds "
            'one of : , " or a line break); rename it or use Neo4jBackend.write'
        )
    return name


class _Files:
    """The files of one import and the ``neo4j-admin`` options that name them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.options: list[str] = []
        self.multiline = False
        self.rows: dict[str, int] = {}
        self.nodes = 0  # nodes written so far: the next node's id

    def add(
        self, kind: str, name: str, stem: str, header: list[str], n: int, cols: list[_Convert]
    ) -> None:
        """Write ``n`` rows of the columns ``cols`` (a chunk at a time) under ``header``."""
        head = self.folder / f"{stem}.header.csv"
        data = self.folder / f"{stem}.csv"
        head.write_text(",".join(header) + "\n", encoding="utf-8")
        names = [f"c{i}" for i in range(len(cols))]
        with pa.OSFile(str(data), "wb") as out:
            for start in range(0, n, _CHUNK):
                part = slice(start, min(n, start + _CHUNK))
                table = pa.table([c(part) for c in cols], names=names)
                if not self.multiline:  # a quoted value holds a line break
                    self.multiline = any(
                        pc.any(pc.match_substring_regex(col, "[\r\n]")).as_py()
                        for col in table.columns
                        if pa.types.is_large_string(col.type) or pa.types.is_string(col.type)
                    )
                pacsv.write_csv(table, out, _CSV)
        self.rows[stem] = n
        if kind == "nodes":
            self.nodes += n
        self.options.append(f"--{kind}={name}={head},{data}")


def _sliced(arr: pa.Array) -> _Convert:
    return lambda p: arr[p]


def _positions(start: int) -> _Convert:
    """Node ids ``start, start + 1, ...`` of a table's rows (their places in the store)."""
    return lambda p: pa.array(np.arange(start + p.start, start + p.stop, dtype=np.int64))


def _node_ids(text: pa.Array, keys: pa.Array, first: int) -> pa.Array:
    """Ids of the nodes whose key is ``text`` (``keys`` are their table's, from ``first``);
    null where no node has that key."""
    where = pc.index_in(text, value_set=keys)
    return pc.add(where.cast(pa.int64()), pa.scalar(first, pa.int64()))


def _table_columns(df: pd.DataFrame, table: str) -> tuple[list[str], list[_Convert]]:
    """Header fields and converters of the columns of ``df``."""
    header, cols = [], []
    for c in df.columns:
        name = _check_name(str(c), f"{table}.{c}")
        kind, convert = _column(df[c], f"{table} column {c!r}")
        header.append(f"{name}:{kind}")
        cols.append(convert)
    return header, cols


def _filled(s: pd.Series, *, dates: bool) -> _Convert:
    """Text of a slice of ``s`` with missing values empty (``dates``: as ``YYYY-MM-DD``)."""

    def convert(p: slice) -> pa.Array:
        arr = _arrow(s.iloc[p], None).cast(pa.date32()) if dates else _text(s.iloc[p])
        return arr.cast(pa.large_string()).fill_null("")

    return convert


def _flow_key(flows: pd.DataFrame) -> _Convert:
    """The flows' ``key`` property, as the online writer makes it (``_joined`` by ``|``).

    Each key column is its ``astype("string")`` text with missing values empty: text
    columns as they are, datetime columns without a time of day as ``YYYY-MM-DD``
    (what pandas writes for them), other columns by pandas itself.
    """
    parts: list[_Convert] = []
    for c in _FLOW_KEY:
        s = flows[c]
        if isinstance(s.dtype, pd.StringDtype) or str(s.dtype) == "str":
            parts.append(_filled(s, dates=False))
            continue
        if pd.api.types.is_datetime64_dtype(s.dtype):
            present = s[s.notna().to_numpy(dtype=bool)]
            if bool((present == present.dt.normalize()).all()):
                parts.append(_filled(s, dates=True))
                continue
        parts.append(_sliced(_text(s.astype("string").fillna(""))))
    sep = pa.scalar("|", pa.large_string())
    return lambda p: pc.binary_join_element_wise(*[f(p) for f in parts], sep)


def write_import_files(net: ReferralNetwork, folder: str | os.PathLike[str]) -> list[str]:
    """Write ``net`` as input files of ``neo4j-admin database import full``.

    One header file and one data file per non-empty table (CSV, UTF-8) go into
    ``folder`` (created if missing; it must hold no import files already). The
    graph they describe is the one :meth:`Neo4jBackend.write` creates: the same
    labels, relationships, property names and property types, the
    ``RefgraphTable`` nodes that record each table's columns and dtypes, and a
    new store change marker. After the import, start the server and call
    :meth:`Neo4jBackend.setup_schema` to create refgraph's constraints and
    indexes; readers then cannot tell the store from one written online.

    Parameters
    ----------
    net
        The network to write.
    folder
        Where the files go (its path must not contain a comma, which the
        admin tool's file lists use as separator).

    Returns
    -------
    list of str
        The options to pass to ``neo4j-admin database import full`` (``--nodes``,
        ``--relationships``, ``--id-type=actual``, ``--array-delimiter`` and, when a
        text value holds a line break, ``--multiline-fields=true``), in that order,
        before the database name. Each node's ``:ID`` is its position in the new
        store (the node files in the order given, from 0), so the tool keeps no map
        of key text to node; the keys (``npi``, ``practice_id``, ...) are ordinary
        text properties, as the online writer stores them.

    Raises
    ------
    ValidationError
        A column mixes value types (an import file holds one type per column), a
        column name cannot be a header field, ``folder`` holds import files already
        or its path contains a comma.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from refgraph.datasets import synthetic_region
    >>> from refgraph.backends.neo4j import write_import_files
    >>> net = synthetic_region(30, seed=2)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     options = write_import_files(net, d)
    ...     header = Path(d, "flows.header.csv").read_text().split(",")[:3]
    >>> [o.split("=")[0] + "=" + o.split("=")[1] for o in options[:2]]
    ['--nodes=Physician', '--nodes=Practice']
    >>> header
    [':START_ID', ':END_ID', 'key:string']
    """
    out = Path(folder)
    if "," in str(out.resolve()):
        raise ValidationError(f"folder {str(out)!r}: the path must not contain a comma")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.header.csv")):
        raise ValidationError(f"folder {str(out)!r} holds import files already; use a new one")
    files = _Files(out.resolve())
    tables = net.tables
    # nodes: each node's :ID is its position in the new store (--id-type=actual), so the
    # tool needs no id map; the key column is a text property as the online writer stores it
    first: dict[str, int] = {}
    keys: dict[str, pa.Array] = {}
    for table in ("physicians", "practices", "events", "touchpoints"):
        df = tables[table]
        if not len(df):
            continue
        label, key = _LABELS[table]
        keys[table] = (
            _text(df[key]) if key in df.columns else _arrow(_row_ids(df), pa.large_string())
        )
        header, cols = _table_columns(df.drop(columns=[key]) if key in df.columns else df, table)
        first[table] = files.nodes
        ids = _positions(files.nodes)
        files.add(
            "nodes",
            label,
            table,
            [":ID", f"{key}:string", *header],
            len(df),
            [ids, _sliced(keys[table]), *cols],
        )
    meta_header, meta = _meta_columns(tables)
    files.add(
        "nodes",
        "RefgraphTable",
        "refgraph_tables",
        meta_header,
        6,
        [_positions(files.nodes), *meta],
    )
    # relationships: only between nodes that exist, as the online writer's MATCHes do
    npis = keys.get("physicians", pa.array([], pa.large_string()))
    phys = tables["physicians"]
    prac_ids = set(tables["practices"]["practice_id"].astype(str))
    links = phys.loc[phys["practice_id"].notna(), ["npi", "practice_id"]].astype(str)
    links = links[links["practice_id"].isin(prac_ids)].drop_duplicates()
    if len(links):
        files.add(
            "relationships",
            "PRACTICES_AT",
            "practices_at",
            [":START_ID", ":END_ID"],
            len(links),
            [
                _sliced(_node_ids(_text(links["npi"]), npis, first.get("physicians", 0))),
                _sliced(
                    _node_ids(_text(links["practice_id"]), keys["practices"], first["practices"])
                ),
            ],
        )
    flows = tables["flows"]
    src = _node_ids(_text(flows["source_npi"]), npis, first.get("physicians", 0))
    dst = _node_ids(_text(flows["target_npi"]), npis, first.get("physicians", 0))
    if src.null_count or dst.null_count:
        both = pc.and_(src.is_valid(), dst.is_valid())
        flows, src, dst = (
            flows[both.to_numpy(zero_copy_only=False)],
            src.filter(both),
            dst.filter(both),
        )
    if len(flows):
        header, cols = _table_columns(flows.drop(columns=["source_npi", "target_npi"]), "flows")
        files.add(
            "relationships",
            "REFERRED",
            "flows",
            [":START_ID", ":END_ID", "key:string", *header],
            len(flows),
            [_sliced(src), _sliced(dst), _flow_key(flows), *cols],
        )
    options = [*files.options, "--id-type=actual", "--array-delimiter=U+001F"]
    if files.multiline:
        options.append("--multiline-fields=true")
    return options


def _meta_columns(tables: dict[str, pd.DataFrame]) -> tuple[list[str], list[_Convert]]:
    """The ``RefgraphTable`` nodes: columns and dtypes per table, and the change marker."""
    rows: list[list[str | None]] = []
    for table in ("physicians", "practices", "events", "touchpoints", "flows"):
        df = tables[table]
        names = [str(c) for c in df.columns]
        dtypes = [str(t) for t in df.dtypes]
        if any(_ARRAY_SEP in x or '"' in x for x in names + dtypes):
            raise ValidationError(f"{table}: a column name holds a double quote or U+001F")
        rows.append([table, _ARRAY_SEP.join(names), _ARRAY_SEP.join(dtypes), None])
    rows.append(["_store", None, None, str(uuid.uuid4())])
    header = [":ID", "name:string", "columns:string[]", "dtypes:string[]", "version:string"]
    cols = [_sliced(_arrow([r[i] for r in rows], pa.large_string())) for i in range(4)]
    return header, cols
