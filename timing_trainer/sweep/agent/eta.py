"""A sweep's live estimate: the wall time its remaining runs will take, refitted after each run.

Why refit: a prediction made before a sweep starts is off by what it could not see (a pilot's
slices miss part of a run's fixed costs; with no pilot there is no prediction at all), and the
finished runs say by how much. So every finished run's wall time is data, and the remaining
runs are predicted again from it. Each run's prediction comes from one of two sources:

- A pilot (`timing-trainer pilot`: short timed slices on this machine) gives each run a
  predicted wall time. Refit: a remaining run = its pilot prediction x the median ratio
  measured / predicted of the finished runs (x 1 before any has finished). A ratio, because a
  pilot's error is mostly common to every run (the fixed costs the slices saw only in part, the
  machine's state); the median, so that one run that stalled does not move all the others.
- Without a pilot: wall = fixed + rate x work, where a run's work is its optimizer steps x
  TFLOP per step x repeats (the cost model's features, computed by the caller: this module is
  pure). Least squares on the finished runs once two of different work have finished; a
  negative rate (noise over runs of nearly equal work) falls back to the mean, a negative fixed
  cost to a fit through zero. With one finished run, or for a run whose work is unknown: the
  mean wall time of the finished runs. Before any run has finished there is nothing to go on,
  and the estimate says "unknown (no pilot, no finished run yet)".

Remaining wall time: each running run's prediction less its elapsed time (the clock is
injected, so tests use a fake one), then the pending runs in queue order, each on the worker
that is free first (the local agent's own order); with one worker, the sum of the predictions.
Its interval, once 3 runs have finished, comes from the leave-one-out ratios (each finished
run's wall time / what the other finished runs predict for it): the remaining runs scaled by
the smallest and the largest, as if their errors moved together (as the cost model's total).
A finished run's error is measured / predicted - 1, against the prediction it had when it
started: +100 % took twice its prediction.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from timing_trainer.runtime.durations import duration

UNKNOWN = "no pilot, no finished run yet"
INTERVAL_RUNS = 3  # finished runs before the estimate has an interval
LOO_RUNS = 100  # the latest finished runs whose leave-one-out ratios make the interval


@dataclass(frozen=True)
class Prediction:
    """One run's predicted wall time (None when there is none) and how it was made, or why not."""

    seconds: float | None
    basis: str


@dataclass(frozen=True)
class Outcome:
    """A finished run against the prediction it had when it started."""

    index: int
    wall: float
    predicted: float | None
    basis: str

    @property
    def error(self) -> float | None:
        """measured / predicted - 1 (None without a prediction)."""
        return self.wall / self.predicted - 1.0 if self.predicted else None


@dataclass(frozen=True)
class Remaining:
    """The remaining runs' predicted wall time, its interval where the data allow, and why not."""

    seconds: float | None
    low: float | None
    high: float | None
    runs_left: int
    workers: int
    basis: str  # how the runs are predicted (or why they cannot be)
    note: str = ""  # why there is no interval ("" when there is one, or nothing is left)

    def text(self) -> str:
        """`eta: 12m30s remaining (5 runs left; 10m05s to 15m40s)`."""
        left = f"{self.runs_left} run{'' if self.runs_left == 1 else 's'} left"
        if self.workers > 1:
            left += f" on {self.workers} workers"
        if self.runs_left == 0:
            return "eta: done (no runs left)"
        if self.seconds is None:
            return f"eta: unknown ({self.basis}) ({left})"
        low, high = duration(self.low), duration(self.high)
        span = f"; {low} to {high}" if self.low is not None and low != high else ""
        return f"eta: {duration(self.seconds)} remaining ({left}{span})"

    def to_dict(self) -> dict:
        return {"remaining_s": _round(self.seconds), "remaining_low_s": _round(self.low),
                "remaining_high_s": _round(self.high), "runs_left": self.runs_left,
                "workers": self.workers, "basis": self.basis,
                "interval_note": self.note or None}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def fit_work(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """(fixed s, s per unit of work) by least squares on (work, wall) points; None where two
    points of different work are missing or the rate comes out negative (then: the mean)."""
    if len(points) < 2:
        return None
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    xbar, ybar = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - xbar) ** 2 for x in xs)
    if sxx <= 1e-12 * max(xbar * xbar, 1e-300) * len(xs):
        return None  # every run the same work: the fit has nothing to tell them apart
    rate = sum((x - xbar) * (y - ybar) for x, y in zip(xs, ys)) / sxx
    if rate <= 0:
        return None
    fixed = ybar - rate * xbar
    if fixed < 0:  # a fixed cost cannot be negative: through zero instead
        return 0.0, sum(x * y for x, y in points) / sum(x * x for x in xs)
    return fixed, rate


