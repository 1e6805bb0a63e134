"""The model table: the sweep models' Hub names, casing and architecture, torch-free.

The sweep generator groups models by the casing of their vocabulary; the cost model and the FLOPs
estimate need each model's shape when its config is not available locally (an analysis laptop has
no Hub access and no weights). Figures are from the models' published `config.json` files.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    """Shape of a transformer encoder, enough to estimate its arithmetic per token.

    ALBERT shares its layers' weights, so its parameter count (12M) says nothing about its
    compute, which is BERT-base's; always estimate FLOPs from the shape, not from `params`.
    """

    hub_name: str  # current Hub id, e.g. "google-bert/bert-base-cased"
    short_name: str  # the 2020 name the thesis logged, e.g. "bert-base-cased"
    cased: bool
    num_layers: int
    hidden_size: int
    intermediate_size: int
    num_heads: int
    vocab_size: int
    embedding_size: int  # ALBERT factorises embeddings (128); others = hidden_size
    params: int  # total parameter count of the base model

    @property
    def matmul_params_per_token(self) -> int:
        """Weights every token passes through once per forward (attention and MLP projections).

        Per layer: Q, K, V and output projections (4 H^2) and the two MLP matrices (2 H I).
        Embedding lookups cost no multiply-adds; the classifier head is negligible.
        """
        per_layer = 4 * self.hidden_size**2 + 2 * self.hidden_size * self.intermediate_size
        return self.num_layers * per_layer


MODELS: dict[str, ModelInfo] = {
    m.hub_name: m
    for m in (
        ModelInfo("google-bert/bert-base-cased", "bert-base-cased", True, 12, 768, 3072, 12, 28996, 768, 108_310_272),
        ModelInfo("distilbert/distilbert-base-cased", "distilbert-base-cased", True, 6, 768, 3072, 12, 28996, 768, 65_190_912),
        ModelInfo("FacebookAI/roberta-base", "roberta-base", True, 12, 768, 3072, 12, 50265, 768, 124_645_632),
        ModelInfo("xlnet/xlnet-base-cased", "xlnet-base-cased", True, 12, 768, 3072, 12, 32000, 768, 116_718_336),
        ModelInfo("google-bert/bert-base-uncased", "bert-base-uncased", False, 12, 768, 3072, 12, 30522, 768, 109_482_240),
        ModelInfo("distilbert/distilbert-base-uncased", "distilbert-base-uncased", False, 6, 768, 3072, 12, 30522, 768, 66_362_880),
        ModelInfo("albert/albert-base-v1", "albert-base-v1", False, 12, 768, 3072, 12, 30000, 128, 11_683_584),
    )
}

MODEL_GROUPS: dict[str, tuple[str, ...]] = {
    "cased": tuple(m.hub_name for m in MODELS.values() if m.cased),
    "uncased": tuple(m.hub_name for m in MODELS.values() if not m.cased),
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
