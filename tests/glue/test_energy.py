"""Energy through the GLUE program as a real subprocess: a fake GPU (via a `sitecustomize` on
PYTHONPATH) and a live fake RAPL tree (via TIMING_TRAINER_RAPL_ROOT) in the child process."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers.child import child_env
from helpers.energy_standins import LiveRapl, python_path_with, sitecustomize_for

from timing_trainer.energy import rapl
from timing_trainer.glue.demo_assets import write_demo_assets
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

pytestmark = pytest.mark.slow
GPU_WATTS, CPU_WATTS = 200.0, 30.0
SLACK_S = 0.05  # preemption between a clock read and an energy read; no speed is asserted


def test_glue_program_records_energy_with_stand_in_counters(tmp_path):
    assets = write_demo_assets(tmp_path / "demo", tasks=["rte"], train_size=16, dev_size=8)
    out = tmp_path / "run"
    site = sitecustomize_for(tmp_path / "site", GPU_WATTS)
    argv = [
        "--task_name=rte", f"--model_name_or_path={assets / 'models' / 'tiny-uncased'}",
        f"--data_dir={assets}", f"--output_dir={out}",
        f"--tokenization_cache_dir={tmp_path / 'cache'}", "--max_seq_length=32",
        "--per_device_train_batch_size=8", "--per_device_eval_batch_size=4",
        "--num_train_epochs=1", "--finetuning_iters=2", "--report_to=none",
        "--disable_tqdm=True", "--use_cpu=True", "--no_pad_to_max_length",
    ]
    with LiveRapl(tmp_path / "powercap", CPU_WATTS) as live:
        env = child_env(PYTHONPATH=python_path_with(site), **{rapl.ROOT_ENV: str(live.root)})
        proc = subprocess.run([sys.executable, "-m", "timing_trainer.glue", *argv],
                              capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert data["status"] == "finished" and data["energy_source"] == "nvml+rapl"
    watts = GPU_WATTS + CPU_WATTS
    assert len(data["finetuning_energy_j_list"]) == len(data["finetuning_time_list"]) == 2
    for seconds, joules in zip(data["finetuning_time_list"], data["finetuning_energy_j_list"]):
        assert joules == pytest.approx(watts * seconds, abs=watts * SLACK_S)
    fastest = data["finetuning_time_list"].index(data["finetuning_time"])
    assert data["finetuning_energy_j"] == data["finetuning_energy_j_list"][fastest]
    assert data["inference_energy_j"] == pytest.approx(watts * data["inference_total_time"],
                                                       abs=watts * SLACK_S)
    assert data["inference_energy_per_sample_j"] == pytest.approx(data["inference_energy_j"] / 8)
    assert not any("energy" in key for key in data["unavailable"])
    assert "J (nvml+rapl)" in proc.stdout.splitlines()[-1]  # the program's summary line
