"""The whole analysis in one call: statistics, CSV tables, PNG plots, `summary.json`, `report.md`.

`analyze(table)` computes (pure, no files); `write_outputs` writes; `build_report(sources, out)`
loads and does both. How is one value, `AnalysisOptions` (`options`), handed down whole; each
entry point also takes its fields as keywords (`analyze(table, k=2)`). The report follows the
thesis's order: data (and how noisy it was), descriptive statistics, ANOVA, log-linear
regression and its alternatives, random forest, time against accuracy; energy against time per
model when runs carry energy; then the further sections of the options (`sections`: the
`analyze` command's report adds the cost model's, composed in `timing_trainer.commands.analyze`,
above both packages: the analysis never imports the cost model). `metric="energy"` runs the same
statistics on energy instead of time (`response`).
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

from timing_trainer.analysis.options import AnalysisOptions, Section, options_with
from timing_trainer.analysis.report.figures import write_plots
from timing_trainer.analysis.report.markdown import md_table
from timing_trainer.analysis.report.sections import render_report
from timing_trainer.analysis.report.summary import summary
from timing_trainer.analysis.report.tables import write_tables
from timing_trainer.analysis.stats import (
    accuracy,
    alternatives,
    anova,
    bootstrap,
    descriptive,
    distribution,
    forest,
    groups,
    noise,
    pooled,
    power,
    regression,
)
from timing_trainer.analysis.stats.energy_check import energy_notes, require_energy
from timing_trainer.analysis.stats.frame import analysis_frame
from timing_trainer.analysis.stats.hardware import environment_table
from timing_trainer.analysis.stats.response import (
    ENERGY,
    TIME_DEFINITIONS,
    Response,
    response_named,
)
from timing_trainer.analysis.stats.result import Analysis
from timing_trainer.analysis.stats.settings import forest_settings as kind_forest_settings
from timing_trainer.analysis.table.columns import FACTORS, design_factors
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.order import canonical_order
from timing_trainer.runtime.atomic import atomic_write_json, atomic_write_text

GROUPED_BY = (*FACTORS, "tokens_per_batch", "learning_rate")  # the thesis's group tables

__all__ = ["Analysis", "AnalysisOptions", "Section", "TIME_DEFINITIONS", "analyze",
           "build_report", "md_table", "summary", "write_outputs"]


def _factor_notes(data: pd.DataFrame) -> list[str]:
    notes = []
    for factor in FACTORS:
        levels = data[factor].nunique() if factor in data else 0
        if levels < 2:
            have = "no run has it" if levels == 0 else "all runs share one level"
            notes.append(f"factor {factor} skipped ({have}): not tested, not in the models")
    return notes


def _models(data: pd.DataFrame, kind: str, response: Response, options: AnalysisOptions,
            notes: list[str]) -> dict[str, Any]:
    """The log-linear fit, its alternatives and the forest; what fails becomes a note."""
    out: dict[str, Any] = {"loglinear": None, "forest": None, "alternatives": {}}
    if len(data) < 3:
        notes.append(f"only {len(data)} finished run(s) with {response.a_name}: no models fitted")
        return out
    k = options.k
    try:
        out["loglinear"] = regression.fit_loglinear(data, k=k, dv=response.log_column)
    except (ValueError, np.linalg.LinAlgError) as exc:
        notes.append(f"log-linear regression not fitted: {exc}")
    out["alternatives"] = alternatives.fit_alternatives(data, response)
    forest_k = k if options.forest_k is None else options.forest_k
    try:
        out["forest"] = forest.random_forest(data, kind=kind, k=forest_k, n_jobs=options.n_jobs,
                                             dv=response.log_column,
                                             **(options.forest_settings or {}))
    except ValueError as exc:
        notes.append(f"random forest not fitted: {exc}")
    return out


def _descriptive(data: pd.DataFrame, kind: str, response: Response) -> dict[str, Any]:
    """The descriptive sections' figures of the response (`Analysis` fields)."""
    column = response.column
    intervals = bootstrap.configuration_intervals(data, kind, response)
    correlations = descriptive.correlations(data, descriptive.correlation_columns(response))
    return {
        "describe": descriptive.describe(data, time=column),
        "describe_by": {f: descriptive.describe(data, time=column, by=f)
                        for f in GROUPED_BY},
        "min_per_combination": descriptive.min_per_combination(data, time=column),
        "outliers": descriptive.outliers(data, time=column), "correlations": correlations,
        "time_correlations": descriptive.time_correlations(correlations, time=column),
        "log_time": distribution.log_summary(data, time=column, name=response.name),
        "histogram": distribution.histogram_counts(data, time=column),
        "fair": groups.fair_comparisons(data, time=column),
        "fair_left_out": groups.fair_subsets_left_out(data),
        "fastest": groups.extreme_runs(data, time=column),
        "slowest": groups.extreme_runs(data, fastest=False, time=column),
        "noise": {**noise.noise_summary(data, kind, response=response),
                  "repeats_needed": bootstrap.repeats_needed(intervals)},
        "intervals": intervals,
        "power": power.power_by_model(power.energy_time_pairs(data, kind)),
    }


