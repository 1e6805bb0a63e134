"""`timing-trainer glue-stats` as a user runs it: a real process over TSV folders, its numbers
checked against a hand count, its files, and bad input as one line and exit status 2 before any
token is counted."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer.glue.demo_assets import write_demo_assets

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return write_demo_assets(tmp_path_factory.mktemp("assets"), tasks=["rte", "sst2"],
                             train_size=16, dev_size=8)


@pytest.fixture(scope="module")
def tiny_glue(tmp_path_factory):
    """SST-2 and RTE folders of a few sentences whose token counts are known by hand: every
    word is in the tiny models' vocabulary, one token each, plus [CLS] and [SEP] (a pair: two
    [SEP])."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "SST-2").mkdir()
    (root / "SST-2" / "train.tsv").write_text(
        "sentence\tlabel\nthe cat\t1\nthe cat saw a dog\t0\n"
        "the cat saw a dog near the river today\t1\na dog\t0\n")  # 4, 7, 11, 4 tokens
    (root / "SST-2" / "dev.tsv").write_text("sentence\tlabel\na cat\t1\n")  # 4
    (root / "RTE").mkdir()
    header = "index\tsentence1\tsentence2\tlabel\n"
    (root / "RTE" / "train.tsv").write_text(
        header + "0\tthe cat\ta dog\tentailment\n")  # 2 + 2 + 3 = 7
    (root / "RTE" / "dev.tsv").write_text(header + "0\ta cat saw the dog\tthe dog\tentailment\n")
    return root


def glue_stats(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "timing_trainer", "glue-stats", *args],
                          capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("timing-trainer glue-stats: error: ")
    assert proc.stdout == ""  # nothing counted, nothing printed
    return lines[0]


def test_hand_counted_lengths_padding_and_files(tiny_glue, assets, tmp_path):
    model = str(assets / "models" / "tiny-uncased")
    out = tmp_path / "out"
    proc = glue_stats("--data_dir", str(tiny_glue), "--model_name_or_path", model,
                      "--lengths", "8,4", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "no folder in" in proc.stderr and "CoLA" in proc.stderr  # the tasks left out, named
    assert f"| SST-2 | train | {model} | 4 | 4 | 6.5 | 4 | 11 | 11 | 11 | 11 |" in proc.stdout
    assert f"| SST-2 | train | {model} | 0 | 0.5 | 0.281 | 0.25 |" in proc.stdout
    summary = json.loads((out / "glue_stats.json").read_text())
    assert summary["max_seq_lengths"] == [4, 8]
    assert [(r["task"], r["split"], r["examples"]) for r in summary["splits"]] == [
        ("SST-2", "train", 4), ("SST-2", "validation", 1),
        ("RTE", "train", 1), ("RTE", "validation", 1)]
    rte = {r["split"]: r for r in summary["token_lengths"] if r["task"] == "RTE"}
    assert rte["train"]["max"] == 7 and rte["validation"]["max"] == 2 + 5 + 2 + 1
    with open(out / "padding.csv", newline="") as handle:
        rows = {(r["task"], r["split"], r["max_seq_length"]): r for r in csv.DictReader(handle)}
    at8 = rows[("SST-2", "train", "8")]
    assert (at8["padded_tokens"], at8["real_tokens"], at8["truncated_tokens"]) == ("32", "23", "3")
    assert float(rows[("RTE", "validation", "8")]["truncated_share"]) == 1.0
    assert sorted(p.name for p in out.glob("*.png")) == ["lengths_RTE.png", "lengths_SST-2.png"]
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_on_the_demo_assets_from_the_command_line(tmp_path):
    """`timing-trainer demo-assets DIR`, then `glue-stats` over it with both tiny tokenizers."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-m", "timing_trainer", "demo-assets", str(tmp_path / "d"),
                    "--tasks", "mrpc", "cola", "--train-size", "20", "--dev-size", "5"],
                   check=True, capture_output=True, env=env, timeout=300)
    models = [str(tmp_path / "d" / "models" / m) for m in ("tiny-cased", "tiny-uncased")]
    proc = glue_stats("--data_dir", str(tmp_path / "d"), "--model_name_or_path", *models,
                      "--lengths", "64,128", "--no-progress", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "o" / "glue_stats.json").read_text())
    assert {(r["task"], r["examples"]) for r in summary["splits"]} == {
        ("CoLA", 20), ("CoLA", 5), ("MRPC", 20), ("MRPC", 5)}
    assert len(summary["token_lengths"]) == 4 * 2 and len(summary["padding"]) == 4 * 2 * 2
    for row in summary["padding"]:  # short generated sentences: mostly padding at 64
        assert 0.5 < row["padding_share"] < 1 and row["truncated_share"] == 0
    assert "| MRPC | validation |" in proc.stdout and "padding@128" in proc.stdout


@pytest.mark.parametrize("args, says", [
    (["--tasks", "nosuch"], "unknown GLUE task 'nosuch'"),
    (["--tasks", "cola"], "no CoLA task folder"),
    (["--lengths", "64,abc"], "comma-separated whole numbers"),
    (["--lengths", "0"], "each at least 1"),
    (["--model_name_or_path", "./no/such/model"], "'./no/such/model' does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(args, says, tiny_glue, assets):
    model = ["--model_name_or_path", str(assets / "models" / "tiny-uncased")]
    if "--model_name_or_path" in args:
        model = []
    line = one_error_line(glue_stats("--data_dir", str(tiny_glue), *model, *args))
    assert says in line, line


def test_a_missing_folder_and_a_tokenizer_that_cannot_load(tmp_path, assets):
    model = str(assets / "models" / "tiny-uncased")
    line = one_error_line(glue_stats("--data_dir", str(tmp_path / "nope"),
                                     "--model_name_or_path", model))
    assert "does not exist or is not a folder" in line
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    line = one_error_line(glue_stats("--data_dir", str(assets), "--model_name_or_path",
                                     str(tmp_path / "broken"), "--out", str(tmp_path / "o")))
    assert "cannot load tokenizer" in line and str(tmp_path / "broken") in line
    assert not list((tmp_path / "o").iterdir())  # refused before anything was written
