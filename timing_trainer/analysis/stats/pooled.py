"""Time against quality pooled over all runs, as the thesis did it (beside the per-task view).

The thesis correlated time with each evaluation metric over every run that has it (accuracy over
WNLI, RTE, MRPC and SST-2 runs; its `eval_corr`, Spearman over STS-B; the loss over all) and
regressed accuracy on time. Pooling mixes tasks (longer tasks are also the easier ones here),
which is why `accuracy.accuracy_relation` also gives the per-task view.

The metrics are the runs table's columns (`columns.METRIC_COLUMNS`: one column per metric,
whichever spelling the source used). A metric no run has is left out with a note naming it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from timing_trainer.analysis.stats.diagnostics import ols_diagnostics
from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.columns import METRIC_COLUMNS
from timing_trainer.analysis.table.labels import label

METRICS = tuple(METRIC_COLUMNS)
ACCURACY = "eval_accuracy"


def metric_values(data: pd.DataFrame, metric: str) -> pd.Series:
    """The metric per run (NaN where a run does not have it)."""
    if metric not in data:
        return pd.Series(np.nan, index=data.index)
    return pd.to_numeric(data[metric], errors="coerce").astype("float64")


def absent_note(data: pd.DataFrame, what: str = "time") -> list[str]:
    """A note naming the metrics that no run has (their pooled rows are then empty)."""
    absent = [m for m in METRICS if metric_values(data, m).isna().all()]
    if not absent:
        return []
    names = ", ".join(f"{label(m)} (`{m}`)" for m in absent)
    return [f"no run has {names}: left out of the pooled correlations with {what}"]


def metric_correlations(data: pd.DataFrame, time: str = "time",
                        response: Response = TIME) -> tuple[pd.DataFrame, list]:
    """Pearson r of `time` (the response's column) with every metric over the runs that have it
    (n, r, p), and the note on metrics no run has."""
    from scipy import stats

    rows = []
    for metric in METRICS:
        pair = pd.DataFrame({"t": data[time], "m": metric_values(data, metric)}).dropna()
        row: dict[str, Any] = {"metric": metric, "n": len(pair)}
        if len(pair) >= 3 and pair["t"].nunique() > 1 and pair["m"].nunique() > 1:
            row["pearson_r"], row["pearson_p"] = (float(v) for v in stats.pearsonr(pair.t, pair.m))
        else:
            row["why_not"] = f"{len(pair)} run(s) with {metric} and {response.a_name}" \
                if len(pair) < 3 else f"{metric} or {response.name} constant over these runs"
        rows.append(row)
    return pd.DataFrame(rows), absent_note(data, response.name)


def metric_on_time(data: pd.DataFrame, metric: str = ACCURACY, *, log: bool = False,
                   time: str = "time") -> dict[str, Any]:
    """OLS `metric = a + b * time` (or `* log(time)`), pooled over the runs with the metric."""
    pair = pd.DataFrame({"t": data[time], "m": metric_values(data, metric)}).dropna()
    pair = pair[pair["t"] > 0]
    regressor = f"log({time})" if log else time
    if len(pair) < 3 or pair["t"].nunique() < 2:
        return {"metric": metric, "regressor": regressor, "n": len(pair), "fitted": False,
                "why_not": f"{len(pair)} run(s) with {metric} and {time}; need 3 with 2 "
                           f"values of {time}"}
    x = np.log(pair["t"]) if log else pair["t"]
    results = sm.OLS(pair["m"].to_numpy(float), sm.add_constant(x.to_numpy(float))).fit()
    return {"metric": metric, "regressor": regressor, "n": len(pair), "fitted": True,
            "intercept": float(results.params[0]), "slope": float(results.params[1]),
            "slope_p": float(results.pvalues[1]), "r2": float(results.rsquared),
            "adj_r2": float(results.rsquared_adj), "diagnostics": ols_diagnostics(results)}


def pooled_relation(data: pd.DataFrame, response: Response = TIME) -> dict[str, Any]:
    """Correlations of the response with every metric, and accuracy regressed on it and on its
    log (keys `accuracy_on_time`, `accuracy_on_log_time`; `..._energy` for energy)."""
    column, name = response.column, response.name
    correlations, notes = metric_correlations(data, column, response)
    return {"correlations": correlations, "notes": notes,
            f"accuracy_on_{name}": metric_on_time(data, ACCURACY, time=column),
            f"accuracy_on_log_{name}": metric_on_time(data, ACCURACY, log=True, time=column)}
