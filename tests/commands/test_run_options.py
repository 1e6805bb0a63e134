"""`timing-trainer run` offers every timing option, generated from the one declaration
(`TimingOptions`): the flags in `--help`, their values handed to patch_trainer, and bad values
refused in one line before the script runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from timing_trainer.commands.main import build_parser
from timing_trainer.commands.run import timing_options
from timing_trainer.errors import CliError
from timing_trainer.options import TimingOptions

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "plain_script.py"


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "timing_trainer", "run", *args],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled"})


def _expected_flags() -> set[str]:
    """What the declaration says `run` must offer: `--name` per field, `--no-name` for booleans."""
    flags = set()
    for item in fields(TimingOptions):
        flag = item.name.replace("_", "-")
        flags.add(f"--{flag}")
        if isinstance(item.default, bool):
            flags.add(f"--no-{flag}")
    return flags


def test_run_help_lists_exactly_the_declared_timing_options():
    proc = _cli("--help", timeout=120)
    assert proc.returncode == 0, proc.stderr
    offered = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", proc.stdout))
    assert offered - {"--help", "--tag"} == _expected_flags()
    for item in fields(TimingOptions):  # each flag carries its field's own help
        first_words = " ".join(item.metadata["help"].split()[:3])
        assert first_words in " ".join(proc.stdout.split()), item.name


def _non_default(item) -> object:
    """A valid value other than the field's default, by its type."""
    if isinstance(item.default, bool):
        return not item.default
    if isinstance(item.default, int):
        return item.default + 2
    return 7.5  # the floats (peak_tflops, cv_warning_threshold)


def test_every_flag_reaches_patch_trainers_keywords():
    wanted = {item.name: _non_default(item) for item in fields(TimingOptions)}
    argv = ["run"]
    for name, value in wanted.items():
        flag = name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(f"--{flag}" if value else f"--no-{flag}")
        else:
            argv += [f"--{flag}", str(value)]
    args = build_parser().parse_args([*argv, "script.py", "--its-own", "flag"])
    assert timing_options(args) == wanted
    assert args.script_args == ["--its-own", "flag"]  # the script's flags stay the script's
    defaults = build_parser().parse_args(["run", "script.py"])
    assert timing_options(defaults) == asdict(TimingOptions())


def test_a_bad_value_is_refused_by_the_declarations_own_check():
    args = build_parser().parse_args(["run", "--inference-warmup-batches", "-1", "s.py"])
    with pytest.raises(CliError, match="inference_warmup_batches must be an integer >= 0"):
        timing_options(args)


@pytest.mark.parametrize("flag,value,message", [
    ("--finetuning-iters", "0", "finetuning_iters must be an integer >= 1, got 0"),
    ("--cv-warning-threshold", "nan", "cv_warning_threshold must be a positive number"),
])
def test_bad_values_are_one_line_and_exit_2_before_the_script_runs(tmp_path, flag, value,
                                                                    message):
    marker = tmp_path / "ran"
    script = tmp_path / "script.py"
    script.write_text(f"open({str(marker)!r}, 'w').close()\n")
    code = ("import sys\nfrom timing_trainer.commands.main import main\n"
            f"status = main(['run', {flag!r}, {value!r}, {str(script)!r}])\n"
            "print('torch loaded' if 'torch' in sys.modules else 'no torch')\nsys.exit(status)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"timing-trainer run: error: {message}"), \
        proc.stderr
    assert not marker.exists()
    assert proc.stdout.strip() == "no torch"  # refused before anything heavy was loaded


@pytest.mark.parametrize("write", [True, False])
def test_write_timing_results_passes_through_to_the_patched_trainer(tmp_path, write):
    """A flag `run` did not have before: `--no-write-timing-results` leaves no results file."""
    out = tmp_path / "out"
    flag = "--write-timing-results" if write else "--no-write-timing-results"
    proc = _cli("--finetuning-iters", "1", "--timing-warmup-steps", "0", flag, str(SCRIPT),
                str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "eval_accuracy" in proc.stdout  # the script ran to its end
    written = sorted(out.rglob("timing_results*.json"))
    assert bool(written) is write, written
