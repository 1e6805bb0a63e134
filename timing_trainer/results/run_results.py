"""One run's results: what `timing_results.json` holds and W&B's summary shows.

Torch-free at import, so the GLUE program can write a `failed` results file when loading the
model itself failed, and the analysis can rebuild figures from raw lists. The trainer fills a
`TimingResults` with raw values (every iteration's time, every batch's latency, counts); the
figures (minimum, median, CV, throughput, MFU) are derived in `figures()`, in one place, into the
declaration of timing_trainer.results.figures; `to_dict()` adds the reason behind every figure that stays
null (`unavailable`, see timing_trainer.results.reasons). The file itself, read or written, is a
`RunResults` (timing_trainer.results.file, re-exported here): `save()` writes through it.

Lifecycle (the `status` key): `running` from the first write until the run has ended;
`finished` (`mark_finished()`) only after the last measurement; `failed` (`mark_failed()`) with
an error kind otherwise. A finished or failed result never goes back to running.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from timing_trainer.errors import ResultsWriteError
from timing_trainer.results.energy import finetuning_energy_figures
from timing_trainer.results.evaluation import (
    EvaluationRecord,
    finite_or_none,
    is_number,
    per_second,
)
from timing_trainer.results.figures import (
    INFERENCE_MEASUREMENTS,
    FinetuningEnergy,
    FinetuningFigures,
    InferenceFigures,
    RunFigures,
    flat,
)
from timing_trainer.results.file import RunResults
from timing_trainer.results.flops import TRAINING_FORWARDS, mfu
from timing_trainer.results.measurement import Measurement
from timing_trainer.results.reasons import evaluation_reasons, unavailable_reasons
from timing_trainer.results.schema import (
    ERROR_KINDS,
    FIGURES,
    SCHEMA_VERSION,
    empty_results,
)
from timing_trainer.runtime.environment import ENVIRONMENT_KEYS

__all__ = ["EvaluationRecord", "ResultsWriteError", "RunResults", "TimingResults",
           "classify_error", "is_metric_key"]

_MAX_MESSAGE_CHARS = 4000

# Keys the Trainer puts next to the metrics that are timings, not the task's metrics.
_NON_METRIC_SUFFIXES = (
    "_runtime", "_samples_per_second", "_steps_per_second", "_model_preparation_time",
    "_jit_compilation_time", "_mem_cpu_alloc_delta", "_mem_gpu_alloc_delta",
    "_mem_cpu_peaked_delta", "_mem_gpu_peaked_delta",
)


def is_metric_key(key: str) -> bool:
    """True for a task metric (`eval_accuracy`), False for a timing the Trainer or we added."""
    if key.endswith(_NON_METRIC_SUFFIXES) or key == "epoch":
        return False
    return not any(key.endswith("_" + suffix) for suffix in INFERENCE_MEASUREMENTS)


def classify_error(exc: BaseException) -> str:
    """The schema's error kind for an exception: "oom", "interrupted", "nonzero_exit" (a
    script's `sys.exit(N)`) or "exception".

    Out of memory comes in many forms: `torch.cuda.OutOfMemoryError`, Python's `MemoryError`,
    and RuntimeErrors whose text says so (CUDA, MPS, the CPU allocator). A SIGTERM turned into
    an exception by timing_trainer.runtime.signals is a KeyboardInterrupt too: interrupted.
    """
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, SystemExit):
        return "nonzero_exit"
    if isinstance(exc, MemoryError):
        return "oom"
    torch = sys.modules.get("torch")
    oom_type = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom_type is not None and isinstance(exc, oom_type):
        return "oom"
    if type(exc).__name__ == "OutOfMemoryError":
        return "oom"
    if isinstance(exc, RuntimeError):
        text = str(exc).lower()
        if ("out of memory" in text or "can't allocate memory" in text
                or "cannot allocate memory" in text or "not enough memory" in text):
            return "oom"
    return "exception"


def _combined(records: list[EvaluationRecord]) -> EvaluationRecord:
    """Repeated evaluations of one set as one record (latency lists joined, fastest loop kept)."""
    timed = [r for r in records if r.total_time is not None]
    fastest = min(timed, key=lambda r: r.total_time) if timed else records[0]
    return EvaluationRecord(
        name=records[0].name, total_time=fastest.total_time,
        batch_times=[t for r in records for t in r.batch_times],
        batch_sizes=[s for r in records for s in r.batch_sizes],
        forward_times=[t for r in records for t in r.forward_times],
        batch_size=records[0].batch_size, warmup_batches=records[0].warmup_batches,
        n_samples=fastest.n_samples, n_tokens=fastest.n_tokens,
        n_real_tokens=fastest.n_real_tokens, flops=fastest.flops, timer=records[0].timer,
        energy_j=fastest.energy_j,
        notes={k: v for r in records for k, v in r.notes.items()},
    )


class TimingResults:
    """The raw measurements of one run and the figures derived from them.

    Usable without a trainer: `TimingResults(config=..., environment=...)`, then
    `mark_failed(...)` and `save(path)` when a run fails before training starts. It is the
    builder only: reading a file back gives a `RunResults`, since the raw values behind the
    figures are not all in the file.
    """

    def __init__(self, config: dict[str, Any] | None = None,
                 environment: dict[str, Any] | None = None):
        self.config: dict[str, Any] = dict(config or {})
        self.environment: dict[str, Any] = dict(environment or {})
        self.status = "running"
        self.error: dict[str, str] | None = None
        self.created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.setup_time_parts: dict[str, float] = {}
        self.finetuning_times: list[float] = []
        self.finetuning_energies: list[float | None] = []  # joules, one per timed iteration
        self.energy_source: str | None = None  # what the energy figures sum (schema)
        self.train_samples: int | None = None  # per iteration, all ranks
        self.train_tokens: int | None = None  # per iteration, all ranks (padded tokens)
        self.train_real_tokens: int | None = None  # per iteration, all ranks (attention mask)
        self.train_flops: float | None = None  # per iteration, all ranks
        self.train_forward_flops: float | None = None  # its forwards alone (LoRA: not 1/3)
        self.train_steps: int | None = None  # optimizer steps the fastest iteration ran
        # What ran off the clock in that iteration: {"seconds", "evaluations", "saves", "on_clock"}
        self.off_clock: dict[str, Any] | None = None
        self.evaluations: list[EvaluationRecord] = []
        self.peak_memory_train_bytes: int | None = None
        self.peak_memory_eval_bytes: int | None = None
        self.peak_tflops: float | None = None  # per device
        self.n_devices: int = 1
        self.wandb_run_id: str | None = None
        self.notes: dict[str, str] = {}  # figure -> why it is unavailable (set while measuring)

    # --- recording -------------------------------------------------------------------------
    def add_setup_time(self, name: str, seconds: float) -> None:
        """Add a part of the setup (model loading, tokenization, ...); parts of one name add up."""
        if not name or not isinstance(name, str):
            raise ValueError("a setup time part needs a name")
        seconds = float(seconds)
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"setup time {name!r} must be a finite number >= 0, got {seconds}")
        self.setup_time_parts[name] = self.setup_time_parts.get(name, 0.0) + seconds

    def mark_failed(self, kind: str, message: str) -> None:
        """Record that the run failed; `kind` is one of schema.ERROR_KINDS."""
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {kind!r}; expected one of {', '.join(ERROR_KINDS)}")
        self.status = "failed"
        self.error = {"kind": kind, "message": str(message)[:_MAX_MESSAGE_CHARS]}

    def mark_finished(self) -> bool:
        """Record that the run ended with every measurement taken; False when it had failed."""
        if self.status == "failed":
            return False
        self.status = "finished"
        return True

    def add_evaluation(self, record: EvaluationRecord) -> None:
        self.evaluations.append(record)

    # --- derived figures ---------------------------------------------------------------------
    @property
    def setup_time(self) -> float | None:
        return sum(self.setup_time_parts.values()) if self.setup_time_parts else None

    def finetuning(self) -> Measurement:
        return Measurement(self.finetuning_times)

    def _final_evaluations(self) -> list[EvaluationRecord]:
        """The evaluations after training (`evaluate()` called by the script), else those during
        training when there is none after it."""
        final = [e for e in self.evaluations if not e.during_training]
        return final or self.evaluations

    def primary_evaluation_name(self) -> str | None:
        """The set whose figures are the top-level `inference_*` keys: "eval", else the first."""
        names = [e.name for e in self._final_evaluations()]
        if not names:
            return None
        return "eval" if "eval" in names else names[0]

    def eval_metrics(self) -> dict[str, float | None]:
        """The task metrics of every evaluation (`eval_accuracy`, `eval_mm_accuracy`), no timings."""
        merged: dict[str, float | None] = {}
        for record in self.evaluations:
            for key, value in record.metrics.items():
                if is_number(value) and is_metric_key(key):
                    merged[key] = finite_or_none(value)
        return merged

    def _primary_record(self) -> EvaluationRecord | None:
        primary = self.primary_evaluation_name()
        records = [e for e in self._final_evaluations() if e.name == primary]
        return _combined(records) if records else None

    def _finetuning_figures(self) -> FinetuningFigures:
        finetuning = self.finetuning()
        times = finetuning.summary("finetuning_time")
        if not finetuning.n:
            times["finetuning_time_list"] = None
        best = times["finetuning_time"]
        return FinetuningFigures(
            **times,
            train_samples_per_second=per_second(self.train_samples, best),
            train_tokens_per_second=per_second(self.train_tokens, best),
            train_real_tokens_per_second=per_second(self.train_real_tokens, best),
            train_steps=self.train_steps, train_samples=self.train_samples,
            train_tokens=self.train_tokens, train_real_tokens=self.train_real_tokens,
            **self._off_clock_figures(),
            energy=FinetuningEnergy(**finetuning_energy_figures(self.finetuning_times,
                                                                self.finetuning_energies)),
        )

    def _off_clock_figures(self) -> dict[str, Any]:
        off = self.off_clock
        if off is None:
            return {}
        seconds = None if off.get("on_clock") else off.get("seconds")  # notes say why
        return {"evaluation_during_training_time": seconds,
                "evaluations_during_training": off.get("evaluations"),
                "checkpoints_during_training": off.get("saves")}

    def figures(self) -> RunFigures:
        """The run's figures, derived from the raw values (see timing_trainer.results.figures)."""
        finetuning = self._finetuning_figures()
        primary = self._primary_record()
        return RunFigures(
            setup_time=self.setup_time, finetuning=finetuning, energy_source=self.energy_source,
            inference=primary.inference_figures() if primary else InferenceFigures(),
            peak_memory_train_bytes=self.peak_memory_train_bytes,
            peak_memory_eval_bytes=self._peak_memory_eval(),
            flops_per_token=self._forward_flops_per_token(), peak_tflops=self.peak_tflops,
            mfu_train=self._mfu(self.train_flops, finetuning.finetuning_time),
            mfu_eval=self._mfu(primary.flops, primary.total_time) if primary else None,
            wandb_run_id=self.wandb_run_id,
        )

    def to_dict(self) -> dict[str, Any]:
        """The results as `timing_results.json` holds them (see timing_trainer.results.schema)."""
        out = empty_results()
        out.update({
            "schema_version": SCHEMA_VERSION, "status": self.status,
            "error": dict(self.error) if self.error else None, "created_at": self.created_at,
            "config": dict(self.config),
            # Every environment key present (null where unknown), so a partial probe validates.
            "environment": {**{k: None for k in ENVIRONMENT_KEYS}, **self.environment},
            "setup_time_parts": dict(self.setup_time_parts),
        })
        out.update(flat(self.figures()))
        out["evaluations"] = [self.evaluation_dict(e) for e in self.evaluations]
        out["eval_metrics"] = self.eval_metrics()
        out["unavailable"] = unavailable_reasons(out, self._notes(), out["environment"])
        return out

    def _notes(self) -> dict[str, str]:
        notes = dict(self.notes)
        primary = self._primary_record()
        for key, reason in (primary.notes.items() if primary else ()):
            notes.setdefault(key, reason)
        return notes

    def evaluation_dict(self, record: EvaluationRecord) -> dict[str, Any]:
        """One evaluation's figures, with `unavailable` for its null ones."""
        entry = record.to_dict()
        entry["unavailable"] = evaluation_reasons(entry, {**self.notes, **record.notes},
                                                  {**self.environment})
        return entry

    def _peak_memory_eval(self) -> int | None:
        if self.peak_memory_eval_bytes is not None:
            return self.peak_memory_eval_bytes
        peaks = [e.peak_memory_bytes for e in self.evaluations if e.peak_memory_bytes is not None]
        return max(peaks) if peaks else None

    def _forward_flops_per_token(self) -> float | None:
        """Average forward FLOPs per (padded) token over the training data, else the evaluation's."""
        if self.train_forward_flops and self.train_tokens:
            return self.train_forward_flops / self.train_tokens
        if self.train_flops and self.train_tokens:  # full fine-tuning: three forwards
            return self.train_flops / TRAINING_FORWARDS / self.train_tokens
        for record in self.evaluations:
            if record.flops and record.n_tokens:
                return record.flops / record.n_tokens
        return None

    def _mfu(self, flops: float | None, seconds: float | None) -> float | None:
        return mfu(flops, seconds, self.peak_tflops, self.n_devices)

    def summary(self) -> dict[str, Any]:
        """Flat figures for W&B's run summary, the eval metrics at top level (sweeps optimise
        `eval_accuracy`), plus the non-primary evaluations' inference figures by name
        (`eval_mm_inference_time`)."""
        data = self.to_dict()
        summary = {"status": data["status"], **{key: data[key] for key in FIGURES}}
        summary["error_kind"] = self.error["kind"] if self.error else None
        summary.update(data["eval_metrics"])
        for name, seconds in self.setup_time_parts.items():
            summary[f"setup_time_{name}"] = seconds
        primary = self.primary_evaluation_name()
        for record in data["evaluations"]:
            if record["name"] == primary or record.get("step") is not None:
                continue
            for key in INFERENCE_MEASUREMENTS:
                summary[f"{record['name']}_{key}"] = record.get(key)
        return summary

    def to_results(self) -> RunResults:
        """The results as the file's value (timing_trainer.results.file), to write or compare."""
        return RunResults(self.to_dict())

    def save(self, path: str | Path) -> Path:
        """Validate and write atomically to `path` (a file path): through `RunResults.write`,
        the one writer of results files."""
        return self.to_results().write(path)
