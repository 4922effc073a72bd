"""Geocoding of physician and practice tables: geopy, rate limited, retried, cached.

Public names are re-exported from :mod:`refgraph.geo`. This module is the only
place where refgraph talks to a geocoding service; :mod:`geopy` is imported
lazily, inside the functions that need it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._coerce import zip_frame as _zip_frame
from .._errors import ValidationError
from .._optional import require
from .._params import check_float, check_int
from ..config import config
from ._geocache import GeocodeCache, _resolve_cache, normalize_address

logger = logging.getLogger(__name__)

__all__ = ["geocode", "zip_centroids"]

#: Name of the built-in offline geocoder (ZIP centroids of the ``zipcodes`` package).
OFFLINE = "offline"

_USER_AGENT = "refgraph (https://github.com/refgraph/refgraph)"
_ZIP_RE = re.compile(r"(?<!\d)(\d{5})(?:-\d{4})?(?!\d)")
_STATUS = ("found", "not_found", "error")

# Indirection so that tests can replace the clock and the sleep of the rate limiter.
_clock: Callable[[], float] = time.monotonic
_sleep: Callable[[float], None] = time.sleep


# ----------------------------------------------------------------------------- ZIP centroids
def zip_centroids(*, active_only: bool = False) -> pd.DataFrame:
    """US ZIP code centroids shipped by the offline ``zipcodes`` package.

    Parameters
    ----------
    active_only
        Keep only ZIP codes marked active.

    Returns
    -------
    pandas.DataFrame
        Indexed by 5-character ``zip`` (string), columns ``city``, ``state``,
        ``lat``, ``lon`` (float degrees), ``active``, ``zip_type``. A copy:
        modifying it does not affect later calls.

    Examples
    --------
    >>> z = zip_centroids()
    >>> round(float(z.loc["10001", "lat"]), 2), round(float(z.loc["10001", "lon"]), 2)
    (40.75, -74.0)
    >>> len(z) > 40000
    True
    """
    df = _zip_frame()
    if active_only:
        df = df[df["active"]]
    return df.copy()


# ----------------------------------------------------------------------------- addresses
def _queries(table: pd.DataFrame, address_columns: Sequence[str] | None) -> pd.Series:
    if address_columns is None:
        address_columns = [c for c in ("address", "zip") if c in table.columns]
        if not address_columns:
            raise ValidationError(
                "address_columns: the table has neither an 'address' nor a 'zip' column; "
                f"pass address_columns explicitly (columns are {list(table.columns)})"
            )
    else:
        address_columns = (
            [address_columns] if isinstance(address_columns, str) else list(address_columns)
        )
        missing = [c for c in address_columns if c not in table.columns]
        if missing:
            raise ValidationError(
                f"address_columns: {missing} not in the table; columns are {list(table.columns)}"
            )
    parts = []
    for c in address_columns:
        col = table[c].astype("string").str.strip()
        parts.append(col.fillna(""))
    out = parts[0]
    for p in parts[1:]:
        # skip a part already contained in the text (a ZIP repeated in the address)
        out = pd.Series(
            [a if (b and b in a) else (f"{a}, {b}" if a and b else a or b) for a, b in zip(out, p)],
            index=table.index,
            dtype="string",
        )
    return out.astype("string")


# ----------------------------------------------------------------------------- geocoders
def _resolve_geocoder(geocoder: Any, geocoder_kwargs: dict[str, Any] | None) -> tuple[str, Any]:
    """(name used in the cache, geocoder instance or None for offline)."""
    if geocoder is None:
        geocoder = config.geocoder
    if isinstance(geocoder, str):
        name = geocoder.lower()
        if name == OFFLINE:
            return OFFLINE, None
        require("geopy", "geo", purpose="geocoding with a geopy service")
        from geopy.geocoders import get_geocoder_for_service

        try:
            cls = get_geocoder_for_service(name)
        except Exception as exc:  # geopy.exc.GeocoderNotFound
            raise ValidationError(
                f"geocoder: {geocoder!r} is not a geopy geocoder name nor 'offline'"
            ) from exc
        kw = {"user_agent": _USER_AGENT, **(geocoder_kwargs or {})}
        try:
            inst = cls(**kw)
        except TypeError:  # geocoders without user_agent
            kw.pop("user_agent", None)
            inst = cls(**kw)
        return name, inst
    if not callable(getattr(geocoder, "geocode", None)):
        raise ValidationError(
            "geocoder: expected a geopy geocoder name or an object with a .geocode method, "
            f"got {type(geocoder).__name__}"
        )
    name = getattr(geocoder, "cache_name", None) or type(geocoder).__name__.lower()
    return str(name), geocoder


def _rate_limited(
    func: Callable[..., Any], min_delay_seconds: float, max_retries: int, error_wait: float
) -> Callable[..., Any]:
    """geopy RateLimiter around ``func`` retrying only transient errors."""
    require("geopy", "geo", purpose="geocoding")
    from geopy import exc as gexc
    from geopy.extra.rate_limiter import RateLimiter

    class _Limiter(RateLimiter):
        _retry_exceptions = (
            gexc.GeocoderTimedOut,
            gexc.GeocoderUnavailable,
            gexc.GeocoderRateLimited,
        )

        def _clock(self) -> float:
            return _clock()

        def _sleep(self, seconds: float) -> None:
            logger.debug("geocode: rate limiter sleeps %.3f s", seconds)
            _sleep(seconds)

    return _Limiter(
        func,
        min_delay_seconds=min_delay_seconds,
        max_retries=max_retries,
        error_wait_seconds=error_wait,
        swallow_exceptions=False,
    )


def _offline_lookup(queries: pd.Series, zips: pd.Series | None) -> pd.DataFrame:
    """Offline answers: the ZIP column, else the last 5-digit ZIP in the address."""
    ztab = _zip_frame()
    if zips is not None:
        z = zips.astype("string").str.extract(r"^\s*(\d{5})", expand=False)
        z = z.fillna(pd.Series(list(queries), index=queries.index, dtype="string").map(_last_zip))
    else:
        z = pd.Series(list(queries), index=queries.index, dtype="string").map(_last_zip)
    z = z.astype("string")
    known = z.isin(ztab.index).fillna(False).to_numpy(bool)
    lat = np.full(len(z), np.nan)
    lon = np.full(len(z), np.nan)
    zk = z[known].to_numpy(dtype=object)
    lat[known] = ztab["lat"].reindex(zk).to_numpy(float)
    lon[known] = ztab["lon"].reindex(zk).to_numpy(float)
    ok = known & np.isfinite(lat) & np.isfinite(lon)
    msg = np.where(
        ok,
        "",
        np.where(z.isna().to_numpy(bool), "no 5-digit ZIP code in the address", "unknown ZIP code"),
    )
    return pd.DataFrame(
        {
            "geocode_status": np.where(ok, "found", "not_found"),
            "geocode_message": msg,
            "lat": lat,
            "lon": lon,
            "geocode_address": np.where(ok, "ZIP " + z.fillna("").to_numpy(dtype=str), ""),
        },
        index=queries.index,
    )


def _last_zip(s: Any) -> Any:
    if s is None or s is pd.NA:
        return pd.NA
    found = _ZIP_RE.findall(str(s))
    return found[-1] if found else pd.NA


# ----------------------------------------------------------------------------- geocode
def geocode(
    table: pd.DataFrame,
    *,
    geocoder: Any = None,
    cache: bool | str | Path | GeocodeCache | None = True,
    min_delay_seconds: float = 1.0,
    max_retries: int = 2,
    error_wait_seconds: float = 5.0,
    address_columns: str | Sequence[str] | None = None,
    geocoder_kwargs: dict[str, Any] | None = None,
    geocode_kwargs: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Geocode the rows of a physicians or practices table.

    Every row gets an answer: ``geocode_status`` is ``"found"``,
    ``"not_found"`` (the service answered, with nothing) or ``"error"`` (the
    request failed after the retries; ``geocode_message`` says why). No row
    is dropped. Identical addresses (after :func:`normalize_address`) are
    geocoded once per call, and once ever with the persistent cache.

    Parameters
    ----------
    table
        A DataFrame with address columns (a physicians or practices table).
    geocoder
        ``"offline"`` (ZIP centroids of the ``zipcodes`` package, no network),
        the name of any geopy geocoder (``"nominatim"``, ``"arcgis"``, ...;
        resolved with :func:`geopy.geocoders.get_geocoder_for_service`) or a
        geocoder instance (any object with a ``geocode(query, **kw)`` method
        returning a :class:`geopy.location.Location`-like object or ``None``).
        Default: ``config.geocoder``.
    cache
        ``True``: the SQLite cache under ``config.cache_dir/geocode``; a path
        to another SQLite file; a :class:`GeocodeCache`; ``False``/``None``:
        no cache. Keyed by geocoder name (the class name, lower case, of an
        instance; its ``cache_name`` attribute when set) and normalised
        address. Not used by the offline geocoder, which is local.
    min_delay_seconds
        Minimum interval between two requests (geopy ``RateLimiter``).
    max_retries
        Retries of a request that failed with a transient error (time-out,
        service unavailable, rate limited); other errors are not retried.
    error_wait_seconds
        Wait before a retry.
    address_columns
        Columns joined with ``", "`` into the query. Default: ``address`` and
        ``zip`` when present. The offline geocoder uses the ``zip`` column,
        else the last 5-digit ZIP code in the query.
    geocoder_kwargs
        Keyword arguments of the geocoder class when given by name (e.g.
        ``{"user_agent": "my-app", "domain": "localhost:8080"}``).
    geocode_kwargs
        Keyword arguments of each ``geocoder.geocode`` call
        (e.g. ``{"country_codes": "us"}``).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` (same index and row order) whose ``lat``/``lon``
        are the geocoded coordinates (NaN where not found), with
        ``geocode_query``, ``geocode_status``, ``geocode_message``,
        ``geocode_address`` (the matched address), ``geocode_source`` (the
        geocoder name) and ``geocode_cached`` (answer came from the cache).

    Examples
    --------
    >>> import pandas as pd
    >>> practices = pd.DataFrame({"practice_id": ["P1", "P2"],
    ...                           "address": ["1 Main St, New York, NY 10001", "nowhere"]})
    >>> out = geocode(practices, geocoder="offline")
    >>> out[["geocode_status", "lat"]].round(2).to_dict("list")
    {'geocode_status': ['found', 'not_found'], 'lat': [40.75, nan]}

    Raises
    ------
    ValidationError
        On an unknown geocoder name, missing address columns or a bad option.

    Notes
    -----
    Only :class:`geopy.exc.GeocoderTimedOut`, ``GeocoderUnavailable`` and
    ``GeocoderRateLimited`` are retried; authentication, quota and query
    errors are reported at once. A progress bar (tqdm) is shown when
    ``config.progress`` is true. Respect the terms of the service you use
    (Nominatim: at most one request per second, a real ``user_agent``).
    """
    if not isinstance(table, pd.DataFrame):
        raise ValidationError(f"table: expected a pandas DataFrame, got {type(table).__name__}")
    min_delay_seconds = check_float(min_delay_seconds, "min_delay_seconds", minimum=0)
    max_retries = check_int(max_retries, "max_retries", minimum=0)
    error_wait_seconds = check_float(error_wait_seconds, "error_wait_seconds", minimum=0)
    name, inst = _resolve_geocoder(geocoder, geocoder_kwargs)
    queries = _queries(table, address_columns)
    out = table.copy()
    out["geocode_query"] = queries
    if inst is None:
        zips = table["zip"] if "zip" in table.columns else None
        if address_columns is not None:
            cols = [address_columns] if isinstance(address_columns, str) else address_columns
            zips = table["zip"] if "zip" in cols else None
        res = _offline_lookup(queries, zips)
        res["geocode_source"] = OFFLINE
        res["geocode_cached"] = False
    else:
        res = _geocode_remote(
            queries,
            name,
            inst,
            _resolve_cache(cache),
            min_delay_seconds=min_delay_seconds,
            max_retries=int(max_retries),
            error_wait=error_wait_seconds,
            kwargs=geocode_kwargs or {},
        )
    for c in res.columns:
        out[c] = res[c].to_numpy()
    out["lat"] = out["lat"].astype("float64")
    out["lon"] = out["lon"].astype("float64")
    for c in ("geocode_status", "geocode_message", "geocode_address", "geocode_source"):
        out[c] = out[c].astype("string")
    out["geocode_cached"] = out["geocode_cached"].astype(bool)
    counts = out["geocode_status"].value_counts().to_dict()
    logger.info("geocode: %d rows with %s: %s", len(out), name, counts)
    return out


