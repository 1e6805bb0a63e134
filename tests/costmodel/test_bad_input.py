"""`predict` under bad input: times that are not measurements, sources
that cannot be read, runaway sweep files, `--only`, extrapolation, running and copied runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers.costmodel_runs import predict, write_run_folders

from timing_trainer.commands.main import main
from timing_trainer.costmodel.cross_validation import cross_validate
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.costmodel.selection import MAX_SECONDS, usable_runs
from timing_trainer.costmodel.sweep_estimate import estimate_sweep, sweep_runs
from timing_trainer.errors import RunsDataWarning
from timing_trainer.sweep.config.runs import expand_runs, load_sweep_file
from timing_trainer.sweep.config.select import parse_only, select_runs
from timing_trainer.testing.costs import synthetic_runs, true_time

ROOT = Path(__file__).resolve().parents[2]
RTE_SWEEP = ROOT / "sweeps" / "sweep_rte_cased.yaml"
NOT_MEASUREMENTS = [np.inf, -np.inf, np.nan, 0.0, -3.0, 1e300, MAX_SECONDS * 2, "inf"]


RUNS = {"noise": 0.1, "seed": 4, "tasks": ("rte", "mrpc", "cola", "stsb"), "head": 60}


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("timing-trainer predict: error: ")
    return lines[0]


# --- 1. times that are not measurements -----------------------------------------------------

@pytest.mark.parametrize("bad", NOT_MEASUREMENTS, ids=str)
def test_a_time_that_is_no_measurement_is_left_out_of_fit_and_scores(runs, bad):
    table = runs.astype({"time": object})
    table.loc[table.index[7], "time"] = bad
    clean = runs.drop(index=runs.index[7])
    with pytest.warns(RunsDataWarning) if _present(bad) else nullcontext():
        result = cross_validate(table, "finetuning", "kfold", k=5)
    expected = cross_validate(clean, "finetuning", "kfold", k=5).summary()
    summary = result.summary()
    assert summary["n_without_time"] == 1 and summary["n_read"] == 60
    assert summary["n_used"] == 59 and summary["n"] == 59
    assert summary["median_ape"] == pytest.approx(expected["median_ape"], rel=1e-9)
    assert runs.loc[runs.index[7], "run_id"] not in set(result.runs["run_id"])
    with pytest.warns(RunsDataWarning) if _present(bad) else nullcontext():
        model = fit_cost_model(table, "finetuning", calibrate=False)
    reference = fit_cost_model(clean, "finetuning", calibrate=False)
    pd.testing.assert_frame_equal(model.coefficients(), reference.coefficients())
    assert model.counts.bad_time == 1 and model.n_fitted == 59


def _present(value) -> bool:
    """A value there but not a measurement (warned about), rather than a missing one."""
    return not (isinstance(value, float) and np.isnan(value))


def test_all_times_unusable_is_one_clear_error(runs):
    with pytest.raises(ValueError, match=r"no finished runs with a usable.*3 finished without"), \
            pytest.warns(RunsDataWarning, match="syn-4-0000 \\(inf s\\)"):
        fit_cost_model(runs.head(3).assign(time=np.inf), "finetuning")


def test_usable_runs_counts_every_reason(runs):
    table = runs.head(6).copy()
    table.loc[table.index[0], "state"] = "running"
    table.loc[table.index[1], "state"] = "failed"
    table.loc[table.index[2], "time"] = np.nan
    used, counts = usable_runs(table)
    assert len(used) == 3 and counts.used == 3 and counts.read == 6
    assert counts.not_finished == {"running": 1, "failed": 1} and counts.bad_time == 1
    assert "1 running" in counts.describe() and "1 failed" in counts.describe()


@pytest.mark.slow
@pytest.mark.parametrize("bad", ["Infinity", "1e300"])
def test_predict_kfold_never_scores_an_infinite_time(tmp_path, runs, bad, capsys):
    """The issue's case: one run's times `Infinity` (or 1e300) turned a k-fold median error of
    8.4% into 18.0%, silently; now the figures are those without that run, and it is counted."""
    clean = write_run_folders(tmp_path / "clean", runs.drop(index=runs.index[7]))
    assert main(["predict", "--runs", str(clean), "--cv", "kfold", "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    root = write_run_folders(tmp_path / "runs", runs)
    victim = root / runs["run_id"].iloc[7] / "timing_results.json"
    victim.write_text(victim.read_text().replace(f"{runs['time'].iloc[7]}", bad))
    assert bad in victim.read_text()
    proc = predict("--runs", str(root), "--cv", "kfold", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Overflow" not in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["n"] == 59 and summary["n_read"] == 60 and summary["n_without_time"] == 1
    for figure in ("median_ape", "mean_ape", "p90_ape"):
        assert summary[figure] == pytest.approx(expected[figure], rel=1e-9)


@pytest.mark.slow
def test_predict_sweep_with_a_huge_time_gives_no_traceback(tmp_path, runs):
    root = write_run_folders(tmp_path / "runs", runs)
    victim = root / runs["run_id"].iloc[3] / "timing_results.json"
    victim.write_text(victim.read_text().replace(f"{runs['time'].iloc[3]}", "1e300"))
    proc = predict("--runs", str(root), "--sweep", str(RTE_SWEEP), "--only", "bf16=false",
                   "--only", "model_name_or_path=google-bert/bert-base-cased")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "fitted on 59 run(s) (60 run(s) read, 59 used; left out: 1 finished without" \
        in proc.stdout


# --- 2. bad sources: one line, exit 2 -------------------------------------------------------

def _results_with_config(config) -> dict:
    return {"status": "finished", "config": config, "finetuning_time": 3.0,
            "finetuning_time_list": [3.0]}


def _bad_source(tmp_path: Path, case: str) -> Path:
    if case in ("config-string", "config-list"):
        folder = tmp_path / case
        folder.mkdir()
        config = "task_name=rte" if case == "config-string" else ["rte", 128]
        (folder / "timing_results.json").write_text(json.dumps(_results_with_config(config)))
        return folder
    if case == "xlsx-cut-short":
        good = tmp_path / "good.xlsx"
        pd.DataFrame({"Name": ["a"], "task_name": ["rte"], "finetuning_time": [3.0]}).to_excel(
            good, index=False)
        data = good.read_bytes()
        (tmp_path / "cut.xlsx").write_bytes(data[: len(data) // 2])
        return tmp_path / "cut.xlsx"
    if case == "zip-named-xlsx":
        with zipfile.ZipFile(tmp_path / "archive.xlsx", "w") as archive:
            archive.writestr("notes.txt", "not a workbook")
        return tmp_path / "archive.xlsx"
    if case == "header-only-csv":
        (tmp_path / "runs.csv").write_text("Name,State,task_name,finetuning_time\n")
        return tmp_path / "runs.csv"
    return tmp_path / "no-such-folder"


@pytest.mark.slow
@pytest.mark.parametrize("case", ["config-string", "config-list", "xlsx-cut-short",
                                  "zip-named-xlsx", "missing", "header-only-csv"])
def test_bad_source_is_one_line_and_exit_2(tmp_path, case):
    source = _bad_source(tmp_path, case)
    line = one_error_line(predict("--runs", str(source), "--cv", "kfold"))
    assert source.name in line, line


# --- 3. runaway sweep files -----------------------------------------------------------------

def _grid_file(path: Path) -> Path:
    """10 parameters x 10 values: 10^10 runs, which once grew `predict` to 24 GB."""
    lines = ["name: big", "method: grid",
             "command: [python, -m, timing_trainer.glue, --do_train, '${args}']", "parameters:"]
    lines += [f"  p{i}:\n    values: [{', '.join(map(str, range(10)))}]" for i in range(10)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _alias_bomb(path: Path) -> Path:
    """A 1 KB YAML whose aliases expand to billions of items."""
    text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    for i, name in enumerate("bcdefghi"):
        prev = "a" if i == 0 else "bcdefghi"[i - 1]
        text += f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]\n"
    path.write_text(text + "method: grid\nparameters: {x: {values: *i}}\n")
    return path


@pytest.mark.slow
@pytest.mark.parametrize("make", [_grid_file, _alias_bomb], ids=["10x10-grid", "alias-bomb"])
def test_runaway_sweep_fails_fast_in_bounded_memory(tmp_path, runs, make):
    root = write_run_folders(tmp_path / "runs", runs.head(12))
    sweep = make(tmp_path / "sweep.yaml")
    line = one_error_line(predict("--runs", str(root), "--sweep", str(sweep), limit_mb=1024))
    assert "sweep.yaml" in line and "MemoryError" not in line, line
    if make is _grid_file:
        assert re.search(r"10,?000,?000,?000", line), line


# --- 4. --only: one implementation ----------------------------------------------------------

def test_only_is_the_sweep_commands_selection(tmp_path):
    config = load_sweep_file(RTE_SWEEP)
    for items in (["bf16=false"], ["bf16=False", "max_seq_length=128,256"]):
        only = parse_only(items)
        _, selected = sweep_runs(RTE_SWEEP, only, "finetuning")
        assert selected == select_runs(expand_runs(config, seed=0), only)
        assert selected and all(run["bf16"] is False for run in selected)
    import timing_trainer.costmodel.sweep_estimate as module

    assert not hasattr(module, "parse_only")  # one rule, in timing_trainer.sweep.config.select


# --- 5. extrapolation said in the headline --------------------------------------------------

def _tiny_model(folder: Path) -> str:
    """A two-layer BERT config like the demo's models (about 42 thousand parameters)."""
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "bert", "vocab_size": 300, "hidden_size": 32, "num_hidden_layers": 2,
        "intermediate_size": 64, "max_position_embeddings": 512}))
    return str(folder)


