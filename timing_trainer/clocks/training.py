"""The clock of a fine-tuning iteration, hooked into the Trainer's callback events.

The callback handler's `on_step_begin`/`on_step_end` (and train begin/end) are wrapped on the
instance (the class is untouched; none of transformers' loops is copied): the stopwatch starts
after the other callbacks' `on_step_begin` of the first step and stops before theirs of the last
optimizer step, device synchronized and ranks aligned at both ends. What happens before the first
step (data loader, optimizer, accelerate's `prepare`) is setup ("train_setup").

Evaluation and checkpoint saving run inside the loop as the arguments ask (a drop-in must not
change what the script does), but off the clock: when a step or an epoch ends with an evaluation
or a save due, the stopwatch pauses (synchronized) until the save's `on_save`, the end of the
evaluation when no save follows, or at the latest the next step. `EvalSaveGate` keeps
everything (evaluation, saving, logging) out of the warm-up.

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
        self.pause_off_clock = True  # False: evaluation and saving stay on the clock
        self.steps_run = 0  # optimizer steps this iteration ran (a resumed run skips some)
        self.evaluations = 0  # evaluations inside this iteration's train(), on the clock or not
        self.evaluation_seconds = 0.0  # their time
        self.saves = 0  # checkpoints saved inside it
        self._save_awaited = False

    @property
    def running(self) -> bool:
        return self.started and self.elapsed is None

    def restart(self) -> None:
        """auto_find_batch_size restarted the loop after an out-of-memory error: start afresh."""
        self.stopwatch.reset()
        self.started = False
        self.counter = self.counter.fresh()
        self.steps_run = self.evaluations = self.saves = 0
        self.evaluation_seconds = 0.0

    def pause_for(self, args: Any, control: Any) -> None:
        """A step or epoch ended with an evaluation or a save due: off the clock until done."""
        evaluate, save = bool(control.should_evaluate), bool(control.should_save)
        if not (self.pause_off_clock and self.running and (evaluate or save)):
            return
        if not self.stopwatch.paused:
            self.stopwatch.pause()
        # save_strategy="best" decides on the save after the evaluation
        self._save_awaited = save or (evaluate and _strategy(args, "save_strategy") == "best")

    def evaluation_ended(self, seconds: float) -> None:
        """An evaluation inside the loop returned: back on the clock unless a save follows."""
        self.evaluations += 1
        self.evaluation_seconds += seconds
        if self.stopwatch.paused and not self._save_awaited:
            self.stopwatch.resume()

    def saved(self) -> None:
        self.saves += 1
        self._save_awaited = False
        if self.stopwatch.paused:
            self.stopwatch.resume()

    def back_on_clock(self) -> None:
        """The next step begins: whatever paused the clock is over."""
        self._save_awaited = False
        if self.stopwatch.paused:
            self.stopwatch.resume()


def _strategy(args: Any, name: str) -> str:
    value = getattr(args, name, None)
    return str(getattr(value, "value", value) or "no")


class IterationRun(NamedTuple):
    """One timed iteration as recorded after its clock stopped (every rank's figures reduced)."""

    output: Any  # the Trainer's TrainOutput
    counter: BatchCounter
    seconds: float
    peak: int | None
    energy: EnergyWindow
    iteration: TrainIteration  # its steps, and what ran off the clock


class EvalSaveGate(TrainerCallback):
    """While `silent` (the warm-up): no evaluation, no checkpoint, no logging."""

    def __init__(self) -> None:
        self.silent = False

    def _gate(self, control):
        if self.silent:
            control.should_evaluate = False
            control.should_save = False
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


class _ClockHooks:
    """The callback handler's events, wrapped: the clock of `trainer.timing_iteration` (when set)
    starts at the first step, pauses for evaluations and saves, and stops at the last step."""

    EVENTS = ("on_train_begin", "on_step_begin", "on_step_end", "on_epoch_end", "on_save",
              "on_train_end")

    def __init__(self, trainer: ClockedTrainer, reseed: Callable[[], None]):
        self.trainer = trainer
        self.reseed = reseed
        self.original = {name: getattr(trainer.callback_handler, name) for name in self.EVENTS}

    def on_train_begin(self, args, state, control, **kwargs):
        control = self.original["on_train_begin"](args, state, control, **kwargs)
        iteration = self.trainer.timing_iteration
        if iteration is not None:
            if iteration.started and iteration.elapsed is None:
                iteration.restart()
            self.reseed()  # after the callbacks (a W&B run start may draw random numbers)
        return control

    def on_step_begin(self, args, state, control, **kwargs):
        control = self.original["on_step_begin"](args, state, control, **kwargs)
        iteration = self.trainer.timing_iteration
        if iteration is not None and not iteration.started:
            iteration.setup_seconds = time.perf_counter() - iteration.called_at
            iteration.started = True
            iteration.stopwatch.start()  # barrier, synchronize, read the clock
        elif iteration is not None and iteration.running:
            iteration.back_on_clock()
        return control

    def on_step_end(self, args, state, control, **kwargs):
        iteration = self.trainer.timing_iteration
        if iteration is not None and iteration.running:
            iteration.steps_run += 1
            if state.global_step >= state.max_steps:
                iteration.elapsed = iteration.stopwatch.stop()  # synchronize, barrier, clock
        control = self.original["on_step_end"](args, state, control, **kwargs)
        if iteration is not None:
            iteration.pause_for(args, control)
        return control

    def on_epoch_end(self, args, state, control, **kwargs):
        control = self.original["on_epoch_end"](args, state, control, **kwargs)
        iteration = self.trainer.timing_iteration
        if iteration is not None:
            iteration.pause_for(args, control)
        return control

    def on_save(self, args, state, control, **kwargs):
        control = self.original["on_save"](args, state, control, **kwargs)  # part of the saving
        iteration = self.trainer.timing_iteration
        if iteration is not None:
            iteration.saved()
        return control

    def on_train_end(self, args, state, control, **kwargs):
        iteration = self.trainer.timing_iteration
        if iteration is not None and iteration.running:
            iteration.elapsed = iteration.stopwatch.stop()  # stopped early by a callback
        return self.original["on_train_end"](args, state, control, **kwargs)


def install_clock_hooks(trainer: ClockedTrainer, reseed: Callable[[], None]) -> None:
    """Wrap the callback handler's events so `trainer.timing_iteration` (when set) is timed;
    `reseed()` runs at the start of each timed run, after the other callbacks (a W&B run start
    may draw random numbers). The class is untouched: the wrappers are the handler's own."""
    hooks = _ClockHooks(trainer, reseed)
    for name in _ClockHooks.EVENTS:
        setattr(trainer.callback_handler, name, getattr(hooks, name))
