"""`timing-trainer pilot` as a user meets it: a real process. Bad input is one line and exit 2
before any slice runs; a pilot under a tiny budget runs one slice of the real program on a tiny
model and says, in pilot.json and on stdout, which shapes it left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer.commands.main import main
from timing_trainer.glue.demo_assets import write_demo_assets

REPO = Path(__file__).resolve().parents[2]


def pilot(*argv: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "timing_trainer", "pilot", *argv], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


def _one_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timing-trainer pilot: error: "), proc.stderr
    return lines[0]


BAD_INPUT = [
    (["missing.yaml"], "no such sweep file"),
    (["s.yaml", "--only", "max_seq_length"], "--only expects NAME=VALUE"),
    (["s.yaml", "--only", "nope=1"], "the sweep has no parameter 'nope'"),
    (["s.yaml", "--only", "max_seq_length=999"], "no runs left after --only max_seq_length=999"),
    (["s.yaml", "--budget-minutes", "0"], "give a number of minutes above 0"),
    (["s.yaml", "--budget-minutes", "-2"], "give a number of minutes above 0"),
    (["s.yaml", "--count", "0"], "--count must be at least 1"),
    (["bad-data.yaml"], "no such folder"),
]


@pytest.fixture
def sweeps(tmp_path, kit):
    kit.rte_folder(tmp_path / "data", 16, 8)
    kit.write_sweep(tmp_path / "s.yaml", task_name="rte", model_name_or_path="m",
                    data_dir="data", max_seq_length=[32, 64])
    kit.write_sweep(tmp_path / "bad-data.yaml", task_name="rte", model_name_or_path="m",
                    data_dir="nowhere")
    return tmp_path


@pytest.mark.parametrize(("args", "words"), [BAD_INPUT[0], BAD_INPUT[4]])
def test_bad_input_is_one_line_and_exit_2_from_the_command_line(sweeps, args, words):
    proc = pilot(*args, "--out", "p", cwd=sweeps)
    assert words in _one_line(proc)
    assert not (sweeps / "p").exists()  # nothing ran, nothing was written


@pytest.mark.parametrize(("args", "words"), BAD_INPUT)
def test_bad_input_is_refused_before_anything_runs(sweeps, monkeypatch, capsys, args, words):
    """Every refusal, through the command line's entry point in this process (fast)."""
    monkeypatch.chdir(sweeps)
    assert main(["pilot", *args, "--out", "p"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timing-trainer pilot: error: ")
    assert words in lines[0]
    assert not (sweeps / "p").exists()


@pytest.mark.slow
def test_a_pilot_under_a_tiny_budget_runs_one_slice_and_says_what_it_left_out(tmp_path, kit):
    """Two tiny models x two batch sizes: the first slice runs (a real GLUE process), the budget
    (a second) is then spent, and the other three shapes are left out, each with the reason."""
    write_demo_assets(tmp_path / "assets", tasks=["rte"], train_size=24, dev_size=8)
    kit.write_sweep(tmp_path / "s.yaml", task_name="rte", data_dir="assets",
                    model_name_or_path=["assets/models/tiny-cased", "assets/models/tiny-uncased"],
                    max_seq_length=32, per_device_train_batch_size=[8, 12], num_train_epochs=1,
                    finetuning_iters=2, tokenization_cache_dir="cache")
    proc = pilot("s.yaml", "--out", "p", "--budget-minutes", "0.02", "--wandb", "disabled",
                 cwd=tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    books = json.loads((tmp_path / "p" / "pilot.json").read_text())
    assert books["status"] == "budget spent"
    measured = [s for s in books["shapes"] if s["slice"]]
    assert len(measured) == 1 and measured[0]["overrides"]["max_steps"] == 3  # 24 rows / 8
    assert [item["runs"] for item in books["left_out"]] == [[1], [2], [3]]
    assert all(item["why"].startswith("budget: ") for item in books["left_out"])
    run_dir = tmp_path / "p" / measured[0]["slice"]
    record = json.loads((run_dir / "agent_record.json").read_text())
    results = json.loads((run_dir / "timing_results.json").read_text())
    assert record["pilot"]["runs"] == [0] and results["config"]["pilot_slice"] is True
    assert len(results["finetuning_time_list"]) == 2 and results["train_steps"] == 3
    assert "[1/4] tiny-cased L=32 b=8 eb=8 fp32: finished in " in proc.stderr
    assert "left out (budget: " in proc.stderr
    assert "left out by the pilot: tiny-uncased L=32 b=8 eb=8 fp32 (runs 2): budget: " \
        in proc.stdout
    assert "1 of 4 runs from pilot slices" in proc.stdout