@pytest.fixture
def demo_like_runs(tmp_path):
    """16 runs like `timing-trainer demo`'s: two tiny models, RTE and SST-2 with 256 examples,
    lengths 64 and 128, batch sizes 8 and 16."""
    models = (_tiny_model(tmp_path / "tiny-cased"), _tiny_model(tmp_path / "tiny-uncased"))
    table = synthetic_runs(models=models, tasks=("rte", "sst2"), lengths=(64, 128),
                           batches=(8, 16), seed=3).assign(n_train=256, n_eval=64)
    table["time"] = true_time(table, "finetuning") * np.exp(
        np.random.default_rng(0).normal(0, 0.05, len(table)))
    return table


def test_predicting_base_models_from_tiny_ones_says_extrapolation(tmp_path, demo_like_runs,
                                                                   capsys):
    root = write_run_folders(tmp_path / "runs", demo_like_runs)
    assert main(["predict", "--runs", str(root), "--sweep", str(RTE_SWEEP),
                 "--only", "bf16=false"]) == 0
    out = capsys.readouterr().out
    head = out.splitlines()[:3]
    assert head[1].startswith("fitted on 16 run(s)")
    assert head[2].startswith("extrapolation: the fitted runs' models have 42.4 k parameters")
    factors = re.search(r"this sweep's are (\d+)x to (\d+)x larger", head[2])
    assert factors and 1000 < int(factors[1]) < int(factors[2]) < 10000, head[2]
    assert "sequences are 64 to 128 tokens long, this sweep's are up to 4.0x longer" in head[2]
    assert "n/a" not in out
    assert "(1) far outside the fitted runs:" in out
    # every run far outside: no total, and the pilot recommended with the exact command
    assert re.search(r"^total: not given: all 36 runs lie far outside the fitted runs", out, re.M)
    assert not re.search(r"total: \d", out)
    assert (f"Measure this machine with a short pilot instead: timing-trainer pilot {RTE_SWEEP} "
            "--out pilot/sweep_rte_cased --only bf16=false") in out
    assert main(["predict", "--runs", str(root), "--sweep", str(RTE_SWEEP),
                 "--only", "bf16=false", "--force"]) == 0
    forced = capsys.readouterr().out
    assert re.search(r"total: .*, no 90% interval: 36 of 36 runs have none.*given because "
                     "of --force", forced)


