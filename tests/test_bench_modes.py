"""bench/modes.py's table and gpu_check.sh's mode rows, from rows made up here (the runs
themselves are the bench's: minutes, not a test's seconds)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench(monkeypatch):
    """The bench modules, imported from bench/; afterwards gone again, with the environment
    their import set (bert_workload's offline defaults) put back."""
    monkeypatch.syspath_prepend(str(BENCH))
    environment, before = dict(os.environ), set(sys.modules)
    yield {name: importlib.import_module(name) for name in ("modes", "modes_rows",
                                                           "modern_lomo")}
    os.environ.clear()
    os.environ.update(environment)
    for name in set(sys.modules) - before:
        if name in ("modes", "modes_rows", "modern_lomo", "bert_workload"):
            del sys.modules[name]


def _rows():
    finished = {"outcome": "finished", "inference_time": 0.01, "trainable_params": 100,
                "total_params": 1000, "warmup_s": 0.5, "real_token_share": 0.4}
    return [{"model": "bert (tiny)", "mode": "eager", **finished, "finetuning_time": 2.0},
            {"model": "bert (tiny)", "mode": "lora", **finished, "finetuning_time": 1.0},
            {"model": "bert (tiny)", "mode": "padding_free",
             "outcome": "refused: --padding_free: BertForSequenceClassification does not ..."},
            {"model": "modernbert (tiny)", "mode": "compile", **finished,
             "finetuning_time": 3.0}]


def test_ratios_are_to_the_same_models_eager_run(bench):
    rows = bench["modes"].with_ratios(_rows())
    assert [r["ratio"] for r in rows] == [1.0, 0.5, None, None]  # modernbert: no eager run


def test_the_table_says_why_a_mode_has_no_figures(bench):
    table = bench["modes"].markdown(bench["modes"].with_ratios(_rows())).splitlines()
    assert table[0].startswith("| model | mode | finetuning_time (s) | ratio to eager |")
    assert "| bert (tiny) | LoRA r=8 | 1.000 | 0.50 | 0.0100 | 100 | 1,000 | 0.50 | 0.400 |" \
        in table
    assert any("| padding_free | refused: --padding_free: BertFor" in line for line in table)


def test_a_refusal_is_its_reason_without_the_programs_prefix(bench):
    stderr = "some log\ntiming_trainer.glue: error: --lora_r needs the peft package\n"
    assert bench["modes"].last_line(stderr) == "--lora_r needs the peft package"


def test_figures_read_the_results_file(bench):
    results = {"finetuning_time": 1.5, "inference_time": 0.02,
               "config": {"trainable_params": 10, "total_params": 20,
                          "attn_implementation": "sdpa"},
               "setup_time_parts": {"warmup": 30.0}, "train_real_tokens": 50,
               "train_tokens": 200}
    got = bench["modes"].figures(results)
    assert got["warmup_s"] == 30.0 and got["real_token_share"] == 0.25
    assert got["trainable_params"] == 10 and got["attn_implementation"] == "sdpa"


def test_gpu_check_rows_name_each_mode_and_a_cut_step(bench, tmp_path):
    rows = bench["modes"].with_ratios(_rows())
    path = tmp_path / "modes.json"
    path.write_text(json.dumps({"rows": rows, "complete": False}))
    proc = subprocess.run([sys.executable, str(BENCH / "modes_rows.py"), str(path), "250",
                           "240"], capture_output=True, text=True, check=False)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0
    assert any(line.startswith("mode: bert (tiny) lora: s, x eager") and line.split()[-1]
               == "0.50" for line in lines)
    assert "  refused: --padding_free: BertForSequenceClassification does not ..." in lines
    assert any("stopped by the step's time limit" in line for line in lines)
    assert lines[-1].startswith("modes step (s)") and lines[-1].endswith("NO")
    missing = subprocess.run([sys.executable, str(BENCH / "modes_rows.py"),
                              str(tmp_path / "none.json"), "1", "240"],
                             capture_output=True, text=True, check=False)
    assert missing.stdout.splitlines()[0].split() == ["modes", "missing"]


def test_lomo_names_the_architecture_of_its_model_folders(bench):
    architecture_of = bench["modern_lomo"].architecture_of
    assert architecture_of("/tmp/w/assets/models/small-deberta-v2") == "deberta-v2"
    assert architecture_of("small-modernbert/") == "modernbert"
