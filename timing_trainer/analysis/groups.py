"""Time grouped the ways the thesis grouped it: its fair-comparison subsets, and the fastest and
slowest runs (groups by tokens per batch are `descriptive.describe_time(data, by=...)`).

Fair comparisons: some runs crashed (ALBERT at length 512 on SST-2; the cased BERT models on
MRPC at lengths 128 and 256), and XLNet and the cased models ran on some tasks only, so a plain
group mean compares different task mixes. The thesis compared factor levels on the subsets where
every level ran on the same tasks; `FAIR_SUBSETS` are those subsets, applied to whatever runs
are given (a subset whose tasks or models are absent is reported as empty, with the reason).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from timing_trainer.analysis.descriptive import describe_time
from timing_trainer.analysis.settings import FASTEST_RUNS

# name -> (grouped by, filter, why); filters name canonical task ids and thesis model names.
FAIR_SUBSETS: dict[str, dict[str, Any]] = {
    "batch_size_without_mrpc_sst2": {
        "by": ["batch_size"], "exclude_tasks": ["mrpc", "sst2"],
        "why": "runs crashed on SST-2 (ALBERT, length 512) and MRPC (cased models, 128/256)"},
    "length_and_batch_without_mrpc_sst2": {
        "by": ["max_seq_length", "batch_size"], "exclude_tasks": ["mrpc", "sst2"],
        "why": "as above, every length × batch size cell on the same tasks"},
    "models_without_sst2_cola": {
        "by": ["model"], "exclude_tasks": ["sst2", "cola"],
        "why": "XLNet did not run on SST-2 and CoLA"},
    "models_on_cola_rte": {
        "by": ["model"], "include_tasks": ["cola", "rte"],
        "why": "the cased models ran on CoLA and RTE"},
    "tasks_without_xlnet": {
        "by": ["task"], "exclude_models": ["xlnet-base-cased"],
        "why": "XLNet ran on some tasks only"},
}

RUN_COLUMNS = ("run_id", "task", "model", "max_seq_length", "batch_size", "learning_rate",
               "time")


def fair_subset(data: pd.DataFrame, spec: dict[str, Any]) -> pd.DataFrame:
    """The rows of `data` that a `FAIR_SUBSETS` entry keeps."""
    mask = pd.Series(True, index=data.index)
    if spec.get("include_tasks"):
        mask &= data["task"].isin(spec["include_tasks"])
    if spec.get("exclude_tasks"):
        mask &= ~data["task"].isin(spec["exclude_tasks"])
    if spec.get("exclude_models"):
        mask &= ~data["model"].isin(spec["exclude_models"])
    return data.loc[mask]


def fair_comparisons(data: pd.DataFrame) -> pd.DataFrame:
    """Every fair-comparison subset described per level: one tidy table, `subset` first."""
    frames = []
    for name, spec in FAIR_SUBSETS.items():
        subset = fair_subset(data, spec)
        table = describe_time(subset, by=spec["by"]) if len(subset) else pd.DataFrame()
        if table.empty:
            table = pd.DataFrame([{"count": 0, "note": "no runs in this subset"}])
        table.insert(0, "subset", name)
        table["why"] = spec["why"]
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def extreme_runs(data: pd.DataFrame, n: int = FASTEST_RUNS, fastest: bool = True) -> pd.DataFrame:
    """The `n` fastest (or slowest) runs with their settings."""
    columns = [c for c in RUN_COLUMNS if c in data]
    ordered = data.sort_values(["time", "run_id"] if "run_id" in data else ["time"],
                               ascending=fastest, kind="mergesort")
    return ordered[columns].head(n).reset_index(drop=True)
