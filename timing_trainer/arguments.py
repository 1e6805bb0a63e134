"""`TimingTrainingArguments`: transformers' TrainingArguments plus the timing options.

The options live in `TimingOptions` (a plain, torch-free dataclass in `timing_trainer.options`,
re-exported here), so that `patch_trainer(...)` can hand them to a script that builds plain
`TrainingArguments`, and `timing-trainer run` can offer them without importing transformers;
`TimingTrainingArguments` inherits the same fields (a mixin: `HfArgumentParser` gives each its
flag, `--finetuning_iters 5`, `--peak_tflops 989`, ...). `run_config()` is the hyperparameters
a results file records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transformers import TrainingArguments

# TimingOptions is declared (torch-free) in timing_trainer.options; re-exported here, where the
# Trainer's users have always found it.
from timing_trainer.options import (  # noqa: F401
    DEFAULT_WARMUP_STEPS,
    TIMING_OPTION_NAMES,
    TimingOptions,
)


# The base classes in this order make the dataclass fields TrainingArguments' first, then the
# timing options (all with defaults, so a TrainingArguments field without one, as `output_dir` in
# transformers 4.x, stays valid), and run TimingOptions' checks before TrainingArguments' own.
@dataclass
class TimingTrainingArguments(TimingOptions, TrainingArguments):
    """TrainingArguments with the timing options of `TimingOptions` (declared there, once):
    `HfArgumentParser` gives each its flag and help (`--finetuning_iters 5`)."""

    def timing_options(self) -> TimingOptions:
        """The timing options alone: a plain TimingOptions (W&B's config logs its fields)."""
        return TimingOptions(**{name: getattr(self, name) for name in TIMING_OPTION_NAMES})


def timing_options_for(args: Any, fallback: TimingOptions | None = None) -> TimingOptions:
    """The options of a TimingTrainingArguments, else `fallback` (patch_trainer's), else defaults."""
    if isinstance(args, TimingTrainingArguments):
        return args.timing_options()
    return fallback if fallback is not None else TimingOptions()


# The hyperparameters a results file's config records, in this order (the trainer's and the GLUE
# program's config both start from them).
_CONFIG_KEYS = ("per_device_train_batch_size", "per_device_eval_batch_size",
                "gradient_accumulation_steps", "learning_rate", "num_train_epochs", "max_steps",
                "finetuning_iters", "timing_warmup_steps", "inference_warmup_batches", "seed")


def run_config(args: Any, options: Any) -> dict[str, Any]:
    """A run's hyperparameters: the training arguments', and the timing options from `options`
    (a patched script's plain TrainingArguments has none; patch_trainer's options apply)."""
    return {key: getattr(options if key in TIMING_OPTION_NAMES else args, key)
            for key in _CONFIG_KEYS}
