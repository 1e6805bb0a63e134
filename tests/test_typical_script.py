"""A typical Hugging Face script (a tokenizer as `processing_class`, dynamic padding) yields every
figure under TimingTrainer, under patch_trainer and under `timing-trainer run`."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers.figures import assert_every_figure
from helpers.text import text_dataset, tiny_tokenizer
from helpers.tiny import accuracy, tiny_bert
from transformers import DataCollatorWithPadding

from timing_trainer import TimingTrainer, TimingTrainingArguments, patch_trainer, unpatch_trainer
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

torch.set_num_threads(1)
SCRIPT = Path(__file__).parent / "scripts" / "text_script.py"


@pytest.fixture(autouse=True)
def _always_unpatch():
    yield
    unpatch_trainer()


def _results(folder):
    data = json.loads((Path(folder) / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


@pytest.mark.parametrize("peak", [None, 0.001])
def test_timing_trainer_with_a_tokenizer(tmp_path, peak):
    tokenizer = tiny_tokenizer(str(tmp_path / "tok"))
    args = TimingTrainingArguments(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=8,
        per_device_eval_batch_size=4, num_train_epochs=1, finetuning_iters=2, report_to="none",
        use_cpu=True, disable_tqdm=True, save_strategy="no", cv_warning_threshold=10.0,
        peak_tflops=peak)
    trainer = TimingTrainer(model=tiny_bert(), args=args, train_dataset=text_dataset(tokenizer, 24),
                            eval_dataset=text_dataset(tokenizer, 12, seed=1),
                            processing_class=tokenizer, compute_metrics=accuracy)
    assert isinstance(trainer.data_collator, DataCollatorWithPadding)
    trainer.train()
    metrics = trainer.evaluate()
    assert len(metrics["eval_inference_time_list"]) == 3
    assert len(metrics["eval_forward_time_list"]) == 3
    trainer.finish_timing_results()
    data = _results(tmp_path / "out")
    assert data["status"] == "finished"
    assert_every_figure(data, peak_known=peak is not None)
    if peak is not None:
        assert data["mfu_train"] > 0 and data["mfu_eval"] > 0
    assert data["evaluations"][0]["inference_batch_sizes"] == [4, 4, 4]


def test_patch_trainer_with_a_tokenizer_prints_a_line_per_call(tmp_path, capfd):
    patch_trainer(finetuning_iters=2, cv_warning_threshold=10.0, tags={"task_name": "sst2"})
    namespace = runpy.run_path(str(SCRIPT))  # the script imports Trainer after the patch
    metrics = namespace["main"](str(tmp_path))
    assert "eval_inference_time_list" in metrics and "eval_forward_time" in metrics
    lines = [line for line in capfd.readouterr().err.splitlines()
             if line.startswith("timing-trainer:")]
    assert len(lines) == 2
    assert lines[0].startswith("timing-trainer: train [sst2]: finetuning_time ")
    assert lines[1].startswith("timing-trainer: evaluate eval: inference_time ")
    assert all(line.endswith(f"results: {tmp_path / RESULTS_FILENAME}") for line in lines)
    data = _results(tmp_path)
    assert data["config"]["task_name"] == "sst2"
    assert data["status"] == "finished"  # evaluate() after a completed train()
    assert_every_figure(data)


def _run_cli(*argv, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"}
    return subprocess.run([sys.executable, "-m", "timing_trainer", "run", *argv],
                          capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_cli_run_with_tags_and_a_tokenizer(tmp_path):
    out = tmp_path / "out"
    proc = _run_cli("--finetuning-iters", "2", "--tag", "task_name=rte", "--tag",
                    "max_seq_length=32", str(SCRIPT), str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.startswith("timing-trainer:")]
    assert [line.split(":")[1].split()[0] for line in lines] == ["train", "evaluate"]
    data = _results(out)
    assert data["status"] == "finished"  # the script returned: the run has ended
    assert data["config"]["task_name"] == "rte" and data["config"]["max_seq_length"] == 32
    assert_every_figure(data)


@pytest.mark.parametrize("tag", ["task_name", "=rte", "task_name rte"])
def test_cli_run_refuses_a_bad_tag(tmp_path, tag):
    proc = _run_cli("--tag", tag, str(SCRIPT), str(tmp_path), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"timing-trainer run: error: --tag expects KEY=VALUE (e.g. --tag task_name=rte), "
        f"got {tag!r}"]
    assert not (tmp_path / RESULTS_FILENAME).exists()
