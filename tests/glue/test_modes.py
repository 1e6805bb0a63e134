"""The GLUE program's modes (LoRA, attention kernel, torch.compile, padding-free) on the tiny
demo models: each run finishes with its mode in the results' config, and each refusal is exit 2
with one line on stderr, from a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers.figures import nulls_without_reason

from timing_trainer.errors import GlueInputError
from timing_trainer.glue import run
from timing_trainer.glue.modes import (
    FlattenedClassificationCollator,
    check_padding_free,
    lora_targets,
)
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

ASSETS = {"tasks": ["rte"], "train_size": 16, "dev_size": 8}


def _argv(assets, out, *extra):
    return [
        "--task_name=rte", f"--model_name_or_path={assets / 'models' / 'tiny-uncased'}",
        f"--data_dir={assets}", f"--output_dir={out}",
        f"--tokenization_cache_dir={out.parent / 'cache'}", "--max_seq_length=32",
        "--per_device_train_batch_size=8", "--per_device_eval_batch_size=8", "--max_steps=2",
        "--finetuning_iters=1", "--timing_warmup_steps=1", "--report_to=none",
        "--disable_tqdm=True", "--use_cpu=True", *extra,
    ]


def _finished(out) -> dict:
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    assert data["status"] == "finished" and data["finetuning_time"] > 0
    assert nulls_without_reason(data) == []
    return data


def test_lora_adapts_the_attention_and_keeps_the_head_trainable(assets, tmp_path):
    out = tmp_path / "lora"
    assert run.main(_argv(assets, out, "--lora_r=4")) == 0
    config = _finished(out)["config"]
    assert (config["lora_r"], config["lora_alpha"]) == (4, 8)  # alpha: 2 * r by default
    assert config["lora_target_modules"] == "query,key,value"
    model = json.loads((assets / "models" / "tiny-uncased" / "config.json").read_text())
    hidden, layers = model["hidden_size"], model["num_hidden_layers"]
    adapters = layers * 3 * 4 * (hidden + hidden)  # A (r x h) and B (h x r) per projection
    head = hidden * 2 + 2  # RTE: two labels
    assert config["trainable_params"] == adapters + head
    assert config["total_params"] > config["trainable_params"]


def test_full_fine_tuning_records_every_parameter_trainable(assets, tmp_path):
    out = tmp_path / "full"
    assert run.main(_argv(assets, out, "--attn_implementation=eager")) == 0
    config = _finished(out)["config"]
    assert config["lora_r"] == 0 and config["lora_target_modules"] is None
    assert config["trainable_params"] == config["total_params"] > 0
    assert config["attn_implementation"] == "eager"
    assert config["torch_compile"] is False and config["padding_free"] is False


def test_sdpa_is_recorded_as_the_kernel_used(assets, tmp_path):
    out = tmp_path / "sdpa"
    assert run.main(_argv(assets, out, "--attn_implementation=sdpa")) == 0
    assert _finished(out)["config"]["attn_implementation"] == "sdpa"


@pytest.mark.slow
def test_compilation_happens_in_the_warm_up_not_on_the_clock(assets, tmp_path, monkeypatch):
    import torch._dynamo.utils as dynamo_utils

    import timing_trainer.instrument.training as training

    def frames() -> int:
        return dynamo_utils.counters["frames"]["ok"]

    seen = {}
    warmup = training.run_warmup

    def counted_warmup(*args, **kwargs):
        seen["before"] = frames()
        seconds = warmup(*args, **kwargs)
        seen["after"] = frames()
        return seconds

    monkeypatch.setattr(training, "run_warmup", counted_warmup)
    out = tmp_path / "compiled"
    argv = _argv(assets, out, "--torch_compile", "--torch_compile_backend=aot_eager",
                 "--finetuning_iters=2", "--do_train")
    assert run.main(argv) == 0
    assert seen["after"] > seen["before"]  # the warm-up compiled
    assert frames() == seen["after"]  # the timed iterations compiled nothing
    data = _finished(out)
    assert data["config"]["torch_compile"] is True
    assert data["config"]["torch_compile_backend"] == "aot_eager"
    assert data["setup_time_parts"]["warmup"] > 0


@pytest.mark.slow  # five processes, each importing torch: about a minute on two shared cores
def test_refusals_are_one_line_in_a_real_process(assets, tmp_path):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cases = {
        "flash": (["--attn_implementation=flash_attention_2"], "needs a CUDA device"),
        "padding-free": (["--padding_free"], "does not classify a flattened batch"),
        "compile": (["--torch_compile", "--timing_warmup_steps=0"],
                    "would put the compilation on the clock"),
        "rank": (["--lora_r=-1"], "--lora_r must be an integer >= 0"),
        "alpha": (["--lora_alpha=8"], "need --lora_r > 0"),
    }
    procs = {name: subprocess.Popen(
        [sys.executable, "-m", "timing_trainer.glue", *_argv(assets, tmp_path / name, *extra)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for name, (extra, _) in cases.items()}
    for name, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        lines = [line for line in err.splitlines() if line.strip()]
        assert proc.returncode == 2, (name, err[-2000:])
        assert len(lines) == 1 and cases[name][1] in lines[0], (name, lines)
        assert lines[0].startswith("timing_trainer.glue: error: ")
        assert not (tmp_path / name / RESULTS_FILENAME).exists()


def test_unknown_lora_target_is_refused_naming_the_layers(assets, tmp_path, capsys):
    out = tmp_path / "target"
    assert run.main(_argv(assets, out, "--lora_r=2", "--lora_target_modules=q_proj")) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no linear layer named q_proj" in line and "query" in line
    assert not (out / RESULTS_FILENAME).exists()


def _tiny(model_type: str):
    from transformers import AutoConfig, AutoModelForSequenceClassification

    config = AutoConfig.for_model(model_type, vocab_size=64, hidden_size=32, num_hidden_layers=1,
                                  num_attention_heads=2, intermediate_size=64, num_labels=2,
                                  pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                  cls_token_id=1, sep_token_id=2)
    return config, AutoModelForSequenceClassification.from_config(config)


@pytest.mark.parametrize("model_type, expected", [
    ("bert", ["query", "key", "value"]),
    ("modernbert", ["Wqkv"]),
    ("deberta-v2", ["query_proj", "key_proj", "value_proj"]),
])
def test_default_lora_targets_per_architecture(model_type, expected):
    _, model = _tiny(model_type)
    assert lora_targets(model, None) == expected


@pytest.mark.parametrize("model_type, attn", [
    ("bert", "sdpa"), ("modernbert", "sdpa"), ("deberta-v2", "eager"),
])
def test_padding_free_probe_refuses_heads_that_pool_each_row(model_type, attn):
    config, _ = _tiny(model_type)
    with pytest.raises(GlueInputError, match="gave 1 row"):
        check_padding_free(config, attn)


def test_padding_free_probe_names_a_kernel_the_architecture_lacks():
    config, _ = _tiny("deberta-v2")
    with pytest.raises(GlueInputError, match="--attn_implementation sdpa: DebertaV2"):
        check_padding_free(config, "sdpa")


def test_flattened_collator_keeps_one_label_per_example():
    features = [{"input_ids": [2, 5, 3], "token_type_ids": [0, 0, 0], "labels": 1},
                {"input_ids": [2, 6, 7, 3], "token_type_ids": [0, 0, 1, 1], "labels": 0}]
    batch = FlattenedClassificationCollator(flash_attn_kwargs=False)(features)
    assert batch["input_ids"].tolist() == [[2, 5, 3, 2, 6, 7, 3]]  # no pad token
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1, 2, 3]]
    assert batch["token_type_ids"].tolist() == [[0, 0, 0, 0, 0, 1, 1]]
    assert batch["labels"].tolist() == [1, 0]
