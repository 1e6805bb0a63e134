"""Both analysis notebooks execute top to bottom on a small generated run set."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from timing_trainer.analysis.notebook import SOURCES_ENV, TREES_ENV
from timing_trainer.analysis.synthetic import write_run_folders

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return write_run_folders(tmp_path_factory.mktemp("nbruns"), 60, seed=5)


@pytest.mark.parametrize("name", ["finetuning_time_analysis", "inference_time_analysis"])
def test_notebook_runs(name, runs, tmp_path, monkeypatch):
    path = NOTEBOOKS / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "commit notebooks without outputs"
    monkeypatch.setenv(SOURCES_ENV, str(runs))
    monkeypatch.setenv(TREES_ENV, "10")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "60 runs" in text and "CV R²" in text
    assert os.environ[SOURCES_ENV] == str(runs)
