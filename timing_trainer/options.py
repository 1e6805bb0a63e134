"""`TimingOptions`: what to time and how, declared once and torch-free.

Three readers take their options from this one dataclass: `TimingTrainingArguments` (its fields
become `HfArgumentParser` flags, `--finetuning_iters 5`), `patch_trainer(...)` (its keywords) and
`timing-trainer run` (its flags, `--finetuning-iters 5`, generated from the fields). It lives
apart from `arguments` because that module imports transformers, and the CLI's parser must load
neither torch nor transformers (`--help` stays instant).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from timing_trainer.results.measurement import CV_WARNING_THRESHOLD

# Optimizer steps run before the first timed iteration; why three: timing_trainer.clocks.warmup.
DEFAULT_WARMUP_STEPS = 3


def validate_options(options: Any) -> None:
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
    """What to time and how; shared by TimingTrainingArguments, patch_trainer() and
    `timing-trainer run` (each field's `metadata["help"]` is its help everywhere)."""

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
        metadata={"help": "Count the evaluations and checkpoints the arguments ask for during "
                          "training as fine-tuning time (by default they run off the clock: it "
                          "pauses around them)."},
    )
    write_timing_results: bool = field(
        default=True,
        metadata={"help": "Write timing_results.json into output_dir after train() and evaluate()."},
    )

    def __post_init__(self) -> None:
        validate_options(self)
        after = getattr(super(), "__post_init__", None)  # TrainingArguments' in the subclass
        if after is not None:
            after()


TIMING_OPTION_NAMES = tuple(f.name for f in fields(TimingOptions))
