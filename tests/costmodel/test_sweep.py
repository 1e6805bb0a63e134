"""A sweep's cost before it runs; the `predict` command; the report section."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from helpers.costmodel_runs import SMALL_SWEEP, write_run_folders, write_sweep

from timing_trainer.commands.main import main
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.report_section import FIGURE, report_section
from timing_trainer.costmodel.sweep_estimate import estimate_sweep
from timing_trainer.errors import CostModelError
from timing_trainer.sweep.config.select import parse_only
from timing_trainer.testing.costs import synthetic_runs, true_time

SWEEP = SMALL_SWEEP.replace("  num_train_epochs:", "  bf16:\n    values: [false, true]\n  num_train_epochs:")


RUNS = {"noise": 0.02, "seed": 4}


@pytest.fixture(scope="module")
def model(runs):
    return fit_cost_model(runs, "finetuning")


@pytest.fixture
def sweep_file(tmp_path):
    return write_sweep(tmp_path, SWEEP)


def test_sweep_estimate_predicts_every_run_times_its_repeats(model, runs, sweep_file):
    est = estimate_sweep(model, sweep_file, fitted=runs, only=parse_only(["bf16=false"]))
    assert len(est.runs) == 4
    assert (est.runs["repeats"] == 3).all()
    np.testing.assert_allclose(est.runs["run_time"], 3 * est.runs["predicted"])
    total, low, high = est.total
    assert low < total < high
    assert total == pytest.approx(est.runs["run_time"].sum())
    truth = est.runs.assign(model_name_or_path=est.runs["model"], n_train=3668, n_eval=408,
                            num_train_epochs=1.0, device="cpu", world_size=1)
    expected = 3 * true_time(truth, "finetuning").sum()
    assert total == pytest.approx(expected, rel=0.05)


def test_sweep_outside_the_fitted_precision_is_refused(model, runs, sweep_file):
    with pytest.raises(CostModelError, match="bf16.*outside the fit"):
        estimate_sweep(model, sweep_file, fitted=runs)


def test_sweep_on_another_device_is_refused(model, runs, sweep_file):
    with pytest.raises(CostModelError, match="no fitted runs on device"):
        estimate_sweep(model, sweep_file, fitted=runs, only={"bf16": ["false"]},
                       device="NVIDIA H100 80GB HBM3")


def test_sweep_with_an_unknown_model_is_refused(model, runs, tmp_path):
    path = tmp_path / "odd.yaml"
    path.write_text(SWEEP.replace("distilbert/distilbert-base-uncased", "org/mystery-model"))
    with pytest.raises(CostModelError, match="no size information.*mystery"):
        estimate_sweep(model, path, fitted=runs, only={"bf16": ["false"]})


def test_only_rejects_a_malformed_filter_in_one_line(tmp_path, runs, sweep_file, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(30))
    for only in ("max_seq_length", "typo=1"):
        assert main(["predict", "--runs", str(root), "--sweep", str(sweep_file),
                     "--only", only]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--only" in err[0], err


def test_cli_cv_json(tmp_path, runs, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(60))
    assert main(["predict", "--runs", str(root), "--cv", "leave-one-task-out", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cv"] == "leave-one-task-out" and out["n"] == 60
    assert 0 <= out["median_ape"] <= out["p90_ape"]
    assert {"mean_ape"} <= set(out)


def test_cli_sweep_prints_runs_and_total(tmp_path, runs, sweep_file, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(90))
    code = main(["predict", "--runs", str(root), "--sweep", str(sweep_file),
                 "--only", "bf16=false", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_runs"] == 4 and out["total_low_s"] < out["total_s"] < out["total_high_s"]
    assert main(["predict", "--runs", str(root), "--sweep", str(sweep_file),
                 "--only", "bf16=false"]) == 0
    assert "total:" in capsys.readouterr().out


def test_cli_refuses_an_unparseable_sweep(tmp_path, runs, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(30))
    bad = tmp_path / "bad.yaml"
    bad.write_text("method: grid\nparameters: [unclosed\n")
    assert main(["predict", "--runs", str(root), "--sweep", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.yaml" in err[0]


def test_cli_refuses_runs_without_a_finished_one(tmp_path, runs, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(5).assign(state="failed"))
    assert main(["predict", "--runs", str(root), "--cv", "kfold"]) == 2
    assert "no finished runs" in capsys.readouterr().err


def test_cli_refuses_bf16_sweep_in_one_line(tmp_path, runs, sweep_file, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(45))
    assert main(["predict", "--runs", str(root), "--sweep", str(sweep_file)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--only bf16=false" in err[0]


def test_report_section_writes_the_plot(tmp_path, runs):
    text = report_section(runs, tmp_path, "finetuning")
    assert "leave-one-task-out" in text and "leave-one-model-out" in text
    assert (tmp_path / FIGURE).stat().st_size > 1000
    assert FIGURE in text


def test_plot_ticks_are_plain_numbers(runs):
    import matplotlib.pyplot as plt

    from timing_trainer.analysis.report.axes import labelled_ticks
    from timing_trainer.costmodel.cross_validation import cross_validate
    from timing_trainer.costmodel.report_section import plot_predicted_vs_measured

    ax = plot_predicted_vs_measured(cross_validate(runs, "finetuning", "kfold", k=5))
    for axis in (ax.xaxis, ax.yaxis):
        labels = labelled_ticks(axis)
        assert labels and all(re.fullmatch(r"[0-9]+(\.[0-9]+)?", t) for t in labels), labels
    plt.close(ax.figure)


def test_report_section_with_too_few_runs_says_so(tmp_path, runs):
    text = report_section(runs.head(3), tmp_path, "finetuning")
    assert "at least 10" in text


INFERENCE_SWEEP = """\
name: small_inference
method: grid
command: [python, -m, timing_trainer.glue, --do_eval, "${args}"]
parameters:
  task_name:
    value: mrpc
  model_name_or_path:
    value: google-bert/bert-base-uncased
  max_seq_length:
    values: [128, 256]
  per_device_eval_batch_size:
    values: [8, 32]
"""


def test_inference_sweep_costs_latency_times_batches(tmp_path):
    path = write_sweep(tmp_path, INFERENCE_SWEEP, "inference.yaml")
    table = synthetic_runs(kind="inference", noise=0.02, seed=5)
    model = fit_cost_model(table, "inference")
    est = estimate_sweep(model, path, fitted=table)
    assert len(est.runs) == 4
    expected = np.ceil(408 / est.runs["eval_batch_size"])  # MRPC's dev set in batches
    np.testing.assert_allclose(est.runs["repeats"], expected)
    np.testing.assert_allclose(est.runs["run_time"], expected * est.runs["predicted"])


def test_fine_tuning_estimate_of_a_sweep_that_does_not_train_is_refused(model, runs, tmp_path):
    path = write_sweep(tmp_path, INFERENCE_SWEEP, "inference.yaml")
    with pytest.raises(CostModelError, match="no --do_train.*--kind inference"):
        estimate_sweep(model, path, fitted=runs)
