"""On-clock time (and energy) of a sweep run, from the slice of its shape.

Fine-tuning: each timed iteration of the slice gives a rate, seconds per unit of work, and the run
does `iters x units` of it. On a CPU the unit is a training sample (a step's arithmetic follows
its batch, so a short last batch costs less); on a GPU it is an optimizer step (a short batch
still launches every kernel). The prediction is the median rate, the interval the slowest and
fastest iteration's.

Evaluation: the slice's evaluation loops give seconds per example (CPU) or per batch (GPU); the
run evaluates `n_eval` examples. Where the slice evaluated the whole set, as it does for sets of
up to 20 batches, that is the measured loop itself. The interval is the per-batch latencies'
spread: their coefficient of variation over the square root of their count (the loop's total
averages the batches' noise).

Energy, where the slice measured it, alike: joules per unit and per example. Torch-free.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from timing_trainer.pilot.measure import SliceMeasure
from timing_trainer.pilot.span import Span
from timing_trainer.pilot.work import RunWork


@dataclass(frozen=True)
class ClockPrediction:
    """A run's predicted time on the clock, and its energy (None where not measured)."""

    finetuning: Span
    evaluation: Span
    energy: Span | None

    @property
    def total(self) -> Span:
        return self.finetuning + self.evaluation


def by_samples(device: str) -> bool:
    """Whether work is counted in samples (CPU) rather than steps (GPU, MPS)."""
    return device.strip().lower().startswith("cpu")


def _eval_units(measure: SliceMeasure, n_eval: float, eval_batch: int) -> tuple[float, float]:
    """(the slice's evaluation units, the run's), in examples or batches."""
    if by_samples(measure.device):
        return measure.eval_samples, n_eval
    return math.ceil(measure.eval_samples / eval_batch), math.ceil(n_eval / eval_batch)


def batch_noise(measure: SliceMeasure) -> float:
    """The relative noise of an evaluation loop's total: the per-batch latencies' coefficient
    of variation over the square root of their count (0 with fewer than two batches)."""
    times = measure.batch_times
    if len(times) < 2 or statistics.mean(times) <= 0:
        return 0.0
    return statistics.stdev(times) / statistics.mean(times) / math.sqrt(len(times))


def _energy(measure: SliceMeasure, work: RunWork, units: float, eval_ratio: float) -> Span | None:
    if not measure.finetuning_energy or measure.eval_energy is None:
        return None
    per_unit = [j / (measure.samples if by_samples(measure.device) else measure.steps)
                for j in measure.finetuning_energy]
    return (Span.of(per_unit).scaled(units * work.iters)
            + Span.exact(measure.eval_energy * eval_ratio))


def predict_clock(measure: SliceMeasure, work: RunWork, eval_batch: int) -> ClockPrediction:
    """The run's on-clock time from the slice of its shape (see the module docstring)."""
    samples = by_samples(measure.device)
    units = work.samples if samples else work.steps
    finetuning = Span.of(measure.per_unit(samples)).scaled(units * work.iters)
    slice_units, run_units = _eval_units(measure, work.n_eval, eval_batch)
    ratio = run_units / slice_units if slice_units > 0 else math.nan
    evaluation = Span.exact(measure.eval_total * ratio).widened(batch_noise(measure))
    return ClockPrediction(finetuning, evaluation, _energy(measure, work, units, ratio))
