"""`TimingTrainer`: transformers' Trainer that times fine-tuning and inference honestly.

How it hooks in (robust hooks, none of transformers' loops copied):
- `train()` warms up (timing_trainer.clocks.warmup), then runs `Trainer.train()` `finetuning_iters`
  times. Before each run the initial weights are copied back in place, the optimizer and LR
  scheduler are dropped so the Trainer rebuilds them (or a user-supplied pair is reloaded from
  its initial state), and the RNG is reseeded. The Trainer makes a fresh `TrainerState` (step and
  epoch counters) and data loader itself. The clock: timing_trainer.clocks.training.
- Inside a timed region we only count shapes and queue attention-mask sums (timing_trainer.
  batches): no host sync, no logging, no file I/O. Evaluation and checkpoint saving inside the
  loop are off while timing, unless `eval_and_save_while_timing` is set.
- Evaluation is timed whole, per `prediction_step` and per model forward
  (timing_trainer.clocks.evaluation).
- Energy is read at the stopwatch's boundaries only (timing_trainer.energy): joules per timed
  iteration and per evaluation loop, summed over the ranks after the clock has stopped.
- The results file says `running` from its first write (the start of `train()`/`evaluate()`)
  until `finish_timing_results()` (or the exit fallback of timing_trainer.runtime.lifecycle).
  The trainer's `TrainerResults` (timing_trainer.results.recorder) writes, fails and finishes it.
"""

from __future__ import annotations

import copy
import functools
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from transformers import Trainer
from transformers.trainer_utils import TrainOutput, enable_full_determinism, set_seed

from timing_trainer import energy
from timing_trainer.arguments import TimingOptions, run_config, timing_options_for
from timing_trainer.clocks.batches import BatchCounter
from timing_trainer.clocks.evaluation import EvalLoopTiming
from timing_trainer.clocks.stopwatch import Stopwatch, peak_memory, reset_peak_memory
from timing_trainer.clocks.training import (
    EvalSaveGate,
    IterationRun,
    TrainIteration,
    install_clock_hooks,
)
from timing_trainer.clocks.warmup import run_warmup
from timing_trainer.errors import TimingNoiseWarning
from timing_trainer.results.figures import EVAL_LIST_KEYS, EVAL_METRIC_KEYS, TRAIN_METRIC_KEYS
from timing_trainer.results.flops import peak_tflops
from timing_trainer.results.measurement import is_noisy
from timing_trainer.results.recorder import TrainerResults, check_output_dir
from timing_trainer.results.run_results import TimingResults, is_metric_key
from timing_trainer.results.summary_line import evaluate_line, train_line
from timing_trainer.results.wandb_logging import (
    WandbReporter,
    quiet_wandb_train_end,
    reports_to_wandb,
)
from timing_trainer.runtime import distributed
from timing_trainer.runtime.distributed import on_main_process
from timing_trainer.runtime.environment import collect_environment, precision_of
from timing_trainer.runtime.masking import mask_argv

logger = logging.getLogger(__name__)


