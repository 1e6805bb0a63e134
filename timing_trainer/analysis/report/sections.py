"""`report.md`, section by section, in the thesis's order. Pure text from an `Analysis`.

Every section speaks of the analysed response (`analysis.response`: time in seconds, or energy
in joules with `--metric energy`); energy against time per model follows the accuracy section
when analysed runs carry energy, and nothing is said about energy when none does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from timing_trainer.analysis.report.markdown import fmt, md_table
from timing_trainer.analysis.report.reader import (
    environment_section,
    intervals_section,
    runs_table,
)
from timing_trainer.analysis.stats.alternatives import alternatives_table
from timing_trainer.analysis.stats.caveats import forest_caveats, loglinear_caveat
from timing_trainer.analysis.stats.groups import NOT_APPLICABLE
from timing_trainer.analysis.stats.power import speed_for_power
from timing_trainer.analysis.stats.result import Analysis
from timing_trainer.analysis.table.columns import MODE_FACTORS
from timing_trainer.analysis.table.labels import label

Figures = dict[str, Path]


def _image(figures: Figures, key: str, alt: str) -> list[str]:
    return [f"![{alt}]({figures[key].name})", ""] if key in figures else []


def noise_section(noise: dict[str, Any]) -> list[str]:
    """How noisy the measurements were: share above the CV threshold, median, noisiest runs."""
    lines = ["### How noisy the measurements were", ""]
    if noise.get("why_not"):
        return lines + [f"_Not computed: {noise['why_not']}._", ""]
    what = "timed iterations" if noise.get("response", "time") == "time" \
        else "fine-tuning iterations' energies"
    lines += [f"Coefficient of variation (std / mean) of each run's {what} "
              f"(`{noise['source']}`), {noise['n_with_cv']} of {noise['n_runs']} runs:", "",
              f"- {noise['n_above']} runs ({noise['share_above'] * 100:.1f} %) above "
              f"{noise['threshold']:g}, the trainer's `cv_warning_threshold`",
              f"- median CV {fmt(noise['median_cv'], 3)}, largest {fmt(noise['max_cv'], 3)}", "",
              "Noisiest runs:", "", md_table(runs_table(noise["noisiest"]))]
    return lines


def data_section(analysis: Analysis, sources: list[str],
                 figures: Figures | None = None) -> list[str]:
    lines = ["## Data", "",
             f"- Sources: {', '.join(f'`{s}`' for s in sources) or '(table given)'}",
             f"- Runs: {analysis.n_runs}; finished: {analysis.n_finished}; analysed (finished "
             f"with a time{' and an energy' if analysis.response.name == 'energy' else ''}): "
             f"{analysis.n_analysed}",
             "- States: " + ", ".join(f"{k}: {v}" for k, v in sorted(analysis.states.items())),
             f"- {analysis.response.name.capitalize()} analysed: "
             f"{analysis.response.definition(analysis.kind)}."]
    lines += [f"- Data warning: {note}" for note in analysis.data_warnings]
    lines += [f"- Note: {note}" for note in analysis.notes]
    return lines + [""] + noise_section(analysis.noise) + intervals_section(analysis,
                                                                             figures or {})


def _distribution(analysis: Analysis) -> list[str]:
    log, hist, name = analysis.log_time, analysis.histogram, analysis.response.name
    lines = [f"log({name}): mean {fmt(log.get('mean'))}, std {fmt(log.get('std'))}, min "
             f"{fmt(log.get('min'))}, median {fmt(log.get('median'))}, max {fmt(log.get('max'))};"
             f" skew of {name} {fmt(log.get(f'skew_{name}'), 3)}, of log {name} "
             f"{fmt(log.get(f'skew_log_{name}'), 3)} (why the models use log {name}).", ""]
    if hist.get("counts"):
        lines += [f"Runs per 20 equal-width {name} bins ({fmt(hist['edges'][0])} to "
                  f"{fmt(hist['edges'][-1])} {analysis.response.unit}): "
                  f"{', '.join(map(str, hist['counts']))}.", ""]
    return lines


def descriptive_section(analysis: Analysis, figures: Figures) -> list[str]:
    what = analysis.response.label(analysis.kind)
    lines = ["## Descriptive statistics", "", f"{what}, finished runs:",
             "", md_table(analysis.describe)]
    lines += _image(figures, "box_all", "box plot of all runs") + _distribution(analysis)
    lines += _image(figures, "histogram", "histogram") + _image(figures, "density", "density")
    for factor, table in analysis.describe_by.items():
        lines += [f"### By {label(factor)}", "", md_table(table)]
        lines += _image(figures, f"box_{factor}", f"box plot by {factor}")
    return lines + _correlations(analysis, figures) + _groups(analysis)


def _correlations(analysis: Analysis, figures: Figures) -> list[str]:
    table = pd.DataFrame([{"variable": label(k), f"pearson_r_with_{analysis.response.name}": v}
                          for k, v in analysis.time_correlations.items()])
    return ["### Correlations", "", "Task size: training examples for fine-tuning, evaluation "
            "examples for inference.", "", md_table(table)] + \
        _image(figures, "correlations", "correlation heat map")


def fair_section(analysis: Analysis) -> list[str]:
    """The thesis's subsets that apply to these runs, or one line saying none does."""
    lines = ["### Fair comparisons (the thesis's subsets)", ""]
    if analysis.fair.empty:
        return lines + [NOT_APPLICABLE, ""]
    lines += [md_table(analysis.fair.drop(columns=["why"], errors="ignore"), max_rows=60),
              "Why each subset: " + "; ".join(
                  f"`{name}`: {why}" for name, why in
                  analysis.fair.groupby("subset", sort=False)["why"].first().items()) + ".", ""]
    if analysis.fair_left_out:
        lines += [f"Left out: {', '.join(f'`{n}`' for n in analysis.fair_left_out)} (about tasks "
                  "or models these runs do not contain).", ""]
    return lines


