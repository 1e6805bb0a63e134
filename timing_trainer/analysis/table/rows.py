"""Turn one run's config and summary (flat W&B keys, thesis or new names) into a table row.

The W&B API and the W&B runs-table exports both give a run as flat keys: the run's config
(`task_name`, `per_device_train_batch_size`, ...) and its summary (`finetuning_time_list`,
`eval_acc`, ...). Run folders give the same keys nested in `timing_results.json`; the run-folder
loader flattens them first. One mapping here keeps the column names the same for every source:
config keys in `_KEYS`, task metrics in `columns.METRIC_COLUMNS`, energy in `energy_records`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from timing_trainer.analysis.table.columns import (
    CANONICAL_METRIC,
    COST_MODEL_COLUMNS,
    ENERGY_COLUMNS,
    ENVIRONMENT_COLUMNS,
    ENVIRONMENT_KEYS,
    METRIC_COLUMNS,
    MODE_COLUMNS,
    TABLE_DTYPES,
)
from timing_trainer.analysis.table.energy_rows import energy_columns
from timing_trainer.analysis.table.flat import first, is_missing, parse_list
from timing_trainer.analysis.table.order import ORDER_KEY
from timing_trainer.analysis.table.times import BAD_TIMES_KEY, clean_times, valid
from timing_trainer.errors import RunsDataWarning, UnknownTaskError
from timing_trainer.models import short_model_name
from timing_trainer.results.measurement import coefficient_of_variation
from timing_trainer.tasks import get_task


@lru_cache(maxsize=256)
def _task(name: str):
    """The task for a spelling, or None (cached: the same few names repeat over many runs)."""
    try:
        return get_task(name)
    except UnknownTaskError:
        return None


@lru_cache(maxsize=1024)
def _short_model(name: str) -> str:
    return short_model_name(name)


# Config keys of the thesis's fork and of this project, first found wins.
_KEYS: dict[str, tuple[str, ...]] = {
    "max_seq_length": ("max_seq_length",),
    "batch_size": ("per_device_train_batch_size", "per_gpu_train_batch_size", "train_batch_size"),
    "eval_batch_size": ("per_device_eval_batch_size", "per_gpu_eval_batch_size", "eval_batch_size"),
    "learning_rate": ("learning_rate",),
    "num_train_epochs": ("num_train_epochs",),
    "finetuning_iters": ("finetuning_iters",),
    "seed": ("seed",),
    "world_size": ("world_size",),
    "n_train": ("n_train_samples", "n_train"),
    "n_eval": ("n_eval_samples", "n_eval"),
    **{column: (column,) for column in MODE_COLUMNS},
    **{column: (column,) for column in COST_MODEL_COLUMNS},
    **{column: (key, f"environment.{key}", f"environment/{key}") for column, key in
       ((c, ENVIRONMENT_KEYS.get(c, c)) for c in ENVIRONMENT_COLUMNS)},
    # the run's float figures, under their own names (`timing_trainer.results.figures`); energy and the
    # time lists have their own readers (`energy_records`, `times`)
    **{key: (key,) for key, dtype in TABLE_DTYPES.items()
       if dtype == "float64" and key not in ENERGY_COLUMNS},
}

# The task sizes the thesis's notebooks used (its `num_examples`) where they differ from GLUE's
# files: CoLA 8550 training and 1042 evaluation examples (GLUE's hold 8551 and 1043). Its fork's
# runs record no sizes, so these fill `n_train`/`n_eval` for such runs (no schema markers) and its
# task-size correlations are reproduced; this project's runs carry their own sizes.
THESIS_TASK_SIZES = {"cola": (8550, 1042)}

# Summary keys that only this project's runs write: their `inference_time` is already the
# minimum over full batches, so the thesis's drop-the-last-batch rule must not be applied again.
NEW_STYLE_MARKERS = ("schema_version", "inference_total_time", "inference_timer")


def precision_of(flat: Mapping[str, Any]) -> str:
    explicit = first(flat, ("precision", "environment.precision"))
    if explicit is not None:
        return str(explicit)
    for key, name in (("bf16", "bf16"), ("fp16", "fp16")):
        if str(flat.get(key, "")).strip().lower() in ("true", "1", "1.0"):
            return name
    return "fp32"


def device_of(flat: Mapping[str, Any]) -> str | None:
    explicit = first(flat, ("device", "environment.device", "environment/device"))
    if explicit is not None:
        return str(explicit)
    cached = flat.get("__cached__setup_devices")  # the thesis's fork: '["cpu",0]'
    if not is_missing(cached):
        text = str(cached)
        for name in ("cuda", "cpu", "mps", "tpu"):
            if name in text:
                return name
    return None


def metric_columns(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Every task metric the run has, under its canonical column (`columns.METRIC_COLUMNS`).

    The thesis's `eval_corr` is the mean of Pearson and Spearman; this project logs the two, so
    their mean fills that column for its runs (the thesis's pooled correlation then covers both).
    """
    values = {column: first(flat, spellings) for column, spellings in METRIC_COLUMNS.items()}
    mean = "eval_pearson_spearman_mean"
    if values[mean] is None and values["eval_pearson"] is not None \
            and values["eval_spearmanr"] is not None:
        try:
            values[mean] = (float(values["eval_pearson"]) + float(values["eval_spearmanr"])) / 2
        except (TypeError, ValueError):
            pass  # text in a metric cell: the loader reports the metric columns themselves
    return values


