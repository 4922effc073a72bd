"""Shared-patient flows from claims-like encounters.

:func:`flows_from_events` turns one row per encounter (``patient_id``, ``npi``,
``date``) into directed physician-to-physician flows the way CMS built its
"Physician Shared Patient Patterns" files (the FOIA "referral data" that
DocGraph redistributed): a patient seen by physician A and then by physician B
within a window of days links A to B. Patient identifiers are used only as
grouping keys; they never appear in the result.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from refgraph._errors import NotFoundError, ValidationError

from .._coerce import _parse_date_text
from .._npi import _normalise_npis
from .._validate import IngestResult, empty_rejects, strict_error
from ._claims_pairs import FLOW_COLUMNS as FLOW_COLUMNS  # re-exported: documented here before
from ._claims_pairs import _flows
from ._sources import Loaded, read_parquet_file
from ._text import read_text

logger = logging.getLogger(__name__)

__all__ = ["EVENT_COLUMNS", "flows_from_events"]

#: Columns an encounter table must have (extra columns are ignored).
EVENT_COLUMNS: tuple[str, ...] = ("patient_id", "npi", "date")

_REDACTED = "<redacted>"


def flows_from_events(
    events: Any,
    *,
    window_days: int = 30,
    min_patients: int = 11,
    provenance: str | None = None,
    strict: bool = False,
) -> IngestResult:
    """Build directed shared-patient flows from claims-like encounters.

    For each patient, an encounter with physician A followed by an encounter
    with another physician B at most ``window_days`` days later
    (``0 <= day_B - day_A <= window_days``) is one shared-encounter pair
    A -> B. Pairs are aggregated per physician pair into ``count``,
    ``patients`` and ``same_day_count``, and pairs shared by fewer than
    ``min_patients`` patients are suppressed (the CMS small-cell rule).

    Parameters
    ----------
    events
        Encounters as a pandas DataFrame, a pyarrow Table, or a path to a
        ``.csv`` (optionally compressed, e.g. ``.csv.gz``) or ``.parquet``
        file. Required columns: ``patient_id`` (any hashable id),
        ``npi`` (the physician seen) and ``date`` (date of service). Extra
        columns are ignored.
    window_days
        Largest number of days between the two encounters of a pair
        (inclusive). CMS published 30, 60, 90 and 180 days. Must be a
        positive integer.
    min_patients
        Flows with fewer distinct patients are dropped (CMS used 11). ``0``
        or ``1`` keeps every flow. Must be a non-negative integer.
    provenance
        Value of the ``provenance`` column; default ``f"claims:{window_days}d"``.
    strict
        Raise :class:`~refgraph.ValidationError` listing the first problems
        when any input row is rejected.

    Returns
    -------
    IngestResult
        ``table`` has the canonical flows columns ``source_npi``,
        ``target_npi``, ``count``, ``patients``, ``period_start``,
        ``period_end``, ``provenance`` plus ``same_day_count``, sorted by
        source and target NPI. ``rejected`` lists every unusable input row
        (``row``, ``column``, ``value``, ``reason``); patient ids are shown as
        ``"<redacted>"``. ``n_accepted_rows + n_rejected_rows == n_input``.
        ``notes`` reports duplicate encounters merged and the number of
        physician pairs suppressed by the small-cell rule.

    Raises
    ------
    ValidationError
        On invalid parameters, a missing required column, an unsupported
        ``events`` type or file type, or with ``strict=True`` when a row is
        rejected.
    NotFoundError
        When ``events`` is a path that does not exist.

    Notes
    -----
    Methodology followed. CMS's technical requirements for the Physician
    Shared Patient Patterns files [1]_ (quoted in [2]_) define sharing as "an
    organization or provider participating in the delivery of health
    services to the same patient within a 30 days, 60 days, 90 days and
    finally a 180 day period after another organization or provider
    participated in providing health services to the same patient"; each
    file row gives the initial NPI, the secondary NPI, the shared count
    ("number of beneficiary referrals"), the number of unique beneficiaries
    and the number of same-day visits; "presumed shared relationships based
    on same-day events will be assigned to the lesser of the two NPIs"; and
    "this report excludes any sharing that happened with less than 11
    different patients over the course of the year". The counting rules
    below are this function's precise reading of that description; CMS did
    not publish code, so the exact treatment of repeated claims is ours.

    1. An *encounter* is one (patient, NPI, calendar day). Dates are
       truncated to the day (time-zone-aware values keep their local
       calendar day). Rows repeating the same patient, NPI and day (for
       example several claim lines of one visit) are one encounter; they are
       all accepted and the number merged is given in ``notes``.
    2. A *pair* is two encounters of the same patient with different NPIs,
       A on day ``a`` and B on day ``b`` with ``0 <= b - a <= window_days``
       (both bounds inclusive). Encounters with the same NPI never pair, but
       they do not break a chain: A, A, B within the window gives two A -> B
       pairs.
    3. Orientation: a pair on different days goes from the earlier NPI to
       the later one. A same-day pair has no order in the data; as in the
       CMS files it is counted once, from the numerically lesser NPI to the
       greater one (never in both directions).
    4. ``count`` is the number of pairs A -> B (CMS "pair_count" / shared
       count / transactions), ``patients`` the number of distinct patients
       with at least one such pair (CMS "bene_count"), and
       ``same_day_count`` the number of those pairs on the same day (CMS
       "same_day_count"). Hence ``same_day_count <= count`` and
       ``patients <= count``.
    5. Small cells: flows with ``patients < min_patients`` are dropped and
       their number is reported in ``notes``.
    6. ``period_start`` and ``period_end`` are the first and last day of the
       accepted encounters (the observation period, like the calendar year
       of a CMS file), identical on every row.

    This is not the later DocGraph "Hop Teaming" method [3]_, which counts
    switches between providers rather than all pairs within the window.

    Rows are rejected, with the NPI reasons of
    :func:`refgraph._validate.validate_table`, for a missing or invalid NPI,
    for a missing, unparseable or ambiguous date (one day/month order per
    column, as for every refgraph table), and for a missing (null or blank)
    patient id. In a CSV file, a line that cannot be split into the header's
    fields is rejected with column ``"<line>"``; a file that cannot be read
    at all raises :class:`~refgraph.ValidationError`.

    One patient id with many encounters (a placeholder such as ``UNKNOWN``)
    pairs all of them with each other. Pairs are compacted to distinct
    (physician pair, patient, same-day) cells as they are made, so memory
    stays linear in the input plus the distinct cells, and ``notes`` names
    how many ids have more than 1,000 encounters (and more than one per day
    of the observed period) and the share of pairs they produced.

    The computation is vectorised: encounters are encoded as integers,
    sorted by (patient, day, NPI), and for lag k = 1, 2, ... every encounter
    is compared with the k-th next one of the same patient until no
    encounter has a partner within the window at that lag; the pairs of the
    lags are counted with integer sorts as they accumulate.

    References
    ----------
    .. [1] CMS, "Physician Shared Patient Patterns technical requirements",
       https://downloads.cms.gov/foia/physician_shared_patient_patterns_technical_requirements.pdf
       and "Referral Data FAQs",
       https://www.cms.gov/Regulations-and-Guidance/Legislation/FOIA/Referral-Data-FAQs.html
    .. [2] G. Pinho, physician-graph, README "Physician Shared Patient
       Patterns", https://github.com/gpinho/physician-graph
    .. [3] CareSet, "DocGraph Hop Teaming Documentation",
       https://careset.com/datasets/hop-teaming/

    Examples
    --------
    >>> import pandas as pd
    >>> from refgraph import npi_check_digit
    >>> A, B, C = (f"1{i:08d}" + str(npi_check_digit(f"1{i:08d}")) for i in (1, 2, 3))
    >>> events = pd.DataFrame({
    ...     "patient_id": ["p1", "p1", "p1"],
    ...     "npi": [A, B, C],
    ...     "date": ["2024-01-01", "2024-01-11", "2024-02-20"],
    ... })
    >>> res = flows_from_events(events, window_days=30, min_patients=0)
    >>> res.table[["source_npi", "target_npi", "count", "patients", "same_day_count"]]
       source_npi  target_npi  count  patients  same_day_count
    0  1000000012  1000000020      1         1               0
    >>> res.table["provenance"].iloc[0]
    'claims:30d'
    """
    window = _check_int("window_days", window_days, minimum=1, what="a positive integer")
    threshold = _check_int("min_patients", min_patients, minimum=0, what="an integer >= 0")
    if provenance is None:
        provenance = f"claims:{window}d"
    elif not isinstance(provenance, str):
        raise ValidationError(
            f"provenance: expected a string or None, got {type(provenance).__name__}"
        )
    if not isinstance(strict, (bool, np.bool_)):
        raise ValidationError(f"strict: expected True or False, got {strict!r}")

    loaded = _load_events(events)
    df = loaded.frame
    rows = loaded.rows if loaded.rows is not None else np.arange(len(df), dtype=np.int64)

    patient, patient_missing = _patient_codes(df["patient_id"])
    npi, npi_vocab, npi_raw, npi_reason_of = _npi_codes(df["npi"])
    npi_bad = npi < 0
    day, date_reason = _day_numbers(df["date"])
    date_bad = date_reason != None  # noqa: E711 - elementwise on an object array

    rejected = _rejects(
        df, rows, patient_missing, npi_bad, npi_reason_of[npi_raw[npi_bad]], date_reason
    )
    if loaded.rejects is not None and len(loaded.rejects):
        rejected = (
            pd.concat([rejected, loaded.rejects], ignore_index=True)
            .sort_values(["row", "column"], kind="stable")
            .reset_index(drop=True)
        )
    n = len(df) if loaded.n_lines is None else loaded.n_lines
    valid = ~patient_missing & ~npi_bad & ~date_bad
    n_accepted = int(valid.sum())
    if len(rejected):
        n_rej = int(rejected["row"].nunique())
        logger.info("claims events: %d of %d rows rejected", n_rej, n)
        if strict:
            raise strict_error("claims events", rejected, n)

    notes: list[str] = []
    table = _flows(
        patient[valid],
        npi[valid],
        day[valid],
        npi_vocab,
        window=window,
        threshold=threshold,
        provenance=provenance,
        notes=notes,
    )
    res = IngestResult(table, rejected, n, n_accepted, notes)
    assert res.n_accepted_rows + res.n_rejected_rows == n, "row accounting broken"
    return res


# ----------------------------------------------------------------------------
# parameters and input


def _check_int(name: str, value: Any, *, minimum: int, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{name}: expected {what}, got {value!r}")
    if value < minimum:
        raise ValidationError(f"{name}: expected {what}, got {value!r}")
    return int(value)


def _load_events(events: Any) -> Loaded:
    """The required columns of ``events`` as a frame (files: with line rejects)."""
    cols = list(EVENT_COLUMNS)
    if isinstance(events, pd.DataFrame):
        if events.columns.duplicated().any():
            dup = list(events.columns[events.columns.duplicated()])
            raise ValidationError(f"events: duplicated column names {dup}")
        _require(list(events.columns))
        return Loaded(events[cols].reset_index(drop=True))

    import pyarrow as pa

    if isinstance(events, pa.Table):
        _require(events.column_names)
        return Loaded(events.select(cols).to_pandas())
    if isinstance(events, (str, os.PathLike)):
        path = Path(events)
        if not path.is_file():
            raise NotFoundError(f"events: no such file {str(path)!r}")
        name = path.name.lower()
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            try:
                names = pq.read_schema(path).names
            except (pa.ArrowException, OSError) as exc:
                raise ValidationError(
                    f"{path.name}: cannot read the Parquet file (damaged or not Parquet?): {exc}"
                ) from exc
            _require(names)
            return Loaded(read_parquet_file(path, columns=cols))
        if ".csv" in name:
            names, chunk = read_text(path, header=True)
            if len(set(names)) != len(names):
                raise ValidationError(f"events: duplicated column names in {path.name}: {names}")
            _require(names)
            return Loaded(chunk.frame[cols], chunk.rows, chunk.rejects, chunk.n_lines)
        raise ValidationError(f"events: expected a .csv or .parquet file, got {path.name!r}")
    raise ValidationError(
        "events: expected a pandas DataFrame, a pyarrow Table or a path to a .csv or "
        f".parquet file, got {type(events).__name__}"
    )


def _require(columns: list[Any]) -> None:
    missing = [c for c in EVENT_COLUMNS if c not in columns]
    if missing:
        raise ValidationError(
            f"events: missing required column(s) {missing}; got columns {list(columns)}"
        )


# ----------------------------------------------------------------------------
# per-column coercion (work on the distinct values, then map back by code)


def _patient_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer code per row (``-1`` when missing) and the missing mask."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = pd.Series(uniques).astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    ucodes, _ = pd.factorize(text.where(~blank, pd.NA), use_na_sentinel=True)
    ext = np.append(np.asarray(ucodes, dtype=np.int64), -1)  # code -1 maps to -1
    patient = ext[codes]
    return patient, patient < 0


def _npi_codes(
    values: pd.Series,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """NPI code per row, sorted vocabulary, raw value codes and reason lookup.

    Codes index the sorted vocabulary, so code order is NPI order; ``-1``
    marks a missing or invalid NPI. The reason for row ``i`` is
    ``reason_of[raw_codes[i]]`` (a raw code of ``-1``, a null, picks the
    trailing "missing NPI" entry).
    """
    raw_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    norm, reasons = _normalise_npis(pd.Series(uniques))
    ok = np.array([r is None for r in reasons], dtype=bool)
    vcodes, vocab = pd.factorize(norm[ok], sort=True)
    ucode = np.full(len(uniques) + 1, -1, dtype=np.int64)
    ucode[:-1][ok] = vcodes
    reason_of = np.append(np.asarray(reasons, dtype=object), "missing NPI").astype(object)
    return ucode[raw_codes], np.asarray(vocab, dtype=object), raw_codes, reason_of


def _day_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 per row and a reason per rejected row (``None`` when usable).

    Text dates follow the one date policy of refgraph
    (:func:`refgraph._coerce._parse_date_text`): one day/month order per
    column, time-zone offsets dropped so that the local calendar day as
    written is kept. Only distinct values are parsed.
    """
    n = len(values)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        s = values
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)  # keep the local calendar day
        arr = s.to_numpy()
        nat = np.isnat(arr)
        day = np.where(nat, 0, arr.astype("datetime64[D]").astype(np.int64))
        reason = np.full(len(arr), None, dtype=object)
        reason[nat] = "missing date"
        return day, reason
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) == 0:
        return np.zeros(n, np.int64), np.full(n, "missing date", dtype=object)
    u = pd.Series(uniques, dtype=object)
    text = u.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
    flag = np.array([isinstance(v, (bool, np.bool_)) for v in uniques], dtype=bool)
    u_day = np.zeros(len(u), dtype=np.int64)
    u_reason = np.full(len(u), "missing date", dtype=object)
    u_reason[flag & ~blank] = "unparseable date"
    todo = ~blank & ~flag
    if todo.any():
        parsed, why = _parse_date_text(text[todo].reset_index(drop=True))
        ok = ~np.isnat(parsed)
        days = np.zeros(len(parsed), dtype=np.int64)
        days[ok] = parsed[ok].astype("datetime64[D]").astype(np.int64)
        u_day[todo] = days
        u_reason[todo] = why
    day = np.append(u_day, 0)[codes]
    reason = np.append(u_reason, "missing date").astype(object)[codes]
    return day, reason


