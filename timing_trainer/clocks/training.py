"""The clock of a fine-tuning iteration, hooked into the Trainer's callback events.

The callback handler's `on_step_begin`/`on_step_end` (and train begin/end) are wrapped on the
instance (the class is untouched; none of transformers' loops is copied): the stopwatch starts
after the other callbacks' `on_step_begin` of the first step and stops before theirs of the last
optimizer step, device synchronized and ranks aligned at both ends. What happens before the first
step (data loader, optimizer, accelerate's `prepare`) is setup ("train_setup").

`EvalSaveGate` keeps evaluation and checkpoint saving out of the timed loop, and everything
(logging included) out of the warm-up.

The hooks see the trainer only through `ClockedTrainer` (its callback handler and the iteration
being timed) and get the reseeding as a function: this module stays below timing_trainer.trainer
and can be read, and tested, without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from transformers import TrainerCallback

from timing_trainer.clocks.batches import BatchCounter
from timing_trainer.clocks.stopwatch import Stopwatch
from timing_trainer.energy import EnergyWindow

if TYPE_CHECKING:
    from transformers.trainer_callback import CallbackHandler


class TrainIteration:
    """The clock and counters of one fine-tuning iteration."""

    def __init__(self, stopwatch: Stopwatch, counter: BatchCounter):
        self.stopwatch = stopwatch
        self.counter = counter
        self.called_at = time.perf_counter()
        self.setup_seconds: float | None = None
        self.started = False
        self.elapsed: float | None = None

    def restart(self) -> None:
        """auto_find_batch_size restarted the loop after an out-of-memory error: start afresh."""
        self.stopwatch.reset()
        self.started = False
        self.counter = self.counter.fresh()


class IterationRun(NamedTuple):
    """One timed iteration as recorded after its clock stopped (every rank's figures reduced)."""

    output: Any  # the Trainer's TrainOutput
    counter: BatchCounter
    seconds: float
    peak: int | None
    energy: EnergyWindow


class EvalSaveGate(TrainerCallback):
    """Keeps evaluation and checkpoint saving out of the loop while `closed`; with `silent`
    (the warm-up) logging too."""

    def __init__(self) -> None:
        self.closed = False
        self.silent = False

    def _gate(self, control):
        if self.closed or self.silent:
            control.should_evaluate = False
            control.should_save = False
        if self.silent:
            control.should_log = False
        return control

    def on_step_end(self, args, state, control, **kwargs):
        return self._gate(control)

    def on_epoch_end(self, args, state, control, **kwargs):
        return self._gate(control)


class ClockedTrainer(Protocol):
    """What the clock hooks read of a trainer. `timing_iteration` is read at every event, not
    once: the trainer sets it for each timed run and clears it afterwards (None: untimed)."""

    callback_handler: CallbackHandler
    timing_iteration: TrainIteration | None


def install_clock_hooks(trainer: ClockedTrainer, reseed: Callable[[], None]) -> None:
    """Wrap the callback handler's events so `trainer.timing_iteration` (when set) is timed;
    `reseed()` runs at the start of each timed run, after the other callbacks (a W&B run start
    may draw random numbers)."""
    handler = trainer.callback_handler
    original_begin, original_end = handler.on_step_begin, handler.on_step_end
    original_train_begin, original_train_end = handler.on_train_begin, handler.on_train_end

    def on_train_begin(args, state, control, **kwargs):
        control = original_train_begin(args, state, control, **kwargs)
        iteration = trainer.timing_iteration
        if iteration is not None:
            if iteration.started and iteration.elapsed is None:
                iteration.restart()
            reseed()  # after the callbacks (a W&B run start may draw random numbers)
        return control

    def on_step_begin(args, state, control, **kwargs):
        control = original_begin(args, state, control, **kwargs)
        iteration = trainer.timing_iteration
        if iteration is not None and not iteration.started:
            iteration.setup_seconds = time.perf_counter() - iteration.called_at
            iteration.started = True
            iteration.stopwatch.start()  # barrier, synchronize, read the clock
        return control

    def on_step_end(args, state, control, **kwargs):
        iteration = trainer.timing_iteration
        if (iteration is not None and iteration.started and iteration.elapsed is None
                and state.global_step >= state.max_steps):
            iteration.elapsed = iteration.stopwatch.stop()  # synchronize, barrier, clock
        return original_end(args, state, control, **kwargs)

    def on_train_end(args, state, control, **kwargs):
        iteration = trainer.timing_iteration
        if iteration is not None and iteration.started and iteration.elapsed is None:
            iteration.elapsed = iteration.stopwatch.stop()  # stopped early by a callback
        return original_train_end(args, state, control, **kwargs)

    handler.on_train_begin = on_train_begin
    handler.on_step_begin = on_step_begin
    handler.on_step_end = on_step_end
    handler.on_train_end = on_train_end