def metric_of(metrics: Mapping[str, Any], task_id: str | None) -> tuple[str | None, Any]:
    """The task's main metric: (its canonical column, its value) from `metric_columns`."""
    if task_id is None:
        return None, None
    column = CANONICAL_METRIC[_task(task_id).main_metric_key]
    return column, metrics.get(column)


def _primary(row: Mapping[str, Any], kind: str, new_style: bool) -> tuple[str, str]:
    """(first choice, fallback) of the keys the analysed time comes from (see `load_runs`)."""
    if kind == "finetuning":
        return "finetuning_time_list", "finetuning_time"
    if new_style:
        return "inference_time", "inference_time_list"
    return "inference_time_list", "inference_time"


def analysed_time(row: Mapping[str, Any], kind: str, new_style: bool,
                  bad: set[str] = frozenset()) -> float | None:
    """The one time figure the statistics use for `kind` (see `load_runs` for the rules).

    `row` holds cleaned times (`times.clean_times`: None for a bad value or list entry). The
    fallback key is used only when the first choice is absent, never when it was present and bad.
    """
    for key in _primary(row, kind, new_style):
        value = row.get(key)
        if value is None and key in bad:
            return None  # present but not a time: no silent fallback to another column
        if value is None or (isinstance(value, list) and not value):
            continue  # absent: the fallback key
        if isinstance(value, list):
            if kind == "inference" and not new_style and len(value) > 1:
                # The thesis's rule: the list's last batch is the evaluation set's remainder.
                value = value[:-1]
            times = valid(value)
            return min(times) if times else None
        return value if isinstance(value, float) else None
    return None


_WARMUP_KEYS = ("inference_warmup_batches",)


def repeats(row: Mapping[str, Any], kind: str, new_style: bool, warmup: Any = None) -> list:
    """The repeated measurements `time` is the minimum of, for `time_cv` (None: a bad entry).

    Fine-tuning: every iteration. Inference: the per-batch latencies without the last batch (the
    evaluation set's remainder) and, for this project's runs, without the warm-up batches that
    its `inference_time` leaves out (`inference_warmup_batches`, default 1).
    """
    key = "finetuning_time_list" if kind == "finetuning" else "inference_time_list"
    values = list(row.get(key) or [])
    if kind == "inference":
        skip = int(warmup) if new_style and isinstance(warmup, (int, float)) else int(new_style)
        values = values[:-1] if len(values) > skip + 1 else values
        values = values[skip:]
    return values


