"""Runs generated from a known cost formula, for tests and the benchmark.

Times follow the cost model's own form (features.py) with chosen prices, a per-model efficiency
and log-normal noise, so a fit can be checked against the truth it should recover.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from timing_trainer.costmodel.features import run_features
from timing_trainer.tasks import get_task

TRUE_PRICES = {"per_step": 0.05, "linear_tflop": 1.2, "attention_tflop": 3.0, "gparams": 0.4}
TRUE_PER_RUN = 2.0
TRUE_EFFICIENCY = {"bert-base-uncased": 1.0, "distilbert-base-uncased": 1.0,
                   "roberta-base": 1.0, "albert-base-v1": 1.0, "xlnet-base-cased": 1.6}
TASKS = ("rte", "mrpc", "cola", "wnli", "stsb")


def synthetic_runs(*, kind: str = "finetuning", models=tuple(TRUE_EFFICIENCY), tasks=TASKS,
                   lengths=(64, 128, 256), batches=(8, 16, 32), noise: float = 0.03,
                   seed: int = 0, prices: dict | None = None, per_run: float = TRUE_PER_RUN,
                   device: str = "cpu", precision: str = "fp32") -> pd.DataFrame:
    """One finished run per (task, model, length, batch), analysis-table columns."""
    rng = np.random.default_rng(seed)
    prices = {**TRUE_PRICES, **(prices or {})}
    rows = []
    for i, (task, model, length, batch) in enumerate(
            itertools.product(tasks, models, lengths, batches)):
        t = get_task(task)
        rows.append({
            "run_id": f"syn-{seed}-{i:04d}", "state": "finished", "task": t.name, "model": model,
            "model_name_or_path": model, "max_seq_length": length, "batch_size": batch,
            "eval_batch_size": batch, "num_train_epochs": 1.0, "finetuning_iters": 3,
            "precision": precision, "world_size": 1, "n_train": t.train_size,
            "n_eval": t.eval_size, "device": device, "gpu_name": None,
        })
    table = pd.DataFrame(rows)
    table["time"] = true_time(table, kind, prices, per_run) * np.exp(
        rng.normal(0.0, noise, len(table)))
    return table


def true_time(table: pd.DataFrame, kind: str, prices: dict | None = None,
              per_run: float = TRUE_PER_RUN) -> np.ndarray:
    """The noiseless time of each run under the known formula."""
    prices = {**TRUE_PRICES, **(prices or {})}
    feats = run_features(table, kind)
    step = sum(prices[k] * feats[k].to_numpy(float) for k in prices)
    total = feats["steps"].to_numpy(float) * step
    if kind == "finetuning":
        total = total + per_run
    eff = table["model"].map(TRUE_EFFICIENCY).fillna(1.0).to_numpy(float)
    return total * eff


# Average power (W) per model while it runs: energy = power x time, so a fitted energy model
# should find each model's power as its efficiency effect relative to the others.
TRUE_POWER_W = {"bert-base-uncased": 150.0, "distilbert-base-uncased": 120.0,
                "roberta-base": 150.0, "albert-base-v1": 100.0, "xlnet-base-cased": 200.0}


def with_energy(table: pd.DataFrame, kind: str = "finetuning", *, noise: float = 0.03,
                seed: int = 0, source: str = "nvml", power: dict | None = None) -> pd.DataFrame:
    """`table` with the energy columns a run with an energy counter carries (energy.py reads
    them): energy = the model's power x the run's time x log-normal noise."""
    rng = np.random.default_rng(seed + 1000)
    power = {**TRUE_POWER_W, **(power or {})}
    watts = table["model"].map(power).fillna(150.0).to_numpy(float)
    joules = watts * table["time"].to_numpy(float) * np.exp(rng.normal(0.0, noise, len(table)))
    out = table.assign(energy_source=source)
    if kind == "finetuning":
        return out.assign(finetuning_energy_j=joules)
    # inference: `time` is one batch's latency; the results carry energy per sample
    return out.assign(inference_energy_per_sample_j=joules / table["eval_batch_size"].astype(float))
