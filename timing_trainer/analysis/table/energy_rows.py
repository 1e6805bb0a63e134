"""A run's energy columns, from the energy keys of its results (schema version 3).

The results carry, each null with a reason in `unavailable` where it could not be measured:
`finetuning_energy_j` (the fine-tuning iteration whose time is `finetuning_time`, the fastest),
`finetuning_energy_j_list` (every timed iteration), `finetuning_avg_power_w`,
`inference_energy_j` (the whole primary evaluation set, at the boundaries of
`inference_total_time`), `inference_energy_per_sample_j` and `energy_source` (`nvml`, `rapl`,
`nvml+rapl`). Run folders, W&B summaries and W&B exports give them as the same flat keys.

The analysed energy (`energy_j`, beside `time`) per kind:
- fine-tuning: `finetuning_energy_j`, the fastest iteration's, the same iteration as `time`
  (where only the list is there, its entry at the fastest time's position);
- inference: `inference_energy_per_batch_j` = energy per sample x evaluation batch size x world
  size, the energy of one full batch on all devices. The analysed inference time is the
  per-batch latency, so the per-batch energy is its counterpart: the ANOVA's batch-size levels
  and the log-linear coefficients then describe the same unit of work for both responses. Energy
  per sample would turn the batch size's effect around (a larger batch spreads fixed costs over
  more samples) and match nothing in the time analysis. It is a mean over the whole evaluation
  (warm-up and the last, partial batch included, weighted by their samples), while the latency
  is the minimum over full batches: energy counters are not read per batch, because reading them
  inside the timed region would disturb the clock.

`avg_power_w` is the average power over one measurement whose energy and time share boundaries:
fine-tuning: the results' `finetuning_avg_power_w` (else `finetuning_energy_j / time`); inference:
`inference_energy_j / inference_total_time`, the whole evaluation (energy per batch / latency
would overstate it, the latency being a minimum). `energy_cv` is the coefficient of variation
over the fine-tuning iterations (inference has one figure per evaluation). `energy_unavailable`
says why `energy_j` is missing: the results' own reason where they give one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from timing_trainer.analysis.table.flat import finite_number, first, is_missing, parse_list
from timing_trainer.analysis.table.times import valid
from timing_trainer.results.measurement import coefficient_of_variation
from timing_trainer.results.schema import FINETUNING_ENERGY_KEYS, INFERENCE_ENERGY_KEYS

ENERGY_KEYS = (*FINETUNING_ENERGY_KEYS, *INFERENCE_ENERGY_KEYS, "energy_source")
# The results' `unavailable` entries that explain a missing energy, per kind, most specific first.
REASON_KEYS = {
    "finetuning": ("finetuning_energy_j", "finetuning_energy_j_list", "energy_source"),
    "inference": ("inference_energy_per_sample_j", "inference_energy_j", "energy_source"),
}
# The analysed energy's source key per kind (what a bad value is reported under).
ANALYSED_KEY = {"finetuning": "finetuning_energy_j", "inference": "inference_energy_per_sample_j"}
NO_ENERGY_KEYS = ("the results have no energy figures (written before timing-trainer measured "
                  "energy, or by another program, such as the thesis's runs)")
NULL_WITHOUT_REASON = "the results' energy figures are null and give no reason"
NO_EVAL_BATCH = "no evaluation batch size to scale the per-sample energy to a batch"


def positive(value: Any) -> float | None:
    """A finite number above zero (joules, watts), else None."""
    number = finite_number(value)
    return number if number is not None and number > 0 else None


def _fastest(energies: list[float] | None, times: list[float] | None) -> float | None:
    """The energy of the fastest iteration, when both lists line up entry for entry."""
    if not energies or not times or len(energies) != len(times):
        return None
    return energies[min(range(len(times)), key=times.__getitem__)]


def _figures(row: Mapping[str, Any], flat: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The results' energy figures, bad values (not positive and finite) as missing."""
    listed = parse_list(flat.get("finetuning_energy_j_list"), what="finetuning_energy_j_list",
                        where=where)
    listed = None if listed is None else [v for v in map(positive, listed) if v is not None]
    per_sample = positive(flat.get("inference_energy_per_sample_j"))
    eval_batch = positive(row.get("eval_batch_size"))
    world = positive(row.get("world_size")) or 1.0
    source = first(flat, ("energy_source",))
    return {
        "finetuning_energy_j": positive(flat.get("finetuning_energy_j"))
        or _fastest(listed, row.get("finetuning_time_list")),
        "finetuning_energy_j_list": listed or None,
        "finetuning_avg_power_w": positive(flat.get("finetuning_avg_power_w")),
        "inference_energy_j": positive(flat.get("inference_energy_j")),
        "inference_energy_per_sample_j": per_sample,
        "inference_energy_per_batch_j": per_sample * eval_batch * world
        if per_sample is not None and eval_batch is not None else None,
        "energy_source": None if source is None else str(source),
    }


def _power(row: Mapping[str, Any], kind: str) -> float | None:
    """Average power over one measurement with shared boundaries (see the module's docstring)."""
    if kind == "finetuning":
        given = row["finetuning_avg_power_w"]
        energy, time = row["finetuning_energy_j"], positive(row.get("time"))
    else:
        given = None
        energy, time = row["inference_energy_j"], positive(row.get("inference_total_time"))
    if given is not None:
        return given
    return energy / time if energy is not None and time is not None else None


def reason_given(flat: Mapping[str, Any], key: str) -> str | None:
    """The results' `unavailable` reason for `key` (flat `unavailable.KEY`, or a nested dict)."""
    nested = flat.get("unavailable")
    reason = flat.get(f"unavailable.{key}")
    if is_missing(reason) and isinstance(nested, Mapping):
        reason = nested.get(key)
    return None if is_missing(reason) else str(reason)


def why_missing(row: Mapping[str, Any], flat: Mapping[str, Any], kind: str) -> str:
    """One line saying why the run has no analysed energy for `kind`."""
    for key in REASON_KEYS[kind]:
        reason = reason_given(flat, key)
        if reason:
            return reason
    key = ANALYSED_KEY[kind]
    value = flat.get(key)
    if not is_missing(value) and positive(value) is None:
        return f"{key} is {value!r}, not a positive, finite number of joules"
    if kind == "inference" and row["inference_energy_per_sample_j"] is not None:
        return NO_EVAL_BATCH
    if not any(key in flat for key in ENERGY_KEYS):
        return NO_ENERGY_KEYS
    return NULL_WITHOUT_REASON


def energy_columns(row: dict[str, Any], flat: Mapping[str, Any], kind: str,
                   where: str = "") -> None:
    """Add the energy columns (`columns.COLUMNS`) to `row`; needs its time columns first."""
    row.update(_figures(row, flat, where))
    row["energy_j"] = row[ANALYSED_KEY[kind] if kind == "finetuning"
                          else "inference_energy_per_batch_j"]
    row["avg_power_w"] = _power(row, kind)
    row["energy_cv"] = coefficient_of_variation(valid(row["finetuning_energy_j_list"])) \
        if kind == "finetuning" else None
    row["energy_unavailable"] = None if row["energy_j"] is not None \
        else why_missing(row, flat, kind)
