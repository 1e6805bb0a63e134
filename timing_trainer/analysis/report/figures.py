"""The PNG plots beside `report.md`, one file per plot; a plot without data is not written
(the report then shows no image for it, and the section says why). Files of the analysed
response are named after it (`time_box.png`, or `energy_box.png` with `--metric energy`); the
energy-against-time plot (`energy_vs_time.png`) is written when any analysed run has both,
whichever response was analysed."""

from __future__ import annotations

from pathlib import Path

from timing_trainer.analysis.report import energy_plots, interval_plots, plots
from timing_trainer.analysis.stats.bootstrap import configuration_keys
from timing_trainer.analysis.stats.pooled import ACCURACY, metric_values
from timing_trainer.analysis.stats.power import energy_time_pairs
from timing_trainer.analysis.stats.result import Analysis
from timing_trainer.analysis.table.columns import FACTORS

EXTRA_BOXES = ("tokens_per_batch", "learning_rate")


def _boxes(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind, made = analysis.data, analysis.kind, {}
    for factor in (*FACTORS, *EXTRA_BOXES):
        if factor in data and data[factor].nunique() > 1:  # one level: nothing to compare
            made[f"box_{factor}"] = plots.save(
                plots.box_by_factor(data, factor, kind=kind, response=analysis.response),
                out_dir / f"box_{factor}.png")
    return made


def _models(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    made, response = {}, analysis.response
    if analysis.loglinear and len(analysis.loglinear.residuals) > 2:
        made["qq"] = plots.save(plots.residual_qq(analysis.loglinear.residuals,
                                                  unit=f"residual of log({response.name})"),
                                out_dir / "residual_qq.png")
    if analysis.factor_residuals:
        made["qq_factors"] = plots.save(
            plots.residual_qq_by_factor(analysis.factor_residuals, unit=response.unit),
            out_dir / "residual_qq_anova.png")
    if analysis.forest:
        made["importances"] = plots.save(plots.importances_bar(analysis.forest.importances),
                                         out_dir / "rf_importances.png")
    return made


def _quality(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind, made, response = analysis.data, analysis.kind, {}, analysis.response
    if data["metric"].notna().any():
        by_mode = analysis.accuracy_by_mode  # markers by the first mode the runs vary
        style = by_mode["mode"].iloc[0] if len(by_mode) else None
        made["accuracy"] = plots.save(
            plots.time_vs_metric(data, analysis.pareto, kind=kind, response=response,
                                 style=style),
            out_dir / f"{response.name}_vs_metric.png")
    accuracy = metric_values(data, ACCURACY)
    if accuracy.notna().any():
        made["pooled"] = plots.save(
            plots.pooled_scatter(data, accuracy, ACCURACY, kind=kind, response=response),
            out_dir / f"{response.name}_vs_accuracy_pooled.png")
    return made


def _energy(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    pairs = energy_time_pairs(analysis.data, analysis.kind)
    if pairs.empty:
        return {}
    return {"energy_time": plots.save(energy_plots.energy_vs_time(pairs, analysis.kind),
                                      out_dir / "energy_vs_time.png")}


def write_plots(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind, response = analysis.data, analysis.kind, analysis.response
    if not len(data):
        return {}
    name = response.name
    made = {
        "box_all": plots.save(plots.time_box(data, kind=kind, response=response),
                              out_dir / f"{name}_box.png"),
        "histogram": plots.save(plots.time_histogram(data, kind=kind, response=response),
                                out_dir / f"{name}_histogram.png"),
        "density": plots.save(plots.time_density(data, kind=kind, response=response),
                              out_dir / f"{name}_density.png"),
    }
    made.update(_boxes(analysis, out_dir))
    intervals = analysis.intervals
    if len(intervals) and intervals["median"].notna().any():
        made["intervals"] = plots.save(
            interval_plots.intervals_plot(intervals, configuration_keys(intervals), kind=kind,
                                          response=response),
            out_dir / f"{name}_intervals.png")
    if analysis.correlations.shape[0] > 1:
        made["correlations"] = plots.save(plots.correlation_heatmap(analysis.correlations),
                                          out_dir / "correlation_heatmap.png")
    made.update(_models(analysis, out_dir))
    made.update(_quality(analysis, out_dir))
    made.update(_energy(analysis, out_dir))
    return made
