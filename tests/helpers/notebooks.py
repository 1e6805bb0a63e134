"""Executing a notebook in a test: no error, nothing left beside it, its printed outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def read_clean(path: Path) -> Any:
    """The notebook at `path` (skipped where nbformat is absent), committed without outputs."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), \
        "commit notebooks without outputs"
    return notebook


def run_notebook(notebook: Any, folder: Path) -> tuple[str, str, int]:
    """Execute `notebook` with `folder` as its working folder (the inline backend: unset
    MPLBACKEND first); returns its stream text, its Markdown displays and its PNG count."""
    nbclient = pytest.importorskip("nbclient")
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sorted(p.name for p in folder.iterdir()) == [], "the notebook left files beside it"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    markdown = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, markdown, images
