"""The Trainer features of docs/trainer.md's support table, each timed as that table says.

The rows on evaluation, checkpoints, the best model, early stopping, resume and several
evaluation sets are in test_script_behaviour.py; Seq2SeqTrainer and SFTTrainer in
test_patch_in_place.py.
"""

import time

import pytest
import torch
from helpers.tiny import tiny_bert, token_dataset

from timing_trainer import TimingTrainer, TimingTrainingArguments

torch.set_num_threads(1)


def _args(out, **kwargs):
    defaults = dict(output_dir=str(out), per_device_train_batch_size=8, num_train_epochs=1,
                    finetuning_iters=2, timing_warmup_steps=1, report_to="none", use_cpu=True,
                    disable_tqdm=True, save_strategy="no", cv_warning_threshold=10.0)
    defaults.update(kwargs)
    return TimingTrainingArguments(**defaults)


def _train(out, train_dataset=None, cls=TimingTrainer, model_init=None, **kwargs):
    trainer = cls(model=None if model_init else tiny_bert(), model_init=model_init,
                  args=_args(out, **kwargs), train_dataset=train_dataset or token_dataset(24))
    trainer.train()
    return trainer.timing_results


def test_gradient_accumulation_counts_optimizer_steps(tmp_path):
    results = _train(tmp_path, per_device_train_batch_size=4, gradient_accumulation_steps=2)
    assert results.train_steps == 3 and results.train_samples == 24  # 6 batches, 3 steps


def test_max_steps_stops_the_clock_at_the_last_step(tmp_path):
    results = _train(tmp_path, max_steps=2, num_train_epochs=5)
    assert results.train_steps == 2 and results.train_samples == 16
    assert len(results.finetuning_times) == 2


class Stream(torch.utils.data.IterableDataset):
    """A dataset with no length: the Trainer needs max_steps."""

    def __iter__(self):
        for row in token_dataset(64):
            yield {key: torch.tensor(value) for key, value in row.items()}


def test_an_iterable_dataset_is_timed_with_max_steps(tmp_path):
    results = _train(tmp_path, train_dataset=Stream(), max_steps=3)
    assert results.train_steps == 3 and results.train_samples == 24
    assert results.config["n_train_samples"] is None  # no length to record


def test_gradient_checkpointing_is_timed(tmp_path):
    results = _train(tmp_path, gradient_checkpointing=True)
    assert results.train_steps == 3 and all(t > 0 for t in results.finetuning_times)
    assert results.train_flops  # the model's own forward and backward, not the recomputation


def test_a_custom_compute_loss_is_on_the_clock(tmp_path):
    class SlowLoss(TimingTrainer):
        def compute_loss(self, model, inputs, *args, **kwargs):
            time.sleep(0.05)
            return super().compute_loss(model, inputs, *args, **kwargs)

    results = _train(tmp_path, cls=SlowLoss)
    assert min(results.finetuning_times) >= 3 * 0.05  # 3 steps, each sleeping 50 ms


def test_model_init_builds_each_iteration_afresh(tmp_path):
    built = []

    def model_init():
        built.append(1)
        return tiny_bert()

    results = _train(tmp_path, model_init=model_init)
    assert len(results.finetuning_times) == 2 and results.train_steps == 3
    assert len(built) >= 3  # the constructor, the warm-up and every timed iteration


@pytest.mark.slow
def test_torch_compile_compiles_in_the_warm_up(tmp_path):
    results = _train(tmp_path, torch_compile=True, torch_compile_backend="aot_eager",
                     finetuning_iters=2)
    assert results.train_steps == 3 and results.setup_time_parts["warmup"] > 0
    assert all(t > 0 for t in results.finetuning_times)


def test_lora_counts_its_own_training_flops(tmp_path):
    peft = pytest.importorskip("peft")
    from timing_trainer.results.flops import LoraSpec, count_flops

    model = peft.get_peft_model(tiny_bert(), peft.LoraConfig(
        task_type="SEQ_CLS", r=4, target_modules=["query", "value"]))
    trainer = TimingTrainer(model=model, args=_args(tmp_path), train_dataset=token_dataset(24))
    trainer.train()
    data = trainer.timing_results.to_dict()
    forward, training = count_flops(model.config, 16, 8, LoraSpec(4, ("query", "value")))
    assert training < 3 * forward  # frozen weights get no gradient
    assert data["flops_per_token"] == pytest.approx(forward)  # not a third of training's
    assert trainer.timing_results.train_flops == pytest.approx(training * 24 * 16)
