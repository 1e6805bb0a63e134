"""Plots: readable log axes on any range, whole-number counts, one notation, natural level order,
human labels, and the `ax=None` -> axes convention."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from timing_trainer.analysis.report import plots
from timing_trainer.analysis.report.axes import labelled_ticks  # noqa: E402
from timing_trainer.analysis.stats.descriptive import correlations  # noqa: E402


@pytest.fixture
def short_runs():
    """Demo-like runs: every time inside one decade (0.5 to 1.7 s), batch sizes 8/16/32."""
    rng = np.random.default_rng(0)
    n = 48
    return pd.DataFrame({
        "time": np.linspace(0.5, 1.7, n), "log_time": np.log(np.linspace(0.5, 1.7, n)),
        "batch_size": rng.choice([8.0, 16.0, 32.0], n), "max_seq_length": 128.0,
        "task": rng.choice(["rte", "mrpc"], n), "model": "tiny-bert",
        "task_size": rng.choice([2490.0, 3668.0], n), "metric": rng.uniform(0.5, 0.8, n),
        "metric_name": "eval_accuracy", "run_id": [f"r{i}" for i in range(n)],
    })


def _numbers(labels):
    return [float(t.replace("\u2212", "-")) for t in labels]


def test_log_axis_within_one_decade_has_several_labels_above_one(short_runs):
    for ax, axis in ((plots.box_by_factor(short_runs, "batch_size"), "y"),
                     (plots.time_histogram(short_runs), "x"),
                     (plots.time_box(short_runs), "y"),
                     (plots.time_density(short_runs), "x")):
        labels = labelled_ticks(getattr(ax, f"{axis}axis"))
        values = _numbers(labels)
        assert sum(v > 1 for v in values) >= 2, labels
        assert all("10^" not in t and "$" not in t and "e" not in t for t in labels), labels
        plt.close(ax.figure)


def test_log_axis_over_decades_uses_plain_numbers():
    runs = pd.DataFrame({"time": np.geomspace(40, 59000, 30), "batch_size": 8.0})
    ax = plots.box_by_factor(runs, "batch_size")
    labels = labelled_ticks(ax.yaxis)
    assert "1000" in labels and "10000" in labels and len(labels) >= 3
    plt.close(ax.figure)


def test_histogram_counts_are_whole_numbers(short_runs):
    ax = plots.time_histogram(short_runs)
    counts = _numbers(labelled_ticks(ax.yaxis))
    assert counts and all(float(c).is_integer() for c in counts)
    plt.close(ax.figure)


def test_levels_in_numeric_order_and_without_decimal_point(short_runs):
    ax = plots.box_by_factor(short_runs, "batch_size")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["8", "16", "32"]
    plt.close(ax.figure)


def test_heat_map_uses_human_labels(short_runs):
    frame = short_runs.assign(batch_size=short_runs["batch_size"] + np.arange(len(short_runs)))
    ax = plots.correlation_heatmap(correlations(frame))
    names = [t.get_text() for t in ax.get_xticklabels()]
    assert "log(time)" in names and "task size" in names and "batch size" in names
    assert not any("_" in n for n in names)
    plt.close(ax.figure)


@pytest.mark.parametrize("draw", [
    lambda d, ax: plots.box_by_factor(d, "task", ax=ax),
    lambda d, ax: plots.time_box(d, ax=ax),
    lambda d, ax: plots.time_histogram(d, ax=ax),
    lambda d, ax: plots.time_density(d, ax=ax),
    lambda d, ax: plots.residual_qq(np.random.default_rng(1).normal(size=50), ax=ax),
    lambda d, ax: plots.pooled_scatter(d, d["metric"], "eval_accuracy", ax=ax),
    lambda d, ax: plots.time_vs_metric(d, ax=ax),
])
def test_plots_draw_on_the_axes_given_and_return_them(short_runs, draw):
    _fig, ax = plt.subplots()
    assert draw(short_runs, ax) is ax and ax.has_data()
    plt.close(ax.figure)


def test_qq_per_factor_and_save(short_runs, tmp_path):
    residuals = {"task": np.random.default_rng(2).normal(size=40),
                 "batch_size": np.random.default_rng(3).normal(size=40)}
    axes = plots.residual_qq_by_factor(residuals)
    titles = [ax.get_title() for ax in np.ravel(axes) if ax.get_visible()]
    assert titles == ["one-way ANOVA on GLUE task", "one-way ANOVA on batch size"]
    path = plots.save(axes, tmp_path / "qq.png")
    assert path.read_bytes()[:4] == b"\x89PNG"
