"""`evaluate()` and `predict()` timed: the whole loop, every `prediction_step`, every forward.

An evaluation inside `train()` (eval_strategy) is recorded with its step and run, off the
fine-tuning clock (timing_trainer.clocks.training), and the results are written when `train()`
ends; an evaluation after it is written at once, and finishes the run when its `train()` has
completed (a later one adds to the finished results). The loop's timing: timing_trainer.clocks.
evaluation.
"""

from __future__ import annotations

import time
from typing import Any

from timing_trainer.clocks.evaluation import EvalLoopTiming
from timing_trainer.results.figures import EVAL_LIST_KEYS, EVAL_METRIC_KEYS
from timing_trainer.results.run_results import is_metric_key
from timing_trainer.results.summary_line import evaluate_line


def measured(timing: Any, call: Any, prefix: str) -> Any:
    """Run evaluate/predict (`call()`); record a failure, or write and report the figures."""
    trainer = timing.trainer
    if trainer.is_in_train:
        return _during_training(timing, call)
    with timing.results.failure_recorded():
        timing.results.write_running()
        result = call()
    timing.results.after_measurement()
    evaluations = trainer.timing_results.evaluations
    if evaluations and evaluations[-1].name == prefix:
        record = evaluations[-1]
        timing.print_line(evaluate_line(trainer.timing_results.evaluation_dict(record),
                                        record.metrics, timing.results.path))
    if timing.train_completed:
        timing.finish()
    return result


def _during_training(timing: Any, call: Any) -> Any:
    """An evaluation the training loop asked for: counted, and the clock resumes after it."""
    iteration = timing.trainer.timing_iteration
    started = time.perf_counter()  # the loop synchronizes the device at its end
    try:
        return call()
    finally:
        if iteration is not None:
            iteration.evaluation_ended(time.perf_counter() - started)


def with_lists(timing: Any, metrics: dict[str, Any] | None, prefix: str) -> dict[str, Any] | None:
    """Add the per-batch lists to the returned metrics (after the Trainer has logged the
    scalars: a list per batch is too long for a log line or a W&B history row)."""
    evaluations = timing.trainer.timing_results.evaluations
    if metrics is not None and evaluations and evaluations[-1].name == prefix:
        figures = evaluations[-1].to_dict()
        metrics.update({f"{prefix}_{key}": figures[key] for key in EVAL_LIST_KEYS})
    return metrics


def timed_loop(timing: Any, loop: Any, prefix: str) -> Any:
    """The evaluation loop (`loop()`) timed whole; its record added to the results."""
    trainer = timing.trainer
    if timing.eval_timing is not None:  # a loop inside a loop: time the outer one only
        return loop()
    loop_timing = timing.eval_timing = EvalLoopTiming(trainer)
    preparation_before = getattr(trainer, "model_preparation_time", None)
    try:
        with loop_timing.timed():
            output = loop()
    finally:
        timing.eval_timing = None
    # --- outside the timed region from here on ---
    preparation = getattr(trainer, "model_preparation_time", None)
    record = loop_timing.record(
        prefix, output, trainer.args.eval_batch_size,
        trainer.timing_options.inference_warmup_batches,
        {k: v for k, v in (output.metrics or {}).items() if is_metric_key(k)},
        preparation if preparation_before is None else None)
    if trainer.is_in_train:
        record.step = trainer.state.global_step
        record.iteration = timing.iteration_number
    trainer.timing_results.add_evaluation(record)
    if output.metrics is not None:
        figures = record.to_dict()
        output.metrics.update({f"{prefix}_{k}": figures[k] for k in EVAL_METRIC_KEYS})
    return output


def timed_prediction_step(timing: Any, step: Any, inputs: Any) -> Any:
    """One batch: shapes counted, the call timed (a CUDA event pair or the host clock)."""
    loop_timing = timing.eval_timing
    if loop_timing is None:
        return step()
    loop_timing.count(inputs)  # shapes, and a queued attention-mask sum
    loop_timing.batch_timer.start()
    out = step()
    loop_timing.batch_timer.stop()
    return out
