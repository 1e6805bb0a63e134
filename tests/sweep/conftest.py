"""The sweep tests' shared fixture: the small program their sweeps run."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.sweep_cli import PROGRAM


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "program.py"
    path.write_text(PROGRAM)
    return path
