"""The cost model from any folder: a run's recorded model shape first, its output folder for older
runs, and `predict`/`analyze` giving the same answer from two folders (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from helpers.costmodel_runs import feature_row, run_config

from timing_trainer.costmodel.features import run_features
from timing_trainer.costmodel.report_section import report_section
from timing_trainer.costmodel.shapes import RECORDED, TABLE, model_shape
from timing_trainer.errors import CostModelWarning
from timing_trainer.glue.model_record import model_record
from timing_trainer.testing.costs import synthetic_runs, true_time

REPO = Path(__file__).resolve().parents[2]
TINY = {"model_type": "bert", "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2,
        "intermediate_size": 64, "max_position_embeddings": 512}


def _model(folder: Path, **config) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({**TINY, **config}))
    return folder


def test_a_recorded_shape_needs_no_model_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # "models/tiny" exists nowhere from here
    row = feature_row(model_name_or_path="models/tiny", model="tiny",
                      model_config_json=json.dumps(TINY))
    feats = run_features(pd.DataFrame([row, {**row, "model_config_json": None}]), "finetuning")
    assert list(feats["has_shape"]) == [True, False]
    assert feats.loc[0, "shape_source"] == RECORDED and feats.loc[0, "model_key"] == "models/tiny"
    on_disk = model_shape(str(_model(tmp_path / "models" / "tiny")))
    assert feats.loc[0, "params"] == on_disk.params  # the same shape as the config.json gives


def test_a_recorded_table_model_keeps_the_tables_key(tmp_path):
    """A recorded BERT-base and a planned one are the same model to the fit."""
    config = {"model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12,
              "intermediate_size": 3072, "vocab_size": 30522}
    row = feature_row(model_name_or_path="google-bert/bert-base-uncased",
                      model_config_json=json.dumps(config))
    feats = run_features(pd.DataFrame([row]), "finetuning")
    assert (feats.loc[0, "model_key"], feats.loc[0, "shape_source"]) == ("bert-base-uncased",
                                                                         TABLE)
    other = json.dumps({**config, "num_hidden_layers": 2})  # a local folder named like it
    feats = run_features(pd.DataFrame([{**row, "model_config_json": other}]), "finetuning")
    assert feats.loc[0, "shape_source"] == RECORDED


def test_an_older_runs_relative_model_resolves_above_its_output_folder(tmp_path, monkeypatch):
    project = tmp_path / "project"
    _model(project / "models" / "tiny")
    monkeypatch.chdir(tmp_path)
    row = feature_row(model_name_or_path="models/tiny", model="tiny",
                      output_dir=str(project / "runs" / "000-abc"))
    feats = run_features(pd.DataFrame([row, {**row, "output_dir": None}]), "finetuning")
    assert list(feats["has_shape"]) == [True, False]
    assert feats.loc[0, "shape_source"] == str(project / "models" / "tiny" / "config.json")


def test_the_glue_program_records_the_folder_and_its_config_json(tmp_path, monkeypatch):
    folder = _model(tmp_path / "models" / "tiny")
    monkeypatch.chdir(tmp_path)
    args = SimpleNamespace(model_name_or_path="models/tiny", config_name=None, cache_dir=None,
                           model_revision="main")
    record = model_record(args, config=None)
    assert record["model_resolved"] == str(folder.resolve())
    assert json.loads(record["model_config_json"]) == {**TINY}


def test_a_cost_model_that_cannot_fit_says_why_in_the_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runs = synthetic_runs(models=("bert-base-uncased",), seed=1).assign(
        model="tiny", model_name_or_path="models/tiny")
    with pytest.warns(CostModelWarning, match="no finished run has a model of known size"):
        text = report_section(runs, tmp_path / "out", "finetuning")
    assert text.startswith("_Cost model: not fitted (no finished run has a model of known size "
                           "(models/tiny): not in the model table")
    assert str(tmp_path) in text  # the folder it looked from


# --- the same answer from two folders, in real processes ------------------------------------

def _project(root: Path) -> tuple[Path, Path]:
    """A project folder as a local sweep leaves it: two tiny models under `models/`, runs that
    name them by relative path with absolute output folders; tiny-a's runs record their model
    (as the GLUE program does now), tiny-b's do not (older runs); and a sweep of tiny-a."""
    models = {name: _model(root / "models" / name, intermediate_size=size)
              for name, size in (("tiny-a", 64), ("tiny-b", 128))}
    table = synthetic_runs(models=tuple(str(p) for p in models.values()), tasks=("rte", "sst2"),
                           lengths=(64, 128), batches=(8, 16), seed=3).assign(
        n_train=256, n_eval=64)
    table["time"] = true_time(table, "finetuning") * np.exp(
        np.random.default_rng(0).normal(0, 0.03, len(table)))
    for row in table.to_dict("records"):
        name = Path(row["model_name_or_path"]).name
        out = root / "runs" / row["run_id"]
        out.mkdir(parents=True)
        config = {**run_config(row), "model_name_or_path": f"models/{name}",
                  "output_dir": str(out)}
        if name == "tiny-a":
            config["model_config_json"] = (root / "models" / name / "config.json").read_text()
        (out / "timing_results.json").write_text(json.dumps({
            "status": "finished", "config": config, "finetuning_time": row["time"],
            "finetuning_time_list": [row["time"]] * 3, "environment": {"device": "cpu"}}))
    sweep = root / "sweep.yaml"
    sweep.write_text(f"name: tiny\nmethod: grid\nparameters:\n  task_name:\n    value: rte\n"
                     f"  model_name_or_path:\n    value: {models['tiny-a']}\n"
                     "  max_seq_length:\n    values: [64, 128]\n"
                     "  per_device_train_batch_size:\n    value: 8\n"
                     "  max_train_samples:\n    value: 256\n")
    return root / "runs", sweep


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "timing_trainer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _rounded(value):
    """JSON with its floats to 9 significant digits: the random forest's R² can differ in its
    last digit between two processes in the same folder, which is no difference of folders."""
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return float(f"{value:.9g}") if isinstance(value, float) else value


