"""A model's shape for the cost model: from a local folder, the model table, or the Hub cache.

`predict` prices a run by its FLOPs, so it needs each model's shape. The model table
(`timing_trainer.models`) holds the sweep models; any other model is read from its
`config.json`, plain JSON (no transformers import: the cost model runs where torch cannot be
imported): a local folder the sweep names (what will actually run, so it comes first), then the
table, then the Hugging Face Hub cache (`$HF_HUB_CACHE`, `$HF_HOME/hub` or
`~/.cache/huggingface/hub`, `models--ORG--NAME/snapshots/REV/config.json`: what any earlier
download of the model left there). A shape read from a `config.json` says where
(`ModelShape.source`), so the estimate can say it fell back; a model found nowhere has no shape
and its FLOPs are unknown.

A run of the GLUE program records its model's config (`model_config_json`) and where the model
was (`model_resolved`: an absolute folder or a Hub id) in its results: `run_shape` reads that
first, so a fit does not depend on the folder `analyze` or `predict` runs in (a run's
`model_name_or_path` is often relative to the folder its sweep started in). Older runs fall
back to the folder lookup above, and then to the model's relative path resolved against the
folders above the run's recorded `output_dir` (where the sweep started is one of them).

FLOPs per token: the BERT-era families the thesis measured (BERT, DistilBERT, RoBERTa, ALBERT,
XLNet) keep the cost model's own terms (features.py, XLNet's relative attention included); any
other architecture takes its forward FLOPs per token from `results.flops` (the formulas the
runs' MFU uses), its weights' part from its shape (a gated MLP, as ModernBERT's, passes every
token through three MLP matrices, not two) and the rest as attention.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from timing_trainer.costmodel.cells import missing
from timing_trainer.models import lookup_model
from timing_trainer.results.flops import forward_flops_per_token

TABLE = "model table"
RECORDED = "recorded in the run's results"
# Architecture families by name, most specific first (distilbert before bert).
_FAMILIES = ("distilbert", "roberta", "xlm-roberta", "albert", "modernbert", "deberta-v2",
             "deberta-v3", "deberta", "electra", "xlnet", "bert", "gpt2", "t5", "bart",
             "llama", "mistral", "qwen", "opt")
# Names of one implementation: DeBERTa-v3's `config.json` says `model_type: deberta-v2`.
_SAME_FAMILY = {"deberta-v3": "deberta-v2"}
# The families the cost model's own FLOPs terms were written and checked for.
CLASSIC_FAMILIES = frozenset({"bert", "distilbert", "roberta", "albert", "xlnet"})
# Families whose MLP is gated (input projection to 2 x intermediate, then down): 3 H I weights.
_GATED_MLP = frozenset({"modernbert", "llama", "mistral", "qwen", "qwen2", "gemma"})


@dataclass(frozen=True)
class ModelShape:
    """What the cost features need to know about a model: its arithmetic, its weights, and
    where that was read (`source`: the model table, or a `config.json`'s path)."""

    name: str
    architecture: str  # family of the implementation ("bert", "xlnet"): its kernels' efficiency
    num_layers: int
    hidden_size: int
    intermediate_size: int
    params: int  # all parameters (the optimizer's work), shared weights counted once
    source: str = TABLE
    # The config's keys (for results.flops's per-architecture formulas), as sorted pairs.
    config: tuple[tuple[str, Any], ...] = field(default=(), compare=False, repr=False)

    @property
    def from_table(self) -> bool:
        return self.source == TABLE

    @property
    def attention_factor(self) -> float:
        """Attention score matmuls relative to BERT's (XLNet: content + relative position)."""
        return 2.0 if self.architecture == "xlnet" else 1.0

    @property
    def matmul_params_per_token(self) -> int:
        """Weights a token passes through per forward (ALBERT: every layer, shared or not)."""
        mlp = 3 if self.architecture in _GATED_MLP else 2
        per_layer = 4 * self.hidden_size**2 + mlp * self.hidden_size * self.intermediate_size
        if self.architecture == "xlnet":  # projection of the relative position encodings
            per_layer += 2 * self.hidden_size**2
        return self.num_layers * per_layer

    def attention_flops_per_token(self, length: float) -> float:
        """Forward FLOPs per token beyond the weights' (scores, weighted sums, relative
        positions) at sequence length `length`: the cost model's own term for the BERT-era
        families, else results.flops's total minus the weights' part (never below zero)."""
        bert_like = 4.0 * self.num_layers * length * self.hidden_size * self.attention_factor
        if self.architecture in CLASSIC_FAMILIES or not length > 0:
            return bert_like
        total = forward_flops_per_token(dict(self.config), int(length))
        if total is None:
            return bert_like
        return max(0.0, float(total) - 2.0 * self.matmul_params_per_token)


def architecture_of(name: str, model_type: str | None = None) -> str:
    """The implementation family: `config.json`'s `model_type`, else read from the name."""
    if model_type:
        family = str(model_type).lower().replace("_", "-")
        return _SAME_FAMILY.get(family, family)
    base = str(name).strip().rstrip("/").rsplit("/", 1)[-1].lower()
    for family in _FAMILIES:
        if base.startswith(family):
            return _SAME_FAMILY.get(family, family)
    return re.split(r"[-_.]", base)[0] or base


def shape_from_config(name: str, config: dict[str, Any], source: str = TABLE
                      ) -> ModelShape | None:
    """A shape from a Hugging Face `config.json` (plain JSON; no transformers import)."""
    get = config.get
    layers = get("num_hidden_layers") or get("n_layer") or get("n_layers")
    hidden = get("hidden_size") or get("d_model") or get("dim") or get("n_embd")
    inter = get("intermediate_size") or get("d_inner") or get("hidden_dim") or get("n_inner")
    if not _positive(layers) or not _positive(hidden):
        return None
    inter = inter if _positive(inter) else 4 * hidden
    arch = architecture_of(name, get("model_type"))
    flops_config = {**config, "model_type": arch}
    shape = ModelShape(name, arch, int(layers), int(hidden), int(inter), 0, source,
                       tuple(sorted(flops_config.items())))
    return dataclasses.replace(shape, params=_params(shape, config))


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def _params(shape: ModelShape, config: dict[str, Any]) -> int:
    """Embeddings, absolute positions (none with rotary or relative-only positions), layers
    (ALBERT shares them within groups)."""
    get = config.get
    hidden, layers = shape.hidden_size, shape.num_layers
    vocab = int(get("vocab_size") or 0)
    embed = int(get("embedding_size") or hidden)
    rotary = any("rope" in str(key) for key in config)
    absolute = get("position_biased_input", True) is not False and not rotary
    positions = int(get("max_position_embeddings") or 0) if absolute else 0
    groups = int(get("num_hidden_groups") or layers)
    params = vocab * embed + positions * embed + groups * shape.matmul_params_per_token // layers
    return params + (embed * hidden if embed != hidden else 0)


def _table_shape(name: str) -> ModelShape | None:
    """The model table's entry as a shape (its published config values passed on to the FLOPs
    formulas)."""
    info = lookup_model(name)
    if info is None:
        return None
    config = dict(getattr(info, "config", {}))
    arch = architecture_of(info.hub_name, config.get("model_type"))
    config = {"num_hidden_layers": info.num_layers, "hidden_size": info.hidden_size,
              "intermediate_size": info.intermediate_size, **config, "model_type": arch}
    return ModelShape(info.short_name, arch, info.num_layers, info.hidden_size,
                      info.intermediate_size, info.params, TABLE, tuple(sorted(config.items())))


def hub_cache_dir() -> Path:
    """Where the Hugging Face Hub keeps downloaded models (its own environment variables)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "huggingface" / "hub"


def hub_config_file(name: str) -> Path | None:
    """The cached `config.json` of Hub id ORG/NAME: the snapshot `refs/main` names, else the
    newest; None when the model was never downloaded here."""
    parts = str(name).strip().strip("/").split("/")
    if len(parts) != 2 or not all(parts) or ".." in parts:
        return None
    folder = hub_cache_dir() / f"models--{parts[0]}--{parts[1]}"
    try:
        ref = (folder / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        ref = ""
    if ref and (folder / "snapshots" / ref / "config.json").is_file():
        return folder / "snapshots" / ref / "config.json"
    found = sorted(folder.glob("snapshots/*/config.json"), key=_mtime, reverse=True)
    return found[0] if found else None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _read_config(name: str, path: Path) -> ModelShape | None:
    """The shape a `config.json` gives, or None (missing, unreadable, or no shape in it)."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return shape_from_config(name, config, str(path)) if isinstance(config, dict) else None


def model_shape(name: Any, search_dirs: tuple[Path, ...] = ()) -> ModelShape | None:
    """The shape of a model by Hub id, short name or local folder; None when nothing says it.

    Order: a local folder's `config.json` (the path itself, or under one of `search_dirs`),
    the model table, the Hub cache's `config.json` (see the module docstring).
    """
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return None
    name = str(name)
    for folder in [Path(name).expanduser()] + [Path(d) / name for d in search_dirs]:
        if (folder / "config.json").is_file():
            shape = _read_config(name, folder / "config.json")
            if shape is not None:
                return shape
    shape = _table_shape(name)
    if shape is not None:
        return shape
    cached = hub_config_file(name)
    return _read_config(name, cached) if cached is not None else None


def recorded_shape(name: str, config_json: Any) -> ModelShape | None:
    """The shape of the config a run recorded (JSON text of its `config.json` keys), named
    `name`; the model table's entry instead where the table holds `name` at the same
    dimensions, so that a recorded run and a planned run of one table model share one key and
    one parameter count. None for text that is no config."""
    try:
        config = json.loads(str(config_json))
    except ValueError:
        return None
    shape = shape_from_config(name, config, RECORDED) if isinstance(config, dict) else None
    table = _table_shape(name)
    if shape is not None and table is not None and _dimensions(table) == _dimensions(shape):
        return table
    return shape


def _dimensions(shape: ModelShape) -> tuple:
    return (shape.architecture, shape.num_layers, shape.hidden_size, shape.intermediate_size)


def run_shape(name: str, *, recorded: Any = None, resolved: Any = None, output_dir: Any = None,
              search_dirs: tuple[Path, ...] = ()) -> ModelShape | None:
    """A measured run's model shape, named `name` (its `model_name_or_path`): what the run
    recorded, else `model_shape` (a folder from here, the table, the Hub cache), else its
    recorded absolute folder or Hub id, else `name` under a folder above its `output_dir`."""
    if not missing(recorded):
        shape = recorded_shape(name, recorded)
        if shape is not None:
            return shape
    shape = model_shape(name, search_dirs)
    if shape is None and not missing(resolved) and str(resolved) != name:
        found = model_shape(str(resolved))
        shape = dataclasses.replace(found, name=name) if found is not None else None
    if shape is None and not missing(output_dir) and not Path(name).is_absolute():
        above = Path(str(output_dir)).expanduser()
        if above.is_absolute():
            shape = model_shape(name, tuple(above.parents))
    return shape
