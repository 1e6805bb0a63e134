"""The README and docs/ as a user meets them: a short README, links that lead somewhere, a quick
start whose two commands set a fresh machine up, and commands whose subcommands and flags exist."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer.commands.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```(\w*)\n(.*?)```", flags=re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", text, flags=re.M):
        slug = _slug(heading)
        found.add(f"{slug}-{counts[slug]}" if slug in counts else slug)
        counts[slug] = counts.get(slug, 0) + 1
    return found


def _relative_links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def _commands(page: Path) -> list[list[str]]:
    """The shell commands of a page's bash blocks, continuation lines joined, comments dropped."""
    commands = []
    for language, code in FENCE.findall(page.read_text(encoding="utf-8")):
        if language == "bash":
            for line in code.replace("\\\n", " ").splitlines():
                words = shlex.split(line, comments=True)
                if words:
                    commands.append(words)
    return commands


def test_the_readme_is_under_10_kb_and_docs_hold_the_reference():
    assert len(README.read_bytes()) < 10 * 1024
    assert "<!-- section:" not in README.read_text(encoding="utf-8")
    reference = {page.name for page in DOCS.glob("*.md")} - {"README.md"}
    assert len(reference) >= 8
    index_links = {link.split("#")[0] for link in _relative_links(DOCS / "README.md")}
    assert reference <= index_links, reference - index_links


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    links = _relative_links(page)
    assert links, f"{page.name} links nowhere"
    broken = []
    for target in links:
        file, _, anchor = target.partition("#")
        destination = (page.parent / file).resolve() if file else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == []


def test_the_quick_start_is_two_make_commands_that_ci_and_the_makefile_agree_on(pytestconfig):
    quick_start = _commands(README)[:2]
    assert quick_start == [["make", "demo"], ["make", "test"]]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("install", "demo", "test", "test-fast"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    assert re.search(r'^\t\$\(PYTHON\) -m pytest -q -n auto -m "not slow"$', makefile, flags=re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "make test" in ci
    assert any(marker.startswith("slow:") for marker in pytestconfig.getini("markers"))


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
@pytest.mark.parametrize("target", ["demo", "test", "test-fast"])
def test_make_installs_only_where_the_package_is_missing(tmp_path, target):
    """`make -n` still runs the recipe line that decides (it names $(MAKE)): a Python without
    the package would install it first, this one (installed) goes straight to the command."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")],
                   check=True, timeout=120)
    bare = tmp_path / "bare" / "bin" / "python"

    env = {key: value for key, value in os.environ.items()  # not a sub-make of `make test`
           if key not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}

    def dry_run(python) -> str:
        return subprocess.run(["make", "-n", target, f"PYTHON={python}"], cwd=ROOT, env=env,
                              check=True, capture_output=True, text=True, timeout=60).stdout

    fresh, installed = dry_run(bare), dry_run(sys.executable)
    assert f"{bare} -m pip install torch==2.13.0" in fresh
    assert f'{bare} -m pip install -e ".[test,trl,lora]"' in fresh
    assert "pip install" not in installed
    command = "-m timing_trainer demo" if target == "demo" else "-m pytest -q -n auto"
    assert command in fresh.splitlines()[-1] and command in installed.splitlines()[-1]


def _subcommands(parser) -> dict:
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            return action.choices
    return {}


def _unknown_flags(words: list[str], parser) -> list[str]:
    """The `--flags` of one documented command that its (sub)command does not take; `run` stops
    at the script, whose flags are its own."""
    unknown, path = [], ["timing-trainer"]
    for word in words[1:]:
        choices = _subcommands(parser)
        if word in choices:
            parser, path = choices[word], [*path, word]
        elif word.startswith("--"):
            if word.split("=")[0] not in parser._option_string_actions:
                unknown.append(f"{' '.join(path)} {word}")
        elif path[-1] == "run" and word.endswith(".py"):
            break
    return unknown


def test_every_documented_timing_trainer_command_exists():
    parser = build_parser()
    documented = [(page.name, words) for page in PAGES for words in _commands(page)
                  if words[0] == "timing-trainer"]
    assert len(documented) >= 20
    problems = [f"{name}: {' '.join(words)}: {'; '.join(unknown)}"
                for name, words in documented
                if (unknown := _unknown_flags(words, parser))
                or words[1] not in _subcommands(parser)]
    assert problems == []
