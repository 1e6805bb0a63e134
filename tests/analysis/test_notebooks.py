"""Both analysis notebooks execute top to bottom: on a fresh clone's state (no demo/runs), on
generated runs, and on the thesis's exports (skipped where they are absent).

nbformat and nbclient are test extras: `pytest.importorskip` keeps `pytest -m gpu` (runtime
dependencies only) collecting this file without them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from helpers.notebooks import read_clean, run_notebook

from timing_trainer.analysis.notebook import MAKE_DEFAULT, SOURCES_ENV, TREES_ENV
from timing_trainer.testing.runs import demo_like_results, write_results, write_run_folders

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = ["finetuning_time_analysis", "inference_time_analysis"]




@pytest.fixture(scope="module")
def energy_runs(tmp_path_factory):
    return write_run_folders(tmp_path_factory.mktemp("nbenergy"), 40, seed=6, energy="measured")


def execute(name: str, workdir: Path, monkeypatch, sources: str | None,
            metric: str = "time"):
    """Run a copy of the notebook in `workdir/notebooks` (a fresh clone's layout), with the
    first code cell's `METRIC` set to `metric` as a reader would."""
    notebook = read_clean(NOTEBOOKS / f"{name}.ipynb")
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert 'METRIC = "time"' in first.source
    first.source = first.source.replace('METRIC = "time"', f'METRIC = "{metric}"')
    folder = workdir / "notebooks"
    folder.mkdir(parents=True, exist_ok=True)
    if sources is None:
        monkeypatch.delenv(SOURCES_ENV, raising=False)
    else:
        monkeypatch.setenv(SOURCES_ENV, sources)
    monkeypatch.setenv(TREES_ENV, "10")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend: PNG outputs
    (workdir / "home").mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(workdir / "home"))  # the W&B cache default lives there
    text, _markdown, images = run_notebook(notebook, folder)
    return text, images


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_fresh_clone_prints_the_command_and_nothing_fails(name, tmp_path, monkeypatch):
    text, images = execute(name, tmp_path, monkeypatch, sources=None)
    assert f"`{MAKE_DEFAULT}`" in text and "demo/runs" in text
    assert images == 0 and "runs," not in text  # the later cells show nothing


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_on_generated_runs(name, run_folders, tmp_path, monkeypatch):
    text, images = execute(name, tmp_path, monkeypatch, sources=str(run_folders))
    assert "60 runs" in text and "CV R²" in text and "median CV" in text
    assert "settings:" in text and "MAE" in text and images >= 8, text
    assert "no analysed run carries energy" in text  # the energy cell skips cleanly


@pytest.mark.slow
@pytest.mark.parametrize("name, metric", [("finetuning_time_analysis", "energy"),
                                          ("inference_time_analysis", "time")])
def test_notebook_with_energy(name, metric, energy_runs, tmp_path, monkeypatch):
    """Runs that carry energy: the last cell shows energy against time; METRIC = "energy" runs
    every section on energy."""
    text, images = execute(name, tmp_path, monkeypatch, sources=str(energy_runs), metric=metric)
    kind = name.split("_")[0]
    what = f"{kind} energy" if metric == "energy" else kind
    assert "40 runs" in text and f"analysed ({what})" in text and "MAE" in text, text
    assert "The fastest model, distilbert-base-uncased, also draws the least power" in text
    assert images >= 9
    if metric == "energy":
        assert "log(energy):" in text and "accuracy_on_energy" in text


@pytest.mark.slow
def test_notebook_metric_energy_without_energy_says_so(run_folders, tmp_path, monkeypatch):
    text, images = execute("inference_time_analysis", tmp_path, monkeypatch, sources=str(run_folders),
                           metric="energy")
    assert "--metric energy: none of the" in text and images == 0 and "runs," not in text


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["finetuning", "inference"])
def test_notebook_reproduces_the_thesis(kind, thesis_runs_dir, tmp_path, monkeypatch):
    from timing_trainer.analysis.table.thesis import thesis_files

    files = ",".join(thesis_files(thesis_runs_dir, kind))
    text, _images = execute(f"{kind}_time_analysis", tmp_path, monkeypatch, sources=files)
    n = {"finetuning": 291, "inference": 267}[kind]
    r2 = {"finetuning": "R² = 0.9836", "inference": "R² = 0.9197"}[kind]
    assert f"{n} analysed" in text and r2 in text


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_compares_the_demo_runs_split_by_model(name, tmp_path, monkeypatch):
    """The comparison section on runs of the demo's grid: both tiny models ran every
    configuration, the uncased one in 0.8 of the time."""
    runs = write_results(tmp_path / "runs", demo_like_results(runs_per_configuration=2))
    text, images = execute(name, tmp_path / "nb", monkeypatch, sources=str(runs))
    shapes = 8 if name.startswith("finetuning") else 4  # inference: one evaluation batch size
    assert (f"model=tiny-uncased against model=tiny-cased: {shapes} configurations on both "
            "sides") in text
    assert "time ratio model=tiny-uncased / model=tiny-cased: 0.7" in text, text
    assert images >= 9


def test_default_source_is_found_from_the_notebooks_folder(tmp_path, monkeypatch):
    from timing_trainer.analysis.notebook import (
        explain_missing,
        fmt,
        missing_sources,
        resolve_sources,
    )

    (tmp_path / "demo" / "runs").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    assert resolve_sources("demo/runs") == [str(tmp_path / "demo" / "runs")]
    assert resolve_sources(["wandb:e/p", "demo/runs"])[0] == "wandb:e/p"
    monkeypatch.setenv(SOURCES_ENV, "a.csv, wandb:e/p/s")
    assert resolve_sources() == ["a.csv", "wandb:e/p/s"]
    assert missing_sources(["a.csv", "wandb:e/p/s"]) == ["a.csv"]
    assert "SOURCES" in explain_missing(["a.csv"])
    shutil.rmtree(tmp_path / "demo")
    monkeypatch.delenv(SOURCES_ENV)
    assert missing_sources(resolve_sources()) == ["demo/runs"]
    assert fmt(None) == "n/a" and fmt(0.98765) == "0.9877"
    assert os.getcwd() == str(tmp_path / "notebooks")
