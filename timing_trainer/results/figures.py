"""The figures of a run, declared once: each one's name, JSON type, and where else it goes.

As optimum-benchmark declares its report as dataclasses (`Latency`, `Energy`, `BenchmarkReport`),
the figures of `timing_results.json` are the fields of the dataclasses below, with the thesis's
names (`finetuning_time`, `inference_time`, ...). A field's metadata holds its JSON schema and,
where the Trainer also returns it, the kind of metric it is. From this one declaration come:
- the results schema's properties, `FIGURES` and `EVALUATION_FIGURES` (timing_trainer.results.schema);
- the metric keys of `train()` and `evaluate()`/`predict()` (timing_trainer.trainer);
- W&B's summary keys and the non-primary evaluations' keys in it (timing_trainer.results.run_results);
- `TABLE_FIGURES` and `TABLE_DTYPES`, the figures the analysis's runs table has as columns.
The producers fill these classes (`TimingResults.figures()`, `EvaluationRecord.figures()`), so a
misspelt figure is a TypeError, not a silently missing key. Every figure is null until measured
(`unavailable` then says why). Pure and torch-free: the analysis imports it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

ENERGY_SOURCES = ("nvml", "rapl", "nvml+rapl")
TIMERS = ("cuda_event", "host")

# JSON schema types of the figures.
NUMBER = {"type": ["number", "null"]}
NUMBERS = {"type": ["array", "null"], "items": {"type": "number"}}
COUNT = {"type": ["integer", "null"], "minimum": 0}
INTEGER = {"type": ["integer", "null"]}
JOULES = {"type": ["number", "null"], "minimum": 0}
JOULES_LIST = {"type": ["array", "null"], "items": {"type": "number", "minimum": 0}}

# Where the Trainer returns a figure besides the results file and W&B's summary (`metric`):
TRAIN = "train"  # train()'s TrainOutput.metrics, under its own name
EVAL = "eval"  # evaluate()/predict() metrics as `{prefix}_{name}`, logged by the Trainer
EVAL_LIST = "eval_list"  # the same, added after the Trainer logged (a list is too long to log)


def figure(schema: dict[str, Any], metric: str | None = None, table: bool = False) -> Any:
    """One figure: null until measured. `table`: a column of the analysis's runs table."""
    return field(default=None, metadata={"schema": schema, "metric": metric, "table": table})


def group(cls: type) -> Any:
    """A group of figures written flat, beside the others (the file has no nesting)."""
    return field(default_factory=cls, metadata={"group": cls})


@dataclass
class FinetuningEnergy:
    """Joules of the fastest timed iteration, every iteration's, and that iteration's power."""

    finetuning_energy_j: float | None = figure(JOULES, TRAIN, table=True)
    finetuning_energy_j_list: list[float] | None = figure(JOULES_LIST, TRAIN, table=True)
    finetuning_avg_power_w: float | None = figure(JOULES, TRAIN, table=True)


@dataclass
class FinetuningFigures:
    """`finetuning_iters` whole fine-tunings from one state: the minimum is `finetuning_time`."""

    finetuning_time: float | None = figure(NUMBER, TRAIN, table=True)
    finetuning_time_list: list[float] | None = figure(NUMBERS, TRAIN, table=True)
    finetuning_time_median: float | None = figure(NUMBER, TRAIN)
    finetuning_time_mean: float | None = figure(NUMBER, TRAIN)
    finetuning_time_std: float | None = figure(NUMBER, TRAIN)
    finetuning_time_cv: float | None = figure(NUMBER, TRAIN)
    # Rates over `finetuning_time`; the counts are per iteration, over every rank.
    train_samples_per_second: float | None = figure(NUMBER, TRAIN, table=True)
    train_tokens_per_second: float | None = figure(NUMBER, TRAIN)
    train_real_tokens_per_second: float | None = figure(NUMBER, TRAIN)
    train_steps: int | None = figure(INTEGER)  # optimizer steps of one iteration
    train_samples: int | None = figure(COUNT)
    train_tokens: int | None = figure(COUNT)  # padded
    train_real_tokens: int | None = figure(COUNT)  # attention-mask sum
    # What the script's arguments ran inside that iteration's train(), off the fine-tuning
    # clock: its evaluations (eval_strategy; their time) and checkpoints (save_strategy).
    evaluation_during_training_time: float | None = figure(NUMBER, TRAIN)
    evaluations_during_training: int | None = figure(COUNT, TRAIN)
    checkpoints_during_training: int | None = figure(COUNT, TRAIN)
    energy: FinetuningEnergy = group(FinetuningEnergy)


@dataclass
class InferenceEnergy:
    """Joules of one evaluation set's whole loop, and per sample."""

    inference_energy_j: float | None = figure(JOULES, EVAL, table=True)
    inference_energy_per_sample_j: float | None = figure(JOULES, EVAL, table=True)


