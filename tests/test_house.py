"""The house's limits (docs/design.md), held by tests: rooms of a readable size, names that say
which room they are in, short modules and functions, exit statuses and errors declared once."""

from __future__ import annotations

import ast
import re
from collections import Counter, defaultdict
from pathlib import Path

import timing_trainer

PACKAGE = Path(timing_trainer.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
SHARED_NAMES = {"__init__", "__main__", "cli", "errors"}  # a name every room may have


def _modules_in(folder: Path) -> list[Path]:
    return [p for p in folder.glob("*.py")]


def test_the_package_root_holds_at_most_twelve_modules():
    assert len(_modules_in(PACKAGE)) <= 12, sorted(p.name for p in _modules_in(PACKAGE))


def test_no_folder_holds_more_than_25_modules():
    sizes = {str(f.relative_to(PACKAGE)): len(_modules_in(f)) for f in {p.parent for p in SOURCES}}
    assert max(sizes.values()) <= 25, sizes


def test_no_module_name_in_more_than_two_folders():
    folders: dict[str, set[Path]] = defaultdict(set)
    for path in SOURCES:
        if path.stem not in SHARED_NAMES:
            folders[path.stem].add(path.parent)
    crowded = {name: sorted(str(f.relative_to(PACKAGE)) for f in where)
               for name, where in folders.items() if len(where) > 2}
    assert crowded == {}


def test_modules_and_functions_stay_short():
    long_modules = [str(p) for p in SOURCES if len(p.read_text().splitlines()) > 400]
    long_functions = [
        f"{p.relative_to(PACKAGE)}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for p in SOURCES for node in ast.walk(ast.parse(p.read_text()))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > 50
    ]
    assert long_modules == [] and long_functions == []


def test_every_exit_status_is_declared_once():
    """Exit statuses live in `runtime.exit_codes`; elsewhere no `EXIT_*` constant, no
    `128 + signal` and no bare status other than 0 returned from a command."""
    home = PACKAGE / "runtime" / "exit_codes.py"
    offenders = []
    for path in SOURCES:
        if path == home:
            continue
        text = path.read_text()
        if re.search(r"^\s*EXIT_\w+\s*=|128 \+", text, re.M):
            offenders.append(str(path.relative_to(PACKAGE)))
        if path.parent.name == "commands" and re.search(r"return (?:[1-9]\d*)\b", text):
            offenders.append(str(path.relative_to(PACKAGE)))
    assert offenders == []


def test_every_error_and_warning_class_is_declared_in_errors():
    declared = Counter()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and re.search(r"(Error|Warning|Unavailable)$",
                                                            node.name):
                declared[path.relative_to(PACKAGE).as_posix()] += 1
    assert set(declared) == {"errors.py"}, declared
