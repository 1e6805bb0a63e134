"""A predicted figure with its interval: `Span(value, low, high)`.

The estimate's intervals come from the slices' own noise: a figure measured several times (by
several slices, or by several iterations of one) is predicted by its median and bounded by its
least and greatest measurement; a figure measured once has no spread to give and its interval is
the value itself. Parts add up bound by bound (their errors are taken to move together: one
machine, one pilot), which is the conservative sum, as the cost model's total is.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A value and its interval `[low, high]` (seconds, or joules)."""

    value: float
    low: float
    high: float

    @classmethod
    def of(cls, values: list[float]) -> Span:
        """Median, least and greatest of `values` (NaN when there are none)."""
        finite = [v for v in values if math.isfinite(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan)
        return cls(statistics.median(finite), min(finite), max(finite))

    @classmethod
    def exact(cls, value: float) -> Span:
        return cls(value, value, value)

    def __add__(self, other: Span) -> Span:
        return Span(self.value + other.value, self.low + other.low, self.high + other.high)

    def scaled(self, factor: float) -> Span:
        return Span(self.value * factor, self.low * factor, self.high * factor)

    def widened(self, relative: float) -> Span:
        """The interval widened by `relative` of the value on both sides (noise known apart)."""
        pad = abs(self.value) * max(0.0, relative)
        return Span(self.value, self.low - pad, self.high + pad)

    @property
    def known(self) -> bool:
        return math.isfinite(self.value)


ZERO = Span(0.0, 0.0, 0.0)
