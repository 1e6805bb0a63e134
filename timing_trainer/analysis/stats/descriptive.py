"""Descriptive statistics of the analysed response: quartiles, whiskers, outliers, correlations.

Pingouin style: a DataFrame and column names in, a tidy DataFrame out. The response is time or
energy (`response`): the functions take its column as `time` (the default, "time", is the
thesis's), and their names say what they compute, not of which response.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.columns import FACTORS


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


def describe(data: pd.DataFrame, time: str = "time",
                  by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """Count, mean, quartiles, Tukey whiskers (1.5 IQR) and outlier count of the column `time`
    (the analysed response's); per group if `by` (one column or several). Groups come in sorted
    order, numbers numerically (8, 16, 32)."""
    if by is None:
        return pd.DataFrame([{"group": "all", **_box_stats(data[time])}])
    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for level, group in data.groupby(keys, sort=True, dropna=True):
        level = level if isinstance(level, tuple) else (level,)
        rows.append({**dict(zip(keys, level)), **_box_stats(group[time])})
    return integral_levels(pd.DataFrame(rows), keys)


def integral_levels(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Whole-number float columns as integers, so levels print as 128, not 128.0."""
    out = frame.copy()
    for column in columns:
        if column in out and pd.api.types.is_float_dtype(out[column]):
            values = out[column]
            if values.dropna().map(float.is_integer).all():
                out[column] = values.round().astype("Int64")
    return out


def outliers(data: pd.DataFrame, time: str = "time") -> pd.DataFrame:
    """The runs outside the whiskers (the box plot's dots), longest first."""
    values = data[time].astype("float64")
    q1, q3 = values.quantile([0.25, 0.75])
    iqr = q3 - q1
    mask = (values < q1 - 1.5 * iqr) | (values > q3 + 1.5 * iqr)
    keep = [c for c in ("run", "run_id", "task", "model", "max_seq_length", "batch_size",
                        time) if c in data]
    return data.loc[mask, keep].sort_values(time, ascending=False).reset_index(drop=True)


def min_per_combination(data: pd.DataFrame, by: Sequence[str] = FACTORS,
                             time: str = "time") -> pd.DataFrame:
    """The minimum and median of the column `time` (the analysed response's) over the runs of
    each hyperparameter combination, with the run count: columns `min_<time>`, `median_<time>`
    (`min_time`, or `min_energy_j` on energy)."""
    grouped = data.dropna(subset=list(by)).groupby(list(by), sort=True)[time]
    out = grouped.agg(min_time="min", median_time="median", n_runs="count").reset_index()
    return out.rename(columns={"min_time": f"min_{time}", "median_time": f"median_{time}"})


# The thesis's heat map (batch size, sequence length, task size, time) and the extras it printed.
DEFAULT_CORRELATION_COLUMNS = ("batch_size", "max_seq_length", "task_size", "time", "log_time",
                               "tokens_per_batch", "learning_rate")


def correlation_columns(response: Response = TIME) -> tuple[str, ...]:
    """The heat map's columns for `response`: the time's own replaced by the response's, and
    for energy the time kept beside it (how closely energy follows time)."""
    if response is TIME:
        return DEFAULT_CORRELATION_COLUMNS
    swap = {"time": response.column, "log_time": response.log_column}
    columns = [swap.get(c, c) for c in DEFAULT_CORRELATION_COLUMNS]
    return (*columns, "time")


def correlations(data: pd.DataFrame, columns: Sequence[str] = DEFAULT_CORRELATION_COLUMNS,
                 method: str = "pearson") -> pd.DataFrame:
    """Correlation matrix of the numeric columns present with more than one distinct value."""
    usable = [c for c in columns
              if c in data and pd.to_numeric(data[c], errors="coerce").nunique() > 1]
    numbers = data[usable].apply(pd.to_numeric, errors="coerce").astype("float64")
    return numbers.corr(method=method)


def time_correlations(corr: pd.DataFrame, time: str = "time") -> dict[str, float]:
    """Each variable's Pearson correlation with time (the thesis printed these one by one)."""
    if time not in corr:
        return {}
    return {str(k): float(v) for k, v in corr[time].items() if k != time}