class _Model:
    """The predictor from a set of finished runs' wall times (see the module docstring)."""

    def __init__(self, walls: Mapping[int, float], pilot: Mapping[int, float],
                 work: Mapping[int, float | None]):
        self.walls = walls
        self.pilot, self.work = pilot, work
        ratios = [w / pilot[i] for i, w in walls.items() if pilot.get(i)]
        self.n_ratios = len(ratios)
        self.factor = statistics.median(ratios) if ratios else 1.0
        points = [(work[i], w) for i, w in walls.items() if work.get(i) is not None]
        self.fit = fit_work(points)
        self.n_points = len(points)
        self.mean = statistics.fmean(walls.values()) if walls else None

    def predict(self, index: int) -> Prediction:
        n = len(self.walls)
        if self.pilot.get(index):
            basis = (f"pilot x {self.factor:.2f} (median of {self.n_ratios} finished)"
                     if self.n_ratios else "pilot")
            return Prediction(self.pilot[index] * self.factor, basis)
        if self.mean is None:
            why = UNKNOWN if not self.pilot else "no pilot prediction for it, no finished run yet"
            return Prediction(None, why)
        work = self.work.get(index)
        if work is not None and self.fit is not None:
            fixed, rate = self.fit
            return Prediction(fixed + rate * work, f"work fit on {self.n_points} finished runs "
                                                   f"({fixed:.1f} s + {rate:.3g} s per TFLOP)")
        return Prediction(self.mean, f"mean of {n} finished run{'' if n == 1 else 's'}")


