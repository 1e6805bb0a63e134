"""Features of the cost model: shapes, steps, FLOPs and platforms from first principles."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from helpers.costmodel_runs import feature_row

from timing_trainer.costmodel.features import (
    architecture_of,
    platform_key,
    run_features,
    step_terms,
)
from timing_trainer.costmodel.shapes import model_shape

_row = feature_row


def test_bert_base_linear_flops_by_hand():
    shape = model_shape("google-bert/bert-base-uncased")
    terms = step_terms(shape, 128, 8, training=True)
    per_token = 12 * (4 * 768**2 + 2 * 768 * 3072)  # 85M weights a token passes through
    assert terms["linear_tflop"] == pytest.approx(6 * per_token * 128 * 8 / 1e12)
    assert terms["attention_tflop"] == pytest.approx(6 * 2 * 12 * 128**2 * 768 * 8 / 1e12)
    inference = step_terms(shape, 128, 8, training=False)
    assert inference["linear_tflop"] == pytest.approx(terms["linear_tflop"] / 3)


def test_albert_computes_like_bert_but_has_few_parameters():
    albert, bert = model_shape("albert-base-v1"), model_shape("bert-base-uncased")
    assert albert.matmul_params_per_token == bert.matmul_params_per_token
    assert albert.params < bert.params / 5
    assert albert.architecture == "albert" and bert.architecture == "bert"


def test_xlnet_relative_attention_costs_more_than_bert():
    xlnet, bert = model_shape("xlnet/xlnet-base-cased"), model_shape("bert-base-cased")
    x, b = step_terms(xlnet, 512, 8, True), step_terms(bert, 512, 8, True)
    assert x["attention_tflop"] == pytest.approx(2 * b["attention_tflop"])
    assert x["linear_tflop"] > b["linear_tflop"]


def test_architecture_from_name_and_config():
    assert architecture_of("distilbert/distilbert-base-cased") == "distilbert"
    assert architecture_of("FacebookAI/roberta-base") == "roberta"
    assert architecture_of("whatever", model_type="bert") == "bert"


def test_local_config_json_gives_the_shape(tmp_path):
    folder = tmp_path / "tiny-albert"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "albert", "num_hidden_layers": 4, "hidden_size": 32,
        "intermediate_size": 64, "vocab_size": 100, "embedding_size": 16,
        "max_position_embeddings": 64, "num_hidden_groups": 1}))
    shape = model_shape(str(folder))
    assert (shape.num_layers, shape.hidden_size, shape.architecture) == (4, 32, "albert")
    per_layer = 4 * 32**2 + 2 * 32 * 64
    assert shape.params == 100 * 16 + 64 * 16 + 1 * per_layer + 16 * 32  # shared layers once
    assert shape.matmul_params_per_token == 4 * per_layer


def test_steps_round_up_per_epoch_and_count_devices():
    table = pd.DataFrame([_row(batch_size=32, n_train=2490, num_train_epochs=2.0),
                          _row(batch_size=32, n_train=2490, world_size=2)])
    feats = run_features(table, "finetuning")
    assert feats["steps"].tolist() == [2 * math.ceil(2490 / 32), math.ceil(2490 / 64)]
    assert feats["platform"].tolist() == ["cpu / fp32 / x1", "cpu / fp32 / x2"]


def test_inference_counts_one_batch_of_the_eval_batch_size():
    feats = run_features(pd.DataFrame([_row()]), "inference")
    assert feats.loc[0, "steps"] == 1
    assert feats.loc[0, "shape_key"] == "L128 b16"


def test_unknown_model_has_no_shape_and_task_size_falls_back_to_table():
    table = pd.DataFrame([_row(model="mystery-7b", model_name_or_path="/nowhere/mystery-7b",
                               n_train=None)])
    feats = run_features(table, "finetuning")
    assert not feats.loc[0, "has_shape"]
    assert feats.loc[0, "steps"] == math.ceil(2490 / 8)  # RTE's train size from the task table


def test_platform_names_the_gpu():
    table = pd.DataFrame([_row(device="cuda", gpu_name="NVIDIA H100 80GB HBM3",
                               precision="bf16")])
    assert run_features(table, "finetuning").loc[0, "platform"] == platform_key(
        "NVIDIA H100 80GB HBM3", "bf16", 1)


def test_cost_model_never_imports_torch_or_transformers():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from timing_trainer.commands import predict\nfrom timing_trainer.costmodel import cross_validation, model, report_section, sweep_estimate\n"
        "from timing_trainer.testing.costs import synthetic_runs\n"
        "model.fit_cost_model(synthetic_runs(tasks=('rte',)), calibrate=False)\n"
        "print(','.join(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
