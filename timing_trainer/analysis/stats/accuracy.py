"""Time against the task's main metric: correlation, regression on log time, Pareto front.

Metrics differ between tasks (accuracy, F1, Matthews correlation, Pearson), so every relation is
computed within a task; a pooled line would mix units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

RELATION_COLUMNS = ["task", "metric_name", "n", "pearson_r", "pearson_p", "spearman_rho",
                    "spearman_p", "slope_per_log_time", "intercept", "r2"]


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
