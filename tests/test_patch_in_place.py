"""The patch reaches every Trainer a script builds, and every run keeps its own results file.

Each test reproduces a way the subclass-swapping patch failed: a name bound before the patch, a
subclass defined before it, transformers' and TRL's own subclasses, a notebook that imported
transformers first, two Trainers on one folder, `train()` twice, results left `running`.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import transformers
from helpers.text import text_dataset, tiny_tokenizer
from helpers.tiny import accuracy, tiny_bert, token_dataset
from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainingArguments
from transformers import Trainer as BoundBeforeThePatch

from timing_trainer import patch_trainer, unpatch_trainer
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.errors import OutputFolderInUseError, TimingNotAppliedWarning
from timing_trainer.results.placement import claim_results_file, results_filename

torch.set_num_threads(1)
TESTS = Path(__file__).parent


class DefinedBeforeThePatch(BoundBeforeThePatch):
    """A project's own Trainer, defined at import time (before any patch)."""

    def compute_loss(self, model, inputs, *args, **kwargs):
        return super().compute_loss(model, inputs, *args, **kwargs)


@pytest.fixture(autouse=True)
def _always_unpatch():
    yield
    unpatch_trainer()


def _args(out, cls=TrainingArguments, **kwargs):
    return cls(output_dir=str(out), per_device_train_batch_size=8, per_device_eval_batch_size=8,
               num_train_epochs=1, report_to="none", use_cpu=True, disable_tqdm=True,
               save_strategy="no", **kwargs)


def _patch():
    patch_trainer(finetuning_iters=2, timing_warmup_steps=1, cv_warning_threshold=10.0)


def _results(path):
    return json.loads(Path(path).read_text())


@pytest.mark.parametrize("cls", [BoundBeforeThePatch, DefinedBeforeThePatch, Seq2SeqTrainer],
                         ids=["name-bound-first", "subclass-defined-first", "Seq2SeqTrainer"])
def test_every_trainer_class_is_timed(tmp_path, cls):
    _patch()
    args_cls = Seq2SeqTrainingArguments if cls is Seq2SeqTrainer else TrainingArguments
    trainer = cls(model=tiny_bert(), args=_args(tmp_path, args_cls),
                  train_dataset=token_dataset(16), eval_dataset=token_dataset(8, seed=1),
                  compute_metrics=accuracy)
    metrics = trainer.train().metrics
    assert len(metrics["finetuning_time_list"]) == 2
    trainer.evaluate()
    data = _results(tmp_path / results_filename(1))
    assert data["status"] == "finished" and data["inference_time"] is not None
    assert len(data["finetuning_time_list"]) == 2


def test_trl_sft_trainer_is_timed(tmp_path):
    trl = pytest.importorskip("trl")
    _patch()
    tokenizer = tiny_tokenizer(str(tmp_path / "tok"))
    config = transformers.GPT2Config(n_embd=32, n_layer=2, n_head=2, vocab_size=len(tokenizer),
                                     n_positions=64, pad_token_id=tokenizer.pad_token_id)
    model = transformers.GPT2LMHeadModel(config)
    data = text_dataset(tokenizer, 16).remove_columns(["labels", "token_type_ids"])
    args = trl.SFTConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8,
                         num_train_epochs=1, report_to="none", use_cpu=True, disable_tqdm=True,
                         save_strategy="no", max_length=32)
    trainer = trl.SFTTrainer(model=model, args=args, train_dataset=data,
                             processing_class=tokenizer)
    trainer.train()
    results = _results(tmp_path / "out" / results_filename(1))
    assert len(results["finetuning_time_list"]) == 2 and results["train_tokens"] > 0


