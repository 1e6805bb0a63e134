"""The spec's sweeps of today's encoders: the `modern` group (ModernBERT, DeBERTa-v3) and the
modes sweep per task (model x LoRA x compile x attention kernel)."""

from __future__ import annotations

from pathlib import Path

import pytest

from timing_trainer.commands.main import main as cli_main
from timing_trainer.models import MODEL_GROUPS, lookup_model
from timing_trainer.sweep.config.macros import build_command
from timing_trainer.sweep.config.runs import expand_runs, load_sweep_file
from timing_trainer.sweep.config.spec import (
    LEARNING_RATES,
    MODES_MODELS,
    SWEEP_TASKS,
    modes_sweep,
)
from timing_trainer.sweep.config.validate import validate_file

SWEEPS = Path(__file__).resolve().parents[2] / "sweeps"
MODES_FILES = [f"sweep_{t}_modes.yaml" for t in SWEEP_TASKS]
MODE_ARGUMENTS = ("lora_r", "torch_compile", "attn_implementation")


@pytest.fixture
def glue_arguments():
    from timing_trainer.glue import arguments

    return arguments


def test_the_modern_group_is_modernbert_and_deberta_v3_apart_from_the_thesis_groups():
    modern = MODEL_GROUPS["modern"]
    assert sorted(modern) == ["answerdotai/ModernBERT-base", "answerdotai/ModernBERT-large",
                              "microsoft/deberta-v3-base", "microsoft/deberta-v3-large"]
    assert all(lookup_model(m).cased for m in modern)  # cased vocabularies, a group of their own
    assert not set(modern) & (set(MODEL_GROUPS["cased"]) | set(MODEL_GROUPS["uncased"]))
    for kind in ("", "_inference"):
        config = load_sweep_file(SWEEPS / f"sweep_mrpc_modern{kind}.yaml")
        assert config["parameters"]["model_name_or_path"]["values"] == list(modern)
        cased = load_sweep_file(SWEEPS / f"sweep_mrpc_cased{kind}.yaml")
        assert "answerdotai/ModernBERT-base" not in cased["parameters"]["model_name_or_path"][
            "values"]


def test_each_modes_sweep_is_the_full_grid_of_modes_at_one_shape():
    for task in SWEEP_TASKS:
        config = load_sweep_file(SWEEPS / f"sweep_{task}_modes.yaml")
        params = config["parameters"]
        assert params["model_name_or_path"]["values"] == list(MODES_MODELS)
        assert params["lora_r"]["values"] == [0, 8]
        assert params["torch_compile"]["values"] == [False, True]
        assert params["attn_implementation"]["values"] == ["eager", "sdpa"]
        assert "padding_free" not in params  # no encoder classifier here can take it
        assert params["max_seq_length"] == {"value": 128}
        assert params["per_device_train_batch_size"] == {"value": 32}
        assert params["learning_rate"]["value"] == LEARNING_RATES[task]
        assert "bf16" not in params and "--do_train" in config["command"]
        runs = expand_runs(config)
        assert len(runs) == 3 * 2 * 2 * 2
        assert len({tuple(sorted(r.items())) for r in runs}) == 24  # every combination once


def test_the_modes_models_are_one_of_each_family_at_base_size():
    families = [lookup_model(m).config["model_type"] for m in MODES_MODELS]
    assert families == ["bert", "modernbert", "deberta-v2"]
    assert {lookup_model(m).hidden_size for m in MODES_MODELS} == {768}
    assert modes_sweep("rte").filename == "sweep_rte_modes.yaml"


@pytest.mark.parametrize("name", MODES_FILES)
def test_each_modes_file_passes_wandbs_schema_and_the_programs_parser(name, glue_arguments):
    from timing_trainer.sweep.config.program_args import program_arguments

    missing = [a for a in MODE_ARGUMENTS if a not in program_arguments()]
    assert not missing, f"the GLUE program lacks {missing}"
    assert validate_file(SWEEPS / name) == []


def test_every_mode_reaches_the_program_as_it_was_swept(monkeypatch, glue_arguments):
    monkeypatch.setenv("TIMING_TRAINER_RUN_DIR", "runs/x/000")
    config = load_sweep_file(SWEEPS / "sweep_rte_modes.yaml")
    runs = expand_runs(config)
    for run in (runs[0], runs[-1]):  # every mode off, then every mode on
        command = build_command(config["command"], run)
        model_args, data_args, training_args = glue_arguments.parse_args(command[4:])
        assert model_args.lora_r == run["lora_r"]
        assert model_args.attn_implementation == run["attn_implementation"]
        assert training_args.torch_compile == run["torch_compile"]
        assert data_args.padding_free is False
        assert data_args.max_seq_length == 128
    assert runs[0]["lora_r"] == 0 and runs[-1]["lora_r"] == 8


def test_a_modes_sweep_dry_run_lists_its_24_commands(tmp_path, capsys, glue_arguments):
    assert cli_main(["sweep", str(SWEEPS / "sweep_rte_modes.yaml"), "--dry-run",
                     "--runs-dir", str(tmp_path / "runs")]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if not x.startswith("#")]
    assert len(lines) == 24
    assert not any("--padding_free" in line for line in lines)
    assert sum("--model_name_or_path=answerdotai/ModernBERT-base" in line for line in lines) == 8
