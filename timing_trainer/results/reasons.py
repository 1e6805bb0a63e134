"""No silent null: the reason behind every figure of a results file that could not be computed.

`timing_results.json` carries `unavailable`, a mapping from each null figure to one line saying
why (`{"mfu_train": "peak TFLOP/s unknown for this CPU (set peak_tflops)"}`); every evaluation
entry carries its own. Reasons come first from what the trainer noted while measuring (a model
without a config, hooks that could not run), then from what the results themselves show (no
fine-tuning ran, no evaluation ran, a CPU has no datasheet peak). Which keys are figures is the
schema's declaration (`schema.FIGURES`, `schema.EVALUATION_FIGURES`). Pure and torch-free.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from timing_trainer.results.schema import (
    EVALUATION_FIGURES,
    FIGURES,
    FINETUNING_ENERGY_KEYS,
    INFERENCE_ENERGY_KEYS,
)

NOT_MEASURED = "not measured"  # the last resort; the tests hold real runs to better reasons
_FINETUNING_PREFIXES = ("finetuning_", "train_", "peak_memory_train", "mfu_train",
                        "evaluation_during_training", "evaluations_during_training",
                        "checkpoints_during_training")
_INFERENCE_PREFIXES = ("inference_", "forward_", "peak_memory_eval", "mfu_eval")


def peak_reason(environment: Mapping[str, Any]) -> str:
    """Why no datasheet peak is known for the device of `environment`."""
    device = environment.get("device") or "cpu"
    if device == "cuda":
        return (f"no datasheet peak TFLOP/s for {environment.get('gpu_name') or 'this GPU'} at "
                f"{environment.get('precision') or 'this precision'} (set peak_tflops)")
    if device == "cpu":
        return "peak TFLOP/s unknown for this CPU (set peak_tflops)"
    return f"peak TFLOP/s unknown for device {device} (set peak_tflops)"


def _not_run(status: str, what: str, call: str) -> str:
    if status == "failed":
        return f"the run failed before {what} finished"
    if status == "running":
        return f"{what} has not run (yet)"
    return f"no {what} in this run ({call} was not called)"


def _memory_reason(device: str, notes: Mapping[str, str]) -> str:
    if device == "cpu" and "peak_memory" not in notes:
        return ("peak memory is measured on CUDA devices, and on a CPU as the process's peak "
                "resident set where Linux's /proc/self/status tells it")
    if device not in ("cuda", "cpu"):
        return f"peak memory is measured on CUDA devices only (this run's device: {device})"
    return notes.get("peak_memory") or "peak memory is not measured for an evaluation inside train()"


def _energy_reason(key: str, data: Mapping[str, Any], notes: Mapping[str, str]) -> str:
    """Why an energy figure is null: the meter read nothing (`energy`), a window of this phase
    had no figure (`finetuning_energy`, `inference_energy`), or a figure it derives from is null."""
    if key == "inference_energy_per_sample_j" and data.get("inference_energy_j") is not None:
        return "the evaluation's number of samples is unknown"
    if key == "finetuning_avg_power_w" and data.get("finetuning_energy_j") is not None:
        return "the fine-tuning time is zero"
    phase = "finetuning_energy" if key in FINETUNING_ENERGY_KEYS else "inference_energy"
    return notes.get(phase) or notes.get("energy") or NOT_MEASURED


def _specific_reason(key: str, data: Mapping[str, Any], notes: Mapping[str, str],
                     environment: Mapping[str, Any]) -> str:
    """The reason for one null figure once its phase (fine-tuning, evaluation) did run."""
    if key in FINETUNING_ENERGY_KEYS or key in INFERENCE_ENERGY_KEYS:
        return _energy_reason(key, data, notes)
    if key.startswith("peak_memory"):
        return _memory_reason(environment.get("device") or "cpu", notes)
    if key == "peak_tflops" or (key.startswith("mfu_") and data.get("peak_tflops") is None):
        return peak_reason(environment)
    if key.startswith("mfu_") or key == "flops_per_token":
        return notes.get("flops") or NOT_MEASURED
    if key.startswith("forward_time"):
        return notes.get("forward_time") or "the model's forward did not run in the timed loop"
    if "samples" in key:
        return notes.get("samples") or "the batches carry no tensor to count samples from"
    if "tokens" in key:
        return notes.get("tokens") or (
            "the batches have no sequence dimension (no input_ids, inputs_embeds or "
            "attention_mask of shape batch x length)")
    if key.startswith("inference_time"):
        return "no batch was timed"
    if key in ("finetuning_time_std", "finetuning_time_cv") and len(
            data.get("finetuning_time_list") or ()) == 1:
        return "one fine-tuning iteration (finetuning_iters=1): a spread needs two"
    return {"finetuning_time_cv": "the mean fine-tuning time is zero",
            "wandb_run_id": "this run does not log to W&B",
            "setup_time": "no setup part was recorded"}.get(key, notes.get(key) or NOT_MEASURED)


def unavailable_reasons(data: Mapping[str, Any], notes: Mapping[str, str],
                        environment: Mapping[str, Any]) -> dict[str, str]:
    """`{figure: reason}` for every null figure of a results dict (`TimingResults.to_dict()`)."""
    status = data.get("status") or "finished"
    trained = bool(data.get("finetuning_time_list"))
    evaluated = bool(data.get("evaluations"))
    reasons: dict[str, str] = {}
    for key in FIGURES:
        if key not in data or data[key] is not None:
            continue
        if key in notes:
            reasons[key] = notes[key]
        elif key == "energy_source":
            reasons[key] = notes.get("energy") or _not_run(status, "a timed loop",
                                                           "train() or evaluate()")
        elif key.startswith(_FINETUNING_PREFIXES) and not trained:
            reasons[key] = _not_run(status, "fine-tuning", "train()")
        elif key.startswith(_INFERENCE_PREFIXES) and not evaluated:
            reasons[key] = _not_run(status, "evaluation", "evaluate()")
        elif key == "flops_per_token" and not (trained or evaluated):
            reasons[key] = _not_run(status, "a timed loop", "train() or evaluate()")
        else:
            reasons[key] = _specific_reason(key, data, notes, environment)
    for key, value in (data.get("eval_metrics") or {}).items():
        if value is None:
            reasons[f"eval_metrics.{key}"] = "the metric was not a finite number (NaN or infinite)"
    for key, reason in notes.items():  # a setup part that could not be measured
        if key.startswith("setup_time_parts.") and key.partition(".")[2] not in (
                data.get("setup_time_parts") or {}):
            reasons[key] = reason
        elif key.startswith("energy_source.") and key.partition(".")[2] not in (
                data.get("energy_source") or "").split("+"):  # a source not counted
            reasons[key] = reason
    return reasons


def evaluation_reasons(entry: Mapping[str, Any], notes: Mapping[str, str],
                       environment: Mapping[str, Any]) -> dict[str, str]:
    """`{figure: reason}` for the null figures of one evaluation entry."""
    return {key: notes.get(key) or _specific_reason(key, entry, notes, environment)
            for key in EVALUATION_FIGURES if key in entry and entry[key] is None}


def describe(reasons: Mapping[str, str], shown: int = 4) -> str:
    """One line grouping figures by reason: `reason: a, b; other reason: c, d and 9 more`."""
    by_reason: dict[str, list[str]] = {}
    for key, reason in reasons.items():
        by_reason.setdefault(reason, []).append(key)
    parts = []
    for reason, keys in by_reason.items():
        more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
        parts.append(f"{reason}: {', '.join(keys[:shown])}{more}")
    return "; ".join(parts)
