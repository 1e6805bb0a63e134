"""What one call of the local agent is asked to do (`AgentOptions`) and the runs it plans
(`PlannedRun`, named by `run_key`).

Their own module because both the agent (which plans) and an attempt (which runs one planned run
with the call's options) read them: declared in `agent`, they made `attempt` import its caller.
Standard library only, so the command line's parser can take `WANDB_MODES` from here cheaply.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WANDB_MODES = ("offline", "disabled", "online")  # --wandb; the first is the default


def run_key(params: dict[str, Any]) -> str:
    """A stable id of one run's parameter values (the local agent's resume key)."""
    text = json.dumps(params, sort_keys=True, default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


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


@dataclass
class PlannedRun:
    """One run of the sweep: its place in W&B's order, its resume key, values and folder name."""

    index: int
    key: str
    params: dict[str, Any]
    dir_name: str

    @classmethod
    def at(cls, index: int, params: dict[str, Any]) -> PlannedRun:
        """The run at `index` of the sweep, its folder `NNN-KEY` (KEY: `run_key`)."""
        key = run_key(params)
        return cls(index, key, params, f"{index:03d}-{key}")