def _groups(analysis: Analysis) -> list[str]:
    least, most = ("Fastest runs", "Slowest runs") if analysis.response.name == "time" \
        else ("Runs using the least energy", "Runs using the most energy")
    column = analysis.response.column
    return fair_section(analysis) + [
        f"### {least}", "", md_table(runs_table(analysis.fastest)),
        f"### {most}", "", md_table(runs_table(analysis.slowest)),
        f"Minimum {analysis.response.name} per hyperparameter combination: "
        f"`min_time_per_combination.csv` (`min_{column}`); outliers (beyond 1.5 IQR): "
        "`outliers.csv`.", ""]


def anova_section(analysis: Analysis, figures: Figures) -> list[str]:
    tukey = analysis.tukey
    significant = int(tukey["reject"].astype(bool).sum()) if len(tukey) else 0
    return ["## ANOVA (one-way per factor, `anova_lm(typ=2)`)", "",
            md_table(analysis.anova[["factor", "F", "p", "eta_sq", "df_factor", "df_resid",
                                     "n"]]),
            "Assumption checks (Shapiro-Wilk on residuals, Levene across levels):", "",
            md_table(analysis.checks),
            f"Tukey HSD, every pair of levels ({len(tukey)} pairs, {significant} significant "
            "at 5 %; also `tukey_hsd.csv`):", "", md_table(tukey, max_rows=60)] + \
        _image(figures, "qq_factors", "Q-Q plots of the one-way ANOVA residuals")


def _diagnostics_line(d: dict[str, Any]) -> str:
    return (f"F = {fmt(d.get('f_statistic'))} (p = {fmt(d.get('f_pvalue'), 3)}), Durbin-Watson "
            f"{fmt(d.get('durbin_watson'), 3)}, Jarque-Bera {fmt(d.get('jarque_bera'))} "
            f"(p = {fmt(d.get('jarque_bera_p'), 3)}), omnibus {fmt(d.get('omnibus'))} "
            f"(p = {fmt(d.get('omnibus_p'), 3)}), skew {fmt(d.get('skew'), 3)}, kurtosis "
            f"{fmt(d.get('kurtosis'), 3)}, AIC {fmt(d.get('aic'))}, BIC {fmt(d.get('bic'))}, "
            f"condition number {fmt(d.get('condition_number'), 3)}; Breusch-Pagan LM "
            f"{fmt(d.get('breusch_pagan_lm'))} (p = {fmt(d.get('breusch_pagan_lm_p'), 3)})")


