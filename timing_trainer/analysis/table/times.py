"""Which times are believable: finite seconds in a sane range, anything else read as missing.

A time is a finite number of seconds, above zero and at most `MAX_SECONDS`. Anything else
(`Infinity`, `NaN` in a results file, `inf` text in an export cell, `1e300`, 0, a negative value)
is read as missing, with one `RunsDataWarning` per source and column naming the runs, so that no
statistic, plot or cost model downstream ever sees it. `MAX_SECONDS` is 1e7 s (about 116 days): no single
fine-tuning or evaluation batch of a timing study runs that long, while a real week-long
fine-tuning (6e5 s) stays well inside; larger values are corrupt, and `exp` of their logarithm
overflows the regressions.

A list of times with some bad entries keeps its good ones (positions are kept while the analysed
time is chosen, because the thesis's inference rule drops the list's last element). A list whose
every entry is bad leaves the run without a time: it never falls back to another column.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import MutableMapping, Sequence
from typing import Any

from timing_trainer.analysis.table.flat import number
from timing_trainer.errors import RunsDataWarning

MAX_SECONDS = 1e7
SCALAR_TIME_KEYS = ("setup_time", "finetuning_time", "inference_time", "inference_total_time")
LIST_TIME_KEYS = ("finetuning_time_list", "inference_time_list")
BAD_TIMES_KEY = "_bad_times"  # a row's bad times until the loader reports them


def is_time(value: Any) -> bool:
    """A finite number of seconds in (0, MAX_SECONDS]."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and 0 < value <= MAX_SECONDS)


def clean_times(row: MutableMapping[str, Any]) -> dict[str, str]:
    """Replace bad times in `row` by None (list entries too); {key: what was wrong} of the row."""
    bad: dict[str, str] = {}
    for key in SCALAR_TIME_KEYS:
        value = number(row.get(key))  # other text: the loader's number check reports it
        if isinstance(value, float) and not is_time(value):
            bad[key] = _show(value)
            value = None
        row[key] = value
    for key in LIST_TIME_KEYS:
        values = row.get(key)
        if values is None:
            continue
        wrong = [v for v in values if not is_time(v)]
        if wrong:
            bad[key] = f"{len(wrong)} of {len(values)}: {', '.join(_show(v) for v in wrong[:3])}"
            row[key] = [v if is_time(v) else None for v in values]
    return bad


def report_bad_times(rows: list[MutableMapping[str, Any]], source: str) -> None:
    """One warning per column for the rows of `source` whose times were made missing.

    Each row's problems wait under BAD_TIMES_KEY (set by `records.row_from_flat`); this removes
    that key and names the runs (up to five) and what their values were.
    """
    by_column: dict[str, list[str]] = {}
    for row in rows:
        for key, text in (row.pop(BAD_TIMES_KEY, None) or {}).items():
            by_column.setdefault(key, []).append(f"{row.get('name') or row.get('run_id')}: {text}")
    for key, runs in by_column.items():
        shown = "; ".join(runs[:5]) + ("; ..." if len(runs) > 5 else "")
        warnings.warn(f"{source}: {key} of {len(runs)} run(s) is not a time (finite positive "
                      f"seconds up to {MAX_SECONDS:g}) and is read as missing ({shown})",
                      RunsDataWarning, stacklevel=3)


def _show(value: Any) -> str:
    return repr(value) if not isinstance(value, float) else f"{value:g}"


def valid(values: Sequence[float | None] | None) -> list[float]:
    """The entries of a cleaned list that are times (None marks a bad entry): what a repeats'
    CV (`results.measurement.coefficient_of_variation`, the results file's `*_cv`) is of."""
    return [] if values is None else [v for v in values if v is not None]
