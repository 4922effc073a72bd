"""Pairing and aggregation behind :func:`refgraph.io.claims.flows_from_events`.

Works on integer-coded encounters (patient, NPI, day); builds every oriented
shared-encounter pair within the window and aggregates them per physician
pair into the flows table.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

# Logs under the public module's name, as before the split.
logger = logging.getLogger("refgraph.io.claims")

#: Columns of the flows table returned by :func:`refgraph.io.flows_from_events`.
FLOW_COLUMNS: tuple[str, ...] = (
    "source_npi",
    "target_npi",
    "count",
    "patients",
    "period_start",
    "period_end",
    "provenance",
    "same_day_count",
)

# Largest packed integer sort key; above it the code falls back to np.lexsort.
_KEY_LIMIT = 2**62


# ----------------------------------------------------------------------------
# pairing and aggregation


def _flows(
    patient: np.ndarray,
    npi: np.ndarray,
    day: np.ndarray,
    vocab: np.ndarray,
    *,
    window: int,
    threshold: int,
    provenance: str,
    notes: list[str],
) -> pd.DataFrame:
    m = len(patient)
    if m == 0:
        notes.append("no accepted encounters: suppressed 0 of 0 physician pair(s)")
        return _frame(
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            *(np.empty(0, np.int64),) * 3,
            vocab,
            None,
            None,
            provenance,
        )

    p, d, a = _sorted_encounters(patient, npi, day, n_npi=len(vocab))
    merged = m - len(p)
    if merged:
        notes.append(
            f"{merged} duplicate row(s) (same patient, NPI and day) merged into one encounter"
        )

    src, tgt, pat, same = _pairs(p, d, a, window)
    n_npi = len(vocab)
    edge = src * n_npi + tgt
    edges, count, patients, same_day = _aggregate(edge, pat, same, n_pat=int(p.max()) + 1)

    keep = patients >= threshold
    n_sup = int((~keep).sum())
    notes.append(
        f"window_days={window}: {len(pat)} shared-encounter pair(s) from {len(p)} "
        f"encounter(s) over {len(edges)} physician pair(s)"
    )
    if threshold > 1:
        notes.append(
            f"small-cell rule: suppressed {n_sup} of {len(edges)} physician pair(s) with "
            f"fewer than {threshold} patients"
        )
    else:
        notes.append(
            f"small-cell rule off (min_patients={threshold}): suppressed 0 of {len(edges)} "
            "physician pair(s)"
        )
    if n_sup:
        logger.info("claims: suppressed %d physician pairs below %d patients", n_sup, threshold)
    edges, count, patients, same_day = (x[keep] for x in (edges, count, patients, same_day))
    return _frame(
        edges // n_npi,
        edges % n_npi,
        count,
        patients,
        same_day,
        vocab,
        int(d.min()),
        int(d.max()),
        provenance,
    )


def _sorted_encounters(
    patient: np.ndarray, npi: np.ndarray, day: np.ndarray, *, n_npi: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (patient, day, npi) encounters sorted in that order."""
    dmin = int(day.min())
    n_day = int(day.max()) - dmin + 1
    n_pat = int(patient.max()) + 1
    if n_pat * n_day * n_npi < _KEY_LIMIT:
        key = (patient.astype(np.int64) * n_day + (day - dmin)) * n_npi + npi
        key = np.sort(key)
        if len(key) > 1:
            key = key[np.concatenate(([True], key[1:] != key[:-1]))]
        a = key % n_npi
        rest = key // n_npi
        return rest // n_day, rest % n_day + dmin, a
    order = np.lexsort((npi, day, patient))
    p, d, a = patient[order], day[order], npi[order]
    new = np.ones(len(p), dtype=bool)
    new[1:] = (p[1:] != p[:-1]) | (d[1:] != d[:-1]) | (a[1:] != a[:-1])
    return p[new], d[new], a[new]


