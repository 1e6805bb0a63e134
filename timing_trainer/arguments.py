"""`TimingTrainingArguments`: transformers' TrainingArguments plus the timing options.

The options live in `TimingOptions` (a plain dataclass), so that `patch_trainer(...)` can hand
them to a script that builds plain `TrainingArguments`; `TimingTrainingArguments` inherits the
same fields (a mixin: `HfArgumentParser` gives each its flag, `--finetuning_iters 5`,
`--peak_tflops 989`, ...). `run_config()` is the hyperparameters a results file records.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from transformers import TrainingArguments

from timing_trainer.results.measurement import CV_WARNING_THRESHOLD

# Optimizer steps run before the first timed iteration; why three: timing_trainer.clocks.warmup.
DEFAULT_WARMUP_STEPS = 3


def _validate(options: Any) -> None:
    """Raise ValueError with one clear line for an impossible timing option."""
    iters = options.finetuning_iters
    if isinstance(iters, bool) or not isinstance(iters, int) or iters < 1:
        raise ValueError(f"finetuning_iters must be an integer >= 1, got {iters!r}")
    for name in ("inference_warmup_batches", "timing_warmup_steps"):
        value = getattr(options, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    peak = options.peak_tflops
    if peak is not None and (not math.isfinite(float(peak)) or float(peak) <= 0):
        raise ValueError(f"peak_tflops must be a positive number (TFLOP/s per device), got {peak!r}")
    threshold = options.cv_warning_threshold
    if not math.isfinite(float(threshold)) or float(threshold) <= 0:
        raise ValueError(f"cv_warning_threshold must be a positive number, got {threshold!r}")


@dataclass
class TimingOptions:
    """What to time and how; shared by TimingTrainingArguments and patch_trainer()."""

    finetuning_iters: int = field(
        default=3,
        metadata={"help": "How many times to run the whole fine-tuning, each from the same initial "
                          "state (weights, optimizer, scheduler, RNG). finetuning_time is the minimum."},
    )
    timing_warmup_steps: int = field(
        default=DEFAULT_WARMUP_STEPS,
        metadata={"help": "Optimizer steps on real batches before the first timed iteration, "
                          "after which the initial state is restored (CUDA and cuBLAS set-up, "
                          "kernel selection and allocator growth stay off the clock; time in "
                          "setup_time_parts['warmup']). 0 turns it off."},
    )
    inference_warmup_batches: int = field(
        default=1,
        metadata={"help": "Evaluation batches left out of the per-batch latency statistics "
                          "(inference_time, median, p90) as warm-up; the list keeps every batch."},
    )
    peak_tflops: float | None = field(
        default=None,
        metadata={"help": "The device's peak TFLOP/s for the precision in use, for MFU; by default "
                          "taken from a datasheet table for known GPUs (null elsewhere)."},
    )
    cv_warning_threshold: float = field(
        default=CV_WARNING_THRESHOLD,
        metadata={"help": "Warn when the fine-tuning times' coefficient of variation exceeds this "
                          "(the machine was noisy)."},
    )
    eval_and_save_while_timing: bool = field(
        default=False,
        metadata={"help": "Keep evaluation and checkpoint saving inside the timed fine-tuning loop "
                          "(off by default: they would be counted as fine-tuning time)."},
    )
    write_timing_results: bool = field(
        default=True,
        metadata={"help": "Write timing_results.json into output_dir after train() and evaluate()."},
    )

    def __post_init__(self) -> None:
        _validate(self)
        after = getattr(super(), "__post_init__", None)  # TrainingArguments' in the subclass
        if after is not None:
            after()


TIMING_OPTION_NAMES = tuple(f.name for f in fields(TimingOptions))


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
