"""How to hold the NPI columns of a flows table: the representations side by side.

Usage::

    python benchmarks/bench_tables.py [--physicians 200000] [--flows 4000000] [--repeat 3]
    python benchmarks/bench_tables.py --build [--src PATH] --physicians 1000000 --flows 10000000

One synthetic flows table (valid NPIs, ``count``, a constant ``provenance``) is
held four ways and each is timed on the operations the package and its users run
on flows; ``physicians`` carries a ``specialty`` column. The representations:

- ``str``: Arrow-backed strings, pandas 3's default ``str`` dtype (what refgraph
  holds today);
- ``category``: pandas ``Categorical`` whose categories are the physicians' NPIs
  (int32 codes against the physicians index);
- ``arrow dict``: ``pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))``;
- ``int64``: the NPI as a number, a reference only (it breaks the public contract:
  values no longer read as 10-character strings, leading zeros are lost).

For each: bytes per flow of the two NPI columns (``memory_usage(deep=True)``),
the time to convert the ``str`` columns into it, a group-by sum on ``source_npi``,
a merge with the physicians' specialty, a boolean selection (``== one NPI``), an
``isin`` of 100 NPIs, the integer node ids of every flow (what a graph view
needs), and a Parquet write and read (file size too). The contract column says
whether ``flows["source_npi"].iloc[0]`` is a ``str``, ``== "<npi>"`` selects the
right rows and ``.astype(str)`` gives the strings back. Best of ``--repeat``,
all in one process; the page cache is warm.

``--build`` instead times ``ReferralNetwork(flows=flows)`` and then ``net.csr()`` on
the same kind of table (Arrow-string NPIs) and reports the growth of the process's
RSS over the input frame per flow and its peak (VmHWM, Linux), for the refgraph found
under ``--src`` (default: this checkout's ``src``; point it at another checkout's
``src`` to measure a baseline). Run one case per process: the peak is per process.
It then times the CSR builder alone (the node ids of the flows already cached; median
of 5) and the memory it keeps and peaks at (``tracemalloc``).

``--columns FILE`` measures what each column of a network's flows costs, for a
baseline refgraph (``--base``, e.g. ``/work/main/src``) and for this checkout, in
alternating subprocesses (one read a process): FILE is a CMS shared-patient file,
read with ``read_cms_shared_patients(year=2015)``, and the same flows written as a
Parquet file of canonical columns (constant ``provenance`` and period, as a
reader of a published file gives them) read with ``read_network(flows=...)``.
Per column it prints ``memory_usage(deep=True)`` and the resident memory given
back when the column is dropped (``VmRSS`` after a ``gc`` and ``malloc_trim``;
zero pages and values seen through a zero stride show there, not in
``memory_usage``), the whole network's resident growth, the read time and the
peak (``VmHWM``), per flow.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

SRC = Path(__file__).resolve().parents[1] / "src"


def _npi_check_digits(bodies: np.ndarray) -> np.ndarray:
    """Luhn check digits over ``80840`` + nine-digit integer bodies, vectorised."""
    x = np.asarray(bodies, dtype=np.int64).copy()
    total = np.full(x.shape, 24, dtype=np.int64)  # the prefix 80840
    for i in range(9):  # from the last body digit, which is doubled
        d = x % 10
        x //= 10
        if i % 2 == 0:
            d = np.where(d * 2 > 9, d * 2 - 9, d * 2)
        total += d
    return (10 - total % 10) % 10


def make_tables(n: int, m: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Physicians (NPI, specialty) and flows (source, target, count) with valid NPIs."""
    rng = np.random.default_rng(seed)
    bodies = 100_000_000 + rng.choice(100_000_000, size=n, replace=False).astype(np.int64)
    npis = pd.Series(bodies * 10 + _npi_check_digits(bodies)).astype("str")
    specs = np.array(["cardiology", "internal medicine", "family medicine", "oncology"])
    phys = pd.DataFrame({"npi": npis, "specialty": pd.array(specs[rng.integers(0, 4, n)], "str")})
    src = rng.integers(0, n, m)
    dst = (src + 1 + rng.integers(0, n - 1, m)) % n
    arr = npis.array
    flows = pd.DataFrame(
        {
            "source_npi": pd.Series(arr.take(src)),
            "target_npi": pd.Series(arr.take(dst)),
            "count": 11 + rng.geometric(0.02, m),
            "provenance": pd.array(np.full(m, "cms_shared_patients"), "str"),
        }
    )
    return phys, flows


