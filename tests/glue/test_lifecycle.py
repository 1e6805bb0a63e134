"""The GLUE program's results lifecycle: `running` until its last evaluation, SIGTERM
as an interrupt (exit 143), a SIGKILLed run left `running`, the process start-up as setup part
`startup`, W&B without a login in one line, and every figure with dynamic padding."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.child import child_env, finish, start, wait_for_file
from helpers.figures import assert_every_figure

from timing_trainer.glue import run
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).parents[1] / "scripts" / "glue_blocking.py"


ASSETS = {"tasks": ["rte"]}


def _argv(assets, out, *extra):
    return [
        "--task_name=rte", f"--model_name_or_path={assets / 'models' / 'tiny-uncased'}",
        f"--data_dir={assets}", f"--output_dir={out}",
        f"--tokenization_cache_dir={out.parent / 'cache'}", "--max_seq_length=32",
        "--per_device_train_batch_size=8", "--per_device_eval_batch_size=4",
        "--num_train_epochs=1", "--finetuning_iters=2", "--report_to=none",
        "--disable_tqdm=True", "--use_cpu=True", *extra,
    ]


def _results(out):
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


def test_dynamic_padding_gives_every_figure(assets, tmp_path):
    out = tmp_path / "run"
    assert run.main(_argv(assets, out, "--no_pad_to_max_length")) == 0
    data = _results(out)
    assert data["status"] == "finished"
    assert_every_figure(data)
    assert {"warmup", "train_setup", "model_load", "tokenize"} <= set(data["setup_time_parts"])
    # main() called in-process with an argument list: the start-up is not this run's.
    assert "startup" not in data["setup_time_parts"]
    assert data["unavailable"]["setup_time_parts.startup"].startswith("not measured: main()")


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_evaluation_is_an_interrupt(assets, tmp_path, sig, code):
    out, marker = tmp_path / "run", tmp_path / "evaluating"
    proc = start([str(DRIVER), str(marker), *_argv(assets, out, "--no_pad_to_max_length")])
    wait_for_file(marker, proc)
    running = _results(out)
    assert running["status"] == "running" and running["finetuning_time"] > 0
    os.kill(proc.pid, sig)
    status, _, err = finish(proc)
    assert status == code, err[-3000:]
    data = _results(out)
    assert data["status"] == "failed" and data["error"]["kind"] == "interrupted"
    assert data["finetuning_time_list"] == running["finetuning_time_list"]  # kept
    assert data["setup_time_parts"]["startup"] > 0  # interpreter start to main, imports in
    last = err.strip().splitlines()[-1]
    assert last.startswith("timing_trainer.glue: interrupted:")
    assert signal.Signals(sig).name in last, last  # names the signal, not "KeyboardInterrupt"
    assert "Traceback" not in err


def test_a_sigkilled_run_stays_running(assets, tmp_path):
    out, marker = tmp_path / "run", tmp_path / "evaluating"
    proc = start([str(DRIVER), str(marker), *_argv(assets, out)])
    wait_for_file(marker, proc)
    os.kill(proc.pid, signal.SIGKILL)
    status, _, _ = finish(proc)
    assert status == -signal.SIGKILL
    data = _results(out)
    assert data["status"] == "running"  # never finished: it was killed during evaluation
    assert data["eval_metrics"] == {} and data["finetuning_time"] > 0


def test_wandb_without_a_login_is_one_line(assets, tmp_path):
    out, home = tmp_path / "run", tmp_path / "home"
    home.mkdir()
    env = child_env(WANDB_MODE="online", WANDB_BASE_URL="http://127.0.0.1:9", HOME=str(home),
                    NETRC=str(home / ".netrc"))
    env.pop("WANDB_API_KEY", None)
    argv = [a if a != "--report_to=none" else "--report_to=wandb" for a in _argv(assets, out)]
    proc = subprocess.run([sys.executable, "-m", "timing_trainer.glue", *argv],
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 1, proc.stderr[-3000:]
    ours = [line for line in proc.stderr.splitlines() if line.startswith("timing_trainer.glue")]
    assert len(ours) == 1 and "Traceback" not in proc.stderr
    assert "wandb login" in ours[0] and "WANDB_MODE=offline" in ours[0]
    assert "could not" not in proc.stderr
    data = _results(out)
    assert data["status"] == "failed" and "wandb login" in data["error"]["message"]
    assert "model_load" not in data["setup_time_parts"]  # failed before the model loaded
    assert data["setup_time_parts"]["startup"] > 0
    assert not (out / "error_traceback.txt").exists()
