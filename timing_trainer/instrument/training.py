"""`train()` timed: warm-up, then `finetuning_iters` whole fine-tunings from one initial state.

Before each run the initial weights are copied back in place, the optimizer and LR scheduler are
dropped so the Trainer rebuilds them (or a user-supplied pair is reloaded from its initial
state), stateful callbacks (early stopping's patience) get their initial state back, and the RNG
is reseeded; the Trainer makes a fresh `TrainerState` and data loader itself. So every run does
what the script asks (evaluations, checkpoints, early stopping, the best model loaded at the
end) in the same way, and the model the script gets is the last run's. Evaluation and saving
inside the loop are off the clock (timing_trainer.clocks.training), and counted apart.
"""

from __future__ import annotations

import copy
import logging
import warnings
from typing import Any

from transformers.trainer_callback import ExportableState
from transformers.trainer_utils import TrainOutput

from timing_trainer.clocks.batches import BatchCounter
from timing_trainer.clocks.stopwatch import Stopwatch, peak_memory, reset_peak_memory
from timing_trainer.clocks.training import IterationRun, TrainIteration
from timing_trainer.clocks.warmup import run_warmup
from timing_trainer.errors import TimingNoiseWarning
from timing_trainer.results.figures import TRAIN_METRIC_KEYS
from timing_trainer.results.measurement import is_noisy
from timing_trainer.results.summary_line import train_line
from timing_trainer.results.wandb_logging import quiet_wandb_train_end
from timing_trainer.runtime import distributed

logger = logging.getLogger(__name__)


def timed_train(timing: Any, call: Any, resume_from_checkpoint: Any = None) -> TrainOutput:
    """`Trainer.train` (as `call()`) warmed up, repeated and timed; the last run's output, its
    metrics holding the figures of the run `finetuning_time` reports."""
    trainer = timing.trainer
    iters = trainer.timing_options.finetuning_iters
    if resume_from_checkpoint not in (None, False) and iters > 1:
        raise ValueError("resume_from_checkpoint repeats a partial run; use finetuning_iters=1 "
                         f"with it (got finetuning_iters={iters})")
    if trainer.train_dataset is None:
        raise ValueError("train() needs a train_dataset")
    if timing.starts_new_run():
        timing.finish()
        timing.new_run()
    timing.train_entries += 1
    with timing.results.failure_recorded():
        timing.results.write_running()
        output = _timed_runs(timing, iters, call)
    timing.train_completed = True
    timing.results.after_measurement()
    timing.print_line(train_line(trainer.timing_results.to_dict(), timing.results.path))
    return output


def _timed_runs(timing: Any, iters: int, call: Any) -> TrainOutput:
    trainer = timing.trainer
    timing.wandb.update_config(timing.results.wandb_config())
    snapshot = _snapshot(timing)
    steps = trainer.timing_options.timing_warmup_steps
    if steps:
        trainer.timing_results.add_setup_time("warmup", run_warmup(trainer, steps, call))
    runs = []
    for index in range(iters):
        _restore(timing, snapshot)
        runs.append(_timed_iteration(timing, index, iters, call))
    return _record_training(timing, runs)


def _snapshot(timing: Any) -> dict[str, Any]:
    """What each run starts from: weights, a user's optimizer and scheduler, callbacks' state."""
    trainer = timing.trainer
    snapshot: dict[str, Any] = {"callbacks": [
        (cb, copy.deepcopy(cb.state()["attributes"])) for cb in trainer.callback_handler.callbacks
        if isinstance(cb, ExportableState)]}
    if trainer.model_init is None:
        snapshot["model"] = {k: v.detach().to("cpu", copy=True)
                             for k, v in trainer.model.state_dict().items()}
    if timing.user_optimizer is not None:
        snapshot["optimizer"] = copy.deepcopy(timing.user_optimizer.state_dict())
    if timing.user_scheduler is not None:
        snapshot["scheduler"] = copy.deepcopy(timing.user_scheduler.state_dict())
    return snapshot


def _restore(timing: Any, snapshot: dict[str, Any]) -> None:
    """Weights copied back in place (parameter identity kept), optimizer and scheduler fresh,
    callbacks' state as it was, the RNG reseeded."""
    trainer = timing.trainer
    if "model" in snapshot:
        trainer.model.load_state_dict(snapshot["model"])
    if timing.user_optimizer is not None:
        timing.user_optimizer.load_state_dict(snapshot["optimizer"])
    trainer.optimizer = timing.user_optimizer  # None: the Trainer builds a new one
    if timing.user_scheduler is not None:
        timing.user_scheduler.load_state_dict(snapshot["scheduler"])
    trainer.lr_scheduler = timing.user_scheduler
    for callback, attributes in snapshot["callbacks"]:
        for name, value in copy.deepcopy(attributes).items():
            setattr(callback, name, value)
    timing.reseed()


