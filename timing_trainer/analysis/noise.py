"""How noisy the measurements were: the coefficient of variation of each run's iteration times.

A run repeats its timed iteration (`finetuning_time_list`, `inference_time_list`); their spread
(standard deviation / mean) says how stable the machine was. The trainer warns above
`cv_warning_threshold` (0.05 by default); the report says what share of the runs did, the median
CV and which runs were the noisiest. The loader's `time_cv` column is used when it is there;
otherwise the CV is computed from the list column of the analysed kind (NaN with fewer than two
iterations, as the loader does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.settings import CV_THRESHOLD

CV_COLUMN = "time_cv"
LIST_COLUMN = {"finetuning": "finetuning_time_list", "inference": "inference_time_list"}
NOISIEST = 5


def list_cv(values: Any) -> float:
    """std/mean (sample std) of the finite, positive times in a list; NaN below two values."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        return float("nan")
    times = np.asarray([v for v in values if isinstance(v, (int, float)) and np.isfinite(v)
                        and v > 0], dtype=float)
    if times.size < 2:
        return float("nan")
    return float(times.std(ddof=1) / times.mean())


def run_cvs(data: pd.DataFrame, kind: str) -> pd.Series:
    """Each run's iteration CV: the loader's `time_cv`, else computed from the list column."""
    if CV_COLUMN in data:
        return pd.to_numeric(data[CV_COLUMN], errors="coerce")
    column = LIST_COLUMN.get(kind)
    if column is None or column not in data:
        return pd.Series(np.nan, index=data.index)
    return data[column].map(list_cv)


def noise_summary(data: pd.DataFrame, kind: str, threshold: float = CV_THRESHOLD,
                  noisiest: int = NOISIEST) -> dict[str, Any]:
    """Share of runs above `threshold`, the median CV, and the noisiest runs."""
    cvs = run_cvs(data, kind)
    known = cvs.dropna()
    out: dict[str, Any] = {"threshold": threshold, "n_runs": len(data), "n_with_cv": len(known),
                           "source": CV_COLUMN if CV_COLUMN in data else LIST_COLUMN.get(kind)}
    if known.empty:
        out["why_not"] = ("no run has two or more timed iterations, so no CV can be computed")
        return out
    above = known > threshold
    columns = [c for c in ("run_id", "task", "model", "max_seq_length", "batch_size") if c in data]
    top = data.loc[known.sort_values(ascending=False).index[:noisiest], columns].copy()
    top["cv"] = known.loc[top.index]
    out.update({"n_above": int(above.sum()), "share_above": float(above.mean()),
                "median_cv": float(known.median()), "max_cv": float(known.max()),
                "noisiest": top.reset_index(drop=True)})
    return out
