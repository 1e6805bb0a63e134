"""Model arithmetic per token, datasheet peaks, and model FLOPs utilization (MFU).

MFU = achieved model FLOP/s / the device's peak FLOP/s for the precision in use. It says how
much of the hardware a configuration uses, which makes times from different GPUs comparable.

FLOPs per token (forward) of a transformer encoder, counting a multiply-add as 2 FLOPs:
- weights: 2 x (per layer 4 H^2 for Q, K, V, output + 2 H I for the MLP), the
  `ModelInfo.matmul_params_per_token` of `timing_trainer.models`;
- attention scores and their weighted sum: 2 x 2 x S x H per layer (bidirectional: no causal
  halving), for sequence length S.
Training costs three forwards (forward + backward for activations and weights). Embedding
lookups, layer norms and the small classifier head are left out (under 1% for BERT-base).

Torch-free: the analysis computes MFU from logged figures too.
"""

from __future__ import annotations

import re
from typing import Any

# Training runs three forwards' worth of arithmetic per token: the forward, and the backward's
# two (activations and weights). One constant: the trainer's FLOPs count and MFU use it.
TRAINING_FORWARDS = 3

# Dense (no sparsity) datasheet peaks in TFLOP/s per GPU. "fp32" is the plain FP32 (CUDA-core)
# rate; "tf32" needs TF32 tensor cores enabled; fp16/bf16 are tensor-core rates with FP32
# accumulation. Sources: NVIDIA's H100/H200/A100/V100/T4/L4/L40S datasheets.
PEAK_TFLOPS: dict[str, dict[str, float]] = {
    "H200": {"fp32": 67.0, "tf32": 494.7, "fp16": 989.4, "bf16": 989.4},
    "H100 SXM": {"fp32": 67.0, "tf32": 494.7, "fp16": 989.4, "bf16": 989.4},
    "H100 PCIe": {"fp32": 51.2, "tf32": 378.0, "fp16": 756.0, "bf16": 756.0},
    "A100": {"fp32": 19.5, "tf32": 156.0, "fp16": 312.0, "bf16": 312.0},
    "L40S": {"fp32": 91.6, "tf32": 183.0, "fp16": 362.1, "bf16": 362.1},
    "L4": {"fp32": 30.3, "tf32": 60.0, "fp16": 121.0, "bf16": 121.0},
    "V100": {"fp32": 15.7, "fp16": 125.0},
    "T4": {"fp32": 8.1, "fp16": 65.0},
}

# Ordered: the first pattern that matches the CUDA device name wins.
_GPU_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"H200", "H200"),
    (r"H100.*PCIE", "H100 PCIe"),
    (r"H100", "H100 SXM"),
    (r"A100", "A100"),
    (r"L40S", "L40S"),
    (r"\bL4\b", "L4"),
    (r"V100", "V100"),
    (r"\bT4\b", "T4"),
)


def gpu_family(gpu_name: str | None) -> str | None:
    """The PEAK_TFLOPS key for a CUDA device name ("NVIDIA H100 80GB HBM3" -> "H100 SXM")."""
    if not gpu_name:
        return None
    upper = gpu_name.upper()
    for pattern, family in _GPU_PATTERNS:
        if re.search(pattern, upper):
            return family
    return None


def peak_tflops(gpu_name: str | None, precision: str | None) -> float | None:
    """Datasheet peak TFLOP/s of one GPU at `precision`, or None where unknown."""
    family = gpu_family(gpu_name)
    if family is None or precision is None:
        return None
    return PEAK_TFLOPS[family].get(precision)


def _first_attr(config: Any, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = config.get(name) if isinstance(config, dict) else getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def model_shape(config: Any) -> tuple[int, int, int] | None:
    """(layers, hidden size, MLP size) from a transformers config or dict, None if unknown.

    Covers the naming of BERT/RoBERTa/ALBERT (hidden_size, num_hidden_layers,
    intermediate_size), DistilBERT (dim, n_layers, hidden_dim) and XLNet (d_model, n_layer,
    d_inner).
    """
    layers = _first_attr(config, ("num_hidden_layers", "n_layers", "n_layer", "num_layers"))
    hidden = _first_attr(config, ("hidden_size", "dim", "d_model", "n_embd"))
    if layers is None or hidden is None:
        return None
    inner = _first_attr(config, ("intermediate_size", "hidden_dim", "d_inner", "n_inner"))
    return layers, hidden, inner if inner is not None else 4 * hidden


def forward_flops_per_token(config: Any, seq_len: int) -> float | None:
    """Forward FLOPs per token at sequence length `seq_len` (see the module docstring)."""
    shape = model_shape(config)
    if shape is None or seq_len <= 0:
        return None
    layers, hidden, inner = shape
    weights = layers * (4 * hidden * hidden + 2 * hidden * inner)
    attention = layers * 2 * seq_len * hidden
    return float(2 * weights + 2 * attention)


def training_flops_per_token(config: Any, seq_len: int) -> float | None:
    """Training FLOPs per token: forward plus backward, three forwards."""
    forward = forward_flops_per_token(config, seq_len)
    return None if forward is None else float(TRAINING_FORWARDS * forward)


def mfu(flops: float | None, seconds: float | None, peak_tflops_per_device: float | None,
        n_devices: int = 1) -> float | None:
    """Model FLOPs utilization: flops / seconds / (peak x devices); None where anything is unknown."""
    if not flops or not seconds or not peak_tflops_per_device or seconds <= 0:
        return None
    return float(flops) / float(seconds) / (peak_tflops_per_device * 1e12 * max(1, n_devices))
