"""Sphinx configuration of the refgraph docs (Markdown via MyST, numpy docstrings via numpydoc).

Build with ``scripts/build-docs`` (warnings are errors). The API pages in
``api/`` are generated here for the modules that exist, and the index lists
the optional pages other parts of the project add (centrality, geography,
tracking, the planner tutorial) when they are present.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import refgraph  # noqa: E402

project = "refgraph"
author = "refgraph developers"
copyright = "refgraph developers, MIT licence"
release = version = refgraph.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "numpydoc",
    "sphinx.ext.viewcode",
    "run_examples",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_ext", "**/.gitignore", "README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 0
nitpicky = False

autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

try:
    import furo  # noqa: F401

    html_theme = "furo"
except ImportError:  # pragma: no cover
    html_theme = "alabaster"
html_title = f"refgraph {release}"
html_static_path: list[str] = []

# ---------------------------------------------------------------- API pages
API_MODULES = [
    ("refgraph", "The package: public API"),
    ("refgraph.network", "ReferralNetwork"),
    ("refgraph.io", "Readers and writers"),
    ("refgraph.datasets", "Synthetic regions and shared datasets"),
    ("refgraph.centrality", "Centrality"),
    ("refgraph.community", "Communities"),
    ("refgraph.influence", "Influence"),
    ("refgraph.paths", "Warm-introduction paths"),
    ("refgraph.expansion", "Expansion: targets and event sites"),
    ("refgraph.geo", "Geography"),
    ("refgraph.tracking", "Referral tracking"),
    ("refgraph.sensitivity", "Sensitivity to how the network was built"),
    ("refgraph.plot", "Plots"),
    ("refgraph.report", "HTML report"),
    ("refgraph.specialties", "Specialty vocabulary"),
    ("refgraph.config", "Settings"),
    ("refgraph.backends", "Backends"),
]

OPTIONAL_PAGES = [
    ("planner-tutorial", "tutorials/planner"),
    ("centrality", None),
    ("geography", None),
    ("tracking", None),
]


def _available(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _write_api() -> list[str]:
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    names = []
    for mod, title in API_MODULES:
        if not _available(mod):
            continue
        opts = ":no-index:\n" if mod == "refgraph" else ""
        body = (
            f"# {title}: `{mod}`\n\n```{{eval-rst}}\n.. automodule:: {mod}\n"
            + ("   :no-index:\n" if opts else "   :members:\n")
            + "```\n"
        )
        if mod == "refgraph":
            body = (
                f"# {title}\n\nEverything below is importable as `refgraph.<name>`; "
                "each object is documented in its module.\n\n```{eval-rst}\n"
                ".. automodule:: refgraph\n   :no-index:\n```\n\n"
                + "\n".join(f"- `{n}`" for n in refgraph.__all__)
                + "\n"
            )
        path = out / f"{mod}.md"
        if not path.exists() or path.read_text() != body:
            path.write_text(body)
        names.append(mod)
    for old in out.glob("refgraph*.md"):
        if old.stem not in names:
            old.unlink()
    index = "# API reference\n\n```{toctree}\n:maxdepth: 1\n\n" + "\n".join(names) + "\n```\n"
    if not (out / "index.md").exists() or (out / "index.md").read_text() != index:
        (out / "index.md").write_text(index)
    return names


_write_api()


def _nav(app, docname: str, source: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Fill the optional-page markers of the index with the pages that exist."""
    if docname != "index":
        return
    extra = []
    for page, fallback in OPTIONAL_PAGES:
        if (HERE / f"{page}.md").exists():
            extra.append(page)
        elif fallback and (HERE / f"{fallback}.md").exists():
            extra.append(fallback)
    tutorials = [p for p in extra if "tutorial" in p or p.startswith("tutorials/")]
    guides = [p for p in extra if p not in tutorials]
    source[0] = source[0].replace("<!-- planner-tutorial -->", "\n".join(tutorials))
    source[0] = source[0].replace("<!-- analysis-guides -->", "\n".join(guides))


_SECTION_NAMES = {"Examples", "Notes", "References", "See Also", "Attributes"}


def _module_docstring(app, what, name, obj, options, lines):  # type: ignore[no-untyped-def]
    """Module docstrings: numpy sections as rubrics, bibliography as plain text.

    Several modules have an ``Examples`` section; as docutils sections they would all
    claim the label ``examples``. Their ``.. [n]`` references are a bibliography
    (numpydoc scopes citations per docstring), so they are shown as text.
    """
    if what != "module":
        return
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() in _SECTION_NAMES and nxt.strip() and set(nxt.strip()) == {"-"}:
            out += [f".. rubric:: {line.strip()}", ""]
            i += 2
            continue
        if line.startswith(".. [") and "]" in line:
            label, _, text = line[3:].partition("]")
            out.append(f"| {label}] {text.strip()}")
        elif out and out[-1].startswith("| ") and line.startswith("   ") and line.strip():
            out.append("  " + line.strip())
        else:
            out.append(line)
        i += 1
    lines[:] = out


def setup(app):  # type: ignore[no-untyped-def]
    app.connect("source-read", _nav, priority=100)
    app.connect("autodoc-process-docstring", _module_docstring, priority=100)
