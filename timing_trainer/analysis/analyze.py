"""The whole analysis in one call: statistics, CSV tables, PNG plots, `summary.json`, `report.md`.

`analyze(table)` computes (pure, no files); `write_outputs` writes; `build_report(sources, out)`
loads and does both. The report follows the thesis's order: data (and how noisy it was),
descriptive statistics, ANOVA, log-linear regression and its alternatives, random forest, time
against accuracy; energy against time per model when runs carry energy; then the further
sections a caller hands `write_outputs` or `build_report` (`sections`: the `analyze` command's
report adds the cost model's, composed in `timing_trainer.commands.analyze`, above both packages: the
analysis never imports the cost model). `metric="energy"` runs the same statistics on energy
instead of time (`response`).
The pieces live in `summary` (summary.json), `tables` (CSVs), `figures` (PNGs) and
`report_sections` (markdown); a statistic that cannot be computed carries its reason in `notes`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.report.figures import write_plots
from timing_trainer.analysis.report.markdown import md_table
from timing_trainer.analysis.report.sections import render_report
from timing_trainer.analysis.report.summary import summary
from timing_trainer.analysis.report.tables import write_tables
from timing_trainer.analysis.stats import (
    accuracy,
    alternatives,
    anova,
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
from timing_trainer.analysis.stats.response import (
    ENERGY,
    TIME_DEFINITIONS,
    Response,
    response_named,
)
from timing_trainer.analysis.stats.result import Analysis
from timing_trainer.analysis.stats.settings import forest_settings as kind_forest_settings
from timing_trainer.analysis.table.columns import FACTORS
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.order import canonical_order
from timing_trainer.runtime.atomic import atomic_write_json, atomic_write_text

GROUPED_BY = (*FACTORS, "tokens_per_batch", "learning_rate")  # the thesis's group tables

# A section after the analysis's own: given the analysis and the output folder (for its files),
# its heading and its markdown.
Section = Callable[[Analysis, Path], tuple[str, str]]

__all__ = ["Analysis", "Section", "TIME_DEFINITIONS", "analyze", "build_report", "md_table",
           "summary", "write_outputs"]


def _factor_notes(data: pd.DataFrame) -> list[str]:
    notes = []
    for factor in FACTORS:
        levels = data[factor].nunique() if factor in data else 0
        if levels < 2:
            have = "no run has it" if levels == 0 else "all runs share one level"
            notes.append(f"factor {factor} skipped ({have}): not tested, not in the models")
    return notes


def _models(data: pd.DataFrame, kind: str, response: Response, *, k: int,
            forest_k: int | None, settings: dict[str, Any], n_jobs: int | None,
            notes: list[str]) -> dict[str, Any]:
    """The log-linear fit, its alternatives and the forest; what fails becomes a note."""
    out: dict[str, Any] = {"loglinear": None, "forest": None, "alternatives": {}}
    if len(data) < 3:
        notes.append(f"only {len(data)} finished run(s) with {response.a_name}: no models fitted")
        return out
    try:
        out["loglinear"] = regression.fit_loglinear(data, k=k, dv=response.log_column)
    except (ValueError, np.linalg.LinAlgError) as exc:
        notes.append(f"log-linear regression not fitted: {exc}")
    out["alternatives"] = alternatives.fit_alternatives(data, response)
    try:
        out["forest"] = forest.random_forest(data, kind=kind, k=k if forest_k is None else forest_k,
                                             n_jobs=n_jobs, dv=response.log_column, **settings)
    except ValueError as exc:
        notes.append(f"random forest not fitted: {exc}")
    return out


def _descriptive(data: pd.DataFrame, kind: str, response: Response) -> dict[str, Any]:
    """The descriptive sections' figures of the response (`Analysis` fields)."""
    column = response.column
    correlations = descriptive.correlations(data, descriptive.correlation_columns(response))
    return {
        "describe": descriptive.describe_time(data, time=column),
        "describe_by": {f: descriptive.describe_time(data, time=column, by=f)
                        for f in GROUPED_BY},
        "min_per_combination": descriptive.min_time_per_combination(data, time=column),
        "outliers": descriptive.outliers(data, time=column), "correlations": correlations,
        "time_correlations": descriptive.time_correlations(correlations, time=column),
        "log_time": distribution.log_time_summary(data, time=column, name=response.name),
        "histogram": distribution.histogram_counts(data, time=column),
        "fair": groups.fair_comparisons(data, time=column),
        "fair_left_out": groups.fair_subsets_left_out(data),
        "fastest": groups.extreme_runs(data, time=column),
        "slowest": groups.extreme_runs(data, fastest=False, time=column),
        "noise": noise.noise_summary(data, kind, response=response),
        "power": power.power_by_model(power.energy_time_pairs(data, kind)),
    }


