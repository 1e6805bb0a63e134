"""`timing-trainer analyze --compare A B` and `--compare-by FACTOR`: a known 1.5x ratio
recovered within its interval, the demo's runs split by model, explicit matching, and bad input
as one line and exit 2 (real processes)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from timing_trainer.analysis.stats.compare import compare, ratio_interval
from timing_trainer.analysis.stats.frame import analysis_frame
from timing_trainer.analysis.table.load import load_runs
from timing_trainer.testing.runs import demo_like_results, synthetic_results, write_results

SLOWER = {"gpu_name": "NVIDIA A100-SXM4-80GB", "transformers_version": "5.30"}


def analyze(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    """One set of configurations run twice: B 1.5 times slower, on another GPU, own noise."""
    root = tmp_path_factory.mktemp("sets")
    common = {"seed": 3, "repeats": 8, "failed_share": 0.0}
    a = synthetic_results(40, noise_seed=1, **common)
    b = synthetic_results(40, noise_seed=2, time_scale=1.5, environment=SLOWER, **common)
    return write_results(root / "A", a[:36]), write_results(root / "B", b[4:])


def test_known_ratio_recovered_within_its_interval(two_sets, tmp_path):
    a, b = two_sets
    proc = analyze("--compare", a, b, "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "out" / "compare.json").read_text())
    time = summary["overall"]["time"]
    assert time["low"] <= 1.5 <= time["high"] and time["high"] - time["low"] < 0.05
    throughput = summary["overall"]["throughput"]
    assert throughput["low"] <= 1 / 1.5 <= throughput["high"]
    pairs = pd.read_csv(tmp_path / "out" / "compare.csv")
    covered = ((pairs["time_low"] <= 1.5) & (1.5 <= pairs["time_high"])).mean()
    assert covered >= 0.85, covered
    assert "time B / A: 1.5" in proc.stdout or "time B / A: 1.4" in proc.stdout
    for by in ("model", "task", "max_seq_length"):
        assert by in {row["by"] for row in summary["by"]}


def test_only_one_side_listed_and_matching_said(two_sets, tmp_path):
    a, b = two_sets
    assert analyze("--compare", a, b, "--out", tmp_path).returncode == 0
    summary = json.loads((tmp_path / "compare.json").read_text())
    only = pd.read_csv(tmp_path / "compare_only.csv")
    assert set(only["side"]) == {"A", "B"} and only["runs"].sum() == len(summary["only"]["A"]) \
        + len(summary["only"]["B"]) >= 2
    assert "model" in summary["keys"]["matched"] and "task" in summary["keys"]["matched"]
    context = {row["key"]: row for row in summary["context"]}
    assert context["gpu_name"]["differs"] and not context["torch_version"]["differs"]
    report = (tmp_path / "compare.md").read_text()
    assert "Configurations matched on: `task`, `model`" in report
    assert "## Only A ran" in report and "![time ratios](compare_ratios.png)" in report
    assert (tmp_path / "compare_ratios.png").stat().st_size > 1000


def test_a_key_that_differs_entirely_is_said_and_not_matched(tmp_path):
    a = demo_like_results(seed=1)
    b = demo_like_results(seed=2)
    for result in b:
        result["config"]["precision"] = "bf16"
    fa = analysis_frame(load_runs([str(write_results(tmp_path / "a", a))], cache_dir=False))
    fb = analysis_frame(load_runs([str(write_results(tmp_path / "b", b))], cache_dir=False))
    comparison = compare(fa, fb)
    assert comparison.keys["differed"] == ["precision"]
    assert comparison.differed["precision"] == (["fp32"], ["bf16"])
    assert len(comparison.pairs) == 16


def test_demo_runs_split_by_model(tmp_path):
    """The demo's grid, both tiny models: every configuration matched, the uncased model's
    known 0.8 recovered."""
    root = write_results(tmp_path / "runs", demo_like_results(runs_per_configuration=2))
    proc = analyze(root, "--compare-by", "model", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "8 configurations on both sides" in proc.stdout
    summary = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert summary["names"] == ["model=tiny-cased", "model=tiny-uncased"]
    assert "model" not in summary["keys"]["matched"] and summary["factor"] == "model"
    time = summary["overall"]["time"]
    assert time["low"] <= 0.8 <= time["high"]


@pytest.mark.parametrize("factor, phrase", [
    ("lora_r", "no run records lora_r"),
    ("torch_compile", "no run records torch_compile"),
    ("precision", "every finished run has one level (fp32)"),
    ("platform", "every finished run has one level"),
    ("bogus", "not a factor to compare by"),
    ("model=tiny-cased,nope", "no finished run has model nope"),
])
def test_compare_by_what_cannot_be_compared_is_one_line(tmp_path, factor, phrase):
    root = write_results(tmp_path / "runs", demo_like_results())
    proc = analyze(root, "--compare-by", factor, "--out", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and phrase in lines[0], proc.stderr


def test_more_than_two_levels_asks_for_two(run_folders, tmp_path):
    proc = analyze(run_folders, "--compare-by", "model", "--out", tmp_path)
    assert proc.returncode == 2 and "4 levels" in proc.stderr and "model=LEVEL_A,LEVEL_B" \
        in proc.stderr


@pytest.mark.parametrize("args, phrase", [
    (["SRC", "--compare", "SRC", "SRC"], "not both"),
    (["--compare", "SRC", "SRC", "--compare-by", "model"], "give one of them"),
    (["--compare", "SRC", "SRC", "--metric", "energy"], "leave out --thesis and --metric"),
    (["--compare", "SRC", "nowhere"], "nowhere"),
])
def test_bad_compare_flags_are_one_line(tmp_path, args, phrase):
    root = write_results(tmp_path / "runs", demo_like_results())
    proc = analyze(*[str(root) if a == "SRC" else a for a in args], "--out", tmp_path / "o")
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert phrase in proc.stderr


def test_ratio_interval_without_repeats_says_why():
    figure = ratio_interval([2.0], [3.0, 3.1])
    assert figure["ratio"] == pytest.approx(1.525) and figure["low"] is None
    assert "one repeat" in figure["why_not"]


def test_compare_by_a_mode_the_glue_program_records(tmp_path):
    """Runs whose config records `lora_r` (the GLUE program's modes): split by it."""
    results = demo_like_results(runs_per_configuration=2)
    for index, result in enumerate(results):
        result["config"]["lora_r"] = 8 * (index % 2)
        result["config"]["torch_compile"] = False
    root = write_results(tmp_path / "runs", results)
    table = load_runs([root])
    assert sorted(table["lora_r"].dropna().unique()) == [0, 8]
    proc = analyze(root, "--compare-by", "lora_r", "--out", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "16 configurations on both sides" in proc.stdout  # 2 models x the demo's 8
    time = json.loads((tmp_path / "out" / "compare.json").read_text())["overall"]["time"]
    assert time["low"] <= 1.0 <= time["high"]  # the same runs' distribution on both sides
    proc = analyze(root, "--compare-by", "torch_compile", "--out", tmp_path / "out2")
    assert proc.returncode == 2 and "one level" in proc.stderr  # recorded, but all False


def test_a_varied_mode_is_a_factor_of_the_anova(tmp_path):
    from timing_trainer.analysis.analyze import analyze as run_analysis

    results = demo_like_results(runs_per_configuration=2)
    for index, result in enumerate(results):
        result["config"]["lora_r"] = 8 * (index % 2)
        result["config"]["torch_compile"] = False  # recorded, one level: not a factor
    table = load_runs([write_results(tmp_path / "runs", results)])
    rows = run_analysis(table, "finetuning", n_jobs=1, forest_k=0).anova.set_index("factor")
    assert list(rows.index) == ["task", "model", "max_seq_length", "batch_size", "lora_r"]
    assert rows.loc["lora_r", "n_levels"] == 2 and rows.loc["lora_r", "p"] > 0.01  # no effect
    assert rows.loc["max_seq_length", "p"] < 0.01  # the demo's length effect still found
