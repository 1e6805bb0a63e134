"""A sweep knows what it ran: a run's identity covers its whole command, a changed sweep is
refused in one line naming the change (`--force` runs it), and `analyze` reads one version.

Each case as a user meets it: `timing-trainer sweep` as a real process on a sweep file."""

from __future__ import annotations

import json
import warnings

import pytest
from helpers.sweep_cli import agent, records, sweep_file

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.errors import RunsDataWarning

COMMAND = ["${env}", "${interpreter}", "${program}", "${args}"]


def _received(runs, rec) -> list[str]:
    return json.loads((runs / rec["dir"] / "received.json").read_text())


def test_adding_an_argument_to_the_command_is_refused_then_forced(tmp_path, program):
    """Before: "4 finished earlier, 0 to run", exit 0, the old runs counted for the new command."""
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, COMMAND, a=[1, 2], b=["x", "y"])
    first = agent(file, runs)
    assert first.returncode == 0, first.stderr
    sweep_file(tmp_path, program, [*COMMAND[:3], "--max_steps=1", "${args}"], a=[1, 2], b=["x", "y"])

    refused = agent(file, runs)
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1, refused.stderr
    assert "command: added --max_steps=1" in lines[0] and "4 finished" in lines[0]
    assert "--force" in lines[0] and len(records(runs)) == 4  # nothing ran

    forced = agent(file, runs, "--force")
    assert forced.returncode == 0, forced.stderr
    assert "0 finished earlier, 4 to run" in forced.stderr
    new = [r for r in records(runs) if "--max_steps=1" in _received(runs, r)]
    assert len(new) == 4 and len(records(runs)) == 8
    again = agent(file, runs)  # the forced version is now the folder's own: no second refusal
    assert again.returncode == 0 and "4 finished earlier, 0 to run" in again.stderr


@pytest.mark.parametrize("change, named", [
    ({"a": [1, 2], "b": "z"}, "parameter b"),
    ({"a": [1], "b": "x"}, "parameter a: values [2] removed"),
])
def test_a_changed_constant_or_a_removed_value_is_named(tmp_path, program, change, named):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[1, 2], b="x")
    assert agent(file, runs).returncode == 0
    sweep_file(tmp_path, program, **change)
    refused = agent(file, runs)
    assert refused.returncode == 2 and named in refused.stderr, refused.stderr


def test_adding_a_grid_value_runs_only_the_new_runs(tmp_path, program):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[1, 2])
    assert agent(file, runs).returncode == 0
    sweep_file(tmp_path, program, a=[1, 2, 3])
    more = agent(file, runs)
    assert more.returncode == 0 and "2 finished earlier, 1 to run" in more.stderr, more.stderr


def test_analyze_reads_the_current_version_and_says_what_it_left_out(tmp_path, program):
    """Before: 8 runs for a sweep of 4, no warning."""
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[8, 16], b=["x", "y"], iters=3)
    assert agent(file, runs).returncode == 0
    sweep_file(tmp_path, program, a=[8, 16], b=["x", "y"], iters=2)
    assert agent(file, runs, "--force").returncode == 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs([runs])
    assert len(table) == 4
    said = [str(w.message) for w in caught if issubclass(w.category, RunsDataWarning)]
    assert any("2 versions" in s and "leaving out 4 run(s)" in s for s in said), said
    every = load_runs(sorted(str(p) for p in runs.iterdir() if p.is_dir()))
    assert len(every) == 8  # the run folders themselves: every version
    assert len(load_runs([runs], all_versions=True)) == 8  # analyze --all-versions


def test_version_is_recorded_in_records_and_state(tmp_path, program):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[1])
    assert agent(file, runs).returncode == 0
    state = json.loads((runs / "sweep_state.json").read_text())
    assert state["sweep_version"] == records(runs)[0]["sweep_version"]
    assert state["definition"]["parameters"] == {"a": {"values": [1]}}
