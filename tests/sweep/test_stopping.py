"""The agent under signals, as a scheduler or a user sends them, and resumes after a kill -9.

Real processes throughout: the agent runs as `python -c ...` (the CLI's `main`; the test of the
SIGKILL shortens the grace period to 1 s), its children are a small fake program, and the
signals are `os.kill(pid, ...)` on the agent's pid.
"""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from helpers.agent_process import start_agent, wait_for_child

from timing_trainer.sweep.agent.attempt import RECORD_FILE
from timing_trainer.sweep.agent.liveness import live_child, pid_alive, process_identity
from timing_trainer.sweep.agent.local import LocalAgent
from timing_trainer.sweep.agent.outcomes import classify
from timing_trainer.sweep.agent.plan import AgentOptions

CHILD = textwrap.dedent("""
    import json, os, signal, sys, time
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    run_dir = os.environ["TIMING_TRAINER_RUN_DIR"]
    mode = args.get("mode", "ok")

    def write(status):
        with open(os.path.join(run_dir, "timing_results.json"), "w") as f:
            json.dump({"status": status, "error": None, "finetuning_time_list": [0.5, 0.4],
                       "evaluations": [{"inference_total_time": 0.1}]}, f)

    def slow_stop(signum, frame):  # a program that needs a moment to write its results
        time.sleep(2.0)
        sys.exit(130)

    if mode == "slow_stop":
        signal.signal(signal.SIGINT, slow_stop)
    if mode == "deaf":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if mode in ("slow_stop", "deaf", "hang"):
        write("running")
        open(os.path.join(run_dir, "started"), "w").close()
        time.sleep(60)
    if mode == "exit143":
        write("running")
        sys.exit(143)
    if mode == "running_exit0":
        write("running")
        sys.exit(0)
    write("finished")
""")

@pytest.fixture
def sweep(tmp_path):
    program = tmp_path / "child.py"
    program.write_text(CHILD)

    def write(**parameters) -> Path:
        params = {k: ({"values": v} if isinstance(v, list) else {"value": v})
                  for k, v in parameters.items()}
        path = tmp_path / "sweep.yaml"
        path.write_text(yaml.safe_dump({"name": "s", "method": "grid", "program": str(program),
                                        "parameters": params}))
        return path

    return write


def record_of(runs_dir: Path, record: dict) -> dict:
    return json.loads((runs_dir / record["dir"] / RECORD_FILE).read_text())


@pytest.mark.parametrize("first, second", [(signal.SIGINT, signal.SIGTERM),
                                           (signal.SIGTERM, signal.SIGINT)])
def test_a_second_signal_while_stopping_is_absorbed(tmp_path, sweep, first, second):
    runs_dir = tmp_path / "runs"
    agent = start_agent(sweep(mode="slow_stop", a=[1, 2]), runs_dir)
    child = wait_for_child(runs_dir, agent)
    os.kill(agent.pid, first)
    time.sleep(0.5)  # the child is now in its 2 s of stopping
    os.kill(agent.pid, second)
    os.kill(agent.pid, second)
    out, _ = agent.communicate(timeout=60)
    assert agent.returncode == 130, out
    assert not pid_alive(child["pid"])
    after = record_of(runs_dir, child)
    assert after["status"] == "interrupted" and after["exit_code"] == 130, after
    assert f"{second.name} ignored" in out
    assert "0 finished, 0 failed, 1 interrupted, 1 pending of 2" in out  # the summary is there


def test_a_child_deaf_to_sigint_is_killed_after_the_grace_period(tmp_path, sweep):
    runs_dir = tmp_path / "runs"
    agent = start_agent(sweep(mode="deaf"), runs_dir, grace=1.0)
    child = wait_for_child(runs_dir, agent)
    os.kill(agent.pid, signal.SIGTERM)
    time.sleep(0.3)
    os.kill(agent.pid, signal.SIGTERM)  # absorbed: the SIGKILL after 1 s still comes
    out, _ = agent.communicate(timeout=60)
    assert agent.returncode == 130, out
    assert not pid_alive(child["pid"])
    after = record_of(runs_dir, child)
    assert after["status"] == "interrupted" and after["exit_code"] == -signal.SIGKILL


def test_resume_refuses_while_an_orphaned_child_runs(tmp_path, sweep):
    runs_dir = tmp_path / "runs"
    sweep_file = sweep(mode="hang")
    agent = start_agent(sweep_file, runs_dir)
    child = wait_for_child(runs_dir, agent)
    agent.kill()  # kill -9: the child lives on, the record says running
    agent.wait()
    try:
        assert pid_alive(child["pid"]) and child["host"] and child["pid_start"]
        second = start_agent(sweep_file, runs_dir)
        out, _ = second.communicate(timeout=60)
        lines = [line for line in out.splitlines() if line.strip()]
        assert second.returncode == 2, out
        assert len(lines) == 1 and f"pid {child['pid']}" in lines[0], lines
        assert record_of(runs_dir, child)["attempts"] == 1  # not started a second time
    finally:
        os.killpg(child["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(child["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert live_child(record_of(runs_dir, child)) is None


def test_a_reused_pid_is_not_taken_for_the_child():
    record = {"status": "running", **process_identity(os.getpid())}
    assert live_child(record) == os.getpid()
    assert live_child({**record, "pid_start": "1"}) is None  # same pid, another process
    assert live_child({**record, "host": "another-machine"}) is None
    assert live_child({**record, "status": "finished"}) is None


def test_exit_143_and_a_results_file_left_running_are_not_finished(tmp_path, sweep):
    log = tmp_path / "run.log"
    log.write_text("")
    running = {"status": "running", "error": None}
    assert classify(143, running, log) == ("interrupted", "interrupted", "exit status 143 (SIGTERM)")
    assert classify(130, None, log)[:2] == ("interrupted", "interrupted")
    assert classify(-signal.SIGTERM, None, log)[:2] == ("interrupted", "interrupted")
    assert classify(0, running, log)[:2] == ("failed", "incomplete")

    runs_dir = tmp_path / "runs"
    config = yaml.safe_load(sweep(mode=["exit143", "running_exit0", "ok"]).read_text())
    outcome = LocalAgent(config, AgentOptions(runs_dir=runs_dir, progress=False)).run()
    by_mode = {r["params"]["mode"]: r for r in outcome.records.values()}
    assert by_mode["exit143"]["status"] == "interrupted"
    assert by_mode["running_exit0"]["status"] == "failed"
    assert by_mode["ok"]["status"] == "finished"
    assert outcome.exit_code == 1
    again = LocalAgent(config, AgentOptions(runs_dir=runs_dir, progress=False)).run()
    assert len(again.attempted) == 2  # both are run again; the finished one is not
