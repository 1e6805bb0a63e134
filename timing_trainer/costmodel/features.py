"""First-principles features of a run's cost: steps, FLOPs, attention, parameters, platform.

Why these and not task or model dummies: a task only changes how many optimizer steps a run takes
(its training-set size), and a model only changes the arithmetic of a step (its shape). Written
that way, a fitted model extends to tasks, lengths and batch sizes it has never seen.

Per optimizer step (training) or per evaluation batch (inference), with `b` examples of `L`
tokens each (the thesis, and the GLUE program, pad every example to `max_seq_length`):

- `per_step`: 1, a fixed cost per step (Python, kernel launches, the data loader). On a GPU
  small batches are bound by it, not by arithmetic.
- `linear_tflop`: 2 x (weights every token passes through) x tokens, x3 for training
  (forward + backward), in TFLOP.
- `attention_tflop`: the score and weighted-sum matmuls, 2 x 2 x layers x L^2 x hidden per
  example, x3 for training. XLNet's relative attention computes a second, position score over
  2L keys, so its factor is 2 (and 2 H^2 more weights per token for the position projection).
- `gparams`: training: all parameters (the optimizer reads and writes each of them every step,
  a memory-bound cost that is why ALBERT, 12M shared weights, trains faster than BERT at equal
  FLOPs); inference: the matmul weights read once per forward.

LoRA (modes.py) trains without the frozen weights' gradients: its `linear_tflop` is smaller by
what results.flops counts as saved, and its `gparams` are the parameters it trains. The modes
(LoRA, torch.compile, the attention kernel, padding-free batches) are also columns of levels,
`mode_*`, for the fit's efficiency effects.

A run costs `steps x step_time + per_run` (fine-tuning) or `step_time` (inference, one batch).
A model's shape, and for architectures beyond the BERT era its attention FLOPs, come from
shapes.py: what the run recorded, the model table, or a `config.json`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.costmodel.cells import missing
from timing_trainer.costmodel.modes import (
    lora_saved_flops,
    lora_spec,
    lora_trainable_params,
    mode_levels,
)
from timing_trainer.costmodel.shapes import ModelShape, architecture_of, run_shape
from timing_trainer.errors import UnknownTaskError
from timing_trainer.results.flops import LoraSpec
from timing_trainer.tasks import get_task

PHYSICS_TERMS = ("per_step", "linear_tflop", "attention_tflop", "gparams")
KINDS = ("finetuning", "inference")
PLATFORM_SEP = " / "  # "cpu / fp32 / x1": device, precision, world size (CPU: "/ 4 threads")
# The analysis table's column of torch's intra-op thread count (the results' environment
# `torch_num_threads`): on a CPU it changes times several-fold, so it is part of the platform.
THREADS_COLUMN = "torch_num_threads"


def device_label(device: Any, gpu_name: Any) -> str:
    """`cpu`, `mps`, or the GPU's name for CUDA runs (an H100 is not an A100)."""
    device = "" if missing(device) else str(device).strip().lower()
    if device.startswith("cuda") or (not device and not missing(gpu_name)):
        return str(gpu_name).strip() if not missing(gpu_name) else "cuda (unknown GPU)"
    return device or "unknown device"


def platform_key(device: str, precision: Any, world_size: Any, cpu_threads: Any = None) -> str:
    """Where and how a run ran: the fit never mixes platforms, and refuses to leave them.

    A CPU run's thread count is part of it (`cpu / fp32 / x1 / 4 threads`): one thread or all
    cores is a several-fold difference. Runs that did not record it (older results files, the
    thesis's exports) and every non-CPU run keep the three parts.
    """
    precision = "fp32" if missing(precision) else str(precision).strip().lower()
    world = 1 if missing(world_size) else int(world_size)
    parts = [device, precision, f"x{world}"]
    threads = _count(cpu_threads)
    if device == "cpu" and threads is not None:
        parts.append(f"{threads} thread" + ("" if threads == 1 else "s"))
    return PLATFORM_SEP.join(parts)


def _count(value: Any) -> int | None:
    """A positive whole number, or None (missing, or not a count: the key then has no part)."""
    if missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() and number >= 1 else None


def row_platform(row: dict[str, Any]) -> str:
    """The platform of a row of the analysis table (or of a sweep's planned runs)."""
    return platform_key(device_label(row.get("device"), row.get("gpu_name")),
                        row.get("precision"), row.get("world_size"), row.get(THREADS_COLUMN))


def fitted_cpu_threads(platforms: list[str], device: str) -> int | None:
    """The thread count of the fitted `device` platforms when they have exactly one (planned
    runs are then priced at it); None for a GPU, no thread count, or several to choose from."""
    counts = {p.split(PLATFORM_SEP)[3].split()[0] for p in platforms
              if p.split(PLATFORM_SEP)[0] == device and len(p.split(PLATFORM_SEP)) > 3}
    return int(counts.pop()) if device == "cpu" and len(counts) == 1 else None


def _number(value: Any, default: float) -> float:
    return default if missing(value) else float(value)


def _train_size(row: dict[str, Any]) -> float:
    if not missing(row.get("n_train")):
        return float(row["n_train"])
    try:
        return float(get_task(str(row.get("task"))).train_size)
    except UnknownTaskError:
        return float("nan")


