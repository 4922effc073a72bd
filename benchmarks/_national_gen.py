"""The synthetic national CMS file of ``bench_national.py`` (numpy generator, pyarrow writer).

Split from ``bench_national.py`` (the module notes there describe the file's shape);
imported by it as a sibling module when the benchmark is run as a script.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

_DOUBLED = np.array([0, 2, 4, 6, 8, 1, 3, 5, 7, 9], dtype=np.int64)


def npi_numbers(base: np.ndarray) -> np.ndarray:
    """Valid NPIs (int64) from 9-digit bases: the Luhn digit over ``80840`` + base appended."""
    total = np.full(len(base), 24, dtype=np.int64)  # "80840" at its fixed Luhn positions
    x = base.astype(np.int64)
    for pos in range(8, -1, -1):  # digit pos (0 = leftmost); even positions are doubled
        d = x % 10
        x //= 10
        total += _DOUBLED[d] if pos % 2 == 0 else d
    return base.astype(np.int64) * 10 + (10 - total % 10) % 10


def _groups(rng: np.random.Generator, n: int, mean: float, lo: int, hi: int) -> np.ndarray:
    """Start offsets of contiguous groups covering ``0..n`` (sizes lognormal in [lo, hi])."""
    sizes = np.clip(rng.lognormal(np.log(mean), 0.8, n // lo + 1), lo, hi).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(sizes)))
    return starts[starts < n]


def _pick(rng: np.random.Generator, cum: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Nodes drawn by popularity from the node ranges ``[lo, hi)`` (``cum``: cumulative weights)."""
    u = cum[lo] + rng.random(len(lo)) * (cum[hi] - cum[lo])
    return np.minimum(np.searchsorted(cum, u, side="right") - 1, hi - 1)


def synthetic_pairs(pairs: int, npis: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The columns of a synthetic CMS file (see the module notes), sorted by ``npi1``."""
    rng = np.random.default_rng(seed)
    base = 100_000_000 + rng.choice(100_000_000, size=npis, replace=False)
    npi = npi_numbers(np.sort(base))
    pop = rng.pareto(1.2, npis) + 1.0  # who receives: heavy-tailed
    cum = np.concatenate(([0.0], np.cumsum(pop)))
    practice = _groups(rng, npis, 6.0, 1, 60)
    region = _groups(rng, npis, 2000.0, 200, 20_000)
    node = np.arange(npis)
    p_of = np.searchsorted(practice, node, side="right") - 1
    r_of = np.searchsorted(region, node, side="right") - 1
    p_bounds = np.append(practice, npis)
    r_bounds = np.append(region, npis)
    weight = rng.lognormal(0.0, 1.3, npis)  # who sends: heavy-tailed out-degree
    keys = np.empty(0, dtype=np.int64)
    need, yield_rate = pairs, 0.8  # share of draws that are new pairs (updated each round)
    while need > 0:
        draw = int(need / yield_rate * 1.05) + 1000
        src = np.sort(rng.choice(npis, size=draw, p=weight / weight.sum()))
        kind = rng.random(draw)
        lo = np.zeros(draw, dtype=np.int64)
        hi = np.full(draw, npis, dtype=np.int64)
        inp = kind < 0.30
        inr = (kind >= 0.30) & (kind < 0.85)
        lo[inp], hi[inp] = p_bounds[p_of[src[inp]]], p_bounds[p_of[src[inp]] + 1]
        lo[inr], hi[inr] = r_bounds[r_of[src[inr]]], r_bounds[r_of[src[inr]] + 1]
        dst = _pick(rng, cum, lo, hi)
        ok = dst != src
        keys = np.concatenate((keys, src[ok] * npis + dst[ok]))
        keys.sort()  # numpy's hash-based unique is several times slower here
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        yield_rate = max(0.05, (need - (pairs - len(keys))) / draw)
        need = pairs - len(keys)
    if len(keys) > pairs:  # drop a random surplus, keep the order
        keys = keys[np.sort(rng.choice(len(keys), size=pairs, replace=False))]
    src, dst = np.divmod(keys, npis)
    del keys
    bene = 11 + np.minimum(np.floor(rng.pareto(1.6, pairs) * 8), 20_000).astype(np.int64)
    pair = bene + np.floor(bene * rng.lognormal(0.3, 0.9, pairs)).astype(np.int64)
    same = rng.binomial(pair, 0.04)
    return {
        "npi1": npi[src],
        "npi2": npi[dst],
        "pair_count": pair,
        "bene_count": bene,
        "same_day_count": same,
    }


def make_file(path: Path, pairs: int, npis: int, seed: int) -> dict[str, float]:
    """Write the file (headerless CSV) unless it is there; generation and write seconds."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if path.exists():
        return {}
    t0 = time.perf_counter()
    cols = synthetic_pairs(pairs, npis, seed)
    t1 = time.perf_counter()
    table = pa.table(cols)
    del cols
    tmp = path.with_suffix(".part")
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    tmp.rename(path)
    return {"generate_s": t1 - t0, "write_s": time.perf_counter() - t1}
