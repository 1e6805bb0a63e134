"""A sweep file loaded and expanded into its runs, in the order W&B's controller proposes them.

Torch-free and wandb-free: the cost model predicts a sweep's time from this expansion. The order
comes from W&B's own controller package (`sweeps`, the one `wandb sweep --controller` runs, see
`controller`): for grid, parameters sorted by name, the last name varying fastest, duplicate
values collapsed.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import yaml

from timing_trainer.errors import (
    GridSizeError,
    SweepFileError,
    YamlBoundError,
    YamlDuplicateKeyError,
)
from timing_trainer.sweep.config.controller import flatten_run_config, import_wandb_sweeps
from timing_trainer.sweep.config.grid_size import grid_size as count_grid
from timing_trainer.sweep.config.safe_yaml import bounded_safe_load

METHODS = ("grid", "random", "bayes")
# The most runs one sweep file may expand to (grid) or draw (random): checked from the parameter
# counts before anything is built. W&B's grid search lists the whole product first (an
# `int_uniform` from 0 to 1e9 is a list of 1e9 values); a cut would be silent, a refusal is not.
MAX_SWEEP_RUNS = 100_000


def load_sweep_file(path: str | Path) -> dict[str, Any]:
    """`yaml.safe_load` of a sweep file (aliases bounded, see `safe_yaml`), checked to be a
    mapping with a known method."""
    path = Path(path)
    if not path.is_file():
        raise SweepFileError(f"{path}: no such sweep file")
    try:
        config = bounded_safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise SweepFileError(f"{path}: not valid YAML{line}") from None
    except YamlBoundError as exc:
        raise SweepFileError(f"{path}: refused: the YAML {exc}") from None
    except YamlDuplicateKeyError as exc:
        raise SweepFileError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise SweepFileError(f"{path}: not a text file") from None
    check_sweep_config(config, str(path))
    return config


def check_sweep_config(config: Any, where: str = "sweep config") -> None:
    """The structural minimum every consumer needs: a mapping, a known method, parameters."""
    if not isinstance(config, dict):
        kind = "empty" if config is None else f"a {type(config).__name__}"
        raise SweepFileError(f"{where}: a sweep file must be a YAML mapping, this one is {kind}")
    method = config.get("method")
    if method not in METHODS:
        raise SweepFileError(
            f"{where}: unknown sweep method {method!r}; use one of {', '.join(METHODS)}"
        )
    params = config.get("parameters")
    if not isinstance(params, dict) or not params:
        raise SweepFileError(f"{where}: `parameters` must be a non-empty mapping")
    for name, spec in params.items():
        if not isinstance(spec, dict):
            raise SweepFileError(f"{where}: parameter {name!r} must be a mapping (value: / values:)")


def run_cap(config: dict[str, Any]) -> int | None:
    """The file's `run_cap` (None when it has none): the one check of it, for `sweeps validate`,
    the random expansion and the bayes budget; anything but a positive integer is one line."""
    cap = config.get("run_cap")
    if cap is not None and (not isinstance(cap, int) or isinstance(cap, bool) or cap < 1):
        raise SweepFileError(f"run_cap must be a positive integer, got {cap!r}")
    return cap


def grid_size(sweep_config: dict[str, Any]) -> int:
    """Number of runs of a grid sweep (after W&B's collapse of duplicate values), counted from
    the parameters before anything is built; `SweepFileError` above `MAX_SWEEP_RUNS` or for a
    parameter a grid cannot enumerate."""
    try:
        return count_grid(sweep_config["parameters"], MAX_SWEEP_RUNS)
    except GridSizeError as exc:
        raise SweepFileError(str(exc)) from None


def check_draw_count(n: int) -> None:
    """A random sweep's draws are built as a list too: the same cap, said in one line."""
    if n > MAX_SWEEP_RUNS:
        raise SweepFileError(f"{n:,} random runs requested; at most {MAX_SWEEP_RUNS:,} are "
                             "allowed in one sweep")


def _grid_runs(sweep_config: dict[str, Any], wandb_sweeps) -> list[dict[str, Any]]:
    size = grid_size(sweep_config)  # before W&B lists the product: refused above the cap
    try:
        # n = the grid's size: every run, never a cut. `next_runs` would also import the bayes
        # search (scikit-learn, 2 s): call the grid search it dispatches to.
        proposed = wandb_sweeps.grid_search.grid_search_next_runs(
            [], sweep_config, validate=False, n=max(size, 1)
        )
    except (ValueError, AssertionError, KeyError, TypeError) as exc:
        raise SweepFileError(f"sweep config: {exc}") from None
    order = list(sweep_config["parameters"])
    return [flatten_run_config(r.config, order) for r in proposed if r is not None]


def _random_runs(sweep_config: dict[str, Any], n: int, seed: int | None,
                 wandb_sweeps) -> list[dict[str, Any]]:
    """`n` draws; a seed gives the same draws and leaves the global generators as they were."""
    import numpy as np

    state_py, state_np = random.getstate(), np.random.get_state()
    try:
        if seed is not None:
            random.seed(seed)
            np.random.seed(seed)
        proposed = wandb_sweeps.random_search.random_search_next_runs(sweep_config, validate=False, n=n)
    except (ValueError, AssertionError, KeyError, TypeError) as exc:
        raise SweepFileError(f"sweep config: {exc}") from None
    finally:
        if seed is not None:
            random.setstate(state_py)
            np.random.set_state(state_np)
    order = list(sweep_config["parameters"])
    return [flatten_run_config(r.config, order) for r in proposed if r is not None]


def expand_runs(
    sweep_config: dict[str, Any], seed: int | None = None, count: int | None = None
) -> list[dict[str, Any]]:
    """Each run's parameter values (`{name: value}`), in W&B's order.

    grid: every combination, W&B's order, the first `run_cap` of them when the file has one (as
    W&B's controller, which applies `run_cap` to every method; `count` truncates). random: `count` draws (default the
    file's `run_cap`), reproducible with `seed`. bayes cannot be listed ahead: each proposal
    depends on the metrics of the runs before it.
    """
    check_sweep_config(sweep_config)
    method = sweep_config["method"]
    if method == "bayes":
        raise SweepFileError(
            "bayes sweeps cannot be expanded ahead of time (each run depends on earlier "
            "results); run them with `wandb agent`, or use method grid or random"
        )
    wandb_sweeps = import_wandb_sweeps()
    if method == "grid":
        runs = _grid_runs(sweep_config, wandb_sweeps)
        cap = run_cap(sweep_config)  # W&B stops every method, grid too, after `run_cap` runs
        runs = runs[:cap] if cap is not None else runs
        return runs[:count] if count is not None else runs
    n = count if count is not None else run_cap(sweep_config)
    if not isinstance(n, int) or n <= 0:
        raise SweepFileError("a random sweep needs a run count: --count N or `run_cap` in the file")
    check_draw_count(n)
    return _random_runs(sweep_config, n, seed, wandb_sweeps)
