"""Timing one evaluation loop: the whole loop, every batch's `prediction_step`, every forward.

`evaluation_loop` (and a 4.x `prediction_loop`) runs inside a stopwatch synchronized at both
ends; `prediction_step` inside an interval timer (CUDA events on a GPU, read once at the end;
the host clock on CPU); the model's forward inside module hooks (`ForwardTimer`, below).
Inside the loop only shapes are counted and the attention-mask sums queued. Everything else (the
events' read-out, the counts, the record) happens after the stopwatch has stopped. The energy
counters are read at the stopwatch's boundaries (timing_trainer.energy), except for an evaluation
inside train(): that one runs inside the timed fine-tuning, where nothing is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from timing_trainer.clocks.batches import BatchCounter
from timing_trainer.clocks.stopwatch import (
    Stopwatch,
    interval_timer_for,
    peak_memory,
    reset_peak_memory,
)
from timing_trainer.results.evaluation import EvaluationRecord
from timing_trainer.runtime import distributed

# --- the model's forward alone, per evaluation batch -----------------------------------------
#
# What inference benchmarks report.
#
# `inference_time_list` times the Trainer's `prediction_step` (input preparation, autocast setup,
# the forward, loss and logits handling); users of inference benchmarks (optimum-benchmark and the
# like) expect the forward alone. Both are kept: `ForwardTimer` times the forward through a pair of
# module hooks on the model (a forward pre-hook starts an interval, a forward hook stops it), with
# CUDA events on a GPU (queued on the stream, no host synchronize) and the host clock on CPU. The
# intervals are read once, after the evaluation loop. These two hooks are the only thing besides
# the existing timers that runs inside a timed evaluation.
#
# Not timed (with the reason recorded): models run through `torch.compile` (the hooks would be
# traced into the compiled graph) and `DataParallel` over several GPUs (each replica would fire
# the hooks from its own thread).


def forward_timing_blocker(args: Any) -> str | None:
    """Why the forward cannot be timed with these training arguments, or None when it can."""
    if getattr(args, "torch_compile", False):
        return "the model runs through torch.compile, which would trace the timing hooks"
    if (getattr(args, "n_gpu", 1) or 1) > 1:  # one process, several GPUs: DataParallel
        return "DataParallel over several GPUs: each replica would fire the timing hooks"
    return None


class ForwardTimer:
    """Module hooks that time every top-level forward of `model`; a context manager."""

    def __init__(self, model: Any, device: Any):
        self._model = model
        self._timer = interval_timer_for(device)
        self._handles: list[Any] = []
        self._open = False

    @property
    def kind(self) -> str:
        return self._timer.kind

    def _before(self, module: Any, args: Any) -> None:
        if not self._open:  # a forward inside the forward (same module) is not a new interval
            self._open = True
            self._timer.start()

    def _after(self, module: Any, args: Any, output: Any) -> None:
        if self._open:
            self._timer.stop()
            self._open = False

    def __enter__(self) -> ForwardTimer:
        self._handles = [self._model.register_forward_pre_hook(self._before),
                         self._model.register_forward_hook(self._after)]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._open = False

    def elapsed_seconds(self) -> list[float]:
        """Every forward's duration in seconds (one synchronize on a GPU): after the loop."""
        return self._timer.elapsed_seconds()


# --- the evaluation loop ---------------------------------------------------------------------


def _positive_or_none(value: float) -> float | None:
    return value if value == value and value > 0 else None  # NaN != NaN


class EvalLoopTiming:
    """The timers and counters of one evaluation loop, and the record they make."""

    def __init__(self, trainer: Any):
        args = trainer.args
        self.device = args.device
        self.in_train = bool(trainer.is_in_train)
        self.batch_timer = interval_timer_for(self.device)
        self.counter = BatchCounter.for_model(trainer.model, training=False)
        self.batch_sizes: list[int] = []
        self.forward_blocker = forward_timing_blocker(args)
        self.forward = None if self.forward_blocker else ForwardTimer(trainer.model, self.device)
        self.energy = trainer.energy_meter
        self.stopwatch = Stopwatch.for_device(
            self.device, barrier=distributed.barrier,
            probe=None if self.in_train else self.energy.read)
        self.elapsed: float | None = None

    def count(self, inputs: Any) -> None:
        """One batch's shapes (inside the loop: host metadata and a queued mask sum only)."""
        size = self.counter.add(inputs)
        self.batch_sizes.append(size if size is not None else 0)

    @contextmanager
    def timed(self) -> Iterator[None]:
        """The loop's timed region: forward hooks on, stopwatch running."""
        if not self.in_train:
            reset_peak_memory(self.device)
        with ExitStack() as stack:
            if self.forward is not None:
                stack.enter_context(self.forward)
            self.stopwatch.start()
            yield
            self.elapsed = self.stopwatch.stop()

    def record(self, name: str, output: Any, batch_size: int, warmup_batches: int,
               metrics: dict[str, Any], preparation: float | None) -> EvaluationRecord:
        """The EvaluationRecord of the finished loop (after the stopwatch: the events are read,
        the counts reduced across ranks). `preparation`: one-off model wrapping to subtract."""
        elapsed = self.elapsed or 0.0
        if preparation is not None:
            elapsed = max(0.0, elapsed - float(preparation))
        counter = self.counter
        real = counter.real_tokens()
        flops = counter.total_flops()
        record = EvaluationRecord(
            name=name,
            total_time=distributed.max_across_ranks(elapsed),
            batch_times=self.batch_timer.elapsed_seconds(),  # the one synchronize for the events
            forward_times=self.forward.elapsed_seconds() if self.forward is not None else [],
            batch_sizes=list(self.batch_sizes),
            batch_size=batch_size,
            n_samples=int(output.num_samples) if output.num_samples is not None else None,
            n_tokens=int(distributed.sum_across_ranks(counter.tokens)) or None,
            n_real_tokens=(int(distributed.sum_across_ranks(real)) or None)
            if real is not None else None,
            flops=_positive_or_none(distributed.sum_across_ranks(
                flops if flops is not None else float("nan"))),
            timer=self.batch_timer.kind,
            warmup_batches=warmup_batches,
            metrics=metrics,
            peak_memory_bytes=None if self.in_train else peak_memory(self.device),
        )
        self._add_energy(record)
        self._add_notes(record)
        return record

    def _add_energy(self, record: EvaluationRecord) -> None:
        """The loop's joules, summed over the ranks (after the stopwatch has stopped)."""
        if self.in_train:
            record.notes["inference_energy"] = (
                "energy is not read for an evaluation inside train(): it runs inside the timed "
                "fine-tuning, where nothing is read")
            return
        window = self.energy.of_stopwatch(self.stopwatch, distributed.sum_across_ranks)
        record.energy_j = window.joules
        if window.joules is None and self.energy.source:
            record.notes["inference_energy"] = window.reason

    def _add_notes(self, record: EvaluationRecord) -> None:
        if self.forward_blocker:
            record.notes["forward_time"] = self.forward_blocker
        reason = self.counter.flops_reason()
        if reason:
            record.notes["flops"] = reason
        if self.in_train:
            record.notes["peak_memory"] = ("peak memory is not measured for an evaluation "
                                           "inside train()")
