"""Every public name works at its documented path.

The API reference (``docs/conf.py: API_MODULES``) documents each module's
``__all__``; the guides and the README name objects as ``refgraph.<path>``.
Both are checked here, and tests reach public objects by their public names.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _api_modules() -> list[str]:
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "API_MODULES" for t in node.targets
        ):
            return [name for name, _title in ast.literal_eval(node.value)]
    raise AssertionError("docs/conf.py has no API_MODULES")


API_MODULES = _api_modules()


def _public_objects() -> dict[int, str]:
    """id(object) -> its documented path, over every API module's ``__all__``."""
    out: dict[int, str] = {}
    for mod in API_MODULES:
        module = importlib.import_module(mod)
        for name in module.__all__:
            out.setdefault(id(getattr(module, name)), f"{mod}.{name}")
    return out


def test_api_lists_the_capabilities() -> None:
    for mod in (
        "refgraph.centrality",
        "refgraph.paths",
        "refgraph.geo",
        "refgraph.tracking",
        "refgraph.sensitivity",
    ):
        assert mod in API_MODULES


@pytest.mark.parametrize("mod", API_MODULES)
def test_every_listed_name_resolves_and_is_documented(mod: str) -> None:
    module = importlib.import_module(mod)
    names = getattr(module, "__all__", None)
    assert names, f"{mod} has no __all__: the API page would be empty"
    assert len(set(names)) == len(names), f"{mod}.__all__ repeats a name"
    for name in names:
        obj = getattr(module, name)  # AttributeError names the broken path
        assert not name.startswith("_") or name == "__version__"
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert (obj.__doc__ or "").strip(), f"{mod}.{name} has no docstring"
            assert obj.__module__.startswith("refgraph"), f"{mod}.{name} is not ours"


_DOTTED = re.compile(r"`(refgraph(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
_FILES = {"refgraph.json", "refgraph.py"}


def _documented_paths() -> list[str]:
    found: set[str] = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        if "_build" in page.parts or page.parent.name == "api":
            continue
        found.update(m.group(1) for m in _DOTTED.finditer(page.read_text(encoding="utf-8")))
    return sorted(found - _FILES)


def _resolve(path: str) -> object:
    parts = path.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(path)


def test_the_docs_name_objects() -> None:
    paths = _documented_paths()
    assert "refgraph.paths.intro_paths" in paths or "refgraph.centrality.pagerank" in paths


@pytest.mark.parametrize("path", _documented_paths())
def test_documented_path_resolves(path: str) -> None:
    _resolve(path)


def test_tests_use_public_names() -> None:
    public = _public_objects()
    bad = []
    for test in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(test.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "refgraph"
            ):
                continue
            module = node.module or ""
            private_module = any(p.startswith("_") for p in module.split(".")[1:])
            for alias in node.names:
                if not (private_module or alias.name.startswith("_")):
                    continue
                obj = getattr(importlib.import_module(module), alias.name, None)
                if obj is not None and id(obj) in public:
                    where = f"{test.name}:{node.lineno}"
                    bad.append(f"{where} imports {module}.{alias.name}: use {public[id(obj)]}")
    assert not bad, "\n".join(bad)
