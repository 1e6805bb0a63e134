"""The README's `TimingTrainer` example runs as written, on a machine without a W&B login."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from scripts.core_figures import assert_every_figure

README = Path(__file__).resolve().parents[1] / "README.md"


def _core_blocks():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("<!-- section: core -->"):text.index("<!-- /section: core -->")]
    return re.findall(r"```(\w+)\n(.*?)```", section, flags=re.S)


@pytest.mark.slow
def test_the_timing_trainer_example_runs_as_written(tmp_path):
    blocks = _core_blocks()
    setup = blocks[0][1].split("#")[0].strip()
    assert blocks[0][0] == "bash" and setup == "timing-trainer demo-assets demo/"
    language, example = blocks[1]
    assert language == "python" and "TimingTrainer(" in example
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("WANDB_") or key == "WANDB_DIR"}  # no login, no W&B mode
    env.update(HOME=str(tmp_path), OMP_NUM_THREADS="1")
    argv = shlex.split(setup)
    subprocess.run([sys.executable, "-m", "timing_trainer", *argv[1:]], cwd=tmp_path, env=env,
                   check=True, capture_output=True, timeout=300)
    (tmp_path / "example.py").write_text(example, encoding="utf-8")
    proc = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "out" / "timing_results.json").read_text())
    assert data["status"] == "finished" and data["config"]["task_name"] == "rte"
    assert_every_figure(data)
