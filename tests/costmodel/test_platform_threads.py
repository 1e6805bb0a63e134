"""A CPU run's thread count is part of its platform (one thread or all cores is a several-fold
difference); runs that did not record it (older files, the thesis's exports) keep their key."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from helpers.costmodel_runs import feature_row, write_run_folders, write_sweep

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.costmodel.features import (
    THREADS_COLUMN,
    fitted_cpu_threads,
    platform_key,
    run_features,
)
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.sweep_estimate import estimate_sweep

RUNS = {"noise": 0.02, "seed": 3}


_row = feature_row


def test_cpu_runs_with_one_and_two_threads_are_two_platforms():
    table = pd.DataFrame([_row(run_id="a", **{THREADS_COLUMN: 1}),
                          _row(run_id="b", **{THREADS_COLUMN: 2})])
    platforms = list(run_features(table, "finetuning")["platform"])
    assert platforms == ["cpu / fp32 / x1 / 1 thread", "cpu / fp32 / x1 / 2 threads"]


@pytest.mark.parametrize("threads", ["absent", None, math.nan, pd.NA, "not a count", 0])
def test_rows_without_a_thread_count_keep_todays_key(threads):
    row = _row() if isinstance(threads, str) and threads == "absent" \
        else _row(**{THREADS_COLUMN: threads})
    table = pd.DataFrame([row])
    assert run_features(table, "finetuning").loc[0, "platform"] == "cpu / fp32 / x1"
    assert platform_key("cpu", "fp32", None) == "cpu / fp32 / x1"


def test_a_gpu_run_never_carries_the_thread_count():
    table = pd.DataFrame([_row(device="cuda", gpu_name="NVIDIA H100 80GB HBM3", precision="bf16",
                               **{THREADS_COLUMN: 8})])
    assert run_features(table, "finetuning").loc[0, "platform"] == "NVIDIA H100 80GB HBM3 / bf16 / x1"


def test_run_folders_environment_reaches_the_platform(tmp_path, runs):
    """The results' `environment.torch_num_threads` -> the table's column -> two platforms;
    a folder without it (an older file) keeps the three-part key."""
    head = runs.head(3).copy()
    threads = {row: n for row, n in zip(head["run_id"], (1, 2, None))}

    def environment(row):
        env = {"device": "cpu"}
        if threads[row["run_id"]] is not None:
            env[THREADS_COLUMN] = threads[row["run_id"]]
        return {"environment": env}

    table = load_runs(write_run_folders(tmp_path / "runs", head, extra=environment))
    feats = run_features(table, "finetuning")
    got = {Path(run).name: platform for run, platform in zip(table["run_id"], feats["platform"])}
    assert got == {head["run_id"].iloc[0]: "cpu / fp32 / x1 / 1 thread",
                   head["run_id"].iloc[1]: "cpu / fp32 / x1 / 2 threads",
                   head["run_id"].iloc[2]: "cpu / fp32 / x1"}


def test_a_sweep_is_priced_at_the_fits_one_thread_count(runs, tmp_path):
    four = runs.assign(**{THREADS_COLUMN: 4})
    model = fit_cost_model(four, "finetuning")
    assert model.platforms == ["cpu / fp32 / x1 / 4 threads"]
    assert fitted_cpu_threads(model.platforms, "cpu") == 4
    estimate = estimate_sweep(model, write_sweep(tmp_path), fitted=four)
    assert estimate.platform == "cpu / fp32 / x1 / 4 threads" and len(estimate.runs) == 4


def test_fitted_thread_count_is_none_where_there_is_no_single_one():
    assert fitted_cpu_threads(["cpu / fp32 / x1"], "cpu") is None
    assert fitted_cpu_threads(["cpu / fp32 / x1 / 1 thread", "cpu / fp32 / x1 / 2 threads"],
                              "cpu") is None
    assert fitted_cpu_threads(["NVIDIA H100 80GB HBM3 / bf16 / x1"],
                              "NVIDIA H100 80GB HBM3") is None
