"""Commands built with W&B's macro meanings: W&B's own helper, pinned output of every macro."""

from __future__ import annotations

import json
import os
import platform
import sys

import pytest

from timing_trainer.sweep.config.macros import (
    DEFAULT_COMMAND,
    args_macros,
    build_command,
    expand_envvars,
    wandb_sweep_utils,
)

PARAMS = {
    "learning_rate": 2.0e-5,
    "bf16": False,
    "do_eval": True,
    "max_seq_length": 128,
    "layers": [1, 2],
    "nothing": None,
    "text": "a b; $(echo hi)",
}

# Every value kind a sweep file gives: float, bool (both), list, mapping.
VALUES = {"lr": 2.0e-5, "bf16": False, "do_eval": True, "layers": [1, 2],
          "opt": {"name": "adam", "beta": 0.9}}
PINNED = {
    "args": ["--lr=2e-05", "--bf16=False", "--do_eval=True", "--layers=[1, 2]",
             "--opt={'name': 'adam', 'beta': 0.9}"],
    "args_no_hyphens": ["lr=2e-05", "bf16=False", "do_eval=True", "layers=[1, 2]",
                        "opt={'name': 'adam', 'beta': 0.9}"],
    "args_no_equals": ["--lr", "2e-05", "--bf16", "False", "--do_eval", "True", "--layers",
                       "[1, 2]", "--opt", "{'name': 'adam', 'beta': 0.9}"],
    "args_no_boolean_flags": ["--lr=2e-05", "--do_eval", "--layers=[1, 2]",
                              "--opt={'name': 'adam', 'beta': 0.9}"],
    "args_json": ['{"lr": 2e-05, "bf16": false, "do_eval": true, "layers": [1, 2], '
                  '"opt": {"name": "adam", "beta": 0.9}}'],
    "args_json_file": ["/runs/s/000-abc/args.json"],
    "args_append_hydra": ["+lr=2e-05", "+bf16=False", "+do_eval=True", "+layers=[1, 2]",
                          "+opt={'name': 'adam', 'beta': 0.9}"],
    "args_override_hydra": ["++lr=2e-05", "++bf16=False", "++do_eval=True", "++layers=[1, 2]",
                            "++opt={'name': 'adam', 'beta': 0.9}"],
    "interpreter": [sys.executable],
    "program": ["train.py"],
    "env": [] if platform.system() == "Windows" else ["/usr/bin/env"],
    "args_dict": [],  # W&B's helper returns it for its own use: not a macro here
    "no_such_macro": [],
}


@pytest.mark.parametrize("macro", sorted(PINNED))
def test_each_macro_expands_as_pinned(macro):
    out = build_command(["${" + macro + "}"], VALUES, program="train.py",
                        args_json_file="/runs/s/000-abc/args.json", environ={})
    assert out == PINNED[macro]


def test_args_forms_match_wandb_agent():
    utils = wandb_sweep_utils()
    theirs = utils.create_sweep_command_args({"args": {k: {"value": v} for k, v in PARAMS.items()}})
    ours = args_macros(PARAMS)
    for form in ("args", "args_no_hyphens", "args_no_equals", "args_no_boolean_flags", "args_json",
                 "args_append_hydra", "args_override_hydra"):
        assert ours[form] == theirs[form], form
    assert "args_dict" not in ours
    assert "--learning_rate=2e-05" in ours["args"] and "--bf16=False" in ours["args"]
    assert "--nothing=None" in ours["args"] and "--text=a b; $(echo hi)" in ours["args"]
    assert "--do_eval" in ours["args_no_boolean_flags"] and not any(
        a.startswith("--bf16") for a in ours["args_no_boolean_flags"])
    assert json.loads(ours["args_json"][0]) == PARAMS


def test_hydra_forms_with_a_wandb_that_lacks_them(monkeypatch):
    """wandb 0.16 to 0.19 return no Hydra forms: the command gets W&B 0.20's all the same."""
    utils = wandb_sweep_utils()
    real = utils.create_sweep_command_args

    def older(command):
        forms = real(command)
        del forms["args_append_hydra"], forms["args_override_hydra"]
        return forms

    monkeypatch.setattr(utils, "create_sweep_command_args", older)
    for macro in ("args_append_hydra", "args_override_hydra"):
        assert build_command(["${" + macro + "}"], VALUES, environ={}) == PINNED[macro]


def test_envvar_macros_match_wandb(monkeypatch):
    utils = wandb_sweep_utils()
    monkeypatch.setenv("TT_DATA", "/data/glue")
    monkeypatch.delenv("TT_UNSET", raising=False)
    template = ["--data_dir=${envvar:TT_DATA}/x", "${envvar:TT_UNSET}", "plain"]
    assert utils.create_sweep_command(list(template)) == [expand_envvars(t, os.environ)
                                                          for t in template]
    assert expand_envvars("${envvar:TT_UNSET}", {}) == "TT_UNSET"
    # ours takes the mapping it is given (a printed command expands with secrets masked)
    assert expand_envvars("k=${envvar:TT_DATA}", {"TT_DATA": "***"}) == "k=***"


def test_build_command_expands_every_macro(tmp_path):
    command = ["${env}", "${interpreter}", "${program}", "${args_json}", "${args_json_file}",
               "${unknown}", "${args_no_hyphens}", "-x"]
    out = build_command(command, {"a": 1, "b": "two"}, program="train.py",
                        args_json_file=str(tmp_path / "args.json"), environ={})
    assert out[:3] == ["/usr/bin/env", sys.executable, "train.py"]
    assert json.loads(out[3]) == {"a": 1, "b": "two"}
    assert out[4:] == [str(tmp_path / "args.json"), "a=1", "b=two", "-x"]


def test_default_command_is_wandbs():
    assert list(DEFAULT_COMMAND) == wandb_sweep_utils().DEFAULT_SWEEP_COMMAND
    out = build_command(None, {"a": 1}, program="train.py", environ={})
    assert out == ["/usr/bin/env", sys.executable, "train.py", "--a=1"]
