"""Reading a run's flat keys (W&B config and summary, a flattened results file, an export row):
what counts as missing, numbers and number text, the first present key of several spellings,
list values, nesting.

Shared by the row builders (`records`, `energy_records`, `times`) and `noise`: one reading of
each, whichever source a value came from.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping
from typing import Any

from timing_trainer.errors import RunsDataWarning

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


def number(value: Any) -> Any:
    """A float for numbers and number text ("inf", "1e300"; an integer beyond float's range is
    inf); anything else (other text, bools, lists) is returned unchanged."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return value
    try:
        return float(value.strip() if isinstance(value, str) else value)
    except OverflowError:
        return math.inf
    except ValueError:
        return value


def finite_number(value: Any) -> float | None:
    """A finite float from a number or number text; None for anything else (bools included)."""
    value = number(value)
    return value if isinstance(value, float) and math.isfinite(value) else None


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
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond float
        warnings.warn(f"{where}: {what} holds non-numbers: {str(items)[:60]!r}; read as missing",
                      RunsDataWarning, stacklevel=3)
        return None


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"environment": {"device": "cuda"}}` -> `{"environment.device": "cuda", "device": ...}`.

    Lists stay whole (they are values, not structure); only the nested keys are prefixed
    (`run_folders.flat_results` copies a results file's sections unprefixed where it needs them).
    """
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out
