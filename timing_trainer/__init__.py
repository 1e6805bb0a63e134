"""timing-trainer: honest, reproducible fine-tuning and inference timings for Hugging Face models.

The trainer classes are loaded lazily so that the torch-free parts (the task table, the results
schema, the analysis) can be imported on a machine without torch or transformers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timing_trainer.version import __version__

_LAZY = {
    "TimingTrainer": "timing_trainer.trainer",
    "TimingTrainingArguments": "timing_trainer.arguments",
    "patch_trainer": "timing_trainer.patch",
    "unpatch_trainer": "timing_trainer.patch",
}

__all__ = [
    "__version__",
    "TimingTrainer",
    "TimingTrainingArguments",
    "patch_trainer",
    "unpatch_trainer",
]

if TYPE_CHECKING:  # pragma: no cover
    from timing_trainer.arguments import TimingTrainingArguments
    from timing_trainer.patch import patch_trainer, unpatch_trainer
    from timing_trainer.trainer import TimingTrainer


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'timing_trainer' has no attribute {name!r}")
