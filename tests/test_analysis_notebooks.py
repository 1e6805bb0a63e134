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


def test_default_source_is_found_from_the_notebooks_folder(tmp_path, monkeypatch):
    from timing_trainer.analysis.notebook import fmt, resolve_sources

    (tmp_path / "demo" / "runs").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    assert resolve_sources("demo/runs") == [str(tmp_path / "demo" / "runs")]
    assert resolve_sources(["wandb:e/p", "demo/runs"])[0] == "wandb:e/p"
    monkeypatch.setenv(SOURCES_ENV, "a.csv, wandb:e/p/s")
    assert resolve_sources() == ["a.csv", "wandb:e/p/s"]
    assert fmt(None) == "n/a" and fmt(0.98765) == "0.9877"
