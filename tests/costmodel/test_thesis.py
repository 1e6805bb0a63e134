"""The issue's target on the thesis's real runs: leave-one-task-out median error <= 5%."""

from __future__ import annotations

import warnings

import pytest

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.thesis import thesis_files
from timing_trainer.costmodel.cross_validation import cross_validate
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.selection import usable_runs


@pytest.fixture
def finetuning_runs(thesis_runs_dir):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_runs(thesis_files(thesis_runs_dir, "finetuning"), kind="finetuning")


def test_leave_one_task_out_meets_the_target(finetuning_runs):
    summary = cross_validate(finetuning_runs, "finetuning", "leave-one-task-out").summary()
    assert summary["n"] == 291 and summary["n_unscored"] == 0
    assert summary["median_ape"] <= 5.0, summary
    assert summary["median_ape"] <= 3.6, summary  # the documented leave-one-task-out error (docs/cost-model.md)
    # the thesis's own log-linear model: about 15% under 10-fold CV
    assert summary["p90_ape"] < 20.0, summary


def test_an_unseen_model_stays_where_it_was_before_scipys_solver(finetuning_runs):
    """Issue 12 replaced the hand-written solver by `scipy.optimize.least_squares`: the
    leave-one-model-out median error was 5.39% before it, 5.41% after (the robust loss on the
    runs' rows only; `solver._partly_robust`)."""
    summary = cross_validate(finetuning_runs, "finetuning", "leave-one-model-out").summary()
    assert summary["n"] == 291 and summary["n_unscored"] == 0
    assert summary["median_ape"] <= 5.45, summary


@pytest.mark.slow
def test_held_out_tasks_fall_inside_their_90_percent_intervals(finetuning_runs):
    """The honest-interval claim on real runs: each task held out, its runs' 90% intervals from a
    fit (and calibration) without it cover at least 90% of them (91.1% before scipy's solver,
    90.7% after; 87.3% with scipy's loss on the prior's rows too, hence `_partly_robust`)."""
    runs = usable_runs(finetuning_runs)[0]
    inside = total = 0
    for task in runs["task"].unique():
        held_out = runs["task"] == task
        predicted = fit_cost_model(runs[~held_out], "finetuning").predict(runs[held_out])
        known = predicted["lower"].notna().to_numpy()
        time = runs.loc[held_out, "time"].to_numpy(float)[known]
        lower, upper = predicted["lower"].to_numpy()[known], predicted["upper"].to_numpy()[known]
        inside += int(((lower <= time) & (time <= upper)).sum())
        total += int(known.sum())
    assert total >= 280
    assert inside / total >= 0.90, (inside, total)
