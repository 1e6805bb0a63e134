"""Plots of the analysis. Each takes `ax=None` (a new figure then) and returns the axes.

Readable at a glance: axis labels with units, log scales where times span decades (labelled on
any range, plain numbers: `axes.log_axis`), whole-number count axes, factor levels in their
natural order (8, 16, 32) written without `.0`, human names instead of column names. The
response plotted is time by default; `response=ENERGY` plots energy (its column, labels and
unit: `response.Response`) with the same code. seaborn
draws the statistical plots (box plots, density, heat map); the backend is left to matplotlib
(inline in notebooks, Agg on a headless machine); `save` closes each figure it writes.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import statsmodels.api as sm

from timing_trainer.analysis.report.axes import count_axis, log_axis, new_axes, plain_axis
from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.labels import label, level_label, short_label, sort_levels


def _short(text: str) -> str:
    return text.split(" (")[0]


def box_by_factor(data: pd.DataFrame, factor: str, time: str | None = None, *,
                  kind: str = "finetuning", log: bool = True, response: Response = TIME,
                  ax=None):
    """Box plot of time per level of `factor` (whiskers 1.5 IQR, outliers as dots)."""
    ax = new_axes(ax)
    time, what = time or response.column, response.label(kind)
    present = data[[factor, time]].dropna()
    levels = sort_levels(present[factor])
    present = present.assign(_level=present[factor].map(level_label))
    sns.boxplot(data=present, x="_level", y=time, order=[level_label(v) for v in levels],
                color="tab:blue", fill=False, ax=ax)
    if log:
        log_axis(ax.yaxis)
    else:
        plain_axis(ax.yaxis)
    ax.set_xlabel(label(factor))
    ax.set_ylabel(what + (", log scale" if log else ""))
    ax.set_title(f"{_short(what)} by {_short(label(factor))}")
    if max((len(level_label(v)) for v in levels), default=0) > 8:
        ax.tick_params(axis="x", labelrotation=30)
    ax.grid(axis="y", alpha=0.3)
    return ax


def time_box(data: pd.DataFrame, time: str | None = None, *, kind: str = "finetuning",
             response: Response = TIME, ax=None):
    """One box plot of every run's time (the thesis's first look at the data), log axis."""
    ax = new_axes(ax, size=(4, 5))
    time, what = time or response.column, response.label(kind)
    sns.boxplot(y=data[time].dropna(), color="tab:blue", fill=False, ax=ax)
    log_axis(ax.yaxis)
    ax.set_ylabel(what + ", log scale")
    ax.set_title(f"{_short(what)}, all runs ({data[time].notna().sum()})")
    ax.grid(axis="y", alpha=0.3)
    return ax


def time_histogram(data: pd.DataFrame, time: str | None = None, *, kind: str = "finetuning",
                   bins: int = 30, response: Response = TIME, ax=None):
    """Histogram of time on a log axis (times span decades; a linear axis hides the small ones)."""
    ax = new_axes(ax)
    time, what = time or response.column, response.label(kind)
    values = data[time].dropna().to_numpy(float)
    values = values[values > 0]
    if values.size:
        edges = np.logspace(np.log10(values.min()), np.log10(values.max()) + 1e-9, bins + 1)
        ax.hist(values, bins=edges, color="tab:blue", edgecolor="white")
        log_axis(ax.xaxis)
    count_axis(ax.yaxis)
    ax.set_xlabel(what + ", log scale")
    ax.set_ylabel("runs")
    ax.set_title(f"Distribution of {_short(what)} ({values.size} runs)")
    return ax


def time_density(data: pd.DataFrame, time: str | None = None, *, kind: str = "finetuning",
                 hue: str | None = None, response: Response = TIME, ax=None):
    """Kernel density of time on a log axis (estimated on log time), one curve per `hue`."""
    ax = new_axes(ax)
    time, what = time or response.column, response.label(kind)
    present = data[[c for c in (time, hue) if c]].dropna()
    present = present[present[time] > 0]
    if hue is not None:
        present = present.assign(**{hue: present[hue].map(level_label)})
    if len(present) >= 2 and present[time].nunique() > 1:
        sns.kdeplot(data=present, x=time, hue=hue, log_scale=True, common_norm=False,
                    fill=hue is None, ax=ax,
                    hue_order=[level_label(v) for v in sort_levels(present[hue])] if hue else None)
        log_axis(ax.xaxis)
    ax.set_xlabel(what + ", log scale")
    ax.set_ylabel(f"density (per decade of {response.name})")
    ax.set_title(f"Density of {_short(what)}")
    return ax


def correlation_heatmap(corr: pd.DataFrame, ax=None):
    """Heat map of a correlation matrix, coefficients in the cells, human variable names."""
    ax = new_axes(ax, size=(6.5, 5.5))
    names = [short_label(str(c)) for c in corr.columns]
    sns.heatmap(corr.set_axis(names, axis=0).set_axis(names, axis=1), annot=True, fmt=".2f",
                cmap="RdBu_r", vmin=-1, vmax=1, square=True, linewidths=0.5,
                cbar_kws={"label": "Pearson correlation"}, ax=ax)
    ax.tick_params(axis="x", labelrotation=35)
    ax.set_title("Correlations (finished runs)")
    return ax


def residual_qq(residuals, ax=None, title: str = "Q-Q plot of log-linear residuals",
                unit: str = "residual of log(time)"):
    """Normal Q-Q plot of residuals with the standardised reference line (`line="s"`)."""
    ax = new_axes(ax, size=(5, 5))
    residuals = np.asarray(residuals, dtype=float)
    sm.qqplot(residuals, line="s", ax=ax, markersize=3, alpha=0.7)
    ax.set_xlabel("theoretical normal quantiles")
    ax.set_ylabel(unit)
    ax.set_title(title, fontsize=10)
    plain_axis(ax.yaxis)
    return ax


def residual_qq_by_factor(residuals: dict[str, np.ndarray], axes=None, unit: str = "s"):
    """One Q-Q plot per ANOVA factor's one-way model (residuals in `unit`, seconds by default);
    returns the axes."""
    if axes is None:
        cols = min(2, max(1, len(residuals)))
        rows = -(-len(residuals) // cols) or 1
        _fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4.2 * rows),
                                  layout="constrained", squeeze=False)
    flat = list(np.ravel(axes))
    for ax, (factor, values) in zip(flat, residuals.items()):
        residual_qq(values, ax=ax, title=f"one-way ANOVA on {_short(label(factor))}",
                    unit=f"residual ({unit})")
    for ax in flat[len(residuals):]:
        ax.set_visible(False)
    return axes


def pooled_scatter(data: pd.DataFrame, metric: pd.Series, metric_name: str,
                   time: str | None = None, *, kind: str = "finetuning",
                   response: Response = TIME, ax=None):
    """Every run's time against one metric (the thesis's pooled view), a colour per task."""
    ax = new_axes(ax, size=(7.5, 5))
    time, what = time or response.column, response.label(kind)
    present = data.assign(_metric=metric).dropna(subset=[time, "_metric"])
    if len(present):
        tasks = sorted(present["task"].astype(str).unique()) if "task" in present else None
        sns.scatterplot(data=present, x=time, y="_metric", hue="task" if tasks else None,
                        hue_order=tasks, s=25, alpha=0.7, ax=ax)
        log_axis(ax.xaxis)
    plain_axis(ax.yaxis)
    ax.set_xlabel(what + ", log scale")
    ax.set_ylabel(f"{label(metric_name)} (pooled over tasks)")
    ax.set_title(f"{_short(what)} against {label(metric_name)}, all runs "
                 f"with it ({len(present)})")
    return ax


MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")


def _points(ax, group: pd.DataFrame, time: str, metric: str, color, text: str,
            style: str | None) -> None:
    """A task's runs; with `style` (a mode the runs vary) one marker per level of it."""
    if style is None:
        ax.scatter(group[time], group[metric], s=14, alpha=0.6, color=color, label=text)
        return
    recorded = group[style].notna()
    parts = [(f"{style} {level_label(level)}", group[recorded & (group[style] == level)])
             for level in sort_levels(group.loc[recorded, style].tolist())]
    parts += [(f"{style} not recorded", group[~recorded])] if (~recorded).any() else []
    for index, (what, rows) in enumerate(parts):
        ax.scatter(rows[time], rows[metric], s=22, alpha=0.7, color=color,
                   marker=MARKERS[index % len(MARKERS)], label=f"{text}, {what}")