def _geocode_remote(
    queries: pd.Series,
    name: str,
    inst: Any,
    cache: GeocodeCache | None,
    *,
    min_delay_seconds: float,
    max_retries: int,
    error_wait: float,
    kwargs: dict[str, Any],
) -> pd.DataFrame:
    keys = queries.map(normalize_address).astype(object)
    unique = [k for k in pd.unique(keys.to_numpy(dtype=object)) if k]
    answers: dict[str, dict[str, Any]] = {}
    if cache is not None and unique:
        for k, v in cache.get_many(name, unique).items():
            answers[k] = {**v, "message": "", "cached": True}
    todo = [k for k in unique if k not in answers]
    # first original spelling of each key is what is sent
    first = dict(zip(keys.to_numpy(dtype=object)[::-1], queries.to_numpy(dtype=object)[::-1]))
    logger.info(
        "geocode: %d distinct addresses, %d cached, %d to request from %s",
        len(unique),
        len(unique) - len(todo),
        len(todo),
        name,
    )
    if todo:
        from tqdm.auto import tqdm

        call = _rate_limited(inst.geocode, min_delay_seconds, max_retries, error_wait)
        for k in tqdm(
            todo, desc=f"geocode ({name})", disable=not config.show_progress(), unit="addr"
        ):
            answers[k] = _one(call, str(first[k]), kwargs)
            a = answers[k]
            if cache is not None and a["status"] in ("found", "not_found"):
                cache.put(name, k, a["status"], a["lat"], a["lon"], a["address"], a.get("raw"))
    status, message, lat, lon, addr, cached = [], [], [], [], [], []
    for k in keys:
        got = answers.get(k) if k else None
        if got is not None:
            a = got
        else:
            a = {
                "status": "not_found",
                "message": "empty address",
                "lat": None,
                "lon": None,
                "address": None,
                "cached": False,
            }
        status.append(a["status"])
        message.append(a.get("message", ""))
        lat.append(np.nan if a["lat"] is None else float(a["lat"]))
        lon.append(np.nan if a["lon"] is None else float(a["lon"]))
        addr.append(a["address"] or "")
        cached.append(bool(a.get("cached", False)))
    return pd.DataFrame(
        {
            "geocode_status": status,
            "geocode_message": message,
            "lat": lat,
            "lon": lon,
            "geocode_address": addr,
            "geocode_source": name,
            "geocode_cached": cached,
        },
        index=queries.index,
    )


def _one(call: Callable[..., Any], query: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        loc = call(query, **kwargs)
    except Exception as exc:  # every failure becomes a per-row error
        logger.warning("geocode: %r failed: %s: %s", query, type(exc).__name__, exc)
        return {
            "status": "error",
            "message": f"{type(exc).__name__}: {exc}",
            "lat": None,
            "lon": None,
            "address": None,
        }
    if isinstance(loc, list):
        loc = loc[0] if loc else None
    if loc is None:
        return {
            "status": "not_found",
            "message": "no match",
            "lat": None,
            "lon": None,
            "address": None,
        }
    try:
        lat, lon = float(loc.latitude), float(loc.longitude)
    except (AttributeError, TypeError, ValueError) as exc:
        return {
            "status": "error",
            "message": f"unreadable answer: {exc}",
            "lat": None,
            "lon": None,
            "address": None,
        }
    if not (np.isfinite(lat) and np.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return {
            "status": "error",
            "message": f"coordinates out of range: {lat}, {lon}",
            "lat": None,
            "lon": None,
            "address": None,
        }
    return {
        "status": "found",
        "message": "",
        "lat": lat,
        "lon": lon,
        "address": getattr(loc, "address", None),
        "raw": getattr(loc, "raw", None),
    }
