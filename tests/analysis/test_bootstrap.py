"""Uncertainty per configuration: bootstrap intervals checked against a known distribution,
the olympic mean, the repeats for 2 %, and the figures in summary.json, the CSV and the plot."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from timing_trainer.analysis.analyze import build_report
from timing_trainer.analysis.stats.bootstrap import (
    OLYMPIC_MIN,
    configuration_intervals,
    median_interval,
    repeats_for,
)
from timing_trainer.analysis.stats.frame import analysis_frame
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.testing.runs import demo_like_results, write_results


def test_interval_covers_the_true_median_about_95_percent_of_the_time():
    """Log-normal samples of 30 with a known median (exp(mu) = 2): the interval holds it in
    about 95 % of 300 samples, and is narrower for larger samples."""
    rng = np.random.default_rng(123)
    mu, sigma = np.log(2.0), 0.2
    hits, widths = 0, []
    for _ in range(300):
        figures = median_interval(rng.lognormal(mu, sigma, size=30))
        hits += figures["ci_low"] <= 2.0 <= figures["ci_high"]
        widths.append(figures["ci_high"] - figures["ci_low"])
    assert 0.88 <= hits / 300 <= 0.99, hits
    wide = median_interval(rng.lognormal(mu, sigma, size=30))
    narrow = median_interval(rng.lognormal(mu, sigma, size=480))
    assert narrow["ci_high"] - narrow["ci_low"] < (wide["ci_high"] - wide["ci_low"]) / 2


def test_fixed_seed_olympic_mean_and_too_few_repeats():
    values = [1.0, 1.1, 1.2, 1.3, 9.0]
    first, again = median_interval(values), median_interval(list(values))
    assert first == again and first["median"] == 1.2
    assert first["olympic_mean"] == pytest.approx((1.1 + 1.2 + 1.3) / 3)
    assert median_interval(values[:OLYMPIC_MIN - 1])["olympic_mean"] is None
    one = median_interval([3.0])
    assert one["ci_low"] is None and one["why_not"] == "one repeat: no interval"


def test_repeats_for_two_percent():
    assert repeats_for(4, 0.04) == 16  # half the width takes four times the repeats
    assert repeats_for(10, 0.01) == 10  # already narrower: no fewer than made
    assert repeats_for(1, 0.04) is None


def test_repeated_runs_of_a_configuration_are_pooled(tmp_path):
    root = write_results(tmp_path / "runs", demo_like_results(runs_per_configuration=3,
                                                              repeats=4))
    data = analysis_frame(load_runs([str(root)], cache_dir=False), "finetuning")
    intervals = configuration_intervals(data, "finetuning")
    assert len(intervals) == 16
    assert set(intervals["runs"]) == {3} and set(intervals["repeats"]) == {12}
    assert intervals["olympic_mean"].notna().all()
    assert (intervals["ci_low"] <= intervals["median"]).all()
    assert (intervals["median"] <= intervals["ci_high"]).all()


def test_intervals_in_summary_csv_report_and_plot(tmp_path):
    root = write_results(tmp_path / "runs", demo_like_results(repeats=6))
    out = tmp_path / "report"
    build_report([str(root)], out, cache_dir=False, forest_settings={"n_estimators": 10},
                 forest_k=0, n_jobs=1)
    summary = json.loads((out / "summary.json").read_text())
    rows = summary["configuration_intervals"]
    assert len(rows) == 16 and all(r["ci_low"] < r["median"] < r["ci_high"] for r in rows)
    needed = summary["measurement_noise"]["repeats_needed"]
    assert needed["target_pct"] == 2 and needed["median_repeats_for_target"] >= 6
    csv = pd.read_csv(out / "configuration_intervals.csv")
    assert {"median", "ci_low", "ci_high", "olympic_mean", "repeats_for_2pct"} <= set(csv)
    report = (out / "report.md").read_text()
    assert "### Uncertainty per configuration" in report
    assert f"±2 % would take about {needed['median_repeats_for_target']} repeats" in report
    assert "![medians with their intervals](time_intervals.png)" in report
    assert (out / "time_intervals.png").stat().st_size > 1000
