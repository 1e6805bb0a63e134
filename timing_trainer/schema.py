"""The results schema: what `timing_results.json` holds, shared by the writers and the analysis.

One file per run, in the run's output folder. The thesis's key names (`finetuning_time`,
`finetuning_time_list`, `inference_time`, `inference_time_list`) keep their meaning so old and new
runs line up; the rest is added. Torch-free, so the analysis can read and validate results.

Top-level keys (all present in every file; a figure that was not measured is null):
- `schema_version`, `status` ("finished" | "failed"), `error` (null, or {kind, message};
  kind is one of ERROR_KINDS), `created_at` (ISO 8601 UTC).
- `config`: hyperparameters and data sizes (task_name, model_name_or_path, max_seq_length,
  per_device_train_batch_size, per_device_eval_batch_size, learning_rate, num_train_epochs,
  finetuning_iters, seed, precision, world_size, n_train_samples, n_eval_samples, ...).
- Fine-tuning: `setup_time`, `finetuning_time` (min of the list), `finetuning_time_list`,
  `finetuning_time_median`, `_mean`, `_std`, `_cv`, `train_samples_per_second`,
  `train_tokens_per_second`, `train_steps` (optimizer steps of one iteration),
  `setup_time_parts` (the named parts that add up to `setup_time`).
- Inference (the primary evaluation set): `inference_total_time` (whole set, min over
  evaluations), `inference_time` (min per-batch forward latency over full batches),
  `inference_time_list` (every batch, in order, across every evaluation of the run),
  `inference_time_median`, `inference_time_p90`, `inference_samples_per_second`,
  `inference_timer` ("cuda_event" | "host").
- `evaluations`: one entry per timed evaluation set (MNLI: matched and mismatched), each with its
  own name, inference figures and metrics.
- `eval_metrics`: the task's metrics as the Trainer logs them (`eval_accuracy`, `eval_mm_accuracy`).
- Memory and arithmetic: `peak_memory_train_bytes`, `peak_memory_eval_bytes`, `flops_per_token`,
  `peak_tflops`, `mfu_train`, `mfu_eval` (null where the device's peak is unknown).
- `environment`: device, gpu_name, gpu_count, driver_version, cuda_version, torch_version,
  transformers_version, timing_trainer_version, python_version, cpu_model, platform, precision.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1
RESULTS_FILENAME = "timing_results.json"
STATUSES = ("finished", "failed")
ERROR_KINDS = ("oom", "exception", "interrupted", "timeout", "invalid_input", "nonzero_exit")

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_NUMBERS_OR_NULL = {"type": ["array", "null"], "items": {"type": "number"}}

_INFERENCE_PROPERTIES = {
    "inference_total_time": _NUMBER_OR_NULL,
    "inference_time": _NUMBER_OR_NULL,
    "inference_time_list": _NUMBERS_OR_NULL,
    "inference_time_median": _NUMBER_OR_NULL,
    "inference_time_p90": _NUMBER_OR_NULL,
    "inference_samples_per_second": _NUMBER_OR_NULL,
    "inference_tokens_per_second": _NUMBER_OR_NULL,
    "inference_timer": {"enum": ["cuda_event", "host", None]},
}

RESULTS_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "timing-trainer run results",
    "type": "object",
    "required": [
        "schema_version", "status", "error", "config", "environment",
        "finetuning_time", "finetuning_time_list", "inference_time", "inference_time_list",
        "inference_total_time", "eval_metrics",
    ],
    "properties": {
        "schema_version": {"type": "integer", "minimum": 1},
        "status": {"enum": list(STATUSES)},
        "error": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["kind", "message"],
                    "properties": {
                        "kind": {"enum": list(ERROR_KINDS)},
                        "message": {"type": "string"},
                    },
                },
            ]
        },
        "created_at": {"type": "string"},
        "config": {"type": "object"},
        "environment": {
            "type": "object",
            "required": ["device", "torch_version", "transformers_version", "timing_trainer_version",
                         "python_version"],
        },
        "setup_time": _NUMBER_OR_NULL,
        "finetuning_time": _NUMBER_OR_NULL,
        "finetuning_time_list": _NUMBERS_OR_NULL,
        "finetuning_time_median": _NUMBER_OR_NULL,
        "finetuning_time_mean": _NUMBER_OR_NULL,
        "finetuning_time_std": _NUMBER_OR_NULL,
        "finetuning_time_cv": _NUMBER_OR_NULL,
        "train_samples_per_second": _NUMBER_OR_NULL,
        "train_tokens_per_second": _NUMBER_OR_NULL,
        "train_steps": {"type": ["integer", "null"]},
        "setup_time_parts": {"type": "object", "additionalProperties": {"type": "number"}},
        **_INFERENCE_PROPERTIES,
        "evaluations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, **_INFERENCE_PROPERTIES,
                               "metrics": {"type": "object"}},
            },
        },
        "eval_metrics": {"type": "object", "additionalProperties": _NUMBER_OR_NULL},
        "peak_memory_train_bytes": {"type": ["integer", "null"]},
        "peak_memory_eval_bytes": {"type": ["integer", "null"]},
        "flops_per_token": _NUMBER_OR_NULL,
        "peak_tflops": _NUMBER_OR_NULL,
        "mfu_train": _NUMBER_OR_NULL,
        "mfu_eval": _NUMBER_OR_NULL,
    },
}

# Keys of the thesis (2020) that keep their names and meaning.
THESIS_KEYS = ("finetuning_time", "finetuning_time_list", "inference_time", "inference_time_list")


class ResultsValidationError(ValueError):
    """A results object does not match RESULTS_JSON_SCHEMA."""


def validate_results(results: dict[str, Any]) -> None:
    """Raise ResultsValidationError with the first problem's path when `results` is invalid."""
    import jsonschema  # light, but only needed here

    validator = jsonschema.Draft202012Validator(RESULTS_JSON_SCHEMA)
    errors = sorted(validator.iter_errors(results), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "<root>"
        raise ResultsValidationError(f"timing results invalid at {where}: {first.message}")


def empty_results() -> dict[str, Any]:
    """A results skeleton with every required key present and nothing measured yet."""
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "finished",
        "error": None,
        "config": {},
        "environment": {},
        "setup_time": None,
        "finetuning_time": None,
        "finetuning_time_list": None,
        "inference_total_time": None,
        "inference_time": None,
        "inference_time_list": None,
        "evaluations": [],
        "eval_metrics": {},
    }
