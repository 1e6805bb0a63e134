"""TimingTrainer on a tiny BERT (CPU): identical iterations, timings, results file, bad input."""

import json
import warnings

import pytest
import torch
from helpers.tiny import accuracy, tiny_bert, token_dataset
from transformers import HfArgumentParser, TrainerCallback

from timing_trainer import TimingTrainer, TimingTrainingArguments
from timing_trainer.errors import ResultsWriteError, TimingNoiseWarning, UnavailableFiguresWarning
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

torch.set_num_threads(1)


def _args(tmp_path, **kwargs):
    defaults = dict(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8,
                    per_device_eval_batch_size=8, num_train_epochs=2, learning_rate=1e-3,
                    warmup_steps=2, finetuning_iters=3, report_to="none", use_cpu=True,
                    disable_tqdm=True, logging_steps=2, save_strategy="no",
                    cv_warning_threshold=10.0, inference_warmup_batches=0)
    defaults.update(kwargs)
    return TimingTrainingArguments(**defaults)


class StepRecorder(TrainerCallback):
    """Every iteration's learning rate, weights, optimizer and step counter, step by step."""

    def __init__(self):
        self.iterations = []

    def on_train_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        self.iterations.append({"lr": [], "weights": [], "steps": [], "optimizer": id(optimizer),
                                "start_weights": _flat(model)})

    def on_step_end(self, args, state, control, model=None, lr_scheduler=None, **kwargs):
        current = self.iterations[-1]
        current["lr"].append(lr_scheduler.get_last_lr()[0])
        current["weights"].append(_flat(model))
        current["steps"].append((state.global_step, state.epoch))


def _flat(model):
    return torch.cat([p.detach().reshape(-1).clone() for p in model.parameters()])


def test_every_iteration_starts_from_the_same_state(tmp_path):
    recorder = StepRecorder()
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, timing_warmup_steps=3),
                            train_dataset=token_dataset(40), callbacks=[recorder])
    output = trainer.train()
    assert "warmup" in trainer.timing_results.setup_time_parts  # the warm-up ran ...
    assert len(recorder.iterations) == 3  # ... unseen by callbacks
    first = recorder.iterations[0]
    assert len(first["lr"]) == 10  # 40 samples / 8 = 5 steps per epoch, 2 epochs
    assert first["lr"][0] != first["lr"][-1]  # the schedule moves: a stale scheduler would show
    assert first["steps"][0][0] == 1 and first["steps"][-1][0] == 10
    for later in recorder.iterations[1:]:
        assert torch.equal(later["start_weights"], first["start_weights"])
        assert later["lr"] == first["lr"]  # not stuck at 0 as in the thesis's fork
        assert later["steps"] == first["steps"]
        for a, b in zip(later["weights"], first["weights"]):
            assert torch.equal(a, b)
    # Training moved the weights; the final model is the last iteration's.
    assert not torch.equal(first["weights"][-1], first["start_weights"])
    assert torch.equal(_flat(trainer.model), recorder.iterations[-1]["weights"][-1])
    assert output.global_step == 10


def test_user_supplied_optimizer_and_scheduler_are_reset(tmp_path):
    model = tiny_bert()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
    recorder = StepRecorder()
    trainer = TimingTrainer(model=model, args=_args(tmp_path, finetuning_iters=2),
                            train_dataset=token_dataset(24), optimizers=(optimizer, scheduler),
                            callbacks=[recorder])
    trainer.train()
    first, second = recorder.iterations
    assert second["lr"] == first["lr"]
    for a, b in zip(second["weights"], first["weights"]):
        assert torch.equal(a, b)


