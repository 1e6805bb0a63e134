"""The import rules of the house (design.md, "A house that is easy to live in"), held by tests.

- No import cycle anywhere in `timing_trainer`, counting imports inside functions and under
  `TYPE_CHECKING` too: a cycle hidden in a function is still two modules that cannot be read,
  tested or moved apart.
- Sibling subpackages depend on each other one way only (the cost model reads the analysis's
  table; the analysis never reaches into the cost model).
- The analysis, the cost model, the sweeps and the CLI load neither torch nor transformers (nor
  wandb, imported lazily where it is used), and the analysis and `predict` run where torch and
  transformers cannot be imported at all (accelerate's `test_imports.py` style: a subprocess says
  what it loaded).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import timing_trainer
from timing_trainer.testing.runs import write_run_folders

PACKAGE = Path(timing_trainer.__file__).parent
HEAVY = ("torch", "transformers", "wandb")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imported(node: ast.AST) -> list[str]:
    """The project modules one import statement loads (`from P import m` loads the submodule
    P.m where m is one; a plain name comes from P itself)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name in MODULES]
    if not isinstance(node, ast.ImportFrom) or node.level or node.module not in MODULES:
        return []
    submodules = [f"{node.module}.{a.name}" for a in node.names]
    found = [name for name in submodules if name in MODULES]
    return found + ([node.module] if len(found) < len(submodules) else [])


def import_graph() -> dict[str, set[str]]:
    return {name: {target for node in ast.walk(ast.parse(path.read_text()))
                   for target in _imported(node) if target != name}
            for name, path in MODULES.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path that returns to its start, or None (depth-first search)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def room(module: str, depth: int = 1) -> str | None:
    """The folder `module` lives in, `depth` levels below the package (None at the root of
    that level): `timing_trainer.analysis.stats.anova` is in room `analysis` at depth 1 and
    `analysis.stats` at depth 2."""
    parts = module.split(".")[1:]
    if MODULES[module].name != "__init__.py":
        parts = parts[:-1]
    return ".".join(parts[:depth]) if len(parts) >= depth else None


def package_graph(graph: dict[str, set[str]], depth: int = 1) -> dict[str, set[str]]:
    """Which rooms import which, at one depth (within the same parent room)."""
    packages: dict[str, set[str]] = {}
    for source, targets in graph.items():
        if (here := room(source, depth)) is None:
            continue
        parent = here.rpartition(".")[0]
        there = {r for t in targets if (r := room(t, depth)) and r.rpartition(".")[0] == parent}
        packages.setdefault(here, set()).update(there - {here})
    return packages


def test_find_cycle_finds_one_and_only_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_is_read_from_the_sources():
    graph = import_graph()
    assert "timing_trainer.trainer" in graph and "timing_trainer.analysis.table.load" in graph
    assert "timing_trainer.analysis.table.load" in graph["timing_trainer.commands.predict"]


def test_no_import_cycle_anywhere():
    assert find_cycle(import_graph()) is None


def test_sibling_packages_depend_one_way():
    packages = package_graph(import_graph())
    assert "analysis" in packages["costmodel"]
    assert find_cycle(packages) is None, packages


def test_the_wings_of_a_package_depend_one_way():
    """analysis: table <- stats <- report; sweep: config <- agent."""
    rooms = package_graph(import_graph(), depth=2)
    assert "analysis.table" in rooms["analysis.stats"] and "sweep.config" in rooms["sweep.agent"]
    assert find_cycle(rooms) is None, rooms


def test_nothing_in_the_package_imports_its_test_generators():
    graph = import_graph()
    users = {m for m, targets in graph.items() if not m.startswith("timing_trainer.testing")
             and any(t.startswith("timing_trainer.testing") for t in targets)}
    assert users == set()


def _run(code: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=cwd, timeout=300, env={**os.environ, "MPLBACKEND": "Agg"})


def test_the_torch_free_floors_load_no_heavy_library():
    code = (
        "import sys\n"
        "import timing_trainer, timing_trainer.analysis, timing_trainer.costmodel\n"
        "import timing_trainer.sweep, timing_trainer.commands.main, timing_trainer.results.schema\n"
        "from timing_trainer.commands.main import build_parser\n"
        "build_parser()\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""


@pytest.mark.slow
def test_analysis_and_predict_run_where_torch_cannot_be_imported(tmp_path):
    """A laptop with pandas alone: torch and transformers made unimportable, then the real
    commands."""
    runs = write_run_folders(tmp_path / "runs", 40, seed=5)
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in ('torch', 'transformers'):\n"
        "            raise ImportError(f'{name} is not installed here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from timing_trainer.commands.main import main\n"
        f"assert main(['analyze', {str(runs)!r}, '--out', 'report', '--no-plots']) == 0\n"
        f"assert main(['predict', '--runs', {str(runs)!r}, '--cv', 'kfold', '--k', '3']) == 0\n"
    )
    out = _run(code, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "report" / "report.md").is_file()
    assert "median" in out.stdout.lower()