def time_vs_metric(data: pd.DataFrame, front: pd.DataFrame | None = None,
                   time: str | None = None, metric: str = "metric", *, kind: str = "finetuning",
                   response: Response = TIME, style: str | None = None, ax=None):
    """Time against the task's main metric, one colour per task, Pareto fronts as lines.

    Runs on a front are ringed, so a front of a single run (the fastest is also the best) shows.
    `style`: a mode the runs vary (`lora_r`), drawn as one marker per level, so that what the
    mode trades (time for accuracy) shows within each task's colour.
    """
    ax = new_axes(ax, size=(8, 5))
    time, what = time or response.column, response.label(kind)
    present = data.dropna(subset=[time, metric])
    colors = plt.get_cmap("tab10")
    for index, (task, group) in enumerate(present.groupby("task", sort=True)):
        color = colors(index % 10)
        name = group["metric_name"].dropna().iloc[0] if group["metric_name"].notna().any() else ""
        _points(ax, group, time, metric, color, f"{task} ({str(name).replace('eval_', '')})",
                style)
        if front is not None and len(front):
            line = front[front["task"] == task].sort_values(time)
            ax.step(line[time], line[metric], where="post", color=color, linewidth=1.5)
            ax.scatter(line[time], line[metric], s=70, facecolors="none", edgecolors=color,
                       linewidths=1.5)
    if len(present):
        log_axis(ax.xaxis)
        ax.legend(fontsize=8, loc="best")
    plain_axis(ax.yaxis)
    ax.set_xlabel(what + ", log scale")
    ax.set_ylabel("main metric of the task (its own units)")
    better = "faster" if response is TIME else f"lower in {response.name}"
    ax.set_title(f"{response.name.capitalize()} against quality; ringed and joined: Pareto "
                 f"fronts (no run is {better} and better)", fontsize=10)
    return ax


def importances_bar(importances: pd.DataFrame, ax=None):
    """Random forest's impurity importances, largest first, human feature names."""
    ax = new_axes(ax, size=(6, 3.5))
    ordered = importances.sort_values("importance")
    ax.barh([label(f) for f in ordered["feature"]], ordered["importance"])
    plain_axis(ax.xaxis)
    ax.set_xlabel("importance (share of impurity reduction)")
    ax.set_title("Random forest feature importances")
    return ax


def save(ax, path: str | Path, dpi: int = 110) -> Path:
    """Write the axes' figure as PNG and close it (keeps memory flat over many plots).

    `bbox_inches="tight"` grows the saved area to every text of the figure: no tick label or
    title is ever cut at the edge (rotated heat-map labels were, under the constrained layout
    alone)."""
    path = Path(path)
    figure = (np.ravel(ax)[0] if isinstance(ax, np.ndarray) else ax).figure
    figure.savefig(path, dpi=dpi, bbox_inches="tight", pad_inches=0.1)
    plt.close(figure)
    return path
