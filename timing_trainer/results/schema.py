"""The results schema: what `timing_results.json` holds, shared by the writers and the analysis.

One file per run, in the run's output folder. The thesis's key names (`finetuning_time`,
`finetuning_time_list`, `inference_time`, `inference_time_list`) keep their meaning so old and new
runs line up; the rest is added. Torch-free, so the analysis can read and validate results.
The file is read and written only through `RunResults` (timing_trainer.results.file): every
write is checked against this schema, and so is every read unless the reader asks for less.
The figures are declared once, as typed fields, in timing_trainer.results.figures; their properties here
are derived from it, beside the bookkeeping keys this module declares.

Top-level keys (all present in every file; a figure that was not measured is null, and
`unavailable` says why):
- `schema_version`, `status`, `error` (null, or {kind, message}; kind is one of ERROR_KINDS),
  `created_at` (ISO 8601 UTC). `status` is "running" from the first write until the run has
  ended, "finished" only after its last measurement and final write, "failed" otherwise. A file
  left "running" belongs to a run that was killed (SIGKILL, power loss) or is still going: it is
  not finished.
- `config`: hyperparameters and data sizes (task_name, model_name_or_path, max_seq_length,
  per_device_train_batch_size, per_device_eval_batch_size, learning_rate, num_train_epochs,
  finetuning_iters, timing_warmup_steps, seed, precision, world_size, n_train_samples,
  n_eval_samples, ...), plus any tags a user adds (`timing-trainer run --tag task_name=rte`).
  The GLUE program adds its data sizes (`n_train_samples`, `n_eval_samples`, MNLI's
  `n_eval_mm_samples`: the examples it trained and evaluated on), its modes (`lora_r`,
  `attn_implementation`, `torch_compile`, `padding_free`, `trainable_params`, ...), and what the
  cost model needs of its model from any folder: `model_resolved` (the model's absolute folder,
  or its Hub id) and `model_config_json` (its `config.json` as JSON text; glue/model_record.py).
- `wandb_run_id`: the W&B run's id when the run logs to W&B, else null.
- Fine-tuning: `setup_time`, `setup_time_parts` (the named parts that add up to `setup_time`:
  `startup`, `model_load`, `tokenize`, `warmup`, `train_setup`, ...), `finetuning_time` (min of
  the list), `finetuning_time_list`, `finetuning_time_median`, `_mean`, `_std`, `_cv`,
  `train_steps` (optimizer steps of one iteration), `train_samples`, `train_tokens` (padded),
  `train_real_tokens` (attention-mask sum), each per iteration, and their rates
  `train_samples_per_second`, `train_tokens_per_second`, `train_real_tokens_per_second`.
- Inference (the primary evaluation set): `inference_total_time` (whole set, min over
  evaluations), `inference_time` (min per-batch `prediction_step` latency over full batches,
  warm-up batches left out), `inference_time_list` (every batch, in order, across every
  evaluation of the run), `inference_time_median`, `inference_time_p90`, `forward_time`,
  `forward_time_list`, `forward_time_median` (the model's forward alone, same selection),
  `inference_samples_per_second`, `inference_tokens_per_second`,
  `inference_real_tokens_per_second`, `inference_timer` ("cuda_event" | "host").
- `evaluations`: one entry per timed evaluation set (MNLI: matched and mismatched), each with its
  own name, inference and forward figures, counts (`n_samples`, `n_tokens`, `n_real_tokens`),
  metrics and `unavailable`.
- `eval_metrics`: the task's metrics as the Trainer logs them (`eval_accuracy`, `eval_mm_accuracy`).
- Memory and arithmetic: `peak_memory_train_bytes`, `peak_memory_eval_bytes`, `flops_per_token`,
  `peak_tflops`, `mfu_train`, `mfu_eval`.
- `unavailable`: `{figure: reason}` for every null figure (`eval_metrics.KEY` for a metric).
- `environment`: device, gpu_name, gpu_count, driver_version, cuda_version, torch_version,
  transformers_version, timing_trainer_version, python_version, cpu_model, platform, precision.

- Energy (issue 13; timing_trainer.energy says what is counted): `finetuning_energy_j` (joules of
  the iteration whose time is `finetuning_time`), `finetuning_energy_j_list` (every timed
  iteration, in order), `finetuning_avg_power_w` (energy / time of that iteration),
  `inference_energy_j` (the primary evaluation's whole set, at the boundaries of
  `inference_total_time`), `inference_energy_per_sample_j`, and `energy_source` ("nvml", "rapl"
  or "nvml+rapl": what was summed). Each evaluation entry has its own inference energy figures.

Version 2 (issue 9) added `running`, `unavailable`, `wandb_run_id`, the forward and real-token
figures and the counts; version 3 (issue 13) the energy figures; older files read the same,
without them.
"""

