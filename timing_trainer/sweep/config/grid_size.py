"""A grid sweep's size, from the parameters' value counts, before any run is built.

W&B's grid search (`sweeps.grid_search.grid_search_next_runs`) turns every `int_uniform` into a
list of all its integers and lists the whole product of the parameters before it takes the first
run: 10 parameters of 10 values, or one `int_uniform` from 0 to 1e9, exhaust the memory of any
machine. Counting first costs nothing: the product of each parameter's count (distinct values as
W&B collapses them; `max - min + 1` for `int_uniform`; `len(numpy.arange(min, max, q))` for
`q_uniform`). Distributions a grid cannot enumerate (`uniform`, `normal`, ...) are named in one
line here, instead of in W&B's error after its parameter parsing.
"""

from __future__ import annotations

import math
from typing import Any

from timing_trainer.errors import GridSizeError
from timing_trainer.sweep.config.controller import import_wandb_sweeps, value_hash

ENUMERABLE = "values, value, int_uniform (integer min/max) or q_uniform"


def _hyperparameters(parameters: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, W&B type, filled config) of every parameter, nested ones flattened, as W&B's
    controller classifies them."""
    parameter_set = import_wandb_sweeps().params.HyperParameterSet
    try:
        params = parameter_set.from_config(parameters)
    except Exception as exc:  # jsonschema / assertion errors from W&B's parser
        text = " ".join(str(exc).split())[:200]
        raise GridSizeError(f"sweep config: {text}") from None
    return [(p.name.split(".wbnest[")[0], p.type, p.config) for p in params]


def _count(name: str, kind: str, config: dict[str, Any], cap: int) -> int:
    """How many grid points one parameter contributes."""
    if kind == "param_single_value":
        return 1
    if kind == "param_categorical":
        values = config["values"]
        if len(values) > cap:  # hashing them all would be the slow part; the grid is too big
            return len(values)
        return len({value_hash(v) for v in values})
    if kind == "param_int_uniform":
        return max(0, int(config["max"]) - int(config["min"]) + 1)
    if kind == "param_quniform":
        low, high, q = (float(config[k]) for k in ("min", "max", "q"))
        span = (high - low) / q if q > 0 else math.inf
        if not math.isfinite(span):
            raise GridSizeError(f"parameter {name}: q_uniform from {low} to {high} by {q} "
                                "cannot be enumerated")
        return max(0, math.ceil(span))
    shown = config.get("distribution", kind.replace("param_", ""))
    raise GridSizeError(f"parameter {name}: a grid cannot enumerate distribution {shown!r}; "
                        f"use {ENUMERABLE}")


def grid_counts(parameters: dict[str, Any], cap: int) -> list[tuple[str, int]]:
    """(name, number of grid points) of every parameter, in W&B's order (names sorted)."""
    return [(name, _count(name, kind, config, cap))
            for name, kind, config in _hyperparameters(parameters)]


def grid_size(parameters: dict[str, Any], cap: int) -> int:
    """Runs of the grid (exact as long as it is at most `cap`); raises `GridSizeError` above
    `cap`, or when a parameter cannot be enumerated."""
    counts = grid_counts(parameters, cap)
    size = math.prod(n for _, n in counts)
    if size > cap:
        factors = " x ".join(f"{name} {n:,}" for name, n in counts if n > 1)
        raise GridSizeError(
            f"the grid has {size:,} runs ({factors}); at most {cap:,} are allowed: "
            "split the sweep into several files, or use method random with run_cap"
        )
    return size
