"""What the timing adds to a `transformers.Trainer`, for `TimingTrainer` and `patch_trainer()` alike.

The same code serves both: `TimingTrainer` routes its methods through `methods.timed_method`,
and `patch_trainer()` installs the same wrappers on `transformers.Trainer` itself, so every
name bound to the class and every subclass (defined before or after) is timed.
- `timing`: the per-trainer state (`Timing`): options, results, W&B, energy meter, one run after
  another;
- `training`: `train()` timed: warm-up, `finetuning_iters` runs from one state, the figures;
- `inference`: `evaluate()`/`predict()`, the evaluation loop and `prediction_step` timed;
- `methods`: the wrappers themselves, and the warning for a `train` that never reaches ours.
"""
