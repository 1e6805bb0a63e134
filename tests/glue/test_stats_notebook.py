"""`notebooks/glue_stats.ipynb` executes top to bottom: on the demo assets (the same figures as
`timing-trainer glue-stats`), and on a fresh clone without them (one line saying how to make
them, nothing failing). nbformat and nbclient are test extras, skipped where absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.notebooks import read_clean, run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "glue_stats.ipynb"
ASSETS = {"tasks": ["rte", "cola"], "train_size": 12, "dev_size": 4}


def execute(workdir: Path, monkeypatch, data: Path | None) -> tuple[str, int]:
    notebook = read_clean(NOTEBOOK)
    folder = workdir / "notebooks"
    folder.mkdir(parents=True)
    if data is None:
        monkeypatch.delenv("TIMING_TRAINER_GLUE_DATA", raising=False)
    else:
        monkeypatch.setenv("TIMING_TRAINER_GLUE_DATA", str(data))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend: PNG outputs
    text, markdown, images = run_notebook(notebook, folder)
    return text + markdown, images


@pytest.mark.slow
def test_notebook_on_the_demo_assets(assets, tmp_path, monkeypatch):
    text, images = execute(tmp_path, monkeypatch, assets)
    assert "2 tasks, 32 examples" in text, text  # (12 + 4) x 2
    assert "| RTE | train | models/tiny-cased | 12 |" in text
    assert "padding@512" in text and "most truncated:" in text
    assert images == 2  # a histogram per task


@pytest.mark.slow
def test_notebook_on_a_fresh_clone_says_how_to_get_the_data(tmp_path, monkeypatch):
    text, images = execute(tmp_path, monkeypatch, None)
    assert "No GLUE data at demo/assets" in text and "make demo" in text
    assert images == 0 and "tasks," not in text
