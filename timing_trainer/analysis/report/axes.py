"""Axis conventions every plot of the analysis shares.

- One tick notation: plain numbers (0.5, 1, 2, 100, 5000), never 10ⁿ or 5×10⁻¹.
- Log axes are labelled on any range: within about a decade the ticks are evenly spaced round
  numbers (0.5, 0.75, 1, 1.25, 1.5 for times of 0.5 to 1.7 s), within two decades 1-2-3-5
  steps, within three 1-2-5, beyond that the powers of ten; minor ticks are never labelled.
- Count axes (runs per bin) show whole numbers only.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)

NARROW_RATIO = 10  # max/min within which a log axis gets evenly spaced round ticks
# Above it, ticks at these multiples of the powers of ten, by the view's max/min ratio.
LOG_SUBS = ((100, (1.0, 2.0, 3.0, 5.0)), (1000, (1.0, 2.0, 5.0)), (float("inf"), (1.0,)))


def plain_number(value: float, _pos=None) -> str:
    """A tick label in plain notation: 0.5, 1, 1.25, 3000, 2000000 (joules reach millions),
    1e-05 only for tiny values."""
    if value == 0:
        return "0"
    if abs(value) >= 1e4 and float(value).is_integer():
        return f"{value:.0f}"
    return f"{value:.6g}" if abs(value) >= 1e-4 else f"{value:.1g}"


def new_axes(ax=None, size=(7, 4.5)):
    """`ax`, or a new figure's axes (constrained layout) when `ax` is None."""
    if ax is None:
        _fig, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def log_axis(axis) -> None:
    """Put `axis` (ax.xaxis or ax.yaxis) on a log scale with plain, readable ticks.

    Call after plotting, when the view interval is known.
    """
    axis.axes.set_xscale("log") if axis is axis.axes.xaxis else axis.axes.set_yscale("log")
    low, high = sorted(axis.get_view_interval())
    if low <= 0 or not np.isfinite(high):
        return
    ratio = high / low
    if ratio <= NARROW_RATIO:
        ticks = MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
        axis.set_major_locator(FixedLocator([t for t in ticks if low <= t <= high and t > 0]))
    else:
        subs = next(s for limit, s in LOG_SUBS if ratio <= limit)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(plain_number))
    axis.set_minor_formatter(NullFormatter())


def count_axis(axis) -> None:
    """Whole-number ticks only (a count of runs is never 0.5)."""
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(plain_number))


def plain_axis(axis) -> None:
    """A linear axis in the same plain notation (no offset, no scientific multiplier)."""
    axis.set_major_formatter(FuncFormatter(plain_number))


def labelled_ticks(axis) -> list[str]:
    """The non-empty major tick labels inside the view (what a reader sees); draws the figure."""
    axis.axes.figure.canvas.draw()
    low, high = sorted(axis.get_view_interval())
    return [t.get_text() for t in axis.get_majorticklabels()
            if t.get_text() and low <= _position(t, axis) <= high]


def _position(tick_label, axis) -> float:
    x, y = tick_label.get_position()
    return x if axis is axis.axes.xaxis else y
