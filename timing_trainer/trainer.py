"""`TimingTrainer`: transformers' Trainer that times fine-tuning and inference honestly.

How it hooks in (robust hooks, none of transformers' loops copied; timing_trainer.instrument
holds the code, shared with `patch_trainer()`, which installs the same wrappers on
`transformers.Trainer` itself):
- `train()` warms up (timing_trainer.clocks.warmup), then runs `Trainer.train()` `finetuning_iters`
  times from one initial state (weights, optimizer and scheduler, callbacks' state, RNG;
  timing_trainer.instrument.training). The clock: timing_trainer.clocks.training.
- The script's evaluations and checkpoints during training run as its arguments ask, off the
  clock (the stopwatch pauses around them), and are reported apart.
- Inside a timed region we only count shapes and queue attention-mask sums (timing_trainer.
  clocks.batches): no host sync, no logging, no file I/O.
- Evaluation is timed whole, per `prediction_step` and per model forward
  (timing_trainer.clocks.evaluation, timing_trainer.instrument.inference).
- Energy is read at the stopwatch's boundaries only (timing_trainer.energy).
- The results file (one per Trainer and per run: timing_trainer.results.placement) says
  `running` from its first write until the run ends: an `evaluate()`/`predict()` after a
  completed `train()`, `finish_timing_results()`, or the exit fallback of
  timing_trainer.runtime.lifecycle. A second `train()` starts a new run with its own file.
"""

from __future__ import annotations

from typing import Any

from transformers import Trainer

from timing_trainer.arguments import TimingOptions
from timing_trainer.instrument import methods
from timing_trainer.instrument.timing import before_init


def constructor_args(args: tuple, kwargs: dict[str, Any]) -> Any:
    return kwargs.get("args", args[1] if len(args) > 1 else None)


class TimingTrainer(Trainer):
    """A `transformers.Trainer` whose `train()` and `evaluate()` are timed; same constructor,
    plus an optional `timing_options` (else taken from `TimingTrainingArguments`)."""

    # Defaults for a subclass to set; the patch leaves a TimingTrainer's own timing to it.
    _default_timing_options: TimingOptions | None = None
    _default_tags: dict[str, Any] = {}
    _print_summary_lines = False
    _attaches_timing = True

    def __init__(self, *args: Any, timing_options: TimingOptions | None = None, **kwargs: Any):
        before_init(constructor_args(args, kwargs))
        super().__init__(*args, **kwargs)
        cls = type(self)
        methods.time_trainer(self, timing_options or cls._default_timing_options,
                             cls._default_tags, cls._print_summary_lines)

    train = methods.timed_method("train", Trainer.train)
    evaluate = methods.timed_method("evaluate", Trainer.evaluate)
    predict = methods.timed_method("predict", Trainer.predict)
    evaluation_loop = methods.timed_method("evaluation_loop", Trainer.evaluation_loop)
    if hasattr(Trainer, "prediction_loop"):  # transformers 4.x's legacy loop
        prediction_loop = methods.timed_method("prediction_loop", Trainer.prediction_loop)

    save_timing_results = methods.save_timing_results
    finish_timing_results = methods.finish_timing_results
