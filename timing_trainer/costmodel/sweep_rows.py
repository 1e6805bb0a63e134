"""A sweep's planned runs as rows of the analysis table: what `run_features` reads of a run.

Each run's parameters, read as the GLUE program takes them, with its defaults where the sweep
sets none: the shape (model, length, batches, epochs, repeats, precision), the platform it
will run on, its data sizes and where they were read (data_size.py), and its modes. The modes
are `--lora_r` (0: full fine-tuning), `--lora_target_modules`, `--torch_compile`,
`--attn_implementation` and `--padding_free` (glue/modes.py). They are written as the results
record them, so that a planned LoRA run is priced as the measured LoRA runs were.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from timing_trainer.analysis.table.rows import precision_of
from timing_trainer.costmodel.data_size import DataSizes
from timing_trainer.costmodel.features import THREADS_COLUMN
from timing_trainer.costmodel.modes import lora_rank, switched_on
from timing_trainer.models import short_model_name
from timing_trainer.tasks import get_task

# Hugging Face TrainingArguments / run_glue defaults, used when a sweep does not set a value.
DEFAULTS = {"max_seq_length": 128, "per_device_train_batch_size": 8,
            "per_device_eval_batch_size": 8, "num_train_epochs": 3.0, "finetuning_iters": 1}


def _modes(params: dict[str, Any]) -> dict[str, Any]:
    """The run's modes as the results record them (`torch_compile` as "True"/"False" text)."""
    attn = params.get("attn_implementation")
    targets = params.get("lora_target_modules")
    rank = lora_rank(params)
    return {"lora_r": rank, "lora_target_modules": str(targets) if rank and targets else None,
            "torch_compile": str(switched_on(params.get("torch_compile"))),
            "attn_implementation": str(attn) if attn not in (None, "") else None,
            "padding_free": str(switched_on(params.get("padding_free")))}


def runs_table(runs: list[dict[str, Any]], *, device: str, gpu_name: str | None,
               world_size: int, cpu_threads: int | None = None,
               sizes: DataSizes | None = None) -> pd.DataFrame:
    """The sweep's runs as rows of the analysis table's columns (what `run_features` reads);
    `cpu_threads`: the thread count they would run with on a CPU (part of its platform);
    `sizes`: the sweep's data sizes (without one, a relative `data_dir` is looked for under
    the current folder only)."""
    sizes = sizes or DataSizes()
    rows = []
    for params in runs:
        p = {**DEFAULTS, **params}
        size = sizes.of(p)
        model = str(p.get("model_name_or_path"))
        rows.append({
            "task": get_task(str(p.get("task_name"))).name, "model": short_model_name(model),
            "model_name_or_path": model,
            "max_seq_length": float(p["max_seq_length"]),
            "batch_size": float(p["per_device_train_batch_size"]),
            "eval_batch_size": float(p["per_device_eval_batch_size"]),
            "num_train_epochs": float(p["num_train_epochs"]),
            "max_steps": float(p.get("max_steps") or -1),
            "finetuning_iters": int(p["finetuning_iters"]),
            "precision": precision_of(p), "world_size": world_size,
            "n_train": size.n_train, "n_eval": size.n_eval,
            "n_train_source": size.train_source, "n_eval_source": size.eval_source,
            "device": device, "gpu_name": gpu_name, THREADS_COLUMN: cpu_threads,
            **_modes(p),
        })
    return pd.DataFrame(rows)
