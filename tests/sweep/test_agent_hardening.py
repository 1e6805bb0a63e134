"""The local agent against what users meet: hand-edited records, a full disk, runs that all fail
alike, and W&B's sweep semantics (run_cap, early_terminate, value types, duplicate keys).

Every case runs `timing-trainer` as a real process and reads its exit status and stderr."""

from __future__ import annotations

import json
import resource
import signal
import textwrap

import pytest
from helpers.sweep_cli import agent, cli, records, sweep_file

GLUE = ["${env}", "${interpreter}", "-m", "timing_trainer.glue"]


def _one_line(done) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


# -- hand-edited records -------------------------------------------------------------------

@pytest.mark.parametrize("field, value", [("attempts", "two"), ("status", "done"),
                                          ("params", [1]), ("index", True)])
def test_a_hand_edited_record_is_one_line_naming_file_and_field(tmp_path, program, field, value):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[1, 2])
    assert agent(file, runs).returncode == 0
    path = sorted(runs.glob("*/agent_record.json"))[0]
    path.write_text(json.dumps({**json.loads(path.read_text()), field: value}))
    done = agent(file, runs)
    line = _one_line(done)
    assert done.returncode == 2 and str(path) in line and f"`{field}`" in line


def test_a_finished_run_whose_results_are_gone_runs_again_and_says_so(tmp_path, program):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[1, 2])
    assert agent(file, runs).returncode == 0
    gone = sorted(runs.glob("*/timing_results.json"))[0]
    gone.unlink()
    done = agent(file, runs)
    assert done.returncode == 0 and "1 finished earlier, 1 to run" in done.stderr
    assert f"run {gone.parent.name}: recorded finished, but its timing_results.json is gone" \
        in done.stderr and gone.is_file()


# -- fail fast -----------------------------------------------------------------------------

def test_runs_failing_alike_before_they_start_stop_the_sweep(tmp_path, program):
    """Before: every run failed with the Hub line, to the last (72 times for sweep_rte_cased)."""
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, model=["m-one", "m-two"], a=[1, 2, 3, 4], mode="hub")
    done = agent(file, runs)
    assert done.returncode == 1 and len(records(runs)) == 3, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("stopped: 3 runs in a row failed before they started")
    assert "cannot reach the Hugging Face Hub" in last and f"timing-trainer sweep {file}" in last
    assert "--fail-fast 0" in last
    every = agent(file, runs, "--fail-fast", "0")
    assert every.returncode == 1 and len(records(runs)) == 8  # both models, every run


def test_fail_fast_must_not_be_negative(tmp_path, program):
    done = agent(sweep_file(tmp_path, program, a=[1]), tmp_path / "runs", "--fail-fast", "-1")
    assert done.returncode == 2 and "--fail-fast" in _one_line(done)


# -- the file system refuses a write -------------------------------------------------------

