"""Test-wide settings: W&B offline in a temporary folder, no network, small thread counts."""

from __future__ import annotations

import os
import sys

import pytest

os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.pop("WANDB_API_KEY", None)


@pytest.fixture(autouse=True)
def _wandb_tmpdir(tmp_path_factory, monkeypatch):
    """Every test writes W&B files under a temporary WANDB_DIR, never into the checkout."""
    wandb_dir = tmp_path_factory.mktemp("wandb")
    monkeypatch.setenv("WANDB_DIR", str(wandb_dir))
    monkeypatch.setenv("WANDB_CACHE_DIR", str(wandb_dir / "cache"))
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(wandb_dir / "config"))
    _reset_wandb()  # W&B caches its settings (WANDB_DIR too) in a process-wide singleton
    yield
    _reset_wandb()


def _reset_wandb():
    """Forget W&B's process-wide setup, so the next run reads this test's environment."""
    setup = sys.modules.get("wandb.sdk.wandb_setup")
    if setup is not None and getattr(setup, "_singleton", None) is not None:
        setup.teardown()


THESIS_RUNS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "thesis-runs")


@pytest.fixture
def thesis_runs_dir():
    """The thesis's W&B exports (../shared/thesis-runs), or skip when this checkout has none."""
    path = os.environ.get("TIMING_TRAINER_THESIS_RUNS", THESIS_RUNS)
    if not os.path.isdir(path):
        pytest.skip("thesis exports not present (../shared/thesis-runs)")
    return os.path.abspath(path)


@pytest.fixture(autouse=True)
def _wandb_runs_cache(tmp_path_factory, monkeypatch):
    """The analysis's W&B runs cache (default: the user's cache folder) in a temporary folder."""
    monkeypatch.setenv("TIMING_TRAINER_WANDB_CACHE", str(tmp_path_factory.mktemp("wandb_runs")))


@pytest.fixture(autouse=True)
def _forget_open_timing_results():
    """Results a test left `running` stay so: the exit fallback (timing_trainer.runtime.lifecycle) is for
    real programs, and tested in child processes; here it would rewrite old temporary files."""
    yield
    lifecycle = sys.modules.get("timing_trainer.runtime.lifecycle")
    if lifecycle is not None:
        lifecycle.discard_all()
