"""The pilot's budget: a given number of minutes, or a share of the predicted sweep with a floor
of one slice per model; the first slice always runs."""

from __future__ import annotations

from timing_trainer.pilot.budget import Budget


def test_the_first_slice_always_runs():
    assert Budget(limit_s=1.0).verdict(spent_s=0.0, next_s=None, sweep_wall_s=None,
                                       first_of_model=True) == ""


def test_a_given_budget_admits_a_slice_only_while_it_fits():
    budget = Budget(limit_s=60.0)
    assert budget.verdict(spent_s=40.0, next_s=15.0, sweep_wall_s=None, first_of_model=False) == ""
    why = budget.verdict(spent_s=50.0, next_s=15.0, sweep_wall_s=None, first_of_model=True)
    assert why.startswith("budget: 50s of 1m00s spent")


def test_the_default_is_a_share_of_the_predicted_sweep_with_a_floor_per_model():
    budget = Budget()
    assert budget.share == 0.05
    # 5 % of 1000 s = 50 s: 30 + 15 fits, 40 + 15 does not; a model's first slice always does
    assert budget.verdict(spent_s=30.0, next_s=15.0, sweep_wall_s=1000.0,
                          first_of_model=False) == ""
    assert budget.verdict(spent_s=40.0, next_s=15.0, sweep_wall_s=1000.0,
                          first_of_model=False) != ""
    assert budget.verdict(spent_s=400.0, next_s=15.0, sweep_wall_s=1000.0,
                          first_of_model=True) == ""
    assert "5%" in budget.rule() and "every model" in budget.rule()