def _anova(data: pd.DataFrame, response: Response) -> dict[str, Any]:
    """The one-way ANOVAs, their checks, Tukey HSD and residuals (`Analysis` fields)."""
    fits = anova.one_way_fits(data, dv=response.column)  # testable factors only
    return {"anova": anova.one_way_anova(data, dv=response.column, fits=fits),
            "checks": anova.assumption_checks(data, dv=response.column, fits=fits),
            "tukey": anova.tukey_hsd(data, dv=response.column),
            "factor_residuals": anova.residuals_by_factor(data, dv=response.column, fits=fits)}


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
            "pooled": pooled_relation}


def analyze(table: pd.DataFrame, kind: str | None = None, *, metric: str = "time", k: int = 5,
            forest_k: int | None = None, forest_settings: dict[str, Any] | None = None,
            n_jobs: int | None = -1) -> Analysis:
    """Run every statistic on the finished runs of `table` (from `load_runs`).

    `metric`: the response analysed, "time" or "energy" (`response`); energy on runs none of
    which has it raises `NoEnergyError` (one line), runs without it are left out with a note.
    `k`: folds of the cross-validations; `forest_k` overrides it for the random forest (each
    fold fits 100 trees; 0 skips the forest's CV). `forest_settings`: overrides of the kind's
    forest settings (`max_depth`, `test_size`, `n_estimators`, `random_state`, `split_seed`).
    `n_jobs`: cores for the forest (-1: all). Rows are put in the canonical order first, so the
    figures do not depend on the order of `table`.
    """
    kind = kind or table.attrs.get("kind", "finetuning")
    response = response_named(metric)
    notes: list[str] = []
    if response is ENERGY:
        require_energy(table, kind)
        notes += energy_notes(table, kind)
    data = canonical_order(distribution.with_task_size(
        analysis_frame(table, kind, response), kind))
    notes += _factor_notes(data)
    models = _models(data, kind, response, k=k, forest_k=forest_k,
                     settings=forest_settings or {}, n_jobs=n_jobs, notes=notes)
    return Analysis(
        kind=kind, table=table, data=data, states=_states(table), response=response,
        loglinear=models["loglinear"], forest=models["forest"],
        alternatives=models["alternatives"], **_descriptive(data, kind, response),
        **_anova(data, response), **_quality(data, response, notes), notes=notes,
        forest_settings=kind_forest_settings(kind, forest_settings),
    )


def _states(table: pd.DataFrame) -> dict[str, int]:
    counts = table["state"].fillna("unknown").value_counts().items()
    return {str(state): int(n) for state, n in counts}


def write_outputs(analysis: Analysis, out_dir: str | os.PathLike, *, sources: list[str] = (),
                  plots_on: bool = True, sections: Sequence[Section] = ()) -> Path:
    """Write CSVs, plots, `summary.json` and `report.md` into `out_dir`; return the report.

    `sections` follow the analysis's own in `report.md`, in their order.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_tables(analysis, out)
    figures = write_plots(analysis, out) if plots_on else {}
    atomic_write_json(out / "summary.json", summary(analysis))
    further = [section(analysis, out) for section in sections]
    report = out / "report.md"
    atomic_write_text(report, render_report(analysis, figures, list(sources), further))
    return report


def build_report(sources: list[str], out_dir, kind: str = "finetuning", *,
                 metric: str = "time", cache_dir=None, plots_on: bool = True, k: int = 5,
                 forest_k: int | None = None, forest_settings: dict[str, Any] | None = None,
                 sections: Sequence[Section] = ()) -> Path:
    """Load `sources`, analyse `metric` ("time" or "energy"), write everything into `out_dir`
    (`sections` after the analysis's own), return `report.md`'s path.

    Data warnings from loading are kept in the report and `summary.json` and re-issued.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs(sources, kind, cache_dir=cache_dir)
    messages = [str(w.message) for w in caught]
    analysis = analyze(table, kind, metric=metric, k=k, forest_k=forest_k,
                       forest_settings=forest_settings)
    analysis.data_warnings = messages
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return write_outputs(analysis, out_dir, sources=[os.fspath(s) for s in sources],
                         plots_on=plots_on, sections=sections)
