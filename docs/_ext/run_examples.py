"""Execute the ```python blocks of the Markdown docs, so that examples cannot rot.

Used two ways: as a Sphinx extension (``source-read``: a failing block is a
build warning, hence an error under ``-W``) and by ``tests/test_docs_examples.py``.

Rules: the blocks of one page run in order in one namespace, in a fresh
temporary working directory, with matplotlib's Agg backend. A block whose
first line is ``# not executed`` (e.g. code that needs a Neo4j server) is
skipped. A page holding ``<!-- needs: datasets -->`` runs only when the shared
datasets folder (``$REFGRAPH_DATASETS`` or ``../shared/datasets``) exists,
and must run when ``CI=true``.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
SKIP_MARK = "# not executed"
NEEDS_DATASETS = "<!-- needs: datasets -->"
ROOT = Path(__file__).resolve().parents[2]


class ExampleError(RuntimeError):
    """A documentation example failed."""


def blocks(text: str) -> list[tuple[int, str]]:
    """``(line number, code)`` of every executable python block of a page."""
    out = []
    for m in BLOCK.finditer(text):
        code = m.group(1)
        if code.lstrip().startswith(SKIP_MARK):
            continue
        out.append((text.count("\n", 0, m.start()) + 2, code))
    return out


def datasets_dir() -> Path:
    default = ROOT.parent / "shared" / "datasets"
    return Path(os.environ.get("REFGRAPH_DATASETS", default)).resolve()


def skip_reason(text: str) -> str | None:
    """Why a page cannot run here (None: it can)."""
    in_ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    if NEEDS_DATASETS in text and not datasets_dir().is_dir() and not in_ci:
        return f"shared datasets not found at {datasets_dir()}"
    return None


def run_page(path: Path, text: str | None = None) -> float:
    """Run the blocks of one page; returns seconds taken; raises ExampleError."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    text = path.read_text(encoding="utf-8") if text is None else text
    ns: dict[str, Any] = {"__name__": "__docs__"}
    old = Path.cwd()
    t0 = time.perf_counter()
    os.environ.setdefault("REFGRAPH_DATASETS", str(datasets_dir()))
    with tempfile.TemporaryDirectory(prefix="refgraph-docs-") as tmp:
        os.chdir(tmp)
        try:
            for line, code in blocks(text):
                try:
                    exec(compile(code, f"{path.name}:{line}", "exec"), ns)
                except Exception as exc:
                    tb = traceback.format_exc(limit=-3)
                    raise ExampleError(
                        f"{path}: example at line {line} failed: {exc!r}\n{tb}"
                    ) from exc
        finally:
            os.chdir(old)
            plt.close("all")
    return time.perf_counter() - t0


def _source_read(app: Any, docname: str, source: list[str]) -> None:
    from sphinx.util import logging as slog

    log = slog.getLogger(__name__)
    path = Path(app.env.doc2path(docname))
    if path.suffix != ".md" or not app.config.run_examples:
        return
    why = skip_reason(source[0])
    if why:
        log.info("examples of %s not run: %s", docname, why)
        return
    try:
        secs = run_page(path, source[0])
    except ExampleError as exc:
        log.warning("%s", exc, location=docname)
        return
    if blocks(source[0]):
        log.info("examples of %s ran in %.1fs", docname, secs)


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("run_examples", True, "env")
    app.connect("source-read", _source_read)
    return {"version": "1", "parallel_read_safe": False}
