"""What one call of the local agent is asked to do (`AgentOptions`) and the runs it plans
(`PlannedRun`, named by `run_key`: the whole command a run runs, see `sweep.config.version`).

Their own module because both the agent (which plans) and an attempt (which runs one planned run
with the call's options) read them: declared in `agent`, they made `attempt` import its caller.
Standard library only, so the command line's parser can take `WANDB_MODES` from here cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timing_trainer.sweep.config.version import run_identity

WANDB_MODES = ("offline", "disabled", "online")  # --wandb; the first is the default


DEFAULT_FAIL_FAST = 3  # --fail-fast: runs in a row failing alike before they start


def run_key(params: dict[str, Any], basis: dict[str, Any]) -> str:
    """A stable id of one run (the local agent's resume key): its parameter values with the
    program and command template they go into (`basis`, from `version.run_basis`)."""
    return run_identity(basis, params)


@dataclass
class AgentOptions:
    """How to run a sweep; `cwd` is where runs start (relative paths in the file resolve there)."""

    runs_dir: Path
    count: int | None = None
    gpus: list[str] | None = None
    wandb_mode: str = WANDB_MODES[0]
    dry_run: bool = False
    seed: int | None = None
    cwd: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    progress: bool = True
    only: dict[str, list[str]] | None = None  # --only NAME=V1,V2 (see `select`)
    force: bool = False  # run a changed sweep in a folder that holds an earlier version's runs
    fail_fast: int = DEFAULT_FAIL_FAST  # 0: never stop on failures alike (see `fail_fast`)


@dataclass
class PlannedRun:
    """One run of the sweep: its place in W&B's order, its resume key, values and folder name."""

    index: int
    key: str
    params: dict[str, Any]
    dir_name: str

    @classmethod
    def at(cls, index: int, params: dict[str, Any], basis: dict[str, Any]) -> PlannedRun:
        """The run at `index` of the sweep, its folder `NNN-KEY` (KEY: `run_key`)."""
        key = run_key(params, basis)
        return cls(index, key, params, f"{index:03d}-{key}")