def test_extrapolation_in_json_and_python(tmp_path, demo_like_runs):
    model = fit_cost_model(demo_like_runs, "finetuning")
    est = estimate_sweep(model, RTE_SWEEP, only={"bf16": ["false"]})
    data = est.to_dict()
    assert data["extrapolation"].startswith("extrapolation:")
    assert data["total_s"] is None and data["total_low_s"] is None
    assert data["total_note"].startswith("not given: all 36 runs lie far outside")
    assert data["pilot_command"].endswith("--out pilot/sweep_rte_cased --only bf16=false")
    assert all(value["total"] is None for value in data["costs"].values() if value)
    assert est.total[0] > 0  # the sum is still there for Python callers that ask for it
    assert all(run["interval_note"].startswith("far outside") for run in data["runs"])
    assert (est.runs["support"].str.endswith("(extrapolated)")).all()
    forced = estimate_sweep(model, RTE_SWEEP, only={"bf16": ["false"]}, force=True).to_dict()
    assert forced["total_s"] == pytest.approx(est.total[0])
    assert forced["total_note"].startswith("given because of --force")


def test_a_sweep_within_the_fitted_runs_has_no_extrapolation(runs):
    model = fit_cost_model(runs, "finetuning")
    sweep = runs.head(4).assign(task="sst2", n_train=67349)
    pred = model.predict(sweep)
    assert not pred["extrapolated"].any() and (pred["interval_note"] == "").all()
    assert pred["lower"].notna().all()


