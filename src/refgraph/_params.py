"""Parameter checks shared by every public function: one helper, one message style.

Each check returns the value converted (``int``, ``float``, node ids) or raises
:class:`~refgraph.ValidationError` (a bad value) or :class:`~refgraph.NotFoundError`
(an NPI that is not in the network) with one line::

    <name>: expected <what is allowed>, got <the value received>

Limits that keep memory bounded whatever the caller passes:

* :data:`MAX_HOPS` (10): the hop limit of path searches and reach. Each hop is
  one array over all physicians, and a warm introduction longer than a few hops
  is no introduction (the probability of a chain is the product of its ties).
* :data:`MAX_K` (1,000): the number of paths or introducers a search returns.
  The search keeps its frontier bounded by the k-th best cost found so far; a
  ``k`` larger than the paths that exist would make it enumerate every simple
  path, so ``k`` is capped where no person reads the answer any more.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ._errors import NotFoundError, ValidationError

__all__ = [
    "MAX_HOPS",
    "MAX_K",
    "check_choice",
    "check_date",
    "check_float",
    "check_int",
    "check_latlon",
    "check_npi_in_network",
    "check_npis_in_network",
]

#: Largest ``max_hops`` a path search or reach accepts.
MAX_HOPS = 10
#: Largest ``k``/``top`` a path search accepts.
MAX_K = 1000


def _show(value: Any) -> str:
    """``repr`` of a value as the caller wrote it (numpy scalars as plain numbers)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _range(kind: str, minimum: Any, maximum: Any, open_min: bool, open_max: bool) -> str:
    lo, hi = ("(" if open_min else "["), (")" if open_max else "]")
    if minimum is not None and maximum is not None:
        return f"{kind} in {lo}{minimum}, {maximum}{hi}"
    if minimum is not None:
        return f"{kind} {'>' if open_min else '>='} {minimum}"
    if maximum is not None:
        return f"{kind} {'<' if open_max else '<='} {maximum}"
    return kind


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as an ``int`` within ``[minimum, maximum]``.

    Integral numbers of any type (``int``, numpy integers, ``3.0``) pass;
    booleans, fractions, text and ``None`` do not.

    Examples
    --------
    >>> check_int(3, "max_hops", minimum=1, maximum=10)
    3
    >>> check_int(0, "top", minimum=1)
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: top: expected an integer >= 1, got 0
    >>> check_int(10**9, "k", minimum=1, maximum=1000)
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: k: expected an integer in [1, 1000], got 1000000000
    """
    what = _range("an integer", minimum, maximum, False, False)
    ok = isinstance(value, numbers.Integral | float | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    if ok and isinstance(value, float | np.floating):
        ok = math.isfinite(value) and float(value).is_integer()
    if not ok:
        raise ValidationError(f"{name}: expected {what}, got {_show(value)}")
    v = int(value)
    if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
        raise ValidationError(f"{name}: expected {what}, got {_show(value)}")
    return v


def check_float(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    open_min: bool = False,
    open_max: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a finite ``float`` within the range (ends open or closed).

    ``finite=False`` also lets ``inf`` and ``-inf`` through (caps that may be
    unlimited); NaN is refused either way.

    Examples
    --------
    >>> check_float(0.85, "alpha", minimum=0, maximum=1, open_min=True, open_max=True)
    0.85
    >>> check_float(float("nan"), "km", minimum=0)
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: km: expected a finite number >= 0, got nan
    >>> check_float(1, "share", minimum=0, maximum=1, open_max=True)
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: share: expected a finite number in [0, 1), got 1
    """
    kind = "a finite number" if finite else "a number"
    what = _range(kind, minimum, maximum, open_min, open_max)
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValidationError(f"{name}: expected {what}, got {_show(value)}")
    v = float(value)
    bad = not math.isfinite(v) if finite else math.isnan(v)
    if minimum is not None:
        bad |= v <= minimum if open_min else v < minimum
    if maximum is not None:
        bad |= v >= maximum if open_max else v > maximum
    if bad:
        raise ValidationError(f"{name}: expected {what}, got {_show(value)}")
    return v


