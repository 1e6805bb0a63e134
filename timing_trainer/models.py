"""The model table and the shape of an encoder read from its config, torch-free.

The sweep generator groups models by the casing of their vocabulary; the cost model and the FLOPs
count need each model's shape when its config is not available locally (an analysis laptop has
no Hub access and no weights). `encoder_shape` reads that shape from a `config.json` dict or a
transformers config object alike, so the table and any local model go through one reader.

Where the figures come from: each entry's `config` holds the values of the model's published
`config.json` on the Hugging Face Hub that the shape needs (google-bert, distilbert,
FacebookAI, xlnet, albert, answerdotai/ModernBERT-{base,large}, microsoft/deberta-v3-{base,large});
`params` is the base model's parameter count (no task head), counted from the model built from
that config (for the seven BERT-era models, the counts the thesis's models report; for ModernBERT
and DeBERTa-v3, `AutoModel.from_config` on the meta device with transformers 5.25: 149,014,272,
394,781,696, 183,831,552 and 434,012,160, the published ~149M, ~395M, 184M and 435M).
Casing: ModernBERT's BPE vocabulary and DeBERTa-v3's SentencePiece vocabulary both keep case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EncoderShape:
    """What the FLOPs count needs to know about an encoder, read from its config.

    `local_layers` of the `num_layers` attend within `local_attention` tokens (ModernBERT's
    sliding-window layers; 0 elsewhere). `relative_span` is DeBERTa's attention span of the
    relative-position embeddings (`position_buckets`, else `max_relative_positions`, else the
    maximum length; 0 without relative attention), with `pos_att_type` its c2p/p2c terms.
    """

    model_type: str
    num_layers: int
    hidden_size: int
    intermediate_size: int
    num_heads: int = 0
    vocab_size: int = 0
    embedding_size: int = 0  # ALBERT/ELECTRA-small factorise embeddings; 0 or hidden: none
    num_labels: int = 2
    pooler_hidden_size: int = 0  # DeBERTa's pooler; 0: hidden_size
    local_layers: int = 0
    local_attention: int = 0
    relative_span: int = 0
    pos_att_type: tuple[str, ...] = ()
    share_att_key: bool = False
    conv_kernel_size: int = 0
    conv_groups: int = 1


def _get(config: Any, name: str, default: Any = None) -> Any:
    """A field of a config dict or a config object (absent or None -> default)."""
    value = config.get(name) if isinstance(config, dict) else getattr(config, name, None)
    return default if value is None else value


def _first_int(config: Any, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = _get(config, name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def _local_layers(config: Any, layers: int) -> int:
    """ModernBERT's sliding-window layers: `layer_types`, else every layer but each n-th."""
    types = _get(config, "layer_types")
    if isinstance(types, (list, tuple)) and types:
        return sum(1 for t in types if t == "sliding_attention")
    every = int(_get(config, "global_attn_every_n_layers", 3))
    return sum(1 for i in range(layers) if every > 0 and i % every)


def _num_labels(config: Any) -> int:
    labels = _get(config, "id2label")
    if isinstance(labels, dict) and labels:
        return len(labels)
    return int(_get(config, "num_labels", 2))


def _relative_fields(config: Any) -> dict[str, Any]:
    """DeBERTa-v2/v3's disentangled attention: span, c2p/p2c, shared projections, conv."""
    if not _get(config, "relative_attention", False):
        return {}
    span = int(_get(config, "max_relative_positions", -1))
    if span < 1:
        span = int(_get(config, "max_position_embeddings", 512))
    buckets = int(_get(config, "position_buckets", -1))
    kinds = _get(config, "pos_att_type", ())
    if isinstance(kinds, str):
        kinds = [k.strip() for k in kinds.lower().split("|")]
    return {"relative_span": buckets if buckets > 0 else span,
            "pos_att_type": tuple(k for k in kinds if k in ("c2p", "p2c")),
            "share_att_key": bool(_get(config, "share_att_key", False))}


