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

#: Raw pairs buffered before they are compacted to distinct (edge, patient, day kind).
PAIR_BUFFER = 1 << 22

#: A patient id with more distinct encounters than this, and more than one per
#: day of the observed period, is reported in ``notes`` as implausible (often a
#: placeholder id such as "UNKNOWN" shared by many real patients).
MANY_ENCOUNTERS = 1000


def _note_heavy_patients(
    p: np.ndarray,
    pair_pat: np.ndarray,
    mult: np.ndarray,
    n_pairs: int,
    span_days: int,
    notes: list[str],
) -> None:
    """Note patient ids with implausibly many encounters (never naming them)."""
    per_patient = np.bincount(p)
    limit = max(MANY_ENCOUNTERS, span_days)
    heavy = np.flatnonzero(per_patient > limit)
    if not len(heavy):
        return
    share = int(mult[np.isin(pair_pat, heavy)].sum())
    pct = 100.0 * share / n_pairs if n_pairs else 0.0
    notes.append(
        f"{len(heavy)} patient id(s) have implausibly many encounters (more than {limit}; "
        f"the largest has {int(per_patient[heavy].max())}): a placeholder id shared by many "
        f"patients? They give {share} of {n_pairs} pair(s) ({pct:.1f}%)"
    )
    logger.warning("claims: %d patient id(s) with more than %d encounters", len(heavy), limit)


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

    n_npi = len(vocab)
    n_pat = int(p.max()) + 1
    counter = _PairCounter(n_npi * n_npi, n_pat, budget=max(4 * len(p), PAIR_BUFFER))
    _pairs(p, d, a, window, counter, n_npi)
    e, pt, same, mult = counter.triples()
    edges, count, patients, same_day = _aggregate(e, pt, same, mult)
    _note_heavy_patients(p, pt, mult, counter.n_pairs, int(d.max()) - int(d.min()) + 1, notes)

    keep = patients >= threshold
    n_sup = int((~keep).sum())
    notes.append(
        f"window_days={window}: {counter.n_pairs} shared-encounter pair(s) from {len(p)} "
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


class _PairCounter:
    """Multiset of (edge, patient, same_day) triples, compacted as pairs arrive.

    Pairs are added one lag at a time; whenever more than ``budget`` raw
    pairs are buffered they are reduced to distinct triples with a
    multiplicity, so memory stays proportional to the input plus the number
    of distinct triples, not to the number of pairs (which grows with the
    square of the encounters of one patient).
    """

    def __init__(self, n_edge: int, n_pat: int, budget: int) -> None:
        self.n_pat = n_pat
        self.packed = n_edge * n_pat * 2 < _KEY_LIMIT
        self.budget = budget
        self.raw: list[np.ndarray] = []  # packed keys, or (3, k) arrays
        self.n_raw = 0
        self.keys: np.ndarray | None = None  # distinct triples so far
        self.mult = np.empty(0, dtype=np.int64)
        self.n_pairs = 0

    def add(self, edge: np.ndarray, pat: np.ndarray, same: np.ndarray) -> None:
        self.n_pairs += len(edge)
        if self.packed:
            self.raw.append((edge * self.n_pat + pat) * 2 + same)
        else:
            self.raw.append(np.stack([edge, pat, same.astype(np.int64)]))
        self.n_raw += len(edge)
        if self.n_raw > self.budget:
            self._compact()

    def _compact(self) -> None:
        if not self.raw:
            return
        if self.packed:
            new = np.sort(np.concatenate(self.raw))
            start = np.ones(len(new), dtype=bool)
            start[1:] = new[1:] != new[:-1]
            first = np.flatnonzero(start)
            keys = new[first]
            mult = np.diff(np.append(first, len(new))).astype(np.int64)
            if self.keys is not None:
                keys = np.concatenate([self.keys, keys])
                mult = np.concatenate([self.mult, mult])
                order = np.argsort(keys, kind="stable")
                keys, mult = keys[order], mult[order]
            start = np.ones(len(keys), dtype=bool)
            start[1:] = keys[1:] != keys[:-1]
        else:
            new = np.concatenate(self.raw, axis=1)
            ones = np.ones(new.shape[1], dtype=np.int64)
            keys = new if self.keys is None else np.concatenate([self.keys, new], axis=1)
            mult = ones if self.keys is None else np.concatenate([self.mult, ones])
            order = np.lexsort((keys[2], keys[1], keys[0]))
            keys, mult = keys[:, order], mult[order]
            start = np.ones(keys.shape[1], dtype=bool)
            start[1:] = (keys[:, 1:] != keys[:, :-1]).any(axis=0)
        first = np.flatnonzero(start)
        self.keys = keys[first] if self.packed else keys[:, first]
        self.mult = np.add.reduceat(mult, first) if len(first) else mult[:0]
        self.raw, self.n_raw = [], 0

    def triples(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (edge, patient, same_day) sorted, with their multiplicities."""
        self._compact()
        if self.keys is None:
            e = np.empty(0, dtype=np.int64)
            return e, e, e, e
        if self.packed:
            same = self.keys & 1
            ep = self.keys >> 1
            return ep // self.n_pat, ep % self.n_pat, same, self.mult
        return self.keys[0], self.keys[1], self.keys[2], self.mult


def _pairs(
    p: np.ndarray, d: np.ndarray, a: np.ndarray, window: int, counter: _PairCounter, n_npi: int
) -> None:
    """Feed every oriented shared-encounter pair (source, target, patient, same_day) to ``counter``.

    Encounters are sorted by (patient, day, npi). If encounter i has no
    partner within the window at lag k, it has none at lag k + 1 either, so
    the candidate set only shrinks and the loop ends once it is empty. Each
    lag produces at most one pair per encounter, so the working memory is
    linear in the encounters; the counter compacts the pairs as they come.
    """
    m = len(p)
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
            counter.add(ai[diff] * n_npi + aj[diff], p[ii], (d[jj] == d[ii]).astype(np.int64))
        k += 1
        i = i[i + k < m]


def _aggregate(
    edge: np.ndarray, pat: np.ndarray, same: np.ndarray, mult: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct edge: pair count, distinct patients and same-day pairs.

    Input: distinct (edge, patient, same) triples sorted in that order, with
    the number of pairs of each.
    """
    if not len(edge):
        e = np.empty(0, dtype=np.int64)
        return e, e, e, e
    new_ep = np.ones(len(edge), dtype=bool)
    new_ep[1:] = (edge[1:] != edge[:-1]) | (pat[1:] != pat[:-1])
    new_e = np.ones(len(edge), dtype=bool)
    new_e[1:] = edge[1:] != edge[:-1]
    starts = np.flatnonzero(new_e)
    count = np.add.reduceat(mult, starts)
    patients = np.add.reduceat(new_ep.astype(np.int64), starts)
    same_day = np.add.reduceat(mult * same, starts)
    return edge[starts], count.astype(np.int64), patients, same_day


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
