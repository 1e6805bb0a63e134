"""The PNG plots beside `report.md`, one file per plot; a plot without data is not written
(the report then shows no image for it, and the section says why)."""

from __future__ import annotations

from pathlib import Path

from timing_trainer.analysis import plots
from timing_trainer.analysis.columns import FACTORS
from timing_trainer.analysis.pooled import ACCURACY, metric_values
from timing_trainer.analysis.result import Analysis

EXTRA_BOXES = ("tokens_per_batch", "learning_rate")


def _boxes(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind, made = analysis.data, analysis.kind, {}
    for factor in (*FACTORS, *EXTRA_BOXES):
        if factor in data and data[factor].notna().any():
            made[f"box_{factor}"] = plots.save(
                plots.box_by_factor(data, factor, kind=kind), out_dir / f"box_{factor}.png")
    return made


def _models(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    made = {}
    if analysis.loglinear and len(analysis.loglinear.residuals) > 2:
        made["qq"] = plots.save(plots.residual_qq(analysis.loglinear.residuals),
                                out_dir / "residual_qq.png")
    if analysis.factor_residuals:
        made["qq_factors"] = plots.save(plots.residual_qq_by_factor(analysis.factor_residuals),
                                        out_dir / "residual_qq_anova.png")
    if analysis.forest:
        made["importances"] = plots.save(plots.importances_bar(analysis.forest.importances),
                                         out_dir / "rf_importances.png")
    return made


def _quality(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind, made = analysis.data, analysis.kind, {}
    if data["metric"].notna().any():
        made["accuracy"] = plots.save(plots.time_vs_metric(data, analysis.pareto, kind=kind),
                                      out_dir / "time_vs_metric.png")
    accuracy, _note = metric_values(data, ACCURACY)
    if accuracy.notna().any():
        made["pooled"] = plots.save(plots.pooled_scatter(data, accuracy, ACCURACY, kind=kind),
                                    out_dir / "time_vs_accuracy_pooled.png")
    return made


def write_plots(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind = analysis.data, analysis.kind
    if not len(data):
        return {}
    made = {
        "box_all": plots.save(plots.time_box(data, kind=kind), out_dir / "time_box.png"),
        "histogram": plots.save(plots.time_histogram(data, kind=kind),
                                out_dir / "time_histogram.png"),
        "density": plots.save(plots.time_density(data, kind=kind), out_dir / "time_density.png"),
    }
    made.update(_boxes(analysis, out_dir))
    if analysis.correlations.shape[0] > 1:
        made["correlations"] = plots.save(plots.correlation_heatmap(analysis.correlations),
                                          out_dir / "correlation_heatmap.png")
    made.update(_models(analysis, out_dir))
    made.update(_quality(analysis, out_dir))
    return made
