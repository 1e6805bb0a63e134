"""`--max_seq_length` too short for the tokenizer's special tokens is refused once the tokenizer
has loaded and before the model does: one line, exit 2, no load report, no results file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from timing_trainer.errors import GlueInputError
from timing_trainer.glue import run
from timing_trainer.glue.validation import check_max_seq_length
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.tasks import get_task

ASSETS = {"tasks": ["rte", "sst2"], "train_size": 8, "dev_size": 4}


def _argv(assets, out, task, length):
    return [f"--task_name={task}", f"--model_name_or_path={assets / 'models' / 'tiny-uncased'}",
            f"--data_dir={assets}", f"--output_dir={out}",
            f"--tokenization_cache_dir={out.parent / 'cache'}", f"--max_seq_length={length}",
            "--num_train_epochs=1", "--finetuning_iters=1", "--report_to=none",
            "--use_cpu=True", "--disable_tqdm=True"]


def test_too_short_is_one_line_before_the_model_loads_in_a_real_process(assets, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "timing_trainer.glue",
                           *_argv(assets, out, "rte", 2)],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ["timing_trainer.glue: error: --max_seq_length 2 is too small: the tokenizer "
                     "adds 3 special tokens to each sentence pair of RTE; use at least 4"], lines
    # transformers reports every model it loads ("Loading weights", "... LOAD REPORT"): none here
    assert "LOAD REPORT" not in proc.stderr and "Loading weights" not in proc.stderr
    assert not (out / RESULTS_FILENAME).exists()


@pytest.mark.parametrize("task,length,special", [("rte", 3, 3), ("sst2", 2, 2)])
def test_the_model_is_never_loaded(assets, tmp_path, monkeypatch, capsys, task, length,
                                   special):
    import transformers

    def no_model(*args, **kwargs):
        pytest.fail("the model was loaded before --max_seq_length was checked")

    monkeypatch.setattr(transformers.AutoModelForSequenceClassification, "from_pretrained",
                        no_model)
    assert run.main(_argv(assets, tmp_path / "out", task, length)) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    layout = "sentence pair" if get_task(task).is_pair else "sentence"
    assert f"adds {special} special tokens to each {layout}" in line
    assert f"use at least {special + 1}" in line


@pytest.mark.parametrize("task,shortest", [("rte", 4), ("sst2", 3)])
def test_the_shortest_accepted_length_leaves_one_real_token(assets, task, shortest):
    """Special tokens + 1, from the tokenizer and the config alone (no model)."""
    from transformers import AutoConfig, AutoTokenizer

    folder = str(assets / "models" / "tiny-uncased")
    tokenizer, config = AutoTokenizer.from_pretrained(folder), AutoConfig.from_pretrained(folder)
    check_max_seq_length(tokenizer, config, get_task(task), shortest, folder)
    with pytest.raises(GlueInputError, match=f"use at least {shortest}$"):
        check_max_seq_length(tokenizer, config, get_task(task), shortest - 1, folder)
    limit = config.max_position_embeddings  # the tiny model's tokenizer says the same
    with pytest.raises(GlueInputError, match=rf"exceeds what .* takes \({limit}\)"):
        check_max_seq_length(tokenizer, config, get_task(task), limit + 1, folder)
