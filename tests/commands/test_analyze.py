"""`timing-trainer analyze` on bad input, as a user meets it: a real process, its exit status, and
one line on stderr (no traceback), before any expensive work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import pandas as pd
import pytest
from helpers.wandb_standin import API_KEY, closed_port_url

from timing_trainer.testing.runs import synthetic_results, write_run_folders


def analyze(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def one_error_line(proc: subprocess.CompletedProcess, *phrases: str) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("timing-trainer analyze: error: ")
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("config", ["bert-base", ["task_name", "rte"]])
def test_results_file_with_a_config_that_is_no_object(tmp_path, config):
    results = synthetic_results(1, failed_share=0.0)[0]
    results["config"] = config
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "timing_results.json").write_text(json.dumps(results))
    proc = analyze(tmp_path / "run", "--out", tmp_path / "out", "--no-plots")
    one_error_line(proc, "nothing to analyse: 1 run(s) read", "`config` is a "
                   f"{type(config).__name__}, not an object")


@pytest.mark.parametrize("damage", ["cut short", "zip"])
def test_broken_workbook(tmp_path, damage):
    path = tmp_path / "runs.xlsx"
    if damage == "cut short":
        pd.DataFrame({"task_name": ["RTE"] * 50, "model_name_or_path": ["bert-base-uncased"] * 50,
                      "finetuning_time_list": ["[1.0, 2.0]"] * 50}).to_excel(path, index=False)
        path.write_bytes(path.read_bytes()[:3000])
    else:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("a.txt", "x")
    proc = analyze(path, "--out", tmp_path / "out")
    one_error_line(proc, f"cannot read export {path}: not an Excel workbook")


def test_csv_with_a_header_only(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("Name,State,task_name,model_name_or_path,finetuning_time_list\n")
    one_error_line(analyze(path, "--out", tmp_path / "out"), f"no runs in {path}")


def test_out_is_a_file(tmp_path):
    runs = write_run_folders(tmp_path / "runs", 3, failed_share=0.0)
    (tmp_path / "report").write_text("not a folder")
    one_error_line(analyze(runs, "--out", tmp_path / "report"), "is a file, not a folder")


def test_out_in_a_read_only_folder(tmp_path):
    runs = write_run_folders(tmp_path / "runs", 3, failed_share=0.0)
    if os.geteuid() == 0:  # root writes into any mode-0555 folder: use one the kernel refuses
        if not os.path.isdir("/sys/kernel"):
            pytest.skip("no read-only folder for root here")
        out = "/sys/kernel/timing-trainer-report"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o555)
        out = locked / "report"
    one_error_line(analyze(runs, "--out", out), f"--out {out}: cannot write there")


def test_unreachable_wandb_server(tmp_path):
    proc = analyze("wandb:ent/proj", "--out", tmp_path / "out",
                   env={"WANDB_BASE_URL": closed_port_url(), "WANDB_API_KEY": API_KEY})
    line = one_error_line(proc, "could not be reached")
    assert "AuthenticationError" not in line


def test_thesis_folder_missing(tmp_path):
    proc = analyze("--thesis", "finetuning", tmp_path / "nothing", "--out", tmp_path / "out")
    one_error_line(proc, "thesis exports missing", "timing-trainer thesis-data")
    proc = analyze("--thesis", "finetuning", "--kind", "inference", tmp_path, "--out",
                   tmp_path / "out")
    one_error_line(proc, "--thesis finetuning analyses finetuning times")


def test_the_flags_become_one_options_value(tmp_path):
    """The command checks its flags and hands the analysis one `AnalysisOptions`."""
    import argparse

    from timing_trainer.analysis.options import AnalysisOptions
    from timing_trainer.commands.analyze import add_parser, analysis_options

    parser = add_parser(argparse.ArgumentParser().add_subparsers())
    args = parser.parse_args([str(tmp_path), "--out", str(tmp_path / "o"), "--metric", "energy",
                              "--no-plots", "--folds", "3", "--forest-folds", "0",
                              "--forest-trees", "10", "--cache-dir", str(tmp_path / "c")])
    assert analysis_options(args) == AnalysisOptions(
        metric="energy", k=3, forest_k=0, cache_dir=tmp_path / "c", plots_on=False,
        forest_settings={"max_depth": None, "test_size": None, "n_estimators": 10})
    assert analysis_options(parser.parse_args([str(tmp_path), "--out", "o"])) == \
        AnalysisOptions(forest_settings={"max_depth": None, "test_size": None,
                                         "n_estimators": None})