def _rejects(
    df: pd.DataFrame,
    rows: np.ndarray,  # data-row number of each frame row
    patient_missing: np.ndarray,
    npi_bad: np.ndarray,
    npi_reason: np.ndarray,  # one reason per bad NPI row, in row order
    date_reason: np.ndarray,  # None where the date is usable
) -> pd.DataFrame:
    parts = []

    def add(mask: np.ndarray, column: str, values: list[str], reasons: Any) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        if isinstance(reasons, str):
            reasons = [reasons] * len(idx)
        parts.append(
            pd.DataFrame(
                {
                    "row": rows[idx].astype("int64"),
                    "column": pd.array([column] * len(idx), dtype="string"),
                    "value": pd.array(values, dtype="string"),
                    "reason": pd.array([str(r) for r in reasons], dtype="string"),
                }
            )
        )

    if patient_missing.any():
        add(
            patient_missing,
            "patient_id",
            [_REDACTED] * int(patient_missing.sum()),
            "missing patient_id",
        )
    if npi_bad.any():
        idx = np.flatnonzero(npi_bad)
        add(npi_bad, "npi", _as_text(df["npi"].iloc[idx]), npi_reason)
    date_bad = date_reason != None  # noqa: E711
    if date_bad.any():
        idx = np.flatnonzero(date_bad)
        add(date_bad, "date", _as_text(df["date"].iloc[idx]), date_reason[idx])
    if not parts:
        return empty_rejects()
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _as_text(values: pd.Series) -> list[str]:
    out = []
    for v in values.to_numpy(dtype=object):
        if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            out.append("")
        else:
            out.append(str(v))
    return out
