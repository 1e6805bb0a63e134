"""Descriptive statistics of the analysed time: quartiles, whiskers, outliers, correlations.

Pingouin style: a DataFrame and column names in, a tidy DataFrame out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from timing_trainer.analysis.columns import FACTORS


def _box_stats(values: pd.Series) -> dict[str, float]:
    values = values.dropna().astype("float64")
    if values.empty:
        return {"count": 0}
    q1, median, q3 = values.quantile([0.25, 0.5, 0.75])
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    return {
        "count": int(values.size), "mean": values.mean(), "std": values.std(),
        "min": values.min(), "q1": q1, "median": median, "q3": q3, "max": values.max(),
        "lower_whisker": inside.min(), "upper_whisker": inside.max(),
        "n_outliers": int(values.size - inside.size),
    }


def describe_time(data: pd.DataFrame, time: str = "time", by: str | None = None) -> pd.DataFrame:
    """Count, mean, quartiles, Tukey whiskers (1.5 IQR) and outlier count; per group if `by`."""
    if by is None:
        return pd.DataFrame([{"group": "all", **_box_stats(data[time])}])
    rows = [{by: level, **_box_stats(group[time])}
            for level, group in data.groupby(by, sort=True, dropna=True)]
    return pd.DataFrame(rows)


def outliers(data: pd.DataFrame, time: str = "time") -> pd.DataFrame:
    """The runs outside the whiskers (the box plot's dots), longest first."""
    values = data[time].astype("float64")
    q1, q3 = values.quantile([0.25, 0.75])
    iqr = q3 - q1
    mask = (values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr)
    keep = [c for c in ("run_id", "task", "model", "max_seq_length", "batch_size", time)
            if c in data]
    return data.loc[mask, keep].sort_values(time, ascending=False).reset_index(drop=True)


def min_time_per_combination(data: pd.DataFrame, by: Sequence[str] = FACTORS,
                             time: str = "time") -> pd.DataFrame:
    """The minimum time over runs of each hyperparameter combination, with the run count."""
    grouped = data.dropna(subset=list(by)).groupby(list(by), sort=True)[time]
    out = grouped.agg(min_time="min", median_time="median", n_runs="count").reset_index()
    return out.rename(columns={"min_time": f"min_{time}", "median_time": f"median_{time}"})


DEFAULT_CORRELATION_COLUMNS = ("time", "log_time", "max_seq_length", "batch_size", "n_train",
                               "learning_rate", "metric")


def correlations(data: pd.DataFrame, columns: Sequence[str] = DEFAULT_CORRELATION_COLUMNS,
                 method: str = "pearson") -> pd.DataFrame:
    """Correlation matrix of the numeric columns present with more than one distinct value."""
    usable = [c for c in columns
              if c in data and pd.to_numeric(data[c], errors="coerce").nunique() > 1]
    numbers = data[usable].apply(pd.to_numeric, errors="coerce").astype("float64")
    return numbers.corr(method=method)


def log_summary(data: pd.DataFrame, time: str = "time") -> dict[str, float]:
    """Skew of time and of log time: why the regression models log time."""
    values = data[time].astype("float64")
    return {"skew_time": float(values.skew()), "skew_log_time": float(np.log(values).skew())}
