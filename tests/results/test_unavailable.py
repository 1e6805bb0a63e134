"""No silent null: in the results files of real runs (CPU), every null figure has its reason."""

import json

import pytest
import torch
from helpers.figures import nulls_without_reason
from helpers.tiny import tiny_bert, token_dataset
from transformers import TrainerCallback

from timing_trainer import TimingTrainer, TimingTrainingArguments
from timing_trainer.errors import UnavailableFiguresWarning
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

torch.set_num_threads(1)


def _trainer(tmp_path, **kwargs):
    args = TimingTrainingArguments(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8,
                                   per_device_eval_batch_size=8, num_train_epochs=1,
                                   finetuning_iters=1, timing_warmup_steps=1, report_to="none",
                                   use_cpu=True, disable_tqdm=True, save_strategy="no")
    return TimingTrainer(model=tiny_bert(), args=args, **kwargs)


def _data(tmp_path):
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


def test_evaluation_only(tmp_path):
    trainer = _trainer(tmp_path, eval_dataset=token_dataset(12))
    trainer.evaluate()
    with pytest.warns(UnavailableFiguresWarning, match=r"no fine-tuning in this run"):
        trainer.finish_timing_results()
    data = _data(tmp_path)
    assert nulls_without_reason(data) == []
    assert data["unavailable"]["finetuning_time"] == (
        "no fine-tuning in this run (train() was not called)")
    assert data["inference_time"] is not None and "inference_time" not in data["unavailable"]


def test_training_only_while_running(tmp_path):
    trainer = _trainer(tmp_path, train_dataset=token_dataset(16))
    trainer.train()
    data = _data(tmp_path)
    assert data["status"] == "running"
    assert nulls_without_reason(data) == []
    assert data["unavailable"]["inference_time"] == "evaluation has not run (yet)"


def test_failed_during_training(tmp_path):
    class Crash(TrainerCallback):
        def on_step_end(self, *args, **kwargs):
            raise ValueError("boom")

    trainer = _trainer(tmp_path, train_dataset=token_dataset(16), callbacks=[Crash()])
    with pytest.raises(ValueError):
        trainer.train()
    data = _data(tmp_path)
    assert data["status"] == "failed" and nulls_without_reason(data) == []
    assert data["unavailable"]["finetuning_time"] == "the run failed before fine-tuning finished"


def test_a_model_without_known_shape(tmp_path):
    trainer = _trainer(tmp_path, eval_dataset=token_dataset(8))
    trainer.model.config.num_hidden_layers = 0  # a shape the FLOPs count cannot read
    trainer.evaluate()
    data = _data(tmp_path)
    assert nulls_without_reason(data) == []
    assert "layer count and hidden size" in data["unavailable"]["flops_per_token"]
