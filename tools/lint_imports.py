"""The layers and the no-cycle rule, checked over the whole project: ``python tools/lint_imports.py``.

``lint-imports`` (import-linter) reads the contracts in pyproject.toml but
builds its graph with grimp, which only scans packages: Kassa's single-file
modules (``app``, ``worker``, ``scheduler``, ``config``, ``db``,
``services``, ``metrics`` ...) would be left out. This script builds the
graph of every project module, packages and single files alike, from their
source (every ``import``, those inside functions too, as grimp does), hands
it to import-linter for the contracts, and then looks for import cycles
between any two modules, which no import-linter contract covers across
packages. Exit status 0 when every contract is kept and there is no cycle
(``--contracts-only``: the contracts alone).
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
#: Directories that are not part of the application (run from outside it, or third-party).
NOT_PROJECT = frozenset({"tests", "bench", "migrations", "tools", "node_modules", "docs", "instance"})


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    text: str
    type_checking: bool


def project_modules(root: Path = ROOT) -> dict[str, Path]:
    """Every importable project module (dotted name -> file): top-level packages and single files."""
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if path.is_file() and path.suffix == ".py" and path.stem.isidentifier():
            found[path.stem] = path
        elif (path.is_dir() and path.name not in NOT_PROJECT and not path.name.startswith(".")
              and (path / "__init__.py").exists()):
            found.update(_package(path, path.name))
    return found


def _package(directory: Path, name: str) -> dict[str, Path]:
    found = {name: directory / "__init__.py"}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix == ".py" and path.stem != "__init__" and path.stem.isidentifier():
            found[f"{name}.{path.stem}"] = path
        elif path.is_dir() and (path / "__init__.py").exists():
            found.update(_package(path, f"{name}.{path.name}"))
    return found


def scan(name: str, path: Path, modules: set[str]) -> Iterator[Import]:
    """The project modules ``name`` imports, wherever in the file the import statement stands."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    guarded = _type_checking_lines(ast.parse(source))
    for node in ast.walk(ast.parse(source)):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            if base is None:
                continue
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        for target in targets:
            imported = _known(target, modules)
            if imported is not None and imported != name:
                yield Import(name, imported, node.lineno, lines[node.lineno - 1].strip(), node.lineno in guarded)


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if not node.level:
        return node.module
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        return None
    base = ".".join(parts[:len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _known(target: str, modules: set[str]) -> str | None:
    """``target`` or its nearest enclosing project module; None for third-party and standard modules."""
    while target:
        if target in modules:
            return target
        target = target.rpartition(".")[0]
    return None


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Line numbers of the statements under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                for sub in ast.walk(child):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def build_graph(root: Path = ROOT, *, exclude_type_checking_imports: bool = False) -> grimp.ImportGraph:
    """A grimp graph of every project module and the imports between them."""
    modules = project_modules(root)
    graph = grimp.ImportGraph()
    for name in modules:
        graph.add_module(name)
    for name, path in modules.items():
        for imp in scan(name, path, set(modules)):
            if not (exclude_type_checking_imports and imp.type_checking):
                graph.add_import(importer=imp.importer, imported=imp.imported, line_number=imp.line,
                                 line_contents=imp.text)
    return graph


def find_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every set of modules that import each other round a loop (strongly connected, two or more)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    # Tarjan's algorithm without recursion: (module, its successors still to visit)
    work: list[tuple[str, list[str]]] = []

    def enter(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        work.append((module, sorted(graph.find_modules_directly_imported_by(module))))

    for start in sorted(graph.modules):
        if start in index:
            continue
        enter(start)
        while work:
            module, successors = work[-1]
            if successors:
                nxt = successors.pop()
                if nxt not in index:
                    enter(nxt)
                elif nxt in on_stack:
                    low[module] = min(low[module], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return sorted(cycles)


def cycle_path(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """One loop through ``component``, as the modules it passes: a -> b -> ... -> a."""
    first = component[0]
    back = min((graph.find_shortest_chain(importer=m, imported=first) or () for m in
                graph.find_modules_directly_imported_by(first) if m in component), key=len, default=())
    return [first, *back]


def main(argv: list[str]) -> int:
    """Run the contracts, then (unless ``--contracts-only``) the cycle check; 0 when all hold."""
    from importlinter.application.app_config import settings
    from importlinter.cli import lint_imports
    from importlinter.configuration import configure

    class WholeProject:
        """import-linter's graph builder, given every module of the project (packages and single files)."""

        def build(self, root_package_names: list[str], cache_dir: str | None,
                  include_external_packages: bool = False,
                  exclude_type_checking_imports: bool = False) -> grimp.ImportGraph:
            return build_graph(exclude_type_checking_imports=exclude_type_checking_imports)

    configure()
    settings.configure(GRAPH_BUILDER=WholeProject())
    sys.path.insert(0, str(ROOT))
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_logo=True, no_cache=True) == 0
    if "--contracts-only" in argv:
        return 0 if kept else 1
    graph = build_graph(exclude_type_checking_imports=_excludes_type_checking())
    cycles = find_cycles(graph)
    for component in cycles:
        print(f"import cycle ({len(component)} modules): {' -> '.join(cycle_path(graph, component))}")
        print(f"    all of: {', '.join(component)}")
    if not cycles:
        print(f"No import cycle among {len(graph.modules)} modules.")
    return 0 if kept and not cycles else 1


def _excludes_type_checking() -> bool:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        options = tomllib.load(f).get("tool", {}).get("importlinter", {})
    return bool(options.get("exclude_type_checking_imports", False))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
