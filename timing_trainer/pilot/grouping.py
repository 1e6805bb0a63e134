"""A sweep's runs grouped by shape: the runs one pilot slice can stand for.

A fine-tuning step costs the same whatever its learning rate, seed or number of epochs: what
sets its cost is the model, the padded batch (sequence length x batch size), the precision and
the modes that change the work (LoRA's rank, `torch.compile`, the attention kernel, padding-free
batches, gradient accumulation). Runs that share those share a step time and an evaluation
batch's latency, so one short slice measures them all; epochs, data size and repeats then only
change how many steps and batches there are (timing_trainer.pilot.clock).

Where batches are padded to their longest example (`--pad_to_max_length False`, padding-free
batches) the step time depends on the data too, so the task and its `data_dir` join the shape.

A model named by a relative path is named as found from the folder the pilot ran in, so the
same model written `demo/models/m` and `/abs/demo/models/m` is one shape. A switch and the
precision are read as the cost model and the analysis read them. Torch-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timing_trainer.analysis.table.rows import precision_of
from timing_trainer.costmodel.modes import switched_on

# The program's defaults where a sweep does not set a value (timing_trainer.glue.arguments and
# transformers' TrainingArguments).
DEFAULTS: dict[str, Any] = {
    "max_seq_length": 128, "per_device_train_batch_size": 8, "per_device_eval_batch_size": 8,
    "gradient_accumulation_steps": 1, "lora_r": 0, "torch_compile": False,
    "attn_implementation": None, "padding_free": False, "pad_to_max_length": True,
}
# What makes two runs one shape (beside the model and the precision), in the label's order.
SHAPE_PARAMS = tuple(DEFAULTS)
_SHORT = {"max_seq_length": "L", "per_device_train_batch_size": "b",
          "per_device_eval_batch_size": "eb", "gradient_accumulation_steps": "ga",
          "lora_r": "lora", "torch_compile": "compile", "attn_implementation": "attn",
          "padding_free": "padding_free", "pad_to_max_length": "pad"}


def model_id(name: Any, cwd: Path | None) -> str:
    """The model as one name: a local folder by its resolved path (relative paths read from
    `cwd`), a Hub id as written."""
    text = str(name)
    if cwd is not None:
        local = Path(text).expanduser()
        local = local if local.is_absolute() else cwd / local
        if local.is_dir():
            return str(local.resolve())
    return text


def _normalised(name: str, value: Any) -> Any:
    if name in ("torch_compile", "padding_free", "pad_to_max_length"):
        return switched_on(value)
    if name == "attn_implementation":
        return None if value in (None, "", "None", "none") else str(value)
    return int(float(value))


def shape_values(params: dict[str, Any], cwd: Path | None) -> dict[str, Any]:
    """The values that decide a run's step time and batch latency (see the module docstring)."""
    merged = {**DEFAULTS, **{k: v for k, v in params.items() if v is not None}}
    values = {"model": model_id(params.get("model_name_or_path"), cwd),
              "precision": precision_of(params)}
    values.update({name: _normalised(name, merged[name]) for name in SHAPE_PARAMS})
    if values["padding_free"] or not values["pad_to_max_length"]:  # batches follow the data
        values["task_name"] = str(params.get("task_name"))
        values["data_dir"] = str(params.get("data_dir"))
    return values


def shape_key(values: dict[str, Any]) -> str:
    """A stable text key of a shape's values (how slices and runs are matched)."""
    return json.dumps(values, sort_keys=True, default=str)


def shape_label(values: dict[str, Any]) -> str:
    """`tiny-cased L=64 b=8 eb=16 fp32` plus any mode that is not the default."""
    model = str(values["model"]).rstrip("/").rsplit("/", 1)[-1]
    parts = [model, f"L={values['max_seq_length']}", f"b={values['per_device_train_batch_size']}",
             f"eb={values['per_device_eval_batch_size']}", values["precision"]]
    for name in SHAPE_PARAMS[3:]:
        if values[name] != DEFAULTS[name]:
            parts.append(f"{_SHORT[name]}={values[name]}")
    if "task_name" in values:
        parts.append(f"task={values['task_name']}")
    return " ".join(str(p) for p in parts)


@dataclass
class Shape:
    """One shape of a sweep: its values, and the sweep runs (indices into the expansion) it
    covers, the first of which is the run its slice is cut from."""

    key: str
    values: dict[str, Any]
    runs: list[int] = field(default_factory=list)

    @property
    def label(self) -> str:
        return shape_label(self.values)

    @property
    def model(self) -> str:
        return str(self.values["model"])


def group_runs(runs: list[tuple[int, dict[str, Any]]], cwd: Path | None) -> list[Shape]:
    """The shapes of `runs` (pairs of sweep index and parameters), in order of first appearance."""
    shapes: dict[str, Shape] = {}
    for index, params in runs:
        values = shape_values(params, cwd)
        key = shape_key(values)
        shapes.setdefault(key, Shape(key, values)).runs.append(index)
    return list(shapes.values())


def slice_order(shapes: list[Shape]) -> list[Shape]:
    """The order slices are cut in: round robin over the models (each model's shapes in sweep
    order), so that a budget that runs out leaves every model measured at least once, and the
    cost model fitted on the slices has each model at more than one shape as early as it can."""
    by_model: dict[str, list[Shape]] = {}
    for shape in shapes:
        by_model.setdefault(shape.model, []).append(shape)
    ordered: list[Shape] = []
    depth = max((len(s) for s in by_model.values()), default=0)
    for level in range(depth):
        ordered += [group[level] for group in by_model.values() if level < len(group)]
    return ordered


def tokenize_key(params: dict[str, Any], cwd: Path | None) -> str:
    """What a run's tokenized data depends on (the tokenizer, task, data, length, padding and
    sample limits): runs with one key tokenize the same examples the same way."""
    values = shape_values(params, cwd)
    tokenizer = params.get("tokenizer_name") or params.get("model_name_or_path")
    return json.dumps({
        "tokenizer": model_id(tokenizer, cwd), "task": str(params.get("task_name")),
        "data_dir": model_id(params.get("data_dir"), cwd),
        "length": values["max_seq_length"], "pad": values["pad_to_max_length"],
        "padding_free": values["padding_free"],
        "limits": [params.get("max_train_samples"), params.get("max_eval_samples")],
    }, sort_keys=True, default=str)


def cache_hits(runs: list[tuple[int, dict[str, Any]]], cwd: Path | None) -> dict[int, bool]:
    """Whether each run will find its tokenized data in the sweep's cache: every run after the
    first of its tokenization key and cache folder, where the cache is on. (A cache filled by an
    earlier sweep is not looked into: the first run of each key is priced as tokenizing.)"""
    seen: set[tuple[str, str]] = set()
    hits = {}
    for index, params in runs:
        on = switched_on(params.get("use_tokenization_cache", True))
        group = (tokenize_key(params, cwd), str(params.get("tokenization_cache_dir")))
        hits[index] = on and group in seen
        seen.add(group)
    return hits
