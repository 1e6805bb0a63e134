"""The ways of fine-tuning the GLUE program can time: LoRA, the attention kernel, torch.compile,
padding-free batches; each checked before anything slow, applied to the model, and recorded.

Each mode changes the cost by a large factor, so a run's results must say which were on:
`lora_r`, `lora_alpha`, `lora_target_modules`, `trainable_params`, `total_params`,
`attn_implementation` (the kernel the model actually uses), `torch_compile` (with its backend and
mode) and `padding_free` are in the results' `config`.

- LoRA (`--lora_r R`, peft, the `lora` extra): adapters on the attention's query, key and value
  projections unless `--lora_target_modules` names others; task type SEQ_CLS, so peft keeps the
  classifier head fully trainable (`modules_to_save`).
- `--attn_implementation`: passed to `from_pretrained`; flash_attention_2 is refused before the
  model loads where it cannot run (no CUDA device, or no flash_attn package).
- `--torch_compile` (transformers' own flag): the Trainer compiles the model, and compilation
  happens at the first forward and backward, which must be the warm-up's, not the clock's: a
  compiled run with `--timing_warmup_steps 0` is refused. The warm-up's time
  (`setup_time_parts["warmup"]`) then holds the compilation with the warm-up steps; it is not
  split further, because the backward graph is compiled lazily inside the first backward and no
  clock separates it honestly from that step's work.
- `--padding_free`: transformers' `DataCollatorWithFlattening` puts a batch into one row with
  position ids that restart at each example. A sequence-classification head must then give one
  row of logits per example; `check_padding_free` runs the model on two flattened examples
  and refuses the mode (one line) where it gives one row, as every encoder classifier of
  transformers 5.25 does (they pool the first token, or the mean, of each row). The probe runs
  on a one-layer copy built from the config, before the weights load.
"""

from __future__ import annotations

import math
from typing import Any

from timing_trainer.errors import GlueInputError

ATTN_IMPLEMENTATIONS = ("eager", "sdpa", "flash_attention_2")
# The attention's projections by architecture: BERT, RoBERTa, ELECTRA; ModernBERT; DeBERTa-v2/v3;
# DistilBERT; most newer models. The first set the model has every name of is LoRA's default.
DEFAULT_LORA_TARGETS = (
    ("query", "key", "value"),
    ("Wqkv",),
    ("query_proj", "key_proj", "value_proj"),
    ("q_lin", "k_lin", "v_lin"),
    ("q_proj", "k_proj", "v_proj"),
)


def check_mode_arguments(model_args: Any) -> None:
    """The mode options' values (ValueError, one line: the parser reports it as bad input), and
    `lora_alpha`'s default, 2 * lora_r."""
    rank = model_args.lora_r
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
        raise ValueError(f"--lora_r must be an integer >= 0 (0: no LoRA), got {rank!r}")
    alpha = model_args.lora_alpha
    if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float))
                              or not math.isfinite(alpha) or alpha <= 0):
        raise ValueError(f"--lora_alpha must be a finite number > 0, got {alpha!r}")
    if rank == 0 and (alpha is not None or model_args.lora_target_modules):
        raise ValueError("--lora_alpha and --lora_target_modules need --lora_r > 0")
    if rank > 0 and alpha is None:
        model_args.lora_alpha = 2 * rank
    attn = model_args.attn_implementation
    if attn is not None and attn not in ATTN_IMPLEMENTATIONS:
        raise ValueError(f"--attn_implementation {attn!r}: use one of "
                         f"{', '.join(ATTN_IMPLEMENTATIONS)}")


def check_modes_available(model_args: Any, training_args: Any) -> None:
    """What the machine must have for the modes asked, before the model loads."""
    if model_args.attn_implementation == "flash_attention_2":
        from transformers.utils import is_flash_attn_2_available

        if training_args.device.type != "cuda":
            raise GlueInputError("--attn_implementation flash_attention_2 needs a CUDA device; "
                                 f"this run is on {training_args.device.type}; use sdpa or eager")
        if not is_flash_attn_2_available():
            raise GlueInputError("--attn_implementation flash_attention_2: the flash_attn package "
                                 "is not installed (or does not fit this GPU); use sdpa or eager")
    if model_args.lora_r > 0:
        try:
            import peft  # noqa: F401
        except ImportError:
            raise GlueInputError("--lora_r needs the peft package: pip install "
                                 "'timing-trainer[lora]'") from None


def check_compile_warm_up(values: dict[str, Any]) -> None:
    """`--torch_compile` needs a warm-up to compile in (training's and evaluation's). `values`:
    the parsed options before TrainingArguments is built (whose own notes would come first)."""
    if not values.get("torch_compile"):
        return
    for name in ("timing_warmup_steps", "inference_warmup_batches"):
        if values.get(name, 1) == 0:
            raise GlueInputError(f"--torch_compile with --{name} 0 would put the compilation "
                                 f"on the clock; give --{name} 1 or more")


def compile_config(training_args: Any) -> dict[str, Any]:
    """`torch_compile`, and with it the backend and mode the Trainer compiles with."""
    compiled = bool(getattr(training_args, "torch_compile", False))
    config: dict[str, Any] = {"torch_compile": compiled}
    if compiled:
        config["torch_compile_backend"] = training_args.torch_compile_backend or "inductor"
        config["torch_compile_mode"] = training_args.torch_compile_mode
    return config


