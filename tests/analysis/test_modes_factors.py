"""The modes the runs vary (LoRA's rank, torch.compile, ...) as factors of the random forest and
of time against accuracy; runs that vary none analysed exactly as before."""

from __future__ import annotations

import json
import re

import matplotlib
import pandas as pd
import pytest

from timing_trainer.analysis.analyze import analyze, write_outputs
from timing_trainer.analysis.report import plots
from timing_trainer.analysis.stats import accuracy, forest
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.testing.runs import demo_like_results, write_results

matplotlib.use("Agg")

LORA_TIME = 0.5  # LoRA's runs take half the time of full fine-tuning here ...
LORA_METRIC = -0.05  # ... and lose 0.05 of accuracy


def _results(lora: str | None):
    """The demo's grid, two runs per configuration: one full fine-tuning, one LoRA (`"varied"`),
    both full fine-tuning with the rank recorded (`"constant"`), or no mode recorded (None)."""
    results = demo_like_results(runs_per_configuration=2)
    for index, result in enumerate(results):
        adapted = lora == "varied" and index % 2 == 1
        spread = 0.01 * ((index // 2) % 3)  # the pair of a configuration alike; tasks not flat
        result["eval_metrics"] = {k: v + spread for k, v in result["eval_metrics"].items()}
        if lora is not None:
            result["config"]["lora_r"] = 8 if adapted else 0
        if adapted:
            result["finetuning_time_list"] = [t * LORA_TIME for t in
                                              result["finetuning_time_list"]]
            result["finetuning_time"] = min(result["finetuning_time_list"])
            result["eval_metrics"] = {k: v + LORA_METRIC for k, v in
                                      result["eval_metrics"].items()}
    return results


def _analysis(tmp_path, lora: str | None):
    table = load_runs([write_results(tmp_path / f"runs-{lora}", _results(lora))])
    return analyze(table, "finetuning", n_jobs=1, forest_k=0)


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    return _analysis(tmp_path_factory.mktemp("varied"), "varied")


def test_a_varied_lora_rank_is_a_feature_of_the_forest(varied):
    importances = varied.forest.importances.set_index("feature")["importance"]
    assert varied.forest.settings["features"][-1] == "lora_r"
    assert set(importances.index) == {"task", "model", "max_seq_length", "batch_size", "lora_r"}
    assert importances["lora_r"] > 0.2  # halving the time: one of the two largest effects
    assert importances.sum() == pytest.approx(1.0)


def test_time_against_accuracy_is_split_by_the_varied_mode(varied):
    table = varied.accuracy_by_mode
    assert set(table["mode"]) == {"lora_r"} and set(table["task"]) == {"rte", "sst2"}
    lora = table[table["level"] == "8"].set_index("task")
    assert (lora["reference"] == "0").all()
    assert lora["n_pairs"].tolist() == [8, 8]  # 2 models x 2 lengths x 2 batch sizes per task
    assert lora["time_ratio"].to_numpy() == pytest.approx([LORA_TIME] * 2, rel=0.05)
    assert lora["metric_change"].to_numpy() == pytest.approx([LORA_METRIC] * 2, abs=1e-9)
    full = table[table["level"] == "0"]
    assert (full["time_ratio"] == 1.0).all() and (full["metric_change"] == 0.0).all()
    assert (full["median_metric"] - lora["median_metric"].to_numpy()).to_numpy() == \
        pytest.approx([-LORA_METRIC] * 2)


def test_the_report_shows_the_split_and_the_mode_importance(varied, tmp_path):
    report = write_outputs(varied, tmp_path / "out", plots_on=False).read_text()
    assert "### Split by the modes the runs vary" in report
    line = re.search(r"- `lora_r` 8 against 0: time x([0-9.]+), main metric ([-+0-9.]+) ",
                     report)
    assert float(line[1]) == pytest.approx(LORA_TIME, rel=0.05)
    assert float(line[2]) == pytest.approx(LORA_METRIC)
    assert "The modes these runs vary are features too (importance): `lora_r`" in report
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert {row["level"] for row in summary["accuracy_by_mode"]} == {"0", "8"}
    assert "lora_r" in summary["pareto_front"][0]
    csv = pd.read_csv(tmp_path / "out" / "accuracy_by_mode.csv")
    assert len(csv) == 4 and set(csv["mode"]) == {"lora_r"}


def test_the_accuracy_plot_draws_a_marker_per_level(varied):
    ax = plots.time_vs_metric(varied.data, varied.pareto, style="lora_r")
    labels = ax.get_legend_handles_labels()[1]
    assert "rte (accuracy), lora_r 0" in labels and "sst2 (accuracy), lora_r 8" in labels
    plain = plots.time_vs_metric(varied.data, varied.pareto)
    assert plain.get_legend_handles_labels()[1] == ["rte (accuracy)", "sst2 (accuracy)"]


def _sections(analysis, out) -> str:
    """The forest and accuracy sections of the report (the files' names are the same)."""
    text = write_outputs(analysis, out, plots_on=False).read_text()
    return text[text.index("## Random forest"):text.index("Pareto front (")]


def test_without_a_varied_mode_the_output_is_unchanged(tmp_path):
    none, constant = _analysis(tmp_path, None), _analysis(tmp_path, "constant")
    for analysis in (none, constant):
        assert analysis.accuracy_by_mode.empty
        assert analysis.forest.settings["features"] == ["task", "max_seq_length",
                                                        "batch_size", "model"]
    pd.testing.assert_frame_equal(none.forest.importances, constant.forest.importances)
    assert none.forest.r2_test == constant.forest.r2_test
    assert _sections(none, tmp_path / "a") == _sections(constant, tmp_path / "b")
    assert "Split by the modes" not in _sections(none, tmp_path / "a")
    assert "modes these runs vary" not in _sections(none, tmp_path / "a")
    assert not (tmp_path / "a" / "accuracy_by_mode.csv").exists()
    assert "accuracy_by_mode" not in json.loads((tmp_path / "a" / "summary.json").read_text())


def test_the_default_features_are_the_theses_where_no_mode_varies(tmp_path):
    data = _analysis(tmp_path, None).data
    default = forest.random_forest(data, n_estimators=20, k=0)
    thesis = forest.random_forest(data, features=forest.FEATURES, n_estimators=20, k=0)
    pd.testing.assert_frame_equal(default.importances, thesis.importances)
    assert default.r2_test == thesis.r2_test


def test_runs_that_do_not_record_a_varied_mode_stay_in_as_their_own_level(varied):
    data = varied.data.copy()
    data["torch_compile"] = ["True" if i % 3 == 0 else None for i in range(len(data))]
    data.loc[data.index[:2], "torch_compile"] = "False"
    assert forest.varied_modes(data) == ("lora_r", "torch_compile")
    result = forest.random_forest(data, n_estimators=20, k=0)
    assert result.n_train + result.n_test == len(data)  # none dropped
    assert result.encodings["torch_compile"] == sorted(["(not recorded)", "False", "True"])
    table = accuracy.mode_tradeoff(data)
    assert set(table["mode"]) == {"lora_r", "torch_compile"}
    compiled = table[table["mode"] == "torch_compile"]
    assert set(compiled["level"]) == {"False", "True"}  # unrecorded runs are not a level here