def _file_size_limit(limit: int):
    """For the agent's process: files may not grow past `limit` bytes (a write beyond fails
    with EFBIG, the kernel's own refusal, as a full disk's ENOSPC would)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the error, not the signal's kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def test_a_log_that_cannot_grow_stops_the_agent_in_one_line_then_resumes(tmp_path, program):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=[1, 2], mode="chatty")
    first = agent(file, runs, preexec=_file_size_limit(8192))  # the child's own output is cut
    assert first.returncode == 1 and "Traceback" not in first.stderr
    second = agent(file, runs, preexec=_file_size_limit(8192))  # the log is full: no header
    line = second.stderr.strip().splitlines()[-1]  # after the agent's opening line
    assert second.returncode == 2 and "Traceback" not in second.stderr
    assert line.startswith("timing-trainer sweep: error: cannot write") and "run.log" in line
    assert "File too large" in line
    assert "resume with `timing-trainer sweep" in line
    marked = records(runs)[0]
    assert marked["status"] == "failed" and marked["reason_kind"] == "write_error"
    assert not list(runs.rglob("*.tmp"))  # nothing half-written
    resumed = agent(file, runs)  # space again: the runs finish
    assert resumed.returncode == 0, resumed.stderr
    assert [r["status"] for r in records(runs)] == ["finished", "finished"]


def test_a_state_file_that_cannot_be_written_stops_before_any_run(tmp_path, program):
    runs = tmp_path / "runs"
    file = sweep_file(tmp_path, program, a=list(range(40)), text="y" * 200)
    done = agent(file, runs, preexec=_file_size_limit(4096))
    line = _one_line(done)
    assert done.returncode == 2 and "sweep_state.json" in line and "File too large" in line
    assert records(runs) == [] and not list(runs.rglob("*.tmp"))
    assert agent(file, runs, "--count", "1").returncode == 0


def test_a_runs_folder_name_too_long_is_one_line(tmp_path, program):
    done = agent(sweep_file(tmp_path, program, a=[1]), tmp_path / ("r" * 300))
    assert done.returncode == 2 and "File name too long" in _one_line(done)


# -- W&B's sweep semantics -----------------------------------------------------------------

def test_run_cap_applies_to_a_grid(tmp_path, program):
    file = sweep_file(tmp_path, program, a=[1, 2, 3, 4])
    config = file.read_text() + "run_cap: 2\n"
    file.write_text(config)
    done = cli("sweep", str(file), "--dry-run", cwd=tmp_path)
    commands = [line for line in done.stdout.splitlines() if not line.startswith("#")]
    assert done.returncode == 0 and len(commands) == 2
    assert commands[0].endswith("--a=1") and commands[1].endswith("--a=2")


def test_early_terminate_is_refused_naming_w_and_bs_agent(tmp_path, program):
    file = sweep_file(tmp_path, program, a=[1])
    file.write_text(file.read_text() + "early_terminate: {type: hyperband, min_iter: 3}\n")
    done = agent(file, tmp_path / "runs")
    line = _one_line(done)
    assert done.returncode == 2 and "early_terminate" in line and "W&B's agent" in line


BAD_TYPES = textwrap.dedent("""\
    method: grid
    command: [{command}]
    parameters:
      task_name: {{value: rte}}
      max_seq_length: {{values: [32.0, true]}}
      seed: {{value: null}}
      optim: {{value: {{name: adamw}}}}
      pad_to_max_length: {{value: false}}
      per_device_train_batch_size: {{value: 8}}
    """)


def test_validate_reads_each_value_as_the_program_will(tmp_path):
    """Before: `ok`, and every run failed at start."""
    command = ", ".join(f'"{c}"' for c in [*GLUE, "${args_no_boolean_flags}"])
    (tmp_path / "bad.yaml").write_text(BAD_TYPES.format(command=command))
    done = cli("sweeps", "validate", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 2
    said = {line.split(": ")[1].split()[1]: line for line in done.stderr.splitlines()}
    assert "'32.0' is not a whole number" in said["max_seq_length"]
    assert "null reaches the program" in said["seed"] and "(42)" in said["seed"]
    assert "a mapping" in said["optim"]
    assert "keeps its default, true" in said["pad_to_max_length"]
    assert "per_device_train_batch_size" not in said
    good = ", ".join(f'"{c}"' for c in [*GLUE, "${args}"])
    fixed = BAD_TYPES.format(command=good).replace("[32.0, true]", "[32, 64]")
    fixed = fixed.replace("{value: null}", "{value: 1}").replace("{name: adamw}", "adamw_torch")
    (tmp_path / "good.yaml").write_text(fixed)
    ok = cli("sweeps", "validate", "good.yaml", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr  # `false` is fine with ${args}


def test_a_key_named_twice_is_an_error(tmp_path, program):
    file = sweep_file(tmp_path, program, a=[1])
    file.write_text(file.read_text().replace("parameters:\n", "parameters:\n  a: {value: 9}\n"))
    for done in (cli("sweeps", "validate", str(file), cwd=tmp_path),
                 agent(file, tmp_path / "runs")):
        line = _one_line(done)
        assert done.returncode == 2 and "'a' appears twice" in line and "lines" in line
