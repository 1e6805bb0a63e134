"""Sweep files that would exhaust memory: refused in one line, from counts, before anything is built.

The CLI cases run in a subprocess whose address space is capped (`RLIMIT_AS`, 1 GiB; a dry run
of a small sweep peaks near 360 MB), so that a regression fails fast with a MemoryError instead
of swapping the machine for minutes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from timing_trainer.errors import SweepFileError, YamlBoundError
from timing_trainer.sweep.config.grid_size import grid_counts
from timing_trainer.sweep.config.runs import MAX_SWEEP_RUNS, expand_runs, grid_size, load_sweep_file
from timing_trainer.sweep.config.safe_yaml import MAX_YAML_NODES, bounded_safe_load

ADDRESS_SPACE_LIMIT = 1 << 30

BOMB = textwrap.dedent("""\
    method: grid
    program: prog.py
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    parameters:
      x: {value: *i}
    """)


def _grid(**params) -> dict:
    return {"method": "grid", "program": "prog.py", "parameters": params}


def _ten_by_ten() -> dict:
    return _grid(**{f"p{i}": {"values": list(range(10))} for i in range(10)})


def test_grid_size_is_counted_not_built():
    assert grid_size(_grid(a={"values": [1, 2, 1]}, b={"min": 1, "max": 3}, c={"value": 0})) == 6
    q = {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25}
    assert grid_size(_grid(x=q)) == len(expand_runs(_grid(x=q))) == 4
    nested = _grid(n={"parameters": {"a": {"values": [1, 2]}, "b": {"values": [3, 4, 5]}}})
    assert grid_size(nested) == len(expand_runs(nested)) == 6
    assert dict(grid_counts(_ten_by_ten()["parameters"], MAX_SWEEP_RUNS))["p3"] == 10


@pytest.mark.parametrize("config, expected", [
    (_ten_by_ten(), "the grid has 10,000,000,000 runs"),
    (_grid(x={"min": 0, "max": 10**9}), "the grid has 1,000,000,001 runs (x 1,000,000,001)"),
    # W&B's grid search would list 2,000,000 and our old call cut them at 1,000,000, silently.
    (_grid(x={"min": 1, "max": 2000}, y={"values": list(range(1000))}), "2,000,000 runs"),
    (_grid(x={"min": 0.0, "max": 1.0}), "cannot enumerate distribution 'uniform'"),
    (_grid(x={"distribution": "normal", "mu": 0, "sigma": 1}), "distribution 'normal'"),
])
def test_grids_too_big_or_not_enumerable_are_refused(config, expected):
    with pytest.raises(SweepFileError) as info:
        expand_runs(config)
    assert expected in str(info.value) and len(str(info.value).splitlines()) == 1
    if "runs" in expected:
        assert f"at most {MAX_SWEEP_RUNS:,}" in str(info.value)


def test_a_grid_at_the_cap_is_expanded_whole():
    config = _grid(x={"min": 1, "max": MAX_SWEEP_RUNS})
    runs = expand_runs(config)
    assert len(runs) == MAX_SWEEP_RUNS and runs[-1] == {"x": MAX_SWEEP_RUNS}  # no cut
    with pytest.raises(SweepFileError, match="100,001 runs"):
        expand_runs(_grid(x={"min": 0, "max": MAX_SWEEP_RUNS}))


def test_random_draws_are_capped_too():
    config = {"method": "random", "parameters": {"x": {"min": 0, "max": 10**9}}, "run_cap": 10**9}
    with pytest.raises(SweepFileError, match="1,000,000,000 random runs requested"):
        expand_runs(config)
    assert len(expand_runs(config, seed=1, count=3)) == 3


def test_yaml_aliases_are_bounded():
    with pytest.raises(YamlBoundError, match=f"more than {MAX_YAML_NODES:,} YAML nodes"):
        bounded_safe_load(BOMB)
    with pytest.raises(YamlBoundError, match="refers to the structure that contains it"):
        bounded_safe_load("a: &a [1, *a]")
    shared = "base: &b {lr: 1.0e-5, epochs: 1}\nother: *b\nlist: [*b, *b]\n"
    assert bounded_safe_load(shared) == yaml.safe_load(shared)  # ordinary aliases still work
    assert bounded_safe_load("") is None


def test_an_alias_bomb_file_is_one_line(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    assert path.stat().st_size < 1024
    with pytest.raises(SweepFileError) as info:
        load_sweep_file(path)
    assert str(path) in str(info.value) and "aliases" in str(info.value)


def _bounded_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """`timing-trainer ARGS` in a child whose address space is capped at 1 GiB."""
    code = textwrap.dedent(f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_LIMIT}, {ADDRESS_SPACE_LIMIT}))
        from timing_trainer.commands.main import main
        sys.exit(main(sys.argv[1:]))
    """)
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("case", ["grid 10x10", "int_uniform 1e9", "alias bomb"])
def test_sweep_and_predict_refuse_in_bounded_memory(tmp_path, case):
    (tmp_path / "prog.py").write_text("")
    path = tmp_path / "sweep.yaml"
    if case == "alias bomb":
        path.write_text(BOMB)
        expected = "aliases"
    else:
        config = _ten_by_ten() if case == "grid 10x10" else _grid(x={"min": 0, "max": 10**9})
        path.write_text(yaml.safe_dump(config))
        expected = "at most 100,000 are allowed"
    (tmp_path / "runs").mkdir()
    for args in (["sweep", str(path), "--dry-run"], ["sweeps", "validate", str(path)],
                 ["predict", "--runs", str(tmp_path / "runs"), "--sweep", str(path)]):
        proc = _bounded_cli(tmp_path, *args)
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        assert proc.returncode == 2, (args, proc.stderr[-2000:])
        assert "MemoryError" not in proc.stderr and "Traceback" not in proc.stderr, args
        assert expected in lines[-1], (args, lines)
        assert len(proc.stdout) < 10_000  # no 738 MB command printed


def _bayes(run_cap) -> dict:
    return {"method": "bayes", "program": "prog.py", "run_cap": run_cap,
            "metric": {"name": "accuracy", "goal": "maximize"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}}}


@pytest.mark.parametrize("cap", ["ten", 0, -3, 2.5, True])
def test_a_bayes_sweep_with_an_odd_run_cap_is_one_line_and_exit_2(tmp_path, cap):
    """Before the agent checked it, `run_cap: ten` ended in `min() arg is an empty sequence`."""
    from timing_trainer.sweep.agent.local import LocalAgent
    from timing_trainer.sweep.agent.plan import AgentOptions

    (tmp_path / "prog.py").write_text("")
    path = tmp_path / "bayes.yaml"
    path.write_text(yaml.safe_dump(_bayes(cap)))
    proc = subprocess.run([sys.executable, "-m", "timing_trainer.commands.main", "sweep", str(path),
                           "--dry-run"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and f"run_cap must be a positive integer, got {cap!r}" in lines[0]
    assert str(path) in lines[0] and "Traceback" not in proc.stderr
    # the library refuses it the same way, before planning (the CLI's validation aside)
    options = AgentOptions(runs_dir=tmp_path / "runs", dry_run=True, progress=False, cwd=tmp_path)
    with pytest.raises(SweepFileError, match="run_cap must be a positive integer"):
        LocalAgent(_bayes(cap), options).run()
