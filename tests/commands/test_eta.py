"""`timing-trainer eta RUNS_DIR --sweep SWEEP`: a sweep in progress, from the runs it left."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from helpers.sweep_cli import PROGRAM, agent, cli, records, sweep_file

from timing_trainer.commands.eta import run_works
from timing_trainer.commands.main import main as cli_main
from timing_trainer.sweep.config.runs import expand_runs

SWEEP = {
    "name": "eta-grid", "method": "grid",
    "command": ["${interpreter}", "-m", "timing_trainer.glue", "--do_train", "${args}"],
    "parameters": {
        "task_name": {"value": "rte"},
        "model_name_or_path": {"values": ["google-bert/bert-base-uncased",
                                          "distilbert/distilbert-base-uncased"]},
        "max_seq_length": {"values": [64, 128]},
        "per_device_train_batch_size": {"value": 8},
        "num_train_epochs": {"value": 1},
        "finetuning_iters": {"value": 2},
    },
}
FIXED, RATE = 5.0, 0.02  # the synthetic runs' wall time: 5 s + 0.02 s per TFLOP of work


@pytest.fixture
def program(tmp_path: Path) -> Path:
    """The small program the local agent's sweeps run (helpers.sweep_cli)."""
    path = tmp_path / "program.py"
    path.write_text(PROGRAM)
    return path


def _results(params: dict, wall_on_clock: float, minute: int, **config) -> dict:
    """A `wandb agent` run's results file: the program's arguments in its config (the model as
    the resolved path a run may record), 5 s of setup parts, the rest on the clock."""
    return {"status": "finished", "created_at": f"2026-11-26T10:{minute:02d}:00Z",
            "config": {**params, "model_name_or_path": "/cache/hub/" + params[
                "model_name_or_path"], "task_name": "RTE".lower(), **config},
            "finetuning_time_list": [wall_on_clock / 2, wall_on_clock / 2],
            "setup_time_parts": {"startup": 2.0, "model_load": 3.0}}


@pytest.fixture
def wandb_runs(tmp_path):
    """Three of the sweep's four runs finished, in folders `wandb agent` runs leave, wall times
    exactly linear in their work; one results file of another sweep."""
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    plan = expand_runs(SWEEP)
    works = run_works(plan, tmp_path)
    assert all(works) and len(set(works[:3])) == 3
    for index in range(3):
        folder = tmp_path / "runs" / f"wandb-run-{index}"
        folder.mkdir(parents=True)
        result = _results(plan[index], RATE * works[index], index)
        (folder / "timing_results.json").write_text(json.dumps(result))
    other = tmp_path / "runs" / "other" / "timing_results.json"
    other.parent.mkdir()
    other.write_text(json.dumps(_results(plan[0], 1.0, 9, max_seq_length=256)))
    return file, tmp_path / "runs", works


def test_eta_on_wandb_agent_folders_fits_the_finished_runs(wandb_runs, capsys):
    file, runs, works = wandb_runs
    assert cli_main(["eta", str(runs), "--sweep", str(file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["n_runs"], report["finished"], report["runs_left"]) == (4, 3, 1)
    assert report["remaining_s"] == pytest.approx(FIXED + RATE * works[3], rel=1e-3)
    entries = report["runs"]
    assert [e["index"] for e in entries] == [0, 1, 2]
    assert entries[0]["wall_s"] == pytest.approx(FIXED + RATE * works[0], rel=1e-3)
    assert entries[0]["wall_source"].startswith("approximate")
    assert entries[0]["predicted_wall_s"] is None  # nothing before it
    assert entries[1]["prediction_basis"] == "mean of 1 finished run"
    assert entries[2]["prediction_error"] == pytest.approx(0.0, abs=1e-3)  # the fit is exact
    assert report["unmatched"] == [{"name": "other",
                                    "why": "its config matches no run of this sweep"}]


def test_eta_prints_the_remaining_time_and_the_runs_against_their_predictions(wandb_runs,
                                                                            capsys):
    file, runs, works = wandb_runs
    assert cli_main(["eta", str(runs), "--sweep", str(file), "--workers", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "sweep eta-grid: 4 runs; 3 finished, 0 running"
    assert out[1].startswith("eta: ") and out[1].endswith("(1 run left on 2 workers)")
    assert any("are approximate" in line for line in out)
    assert any(line.strip().startswith("wandb-run-2") and line.endswith("+0%") for line in out)
    assert "1 run(s) in the folder match no run of the sweep" in out[-1]


def test_only_narrows_the_runs_left(wandb_runs, capsys):
    file, runs, works = wandb_runs
    args = ["eta", str(runs), "--sweep", str(file), "--json", "--only", "max_seq_length=64"]
    assert cli_main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_runs"] == 2 and report["runs_left"] == 0
    assert len(report["runs"]) == 3  # every finished run of the sweep still teaches the fit


def test_eta_on_a_local_agents_runs_folder_reads_the_records(tmp_path, program, capsys):
    file = sweep_file(tmp_path, program, a=[1, 2, 3, 4])
    assert agent(file, tmp_path / "runs", "--count", "2").returncode == 0
    walls = [r["wall_time"] for r in records(tmp_path / "runs")]
    assert cli_main(["eta", str(tmp_path / "runs"), "--sweep", str(file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["finished"], report["runs_left"]) == (2, 2)
    assert report["remaining_s"] == pytest.approx(2 * sum(walls) / 2, abs=2e-3)
    assert {e["wall_source"] for e in report["runs"]} == {"agent record"}
    assert [e["wall_s"] for e in report["runs"]] == pytest.approx(walls, abs=1e-3)


@pytest.mark.parametrize("case", ["no folder", "workers", "bayes", "random", "pilot", "only"])
def test_bad_input_is_one_line_and_exit_2(tmp_path, program, case):
    file = sweep_file(tmp_path, program, a=[1, 2])
    runs = tmp_path / "runs"
    runs.mkdir()
    args = ["eta", str(runs), "--sweep", str(file)]
    expected = {"no folder": "no such folder", "workers": "--workers must be at least 1",
                "bayes": "runs are drawn as it goes", "random": "runs are drawn as it goes",
                "pilot": "--pilot", "only": "--only"}[case]
    if case == "no folder":
        args[1] = str(tmp_path / "missing")
    elif case == "workers":
        args += ["--workers", "0"]
    elif case in ("bayes", "random"):
        text = file.read_text().replace("method: grid", f"method: {case}")
        file.write_text(text + "run_cap: 2\nmetric: {name: score, goal: maximize}\n")
    elif case == "pilot":
        args += ["--pilot", str(tmp_path / "missing")]
    else:
        args += ["--only", "a=7"]
    out = cli(*args, cwd=tmp_path)
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timing-trainer eta: error:")
    assert expected in lines[0] and out.stdout == ""
    assert Path(tmp_path).is_dir()


def test_a_running_runs_elapsed_time_counts_against_its_prediction(wandb_runs, capsys):
    file, runs, works = wandb_runs
    plan = expand_runs(SWEEP)
    started = datetime.now(timezone.utc) - timedelta(seconds=3)
    running = {"status": "running", "created_at": started.isoformat(), "config": plan[3]}
    (runs / "wandb-run-3").mkdir()
    (runs / "wandb-run-3" / "timing_results.json").write_text(json.dumps(running))
    assert cli_main(["eta", str(runs), "--sweep", str(file), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["running"], report["runs_left"]) == (1, 1)
    assert report["remaining_s"] == pytest.approx(FIXED + RATE * works[3] - 3.0, abs=1.0)
