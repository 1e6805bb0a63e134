"""The on-clock share of a run's wall time, from its results file."""

from __future__ import annotations

import pytest

from timing_trainer.sweep.agent.walltime import (
    describe_split,
    on_clock_seconds,
    total_split,
    wall_split,
)

RESULTS = {
    "finetuning_time_list": [2.0, 1.5],
    "evaluations": [{"inference_total_time": 0.5}, {"inference_total_time": None}],
    "setup_time_parts": {"startup": 3.0, "model_load": 1.0, "tokenize": 0.5},
}


def test_on_clock_is_every_timed_finetuning_and_evaluation():
    assert on_clock_seconds(RESULTS) == pytest.approx(4.0)
    assert on_clock_seconds({"evaluations": [{"inference_total_time": 0.25}]}) == 0.25
    assert on_clock_seconds({"finetuning_time_list": [float("nan"), 1.0]}) == 1.0
    assert on_clock_seconds({"finetuning_time_list": None, "evaluations": []}) is None
    assert on_clock_seconds(None) is None


def test_split_and_its_lines():
    split = wall_split(RESULTS, 16.0)
    assert split == {"on_clock_time": 4.0, "on_clock_share": 0.25, "startup_time": 3.0,
                     "setup_time": 1.5}
    assert describe_split(split) == "on clock 4.0 s (25%), startup 3.0 s, setup 1.5 s"
    assert wall_split(None, 10.0)["on_clock_share"] is None and describe_split({}) == ""
    records = [{**split, "wall_time": 16.0}, {"wall_time": 5.0, "on_clock_time": None},
               {**wall_split({"finetuning_time_list": [4.0]}, 4.0), "wall_time": 4.0}]
    assert total_split(records) == "on the clock 8.0 s of 20.0 s wall time (40%)"