def regression_section(analysis: Analysis, figures: Figures) -> list[str]:
    lines = ["## Log-linear regression", ""]
    ll = analysis.loglinear
    if ll is None:
        lines += ["_Not fitted (see notes)._", ""]
    else:
        cv = ll.cv
        lines += [f"`{ll.formula}`", "",
                  f"- In-sample R² = {fmt(ll.r2)}, adjusted R² = {fmt(ll.adj_r2)}, n = {ll.n} "
                  "(the thesis reported only these)",
                  f"- {_diagnostics_line(ll.diagnostics)}",
                  f"- {cv['k']}-fold cross-validated R² = {fmt(cv['r2_mean'])}; median "
                  f"absolute error on held-out runs = {fmt(cv['median_abs_pct_error'])} %"
                  + (f" ({cv['why_not']})" if cv.get("why_not") else ""), ""]
        caveat = loglinear_caveat(ll)
        lines += [caveat, ""] if caveat else []
        lines += [f"Coefficients; `multiplier` = exp(coef), the factor on "
                  f"{analysis.response.name}:", "",
                  md_table(ll.coefficients[["term", "coef", "std_err", "p", "multiplier",
                                            "pct_change"]])]
        lines += _image(figures, "qq", "residual Q-Q plot")
    return lines + _alternatives(analysis)


def _alternatives(analysis: Analysis) -> list[str]:
    lines = [f"### Untransformed {analysis.response.name} and the alternative models", "",
             md_table(alternatives_table(analysis.alternatives))]
    raw = analysis.alternatives.get("untransformed", {})
    if raw.get("fitted"):
        r = analysis.response
        lines += [f"Untransformed OLS ({r.name} in {r.unit_words}): "
                  + _diagnostics_line(raw["diagnostics"])
                  + ".", "", md_table(raw["coefficients"][["term", "coef", "std_err", "p"]])]
    return lines


def forest_section(analysis: Analysis, figures: Figures) -> list[str]:
    lines = [f"## Random forest on log {analysis.response.name}", ""]
    rf = analysis.forest
    if rf is None:
        return lines + ["_Not fitted (see notes)._", ""]
    s, errors = rf.settings, rf.test_errors
    test_pct = round(s["test_size"] * 100)
    lines += [f"Settings ({analysis.kind}): {s['n_estimators']} trees, max depth "
              f"{s['max_depth']}, random_state {s['random_state']}, {100 - test_pct}/{test_pct} "
              f"split with random_state {s['split_seed']}, features {', '.join(s['features'])}.",
              "", f"- R² on the training split = {fmt(rf.r2_train)}; on the test split = "
              f"{fmt(rf.r2_test)} (n = {rf.n_train} / {rf.n_test})",
              f"- Test split errors on log {analysis.response.name}: MAE "
              f"{fmt(errors.get('mae'))}, MSE "
              f"{fmt(errors.get('mse'))}, RMSE {fmt(errors.get('rmse'))}",
              f"- {rf.cv['k']}-fold cross-validated R² = {fmt(rf.cv['r2_mean'])}"
              + (f" ({rf.cv['why_not']})" if rf.cv.get("why_not") else "")
              + f"; out-of-bag R² = {fmt(rf.r2_oob)}", ""]
    for caveat in forest_caveats(rf):
        lines += [caveat, ""]
    lines += [md_table(rf.importances)] + _mode_importances(rf)
    return lines + _image(figures, "importances", "importances")


def _mode_importances(rf) -> list[str]:
    """One sentence naming the modes among the forest's features (none varied: nothing)."""
    modes = rf.importances[rf.importances["feature"].isin(MODE_FACTORS)]
    if modes.empty:
        return []
    named = ", ".join(f"`{row.feature}` {fmt(row.importance, 3)}" for row in
                      modes.itertuples())
    return [f"The modes these runs vary are features too (importance): {named}; a run that "
            "does not record a varied mode is a level of its own.", ""]


