"""Analysis input (issue 21, item 8): one unreadable results file, whatever it holds, never
stops the analysis of the others; text in the CSVs is escaped against formula injection; metric
values out of their range and unknown schema versions warn with the run named. Through the
command a user runs (a real process, its exit status) where that is how they meet it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pandas as pd
import pytest

from timing_trainer.analysis.report.tables import escape_formulas
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.testing.runs import synthetic_results, write_results

GOOD = 6


def _base() -> dict:
    return synthetic_results(1, seed=9, failed_share=0.0)[0]


def _deep() -> str:
    return "[" * 100_000 + "]" * 100_000


BAD_CONTENTS = {
    "json list": "[1, 2]",
    "json string": '"hello"',
    "json number": "42",
    "binary garbage": b"\x00\xff\xfe\x89PNG\r\n",
    "empty": "",
    "nested too deep": _deep(),
    "environment a list": {"environment": [1, 2]},
    "eval_metrics text": {"eval_metrics": "x"},
    "status a list": {"status": [1]},
    "times text": {"finetuning_time_list": "abc"},
    "times a mapping": {"finetuning_time_list": {"a": 1}},
    "an integer beyond float": {"finetuning_time_list": [10 ** 400]},
    "task a list": {"config_task_name": ["rte"]},
    "model a mapping": {"config_model_name_or_path": {"a": 1}},
    "wandb id a mapping": {"wandb_run_id": {"x": 1}},
}


def _content(value):
    if isinstance(value, (str, bytes)):
        return value
    result = _base()
    for key, item in value.items():
        if key.startswith("config_"):
            result["config"][key[len("config_"):]] = item
        else:
            result[key] = item
    return json.dumps(result)  # an integer beyond float stays exact in JSON


def _load(*sources) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs([str(s) for s in sources], cache_dir=False)
    return table, [str(w.message) for w in caught]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return write_results(tmp_path_factory.mktemp("good"),
                         synthetic_results(GOOD, seed=2, failed_share=0.0))


@pytest.mark.parametrize("case", sorted(BAD_CONTENTS))
def test_one_bad_file_never_stops_the_others(good, tmp_path, case):
    path = tmp_path / "bad" / "timing_results.json"
    path.parent.mkdir()
    content = _content(BAD_CONTENTS[case])
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    table, messages = _load(good, tmp_path / "bad")
    assert (table["state"] == "finished").sum() >= GOOD
    if (table["state"] == "invalid").any():
        assert any("unreadable results file" in m and str(path) in m for m in messages)


@pytest.mark.parametrize("kind", ["folder", "dangling link", "unreadable"])
def test_what_is_no_file_is_skipped_with_its_reason(good, tmp_path, kind):
    run = tmp_path / "run"
    run.mkdir()
    path = run / "timing_results.json"
    if kind == "folder":
        path.mkdir()
    elif kind == "dangling link":
        path.symlink_to(tmp_path / "gone.json")
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads a file without read permission")
        path.write_text(json.dumps(_base()))
        path.chmod(0)
    table, messages = _load(good, tmp_path)
    assert (table["state"] == "invalid").sum() == 1 and (table["state"] == "finished").sum() \
        == GOOD
    (message,) = [m for m in messages if "unreadable" in m]
    assert str(path) in message
    if kind == "folder":
        assert "is a folder, not a results file" in message


def test_the_command_analyses_the_others_after_garbage(good, tmp_path):
    for name, content in (("a", b"\x00\xff"), ("b", _deep()), ("c", "[1]")):
        (tmp_path / "runs" / name).mkdir(parents=True)
        path = tmp_path / "runs" / name / "timing_results.json"
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", str(good),
                           str(tmp_path / "runs"), "--out", str(tmp_path / "out"),
                           "--no-plots", "--forest-trees", "5", "--forest-folds", "0"],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert f"{GOOD + 3} runs, {GOOD} finished" in proc.stdout
    assert "3 unreadable results file(s)" in proc.stderr and "Traceback" not in proc.stderr


def test_formula_text_is_escaped_in_every_csv(tmp_path):
    results = synthetic_results(6, seed=3, failed_share=0.0)
    names = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tTAB", "\rCR"]
    for result, name in zip(results, names):
        result["config"]["run_name"] = name
    root = write_results(tmp_path / "runs", [dict(r, config=dict(r["config"],
                                                                  run_name=f"r{i}"))
                                             for i, r in enumerate(results)])
    for index, name in enumerate(names):  # run names with the folder names kept plain
        path = root / f"r{index}" / "timing_results.json"
        data = json.loads(path.read_text())
        data["config"]["run_name"] = name
        path.write_text(json.dumps(data))
    from timing_trainer.analysis.analyze import build_report

    out = tmp_path / "out"
    build_report([str(root)], out, cache_dir=False, forest_settings={"n_estimators": 5},
                 forest_k=0, n_jobs=1, plots_on=False)
    runs = pd.read_csv(out / "runs.csv", keep_default_na=False)
    assert sorted(runs["name"]) == sorted("'" + n for n in names)
    assert runs["max_seq_length"].map(lambda v: str(v)[0] != "'").all()  # numbers untouched
    assert pd.api.types.is_numeric_dtype(runs["time"])


def test_escape_leaves_numbers_and_plain_text_alone():
    frame = pd.DataFrame({"text": ["-1", "ok", "=A1", None], "number": [-1.5, 2.0, 3.0, 4.0]})
    out = escape_formulas(frame)
    assert out["text"].tolist()[:3] == ["'-1", "ok", "'=A1"] and pd.isna(out["text"][3])
    assert out["number"].tolist() == [-1.5, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("metric, value, task", [("eval_accuracy", 42.0, "rte"),
                                                 ("eval_pearson", 7.5, "stsb"),
                                                 ("eval_pearson", -1.2, "stsb")])
def test_metric_outside_its_range_warns_with_the_run(tmp_path, metric, value, task):
    results = synthetic_results(3, seed=1, failed_share=0.0)
    results[1]["config"]["run_name"] = "007-outofrange"
    results[1]["config"]["task_name"] = task
    results[1]["eval_metrics"] = {metric: value}
    root = write_results(tmp_path, results)
    table, messages = _load(root)
    (message,) = [m for m in messages if "outside" in m]
    assert message.startswith(f"{metric}: 1 value(s) outside [")
    assert f"007-outofrange ({value:g})" in message
    assert table[metric].max() == value or table[metric].min() == value  # kept, not changed


def test_unknown_schema_version_warns_and_goes_on(tmp_path):
    results = synthetic_results(3, seed=1, failed_share=0.0)
    results[0]["schema_version"] = 99
    results[0]["config"]["run_name"] = "000-future"
    root = write_results(tmp_path, results)
    table, messages = _load(root)
    (message,) = [m for m in messages if "schema_version" in m]
    assert "000-future" in message and "unknown schema_version 99" in message
    assert (table["state"] == "finished").sum() == 3


def test_predict_k_zero_is_one_line(run_folders):
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "predict", "--runs",
                           str(run_folders), "--cv", "kfold", "--k", "0"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "timing-trainer predict: error: --k 0: k-fold cross-validation needs at least 2 folds"]