def convert(kind: str, col: pd.Series, phys_npi: pd.Series) -> pd.Series:
    """``col`` (Arrow strings) in representation ``kind``."""
    if kind == "str":
        return col
    if kind == "category":
        cats = pd.Index(phys_npi.array)
        codes = pd.Index(_ints(phys_npi)).get_indexer(_ints(col))
        return pd.Series(pd.Categorical.from_codes(codes.astype(np.int32), categories=cats))
    if kind == "arrow dict":
        chunked = pa.chunked_array([pa.array(col.array, type=pa.large_string())])
        return pd.Series(pd.arrays.ArrowExtensionArray(chunked.dictionary_encode()))
    if kind == "int64":
        return pd.Series(_ints(col))
    raise ValueError(kind)


def _ints(col: pd.Series) -> np.ndarray:
    import pyarrow.compute as pc

    arr = pa.chunked_array([pa.array(col.array, type=pa.large_string())])
    return np.asarray(pc.cast(arr, pa.int64()).to_numpy(), dtype=np.int64)


def node_ids(kind: str, col: pd.Series, phys_npi: pd.Series) -> np.ndarray:
    """Position in the physicians table of every value (what a CSR view needs)."""
    if kind == "category":
        return np.asarray(col.cat.codes.to_numpy())
    if kind == "int64":
        return np.asarray(pd.Index(_ints(phys_npi)).get_indexer(col.to_numpy()))
    if kind == "arrow dict":
        chunk = pa.chunked_array([pa.array(col.array)]).combine_chunks()
        dict_pos = pd.Index(_ints(phys_npi)).get_indexer(
            _ints(pd.Series(pd.array(chunk.dictionary, dtype="str")))
        )
        return np.asarray(dict_pos[chunk.indices.to_numpy(zero_copy_only=False)])
    return np.asarray(pd.Index(_ints(phys_npi)).get_indexer(_ints(col)))


def contract(kind: str, flows: pd.DataFrame, want: str) -> bool:
    s = flows["source_npi"]
    first = s.iloc[0]
    if not isinstance(first, str) or first != want:
        return False
    eq = (s == want).to_numpy(dtype=bool)
    as_str = s.astype(str)
    return bool(eq[0]) and as_str.iloc[0] == want and isinstance(as_str.iloc[0], str)


def _read_back(buf: io.BytesIO, repeat: int) -> float:
    """Best time of ``pandas.read_parquet`` of ``buf``; NaN when pandas cannot read it back."""
    try:
        return best(lambda: pd.read_parquet(io.BytesIO(buf.getvalue())), repeat)
    except (TypeError, ValueError) as err:  # pandas 3.1 cannot rebuild an Arrow dictionary dtype
        print(f"read_parquet failed: {type(err).__name__}: {err}", flush=True)
        return float("nan")


