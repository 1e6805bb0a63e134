"""The analysis's tests share one way to get run folders on disk: `run_folders` writes
generated runs with known effects (`timing_trainer.testing.runs`) once per test module, as many
and from the seed the module asks for with `RUN_FOLDERS = {"n": ..., "seed": ...}`."""

from __future__ import annotations

import pytest

from timing_trainer.testing.runs import write_run_folders

DEFAULT_RUN_FOLDERS = {"n": 60, "seed": 5}


@pytest.fixture(scope="module")
def run_folders(request, tmp_path_factory):
    options = {**DEFAULT_RUN_FOLDERS, **getattr(request.module, "RUN_FOLDERS", {})}
    n = options.pop("n")
    return write_run_folders(tmp_path_factory.mktemp("runs"), n, **options)