class Eta:
    """The live estimate of one sweep's remaining runs (see the module docstring).

    `runs`: the run indices still to run, in queue order; `pilot`: {index: predicted wall s};
    `work`: {index: work in TFLOP, None where unknown}; `unplanned`: runs not yet proposed (a
    bayes sweep's), predicted as the mean; `clock`: seconds, monotonic (a fake one in tests).
    """

    def __init__(self, runs: Iterable[int], *, pilot: Mapping[int, float] | None = None,
                 work: Mapping[int, float | None] | None = None, workers: int = 1,
                 unplanned: int = 0, clock: Callable[[], float] = time.monotonic):
        self.pending: list[int] = list(dict.fromkeys(runs))
        self.pilot = {i: float(s) for i, s in (pilot or {}).items() if s and s > 0}
        self.work = dict(work or {})
        self.workers = max(1, int(workers))
        self.unplanned = max(0, int(unplanned))
        self.clock = clock
        self.running: dict[int, tuple[float, Prediction]] = {}
        self.finished: dict[int, Outcome] = {}  # in the order they finished
        self.earlier: dict[int, float] = {}  # finished before this estimate began: data only

    # -- what happens to runs ---------------------------------------------------------------

    def add_run(self, index: int, work: float | None = None) -> None:
        """A run proposed as the sweep goes (bayes): one fewer unplanned, one more pending."""
        self.unplanned = max(0, self.unplanned - 1)
        self.work[index] = work
        if index not in self.pending:
            self.pending.append(index)

    def learn(self, index: int, wall: float) -> None:
        """A run that finished before this estimate began (a resumed sweep): data, no error."""
        self.earlier[index] = float(wall)
        self._forget(index)

    def start(self, index: int, at: float | None = None) -> Prediction:
        """The run starts (at `at`, else now): its prediction now is the one it is judged by."""
        prediction = self.predict(index)
        if index in self.pending:
            self.pending.remove(index)
        self.running[index] = (self.clock() if at is None else at, prediction)
        return prediction

    def finish(self, index: int, wall: float | None = None) -> Outcome:
        """The run finished, taking `wall` seconds (else the clock since its start)."""
        started, prediction = self.running.pop(index, (None, None))
        if prediction is None:
            prediction = self.predict(index)
        if wall is None:
            wall = self.clock() - started if started is not None else math.nan
        outcome = Outcome(index, float(wall), prediction.seconds, prediction.basis)
        self._forget(index)
        if math.isfinite(outcome.wall) and outcome.wall >= 0:
            self.finished[index] = outcome
        return outcome

    def drop(self, index: int) -> None:
        """The run ended without finishing (failed, interrupted): no longer counted, not data."""
        self._forget(index)

    def _forget(self, index: int) -> None:
        self.running.pop(index, None)
        if index in self.pending:
            self.pending.remove(index)

    # -- what the estimate says ---------------------------------------------------------------

    def walls(self) -> dict[int, float]:
        """Every finished run's wall time, by index (earlier ones included)."""
        return {**self.earlier, **{i: o.wall for i, o in self.finished.items()}}

    def predict(self, index: int) -> Prediction:
        """The run's predicted wall time from what has finished so far."""
        return _Model(self.walls(), self.pilot, self.work).predict(index)

    def remaining(self) -> Remaining:
        """The remaining runs' wall time, on `workers` workers, with its interval where the
        finished runs allow one."""
        model = _Model(self.walls(), self.pilot, self.work)
        now = self.clock()
        running = [(model.predict(i), now - t0) for i, (t0, _) in self.running.items()]
        pending = [model.predict(i) for i in self.pending]
        pending += [Prediction(model.mean, f"mean of {len(model.walls)} finished runs")
                    if model.mean is not None else Prediction(None, UNKNOWN)] * self.unplanned
        left = len(running) + len(pending)
        workers = max(self.workers, len(running))
        missing = [p for p, _ in running if p.seconds is None] + [p for p in pending
                                                                  if p.seconds is None]
        basis = (running[0][0] if running else pending[0] if pending else Prediction(0, "")).basis
        if missing:
            return Remaining(None, None, None, left, workers, missing[0].basis,
                             f"{len(missing)} of {left} runs have no prediction")
        seconds = _makespan(running, pending, workers, 1.0)
        ratios = self._loo_ratios()
        if left == 0 or len(ratios) < INTERVAL_RUNS:
            note = "" if left == 0 else (f"no interval before {INTERVAL_RUNS} runs have "
                                         f"finished ({len(ratios)} so far)")
            return Remaining(seconds, None, None, left, workers, basis, note)
        low = _makespan(running, pending, workers, min(1.0, min(ratios)))
        high = _makespan(running, pending, workers, max(1.0, max(ratios)))
        return Remaining(seconds, low, high, left, workers, basis)

    def _loo_ratios(self) -> list[float]:
        """Each of the latest finished runs' wall time / what the others predict for it."""
        walls = self.walls()
        ratios = []
        for index in list(walls)[-LOO_RUNS:]:
            others = {i: w for i, w in walls.items() if i != index}
            predicted = _Model(others, self.pilot, self.work).predict(index).seconds
            if predicted and predicted > 0:
                ratios.append(walls[index] / predicted)
        return ratios

    def errors(self) -> list[float]:
        """The finished runs' errors against their predictions (runs that had one)."""
        return [o.error for o in self.finished.values() if o.error is not None]

    def summary(self) -> str:
        """`predictions: median error 12% (median signed +8%) over 7 runs` ('' when no run
        finished this time)."""
        if not self.finished:
            return ""
        errors = self.errors()
        unpredicted = len(self.finished) - len(errors)
        if not errors:
            why = next(iter(self.finished.values())).basis
            return f"predictions: none to compare (the finished runs had none: {why})"
        text = (f"predictions: median error {statistics.median(abs(e) for e in errors):.0%} "
                f"(median signed {statistics.median(errors):+.0%}) over {len(errors)} "
                f"finished run{'' if len(errors) == 1 else 's'}")
        return text + (f"; {unpredicted} had no prediction" if unpredicted else "")


def _makespan(running: list[tuple[Prediction, float]], pending: list[Prediction], workers: int,
              factor: float) -> float:
    """When the last run ends: running runs' rest first, then each pending run on the worker
    free first (the agent's own order); every prediction x `factor`."""
    free = sorted(max(0.0, p.seconds * factor - elapsed) for p, elapsed in running)
    free += [0.0] * (workers - len(free))
    for prediction in pending:
        free.sort()
        free[0] += prediction.seconds * factor
    return max(free) if free else 0.0
