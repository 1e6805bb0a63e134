"""Run folders, a small sweep file and `predict` in a child process, for the cost-model tests:
written once for all of them."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

SMALL_SWEEP = """\
name: small
method: grid
parameters:
  task_name:
    value: mrpc
  model_name_or_path:
    values: [google-bert/bert-base-uncased, distilbert/distilbert-base-uncased]
  max_seq_length:
    values: [128, 256]
  per_device_train_batch_size:
    value: 16
  num_train_epochs:
    value: 1
  finetuning_iters:
    value: 3
"""


def run_config(row: dict[str, Any]) -> dict[str, Any]:
    """The results' `config` of a synthetic run, as the GLUE program writes it."""
    return {
        "task_name": row["task"], "model_name_or_path": row["model_name_or_path"],
        "max_seq_length": int(row["max_seq_length"]),
        "per_device_train_batch_size": int(row["batch_size"]),
        "per_device_eval_batch_size": int(row["eval_batch_size"]),
        "num_train_epochs": 1, "finetuning_iters": 3, "precision": "fp32",
        "n_train_samples": int(row["n_train"]), "n_eval_samples": int(row["n_eval"]),
    }


def write_run_folders(root: Path, table: pd.DataFrame,
                      extra: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> Path:
    """Runs as `timing_results.json` folders, the form a local sweep leaves behind; `extra`
    adds keys (energy figures, say) to each run's results."""
    for row in table.to_dict("records"):
        folder = Path(root) / str(row["run_id"])
        folder.mkdir(parents=True)
        result = {"status": row.get("state", "finished"), "config": run_config(row),
                  "finetuning_time": row["time"], "finetuning_time_list": [row["time"]] * 3,
                  "environment": {"device": "cpu"}}
        result.update(extra(row) if extra else {})
        (folder / "timing_results.json").write_text(json.dumps(result))
    return Path(root)


def write_sweep(folder: Path, text: str = SMALL_SWEEP, name: str = "small.yaml") -> Path:
    """A sweep file `name` holding `text` in `folder`."""
    path = Path(folder) / name
    path.write_text(text)
    return path


def predict(*args: str, limit_mb: int | None = None) -> subprocess.CompletedProcess:
    """`timing-trainer predict ...` in a real child process (optionally with a bounded address
    space, so that a runaway allocation fails fast rather than swapping)."""
    def bound():
        size = limit_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))

    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "timing_trainer.commands.main", "predict", *args],
                          capture_output=True, text=True, timeout=120, env=env,
                          preexec_fn=bound if limit_mb else None)


def feature_row(**kw):
    """One runs-table row of a BERT-base RTE run on a CPU, as the cost model's features read it;
    keyword arguments replace its values."""
    base = {"run_id": "r", "state": "finished", "task": "rte", "model": "bert-base-uncased",
            "model_name_or_path": "bert-base-uncased", "max_seq_length": 128, "batch_size": 8,
            "eval_batch_size": 16, "num_train_epochs": 1.0, "precision": "fp32",
            "world_size": None, "n_train": 2490, "n_eval": 277, "device": "cpu",
            "gpu_name": None, "time": 100.0}
    return {**base, **kw}