def _timed_iteration(timing: Any, index: int, iters: int, call: Any) -> IterationRun:
    trainer = timing.trainer
    reset_peak_memory(trainer.args.device)
    iteration = TrainIteration(
        Stopwatch.for_device(trainer.args.device, barrier=distributed.barrier,
                             probe=trainer.energy_meter.read),
        BatchCounter.for_model(trainer.model, training=True))
    iteration.pause_off_clock = not trainer.timing_options.eval_and_save_while_timing
    trainer.timing_iteration = iteration
    timing.iteration_number = index + 1
    try:
        with quiet_wandb_train_end(trainer.callback_handler.callbacks, index < iters - 1):
            output = call()
    finally:
        trainer.timing_iteration = timing.iteration_number = None
    if iteration.elapsed is None:
        raise RuntimeError("no training step ran: the training data or max_steps give "
                           "zero optimizer steps")
    seconds = distributed.max_across_ranks(iteration.elapsed)  # slowest rank
    joules = trainer.energy_meter.of_stopwatch(iteration.stopwatch, distributed.sum_across_ranks)
    peak = peak_memory(trainer.args.device)
    if index == 0 and iteration.setup_seconds is not None:
        trainer.timing_results.add_setup_time("train_setup", iteration.setup_seconds)
    logger.info("fine-tuning iteration %d/%d: %.4f s", index + 1, iters, seconds)
    timing.wandb.log_iteration(index, seconds, energy_j=joules.joules)
    return IterationRun(output, iteration.counter, seconds, peak, joules, iteration)


def _record_training(timing: Any, runs: list[IterationRun]) -> TrainOutput:
    """Fill the results from the timed iterations (after every clock has stopped)."""
    trainer = timing.trainer
    results = trainer.timing_results
    results.finetuning_times = [run.seconds for run in runs]
    results.finetuning_energies = [run.energy.joules for run in runs]
    failed = [(i, run.energy.reason) for i, run in enumerate(runs) if run.energy.joules is None]
    if failed and trainer.energy_meter.source:
        results.notes["finetuning_energy"] = f"iteration {failed[0][0] + 1}: {failed[0][1]}"
    best = min(runs, key=lambda run: run.seconds)  # the run finetuning_time reports
    results.train_steps = best.iteration.steps_run
    results.off_clock = _off_clock(best.iteration)
    if results.off_clock["on_clock"]:
        results.notes["evaluation_during_training_time"] = (
            "evaluation and saving ran on the clock (eval_and_save_while_timing)")
    _record_counts(trainer, best.counter)
    peaks = [int(distributed.max_across_ranks(run.peak)) for run in runs if run.peak is not None]
    results.peak_memory_train_bytes = max(peaks) if peaks else None
    _warn_if_noisy(timing)
    figures = results.to_dict()
    output = runs[-1].output
    metrics = dict(output.metrics)
    metrics.update({key: figures[key] for key in TRAIN_METRIC_KEYS})
    metrics.update(_trainer_rates(best, results.train_samples))
    return TrainOutput(output.global_step, output.training_loss, metrics)


def _off_clock(iteration: TrainIteration) -> dict[str, Any]:
    """What ran inside the loop but off the clock (timing_trainer.results.run_results)."""
    return {"seconds": distributed.max_across_ranks(iteration.evaluation_seconds),
            "evaluations": iteration.evaluations, "saves": iteration.saves,
            "on_clock": not iteration.pause_off_clock}


def _trainer_rates(best: IterationRun, samples: int | None) -> dict[str, float | None]:
    """The Trainer's own `train_runtime` and rates, from the run `finetuning_time` reports."""
    seconds = best.seconds
    return {"train_runtime": seconds,
            "train_samples_per_second": samples / seconds if samples and seconds else None,
            "train_steps_per_second": (best.iteration.steps_run / seconds
                                       if best.iteration.steps_run and seconds else None)}


def _record_counts(trainer: Any, counter: BatchCounter) -> None:
    """One iteration's samples, tokens and FLOPs, summed over the ranks (every rank takes
    part in the reductions; a count that is zero or unknown is null)."""
    results = trainer.timing_results
    results.train_samples = int(distributed.sum_across_ranks(counter.samples)) or None
    results.train_tokens = int(distributed.sum_across_ranks(counter.tokens)) or None
    real = counter.real_tokens()  # the queued mask sums are read here, once
    results.train_real_tokens = (int(distributed.sum_across_ranks(real)) or None
                                 if real is not None else None)
    results.train_flops = _summed_flops(counter.total_flops())
    known = counter.total_flops() is not None
    results.train_forward_flops = _summed_flops(counter.forward_flops if known else None)
    if counter.flops_reason():
        results.notes["flops"] = counter.flops_reason()


def _summed_flops(flops: float | None) -> float | None:
    """FLOPs over every rank (each rank takes part); null when zero or unknown anywhere."""
    total = distributed.sum_across_ranks(flops if flops is not None else float("nan"))
    return total if total == total and total > 0 else None


def _warn_if_noisy(timing: Any) -> None:
    trainer = timing.trainer
    if not trainer.is_world_process_zero():
        return
    measurement = trainer.timing_results.finetuning()
    threshold = trainer.timing_options.cv_warning_threshold
    if is_noisy(measurement, threshold):
        warnings.warn(
            f"fine-tuning times vary: CV {measurement.cv:.1%} over {measurement.n} iterations "
            f"exceeds {threshold:.1%}; the machine was noisy (warm-up ran off the clock; the "
            "minimum, finetuning_time, is the robust figure)", TimingNoiseWarning, stacklevel=6)
