"""What a slice runs: the sweep run's own parameters, cut short by a few overrides.

The rule (docs/pilot.md says the same):
- `--max_steps S` optimizer steps per timed iteration. A model's first slice runs
  `FIRST_STEPS` (20); later slices of that model run enough steps for an iteration of at least
  `TIMED_SECONDS` (1 s) as predicted from the model's earlier slices (step time scaled by the
  tokens of a batch), never fewer than `MIN_STEPS` (10) nor more than `MAX_STEPS` (200). A timed
  iteration of a second or more puts the clock's own resolution and Python's jitter (about a
  millisecond) under 0.1 %, and ten steps or more average the per-step spread; what is left is
  the machine's own noise, which the iterations' spread shows. Never more than the run's own
  steps: a run shorter than its slice is sliced whole.
- `--finetuning_iters K`: the run's own repeats, at least 2 (a spread to measure) and at most 3;
  the restore between iterations is then measured as the run pays it (pilot.overheads).
- `--max_eval_samples E` only where the evaluation set is larger than `EVAL_BATCHES` (20)
  batches: then 20 batches; a smaller set is evaluated whole, exactly as the run will.
- `--max_train_samples` only where the training set is larger than `TOKENIZE_CAP` (10,000)
  examples: tokenizing it whole would cost more than the slice; the tokenization time is then
  priced per example (pilot.overheads).
- `--tokenization_cache_dir DIR/cache`: the pilot's own cache, so a slice never fills or reads
  the sweep's, and the first slice of a tokenizer and length measures tokenizing, a later one
  reading the cache.
Everything else (the task, data, model, precision, modes, seed, learning rate) is the run's.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from timing_trainer.pilot.work import RunWork

FIRST_STEPS = 20
MIN_STEPS = 10
MAX_STEPS = 200
TIMED_SECONDS = 1.0
MIN_ITERS, MAX_ITERS = 2, 3
EVAL_BATCHES = 20
TOKENIZE_CAP = 10_000
CACHE_FOLDER = "cache"


def tokens_per_step(params: dict[str, Any]) -> float:
    """Padded tokens an optimizer step trains on (batch x length x accumulation)."""
    def number(name: str, default: float) -> float:
        value = params.get(name)
        return float(value) if value is not None else default

    return (number("per_device_train_batch_size", 8) * number("max_seq_length", 128)
            * max(1.0, number("gradient_accumulation_steps", 1)))


def slice_steps(work: RunWork, step_estimate: float | None) -> int:
    """S for one slice: see the module docstring (`step_estimate`: seconds a step is expected
    to take from the model's earlier slices, None for its first)."""
    if step_estimate is None or not math.isfinite(step_estimate) or step_estimate <= 0:
        wanted = FIRST_STEPS
    else:
        wanted = min(MAX_STEPS, max(MIN_STEPS, math.ceil(TIMED_SECONDS / step_estimate)))
    return int(max(1, min(wanted, math.ceil(work.steps))))


def slice_overrides(params: dict[str, Any], work: RunWork, steps: int,
                    pilot_dir: Path) -> dict[str, Any]:
    """The parameters a slice adds to (or changes in) its sweep run's."""
    eval_batch = int(float(params.get("per_device_eval_batch_size") or 8))
    out: dict[str, Any] = {
        "max_steps": steps,
        "finetuning_iters": min(MAX_ITERS, max(MIN_ITERS, work.iters)),
        "tokenization_cache_dir": str((pilot_dir / CACHE_FOLDER).resolve()),
    }
    if work.n_eval > EVAL_BATCHES * eval_batch:
        out["max_eval_samples"] = EVAL_BATCHES * eval_batch
    if work.n_train > TOKENIZE_CAP:
        out["max_train_samples"] = TOKENIZE_CAP
    return out
