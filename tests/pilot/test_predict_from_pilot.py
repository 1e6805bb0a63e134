"""`timing-trainer predict --runs PILOT --sweep SWEEP`: the sweep priced from the pilot's slices
through the command line, as `estimate_from_pilot` prices it; what a pilot does not take is one
line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer.pilot import estimate_from_pilot

RUN = {"task_name": "rte", "model_name_or_path": "m", "max_seq_length": 64,
       "per_device_train_batch_size": 8, "data_dir": "data", "num_train_epochs": 2,
       "finetuning_iters": 2}


def predict(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "timing_trainer", "predict", *argv], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def piloted(workdir, kit):
    pilot = workdir / "pilot"
    kit.fake_slice(pilot, "000-a", {**RUN, "max_steps": 10}, workdir)
    kit.fake_manifest(pilot, workdir)
    return pilot, kit.write_sweep(workdir / "s.yaml", **{**RUN, "num_train_epochs": [2, 4]})


def test_predict_prices_the_sweep_from_the_slices_in_wall_time(piloted, tmp_path):
    pilot, sweep = piloted
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = predict("--runs", str(pilot), "--sweep", str(sweep), "--json", cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got == json.loads(json.dumps(estimate_from_pilot(pilot, sweep).to_dict()))
    assert got["n_from_slices"] == 2 and got["wall_total_s"] > got["total_s"] > 0
    fine = [run["finetuning_s"] for run in got["runs"]]
    assert fine[1] == pytest.approx(2 * fine[0])  # twice the epochs
    text = predict("--runs", str(pilot), "--sweep", str(sweep), cwd=elsewhere)
    assert text.returncode == 0 and "pilot slice" in text.stdout


@pytest.mark.parametrize("option", [["--price-per-hour", "2"], ["--kind", "inference"],
                                    ["--force"]])
def test_what_a_pilot_does_not_take_is_one_line_and_exit_2(piloted, option):
    pilot, sweep = piloted
    proc = predict("--runs", str(pilot), "--sweep", str(sweep), *option, cwd=pilot.parent)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option[0] in lines[0] and "pilot" in lines[0]
