"""Collectives as no-ops in one process; a real two-process CPU DDP run (gloo, torchrun)."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.energy_standins import LiveRapl

from timing_trainer.energy import rapl
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results
from timing_trainer.runtime import distributed

SCRIPT = Path(__file__).parents[1] / "scripts" / "ddp_run.py"


def test_single_process_collectives_are_no_ops():
    distributed.barrier()
    assert distributed.max_across_ranks(1.5) == 1.5
    assert distributed.sum_across_ranks(2) == 2.0


def test_on_main_process_asks_at_each_call():
    class Worker:
        rank_zero = False

        def is_world_process_zero(self):
            return self.rank_zero

        @distributed.on_main_process
        def write(self, value):
            """Writes."""
            return value * 2

    worker = Worker()
    assert worker.write(3) is None  # another rank: not run
    worker.rank_zero = True
    assert worker.write(3) == 6
    assert Worker.write.__doc__ == "Writes." and Worker.write.__name__ == "write"


GPU_WATTS, CPU_WATTS = 100.0, 30.0  # rank r's fake GPU draws GPU_WATTS x (r + 1)


@pytest.mark.slow
def test_two_process_ddp_reports_the_slower_rank_once(tmp_path):
    sleep_seconds = 0.25
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node",
               "2", str(SCRIPT), str(tmp_path / "out"), str(sleep_seconds)]
    with LiveRapl(tmp_path / "powercap", CPU_WATTS) as live:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled",
               "CORE_DDP_FAKE_GPU_WATTS": str(GPU_WATTS), rapl.ROOT_ENV: str(live.root)}
        # Own process group: on a timeout the workers go too, not only torchrun.
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env, start_new_session=True)
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
    # Energy: both ranks' GPUs (100 + 200 W) summed once, the host's CPU (30 W) read by one
    # process only (counted twice it would be 360 W).
    assert data["energy_source"] == "nvml+rapl"
    watts = GPU_WATTS * (1 + 2) + CPU_WATTS
    for seconds, joules in zip(data["finetuning_time_list"], data["finetuning_energy_j_list"]):
        assert joules == pytest.approx(watts * seconds, rel=0.02, abs=watts * 0.05)
    assert data["inference_energy_j"] == pytest.approx(watts * data["inference_total_time"],
                                                       abs=watts * 0.05)
