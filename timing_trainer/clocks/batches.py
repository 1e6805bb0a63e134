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

FLOPs follow the padded shapes that actually ran: each batch at its own sequence length.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from timing_trainer.results.flops import forward_flops_per_token, training_flops_per_token

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


class BatchCounter:
    """Samples, padded and real tokens, and model FLOPs of the batches of one timed region."""

    def __init__(self, model_config: Any, training: bool):
        self.model_config = model_config
        self.training = training
        self._per_token = training_flops_per_token if training else forward_flops_per_token
        self._flops_per_token: dict[int, float | None] = {}
        self.batches = 0
        self.samples = 0
        self.tokens = 0  # padded: batch x sequence length, as the model ran them
        self.flops = 0.0
        self.flops_known = model_config is not None
        self.shapes_known = True
        self._mask_sums: list[Any] = []  # device tensors, read after the region
        self._unmasked_tokens = 0

    def fresh(self) -> BatchCounter:
        """An empty counter of the same kind (a restarted loop counts afresh)."""
        return BatchCounter(self.model_config, self.training)

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
        if seq not in self._flops_per_token:
            self._flops_per_token[seq] = self._per_token(self.model_config, seq)
        per_token = self._flops_per_token[seq]
        if per_token is None:
            self.flops_known = False
        else:
            self.flops += per_token * batch * seq

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
        if self.model_config is None:
            return "the model has no config to count its FLOPs from"
        if not self.shapes_known:
            return "the batches have no sequence dimension (no input_ids, inputs_embeds or " \
                   "attention_mask of shape batch x length)"
        if self.batches == 0:
            return "no batches were counted"
        return ("the model's config gives no layer count and hidden size "
                f"({type(self.model_config).__name__})")
