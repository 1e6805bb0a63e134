"""The energy figures of a results file, from raw joules (torch-free; names: timing_trainer.results.schema).

Fine-tuning: the figure is the energy of the iteration whose time is `finetuning_time` (the
fastest), the list has every timed iteration, the power is that iteration's energy over its time.
A list with a missing iteration is no list: all three figures are null then (the reason says
which iteration). Inference: the whole evaluation set's joules, and per sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from timing_trainer.results.schema import FINETUNING_ENERGY_KEYS, INFERENCE_ENERGY_KEYS


def finetuning_energy_figures(times: Sequence[float],
                              energies: Sequence[float | None]) -> dict[str, Any]:
    """`finetuning_energy_j`, `finetuning_energy_j_list`, `finetuning_avg_power_w`."""
    complete = bool(times) and len(energies) == len(times) and None not in energies
    if not complete:
        return dict.fromkeys(FINETUNING_ENERGY_KEYS)
    fastest = min(range(len(times)), key=times.__getitem__)
    joules, seconds = energies[fastest], times[fastest]
    power = joules / seconds if seconds > 0 else None
    return dict(zip(FINETUNING_ENERGY_KEYS, (joules, list(energies), power), strict=True))


def inference_energy_figures(joules: float | None, n_samples: int | None) -> dict[str, Any]:
    """`inference_energy_j` and `inference_energy_per_sample_j` of one evaluation set."""
    per_sample = joules / n_samples if joules is not None and n_samples else None
    return dict(zip(INFERENCE_ENERGY_KEYS, (joules, per_sample), strict=True))