def model_type_of(config: Any) -> str:
    """`config.json`'s `model_type`, normalised ("deberta_v2" -> "deberta-v2"); "" if absent."""
    return str(_get(config, "model_type", "")).lower().replace("_", "-")


def encoder_shape(config: Any) -> EncoderShape | None:
    """The shape from a `config.json` dict or a transformers config; None without layers/hidden.

    Covers the naming of BERT/RoBERTa/ALBERT/ELECTRA/ModernBERT/DeBERTa (hidden_size,
    num_hidden_layers, intermediate_size), DistilBERT (dim, n_layers, hidden_dim) and XLNet
    (d_model, n_layer, d_inner).
    """
    layers = _first_int(config, ("num_hidden_layers", "n_layers", "n_layer", "num_layers"))
    hidden = _first_int(config, ("hidden_size", "dim", "d_model", "n_embd"))
    if layers is None or hidden is None:
        return None
    inner = _first_int(config, ("intermediate_size", "hidden_dim", "d_inner", "n_inner"))
    model_type = model_type_of(config)
    extra: dict[str, Any] = _relative_fields(config) if model_type == "deberta-v2" else {}
    if model_type == "modernbert":
        extra = {"local_layers": _local_layers(config, layers),
                 "local_attention": int(_get(config, "local_attention", 128))}
    if model_type == "deberta-v2" and int(_get(config, "conv_kernel_size", 0)) > 0:
        extra.update(conv_kernel_size=int(_get(config, "conv_kernel_size")),
                     conv_groups=int(_get(config, "conv_groups", 1)))
    return EncoderShape(
        model_type=model_type, num_layers=layers, hidden_size=hidden,
        intermediate_size=inner if inner is not None else 4 * hidden,
        num_heads=_first_int(config, ("num_attention_heads", "n_heads", "n_head")) or 0,
        vocab_size=_first_int(config, ("vocab_size",)) or 0,
        embedding_size=_first_int(config, ("embedding_size",)) or 0,
        num_labels=_num_labels(config),
        pooler_hidden_size=_first_int(config, ("pooler_hidden_size",)) or 0, **extra)


@dataclass(frozen=True)
class ModelInfo:
    """A table model: its names, casing, parameter count and published config values.

    ALBERT shares its layers' weights, so its parameter count (12M) says nothing about its
    compute, which is BERT-base's; always count FLOPs from the shape, not from `params`.
    """

    hub_name: str  # current Hub id, e.g. "google-bert/bert-base-cased"
    short_name: str  # the 2020 name the thesis logged, e.g. "bert-base-cased"
    cased: bool
    params: int  # total parameter count of the base model
    config: dict[str, Any] = field(hash=False, compare=False)  # published config.json values
    group: str = ""  # the sweep group; "" -> "cased"/"uncased" by the vocabulary

    @property
    def sweep_group(self) -> str:
        """The BERT-era models group by casing; ModernBERT and DeBERTa-v3 form "modern" (cased)
        so the BERT-era sweeps stay as they are."""
        return self.group or ("cased" if self.cased else "uncased")

    @property
    def shape(self) -> EncoderShape:
        shape = encoder_shape(self.config)
        assert shape is not None, self.hub_name  # every table entry names layers and hidden
        return shape

    @property
    def num_layers(self) -> int:
        return self.shape.num_layers

    @property
    def hidden_size(self) -> int:
        return self.shape.hidden_size

    @property
    def intermediate_size(self) -> int:
        return self.shape.intermediate_size

    @property
    def num_heads(self) -> int:
        return self.shape.num_heads

    @property
    def vocab_size(self) -> int:
        return self.shape.vocab_size

    @property
    def embedding_size(self) -> int:
        return self.shape.embedding_size or self.shape.hidden_size

    @property
    def matmul_params_per_token(self) -> int:
        """Weights every token passes through once per forward, BERT's layout (the cost model's
        feature; `timing_trainer.results.flops` counts each architecture exactly)."""
        per_layer = 4 * self.hidden_size**2 + 2 * self.hidden_size * self.intermediate_size
        return self.num_layers * per_layer


