"""The persistent geocoding cache of :mod:`refgraph.geo` and the address key it uses.

Public names are re-exported from :mod:`refgraph.geo`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._errors import ValidationError
from ..config import config

__all__ = ["GeocodeCache", "normalize_address"]


# ----------------------------------------------------------------------------- addresses
def normalize_address(address: Any) -> str:
    """Normalised form of an address used as cache key.

    Lower case, punctuation other than ``#``, ``-`` and ``/`` replaced by
    spaces, whitespace collapsed; missing values give ``""``.

    Examples
    --------
    >>> normalize_address("  1 Main St.,  Boston, MA 02114 ")
    '1 main st boston ma 02114'
    >>> normalize_address(None)
    ''
    """
    if address is None or (not isinstance(address, str) and pd.isna(address)):
        return ""
    s = re.sub(r"[^\w#/\-]+", " ", str(address).lower())
    return " ".join(s.split())


# ----------------------------------------------------------------------------- cache
class GeocodeCache:
    """Persistent geocoding cache in one SQLite file.

    Keys are ``(geocoder name, normalised address)``; found and not-found
    answers are stored, errors are not (they are retried on the next call).

    Parameters
    ----------
    path
        SQLite file (created with its folder when missing). Default:
        ``config.cache_dir / "geocode" / "geocode.sqlite"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     c = GeocodeCache(pathlib.Path(d) / "g.sqlite")
    ...     c.put("nominatim", "1 main st", "found", 42.0, -71.0, "1 Main St")
    ...     c.get("nominatim", "1 Main St.")["lat"], len(c)
    (42.0, 1)
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            path = Path(config.cache_dir) / "geocode" / "geocode.sqlite"
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS geocode (geocoder TEXT NOT NULL, key TEXT NOT NULL, "
                "status TEXT NOT NULL, lat REAL, lon REAL, address TEXT, raw TEXT, "
                "created REAL NOT NULL, PRIMARY KEY (geocoder, key))"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, geocoder: str, address: str) -> dict[str, Any] | None:
        """Cached answer for an address (normalised here) or ``None``."""
        key = normalize_address(address)
        con = self._connect()
        try:
            row = con.execute(
                "SELECT status, lat, lon, address FROM geocode WHERE geocoder=? AND key=?",
                (geocoder, key),
            ).fetchone()
        finally:
            con.close()
        if row is None:
            return None
        return {"status": row[0], "lat": row[1], "lon": row[2], "address": row[3]}

    def get_many(self, geocoder: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Cached answers of many *normalised* keys (missing keys are absent)."""
        out: dict[str, dict[str, Any]] = {}
        con = self._connect()
        try:
            for i in range(0, len(keys), 500):
                chunk = list(keys[i : i + 500])
                marks = ",".join("?" * len(chunk))
                for k, st, la, lo, ad in con.execute(
                    f"SELECT key, status, lat, lon, address FROM geocode "
                    f"WHERE geocoder=? AND key IN ({marks})",
                    (geocoder, *chunk),
                ):
                    out[k] = {"status": st, "lat": la, "lon": lo, "address": ad}
        finally:
            con.close()
        return out

    def put(
        self,
        geocoder: str,
        address: str,
        status: str,
        lat: float | None,
        lon: float | None,
        matched: str | None = None,
        raw: Any = None,
    ) -> None:
        """Store one answer (``status`` ``"found"`` or ``"not_found"``)."""
        if status not in ("found", "not_found"):
            raise ValidationError(f"status: expected 'found' or 'not_found', got {status!r}")
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO geocode VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    geocoder,
                    normalize_address(address),
                    status,
                    lat,
                    lon,
                    matched,
                    None if raw is None else json.dumps(raw, default=str),
                    time.time(),
                ),
            )

    def __len__(self) -> int:
        con = self._connect()
        try:
            return int(con.execute("SELECT COUNT(*) FROM geocode").fetchone()[0])
        finally:
            con.close()

    def clear(self) -> None:
        """Delete every cached answer."""
        with self._connect() as con:
            con.execute("DELETE FROM geocode")

    def __repr__(self) -> str:
        return f"GeocodeCache({str(self.path)!r})"


def _resolve_cache(cache: bool | str | Path | GeocodeCache | None) -> GeocodeCache | None:
    if cache is None or cache is False:
        return None
    if cache is True:
        return GeocodeCache()
    if isinstance(cache, GeocodeCache):
        return cache
    if isinstance(cache, (str, Path)):
        return GeocodeCache(cache)
    raise ValidationError(
        f"cache: expected True/False, a path or a GeocodeCache, got {type(cache).__name__}"
    )