def lora_targets(model: Any, requested: str | None) -> list[str]:
    """The module names LoRA adapts: the requested ones (each must exist in the model), else the
    first of DEFAULT_LORA_TARGETS whose every name is a linear layer of the model."""
    import torch

    linear = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
              if isinstance(module, torch.nn.Linear)}
    if requested:
        wanted = [name.strip() for name in requested.split(",") if name.strip()]
        missing = [name for name in wanted if name not in linear]
        if missing or not wanted:
            raise GlueInputError(f"--lora_target_modules {requested!r}: no linear layer named "
                                 f"{', '.join(missing) or '(empty)'} in the model; it has "
                                 f"{', '.join(sorted(linear))}")
        return wanted
    for names in DEFAULT_LORA_TARGETS:
        if set(names) <= linear:
            return list(names)
    raise GlueInputError("--lora_r: no attention projections known for this model; name them "
                         f"with --lora_target_modules (its linear layers: {', '.join(sorted(linear))})")


def apply_lora(model: Any, model_args: Any) -> tuple[Any, list[str]]:
    """The model with LoRA adapters (peft, task type SEQ_CLS: the head stays trainable)."""
    from peft import LoraConfig, TaskType, get_peft_model

    targets = lora_targets(model, model_args.lora_target_modules)
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=model_args.lora_r,
                        lora_alpha=model_args.lora_alpha, target_modules=targets)
    return get_peft_model(model, config), targets


def parameter_counts(model: Any) -> dict[str, int]:
    """Trainable and total parameters (LoRA's adapters counted in both)."""
    params = list(model.parameters())
    return {"trainable_params": sum(p.numel() for p in params if p.requires_grad),
            "total_params": sum(p.numel() for p in params)}


def prepare_model(model: Any, model_args: Any, data_args: Any) -> tuple[Any, dict[str, Any]]:
    """The model as the modes want it, and what the results' config records of them."""
    config: dict[str, Any] = {
        "attn_implementation": getattr(model.config, "_attn_implementation", None),
        "padding_free": bool(data_args.padding_free),
    }
    if model_args.lora_r > 0:
        model, targets = apply_lora(model, model_args)
        config.update({"lora_r": model_args.lora_r, "lora_alpha": model_args.lora_alpha,
                       "lora_target_modules": ",".join(targets)})
    config.update(parameter_counts(model))
    return model, config


def check_padding_free(config: Any, attn_implementation: str | None) -> None:
    """Refuse `--padding_free` where the model cannot classify a flattened batch: two examples in
    one row (position ids restarting at the second) must give two rows of logits. The model's
    code decides, not its weights: a one-layer copy built from `config` answers before the
    weights load (a refusal is one line, without the load's report). It runs on the CPU, so
    flash_attention_2 is asked as sdpa: the head's pooling is what decides."""
    import copy

    import torch
    from transformers import AutoModelForSequenceClassification

    small = copy.deepcopy(config)
    small.num_hidden_layers = 1
    attn = "sdpa" if attn_implementation == "flash_attention_2" else attn_implementation
    try:
        model = AutoModelForSequenceClassification.from_config(
            small, **({"attn_implementation": attn} if attn else {}))
    except ValueError as exc:  # a kernel the architecture lacks (DeBERTa-v2 and sdpa)
        raise GlueInputError(f"--attn_implementation {attn}: {str(exc).split('. ')[0]}") from None
    vocab = int(getattr(model.config, "vocab_size", 8) or 8)
    ids = torch.tensor([[i % vocab for i in (1, 2, 3, 1, 4, 5, 3)]])
    positions = torch.tensor([[0, 1, 2, 0, 1, 2, 3]])
    model.eval()
    try:
        with torch.no_grad():
            rows = model(input_ids=ids, position_ids=positions).logits.shape[0]
    except Exception as exc:  # noqa: BLE001 - a model that refuses the layout: named below
        rows = f"an error ({type(exc).__name__})"
    if rows != 2:
        name = type(model).__name__
        raise GlueInputError(
            f"--padding_free: {name} does not classify a flattened batch (two examples in one "
            f"row gave {rows} row(s) of logits; its head pools each row); drop --padding_free, "
            "or use --no_pad_to_max_length for padding to each batch's longest")


def make_collator(data_args: Any, training_args: Any, tokenizer: Any, model: Any) -> Any:
    """The batches: padded to max_seq_length (as tokenized), to each batch's longest, or
    flattened (padding-free)."""
    from transformers import DataCollatorWithPadding, default_data_collator

    if data_args.padding_free:
        attn = getattr(model.config, "_attn_implementation", None)
        return FlattenedClassificationCollator(attn == "flash_attention_2")
    if data_args.pad_to_max_length:
        return default_data_collator
    multiple = 8 if (training_args.fp16 or training_args.bf16) else None
    return DataCollatorWithPadding(tokenizer, pad_to_multiple_of=multiple)


class FlattenedClassificationCollator:
    """`DataCollatorWithFlattening` for classification: the examples' tokens in one row (token
    type ids too), and one label per example, not its token-level labels."""

    def __init__(self, flash_attn_kwargs: bool):
        from transformers import DataCollatorWithFlattening

        self._flatten = DataCollatorWithFlattening(return_flash_attn_kwargs=flash_attn_kwargs)

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        batch = self._flatten([{"input_ids": list(f["input_ids"])} for f in features])
        batch.pop("labels", None)
        if "token_type_ids" in features[0]:
            types = [t for f in features for t in f["token_type_ids"]]
            batch["token_type_ids"] = torch.tensor([types], dtype=torch.long)
        if "labels" in features[0]:
            labels = [f["labels"] for f in features]
            dtype = torch.float if isinstance(labels[0], float) else torch.long
            batch["labels"] = torch.tensor(labels, dtype=dtype)
        return batch