def best(fn: Callable[[], Any], repeat: int) -> float:
    out = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def run(n: int, m: int, repeat: int) -> list[dict[str, Any]]:
    phys, base = make_tables(n, m)
    want = str(base["source_npi"].iloc[0])
    sample = phys["npi"].iloc[:: max(n // 100, 1)].iloc[:100].tolist()
    rows = []
    for kind in ("str", "category", "arrow dict", "int64"):
        t_conv = best(lambda k=kind: convert(k, base["source_npi"], phys["npi"]), repeat)
        flows = base.copy()
        for c in ("source_npi", "target_npi"):
            flows[c] = convert(kind, base[c], phys["npi"])
        key: Any = want if kind != "int64" else int(want)
        keys: Any = sample if kind != "int64" else [int(x) for x in sample]
        ph = phys if kind != "int64" else phys.assign(npi=_ints(phys["npi"]))
        if kind == "category":
            ph = phys.assign(npi=flows["source_npi"].dtype.categories[: len(phys)])
        nbytes = flows[["source_npi", "target_npi"]].memory_usage(deep=True, index=False).sum()
        buf = io.BytesIO()
        flows.to_parquet(buf, index=False)
        row = {
            "representation": kind,
            "bytes/flow (2 NPI columns)": nbytes / m,
            "convert one column": t_conv,
            "groupby source sum": best(
                lambda f=flows: f.groupby("source_npi", observed=True, sort=False)["count"].sum(),
                repeat,
            ),
            "merge specialty": best(
                lambda f=flows, p=ph: f.merge(
                    p[["npi", "specialty"]], left_on="target_npi", right_on="npi", how="left"
                ),
                repeat,
            ),
            "== one NPI": best(lambda f=flows, k=key: f[f["source_npi"] == k], repeat),
            "isin 100 NPIs": best(lambda f=flows, k=keys: f[f["source_npi"].isin(k)], repeat),
            "node ids": best(
                lambda f=flows, k=kind: node_ids(k, f["source_npi"], phys["npi"]), repeat
            ),
            "to_parquet": best(lambda f=flows: f.to_parquet(io.BytesIO(), index=False), repeat),
            "read_parquet": _read_back(buf, repeat),
            "parquet MB": len(buf.getvalue()) / 1e6,
            "contract": contract(kind, flows, want) if kind != "int64" else False,
        }
        rows.append(row)
        print(row, flush=True)
    # low-cardinality text: one column of the flows and one of the physicians
    for name, col in (("provenance (flows)", base["provenance"]), ("specialty", phys["specialty"])):
        for kind in ("str", "category"):
            c = col if kind == "str" else col.astype("category")
            rows.append(
                {
                    "representation": f"{name} as {kind}",
                    "bytes/row": c.memory_usage(deep=True, index=False) / len(c),
                }
            )
    return rows


def report(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    main_rows = [r for r in rows if "convert one column" in r]
    cols = [c for c in main_rows[0] if c != "representation"]
    head = "| representation | " + " | ".join(cols) + " |"
    lines = [head, "|" + "---|" * (len(cols) + 1)]
    for r in main_rows:
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, bool):
                cells.append("yes" if v else "no")
            elif c.startswith("bytes") or c.endswith("MB"):
                cells.append(f"{v:.1f}")
            elif v != v:  # NaN: the step failed
                cells.append("fails")
            else:
                cells.append(f"{v:.3f} s")
        lines.append(f"| {r['representation']} | " + " | ".join(cells) + " |")
    lines += ["", "| column | bytes/row |", "|---|---|"]
    lines += [f"| {r['representation']} | {r['bytes/row']:.2f} |" for r in rows if "bytes/row" in r]
    return "\n".join(lines)


def _rss(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0  # pragma: no cover - not Linux


def build(n: int, m: int, src: Path) -> str:
    """Time and memory of building a network from a flows frame, then its CSR view."""
    import gc

    sys.path.insert(0, str(src))
    from refgraph import ReferralNetwork

    flows = make_tables(n, m)[1][["source_npi", "target_npi", "count"]]
    gc.collect()
    r0 = _rss()
    t = time.perf_counter()
    net = ReferralNetwork(flows=flows)
    t_build = time.perf_counter() - t
    gc.collect()
    r1 = _rss()
    t = time.perf_counter()
    net.csr()
    t_csr = time.perf_counter() - t
    gc.collect()
    r2 = _rss()
    rebuild = _csr_rebuild(net)
    return (
        f"refgraph from {src}: {n:,} physicians, {m:,} flows: build {t_build:.2f} s, "
        f"csr() {t_csr:.2f} s; resident after build {(r1 - r0) / m:.0f} B/flow, after csr() "
        f"{(r2 - r0) / m:.0f} B/flow; peak {_rss('VmHWM') / 1e9:.2f} GB; the flows table "
        f"{net.flows.memory_usage(deep=True).sum() / m:.1f} B/flow; {rebuild}"
    )


def _csr_rebuild(net: Any, repeat: int = 5) -> str:
    """The CSR builder alone (node ids cached): median seconds, memory it keeps and peaks at.

    Memory is ``tracemalloc``'s (numpy buffers and Python objects, not Arrow's
    allocator), so it isolates the view from the allocator slack in the RSS.
    """
    import gc
    import tracemalloc

    from refgraph._views import csr_view  # the builder behind net.csr() (its cache aside)

    ts = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        g = csr_view(net, "count")
        ts.append(time.perf_counter() - t)
        del g
    gc.collect()
    tracemalloc.start()
    g = csr_view(net, "count")  # alive while measured: "keeps" is the view's own memory
    kept, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert g.n == net.n_physicians
    return (
        f"CSR builder median of {repeat} {np.median(ts):.3f} s (best {min(ts):.3f}), keeps "
        f"{kept / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB"
    )


def _trim() -> None:
    import ctypes
    import gc

    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):  # pragma: no cover - not glibc
        pass


def columns_worker(kind: str, path: str) -> dict[str, Any]:
    """One read of ``path`` by the refgraph on ``sys.path``; bytes a flow by column."""
    import json

    import refgraph

    _trim()
    r0 = _rss()
    t = time.perf_counter()
    if kind == "cms":
        net = refgraph.read_cms_shared_patients(path, year=2015)
    else:
        net = refgraph.read_network(flows=path)
    took = time.perf_counter() - t
    _trim()
    grown = _rss() - r0
    flows = net.flows
    m = len(flows)
    deep = flows.memory_usage(deep=True, index=False)
    out: dict[str, Any] = {
        "src": str(Path(refgraph.__file__).parents[1]),
        "flows": m,
        "read s": took,
        "peak MiB": _rss("VmHWM") / 2**20,
        "network B/flow": grown / m,
        "dtypes": {c: str(t) for c, t in flows.dtypes.items()},
        "deep": {c: float(v) / m for c, v in deep.items()},
    }
    del net
    _trim()
    now, freed = _rss(), {}
    for c in list(flows.columns):  # the only reference left: each column freed as dropped
        flows.pop(c)
        _trim()
        freed[c] = (now - _rss()) / m
        now = _rss()
    out["resident"] = freed
    print(json.dumps(out))
    return out


def columns(path: Path, base: Path, repeat: int) -> str:
    """``--columns``: the baseline and this checkout, alternating, one read a process."""
    import datetime
    import json
    import os
    import subprocess
    import tempfile

    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    tmp = Path(tempfile.mkdtemp(prefix="bench_tables_"))
    names = ["source_npi", "target_npi", "count", "patients", "same_day_count"]
    text = pcsv.read_csv(
        path,
        read_options=pcsv.ReadOptions(column_names=names),
        convert_options=pcsv.ConvertOptions(
            column_types={"source_npi": pa.string(), "target_npi": pa.string()}
        ),
    )
    m = text.num_rows
    day = pa.scalar(datetime.date(2015, 1, 1), pa.date32())
    end = pa.scalar(datetime.date(2015, 12, 31), pa.date32())
    table = (
        text.drop_columns(["same_day_count"])
        .append_column("period_start", pa.repeat(day, m))
        .append_column("period_end", pa.repeat(end, m))
        .append_column("provenance", pa.repeat(pa.scalar("cms-pspp:180d"), m))
    )
    parquet = tmp / "flows.parquet"
    pq.write_table(table, parquet)
    del text, table
    rows = []
    try:
        for _ in range(repeat):
            for kind, file in (("cms", path), ("parquet", parquet)):
                for src in (base, SRC):
                    env = {**os.environ, "PYTHONPATH": str(src)}
                    cmd = [sys.executable, __file__, "--columns-worker", kind, str(file)]
                    got = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
                    row = json.loads(got.stdout.strip().splitlines()[-1])
                    row["kind"] = kind
                    rows.append(row)
                    print(f"{kind} {src}: {row['network B/flow']:.1f} B/flow", flush=True)
    finally:
        parquet.unlink(missing_ok=True)
        tmp.rmdir()
    return _columns_report(rows)


def _columns_report(rows: list[dict[str, Any]]) -> str:
    lines = []
    for kind in ("cms", "parquet"):
        mine = [r for r in rows if r["kind"] == kind]
        srcs = list(dict.fromkeys(r["src"] for r in mine))
        cols = list(mine[0]["dtypes"])
        head = "| column | " + " | ".join(f"{s}: dtype, deep / resident B/flow" for s in srcs)
        lines += [f"{kind}: {mine[0]['flows']:,} flows", "", head + " |"]
        lines.append("|---|" + "---|" * len(srcs))
        for c in cols:
            cells = []
            for s in srcs:
                r = [x for x in mine if x["src"] == s]
                deep = np.median([x["deep"].get(c, np.nan) for x in r])
                res = np.median([x["resident"].get(c, np.nan) for x in r])
                cells.append(f"{r[0]['dtypes'].get(c, '-')}, {deep:.1f} / {res:.1f}")
            lines.append(f"| {c} | " + " | ".join(cells) + " |")
        for label, key, fmt in (
            ("all columns, deep", "deep", "{:.1f}"),
            ("all columns, resident", "resident", "{:.1f}"),
            ("network resident growth B/flow", "network B/flow", "{:.1f}"),
            ("read s", "read s", "{:.2f}"),
            ("peak MiB", "peak MiB", "{:.0f}"),
        ):
            cells = []
            for s in srcs:
                r = [x for x in mine if x["src"] == s]
                vals = [sum(x[key].values()) if isinstance(x[key], dict) else x[key] for x in r]
                cells.append(" / ".join(fmt.format(v) for v in vals))
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--physicians", type=int, default=200_000)
    ap.add_argument("--flows", type=int, default=4_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--build", action="store_true", help="time the network build instead")
    ap.add_argument("--src", type=Path, default=SRC, help="refgraph source folder (--build)")
    ap.add_argument("--columns", type=Path, help="bytes a flow by column of this CMS file")
    ap.add_argument("--base", type=Path, default=Path("/work/main/src"), help="baseline src")
    ap.add_argument("--columns-worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.columns_worker:
        columns_worker(*args.columns_worker)
        return
    if args.columns:
        print(columns(args.columns, args.base, args.repeat))
        return
    if args.build:
        print(build(args.physicians, args.flows, args.src))
        return
    rows = run(args.physicians, args.flows, args.repeat)
    print(report(rows, args))


if __name__ == "__main__":
    main()