def _bert_like(model_type: str, layers: int, vocab: int, embed: int = 768) -> dict[str, Any]:
    return {"model_type": model_type, "num_hidden_layers": layers, "hidden_size": 768,
            "intermediate_size": 3072, "num_attention_heads": 12, "vocab_size": vocab,
            "embedding_size": embed}


_XLNET_BASE = {"model_type": "xlnet", "n_layer": 12, "d_model": 768, "d_inner": 3072,
               "n_head": 12, "vocab_size": 32000}
_MODERNBERT = {"model_type": "modernbert", "vocab_size": 50368, "global_attn_every_n_layers": 3,
               "local_attention": 128, "max_position_embeddings": 8192}
_DEBERTA_V3 = {"model_type": "deberta-v2", "vocab_size": 128100, "max_position_embeddings": 512,
               "relative_attention": True, "position_buckets": 256, "max_relative_positions": -1,
               "pos_att_type": ["p2c", "c2p"], "share_att_key": True,
               "norm_rel_ebd": "layer_norm", "position_biased_input": False}


def _sized(base: dict[str, Any], layers: int, hidden: int, inner: int, heads: int) -> dict[str, Any]:
    return {**base, "num_hidden_layers": layers, "hidden_size": hidden,
            "intermediate_size": inner, "num_attention_heads": heads}


MODELS: dict[str, ModelInfo] = {
    m.hub_name: m
    for m in (
        ModelInfo("google-bert/bert-base-cased", "bert-base-cased", True, 108_310_272, _bert_like("bert", 12, 28996)),
        ModelInfo("distilbert/distilbert-base-cased", "distilbert-base-cased", True, 65_190_912, _bert_like("distilbert", 6, 28996)),
        ModelInfo("FacebookAI/roberta-base", "roberta-base", True, 124_645_632, _bert_like("roberta", 12, 50265)),
        ModelInfo("xlnet/xlnet-base-cased", "xlnet-base-cased", True, 116_718_336, _XLNET_BASE),
        ModelInfo("google-bert/bert-base-uncased", "bert-base-uncased", False, 109_482_240, _bert_like("bert", 12, 30522)),
        ModelInfo("distilbert/distilbert-base-uncased", "distilbert-base-uncased", False, 66_362_880, _bert_like("distilbert", 6, 30522)),
        ModelInfo("albert/albert-base-v1", "albert-base-v1", False, 11_683_584, _bert_like("albert", 12, 30000, 128)),
        ModelInfo("answerdotai/ModernBERT-base", "ModernBERT-base", True, 149_014_272, _sized(_MODERNBERT, 22, 768, 1152, 12), "modern"),
        ModelInfo("answerdotai/ModernBERT-large", "ModernBERT-large", True, 394_781_696, _sized(_MODERNBERT, 28, 1024, 2624, 16), "modern"),
        ModelInfo("microsoft/deberta-v3-base", "deberta-v3-base", True, 183_831_552, _sized(_DEBERTA_V3, 12, 768, 3072, 12), "modern"),
        ModelInfo("microsoft/deberta-v3-large", "deberta-v3-large", True, 434_012_160, _sized(_DEBERTA_V3, 24, 1024, 4096, 16), "modern"),
    )
}

MODEL_GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(m.hub_name for m in MODELS.values() if m.sweep_group == group)
    for group in ("cased", "uncased", "modern")
}

_ALIASES = {m.short_name: m.hub_name for m in MODELS.values()}


def lookup_model(name: str) -> ModelInfo | None:
    """The table entry for a Hub id or a short (2020) name, or None when not in the table.

    Local paths are matched by their last component (`/data/models/bert-base-cased`).
    """
    name = str(name).strip().rstrip("/")
    if name in MODELS:
        return MODELS[name]
    base = name.rsplit("/", 1)[-1]
    hub = _ALIASES.get(base)
    return MODELS[hub] if hub else None


def short_model_name(name: str) -> str:
    """The thesis-style short name of a model (`bert-base-cased`), or the name's last component."""
    info = lookup_model(name)
    return info.short_name if info else str(name).strip().rstrip("/").rsplit("/", 1)[-1]
