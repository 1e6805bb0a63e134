"""Sweep files loaded and expanded into runs in W&B's order."""

from __future__ import annotations

import itertools
import warnings

import pytest

from timing_trainer.errors import CliError, SweepFileError
from timing_trainer.sweep.agent.plan import run_key
from timing_trainer.sweep.config.runs import expand_runs, grid_size, load_sweep_file
from timing_trainer.sweep.config.spec import all_sweeps
from timing_trainer.sweep.config.version import run_basis

GRID = {
    "method": "grid",
    "parameters": {
        "z": {"values": [1, 2]},
        "a": {"values": ["x", "y", "x"]},  # W&B collapses the duplicate
        "c": {"value": 0.1},
    },
}


def test_grid_order_is_wandbs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sweeps
    runs = expand_runs(GRID)
    assert runs == [
        {"z": 1, "a": "x", "c": 0.1}, {"z": 2, "a": "x", "c": 0.1},
        {"z": 1, "a": "y", "c": 0.1}, {"z": 2, "a": "y", "c": 0.1},
    ]
    theirs = [r.config for r in sweeps.next_runs(GRID, [], n=10) if r is not None]
    assert [{k: v["value"] for k, v in c.items()} for c in theirs] == runs
    assert list(runs[0]) == ["z", "a", "c"]  # keys in the file's order
    assert grid_size(GRID) == 4


@pytest.mark.parametrize("spec", all_sweeps(), ids=lambda s: s.filename)
def test_every_committed_grid_expands_in_wandbs_documented_order(spec):
    """Names sorted, the last varying fastest, each run's keys in the file's order (the spec's
    values have no duplicates to collapse)."""
    config = spec.to_config()
    params = config["parameters"]
    names = sorted(params)
    choices = [p.get("values", [p.get("value")]) for p in (params[n] for n in names)]
    expected = [{n: dict(zip(names, combo))[n] for n in params}
                for combo in itertools.product(*choices)]
    runs = expand_runs(config)
    assert runs == expected and len(runs) == grid_size(config)
    assert all(list(run) == list(params) for run in runs)


def test_random_runs_are_reproducible_with_a_seed():
    config = {"method": "random", "parameters": {"lr": {"min": 0.0, "max": 1.0},
                                                  "b": {"values": [8, 16, 32]}}}
    first = expand_runs(config, seed=3, count=5)
    assert first == expand_runs(config, seed=3, count=5)
    assert first != expand_runs(config, seed=4, count=5)
    assert len(first) == 5 and all(0 <= r["lr"] <= 1 and r["b"] in (8, 16, 32) for r in first)
    assert all(type(r["lr"]) is float for r in first)
    with pytest.raises(SweepFileError, match="run count"):
        expand_runs(config)


def test_bayes_cannot_be_expanded():
    with pytest.raises(SweepFileError, match="bayes"):
        expand_runs({"method": "bayes", "parameters": {"a": {"values": [1]}}})


def test_run_keys_are_stable_and_distinct():
    runs = expand_runs(GRID)
    basis = run_basis(GRID)
    assert len({run_key(r, basis) for r in runs}) == len(runs)
    assert run_key({"a": 1, "b": 2}, basis) == run_key({"b": 2, "a": 1}, basis)


def test_a_run_key_covers_the_command_not_only_the_parameters():
    """Adding `--max_steps=1` to the command, or another program, is another run."""
    params = {"a": 1}
    changed = {**GRID, "command": ["${env}", "${interpreter}", "${program}", "--max_steps=1",
                                   "${args}"]}
    keys = {run_key(params, run_basis(c)) for c in (GRID, changed, {**GRID, "program": "b.py"})}
    assert len(keys) == 3


@pytest.mark.parametrize(
    "content, message",
    [
        ("42\n", "must be a YAML mapping, this one is a int"),
        ("method: grid\n", "`parameters` must be a non-empty mapping"),
        ("method: gird\nparameters: {a: {value: 1}}\n", "unknown sweep method 'gird'"),
        ("method: grid\nparameters: {a: 1}\n", "parameter 'a' must be a mapping"),
    ],
)
def test_load_rejects_bad_files_with_one_line(tmp_path, content, message):
    path = tmp_path / "s.yaml"
    path.write_text(content)
    with pytest.raises(CliError) as info:
        load_sweep_file(path)
    assert message in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_load_missing_file(tmp_path):
    with pytest.raises(SweepFileError, match="no such sweep file"):
        load_sweep_file(tmp_path / "nope.yaml")


def test_runs_module_is_torch_free():
    import subprocess
    import sys

    code = ("import sys, timing_trainer.sweep.config.runs as r; "
            "r.expand_runs({'method': 'grid', 'parameters': {'a': {'values': [1, 2]}}}); "
            "print('torch' in sys.modules or 'transformers' in sys.modules or 'wandb' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_seeded_random_draw_is_the_same_in_a_fresh_interpreter():
    import subprocess
    import sys

    code = ("from timing_trainer.sweep.config.runs import expand_runs; "
            "c = {'method': 'random', 'run_cap': 2, 'parameters': {'x': {'min': 0.0, 'max': 1.0}}}; "
            "print(expand_runs(c, seed=5))")
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    config = {"method": "random", "run_cap": 2, "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    assert first.stdout.strip() == str(expand_runs(config, seed=5))
