"""Reading a run's flat keys (W&B config and summary, a flattened results file, an export row):
what counts as missing, the first present key of several spellings, list values, nesting.

Shared by the row builders (`records`, `energy_records`); kept apart so that both can use them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping
from typing import Any

from timing_trainer.analysis.errors import RunsDataWarning

_MISSING_TEXT = frozenset(("", "-", "nan", "NaN", "None", "null"))


def is_missing(value: Any) -> bool:
    """None, NaN, or text that W&B exports use for nothing ("", "-", "nan", ...)."""
    if value is None:
        return True
    if type(value) is str:
        return value.strip() in _MISSING_TEXT
    if isinstance(value, float):
        return value != value
    return False


def first(flat: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = flat.get(key)
        if not is_missing(value):
            return value
    return None


def parse_list(value: Any, *, what: str = "list", where: str = "") -> list[float] | None:
    """A list of floats from a list or from its JSON text (`"[1049.16, 1013.14]"`).

    Exports hold list values as JSON text; Excel re-saves keep the text. Text that is not a list
    of numbers is reported (never silently dropped) and read as missing.
    """
    if isinstance(value, (list, tuple)):
        items = value
    elif is_missing(value):
        return None
    elif isinstance(value, str):
        text = value.strip()
        try:
            items = json.loads(text)
        except ValueError:
            try:
                items = [float(x) for x in text.strip("][").split(",") if x.strip()]
            except ValueError:
                warnings.warn(f"{where}: {what} is not a list of numbers: {text[:60]!r}; "
                              "read as missing", RunsDataWarning, stacklevel=3)
                return None
        if not isinstance(items, list):
            items = [items]
    else:
        items = [value]
    try:
        return [float(x) for x in items]
    except (TypeError, ValueError):
        warnings.warn(f"{where}: {what} holds non-numbers: {str(items)[:60]!r}; read as missing",
                      RunsDataWarning, stacklevel=3)
        return None


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"environment": {"device": "cuda"}}` -> `{"environment.device": "cuda", "device": ...}`.

    Lists stay whole (they are values, not structure). Top-level keys of nested dicts are also
    copied unprefixed when not already present, so `config.task_name` reads as `task_name`.
    """
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
