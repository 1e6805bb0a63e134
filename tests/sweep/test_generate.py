"""The committed sweep YAMLs: generated from the spec, valid, and runnable by the GLUE program."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from timing_trainer.commands.main import main as cli_main
from timing_trainer.models import MODEL_GROUPS
from timing_trainer.sweep.config.generate import PACKAGE_DEMO, check_all, expected_files, render
from timing_trainer.sweep.config.macros import build_command
from timing_trainer.sweep.config.runs import expand_runs, load_sweep_file
from timing_trainer.sweep.config.spec import (
    LEARNING_RATES,
    SWEEP_GROUPS,
    SWEEP_TASKS,
    all_sweeps,
    finetuning_sweep,
)
from timing_trainer.sweep.config.validate import validate_config, validate_file
from timing_trainer.tasks import get_task

REPO = Path(__file__).resolve().parents[2]
SWEEPS = REPO / "sweeps"
FILES = sorted(
    [f"sweep_{t}_{g}.yaml" for t in SWEEP_TASKS for g in SWEEP_GROUPS]
    + [f"sweep_{t}_{g}_inference.yaml" for t in SWEEP_TASKS for g in SWEEP_GROUPS]
    + [f"sweep_{t}_modes.yaml" for t in SWEEP_TASKS]
    + ["demo.yaml"]
)


def test_there_are_54_plus_9_plus_1_files_and_they_equal_the_spec():
    assert SWEEP_GROUPS == ("cased", "uncased", "modern")
    assert len(FILES) == 64
    assert sorted(p.name for p in SWEEPS.glob("*.yaml")) == FILES
    assert check_all(SWEEPS) == []
    assert PACKAGE_DEMO.read_text() == (SWEEPS / "demo.yaml").read_text()


def test_check_names_each_file_that_differs(tmp_path, capsys):
    copy = tmp_path / "sweeps"
    shutil.copytree(SWEEPS, copy)
    (copy / "sweep_rte_cased.yaml").write_text((copy / "sweep_rte_cased.yaml").read_text() + "# edit\n")
    (copy / "sweep_cola_uncased.yaml").unlink()
    (copy / "sweep_extra.yaml").write_text("method: grid\n")
    assert cli_main(["sweeps", "generate", "--check", "--dir", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "sweep_rte_cased.yaml: differs" in err
    assert "sweep_cola_uncased.yaml: missing" in err
    assert "sweep_extra.yaml: not generated" in err
    assert "sweep_mnli_cased.yaml" not in err
    # generate repairs the folder (the package copy of the demo is left alone: it is current)
    assert cli_main(["sweeps", "generate", "--dir", str(copy)]) == 0
    assert [p for p in check_all(copy) if "sweep_extra" not in p] == []


def test_generation_is_deterministic():
    assert expected_files(Path("x")) == expected_files(Path("x"))
    assert render(finetuning_sweep("rte", "cased")) == render(finetuning_sweep("rte", "cased"))


@pytest.mark.parametrize("name", FILES)
def test_each_file_follows_the_design(name):
    text = (SWEEPS / name).read_text()
    config = yaml.safe_load(text)
    params = config["parameters"]
    assert config["method"] == "grid"
    assert config["command"][:4] == ["${env}", "${interpreter}", "-m", "timing_trainer.glue"]
    assert config["command"][-1] == "${args}" and "program" not in config
    assert "output_dir" not in params
    for spec in params.values():  # every number reads as a number, no absolute paths
        for value in spec.get("values", [spec.get("value")]):
            if isinstance(value, str):
                assert not value.startswith("/")
                with pytest.raises(ValueError):
                    float(value)
    assert "2e-5" not in text and "1e-5" not in text
    if name == "demo.yaml":
        assert params["finetuning_iters"]["value"] == 3
        assert params["data_dir"]["value"] == "demo/assets"
        return
    task = params["task_name"]["value"]
    assert config["metric"] == {"name": get_task(task).main_metric_key, "goal": "maximize"}
    if name.endswith("_modes.yaml"):  # tests/sweep/test_spec_modes.py
        return
    group = next(g for g in ("uncased", "modern", "cased") if f"_{g}" in name)
    assert params["model_name_or_path"]["values"] == list(MODEL_GROUPS[group])
    assert params["max_seq_length"]["values"] == [128, 256, 512]
    if name.endswith("_inference.yaml"):
        assert params["per_device_eval_batch_size"]["values"] == [8, 16, 32, 64]
        assert "--do_train" not in config["command"] and "--do_eval" in config["command"]
        assert params["bf16"]["values"] == [False, True]
    else:
        assert params["per_device_train_batch_size"]["values"] == [8, 16, 32]
        assert params["learning_rate"]["value"] == LEARNING_RATES[task]
        assert isinstance(params["learning_rate"]["value"], float)
        assert params["finetuning_iters"]["value"] == (5 if task in ("wnli", "rte", "mrpc") else 3)
        assert params["num_train_epochs"]["value"] == 1
        assert params["weight_decay"]["value"] == 0.01
        assert params["adam_epsilon"]["value"] == 1.0e-6
        assert "--do_train" in config["command"]
        assert ("bf16" in params) == (get_task(task).train_size < 10_000)


def test_thesis_learning_rates():
    assert LEARNING_RATES == {"cola": 1e-5, "sst2": 1e-5, "mnli": 1e-5, "mrpc": 3e-5, "rte": 5e-5,
                              "stsb": 2e-5, "qnli": 2e-5, "qqp": 2e-5, "wnli": 2e-5}


@pytest.fixture
def glue_arguments():
    """The GLUE program's arguments, which `validate_file` checks every parameter against."""
    from timing_trainer.glue import arguments

    return arguments


@pytest.mark.parametrize("name", FILES)
def test_each_file_validates(name, glue_arguments):
    assert validate_file(SWEEPS / name) == []


def test_validate_reports_each_problem(tmp_path, capsys, glue_arguments):
    config = load_sweep_file(SWEEPS / "sweep_rte_cased.yaml")
    config["parameters"]["learnig_rate"] = {"value": "2e-5"}
    config["parameters"]["data_dir"] = {"value": "/data/glue"}
    config["metric"]["name"] = "eval_f1"
    problems = validate_config(config)
    assert any("learnig_rate" in p and "not accepted" in p for p in problems)
    assert any("reads as a string" in p for p in problems)
    assert any("absolute path" in p for p in problems)
    assert any("eval_f1" in p for p in problems)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    assert cli_main(["sweeps", "validate", str(bad), str(SWEEPS / "demo.yaml")]) == 2
    captured = capsys.readouterr()
    assert "demo.yaml: ok" in captured.out and "learnig_rate" in captured.err


def _covering_runs(config: dict) -> list[dict]:
    """Grid points that, together, take every value of every dimension (k-th value of each)."""
    runs = expand_runs(config)
    params = config["parameters"]
    widest = max(len(s.get("values", [0])) for s in params.values())
    wanted = []
    for k in range(widest):
        point = {n: (s["values"][min(k, len(s["values"]) - 1)] if "values" in s else s["value"])
                 for n, s in params.items()}
        wanted.append(point)
    chosen = [r for r in runs if r in wanted]
    assert len(chosen) == widest
    return chosen


@pytest.mark.parametrize("name", FILES)
def test_the_agents_commands_parse_in_the_program(name, monkeypatch, glue_arguments):
    # The sweeps target GPUs with bf16 (Ampere or newer); on this CPU machine TrainingArguments
    # would refuse bf16=True before looking at anything else, so say the GPU is there.
    import transformers.training_args

    monkeypatch.setattr(transformers.training_args, "is_torch_bf16_gpu_available", lambda: True)
    monkeypatch.setenv("TIMING_TRAINER_RUN_DIR", "runs/x/000")
    config = load_sweep_file(SWEEPS / name)
    for run in _covering_runs(config):
        command = build_command(config["command"], run)
        assert command[2:4] == ["-m", "timing_trainer.glue"]
        model_args, data_args, training_args = glue_arguments.parse_args(command[4:])
        assert model_args.model_name_or_path == run["model_name_or_path"]
        assert data_args.max_seq_length == run["max_seq_length"]
        assert data_args.task_name == get_task(str(run["task_name"])).name
        assert training_args.bf16 == run.get("bf16", False)
        assert training_args.finetuning_iters == run.get("finetuning_iters", training_args.finetuning_iters)
        if "learning_rate" in run:
            assert training_args.learning_rate == pytest.approx(run["learning_rate"])
            assert training_args.adam_epsilon == pytest.approx(1e-6)
        assert training_args.do_eval and training_args.do_train == ("--do_train" in command)
        assert "wandb" in training_args.report_to


def test_all_sweeps_cover_every_task_and_group():
    names = {s.filename for s in all_sweeps()}
    assert names == set(FILES)


def test_dry_run_of_a_real_sweep_prints_its_commands_and_writes_nothing(
    tmp_path, capsys, glue_arguments
):
    runs_dir = tmp_path / "runs"
    assert cli_main(["sweep", str(SWEEPS / "sweep_rte_cased.yaml"), "--dry-run",
                     "--runs-dir", str(runs_dir), "--gpus", "0,1"]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if not x.startswith("#")]
    assert len(lines) == 72 and not runs_dir.exists()
    assert lines[0].startswith("CUDA_VISIBLE_DEVICES=0 /usr/bin/env ")
    assert lines[1].startswith("CUDA_VISIBLE_DEVICES=1 ")
    # W&B's order: dimensions sorted by name (bf16, max_seq_length, model..., per_device...),
    # the last varying fastest.
    assert "--model_name_or_path=google-bert/bert-base-cased" in lines[0]
    assert "--per_device_train_batch_size=8" in lines[0]
    assert "--per_device_train_batch_size=16" in lines[1]
    assert "--model_name_or_path=distilbert/distilbert-base-cased" in lines[3]
    assert "--max_seq_length=256" in lines[12] and "--max_seq_length=128" in lines[11]
    assert "--bf16=False" in lines[35] and "--bf16=True" in lines[36]
