"""The estimate from a pilot's slices, on slices written by hand with known figures: each run's
work from the sweep's data, its clock from its shape's slice, its wall time part by part; totals
only where every run has a prediction."""

from __future__ import annotations

import json

import pytest

from timing_trainer.errors import PilotError
from timing_trainer.pilot import estimate_from_pilot, predict_run_walls

RUN = {"task_name": "rte", "model_name_or_path": "m", "max_seq_length": 64,
       "per_device_train_batch_size": 8, "data_dir": "data", "num_train_epochs": 2,
       "finetuning_iters": 2}


def _pilot(workdir, kit, **slice_figures):
    pilot = workdir / "pilot"
    kit.fake_slice(pilot, "000-a", {**RUN, "max_steps": 10}, workdir, **slice_figures)
    kit.fake_manifest(pilot, workdir)
    return pilot


def test_a_run_is_priced_from_its_slice_part_by_part(workdir, kit):
    """Slice: 2 iterations of 80 samples in 1.0 and 1.1 s, its evaluation 0.5 s over the 40
    dev rows, parts as given, 1.5 s of rest. Run: 200 rows x 2 epochs x 2 iterations."""
    pilot = _pilot(workdir, kit)
    sweep = kit.write_sweep(workdir / "s.yaml", **RUN)
    run = estimate_from_pilot(pilot, sweep).runs.iloc[0]
    assert (run["source"], run["n_train"], run["steps"]) == ("pilot slice", 200, 50)
    assert "rows of" in run["n_train_source"]
    assert run["finetuning_s"] == pytest.approx(800 * 1.05 / 80)  # the median rate
    assert (run["finetuning_low_s"], run["finetuning_high_s"]) == pytest.approx((10.0, 11.0))
    assert run["evaluation_s"] == pytest.approx(0.5)  # the whole dev set, as the slice ran it
    assert run["clock_s"] == pytest.approx(11.0)
    # start-up 3, load 0.2, tokenize 0.6, warm-up 0.4, train set-up 0.25, rest 1.5 (the slice's
    # 1.5 less its second iteration's start, 0.25, plus the run's second iteration's)
    assert run["wall_s"] == pytest.approx(11.0 + 3.0 + 0.2 + 0.6 + 0.4 + 0.25 + 1.5)
    assert run["clock_low_s"] <= run["clock_s"] <= run["clock_high_s"]
    assert run["wall_low_s"] <= run["wall_s"] <= run["wall_high_s"]


def test_the_estimate_scales_with_the_data_size(workdir, kit):
    """The same pilot, a sweep over twice the rows: twice the fine-tuning, and the tokenizing
    priced per example."""
    pilot = _pilot(workdir, kit)
    kit.rte_folder(workdir / "big", 400, 40)
    small = estimate_from_pilot(pilot, kit.write_sweep(workdir / "a.yaml", **RUN)).runs.iloc[0]
    big = estimate_from_pilot(pilot, kit.write_sweep(workdir / "b.yaml", **{
        **RUN, "data_dir": "big"})).runs.iloc[0]
    assert big["n_train"] == 2 * small["n_train"] == 400
    assert big["finetuning_s"] == pytest.approx(2 * small["finetuning_s"])
    assert big["tokenize_s"] == pytest.approx(small["tokenize_s"] * 440 / 240)
    capped = estimate_from_pilot(pilot, kit.write_sweep(workdir / "c.yaml", **{
        **RUN, "data_dir": "big", "max_train_samples": 100})).runs.iloc[0]
    assert capped["n_train"] == 100 and capped["n_train_source"] == "max_train_samples"
    assert capped["finetuning_s"] == pytest.approx(small["finetuning_s"] / 2)


def test_a_run_after_the_first_of_its_tokenization_reads_the_cache(workdir, kit):
    pilot = workdir / "pilot"
    kit.fake_slice(pilot, "000-a", {**RUN, "max_steps": 10}, workdir, cache="miss")
    kit.fake_slice(pilot, "001-b", {**RUN, "per_device_train_batch_size": 16, "max_steps": 10},
                   workdir, cache="hit", parts={"startup": 3.0, "model_load": 0.2,
                                                "tokenize": 0.1, "warmup": 0.4,
                                                "train_setup": 0.25})
    kit.fake_manifest(pilot, workdir)
    sweep = kit.write_sweep(workdir / "s.yaml", **{**RUN, "per_device_train_batch_size": [8, 16]})
    runs = estimate_from_pilot(pilot, sweep).runs
    assert list(runs["tokenize"]) == ["tokenize", "cache read"]
    assert list(runs["tokenize_s"]) == pytest.approx([0.6, 0.1])


def test_without_a_prediction_for_every_run_there_is_no_total(workdir, kit):
    """A shape the budget left out and a cost model with too few slices to fit: the run is
    not predicted, the total is null with the reason, the partial sum is labelled as such."""
    pilot = workdir / "pilot"
    kit.fake_slice(pilot, "000-a", {**RUN, "max_steps": 10}, workdir)
    kit.fake_manifest(pilot, workdir, left_out=[
        {"shape": "m L=64 b=16 eb=8 fp32", "runs": [1], "why": "budget: 1.0 min of 1.0 min spent"}])
    sweep = kit.write_sweep(workdir / "s.yaml", **{**RUN, "per_device_train_batch_size": [8, 16]})
    estimate = estimate_from_pilot(pilot, sweep)
    data = json.loads(json.dumps(estimate.to_dict()))
    assert data["total_s"] is None and data["wall_total_s"] is None
    assert data["total_note"].startswith("1 of 2 runs have no prediction (not predicted: ")
    assert data["partial_total_s"] == pytest.approx(11.0)
    assert data["runs"][1]["source"].startswith("not predicted: ")
    assert data["left_out"][0]["why"].startswith("budget:")
    assert data["energy_total_j"] is None and "no energy counter" in data["energy_note"]
    text = estimate.text()
    assert "total: none: 1 of 2 runs" in text
    assert "left out by the pilot: m L=64 b=16 eb=8 fp32 (runs 1): budget:" in text


def test_totals_and_the_walls_a_live_estimate_starts_from(workdir, kit):
    pilot = _pilot(workdir, kit)
    sweep = kit.write_sweep(workdir / "s.yaml", **{**RUN, "learning_rate": [1e-4, 5e-5]})
    data = estimate_from_pilot(pilot, sweep).to_dict()
    assert data["total_s"] == pytest.approx(22.0) and data["n_from_slices"] == 2
    assert data["total_low_s"] <= data["total_s"] <= data["total_high_s"]
    walls = predict_run_walls(pilot, sweep)
    assert walls == pytest.approx({0: data["wall_total_s"] / 2, 1: data["wall_total_s"] / 2})


def test_a_folder_that_is_not_a_pilot_is_one_line(workdir, kit):
    sweep = kit.write_sweep(workdir / "s.yaml", **RUN)
    with pytest.raises(PilotError, match="no readable pilot.json"):
        estimate_from_pilot(workdir, sweep)
