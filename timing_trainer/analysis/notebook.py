"""Small helpers that keep the notebooks thin: where the runs come from, display settings."""

from __future__ import annotations

import os
from pathlib import Path

SOURCES_ENV = "TIMING_TRAINER_ANALYSIS_SOURCES"  # comma-separated (":" is in wandb: paths)
TREES_ENV = "TIMING_TRAINER_FOREST_TREES"  # tests run the notebooks with fewer trees
DEFAULT_SOURCE = "demo/runs"


def resolve_sources(default: str | list[str] = DEFAULT_SOURCE) -> list[str]:
    """Sources from `$TIMING_TRAINER_ANALYSIS_SOURCES`, else `default`.

    Relative folder paths are looked up from the working folder and its parents, so the default
    (`demo/runs`, written by `timing-trainer demo`) works from the repository root and from
    `notebooks/`. `wandb:` paths pass through unchanged.
    """
    env = os.environ.get(SOURCES_ENV)
    sources = [s.strip() for s in env.split(",")] if env else ([default] if isinstance(default, str)
                                                  else list(default))
    return [_locate(s) for s in sources if s]


def _locate(source: str) -> str:
    if source.startswith("wandb:") or Path(source).is_absolute() or Path(source).exists():
        return source
    for parent in Path.cwd().parents:
        candidate = parent / source
        if candidate.exists():
            return str(candidate)
    return source  # load_runs will say clearly that it does not exist


def forest_trees(default: int = 500) -> int:
    return int(os.environ.get(TREES_ENV, default))


def fmt(value, digits: int = 4) -> str:
    """A score for printing: `n/a` where it could not be computed (too few runs)."""
    return "n/a" if value is None else f"{value:.{digits}f}"
