"""The layers of issue #11 and no import cycle: the import-linter contracts in pyproject.toml,
run over every project module (tools/lint_imports.py), in the test command."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import lint_imports  # noqa: E402

#: Import cycles left today, each inside one package and owned by whoever restructures it
#: (channels/ is being replaced by providers/). Delete a line when its cycle is gone: the test
#: fails on any cycle not listed here, and on a listed one that no longer exists.
KNOWN_CYCLES: list[list[str]] = []


def test_the_layer_contracts_hold() -> None:
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "lint_imports.py"), "--contracts-only"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 1 kept, 0 broken." in run.stdout


def test_lint_imports_alone_keeps_them_too() -> None:
    """``lint-imports`` as installed (grimp's graph: packages only) reads the same contracts."""
    run = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 1 kept, 0 broken." in run.stdout


def test_no_import_cycle_but_the_known_ones() -> None:
    graph = lint_imports.build_graph(exclude_type_checking_imports=lint_imports._excludes_type_checking())
    found = lint_imports.find_cycles(graph)
    loops = {" -> ".join(lint_imports.cycle_path(graph, c)) for c in found if c not in KNOWN_CYCLES}
    assert not loops, f"new import cycles: {sorted(loops)}"
    assert found == KNOWN_CYCLES  # a cycle fixed: delete its line from KNOWN_CYCLES


def test_the_graph_holds_single_file_modules_and_imports_inside_functions() -> None:
    graph = lint_imports.build_graph()
    assert {"worker", "scheduler", "app", "config", "db", "services", "jobs.sms", "ledger.books"} <= graph.modules
    assert "tests.smskit" not in graph.modules and not any(m.startswith("bench") for m in graph.modules)
    assert graph.direct_import_exists(importer="worker", imported="jobs")  # a top-of-file import
    assert graph.direct_import_exists(importer="worker", imported="scheduler")  # one inside a function


def test_only_the_entry_points_import_the_worker_the_scheduler_or_the_jobs() -> None:
    graph = lint_imports.build_graph()
    entry = {"worker", "scheduler", "jobs"}
    importers = {(m, t) for m in graph.modules for t in graph.find_modules_directly_imported_by(m)
                 if t.split(".")[0] in entry and m.split(".")[0] not in entry}
    assert {m for m, _ in importers} <= {"cli.broadcast"}, importers  # the CLI runs a fan-out inline


def test_the_cycle_check_finds_a_loop_and_names_it(tmp_path: Path) -> None:
    for name, body in {"a.py": "import b\n", "b.py": "def f():\n    from c import x\n",
                       "c.py": "import a\nx = 1\n", "d.py": "import a\n"}.items():
        (tmp_path / name).write_text(body)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from pkg import inner\n")
    (tmp_path / "pkg" / "inner.py").write_text("from . import other\n")
    (tmp_path / "pkg" / "other.py").write_text("import pkg\n")
    graph = lint_imports.build_graph(tmp_path)
    cycles = lint_imports.find_cycles(graph)
    assert cycles == [["a", "b", "c"], ["pkg", "pkg.inner", "pkg.other"]]
    assert lint_imports.cycle_path(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_imports_for_annotations_only_can_be_left_out(tmp_path: Path) -> None:
    (tmp_path / "low.py").write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from high import Thing
    """))
    (tmp_path / "high.py").write_text("import low\nclass Thing: ...\n")
    assert lint_imports.find_cycles(lint_imports.build_graph(tmp_path)) == [["high", "low"]]
    assert lint_imports.find_cycles(lint_imports.build_graph(tmp_path, exclude_type_checking_imports=True)) == []


def test_a_layer_broken_is_reported(tmp_path: Path) -> None:
    """The layers contract, fed this script's graph, refuses an import from a lower layer upwards."""
    from importlinter.contracts.layers import LayersContract

    (tmp_path / "top.py").write_text("import bottom\n")
    (tmp_path / "bottom.py").write_text("def f():\n    import top\n")
    graph = lint_imports.build_graph(tmp_path)
    contract = LayersContract(name="t", session_options={"root_packages": []},
                              contract_options={"layers": ["(top)", "(bottom)"]})
    assert not contract.check(graph, verbose=False).kept
    assert isinstance(graph, grimp.ImportGraph)
