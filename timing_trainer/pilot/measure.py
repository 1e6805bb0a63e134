"""What one slice measured, read back from its run folder: the agent's record (wall time, the
shape, the overrides) and the program's `timing_results.json`.

The parts of a slice's wall time, each of which the estimate prices on its own:
- on the clock: every timed fine-tuning iteration (`finetuning_time_list`, each `train_steps`
  optimizer steps over `train_samples` samples) and every evaluation loop
  (`inference_total_time` over `n_samples` examples);
- the setup parts (`setup_time_parts`): `startup` (interpreter and imports), `model_load`,
  `tokenize` (with the cache's `hit`/`miss` from the config, and the examples it tokenized),
  `warmup` (the warm-up steps, compilation included), `train_setup` (data loader and optimizer
  before the first timed step), and any other part the program adds;
- the rest: the wall time less all of the above (restoring the state between iterations and
  rebuilding the optimizer, evaluation's bookkeeping and metrics, writing results, exit).
Energy where the slice measured it (`finetuning_energy_j_list`, `inference_energy_j`), else the
reason its results give. Torch-free.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timing_trainer.results.file import RunResults
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.sweep.agent.books import RECORD_FILE
from timing_trainer.sweep.agent.outcomes import read_json

KNOWN_PARTS = ("startup", "model_load", "tokenize", "warmup", "train_setup")


def _numbers(values: Any) -> list[float]:
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v)]


def _number(value: Any) -> float | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


@dataclass
class SliceMeasure:
    """One finished slice's figures (see the module docstring)."""

    dir: str
    shape_key: str
    model: str
    index: int  # the sweep run it was cut from
    device: str
    wall: float
    iters: int
    steps: float  # optimizer steps per timed iteration
    samples: float  # samples per timed iteration
    finetuning: list[float]  # seconds of each timed iteration
    eval_total: float  # every evaluation loop's seconds
    eval_samples: float
    batch_times: list[float]  # the primary evaluation's per-batch latencies, warm-up dropped
    parts: dict[str, float]  # setup_time_parts
    tokenize_status: str  # hit, miss, off or unknown
    tokenized: float  # examples the slice tokenized (or read from its cache)
    tokens_per_step: float
    tokenize_key: str = ""
    warmup_steps: int = 0
    finetuning_energy: list[float] = field(default_factory=list)
    eval_energy: float | None = None
    energy_note: str = ""

    @property
    def on_clock(self) -> float:
        return sum(self.finetuning) + self.eval_total

    @property
    def rest(self) -> float:
        """Wall time that is neither on the clock nor a setup part."""
        return self.wall - self.on_clock - sum(self.parts.values())

    def per_unit(self, by_samples: bool) -> list[float]:
        """Each timed iteration's seconds per sample (CPU) or per optimizer step (GPU)."""
        units = self.samples if by_samples else self.steps
        return [t / units for t in self.finetuning] if units > 0 else []

    @property
    def step_seconds(self) -> float:
        return statistics.mean(self.finetuning) / self.steps if self.steps else math.nan


def _evaluation_figures(results: dict[str, Any]) -> tuple[float, float, list[float], float | None]:
    """(total seconds, examples, primary per-batch latencies after warm-up, joules or None)."""
    evaluations = [e for e in results.get("evaluations") or [] if isinstance(e, dict)]
    if not evaluations:
        evaluations = [results]
    total = sum(_number(e.get("inference_total_time")) or 0.0 for e in evaluations)
    samples = sum(_number(e.get("n_samples")) or 0.0 for e in evaluations)
    warm = int((results.get("config") or {}).get("inference_warmup_batches") or 0)
    batches = _numbers(evaluations[0].get("inference_time_list"))[warm:]
    joules = [_number(e.get("inference_energy_j")) for e in evaluations]
    energy = sum(joules) if joules and all(j is not None for j in joules) else None
    return total, samples, batches, energy


def _energy_note(results: dict[str, Any]) -> str:
    unavailable = results.get("unavailable") or {}
    reason = unavailable.get("finetuning_energy_j") if isinstance(unavailable, dict) else None
    return f"not measured by the slices: {reason}" if reason else "not measured by the slices"


def read_slice(run_dir: Path) -> SliceMeasure | None:
    """The figures of the finished slice in `run_dir`, or None when it has none to give (not a
    slice, not finished, or no timed iteration)."""
    record = read_json(run_dir / RECORD_FILE) or {}
    pilot = record.get("pilot")
    if not isinstance(pilot, dict) or record.get("status") != "finished":
        return None
    try:
        results = RunResults.read(run_dir / RESULTS_FILENAME, check="sections").data
    except (OSError, ValueError):
        return None
    finetuning = _numbers(results.get("finetuning_time_list"))
    steps, samples = _number(results.get("train_steps")), _number(results.get("train_samples"))
    wall = _number(record.get("wall_time"))
    if not finetuning or not steps or not samples or wall is None:
        return None
    config = results.get("config") or {}
    total, eval_samples, batches, eval_energy = _evaluation_figures(results)
    parts = {k: float(v) for k, v in (results.get("setup_time_parts") or {}).items()
             if _number(v) is not None}
    tokenized = sum(_number(v) or 0.0 for k, v in config.items()
                    if k.startswith("n_") and k.endswith("_samples"))
    ft_energy = _numbers(results.get("finetuning_energy_j_list"))
    return SliceMeasure(
        dir=run_dir.name, shape_key=str(pilot.get("shape_key")), model=str(pilot.get("model")),
        index=int(record.get("index", -1)),
        device=str((results.get("environment") or {}).get("device") or "unknown"),
        wall=wall, iters=len(finetuning), steps=steps, samples=samples, finetuning=finetuning,
        eval_total=total, eval_samples=eval_samples, batch_times=batches, parts=parts,
        tokenize_status=str(config.get("tokenization_cache") or "unknown"), tokenized=tokenized,
        tokens_per_step=float(pilot.get("tokens_per_step") or math.nan),
        tokenize_key=str(pilot.get("tokenize_key") or ""),
        warmup_steps=int(_number(config.get("timing_warmup_steps")) or 0),
        finetuning_energy=ft_energy if len(ft_energy) == len(finetuning) else [],
        eval_energy=eval_energy, energy_note="" if ft_energy else _energy_note(results))


def read_slices(pilot_dir: Path) -> list[SliceMeasure]:
    """Every finished slice under `pilot_dir`, in folder order."""
    found = []
    for run_dir in sorted(p for p in Path(pilot_dir).iterdir() if p.is_dir()):
        measure = read_slice(run_dir)
        if measure is not None:
            found.append(measure)
    return found
