"""The saved-network folder: an atomic save and a load that checks everything.

Layout of a folder written by :func:`save_network` (format version 2)::

    net/
      refgraph.json          the manifest: format, version, the data folder, per file
                             its rows, columns, dtypes and SHA-256
      data-<16 hex>/         one immutable copy of the network: a Parquet file per
                             table and rejected.parquet
      .refgraph.lock         taken by savers only (never by readers)

A save writes a complete new ``data-*`` folder, makes it durable (``fsync``) and then
replaces ``refgraph.json`` with ``os.replace``, which is atomic: a reader reads the
manifest once and then only the immutable folder it names, so it sees the old network or
the new one, never a mix. The folder of the previous generation is kept until the next
save, and a reader whose folder vanished under it (two saves during one load) starts
over from the new manifest. A save killed at any moment leaves the old manifest and its
folder in place; whatever it left half-written is removed by the next save.

Folders of format version 1 (the table files directly in the folder, no checksums) are
still read, with their row counts, columns and dtypes checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._errors import NotFoundError, RefgraphError, ValidationError
from .._progress import progress_bar
from ..model import SCHEMAS, TABLES

if TYPE_CHECKING:
    from ..network import ReferralNetwork

logger = logging.getLogger(__name__)

__all__ = ["load_network", "save_network"]

_FORMAT_VERSION = 2
_MANIFEST = "refgraph.json"
_LOCK = ".refgraph.lock"
_DATA_PREFIX = "data-"
_MANIFEST_TMP = ".refgraph.json.tmp-"
_SIBLING_TMP = ".refgraph-tmp-"
_FILES = (*TABLES, "rejected")
_REJECT_COLUMNS = ("row", "column", "value", "reason", "table")
#: How often a load starts over because a save replaced the folder it was reading.
_RETRIES = 100


# ---------------------------------------------------------------------------- save
def save_network(net: ReferralNetwork, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write a network as a folder of Parquet files plus a checked manifest.

    The save is atomic for readers and against crashes: readers of ``path``
    see the old network or the new one, never a mix, and a save that is
    killed at any moment leaves the old network loadable. See
    ``docs/formats/parquet-folder.md`` for the layout and the limits.

    Parameters
    ----------
    net
        The network to write.
    path
        The folder. Its parent folders are created when missing.
    overwrite
        ``False`` (default): refuse when anything exists at ``path``.
        ``True``: replace the network saved at ``path``; a folder without a
        ``refgraph.json`` manifest is never replaced (it is not ours).

    Returns
    -------
    pathlib.Path
        The folder written.

    Raises
    ------
    ValidationError
        ``path`` exists (and ``overwrite`` is false, or it is not a saved
        network), or a table has a column name that is not text.

    Notes
    -----
    Extra (non-canonical) columns whose values Parquet cannot store as one
    type, such as a column holding both numbers and text, are written as
    text (``string`` dtype, missing values kept missing); the manifest lists
    them under ``coerced`` and a warning is logged. Every other column loads
    back with its dtype.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from refgraph import ReferralNetwork, load
    >>> flows = pd.DataFrame({"source_npi": ["1234567893"], "target_npi": ["1003033051"],
    ...                       "count": [7], "note": ["a"]})
    >>> net = ReferralNetwork.from_frames(flows=flows)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     first = save_network(net, d + "/net")
    ...     _ = save_network(net.add_flows(flows.assign(count=1)), d + "/net", overwrite=True)
    ...     int(load_network(first).flows["count"].sum())
    8
    """
    path = Path(path)
    for name, df in (*net.tables.items(), ("rejected", net.rejected)):
        bad = [c for c in df.columns if not isinstance(c, str)]
        if bad:
            raise ValidationError(f"{name}: column names must be text to be saved; got {bad!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _clean_siblings(path)
    if not (path.exists() or path.is_symlink()):
        tmp = path.with_name(f".{path.name}{_SIBLING_TMP}{_owner_tag()}-{secrets.token_hex(4)}")
        try:
            tmp.mkdir()
            _write_generation(net, tmp)
            _fsync_dir(tmp)
            try:
                os.rename(tmp, path)  # atomic; fails when something now exists at path
            except OSError:
                if not path.exists():
                    raise
            else:
                _fsync_dir(path.parent)
                return path
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not overwrite:
        raise ValidationError(f"path: {str(path)!r} exists; pass overwrite=True to replace it")
    if not path.is_dir() or not (path / _MANIFEST).is_file():
        raise ValidationError(
            f"path: {str(path)!r} exists and is not a saved refgraph network (no {_MANIFEST}); "
            "refusing to overwrite it"
        )
    with _save_lock(path):
        _clean_inside(path)
        _write_generation(net, path)
    return path


def _write_generation(net: ReferralNetwork, folder: Path) -> None:
    """Write a new data folder into ``folder``, then atomically point the manifest at it."""
    name = _DATA_PREFIX + secrets.token_hex(8)
    data = folder / name
    data.mkdir()
    files: dict[str, Any] = {}
    coerced: dict[str, list[str]] = {}
    frames = {**net.tables, "rejected": net.rejected}
    with progress_bar(len(_FILES), f"save {folder.name}", unit="table") as bar:
        for table in _FILES:  # one step a table file, written, hashed and synced
            bar.set_postfix_str(table)
            df, changed = _storable(frames[table], table)
            target = data / f"{table}.parquet"
            try:
                df.to_parquet(target, index=False)
            except Exception as exc:  # pyarrow's errors share no base class with ours
                raise ValidationError(f"{table}: cannot be written as Parquet: {exc}") from exc
            files[table] = {
                "file": f"{table}.parquet",
                "rows": len(df),
                "columns": [[str(c), str(t)] for c, t in df.dtypes.items()],
                "sha256": _sha256_fsync(target),
            }
            if changed:
                coerced[table] = changed
            bar.update(1)
    _fsync_dir(data)
    manifest = {
        "format": "refgraph",
        "version": _FORMAT_VERSION,
        "data": name,
        "files": files,
        "coerced": coerced,
    }
    tmp = folder / f"{_MANIFEST_TMP}{secrets.token_hex(4)}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / _MANIFEST)  # the moment the new network becomes visible
    _fsync_dir(folder)


def _storable(df: pd.DataFrame, table: str) -> tuple[pd.DataFrame, list[str]]:
    """``df`` with extra columns Parquet cannot store as one type turned into text."""
    import pyarrow as pa

    canonical = set(SCHEMAS[table].names) if table in SCHEMAS else set(_REJECT_COLUMNS)
    changed = []
    for col in df.columns:
        if col in canonical or df[col].dtype != object:
            continue
        try:
            pa.array(df[col], from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            changed.append(col)
    if not changed:
        return df, []
    logger.warning("%s: extra columns %s mix value types; they are saved as text", table, changed)
    df = df.copy()
    for col in changed:
        df[col] = pd.array([None if _is_na(v) else str(v) for v in df[col]], dtype="string")
    return df, changed


def _is_na(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


# ---------------------------------------------------------------------------- load
def load_network(path: str | Path) -> ReferralNetwork:
    """Load a folder written by :func:`save_network`, checking it against its manifest.

    Every table file must be present, match the SHA-256, row count, columns
    and dtypes the manifest records, and parse as Parquet; otherwise one
    :class:`~refgraph.ValidationError` names the folder and the mismatch.
    A load that overlaps a save of the same folder returns the old or the
    new network.

    Parameters
    ----------
    path
        A folder written by :meth:`refgraph.ReferralNetwork.save`.

    Returns
    -------
    ReferralNetwork
        Equal to the network saved, with its rejected rows.

    Raises
    ------
    NotFoundError
        Nothing exists at ``path``.
    ValidationError
        ``path`` is not a refgraph network folder, was written by a newer
        refgraph, or is damaged.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from refgraph.datasets import synthetic_region
    >>> net = synthetic_region(40, seed=1)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     folder = save_network(net, Path(d) / "net")
    ...     (folder / "refgraph.json").write_text("{")
    ...     load_network(folder)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: .../net: damaged manifest refgraph.json (...)
    """
    path = Path(path)
    last: ValidationError | None = None
    for _ in range(_RETRIES):
        raw = _read_manifest_bytes(path)
        try:
            return _load_generation(path, raw)
        except ValidationError as exc:
            # a save may have replaced the generation while we read it: start over
            if _manifest_bytes_or_none(path) == raw:
                raise
            last = exc
    assert last is not None
    raise last


def _read_manifest_bytes(path: Path) -> bytes:
    if not path.exists():
        raise NotFoundError(f"path: {str(path)!r} does not exist")
    if not path.is_dir():
        raise ValidationError(f"not a refgraph network folder: {str(path)!r} is a file")
    raw = _manifest_bytes_or_none(path)
    if raw is None:
        raise ValidationError(f"not a refgraph network folder: {str(path)!r} has no {_MANIFEST}")
    return raw


def _manifest_bytes_or_none(path: Path) -> bytes | None:
    try:
        return (path / _MANIFEST).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ValidationError(f"{path}: cannot read {_MANIFEST}: {exc}") from exc


def _load_generation(path: Path, raw: bytes) -> ReferralNetwork:
    from .._validate import IngestResult
    from ..network import ReferralNetwork

    manifest = _parse_manifest(path, raw)
    if manifest["version"] == 1:
        folder, entries = path, _v1_entries(path, manifest)
    else:
        folder, entries = path / manifest["data"], manifest["files"]
    frames = {}
    with progress_bar(len(_FILES) + 1, f"load {path.name}", unit="step") as bar:
        for name in _FILES:  # a step a table file, then one for the network
            bar.set_postfix_str(name)
            frames[name] = _read_file(path, folder, name, entries[name])
            bar.update(1)
        bar.set_postfix_str("network")
        try:
            net = ReferralNetwork._from_valid_tables({t: frames[t] for t in TABLES})
        except (RefgraphError, ValueError, TypeError, KeyError) as exc:
            raise ValidationError(f"{path}: damaged tables: {exc}") from exc
        bar.update(1)
    rej = frames["rejected"]
    for name, part in rej.groupby("table", sort=False):
        if name not in TABLES:
            raise ValidationError(f"{path}: rejected.parquet names an unknown table {name!r}")
        part = part.drop(columns="table").reset_index(drop=True)
        net.ingest[str(name)] = IngestResult(
            net.tables[str(name)], part, 0, 0, notes=["loaded from disk"]
        )
    return net


def _parse_manifest(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"{path}: damaged manifest {_MANIFEST} ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != "refgraph":
        got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
        raise ValidationError(
            f"not a refgraph network folder: {str(path)!r} ({_MANIFEST} has format {got!r}, "
            "expected 'refgraph')"
        )
    version = manifest.get("version")
    if type(version) is not int or version < 1:
        raise ValidationError(f"{path}: damaged manifest {_MANIFEST} (version {version!r})")
    if version > _FORMAT_VERSION:
        raise ValidationError(
            f"{path}: written by a newer refgraph (format {version}; this one reads up to "
            f"{_FORMAT_VERSION})"
        )
    if version >= 2:
        data, files = manifest.get("data"), manifest.get("files")
        ok = (
            isinstance(data, str)
            and data.startswith(_DATA_PREFIX)
            and "/" not in data
            and "\\" not in data
            and isinstance(files, dict)
            and all(isinstance(files.get(n), dict) for n in _FILES)
        )
        if not ok:
            raise ValidationError(f"{path}: damaged manifest {_MANIFEST} (data or files entry)")
    return manifest


def _v1_entries(path: Path, manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    counts = manifest.get("tables")
    if not isinstance(counts, dict):
        raise ValidationError(f"{path}: damaged manifest {_MANIFEST} (no tables entry)")
    counts = {**counts, "rejected": manifest.get("rejected")}
    return {name: {"file": f"{name}.parquet", "rows": counts.get(name)} for name in _FILES}


def _read_file(path: Path, folder: Path, name: str, entry: dict[str, Any]) -> pd.DataFrame:
    """Read one table file and check it against its manifest entry."""
    where = f"{path}: {name}.parquet"
    try:
        data = (folder / f"{name}.parquet").read_bytes()
    except FileNotFoundError as exc:
        raise ValidationError(f"{where} is missing") from exc
    except OSError as exc:
        raise ValidationError(f"{where} cannot be read: {exc}") from exc
    digest = entry.get("sha256")
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise ValidationError(f"{where} does not match its checksum in {_MANIFEST} (damaged)")
    try:
        df = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow/pandas errors on damaged bytes share no base class
        raise ValidationError(f"{where} is not readable Parquet ({exc})") from exc
    rows = entry.get("rows")
    if type(rows) is not int:
        raise ValidationError(f"{path}: damaged manifest {_MANIFEST} (rows of {name}: {rows!r})")
    if len(df) != rows:
        raise ValidationError(f"{where} has {len(df)} rows; {_MANIFEST} says {rows}")
    expected = SCHEMAS[name].names if name in SCHEMAS else list(_REJECT_COLUMNS)
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise ValidationError(f"{where} lacks the columns {missing}")
    columns = entry.get("columns")
    if not isinstance(columns, list):
        _check_canonical_dtypes(where, name, df)
        return df
    got = [[str(c), str(t)] for c, t in df.dtypes.items()]
    if [c for c, _ in got] != [c[0] if isinstance(c, list) and c else c for c in columns]:
        want = [c[0] if isinstance(c, list) and c else c for c in columns]
        raise ValidationError(
            f"{where} has the columns {[c for c, _ in got]}; {_MANIFEST} says {want}"
        )
    if got != columns:
        diff = [f"{c}: {t}" for c, t in got if [c, t] not in columns]
        if digest is None:
            raise ValidationError(f"{where} dtypes differ from {_MANIFEST}: {', '.join(diff[:3])}")
        # the bytes are the ones saved: another pandas/pyarrow reads them differently
        logger.warning("%s: dtypes read differently than saved: %s", where, ", ".join(diff[:3]))
    return df


def _check_canonical_dtypes(where: str, name: str, df: pd.DataFrame) -> None:
    """Format 1 folders record no dtypes: compare the canonical columns to an empty table."""
    if name not in SCHEMAS:
        return
    from .._tables import empty_table

    ref = empty_table(name)
    # label columns (a flow's provenance) were text before they were categories
    was_text = {c.name for c in SCHEMAS[name].columns if c.kind == "label"}
    bad = [
        f"{c}: {df[c].dtype} (expected {ref[c].dtype})"
        for c in ref.columns
        if str(df[c].dtype) != str(ref[c].dtype)
        and not (c in was_text and str(df[c].dtype) in ("string", "str"))
    ]
    if bad:
        raise ValidationError(f"{where} has wrong dtypes: {', '.join(bad[:3])}")


# ---------------------------------------------------------------------------- files
def _sha256_fsync(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb+") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
        os.fsync(fh.fileno())
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened there
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _owner_tag() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - os.kill(pid, 0) is not a probe there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _clean_siblings(path: Path) -> None:
    """Remove temporary folders of first saves to ``path`` whose process has died."""
    prefix = f".{path.name}{_SIBLING_TMP}{socket.gethostname()}-"
    with contextlib.suppress(OSError):
        for entry in path.parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            pid = entry.name[len(prefix) :].split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                logger.info("removing %s, left by an interrupted save", entry)
                shutil.rmtree(entry, ignore_errors=True)


def _clean_inside(path: Path) -> None:
    """Under the save lock: remove every generation but the current one, and leftovers."""
    keep: set[str] = set()
    flat = False
    raw = _manifest_bytes_or_none(path)
    try:
        manifest = json.loads(raw or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        manifest = None
    if isinstance(manifest, dict):
        if isinstance(manifest.get("data"), str):
            keep.add(manifest["data"])
        flat = manifest.get("version") == 1
    for entry in path.iterdir():
        name = entry.name
        stale = (
            (name.startswith(_DATA_PREFIX) and name not in keep)
            or name.startswith(_MANIFEST_TMP)
            or (not flat and name in {f"{t}.parquet" for t in _FILES})
        )
        if stale:
            logger.info("removing %s, an older generation or an interrupted save", entry)
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()


@contextlib.contextmanager
def _save_lock(path: Path) -> Iterator[None]:
    """Serialise savers of one folder (readers never wait); released if the process dies."""
    with open(path / _LOCK, "a+b") as fh:
        if sys.platform == "win32":  # pragma: no cover
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield
