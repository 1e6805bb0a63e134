"""The environment probe: every key of the schema, sensible values on this CPU machine."""

import platform

import pytest
import torch
import transformers

import timing_trainer
from timing_trainer.results.schema import RESULTS_JSON_SCHEMA
from timing_trainer.runtime.environment import ENVIRONMENT_KEYS, collect_environment, precision_of


def test_all_schema_keys_present():
    env = collect_environment("fp32")
    assert set(env) == set(ENVIRONMENT_KEYS)
    assert set(RESULTS_JSON_SCHEMA["properties"]["environment"]["required"]) <= set(env)


def test_values_describe_this_machine():
    env = collect_environment("bf16")
    assert env["torch_version"] == torch.__version__
    assert env["transformers_version"] == transformers.__version__
    assert env["timing_trainer_version"] == timing_trainer.__version__
    assert env["python_version"] == platform.python_version()
    assert env["precision"] == "bf16"
    if torch.cuda.is_available():
        assert env["device"] == "cuda" and env["gpu_count"] >= 1 and env["gpu_name"]
    else:
        assert env["device"] in ("cpu", "mps")
    if env["device"] == "cpu":
        assert env["gpu_count"] == 0 and env["gpu_name"] is None


class _Args:
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


@pytest.mark.parametrize("kwargs,expected", [
    ({"bf16": True}, "bf16"),
    ({"fp16": True}, "fp16"),
    ({"bf16_full_eval": True}, "bf16"),
    ({"tf32": True}, "tf32"),
])
def test_precision_of_arguments(kwargs, expected):
    assert precision_of(_Args(**kwargs)) == expected


def test_default_precision_is_fp32_on_cpu():
    if torch.cuda.is_available():
        pytest.skip("TF32 may be on by default on this GPU")
    assert precision_of(_Args()) == "fp32"


def test_precision_says_what_ran_not_what_was_asked(tmp_path):
    from helpers.tiny import tiny_bert, token_dataset

    from timing_trainer import TimingTrainer, TimingTrainingArguments

    if torch.cuda.is_available():
        pytest.skip("on a GPU fp16 does run in half precision")
    # accelerate autocasts fp16 on accelerators only: on a CPU, fp16=True trains in fp32.
    assert precision_of(_Args(fp16=True, device=torch.device("cpu"))) == "fp32"
    assert precision_of(_Args(bf16=True, device=torch.device("cpu"))) == "bf16"

    class Accelerator:
        mixed_precision, native_amp = "fp16", False

    assert precision_of(_Args(fp16=True), Accelerator()) == "fp32"
    args = TimingTrainingArguments(output_dir=str(tmp_path), fp16=True, use_cpu=True,
                                   report_to="none", finetuning_iters=1)
    trainer = TimingTrainer(model=tiny_bert(), args=args, train_dataset=token_dataset(8))
    assert trainer.timing_results.environment["precision"] == "fp32"
    assert trainer.timing_results.config["precision"] == "fp32"