def check_date(value: Any, name: str) -> pd.Timestamp:
    """``value`` as a :class:`pandas.Timestamp` (a date, a datetime or text like ``"2024-03-01"``).

    Numbers are refused: ``pandas.Timestamp(3)`` is 3 ns after 1970, never
    what a caller meant.

    Examples
    --------
    >>> check_date("2024-03-01", "as_of")
    Timestamp('2024-03-01 00:00:00')
    >>> check_date("next tuesday", "as_of")
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: as_of: expected a date like '2024-03-01', got 'next tuesday'
    """
    try:  # a bare number would be read as nanoseconds since 1970: refused
        ts = pd.NaT if isinstance(value, numbers.Number) else pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        ts = pd.NaT
    if value is None or pd.isna(ts):
        raise ValidationError(f"{name}: expected a date like '2024-03-01', got {_show(value)}")
    return ts


def check_choice(value: Any, name: str, choices: Iterable[Any]) -> Any:
    """``value`` if it is one of ``choices``.

    Examples
    --------
    >>> check_choice("in", "direction", ("in", "out"))
    'in'
    >>> check_choice("up", "direction", ("in", "out"))
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: direction: expected one of 'in', 'out', got 'up'
    """
    allowed = tuple(choices)
    try:
        ok = value in allowed
    except (TypeError, ValueError):  # an array or a value that cannot be compared
        ok = False
    if not ok:
        shown = ", ".join(repr(c) for c in allowed)
        raise ValidationError(f"{name}: expected one of {shown}, got {_show(value)}")
    return value


def check_latlon(lat: Any, lon: Any, name: str = "") -> tuple[float, float]:
    """A point: latitude in [-90, 90] and longitude in [-180, 180], both finite.

    ``name`` prefixes the parameter names (``"center"`` gives ``center.lat``).

    Examples
    --------
    >>> check_latlon(42.36, -71.06)
    (42.36, -71.06)
    >>> check_latlon(999, 0, "center")
    Traceback (most recent call last):
    ...
    refgraph._errors.ValidationError: center.lat: expected a finite number in [-90, 90], got 999
    """
    pre = f"{name}." if name else ""
    return (
        check_float(lat, f"{pre}lat", minimum=-90, maximum=90),
        check_float(lon, f"{pre}lon", minimum=-180, maximum=180),
    )


def check_npis_in_network(net: Any, npis: Any, role: str) -> np.ndarray:
    """Node ids (positions in ``net.npis``) of one NPI or a list of them.

    Raises :class:`~refgraph.NotFoundError` naming up to three NPIs that are
    not physicians of the network, and :class:`~refgraph.ValidationError`
    for ``None`` or an empty list.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> net = ReferralNetwork.from_frames(physicians=pd.DataFrame({"npi": ["1234567893"]}))
    >>> check_npis_in_network(net, "1234567893", "home").tolist()
    [0]
    >>> check_npis_in_network(net, ["1234567893", "1003033051"], "home")
    Traceback (most recent call last):
    ...
    refgraph._errors.NotFoundError: home: ['1003033051'] not a physician of this network
    """
    if npis is None:
        raise ValidationError(f"{role}: expected an NPI or a list of NPIs, got None")
    lst = [npis] if isinstance(npis, str) else _as_list(npis, role)
    if not lst:
        raise ValidationError(f"{role}: expected at least one NPI, got none")
    ids = np.asarray(net.npis.get_indexer(pd.Index(lst, dtype="string")))
    if (ids < 0).any():
        missing = [lst[i] for i in np.flatnonzero(ids < 0)[:3]]
        raise NotFoundError(f"{role}: {missing} not a physician of this network")
    return ids.astype(np.int64)


def check_npi_in_network(net: Any, npi: Any, role: str) -> int:
    """The node id of one NPI, or :class:`~refgraph.NotFoundError` in the same style.

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import ReferralNetwork
    >>> net = ReferralNetwork.from_frames(physicians=pd.DataFrame({"npi": ["1234567893"]}))
    >>> check_npi_in_network(net, "1234567893", "target")
    0
    >>> check_npi_in_network(net, "999", "target")
    Traceback (most recent call last):
    ...
    refgraph._errors.NotFoundError: target: ['999'] not a physician of this network
    """
    if not isinstance(npi, str | np.str_):
        raise ValidationError(f"{role}: expected one NPI as text, got {npi!r}")
    return int(check_npis_in_network(net, str(npi), role)[0])


def _as_list(npis: Any, role: str) -> list[str]:
    if not isinstance(npis, Iterable):
        raise ValidationError(f"{role}: expected an NPI or a list of NPIs, got {npis!r}")
    return [str(n) for n in npis]
