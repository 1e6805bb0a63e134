"""`notebooks/glue_stats.ipynb` executes top to bottom: on the demo assets (the same figures as
`timing-trainer glue-stats`), and on a fresh clone without them (one line saying how to make
them, nothing failing). nbformat and nbclient are test extras, skipped where absent."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "glue_stats.ipynb"
ASSETS = {"tasks": ["rte", "cola"], "train_size": 12, "dev_size": 4}


def execute(workdir: Path, monkeypatch, data: Path | None) -> tuple[str, int]:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "commit notebooks without outputs"
    folder = workdir / "notebooks"
    folder.mkdir(parents=True)
    if data is None:
        monkeypatch.delenv("TIMING_TRAINER_GLUE_DATA", raising=False)
    else:
        monkeypatch.setenv("TIMING_TRAINER_GLUE_DATA", str(data))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend: PNG outputs
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert list(folder.iterdir()) == [], "the notebook left files beside it"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    text += "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, images


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
