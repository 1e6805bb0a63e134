"""The thesis's extra statistics: diagnostics, alternatives, pooled quality, noise, groups, order.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from timing_trainer.analysis.analyze import analyze, summary
from timing_trainer.analysis.stats import (
    alternatives,
    distribution,
    groups,
    noise,
    pooled,
    regression,
)
from timing_trainer.analysis.stats.diagnostics import breusch_pagan
from timing_trainer.analysis.stats.frame import analysis_frame
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.order import canonical_order
from timing_trainer.results.measurement import CV_WARNING_THRESHOLD
from timing_trainer.testing.runs import write_run_folders

SMALL = {"n_estimators": 20}


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    return load_runs([write_run_folders(tmp_path_factory.mktemp("runs"), 120, seed=11)])


@pytest.fixture(scope="module")
def data(table):
    return distribution.with_task_size(analysis_frame(table), "finetuning")


def test_breusch_pagan_sees_growing_variance():
    import statsmodels.api as sm

    rng = np.random.default_rng(0)
    x = np.linspace(1, 10, 300)
    X = sm.add_constant(x)
    steady = sm.OLS(x + rng.normal(0, 1, x.size), X).fit()
    growing = sm.OLS(x + rng.normal(0, 1, x.size) * x, X).fit()
    assert breusch_pagan(growing)["breusch_pagan_lm_p"] < 1e-4
    assert breusch_pagan(steady)["breusch_pagan_lm_p"] > 0.01


def test_loglinear_diagnostics_are_the_fits_own(data):
    fit = regression.fit_loglinear(data, k=3)
    d = fit.diagnostics
    assert d["f_statistic"] == pytest.approx(fit.model.fvalue)
    assert d["aic"] == pytest.approx(fit.model.aic) and d["bic"] == pytest.approx(fit.model.bic)
    assert d["condition_number"] == pytest.approx(fit.model.condition_number)
    assert d["skew"] == pytest.approx(stats.skew(fit.residuals))
    assert d["kurtosis"] == pytest.approx(stats.kurtosis(fit.residuals, fisher=False))
    assert 1.5 < d["durbin_watson"] < 2.5  # generated runs: independent errors


def test_alternative_models(data):
    fits = alternatives.fit_alternatives(data)
    ll = regression.fit_loglinear(data, k=0)
    quadratic, interaction = fits["quadratic_length"], fits["batch_length_interaction"]
    assert "I(max_seq_length ** 2)" in quadratic["formula"]
    assert "+ max_seq_length" not in quadratic["formula"]
    assert interaction["formula"].endswith("batch_size:max_seq_length")
    assert interaction["r2"] >= ll.r2 - 1e-12  # a nested model cannot fit worse in sample
    # generated times are exponential in length: the log-linear form fits best
    assert quadratic["r2"] < ll.r2 and fits["untransformed"]["r2"] < ll.r2
    assert "multiplier" not in fits["untransformed"]["coefficients"]
    table = alternatives.alternatives_table(fits)
    assert list(table["model"]) == list(alternatives.MODELS)


def test_pooled_relation_matches_scipy(data):
    correlations, notes = pooled.metric_correlations(data)
    row = correlations.set_index("metric").loc["eval_accuracy"]
    pair = data[["time", "eval_accuracy"]].dropna()
    assert row["n"] == len(pair) == int((data["metric_name"] == "eval_accuracy").sum()) > 3
    assert row["pearson_r"] == pytest.approx(stats.pearsonr(pair.time, pair.eval_accuracy)[0])
    on_log = pooled.metric_on_time(data, log=True)
    assert on_log["slope"] == pytest.approx(stats.linregress(np.log(pair.time),
                                                            pair.eval_accuracy).slope)
    missing = correlations.set_index("metric").loc["eval_pearson_spearman_mean"]
    assert missing["n"] == 0 and "0 run(s)" in missing["why_not"]


def test_pooled_note_names_only_the_metrics_no_run_has(data):
    """Generated runs carry accuracy (RTE, WNLI), F1 (MRPC) and Matthews correlation (CoLA)."""
    _correlations, notes = pooled.metric_correlations(data)
    assert len(notes) == 1
    assert "no run has Pearson correlation (`eval_pearson`)" in notes[0]
    assert "evaluation loss (`eval_loss`)" in notes[0]
    for present in ("eval_accuracy", "eval_f1", "eval_matthews_correlation"):
        assert present not in notes[0]
    assert "main metric" not in notes[0]
    every = data.assign(**{m: 0.5 for m in pooled.METRICS})
    assert pooled.metric_correlations(every)[1] == []


def test_noise_summary_from_lists_and_from_the_loaders_column(data):
    assert noise.list_cv([1.0, 1.0]) == 0.0 and np.isnan(noise.list_cv([2.0]))
    assert noise.list_cv([1.0, 3.0]) == pytest.approx(np.std([1, 3], ddof=1) / 2)
    without = data.drop(columns=["time_cv"], errors="ignore")
    result = noise.noise_summary(without, "finetuning")
    cvs = without["finetuning_time_list"].map(noise.list_cv)
    assert result["source"] == "finetuning_time_list"
    assert result["share_above"] == pytest.approx((cvs > CV_WARNING_THRESHOLD).mean())
    assert result["median_cv"] == pytest.approx(cvs.median())
    assert result["noisiest"]["cv"].iloc[0] == pytest.approx(cvs.max())
    given = noise.noise_summary(without.assign(time_cv=0.2), "finetuning")
    assert given["source"] == "time_cv" and given["share_above"] == 1.0
    none = noise.noise_summary(without.assign(finetuning_time_list=[[1.0]] * len(without)),
                               "finetuning")
    assert "two or more" in none["why_not"]


def test_cv_threshold_is_the_trainers_default():
    from timing_trainer.arguments import TimingOptions

    default = TimingOptions.__dataclass_fields__["cv_warning_threshold"].default
    assert default == CV_WARNING_THRESHOLD


def test_distribution_and_groups(data):
    hist = distribution.histogram_counts(data)
    assert sum(hist["counts"]) == len(data) and len(hist["edges"]) == 21
    log = distribution.log_summary(data)
    assert log["median"] == pytest.approx(np.log(data["time"]).median())
    assert (data["tokens_per_batch"] == data["batch_size"] * data["max_seq_length"]).all()
    fair = groups.fair_comparisons(data)
    batches = fair[fair["subset"] == "batch_size_without_mrpc_sst2"]
    assert batches["count"].sum() == (~data["task"].isin(["mrpc", "sst2"])).sum()
    fastest = groups.extreme_runs(data, n=3)
    assert list(fastest["time"]) == sorted(data["time"])[:3]


def test_canonical_order_ignores_input_order(data):
    shuffled = data.sample(frac=1, random_state=3)
    pd.testing.assert_frame_equal(canonical_order(data), canonical_order(shuffled))
    keyed = data.assign(order_key=np.arange(len(data))[::-1])
    assert list(canonical_order(keyed.sample(frac=1, random_state=4))["order_key"]) == \
        list(range(len(data)))


def test_summary_figures_do_not_depend_on_row_order(table):
    first = summary(analyze(table, forest_settings=SMALL, k=3, n_jobs=1))
    shuffled = table.sample(frac=1, random_state=5).reset_index(drop=True)
    second = summary(analyze(shuffled, forest_settings=SMALL, k=3, n_jobs=1))
    for key in ("random_forest", "loglinear", "untransformed_ols", "alternative_models",
                "anova", "tukey_hsd", "pooled_time_metric", "measurement_noise",
                "histogram_20_bins", "fastest_runs"):
        assert first[key] == second[key], key
    assert first["random_forest"]["cv"]["r2_folds"]  # the folds exist and were compared


def test_runs_without_a_task_skip_that_factor_with_a_note(table):
    no_task = table.assign(task=None, task_display=None)
    analysis = analyze(no_task, forest_settings=SMALL, k=2, n_jobs=1)
    assert any("factor task skipped (no run has it)" in n for n in analysis.notes)
    assert analysis.loglinear is not None and "task" not in analysis.loglinear.formula
    assert analysis.forest is not None and "task" not in analysis.forest.settings["features"]
    assert np.isnan(analysis.anova.set_index("factor").loc["task", "F"])


def test_analyze_on_three_runs_is_a_report_not_a_traceback(tmp_path):
    root = write_run_folders(tmp_path / "r", 3, seed=2, failed_share=0.0)
    out = tmp_path / "out"
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", str(root),
                           "--out", str(out), "--no-plots"], capture_output=True, text=True,
                          timeout=300, env={"MPLBACKEND": "Agg", "PATH": "/usr/bin:/bin",
                                            "HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "log-linear regression not fitted" in proc.stdout
    data = json.loads((out / "summary.json").read_text())
    assert data["loglinear"] is None and any("log-linear" in n for n in data["notes"])
    assert data["random_forest"] is None


def test_options_are_one_value_or_their_keywords(table):
    """`AnalysisOptions` handed down whole, or its fields as keywords: the same analysis."""
    from dataclasses import FrozenInstanceError

    from timing_trainer.analysis.options import AnalysisOptions, options_with

    options = AnalysisOptions(forest_settings=SMALL, k=2, n_jobs=1)
    assert options_with(None, {"forest_settings": SMALL, "k": 2, "n_jobs": 1}) == options
    assert options_with(options, {"metric": "energy"}).metric == "energy" and options.k == 2
    with pytest.raises(TypeError):
        options_with(None, {"folds": 2})  # no such option: as an unknown keyword was
    with pytest.raises(FrozenInstanceError):
        options.k = 3  # type: ignore[misc]
    given = {"n_estimators": 20}
    assert AnalysisOptions(forest_settings=given).forest_settings == given
    with pytest.raises(TypeError):
        AnalysisOptions(forest_settings=given).forest_settings["n_estimators"] = 5
    one = summary(analyze(table, "finetuning", options))
    keywords = summary(analyze(table, "finetuning", forest_settings=SMALL, k=2, n_jobs=1))
    assert json.dumps(one, sort_keys=True) == json.dumps(keywords, sort_keys=True)