def test_train_metrics_and_results_file(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path), train_dataset=token_dataset(40),
                            eval_dataset=token_dataset(20, seed=1), compute_metrics=accuracy)
    trainer.timing_results.add_setup_time("model_load", 0.5)
    metrics = trainer.train().metrics
    for key in ("finetuning_time", "finetuning_time_list", "finetuning_time_median",
                "finetuning_time_mean", "finetuning_time_std", "finetuning_time_cv",
                "train_samples_per_second", "train_tokens_per_second", "setup_time"):
        assert metrics[key] is not None, key
    times = metrics["finetuning_time_list"]
    assert len(times) == 3 and all(t > 0 for t in times)
    assert metrics["finetuning_time"] == min(times)
    assert min(times) <= metrics["finetuning_time_median"] <= max(times)
    assert metrics["finetuning_time_cv"] >= 0
    # 80 samples per iteration (2 epochs of 40), 16 tokens each.
    assert metrics["train_samples_per_second"] == pytest.approx(80 / metrics["finetuning_time"])
    assert metrics["train_tokens_per_second"] == pytest.approx(80 * 16 / metrics["finetuning_time"])
    parts = trainer.timing_results.setup_time_parts
    assert set(parts) == {"model_load", "warmup", "train_setup"}
    assert metrics["setup_time"] == pytest.approx(sum(parts.values()))

    path = tmp_path / "out" / RESULTS_FILENAME
    assert json.loads(path.read_text())["status"] == "running"  # until its evaluation
    with pytest.warns(UnavailableFiguresWarning, match="peak TFLOP/s unknown for this CPU"):
        eval_metrics = trainer.evaluate()  # after a completed train(): the run is finished
    assert "eval_accuracy" in eval_metrics and "eval_inference_time" in eval_metrics
    assert json.loads(path.read_text())["status"] == "finished"
    assert trainer.finish_timing_results() == path  # nothing left to do
    data = json.loads(path.read_text())
    validate_results(data)
    assert data["status"] == "finished"
    assert data["finetuning_time"] == min(data["finetuning_time_list"])
    assert data["train_steps"] == 10
    assert data["config"]["finetuning_iters"] == 3
    assert data["config"]["n_train_samples"] == 40
    assert data["environment"]["device"] == "cpu"
    assert data["flops_per_token"] > 0
    assert data["eval_metrics"]["eval_accuracy"] == eval_metrics["eval_accuracy"]
    assert not any("inference" in key or "runtime" in key for key in data["eval_metrics"])


def test_one_latency_per_eval_batch(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path),
                            eval_dataset=token_dataset(20, seed=1), compute_metrics=accuracy)
    metrics = trainer.evaluate()
    data = trainer.timing_results.to_dict()
    latencies = data["inference_time_list"]
    assert len(latencies) == 3  # batches of 8, 8 and 4
    assert data["evaluations"][0]["inference_batch_sizes"] == [8, 8, 4]
    assert data["inference_time"] == min(latencies[:2])  # the partial batch is left out
    assert metrics["eval_inference_time"] == data["inference_time"]
    assert metrics["eval_inference_time_list"] == latencies
    assert data["inference_timer"] == "host"
    assert sum(latencies) <= data["inference_total_time"]
    # The forward alone, per batch: nested inside each prediction_step on the same clock.
    forwards = data["forward_time_list"]
    assert len(forwards) == 3 and all(0 < f <= t for f, t in zip(forwards, latencies))
    assert data["forward_time"] == min(forwards[:2])
    assert metrics["eval_forward_time_list"] == forwards
    assert metrics["eval_forward_time"] == data["forward_time"]
    assert metrics["eval_forward_time_median"] == data["forward_time_median"]


def test_two_evaluation_sets_like_mnli(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path),
                            eval_dataset=token_dataset(16, seed=1), compute_metrics=accuracy)
    trainer.evaluate()
    trainer.evaluate(eval_dataset=token_dataset(24, seed=2), metric_key_prefix="eval_mm")
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert [e["name"] for e in data["evaluations"]] == ["eval", "eval_mm"]
    assert set(data["eval_metrics"]) == {"eval_accuracy", "eval_loss", "eval_mm_accuracy",
                                         "eval_mm_loss"}
    assert len(data["inference_time_list"]) == 2  # the "eval" set's batches only
    assert len(data["evaluations"][1]["inference_time_list"]) == 3


