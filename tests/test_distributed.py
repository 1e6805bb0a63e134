"""Collectives as no-ops in one process; a real two-process CPU DDP run (gloo, torchrun)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer import distributed
from timing_trainer.schema import RESULTS_FILENAME, validate_results

SCRIPT = Path(__file__).parent / "scripts" / "core_ddp_run.py"


def test_single_process_collectives_are_no_ops():
    assert not distributed.is_distributed()
    assert distributed.world_size() == 1
    assert distributed.is_rank_zero()
    distributed.barrier()
    assert distributed.max_across_ranks(1.5) == 1.5
    assert distributed.sum_across_ranks(2) == 2.0


@pytest.mark.slow
def test_two_process_ddp_reports_the_slower_rank_once(tmp_path):
    sleep_seconds = 0.25
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
               "2", str(SCRIPT), str(tmp_path / "out"), str(sleep_seconds)]
    # Own process group: on a timeout the workers go too, not only torchrun.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail("the DDP run did not finish in 180 s:\n" + out[-2000:] + err[-2000:])
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    assert out.count("DONE rank=") == 2
    # From rank 0 only: `running` at train()'s start and after it, after evaluate(), and
    # `finished` from the exit fallback.
    assert out.count("SAVED rank=0") == 4 and "SAVED rank=1" not in out
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert data["status"] == "finished"
    assert data["config"]["world_size"] == 2
    steps = data["train_steps"]
    assert steps == 3  # 24 samples, 2 ranks x batch 4
    # Rank 1 slept after every optimizer step: every iteration's time includes all of it.
    for seconds in data["finetuning_time_list"]:
        assert seconds >= steps * sleep_seconds
    assert data["train_samples_per_second"] == pytest.approx(24 / data["finetuning_time"])
    assert len(data["evaluations"]) == 1
