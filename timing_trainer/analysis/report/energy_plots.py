"""Energy against time per model (log-log), with lines of equal average power.

`energy_vs_time(pairs, kind, ax=None)` takes `power.energy_time_pairs` and returns the axes: one
colour per model (seaborn), both axes logarithmic with plain labels (`axes.log_axis`), and
dashed lines E = P x t at round powers (1-2-5 steps) across the runs' range, each labelled in
watts. A model on a higher line draws more power; left of another at the same energy, it is
faster for the same joules.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import seaborn as sns

from timing_trainer.analysis.report.axes import log_axis, new_axes
from timing_trainer.analysis.stats.power import AXES

MAX_POWER_LINES = 4


def power_levels(powers, max_lines: int = MAX_POWER_LINES) -> list[float]:
    """Round powers (1, 2, 5 x 10^n W) spanning the runs' powers: those inside their range,
    and one on each side when fewer than two are inside; at most `max_lines`, evenly picked."""
    values = np.asarray([p for p in powers if np.isfinite(p) and p > 0], dtype=float)
    if values.size == 0:
        return []
    low, high = values.min(), values.max()
    exponents = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 2)
    candidates = sorted(m * 10.0 ** e for e in exponents for m in (1, 2, 5))
    inside = [c for c in candidates if low <= c <= high]
    if len(inside) < 2:
        below = [c for c in candidates if c < low][-1:]
        above = [c for c in candidates if c > high][:1]
        inside = below + inside + above
    if len(inside) > max_lines:
        picks = np.linspace(0, len(inside) - 1, max_lines).round().astype(int)
        inside = [inside[i] for i in sorted(set(picks))]
    return inside


def _power_lines(ax, levels: list[float]) -> None:
    """Dashed E = P x t lines across the current view, labelled at their right end."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    xs = np.geomspace(x0, x1, 50)
    for level in levels:
        ax.plot(xs, level * xs, linestyle="--", color="0.55", linewidth=0.9, zorder=0)
        inside = xs[(level * xs >= y0) & (level * xs <= y1)]
        if inside.size:  # labelled near the end of its visible part, clear of the frame
            x = inside[int(0.85 * (inside.size - 1))]
            ax.annotate(f"{level:g} W", (x, level * x), fontsize=8, color="0.35",
                        xytext=(-3, 3), textcoords="offset points", ha="right", va="bottom")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


def energy_vs_time(pairs: pd.DataFrame, kind: str = "finetuning", ax=None):
    """Energy against time, a colour per model, dashed lines of equal average power."""
    ax = new_axes(ax, size=(7.5, 5))
    time_label, energy_label = AXES[kind]
    if len(pairs):
        models = sorted(pairs["model"].astype(str).unique())
        sns.scatterplot(data=pairs.assign(model=pairs["model"].astype(str)), x="time_s",
                        y="energy_j", hue="model", hue_order=models, s=30, alpha=0.8, ax=ax)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.margins(0.08)
        ax.autoscale_view()
        _power_lines(ax, power_levels(pairs["power_w"].dropna()))
        log_axis(ax.xaxis)
        log_axis(ax.yaxis)
        ax.legend(title="model", fontsize=8, loc="upper left")
    ax.set_xlabel(f"{time_label}, log scale")
    ax.set_ylabel(f"{energy_label}, log scale")
    ax.set_title(f"Energy against time per model ({len(pairs)} runs); dashed: equal average "
                 "power", fontsize=10)
    ax.grid(alpha=0.25, which="major")
    return ax