def _pairs(
    p: np.ndarray, d: np.ndarray, a: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All oriented shared-encounter pairs as (source, target, patient, same_day).

    Encounters are sorted by (patient, day, npi). If encounter i has no
    partner within the window at lag k, it has none at lag k + 1 either, so
    the candidate set only shrinks and the loop ends once it is empty.
    """
    m = len(p)
    srcs, tgts, pats, sames = [], [], [], []
    i = np.arange(m - 1, dtype=np.int64)
    k = 1
    while len(i):
        j = i + k
        ok = (p[j] == p[i]) & (d[j] - d[i] <= window)
        i, j = i[ok], j[ok]
        if not len(i):
            break
        ai, aj = a[i], a[j]
        diff = ai != aj
        if diff.any():
            ii, jj = i[diff], j[diff]
            # Same-day pairs come out as (lesser NPI, greater NPI) because
            # encounters of one day are sorted by NPI code, and NPI codes are
            # in NPI order: the CMS "lesser of the two NPIs" rule.
            srcs.append(ai[diff])
            tgts.append(aj[diff])
            pats.append(p[ii])
            sames.append(d[jj] == d[ii])
        k += 1
        i = i[i + k < m]
    if not srcs:
        e = np.empty(0, dtype=np.int64)
        return e, e, e, np.empty(0, dtype=bool)
    return (np.concatenate(srcs), np.concatenate(tgts), np.concatenate(pats), np.concatenate(sames))


def _aggregate(
    edge: np.ndarray, pat: np.ndarray, same: np.ndarray, *, n_pat: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct edge: pair count, distinct patients and same-day pairs."""
    if not len(edge):
        e = np.empty(0, dtype=np.int64)
        return e, e, e, e
    if (int(edge.max()) + 1) * n_pat * 2 < _KEY_LIMIT:
        key = np.sort((edge * n_pat + pat) * 2 + same)
        ep = key >> 1
        e = ep // n_pat
        s = (key & 1).astype(np.int64)
        new_ep = np.ones(len(key), dtype=bool)
        new_ep[1:] = ep[1:] != ep[:-1]
    else:
        order = np.lexsort((same, pat, edge))
        e, pt, s = edge[order], pat[order], same[order].astype(np.int64)
        new_ep = np.ones(len(e), dtype=bool)
        new_ep[1:] = (e[1:] != e[:-1]) | (pt[1:] != pt[:-1])
    new_e = np.ones(len(e), dtype=bool)
    new_e[1:] = e[1:] != e[:-1]
    starts = np.flatnonzero(new_e)
    count = np.diff(np.append(starts, len(e)))
    patients = np.add.reduceat(new_ep.astype(np.int64), starts)
    same_day = np.add.reduceat(s, starts)
    return e[starts], count.astype(np.int64), patients, same_day


def _frame(
    src: np.ndarray,
    tgt: np.ndarray,
    count: np.ndarray,
    patients: np.ndarray,
    same_day: np.ndarray,
    vocab: np.ndarray,
    first_day: int | None,
    last_day: int | None,
    provenance: str,
) -> pd.DataFrame:
    k = len(src)

    def period(day: int | None) -> np.ndarray:
        if day is None:
            return np.full(k, np.datetime64("NaT"), dtype="datetime64[ns]")
        value = np.datetime64(day, "D")
        unit = "ns" if np.datetime64("1678-01-01") < value < np.datetime64("2262-01-01") else "s"
        return np.full(k, value, dtype=f"datetime64[{unit}]")

    return pd.DataFrame(
        {
            "source_npi": pd.array(vocab[src], dtype="string"),
            "target_npi": pd.array(vocab[tgt], dtype="string"),
            "count": pd.array(count, dtype="Int64"),
            "patients": pd.array(patients, dtype="Int64"),
            "period_start": period(first_day),
            "period_end": period(last_day),
            "provenance": pd.array([provenance] * k, dtype="string"),
            "same_day_count": pd.array(same_day, dtype="Int64"),
        },
        columns=list(FLOW_COLUMNS),
    )
