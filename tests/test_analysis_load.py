"""Loading runs: run folders, W&B exports (CSV and XLSX), mixed sources, messy exports."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from timing_trainer.analysis.columns import COLUMNS
from timing_trainer.analysis.load import finished_runs, load_runs
from timing_trainer.analysis.records import RunsDataWarning, RunsLoadError
from timing_trainer.analysis.synthetic import synthetic_results, write_run_folders

EXPORT_HEADER = ["Name", "State", "Sweep", "Created", "task_name", "model_name_or_path",
                 "max_seq_length", "per_device_train_batch_size", "per_device_eval_batch_size",
                 "learning_rate", "finetuning_iters", "fp16", "__cached__setup_devices",
                 "eval_acc", "eval_f1", "finetuning_time", "finetuning_time_list",
                 "inference_time", "inference_time_list"]


def export_row(name, state="finished", task="RTE", model="bert-base-uncased", times=(3.0, 2.0),
               batches=(0.5, 0.4, 0.1), sweep="sw1", **extra):
    row = {"Name": name, "State": state, "Sweep": sweep, "Created": "2020-08-02T09:54:05.000Z",
           "task_name": task, "model_name_or_path": model, "max_seq_length": 128,
           "per_device_train_batch_size": 8, "per_device_eval_batch_size": 16,
           "learning_rate": 2e-5, "finetuning_iters": len(times or ()), "fp16": "false",
           "__cached__setup_devices": '["cpu",0]', "eval_acc": 0.6, "eval_f1": None,
           "finetuning_time": 99.0 if times else None,  # not the min: the list is what counts
           "finetuning_time_list": json.dumps(list(times)) if times else None,
           "inference_time": 9.9 if batches else None,
           "inference_time_list": json.dumps(list(batches)) if batches else None}
    row.update(extra)
    return row


def write_export(path, rows, columns=EXPORT_HEADER):
    frame = pd.DataFrame(rows)
    frame = frame[[c for c in columns if c in frame.columns]]
    if path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def test_run_folders_are_found_recursively_and_mapped(tmp_path):
    write_run_folders(tmp_path / "sweep" / "a", 6, seed=1, failed_share=0.0)
    results = synthetic_results(1, seed=2, failed_share=0.0)[0]
    results["status"] = "failed"
    nested = tmp_path / "deeper" / "x" / "y"
    nested.mkdir(parents=True)
    (nested / "timing_results.json").write_text(json.dumps(results))
    table = load_runs([tmp_path])
    assert list(table.columns[: len(COLUMNS)]) == list(COLUMNS)
    assert len(table) == 7
    assert table["state"].value_counts().to_dict() == {"finished": 6, "failed": 1}
    row = table.iloc[0]
    assert row["task"] in {"rte", "mrpc", "cola", "wnli"}
    assert row["model"] in {"bert-base-uncased", "distilbert-base-uncased", "roberta-base",
                            "albert-base-v1"}
    assert row["device"] == "cuda" and row["gpu_name"].startswith("NVIDIA")
    assert row["time"] == pytest.approx(min(row["finetuning_time_list"]))
    assert row["metric_name"].startswith("eval_") and 0 < row["metric"] < 1
    assert row["n_train"] > 0 and row["eval_batch_size"] in (8, 16, 32)
    assert len(finished_runs(table)) == 6


def test_new_runs_use_inference_time_as_is(tmp_path):
    results = synthetic_results(1, seed=3, failed_share=0.0)[0]
    results["inference_time_list"] = [0.5, 0.4, 0.1]
    results["inference_time"] = 0.4  # the full-batch minimum the core already computed
    (tmp_path / "timing_results.json").write_text(json.dumps(results))
    table = load_runs([tmp_path], kind="inference")
    assert table["time"].iloc[0] == pytest.approx(0.4)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_loader_applies_the_thesis_rules(tmp_path, suffix):
    path = write_export(tmp_path / f"runs{suffix}", [
        export_row("a", times=(5.0, 3.0, 4.0), batches=(0.5, 0.3, 0.05)),
        export_row("b", state="failed", times=None, batches=None),
        export_row("c", state="crashed", task="MRPC", eval_acc=None, eval_f1=0.8),
    ])
    ft = load_runs([path])
    assert ft["state"].tolist() == ["finished", "failed", "crashed"]
    assert ft["run_id"].tolist() == ["sw1/a", "sw1/b", "sw1/c"]
    assert ft["time"].iloc[0] == pytest.approx(3.0)  # min of the list, not finetuning_time
    assert ft["finetuning_time_list"].iloc[0] == [5.0, 3.0, 4.0]
    assert ft["task"].tolist() == ["rte", "rte", "mrpc"]
    assert ft["task_display"].iloc[2] == "MRPC"
    assert ft["metric"].iloc[2] == pytest.approx(0.8) and ft["metric_name"].iloc[2] == "eval_f1"
    assert ft["device"].iloc[0] == "cpu" and ft["precision"].iloc[0] == "fp32"
    assert ft["n_train"].iloc[0] == 2490
    inf = load_runs([path], kind="inference")
    # thesis convention: the last (partial) batch is dropped before the minimum
    assert inf["time"].iloc[0] == pytest.approx(0.3)


def test_folder_of_exports_and_mixed_sources(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    write_export(exports / "one.csv", [export_row("a"), export_row("b")])
    write_export(exports / "two.xlsx", [export_row("c", sweep="sw2")])
    runs = write_run_folders(tmp_path / "runs", 3, seed=0, failed_share=0.0)
    table = load_runs([exports, runs])
    assert len(table) == 6
    assert table["source"].str.startswith("export:").sum() == 3
    assert table["source"].str.startswith("run_folder:").sum() == 3


def test_messy_export_warns_and_never_drops_silently(tmp_path):
    rows = [
        export_row("ok"),
        export_row("text", max_seq_length="long", learning_rate="abc"),
        export_row("crash", state="crashed", times=None, batches=None),
        export_row("notime", times=None),
        export_row("ok"),  # duplicate of the first
    ]
    columns = [c for c in EXPORT_HEADER if c not in ("per_device_eval_batch_size", "eval_f1")]
    path = write_export(tmp_path / "messy.csv", rows, columns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs([path])
    messages = [str(w.message) for w in caught if issubclass(w.category, RunsDataWarning)]
    assert any("missing column(s) per_device_eval_batch_size" in m for m in messages)
    assert any("max_seq_length" in m and "'long'" in m for m in messages)
    assert any("learning_rate" in m for m in messages)
    assert any("duplicate" in m and "sw1/ok" in m for m in messages)
    assert any("no finetuning time" in m and "sw1/notime" in m for m in messages)
    assert len(table) == 4  # the duplicate kept once, everything else counted
    assert table["state"].tolist().count("crashed") == 1
    assert pd.isna(table.loc[table["name"] == "text", "max_seq_length"].iloc[0])
    assert len(finished_runs(table)) == 2  # "ok" and "text"; "notime" has no time


def test_export_without_required_columns_is_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"Name": ["a"], "State": ["finished"]}).to_csv(path, index=False)
    with pytest.raises(RunsLoadError, match="missing column"):
        load_runs([path])
    path2 = write_export(tmp_path / "notimes.csv", [export_row("a")],
                         [c for c in EXPORT_HEADER if "finetuning_time" not in c])
    with pytest.raises(RunsLoadError, match="no finetuning time column"):
        load_runs([path2])


def test_bad_sources_raise_clear_errors(tmp_path):
    with pytest.raises(RunsLoadError, match="no such file"):
        load_runs([tmp_path / "absent"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunsLoadError, match="no timing_results.json"):
        load_runs([tmp_path / "empty"])
    with pytest.raises(RunsLoadError, match="kind"):
        load_runs([tmp_path], kind="training")
    with pytest.raises(RunsLoadError, match="bad W&B source"):
        load_runs(["wandb:only-entity"])


def test_corrupt_results_file_is_counted_as_invalid(tmp_path):
    write_run_folders(tmp_path, 2, failed_share=0.0)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "timing_results.json").write_text("{not json")
    with pytest.warns(RunsDataWarning, match="unreadable"):
        table = load_runs([tmp_path])
    assert table["state"].tolist().count("invalid") == 1
    assert len(finished_runs(table)) == 2


def test_single_results_file_and_non_finite_list_values(tmp_path):
    write_run_folders(tmp_path, 2, seed=4, failed_share=0.0)
    one = tmp_path / "run-00001" / "timing_results.json"
    results = json.loads(one.read_text())
    results["finetuning_time_list"] = [float("nan"), 7.0, 5.0]
    one.write_text(json.dumps(results))
    table = load_runs([one])
    assert len(table) == 1 and table["time"].iloc[0] == pytest.approx(5.0)


def test_same_run_through_two_sources_is_one_run(tmp_path):
    root = write_run_folders(tmp_path / "sweep", 3, seed=6, failed_share=0.0)
    with pytest.warns(RunsDataWarning, match="duplicate"):
        table = load_runs([root, root / "run-00001"])
    assert len(table) == 3
