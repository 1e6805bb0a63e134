"""`timing-trainer predict --sweep` where every run lies far outside the fitted runs: no total
without --force, and the pilot command to run instead (real processes, their exit status)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from helpers.costmodel_runs import predict, write_run_folders

from timing_trainer.testing.costs import synthetic_runs, true_time

RTE_SWEEP = Path(__file__).resolve().parents[2] / "sweeps" / "sweep_rte_cased.yaml"
PILOT = (f"timing-trainer pilot {RTE_SWEEP} --out pilot/sweep_rte_cased --only bf16=false "
         "--only max_seq_length=128,256")


@pytest.fixture
def tiny_runs(tmp_path):
    """16 finished runs of two tiny local models (40 thousand parameters), as after the demo."""
    models = []
    for name in ("tiny-a", "tiny-b"):
        folder = tmp_path / "models" / name
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({
            "model_type": "bert", "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2,
            "intermediate_size": 64, "max_position_embeddings": 512}))
        models.append(str(folder))
    table = synthetic_runs(models=tuple(models), tasks=("rte", "sst2"), lengths=(64, 128),
                           batches=(8, 16), seed=3).assign(n_train=256, n_eval=64)
    table["time"] = true_time(table, "finetuning") * np.exp(
        np.random.default_rng(0).normal(0, 0.05, len(table)))
    return str(write_run_folders(tmp_path / "runs", table))


def _predict(runs: str, *extra: str):
    return predict("--runs", runs, "--sweep", str(RTE_SWEEP), "--only", "bf16=false",
                   "--only", "max_seq_length=128,256", *extra)


def test_no_total_far_outside_the_fit_and_the_pilot_recommended(tiny_runs):
    text = _predict(tiny_runs)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    headline = next(line for line in lines if line.startswith("every run of this sweep"))
    assert "no total is given (--force prints it)" in headline
    assert headline.endswith(f"Measure this machine with a short pilot instead: {PILOT}")
    assert lines[-1].startswith("total: not given: all 24 runs lie far outside the fitted runs")
    assert not any(line.startswith(("energy:", "money:")) for line in lines)
    data = json.loads(_predict(tiny_runs, "--json").stdout)
    assert data["total_s"] is None and data["total_low_s"] is None
    assert data["total_note"].startswith("not given: all 24 runs lie far outside")
    assert data["pilot_command"] == PILOT
    assert data["costs"]["hours"]["total"] is None
    assert all(run["run_time"] > 0 for run in data["runs"])  # each run is still predicted


def test_force_prints_the_total_labelled(tiny_runs):
    data = json.loads(_predict(tiny_runs, "--json", "--force").stdout)
    assert data["total_s"] == pytest.approx(sum(run["run_time"] for run in data["runs"]))
    assert data["total_note"].startswith("given because of --force")
    text = _predict(tiny_runs, "--force")
    assert text.returncode == 0, text.stderr
    total = next(line for line in text.stdout.splitlines() if line.startswith("total:"))
    assert "no 90% interval: 24 of 24 runs have none" in total
    assert total.endswith("(given because of --force: all 24 runs lie far outside the fitted "
                          "runs (more than 2x beyond their model sizes, lengths or batch sizes), "
                          "so no interval covers the total)")


def test_force_without_a_sweep_is_one_line_and_exit_2(tiny_runs):
    proc = predict("--runs", tiny_runs, "--cv", "kfold", "--force")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "timing-trainer predict: error: --force gives a sweep's total; use it with --sweep, "
        "not --cv"]
