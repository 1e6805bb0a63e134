"""One line per `train()` and `evaluate()` for scripts timed from outside (`patch_trainer`,
`timing-trainer run`), and the one line a program prints when its whole run has ended (the GLUE
program, `timing_trainer.glue`): the key figures and where the results file is. Pure formatting.

The two train lines differ on purpose (`train_line`, `program_line`), sharing their parts: a
script's line follows each `train()` call, with units scaled to the figure, the iterations' CV
and the throughput (what tuning a script needs); the program's line sums up a finished run, the
task's name first, fixed units (s, ms/batch) that compare across a sweep's logs, and the
evaluation's time and metrics (no separate evaluate line there).
"""

from __future__ import annotations

from typing import Any

PREFIX = "timing-trainer"


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1e3:.2f} ms" if value < 1 else f"{value:.3f} s"


def _where(path: Any) -> str:
    return f"results: {path}" if path else "results not written (write_timing_results=False)"


def _energy(data: dict[str, Any]) -> list[str]:
    if data.get("finetuning_energy_j") is None:
        return []
    return [f"{data['finetuning_energy_j']:.1f} J ({data.get('energy_source')})"]


def train_line(data: dict[str, Any], path: Any) -> str:
    """The figures of a run's `train()` (`data`: the results, `to_dict()`) in one line, a
    script's line after `train()`: `timing-trainer: train [sst2]: finetuning_time 1.234 s
    (min of 3, CV 2.1%), ...; results: P` (the task from the run's config)."""
    times = data.get("finetuning_time_list") or []
    parts = [f"finetuning_time {_seconds(data.get('finetuning_time'))} (min of {len(times)}"
             + (f", CV {data['finetuning_time_cv']:.1%})" if data.get("finetuning_time_cv")
                is not None else ")")]
    if data.get("train_samples_per_second") is not None:
        parts.append(f"{data['train_samples_per_second']:.1f} samples/s")
    if data.get("mfu_train") is not None:
        parts.append(f"MFU {data['mfu_train']:.1%}")
    parts += _energy(data)
    task_name = (data.get("config") or {}).get("task_name")
    head = f"{PREFIX}: train" + (f" [{task_name}]" if task_name else "")
    return f"{head}: " + ", ".join(parts) + f"; {_where(path)}"


def program_line(data: dict[str, Any], path: Any, program: str, task: str | None) -> str:
    """A program's line for its whole finished run, `task` (the task's display name) first:
    `timing_trainer.glue: RTE, finetuning_time 12.346 s (min of 3), 250.0 J (nvml),
    inference_time 12.30 ms/batch, eval_accuracy 0.6500; results: P`."""
    parts = [task] if task else []
    if data.get("finetuning_time") is not None:
        n = len(data.get("finetuning_time_list") or [])
        parts.append(f"finetuning_time {data['finetuning_time']:.3f} s (min of {n})")
    parts += _energy(data)
    if data.get("inference_time") is not None:
        parts.append(f"inference_time {data['inference_time'] * 1e3:.2f} ms/batch")
    for key, value in (data.get("eval_metrics") or {}).items():
        if value is not None:
            parts.append(f"{key} {value:.4f}")
    return f"{program}: " + ", ".join(parts) + f"; results: {path}"


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
