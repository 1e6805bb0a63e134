"""Plots with error bars: each configuration's median and its bootstrap interval, and the
ratios B/A of a comparison with theirs. One row per configuration, labelled by the keys that
vary; a plot of more rows than `MAX_ROWS` shows the first `MAX_ROWS` and says so in its title
(the CSV has them all)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from timing_trainer.analysis.report.axes import log_axis, new_axes
from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.labels import level_label

MAX_ROWS = 40


def row_labels(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    """`task rte · model bert · 128`: the values of the keys that vary between rows."""
    varying = [k for k in keys if k in frame and frame[k].nunique(dropna=False) > 1] or keys[:1]
    return [" · ".join(level_label(row[k]) for k in varying if k in row)
            for row in frame.to_dict(orient="records")]


def _errors(centre: np.ndarray, low: pd.Series, high: pd.Series) -> np.ndarray:
    """Error bar lengths; 0 where there is no interval (drawn as a bare point)."""
    lo = pd.to_numeric(low, errors="coerce").to_numpy(float)
    hi = pd.to_numeric(high, errors="coerce").to_numpy(float)
    return np.vstack([np.nan_to_num(centre - lo), np.nan_to_num(hi - centre)]).clip(min=0)


def _shown(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    if len(frame) <= MAX_ROWS:
        return frame, ""
    return frame.head(MAX_ROWS), f" (first {MAX_ROWS} of {len(frame)}; all in the CSV)"


def intervals_plot(intervals: pd.DataFrame, keys: list[str], *, kind: str = "finetuning",
                   response: Response = TIME, ax=None):
    """Each configuration's median with its bootstrap interval, on a log axis."""
    frame, cut = _shown(intervals.dropna(subset=["median"]))
    ax = new_axes(ax, size=(8, 1.5 + 0.28 * max(len(frame), 1)))
    centre = frame["median"].to_numpy(float)
    y = np.arange(len(frame))
    ax.errorbar(centre, y, xerr=_errors(centre, frame["ci_low"], frame["ci_high"]), fmt="o",
                markersize=4, capsize=3, color="tab:blue")
    ax.set_yticks(y, row_labels(frame, keys))
    ax.invert_yaxis()
    if len(frame):
        log_axis(ax.xaxis)
    ax.set_xlabel(f"median {response.label(kind)}, log scale; bars: 95 % bootstrap interval")
    ax.set_title(f"Each configuration's repeats{cut}", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def ratio_plot(pairs: pd.DataFrame, keys: list[str], names: tuple[str, str], ax=None):
    """Each configuration's time ratio B/A with its interval; 1 (no change) as a line."""
    frame, cut = _shown(pairs)
    ax = new_axes(ax, size=(8, 1.5 + 0.28 * max(len(frame), 1)))
    centre = frame["time_ratio"].to_numpy(float)
    y = np.arange(len(frame))
    ax.errorbar(centre, y, xerr=_errors(centre, frame["time_low"], frame["time_high"]),
                fmt="o", markersize=4, capsize=3, color="tab:blue")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_yticks(y, row_labels(frame, keys))
    ax.invert_yaxis()
    ax.set_xlabel(f"time of {names[1]} / time of {names[0]} (below 1: {names[1]} is faster); "
                  "bars: 95 % bootstrap interval")
    ax.set_title(f"{names[1]} against {names[0]}, configuration by configuration{cut}",
                 fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax
