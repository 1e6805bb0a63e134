"""The command line's one entry point: every subcommand registered, and the libraries' errors
mapped to one line and exit status 2 in one place (`timing_trainer.commands.main.main`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from helpers.costmodel_runs import predict, write_run_folders

from timing_trainer.commands.main import build_parser
from timing_trainer.errors import (
    CliError,
    CostModelError,
    NoEnergyError,
    RunsLoadError,
    TimingTrainerError,
)
from timing_trainer.testing.costs import synthetic_runs

COMMANDS = ["demo", "demo-assets", "sweep", "sweeps", "analyze", "thesis-data", "predict", "run",
            "glue-stats", "eta", "pilot"]


def one_error_line(proc: subprocess.CompletedProcess, command: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"timing-trainer {command}: error: ")
    return lines[0]


def test_every_subcommand_is_registered_in_help_order():
    subparsers = next(a for a in build_parser()._actions if a.dest == "command")
    assert list(subparsers.choices) == COMMANDS


@pytest.mark.parametrize("error", [RunsLoadError, NoEnergyError, CostModelError])
def test_library_errors_are_their_own_and_mapped_by_main(error):
    """The analysis and the cost model raise `ValueError`s of their own, no command line's;
    `main` maps them with `CliError` to one line and exit 2, through their one base."""
    assert issubclass(error, ValueError) and not issubclass(error, CliError)
    assert issubclass(error, TimingTrainerError) and issubclass(CliError, TimingTrainerError)


def test_a_cost_model_error_from_deep_in_the_library_is_one_line(tmp_path):
    # Raised by `validation.cross_validate` (one task: nothing to leave out), not by the CLI.
    runs = synthetic_runs(noise=0.05, seed=1, tasks=("rte",)).head(12)
    root = write_run_folders(tmp_path / "runs", runs)
    line = one_error_line(predict("--runs", str(root), "--cv", "leave-one-task-out"), "predict")
    assert "leave-one-task-out needs at least two groups" in line


def test_an_analysis_load_error_is_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze",
                           str(tmp_path / "nothing"), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert "no such file or folder" in one_error_line(proc, "analyze")


@pytest.mark.parametrize("command", [
    ["sweep", os.path.join(os.path.dirname(__file__), "..", "..", "sweeps",
                           "sweep_rte_cased.yaml"), "--dry-run"],
    ["analyze", "--help"],  # argparse's own printing, before any subcommand runs
])
def test_a_reader_that_goes_away_changes_nothing(command):
    """`timing-trainer ... | head`: the pipe closes before the output is written; the command
    goes on to its end and exits with its own status (0), with no traceback (printing never
    changes an outcome; before, the dry run stopped at its first line with 141)."""
    proc = subprocess.Popen([sys.executable, "-m", "timing_trainer", *command],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before the program has imported anything, let alone written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr
