"""Warm-up before the clock: a few optimizer steps on real batches, then the initial state again.

Why: the first steps of a process pay one-off costs that are not the workload's: on a GPU the
cuBLAS handles and workspaces, the first call's kernel selection, the caching allocator growing
to its working set (the optimizer's state appears at the first step, the peak at the second);
on a CPU the allocator and the first step's buffers. On an H100 (BERT-base, bf16, GLUE program,
2 iterations) iteration 1 ran 0.46 to 0.60 s slower than iteration 2 whatever its length
(2.33 vs 1.87 s, 1.28 vs 0.68 s), and every run raised the noise warning for what was not noise.
On this project's CPU, in a fresh process, step 1 took 1.6 to 1.7 times a steady step, step 2
1.1 to 1.3 times, step 3 on about 1 (`python bench/warmup.py --step-profile 4`). So by default
three steps run before the first timed iteration (`timing_warmup_steps`, 0 turns it off): two
that carry the one-off costs, one to spare. Shapes first seen later (dynamic padding) still pay their first call inside the clock.

How: `Trainer.train()` itself runs with `max_steps` = the warm-up steps, on a copy of the
arguments, with no callbacks but transformers' flow control and our gate (no W&B run or history
row, no model artifact, no progress bar, nothing a user callback sees; no evaluation, saving or
logging). The trainer then restores the initial state exactly as between timed iterations
(weights, optimizer and scheduler, RNG), and step counters start from a fresh `TrainerState`.
What the warm-up touches of the trainer is `WarmupTrainer`, no more.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from transformers.trainer_callback import DefaultFlowCallback

if TYPE_CHECKING:
    from transformers import TrainingArguments
    from transformers.trainer_callback import CallbackHandler

    from timing_trainer.clocks.training import EvalSaveGate


class WarmupTrainer(Protocol):
    """What the warm-up changes for its duration: the arguments (swapped for a copy), the
    callback handler's list, and the trainer's gate (made silent, and the one callback kept
    besides transformers' flow control)."""

    args: TrainingArguments

    callback_handler: CallbackHandler
    eval_save_gate: EvalSaveGate


@contextmanager
def _warmup_setting(trainer: WarmupTrainer, steps: int) -> Iterator[None]:
    """The trainer with warm-up arguments and callbacks; everything put back afterwards."""
    handler, gate = trainer.callback_handler, trainer.eval_save_gate
    saved_args, saved_callbacks = trainer.args, handler.callbacks
    args = copy.copy(saved_args)
    args.max_steps = steps
    args.eval_on_start = False
    handler.callbacks = [cb for cb in saved_callbacks
                         if isinstance(cb, DefaultFlowCallback) or cb is gate]
    trainer.args = args
    gate.silent = True
    try:
        yield
    finally:
        gate.silent = False
        trainer.args = saved_args
        handler.callbacks = saved_callbacks


def run_warmup(trainer: WarmupTrainer, steps: int, train: Callable[[], Any]) -> float:
    """Run `train()` (the Trainer's own) for `steps` optimizer steps, untimed and unseen by
    callbacks; returns the seconds it took. The caller restores the initial state."""
    started = time.perf_counter()
    with _warmup_setting(trainer, steps):
        train()
    return time.perf_counter() - started