def _anova(data: pd.DataFrame, response: Response) -> dict[str, Any]:
    """The one-way ANOVAs, their checks, Tukey HSD and residuals (`Analysis` fields)."""
    factors = design_factors(data)  # the thesis's, and the modes the runs vary
    fits = anova.one_way_fits(data, factors, dv=response.column)  # testable factors only
    return {"anova": anova.one_way_anova(data, factors, dv=response.column, fits=fits),
            "checks": anova.assumption_checks(data, factors, dv=response.column, fits=fits),
            "tukey": anova.tukey_hsd(data, factors, dv=response.column),
            "factor_residuals": anova.residuals_by_factor(data, factors, dv=response.column,
                                                          fits=fits)}


def _quality(data: pd.DataFrame, response: Response, notes: list[str]) -> dict[str, Any]:
    """The response against the tasks' metrics, per task and pooled (`Analysis` fields)."""
    if data["metric"].notna().sum() == 0:
        notes.append(f"no run has its task's main metric: {response.name} against accuracy "
                     "left out")
    pooled_relation = pooled.pooled_relation(data, response)
    notes.extend(pooled_relation["notes"])
    return {"relation": accuracy.accuracy_relation(data, time=response.column,
                                                   name=response.name),
            "pareto": accuracy.pareto_front(data, time=response.column),
            "pooled": pooled_relation,
            "accuracy_by_mode": accuracy.mode_tradeoff(data, time=response.column,
                                                       name=response.name)}


def analyze(table: pd.DataFrame, kind: str | None = None,
            options: AnalysisOptions | None = None, **overrides: Any) -> Analysis:
    """Run every statistic on the finished runs of `table` (from `load_runs`).

    `options` (or their fields as keywords, `overrides`): this step uses `metric`, `k`,
    `forest_k`, `forest_settings` and `n_jobs` (`AnalysisOptions`). Energy on runs none of which
    has it raises `NoEnergyError` (one line); runs without it are left out with a note. Rows are
    put in the canonical order first, so the figures do not depend on the order of `table`.
    """
    options = options_with(options, overrides)
    kind = kind or table.attrs.get("kind", "finetuning")
    response = response_named(options.metric)
    notes: list[str] = []
    if response is ENERGY:
        require_energy(table, kind)
        notes += energy_notes(table, kind)
    data = canonical_order(distribution.with_task_size(
        analysis_frame(table, kind, response), kind))
    notes += _factor_notes(data)
    models = _models(data, kind, response, options, notes)
    return Analysis(
        kind=kind, table=table, data=data, states=_states(table), response=response,
        loglinear=models["loglinear"], forest=models["forest"],
        alternatives=models["alternatives"], **_descriptive(data, kind, response),
        **_anova(data, response), **_quality(data, response, notes), notes=notes,
        forest_settings=kind_forest_settings(kind, options.forest_settings),
        **dict(zip(("environment", "environment_missing"), environment_table(table))),
    )


def _states(table: pd.DataFrame) -> dict[str, int]:
    counts = table["state"].fillna("unknown").value_counts().items()
    return {str(state): int(n) for state, n in counts}


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike,
                  options: AnalysisOptions | None = None, *, sources: list[str] = (),
                  **overrides: Any) -> Path:
    """Write CSVs, plots, `summary.json` and `report.md` into `out_dir`; return the report.

    Of `options` (or `overrides`) this step uses `plots_on` and `sections` (these follow the
    analysis's own in `report.md`, in their order); `sources` are listed in the report.
    """
    options = options_with(options, overrides)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tables(analysis, out)
    figures = write_plots(analysis, out) if options.plots_on else {}
    atomic_write_json(out / "summary.json", summary(analysis))
    further = [section(analysis, out) for section in options.sections]
    report = out / "report.md"
    atomic_write_text(report, render_report(analysis, figures, list(sources), further))
    return report


def build_report(sources: list[str], out_dir: str | os.PathLike, kind: str = "finetuning",
                 options: AnalysisOptions | None = None, **overrides: Any) -> Path:
    """Load `sources` (through `options.cache_dir`), `analyze` and `write_outputs` into
    `out_dir` with the same `options` (or `overrides`), return `report.md`'s path.

    Data warnings from loading are kept in the report and `summary.json` and re-issued.
    """
    options = options_with(options, overrides)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs(sources, kind, cache_dir=options.cache_dir,
                          all_versions=options.all_versions)
    messages = [str(w.message) for w in caught]
    analysis = analyze(table, kind, options)
    analysis.data_warnings = messages
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return write_outputs(analysis, out_dir, options, sources=[os.fspath(s) for s in sources])
