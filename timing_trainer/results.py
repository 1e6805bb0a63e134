"""One run's results: what `timing_results.json` holds and W&B's summary shows.

Torch-free at import, so the GLUE program can write a `failed` results file when loading the
model itself failed, and the analysis can rebuild figures from raw lists. The trainer fills a
`TimingResults` with raw values (every iteration's time, every batch's latency, counts); the
figures (minimum, median, CV, throughput, MFU) are derived in `to_dict()`, in one place.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from timing_trainer.environment import ENVIRONMENT_KEYS
from timing_trainer.measurement import Measurement
from timing_trainer.schema import ERROR_KINDS, SCHEMA_VERSION, empty_results, validate_results

_MAX_MESSAGE_CHARS = 4000

# Keys the Trainer puts next to the metrics that are timings, not the task's metrics.
_NON_METRIC_SUFFIXES = (
    "_runtime", "_samples_per_second", "_steps_per_second", "_model_preparation_time",
    "_jit_compilation_time", "_mem_cpu_alloc_delta", "_mem_gpu_alloc_delta",
    "_mem_cpu_peaked_delta", "_mem_gpu_peaked_delta",
)
INFERENCE_KEY_SUFFIXES = (
    "inference_total_time", "inference_time", "inference_time_median", "inference_time_p90",
    "inference_samples_per_second", "inference_tokens_per_second",
)


class ResultsWriteError(OSError):
    """The results file could not be written (the output folder is missing or not writable)."""


def is_metric_key(key: str) -> bool:
    """True for a task metric (`eval_accuracy`), False for a timing the Trainer or we added."""
    if key.endswith(_NON_METRIC_SUFFIXES) or key == "epoch":
        return False
    return not any(key.endswith("_" + suffix) for suffix in INFERENCE_KEY_SUFFIXES)


def classify_error(exc: BaseException) -> str:
    """The schema's error kind for an exception: "oom", "interrupted" or "exception".

    Out of memory comes in many forms: `torch.cuda.OutOfMemoryError`, Python's `MemoryError`,
    and RuntimeErrors whose text says so (CUDA, MPS, the CPU allocator).
    """
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
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


def _finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass
class EvaluationRecord:
    """One timed evaluation loop: the whole set's time and every batch's forward latency."""

    name: str
    total_time: float | None = None
    batch_times: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    batch_size: int | None = None  # the configured (full) batch size
    n_samples: int | None = None
    n_tokens: int | None = None
    flops: float | None = None
    timer: str = "host"
    warmup_batches: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    peak_memory_bytes: int | None = None

    def full_batch_times(self) -> list[float]:
        """Latencies of full batches only: a final partial batch is faster and not comparable."""
        if not self.batch_sizes or len(self.batch_sizes) != len(self.batch_times):
            return list(self.batch_times)
        full = self.batch_size or max(self.batch_sizes)
        return [t for t, size in zip(self.batch_times, self.batch_sizes) if size >= full]

    def latency(self) -> Measurement:
        """Full-batch latencies with warm-up batches sliced off (kept when nothing would be left)."""
        return Measurement(self.full_batch_times()).drop_warmup(self.warmup_batches)

    def to_dict(self) -> dict[str, Any]:
        latency = self.latency()
        samples_per_second = None
        tokens_per_second = None
        if self.total_time and self.total_time > 0:
            if self.n_samples:
                samples_per_second = self.n_samples / self.total_time
            if self.n_tokens:
                tokens_per_second = self.n_tokens / self.total_time
        return {
            "name": self.name,
            "inference_total_time": _finite_or_none(self.total_time),
            "inference_time": latency.min if latency.n else None,
            "inference_time_list": list(self.batch_times),
            "inference_time_median": latency.median if latency.n else None,
            "inference_time_p90": latency.p90 if latency.n else None,
            "inference_samples_per_second": samples_per_second,
            "inference_tokens_per_second": tokens_per_second,
            "inference_timer": self.timer,
            "inference_batch_sizes": list(self.batch_sizes),
            "n_samples": self.n_samples,
            "peak_memory_bytes": self.peak_memory_bytes,
            "metrics": {k: v for k, v in self.metrics.items() if _is_number(v)},
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class TimingResults:
    """The raw measurements of one run and the figures derived from them.

    Usable without a trainer: `TimingResults(config=..., environment=...)`, then
    `mark_failed(...)` and `save(path)` when a run fails before training starts.
    """

    def __init__(self, config: dict[str, Any] | None = None,
                 environment: dict[str, Any] | None = None):
        self.config: dict[str, Any] = dict(config or {})
        self.environment: dict[str, Any] = dict(environment or {})
        self.status = "finished"
        self.error: dict[str, str] | None = None
        self.created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.setup_time_parts: dict[str, float] = {}
        self.finetuning_times: list[float] = []
        self.train_samples: int | None = None  # per iteration, all ranks
        self.train_tokens: int | None = None  # per iteration, all ranks (padded tokens)
        self.train_flops: float | None = None  # per iteration, all ranks
        self.train_steps: int | None = None
        self.evaluations: list[EvaluationRecord] = []
        self.peak_memory_train_bytes: int | None = None
        self.peak_memory_eval_bytes: int | None = None
        self.peak_tflops: float | None = None  # per device
        self.n_devices: int = 1

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

    def add_evaluation(self, record: EvaluationRecord) -> None:
        self.evaluations.append(record)

    # --- derived figures ---------------------------------------------------------------------
    @property
    def setup_time(self) -> float | None:
        return sum(self.setup_time_parts.values()) if self.setup_time_parts else None

    def finetuning(self) -> Measurement:
        return Measurement(self.finetuning_times)

    def primary_evaluation_name(self) -> str | None:
        """The set whose figures are the top-level `inference_*` keys: "eval", else the first."""
        names = [e.name for e in self.evaluations]
        if not names:
            return None
        return "eval" if "eval" in names else names[0]

    def eval_metrics(self) -> dict[str, float | None]:
        """The task metrics of every evaluation (`eval_accuracy`, `eval_mm_accuracy`), no timings."""
        merged: dict[str, float | None] = {}
        for record in self.evaluations:
            for key, value in record.metrics.items():
                if _is_number(value) and is_metric_key(key):
                    merged[key] = _finite_or_none(value)
        return merged

    def _inference_figures(self) -> dict[str, Any]:
        primary = self.primary_evaluation_name()
        records = [e for e in self.evaluations if e.name == primary]
        if not records:
            return {}
        dicts = [r.to_dict() for r in records]
        totals = [d["inference_total_time"] for d in dicts if d["inference_total_time"] is not None]
        combined = EvaluationRecord(
            name=primary,
            batch_times=[t for r in records for t in r.batch_times],
            batch_sizes=[s for r in records for s in r.batch_sizes],
            batch_size=records[0].batch_size,
            warmup_batches=records[0].warmup_batches,
        )
        latency = combined.latency()
        # Throughput of the fastest whole-set evaluation.
        fastest = min((d for d in dicts if d["inference_total_time"] is not None),
                      key=lambda d: d["inference_total_time"], default=dicts[0])
        return {
            "inference_total_time": min(totals) if totals else None,
            "inference_time": latency.min if latency.n else None,
            "inference_time_list": list(combined.batch_times),
            "inference_time_median": latency.median if latency.n else None,
            "inference_time_p90": latency.p90 if latency.n else None,
            "inference_samples_per_second": fastest["inference_samples_per_second"],
            "inference_tokens_per_second": fastest["inference_tokens_per_second"],
            "inference_timer": records[0].timer,
        }

    def to_dict(self) -> dict[str, Any]:
        """The results as `timing_results.json` holds them (see timing_trainer.schema)."""
        out = empty_results()
        out["schema_version"] = SCHEMA_VERSION
        out["status"] = self.status
        out["error"] = dict(self.error) if self.error else None
        out["created_at"] = self.created_at
        out["config"] = dict(self.config)
        # Every environment key present (null where unknown), so a partial probe still validates.
        out["environment"] = {**{k: None for k in ENVIRONMENT_KEYS}, **self.environment}
        out["setup_time"] = self.setup_time
        out["setup_time_parts"] = dict(self.setup_time_parts)

        finetuning = self.finetuning()
        out.update(finetuning.summary("finetuning_time"))
        if not finetuning.n:
            out["finetuning_time_list"] = None
        best = finetuning.min if finetuning.n else None
        out["train_steps"] = self.train_steps
        out["train_samples_per_second"] = (
            self.train_samples / best if best and self.train_samples else None)
        out["train_tokens_per_second"] = (
            self.train_tokens / best if best and self.train_tokens else None)

        for key in ("inference_time_median", "inference_time_p90", "inference_samples_per_second",
                    "inference_tokens_per_second", "inference_timer"):
            out[key] = None
        out.update(self._inference_figures())
        out["evaluations"] = [e.to_dict() for e in self.evaluations]
        out["eval_metrics"] = self.eval_metrics()

        out["peak_memory_train_bytes"] = self.peak_memory_train_bytes
        eval_peaks = [e.peak_memory_bytes for e in self.evaluations if e.peak_memory_bytes is not None]
        out["peak_memory_eval_bytes"] = (
            self.peak_memory_eval_bytes if self.peak_memory_eval_bytes is not None
            else (max(eval_peaks) if eval_peaks else None))

        out["flops_per_token"] = self._forward_flops_per_token()
        out["peak_tflops"] = self.peak_tflops
        out["mfu_train"] = self._mfu(self.train_flops, best)
        primary = self.primary_evaluation_name()
        fastest_eval = min(
            (e for e in self.evaluations if e.name == primary and e.total_time),
            key=lambda e: e.total_time, default=None)
        out["mfu_eval"] = (self._mfu(fastest_eval.flops, fastest_eval.total_time)
                           if fastest_eval is not None else None)
        return out

    def _forward_flops_per_token(self) -> float | None:
        """Average forward FLOPs per (padded) token over the training data, else the evaluation's."""
        if self.train_flops and self.train_tokens:
            return self.train_flops / 3.0 / self.train_tokens
        for record in self.evaluations:
            if record.flops and record.n_tokens:
                return record.flops / record.n_tokens
        return None

    def _mfu(self, flops: float | None, seconds: float | None) -> float | None:
        if not flops or not seconds or not self.peak_tflops:
            return None
        return flops / seconds / (self.peak_tflops * 1e12 * max(1, self.n_devices))

    def summary(self) -> dict[str, Any]:
        """Flat figures for W&B's run summary, the eval metrics at top level (sweeps optimise
        `eval_accuracy`), plus the non-primary evaluations' inference figures by name
        (`eval_mm_inference_time`)."""
        data = self.to_dict()
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("config", "environment", "evaluations", "eval_metrics", "error",
                       "setup_time_parts", "created_at", "schema_version"):
                continue
            flat[key] = value
        flat["error_kind"] = self.error["kind"] if self.error else None
        flat.update(data["eval_metrics"])
        for name, seconds in self.setup_time_parts.items():
            flat[f"setup_time_{name}"] = seconds
        primary = self.primary_evaluation_name()
        for record in data["evaluations"]:
            if record["name"] == primary:
                continue
            for suffix in INFERENCE_KEY_SUFFIXES:
                flat[f"{record['name']}_{suffix}"] = record.get(suffix)
        return flat

    def save(self, path: str | Path) -> Path:
        """Validate and write atomically to `path` (a file path)."""
        from timing_trainer.atomic import atomic_write_json

        data = self.to_dict()
        validate_results(data)
        return atomic_write_json(path, data)
