"""The GLUE program's arguments: the W&B agent's forms, a JSON file, names, output folders."""

from __future__ import annotations

import json
import os

import pytest

from timing_trainer.errors import GlueInputError
from timing_trainer.glue.arguments import (
    DataArguments,
    ModelArguments,
    argument_names,
    default_output_dir,
    parse_args,
)

BASE = ["--model_name_or_path", "google-bert/bert-base-cased", "--task_name", "SST-2"]


def test_wandb_agent_form_parses():
    argv = ["--task_name=rte", "--model_name_or_path=distilbert/distilbert-base-uncased",
            "--per_device_train_batch_size=16", "--fp16=False", "--learning_rate=2.0e-5",
            "--max_seq_length=256", "--finetuning_iters=2", "--use_tokenization_cache=False",
            "--output_dir=/tmp/x"]
    model_args, data_args, training_args = parse_args(argv)
    assert isinstance(model_args, ModelArguments) and isinstance(data_args, DataArguments)
    assert training_args.per_device_train_batch_size == 16
    assert training_args.fp16 is False and training_args.learning_rate == pytest.approx(2e-5)
    assert training_args.finetuning_iters == 2 and training_args.output_dir == "/tmp/x"
    assert data_args.max_seq_length == 256 and data_args.use_tokenization_cache is False
    assert data_args.task_name == "rte"


def test_task_name_is_canonical_and_negated_flag_works():
    _, data_args, _ = parse_args([*BASE, "--no_pad_to_max_length", "--output_dir", "o"])
    assert data_args.task_name == "sst2" and data_args.pad_to_max_length is False


def test_single_json_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMING_TRAINER_RUN_DIR", str(tmp_path / "run"))
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"task_name": "STS-B", "model_name_or_path": "m",
                                "per_device_train_batch_size": 4, "bf16": False}))
    _, data_args, training_args = parse_args([str(path)])
    assert data_args.task_name == "stsb" and training_args.per_device_train_batch_size == 4
    assert training_args.output_dir == str(tmp_path / "run")


def test_argument_names_cover_every_dataclass():
    names = argument_names()
    for name in ("task_name", "model_name_or_path", "data_dir", "max_seq_length", "cache_dir",
                 "max_train_samples", "max_eval_samples", "learning_rate", "fp16", "bf16", "tf32",
                 "per_device_train_batch_size", "num_train_epochs", "seed", "output_dir",
                 "report_to", "finetuning_iters", "use_tokenization_cache"):
        assert name in names
    assert "batch_size" not in names and not any(n.startswith("-") for n in names)


def test_every_field_has_help():
    from dataclasses import fields

    for cls in (ModelArguments, DataArguments):
        for f in fields(cls):
            assert f.metadata.get("help"), f"{cls.__name__}.{f.name} has no help text"


def test_output_dir_defaults(monkeypatch):
    monkeypatch.setenv("TIMING_TRAINER_RUN_DIR", "/runs/local/7")
    assert default_output_dir("rte", "m") == "/runs/local/7"
    monkeypatch.delenv("TIMING_TRAINER_RUN_DIR")
    monkeypatch.setenv("WANDB_SWEEP_ID", "abc123")
    monkeypatch.setenv("WANDB_RUN_ID", "run9")
    assert default_output_dir("rte", "m") == "runs/abc123/run9"
    monkeypatch.delenv("WANDB_SWEEP_ID")
    monkeypatch.delenv("WANDB_RUN_ID")
    fallback = default_output_dir("SST-2", "/models/google-bert/bert-base-cased")
    assert fallback.startswith("runs/glue/") and fallback.endswith(f"-sst2-bert-base-cased-{os.getpid()}")
    _, _, training_args = parse_args(BASE)
    assert training_args.output_dir.startswith("runs/glue/")  # not transformers' trainer_output


@pytest.mark.parametrize("argv,message", [
    (["--model_name_or_path", "m", "--task_name", "glue"], "valid tasks: cola, sst2"),
    ([*BASE, "--max_seq_length", "0"], "max_seq_length must be at least 1"),
    ([*BASE, "--max_train_samples=0"], "max_train_samples must be at least 1"),
    ([*BASE, "--finetuning_iters", "0"], "finetuning_iters"),
    ([*BASE, "--no_such_option", "1"], "no_such_option"),
    (["--task_name", "rte"], "model_name_or_path"),
    ([*BASE, "--learning_rate", "fast"], "learning_rate"),
])
def test_bad_arguments_are_one_line(argv, message):
    with pytest.raises(GlueInputError, match=message) as info:
        parse_args(argv)
    assert "\n" not in str(info.value)
