"""Statistics: ANOVA and its checks, the log-linear fit, the forest, time against accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from timing_trainer.analysis.stats import accuracy, anova, descriptive, forest, regression
from timing_trainer.analysis.stats.distribution import with_task_size
from timing_trainer.analysis.stats.frame import analysis_frame
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.testing.runs import (
    MODEL_EFFECTS,
    TASK_EFFECTS,
    TRUE_LOG_SLOPES,
    write_run_folders,
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = write_run_folders(tmp_path_factory.mktemp("runs"), 240, seed=7)
    return analysis_frame(load_runs([root]))


def test_anova_matches_scipy_and_eta_squared(data):
    table = anova.one_way_anova(data)
    assert table["factor"].tolist() == ["task", "model", "max_seq_length", "batch_size"]
    for row in table.itertuples():
        groups = [g["time"].to_numpy() for _, g in data.groupby(row.factor)]
        f, p = stats.f_oneway(*groups)
        assert row.F == pytest.approx(f, rel=1e-9) and row.p == pytest.approx(p, rel=1e-6)
        grand = data["time"].mean()
        ss_between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
        ss_total = ((data["time"] - grand) ** 2).sum()
        assert row.eta_sq == pytest.approx(ss_between / ss_total, rel=1e-9)
    assert table.set_index("factor").loc["task", "p"] < 1e-10  # task effects are large


def test_anova_skips_a_constant_factor(data):
    one_level = data.assign(batch_size=16.0)
    table = anova.one_way_anova(one_level).set_index("factor")
    assert np.isnan(table.loc["batch_size", "F"]) and table.loc["batch_size", "n_levels"] == 1


def test_assumption_checks_and_tukey(data):
    checks = anova.assumption_checks(data).set_index("factor")
    assert set(checks.columns) >= {"shapiro_W", "shapiro_p", "levene_stat", "levene_p"}
    assert 0 < checks.loc["task", "shapiro_W"] <= 1
    tukey = anova.tukey_hsd(data, ["task"])
    assert len(tukey) == 6  # 4 tasks -> 6 pairs
    pair = tukey[(tukey.group1 == "cola") & (tukey.group2 == "wnli")].iloc[0]
    cola, wnli = (data.loc[data.task == t, "time"].mean() for t in ("cola", "wnli"))
    assert pair["meandiff"] == pytest.approx(wnli - cola, abs=1e-3) and bool(pair["reject"])


def test_loglinear_recovers_multiplicative_effects(data):
    result = regression.fit_loglinear(data, k=5)
    assert result.formula.startswith('log_time ~ C(model, Treatment("bert-base-uncased"))')
    coef = result.coefficients.set_index("term")
    distil = coef.loc['C(model, Treatment("bert-base-uncased"))[T.distilbert-base-uncased]']
    assert distil["multiplier"] == pytest.approx(
        MODEL_EFFECTS["distilbert/distilbert-base-uncased"], rel=0.05)
    cola = coef.loc['C(task, Treatment("rte"))[T.cola]']
    assert cola["multiplier"] == pytest.approx(TASK_EFFECTS["cola"], rel=0.05)
    assert coef.loc["max_seq_length", "coef"] == pytest.approx(
        TRUE_LOG_SLOPES["max_seq_length"], rel=0.1)
    assert result.r2 > 0.95 and result.adj_r2 <= result.r2 and result.n == len(data)
    assert len(result.cv["r2_folds"]) == 5 and 0.9 < result.cv["r2_mean"] <= result.r2 + 0.02
    assert result.cv["median_abs_pct_error"] < 10


def test_loglinear_falls_back_when_reference_absent(data):
    subset = data[data["model"] != "bert-base-uncased"]
    result = regression.fit_loglinear(subset, k=3)
    assert result.references["model"] != "bert-base-uncased"
    assert result.references["model"] in set(subset["model"])


def test_random_forest_with_thesis_split(data):
    result = forest.random_forest(data, n_estimators=30, k=3)
    assert result.n_test == pytest.approx(0.3 * len(data), abs=1)
    assert result.settings["max_depth"] == 10 and result.settings["split_seed"] == 42
    assert result.r2_test > 0.8 and len(result.cv["r2_folds"]) == 3
    assert set(result.importances["feature"]) == {"model", "task", "batch_size", "max_seq_length"}
    assert result.importances["importance"].sum() == pytest.approx(1.0)
    # task and length carry the generated effects; batch size the smallest one
    assert result.importances["feature"].iloc[0] in ("task", "max_seq_length")
    assert result.importances["feature"].iloc[-1] == "batch_size"


def test_pareto_front_is_exactly_the_undominated_runs():
    runs = pd.DataFrame({
        "task": ["a"] * 6 + ["b"],
        "time": [1.0, 2.0, 3.0, 2.5, 4.0, 2.0, 9.0],
        "metric": [0.5, 0.7, 0.9, 0.6, 0.8, 0.7, 0.1],
    })
    front = accuracy.pareto_front(runs)
    a = front[front.task == "a"]
    assert list(zip(a.time, a.metric)) == [(1.0, 0.5), (2.0, 0.7), (3.0, 0.9)]
    assert front[front.task == "b"].shape[0] == 1


def test_accuracy_relation_per_task(data):
    relation = accuracy.accuracy_relation(data).set_index("task")
    assert set(relation.index) == {"cola", "mrpc", "rte", "wnli"}
    row = relation.loc["rte"]
    sub = data[data.task == "rte"].dropna(subset=["metric"])
    assert row["n"] == len(sub)
    assert row["pearson_r"] == pytest.approx(stats.pearsonr(sub.time, sub.metric)[0])
    assert row["slope_per_log_time"] == pytest.approx(0.04, abs=0.03)  # generated slope 0.04


def test_descriptive_tables(data):
    desc = descriptive.describe(data).iloc[0]
    assert desc["count"] == len(data) and desc["min"] <= desc["q1"] <= desc["median"]
    assert desc["lower_whisker"] >= desc["min"] and desc["upper_whisker"] <= desc["max"]
    assert desc["n_outliers"] == len(descriptive.outliers(data))
    combos = descriptive.min_per_combination(data)
    first = combos.iloc[0]
    mask = np.ones(len(data), bool)
    for f in ("task", "model", "max_seq_length", "batch_size"):
        mask &= (data[f] == first[f]).to_numpy()
    assert first["min_time"] == pytest.approx(data.loc[mask, "time"].min())
    corr = descriptive.correlations(with_task_size(data, "finetuning"))
    assert list(corr.columns[:4]) == ["batch_size", "max_seq_length", "task_size", "time"]
    assert corr.loc["task_size", "time"] == pytest.approx(
        np.corrcoef(data["n_train"].astype(float), data["time"])[0, 1])


def test_inference_frame_uses_eval_batch_size(tmp_path):
    root = write_run_folders(tmp_path, 12, seed=1, failed_share=0.0)
    table = load_runs([root], kind="inference")
    frame = analysis_frame(table)
    assert (frame["batch_size"] == table["eval_batch_size"].astype(float)).all()
    assert (frame["train_batch_size"] == table["batch_size"].astype(float)).all()
