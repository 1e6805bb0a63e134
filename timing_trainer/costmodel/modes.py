"""The GLUE program's modes as cost-model inputs: LoRA's arithmetic, and each mode's level.

Two ways a mode enters the model (features.py, platform_fit.py):

- LoRA changes what a training step computes, so the physics follows it. A frozen weight needs
  no weight gradient, and the optimizer only reads and writes the adapters and the head. The
  linear term keeps the forward and the input gradients of every matrix product. It loses the
  frozen weights' gradients and gains the adapters' small products. How much it loses is
  `timing_trainer.results.flops`'s count with and without a `LoraSpec` (the formula the runs'
  MFU uses, not a second one). `gparams` is the trainable count the run recorded, or an
  estimate for a planned run. XLNet has no formula there, so it takes the textbook figure: two
  forwards for the frozen products, three for the adapters'.
- Every mode is also an efficiency effect, shrunk like a model family's, for what the FLOPs do
  not say. torch.compile fuses kernels, an attention kernel is faster or slower at the same
  FLOPs, and LoRA's many small products run below a GEMM's efficiency. An effect is fitted only
  where a platform's runs hold two or more of its levels, and is zero for a level the fit has not
  seen. Runs that predate the modes (the thesis's) therefore fit exactly as before.

A missing `lora_r` is full fine-tuning, since the program records it only for LoRA runs, and
runs older than the modes had none. A missing `torch_compile` or `padding_free` means off. A
missing attention kernel stays unknown (""): transformers picks one when the sweep names none,
so no effect is guessed for it.
"""

from __future__ import annotations

import math
from typing import Any

from timing_trainer.costmodel.cells import missing
from timing_trainer.glue.modes import DEFAULT_LORA_TARGETS
from timing_trainer.results.flops import LoraSpec, count_flops

# Feature column (and effect group) -> the runs table's column it is read from.
MODE_GROUPS = {"mode_lora": "lora_r", "mode_compile": "torch_compile",
               "mode_attention": "attn_implementation", "mode_padding_free": "padding_free"}
# What each group is called in a sentence (the estimate's note on modes the fit has not seen).
MODE_NAMES = {"mode_lora": "fine-tuning", "mode_compile": "torch.compile",
              "mode_attention": "attention kernel", "mode_padding_free": "padding-free batches"}
# Every architecture's attention projections: a default LoRA run adapts the names its model has.
_ALL_DEFAULT_TARGETS = tuple(dict.fromkeys(name for names in DEFAULT_LORA_TARGETS
                                           for name in names))
_TRUE = ("true", "1", "1.0", "yes", "on")
# Families whose classification head peft keeps whole (`classifier` holds a dense layer too).
_DENSE_HEADS = frozenset({"roberta", "xlm-roberta", "electra"})


def _text(value: Any) -> str:
    """A cell as lower-case text; "" for a missing one (cells.missing)."""
    return "" if missing(value) else str(value).strip().lower()


def switched_on(value: Any) -> bool:
    """A switch (`torch_compile`, `bf16`, ...) as a sweep or a results file writes it: on for
    true, 1, yes, on (any case, `True` too); off when missing."""
    return _text(value) in _TRUE


def mode_label(group: str, level: str) -> str:
    """A level in words: `LoRA`, `full fine-tuning`, `torch.compile on`, `attention kernel sdpa`."""
    if group == "mode_lora":
        return "LoRA" if level == "lora" else "full fine-tuning"
    return f"{MODE_NAMES[group]} {level}"


def lora_rank(row: dict[str, Any]) -> int:
    """The run's LoRA rank; 0 for full fine-tuning (missing, 0, or not a number)."""
    try:
        rank = float(_text(row.get("lora_r")) or 0)
    except ValueError:
        return 0
    return int(rank) if math.isfinite(rank) and rank > 0 else 0


def mode_levels(row: dict[str, Any]) -> dict[str, str]:
    """The run's level of each MODE_GROUPS effect."""
    return {
        "mode_lora": "lora" if lora_rank(row) else "full",
        "mode_compile": "on" if switched_on(row.get("torch_compile")) else "off",
        "mode_attention": _text(row.get("attn_implementation")),
        "mode_padding_free": "on" if switched_on(row.get("padding_free")) else "off",
    }


def lora_spec(row: dict[str, Any]) -> LoraSpec | None:
    """LoRA's shape for the FLOPs count: rank and adapted modules (the run's, else every
    architecture's default attention projections); None for full fine-tuning."""
    rank = lora_rank(row)
    if not rank:
        return None
    raw = row.get("lora_target_modules")  # recorded as peft got them: `Wqkv` keeps its case
    named = tuple(t.strip() for t in str(raw).split(",") if t.strip()) if _text(raw) else ()
    return LoraSpec(rank, named or _ALL_DEFAULT_TARGETS)


_SAVED: dict[tuple, float] = {}


def lora_saved_flops(shape: Any, length: float, batch: float, lora: LoraSpec) -> float:
    """Training FLOPs per token that LoRA saves against full fine-tuning (frozen weights'
    gradients, less the adapters' products), from results.flops's count of the shape's
    config; where it has no formula, the textbook figure: the weights' gradients (one
    forward's worth), less the adapters' three forwards."""
    if not (math.isfinite(length) and math.isfinite(batch) and length >= 1 and batch >= 1):
        return math.nan  # a run without its sizes has no features anyway
    key = (shape.name, shape.source, shape.num_layers, shape.hidden_size, length, batch, lora)
    if key not in _SAVED:
        config = dict(shape.config)
        full = count_flops(config, int(length), int(batch)) if config else None
        tuned = count_flops(config, int(length), int(batch), lora) if full is not None else None
        if full is not None and tuned is not None:
            _SAVED[key] = float(full[1] - tuned[1])
        else:
            _SAVED[key] = 2.0 * shape.matmul_params_per_token \
                - 3 * 2.0 * _adapter_params(shape, lora)
    return _SAVED[key]


def _adapter_params(shape: Any, lora: LoraSpec) -> float:
    """LoRA's adapter parameters: rank x (in + out) per adapted projection and layer, the
    projections taken as H x H (ModernBERT's default: its fused H x 3H `Wqkv`)."""
    h = shape.hidden_size
    if lora.target_modules == _ALL_DEFAULT_TARGETS:
        per_layer = 4 * h if shape.architecture == "modernbert" else 3 * 2 * h
    else:
        per_layer = len(lora.target_modules) * 2 * h
    return float(shape.num_layers * lora.r * per_layer)


def lora_trainable_params(shape: Any, lora: LoraSpec, recorded: Any) -> float:
    """Parameters LoRA trains: the run's recorded count where it has one, else the adapters and
    the classifier peft keeps trainable (RoBERTa's and ELECTRA's head has a dense layer in it;
    BERT's pooler stays frozen)."""
    try:
        count = float(recorded)
    except (TypeError, ValueError):
        count = math.nan
    if math.isfinite(count) and count > 0:
        return count
    h = shape.hidden_size
    head = 2 * h + 2 + ((h * h + h) if shape.architecture in _DENSE_HEADS else 0)
    return _adapter_params(shape, lora) + head
