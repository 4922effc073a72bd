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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..._errors import ValidationError
from ._schema import _FLOW_KEY, _LABELS
from ._write import _joined, _row_ids, _to_neo4j

if TYPE_CHECKING:
    from ...network import ReferralNetwork

#: Separator of array elements (``--array-delimiter=U+001F``): a control character that
#: refgraph's column names and dtypes never contain (checked when writing).
_ARRAY_SEP = "\x1f"
#: Rows formatted and written per chunk (bounds the memory the text of a table takes).
_CHUNK = 500_000
#: Characters a property name cannot hold in an import header.
_BAD_NAME = (":", ",", '"', "\n", "\r", _ARRAY_SEP)


def _quoted(values: pd.Series) -> pd.Series:
    """Text values as quoted CSV fields (a quoted ``""`` stays an empty string)."""
    return '"' + values.str.replace('"', '""', regex=False) + '"'


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


def _column(s: pd.Series, where: str) -> tuple[str, pd.Series]:
    """The import type of a column and its values as CSV fields (``""`` = absent).

    The types are the ones the online writer's values get in Neo4j: integers are
    ``long``, floats ``double``, dates without a time of day ``date``, other
    timestamps ``localdatetime`` (``datetime`` with a time zone), text ``string``.
    """
    missing = s.isna().to_numpy(dtype=bool)
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        kind = "boolean"
        text = pd.Series(np.where(s.fillna(False).astype(bool), "true", "false"), index=s.index)
    elif pd.api.types.is_integer_dtype(dtype):
        kind = "long"
        text = s.astype("Int64").astype(str)
    elif pd.api.types.is_float_dtype(dtype):
        kind = "double"
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        text = pd.Series(arr.astype(str), index=s.index)
        if np.isinf(arr).any():
            text = text.replace({"inf": "Infinity", "-inf": "-Infinity"})
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        present = s[~missing]
        if getattr(dtype, "tz", None) is not None:
            kind, fmt = "datetime", "%Y-%m-%dT%H:%M:%S.%f%z"
        elif bool((present == present.dt.normalize()).all()):
            kind, fmt = "date", "%Y-%m-%d"
        else:
            kind, fmt = "localdatetime", "%Y-%m-%dT%H:%M:%S.%f"
        text = s.dt.strftime(fmt).astype(object)
    elif isinstance(dtype, pd.StringDtype) or str(dtype) == "str":
        kind = "string"
        text = _quoted(s.fillna("").astype(str))
    else:  # object: one Neo4j type per column, as the online writer's values would have
        values = [_to_neo4j(v) for v in s.tolist()]
        kinds = {_python_kind(v) for v in values if v is not None}
        if len(kinds) > 1 or "mixed" in kinds:
            raise ValidationError(
                f"{where}: values of several types ({', '.join(sorted(kinds))}); an import "
                "file holds one type per column, so write this network with "
                "Neo4jBackend.write instead, or give the column one type"
            )
        kind = kinds.pop() if kinds else "string"
        missing = np.array([v is None for v in values], dtype=bool)
        if kind.endswith("[]"):
            elem = kind[:-2]
            out = []
            for v in values:
                if v is None:
                    out.append("")
                    continue
                parts = _scalar_text(elem, v)
                if any(_ARRAY_SEP in p or '"' in p for p in parts):
                    raise ValidationError(
                        f"{where}: a list element holds a double quote or the character "
                        "U+001F, which import files cannot carry in lists"
                    )
                out.append('"' + _ARRAY_SEP.join(parts) + '"')
            text = pd.Series(out, index=s.index, dtype=object)
        elif kind == "string":
            text = _quoted(pd.Series(["" if v is None else v for v in values], index=s.index))
        else:
            text = pd.Series(_scalar_text(kind, [v for v in values if v is not None]), dtype=object)
            full = np.full(len(values), "", dtype=object)
            full[~missing] = text.to_numpy()
            text = pd.Series(full, index=s.index)
    text = text.astype(object)
    text[missing] = ""
    return kind, text


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

    def add(
        self, kind: str, name: str, stem: str, header: list[str], lines: Iterator[pd.Series]
    ) -> None:
        head = self.folder / f"{stem}.header.csv"
        data = self.folder / f"{stem}.csv"
        head.write_text(",".join(header) + "\n", encoding="utf-8")
        n = 0
        with open(data, "w", encoding="utf-8", newline="") as out:
            for chunk in lines:
                if len(chunk) == 0:
                    continue
                text = "\n".join(chunk.tolist()) + "\n"
                # one line break per row, unless a quoted value holds some
                if text.count("\n") != len(chunk) or "\r" in text:
                    self.multiline = True
                out.write(text)
                n += len(chunk)
        self.rows[stem] = n
        self.options.append(f"--{kind}={name}={head},{data}")


def _lines(parts: list[pd.Series]) -> pd.Series:
    if len(parts) == 1:
        return parts[0].astype(str)
    return parts[0].astype(str).str.cat([p.astype(str) for p in parts[1:]], sep=",")


