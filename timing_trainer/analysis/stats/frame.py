"""The frame the statistics read: finished runs with a time, factors ready for formulas.

For `kind="inference"` the factor `batch_size` is the evaluation batch size (the batch the timed
forward passes ran with), in the ANOVA and in the regression, as the thesis did. With the energy
response (`response.ENERGY`) only runs with an energy are kept.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from timing_trainer.analysis.stats.response import TIME, Response
from timing_trainer.analysis.table.labels import run_labels
from timing_trainer.analysis.table.load import finished_runs


def analysis_frame(table: pd.DataFrame, kind: str | None = None,
                   response: Response = TIME) -> pd.DataFrame:
    """Finished runs with a positive time (and, for energy, a positive energy), plain dtypes,
    and the response's log column (`log_time`, `log_energy`).

    `task`, `model` are text; `max_seq_length`, `batch_size` integers (float where missing).
    The training batch size stays available as `train_batch_size`.
    """
    kind = kind or table.attrs.get("kind", "finetuning")
    data = finished_runs(table)
    if response.column != "time":
        values = pd.to_numeric(data[response.column], errors="coerce")
        data = data.loc[(values > 0).fillna(False).astype(bool)].reset_index(drop=True)
    data = data.copy()
    data["train_batch_size"] = data["batch_size"]
    if kind == "inference":
        data["batch_size"] = data["eval_batch_size"]
    for column in ("max_seq_length", "batch_size", "eval_batch_size", "train_batch_size",
                   "n_train", "n_eval", "finetuning_iters"):
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64")
    for column in ("task", "model", "task_display", "precision", "device", "gpu_name"):
        data[column] = data[column].astype(object).where(data[column].notna(), None)
    for column in {"time", response.column}:
        data[column] = data[column].astype("float64")
    data["run"] = run_labels(data)  # the folder and the W&B id a reader knows the run by
    data["log_time"] = np.log(data["time"])
    data[response.log_column] = np.log(data[response.column])
    data.attrs["kind"] = kind
    data.attrs["response"] = response.name
    return data