@dataclass
class InferenceFigures:
    """One timed evaluation loop (timing_trainer.results.evaluation says what each timer covers)."""

    inference_total_time: float | None = figure(NUMBER, EVAL, table=True)
    inference_time: float | None = figure(NUMBER, EVAL, table=True)
    inference_time_list: list[float] | None = figure(NUMBERS, EVAL_LIST, table=True)
    inference_time_median: float | None = figure(NUMBER, EVAL)
    inference_time_p90: float | None = figure(NUMBER, EVAL)
    inference_samples_per_second: float | None = figure(NUMBER, EVAL, table=True)
    inference_tokens_per_second: float | None = figure(NUMBER)
    inference_real_tokens_per_second: float | None = figure(NUMBER)
    inference_timer: str | None = figure({"enum": [*TIMERS, None]})
    forward_time: float | None = figure(NUMBER, EVAL)
    forward_time_list: list[float] | None = figure(NUMBERS, EVAL_LIST)
    forward_time_median: float | None = figure(NUMBER, EVAL)
    energy: InferenceEnergy = group(InferenceEnergy)


@dataclass
class EvaluationFigures:
    """An entry of `evaluations` (one per evaluation set): its loop's figures and counts."""

    inference: InferenceFigures = group(InferenceFigures)
    n_samples: int | None = figure(COUNT)
    n_tokens: int | None = figure(COUNT)  # padded
    n_real_tokens: int | None = figure(COUNT)  # attention-mask sum
    peak_memory_bytes: int | None = figure(INTEGER)


@dataclass
class RunFigures:
    """Every top-level figure of a results file, in the order `unavailable` lists them; the
    inference figures are the primary evaluation set's ("eval", else the first)."""

    setup_time: float | None = figure(NUMBER, TRAIN, table=True)  # sum of setup_time_parts
    finetuning: FinetuningFigures = group(FinetuningFigures)
    energy_source: str | None = figure({"enum": [*ENERGY_SOURCES, None]}, table=True)
    inference: InferenceFigures = group(InferenceFigures)
    peak_memory_train_bytes: int | None = figure(INTEGER, TRAIN, table=True)
    peak_memory_eval_bytes: int | None = figure(INTEGER, table=True)
    flops_per_token: float | None = figure(NUMBER, TRAIN)  # forward, per padded token
    peak_tflops: float | None = figure(NUMBER)  # per device
    mfu_train: float | None = figure(NUMBER, TRAIN, table=True)
    mfu_eval: float | None = figure(NUMBER, table=True)
    wandb_run_id: str | None = figure({"type": ["string", "null"]})  # null: W&B is off


def _figure_fields(cls: type) -> list[Any]:
    """The figure fields of `cls`, groups opened in place, in declaration order."""
    out: list[Any] = []
    for item in fields(cls):
        nested = item.metadata.get("group")
        out.extend(_figure_fields(nested) if nested is not None else [item])
    return out


def properties(cls: type) -> dict[str, dict[str, Any]]:
    """`{name: JSON schema}` of the figures of `cls`."""
    return {item.name: item.metadata["schema"] for item in _figure_fields(cls)}


def keys(cls: type, metric: str | None = None) -> tuple[str, ...]:
    """The names of the figures of `cls` (those returned as `metric` when one is given)."""
    return tuple(item.name for item in _figure_fields(cls)
                 if metric is None or item.metadata["metric"] == metric)


def flat(figures: Any) -> dict[str, Any]:
    """A filled declaration as the file writes it: `{name: value}`, groups flat, lists copied."""
    out: dict[str, Any] = {}
    for item in fields(figures):
        value = getattr(figures, item.name)
        if is_dataclass(value):
            out.update(flat(value))
        else:
            out[item.name] = list(value) if isinstance(value, list) else value
    return out


def _dtype(schema: dict[str, Any]) -> str:
    """The runs table's dtype for a figure: lists as objects, labels as text, numbers as floats
    (W&B exports give integers as floats)."""
    kinds = schema.get("type", [])
    if "array" in kinds:
        return "object"
    return "str" if "enum" in schema or "string" in kinds else "float64"


FINETUNING_ENERGY_KEYS = keys(FinetuningEnergy)
INFERENCE_ENERGY_KEYS = keys(InferenceEnergy)
INFERENCE_KEYS = keys(InferenceFigures)
# The measured inference figures (not labels such as the timer): W&B's summary has them for
# every evaluation set, `eval_mm_inference_time`; a key ending in one is not a task metric.
INFERENCE_MEASUREMENTS = tuple(key for key, spec in properties(InferenceFigures).items()
                               if "enum" not in spec)
TRAIN_METRIC_KEYS = keys(RunFigures, TRAIN)
EVAL_METRIC_KEYS = keys(InferenceFigures, EVAL)
EVAL_LIST_KEYS = keys(InferenceFigures, EVAL_LIST)
TABLE_FIGURES = tuple(item.name for item in _figure_fields(RunFigures) if item.metadata["table"])
TABLE_DTYPES = {key: _dtype(spec) for key, spec in properties(RunFigures).items()
                if key in TABLE_FIGURES}