@pytest.mark.slow  # four real processes, two of them whole analyses: about 20 s on two cores
def test_predict_and_analyze_give_the_same_json_from_any_folder(tmp_path):
    runs, sweep = _project(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    seen = {}
    for cwd in (tmp_path / "project", elsewhere):
        predicted = _cli(cwd, "predict", "--runs", str(runs), "--sweep", str(sweep), "--json")
        assert predicted.returncode == 0, predicted.stderr
        out = tmp_path / "report"
        analyzed = _cli(cwd, "analyze", str(runs), "--out", str(out), "--no-plots",
                        "--folds", "3", "--forest-folds", "0", "--forest-trees", "20")
        assert analyzed.returncode == 0, analyzed.stderr
        report = (out / "report.md").read_text()
        seen[cwd] = (json.loads(predicted.stdout),
                     _rounded(json.loads((out / "summary.json").read_text())),
                     report[report.index("Cost model"):])
    at_home, away = seen.values()
    assert at_home[0] == away[0]
    assert at_home[0]["fit"].startswith("fitted on 16 run(s)")
    assert at_home[1] == away[1]
    assert at_home[2] == away[2] and "not fitted" not in at_home[2]


@pytest.mark.slow  # one real GLUE run (torch and transformers load): about 10 s
def test_a_glue_run_records_what_prices_it_from_any_folder(tmp_path, monkeypatch):
    """The GLUE program, run in a project folder with a relative model path, is priced the same
    from another folder: it recorded its model's folder and config, and its data sizes."""
    from timing_trainer.analysis.table.load import load_runs
    from timing_trainer.glue import run
    from timing_trainer.glue.demo_assets import write_demo_assets
    from timing_trainer.results.schema import validate_results

    project = tmp_path / "project"
    write_demo_assets(project / "assets", tasks=["rte"], train_size=16, dev_size=8)
    monkeypatch.chdir(project)
    assert run.main([
        "--task_name=rte", "--model_name_or_path=assets/models/tiny-uncased",
        "--data_dir=assets", f"--output_dir={project / 'runs' / 'one'}", "--max_seq_length=32",
        "--per_device_train_batch_size=8", "--num_train_epochs=1", "--finetuning_iters=1",
        "--report_to=none", "--disable_tqdm=True", "--use_cpu=True",
        f"--tokenization_cache_dir={tmp_path / 'cache'}"]) == 0
    results = json.loads((project / "runs" / "one" / "timing_results.json").read_text())
    validate_results(results)
    config = results["config"]
    assert config["model_resolved"] == str(project / "assets" / "models" / "tiny-uncased")
    assert json.loads(config["model_config_json"])["model_type"] == "bert"
    assert (config["n_train_samples"], config["n_eval_samples"]) == (16, 8)
    monkeypatch.chdir(tmp_path)
    table = load_runs([str(project / "runs")], kind="finetuning")
    feats = run_features(table, "finetuning")
    assert feats.loc[0, "has_shape"] and feats.loc[0, "shape_source"] == RECORDED
    assert (table.loc[0, "n_train"], table.loc[0, "n_eval"]) == (16, 8)
    assert feats.loc[0, "params"] == model_shape(config["model_resolved"]).params
