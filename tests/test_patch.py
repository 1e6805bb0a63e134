"""patch_trainer() times an unmodified script; unpatch_trainer() restores transformers exactly."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import transformers
import transformers.trainer
from helpers.tiny import tiny_bert, token_dataset
from transformers import TrainingArguments

from timing_trainer import patch_trainer, unpatch_trainer
from timing_trainer.instrument.methods import is_timed
from timing_trainer.patch import is_patched
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

torch.set_num_threads(1)
SCRIPT = Path(__file__).parent / "scripts" / "plain_script.py"
ORIGINAL = transformers.Trainer


@pytest.fixture(autouse=True)
def _always_unpatch():
    yield
    unpatch_trainer()


def test_unmodified_script_gets_timed(tmp_path):
    patched = patch_trainer(finetuning_iters=2, inference_warmup_batches=0,
                            cv_warning_threshold=10.0)
    # in place: the class object every name is bound to, its methods wrapped
    assert transformers.Trainer is patched is ORIGINAL and transformers.trainer.Trainer is ORIGINAL
    assert is_timed(ORIGINAL.train) and is_timed(ORIGINAL.evaluate)
    namespace = runpy.run_path(str(SCRIPT))  # the script imports Trainer after the patch
    metrics = namespace["main"](str(tmp_path))
    assert "eval_accuracy" in metrics and "eval_inference_time" in metrics
    data = json.loads((tmp_path / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert len(data["finetuning_time_list"]) == 2
    assert data["finetuning_time"] == min(data["finetuning_time_list"])
    assert len(data["inference_time_list"]) == 2  # 12 eval samples in batches of 8
    assert "eval_accuracy" in data["eval_metrics"]


def test_unpatch_restores_the_original_objects(tmp_path):
    before = dict(ORIGINAL.__dict__)
    patch_trainer(finetuning_iters=2)
    patch_trainer(finetuning_iters=4)  # patching twice keeps the true originals
    trainer = ORIGINAL(model=tiny_bert(), args=TrainingArguments(str(tmp_path), report_to=[]),
                       train_dataset=token_dataset(8))
    assert trainer.timing_options.finetuning_iters == 4  # the last patch's options
    assert is_patched() and ORIGINAL.__dict__["train"] is not before["train"]
    unpatch_trainer()
    after = dict(ORIGINAL.__dict__)
    assert after.keys() == before.keys()
    assert all(after[name] is before[name] for name in before)  # by identity
    assert not is_patched() and not is_timed(ORIGINAL.train)
    unpatch_trainer()  # a no-op when not patched
    assert dict(ORIGINAL.__dict__) == before


def test_bad_options_leave_transformers_alone():
    with pytest.raises(ValueError, match="finetuning_iters"):
        patch_trainer(finetuning_iters=0)
    with pytest.raises(TypeError):
        patch_trainer(no_such_option=1)
    assert transformers.Trainer is ORIGINAL and not is_patched()


def test_cli_run_times_an_unmodified_script(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "timing_trainer", "run", "--finetuning-iters", "2", str(SCRIPT),
         str(out)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert len(data["finetuning_time_list"]) == 2
    assert data["finetuning_time"] == min(data["finetuning_time_list"])
    assert data["inference_time_list"]


def test_cli_run_refuses_a_missing_script(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "run", str(tmp_path / "x.py")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith("timing-trainer run: error: no such")
