"""A text file, decompressed, as blocks of whole lines (the first step of :mod:`._text`).

Compression is told by magic bytes, then by name (gzip, bz2, xz; zstd and lz4 by
name). A plain file is read straight into each block's buffer; a read that fails
(damaged or truncated compressed data) raises one :class:`~refgraph.ValidationError`
naming the file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa

from .._errors import ValidationError
from .._progress import progress_bar

__all__ = ["Block", "blocks"]

#: A block of whole lines: ``bytearray`` when read in place from a plain file.
Block: TypeAlias = bytes | bytearray

_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError, pa.ArrowException, ValueError)


def _raw_stream(path: Path, stack: ExitStack) -> tuple[Any, Any]:
    """The decompressed bytes of ``path`` and the file under them (whose position is progress).

    Compression is told by magic bytes, then by name. Both are closed by ``stack``.
    """
    with open(path, "rb") as f:
        magic = f.read(10)
    name = path.name.lower()
    if magic[:2] == b"\x1f\x8b":
        raw = stack.enter_context(open(path, "rb"))
        return stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb")), raw
    if magic[:3] == b"BZh" and magic[4:10] == b"1AY&SY":
        raw = stack.enter_context(open(path, "rb"))
        return stack.enter_context(bz2.BZ2File(raw, "rb")), raw
    if magic[:6] == b"\xfd7zXZ\x00":
        raw = stack.enter_context(open(path, "rb"))
        return stack.enter_context(lzma.LZMAFile(raw, "rb")), raw
    if name.endswith((".zst", ".lz4")):
        raw = stack.enter_context(open(path, "rb"))
        kind = "zstd" if name.endswith(".zst") else "lz4"
        return stack.enter_context(pa.input_stream(raw, compression=kind)), raw
    for suffix, kind in ((".gz", "gzip"), (".bz2", "bzip2"), (".xz", "xz")):
        if name.endswith(suffix) and magic:
            raise ValidationError(f"{path.name}: named {suffix} but is not {kind} data")
    raw = stack.enter_context(open(path, "rb"))
    return raw, raw


def _fail(path: Path, exc: BaseException) -> ValidationError:
    what = str(exc).strip() or type(exc).__name__
    return ValidationError(
        f"{path.name}: cannot read the file (damaged or truncated compressed data?): {what}"
    )


def blocks(path: Path, block_size: int) -> Iterator[list[Block]]:
    """Blocks of whole lines (each ends with a newline) of the decompressed file.

    Each block comes in a one-item list that the reader empties (``box.pop()``):
    the generator keeps no reference to a block it gave out, so a block's
    bytes are freed as soon as it is parsed, not when the next one is read.

    A progress bar over the bytes of the file on disk (the compressed
    position for compressed files) is drawn when
    :meth:`refgraph.config.Config.show_progress` says so and the read takes
    more than :data:`refgraph._progress.PROGRESS_DELAY` seconds.
    """
    with ExitStack() as stack:
        try:
            stream, raw = _raw_stream(path, stack)
        except _READ_ERRORS as exc:
            if isinstance(exc, ValidationError):
                raise
            raise _fail(path, exc) from exc
        bar = stack.enter_context(
            progress_bar(path.stat().st_size, f"read {path.name}", unit="B", unit_scale=True)
        )
        rest = b""
        size = path.stat().st_size if stream is raw else -1
        while True:
            try:
                data = _read_after(stream, rest, block_size, size)
            except _READ_ERRORS as exc:
                raise _fail(path, exc) from exc
            bar.update(raw.tell() - bar.n)
            if len(data) == len(rest):
                break
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = bytes(data)
                continue
            rest = bytes(data[cut + 1 :])
            box: list[Block] = [data]
            if isinstance(data, bytearray):  # cut in place
                del data[cut + 1 :]
            elif cut < len(data) - 1:
                box = [data[: cut + 1]]
            del data
            yield box
    if rest:
        yield [rest + b"\n"]


def _read_after(stream: Any, rest: bytes, block_size: int, size: int) -> Block:
    """``rest`` followed by up to ``block_size`` more bytes of ``stream``.

    A plain file (``size``, its length, known) is read straight into a
    buffer the size of what is left of it, after ``rest``: the block is
    then cut after its last line in place, so its bytes are never copied.
    A compressed stream is read in full blocks and joined to ``rest``.
    """
    if size < 0:
        data = stream.read(block_size)
        return rest + data if rest and data else (data or rest)
    left = size - stream.tell()
    want = min(block_size, left if left > 0 else 1 << 16)  # past the size: a file that grew
    buf = bytearray(len(rest) + want)
    buf[: len(rest)] = rest
    with memoryview(buf) as view:
        got = stream.readinto(view[len(rest) :])
    del buf[len(rest) + got :]
    return buf
