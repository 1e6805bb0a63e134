"""The tidy runs table's column names and dtypes: one set of names for every source.

Every loader (run folders, the W&B API, W&B runs-table exports) returns rows with exactly these
columns, so the statistics, the plots, the report and the cost model read one vocabulary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from timing_trainer.results.figures import (
    FINETUNING_ENERGY_KEYS,
    INFERENCE_ENERGY_KEYS,
    TABLE_DTYPES,
)

# The machine and software a run ran on: the results' `environment` keys
# (`runtime.environment.collect_environment`), read by the report's hardware section.
ENVIRONMENT_COLUMNS: dict[str, str] = {
    "gpu_name": "str", "gpu_count": "Int64", "driver_version": "str", "cuda_version": "str",
    "cpu_model": "str", "cpu_count": "Int64", "torch_num_threads": "Int64",
    "torch_version": "str", "transformers_version": "str", "timing_trainer_version": "str",
    "python_version": "str", "os_platform": "str",
}
# Where a column's key in the results differs from its name.
ENVIRONMENT_KEYS = {"os_platform": "platform"}

# How a run fine-tuned: the GLUE program's modes, from the results' config (LoRA's rank, the
# attention kernel, torch.compile, padding-free batches) and the parameters it trained; the
# factors `analyze --compare-by` splits runs by.
MODE_COLUMNS: dict[str, str] = {
    "lora_r": "Int64", "attn_implementation": "str", "torch_compile": "str",
    "padding_free": "str", "trainable_params": "Int64", "total_params": "Int64",
}

# What the cost model reads about a run beyond its factors (the results' config keys): where its
# model was (`model_resolved`: an absolute folder or a Hub id) and its `config.json` as JSON text
# (`model_config_json`), so its shape does not depend on the reader's folder; the run's
# `output_dir` (an older run's relative model path resolves against the folders above it); the
# modules LoRA adapted.
COST_MODEL_COLUMNS: dict[str, str] = {
    "model_resolved": "str", "model_config_json": "str", "output_dir": "str",
    "lora_target_modules": "str",
}

# The energy figures (and their source) sit apart in the table, beside the analysed energy.
ENERGY_COLUMNS = {*FINETUNING_ENERGY_KEYS, *INFERENCE_ENERGY_KEYS, "energy_source"}

# name -> dtype ("str" text, "Int64" nullable integer, "float64", "object" Python lists).
COLUMNS: dict[str, str] = {
    # identity and provenance
    "run_id": "str",
    "name": "str",
    "folder": "str",  # the run folder's name (`000-d83de8989f`), for runs read from folders
    "wandb_id": "str",  # the W&B run id (`4fq1g2hv`) where the run logged to W&B
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
    # how it fine-tuned (the GLUE program's modes; missing for runs that predate them)
    **MODE_COLUMNS,
    # what the cost model reads of its model and modes (missing for runs that predate them)
    **COST_MODEL_COLUMNS,
    # where it ran
    "device": "str",
    "gpu_name": "str",
    # the machine and the software, from the results' `environment` (absent keys stay missing)
    **{key: dtype for key, dtype in ENVIRONMENT_COLUMNS.items() if key != "gpu_name"},
    # what was measured (seconds, samples/s, bytes, MFU): the run's figures, declared once in
    # `timing_trainer.results.figures` (energy below)
    **{key: dtype for key, dtype in TABLE_DTYPES.items() if key not in ENERGY_COLUMNS},
    # quality
    "metric_name": "str",
    "metric": "float64",
    # the analysed time for the table's kind (finetuning or inference), seconds
    "time": "float64",
    # how noisy the repeats were: coefficient of variation (sample std / mean) of the measurements
    # `time` is the minimum of: the fine-tuning iterations (finetuning), the per-batch latencies
    # without warm-up and last batch (inference); missing with fewer than two
    "time_cv": "float64",
    # every task metric the run has, one column each (`METRIC_COLUMNS` maps the spellings)
    "eval_accuracy": "float64",
    "eval_f1": "float64",
    "eval_matthews_correlation": "float64",
    "eval_pearson": "float64",
    "eval_spearmanr": "float64",
    "eval_pearson_spearman_mean": "float64",
    "eval_loss": "float64",
    # energy (joules, watts; see `energy_records`): missing where not measured, and then
    # `energy_unavailable` says why (the results' `unavailable` reason where they give one)
    # (`finetuning_energy_j` is the fastest fine-tuning iteration's, whose time is `time`;
    # `inference_energy_j` the whole primary evaluation set's)
    **{key: dtype for key, dtype in TABLE_DTYPES.items() if key in ENERGY_COLUMNS},
    "inference_energy_per_batch_j": "float64",  # per sample x evaluation batch x world size
    # the analysed energy for the table's kind (fine-tuning: `finetuning_energy_j`; inference:
    # `inference_energy_per_batch_j`), beside `time`; its CV over the fine-tuning iterations; the
    # average power over the same measurement (fine-tuning: that iteration; inference: the whole
    # evaluation, `inference_energy_j / inference_total_time`)
    "energy_j": "float64",
    "energy_cv": "float64",
    "avg_power_w": "float64",
    "energy_unavailable": "str",
    # a run's position in a published table whose figures depend on row order (the thesis's
    # exports, set by the export loader); missing for every other run (`order.canonical_order`)
    "order_key": "float64",
}

# Task metrics: canonical column <- every spelling a source uses for it: this project's
# `eval_metrics` keys (the GLUE program's, W&B summaries) first, then the thesis's fork's
# (`glue_compute_metrics` names in its W&B exports). One table, so every source fills the same
# columns. `eval_pearson_spearman_mean` is the thesis's `eval_corr`; this project's runs get it as
# the mean of their Pearson and Spearman correlations (`records.metric_columns`).
METRIC_COLUMNS: dict[str, tuple[str, ...]] = {
    "eval_accuracy": ("eval_accuracy", "eval_acc", "eval_mnli/acc"),
    "eval_f1": ("eval_f1",),
    "eval_matthews_correlation": ("eval_matthews_correlation", "eval_mcc"),
    "eval_pearson": ("eval_pearson",),
    "eval_spearmanr": ("eval_spearmanr",),
    "eval_pearson_spearman_mean": ("eval_pearson_spearman_mean", "eval_corr"),
    "eval_loss": ("eval_loss",),
}
# The range of each metric's values: a value outside it (`eval_accuracy` 42.0, a percentage;
# a Pearson correlation of 7.5) is reported with its run, and kept.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    "eval_accuracy": (0.0, 1.0), "eval_f1": (0.0, 1.0),
    "eval_matthews_correlation": (-1.0, 1.0), "eval_pearson": (-1.0, 1.0),
    "eval_spearmanr": (-1.0, 1.0), "eval_pearson_spearman_mean": (-1.0, 1.0),
    "eval_loss": (0.0, float("inf")),
}
CANONICAL_METRIC = {spelling: column for column, spellings in METRIC_COLUMNS.items()
                    for spelling in spellings}

LIST_COLUMNS = tuple(c for c, t in COLUMNS.items() if t == "object")

# The factors of the thesis's ANOVA, in its order.
FACTORS = ("task", "model", "max_seq_length", "batch_size")
# The modes the GLUE program records: factors too, where the runs vary them (`design_factors`).
MODE_FACTORS = ("lora_r", "attn_implementation", "torch_compile", "padding_free")


def design_factors(data: pd.DataFrame) -> tuple[str, ...]:
    """The thesis's factors, then each mode the runs vary (runs without modes: the thesis's)."""
    varied = tuple(m for m in MODE_FACTORS if m in data and data[m].dropna().nunique() > 1)
    return (*FACTORS, *varied)

KINDS = ("finetuning", "inference")

# Human names with units of the table's columns and of the derived ones the statistics add
# (`log_time`, `task_size`, ...), shared by plots and the report (`labels.label`).
LABELS = {
    "time": "time (s)",
    "log_time": "log(time)",
    "task": "GLUE task",
    "model": "model",
    "max_seq_length": "max sequence length (tokens)",
    "batch_size": "batch size (examples)",
    "eval_batch_size": "evaluation batch size (examples)",
    "learning_rate": "learning rate",
    "metric": "main metric of the task",
    "n_train": "training examples",
    "n_eval": "evaluation examples",
    "task_size": "task size (examples)",
    "tokens_per_batch": "tokens per batch",
    "time_cv": "iteration CV",
    "eval_accuracy": "accuracy",
    "eval_f1": "F1",
    "eval_matthews_correlation": "Matthews correlation",
    "eval_pearson": "Pearson correlation",
    "eval_spearmanr": "Spearman correlation",
    "eval_pearson_spearman_mean": "mean of Pearson and Spearman correlation",
    "eval_loss": "evaluation loss",
    "energy_j": "energy (J)",
    "log_energy": "log(energy)",
    "avg_power_w": "average power (W)",
    "energy_cv": "CV of the iterations' energy",
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
