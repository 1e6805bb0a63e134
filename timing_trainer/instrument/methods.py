"""The timed methods: one wrapper per Trainer method, for `TimingTrainer` and the patch alike.

`timed_method(name, original)` makes the method that times `original` for a trainer with a
`Timing` and simply calls it for one without (a Trainer built before `patch_trainer()`). A
method already being timed for this trainer is not timed again (the Trainer's `evaluate` of a
dict of sets calls itself per set; a subclass's `train` calling `super().train()` reaches one
timed `train`). `prediction_step` and `training_step` are wrapped on the instance instead, so
that a subclass's own (Seq2SeqTrainer's generation) is inside the per-batch timing.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from typing import Any

from timing_trainer.errors import TimingNotAppliedWarning
from timing_trainer.instrument import inference, training
from timing_trainer.instrument.timing import FINISH_CALLER_FRAME, attach_timing, timing_of

# The class-level methods the timing wraps.
TIMED_METHODS = ("train", "evaluate", "predict", "evaluation_loop", "prediction_loop")


def _argument(original: Any, name: str, args: tuple, kwargs: dict, default: Any) -> Any:
    """The value `original` would get for parameter `name` from this call."""
    try:
        bound = inspect.signature(original).bind_partial(None, *args, **kwargs)
    except TypeError:
        return kwargs.get(name, default)
    return bound.arguments.get(name, default)


def _run_train(timing: Any, original: Any, trainer: Any, args: tuple, kwargs: dict) -> Any:
    resume = _argument(original, "resume_from_checkpoint", args, kwargs, None)
    call = functools.partial(original, trainer, *args, **kwargs)
    return training.timed_train(timing, call, resume_from_checkpoint=resume)


def _run_evaluate(timing: Any, original: Any, trainer: Any, args: tuple, kwargs: dict) -> Any:
    prefix = _argument(original, "metric_key_prefix", args, kwargs, "eval")
    dataset = _argument(original, "eval_dataset", args, kwargs, None)
    if dataset is None and trainer.eval_dataset is None:
        raise ValueError("evaluate() needs an evaluation dataset: pass eval_dataset= to the "
                         "trainer or to evaluate()")
    metrics = inference.measured(timing, functools.partial(original, trainer, *args, **kwargs),
                                 prefix)
    return inference.with_lists(timing, metrics, prefix)


def _run_predict(timing: Any, original: Any, trainer: Any, args: tuple, kwargs: dict) -> Any:
    prefix = _argument(original, "metric_key_prefix", args, kwargs, "test")
    output = inference.measured(timing, functools.partial(original, trainer, *args, **kwargs),
                                prefix)
    inference.with_lists(timing, output.metrics, prefix)
    return output


def _run_loop(timing: Any, original: Any, trainer: Any, args: tuple, kwargs: dict) -> Any:
    prefix = _argument(original, "metric_key_prefix", args, kwargs, "eval")
    return inference.timed_loop(timing, functools.partial(original, trainer, *args, **kwargs),
                                prefix)


_RUNNERS = {"train": _run_train, "evaluate": _run_evaluate, "predict": _run_predict,
            "evaluation_loop": _run_loop, "prediction_loop": _run_loop}


def timed_method(name: str, original: Any) -> Any:
    """`original` (a Trainer method), timed for trainers that carry a `Timing`."""
    runner = _RUNNERS[name]

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        timing = timing_of(self)
        if timing is None or name in timing.inside:
            return original(self, *args, **kwargs)
        timing.inside.add(name)
        try:
            return runner(timing, original, self, args, kwargs)
        finally:
            timing.inside.discard(name)

    method.__timed_original__ = original
    return method


def is_timed(method: Any) -> bool:
    return getattr(method, "__timed_original__", None) is not None


def install_instance_hooks(trainer: Any) -> None:
    """The per-step wrappers on the instance, and the check of an overriding `train`."""
    timing = timing_of(trainer)
    train_step, predict_step = trainer.training_step, trainer.prediction_step

    def training_step(model: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        iteration = trainer.timing_iteration
        if iteration is not None:
            iteration.counter.add(inputs)  # shapes, and a queued attention-mask sum
        return train_step(model, inputs, *args, **kwargs)

    def prediction_step(model: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        return inference.timed_prediction_step(
            timing, lambda: predict_step(model, inputs, *args, **kwargs), inputs)

    trainer.training_step = functools.update_wrapper(training_step, train_step)
    trainer.prediction_step = functools.update_wrapper(prediction_step, predict_step)
    if not is_timed(type(trainer).train):
        trainer.train = _watched_train(trainer, timing)


def _watched_train(trainer: Any, timing: Any) -> Any:
    """A subclass's own `train`: warn once when a call never reached the timed one."""
    outer = trainer.train

    def train(*args: Any, **kwargs: Any) -> Any:
        before = timing.train_entries
        output = outer(*args, **kwargs)
        if timing.train_entries == before:
            warnings.warn(
                f"{type(trainer).__name__}.train() did not call Trainer.train(): its fine-tuning "
                "was not timed (call super().train() in the override)", TimingNotAppliedWarning,
                stacklevel=2)
        return output

    return functools.update_wrapper(train, outer)


def save_timing_results(self: Any, path: Any = None) -> Any:
    """Write the results file (into `args.output_dir` by default) atomically, on rank 0.

    `path` may be a file or a folder. Returns the file's path on every rank. A failed run
    also ends its W&B run as failed. The status stays as it is."""
    return timing_of(self).results.save(path)


def finish_timing_results(self: Any) -> Any:
    """The run has ended: status `finished` (a failed run stays failed), the final write, and
    one warning naming the figures that could not be computed. Results also finish after an
    `evaluate()`/`predict()` that follows a completed `train()`, at `unpatch_trainer()`, and at
    interpreter exit. Returns the file's path (None when no file is written)."""
    return timing_of(self).finish(stacklevel=FINISH_CALLER_FRAME)  # the warning names our caller


def time_trainer(trainer: Any, options: Any = None, tags: dict[str, Any] | None = None,
                 print_lines: bool = False, on_new_writer: Any = None) -> Any:
    """Give a constructed Trainer its timing and instance hooks (once); returns its `Timing`."""
    timing = timing_of(trainer)
    if timing is None:
        timing = attach_timing(trainer, options, tags, print_lines, on_new_writer)
        install_instance_hooks(trainer)
    return timing
