"""Validated library settings that refuse unknown keys and work as a context manager.

Examples
--------
>>> from refgraph.config import config
>>> config.progress
True
>>> with config(progress=False):
...     config.progress
False
>>> config.progress
True
>>> config.colour = "red"
Traceback (most recent call last):
...
refgraph._errors.ValidationError: config: unknown setting 'colour'; known: [...]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._errors import ValidationError

__all__ = ["Config", "config"]


def _default_cache() -> Path:
    if os.environ.get("REFGRAPH_CACHE"):
        return Path(os.environ["REFGRAPH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "refgraph"


class Config:
    """refgraph settings.

    Attributes
    ----------
    seed
        Default random seed of randomised algorithms (``None``: fresh entropy).
    cache_dir
        Folder for caches (geocoding, downloaded jars).
    geocoder
        Default geopy geocoder name (``"offline"`` = ZIP centroids, no network).
    progress
        Show progress bars on long work.
    reader_threads
        Threads of refgraph's own file readers: ``2`` (default) reads the next
        block and checks columns two at a time beside the work at hand; ``1``
        does everything on the calling thread (the results are the same).
        pyarrow's parser has its own pool (``pyarrow.set_cpu_count``).
    """

    _types: dict[str, tuple[type, ...]] = {  # noqa: RUF012 - fixed class table
        "seed": (int, type(None)),
        "cache_dir": (Path,),
        "geocoder": (str,),
        "progress": (bool,),
        "reader_threads": (int,),
    }

    def __init__(self) -> None:
        object.__setattr__(
            self,
            "_values",
            {
                "seed": None,
                "cache_dir": _default_cache(),
                "geocoder": "offline",
                "progress": os.environ.get("REFGRAPH_PROGRESS", "1") not in ("0", "false"),
                "reader_threads": 2,
            },
        )

    def _check(self, key: str, value: Any) -> Any:
        if key not in self._types:
            raise ValidationError(f"config: unknown setting {key!r}; known: {sorted(self._types)}")
        if key == "cache_dir" and isinstance(value, str):
            value = Path(value)
        if not isinstance(value, self._types[key]) or (key == "seed" and isinstance(value, bool)):
            names = " or ".join(t.__name__ for t in self._types[key])
            raise ValidationError(f"config.{key}: expected {names}, got {value!r}")
        if key == "reader_threads" and (isinstance(value, bool) or value not in (1, 2)):
            raise ValidationError(f"config.reader_threads: expected 1 or 2, got {value!r}")
        return value

    def __getattr__(self, key: str) -> Any:
        values = object.__getattribute__(self, "_values")
        if key in values:
            return values[key]
        raise AttributeError(key)

    def __setattr__(self, key: str, value: Any) -> None:
        self._values[key] = self._check(key, value)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"Config({inner})"

    def show_progress(self, stream: Any = None) -> bool:
        """Whether a progress bar should be drawn now.

        True when :attr:`progress` is on, ``$CI`` is not set and ``stream``
        (default: ``sys.stderr``) is a terminal; so bars appear for people at
        a terminal and stay out of files, pipes, notebooks' logs and CI.

        Examples
        --------
        >>> import io
        >>> config.show_progress(io.StringIO())   # not a terminal
        False
        >>> with config(progress=False):
        ...     config.show_progress()
        False
        """
        import sys

        if not self.progress or os.environ.get("CI"):
            return False
        out = sys.stderr if stream is None else stream
        isatty = getattr(out, "isatty", None)
        return bool(isatty is not None and isatty())

    @contextmanager
    def __call__(self, **changes: Any) -> Iterator[Config]:
        """Temporarily change settings inside a ``with`` block."""
        checked = {k: self._check(k, v) for k, v in changes.items()}
        old = dict(self._values)
        self._values.update(checked)
        try:
            yield self
        finally:
            self._values.clear()
            self._values.update(old)


#: The process-wide settings.
config = Config()