def _chunks(n: int) -> Iterator[slice]:
    for start in range(0, n, _CHUNK):
        yield slice(start, min(n, start + _CHUNK))


def _table_lines(
    df: pd.DataFrame, lead: list[pd.Series], table: str
) -> tuple[list[str], Iterator[pd.Series]]:
    """Header fields and CSV lines of ``lead`` columns followed by the columns of ``df``."""
    specs = []
    for c in df.columns:
        name = _check_name(str(c), f"{table}.{c}")
        kind, text = _column(df[c], f"{table} column {c!r}")
        specs.append((name, kind, text.reset_index(drop=True)))
    header = [f"{name}:{kind}" for name, kind, _ in specs]
    cols = [s.reset_index(drop=True) for s in lead] + [t for _, _, t in specs]

    def gen() -> Iterator[pd.Series]:
        for part in _chunks(len(df)):
            yield _lines([c.iloc[part] for c in cols])

    return header, gen()


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
        ``--relationships``, ``--array-delimiter`` and, when a text value holds a
        line break, ``--multiline-fields=true``), in that order, before the
        database name.

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
    [':START_ID(Physician)', ':END_ID(Physician)', 'key:string']
    """
    out = Path(folder)
    if "," in str(out.resolve()):
        raise ValidationError(f"folder {str(out)!r}: the path must not contain a comma")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.glob("*.header.csv")):
        raise ValidationError(f"folder {str(out)!r} holds import files already; use a new one")
    files = _Files(out.resolve())
    tables = net.tables
    # nodes: the key column is the :ID, stored as text as the online writer stores it
    for table in ("physicians", "practices", "events", "touchpoints"):
        df = tables[table]
        if not len(df):
            continue
        label, key = _LABELS[table]
        ids = df[key].astype(str) if key in df.columns else pd.Series(_row_ids(df))
        rest = df.drop(columns=[key]) if key in df.columns else df
        header, lines = _table_lines(rest, [_quoted(ids.reset_index(drop=True).astype(str))], table)
        files.add("nodes", label, table, [f"{key}:ID({label})", *header], lines)
    files.add("nodes", "RefgraphTable", "refgraph_tables", *_meta_lines(tables))
    # relationships: only between nodes that exist, as the online writer's MATCHes do
    npis = set(tables["physicians"]["npi"].astype(str))
    phys = tables["physicians"]
    prac_ids = set(tables["practices"]["practice_id"].astype(str))
    links = phys.loc[phys["practice_id"].notna(), ["npi", "practice_id"]].astype(str)
    links = links[links["practice_id"].isin(prac_ids)].drop_duplicates()
    if len(links):
        cols = [_quoted(links["npi"]), _quoted(links["practice_id"])]
        files.add(
            "relationships",
            "PRACTICES_AT",
            "practices_at",
            [":START_ID(Physician)", ":END_ID(Practice)"],
            (_lines([c.iloc[p] for c in cols]) for p in _chunks(len(links))),
        )
    flows = tables["flows"]
    ends = flows["source_npi"].astype(str), flows["target_npi"].astype(str)
    flows = flows[(ends[0].isin(npis) & ends[1].isin(npis)).to_numpy()]
    if len(flows):
        key = pd.Series(_joined(flows[list(_FLOW_KEY)], "|"))
        lead = [
            _quoted(flows["source_npi"].astype(str).reset_index(drop=True)),
            _quoted(flows["target_npi"].astype(str).reset_index(drop=True)),
            _quoted(key),
        ]
        header, lines = _table_lines(
            flows.drop(columns=["source_npi", "target_npi"]), lead, "flows"
        )
        files.add(
            "relationships",
            "REFERRED",
            "flows",
            [":START_ID(Physician)", ":END_ID(Physician)", "key:string", *header],
            lines,
        )
    options = [*files.options, "--array-delimiter=U+001F"]
    if files.multiline:
        options.append("--multiline-fields=true")
    return options


def _meta_lines(tables: dict[str, pd.DataFrame]) -> tuple[list[str], Iterator[pd.Series]]:
    """The ``RefgraphTable`` nodes: columns and dtypes per table, and the change marker."""
    rows = []
    for table in ("physicians", "practices", "events", "touchpoints", "flows"):
        df = tables[table]
        names = [str(c) for c in df.columns]
        dtypes = [str(t) for t in df.dtypes]
        if any(_ARRAY_SEP in x or '"' in x for x in names + dtypes):
            raise ValidationError(f"{table}: a column name holds a double quote or U+001F")
        rows.append(f'"{table}","{_ARRAY_SEP.join(names)}","{_ARRAY_SEP.join(dtypes)}",')
    rows.append(f'"_store",,,"{uuid.uuid4()}"')
    header = ["name:ID(RefgraphTable)", "columns:string[]", "dtypes:string[]", "version:string"]
    return header, iter([pd.Series(rows, dtype=object)])
