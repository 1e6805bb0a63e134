"""A timed script does what it does untimed: evaluations, checkpoints, the best model, early
stopping. Their time is off the fine-tuning clock and reported apart; the figures agree."""

import json
import time

import pytest
import torch
from helpers.tiny import tiny_bert, token_dataset
from safetensors.torch import load_file
from transformers import EarlyStoppingCallback, Trainer, TrainerCallback

from timing_trainer import TimingTrainer, TimingTrainingArguments
from timing_trainer.errors import UnavailableFiguresWarning

torch.set_num_threads(1)
SLEEP = 0.25  # seconds each evaluation sleeps: far longer than the training it interrupts


def _args(out, **kwargs):
    defaults = dict(output_dir=str(out), per_device_train_batch_size=8,
                    per_device_eval_batch_size=8, num_train_epochs=3, learning_rate=1e-3,
                    finetuning_iters=2, timing_warmup_steps=1, report_to="none", use_cpu=True,
                    disable_tqdm=True, logging_steps=50, cv_warning_threshold=10.0,
                    save_strategy="no")
    defaults.update(kwargs)
    return TimingTrainingArguments(**defaults)


class SaveCounter(TrainerCallback):
    def __init__(self):
        self.count = 0

    def on_save(self, *args, **kwargs):
        self.count += 1


def _scripted_metric(trainer_box, best_step):
    """A metric that peaks at `best_step` whatever the model learns, and is slow to compute."""

    def compute_metrics(_prediction):
        time.sleep(SLEEP)
        step = trainer_box[0].state.global_step
        return {"score": 1.0 if step == best_step else 0.5 - 0.01 * step}

    return compute_metrics


def _trainer(cls, out, best_step=None, callbacks=None, **kwargs):
    box = []
    trainer = cls(model=tiny_bert(), args=_args(out, **kwargs), train_dataset=token_dataset(24),
                  eval_dataset=token_dataset(8, seed=1), callbacks=callbacks,
                  compute_metrics=_scripted_metric(box, best_step) if best_step else None)
    box.append(trainer)
    return trainer


def test_evaluation_checkpoints_and_the_best_model_run_off_the_clock(tmp_path):
    # 24 samples in batches of 8: 3 steps an epoch; the metric peaks after epoch 1 (step 3)
    best = dict(eval_strategy="epoch", save_strategy="epoch", load_best_model_at_end=True,
                metric_for_best_model="score", greater_is_better=True)
    saves = SaveCounter()
    trainer = _trainer(TimingTrainer, tmp_path / "with", best_step=3, callbacks=[saves], **best)
    metrics = trainer.train().metrics
    plain = _trainer(TimingTrainer, tmp_path / "without")
    baseline = plain.train().metrics

    # what the script asked for happened: evaluations, checkpoints, the best model loaded
    assert trainer.state.best_model_checkpoint.endswith("checkpoint-3")
    assert sorted(p.name for p in (tmp_path / "with").glob("checkpoint-*")) == [
        "checkpoint-3", "checkpoint-6", "checkpoint-9"]
    saved = load_file(str(tmp_path / "with" / "checkpoint-3" / "model.safetensors"))
    for name, value in trainer.model.state_dict().items():
        if name in saved:
            assert torch.equal(value, saved[name]), name
    assert metrics["evaluations_during_training"] == 3
    # as many saves as the script's own callback saw in each of the 2 runs (3 checkpoints;
    # transformers 4.x saves the last one twice, at the last step and at the epoch's end)
    assert metrics["checkpoints_during_training"] == saves.count / 2 >= 3
    # the evaluations took far longer than the training, and none of it is on the clock
    assert metrics["evaluation_during_training_time"] > 3 * SLEEP > metrics["finetuning_time"]
    assert metrics["finetuning_time"] < baseline["finetuning_time"] + SLEEP
    assert baseline["evaluations_during_training"] == 0
    evaluations = trainer.timing_results.evaluations
    assert [(e.name, e.iteration, e.step) for e in evaluations] == [
        ("eval", i, s) for i in (1, 2) for s in (3, 6, 9)]


def test_evaluation_on_the_clock_when_asked(tmp_path):
    trainer = _trainer(TimingTrainer, tmp_path, best_step=3, eval_strategy="epoch",
                       finetuning_iters=1, eval_and_save_while_timing=True)
    metrics = trainer.train().metrics
    # the two evaluations inside the timed loop were timed as training (the third follows
    # the last step, after the clock stopped)
    assert metrics["finetuning_time"] > 2 * SLEEP
    data = json.loads(trainer.save_timing_results().read_text())
    assert data["evaluation_during_training_time"] is None
    assert "on the clock" in data["unavailable"]["evaluation_during_training_time"]