def accuracy_section(analysis: Analysis, figures: Figures) -> list[str]:
    pooled, name = analysis.pooled, analysis.response.name
    lines = [f"## {name.capitalize()} against accuracy", "",
             f"Per task (metrics differ between tasks); `slope_per_log_{name}`: metric change "
             f"per e-fold more {name}.", "", md_table(analysis.relation)]
    lines += _image(figures, "accuracy", "time against metric") + _by_mode(analysis)
    lines += ["### Pooled over all runs (as the thesis did)", "",
              md_table(pooled.get("correlations", pd.DataFrame()))]
    for key, what in ((f"accuracy_on_{name}", name), (f"accuracy_on_log_{name}", f"log({name})")):
        fit = pooled.get(key) or {}
        lines.append(f"- accuracy = a + b · {what}: " + (
            f"b = {fmt(fit['slope'])} (p = {fmt(fit['slope_p'], 3)}), R² = {fmt(fit['r2'])}, "
            f"n = {fit['n']}" if fit.get("fitted") else f"not fitted ({fit.get('why_not')})"))
    lines += [""] + _image(figures, "pooled", "pooled time against accuracy")
    return lines + [f"Pareto front ({len(analysis.pareto)} runs no other run of their task "
                    f"beats on both {name} and metric): `pareto_front.csv`.", ""]


def _mode_line(mode: str, level: str, rows: pd.DataFrame, name: str) -> str:
    """One level of a mode against its reference, over the tasks (medians of their medians)."""
    head = f"- `{mode}` {level} against {rows['reference'].iloc[0]}"
    scored = rows.dropna(subset=[f"{name}_ratio"])
    if scored.empty:
        return f"{head}: no configuration ran both; not compared."
    change = scored["metric_change"].dropna()
    metric = f"{change.median():+.3g}" if len(change) else "n/a (no metric)"
    return (f"{head}: {name} x{fmt(scored[f'{name}_ratio'].median(), 3)}, main metric "
            f"{metric} (median over {len(scored)} task(s), {int(scored['n_pairs'].sum())} "
            "matched configurations)")


def _by_mode(analysis: Analysis) -> list[str]:
    """The accuracy view split by each mode the runs vary; nothing when none varies."""
    table, name = analysis.accuracy_by_mode, analysis.response.name
    if table is None or table.empty:
        return []
    lines = ["### Split by the modes the runs vary", "",
             "Per task, each level of a mode against its first level (`reference`), over "
             "configurations that ran both and differ in nothing else (`n_pairs`): "
             f"`{name}_ratio` is the median of level / reference, `metric_change` the median "
             "of level - reference in the task's metric (also `accuracy_by_mode.csv`).", "",
             md_table(table)]
    others = table[table["level"] != table["reference"]]
    lines += [_mode_line(mode, level, rows, name)
              for (mode, level), rows in others.groupby(["mode", "level"], sort=False)]
    return lines + [""]


def energy_section(analysis: Analysis, figures: Figures) -> list[str]:
    """Energy against time per model; nothing at all when no analysed run has both."""
    table = analysis.power
    if table.empty:
        return []
    pairs = ("the fastest fine-tuning iteration's time and energy" if analysis.kind ==
             "finetuning" else "the whole evaluation's time and energy, per sample")
    lines = ["## Energy against time", "",
             f"{int(table['runs'].sum())} of {analysis.n_analysed} analysed runs carry energy; "
             f"per model, {pairs} (same boundaries, so energy / time is the average power "
             "drawn). Medians; a model's time mixes the settings it ran with, its power much "
             "less.", "", md_table(table)]
    sentence = speed_for_power(table)
    lines += [sentence, ""] if sentence else []
    lines += _image(figures, "energy_time", "energy against time per model")
    return lines + ["On the plot, runs on one dashed line draw the same average power; a model "
                    "further left (faster) on a higher line buys its speed with power.", ""]


def render_report(analysis: Analysis, figures: Figures, sources: list[str],
                  further: Sequence[tuple[str, str]] = ()) -> str:
    """`report.md`: the analysis's sections, then the `further` (heading, markdown) ones."""
    lines = [f"# {analysis.kind.capitalize()} {analysis.response.name} analysis", ""]
    lines += environment_section(analysis)
    lines += data_section(analysis, sources, figures)
    lines += descriptive_section(analysis, figures)
    lines += anova_section(analysis, figures)
    lines += regression_section(analysis, figures)
    lines += forest_section(analysis, figures)
    lines += accuracy_section(analysis, figures)
    lines += energy_section(analysis, figures)
    for heading, text in further:
        lines += [f"## {heading}", "", text, ""]
    return "\n".join(lines)
