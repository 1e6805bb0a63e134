"""Time grouped the ways the thesis grouped it: its fair-comparison subsets, and the fastest and
slowest runs (groups by tokens per batch are `descriptive.describe(data, by=...)`).

Fair comparisons: some runs crashed (ALBERT at length 512 on SST-2; the cased BERT models on
MRPC at lengths 128 and 256), and XLNet and the cased models ran on some tasks only, so a plain
group mean compares different task mixes. The thesis compared factor levels on the subsets where
every level ran on the same tasks; `FAIR_SUBSETS` are those subsets. Each is about some tasks
and models (`about_tasks`, `about_models`: the crashed or partial ones), and applies only to runs
that contain at least one of each: on other runs (the demo's tiny models, a sweep without them)
its reason would be about runs that are not there, so it is left out (`fair_subsets_left_out`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from timing_trainer.analysis.stats.descriptive import describe
from timing_trainer.analysis.stats.settings import FASTEST_RUNS

_CRASHED = ["albert-base-v1", "bert-base-cased", "distilbert-base-cased"]
_CASED = ["bert-base-cased", "distilbert-base-cased"]
# name -> (grouped by, filter, why, what it is about); canonical task ids, thesis model names.
FAIR_SUBSETS: dict[str, dict[str, Any]] = {
    "batch_size_without_mrpc_sst2": {
        "by": ["batch_size"], "exclude_tasks": ["mrpc", "sst2"],
        "about_tasks": ["mrpc", "sst2"], "about_models": _CRASHED,
        "why": "runs crashed on SST-2 (ALBERT, length 512) and MRPC (cased models, 128/256)"},
    "length_and_batch_without_mrpc_sst2": {
        "by": ["max_seq_length", "batch_size"], "exclude_tasks": ["mrpc", "sst2"],
        "about_tasks": ["mrpc", "sst2"], "about_models": _CRASHED,
        "why": "as above, every length × batch size cell on the same tasks"},
    "models_without_sst2_cola": {
        "by": ["model"], "exclude_tasks": ["sst2", "cola"],
        "about_tasks": ["sst2", "cola"], "about_models": ["xlnet-base-cased"],
        "why": "XLNet did not run on SST-2 and CoLA"},
    "models_on_cola_rte": {
        "by": ["model"], "include_tasks": ["cola", "rte"],
        "about_tasks": ["cola", "rte"], "about_models": _CASED,
        "why": "the cased models ran on CoLA and RTE"},
    "tasks_without_xlnet": {
        "by": ["task"], "exclude_models": ["xlnet-base-cased"],
        "about_tasks": [], "about_models": ["xlnet-base-cased"],
        "why": "XLNet ran on some tasks only"},
}
NOT_APPLICABLE = ("The fair-comparison subsets are the thesis's: each leaves out tasks or models "
                  "its crashed or partial runs concern, and these runs contain none of them, so "
                  "the subsets do not apply here.")

RUN_COLUMNS = ("run", "run_id", "task", "model", "max_seq_length", "batch_size",
               "learning_rate", "time")


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


def applies(data: pd.DataFrame, spec: dict[str, Any]) -> bool:
    """Whether the runs contain what a subset is about: one of its tasks and one of its models."""
    tasks = set(data["task"].dropna()) if "task" in data else set()
    models = set(data["model"].dropna()) if "model" in data else set()
    return (not spec["about_tasks"] or bool(tasks & set(spec["about_tasks"]))) \
        and bool(models & set(spec["about_models"]))


def fair_subsets_left_out(data: pd.DataFrame) -> list[str]:
    """The subsets that do not apply to these runs (see the module's docstring)."""
    return [name for name, spec in FAIR_SUBSETS.items() if not applies(data, spec)]


def fair_comparisons(data: pd.DataFrame, time: str = "time") -> pd.DataFrame:
    """Every subset that applies, described per level (of `time`, the response's column): one
    tidy table, `subset` first; no rows when none applies."""
    frames = []
    for name, spec in FAIR_SUBSETS.items():
        if not applies(data, spec):
            continue
        subset = fair_subset(data, spec)
        table = describe(subset, time=time, by=spec["by"]) if len(subset) else pd.DataFrame()
        if table.empty:
            table = pd.DataFrame([{"count": 0, "note": "no runs in this subset"}])
        table.insert(0, "subset", name)
        table["why"] = spec["why"]
        frames.append(table)
    if not frames:
        return pd.DataFrame(columns=["subset", "count", "why"])
    return pd.concat(frames, ignore_index=True)


def extreme_runs(data: pd.DataFrame, n: int = FASTEST_RUNS, fastest: bool = True,
                 time: str = "time") -> pd.DataFrame:
    """The `n` fastest (or slowest) runs with their settings; by `time`, the response's column
    (the runs using the least energy, with their time and power beside it, for energy)."""
    extra = [] if time == "time" else [time, "avg_power_w"]
    columns = [c for c in (*RUN_COLUMNS, *extra) if c in data]
    ordered = data.sort_values([time, "run_id"] if "run_id" in data else [time],
                               ascending=fastest, kind="mergesort")
    return ordered[columns].head(n).reset_index(drop=True)