def test_a_notebook_that_imported_transformers_first_is_timed(tmp_path):
    """With transformers 5's lazy module, the first import of the trainer may replace the module
    object a notebook holds: the class object is the same, so the patch in place still holds."""
    code = textwrap.dedent(f"""
        import transformers
        import timing_trainer
        from helpers.tiny import tiny_bert, token_dataset
        timing_trainer.patch_trainer(finetuning_iters=2, timing_warmup_steps=0)
        args = transformers.TrainingArguments({str(tmp_path)!r}, report_to="none", use_cpu=True,
                                              save_strategy="no", disable_tqdm=True)
        trainer = transformers.Trainer(model=tiny_bert(), args=args,
                                       train_dataset=token_dataset(8))
        print(len(trainer.train().metrics["finetuning_time_list"]))
    """)
    env = {**os.environ, "PYTHONPATH": str(TESTS), "OMP_NUM_THREADS": "1",
           "WANDB_MODE": "disabled"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "2"
    assert _results(tmp_path / results_filename(1))["status"] == "finished"  # at exit


def test_an_override_that_skips_trainer_train_is_reported(tmp_path):
    class OwnLoop(BoundBeforeThePatch):
        def train(self, *args, **kwargs):
            return None  # a loop of its own: nothing reaches Trainer.train

    _patch()
    trainer = OwnLoop(model=tiny_bert(), args=_args(tmp_path), train_dataset=token_dataset(8))
    with pytest.warns(TimingNotAppliedWarning, match=r"OwnLoop.train\(\) did not call"):
        trainer.train()


def test_two_trainers_in_one_folder_write_two_files(tmp_path, capfd):
    _patch()
    paths = []
    for learning_rate in (1e-3, 1e-4):
        trainer = BoundBeforeThePatch(
            model=tiny_bert(), args=_args(tmp_path, learning_rate=learning_rate),
            train_dataset=token_dataset(16), eval_dataset=token_dataset(8, seed=1))
        trainer.train()
        trainer.evaluate()
        paths.append(trainer.save_timing_results())
    assert paths == [tmp_path / results_filename(1), tmp_path / results_filename(2)]
    rates = [_results(p)["config"]["learning_rate"] for p in paths]
    assert rates == [1e-3, 1e-4]
    lines = [line for line in capfd.readouterr().err.splitlines()
             if line.startswith("timing-trainer: train")]
    assert [line.rsplit("results: ", 1)[1] for line in lines] == [str(p) for p in paths]
    runs = load_runs([tmp_path])  # the analysis reads both, as two runs
    assert sorted(runs["learning_rate"]) == [1e-4, 1e-3] and runs["run_id"].nunique() == 2


def test_train_twice_starts_a_new_run(tmp_path):
    _patch()
    trainer = BoundBeforeThePatch(model=tiny_bert(), args=_args(tmp_path),
                                  train_dataset=token_dataset(16))
    trainer.timing_results.config["task_name"] = "rte"  # the script's own config entry
    trainer.train()
    first = trainer.timing_results
    trainer.train()  # a second fine-tuning, from the weights the first one left
    assert trainer.timing_results is not first
    one, two = _results(tmp_path / results_filename(1)), _results(tmp_path / results_filename(2))
    assert one["status"] == "finished" and two["status"] == "running"
    assert len(one["finetuning_time_list"]) == len(two["finetuning_time_list"]) == 2
    assert one["setup_time_parts"]["warmup"] > 0 and two["setup_time_parts"]["warmup"] > 0
    assert one["config"]["task_name"] == two["config"]["task_name"] == "rte"


def test_unpatch_finishes_what_the_patch_left_running(tmp_path):
    _patch()
    trainer = BoundBeforeThePatch(model=tiny_bert(), args=_args(tmp_path),
                                  train_dataset=token_dataset(16))
    trainer.train()  # no evaluation: a notebook's kernel would keep it `running`
    path = tmp_path / results_filename(1)
    assert _results(path)["status"] == "running"
    unpatch_trainer()
    assert _results(path)["status"] == "finished"


def test_a_folder_in_use_by_another_process_is_refused(tmp_path):
    code = ("import sys, time; from timing_trainer.results.placement import claim_results_file;"
            f"claim_results_file({str(tmp_path)!r}).write_text('{{}}'); print('held', flush=True);"
            "time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputFolderInUseError, match=f"process {holder.pid}"):
            claim_results_file(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert claim_results_file(tmp_path).name == results_filename(2)  # free again; no overwrite
