"""The per-architecture FLOPs count against torch's own counter (FlopCounterMode) on models
built locally from configs: tiny ones with weights at two lengths, the table's real sizes on the
meta device (no memory, no weights), full fine-tuning and LoRA through peft."""

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import (
    AlbertConfig,
    AutoModelForSequenceClassification,
    BertConfig,
    DebertaV2Config,
    DistilBertConfig,
    ElectraConfig,
    ModernBertConfig,
    RobertaConfig,
)

from timing_trainer.models import MODELS, encoder_shape
from timing_trainer.results.flops import LoraSpec, count_flops

SMALL = {"hidden_size": 32, "num_hidden_layers": 3, "num_attention_heads": 2,
         "intermediate_size": 48, "vocab_size": 100, "max_position_embeddings": 512}
TOKEN_IDS = {"pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2, "cls_token_id": 1,
             "sep_token_id": 2}
TINY = {
    "bert": lambda: BertConfig(**SMALL),
    "roberta": lambda: RobertaConfig(**SMALL),
    "distilbert": lambda: DistilBertConfig(dim=32, n_layers=3, n_heads=2, hidden_dim=48,
                                           vocab_size=100),
    "albert": lambda: AlbertConfig(embedding_size=16, **SMALL),
    "electra": lambda: ElectraConfig(embedding_size=16, **SMALL),
    # window 16 < both lengths: every third layer global, the others local
    "modernbert": lambda: ModernBertConfig(local_attention=16, global_attn_every_n_layers=3,
                                           **TOKEN_IDS, **{**SMALL, "num_hidden_layers": 4}),
    "deberta-v3": lambda: DebertaV2Config(relative_attention=True, position_buckets=32,
                                          pos_att_type="p2c|c2p", share_att_key=True,
                                          norm_rel_ebd="layer_norm", **SMALL),
    "deberta-v2-conv": lambda: DebertaV2Config(relative_attention=True, max_relative_positions=48,
                                               pos_att_type="c2p", share_att_key=False,
                                               conv_kernel_size=3, **SMALL),
}
LENGTHS = ((2, 64), (1, 256))  # (batch, length): DeBERTa's count depends on both


def _counted(model, batch, length, train, device="cpu"):
    """FLOPs per token torch counts for one forward (and backward) of a classification batch."""
    ids = torch.randint(0, 100, (batch, length), device=device)
    mask = torch.ones(batch, length, dtype=torch.long, device=device)
    labels = torch.zeros(batch, dtype=torch.long, device=device)
    with FlopCounterMode(display=False) as counter:
        out = model(input_ids=ids, attention_mask=mask, labels=labels)
        if train:
            out.loss.backward()
    return counter.get_total_flops() / (batch * length)


def _eager(config):
    return AutoModelForSequenceClassification.from_config(config, attn_implementation="eager")


@pytest.mark.parametrize("name", TINY)
def test_tiny_configs_match_the_counter_at_two_lengths(name):
    torch.manual_seed(0)
    model = _eager(TINY[name]())
    for batch, length in LENGTHS:
        forward, training = count_flops(model.config, length, batch)
        assert forward == pytest.approx(_counted(model, batch, length, False), rel=0.03)
        assert training == pytest.approx(_counted(model, batch, length, True), rel=0.03)
        assert training == pytest.approx(3 * forward)


def test_the_config_dict_counts_what_the_config_object_counts():
    config = TINY["deberta-v3"]()
    assert count_flops(config.to_dict(), 128, 4) == count_flops(config, 128, 4)
    assert encoder_shape(config.to_dict()) == encoder_shape(config)


def test_modernbert_window_counts_only_under_flash_attention():
    config = TINY["modernbert"]()
    eager = count_flops(config, 256, 1, attn_implementation="eager")[0]
    flash = count_flops(config, 256, 1, attn_implementation="flash_attention_2")[0]
    short_eager = count_flops(config, 8, 1, attn_implementation="eager")[0]
    short_flash = count_flops(config, 8, 1, attn_implementation="flash_attention_2")[0]
    assert flash < eager  # the window skips scores only where the kernel skips them
    assert short_flash == short_eager  # 8 tokens within 8 of each other: nothing skipped


LORA_TARGETS = {"bert": ["query", "value"], "modernbert": ["Wqkv"],
                "deberta-v3": ["query_proj", "value_proj"], "distilbert": ["q_lin", "v_lin"]}


@pytest.mark.parametrize("name", LORA_TARGETS)
def test_lora_training_matches_the_counter(name):
    from peft import LoraConfig, TaskType, get_peft_model

    torch.manual_seed(0)
    targets = LORA_TARGETS[name]
    model = get_peft_model(_eager(TINY[name]()),
                           LoraConfig(task_type=TaskType.SEQ_CLS, r=4, target_modules=targets))
    spec = LoraSpec(4, tuple(targets))
    for batch, length in LENGTHS:
        forward, training = count_flops(model.config, length, batch, spec)
        assert forward == pytest.approx(_counted(model, batch, length, False), rel=0.03)
        assert training == pytest.approx(_counted(model, batch, length, True), rel=0.03)
        assert 2 * forward < training < 3 * forward  # no weight gradients for frozen matrices


def _real_config(info):
    from transformers import AutoConfig

    values = {k: v for k, v in info.config.items() if k not in ("model_type", "embedding_size")}
    if info.config["model_type"] == "distilbert":
        values = {"dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072,
                  "vocab_size": info.config["vocab_size"]}
    if info.config["model_type"] == "albert":
        values["embedding_size"] = 128
    if info.config["model_type"] == "modernbert":
        values.update(TOKEN_IDS)
    if info.config["model_type"] == "deberta-v2":
        values["pad_token_id"] = None  # its padding warning reads the ids, which meta lacks
    return AutoConfig.for_model(info.config["model_type"], **values)


COUNTED_TABLE = [name for name, info in MODELS.items() if info.config["model_type"] != "xlnet"]


def _meta_counted(model, batch, length, train):
    """The encoder alone on the meta device: no mask and no labels (their checks read values,
    which meta tensors have not); its head, once a sequence, is under 0.01 % at these sizes."""
    ids = torch.zeros(batch, length, dtype=torch.long, device="meta")
    with FlopCounterMode(display=False) as counter:
        out = model(input_ids=ids)
        if train:
            out.last_hidden_state.sum().backward()
    return counter.get_total_flops() / (batch * length)


@pytest.mark.slow
@pytest.mark.parametrize("hub_name", COUNTED_TABLE)
def test_table_models_at_real_size_on_the_meta_device(hub_name):
    from transformers import AutoModel

    info = MODELS[hub_name]
    with torch.device("meta"):
        model = AutoModel.from_config(_real_config(info), attn_implementation="eager")
    for batch, length in ((1, 128), (2, 512)):
        forward, training = count_flops(info.config, length, batch)
        assert forward == pytest.approx(_meta_counted(model, batch, length, False), rel=0.03)
        assert training == pytest.approx(_meta_counted(model, batch, length, True), rel=0.03)
