"""The tidy runs table's column names and dtypes: one set of names for every source.

Every loader (run folders, the W&B API, W&B runs-table exports) returns rows with exactly these
columns, so the statistics, the plots, the report and the cost model read one vocabulary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# name -> dtype ("str" text, "Int64" nullable integer, "float64", "object" Python lists).
COLUMNS: dict[str, str] = {
    # identity and provenance
    "run_id": "str",
    "name": "str",
    "source": "str",  # "run_folder:/path", "wandb:entity/project", "export:/path/file.csv"
    "sweep": "str",
    "created_at": "str",
    "state": "str",  # finished / failed / crashed / running / killed / invalid
    "error_kind": "str",
    # what ran
    "task": "str",  # canonical id from timing_trainer.tasks ("rte")
    "task_display": "str",  # GLUE's spelling ("RTE")
    "model": "str",  # thesis-style short name ("bert-base-uncased")
    "model_name_or_path": "str",
    "max_seq_length": "Int64",
    "batch_size": "Int64",  # per-device training batch size
    "eval_batch_size": "Int64",
    "learning_rate": "float64",
    "num_train_epochs": "float64",
    "finetuning_iters": "Int64",
    "seed": "Int64",
    "precision": "str",
    "world_size": "Int64",
    "n_train": "Int64",  # training examples: the run's own count, else the task table's
    "n_eval": "Int64",  # evaluation examples (primary set), likewise; thesis runs: its sizes
    # where it ran
    "device": "str",
    "gpu_name": "str",
    # what was measured (seconds)
    "setup_time": "float64",
    "finetuning_time": "float64",
    "finetuning_time_list": "object",
    "inference_time": "float64",
    "inference_time_list": "object",
    "inference_total_time": "float64",
    "train_samples_per_second": "float64",
    "inference_samples_per_second": "float64",
    "peak_memory_train_bytes": "float64",
    "peak_memory_eval_bytes": "float64",
    "mfu_train": "float64",
    "mfu_eval": "float64",
    # quality
    "metric_name": "str",
    "metric": "float64",
    # the analysed time for the table's kind (finetuning or inference), seconds
    "time": "float64",
    # how noisy the repeats were: coefficient of variation (sample std / mean) of the measurements
    # `time` is the minimum of: the fine-tuning iterations (finetuning), the per-batch latencies
    # without warm-up and last batch (inference); missing with fewer than two
    "time_cv": "float64",
}

TEXT_COLUMNS = tuple(c for c, t in COLUMNS.items() if t == "str")
INTEGER_COLUMNS = tuple(c for c, t in COLUMNS.items() if t == "Int64")
FLOAT_COLUMNS = tuple(c for c, t in COLUMNS.items() if t == "float64")
LIST_COLUMNS = tuple(c for c, t in COLUMNS.items() if t == "object")

# The factors of the thesis's ANOVA, in its order.
FACTORS = ("task", "model", "max_seq_length", "batch_size")

KINDS = ("finetuning", "inference")

# Axis labels with units, shared by plots and the report.
LABELS = {
    "time": "time (s)",
    "log_time": "log(time / 1 s)",
    "task": "GLUE task",
    "model": "model",
    "max_seq_length": "max sequence length (tokens)",
    "batch_size": "batch size (examples)",
    "eval_batch_size": "evaluation batch size (examples)",
    "learning_rate": "learning rate",
    "metric": "main metric of the task",
    "n_train": "training examples",
    "n_eval": "evaluation examples",
    "time_cv": "CV of the repeated measurements",
}

TIME_LABELS = {
    "finetuning": "fine-tuning time (s)",
    "inference": "inference time per batch (s)",
}


def empty_table() -> pd.DataFrame:
    """A table with every column and no rows, for sources that hold no runs."""
    return conform(pd.DataFrame({c: [] for c in COLUMNS}))


def conform(frame: pd.DataFrame) -> pd.DataFrame:
    """Add missing columns (as missing values) and cast every column to its dtype.

    Values are expected to be already numeric where numeric: loaders check and warn about text
    in numeric columns before this step, so a cast failure here is a bug, not bad input.
    """
    out = {}
    n = len(frame)
    for column, dtype in COLUMNS.items():
        values = frame[column] if column in frame else pd.Series([None] * n, index=frame.index)
        if dtype == "str":
            values = values.astype(object).where(values.notna(), None)
            out[column] = pd.Series(values, index=frame.index, dtype=object).map(
                lambda v: None if v is None else str(v)
            ).astype("str")
        elif dtype == "Int64":
            numbers = pd.to_numeric(values, errors="coerce")
            numbers = numbers.where(np.isfinite(numbers.astype("float64")))
            out[column] = numbers.round().astype("Int64")
        elif dtype == "float64":
            out[column] = pd.to_numeric(values, errors="coerce").astype("float64")
        else:
            out[column] = values.astype(object)
    extra = [c for c in frame.columns if c not in COLUMNS]
    result = pd.DataFrame(out, index=frame.index)
    for column in extra:
        result[column] = frame[column]
    return result.reset_index(drop=True)
