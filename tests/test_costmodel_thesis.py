"""The issue's target on the thesis's real runs: leave-one-task-out median error <= 5%."""

from __future__ import annotations

import warnings

import pytest

from timing_trainer.analysis.load import load_runs
from timing_trainer.analysis.thesis import thesis_files
from timing_trainer.costmodel.validation import cross_validate


@pytest.fixture
def finetuning_runs(thesis_runs_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_runs(thesis_files(thesis_runs_dir, "finetuning"), kind="finetuning")


def test_leave_one_task_out_meets_the_target(finetuning_runs):
    summary = cross_validate(finetuning_runs, "finetuning", "leave-one-task-out").summary()
    assert summary["n"] == 291 and summary["n_unscored"] == 0
    assert summary["median_ape"] <= 5.0, summary
    # the thesis's own log-linear model: about 15% under 10-fold CV
    assert summary["p90_ape"] < 20.0, summary
