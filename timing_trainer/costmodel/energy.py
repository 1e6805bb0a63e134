"""Energy as the cost model's second response: the same fit, on joules instead of seconds.

What is fitted, per run, is the energy of the unit whose time the time fit models: the runs
table's `energy_j` (timing_trainer.analysis.table.columns), which is
- fine-tuning: the joules of the fine-tuning iteration whose time is `finetuning_time`
  (`finetuning_energy_j`), so a sweep's energy is that x `finetuning_iters`, like its time;
- inference: the joules of one evaluation batch (`inference_energy_per_batch_j`: per sample x
  `eval_batch_size` x world size), so a sweep's energy is that x evaluation batches, like its
  time.
A table without `energy_j` (built by hand, or by an older loader) gets it from those keys.

The response goes through the time fit's code path (`fit_cost_model(..., response=ENERGY)`,
`cross_validate(..., response=ENERGY)`): same physics, platforms, robust loss, shrunk effects and
cross-validated intervals. A run without energy (a CPU without readable RAPL, a GPU without
NVML's energy counter) is left out of the energy fit only, and counted with the reason; the time
fit never sees this module. Energies from different sources (`nvml`, `rapl`, `nvml+rapl`) count
different parts of the machine and never mix: on a platform whose runs used several, the runs of
the most common source are fitted and the others counted as left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from timing_trainer.costmodel.cross_validation import CVResult, cross_validate
from timing_trainer.costmodel.features import row_platform
from timing_trainer.costmodel.model import CostModel, fit_cost_model
from timing_trainer.costmodel.response import ENERGY
from timing_trainer.costmodel.selection import usable_runs
from timing_trainer.errors import CostModelError

JOULES_PER_KWH = 3.6e6
# The runs table's columns (timing_trainer.analysis.table.columns) this module reads.
FINETUNING_ENERGY = "finetuning_energy_j"
INFERENCE_PER_BATCH = "inference_energy_per_batch_j"
INFERENCE_PER_SAMPLE = "inference_energy_per_sample_j"
SOURCE = "energy_source"
UNAVAILABLE = "energy_unavailable"  # why a run has no energy (the results' `unavailable`)
NO_ENERGY = "none recorded"
_REASONS_SHOWN = 3  # distinct reasons named in the counts; rarer ones are lumped together


@dataclass
class EnergyFit:
    """An energy model, or why there is none (`note`), and how many runs carried energy."""

    model: CostModel | None
    note: str = ""  # one line: why energy is not predicted ("" when `model` is set)
    n_with_energy: int = 0  # finished runs with a usable energy
    source: str = ""  # what the fitted joules count (`nvml`, `rapl`, `nvml+rapl`); "" unknown

    def predictions(self, feats: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
        """(the energy of each of a sweep's feature rows, as `CostModel.predict_features` gives
        it, "") or (None, why there is none). A row on a platform without energy runs has no
        prediction, and its `interval_note` says so."""
        if self.model is None:
            return None, self.note
        fitted = self.model.platforms
        if not set(feats["platform"]) & set(fitted):
            return None, (f"not predicted: the runs with energy ran on {'; '.join(fitted)}, "
                          f"not on this sweep's {'; '.join(sorted(set(feats['platform'])))}")
        pred = self.model.predict_features(feats)
        unfitted = ~feats["platform"].isin(fitted)
        pred.loc[unfitted, "interval_note"] = ("no run with energy on its platform ("
                                               + feats.loc[unfitted, "platform"] + ")")
        return pred, ""


def energy_values(table: pd.DataFrame, kind: str) -> pd.Series:
    """Joules per run of the unit the time fit models (see the module's docstring); NaN where
    the run has none."""
    nan = pd.Series(np.nan, index=table.index, dtype=float)

    def column(name: str) -> pd.Series:
        return pd.to_numeric(table[name], errors="coerce").astype(float) if name in table else nan

    if kind == "finetuning":
        raw = column(FINETUNING_ENERGY)
    else:
        world = column("world_size").fillna(1.0).clip(lower=1.0)
        per_batch = column(INFERENCE_PER_SAMPLE) * column("eval_batch_size") * world
        raw = column(INFERENCE_PER_BATCH).fillna(per_batch)
    return column(ENERGY.column).fillna(raw)


def missing_reasons(table: pd.DataFrame, missing: pd.Series) -> pd.Series:
    """Why each run in `missing` has no energy, as counted ("without energy (REASON)"): the
    table's `energy_unavailable`, the few most common named, the rest lumped together."""
    given = (table[UNAVAILABLE].astype(object).where(table[UNAVAILABLE].notna(), None)
             if UNAVAILABLE in table else pd.Series(None, index=table.index, dtype=object))
    given = given.map(lambda v: NO_ENERGY if pd.isna(v) or not str(v).strip()
                      else " ".join(str(v).split()))[missing]
    common = set(given.value_counts().index[:_REASONS_SHOWN])
    lumped = given.where(given.isin(common), "other reasons")
    out = pd.Series(None, index=table.index, dtype=object)
    out[missing] = "without energy (" + lumped + ")"
    return out


def energy_table(table: pd.DataFrame, kind: str) -> pd.DataFrame:
    """`table` with ENERGY's column (joules, see `energy_values`) and, for each run without a
    usable one, the reason (`ENERGY.reason_column`); the sources are not mixed per platform."""
    out = table.copy()
    energy = energy_values(table, kind)
    reasons = missing_reasons(table, energy.isna())
    if SOURCE in table:
        sources = table[SOURCE].astype(object).where(table[SOURCE].notna(), None)
        for idx, reason in _mixed_sources(table, sources, energy).items():
            energy.loc[idx], reasons.loc[idx] = np.nan, reason
    out[ENERGY.column] = energy
    out[ENERGY.reason_column] = reasons
    return out


def _mixed_sources(table: pd.DataFrame, sources: pd.Series, energy: pd.Series) -> pd.Series:
    """Runs whose energy source is not their platform's most common one -> the reason."""
    platforms = pd.Series([row_platform(r) for r in table.to_dict("records")], index=table.index)
    known = energy.notna() & sources.notna()
    out = {}
    for _, rows in sources[known].groupby(platforms[known]):
        counts = rows.value_counts()
        if len(counts) < 2:
            continue
        main = str(counts.index[0])
        for idx in rows.index[rows != main]:
            out[idx] = (f"with energy measured by {rows[idx]}, where their platform's other "
                        f"runs used {main} (different sources count different parts; "
                        "not mixed)")
    return pd.Series(out, dtype=object)


def _energy_runs(table: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """(`table` prepared by `energy_table`, its runs with a usable energy, why there are none:
    "" where there are some)."""
    prepared = energy_table(table, kind)
    runs, counts = usable_runs(prepared, ENERGY)
    why = "" if len(runs) else f"no finished run has a usable energy ({counts.describe()})"
    return prepared, runs, why


def fit_energy(table: pd.DataFrame, kind: str, **fit_args) -> EnergyFit:
    """The energy model of `table`'s runs, or an `EnergyFit` whose note says why there is none
    (no finished run with energy, too few per platform); never an error: time goes on without."""
    prepared, runs, why = _energy_runs(table, kind)
    if why:
        return EnergyFit(None, f"not predicted: {why}")
    try:
        model = fit_cost_model(prepared, kind, response=ENERGY, **fit_args)
    except CostModelError as exc:
        return EnergyFit(None, f"not predicted: {exc}", len(runs))
    return EnergyFit(model, "", len(runs), _main_source(runs))


def _main_source(runs: pd.DataFrame) -> str:
    if SOURCE not in runs or runs[SOURCE].dropna().empty:
        return ""
    return " / ".join(sorted(runs[SOURCE].dropna().astype(str).unique()))


def cross_validate_energy(table: pd.DataFrame, kind: str, cv: str, **cv_args,
                          ) -> tuple[CVResult | None, str]:
    """(energy CV, "") where runs carry energy; (None, why not) otherwise."""
    prepared, _, why = _energy_runs(table, kind)
    if why:
        return None, f"not scored: {why}"
    try:
        return cross_validate(prepared, kind, cv, response=ENERGY, **cv_args), ""
    except CostModelError as exc:
        return None, f"not scored: {exc}"