from __future__ import annotations

from typing import Any

from timing_trainer.errors import ResultsValidationError
from timing_trainer.results.figures import (
    FINETUNING_ENERGY_KEYS,
    INFERENCE_ENERGY_KEYS,
    EvaluationFigures,
    RunFigures,
    keys,
    properties,
)

__all__ = ["ERROR_KINDS", "EVALUATION_FIGURES", "FIGURES",
           "FINETUNING_ENERGY_KEYS", "INFERENCE_ENERGY_KEYS", "RESULTS_FILENAME",
           "RESULTS_JSON_SCHEMA", "SCHEMA_VERSION", "STATUSES", "ResultsValidationError",
           "empty_results", "figures_without_reason", "validate_results"]

SCHEMA_VERSION = 3
RESULTS_FILENAME = "timing_results.json"
STATUSES = ("running", "finished", "failed")
ERROR_KINDS = ("oom", "exception", "interrupted", "timeout", "invalid_input", "nonzero_exit")

_REASONS = {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

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
        "config": {"type": "object", "properties": {
            # null: a trainer whose dataset has no length (an iterable dataset) could not count
            "n_train_samples": {"type": ["integer", "null"], "minimum": 0},
            "n_eval_samples": {"type": ["integer", "null"], "minimum": 0},
            "model_resolved": {"type": "string"},
            "model_config_json": {"type": "string"},
        }},
        "environment": {
            "type": "object",
            "required": ["device", "torch_version", "transformers_version", "timing_trainer_version",
                         "python_version"],
        },
        "setup_time_parts": {"type": "object", "additionalProperties": {"type": "number"}},
        **properties(RunFigures),
        "evaluations": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, **properties(EvaluationFigures),
                               "metrics": {"type": "object"}, "unavailable": _REASONS},
            },
        },
        "eval_metrics": {"type": "object", "additionalProperties": _NUMBER_OR_NULL},
        "unavailable": _REASONS,
    },
}

# Figures: the nullable numbers, lists and strings of a run's measurements (not its
# bookkeeping); each null one needs a reason in `unavailable` (timing_trainer.results.reasons).
FIGURES = keys(RunFigures)
EVALUATION_FIGURES = keys(EvaluationFigures)


def validate_results(results: dict[str, Any]) -> None:
    """Raise ResultsValidationError with the first problem's path when `results` is invalid."""
    import jsonschema  # light, but only needed here

    validator = jsonschema.Draft202012Validator(RESULTS_JSON_SCHEMA)
    errors = sorted(validator.iter_errors(results), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "<root>"
        raise ResultsValidationError(f"timing results invalid at {where}: {first.message}")
    missing = figures_without_reason(results)
    if missing:
        raise ResultsValidationError(
            f"timing results invalid: null figures without a reason in `unavailable`: "
            f"{', '.join(missing)}")


def figures_without_reason(results: dict[str, Any]) -> list[str]:
    """Null figures that `unavailable` does not explain (files of version 2 and later)."""
    if "unavailable" not in results:
        return []  # a version 1 file: no reasons recorded
    reasons = results.get("unavailable") or {}
    missing = [key for key in FIGURES if key in results and results[key] is None
               and key not in reasons]
    missing += [f"eval_metrics.{key}" for key, value in (results.get("eval_metrics") or {}).items()
                if value is None and f"eval_metrics.{key}" not in reasons]
    for entry in results.get("evaluations") or []:
        entry_reasons = entry.get("unavailable") or {}
        missing += [f"evaluations.{entry.get('name')}.{key}" for key in EVALUATION_FIGURES
                    if key in entry and entry[key] is None and key not in entry_reasons]
    return missing


def empty_results() -> dict[str, Any]:
    """A results skeleton with every required key present and nothing measured yet (without
    `unavailable`: the writer adds the reasons with the figures)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "running",
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
        "wandb_run_id": None,
    }