class TimingTrainer(Trainer):
    """A `transformers.Trainer` whose `train()` and `evaluate()` are timed; same constructor,
    plus an optional `timing_options` (else taken from `TimingTrainingArguments`)."""

    # patch_trainer() sets these on the subclass it installs as transformers.Trainer.
    _default_timing_options: TimingOptions | None = None
    _default_tags: dict[str, Any] = {}
    _print_summary_lines = False

    def __init__(self, *args: Any, timing_options: TimingOptions | None = None, **kwargs: Any):
        training_args = kwargs.get("args", args[1] if len(args) > 1 else None)
        check_output_dir(getattr(training_args, "output_dir", None))
        if reports_to_wandb(training_args):
            sys.argv[:] = mask_argv(sys.argv)  # before W&B can record the command line
        super().__init__(*args, **kwargs)
        self.timing_options = timing_options_for(
            self.args, timing_options or type(self)._default_timing_options)
        precision = precision_of(self.args, getattr(self, "accelerator", None))
        environment = collect_environment(precision)
        results = self.timing_results = TimingResults(config=self._base_config(precision),
                                                      environment=environment)
        results.config.update(type(self)._default_tags)
        results.n_devices = (self.args.world_size if self.args.world_size > 1
                             else max(1, getattr(self.args, "n_gpu", 1) or 1))
        results.peak_tflops = self.timing_options.peak_tflops or (
            peak_tflops(environment.get("gpu_name"), precision)
            if environment.get("device") == "cuda" else None)
        self.energy_meter = energy.meter_for(  # read at the clock's boundaries only
            self.args.device, getattr(self.args, "n_gpu", 1),
            getattr(self.args, "local_process_index", 0) == 0)
        results.energy_source = self.energy_meter.source
        results.notes.update(self.energy_meter.notes())
        self._wandb = WandbReporter(reports_to_wandb(self.args), self.is_world_process_zero(),
                                    getattr(self.args, "run_name", None))
        self._results = TrainerResults(self, self._wandb, config_defaults=self._base_config)
        self._user_optimizer = self.optimizer
        self._user_scheduler = self.lr_scheduler
        # Read by the clock hooks at every step event: plain attributes, no call on the timed path.
        self.timing_iteration: TrainIteration | None = None  # the iteration being timed, or None
        self._eval_timing: EvalLoopTiming | None = None
        self.eval_save_gate = EvalSaveGate()  # evaluation and saving off the clock
        self.add_callback(self.eval_save_gate)
        install_clock_hooks(self, reseed=self._reseed)
        self._results.check_wandb_login()

    # --- results -----------------------------------------------------------------------------
    def save_timing_results(self, path: str | Path | None = None) -> Path:
        """Write `timing_results.json` (into `args.output_dir` by default) atomically, on rank 0.

        `path` may be a file or a folder. Returns the file's path on every rank. A failed run
        also ends its W&B run as failed. The status stays as it is (`running` until
        `finish_timing_results()`).
        """
        return self._results.save(path)

    def finish_timing_results(self) -> Path | None:
        """The run has ended: status `finished` (a failed run stays failed), the final write,
        and one warning naming the figures that could not be computed. Call it after the last
        `train()`/`evaluate()`; without it, the exit fallback of timing_trainer.runtime.lifecycle does
        the same when the interpreter ends normally. Returns the file's path (None when no
        file is written)."""
        writer = self._results.writer_to_finish()
        if writer is None:  # not rank 0
            return self._results.path
        return writer.close("finished")  # called here, so its warning names our caller

    @on_main_process
    def _print_line(self, line: str) -> None:
        if type(self)._print_summary_lines:
            print(line, file=sys.stderr, flush=True)

    # --- configuration -----------------------------------------------------------------------
    def _base_config(self, precision: str) -> dict[str, Any]:
        model_config = getattr(self.model, "config", None)
        config: dict[str, Any] = {
            "model_name_or_path": getattr(model_config, "_name_or_path", None) or None,
            **run_config(self.args, self.timing_options),
            "precision": precision,
            "world_size": self.args.world_size,
        }
        for key, dataset in (("n_train_samples", self.train_dataset),
                             ("n_eval_samples", self.eval_dataset)):
            try:
                config[key] = len(dataset) if dataset is not None else None
            except TypeError:
                config[key] = None
        return config

    def _reseed(self) -> None:
        if self.args.full_determinism:
            enable_full_determinism(self.args.seed)
        else:
            set_seed(self.args.seed)

    def training_step(self, model, inputs, *args: Any, **kwargs: Any):
        iteration = self.timing_iteration
        if iteration is not None:
            iteration.counter.add(inputs)  # shapes, and a queued attention-mask sum
        return super().training_step(model, inputs, *args, **kwargs)

    # --- fine-tuning -------------------------------------------------------------------------
    def _snapshot_initial_state(self) -> dict[str, Any]:
        snapshot: dict[str, Any] = {}
        if self.model_init is None:
            snapshot["model"] = {k: v.detach().to("cpu", copy=True)
                                 for k, v in self.model.state_dict().items()}
        if self._user_optimizer is not None:
            snapshot["optimizer"] = copy.deepcopy(self._user_optimizer.state_dict())
        if self._user_scheduler is not None:
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
        """Warm up, then fine-tune `finetuning_iters` times from the same initial state; time
        every run.

        Returns the last iteration's TrainOutput; its metrics hold the timing figures
        (`finetuning_time` is the minimum). The model is the last iteration's.
        """
        iters = self.timing_options.finetuning_iters
        if resume_from_checkpoint not in (None, False) and iters > 1:
            raise ValueError("resume_from_checkpoint repeats a partial run; use finetuning_iters=1 "
                             f"with it (got finetuning_iters={iters})")
        if self.train_dataset is None:
            raise ValueError("TimingTrainer.train() needs a train_dataset")
        train_once = functools.partial(super().train, resume_from_checkpoint=resume_from_checkpoint,
                                       trial=trial, ignore_keys_for_eval=ignore_keys_for_eval,
                                       **kwargs)
        with self._results.failure_recorded():
            self._results.write_running()
            output = self._timed_train(iters, train_once)
        self._results.after_measurement()
        self._print_line(train_line(self.timing_results.to_dict(), self._results.path))
        return output

    def _timed_train(self, iters: int, call: Any) -> TrainOutput:
        self._wandb.update_config(self._results.wandb_config())
        snapshot = self._snapshot_initial_state()
        steps = self.timing_options.timing_warmup_steps
        if steps:
            self.timing_results.add_setup_time("warmup", run_warmup(self, steps, call))
        self.eval_save_gate.closed = not self.timing_options.eval_and_save_while_timing
        runs = []
        try:
            for index in range(iters):
                self._restore_initial_state(snapshot)
                runs.append(self._timed_iteration(index, iters, call))
        finally:
            self.eval_save_gate.closed = False
        return self._record_training(runs)

    def _timed_iteration(self, index: int, iters: int, call: Any):
        reset_peak_memory(self.args.device)
        iteration = TrainIteration(
            Stopwatch.for_device(self.args.device, barrier=distributed.barrier,
                                 probe=self.energy_meter.read),
            BatchCounter(getattr(self.model, "config", None), training=True))
        self.timing_iteration = iteration
        try:
            with quiet_wandb_train_end(self.callback_handler.callbacks, index < iters - 1):
                output = call()
        finally:
            self.timing_iteration = None
        if iteration.elapsed is None:
            raise RuntimeError("no training step ran: the training data or max_steps give "
                               "zero optimizer steps")
        seconds = distributed.max_across_ranks(iteration.elapsed)  # slowest rank
        joules = self.energy_meter.of_stopwatch(iteration.stopwatch,
                                                distributed.sum_across_ranks)
        peak = peak_memory(self.args.device)
        if index == 0 and iteration.setup_seconds is not None:
            self.timing_results.add_setup_time("train_setup", iteration.setup_seconds)
        logger.info("fine-tuning iteration %d/%d: %.4f s", index + 1, iters, seconds)
        self._wandb.log_iteration(index, seconds, energy_j=joules.joules)
        return IterationRun(output, iteration.counter, seconds, peak, joules)

    def _record_training(self, runs: list[IterationRun]) -> TrainOutput:
        """Fill the results from the timed iterations (after every clock has stopped)."""
        results = self.timing_results
        output = runs[-1].output
        results.finetuning_times = [run.seconds for run in runs]
        results.finetuning_energies = [run.energy.joules for run in runs]
        failed = [(i, run.energy.reason) for i, run in enumerate(runs) if run.energy.joules is None]
        if failed and self.energy_meter.source:
            results.notes["finetuning_energy"] = f"iteration {failed[0][0] + 1}: {failed[0][1]}"
        results.train_steps = output.global_step
        self._record_counts(runs[-1].counter)
        peaks = [int(distributed.max_across_ranks(run.peak)) for run in runs
                 if run.peak is not None]
        results.peak_memory_train_bytes = max(peaks) if peaks else None
        self._warn_if_noisy()
        figures = results.to_dict()
        metrics = dict(output.metrics)
        metrics.update({key: figures[key] for key in TRAIN_METRIC_KEYS})
        return TrainOutput(output.global_step, output.training_loss, metrics)

    def _record_counts(self, counter: BatchCounter) -> None:
        """One iteration's samples, tokens and FLOPs, summed over the ranks (every rank takes
        part in the reductions; a count that is zero or unknown is null)."""
        results = self.timing_results
        results.train_samples = int(distributed.sum_across_ranks(counter.samples)) or None
        results.train_tokens = int(distributed.sum_across_ranks(counter.tokens)) or None
        real = counter.real_tokens()  # the queued mask sums are read here, once
        results.train_real_tokens = (int(distributed.sum_across_ranks(real)) or None
                                     if real is not None else None)
        flops = counter.total_flops()
        flops = distributed.sum_across_ranks(flops if flops is not None else float("nan"))
        results.train_flops = flops if flops == flops and flops > 0 else None
        if counter.flops_reason():
            results.notes["flops"] = counter.flops_reason()

    @on_main_process
    def _warn_if_noisy(self) -> None:
        measurement = self.timing_results.finetuning()
        threshold = self.timing_options.cv_warning_threshold
        if is_noisy(measurement, threshold):
            warnings.warn(
                f"fine-tuning times vary: CV {measurement.cv:.1%} over {measurement.n} iterations "
                f"exceeds {threshold:.1%}; the machine was noisy (warm-up ran off the clock; the "
                "minimum, finetuning_time, is the robust figure)", TimingNoiseWarning, stacklevel=5)

    # --- inference ---------------------------------------------------------------------------
    def evaluate(self, eval_dataset: Any = None, ignore_keys: list[str] | None = None,
                 metric_key_prefix: str = "eval") -> dict[str, float]:
        """Evaluate with the loop timed; the metrics gain `{prefix}_inference_time`,
        `{prefix}_inference_time_list`, `{prefix}_forward_time`, ... ."""
        if eval_dataset is None and self.eval_dataset is None:
            raise ValueError("TimingTrainer.evaluate() needs an evaluation dataset: pass "
                             "eval_dataset= to the trainer or to evaluate()")
        metrics = self._measured(super().evaluate, eval_dataset, ignore_keys=ignore_keys,
                                 metric_key_prefix=metric_key_prefix)
        return self._with_lists(metrics, metric_key_prefix)

    def predict(self, test_dataset: Any, ignore_keys: list[str] | None = None,
                metric_key_prefix: str = "test"):
        output = self._measured(super().predict, test_dataset, ignore_keys=ignore_keys,
                                metric_key_prefix=metric_key_prefix)
        self._with_lists(output.metrics, metric_key_prefix)
        return output

    def _measured(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """Run evaluate/predict; record a failure, or write and report the figures after it."""
        in_train = self.is_in_train  # an evaluation inside the training loop waits for train()
        with self._results.failure_recorded():
            if not in_train:
                self._results.write_running()
            result = method(*args, **kwargs)
        if not in_train:
            self._results.after_measurement()
            record = self.timing_results.evaluations[-1]
            self._print_line(evaluate_line(self.timing_results.evaluation_dict(record),
                                           record.metrics, self._results.path))
        return result

    def _with_lists(self, metrics: dict[str, Any] | None, prefix: str) -> dict[str, Any] | None:
        """Add the per-batch lists to the returned metrics (after the Trainer has logged the
        scalars: a list per batch is too long for a log line or a W&B history row)."""
        evaluations = self.timing_results.evaluations
        if metrics is not None and evaluations and evaluations[-1].name == prefix:
            figures = evaluations[-1].to_dict()
            metrics.update({f"{prefix}_{key}": figures[key] for key in EVAL_LIST_KEYS})
        return metrics

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
        timing = self._eval_timing
        if timing is None:
            return super().prediction_step(model, inputs, prediction_loss_only,
                                           ignore_keys=ignore_keys)
        timing.count(inputs)  # shapes, and a queued attention-mask sum
        timing.batch_timer.start()  # a CUDA event (no sync) or the host clock
        out = super().prediction_step(model, inputs, prediction_loss_only, ignore_keys=ignore_keys)
        timing.batch_timer.stop()
        return out

    def _timed_loop(self, loop, dataloader, description, prediction_loss_only, ignore_keys,
                    metric_key_prefix):
        if self._eval_timing is not None:  # a loop inside a loop: time the outer one only
            return loop(dataloader, description, prediction_loss_only, ignore_keys,
                        metric_key_prefix)
        timing = self._eval_timing = EvalLoopTiming(self)
        preparation_before = getattr(self, "model_preparation_time", None)
        try:
            with timing.timed():
                output = loop(dataloader, description, prediction_loss_only, ignore_keys,
                              metric_key_prefix)
        finally:
            self._eval_timing = None
        # --- outside the timed region from here on ---
        preparation = getattr(self, "model_preparation_time", None)
        record = timing.record(
            metric_key_prefix, output, self.args.eval_batch_size,
            self.timing_options.inference_warmup_batches,
            {k: v for k, v in (output.metrics or {}).items() if is_metric_key(k)},
            preparation if preparation_before is None else None)
        self.timing_results.add_evaluation(record)
        if output.metrics is not None:
            figures = record.to_dict()
            output.metrics.update({f"{metric_key_prefix}_{k}": figures[k]
                                   for k in EVAL_METRIC_KEYS})
        return output

