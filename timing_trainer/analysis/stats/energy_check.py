"""Which runs carry the energy response, and why the others do not.

`--metric energy` analyses the finished runs that have an energy (`energy_j`); the rest are
counted and their reasons given (the loader's `energy_unavailable`: the results' own reason from
`unavailable` where they give one). When no finished run has one, that is one line and exit 2
(`NoEnergyError`), before any statistic is computed.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd

from timing_trainer.analysis.table.load import finished_runs
from timing_trainer.errors import NoEnergyError

WHAT = {"finetuning": "fine-tuning energy", "inference": "inference energy"}
SHOWN_REASONS = 3


def has_energy(table: pd.DataFrame) -> pd.Series:
    """Rows with a positive analysed energy."""
    if "energy_j" not in table:
        return pd.Series(False, index=table.index)
    return (pd.to_numeric(table["energy_j"], errors="coerce") > 0).fillna(False).astype(bool)


def reasons(table: pd.DataFrame) -> str:
    """`12 runs: reason; 2 runs: other reason`, most frequent first (the first three)."""
    column = table["energy_unavailable"] if "energy_unavailable" in table \
        else pd.Series(None, index=table.index, dtype=object)
    counts = Counter(column.fillna("no reason recorded").astype(str))
    shown = [f"{n} run{'s' if n != 1 else ''}: {why}" for why, n in
             counts.most_common(SHOWN_REASONS)]
    more = len(counts) - SHOWN_REASONS
    return "; ".join(shown) + (f"; and {more} other reason(s)" if more > 0 else "")


def require_energy(table: pd.DataFrame, kind: str) -> None:
    """NoEnergyError when finished runs exist and none has the energy; nothing otherwise (no
    finished run at all is the report's own "nothing to analyse")."""
    finished = finished_runs(table)
    if finished.empty or has_energy(finished).any():
        return
    article = "an" if WHAT[kind][0] in "aeiou" else "a"
    raise NoEnergyError(f"--metric energy: none of the {len(finished)} finished run(s) has "
                        f"{article} {WHAT[kind]} ({reasons(finished)})")


def energy_notes(table: pd.DataFrame, kind: str) -> list[str]:
    """A note when some finished runs lack the energy and are left out of its analysis."""
    finished = finished_runs(table)
    lacking = finished.loc[~has_energy(finished)]
    if lacking.empty:
        return []
    return [f"{len(lacking)} of {len(finished)} finished run(s) have no {WHAT[kind]} and are "
            f"left out of the energy analysis ({reasons(lacking)})"]
