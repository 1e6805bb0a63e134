"""FLOPs per token, datasheet peaks and MFU."""

import pytest

from timing_trainer.models import lookup_model
from timing_trainer.results.flops import (
    PEAK_TFLOPS,
    flops_unknown_reason,
    forward_flops_per_token,
    gpu_family,
    mfu,
    peak_tflops,
    training_flops_per_token,
)

BERT_BASE = {"model_type": "bert", "num_hidden_layers": 12, "hidden_size": 768,
             "intermediate_size": 3072}
HEAD = 2 * 768 * 768 + 2 * 768 * 2  # pooler and two-label classifier, once a sequence


def test_bert_base_forward_flops_match_the_model_table():
    info = lookup_model("bert-base-cased")
    seq = 128
    expected = 2 * info.matmul_params_per_token + 2 * 2 * 12 * seq * 768 + HEAD / seq
    assert forward_flops_per_token(BERT_BASE, seq) == pytest.approx(expected)
    assert forward_flops_per_token(info.config, seq) == pytest.approx(expected)
    # ~85M matmul weights: about 170 MFLOPs a token plus attention.
    assert 1.7e8 < expected < 1.9e8
    assert training_flops_per_token(BERT_BASE, seq) == pytest.approx(3 * expected)


def test_attention_term_grows_with_sequence_length():
    assert forward_flops_per_token(BERT_BASE, 512) > forward_flops_per_token(BERT_BASE, 128)


def test_config_naming_of_other_architectures():
    class DistilConfig:  # DistilBERT names its sizes differently
        model_type = "distilbert"
        n_layers = 6
        dim = 768
        hidden_dim = 3072

    bert_like = {**BERT_BASE, "num_hidden_layers": 6}
    assert forward_flops_per_token(DistilConfig(), 128) == forward_flops_per_token(bert_like, 128)
    assert forward_flops_per_token({"vocab_size": 10}, 128) is None
    assert "layer count and hidden size" in flops_unknown_reason({"vocab_size": 10})


def test_an_unknown_architecture_is_null_with_its_reason_not_a_bert_guess():
    xlnet = lookup_model("xlnet-base-cased").config
    assert forward_flops_per_token(xlnet, 128) is None
    assert training_flops_per_token(xlnet, 128) is None
    assert "no FLOPs formula for architecture 'xlnet'" in flops_unknown_reason(xlnet)
    assert "(no model_type)" in flops_unknown_reason({"hidden_size": 64, "num_hidden_layers": 2})
    assert flops_unknown_reason(BERT_BASE) is None


def test_transformers_config_object():
    from transformers import BertConfig

    config = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64)
    as_dict = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
               "intermediate_size": 64}
    assert forward_flops_per_token(config, 64) == forward_flops_per_token(as_dict, 64)


def test_deberta_counts_its_batch_and_modernbert_its_gated_mlp():
    deberta = lookup_model("microsoft/deberta-v3-base").config
    # the relative embeddings' projections run once a batch: per token they shrink with it
    assert forward_flops_per_token(deberta, 128, 1) > 1.5 * forward_flops_per_token(deberta, 128, 32)
    bert = forward_flops_per_token(BERT_BASE, 128)
    assert forward_flops_per_token(deberta, 128, 1) / bert == pytest.approx(1 / 0.57, rel=0.02)
    modern = lookup_model("answerdotai/ModernBERT-base").config
    h, i = 768, 1152
    per_layer = 2 * (4 * h * h + 3 * h * i) + 4 * 128 * h  # GeGLU: Wi is H x 2I
    assert forward_flops_per_token(modern, 128) == pytest.approx(22 * per_layer, rel=1e-3)


@pytest.mark.parametrize("name,family", [
    ("NVIDIA H100 80GB HBM3", "H100 SXM"),
    ("NVIDIA H100 PCIe", "H100 PCIe"),
    ("NVIDIA H200", "H200"),
    ("NVIDIA A100-SXM4-80GB", "A100"),
    ("Tesla V100-SXM2-16GB", "V100"),
    ("Tesla T4", "T4"),
    ("NVIDIA L4", "L4"),
    ("NVIDIA L40S", "L40S"),
    ("NVIDIA GeForce GTX 1080", None),
    (None, None),
])
def test_gpu_family(name, family):
    assert gpu_family(name) == family


def test_peak_lookup_by_precision():
    assert peak_tflops("NVIDIA H100 80GB HBM3", "bf16") == 989.4
    assert peak_tflops("NVIDIA A100-SXM4-40GB", "fp32") == 19.5
    assert peak_tflops("Tesla T4", "bf16") is None  # T4 has no bf16 tensor cores
    assert peak_tflops("Tesla T4", None) is None
    assert peak_tflops(None, "fp32") is None
    for peaks in PEAK_TFLOPS.values():
        assert peaks["fp32"] < peaks["fp16"]


def test_mfu():
    # 1e15 FLOPs in 2 s on a 1000 TFLOP/s device: 50 %.
    assert mfu(1e15, 2.0, 1000.0) == pytest.approx(0.5)
    assert mfu(1e15, 2.0, 1000.0, n_devices=2) == pytest.approx(0.25)
    assert mfu(1e15, 2.0, None) is None
    assert mfu(None, 2.0, 1000.0) is None
    assert mfu(1e15, 0.0, 1000.0) is None
