"""What counts as no value in a cell of the runs table, for every reader in the cost model.

A run's cell reaches the cost model as None, NaN, `pd.NA`, or as the text a loader made of
nothing ("", "nan", "None", "<NA>" after a column went through `astype(str)`, JSON's "null").
One test for all of them, so that the features, the modes and the recorded shapes agree on
which runs recorded something.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

_NOTHING = frozenset(("", "nan", "none", "<na>", "null"))


def missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _NOTHING
