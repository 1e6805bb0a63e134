"""Uncertainty per configuration: the median of its repeats, a bootstrap 95 % interval, and the
olympic mean (min and max dropped) where there are enough repeats.

A configuration's repeats are every timed repeat of every run of it: the fine-tuning iterations
of each run (`finetuning_time_list`) pooled over its repeated runs (inference: the per-batch
latencies; energy: the fine-tuning iterations' energies). A run without a list gives its one
analysed figure. The median, not the minimum the tables analyse, is the centre here: the minimum
has no useful interval (MLPerf reports an olympic mean, torch.utils.benchmark a median and IQR).
The interval is scipy's percentile bootstrap with a fixed seed (`SEED`), so the same runs give
the same interval. From a configuration's relative half-width at n repeats, `repeats_for` says
how many repeats would bring it to `TARGET` (2 %) of the median: a half-width shrinks as
1/sqrt(n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.flat import finite_number
from timing_trainer.analysis.table.rows import repeats as run_repeats

CONFIDENCE = 0.95
N_RESAMPLES = 2000
SEED = 0
OLYMPIC_MIN = 5  # repeats from which the olympic mean (min and max dropped) is given
TARGET = 0.02  # the half-width, as a share of the median, the noise section aims at
# What makes two runs the same configuration (those the table has; a missing value is a value).
CONFIGURATION_KEYS = ("task", "model", "max_seq_length", "batch_size", "eval_batch_size",
                      "precision", "learning_rate", "num_train_epochs", "world_size", "device",
                      "gpu_name")
NO_INTERVAL = "one repeat: no interval"


def _positive(values: Any) -> list[float]:
    if not isinstance(values, (list, tuple, np.ndarray)):
        return []
    numbers = [finite_number(v) for v in values if not isinstance(v, str)]
    return [n for n in numbers if n is not None and n > 0]


def run_values(row: pd.Series, kind: str, response: Response = TIME) -> list[float]:
    """One run's repeats of the response (see the module's docstring)."""
    if response is TIME:
        values = _positive(run_repeats(row, kind, new_style=True))
    elif kind == "finetuning":
        values = _positive(row.get("finetuning_energy_j_list"))
    else:
        values = []
    if not values:
        one = finite_number(row.get(response.column))
        values = [one] if one is not None and one > 0 else []
    return values


def median_interval(values: Sequence[float], seed: int = SEED) -> dict[str, Any]:
    """Median, bootstrap interval (`CONFIDENCE`) and olympic mean of `values`; None with a
    reason (`why_not`) where there are too few."""
    x = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    out: dict[str, Any] = {"n": int(x.size), "median": float(np.median(x)) if x.size else None,
                           "ci_low": None, "ci_high": None, "olympic_mean": None,
                           "why_not": None}
    if x.size >= OLYMPIC_MIN:
        out["olympic_mean"] = float(np.sort(x)[1:-1].mean())
    if x.size < 2:
        out["why_not"] = NO_INTERVAL if x.size else "no repeats"
        return out
    if np.ptp(x) == 0:
        out["ci_low"] = out["ci_high"] = float(x[0])
        return out
    result = stats.bootstrap((x,), np.median, confidence_level=CONFIDENCE, vectorized=True,
                             n_resamples=N_RESAMPLES, method="percentile",
                             random_state=np.random.default_rng(seed))
    out["ci_low"] = float(result.confidence_interval.low)
    out["ci_high"] = float(result.confidence_interval.high)
    return out


def half_width(row: dict[str, Any]) -> float | None:
    """The interval's half-width as a share of the median (None without an interval)."""
    if row.get("ci_low") is None or not row.get("median"):
        return None
    return (row["ci_high"] - row["ci_low"]) / 2 / row["median"]


def repeats_for(n: int, relative_half_width: float | None, target: float = TARGET) -> int | None:
    """Repeats that would bring a half-width of `relative_half_width` at `n` repeats to
    `target` (a half-width shrinks as 1/sqrt(n)); never fewer than `n` already made."""
    if relative_half_width is None or n < 2:
        return None
    return max(n, math.ceil(n * (relative_half_width / target) ** 2))


def configuration_keys(data: pd.DataFrame, keys: Sequence[str] = CONFIGURATION_KEYS) -> list[str]:
    """The configuration keys `data` has values of."""
    return [k for k in keys if k in data and data[k].notna().any()]


def configuration_intervals(data: pd.DataFrame, kind: str, response: Response = TIME,
                            keys: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per configuration: its keys, runs, repeats, median, interval, olympic mean,
    relative half-width and the repeats for `TARGET`."""
    keys = configuration_keys(data) if keys is None else [k for k in keys if k in data]
    if data.empty or not keys:
        return pd.DataFrame()
    rows = []
    for group_keys, group in data.groupby(keys, dropna=False, sort=True):
        values = [v for _, row in group.iterrows() for v in run_values(row, kind, response)]
        figures = median_interval(values)
        relative = half_width(figures)
        group_keys = group_keys if isinstance(group_keys, tuple) else (group_keys,)
        rows.append({**dict(zip(keys, group_keys)), "runs": len(group),
                     "repeats": figures.pop("n"), **figures, "half_width_pct":
                     None if relative is None else relative * 100,
                     "repeats_for_2pct": repeats_for(len(values), relative)})
    return pd.DataFrame(rows)


def repeats_needed(intervals: pd.DataFrame) -> dict[str, Any]:
    """The noise section's sentence in figures: over the configurations with an interval, the
    median half-width and the median number of repeats that would reach `TARGET`."""
    if intervals.empty or intervals["half_width_pct"].notna().sum() == 0:
        return {"target_pct": TARGET * 100, "n_configurations": 0,
                "why_not": "no configuration has two or more repeats"}
    known = intervals.dropna(subset=["half_width_pct"])
    return {"target_pct": TARGET * 100, "n_configurations": int(len(known)),
            "median_repeats": float(known["repeats"].median()),
            "median_half_width_pct": float(known["half_width_pct"].median()),
            "median_repeats_for_target": int(math.ceil(known["repeats_for_2pct"].median())),
            "max_repeats_for_target": int(known["repeats_for_2pct"].max())}
