"""Runs found in a folder matched to a sweep's runs, and replayed into the estimate."""

from __future__ import annotations

import pytest

from timing_trainer.sweep.agent.eta import Eta
from timing_trainer.sweep.agent.eta_match import (
    FoundRun,
    from_results,
    one_per_run,
    replay,
    same_value,
)

RUNS = [(0, {"task_name": "sts-b", "model_name_or_path": "org/model", "bf16": False}),
        (1, {"task_name": "sts-b", "model_name_or_path": "org/model", "bf16": True})]


def test_values_compare_as_a_run_records_them():
    assert same_value("task_name", "sts-b", "stsb")  # the canonical task name
    assert same_value("learning_rate", 2e-5, "2e-05") and same_value("bf16", False, "False")
    assert same_value("model_name_or_path", "org/model", "/home/u/hub/org/model")
    assert not same_value("model_name_or_path", "org/model", "/home/u/hub/other/model")
    assert not same_value("max_seq_length", 128, 256)
    assert not same_value("max_train_samples", 100, None)


def test_a_results_file_is_its_one_matching_run_or_says_why_not():
    results = {"status": "finished", "config": {"task_name": "stsb", "bf16": True,
                                                "model_name_or_path": "org/model"},
               "finetuning_time_list": [3.0], "setup_time_parts": {"startup": 1.0}}
    found = from_results(results, "r1", RUNS)
    assert (found.index, found.wall) == (1, 4.0) and found.wall_source.startswith("approximate")
    del results["config"]["bf16"]
    assert "matches 2 runs" in from_results(results, "r2", RUNS).why
    results["config"]["task_name"] = "rte"
    assert from_results(results, "r3", RUNS).why == "its config matches no run of this sweep"


def test_the_replay_keeps_each_start_before_its_own_end_in_whole_seconds():
    # both runs started and ended within the same second: run 1 is judged by run 0's time
    runs = [FoundRun("a", 0, "finished", wall=4.0, started=100.0, ended=100.0),
            FoundRun("b", 1, "finished", wall=6.0, started=100.0, ended=100.0)]
    eta = Eta(range(3), clock=lambda: 100.0)
    replay(eta, runs)
    assert runs[0].outcome.predicted is None and runs[1].outcome.predicted is None
    assert eta.remaining().runs_left == 1 and eta.remaining().seconds == pytest.approx(5.0)
    later = [FoundRun("a", 0, "finished", wall=4.0, started=100.0, ended=104.0),
             FoundRun("b", 1, "finished", wall=6.0, started=105.0, ended=111.0)]
    eta = Eta(range(3), clock=lambda: 111.0)
    replay(eta, later)
    assert later[1].outcome.predicted == 4.0 and later[1].outcome.error == pytest.approx(0.5)


def test_a_run_run_again_counts_once_its_finished_attempt_first():
    runs = [FoundRun("old", 0, "failed", ended=5.0), FoundRun("new", 0, "finished", wall=1.0,
                                                              ended=3.0),
            FoundRun("x", None, "finished", why="no match")]
    assert [r.name for r in one_per_run(runs)] == ["x", "new"]
