"""One timed evaluation loop: raw values in, the schema's inference figures out. Torch-free.

Three timings of the same loop, each with its own scope:
- `inference_total_time`: the whole loop over the set, device synchronized at both ends;
- `inference_time_list`: every batch's `prediction_step` (input preparation, the forward, loss
  and logits handling), what the thesis measured;
- `forward_time_list`: every batch's model forward alone, what inference benchmarks report.
The per-batch figures (`inference_time`, `forward_time` = the minimum; median; p90) use full
batches only, with the warm-up batches sliced off the front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from timing_trainer.results.energy import inference_energy_figures
from timing_trainer.results.figures import (
    EvaluationFigures,
    InferenceEnergy,
    InferenceFigures,
    flat,
)
from timing_trainer.results.measurement import Measurement


def finite_or_none(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def per_second(amount: int | float | None, seconds: float | None) -> float | None:
    if not amount or not seconds or seconds <= 0:
        return None
    return amount / seconds


@dataclass
class EvaluationRecord:
    """One timed evaluation loop: the whole set's time and every batch's latencies."""

    name: str
    total_time: float | None = None
    batch_times: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    batch_size: int | None = None  # the configured (full) batch size
    n_samples: int | None = None
    n_tokens: int | None = None  # padded
    n_real_tokens: int | None = None  # attention-mask sum
    flops: float | None = None
    timer: str = "host"
    warmup_batches: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)
    peak_memory_bytes: int | None = None
    forward_times: list[float] = field(default_factory=list)
    energy_j: float | None = None  # the whole loop, at the stopwatch's boundaries
    notes: dict[str, str] = field(default_factory=dict)  # why a figure is unavailable
    step: int | None = None  # the optimizer step, for an evaluation during training
    iteration: int | None = None  # which timed fine-tuning run (1, 2, ...) it was part of

    @property
    def during_training(self) -> bool:
        return self.step is not None

    def _full(self, times: list[float]) -> list[float]:
        """Times of full batches only: a final partial batch is faster and not comparable."""
        if not self.batch_sizes or len(self.batch_sizes) != len(times):
            return list(times)
        full = self.batch_size or max(self.batch_sizes)
        return [t for t, size in zip(times, self.batch_sizes) if size >= full]

    def full_batch_times(self) -> list[float]:
        return self._full(self.batch_times)

    def latency(self) -> Measurement:
        """Full-batch latencies with warm-up batches sliced off (kept when nothing would be left)."""
        return Measurement(self.full_batch_times()).drop_warmup(self.warmup_batches)

    def forward_latency(self) -> Measurement:
        """The same selection of the forward-only times."""
        return Measurement(self._full(self.forward_times)).drop_warmup(self.warmup_batches)

    def inference_figures(self) -> InferenceFigures:
        """The loop's inference and forward figures (the primary set's are also the file's
        top-level `inference_*` keys)."""
        latency = self.latency()
        return InferenceFigures(
            inference_total_time=finite_or_none(self.total_time),
            **latency_figures(latency, self.batch_times, "inference_time"),
            inference_time_p90=latency.p90 if latency.n else None,
            **throughput_figures(self, "inference"),
            inference_timer=self.timer,
            **latency_figures(self.forward_latency(), self.forward_times, "forward_time"),
            energy=InferenceEnergy(**inference_energy_figures(self.energy_j, self.n_samples)),
        )

    def figures(self) -> EvaluationFigures:
        return EvaluationFigures(
            inference=self.inference_figures(), n_samples=self.n_samples, n_tokens=self.n_tokens,
            n_real_tokens=self.n_real_tokens, peak_memory_bytes=self.peak_memory_bytes)

    def to_dict(self) -> dict[str, Any]:
        """The loop's entry of `evaluations` (without `unavailable`: TimingResults adds it)."""
        during = {"step": self.step, "iteration": self.iteration} if self.during_training else {}
        return {
            "name": self.name, **during,
            **flat(self.figures()),
            "inference_batch_sizes": list(self.batch_sizes),
            "metrics": {k: v for k, v in self.metrics.items() if is_number(v)},
        }


def latency_figures(latency: Measurement, raw: list[float], prefix: str) -> dict[str, Any]:
    """`prefix` (the minimum), `prefix_list` (every value, in order) and `prefix_median`."""
    return {
        prefix: latency.min if latency.n else None,
        f"{prefix}_list": list(raw),
        f"{prefix}_median": latency.median if latency.n else None,
    }


def throughput_figures(record: EvaluationRecord, prefix: str) -> dict[str, float | None]:
    """Samples, padded tokens and real tokens per second of the whole loop."""
    return {
        f"{prefix}_samples_per_second": per_second(record.n_samples, record.total_time),
        f"{prefix}_tokens_per_second": per_second(record.n_tokens, record.total_time),
        f"{prefix}_real_tokens_per_second": per_second(record.n_real_tokens, record.total_time),
    }
