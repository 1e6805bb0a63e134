"""`TimingTrainer`: transformers' Trainer that times fine-tuning and inference honestly.

How it hooks in (robust hooks, none of transformers' loops copied):
- `train()` runs `Trainer.train()` `finetuning_iters` times. Before each run the initial weights
  are copied back in place, the optimizer and LR scheduler are dropped so the Trainer rebuilds
  them (or a user-supplied pair is reloaded from its initial state), and the RNG is reseeded.
  The Trainer itself makes a fresh `TrainerState` (step and epoch counters) and data loader.
- The clock: the callback handler's `on_step_begin`/`on_step_end` are wrapped, so the stopwatch
  starts after the other callbacks' `on_step_begin` of the first step and stops before theirs
  of the last optimizer step, device synchronized and ranks aligned at both ends. Data loader
  construction, optimizer creation and accelerate's `prepare` happen before the first step and
  are reported as setup time ("train_setup").
- Inside the timed region we only count shapes (no host sync, no logging, no file I/O).
  Evaluation and checkpoint saving inside the loop are switched off while timing, unless
  `eval_and_save_while_timing` is set.
- `evaluation_loop` (and a 4.x `prediction_loop`) is timed whole with the stopwatch;
  `prediction_step` is timed per batch with CUDA events (read once, at the end) or the host
  clock on CPU.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any

from transformers import Trainer, TrainerCallback
from transformers.trainer_utils import TrainOutput, enable_full_determinism, set_seed

from timing_trainer import distributed
from timing_trainer.arguments import TimingOptions, timing_options_for
from timing_trainer.clock import Stopwatch, device_type, interval_timer_for
from timing_trainer.environment import collect_environment, precision_of
from timing_trainer.flops import forward_flops_per_token, peak_tflops
from timing_trainer.measurement import is_noisy
from timing_trainer.results import (
    EvaluationRecord,
    ResultsWriteError,
    TimingResults,
    classify_error,
    is_metric_key,
)
from timing_trainer.schema import RESULTS_FILENAME
from timing_trainer.wandb_logging import WandbReporter, reports_to_wandb, wandb_config

logger = logging.getLogger(__name__)


class TimingNoiseWarning(UserWarning):
    """The repeated fine-tuning times spread more than the CV threshold: the machine was noisy."""


class _BatchCounter:
    """Samples, padded tokens and model FLOPs of the batches seen; shapes only, no device sync."""

    def __init__(self, model_config: Any, training: bool):
        self._config = model_config
        self._factor = 3.0 if training else 1.0
        self._fpt_cache: dict[int, float | None] = {}
        self.samples = 0
        self.tokens = 0
        self.flops = 0.0
        self.flops_known = model_config is not None

    def add(self, inputs: Any) -> int | None:
        """Count one batch; returns its batch size (None when no tensor tells it)."""
        shape = _batch_shape(inputs)
        if shape is None:
            self.flops_known = False
            return None
        batch, seq = shape
        self.samples += batch
        if seq is not None:
            self.tokens += batch * seq
            if self.flops_known:
                fpt = self._fpt_cache.get(seq, 0.0)
                if fpt == 0.0:
                    fpt = forward_flops_per_token(self._config, seq)
                    self._fpt_cache[seq] = fpt
                if fpt is None:
                    self.flops_known = False
                else:
                    self.flops += self._factor * fpt * batch * seq
        return batch


def _batch_shape(inputs: Any) -> tuple[int, int | None] | None:
    """(batch size, sequence length) of a batch dict from tensor shapes (host metadata only)."""
    if not isinstance(inputs, dict):
        return None
    for key in ("input_ids", "inputs_embeds", "attention_mask"):
        value = inputs.get(key)
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 2:
            return int(shape[0]), int(shape[1])
    for value in inputs.values():
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 1:
            return int(shape[0]), (int(shape[1]) if len(shape) >= 2 else None)
    return None


class _TrainIteration:
    """The clock and counters of one fine-tuning iteration."""

    def __init__(self, stopwatch: Stopwatch, counter: _BatchCounter):
        self.stopwatch = stopwatch
        self.counter = counter
        self.called_at = time.perf_counter()
        self.setup_seconds: float | None = None
        self.started = False
        self.elapsed: float | None = None


class _EvalSaveGate(TrainerCallback):
    """Keeps evaluation and checkpoint saving out of the timed loop while `closed`."""

    def __init__(self) -> None:
        self.closed = False

    def _gate(self, control):
        if self.closed:
            control.should_evaluate = False
            control.should_save = False
        return control

    def on_step_end(self, args, state, control, **kwargs):
        return self._gate(control)

    def on_epoch_end(self, args, state, control, **kwargs):
        return self._gate(control)


def _peak_memory_reset(device: Any) -> None:
    if device_type(device) == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats(device)


def _peak_memory(device: Any) -> int | None:
    if device_type(device) == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated(device))
    return None


class TimingTrainer(Trainer):
    """A `transformers.Trainer` whose `train()` and `evaluate()` are timed; same constructor,
    plus an optional `timing_options` (else taken from `TimingTrainingArguments`)."""

    # patch_trainer() sets this on the subclass it installs as transformers.Trainer.
    _default_timing_options: TimingOptions | None = None

    def __init__(self, *args: Any, timing_options: TimingOptions | None = None, **kwargs: Any):
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        _check_output_dir(getattr(training_args, "output_dir", None))
        super().__init__(*args, **kwargs)
        self.timing_options = timing_options_for(
            self.args, timing_options or type(self)._default_timing_options)
        precision = precision_of(self.args)
        environment = collect_environment(precision)
        self.timing_results = TimingResults(config=self._base_config(precision),
                                            environment=environment)
        results = self.timing_results
        results.n_devices = (self.args.world_size if self.args.world_size > 1
                             else max(1, getattr(self.args, "n_gpu", 1) or 1))
        results.peak_tflops = self.timing_options.peak_tflops or (
            peak_tflops(environment.get("gpu_name"), precision)
            if environment.get("device") == "cuda" else None)
        self._wandb = WandbReporter(reports_to_wandb(self.args), self.is_world_process_zero(),
                                    getattr(self.args, "run_name", None))
        self._user_optimizer = self.optimizer
        self._user_scheduler = self.lr_scheduler
        self._iteration: _TrainIteration | None = None
        self._batch_timer: Any = None
        self._eval_counter: _BatchCounter | None = None
        self._eval_batch_sizes: list[int] = []
        self._gate = _EvalSaveGate()
        self.add_callback(self._gate)
        self._install_clock_hooks()

    # --- configuration -----------------------------------------------------------------------
    def _base_config(self, precision: str) -> dict[str, Any]:
        args = self.args
        model_config = getattr(self.model, "config", None)
        config: dict[str, Any] = {
            "model_name_or_path": getattr(model_config, "_name_or_path", None) or None,
            "per_device_train_batch_size": args.per_device_train_batch_size,
            "per_device_eval_batch_size": args.per_device_eval_batch_size,
            "gradient_accumulation_steps": args.gradient_accumulation_steps,
            "learning_rate": args.learning_rate,
            "num_train_epochs": args.num_train_epochs,
            "max_steps": args.max_steps,
            "finetuning_iters": self.timing_options.finetuning_iters,
            "inference_warmup_batches": self.timing_options.inference_warmup_batches,
            "seed": args.seed,
            "precision": precision,
            "world_size": args.world_size,
        }
        for key, dataset in (("n_train_samples", self.train_dataset),
                             ("n_eval_samples", self.eval_dataset)):
            try:
                config[key] = len(dataset) if dataset is not None else None
            except TypeError:
                config[key] = None
        return config

    # --- the clock's hooks -------------------------------------------------------------------
    def _install_clock_hooks(self) -> None:
        """Wrap the callback handler's step events (instance attributes; the class is untouched)."""
        handler = self.callback_handler
        original_begin = handler.on_step_begin
        original_end = handler.on_step_end
        original_train_begin = handler.on_train_begin
        original_train_end = handler.on_train_end

        def on_train_begin(args, state, control, **kwargs):
            control = original_train_begin(args, state, control, **kwargs)
            iteration = self._iteration
            if iteration is not None:
                if iteration.started and iteration.elapsed is None:
                    # auto_find_batch_size restarted the loop after an OOM: start afresh.
                    iteration.stopwatch.reset()
                    iteration.started = False
                    iteration.counter = _BatchCounter(iteration.counter._config, training=True)
                self._reseed()  # after the callbacks (a W&B run start may draw random numbers)
            return control

        def on_step_begin(args, state, control, **kwargs):
            control = original_begin(args, state, control, **kwargs)
            iteration = self._iteration
            if iteration is not None and not iteration.started:
                iteration.setup_seconds = time.perf_counter() - iteration.called_at
                iteration.started = True
                iteration.stopwatch.start()  # barrier, synchronize, read the clock
            return control

        def on_step_end(args, state, control, **kwargs):
            iteration = self._iteration
            if (iteration is not None and iteration.started and iteration.elapsed is None
                    and state.global_step >= state.max_steps):
                iteration.elapsed = iteration.stopwatch.stop()  # synchronize, barrier, clock
            return original_end(args, state, control, **kwargs)

        def on_train_end(args, state, control, **kwargs):
            iteration = self._iteration
            if iteration is not None and iteration.started and iteration.elapsed is None:
                # Stopped early (a callback set should_training_stop): stop here.
                iteration.elapsed = iteration.stopwatch.stop()
            return original_train_end(args, state, control, **kwargs)

        handler.on_train_begin = on_train_begin
        handler.on_step_begin = on_step_begin
        handler.on_step_end = on_step_end
        handler.on_train_end = on_train_end

    def _reseed(self) -> None:
        if self.args.full_determinism:
            enable_full_determinism(self.args.seed)
        else:
            set_seed(self.args.seed)

    def training_step(self, model, inputs, *args: Any, **kwargs: Any):
        iteration = self._iteration
        if iteration is not None:
            iteration.counter.add(inputs)  # shapes only
        return super().training_step(model, inputs, *args, **kwargs)

    # --- fine-tuning -------------------------------------------------------------------------
    def _snapshot_initial_state(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = {}
        if self.model_init is None:
            snapshot["model"] = {k: v.detach().to("cpu", copy=True)
                                 for k, v in self.model.state_dict().items()}
        if self._user_optimizer is not None:
            import copy

            snapshot["optimizer"] = copy.deepcopy(self._user_optimizer.state_dict())
        if self._user_scheduler is not None:
            import copy

            snapshot["scheduler"] = copy.deepcopy(self._user_scheduler.state_dict())
        return snapshot

    def _restore_initial_state(self, snapshot: dict[str, Any]) -> None:
        """Weights copied back in place (parameter identity kept), optimizer and scheduler fresh."""
        if "model" in snapshot:
            self.model.load_state_dict(snapshot["model"])
        if self._user_optimizer is not None:
            self._user_optimizer.load_state_dict(snapshot["optimizer"])
        self.optimizer = self._user_optimizer  # None: the Trainer builds a new one
        if self._user_scheduler is not None:
            self._user_scheduler.load_state_dict(snapshot["scheduler"])
        self.lr_scheduler = self._user_scheduler
        self._reseed()

    def train(self, resume_from_checkpoint: str | bool | None = None, trial: Any = None,
              ignore_keys_for_eval: list[str] | None = None, **kwargs: Any) -> TrainOutput:
        """Fine-tune `finetuning_iters` times from the same initial state; time every run.

        Returns the last iteration's TrainOutput; its metrics hold the timing figures
        (`finetuning_time` is the minimum). The model is the last iteration's.
        """
        iters = self.timing_options.finetuning_iters
        if resume_from_checkpoint not in (None, False) and iters > 1:
            raise ValueError("resume_from_checkpoint repeats a partial run; use finetuning_iters=1 "
                             f"with it (got finetuning_iters={iters})")
        if self.train_dataset is None:
            raise ValueError("TimingTrainer.train() needs a train_dataset")
        try:
            return self._timed_train(iters, resume_from_checkpoint, trial, ignore_keys_for_eval,
                                     **kwargs)
        except BaseException as exc:
            self._record_failure(exc)
            raise

    def _timed_train(self, iters, resume_from_checkpoint, trial, ignore_keys_for_eval, **kwargs):
        results = self.timing_results
        self._wandb.update_config(self._wandb_config())
        snapshot = self._snapshot_initial_state()
        wandb_callbacks = [cb for cb in self.callback_handler.callbacks
                           if type(cb).__name__ == "WandbCallback"]
        model_config = getattr(self.model, "config", None)
        times: list[float] = []
        counters: list[_BatchCounter] = []
        peaks: list[int] = []
        output: TrainOutput | None = None
        self._gate.closed = not self.timing_options.eval_and_save_while_timing
        try:
            for index in range(iters):
                self._restore_initial_state(snapshot)
                _peak_memory_reset(self.args.device)
                iteration = _TrainIteration(
                    Stopwatch.for_device(self.args.device, barrier=distributed.barrier),
                    _BatchCounter(model_config, training=True))
                # transformers' W&B callback would log a model artifact at every train end.
                silenced = [] if index == iters - 1 else wandb_callbacks
                for callback in silenced:
                    callback.on_train_end = _noop_event
                self._iteration = iteration
                try:
                    output = super().train(resume_from_checkpoint=resume_from_checkpoint,
                                           trial=trial, ignore_keys_for_eval=ignore_keys_for_eval,
                                           **kwargs)
                finally:
                    self._iteration = None
                    for callback in silenced:
                        del callback.on_train_end
                if iteration.elapsed is None:
                    raise RuntimeError("no training step ran: the training data or max_steps give "
                                       "zero optimizer steps")
                seconds = distributed.max_across_ranks(iteration.elapsed)  # slowest rank
                times.append(seconds)
                counters.append(iteration.counter)
                peak = _peak_memory(self.args.device)
                if peak is not None:
                    peaks.append(int(distributed.max_across_ranks(peak)))
                if index == 0 and iteration.setup_seconds is not None:
                    results.add_setup_time("train_setup", iteration.setup_seconds)
                logger.info("fine-tuning iteration %d/%d: %.4f s", index + 1, iters, seconds)
                self._wandb.log_iteration(index, seconds)
        finally:
            self._gate.closed = False

        last = counters[-1]
        results.finetuning_times = times
        results.train_steps = output.global_step
        results.train_samples = int(distributed.sum_across_ranks(last.samples)) or None
        results.train_tokens = int(distributed.sum_across_ranks(last.tokens)) or None
        flops = distributed.sum_across_ranks(last.flops if last.flops_known else math.nan)
        results.train_flops = flops if math.isfinite(flops) and flops > 0 else None
        results.peak_memory_train_bytes = max(peaks) if peaks else None
        measurement = results.finetuning()
        if is_noisy(measurement, self.timing_options.cv_warning_threshold) and \
                self.is_world_process_zero():
            warnings.warn(
                f"fine-tuning times vary: CV {measurement.cv:.1%} over {measurement.n} iterations "
                f"exceeds {self.timing_options.cv_warning_threshold:.1%}; the machine was noisy "
                "(the minimum, finetuning_time, is the robust figure)",
                TimingNoiseWarning, stacklevel=3)

        figures = results.to_dict()
        metrics = dict(output.metrics)
        for key in ("finetuning_time", "finetuning_time_list", "finetuning_time_median",
                    "finetuning_time_mean", "finetuning_time_std", "finetuning_time_cv",
                    "train_samples_per_second", "train_tokens_per_second", "setup_time",
                    "peak_memory_train_bytes", "flops_per_token", "mfu_train"):
            metrics[key] = figures[key]
        self._after_measurement()
        return TrainOutput(output.global_step, output.training_loss, metrics)

    # --- inference ---------------------------------------------------------------------------
    def evaluate(self, eval_dataset: Any = None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        """Evaluate with the loop timed; the metrics gain `{prefix}_inference_time` etc."""
        if eval_dataset is None and self.eval_dataset is None:
            raise ValueError("TimingTrainer.evaluate() needs an evaluation dataset: pass "
                             "eval_dataset= to the trainer or to evaluate()")
        try:
            metrics = super().evaluate(eval_dataset, ignore_keys=ignore_keys,
                                       metric_key_prefix=metric_key_prefix)
        except BaseException as exc:
            self._record_failure(exc)
            raise
        if not self.is_in_train:  # an evaluation inside the training loop waits for train()
            self._after_measurement()
        return metrics

    def predict(self, test_dataset: Any, ignore_keys: list[str] | None = None,
                metric_key_prefix: str = "test"):
        try:
            output = super().predict(test_dataset, ignore_keys=ignore_keys,
                                     metric_key_prefix=metric_key_prefix)
        except BaseException as exc:
            self._record_failure(exc)
            raise
        if not self.is_in_train:
            self._after_measurement()
        return output

    def evaluation_loop(self, dataloader, description, prediction_loss_only=None,
                        ignore_keys=None, metric_key_prefix="eval"):
        return self._timed_loop(super().evaluation_loop, dataloader, description,
                                prediction_loss_only, ignore_keys, metric_key_prefix)

    if hasattr(Trainer, "prediction_loop"):  # transformers 4.x's legacy loop

        def prediction_loop(self, dataloader, description, prediction_loss_only=None,
                            ignore_keys=None, metric_key_prefix="eval"):
            return self._timed_loop(super().prediction_loop, dataloader, description,
                                    prediction_loss_only, ignore_keys, metric_key_prefix)

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        timer = self._batch_timer
        if timer is None:
            return super().prediction_step(model, inputs, prediction_loss_only,
                                           ignore_keys=ignore_keys)
        batch = self._eval_counter.add(inputs)  # shapes only
        self._eval_batch_sizes.append(batch if batch is not None else 0)
        timer.start()  # a CUDA event (no sync) or the host clock
        out = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
        timer.stop()
        return out

    def _timed_loop(self, loop, dataloader, description, prediction_loss_only, ignore_keys,
                    metric_key_prefix):
        if self._batch_timer is not None:  # a loop inside a loop: time the outer one only
            return loop(dataloader, description, prediction_loss_only, ignore_keys,
                        metric_key_prefix)
        device = self.args.device
        options = self.timing_options
        in_train = self.is_in_train
        if not in_train:
            _peak_memory_reset(device)
        timer = interval_timer_for(device)
        self._eval_counter = _BatchCounter(getattr(self.model, "config", None), training=False)
        self._eval_batch_sizes = []
        preparation_before = getattr(self, "model_preparation_time", None)
        stopwatch = Stopwatch.for_device(device, barrier=distributed.barrier)
        self._batch_timer = timer
        stopwatch.start()
        try:
            output = loop(dataloader, description, prediction_loss_only, ignore_keys,
                          metric_key_prefix)
            elapsed = stopwatch.stop()
        finally:
            self._batch_timer = None
        # --- outside the timed region from here on ---
        preparation = getattr(self, "model_preparation_time", None)
        if preparation is not None and preparation_before is None:
            elapsed = max(0.0, elapsed - float(preparation))  # one-off model wrapping
        counter = self._eval_counter
        record = EvaluationRecord(
            name=metric_key_prefix,
            total_time=distributed.max_across_ranks(elapsed),
            batch_times=timer.elapsed_seconds(),  # the one synchronize for the events
            batch_sizes=list(self._eval_batch_sizes),
            batch_size=self.args.eval_batch_size,
            n_samples=int(output.num_samples) if output.num_samples is not None else None,
            n_tokens=int(distributed.sum_across_ranks(counter.tokens)) or None,
            timer=timer.kind,
            warmup_batches=options.inference_warmup_batches,
            metrics={k: v for k, v in (output.metrics or {}).items() if is_metric_key(k)},
            peak_memory_bytes=None if in_train else _peak_memory(device),
        )
        flops = distributed.sum_across_ranks(counter.flops if counter.flops_known else math.nan)
        record.flops = flops if math.isfinite(flops) and flops > 0 else None
        self.timing_results.add_evaluation(record)
        figures = record.to_dict()
        if output.metrics is not None:
            for key in ("inference_time", "inference_total_time", "inference_time_median",
                        "inference_time_p90", "inference_samples_per_second"):
                output.metrics[f"{metric_key_prefix}_{key}"] = figures[key]
        return output

    # --- results -----------------------------------------------------------------------------
    def _wandb_config(self) -> dict[str, Any]:
        return wandb_config(self.args, self.timing_options, self.timing_results.config,
                            self.timing_results.environment)

    def _after_measurement(self) -> None:
        """Push figures to W&B and write the results file (rank 0; outside any timed region)."""
        if not self.is_world_process_zero():
            return
        self._wandb.update_config(self._wandb_config())
        if self.timing_options.write_timing_results and self.args.output_dir:
            self.save_timing_results()  # also updates the W&B summary
        else:
            self._wandb.update_summary(self.timing_results.summary())

    def _record_failure(self, exc: BaseException) -> None:
        """Mark the results failed, write them and fail the W&B run; never raises."""
        try:
            if self.timing_results.status != "failed":
                self.timing_results.mark_failed(classify_error(exc),
                                                f"{type(exc).__name__}: {exc}")
            if self.is_world_process_zero() and self.timing_options.write_timing_results \
                    and self.args.output_dir:
                self.save_timing_results()
            elif self.is_world_process_zero():
                self._wandb.update_summary(self.timing_results.summary())
                self._wandb.finish_failed()
        except Exception as inner:  # noqa: BLE001 - the original error matters more
            logger.warning("could not record the failure in the timing results: %s", inner)

    def save_timing_results(self, path: str | Path | None = None) -> Path:
        """Write `timing_results.json` (into `args.output_dir` by default) atomically, on rank 0.

        `path` may be a file or a folder. Returns the file's path on every rank. A failed run
        also ends its W&B run as failed.
        """
        target = Path(path) if path is not None else Path(self.args.output_dir) / RESULTS_FILENAME
        if target.is_dir():
            target = target / RESULTS_FILENAME
        if not self.is_world_process_zero():
            return target
        results = self.timing_results
        for key, value in self._base_config(results.environment.get("precision") or "fp32").items():
            if results.config.get(key) is None:
                results.config[key] = value
        folder = target.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            results.save(target)
        except OSError as exc:
            raise ResultsWriteError(
                f"cannot write timing results to {target}: the output folder is not writable "
                f"({exc.strerror or exc})") from exc
        self._wandb.update_summary(results.summary())
        if results.status == "failed":
            self._wandb.finish_failed()
        return target


def _check_output_dir(output_dir: Any) -> None:
    """Fail at construction, in one line, when the results could never be written."""
    if not output_dir:
        return
    import os

    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as exc:
        raise ResultsWriteError(f"output folder {output_dir} is not writable "
                                f"({exc.strerror or exc})") from exc
    if not os.access(output_dir, os.W_OK):
        raise ResultsWriteError(f"output folder {output_dir} is not writable")


def _noop_event(*args: Any, **kwargs: Any) -> None:
    return None
