"""Model arithmetic per token, datasheet peaks, and model FLOPs utilization (MFU).

MFU = achieved model FLOP/s / the device's peak FLOP/s for the precision in use. It says how
much of the hardware a configuration uses, which makes times from different GPUs comparable.

FLOPs are counted, not guessed: per architecture, every matrix product the model executes (a
multiply-add is 2 FLOPs), as `torch.utils.flop_counter.FlopCounterMode` counts them (tests hold
each architecture to it within 3 % at two lengths). Per layer and token, at sequence length S:
- BERT/RoBERTa/DistilBERT/ALBERT/ELECTRA: Q, K, V, output (4 x 2H^2), the MLP (2 x 2HI), the
  scores and their weighted sum (2 x 2SH); ALBERT/ELECTRA-small add the embedding projection
  (2EH per token, once);
- ModernBERT: fused QKV and output (4 x 2H^2), the gated MLP (Wi projects to 2I: 3 x 2HI); its
  sliding-window layers compute every score on the eager and SDPA paths (the window is a mask)
  and only the window's under flash attention;
- DeBERTa-v2/v3: BERT's layer plus the disentangled attention: the c2p and p2c scores against
  the 2k relative-position embeddings (2 x 2 x 2k x H, k = `position_buckets`), and their
  projections by the key and query weights, computed once per forward for the whole batch
  (2 x 2 x 2k x H^2 / (batch x S)): at batch 1 and length 128 that is 40 % of the forward, so
  the count takes the batch size.
The classification head (pooler and classifier) runs once per sequence. Training: full
fine-tuning costs three forwards (each product's backward computes both operands' gradients);
with LoRA (`LoraSpec`) a frozen weight needs no gradient, so its product costs its forward plus
the activation gradient, where that activation needs one (none before the first adapter), and
the adapters' small products cost three forwards. Embedding lookups, norms and element-wise
operations are left out (the counter does not count them either).

Torch-free: the analysis computes MFU from logged figures too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from timing_trainer.models import EncoderShape, encoder_shape

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


@dataclass(frozen=True)
class LoraSpec:
    """LoRA's shape for the count: rank, adapted module names, and the fully trained modules
    (peft's sequence-classification default: the `classifier`/`score` head)."""

    r: int
    target_modules: tuple[str, ...]
    trainable_modules: tuple[str, ...] = ("classifier", "score")


def _names_match(name: str, targets: tuple[str, ...]) -> bool:
    """peft's rule: a module is targeted when its name is, or ends with `.`, a target."""
    return any(name == t or name.endswith("." + t) for t in targets)


class _Tape:
    """Adds up forward and backward FLOPs of matrix products, following which operands need a
    gradient (autograd computes one product per operand that needs it)."""

    def __init__(self, lora: LoraSpec | None):
        self.lora = lora
        self.forward = 0.0
        self.backward = 0.0

    def matmul(self, flops: float, a_grad: bool, b_grad: bool) -> bool:
        self.forward += flops
        self.backward += flops * (int(a_grad) + int(b_grad))
        return a_grad or b_grad

    def linear(self, name: str, x_grad: bool, d_in: float, d_out: float, rows: float = 1.0) -> bool:
        """x (rows x d_in) @ W (d_in x d_out); returns whether the output needs a gradient."""
        flops = 2.0 * rows * d_in * d_out
        lora = self.lora
        if lora is None or any(f".{t}." in f".{name}." for t in lora.trainable_modules):
            return self.matmul(flops, x_grad, True)
        out_grad = self.matmul(flops, x_grad, False)
        if lora.r > 0 and _names_match(name, lora.target_modules):
            down, up = 2.0 * rows * d_in * lora.r, 2.0 * rows * lora.r * d_out
            self.matmul(down, x_grad, True)  # A: its weight gradient, x's where x needs one
            self.matmul(up, True, True)  # B: its weight gradient and A's output's
            out_grad = True
        return out_grad


_BERT_NAMES = ("attention.self.query", "attention.self.key", "attention.self.value",
               "attention.output.dense", "intermediate.dense", "output.dense")
_LAYER_NAMES = {
    "distilbert": ("attention.q_lin", "attention.k_lin", "attention.v_lin", "attention.out_lin",
                   "ffn.lin1", "ffn.lin2"),
    "albert": ("attention.query", "attention.key", "attention.value", "attention.dense", "ffn",
               "ffn_output"),
    "deberta-v2": ("attention.self.query_proj", "attention.self.key_proj",
                   "attention.self.value_proj", "attention.output.dense", "intermediate.dense",
                   "output.dense"),
}
# The sequence-classification head: (first dense, classifier), run on one token a sequence.
_HEADS = {"bert": ("bert.pooler.dense", "classifier"), "albert": ("albert.pooler", "classifier"),
          "roberta": ("classifier.dense", "classifier.out_proj"),
          "xlm-roberta": ("classifier.dense", "classifier.out_proj"),
          "electra": ("classifier.dense", "classifier.out_proj"),
          "distilbert": ("pre_classifier", "classifier"), "modernbert": ("head.dense", "classifier"),
          "deberta-v2": ("pooler.dense", "classifier")}
_EMBED_PROJECTIONS = {"albert": "embedding_hidden_mapping_in", "electra": "embeddings_project",
                      "deberta-v2": "embed_proj"}
ARCHITECTURES = tuple(_HEADS)


def _window_keys(seq_len: int, window: int) -> float:
    """Keys per query, averaged, of a sliding window of `window` tokens (half each side)."""
    half = window // 2
    pairs = sum(min(seq_len - 1, i + half) - max(0, i - half) + 1 for i in range(seq_len))
    return pairs / seq_len


def _block(tape: _Tape, x: bool, names: tuple[str, ...], s: EncoderShape, keys: float,
           extra_scores: Any = None) -> bool:
    """One encoder layer (attention and MLP); returns whether its output needs a gradient."""
    h, inner = s.hidden_size, s.intermediate_size
    if s.model_type == "modernbert":
        q = k = v = tape.linear("attn.Wqkv", x, h, 3 * h)
    else:
        q, k, v = (tape.linear(n, x, h, h) for n in names[:3])
    scores = tape.matmul(2.0 * keys * h, q, k)
    if extra_scores is not None:
        scores = extra_scores(q, k) or scores
    attended = tape.matmul(2.0 * keys * h, scores, v)
    x = tape.linear("attn.Wo" if s.model_type == "modernbert" else names[3], attended, h, h) or x
    if s.model_type == "modernbert":  # GeGLU: Wi gives the input and its gate, 2 x I
        hidden = tape.linear("mlp.Wi", x, h, 2 * inner)
        return tape.linear("mlp.Wo", hidden, inner, h) or x
    return tape.linear(names[5], tape.linear(names[4], x, h, inner), inner, h) or x


def _disentangled(tape: _Tape, s: EncoderShape, seq_len: int, batch_size: int) -> Any:
    """DeBERTa's c2p/p2c scores: a callback for `_block`, given the query's and key's grads."""
    span2, h = 2 * s.relative_span, s.hidden_size
    rows = span2 / (batch_size * seq_len)  # the relative embeddings, projected once a forward
    rel = tape.lora is None  # trainable embeddings in full fine-tuning, frozen under LoRA
    names = ("attention.self.query_proj", "attention.self.key_proj") if s.share_att_key else \
        ("attention.self.pos_query_proj", "attention.self.pos_key_proj")

    def scores(q: bool, k: bool) -> bool:
        grad = False
        if s.share_att_key or "p2c" in s.pos_att_type:
            pos_q = tape.linear(names[0], rel, h, h, rows)
        if s.share_att_key or "c2p" in s.pos_att_type:
            pos_k = tape.linear(names[1], rel, h, h, rows)
        if "c2p" in s.pos_att_type:
            grad = tape.matmul(2.0 * span2 * h, q, pos_k) or grad
        if "p2c" in s.pos_att_type:
            grad = tape.matmul(2.0 * span2 * h, k, pos_q) or grad
        return grad
    return scores


def _run(tape: _Tape, s: EncoderShape, seq_len: int, batch_size: int, attn: str) -> None:
    """Every matrix product of a sequence-classification forward, per token, onto `tape`."""
    h = s.hidden_size
    x = tape.lora is None  # the embeddings train in full fine-tuning; frozen under LoRA
    if s.embedding_size and s.embedding_size != h and s.model_type in _EMBED_PROJECTIONS:
        x = tape.linear(_EMBED_PROJECTIONS[s.model_type], x, s.embedding_size, h)
    names = _LAYER_NAMES.get(s.model_type, _BERT_NAMES)
    extra = _disentangled(tape, s, seq_len, batch_size) if s.relative_span else None
    windowed = attn.startswith("flash") and s.local_attention > 0
    local_keys = _window_keys(seq_len, s.local_attention) if windowed else float(seq_len)
    for layer in range(s.num_layers):
        layer_input = x
        local = _is_local(s, layer)
        x = _block(tape, x, names, s, local_keys if local else float(seq_len), extra)
        if layer == 0 and s.conv_kernel_size:  # DeBERTa's convolution beside the first layer
            conv_in = s.conv_kernel_size * h / max(1, s.conv_groups)
            x = tape.linear("encoder.conv.conv", layer_input, conv_in, h) or x
    first, classifier = _HEADS[s.model_type]
    pooled = s.pooler_hidden_size or h
    x = tape.linear(first, x, h, pooled, 1.0 / seq_len)
    tape.linear(classifier, x, pooled, s.num_labels, 1.0 / seq_len)


def _is_local(s: EncoderShape, layer: int) -> bool:
    """Which layers attend locally matters only in their count, and for LoRA in that the first
    is global (ModernBERT's layer 0 always is); so the last `local_layers` are taken as local."""
    return s.local_layers > 0 and layer >= s.num_layers - s.local_layers


def _shape(config: Any) -> EncoderShape | None:
    return config if isinstance(config, EncoderShape) else encoder_shape(config)


def flops_unknown_reason(config: Any) -> str | None:
    """Why the FLOPs of a model with this config cannot be counted, or None when they can."""
    if config is None:
        return "the model has no config to count its FLOPs from"
    shape = _shape(config)
    if shape is None:
        return f"the model's config gives no layer count and hidden size ({type(config).__name__})"
    if shape.model_type not in _HEADS:
        return (f"no FLOPs formula for architecture {shape.model_type or '(no model_type)'!r} "
                f"(counted: {', '.join(ARCHITECTURES)})")
    return None


def attn_implementation_of(config: Any) -> str:
    """The attention kernel a config object names ("eager" when it names none)."""
    if isinstance(config, dict):
        value = config.get("_attn_implementation") or config.get("attn_implementation")
    else:
        value = getattr(config, "_attn_implementation", None)
    return str(value or "eager")


def count_flops(config: Any, seq_len: int, batch_size: int = 1, lora: LoraSpec | None = None,
                attn_implementation: str | None = None) -> tuple[float, float] | None:
    """(forward, training) FLOPs per token of a batch of `batch_size` x `seq_len`; None when
    `flops_unknown_reason` says why not."""
    if seq_len <= 0 or batch_size <= 0 or flops_unknown_reason(config) is not None:
        return None
    tape = _Tape(lora)
    attn = attn_implementation or attn_implementation_of(config)
    _run(tape, _shape(config), seq_len, batch_size, attn)
    return tape.forward, tape.forward + tape.backward


def forward_flops_per_token(config: Any, seq_len: int, batch_size: int = 1,
                            lora: LoraSpec | None = None) -> float | None:
    """Forward FLOPs per token (see the module docstring); None for an unknown architecture."""
    counted = count_flops(config, seq_len, batch_size, lora)
    return None if counted is None else counted[0]


def training_flops_per_token(config: Any, seq_len: int, batch_size: int = 1,
                             lora: LoraSpec | None = None) -> float | None:
    """Training FLOPs per token: forward plus backward (three forwards without LoRA)."""
    counted = count_flops(config, seq_len, batch_size, lora)
    return None if counted is None else counted[1]


def mfu(flops: float | None, seconds: float | None, peak_tflops_per_device: float | None,
        n_devices: int = 1) -> float | None:
    """Model FLOPs utilization: flops / seconds / (peak x devices); None where anything is unknown."""
    if not flops or not seconds or not peak_tflops_per_device or seconds <= 0:
        return None
    return float(flops) / float(seconds) / (peak_tflops_per_device * 1e12 * max(1, n_devices))
