"""Time against quality pooled over all runs, as the thesis did it (beside the per-task view).

The thesis correlated time with each evaluation metric over every run that has it (`eval_acc`
over WNLI, RTE, MRPC and SST-2 runs; `eval_corr`, `eval_spearmanr` over STS-B; `eval_loss` over
all) and regressed accuracy on time. Pooling mixes tasks (longer tasks are also the easier ones
here), which is why `accuracy.accuracy_relation` also gives the per-task view.

Metric columns are read under the thesis's names or this project's (`eval_accuracy`, ...). When
the runs table has no column for a metric, the task's main metric stands in for the runs whose
main metric it is, and a note says so (MRPC's accuracy, for one, is then missing).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from timing_trainer.analysis.diagnostics import ols_diagnostics

METRICS: dict[str, tuple[str, ...]] = {
    "eval_acc": ("eval_acc", "eval_accuracy"),
    "eval_f1": ("eval_f1",),
    "eval_mcc": ("eval_mcc", "eval_matthews_correlation"),
    "eval_corr": ("eval_corr",),
    "eval_pearson": ("eval_pearson",),
    "eval_spearmanr": ("eval_spearmanr",),
    "eval_loss": ("eval_loss",),
}
ACCURACY = "eval_acc"


def metric_values(data: pd.DataFrame, metric: str) -> tuple[pd.Series, str | None]:
    """The metric per run (NaN where absent) and a note when it had to come from `metric`."""
    names = METRICS[metric]
    for name in names:
        if name in data and pd.to_numeric(data[name], errors="coerce").notna().any():
            return pd.to_numeric(data[name], errors="coerce"), None
    if "metric_name" in data and "metric" in data:
        mask = data["metric_name"].isin(names)
        if mask.any():
            note = f"{metric} taken from the main metric (no {metric} column)"
            return data["metric"].where(mask).astype("float64"), note
    return pd.Series(np.nan, index=data.index), None


def metric_correlations(data: pd.DataFrame, time: str = "time") -> tuple[pd.DataFrame, list]:
    """Pearson r of time with every metric over the runs that have it (n, r, p)."""
    from scipy import stats

    rows, substituted = [], []
    for metric in METRICS:
        values, note = metric_values(data, metric)
        if note:
            substituted.append(metric)
        pair = pd.DataFrame({"t": data[time], "m": values}).dropna()
        row: dict[str, Any] = {"metric": metric, "n": len(pair)}
        if len(pair) >= 3 and pair["t"].nunique() > 1 and pair["m"].nunique() > 1:
            row["pearson_r"], row["pearson_p"] = (float(v) for v in stats.pearsonr(pair.t, pair.m))
        else:
            row["why_not"] = f"{len(pair)} run(s) with {metric} and a time" if len(pair) < 3 \
                else f"{metric} or time constant over these runs"
        rows.append(row)
    notes = [f"the runs table has no column for {', '.join(substituted)}: each taken from the "
             "main metric of the runs whose main metric it is (other runs left out)"
             ] if substituted else []
    return pd.DataFrame(rows), notes


def metric_on_time(data: pd.DataFrame, metric: str = ACCURACY, *, log: bool = False,
                   time: str = "time") -> dict[str, Any]:
    """OLS `metric = a + b * time` (or `* log(time)`), pooled over the runs with the metric."""
    values, _note = metric_values(data, metric)
    pair = pd.DataFrame({"t": data[time], "m": values}).dropna()
    pair = pair[pair["t"] > 0]
    regressor = f"log({time})" if log else time
    if len(pair) < 3 or pair["t"].nunique() < 2:
        return {"metric": metric, "regressor": regressor, "n": len(pair), "fitted": False,
                "why_not": f"{len(pair)} run(s) with {metric} and a time; need 3 with 2 times"}
    x = np.log(pair["t"]) if log else pair["t"]
    results = sm.OLS(pair["m"].to_numpy(float), sm.add_constant(x.to_numpy(float))).fit()
    return {"metric": metric, "regressor": regressor, "n": len(pair), "fitted": True,
            "intercept": float(results.params[0]), "slope": float(results.params[1]),
            "slope_p": float(results.pvalues[1]), "r2": float(results.rsquared),
            "adj_r2": float(results.rsquared_adj), "diagnostics": ols_diagnostics(results)}


def pooled_relation(data: pd.DataFrame) -> dict[str, Any]:
    """Correlations with every metric and accuracy regressed on time and on log time."""
    correlations, notes = metric_correlations(data)
    return {"correlations": correlations, "notes": notes,
            "accuracy_on_time": metric_on_time(data, ACCURACY),
            "accuracy_on_log_time": metric_on_time(data, ACCURACY, log=True)}
