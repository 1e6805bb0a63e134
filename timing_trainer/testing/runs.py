"""Generated runs with known effects: for tests, the benchmark and offline notebook runs.

Times follow the thesis's log-linear shape (multiplicative model and task effects, exponential in
batch size and length) with log-normal noise, so a fit can be checked against the truth.
Results are written in the `timing_results.json` schema, one folder per run.

`energy`: None writes no energy keys (results from before energy was measured); "measured" the
energy keys of schema version 3, each model drawing its own power (`MODEL_POWER_W`, log-normal
noise), so energy = power x time; "unavailable" the keys as null with a reason in `unavailable`
(a machine without NVML's energy counter or readable RAPL).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from timing_trainer.analysis.table.energy_rows import ENERGY_KEYS
from timing_trainer.results.schema import RESULTS_FILENAME, SCHEMA_VERSION
from timing_trainer.tasks import get_task

MODEL_EFFECTS = {  # multiplier on time against bert-base-uncased
    "google-bert/bert-base-uncased": 1.0, "distilbert/distilbert-base-uncased": 0.5,
    "FacebookAI/roberta-base": 1.05, "albert/albert-base-v1": 0.95,
}
TASK_EFFECTS = {"rte": 1.0, "mrpc": 1.4, "cola": 2.5, "wnli": 0.3}
LENGTHS = (128, 256, 512)
BATCHES = (8, 16, 32)
TRUE_LOG_SLOPES = {"batch_size": 0.004, "max_seq_length": 0.0045}
MODEL_POWER_W = {  # average board power while fine-tuning; inference draws INFERENCE_POWER_SHARE
    "google-bert/bert-base-uncased": 300.0, "distilbert/distilbert-base-uncased": 210.0,
    "FacebookAI/roberta-base": 320.0, "albert/albert-base-v1": 260.0,
}
INFERENCE_POWER_SHARE = 0.7
UNAVAILABLE_REASON = "no energy counter: nvidia-ml-py not installed and RAPL not readable"


def energy_figures(rng: np.random.Generator, power: float, times: list[float],
                   total_inference: float, n_eval: int, noise: float) -> dict[str, Any]:
    """The energy keys of one run that drew `power` watts (each iteration its own noise)."""
    energies = [round(t * power * float(np.exp(rng.normal(0, noise))), 3) for t in times]
    fastest = energies[int(np.argmin(times))]
    inference = round(total_inference * power * INFERENCE_POWER_SHARE, 6)
    return {"finetuning_energy_j": fastest, "finetuning_energy_j_list": energies,
            "finetuning_avg_power_w": fastest / min(times), "inference_energy_j": inference,
            "inference_energy_per_sample_j": inference / n_eval, "energy_source": "nvml"}


def _energy(mode: str | None, rng, model: str, times, batch_times, n_eval: int, noise: float,
            failed: bool) -> dict[str, Any]:
    """The energy part of a result for `mode` (see the module's docstring)."""
    if mode is None:
        return {}
    if mode == "unavailable" or failed:
        reasons = {key: UNAVAILABLE_REASON if mode == "unavailable" else "the run failed"
                   for key in ENERGY_KEYS}
        return {**dict.fromkeys(ENERGY_KEYS), "unavailable": reasons}
    return energy_figures(rng, MODEL_POWER_W[model], times, float(sum(batch_times)), n_eval,
                          noise)


ENVIRONMENT = {"device": "cuda", "gpu_name": "NVIDIA H100 80GB HBM3", "gpu_count": 1,
               "torch_version": "2.13.0", "transformers_version": "5.24",
               "timing_trainer_version": "0.1", "python_version": "3.12"}
# The demo's grid (sweeps/demo.yaml): two tiny models on RTE and SST-2; the uncased model is
# given 0.8 of the cased one's time, so a comparison split by model has a known ratio.
DEMO_MODEL_EFFECTS = {"demo/assets/models/tiny-cased": 1.0,
                      "demo/assets/models/tiny-uncased": 0.8}
DEMO_GRID = {"task": ("rte", "sst2"), "max_seq_length": (64, 128), "batch_size": (8, 16)}


def _result(config: dict[str, Any], times: list[float], batch_times: list[float], failed: bool,
            metric: float, environment: dict[str, Any] | None) -> dict[str, Any]:
    """One results dict in the `timing_results.json` schema (no figures when `failed`)."""
    task = get_task(config["task_name"])
    return {
        "schema_version": SCHEMA_VERSION, "status": "failed" if failed else "finished",
        "error": {"kind": "oom", "message": "CUDA out of memory"} if failed else None,
        "created_at": "2026-11-26T00:00:00Z", "config": config,
        "environment": {**ENVIRONMENT, **(environment or {})},
        "finetuning_time": None if failed else min(times),
        "finetuning_time_list": None if failed else times,
        "inference_time": None if failed else min(batch_times),
        "inference_time_list": None if failed else batch_times,
        "inference_total_time": None if failed else float(sum(batch_times)),
        "eval_metrics": {} if failed else {task.main_metric_key: metric},
    }


def _config(task_id: str, model: str, length: int, batch: int, eval_batch: int, repeats: int,
            name: str) -> dict[str, Any]:
    task = get_task(task_id)
    return {"task_name": task_id, "model_name_or_path": model, "max_seq_length": length,
            "per_device_train_batch_size": batch, "per_device_eval_batch_size": eval_batch,
            "learning_rate": 2e-5, "num_train_epochs": 1, "finetuning_iters": repeats,
            "seed": 42, "precision": "fp32", "world_size": 1, "n_train_samples": task.train_size,
            "n_eval_samples": task.eval_size, "run_name": name}


def _times(rng, log_mean: float, eval_batch: int, noise: float, repeats: int,
           time_scale: float) -> tuple[list[float], list[float]]:
    """(fine-tuning iterations, per-batch latencies) around `log_mean`, log-normal noise."""
    times = (time_scale * np.exp(log_mean + rng.normal(0, noise, size=repeats))
             ).round(4).tolist()
    batch_times = (time_scale * np.exp(log_mean - 8 + 0.02 * eval_batch
                                       + rng.normal(0, noise, 6))).round(6).tolist()
    return times, batch_times


def synthetic_results(n: int, *, seed: int = 0, failed_share: float = 0.05,
                      noise: float = 0.05, base_time: float = 60.0,
                      energy: str | None = None, repeats: int = 3, time_scale: float = 1.0,
                      noise_seed: int | None = None,
                      environment: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """`n` results dicts; about `failed_share` of them failed (OOM) without times.

    `repeats`: fine-tuning iterations per run. `time_scale`: every time multiplied by it (a
    machine that is 1.5 times slower: `time_scale=1.5`). `noise_seed`: the noise drawn from its
    own generator, so two sets of one `seed` run the same configurations with their own noise.
    `environment`: keys replacing those of `ENVIRONMENT` (another platform, other versions).
    """
    rng = np.random.default_rng(seed)
    noise_rng = rng if noise_seed is None else np.random.default_rng(noise_seed)
    models, tasks = list(MODEL_EFFECTS), list(TASK_EFFECTS)
    out = []
    for index in range(n):
        model, task_id = models[index % len(models)], tasks[(index // len(models)) % len(tasks)]
        length = LENGTHS[int(rng.integers(len(LENGTHS)))]
        batch = BATCHES[int(rng.integers(len(BATCHES)))]
        eval_batch = BATCHES[int(rng.integers(len(BATCHES)))]
        log_mean = (np.log(base_time * MODEL_EFFECTS[model] * TASK_EFFECTS[task_id])
                    + TRUE_LOG_SLOPES["batch_size"] * batch
                    + TRUE_LOG_SLOPES["max_seq_length"] * length)
        times, batch_times = _times(noise_rng, log_mean, eval_batch, noise, repeats, time_scale)
        metric = float(np.clip(0.55 + 0.04 * np.log(min(times)) + rng.normal(0, 0.02), 0, 1))
        failed = rng.random() < failed_share
        config = _config(task_id, model, length, batch, eval_batch, repeats, f"run-{index:05d}")
        result = _result(config, times, batch_times, failed, metric, environment)
        result.update(_energy(energy, rng, model, times, batch_times,
                              get_task(task_id).eval_size, noise, failed))
        out.append(result)
    return out


def demo_like_results(*, seed: int = 0, repeats: int = 5, runs_per_configuration: int = 1,
                      noise: float = 0.03, base_time: float = 2.0,
                      environment: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every configuration of the demo's grid (`DEMO_GRID`, both `DEMO_MODEL_EFFECTS` models),
    `runs_per_configuration` runs each, all finished: what `make demo` writes, in seconds."""
    rng = np.random.default_rng(seed)
    out = []
    for model, effect in DEMO_MODEL_EFFECTS.items():
        for task_id in DEMO_GRID["task"]:
            for length in DEMO_GRID["max_seq_length"]:
                for batch in DEMO_GRID["batch_size"]:
                    log_mean = np.log(base_time * effect * length / 64 * (1 + batch / 32))
                    for _ in range(runs_per_configuration):
                        times, batch_times = _times(rng, log_mean, 16, noise, repeats, 1.0)
                        config = _config(task_id, model, length, batch, 16, repeats,
                                         f"{len(out):03d}-demo")
                        out.append(_result(config, times, batch_times, False, 0.6,
                                           environment))
    return out


def write_run_folders(root: str | os.PathLike, n: int, *, seed: int = 0, **kwargs: Any) -> Path:
    """Write `n` generated runs as `root/run-XXXXX/timing_results.json`; return `root`."""
    root = Path(root)
    for index, result in enumerate(synthetic_results(n, seed=seed, **kwargs)):
        folder = root / f"run-{index:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RESULTS_FILENAME).write_text(json.dumps(result))
    return root


def write_results(root: str | os.PathLike, results: list[dict[str, Any]]) -> Path:
    """Write `results` as `root/RUN_NAME/timing_results.json`, one folder per run, named by its
    run name (`000-demo`, as the local agent names its folders); return `root`."""
    root = Path(root)
    for index, result in enumerate(results):
        folder = root / str(result.get("config", {}).get("run_name") or f"{index:03d}")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RESULTS_FILENAME).write_text(json.dumps(result))
    return root
