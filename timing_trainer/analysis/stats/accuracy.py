"""Time against the task's main metric: correlation, regression on log time, Pareto front.

Metrics differ between tasks (accuracy, F1, Matthews correlation, Pearson), so every relation is
computed within a task; a pooled line would mix units.

Where the runs vary a mode (LoRA's rank, the attention kernel, torch.compile, padding-free
batches: the ANOVA's rule, `columns.design_factors`), `mode_tradeoff` splits the view by it:
per task, each level of the mode against its first level (LoRA rank 0, `False`, `eager`), on
runs that differ in that mode alone (same task, model, length, batch size and other modes), so
that a reader sees what LoRA saves in time and costs in accuracy. Where no mode varies it is
empty and nothing else changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from timing_trainer.analysis.table.columns import MODE_FACTORS, design_factors
from timing_trainer.analysis.table.labels import level_label, sort_levels

RELATION_COLUMNS = ["task", "metric_name", "n", "pearson_r", "pearson_p", "spearman_rho",
                    "spearman_p", "slope_per_log_time", "intercept", "r2"]
# `mode_tradeoff`'s columns (`median_time` and `time_ratio` renamed after the response).
TRADEOFF_COLUMNS = ["task", "metric_name", "mode", "level", "reference", "n_runs", "n_pairs",
                    "median_time", "time_ratio", "median_metric", "metric_change"]


def accuracy_relation(data: pd.DataFrame, time: str = "time", metric: str = "metric",
                      by: str = "task", name: str = "time") -> pd.DataFrame:
    """Per task: Pearson and Spearman correlation of metric with time, and the OLS line
    `metric = intercept + slope * log(time)` (slope: metric change per e-fold more time).

    `time`: the response's column; `name`: its name in the slope's column
    (`slope_per_log_energy` for energy)."""
    rows = []
    for level, group in data.groupby(by, sort=True):
        group = group[[time, metric] + (["metric_name"] if "metric_name" in group else [])]
        group = group.dropna(subset=[time, metric])
        n = len(group)
        row = {"task": level, "n": n,
               "metric_name": group["metric_name"].iloc[0] if n and "metric_name" in group else None}
        x = np.log(group[time].to_numpy(float))
        y = group[metric].to_numpy(float)
        if n >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
            row["pearson_r"], row["pearson_p"] = stats.pearsonr(group[time], y)
            row["spearman_rho"], row["spearman_p"] = stats.spearmanr(group[time], y)
            fit = stats.linregress(x, y)
            row.update(slope_per_log_time=fit.slope, intercept=fit.intercept, r2=fit.rvalue ** 2)
        rows.append(row)
    table = pd.DataFrame(rows, columns=RELATION_COLUMNS)
    return table.rename(columns={"slope_per_log_time": f"slope_per_log_{name}"})


def pareto_front(data: pd.DataFrame, time: str = "time", metric: str = "metric",
                 by: str | None = "task") -> pd.DataFrame:
    """Runs that no other run (of the same task) beats on both: as fast or faster and as good or
    better, strictly better on one. Sorted by time within each group."""
    groups = data.groupby(by, sort=True) if by else [(None, data)]
    fronts = []
    for _level, group in groups:
        group = group.dropna(subset=[time, metric]).sort_values([time, metric],
                                                               ascending=[True, False])
        best = -np.inf
        keep = []
        for index, value in zip(group.index, group[metric].to_numpy(float)):
            if value > best:  # faster runs come first; a run is on the front if it beats them all
                keep.append(index)
                best = value
        fronts.append(group.loc[keep])
    if not fronts:
        return data.iloc[0:0]
    return pd.concat(fronts).reset_index(drop=True)


def mode_tradeoff(data: pd.DataFrame, time: str = "time", metric: str = "metric",
                  name: str = "time", modes: list[str] | None = None) -> pd.DataFrame:
    """Per task, mode and level: runs, median time and metric, and against the mode's first
    level (`reference`) over matched configurations (`n_pairs`: configurations that ran both,
    equal in every other factor and mode): the median `time_ratio` (level / reference) and
    `metric_change` (level - reference, in the task's metric). `modes`: default the modes the
    runs vary (`design_factors`); none varied gives an empty table."""
    factors = design_factors(data)
    modes = [f for f in factors if f in MODE_FACTORS] if modes is None else list(modes)
    rows = []
    for mode in modes:
        rows += _mode_rows(data, mode, [f for f in factors if f != mode], time, metric)
    table = pd.DataFrame(rows, columns=TRADEOFF_COLUMNS)
    return table.rename(columns={"median_time": f"median_{name}", "time_ratio": f"{name}_ratio"})


def _paired(data: pd.DataFrame, others: list[str], levels: list[str], time: str,
            metric: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per configuration (`others`, task first), each level's time over the reference's, and
    its metric minus the reference's (medians over repeated runs); columns: the levels."""
    keys = ["task", *[f for f in others if f != "task"]]
    cells = data.groupby([*keys, "_level"], dropna=False)[[time, metric]].median()
    times = cells[time].unstack("_level").reindex(columns=levels)
    metrics = cells[metric].unstack("_level").reindex(columns=levels)
    return times.div(times[levels[0]], axis=0), metrics.sub(metrics[levels[0]], axis=0)


def _mode_rows(data: pd.DataFrame, mode: str, others: list[str], time: str,
               metric: str) -> list[dict]:
    """`mode_tradeoff`'s rows of one mode, task by task, level by level."""
    present = data.dropna(subset=[mode, time])
    present = present.assign(_level=present[mode].map(level_label))
    levels = [level_label(v) for v in sort_levels(present[mode].tolist())]
    if len(levels) < 2:
        return []
    ratios, changes = _paired(present, others, levels, time, metric)
    rows = []
    for task, group in present.groupby("task", sort=True):
        names = group["metric_name"].dropna() if "metric_name" in group else pd.Series()
        for level in levels:
            runs = group[group["_level"] == level]
            ratio = ratios.xs(task, level="task")[level].dropna()
            change = changes.xs(task, level="task")[level].dropna()
            rows.append({
                "task": task, "metric_name": names.iloc[0] if len(names) else None,
                "mode": mode, "level": level, "reference": levels[0], "n_runs": len(runs),
                "n_pairs": len(ratio), "median_time": runs[time].median(),
                "time_ratio": ratio.median() if len(ratio) else np.nan,
                "median_metric": runs[metric].median(),
                "metric_change": change.median() if len(change) else np.nan})
    return rows