def run_features(table: pd.DataFrame, kind: str,
                 search_dirs: tuple[Path, ...] = ()) -> pd.DataFrame:
    """One row of features per run of `table` (the analysis table's columns), same index.

    Columns: `steps`, the PHYSICS_TERMS, `model_key`, `architecture`, `shape_key`, `platform`,
    `has_shape` (False: the model's shape is unknown and the run cannot be featurised),
    `shape_source` (shapes.py: the run's record, the model table or a config.json's path),
    the modes' levels (`mode_lora`, ...: modes.py), and `batch`, `length`, `params`,
    `flops_per_token` (forward) to tell how far a run lies from the fitted ones.
    Fine-tuning steps = ceil(n_train / (batch x world_size)) x epochs, or `max_steps` if set;
    inference counts one batch of `eval_batch_size` (the analysed time is a per-batch latency).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    training = kind == "finetuning"
    shapes: dict[tuple, ModelShape | None] = {}
    out = []
    for row in table.to_dict("records"):
        key, shape = _shape_of(row, shapes, search_dirs)
        steps, batch = _steps_and_batch(row, training)
        length = _number(row.get("max_seq_length"), float("nan"))
        feats = {
            "steps": steps,
            "batch": batch,
            "length": length,
            "model_key": shape.name if shape else key,
            "architecture": shape.architecture if shape else architecture_of(key),
            "shape_key": f"L{length:g} b{batch:g}",
            "platform": row_platform(row),
            "has_shape": shape is not None,
            # Where the shape was read ("model table", or a config.json's path; "" if nowhere).
            "shape_source": shape.source if shape else "",
            # How big the model is (for telling an extrapolation, not priced by the fit).
            "params": float(shape.params) if shape else math.nan,
            "flops_per_token": 2.0 * shape.matmul_params_per_token if shape else math.nan,
        }
        feats.update(mode_levels(row))
        feats.update(step_terms(shape, length, batch, training, lora_spec(row),
                                row.get("trainable_params")))
        out.append(feats)
    frame = pd.DataFrame(out, index=table.index)
    bad = ~np.isfinite(frame[["steps", *PHYSICS_TERMS]].to_numpy(float)).all(axis=1)
    frame.loc[bad, "has_shape"] = False
    return frame


def _shape_of(row: dict[str, Any], cache: dict[tuple, ModelShape | None],
              search_dirs: tuple[Path, ...]) -> tuple[str, ModelShape | None]:
    """(model key, shape) of a run: by `model_name_or_path` (what the run recorded of it first:
    shapes.run_shape), else by the short `model` name."""
    name = row.get("model_name_or_path")
    if missing(name):
        name = row.get("model")
    key = str(name)
    recorded = tuple(None if missing(row.get(c)) else str(row[c])
                     for c in ("model_config_json", "model_resolved", "output_dir"))
    if (key, recorded) not in cache:
        shape = run_shape(key, recorded=recorded[0], resolved=recorded[1],
                          output_dir=recorded[2], search_dirs=search_dirs)
        if shape is None and not missing(row.get("model")):
            shape = run_shape(str(row["model"]), search_dirs=search_dirs)
        cache[(key, recorded)] = shape
    return key, cache[(key, recorded)]


def _steps_and_batch(row: dict[str, Any], training: bool) -> tuple[float, float]:
    """(optimizer steps or evaluation batches, batch size); NaN steps where the run's sizes are
    missing or not finite (the run then has no features, rather than a crash)."""
    if not training:
        return 1.0, _number(row.get("eval_batch_size"), float("nan"))
    batch = _number(row.get("batch_size"), float("nan"))
    max_steps = _number(row.get("max_steps"), -1.0)
    if max_steps > 0:
        return max_steps, batch
    world = max(1.0, _number(row.get("world_size"), 1.0))
    epochs = _number(row.get("num_train_epochs"), 1.0)
    per_epoch = _train_size(row) / (batch * world) if batch > 0 else math.nan
    if not (math.isfinite(per_epoch) and math.isfinite(epochs)):
        return math.nan, batch
    return float(math.ceil(math.ceil(per_epoch) * epochs)), batch


def step_terms(shape: ModelShape | None, length: float, batch: float, training: bool,
               lora: LoraSpec | None = None, trainable: Any = None) -> dict[str, float]:
    """The PHYSICS_TERMS of one step (NaN when the shape is unknown); `lora` (training only):
    the frozen weights' gradients left out, and `gparams` the parameters LoRA trains (the
    run's recorded `trainable` count where it has one)."""
    if shape is None:
        return {"per_step": 1.0, "linear_tflop": math.nan, "attention_tflop": math.nan,
                "gparams": math.nan}
    passes = 3.0 if training else 1.0
    tokens = batch * length
    linear = 2.0 * passes * shape.matmul_params_per_token * tokens / 1e12
    attention = passes * shape.attention_flops_per_token(length) * tokens / 1e12
    weights = shape.params if training else shape.matmul_params_per_token
    if training and lora is not None:
        linear -= lora_saved_flops(shape, length, batch, lora) * tokens / 1e12
        weights = lora_trainable_params(shape, lora, trainable)
    return {"per_step": 1.0, "linear_tflop": linear, "attention_tflop": attention,
            "gparams": weights / 1e9}
