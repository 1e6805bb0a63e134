"""The runs table's shared vocabulary: one column per task metric whatever the source's spelling,
the thesis's row order attached in the export loader's one read, and the thesis's fair-comparison
subsets shown only for runs they are about."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from timing_trainer.analysis.analyze import analyze, build_report
from timing_trainer.analysis.stats.groups import FAIR_SUBSETS, NOT_APPLICABLE
from timing_trainer.analysis.table import exports
from timing_trainer.analysis.table.columns import METRIC_COLUMNS
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.thesis import ROWS_PER_FILE, THESIS_FILES
from timing_trainer.testing.runs import synthetic_results, write_run_folders

SMALL = {"n_estimators": 10}
OURS = {"eval_accuracy": 0.71, "eval_f1": 0.62, "eval_matthews_correlation": 0.31,
        "eval_pearson": 0.8, "eval_spearmanr": 0.6, "eval_loss": 0.55}
THESIS = {"eval_acc": 0.71, "eval_f1": 0.62, "eval_mcc": 0.31, "eval_pearson": 0.8,
          "eval_spearmanr": 0.6, "eval_corr": 0.7, "eval_loss": 0.55}


def _export(path, names, task="RTE", model="bert-base-uncased", metrics=None, start=0):
    rows = [{"Name": name, "State": "finished", "task_name": task, "model_name_or_path": model,
             "max_seq_length": 128, "per_device_train_batch_size": 8,
             "per_device_eval_batch_size": 8, "finetuning_time_list": json.dumps([3.0 + i + start]),
             **(metrics or {})} for i, name in enumerate(names)]
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_every_metric_lands_in_one_column_from_either_spelling(tmp_path):
    results = synthetic_results(1, seed=1, failed_share=0.0)[0]
    results["config"]["task_name"] = "rte"
    results["eval_metrics"] = dict(OURS)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "timing_results.json").write_text(json.dumps(results))
    _export(tmp_path / "thesis.csv", ["t"], metrics=THESIS)
    table = load_runs([tmp_path / "run", tmp_path / "thesis.csv"]).set_index("name")
    ours, thesis = table.loc["run-00000"], table.loc["t"]
    for column in METRIC_COLUMNS:
        assert ours[column] == pytest.approx(thesis[column]), column
    assert ours["eval_pearson_spearman_mean"] == pytest.approx((0.8 + 0.6) / 2)
    assert ours["metric_name"] == thesis["metric_name"] == "eval_accuracy"
    assert ours["metric"] == thesis["metric"] == pytest.approx(0.71)
    assert not {"eval_acc", "eval_mcc", "eval_corr"} & set(table.columns)


def test_a_report_on_our_runs_has_no_substitution_note(tmp_path):
    root = write_run_folders(tmp_path / "runs", 20, seed=2, failed_share=0.0)
    text = build_report([str(root)], tmp_path / "o", forest_settings=SMALL, k=2).read_text()
    assert "main metric of the runs whose main metric it is" not in text
    assert "no column for" not in text
    assert "no run has Pearson correlation (`eval_pearson`)" in text
    pooled = pd.read_csv(tmp_path / "o" / "pooled_metric_correlations.csv").set_index("metric")
    assert pooled.loc["eval_accuracy", "n"] > 0 and pooled.loc["eval_f1", "n"] > 0


def test_thesis_row_order_comes_with_the_one_read(tmp_path, monkeypatch):
    name = THESIS_FILES["finetuning"][2]  # "finetuning/RTE_cased.csv", third in the table
    thesis = _export(tmp_path / name, ["a", "b", "c"], model="bert-base-cased")
    other = _export(tmp_path / "other" / "mine.csv", list("defghi"), start=10)
    reads = []
    real = exports.read_export
    monkeypatch.setattr(exports, "read_export", lambda path: reads.append(path) or real(path))
    build_report([str(thesis), str(other)], tmp_path / "o", plots_on=False,
                 forest_settings=SMALL, k=2)
    assert sorted(map(str, reads)) == sorted([str(thesis), str(other)])  # one read per file
    table = load_runs([other, thesis]).set_index("name")
    assert list(table.loc[["a", "b", "c"], "order_key"]) == [2 * ROWS_PER_FILE + i
                                                             for i in range(3)]
    assert table.loc[list("defghi"), "order_key"].isna().all()
    shuffled = table.reset_index().sample(frac=1, random_state=1)
    assert list(analyze(shuffled, forest_settings=SMALL, k=2).data["name"][:3]) == ["a", "b", "c"]


def _named(results, models, tasks):
    for index, result in enumerate(results):
        result["config"]["model_name_or_path"] = models[index % len(models)]
        result["config"]["task_name"] = tasks[(index // len(models)) % len(tasks)]
    return results


def test_fair_subsets_only_for_runs_they_are_about(tmp_path):
    tiny = _named(synthetic_results(24, seed=3, failed_share=0.0),
                  ["demo/assets/models/tiny-cased", "demo/assets/models/tiny-uncased"],
                  ["rte", "sst2", "mrpc"])
    for index, result in enumerate(tiny):
        folder = tmp_path / "tiny" / f"r{index}"
        folder.mkdir(parents=True)
        (folder / "timing_results.json").write_text(json.dumps(result))
    analysis = analyze(load_runs([tmp_path / "tiny"]), forest_settings=SMALL, k=2)
    assert analysis.fair.empty and analysis.fair_left_out == list(FAIR_SUBSETS)
    text = build_report([str(tmp_path / "tiny")], tmp_path / "o", plots_on=False,
                        forest_settings=SMALL, k=2).read_text()
    assert NOT_APPLICABLE in text and "XLNet did not run" not in text
    thesis_like = load_runs([tmp_path / "tiny"]).assign(
        model=lambda t: np.where(t.index % 2, "xlnet-base-cased", "bert-base-uncased"))
    fair = analyze(thesis_like, forest_settings=SMALL, k=2)
    assert set(fair.fair["subset"]) == {"models_without_sst2_cola", "tasks_without_xlnet"}
    assert set(fair.fair_left_out) == {"batch_size_without_mrpc_sst2",
                                       "length_and_batch_without_mrpc_sst2", "models_on_cola_rte"}
