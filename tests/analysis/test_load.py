"""Loading runs: run folders, W&B exports (CSV and XLSX), mixed sources, messy exports."""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

from timing_trainer.analysis.table.columns import COLUMNS
from timing_trainer.analysis.table.load import finished_runs, load_runs
from timing_trainer.errors import RunsDataWarning, RunsLoadError
from timing_trainer.testing.runs import synthetic_results, write_run_folders

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
    ft = load_runs([path]).set_index("run_id")
    assert sorted(ft.index) == ["sw1/a", "sw1/b", "sw1/c"]
    assert ft["state"].to_dict() == {"sw1/a": "finished", "sw1/b": "failed", "sw1/c": "crashed"}
    a, c = ft.loc["sw1/a"], ft.loc["sw1/c"]
    assert a["time"] == pytest.approx(3.0)  # min of the list, not finetuning_time
    assert a["finetuning_time_list"] == [5.0, 3.0, 4.0]
    assert ft["task"].to_dict() == {"sw1/a": "rte", "sw1/b": "rte", "sw1/c": "mrpc"}
    assert c["task_display"] == "MRPC"
    assert c["metric"] == pytest.approx(0.8) and c["metric_name"] == "eval_f1"
    assert a["device"] == "cpu" and a["precision"] == "fp32"
    assert a["n_train"] == 2490 and a["n_eval"] == 277
    assert a["time_cv"] == pytest.approx(0.25)  # std 1 / mean 4 of (5, 3, 4)
    inf = load_runs([path], kind="inference").set_index("run_id")
    # thesis convention: the last (partial) batch is dropped before the minimum
    assert inf.loc["sw1/a", "time"] == pytest.approx(0.3)


def test_folder_of_exports_and_mixed_sources(tmp_path):
    exports = tmp_path / "exports"
    exports.mkdir()
    write_export(exports / "one.csv", [export_row("a"), export_row("b", times=(3.5, 2.5))])
    write_export(exports / "two.xlsx", [export_row("c", sweep="sw2", times=(4.0, 3.0))])
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
    with pytest.warns(RunsDataWarning, match=r"finetuning_time_list of 1 run.*1 of 3: nan"):
        table = load_runs([one])
    assert len(table) == 1 and table["time"].iloc[0] == pytest.approx(5.0)
    assert table["finetuning_time_list"].iloc[0] == [7.0, 5.0]  # the bad entry left out


def test_same_run_through_two_sources_is_one_run(tmp_path):
    root = write_run_folders(tmp_path / "sweep", 3, seed=6, failed_share=0.0)
    with pytest.warns(RunsDataWarning, match="duplicate"):
        table = load_runs([root, root / "run-00001"])
    assert len(table) == 3


def caught_messages(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught if issubclass(w.category, RunsDataWarning)]


def write_results(root, name, **changes):
    results = synthetic_results(1, seed=len(name), failed_share=0.0)[0]
    results["config"]["run_name"] = name
    results.update(changes)
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "timing_results.json").write_text(json.dumps(results))  # Infinity/NaN as JSON does
    return results


def test_non_finite_and_absurd_times_become_missing_without_fallback(tmp_path):
    write_results(tmp_path, "some-bad", finetuning_time_list=[float("inf"), 3.0, float("nan")])
    write_results(tmp_path, "all-inf", finetuning_time_list=[float("inf")] * 3,
                  finetuning_time=5.0)
    write_results(tmp_path, "huge", finetuning_time_list=None, finetuning_time=1e300,
                  inference_time=-1.0)
    write_results(tmp_path, "ok")
    table, messages = caught_messages(lambda: load_runs([tmp_path]))
    by_name = table.set_index("name")
    assert by_name.loc["some-bad", "time"] == 3.0
    assert by_name.loc["some-bad", "finetuning_time_list"] == [3.0]
    assert pd.isna(by_name.loc["all-inf", "time"])  # never the finetuning_time column's 5.0
    assert pd.isna(by_name.loc["huge", "time"]) and pd.isna(by_name.loc["huge", "finetuning_time"])
    assert pd.isna(by_name.loc["huge", "inference_time"])
    assert list(finished_runs(table)["name"].sort_values()) == ["ok", "some-bad"]
    lists = [m for m in messages if m.startswith(f"{tmp_path}: finetuning_time_list of 2 run")]
    assert len(lists) == 1 and "some-bad: 2 of 3: inf, nan" in lists[0] and "all-inf" in lists[0]
    assert any("finetuning_time of 1 run(s)" in m and "huge: 1e+300" in m for m in messages)
    assert any("inference_time of 1 run(s)" in m and "huge: -1" in m for m in messages)
    floats = table.select_dtypes("float64")
    assert np.isfinite(floats.to_numpy()[~np.isnan(floats.to_numpy())]).all()


def test_inf_text_in_export_cells_is_missing_with_a_warning(tmp_path):
    path = write_export(tmp_path / "runs.csv", [
        export_row("a", finetuning_time_list="[inf, 2.5]"),
        export_row("b", times=None, finetuning_time="inf", eval_acc="inf"),
        export_row("c", times=(4.0, 3.5), max_seq_length="1e300",
                   batches=(0.5, 0.4, float("inf"))),
    ])
    table, messages = caught_messages(lambda: load_runs([path]))
    rows = table.set_index("name")
    assert rows.loc["a", "time"] == 2.5
    assert pd.isna(rows.loc["b", "time"]) and pd.isna(rows.loc["b", "metric"])
    assert pd.isna(rows.loc["c", "max_seq_length"])
    assert any("column metric" in m and "not finite" in m and "sw1/b" in m for m in messages)
    assert any("column max_seq_length" in m and "not finite integers" in m for m in messages)
    inference, _ = caught_messages(lambda: load_runs([path], kind="inference"))
    # the thesis's rule drops the last batch by position, the bad one here: min of 0.5, 0.4
    assert inference.set_index("name").loc["c", "time"] == 0.4


