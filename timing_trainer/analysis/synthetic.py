"""Generated runs with known effects: for tests, the benchmark and offline notebook runs.

Times follow the thesis's log-linear shape (multiplicative model and task effects, exponential in
batch size and length) with log-normal noise, so a fit can be checked against the truth.
Results are written in the `timing_results.json` schema, one folder per run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from timing_trainer.schema import RESULTS_FILENAME, SCHEMA_VERSION
from timing_trainer.tasks import get_task

MODEL_EFFECTS = {  # multiplier on time against bert-base-uncased
    "google-bert/bert-base-uncased": 1.0, "distilbert/distilbert-base-uncased": 0.5,
    "FacebookAI/roberta-base": 1.05, "albert/albert-base-v1": 0.95,
}
TASK_EFFECTS = {"rte": 1.0, "mrpc": 1.4, "cola": 2.5, "wnli": 0.3}
LENGTHS = (128, 256, 512)
BATCHES = (8, 16, 32)
TRUE_LOG_SLOPES = {"batch_size": 0.004, "max_seq_length": 0.0045}


def synthetic_results(n: int, *, seed: int = 0, failed_share: float = 0.05,
                      noise: float = 0.05, base_time: float = 60.0) -> list[dict[str, Any]]:
    """`n` results dicts; about `failed_share` of them failed (OOM) without times."""
    rng = np.random.default_rng(seed)
    models, tasks = list(MODEL_EFFECTS), list(TASK_EFFECTS)
    out = []
    for index in range(n):
        model, task_id = models[index % len(models)], tasks[(index // len(models)) % len(tasks)]
        length = LENGTHS[int(rng.integers(len(LENGTHS)))]
        batch = BATCHES[int(rng.integers(len(BATCHES)))]
        eval_batch = BATCHES[int(rng.integers(len(BATCHES)))]
        task = get_task(task_id)
        log_mean = (np.log(base_time * MODEL_EFFECTS[model] * TASK_EFFECTS[task_id])
                    + TRUE_LOG_SLOPES["batch_size"] * batch
                    + TRUE_LOG_SLOPES["max_seq_length"] * length)
        times = np.exp(log_mean + rng.normal(0, noise, size=3)).round(4).tolist()
        batch_times = (np.exp(log_mean - 8 + 0.02 * eval_batch + rng.normal(0, noise, 6))
                       .round(6).tolist())
        metric = float(np.clip(0.55 + 0.04 * np.log(min(times)) + rng.normal(0, 0.02), 0, 1))
        failed = rng.random() < failed_share
        config = {
            "task_name": task_id, "model_name_or_path": model, "max_seq_length": length,
            "per_device_train_batch_size": batch, "per_device_eval_batch_size": eval_batch,
            "learning_rate": 2e-5, "num_train_epochs": 1, "finetuning_iters": 3, "seed": 42,
            "precision": "fp32", "world_size": 1, "n_train_samples": task.train_size,
            "n_eval_samples": task.eval_size, "run_name": f"run-{index:05d}",
        }
        result = {
            "schema_version": SCHEMA_VERSION, "status": "failed" if failed else "finished",
            "error": {"kind": "oom", "message": "CUDA out of memory"} if failed else None,
            "created_at": "2026-11-26T00:00:00Z", "config": config,
            "environment": {"device": "cuda", "gpu_name": "NVIDIA H100 80GB HBM3",
                            "torch_version": "2.13.0", "transformers_version": "5.24",
                            "timing_trainer_version": "0.1", "python_version": "3.12"},
            "finetuning_time": None if failed else min(times),
            "finetuning_time_list": None if failed else times,
            "inference_time": None if failed else min(batch_times),
            "inference_time_list": None if failed else batch_times,
            "inference_total_time": None if failed else float(sum(batch_times)),
            "eval_metrics": {} if failed else {task.main_metric_key: metric},
        }
        out.append(result)
    return out


def write_run_folders(root: str | os.PathLike, n: int, *, seed: int = 0, **kwargs: Any) -> Path:
    """Write `n` generated runs as `root/run-XXXXX/timing_results.json`; return `root`."""
    root = Path(root)
    for index, result in enumerate(synthetic_results(n, seed=seed, **kwargs)):
        folder = root / f"run-{index:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RESULTS_FILENAME).write_text(json.dumps(result))
    return root
