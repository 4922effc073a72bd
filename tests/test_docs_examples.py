"""Every ```python block of every docs page and of the README runs, in order, one namespace
per page.

The same runner executes the examples during the Sphinx build
(``docs/_ext/run_examples.py``); this test gives the failures as pytest results.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
_spec = importlib.util.spec_from_file_location("run_examples", DOCS / "_ext" / "run_examples.py")
assert _spec and _spec.loader
run_examples = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("run_examples", run_examples)
_spec.loader.exec_module(run_examples)

PAGES = sorted(
    p for p in DOCS.rglob("*.md") if "_build" not in p.parts and run_examples.blocks(p.read_text())
)


def test_pages_found() -> None:
    assert len(PAGES) >= 8


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_page_examples_run(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    why = run_examples.skip_reason(text)
    if why:
        pytest.skip(why)
    run_examples.run_page(page, text)


README = DOCS.parent / "README.md"


def test_readme_examples_run() -> None:
    """The README's python blocks run as written, in a fresh temporary folder, twice.

    Twice, because a new user runs the quickstart again (``save`` must not fail on
    the folder the first run wrote: each run gets a fresh folder here, so the second
    run re-executes the page in the same folder by hand).
    """
    import os

    text = README.read_text(encoding="utf-8")
    runnable = run_examples.blocks(text)
    assert len(runnable) >= 2  # the quickstart and the CMS sample
    why = run_examples.skip_reason(text + run_examples.NEEDS_DATASETS)
    if why:
        pytest.skip(why)
    run_examples.run_page(README, text)
    # a second run in one folder: the quickstart's save must overwrite
    import tempfile

    old = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="refgraph-readme-") as tmp:
        os.chdir(tmp)
        try:
            for _ in range(2):
                ns: dict[str, object] = {"__name__": "__readme__"}
                exec(compile(runnable[0][1], "README.md", "exec"), ns)
        finally:
            os.chdir(old)
