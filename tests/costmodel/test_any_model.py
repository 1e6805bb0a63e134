"""`predict` with any model: its shape from the model table, a local folder's config.json or the
Hub cache, an unseen architecture flagged as an extrapolation rather than refused."""

from __future__ import annotations

import json
import math

import pytest
from helpers.costmodel_runs import predict, write_run_folders, write_sweep

from timing_trainer.costmodel.shapes import TABLE, hub_config_file, model_shape

RUNS = {"noise": 0.02, "seed": 7, "tasks": ("rte", "mrpc")}

# The published config.json files (the keys the shape reads, and those of their attention).
MODERNBERT_BASE = {
    "architectures": ["ModernBertForMaskedLM"], "model_type": "modernbert", "hidden_size": 768,
    "intermediate_size": 1152, "num_hidden_layers": 22, "num_attention_heads": 12,
    "vocab_size": 50368, "max_position_embeddings": 8192, "global_attn_every_n_layers": 3,
    "local_attention": 128, "global_rope_theta": 160000.0, "local_rope_theta": 10000.0}
DEBERTA_V3_BASE = {
    "model_type": "deberta-v2", "hidden_size": 768, "intermediate_size": 3072,
    "num_hidden_layers": 12, "num_attention_heads": 12, "vocab_size": 128100,
    "max_position_embeddings": 512, "relative_attention": True, "position_buckets": 256,
    "share_att_key": True, "pos_att_type": "p2c|c2p", "position_biased_input": False,
    "type_vocab_size": 0}
HUB_MODELS = {"answerdotai/ModernBERT-base": MODERNBERT_BASE,
              "microsoft/deberta-v3-base": DEBERTA_V3_BASE}

SWEEP = """\
name: modern
method: grid
command: [python, -m, timing_trainer.glue, --do_train, --do_eval, "${{args}}"]
parameters:
  task_name:
    value: rte
  model_name_or_path:
    values: [{models}]
  max_seq_length:
    value: 128
  per_device_train_batch_size:
    value: 16
  num_train_epochs:
    value: 1
  finetuning_iters:
    value: 3
"""


def _hub_cache(root, models: dict, ref: str = "main-rev") -> None:
    """A Hub cache as `huggingface_hub` leaves it: refs/main naming a snapshot."""
    for name, config in models.items():
        org, base = name.split("/")
        folder = root / f"models--{org}--{base}"
        (folder / "snapshots" / ref).mkdir(parents=True)
        (folder / "snapshots" / ref / "config.json").write_text(json.dumps(config))
        (folder / "refs").mkdir()
        (folder / "refs" / "main").write_text(ref)


@pytest.fixture
def run_folders(tmp_path, runs):
    return write_run_folders(tmp_path / "runs", runs)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty Hub cache of this test's own, for this process and `predict`'s child."""
    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return cache


def test_the_hub_cache_gives_a_model_outside_the_table_its_shape(hub):
    _hub_cache(hub, {"someorg/modernbert-like": MODERNBERT_BASE})
    stale = hub / "models--someorg--modernbert-like" / "snapshots" / "old"
    stale.mkdir()
    (stale / "config.json").write_text(json.dumps({**MODERNBERT_BASE, "num_hidden_layers": 2}))
    assert hub_config_file("someorg/modernbert-like").parent.name == "main-rev"
    assert hub_config_file("someorg/never-downloaded") is None
    shape = model_shape("someorg/modernbert-like")
    assert shape.num_layers == 22 and shape.architecture == "modernbert"
    assert shape.source.endswith("main-rev/config.json") and not shape.from_table
    # Wi projects to 2 x intermediate (the gate), Wo back: three H x I matrices a layer.
    assert shape.matmul_params_per_token == 22 * (4 * 768**2 + 3 * 768 * 1152)
    # Rotary positions: no position table; ModernBERT-base's published count is 149M.
    assert 148e6 < shape.params < 150e6
    table = model_shape("answerdotai/ModernBERT-base")
    assert table.from_table and table.matmul_params_per_token == shape.matmul_params_per_token


def test_deberta_v3_is_of_the_deberta_v2_family_and_has_no_absolute_positions(hub):
    _hub_cache(hub, {"microsoft/deberta-v3-base": DEBERTA_V3_BASE})
    shape = model_shape("microsoft/deberta-v3-base")
    assert shape.architecture == "deberta-v2"
    assert 180e6 < shape.params < 187e6  # published: 184M (98M of them the embeddings)
    assert shape.attention_flops_per_token(128) >= 0


def test_predict_prices_an_unseen_architecture_and_flags_it(run_folders, hub, tmp_path):
    _hub_cache(hub, HUB_MODELS)
    sweep = write_sweep(tmp_path, SWEEP.format(models=", ".join(HUB_MODELS)), "modern.yaml")
    done = predict("--runs", str(run_folders), "--sweep", str(sweep), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["unseen_architectures"] == ["deberta-v2", "modernbert"]
    assert "extrapolation to an unseen architecture" in out["architecture_note"]
    assert "2 of 2 runs" in out["architecture_note"]
    assert math.isfinite(out["total_s"]) and out["total_s"] > 0
    assert all(r["support"].startswith("new_architecture") for r in out["runs"])
    text = predict("--runs", str(run_folders), "--sweep", str(sweep))
    assert text.returncode == 0, text.stderr
    assert "extrapolation to an unseen architecture: deberta-v2, modernbert" in text.stdout
    assert "total:" in text.stdout


def test_a_model_known_only_by_its_local_config_says_so(run_folders, hub, tmp_path):
    folder = tmp_path / "models" / "my-encoder"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "bert", "num_hidden_layers": 6, "hidden_size": 512,
        "intermediate_size": 2048, "vocab_size": 30522, "max_position_embeddings": 512}))
    sweep = write_sweep(tmp_path, SWEEP.format(models=folder), "local.yaml")
    done = predict("--runs", str(run_folders), "--sweep", str(sweep), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["shape_fallbacks"] == [{"model": str(folder),
                                       "config": str(folder / "config.json")}]
    assert out["unseen_architectures"] == [] and out["architecture_note"] is None
    text = predict("--runs", str(run_folders), "--sweep", str(sweep))
    assert text.returncode == 0, text.stderr
    assert (f"shape of {folder}: not in the model table, read from {folder}/config.json"
            in text.stdout)


def test_a_table_model_is_not_reported_as_a_fallback(run_folders, hub, tmp_path):
    sweep = write_sweep(tmp_path, SWEEP.format(models="google-bert/bert-base-uncased"))
    done = predict("--runs", str(run_folders), "--sweep", str(sweep), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["shape_fallbacks"] == []
    assert model_shape("google-bert/bert-base-uncased").source == TABLE


def test_a_model_with_neither_is_refused_in_one_line(run_folders, hub, tmp_path):
    sweep = write_sweep(tmp_path, SWEEP.format(models="org/mystery-model"), "odd.yaml")
    done = predict("--runs", str(run_folders), "--sweep", str(sweep))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "no size information" in lines[0] and "org/mystery-model" in lines[0]
    assert str(hub) in lines[0] and done.stdout == ""