def row_from_flat(
    flat: Mapping[str, Any],
    *,
    kind: str,
    source: str,
    run_id: str,
    name: str | None,
    state: str | None,
    sweep: str | None = None,
    created_at: str | None = None,
    where: str = "",
    order_key: int | None = None,
    folder: str | None = None,
    wandb_id: str | None = None,
) -> dict[str, Any]:
    """One tidy row from a run's flat config+summary keys (`order_key`: see `columns`).

    `folder`: the run folder's name; without one, the name of the run's `output_dir` (W&B runs
    of the GLUE program record it), so a W&B id can be told by the folder the sweep printed.
    """
    output_dir = first(flat, ("output_dir",))
    if folder is None and isinstance(output_dir, str) and output_dir.strip("/"):
        folder = output_dir.rstrip("/").rsplit("/", 1)[-1]
    row: dict[str, Any] = {
        "run_id": run_id,
        "name": name,
        "folder": folder,
        "wandb_id": wandb_id,
        "source": source,
        "sweep": sweep,
        "created_at": created_at,
        "state": None if state is None else str(state).strip().lower(),
        "error_kind": first(flat, ("error_kind", "error.kind")),
    }
    for column, keys in _KEYS.items():
        row[column] = first(flat, keys)
    new_style = any(not is_missing(flat.get(k)) for k in NEW_STYLE_MARKERS)
    task_id = _task_columns(row, flat, new_style, where)
    model_path = first(flat, ("model_name_or_path", "model"))
    row["model_name_or_path"] = model_path
    row["model"] = _short_model(str(model_path)) if model_path is not None else None
    row["precision"] = precision_of(flat)
    row["device"] = device_of(flat)
    row.update(metric_columns(flat))
    row["metric_name"], row["metric"] = metric_of(row, task_id)
    _time_columns(row, flat, kind, new_style, where)
    energy_columns(row, flat, kind, where)
    row[ORDER_KEY] = order_key
    return row


def _task_columns(row: dict[str, Any], flat: Mapping[str, Any], new_style: bool,
                  where: str) -> str | None:
    """`task`, `task_display` and the data sizes; the canonical task id, or None."""
    raw_task = first(flat, ("task_name", "task"))
    if raw_task is None:
        return None
    task = _task(str(raw_task))
    if task is None:
        warnings.warn(f"{where}: unknown task {raw_task!r}; kept under that name",
                      RunsDataWarning, stacklevel=3)
        row["task"] = row["task_display"] = str(raw_task)
        return None
    row["task"], row["task_display"] = task.name, task.display_name
    sizes = (task.train_size, task.eval_size)
    if not new_style:
        sizes = THESIS_TASK_SIZES.get(task.name, sizes)
    if row["n_train"] is None:
        row["n_train"] = sizes[0]
    if row["n_eval"] is None:
        row["n_eval"] = sizes[1]
    return task.name


def _time_columns(row: dict[str, Any], flat: Mapping[str, Any], kind: str, new_style: bool,
                  where: str) -> None:
    """The time lists, bad times made missing, the analysed `time` and the repeats' `time_cv`."""
    for key in ("finetuning_time_list", "inference_time_list"):
        row[key] = parse_list(flat.get(key), what=key, where=where)
    bad = clean_times(row)
    if bad:
        row[BAD_TIMES_KEY] = bad  # reported per source and column by the loader
    row["time"] = analysed_time(row, kind, new_style, set(bad))
    row["time_cv"] = coefficient_of_variation(
        valid(repeats(row, kind, new_style, first(flat, _WARMUP_KEYS))))
    for key in ("finetuning_time_list", "inference_time_list"):
        if row[key] is not None:
            row[key] = valid(row[key])
