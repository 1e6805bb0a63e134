"""One output folder, one run at a time: a second GLUE program on a folder another process is
timing into is refused before anything loads, and nothing is written into the other's folder."""

import json
import os
import subprocess
import sys


def test_a_second_glue_program_on_a_folder_in_use_is_refused(tmp_path, assets):
    out = tmp_path / "out"
    code = ("import time; from timing_trainer.results.placement import hold_folder;"
            f"hold_folder({str(out)!r}); print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = subprocess.run(
            [sys.executable, "-m", "timing_trainer.glue", "--task_name", "rte",
             "--data_dir", str(assets), "--model_name_or_path",
             str(assets / "models" / "tiny-uncased"),
             "--output_dir", str(out), "--do_train", "--max_steps", "1", "--report_to", "none"],
            capture_output=True, text=True, timeout=300,
            env={**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"})
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines() == [
        f"timing_trainer.glue: error: {out} is in use by another timed run "
        f"(process {holder.pid}); give this run its own output_dir, or wait for that one to end"]
    assert not list(out.glob("timing_results*.json"))  # nothing written into the other's folder


def _glue(assets, out):
    return subprocess.run(
        [sys.executable, "-m", "timing_trainer.glue", "--task_name", "rte",
         "--data_dir", str(assets), "--model_name_or_path", str(assets / "models" / "tiny-uncased"),
         "--output_dir", str(out), "--do_train", "--do_eval", "--max_steps", "1",
         "--finetuning_iters", "1", "--timing_warmup_steps", "0", "--report_to", "none"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"})


def test_a_rerun_on_the_same_folder_never_overwrites_a_result(tmp_path, assets):
    out = tmp_path / "out"
    first = _glue(assets, out)
    assert first.returncode == 0, first.stderr[-2000:]
    before = (out / "timing_results.json").read_text()
    second = _glue(assets, out)
    assert second.returncode == 0, second.stderr[-2000:]
    assert (out / "timing_results.json").read_text() == before  # untouched
    assert json.loads((out / "timing_results-2.json").read_text())["status"] == "finished"
    assert str(out / "timing_results-2.json") in second.stdout + second.stderr  # its summary line
