"""Plots of the analysis. Each takes `ax=None` (a new figure then) and returns the axes.

Readable at a glance: axis labels with units, log scales where times span decades, titles that
say what is shown. matplotlib only (no seaborn import cost). The backend is left to matplotlib
(inline in notebooks, Agg on a headless machine); `save` closes each figure it writes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats

from timing_trainer.analysis.columns import LABELS, TIME_LABELS


def _plain_log_ticks(axis) -> None:
    """Log-scale ticks as plain numbers (0.5, 1, 2, 100) instead of 5x10^-1, 10^0, 2x10^0.

    Call after plotting. Over more than a decade only the powers of ten are labelled; within
    about one decade the minor ticks are labelled too, else the axis would show one number.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    formatter = FuncFormatter(lambda value, _pos: f"{value:g}")
    axis.set_major_formatter(formatter)
    low, high = sorted(axis.get_view_interval())
    few_decades = low > 0 and high / low <= 20
    axis.set_minor_formatter(formatter if few_decades else NullFormatter())


def _axes(ax, size=(7, 4.5)):
    if ax is None:
        _fig, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _time_label(kind: str) -> str:
    return TIME_LABELS.get(kind, LABELS["time"])


def box_by_factor(data: pd.DataFrame, factor: str, time: str = "time", *, kind: str = "finetuning",
                  log: bool = True, ax=None):
    """Box plot of time per level of `factor` (whiskers 1.5 IQR, outliers as dots)."""
    ax = _axes(ax)
    present = data[[factor, time]].dropna()
    levels = sorted(present[factor].unique(), key=lambda v: (isinstance(v, str), v))
    groups = [present.loc[present[factor] == level, time].to_numpy(float) for level in levels]
    ax.boxplot(groups, tick_labels=[_level_label(v) for v in levels], showfliers=True)
    if log:
        ax.set_yscale("log")
        _plain_log_ticks(ax.yaxis)
    ax.set_xlabel(LABELS.get(factor, factor))
    ax.set_ylabel(_time_label(kind) + (", log scale" if log else ""))
    ax.set_title(f"{_time_label(kind).split(' (')[0]} by {LABELS.get(factor, factor).split(' (')[0]}")
    if max((len(str(v)) for v in levels), default=0) > 8:
        ax.tick_params(axis="x", labelrotation=30)
    ax.grid(axis="y", alpha=0.3)
    return ax


def _level_label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def time_histogram(data: pd.DataFrame, time: str = "time", *, kind: str = "finetuning",
                   bins: int = 30, ax=None):
    """Histogram of time on a log axis (times span decades; a linear axis hides the small ones)."""
    ax = _axes(ax)
    values = data[time].dropna().to_numpy(float)
    values = values[values > 0]
    if values.size:
        edges = np.logspace(np.log10(values.min()), np.log10(values.max()) + 1e-9, bins + 1)
        ax.hist(values, bins=edges, color="tab:blue", edgecolor="white")
        ax.set_xscale("log")
        _plain_log_ticks(ax.xaxis)
    ax.set_xlabel(_time_label(kind) + ", log scale")
    ax.set_ylabel("runs")
    ax.set_title(f"Distribution of {_time_label(kind).split(' (')[0]} ({values.size} runs)")
    return ax


def correlation_heatmap(corr: pd.DataFrame, ax=None):
    """Heat map of a correlation matrix with the coefficients written in the cells."""
    ax = _axes(ax, size=(6, 5))
    image = ax.imshow(corr.to_numpy(float), cmap="RdBu_r", vmin=-1, vmax=1)
    ticks = range(len(corr.columns))
    ax.set_xticks(list(ticks), [str(c) for c in corr.columns], rotation=40, ha="right")
    ax.set_yticks(list(ticks), [str(c) for c in corr.index])
    for i in ticks:
        for j in ticks:
            value = corr.iloc[i, j]
            if np.isfinite(value):
                ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if abs(value) > 0.6 else "black")
    ax.figure.colorbar(image, ax=ax, label="Pearson correlation")
    ax.set_title("Correlations (finished runs)")
    return ax


def residual_qq(residuals, ax=None):
    """Normal Q-Q plot of the log-linear model's residuals (log scale units)."""
    ax = _axes(ax, size=(5, 5))
    residuals = np.asarray(residuals, dtype=float)
    (theoretical, ordered), (slope, intercept, _r) = stats.probplot(residuals, dist="norm")
    ax.scatter(theoretical, ordered, s=12, alpha=0.7)
    ax.plot(theoretical, slope * np.asarray(theoretical) + intercept, color="tab:red",
            label="normal reference")
    ax.set_xlabel("theoretical normal quantiles")
    ax.set_ylabel("residual of log(time / 1 s)")
    ax.set_title("Q-Q plot of log-linear residuals")
    ax.legend(loc="upper left")
    return ax


def time_vs_metric(data: pd.DataFrame, front: pd.DataFrame | None = None, time: str = "time",
                   metric: str = "metric", *, kind: str = "finetuning", ax=None):
    """Time against the task's main metric, one colour per task, Pareto fronts as lines.

    Runs on a front are ringed, so a front of a single run (the fastest is also the best) shows.
    """
    ax = _axes(ax, size=(8, 5))
    present = data.dropna(subset=[time, metric])
    colors = plt.get_cmap("tab10")
    for index, (task, group) in enumerate(present.groupby("task", sort=True)):
        color = colors(index % 10)
        name = group["metric_name"].dropna().iloc[0] if group["metric_name"].notna().any() else ""
        ax.scatter(group[time], group[metric], s=14, alpha=0.6, color=color,
                   label=f"{task} ({str(name).replace('eval_', '')})")
        if front is not None and len(front):
            line = front[front["task"] == task].sort_values(time)
            ax.step(line[time], line[metric], where="post", color=color, linewidth=1.5)
            ax.scatter(line[time], line[metric], s=70, facecolors="none", edgecolors=color,
                       linewidths=1.5)
    ax.set_xscale("log")
    _plain_log_ticks(ax.xaxis)
    ax.set_xlabel(_time_label(kind) + ", log scale")
    ax.set_ylabel("main metric of the task (its own units)")
    ax.set_title("Time against quality; ringed and joined: Pareto fronts (no run is faster and better)",
                 fontsize=10)
    if len(present):
        ax.legend(fontsize=8, loc="best")
    return ax


def importances_bar(importances: pd.DataFrame, ax=None):
    """Random forest's impurity importances, largest first."""
    ax = _axes(ax, size=(6, 3.5))
    ordered = importances.sort_values("importance")
    ax.barh([LABELS.get(f, f) for f in ordered["feature"]], ordered["importance"])
    ax.set_xlabel("importance (share of impurity reduction)")
    ax.set_title("Random forest feature importances")
    return ax


def save(ax, path: str | Path, dpi: int = 110) -> Path:
    """Write the axes' figure as PNG and close it (keeps memory flat over many plots)."""
    path = Path(path)
    ax.figure.savefig(path, dpi=dpi)
    plt.close(ax.figure)
    return path
