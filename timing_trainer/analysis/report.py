"""The whole analysis in one call: statistics, CSV tables, PNG plots, `summary.json`, `report.md`.

`analyze(table)` computes (pure, no files); `write_outputs` writes; `build_report(sources, out)`
loads and does both. The report follows the thesis's order: data, descriptive statistics, ANOVA,
log-linear regression, random forest, time against accuracy; then the cost model's section when
`timing_trainer.costmodel` is installed.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis import accuracy, anova, descriptive, forest, plots, regression
from timing_trainer.analysis.columns import FACTORS, LABELS, TIME_LABELS
from timing_trainer.analysis.frame import analysis_frame
from timing_trainer.analysis.load import load_runs
from timing_trainer.atomic import atomic_write_json, atomic_write_text

TIME_DEFINITIONS = {
    "finetuning": "min of finetuning_time_list (every repeat of the whole fine-tuning), else "
                  "finetuning_time",
    "inference": "this project's runs: inference_time (min per-batch latency over full batches); "
                 "the thesis's runs: min of inference_time_list[:-1] (its last, partial batch "
                 "dropped); batch_size = the evaluation batch size",
}


@dataclass
class Analysis:
    """Everything the report shows, as tables; `notes` say what could not be computed."""

    kind: str
    table: pd.DataFrame
    data: pd.DataFrame
    states: dict[str, int]
    describe: pd.DataFrame
    describe_by: dict[str, pd.DataFrame]
    min_per_combination: pd.DataFrame
    outliers: pd.DataFrame
    correlations: pd.DataFrame
    anova: pd.DataFrame
    checks: pd.DataFrame
    tukey: pd.DataFrame
    loglinear: regression.LoglinearResult | None
    forest: forest.ForestResult | None
    relation: pd.DataFrame
    pareto: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    data_warnings: list[str] = field(default_factory=list)

    @property
    def n_runs(self) -> int:
        return len(self.table)

    @property
    def n_finished(self) -> int:
        return int((self.table["state"] == "finished").sum())

    @property
    def n_analysed(self) -> int:
        return len(self.data)


def analyze(table: pd.DataFrame, kind: str | None = None, *, k: int = 5,
            forest_k: int | None = None, forest_settings: dict[str, Any] | None = None,
            n_jobs: int | None = -1) -> Analysis:
    """Run every statistic on the finished runs of `table` (from `load_runs`).

    `k`: folds of the cross-validations; `forest_k` overrides it for the random forest (each
    fold fits 100 trees; 0 skips the forest's CV). `n_jobs`: cores for the forest (-1: all).
    """
    kind = kind or table.attrs.get("kind", "finetuning")
    data = analysis_frame(table, kind)
    notes: list[str] = []
    states = {str(k_): int(v) for k_, v in table["state"].fillna("unknown").value_counts().items()}
    present_factors = [f for f in FACTORS if data[f].nunique() > 1]
    for factor in FACTORS:
        if factor not in present_factors:
            notes.append(f"factor {factor} has fewer than two levels in the finished runs; "
                         "not tested")
    loglinear = rf = None
    if len(data) >= 3:
        try:
            loglinear = regression.fit_loglinear(data, k=k)
        except (ValueError, np.linalg.LinAlgError) as exc:
            notes.append(f"log-linear regression not fitted: {exc}")
        try:
            rf = forest.random_forest(data, k=k if forest_k is None else forest_k, n_jobs=n_jobs,
                                      **(forest_settings or {}))
        except ValueError as exc:
            notes.append(f"random forest not fitted: {exc}")
    else:
        notes.append(f"only {len(data)} finished run(s) with a time: no models fitted")
    relation = accuracy.accuracy_relation(data)
    if data["metric"].notna().sum() == 0:
        notes.append("no run has its task's main metric: time against accuracy left out")
    return Analysis(
        kind=kind, table=table, data=data, states=states,
        describe=descriptive.describe_time(data),
        describe_by={f: descriptive.describe_time(data, by=f) for f in FACTORS},
        min_per_combination=descriptive.min_time_per_combination(data),
        outliers=descriptive.outliers(data),
        correlations=descriptive.correlations(data),
        anova=anova.one_way_anova(data), checks=anova.assumption_checks(data),
        tukey=anova.tukey_hsd(data, present_factors),
        loglinear=loglinear, forest=rf, relation=relation,
        pareto=accuracy.pareto_front(data), notes=notes,
    )


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def summary(analysis: Analysis) -> dict[str, Any]:
    """The figures of `summary.json` (names fixed: other tools read them)."""
    anova_rows = [
        {"factor": r["factor"], "F": r["F"], "p": r["p"], "eta_sq": r["eta_sq"],
         "df_factor": r["df_factor"], "df_resid": r["df_resid"], "n": r["n"]}
        for r in analysis.anova.to_dict(orient="records")
    ]
    return _clean({
        "kind": analysis.kind,
        "time_definition": TIME_DEFINITIONS[analysis.kind],
        "n_runs": analysis.n_runs,
        "n_finished": analysis.n_finished,
        "n_analysed": analysis.n_analysed,
        "states": analysis.states,
        "time": analysis.describe.iloc[0].to_dict() if len(analysis.describe) else {},
        "anova": anova_rows,
        "loglinear": analysis.loglinear.summary_dict() if analysis.loglinear else None,
        "random_forest": analysis.forest.summary_dict() if analysis.forest else None,
        "accuracy_relation": analysis.relation.to_dict(orient="records"),
        "pareto_front": analysis.pareto[[c for c in ("run_id", "task", "model", "max_seq_length",
                                                     "batch_size", "time", "metric")
                                         if c in analysis.pareto]].to_dict(orient="records"),
        "notes": analysis.notes,
        "data_warnings": analysis.data_warnings,
    })


def _csv(frame: pd.DataFrame, path: Path, index: bool = False) -> Path:
    return atomic_write_text(path, frame.to_csv(index=index))


def runs_csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """The runs table with list columns as JSON text (what a W&B export holds)."""
    out = table.copy()
    for column in ("finetuning_time_list", "inference_time_list", "history"):
        if column in out:
            out[column] = out[column].map(lambda v: None if v is None or (isinstance(v, float)
                                                                         and np.isnan(v))
                                          else json.dumps(v))
    return out


def write_tables(analysis: Analysis, out_dir: Path) -> list[Path]:
    files = [
        _csv(runs_csv_frame(analysis.table), out_dir / "runs.csv"),
        _csv(analysis.describe, out_dir / "descriptive.csv"),
        _csv(pd.concat([d.rename(columns={f: "level"}).assign(factor=f)
                        for f, d in analysis.describe_by.items()], ignore_index=True),
             out_dir / "descriptive_by_factor.csv"),
        _csv(analysis.min_per_combination, out_dir / "min_time_per_combination.csv"),
        _csv(analysis.outliers, out_dir / "outliers.csv"),
        _csv(analysis.correlations, out_dir / "correlations.csv", index=True),
        _csv(analysis.anova, out_dir / "anova.csv"),
        _csv(analysis.checks, out_dir / "anova_assumptions.csv"),
        _csv(analysis.tukey, out_dir / "tukey_hsd.csv"),
        _csv(analysis.relation, out_dir / "accuracy_relation.csv"),
        _csv(analysis.pareto.drop(columns=["finetuning_time_list", "inference_time_list"],
                                  errors="ignore"), out_dir / "pareto_front.csv"),
    ]
    if analysis.loglinear:
        files.append(_csv(analysis.loglinear.coefficients, out_dir / "loglinear_coefficients.csv"))
    if analysis.forest:
        files.append(_csv(analysis.forest.importances, out_dir / "rf_importances.csv"))
    return files


def write_plots(analysis: Analysis, out_dir: Path) -> dict[str, Path]:
    data, kind = analysis.data, analysis.kind
    made: dict[str, Path] = {}
    if not len(data):
        return made
    for factor in FACTORS:
        if data[factor].notna().any():
            made[f"box_{factor}"] = plots.save(
                plots.box_by_factor(data, factor, kind=kind), out_dir / f"box_{factor}.png")
    made["histogram"] = plots.save(plots.time_histogram(data, kind=kind),
                                   out_dir / "time_histogram.png")
    if analysis.correlations.shape[0] > 1:
        made["correlations"] = plots.save(plots.correlation_heatmap(analysis.correlations),
                                          out_dir / "correlation_heatmap.png")
    if analysis.loglinear and len(analysis.loglinear.residuals) > 2:
        made["qq"] = plots.save(plots.residual_qq(analysis.loglinear.residuals),
                                out_dir / "residual_qq.png")
    if analysis.forest:
        made["importances"] = plots.save(plots.importances_bar(analysis.forest.importances),
                                         out_dir / "rf_importances.png")
    if data["metric"].notna().any():
        made["accuracy"] = plots.save(plots.time_vs_metric(data, analysis.pareto, kind=kind),
                                      out_dir / "time_vs_metric.png")
    return made


def md_table(frame: pd.DataFrame, digits: int = 4, max_rows: int = 40) -> str:
    """A markdown table without extra dependencies (numbers to `digits` significant digits)."""
    if frame is None or frame.empty:
        return "_(none)_\n"
    frame = frame.head(max_rows)

    def cell(value: Any) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        if isinstance(value, (float, np.floating)):
            return f"{value:.{digits}g}"
        return str(value).replace("|", "\\|")

    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"


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


def render_report(analysis: Analysis, figures: dict[str, Path], sources: list[str],
                  cost_section: str) -> str:
    kind = analysis.kind
    label = TIME_LABELS[kind]
    lines = [f"# {kind.capitalize()} time analysis", ""]
    lines += ["## Data", "",
              f"- Sources: {', '.join(f'`{s}`' for s in sources) or '(table given)'}",
              f"- Runs: {analysis.n_runs}; finished: {analysis.n_finished}; analysed (finished "
              f"with a time): {analysis.n_analysed}",
              "- States: " + ", ".join(f"{k}: {v}" for k, v in sorted(analysis.states.items())),
              f"- Time analysed: {TIME_DEFINITIONS[kind]}.", ""]
    for note in analysis.data_warnings:
        lines.append(f"- Data warning: {note}")
    for note in analysis.notes:
        lines.append(f"- Note: {note}")
    lines += ["", "## Descriptive statistics", "", f"{label}, finished runs:", "",
              md_table(analysis.describe)]
    if "histogram" in figures:
        lines.append(f"![histogram]({figures['histogram'].name})\n")
    for factor in FACTORS:
        lines += [f"### By {LABELS[factor]}", "", md_table(analysis.describe_by[factor])]
        if f"box_{factor}" in figures:
            lines.append(f"![box plot by {factor}]({figures[f'box_{factor}'].name})\n")
    if "correlations" in figures:
        lines.append(f"![correlations]({figures['correlations'].name})\n")
    lines += ["Minimum time per hyperparameter combination: `min_time_per_combination.csv`; "
              "outliers (beyond 1.5 IQR): `outliers.csv`.", ""]
    lines += ["## ANOVA (one-way per factor, `anova_lm(typ=2)`)", "",
              md_table(analysis.anova[["factor", "F", "p", "eta_sq", "df_factor", "df_resid",
                                       "n"]]),
              "Assumption checks (Shapiro-Wilk on residuals, Levene across levels):", "",
              md_table(analysis.checks),
              f"Tukey HSD, every pair of levels: `tukey_hsd.csv` ({len(analysis.tukey)} pairs, "
              f"{int(analysis.tukey['reject'].astype(bool).sum()) if len(analysis.tukey) else 0}"
              " significant at 5%).", ""]
    lines += ["## Log-linear regression", ""]
    if analysis.loglinear:
        ll = analysis.loglinear
        cv = ll.cv
        lines += [f"`{ll.formula}`", "",
                  f"- In-sample R² = {ll.r2:.4f}, adjusted R² = {ll.adj_r2:.4f}, n = {ll.n} "
                  "(the thesis reported only these)",
                  f"- {cv['k']}-fold cross-validated R² = {_fmt(cv['r2_mean'])}; median "
                  f"absolute error on held-out runs = {_fmt(cv['median_abs_pct_error'])} %", "",
                  "Coefficients; `multiplier` = exp(coef), the factor on time:", "",
                  md_table(ll.coefficients[["term", "coef", "std_err", "p", "multiplier",
                                            "pct_change"]])]
        if "qq" in figures:
            lines.append(f"![residual Q-Q plot]({figures['qq'].name})\n")
    else:
        lines.append("_Not fitted (see notes)._\n")
    lines += ["## Random forest on log time", ""]
    if analysis.forest:
        rf = analysis.forest
        lines += [f"Settings: {rf.settings}", "",
                  f"- R² on the 70 % training split = {rf.r2_train:.4f}; on the 30 % test split "
                  f"= {rf.r2_test:.4f} (n = {rf.n_train} / {rf.n_test})",
                  f"- {rf.cv['k']}-fold cross-validated R² = {_fmt(rf.cv['r2_mean'])}; "
                  f"out-of-bag R² = {_fmt(rf.r2_oob)}", "",
                  md_table(rf.importances)]
        if "importances" in figures:
            lines.append(f"![importances]({figures['importances'].name})\n")
    else:
        lines.append("_Not fitted (see notes)._\n")
    lines += ["## Time against accuracy", "",
              "Per task (metrics differ between tasks); `slope_per_log_time`: metric change per "
              "e-fold more time.", "", md_table(analysis.relation)]
    if "accuracy" in figures:
        lines.append(f"![time against metric]({figures['accuracy'].name})\n")
    lines += [f"Pareto front ({len(analysis.pareto)} runs no other run of their task beats on "
              "both time and metric): `pareto_front.csv`.", ""]
    lines += ["## Cost model", "", cost_section, ""]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "n/a" if value is None else f"{value:.4g}"


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

    Data warnings from loading are kept in the report and `summary.json` and re-issued.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs(sources, kind, cache_dir=cache_dir)
    messages = [str(w.message) for w in caught]
    analysis = analyze(table, kind, k=k, forest_k=forest_k, forest_settings=forest_settings)
    analysis.data_warnings = messages
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=2)
    return write_outputs(analysis, out_dir, sources=[os.fspath(s) for s in sources],
                         plots_on=plots_on)