def test_predict_is_timed(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path))
    output = trainer.predict(token_dataset(10, seed=3))
    assert output.predictions.shape == (10, 2)
    assert "test_inference_time" in output.metrics
    assert trainer.timing_results.evaluations[0].name == "test"


class EventCounter(TrainerCallback):
    """Every event a callback sees, and the step counter at each step end."""

    def __init__(self):
        self.events, self.steps = [], []

    def on_train_begin(self, *args, **kwargs):
        self.events.append("train_begin")

    def on_train_end(self, *args, **kwargs):
        self.events.append("train_end")

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)

    def on_log(self, *args, **kwargs):
        self.events.append("log")


def test_warmup_is_invisible_to_callbacks_and_counters(tmp_path):
    counter = EventCounter()
    args = _args(tmp_path, finetuning_iters=2, timing_warmup_steps=4, num_train_epochs=1,
                 logging_steps=1, eval_strategy="steps", eval_steps=1)
    trainer = TimingTrainer(model=tiny_bert(), args=args, train_dataset=token_dataset(24),
                            eval_dataset=token_dataset(8), callbacks=[counter])
    trainer.train()
    # Two timed iterations of 3 steps each; the 4 warm-up steps are nowhere.
    assert counter.events.count("train_begin") == 2 and counter.events.count("train_end") == 2
    assert counter.steps == [1, 2, 3, 1, 2, 3]
    # a loss line per step, an evaluation line per step, a summary per run
    assert counter.events.count("log") == 2 * 3 * 2 + 2
    # the warm-up never evaluates; each timed run evaluates at each of its steps, named by step
    evaluations = trainer.timing_results.evaluations
    assert [(e.iteration, e.step) for e in evaluations] == [(1, 1), (1, 2), (1, 3),
                                                             (2, 1), (2, 2), (2, 3)]
    assert trainer.state.global_step == 3 and trainer.args.max_steps == -1
    assert trainer.timing_results.setup_time_parts["warmup"] > 0
    assert trainer.timing_results.config["timing_warmup_steps"] == 4


def test_warmup_can_be_turned_off(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, finetuning_iters=1,
                                                          timing_warmup_steps=0),
                            train_dataset=token_dataset(8))
    trainer.train()
    assert "warmup" not in trainer.timing_results.setup_time_parts
    with pytest.raises(ValueError, match="timing_warmup_steps must be an integer >= 0"):
        _args(tmp_path, timing_warmup_steps=-1)


def test_high_cv_warns(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(),
                            args=_args(tmp_path, finetuning_iters=2, cv_warning_threshold=1e-12,
                                       num_train_epochs=1),
                            train_dataset=token_dataset(16))
    with pytest.warns(TimingNoiseWarning, match="CV"):
        trainer.train()


def test_failure_is_recorded_with_its_kind(tmp_path):
    class OutOfMemory(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            raise RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB")

    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path), train_dataset=token_dataset(16),
                            callbacks=[OutOfMemory()])
    with pytest.raises(RuntimeError, match="out of memory"):
        trainer.train()
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert data["status"] == "failed" and data["error"]["kind"] == "oom"


def test_hf_argument_parser_exposes_the_timing_options(tmp_path):
    parser = HfArgumentParser(TimingTrainingArguments)
    (args,) = parser.parse_args_into_dataclasses(
        ["--output_dir", str(tmp_path), "--finetuning_iters", "5", "--peak_tflops", "312",
         "--inference_warmup_batches", "2", "--use_cpu", "--report_to", "none"])
    assert args.finetuning_iters == 5 and args.peak_tflops == 312.0
    assert args.inference_warmup_batches == 2
    help_text = parser.format_help()
    assert "--finetuning_iters" in help_text and "same initial state" in help_text


def test_peak_tflops_override_gives_mfu(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(),
                            args=_args(tmp_path, finetuning_iters=1, peak_tflops=0.001),
                            train_dataset=token_dataset(16))
    metrics = trainer.train().metrics
    assert metrics["mfu_train"] is not None and metrics["mfu_train"] > 0


