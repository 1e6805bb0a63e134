"""Commands built with W&B's macro meanings, checked against W&B's own agent code."""

from __future__ import annotations

import json
import sys
import warnings

import pytest

from timing_trainer.sweep.macros import args_macros, build_command, expand_envvars

PARAMS = {
    "learning_rate": 2.0e-5,
    "bf16": False,
    "do_eval": True,
    "max_seq_length": 128,
    "layers": [1, 2],
    "nothing": None,
    "text": "a b; $(echo hi)",
}


def wandb_sweep_utils():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("wandb.sdk.launch.sweeps.utils")


def test_args_forms_match_wandb_agent():
    utils = wandb_sweep_utils()
    theirs = utils.create_sweep_command_args({"args": {k: {"value": v} for k, v in PARAMS.items()}})
    ours = args_macros(PARAMS)
    for form in ("args", "args_no_hyphens", "args_no_equals", "args_no_boolean_flags", "args_json",
                 "args_append_hydra", "args_override_hydra"):
        assert ours[form] == theirs[form], form
    assert "--learning_rate=2e-05" in ours["args"] and "--bf16=False" in ours["args"]
    assert "--do_eval" in ours["args_no_boolean_flags"] and not any(
        a.startswith("--bf16") for a in ours["args_no_boolean_flags"])


def test_envvar_macros_match_wandb(monkeypatch):
    utils = wandb_sweep_utils()
    monkeypatch.setenv("TT_DATA", "/data/glue")
    monkeypatch.delenv("TT_UNSET", raising=False)
    template = ["--data_dir=${envvar:TT_DATA}/x", "${envvar:TT_UNSET}", "plain"]
    assert utils.create_sweep_command(list(template)) == [expand_envvars(t, __import__("os").environ)
                                                          for t in template]
    assert expand_envvars("${envvar:TT_UNSET}", {}) == "TT_UNSET"


def test_build_command_expands_every_macro(tmp_path):
    command = ["${env}", "${interpreter}", "${program}", "${args_json}", "${args_json_file}",
               "${unknown}", "${args_no_hyphens}", "-x"]
    out = build_command(command, {"a": 1, "b": "two"}, program="train.py",
                        args_json_file=str(tmp_path / "args.json"), environ={})
    assert out[:3] == ["/usr/bin/env", sys.executable, "train.py"]
    assert json.loads(out[3]) == {"a": 1, "b": "two"}
    assert out[4:] == [str(tmp_path / "args.json"), "a=1", "b=two", "-x"]


def test_default_command_is_wandbs():
    out = build_command(None, {"a": 1}, program="train.py", environ={})
    assert out == ["/usr/bin/env", sys.executable, "train.py", "--a=1"]
