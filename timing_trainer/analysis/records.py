"""Turn one run's config and summary (flat W&B keys, thesis or new names) into a table row.

The W&B API and the W&B runs-table exports both give a run as flat keys: the run's config
(`task_name`, `per_device_train_batch_size`, ...) and its summary (`finetuning_time_list`,
`eval_acc`, ...). Run folders give the same keys nested in `timing_results.json`; the run-folder
loader flattens them first. One mapping here keeps the column names the same for every source.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from timing_trainer.models import short_model_name
from timing_trainer.tasks import UnknownTaskError, get_task


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


class RunsDataWarning(UserWarning):
    """Something in the runs was odd (text in a number column, a duplicate, a missing column)."""


class RunsLoadError(ValueError):
    """A source cannot be read at all (missing file, required column absent, bad W&B path)."""


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
    "gpu_name": ("gpu_name", "environment.gpu_name", "environment/gpu_name"),
    "setup_time": ("setup_time",),
    "finetuning_time": ("finetuning_time",),
    "inference_time": ("inference_time",),
    "inference_total_time": ("inference_total_time",),
    "train_samples_per_second": ("train_samples_per_second",),
    "inference_samples_per_second": ("inference_samples_per_second",),
    "peak_memory_train_bytes": ("peak_memory_train_bytes",),
    "peak_memory_eval_bytes": ("peak_memory_eval_bytes",),
    "mfu_train": ("mfu_train",),
    "mfu_eval": ("mfu_eval",),
}

# Summary keys that only this project's runs write: their `inference_time` is already the
# minimum over full batches, so the thesis's drop-the-last-batch rule must not be applied again.
NEW_STYLE_MARKERS = ("schema_version", "inference_total_time", "inference_timer")


_MISSING_TEXT = frozenset(("", "-", "nan", "NaN", "None", "null"))


def is_missing(value: Any) -> bool:
    """None, NaN, or text that W&B exports use for nothing ("", "-", "nan", ...)."""
    if value is None:
        return True
    if type(value) is str:
        return value.strip() in _MISSING_TEXT
    if isinstance(value, float):
        return value != value
    return False


def first(flat: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = flat.get(key)
        if not is_missing(value):
            return value
    return None


def parse_list(value: Any, *, what: str = "list", where: str = "") -> list[float] | None:
    """A list of floats from a list or from its JSON text (`"[1049.16, 1013.14]"`).

    Exports hold list values as JSON text; Excel re-saves keep the text. Text that is not a list
    of numbers is reported (never silently dropped) and read as missing.
    """
    if isinstance(value, (list, tuple)):
        items = value
    elif is_missing(value):
        return None
    elif isinstance(value, str):
        text = value.strip()
        try:
            items = json.loads(text)
        except ValueError:
            try:
                items = [float(x) for x in text.strip("][").split(",") if x.strip()]
            except ValueError:
                warnings.warn(f"{where}: {what} is not a list of numbers: {text[:60]!r}; "
                              "read as missing", RunsDataWarning, stacklevel=3)
                return None
        if not isinstance(items, list):
            items = [items]
    else:
        items = [value]
    try:
        return [float(x) for x in items]
    except (TypeError, ValueError):
        warnings.warn(f"{where}: {what} holds non-numbers: {str(items)[:60]!r}; read as missing",
                      RunsDataWarning, stacklevel=3)
        return None


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


def metric_of(flat: Mapping[str, Any], task_id: str | None) -> tuple[str | None, Any]:
    """The task's main metric: this project's `eval_<main_metric>`, else the thesis's key."""
    if task_id is None:
        return None, None
    task = _task(task_id)
    for key in (task.main_metric_key, task.thesis_metric_key):
        value = flat.get(key)
        if not is_missing(value):
            return key, value
    return task.main_metric_key, None


def _finite(values: list[float] | None) -> list[float] | None:
    return None if values is None else [v for v in values if math.isfinite(v)]


def analysed_time(row: Mapping[str, Any], kind: str, new_style: bool) -> float | None:
    """The one time figure the statistics use for `kind` (see `load_runs` for the rules)."""
    if kind == "finetuning":
        times = _finite(row.get("finetuning_time_list"))
        if times:
            return min(times)
        return row.get("finetuning_time")
    times = _finite(row.get("inference_time_list"))
    if new_style:
        value = row.get("inference_time")
        if not is_missing(value):
            return value
        return min(times) if times else None
    if times:
        # The thesis's rule: the list's last batch is the evaluation set's smaller remainder.
        full = times[:-1] if len(times) > 1 else times
        return min(full)
    return row.get("inference_time")


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
) -> dict[str, Any]:
    """One tidy row from a run's flat config+summary keys."""
    row: dict[str, Any] = {
        "run_id": run_id,
        "name": name,
        "source": source,
        "sweep": sweep,
        "created_at": created_at,
        "state": None if state is None else str(state).strip().lower(),
        "error_kind": first(flat, ("error_kind", "error.kind")),
    }
    for column, keys in _KEYS.items():
        row[column] = first(flat, keys)
    raw_task = first(flat, ("task_name", "task"))
    task_id = None
    if raw_task is not None:
        task = _task(str(raw_task))
        if task is not None:
            task_id = task.name
            row["task_display"] = task.display_name
        else:
            warnings.warn(f"{where}: unknown task {raw_task!r}; kept under that name",
                          RunsDataWarning, stacklevel=2)
            row["task_display"] = str(raw_task)
            task_id = None
            row["task"] = str(raw_task)
    if task_id is not None:
        row["task"] = task_id
        if row["n_train"] is None:
            row["n_train"] = task.train_size
        if row["n_eval"] is None:
            row["n_eval"] = task.eval_size
    model_path = first(flat, ("model_name_or_path", "model"))
    row["model_name_or_path"] = model_path
    row["model"] = _short_model(str(model_path)) if model_path is not None else None
    row["precision"] = precision_of(flat)
    row["device"] = device_of(flat)
    row["finetuning_time_list"] = parse_list(
        flat.get("finetuning_time_list"), what="finetuning_time_list", where=where)
    row["inference_time_list"] = parse_list(
        flat.get("inference_time_list"), what="inference_time_list", where=where)
    row["metric_name"], row["metric"] = metric_of(flat, task_id)
    new_style = any(not is_missing(flat.get(k)) for k in NEW_STYLE_MARKERS)
    row["time"] = _number_or_none(analysed_time(row, kind, new_style))
    return row


def _number_or_none(value: Any) -> Any:
    if is_missing(value):
        return None
    return value


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"environment": {"device": "cuda"}}` -> `{"environment.device": "cuda", "device": ...}`.

    Lists stay whole (they are values, not structure). Top-level keys of nested dicts are also
    copied unprefixed when not already present, so `config.task_name` reads as `task_name`.
    """
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
