"""The `TimingTrainer` examples run as written, on a machine without a W&B login: the complete one
in docs/trainer.md, and the README's short one on that example's model and data."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.figures import assert_every_figure

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TRAINER_PAGE = ROOT / "docs" / "trainer.md"
ARGS_LINE = "args = TimingTrainingArguments("


def _blocks(page: Path) -> list[tuple[str, str]]:
    return re.findall(r"```(\w+)\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


def _env(home: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("WANDB_") or key == "WANDB_DIR"}  # no login, no W&B mode
    env.update(HOME=str(home), OMP_NUM_THREADS="1")
    return env


def _run_example(cwd: Path, example: str) -> subprocess.CompletedProcess:
    (cwd / "example.py").write_text(example, encoding="utf-8")
    return subprocess.run([sys.executable, "example.py"], cwd=cwd, env=_env(cwd),
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def example_dir(tmp_path_factory):
    """docs/trainer.md's set-up command, run as written: the demo's tiny model and RTE data."""
    tmp_path = tmp_path_factory.mktemp("trainer-example")
    blocks = _blocks(TRAINER_PAGE)
    setup = blocks[0][1].split("#")[0].strip()
    assert blocks[0][0] == "bash" and setup == "timing-trainer demo-assets demo/"
    argv = shlex.split(setup)
    subprocess.run([sys.executable, "-m", "timing_trainer", *argv[1:]], cwd=tmp_path,
                   env=_env(tmp_path), check=True, capture_output=True, timeout=300)
    return tmp_path


def _trainer_example() -> str:
    language, example = _blocks(TRAINER_PAGE)[1]
    assert language == "python" and "TimingTrainer(" in example
    return example


@pytest.mark.slow
def test_the_timing_trainer_example_runs_as_written(example_dir):
    proc = _run_example(example_dir, _trainer_example())
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((example_dir / "out" / "timing_results.json").read_text())
    assert data["status"] == "finished" and data["config"]["task_name"] == "rte"
    assert_every_figure(data)


@pytest.mark.slow
def test_the_readme_example_runs_on_the_complete_examples_model_and_data(example_dir):
    """The README's example takes `model`, `train`, `dev` and `tokenizer` as the user's: here the
    complete example's, everything it does before its own training arguments."""
    python = [code for language, code in _blocks(README) if language == "python"]
    snippet = python[0]
    assert "TimingTrainer(" in snippet and len(snippet.strip().splitlines()) <= 10
    setup = _trainer_example().split(ARGS_LINE)[0]
    (example_dir / "out" / "timing_results.json").unlink(missing_ok=True)
    proc = _run_example(example_dir, setup + 'train, dev = rte["train"], rte["dev"]\n' + snippet)
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = proc.stdout.split()[-2:]  # after the Trainer's own log lines
    assert all(float(value) > 0 for value in printed), proc.stdout
    data = json.loads((example_dir / "out" / "timing_results.json").read_text())
    assert data["status"] == "finished" and len(data["finetuning_time_list"]) == 3
    assert_every_figure(data)
