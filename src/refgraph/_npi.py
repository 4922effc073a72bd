"""The NPI: check digit, validity, and vectorised normalisation of NPI columns.

An NPI is 10 digits whose last digit is a Luhn check digit computed over the
prefix ``80840`` followed by the first nine digits (CMS, *Requirements for
National Provider Identifier Check Digit*).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._errors import ValidationError

__all__ = ["is_valid_npi", "npi_check_digit"]


def npi_check_digit(first9: str) -> int:
    """Return the check digit of an NPI from its first nine digits.

    The NPI check digit is the Luhn check digit computed over the digits
    prefixed with the card issuer code ``80840`` (CMS, *Requirements for NPI
    check digit*, 2005).

    Parameters
    ----------
    first9
        The first nine digits of the NPI.

    Returns
    -------
    int
        The tenth digit that makes the NPI valid.

    Examples
    --------
    >>> npi_check_digit("123456789")
    3
    """
    if len(first9) != 9 or not first9.isdigit():
        raise ValidationError(f"first9: expected 9 digits, got {first9!r}")
    digits = [int(c) for c in "80840" + first9]
    total = 0
    # Double every second digit counted from the right of the payload
    # (the payload is followed by the check digit).
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def is_valid_npi(value: object) -> bool:
    """Tell whether ``value`` is a valid National Provider Identifier.

    A valid NPI is a string of exactly ten digits whose last digit is the
    Luhn check digit over ``80840`` followed by the first nine digits.
    Integers are not accepted: NPIs are identifiers, not numbers.

    Parameters
    ----------
    value
        The candidate NPI.

    Returns
    -------
    bool
        ``True`` when ``value`` is a valid NPI string.

    Examples
    --------
    >>> is_valid_npi("1234567893")
    True
    >>> is_valid_npi("1234567890")
    False
    >>> is_valid_npi(1234567893)
    False
    """
    if not isinstance(value, str) or len(value) != 10 or not value.isascii():
        return False
    if not value.isdigit():
        return False
    return npi_check_digit(value[:9]) == int(value[9])


# Luhn weights for the 15-digit string "80840" + 10 NPI digits, from the left.
# The rightmost (check) digit has weight 1, the next one doubled, and so on.
_PREFIX_SUM = 24  # Luhn contribution of "80840" at its fixed positions


_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.uint8)


def _luhn_ok_digits(d: np.ndarray) -> np.ndarray:
    """Vectorised NPI check over an ``(n, 10)`` array of digit values 0-9."""
    d = d.astype(np.uint8, copy=False)
    total = (
        _DOUBLED[d[:, 0:9:2]].sum(axis=1, dtype=np.uint16)  # positions 0,2,4,6,8 doubled
        + d[:, 1:9:2].sum(axis=1, dtype=np.uint16)
        + d[:, 9]
        + _PREFIX_SUM
    )
    return np.asarray(total % 10 == 0)


def _normalise_npis(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Coerce a column to NPI strings and give a reason code per row.

    Returns the normalised strings (missing where invalid) and an object array
    of reasons (``None`` when valid).
    """
    n = len(values)
    reasons = np.full(n, None, dtype=object)
    if pd.api.types.is_integer_dtype(values.dtype) and not isinstance(
        values.dtype, pd.CategoricalDtype
    ):
        arr = values.to_numpy(dtype="int64", na_value=-1)
        in_range = (arr >= 1_000_000_000) & (arr <= 9_999_999_999)
        digits = np.zeros((n, 10), dtype=np.int64)
        x = np.where(in_range, arr, 0)
        for k in range(9, -1, -1):
            digits[:, k] = x % 10
            x //= 10
        ok = in_range & _luhn_ok_digits(digits)
        reasons[~in_range] = "NPI must have 10 digits"
        reasons[in_range & ~ok] = "NPI check digit is wrong"
        if values.isna().any():
            reasons[values.isna().to_numpy()] = "missing NPI"
        out = pd.Series(arr.astype(str), index=values.index, dtype="string")
        out[~ok] = pd.NA
        return out, reasons

    if pd.api.types.is_float_dtype(values.dtype):
        fl = values.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(fl) & (np.floor(fl) == fl)
        s = pd.Series(
            np.where(whole, np.char.mod("%d", np.where(whole, fl, 0).astype("int64")), ""),
            index=values.index,
            dtype="string",
        )
        s[~whole] = pd.NA
    else:
        s = values.astype("string").str.strip()
    missing = s.isna().to_numpy() | (s.fillna("") == "").to_numpy()
    lens = s.str.len().fillna(0).to_numpy()
    # NPIs written as numbers with a trailing ".0" (spreadsheet exports).
    dot0 = (lens == 12) & s.str.endswith(".0").fillna(False).to_numpy()
    if dot0.any():
        s = s.where(~dot0, s.str.slice(0, 10))
        lens = np.where(dot0, 10, lens)
    ten = (lens == 10) & ~missing
    isdig = s.str.isdigit().fillna(False).to_numpy().astype(bool) & s.str.isascii().fillna(
        False
    ).to_numpy().astype(bool)
    cand = ten & isdig
    ok = np.zeros(n, dtype=bool)
    if cand.any():
        raw = s[cand].to_numpy(dtype=object).astype("S10")
        ok[cand] = _luhn_ok_digits(
            np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 10) - np.uint8(48)
        )
    reasons[~missing & ~cand] = "NPI must be a string of 10 digits"
    reasons[cand & ~ok] = "NPI check digit is wrong"
    reasons[missing] = "missing NPI"
    s = s.where(ok, pd.NA)
    return s, reasons
