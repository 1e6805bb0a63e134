"""Statistics of repeated timings: values in, figures out, no side effects.

Kept apart from the clocks that produce the values (as torch.utils.benchmark keeps `Measurement`
apart from `Timer`, and optimum-benchmark its `Latency` from the tracker), so the statistics can
be tested with plain numbers and reused by the torch-free analysis.

The minimum is the headline figure for a repeated timing (timeit's advice: noise only ever adds
time); the median, mean, spread and coefficient of variation say how noisy the machine was.
`coefficient_of_variation` and `CV_WARNING_THRESHOLD` live here, once: the trainer's noise
warning, the results file's `*_cv` and the analysis's `time_cv`, `energy_cv` and noise section
all use them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Iteration times whose coefficient of variation exceeds this were taken on a noisy machine: the
# trainer warns (`cv_warning_threshold`'s default) and the analysis counts such runs.
CV_WARNING_THRESHOLD = 0.05


def coefficient_of_variation(values: Sequence[float]) -> float | None:
    """Sample standard deviation (n - 1) over the mean; None for fewer than two values or a mean
    not above zero.

    The sums are exact (`math.fsum`, on plain floats: `statistics.stdev` is exact too but 20
    times slower, and the analysis computes one per run). `Measurement.cv` is this for two or
    more values, and the analysis's `time_cv` and `energy_cv` are this of a run's lists: a CV
    recomputed from a results file's list is its `*_cv`, to the last bit.
    """
    n = len(values)
    if n < 2:
        return None
    mean = math.fsum(values) / n
    if mean <= 0:
        return None
    return math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) / mean


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), numpy's default (linear interpolation); a ValueError for no
    values or q outside 0..100."""
    if not len(values):
        raise ValueError("percentile of no values")
    return float(np.percentile(values, q))


@dataclass(frozen=True)
class Measurement:
    """Repeated timings of one thing, in seconds, in the order they were taken."""

    values: tuple[float, ...]

    def __init__(self, values: Iterable[float]):
        values = tuple(float(v) for v in values)
        for v in values:
            if not math.isfinite(v):
                raise ValueError(f"timings must be finite numbers, got {v}")
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    def _require_values(self) -> None:
        if not self.values:
            raise ValueError("no timings to summarise")

    @property
    def sorted_values(self) -> tuple[float, ...]:
        return tuple(sorted(self.values))

    @property
    def min(self) -> float:
        self._require_values()
        return min(self.values)

    @property
    def max(self) -> float:
        self._require_values()
        return max(self.values)

    @property
    def total(self) -> float:
        return float(sum(self.values))

    @property
    def mean(self) -> float:
        self._require_values()
        return self.total / self.n

    @property
    def median(self) -> float:
        return self.percentile(50.0)

    @property
    def std(self) -> float:
        """Sample standard deviation (n - 1 in the denominator); 0 for a single value."""
        self._require_values()
        if self.n < 2:
            return 0.0
        mean = self.mean
        return math.sqrt(sum((v - mean) ** 2 for v in self.values) / (self.n - 1))

    @property
    def cv(self) -> float | None:
        """Coefficient of variation (`coefficient_of_variation`); None when the mean is not above
        zero, and for one timing, which has no spread to measure (the results file's `*_cv` of a
        run with `finetuning_iters=1` is null with that reason, not a 0 that reads as no noise)."""
        self._require_values()
        if self.n < 2:
            return None
        return coefficient_of_variation(self.values)

    def percentile(self, q: float) -> float:
        self._require_values()
        return percentile(self.sorted_values, q)

    @property
    def p90(self) -> float:
        return self.percentile(90.0)

    @property
    def iqr(self) -> float:
        return self.percentile(75.0) - self.percentile(25.0)

    def drop_warmup(self, count: int) -> Measurement:
        """The timings without the first `count` (warm-up) values.

        When that would leave nothing (fewer values than warm-up), the values are kept as they
        are: a figure from cold runs beats no figure, and the caller still has the list.
        """
        if count < 0:
            raise ValueError(f"warm-up count must be >= 0, got {count}")
        if count == 0 or count >= self.n:
            return self
        return Measurement(self.values[count:])

    def __getitem__(self, item: slice) -> Measurement:
        if not isinstance(item, slice):
            raise TypeError("index a Measurement with a slice; use .values for one value")
        return Measurement(self.values[item])

    def summary(self, prefix: str) -> dict[str, float | list[float] | None]:
        """Flat figures named like the results schema: prefix, prefix_list, prefix_median, ...

        `prefix` alone is the minimum (the thesis's meaning of `finetuning_time`).
        """
        if not self.values:
            return {
                prefix: None, f"{prefix}_list": [], f"{prefix}_median": None,
                f"{prefix}_mean": None, f"{prefix}_std": None, f"{prefix}_cv": None,
            }
        return {
            prefix: self.min,
            f"{prefix}_list": list(self.values),
            f"{prefix}_median": self.median,
            f"{prefix}_mean": self.mean,
            f"{prefix}_std": self.std if self.n > 1 else None,
            f"{prefix}_cv": self.cv,
        }


def is_noisy(measurement: Measurement, cv_threshold: float) -> bool:
    """True when there are at least two timings and their CV exceeds `cv_threshold`."""
    if measurement.n < 2:
        return False
    cv = measurement.cv
    return cv is not None and cv > cv_threshold
