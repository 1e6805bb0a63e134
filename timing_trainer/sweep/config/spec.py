"""The one spec every sweep YAML is generated from: the thesis's grid, corrected.

Nobody edits the YAMLs; they are a rendering of this module (`timing-trainer sweeps generate`),
and `--check` fails when a committed file differs. The choices, and why:

- Grid: `per_device_train_batch_size` 8, 16, 32 x `max_seq_length` 128, 256, 512 x the models of
  one casing group, one epoch, weight decay 0.01, Adam epsilon 1e-6, one learning rate per task
  (the thesis's, after ALBERT's appendix).
- WNLI's learning rate is 2e-5 (the thesis set none we could recover): the rate of STS-B, QNLI and
  QQP, inside every tuned range for BERT-base-sized models. WNLI's dev set is adversarial (models
  sit at the majority class whatever the rate), so its rate needs only to be sane; the time of a
  step does not depend on it.
- `finetuning_iters` (whole fine-tunings from the same state, the minimum is reported): 5 for the
  small WNLI, RTE and MRPC, where one fine-tuning is short and noise is large; 3 for the rest.
- Models by the casing of their vocabulary (`timing_trainer.models.MODEL_GROUPS`): RoBERTa and
  XLNet are cased (the thesis filed them under "uncased"). ModernBERT (base, large) and
  DeBERTa-v3 (base, large) have cased vocabularies too, but are their own group, `modern`: in the
  thesis's cased grid they would change files whose runs exist (and double their cost); as a
  group of their own they get the same grid, and the sweeps of 2020's and today's encoders are
  read side by side.
- A "modes" sweep per task (`sweep_{task}_modes.yaml`): a BERT-base, ModernBERT-base and
  DeBERTa-v3-base (all cased) x LoRA rank 0 (full fine-tuning) or 8 x `torch_compile` x
  attention kernel (eager, sdpa), at one length (128) and batch size (32), fp32: what each way
  of fine-tuning changes, everything else held. flash_attention_2 is left out
  (it needs CUDA, the flash_attn package and half precision; add it in a copy for such a
  machine). LoRA runs keep the task's full-fine-tuning learning rate: the sweep measures time, and
  their accuracy is not tuned (LoRA usually wants a higher rate). Padding-free batches are not a
  dimension: the GLUE program refuses `--padding_free` where the model cannot classify a
  flattened batch, and no encoder classifier of transformers 5.25 can (every run would end at
  start); add `padding_free` to a copy where yours can. DeBERTa-v2's implementation has no SDPA
  kernel: its sdpa runs end at start (exit 2, one line), counted as failed, not timed.
- Precision is a grid dimension (fp32, bf16) where it earns its cost: every inference sweep
  (evaluation only, cheap) and the fine-tuning sweeps of the five small tasks (< 10k training
  examples: CoLA, MRPC, STS-B, RTE, WNLI). The big four (SST-2, QQP, MNLI, QNLI) stay fp32: bf16
  would double grids that already take days of GPU time, and its speed-up per training example is
  measured on the small tasks with the same models, lengths and batch sizes. `bf16: true` is the
  Trainer's mixed precision (bf16 autocast, fp32 weights) in evaluation as in training: checked
  with transformers 5.24, an evaluation-only run with `--bf16` computes in bf16.
- Inference sweeps: no training precedes them (`--do_eval` only). The arithmetic of a forward
  pass does not depend on the weights' values, so a freshly initialised classification head times
  the same as a fine-tuned one; their accuracy is at chance and is not meant to be read (the
  fine-tuning sweeps report accuracy, and time evaluation at batch size 32 too).
- No absolute paths and no `output_dir`: on the W&B path the program writes to
  `runs/<WANDB_SWEEP_ID>/<WANDB_RUN_ID>`, under the local agent to the folder the agent gives it.
  Data come from the Hub (`nyu-mll/glue`) unless a sweep names a `data_dir`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from timing_trainer.models import MODEL_GROUPS
from timing_trainer.tasks import TASK_NAMES, get_task

PROGRAM_MODULE = "timing_trainer.glue"

# Task order of the issue (and the thesis's tables); file names use these ids.
SWEEP_TASKS: tuple[str, ...] = ("cola", "sst2", "mrpc", "stsb", "qqp", "mnli", "qnli", "rte", "wnli")
SWEEP_GROUPS: tuple[str, ...] = ("cased", "uncased", "modern")

LEARNING_RATES: dict[str, float] = {
    "cola": 1.0e-5,
    "sst2": 1.0e-5,
    "mnli": 1.0e-5,
    "mrpc": 3.0e-5,
    "rte": 5.0e-5,
    "stsb": 2.0e-5,
    "qnli": 2.0e-5,
    "qqp": 2.0e-5,
    "wnli": 2.0e-5,  # our choice, see the module docstring
}
FINETUNING_ITERS: dict[str, int] = {t: (5 if t in ("wnli", "rte", "mrpc") else 3) for t in SWEEP_TASKS}
TRAIN_BATCH_SIZES = (8, 16, 32)
EVAL_BATCH_SIZES = (8, 16, 32, 64)
SEQ_LENGTHS = (128, 256, 512)
FINETUNING_EVAL_BATCH_SIZE = 32
# The modes sweep: one model of each family at base size, one length and batch size.
MODES_MODELS = ("google-bert/bert-base-cased", "answerdotai/ModernBERT-base",
                "microsoft/deberta-v3-base")
MODES_SEQ_LENGTH = 128
MODES_BATCH_SIZE = 32
MODES_GRID: dict[str, list] = {
    "lora_r": [0, 8],
    "torch_compile": [False, True],
    "attn_implementation": ["eager", "sdpa"],
}
SMALL_TASK_MAX_TRAIN = 10_000  # tasks below this get the precision dimension when fine-tuning
SEED = 42

BASE_COMMAND = ("${env}", "${interpreter}", "-m", PROGRAM_MODULE)
FINETUNING_FLAGS = ("--do_train", "--do_eval", "--report_to=wandb", "--save_strategy=no")
INFERENCE_FLAGS = ("--do_eval", "--report_to=wandb", "--save_strategy=no")


@dataclass(frozen=True)
class SweepSpec:
    """One sweep file: where it goes, what W&B shows, and its parameters in display order.

    A parameter given a list becomes a grid dimension (`values`), anything else a constant
    (`value`). W&B orders grid dimensions by name, whatever order they are written in.
    """

    filename: str  # relative to the sweeps folder, e.g. "sweep_rte_cased.yaml"
    name: str
    description: str
    metric: str
    parameters: dict[str, Any]
    flags: tuple[str, ...]

    def to_config(self) -> dict[str, Any]:
        """The sweep config as W&B reads it (`yaml.safe_load` of the generated file)."""
        params = {
            key: {"values": list(v)} if isinstance(v, (list, tuple)) else {"value": v}
            for key, v in self.parameters.items()
        }
        return {
            "name": self.name,
            "description": self.description,
            "method": "grid",
            "metric": {"name": self.metric, "goal": "maximize"},
            "command": [*BASE_COMMAND, *self.flags, "${args}"],
            "parameters": params,
        }


def has_precision_dimension(task: str) -> bool:
    """Whether the task's fine-tuning sweeps have the precision dimension (the small tasks'; every
    inference sweep has it, see the module docstring)."""
    return get_task(task).train_size < SMALL_TASK_MAX_TRAIN


def _glue_sweep(task: str, group: str, params: dict[str, Any], *, inference: bool,
                axes: str) -> SweepSpec:
    """A GLUE sweep of one task and casing group: the head every such sweep shares (the task,
    the group's models, the sequence lengths), then `params`; `axes` names the grid in the
    description."""
    info = get_task(task)
    name = f"sweep_{task}_{group}" + ("_inference" if inference else "")
    what = "Inference time" if inference else "Fine-tuning time"
    return SweepSpec(
        filename=f"{name}.yaml",
        name=name,
        description=f"{what} of the {group} models on {info.display_name}"
        + (" (no training)" if inference else "") + f": {axes}",
        metric=info.main_metric_key,
        parameters={
            "task_name": info.name,
            "model_name_or_path": list(MODEL_GROUPS[group]),
            "max_seq_length": list(SEQ_LENGTHS),
            **params,
        },
        flags=INFERENCE_FLAGS if inference else FINETUNING_FLAGS,
    )


def _finetuning_constants(task: str) -> dict[str, Any]:
    """What every fine-tuning run of a task holds fixed (the thesis's recipe)."""
    return {
        "per_device_eval_batch_size": FINETUNING_EVAL_BATCH_SIZE,
        "learning_rate": LEARNING_RATES[task],
        "num_train_epochs": 1,
        "weight_decay": 0.01,
        "adam_epsilon": 1.0e-6,
        "finetuning_iters": FINETUNING_ITERS[task],
        "seed": SEED,
    }


def finetuning_sweep(task: str, group: str) -> SweepSpec:
    precision = has_precision_dimension(task)
    params: dict[str, Any] = {"per_device_train_batch_size": list(TRAIN_BATCH_SIZES)}
    if precision:
        params["bf16"] = [False, True]
    params.update(_finetuning_constants(task))
    axes = "batch size x sequence length" + (" x precision" if precision else "")
    return _glue_sweep(task, group, params, inference=False, axes=axes)


def inference_sweep(task: str, group: str) -> SweepSpec:
    params: dict[str, Any] = {
        "per_device_eval_batch_size": list(EVAL_BATCH_SIZES),
        "bf16": [False, True],
        "seed": SEED,
    }
    return _glue_sweep(task, group, params, inference=True,
                       axes="eval batch size x sequence length x precision")


def modes_sweep(task: str) -> SweepSpec:
    """The ways of fine-tuning, one task: model x LoRA x compile x kernel x padding-free."""
    info = get_task(task)
    name = f"sweep_{task}_modes"
    return SweepSpec(
        filename=f"{name}.yaml",
        name=name,
        description=f"Fine-tuning time of BERT-base, ModernBERT-base and DeBERTa-v3-base on "
        f"{info.display_name} in each mode: LoRA rank x torch.compile x attention kernel x "
        f"padding-free batches, at length {MODES_SEQ_LENGTH} and batch size {MODES_BATCH_SIZE}",
        metric=info.main_metric_key,
        parameters={
            "task_name": info.name,
            "model_name_or_path": list(MODES_MODELS),
            **MODES_GRID,
            "max_seq_length": MODES_SEQ_LENGTH,
            "per_device_train_batch_size": MODES_BATCH_SIZE,
            **_finetuning_constants(task),
        },
        flags=FINETUNING_FLAGS,
    )


# The demo: tiny local models, generated GLUE-format data, a small grid; offline on two CPU cores.
DEMO_ASSETS_DIR = "demo/assets"  # relative to the folder the agent runs in
DEMO_TASKS = ("rte", "sst2")
DEMO_TRAIN_SIZE = 256
DEMO_DEV_SIZE = 64


def demo_sweep() -> SweepSpec:
    params: dict[str, Any] = {
        "task_name": list(DEMO_TASKS),
        "model_name_or_path": [f"{DEMO_ASSETS_DIR}/models/tiny-cased",
                               f"{DEMO_ASSETS_DIR}/models/tiny-uncased"],
        "max_seq_length": [64, 128],
        "per_device_train_batch_size": [8, 16],
        "data_dir": DEMO_ASSETS_DIR,
        "tokenization_cache_dir": "demo/cache",
        "per_device_eval_batch_size": 16,
        # A tiny, randomly initialised model needs a high rate and a few epochs to learn the demo
        # pattern (accuracy 0.85-0.92 instead of the majority class): time against accuracy then
        # has something to show, for about a minute more on two cores.
        "learning_rate": 5.0e-3,
        "num_train_epochs": 3,
        "weight_decay": 0.01,
        "adam_epsilon": 1.0e-6,
        "finetuning_iters": 3,
        "seed": SEED,
    }
    return SweepSpec(
        filename="demo.yaml",
        name="demo",
        description="Offline demo: two tiny local models on generated RTE and SST-2 data "
        "(timing-trainer demo writes them), batch size x sequence length",
        metric=get_task(DEMO_TASKS[0]).main_metric_key,  # the same key for both demo tasks
        parameters=params,
        flags=FINETUNING_FLAGS,
    )


def all_sweeps() -> list[SweepSpec]:
    """The 54 GLUE sweeps (fine-tuning and inference, per task and group), the 9 modes sweeps
    (one per task) and the demo."""
    assert set(SWEEP_TASKS) == set(TASK_NAMES)
    specs = []
    for task in SWEEP_TASKS:
        for group in SWEEP_GROUPS:
            specs.append(finetuning_sweep(task, group))
            specs.append(inference_sweep(task, group))
        specs.append(modes_sweep(task))
    specs.append(demo_sweep())
    return specs
