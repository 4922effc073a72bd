"""The shape of the package: layers, no import cycles, one folder per capability.

The import graph is read from the source with :mod:`ast` (module-level and
function-level imports; ``if TYPE_CHECKING:`` blocks are type hints, not
imports). Importing ``refgraph.a._b`` also runs ``refgraph/a/__init__.py``,
so such an import counts as an edge to both.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import refgraph

SRC = Path(refgraph.__file__).resolve().parent
ROOT = "refgraph"

#: Layers from the bottom up. A module belongs to the layer of the longest listed
#: prefix of its name; module-level imports may only point to the same or a lower layer.
LAYERS: list[set[str]] = [
    # the core: tables, their validation, the views of a network, settings
    {
        "refgraph._errors",
        "refgraph.config",
        "refgraph._progress",
        "refgraph.model",
        "refgraph.specialties",
        "refgraph._npi",
        "refgraph._coerce",
        "refgraph._compact",
        "refgraph._validate",
        "refgraph._csr",
        "refgraph._distance",
        "refgraph._codes",
        "refgraph._tables",
        "refgraph._views",
        "refgraph._select",
        "refgraph.network",
        "refgraph._kernels",
        "refgraph._plotting",
        "refgraph._optional",
        "refgraph._cli_network",
        "refgraph._html",
        "refgraph._params",
        "refgraph.backends",  # the port (Backend, pushdown); the adapters sit at the top
    },
    # readers and writers
    {"refgraph.io"},
    # analyses of one network
    {
        "refgraph.centrality",
        "refgraph.community",
        "refgraph.influence",
        "refgraph.paths",
        "refgraph.geo",
        "refgraph.tracking",
        "refgraph.datasets",
    },
    # analyses built on other analyses
    {"refgraph.expansion", "refgraph.plot", "refgraph.sensitivity"},
    # applications and adapters
    {
        "refgraph.report",
        "refgraph.backends.neo4j",
        "refgraph.backends.devserver",
        "refgraph.devserver",
        "refgraph.cli",
        "refgraph.__main__",
        "refgraph",
    },
]

#: Imports from a lower layer to a higher one, allowed because they happen inside
#: a method, on demand: the network's persistence and database methods reach the
#: readers/writers and the Neo4j adapter through them.
SEAMS: dict[tuple[str, str], str] = {
    ("refgraph.network", "refgraph.io"): "save/load",
    ("refgraph.network", "refgraph.io.formats"): "to_graphml/to_gexf/to_csv",
    ("refgraph.network", "refgraph.backends.neo4j"): "to_neo4j/from_neo4j",
}

#: Private modules of the core, shared by the whole package (like osmnx's _errors).
CORE_PRIVATE = {m for m in LAYERS[0] if m.rsplit(".", 1)[1].startswith("_")}

#: Private imports across capabilities that are allowed, and why.
CROSS_PRIVATE: dict[tuple[str, str], str] = {
    ("refgraph.backends.neo4j", "refgraph.paths._intro"): (
        "the Yen pushdown prepares and finishes queries with the in-memory code, "
        "so both backends give the same answer"
    ),
}

MAX_LINES = 600


@dataclass(frozen=True)
class Import:
    source: str
    target: str  # a module of the package
    lazy: bool
    line: int
    name: str | None  # the imported name for ``from m import name``


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = [ROOT, *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _owner(name: str) -> str:
    """The module that ``name`` (a module or a module attribute) lives in."""
    while name not in MODULES:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(module: str) -> list[Import]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[Import] = []

    def add(target: str, lazy: bool, line: int, name: str | None) -> None:
        if target == ROOT or target.startswith(ROOT + "."):
            found.append(Import(module, _owner(target), lazy, line, name))

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other, lazy)
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    add(alias.name, lazy, child.lineno, None)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".")
                    if not _is_package(module):
                        base = base[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                for alias in child.names:
                    full = f"{target}.{alias.name}"
                    add(full if full in MODULES else target, lazy, child.lineno, alias.name)
            else:
                visit(child, lazy)

    visit(tree, False)
    return found


IMPORTS = [imp for module in sorted(MODULES) for imp in _imports(module)]


def _edges(imp: Import) -> list[str]:
    """Modules whose code runs when ``imp`` executes (parents first), the root excepted."""
    parts = imp.target.split(".")
    chain = [".".join(parts[:i]) for i in range(2, len(parts) + 1)]
    return [m for m in chain if m != imp.source and not imp.source.startswith(m + ".")]


def _layer(module: str) -> int:
    best, level = "", -1
    for i, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, i
    assert level >= 0, f"{module} is in no layer: add it to LAYERS in {__file__}"
    return level


def _capability(module: str) -> str:
    parts = module.split(".")
    if parts[1:2] == ["backends"] and len(parts) > 2:
        return ".".join(parts[:3])
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    comp = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        comp.append(top)
                        if top == node:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_graph_reader_sees_imports() -> None:
    # a check that could silently find nothing would prove nothing
    assert len(MODULES) > 40
    lazy = [i for i in IMPORTS if i.lazy]
    assert any(i.target == "refgraph.network" and not i.lazy for i in IMPORTS)
    assert any(i.source == "refgraph.network" and i.target == "refgraph.io" for i in lazy), (
        "the save seam should be seen as a lazy import"
    )
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for imp in IMPORTS:
        for target in _edges(imp):
            if (imp.source, target) not in SEAMS:
                graph[imp.source].add(target)
    assert _cycles(graph) == []


def test_layers_point_down() -> None:
    bad = []
    for imp in IMPORTS:
        for target in _edges(imp):
            if _layer(target) <= _layer(imp.source):
                continue
            if imp.lazy and (imp.source, target) in SEAMS:
                continue
            kind = "lazy" if imp.lazy else "module-level"
            bad.append(f"{imp.source}:{imp.line} imports {target} ({kind}, upward)")
    assert not bad, "\n".join(bad)


def test_seams_are_lazy_and_exist() -> None:
    for source, target in SEAMS:
        found = [i for i in IMPORTS if i.source == source and target in _edges(i)]
        assert found, f"seam {source} -> {target} no longer exists: remove it from SEAMS"
        assert all(i.lazy for i in found), f"{source} imports {target} at module level"


def test_no_private_imports_across_capabilities() -> None:
    bad = []
    for imp in IMPORTS:
        src_cap, dst_cap = _capability(imp.source), _capability(imp.target)
        if imp.target in CORE_PRIVATE or src_cap == dst_cap:
            continue
        private_module = any(p.startswith("_") for p in imp.target.split(".")[1:])
        private_name = imp.name is not None and imp.name.startswith("_") and imp.name[:2] != "__"
        allowed = any(
            imp.target == target and (imp.source == source or imp.source.startswith(source + "."))
            for source, target in CROSS_PRIVATE
        )
        if (private_module or private_name) and not allowed:
            bad.append(f"{imp.source}:{imp.line} imports {imp.target}.{imp.name or ''}")
    assert not bad, "\n".join(bad)


def test_modules_stay_small() -> None:
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    assert {m: n for m, n in sizes.items() if n > MAX_LINES} == {}


def test_neo4j_driver_only_in_backends() -> None:
    # the adapter and the dev server that tests it; no analysis module
    bad = []
    for module, path in MODULES.items():
        if module.startswith("refgraph.backends."):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            bad += [f"{module}:{node.lineno}" for n in names if n.split(".")[0] == "neo4j"]
    assert not bad, "\n".join(bad)


def test_importing_analyses_loads_no_driver_or_plotting() -> None:
    code = (
        "import sys, refgraph\n"
        "import refgraph.centrality, refgraph.community, refgraph.influence, refgraph.paths\n"
        "import refgraph.expansion, refgraph.geo, refgraph.tracking, refgraph.datasets\n"
        "import refgraph.plot, refgraph.backends, refgraph.sensitivity\n"
        "print(sorted(m for m in ('neo4j', 'matplotlib', 'networkit', 'sklearn', 'geopy')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