def test_an_interval_that_cannot_be_given_says_why(runs):
    bert_only = synthetic_runs(models=("bert-base-uncased", "bert-base-cased"), seed=5)
    model = fit_cost_model(bert_only, "finetuning")
    roberta = bert_only.head(3).assign(model="roberta-base", model_name_or_path="roberta-base")
    pred = model.predict(roberta)
    assert pred["predicted"].notna().all() and pred["lower"].isna().all()
    note = pred["interval_note"].iloc[0]  # roberta-base is 1.1x bert-base: not far outside
    assert "model family the fit has not seen" in note and "one (bert)" in note, note


# --- 6. running and copied runs -------------------------------------------------------------

def test_running_and_copied_runs_are_not_counted(tmp_path, runs, capsys):
    root = write_run_folders(tmp_path / "runs", runs.head(20))
    first = root / runs["run_id"].iloc[0]
    shutil.copytree(first, root / "copy-of-first")  # the same run, copied by hand
    killed = root / runs["run_id"].iloc[1] / "timing_results.json"
    killed.write_text(killed.read_text().replace('"status": "finished"', '"status": "running"'))
    assert main(["predict", "--runs", str(root), "--cv", "kfold", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_read"] == 20, summary  # the copy is one run
    assert summary["not_finished_states"] == {"running": 1} and summary["n"] == 19
    assert main(["predict", "--runs", str(root), "--cv", "kfold"]) == 0
    assert "runs: 20 run(s) read, 19 used; left out: 1 running" in capsys.readouterr().out
    sweep = ["--sweep", str(RTE_SWEEP), "--only", "bf16=false"]
    assert main(["predict", "--runs", str(root), *sweep]) == 0
    assert "fitted on 19 run(s) (20 run(s) read, 19 used; left out: 1 running)" in \
        capsys.readouterr().out
