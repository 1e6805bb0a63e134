"""The shape of the analysed time: its log's summary, histogram counts, skew, task size.

The thesis looked at these before choosing a model: the time is right-skewed (a few SST-2 runs
take hours), its log is close to symmetric, and most runs fall in the first of 20 equal-width
bins. `np.histogram(time, bins=20)` is exactly what the thesis printed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.stats.settings import HISTOGRAM_BINS, TASK_SIZE_COLUMN


def log_summary(data: pd.DataFrame, time: str = "time", name: str = "time") -> dict[str, Any]:
    """count, mean, std, min, quartiles, max of the log of the response, and the skew of the
    response and of its log (`time`: the response's column; `name`: its name in the skew keys,
    `skew_time`, `skew_log_energy`)."""
    values = data[time].dropna().astype("float64")
    values = values[values > 0]
    if values.empty:
        return {"count": 0, "why_not": f"no run with a positive {name}"}
    logs = np.log(values)
    described = logs.describe()
    return {"count": int(described["count"]), "mean": described["mean"],
            "std": described["std"], "min": described["min"], "q1": described["25%"],
            "median": described["50%"], "q3": described["75%"], "max": described["max"],
            f"skew_{name}": float(values.skew()), f"skew_log_{name}": float(logs.skew())}


def histogram_counts(data: pd.DataFrame, time: str = "time",
                     bins: int = HISTOGRAM_BINS) -> dict[str, list]:
    """Counts and edges of `bins` equal-width bins of time (seconds; or of the response column
    `time` names), as the thesis printed."""
    values = data[time].dropna().to_numpy(float)
    if values.size == 0:
        return {"counts": [], "edges": [], "why_not": f"no run with {time}"}
    counts, edges = np.histogram(values, bins=bins)
    return {"counts": [int(c) for c in counts], "edges": [float(e) for e in edges]}


def with_task_size(data: pd.DataFrame, kind: str) -> pd.DataFrame:
    """`data` with `task_size` (training examples for fine-tuning, evaluation examples for
    inference) and `tokens_per_batch` (batch size × max sequence length)."""
    column = TASK_SIZE_COLUMN.get(kind, "n_train")
    out = data.copy()
    out["task_size"] = pd.to_numeric(out[column], errors="coerce") if column in out else np.nan
    out["tokens_per_batch"] = (pd.to_numeric(out["batch_size"], errors="coerce")
                               * pd.to_numeric(out["max_seq_length"], errors="coerce"))
    return out
