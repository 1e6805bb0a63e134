"""The whole analysis in one call: statistics, CSV tables, PNG plots, `summary.json`, `report.md`.

`analyze(table)` computes (pure, no files); `write_outputs` writes; `build_report(sources, out)`
loads and does both. The report follows the thesis's order: data (and how noisy it was),
descriptive statistics, ANOVA, log-linear regression and its alternatives, random forest, time
against accuracy; then the cost model's section when `timing_trainer.costmodel` is installed.
The pieces live in `summary` (summary.json), `tables` (CSVs), `figures` (PNGs) and
`report_sections` (markdown); a statistic that cannot be computed carries its reason in `notes`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis import (
    accuracy,
    alternatives,
    anova,
    descriptive,
    distribution,
    forest,
    groups,
    noise,
    pooled,
    regression,
)
from timing_trainer.analysis.columns import FACTORS
from timing_trainer.analysis.export_extras import with_export_extras
from timing_trainer.analysis.figures import write_plots
from timing_trainer.analysis.frame import analysis_frame
from timing_trainer.analysis.load import load_runs
from timing_trainer.analysis.markdown import md_table
from timing_trainer.analysis.order import canonical_order
from timing_trainer.analysis.report_sections import render_report
from timing_trainer.analysis.result import TIME_DEFINITIONS, Analysis
from timing_trainer.analysis.settings import forest_settings as kind_forest_settings
from timing_trainer.analysis.summary import summary
from timing_trainer.analysis.tables import write_tables
from timing_trainer.atomic import atomic_write_json, atomic_write_text

GROUPED_BY = (*FACTORS, "tokens_per_batch", "learning_rate")  # the thesis's group tables

__all__ = ["Analysis", "TIME_DEFINITIONS", "analyze", "build_report", "cost_model_section",
           "md_table", "summary", "write_outputs"]


def _factor_notes(data: pd.DataFrame) -> list[str]:
    notes = []
    for factor in FACTORS:
        levels = data[factor].nunique() if factor in data else 0
        if levels < 2:
            have = "no run has it" if levels == 0 else "all runs share one level"
            notes.append(f"factor {factor} skipped ({have}): not tested, not in the models")
    return notes


def _models(data: pd.DataFrame, kind: str, *, k: int, forest_k: int | None,
            settings: dict[str, Any], n_jobs: int | None, notes: list[str]) -> dict[str, Any]:
    """The log-linear fit, its alternatives and the forest; what fails becomes a note."""
    out: dict[str, Any] = {"loglinear": None, "forest": None, "alternatives": {}}
    if len(data) < 3:
        notes.append(f"only {len(data)} finished run(s) with a time: no models fitted")
        return out
    try:
        out["loglinear"] = regression.fit_loglinear(data, k=k)
    except (ValueError, np.linalg.LinAlgError) as exc:
        notes.append(f"log-linear regression not fitted: {exc}")
    out["alternatives"] = alternatives.fit_alternatives(data)
    try:
        out["forest"] = forest.random_forest(data, kind=kind, k=k if forest_k is None else forest_k,
                                             n_jobs=n_jobs, **settings)
    except ValueError as exc:
        notes.append(f"random forest not fitted: {exc}")
    return out


def analyze(table: pd.DataFrame, kind: str | None = None, *, k: int = 5,
            forest_k: int | None = None, forest_settings: dict[str, Any] | None = None,
            n_jobs: int | None = -1) -> Analysis:
    """Run every statistic on the finished runs of `table` (from `load_runs`).

    `k`: folds of the cross-validations; `forest_k` overrides it for the random forest (each
    fold fits 100 trees; 0 skips the forest's CV). `forest_settings`: overrides of the kind's
    forest settings (`max_depth`, `test_size`, `n_estimators`, `random_state`, `split_seed`).
    `n_jobs`: cores for the forest (-1: all). Rows are put in the canonical order first, so the
    figures do not depend on the order of `table`.
    """
    kind = kind or table.attrs.get("kind", "finetuning")
    data = canonical_order(distribution.with_task_size(analysis_frame(table, kind), kind))
    notes = _factor_notes(data)
    present = [f for f in FACTORS if data[f].nunique() > 1]
    models = _models(data, kind, k=k, forest_k=forest_k, settings=forest_settings or {},
                     n_jobs=n_jobs, notes=notes)
    if data["metric"].notna().sum() == 0:
        notes.append("no run has its task's main metric: time against accuracy left out")
    pooled_relation = pooled.pooled_relation(data)
    notes.extend(pooled_relation["notes"])
    correlations = descriptive.correlations(data)
    fits = anova.one_way_fits(data)
    return Analysis(
        kind=kind, table=table, data=data, states=_states(table),
        describe=descriptive.describe_time(data),
        describe_by={f: descriptive.describe_time(data, by=f) for f in GROUPED_BY},
        min_per_combination=descriptive.min_time_per_combination(data),
        outliers=descriptive.outliers(data), correlations=correlations,
        anova=anova.one_way_anova(data, fits=fits),
        checks=anova.assumption_checks(data, fits=fits),
        tukey=anova.tukey_hsd(data, present),
        loglinear=models["loglinear"], forest=models["forest"],
        relation=accuracy.accuracy_relation(data), pareto=accuracy.pareto_front(data),
        notes=notes, alternatives=models["alternatives"],
        log_time=distribution.log_time_summary(data),
        histogram=distribution.histogram_counts(data),
        time_correlations=descriptive.time_correlations(correlations),
        fair=groups.fair_comparisons(data),
        fastest=groups.extreme_runs(data), slowest=groups.extreme_runs(data, fastest=False),
        pooled=pooled_relation, noise=noise.noise_summary(data, kind),
        factor_residuals=anova.residuals_by_factor(data, present, fits=fits),
        forest_settings=kind_forest_settings(kind, forest_settings),
    )


def _states(table: pd.DataFrame) -> dict[str, int]:
    counts = table["state"].fillna("unknown").value_counts().items()
    return {str(state): int(n) for state, n in counts}


def cost_model_section(table: pd.DataFrame, out_dir: Path, kind: str) -> str:
    """The cost model's markdown, or a note saying why it is absent (never an error here)."""
    try:
        from timing_trainer.costmodel.report import report_section
    except ImportError:
        return "_The cost model (`timing_trainer.costmodel`) is not installed; section skipped._\n"
    try:
        return str(report_section(table, out_dir, kind))
    except Exception as exc:  # the report must not fail because a neighbour's section did
        return f"_The cost model section failed ({type(exc).__name__}: {exc}); skipped._\n"


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike, *, sources: list[str] = (),
                  plots_on: bool = True) -> Path:
    """Write CSVs, plots, `summary.json` and `report.md` into `out_dir`; return the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tables(analysis, out)
    figures = write_plots(analysis, out) if plots_on else {}
    atomic_write_json(out / "summary.json", summary(analysis))
    cost = cost_model_section(analysis.table, out, analysis.kind)
    report = out / "report.md"
    atomic_write_text(report, render_report(analysis, figures, list(sources), cost))
    return report


def build_report(sources: list[str], out_dir, kind: str = "finetuning", *,
                 cache_dir=None, plots_on: bool = True, k: int = 5,
                 forest_k: int | None = None,
                 forest_settings: dict[str, Any] | None = None) -> Path:
    """Load `sources`, analyse, write everything into `out_dir`, return `report.md`'s path.

    Data warnings from loading are kept in the report and `summary.json` and re-issued. Rows
    from W&B exports get the exports' per-metric columns and, for the thesis's own files, their
    position in the thesis's table (`export_extras`).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = with_export_extras(load_runs(sources, kind, cache_dir=cache_dir), kind)
    messages = [str(w.message) for w in caught]
    analysis = analyze(table, kind, k=k, forest_k=forest_k, forest_settings=forest_settings)
    analysis.data_warnings = messages
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return write_outputs(analysis, out_dir, sources=[os.fspath(s) for s in sources],
                         plots_on=plots_on)
