"""What the batches of a timed region held: samples, padded tokens, real tokens and model FLOPs.

A batch is whatever the Trainer hands to `training_step` or `prediction_step`: a `dict`, a
`BatchEncoding` (a `UserDict`, what `DataCollatorWithPadding` returns when a tokenizer is the
`processing_class`), any other `Mapping`. Lengths may differ from batch to batch (dynamic
padding), and a batch may come without an `attention_mask`.

Inside a timed region the counter only reads host metadata (tensor shapes) and, for the real
tokens, queues one reduction of the attention mask. On a GPU `mask.sum()` is a kernel launch that
returns a device tensor without waiting for it (a host synchronize happens only when its value is
read: `.item()`, `int()`, printing). The values are read once, by `real_tokens()`, after the
region. Without an attention mask the model attends to every position, so every padded token
counts as real.

FLOPs follow the padded shapes that actually ran: each batch at its own sequence length and
batch size (DeBERTa's relative-position projections run once per batch), counted per
architecture by `timing_trainer.results.flops`; a peft LoRA model's training FLOPs leave out the
frozen weights' gradients (`BatchCounter.for_model` reads its adapter).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from timing_trainer.results.flops import LoraSpec, count_flops, flops_unknown_reason

_SEQUENCE_KEYS = ("input_ids", "inputs_embeds", "attention_mask")


def batch_shape(inputs: Any) -> tuple[int, int | None] | None:
    """(batch size, sequence length) of a batch from tensor shapes (host metadata only)."""
    if not isinstance(inputs, Mapping):
        return None
    for key in _SEQUENCE_KEYS:
        shape = getattr(inputs.get(key), "shape", None)
        if shape is not None and len(shape) >= 2:
            return int(shape[0]), int(shape[1])
    for value in inputs.values():
        shape = getattr(value, "shape", None)
        if shape is not None and len(shape) >= 1:
            return int(shape[0]), (int(shape[1]) if len(shape) >= 2 else None)
    return None


def lora_spec(model: Any) -> tuple[LoraSpec | None, str | None]:
    """The LoRA adapter of a peft model as the FLOPs count needs it, or why it cannot be read.

    (None, None) for a model without peft: every weight trains.
    """
    configs = getattr(model, "peft_config", None)
    if not isinstance(configs, Mapping) or not configs:
        return None, None
    active = getattr(model, "active_adapter", None)
    config = configs.get(active) if isinstance(active, str) else next(iter(configs.values()))
    if str(getattr(config, "peft_type", "")).rsplit(".", 1)[-1].upper() != "LORA":
        return None, f"no FLOPs formula for the peft adapter {getattr(config, 'peft_type', None)}"
    targets = getattr(config, "target_modules", None)
    if not isinstance(targets, (set, frozenset, list, tuple)):
        return None, f"LoRA's target_modules {targets!r} is not a list of module names"
    saved = getattr(model, "modules_to_save", None) or getattr(config, "modules_to_save", None)
    return LoraSpec(int(config.r), tuple(sorted(targets)), tuple(sorted(saved or ()))), None


class BatchCounter:
    """Samples, padded and real tokens, and model FLOPs of the batches of one timed region."""

    def __init__(self, model_config: Any, training: bool, lora: LoraSpec | None = None,
                 lora_reason: str | None = None):
        self.model_config = model_config
        self.training = training
        self.lora = lora
        self._reason = lora_reason or flops_unknown_reason(model_config)
        self._flops_per_token: dict[tuple[int, int], tuple[float, float] | None] = {}
        self.batches = 0
        self.samples = 0
        self.tokens = 0  # padded: batch x sequence length, as the model ran them
        self.flops = 0.0  # the region's: training FLOPs when training, else forward
        self.forward_flops = 0.0  # the forwards' alone (with LoRA, training is not 3x this)
        self.flops_known = self._reason is None
        self.shapes_known = True
        self._mask_sums: list[Any] = []  # device tensors, read after the region
        self._unmasked_tokens = 0

    @classmethod
    def for_model(cls, model: Any, training: bool) -> BatchCounter:
        """A counter for `model`: its config, and its LoRA adapter when it is a peft model."""
        lora, reason = lora_spec(model)
        return cls(getattr(model, "config", None), training, lora, reason)

    def fresh(self) -> BatchCounter:
        """An empty counter of the same kind (a restarted loop counts afresh)."""
        return BatchCounter(self.model_config, self.training, self.lora, self._reason)

    def add(self, inputs: Any) -> int | None:
        """Count one batch; returns its batch size (None when no tensor tells it)."""
        self.batches += 1
        shape = batch_shape(inputs)
        if shape is None:
            self.shapes_known = False
            self.flops_known = False
            return None
        batch, seq = shape
        self.samples += batch
        if seq is None:
            self.shapes_known = False
            self.flops_known = False
            return batch
        self.tokens += batch * seq
        mask = inputs.get("attention_mask")
        if getattr(mask, "shape", None) is not None and hasattr(mask, "sum"):
            self._mask_sums.append(mask.sum())  # queued on the device; not read here
        else:
            self._unmasked_tokens += batch * seq
        self._add_flops(batch, seq)
        return batch

    def _add_flops(self, batch: int, seq: int) -> None:
        if not self.flops_known:
            return
        if (batch, seq) not in self._flops_per_token:
            self._flops_per_token[batch, seq] = count_flops(self.model_config, seq, batch,
                                                            self.lora)
        per_token = self._flops_per_token[batch, seq]  # (forward, training)
        if per_token is None:
            self.flops_known = False
        else:
            self.forward_flops += per_token[0] * batch * seq
            self.flops += per_token[1 if self.training else 0] * batch * seq

    def real_tokens(self) -> int | None:
        """Tokens the attention masks let through (plus every token of unmasked batches).

        Reads the queued sums: call it after the timed region (one host synchronize on a GPU).
        """
        if not self.shapes_known:
            return None
        total = self._unmasked_tokens
        if self._mask_sums:
            import torch

            total += int(torch.stack([s.reshape(()).long() for s in self._mask_sums]).sum())
        return total

    def total_flops(self) -> float | None:
        return self.flops if self.flops_known and self.flops > 0 else None

    def flops_reason(self) -> str | None:
        """Why the FLOPs are unknown, or None when they are known."""
        if self.total_flops() is not None:
            return None
        if self._reason is not None:
            return self._reason
        if not self.shapes_known:
            return "the batches have no sequence dimension (no input_ids, inputs_embeds or " \
                   "attention_mask of shape batch x length)"
        if self.batches == 0:
            return "no batches were counted"
        return "a batch had a sequence length the FLOPs count cannot take"
