"""`--only NAME=V1,V2`: keep the runs of a sweep whose parameter NAME has one of those values.

One rule for `timing-trainer sweep --only` and `timing-trainer predict --only`, so that the same
words select the same runs in both (a CPU user skips a grid's `bf16=true` runs without editing the
YAML, and `predict` estimates exactly the runs `sweep` would run). Values compare as text, case
folded (`bf16=False` and `bf16=false` match `False`); numbers also compare by value, so
`learning_rate=2e-5` matches the `2e-05` Python prints. Repeated `--only` options narrow
further (AND); the values of one option are alternatives (OR). Torch-free, wandb-free.
"""

from __future__ import annotations

import math
from typing import Any

from timing_trainer.errors import OnlyError


def parse_only(items: list[str] | None) -> dict[str, list[str]]:
    """`["max_seq_length=128,256", "bf16=false"]` -> `{name: [allowed values as lower text]}`.

    A name given twice keeps the last values (as argparse does with a repeated option).
    """
    out: dict[str, list[str]] = {}
    for item in items or []:
        name, sep, values = str(item).partition("=")
        allowed = [v.strip().lower() for v in values.split(",") if v.strip()]
        if not sep or not name.strip() or not allowed:
            raise OnlyError(f"--only expects NAME=VALUE[,VALUE...], not {item!r}")
        out[name.strip()] = allowed
    return out


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def value_matches(value: Any, allowed: list[str]) -> bool:
    """Whether one run's value is among the allowed texts (text, or numerically equal)."""
    text = str(value).lower()
    if text in allowed:
        return True
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return any(_as_number(a) is not None and math.isclose(_as_number(a), value, rel_tol=1e-12)
               for a in allowed)


def select_runs(runs: list[dict], only: dict[str, list[str]]) -> list[dict]:
    """The runs whose every named parameter has an allowed value, in their order.

    Raises `OnlyError` for a name that no run has (a typo would otherwise select nothing or
    everything silently). An empty result is returned as such: the caller says what it means.
    """
    for name, allowed in (only or {}).items():
        if runs and not any(name in run for run in runs):
            raise OnlyError(f"--only {name}: the sweep has no parameter {name!r}")
        runs = [run for run in runs if name in run and value_matches(run[name], allowed)]
    return runs
