"""The local agent keeps its estimate current: each run's line, its record and the summary."""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

import pytest
from helpers.sweep_cli import agent, records, sweep_file

from timing_trainer.commands.main import main as cli_main
from timing_trainer.sweep.agent.books import check_record


@pytest.fixture
def fake_pilot(monkeypatch):
    """`timing_trainer.pilot.estimate.predict_run_walls` answering 10 s for every run (the
    real module where it exists, else a stand-in), and the calls it got."""
    calls = []

    def predict_run_walls(pilot_dir, sweep_path, only=None):
        calls.append((str(pilot_dir), str(sweep_path), only))
        return {0: 10.0, 1: 10.0, 2: 10.0}

    try:
        module = importlib.import_module("timing_trainer.pilot.estimate")
    except ModuleNotFoundError:
        package = types.ModuleType("timing_trainer.pilot")
        package.__path__ = []
        module = types.ModuleType("timing_trainer.pilot.estimate")
        monkeypatch.setitem(sys.modules, "timing_trainer.pilot", package)
        monkeypatch.setitem(sys.modules, "timing_trainer.pilot.estimate", module)
    monkeypatch.setattr(module, "predict_run_walls", predict_run_walls, raising=False)
    return calls


def test_without_a_pilot_each_run_is_judged_by_the_runs_before_it(tmp_path, program):
    file = sweep_file(tmp_path, program, a=[1, 2, 3])
    out = agent(file, tmp_path / "runs")
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert "eta: unknown (no pilot, no finished run yet) (3 runs left)" in lines
    first, second, third = records(tmp_path / "runs")
    assert first["predicted_wall_time"] is None and first["prediction_error"] is None
    assert first["prediction_basis"] == "no pilot, no finished run yet"
    assert second["predicted_wall_time"] == pytest.approx(first["wall_time"], abs=1e-3)
    assert second["prediction_basis"] == "mean of 1 finished run"
    assert second["prediction_error"] == pytest.approx(
        second["wall_time"] / second["predicted_wall_time"] - 1, abs=1e-3)
    assert third["predicted_wall_time"] == pytest.approx(
        (first["wall_time"] + second["wall_time"]) / 2, abs=1e-3)
    run_lines = [line for line in lines if line.startswith("[")]
    assert run_lines[0].endswith("remaining (2 runs left)")
    assert "; predicted " in run_lines[1] and run_lines[1].endswith("(1 run left)")
    assert any(line.startswith("predictions: median error ") and "over 2 finished runs; 1 had "
               "no prediction" in line for line in lines)
    for record in (first, second, third):
        check_record(record, Path("agent_record.json"))  # the books accept the new keys


def test_a_resumed_sweep_learns_from_the_runs_finished_earlier(tmp_path, program, capsys):
    file = sweep_file(tmp_path, program, a=[1, 2, 3])
    args = ["sweep", str(file), "--runs-dir", str(tmp_path / "runs"), "--no-progress",
            "--count", "1"]
    assert cli_main(args) == 0 and cli_main(args) == 0, capsys.readouterr().err
    first, second = records(tmp_path / "runs")
    assert second["predicted_wall_time"] == pytest.approx(first["wall_time"], abs=1e-3)


def test_a_pilot_gives_every_run_a_prediction_scaled_by_the_runs_that_finished(
        tmp_path, program, fake_pilot, capsys):
    file = sweep_file(tmp_path, program, a=[1, 2, 3])
    (tmp_path / "pilot").mkdir()
    code = cli_main(["sweep", str(file), "--runs-dir", str(tmp_path / "runs"),
                     "--no-progress", "--pilot", str(tmp_path / "pilot")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert fake_pilot == [(str(tmp_path / "pilot"), str(file), None)]
    assert "eta: 30s remaining (3 runs left)" in err.splitlines()  # before any run: the pilot
    first, second, _ = records(tmp_path / "runs")
    assert first["predicted_wall_time"] == 10.0 and first["prediction_basis"] == "pilot"
    assert first["prediction_error"] == pytest.approx(first["wall_time"] / 10.0 - 1, abs=1e-3)
    # the rest: 10 s x what the first run measured against its 10 s
    assert second["predicted_wall_time"] == pytest.approx(first["wall_time"], abs=2e-3)
    assert second["prediction_basis"].startswith("pilot x ")
    assert "predictions: median error " in err


@pytest.mark.parametrize("method", ["random", "grid"])
def test_a_pilot_that_cannot_be_used_is_one_line_and_exit_2(tmp_path, program, method):
    file = sweep_file(tmp_path, program, a=[1, 2])
    if method == "random":
        config = file.read_text().replace("method: grid", "method: random")
        file.write_text(config + "run_cap: 2\n")
    out = agent(file, tmp_path / "runs", "--pilot", str(tmp_path / "no-pilot"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "--pilot" in lines[0]
    assert ("only for grid sweeps" if method == "random" else "no such folder") in lines[0]
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("*/"))