@pytest.mark.parametrize("iters", [0, -2])
def test_finetuning_iters_below_one_is_an_error(tmp_path, iters):
    with pytest.raises(ValueError, match="finetuning_iters must be an integer >= 1"):
        _args(tmp_path, finetuning_iters=iters)
    with pytest.raises(ValueError, match="finetuning_iters"):
        HfArgumentParser(TimingTrainingArguments).parse_args_into_dataclasses(
            ["--output_dir", str(tmp_path), "--finetuning_iters", str(iters)])


def test_evaluate_without_an_eval_dataset_is_an_error(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path), train_dataset=token_dataset(8))
    with pytest.raises(ValueError, match="needs an evaluation dataset"):
        trainer.evaluate()


def test_unwritable_output_folder_is_an_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("a file where the output folder should be")
    with pytest.raises(ResultsWriteError, match="not writable"):
        TimingTrainer(model=tiny_bert(), args=_args(tmp_path, output_dir=str(blocker / "out")))
    # The folder disappears (or turns read-only) after construction: the save says so.
    out = tmp_path / "out"
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, write_timing_results=False),
                            eval_dataset=token_dataset(8))
    trainer.evaluate()
    out.rmdir()
    out.write_text("now a file")
    with pytest.raises(ResultsWriteError, match="not writable"):
        trainer.save_timing_results()


def test_save_timing_results_to_a_chosen_path(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, write_timing_results=False),
                            eval_dataset=token_dataset(8))
    trainer.evaluate()
    assert not (tmp_path / "out" / RESULTS_FILENAME).exists()
    trainer.timing_results.config["task_name"] = "rte"
    path = trainer.save_timing_results(tmp_path / "elsewhere.json")
    data = json.loads(path.read_text())
    assert data["config"]["task_name"] == "rte"
    assert trainer.save_timing_results(tmp_path).name == RESULTS_FILENAME


def test_resume_with_several_iterations_is_refused(tmp_path):
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path), train_dataset=token_dataset(8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="finetuning_iters=1"):
            trainer.train(resume_from_checkpoint=str(tmp_path))


@pytest.mark.gpu
def test_cuda_run_uses_events_peak_memory_and_mfu(tmp_path):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    from timing_trainer.results.flops import gpu_family

    recorder = StepRecorder()
    trainer = TimingTrainer(model=tiny_bert(), args=_args(tmp_path, use_cpu=False, finetuning_iters=2),
                            train_dataset=token_dataset(40), eval_dataset=token_dataset(20, seed=1),
                            compute_metrics=accuracy, callbacks=[recorder])
    trainer.train()
    trainer.evaluate()
    data = json.loads((tmp_path / "out" / RESULTS_FILENAME).read_text())
    validate_results(data)
    env = data["environment"]
    assert env["device"] == "cuda" and env["gpu_name"] and env["gpu_count"] >= 1
    assert env["cuda_version"]
    assert data["inference_timer"] == "cuda_event"
    latencies = data["inference_time_list"]
    assert len(latencies) == 3 and all(t > 0 for t in latencies)
    assert sum(latencies) <= data["inference_total_time"] * 1.05
    # The forward's events are recorded inside each prediction_step's, on the same stream.
    forwards = data["forward_time_list"]
    assert len(forwards) == 3 and all(0 < f <= t for f, t in zip(forwards, latencies))
    assert data["forward_time"] is not None and "warmup" in data["setup_time_parts"]
    assert 0 < data["train_real_tokens"] <= data["train_tokens"]
    assert data["peak_memory_train_bytes"] > 0 and data["peak_memory_eval_bytes"] > 0
    first, second = recorder.iterations
    assert first["lr"] == second["lr"]
    assert torch.equal(first["start_weights"], second["start_weights"])
    if gpu_family(env["gpu_name"]):
        assert data["peak_tflops"] > 0
        assert 0 < data["mfu_train"] < 1 and 0 < data["mfu_eval"] < 1