class PlainTrainer(Trainer):
    """transformers' Trainer, accepting (and ignoring) the timing options' arguments."""


def test_early_stopping_stops_where_the_plain_trainer_stops(tmp_path):
    stop = dict(eval_strategy="steps", eval_steps=1, save_strategy="steps", save_steps=1,
                load_best_model_at_end=True, metric_for_best_model="score",
                greater_is_better=True)
    plain = _trainer(PlainTrainer, tmp_path / "plain", best_step=1,
                     callbacks=[EarlyStoppingCallback(early_stopping_patience=1)],
                     **stop)
    plain.train()
    assert plain.state.global_step == 2  # stopped by the callback, not at step 9
    timed = _trainer(TimingTrainer, tmp_path / "timed", best_step=1,
                     callbacks=[EarlyStoppingCallback(early_stopping_patience=1)], **stop)
    timed.train()
    # every timed run stops where the plain Trainer did: the callback's patience is reset
    assert timed.timing_results.train_steps == 2 and timed.state.global_step == 2
    assert [(e.iteration, e.step) for e in timed.timing_results.evaluations] == [
        (1, 1), (1, 2), (2, 1), (2, 2)]


def test_several_evaluation_sets_are_named_by_their_key(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, eval_strategy="epoch",
                                                          num_train_epochs=1, finetuning_iters=1),
                            train_dataset=token_dataset(16),
                            eval_dataset={"a": token_dataset(8, seed=1),
                                          "b": token_dataset(16, seed=2)})
    trainer.train()
    during = [(e.name, e.step) for e in trainer.timing_results.evaluations]
    assert during == [("eval_a", 2), ("eval_b", 2)]
    trainer.evaluate(eval_dataset=token_dataset(24, seed=3))  # the final evaluation
    data = json.loads(trainer.save_timing_results().read_text())
    final = [e for e in data["evaluations"] if "step" not in e]
    assert [e["name"] for e in final] == ["eval"] and final[0]["n_samples"] == 24
    assert data["inference_total_time"] == final[0]["inference_total_time"]


def test_the_trainers_own_figures_come_from_the_reported_iteration(tmp_path):
    trainer = _trainer(TimingTrainer, tmp_path, finetuning_iters=3)
    metrics = trainer.train().metrics
    assert metrics["train_runtime"] == metrics["finetuning_time"]
    assert metrics["train_samples_per_second"] == pytest.approx(72 / metrics["finetuning_time"])
    assert metrics["train_steps_per_second"] == pytest.approx(9 / metrics["finetuning_time"])


def test_one_iteration_has_no_spread_and_says_why(tmp_path):
    trainer = _trainer(TimingTrainer, tmp_path, finetuning_iters=1)
    trainer.train()
    data = json.loads(trainer.save_timing_results().read_text())
    assert data["finetuning_time_cv"] is None and data["finetuning_time_std"] is None
    assert "finetuning_iters=1" in data["unavailable"]["finetuning_time_cv"]


def test_a_resumed_run_counts_the_steps_it_ran(tmp_path):
    first = _trainer(TimingTrainer, tmp_path, finetuning_iters=1, save_strategy="steps",
                     save_steps=3, timing_warmup_steps=0)
    first.train()  # 9 steps, checkpoints at 3, 6, 9
    resumed = _trainer(TimingTrainer, tmp_path, finetuning_iters=1, timing_warmup_steps=0)
    resumed.train(resume_from_checkpoint=str(tmp_path / "checkpoint-6"))
    assert resumed.state.global_step == 9
    assert resumed.timing_results.train_steps == 3  # steps 7, 8 and 9: what ran, timed
    assert resumed.timing_results.train_samples == 24


def test_the_closing_warning_names_the_scripts_own_call(tmp_path):
    trainer = _trainer(TimingTrainer, tmp_path, finetuning_iters=1)
    trainer.train()
    with pytest.warns(UnavailableFiguresWarning) as caught:
        trainer.evaluate()  # finishes the run: the warning points here, not into the package
    assert caught[0].filename == __file__


def test_finish_timing_results_names_its_caller_too(tmp_path):
    trainer = _trainer(TimingTrainer, tmp_path, finetuning_iters=1)
    trainer.train()  # no evaluation: the run is still open
    with pytest.warns(UnavailableFiguresWarning) as caught:
        path = trainer.finish_timing_results()
    assert caught[0].filename == __file__
    assert json.loads(path.read_text())["status"] == "finished"
