"""One line per `train()` and `evaluate()` for scripts timed from outside (`patch_trainer`,
`timing-trainer run`): the key figures and where the results file is. Pure formatting."""

from __future__ import annotations

from typing import Any

PREFIX = "timing-trainer"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.3f} s"


def _where(path: Any) -> str:
    return f"results: {path}" if path else "results not written (write_timing_results=False)"


def train_line(data: dict[str, Any], path: Any) -> str:
    """`timing-trainer: train: finetuning_time 1.234 s (min of 3, CV 2.1%), ...; results: P`."""
    times = data.get("finetuning_time_list") or []
    parts = [f"finetuning_time {_seconds(data.get('finetuning_time'))} (min of {len(times)}"
             + (f", CV {data['finetuning_time_cv']:.1%})" if data.get("finetuning_time_cv")
                is not None else ")")]
    if data.get("train_samples_per_second") is not None:
        parts.append(f"{data['train_samples_per_second']:.1f} samples/s")
    if data.get("mfu_train") is not None:
        parts.append(f"MFU {data['mfu_train']:.1%}")
    if data.get("finetuning_energy_j") is not None:
        parts.append(f"{data['finetuning_energy_j']:.1f} J ({data.get('energy_source')})")
    task = (data.get("config") or {}).get("task_name")
    head = f"{PREFIX}: train" + (f" [{task}]" if task else "")
    return f"{head}: " + ", ".join(parts) + f"; {_where(path)}"


def evaluate_line(entry: dict[str, Any], metrics: dict[str, Any], path: Any) -> str:
    """`timing-trainer: evaluate eval: inference_time 12.30 ms/batch, forward_time ...`."""
    parts = [f"inference_time {_seconds(entry.get('inference_time'))}/batch",
             f"forward_time {_seconds(entry.get('forward_time'))}/batch"]
    if entry.get("inference_samples_per_second") is not None:
        parts.append(f"{entry['inference_samples_per_second']:.1f} samples/s")
    if entry.get("inference_energy_j") is not None:
        parts.append(f"{entry['inference_energy_j']:.2f} J")
    for key, value in metrics.items():
        if isinstance(value, float):
            parts.append(f"{key} {value:.4f}")
    return f"{PREFIX}: evaluate {entry.get('name')}: " + ", ".join(parts) + f"; {_where(path)}"
