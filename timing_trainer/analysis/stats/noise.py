"""How noisy the measurements were: the coefficient of variation of each run's iteration times.

A run repeats its timed iteration (`finetuning_time_list`, `inference_time_list`); their spread
(standard deviation / mean) says how stable the machine was. For the energy response, the spread
of the fine-tuning iterations' energies (`energy_cv`, `finetuning_energy_j_list`). The trainer
warns above `cv_warning_threshold` (0.05 by default: `CV_WARNING_THRESHOLD`, declared with the CV
in `results.measurement`); the report says what share of the runs did, the median CV and which
runs were the noisiest. The loader's `time_cv` column is used when it is there; otherwise the CV
is computed from the list column of the analysed kind (NaN with fewer than two iterations, as
the loader does).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.flat import finite_number
from timing_trainer.results.measurement import CV_WARNING_THRESHOLD, coefficient_of_variation

LIST_COLUMN = {"finetuning": "finetuning_time_list", "inference": "inference_time_list"}
# The energy response: only fine-tuning repeats its measurement (one energy per iteration);
# inference energy is one figure per evaluation.
ENERGY_LIST_COLUMN = {"finetuning": "finetuning_energy_j_list"}
NO_ENERGY_REPEATS = ("inference energy is one figure per evaluation (the counters are read at "
                     "the evaluation's boundaries, not per batch), so it has no repeats to vary")
NOISIEST = 5


def list_cv(values: Any) -> float:
    """The loader's CV (`coefficient_of_variation`, the results file's `*_cv`) of the finite,
    positive values in a list; NaN below two values."""
    if not isinstance(values, (list, tuple, np.ndarray)):
        return float("nan")
    numbers = [finite_number(v) for v in values if not isinstance(v, str)]
    cv = coefficient_of_variation([n for n in numbers if n is not None and n > 0])
    return float("nan") if cv is None else cv


def _columns(kind: str, response: Response) -> tuple[str, str | None]:
    """(the loader's CV column, the list column it is computed from) for `response`."""
    lists = LIST_COLUMN if response is TIME else ENERGY_LIST_COLUMN
    return response.cv_column, lists.get(kind)


def run_cvs(data: pd.DataFrame, kind: str, response: Response = TIME) -> pd.Series:
    """Each run's iteration CV: the loader's CV column, else computed from the list column."""
    cv_column, column = _columns(kind, response)
    if cv_column in data:
        return pd.to_numeric(data[cv_column], errors="coerce")
    if column is None or column not in data:
        return pd.Series(np.nan, index=data.index)
    return data[column].map(list_cv)


def noise_summary(data: pd.DataFrame, kind: str, threshold: float = CV_WARNING_THRESHOLD,
                  noisiest: int = NOISIEST, response: Response = TIME) -> dict[str, Any]:
    """Share of runs above `threshold`, the median CV, and the noisiest runs."""
    cv_column, list_column = _columns(kind, response)
    cvs = run_cvs(data, kind, response)
    known = cvs.dropna()
    out: dict[str, Any] = {"threshold": threshold, "n_runs": len(data), "n_with_cv": len(known),
                           "source": cv_column if cv_column in data else list_column,
                           "response": response.name}
    if known.empty:
        out["why_not"] = NO_ENERGY_REPEATS if response is not TIME and list_column is None \
            else f"no run has two or more timed iterations with {response.a_name}, so no CV " \
                 "can be computed"
        return out
    above = known > threshold
    columns = [c for c in ("run", "run_id", "task", "model", "max_seq_length", "batch_size")
               if c in data]
    top = data.loc[known.sort_values(ascending=False).index[:noisiest], columns].copy()
    top["cv"] = known.loc[top.index]
    out.update({"n_above": int(above.sum()), "share_above": float(above.mean()),
                "median_cv": float(known.median()), "max_cv": float(known.max()),
                "noisiest": top.reset_index(drop=True)})
    return out
