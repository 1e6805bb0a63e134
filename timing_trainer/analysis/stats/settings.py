"""The analysis's settings per kind: the thesis's choices are the defaults, options change them.

Fine-tuning and inference differ where the thesis's two notebooks differ: the random forest's
depth and test share (fine-tuning: depth 10, 30 % test; inference: depth 4, 20 % test), and the
task size the correlations use (fine-tuning: the training set; inference: the evaluation set,
the examples the timed batches ran on). Everything else is shared. `summary.json` records the
settings actually used.
"""

from __future__ import annotations

from typing import Any

FOREST_COMMON = {"n_estimators": 500, "random_state": 0, "split_seed": 42}
FOREST_BY_KIND = {
    "finetuning": {"max_depth": 10, "test_size": 0.3},
    "inference": {"max_depth": 4, "test_size": 0.2},
}
# The task-size column the correlations and the heat map use, per kind.
TASK_SIZE_COLUMN = {"finetuning": "n_train", "inference": "n_eval"}
# The noise threshold (CV) is the trainer's `cv_warning_threshold` default, declared once with
# the CV itself: `timing_trainer.results.measurement.CV_WARNING_THRESHOLD`.
HISTOGRAM_BINS = 20  # the thesis printed np.histogram(time, bins=20)
FASTEST_RUNS = 10


def forest_settings(kind: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The forest's settings for `kind` with `overrides` (None values ignored) applied."""
    settings = {**FOREST_COMMON, **FOREST_BY_KIND.get(kind, FOREST_BY_KIND["finetuning"])}
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return settings
