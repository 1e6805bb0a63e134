"""The sweep a pilot measures: its file loaded and expanded into runs, as `timing-trainer sweep`
would run them.

The same words select the same runs here and in `sweep`: `--only` is the sweeps' own rule
(timing_trainer.sweep.config.select) and `--count N` keeps the first N runs it leaves (a random
sweep draws N runs, seed 0, where its file has no `run_cap`). Each run keeps its index in the
whole expansion, so a slice's folder `NNN-KEY` names the sweep run it was cut from. Bad input
(no such file, a file that does not parse, an `--only` that selects nothing) is a `PilotError`,
one line, before anything runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.errors import PilotError, SweepFileError
from timing_trainer.sweep.config.runs import expand_runs, load_sweep_file, run_cap
from timing_trainer.sweep.config.select import select_runs

RANDOM_SEED = 0  # a random sweep's draws, as `predict --sweep` draws them


@dataclass
class SweepRuns:
    """A sweep file, its name and the runs a pilot (or an estimate) covers."""

    path: Path
    name: str
    config: dict[str, Any]
    runs: list[tuple[int, dict[str, Any]]]  # (index in the whole expansion, parameters)

    @property
    def params(self) -> dict[int, dict[str, Any]]:
        return dict(self.runs)


def load_sweep(path: str | Path, only: dict[str, list[str]] | None = None,
               count: int | None = None) -> SweepRuns:
    """The sweep at `path`, restricted by `only` and `count`; `PilotError` when it cannot be
    used."""
    path = Path(path)
    try:
        config = load_sweep_file(path)
        draws = count if config.get("method") == "random" and run_cap(config) is None else None
        runs = expand_runs(config, seed=RANDOM_SEED, count=draws)
    except SweepFileError as exc:
        text = str(exc)
        raise PilotError(text if str(path) in text else f"{path}: {text}") from None
    indexed = list(enumerate(runs))
    if only:
        kept = {id(params) for params in select_runs(runs, only)}  # OnlyError: one line
        indexed = [(i, p) for i, p in indexed if id(p) in kept]
    if count is not None:
        indexed = indexed[:count]
    if not indexed:
        wanted = " ".join(f"--only {k}={','.join(v)}" for k, v in (only or {}).items())
        raise PilotError(f"{path}: no runs left" + (f" after {wanted}" if wanted else ""))
    name = str(config.get("name") or path.stem)
    return SweepRuns(path, name, config, indexed)