def test_results_files_of_the_wrong_shape_are_invalid_runs(tmp_path):
    write_results(tmp_path, "config-text", config="bert")
    write_results(tmp_path, "config-list", config=["task_name", "rte"])
    write_results(tmp_path, "metrics-list", eval_metrics=[0.5])
    write_results(tmp_path, "status-number", status=1)
    write_results(tmp_path, "good")
    table, messages = caught_messages(lambda: load_runs([tmp_path]))
    assert table["state"].value_counts().to_dict() == {"invalid": 4, "finished": 1}
    (note,) = [m for m in messages if "unreadable" in m]
    assert note.startswith("4 unreadable results file(s)")
    assert "`config` is a str, not an object" in note and "`config` is a list" in note


@pytest.mark.parametrize("damage", ["cut short", "zip", "csv named xlsx"])
def test_broken_workbooks_are_one_line_errors(tmp_path, damage):
    path = tmp_path / "runs.xlsx"
    if damage == "cut short":
        write_export(tmp_path / "whole.xlsx", [export_row("a"), export_row("b", times=(9.0,))])
        whole = (tmp_path / "whole.xlsx").read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
    elif damage == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "not a workbook")
    else:
        write_export(tmp_path / "runs.csv", [export_row("a")]).rename(path)
    with pytest.raises(RunsLoadError, match=r"cannot read export .*runs\.xlsx: not an Excel"
                       ) as info:
        load_runs([path])
    assert "\n" not in str(info.value)


def test_sources_without_runs(tmp_path):
    header_only = tmp_path / "empty.csv"
    pd.DataFrame(columns=EXPORT_HEADER).to_csv(header_only, index=False)
    with pytest.raises(RunsLoadError, match="no runs in .*empty.csv"):
        load_runs([header_only])
    good = write_export(tmp_path / "good.csv", [export_row("a")])
    table, messages = caught_messages(lambda: load_runs([header_only, good]))
    assert len(table) == 1 and any(m.startswith("no runs in") for m in messages)


def test_a_run_left_running_is_counted_not_analysed(tmp_path):
    write_results(tmp_path, "killed", status="running", eval_metrics={})
    write_results(tmp_path, "done")
    table, messages = caught_messages(lambda: load_runs([tmp_path]))
    assert table.set_index("name").loc["killed", "state"] == "running"
    assert finished_runs(table)["name"].tolist() == ["done"]
    assert any("1 run(s) still marked running" in m and "killed" in m for m in messages)


def test_a_copied_run_folder_is_counted_once(tmp_path):
    root = write_run_folders(tmp_path / "sweep", 4, seed=8, failed_share=0.0)
    shutil.copytree(root / "run-00002", root / "run-00002 (copy)")
    table, messages = caught_messages(lambda: load_runs([root]))
    assert len(table) == 4
    (note,) = [m for m in messages if "duplicate" in m]
    assert note.startswith("1 duplicate run(s) (same configuration and measured times")
    assert "run-00002 (copy)" in note


def test_two_failed_attempts_of_one_configuration_stay_two_runs(tmp_path):
    for name in ("attempt-1", "attempt-2"):
        write_results(tmp_path, name, status="failed", finetuning_time_list=None,
                      finetuning_time=None, inference_time=None, inference_time_list=None,
                      inference_total_time=None, config={"task_name": "rte", "run_name": name})
    table, messages = caught_messages(lambda: load_runs([tmp_path]))
    assert len(table) == 2 and not any("duplicate" in m for m in messages)


def test_rows_come_in_one_order_whatever_the_file_order(tmp_path):
    runs = synthetic_results(12, seed=21, failed_share=0.1)
    for root, names in ((tmp_path / "a", range(12)), (tmp_path / "b", reversed(range(12)))):
        for position, index in enumerate(names):
            folder = root / f"{position:02d}"
            folder.mkdir(parents=True)
            (folder / "timing_results.json").write_text(json.dumps(runs[index]))
    first, second = load_runs([tmp_path / "a"]), load_runs([tmp_path / "b"])
    assert first["name"].tolist() != sorted(first["name"])  # not simply by name or path
    provenance = ["run_id", "source", "name", "folder"]
    pd.testing.assert_frame_equal(first.drop(columns=provenance),
                                  second.drop(columns=provenance))


def test_task_sizes_and_time_cv(tmp_path):
    export = write_export(tmp_path / "thesis.csv", [export_row("a", task="CoLA",
                                                               times=(3.0, 3.0, 6.0))])
    old = load_runs([export]).iloc[0]
    assert (old["n_train"], old["n_eval"]) == (8550, 1042)  # the sizes the thesis used
    assert old["time_cv"] == pytest.approx(np.std([3, 3, 6], ddof=1) / 4)
    results = write_results(tmp_path / "new", "one-iteration", finetuning_time_list=[2.0])
    results_table = load_runs([tmp_path / "new"])
    assert results_table["n_eval"].iloc[0] == results["config"]["n_eval_samples"]
    assert pd.isna(results_table["time_cv"].iloc[0])  # one iteration: no CV
