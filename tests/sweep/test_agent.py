"""The local sweep agent's mechanics, on a fake program that a test writes (no torch, fast)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from pathlib import Path

import pytest
import yaml
from helpers.agent_process import start_agent, wait_for_child

from timing_trainer.commands.main import main as cli_main
from timing_trainer.sweep.agent.attempt import RECORD_FILE, disable_wandb_reporting
from timing_trainer.sweep.agent.liveness import pid_alive
from timing_trainer.sweep.agent.local import STATE_FILE, LocalAgent
from timing_trainer.sweep.agent.plan import AgentOptions

FAKE_PROGRAM = textwrap.dedent(
    """
    import json, os, sys, time
    args = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
    flags = [a for a in sys.argv[1:] if a.startswith("--") and "=" not in a]
    run_dir = os.environ["TIMING_TRAINER_RUN_DIR"]
    with open(os.path.join(run_dir, "received.json"), "w") as f:
        json.dump({"argv": sys.argv[1:], "args": args, "flags": flags,
                   "gpu": os.environ.get("CUDA_VISIBLE_DEVICES"),
                   "wandb_mode": os.environ.get("WANDB_MODE"), "cwd": os.getcwd()}, f)
    marker = args.get("hang_if")
    if marker and os.path.exists(marker):
        open(os.path.join(run_dir, "started"), "w").close()
        time.sleep(60)
    score = -(float(args.get("x", 0)) - 0.3) ** 2
    results = {"status": "finished", "error": None, "finetuning_time": 0.01,
               "eval_metrics": {"score": score}}
    mode = args.get("mode", "ok")
    if mode == "oom":
        results = {"status": "failed", "error": {"kind": "oom", "message": "CUDA out of memory"}}
    path = os.path.join(run_dir, "timing_results.json")
    with open(path, "w") as f:
        json.dump(results, f)
    if mode == "oom":
        print("out of memory", file=sys.stderr)
        sys.exit(3)
    if mode == "crash":
        raise RuntimeError("boom at step 3")
    if mode == "exit5":
        print("bad things", file=sys.stderr)
        sys.exit(5)
    print("done", args)
    """
)


@pytest.fixture
def fake_program(tmp_path):
    path = tmp_path / "fake_program.py"
    path.write_text(FAKE_PROGRAM)
    return path


def make_config(program: Path, **parameters) -> dict:
    params = {k: ({"values": v} if isinstance(v, list) else {"value": v}) for k, v in parameters.items()}
    return {"name": "fake", "method": "grid", "program": str(program),
            "metric": {"name": "x", "goal": "maximize"}, "parameters": params}


def write_sweep(tmp_path: Path, config: dict, name: str = "fake.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_agent(config, runs_dir, **kw):
    options = AgentOptions(runs_dir=runs_dir, progress=False, **kw)
    return LocalAgent(config, options, sweep_file="fake.yaml").run()


def records(runs_dir: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(runs_dir.glob(f"*/{RECORD_FILE}"))]


def attempts_in_log(run_dir: Path) -> int:
    return (run_dir / "run.log").read_text().count("=== attempt ")


def test_all_runs_finish_and_a_rerun_does_nothing(tmp_path, fake_program):
    config = make_config(fake_program, a=[1, 2], b=["x", "y"], c=0.5)
    runs_dir = tmp_path / "runs"
    outcome = run_agent(config, runs_dir)
    assert outcome.exit_code == 0
    recs = records(runs_dir)
    assert [r["status"] for r in recs] == ["finished"] * 4
    # W&B's grid order: names sorted, the last varying fastest.
    assert [(r["params"]["a"], r["params"]["b"]) for r in recs] == [(1, "x"), (1, "y"), (2, "x"), (2, "y")]
    state = json.loads((runs_dir / STATE_FILE).read_text())
    assert state["counts"] == {"finished": 4} and state["total_runs"] == 4
    for rec in recs:
        received = json.loads((runs_dir / rec["dir"] / "received.json").read_text())
        assert received["args"]["a"] == str(rec["params"]["a"]) and received["args"]["c"] == "0.5"
        assert received["wandb_mode"] == "offline"
        assert rec["wall_time"] > 0 and rec["exit_code"] == 0

    again = run_agent(config, runs_dir)
    assert again.attempted == [] and again.skipped == 4 and again.exit_code == 0
    assert all(attempts_in_log(runs_dir / r["dir"]) == 1 for r in records(runs_dir))


def test_failed_runs_are_recorded_with_their_reason_and_the_others_finish(tmp_path, fake_program):
    config = make_config(fake_program, mode=["ok", "crash", "oom", "exit5"], n=[1, 2])
    runs_dir = tmp_path / "runs"
    outcome = run_agent(config, runs_dir)
    by_mode = {}
    for rec in records(runs_dir):
        by_mode.setdefault(rec["params"]["mode"], []).append(rec)
    assert len(records(runs_dir)) == 8
    assert all(r["status"] == "finished" for r in by_mode["ok"])
    assert all(r["status"] == "failed" and r["reason_kind"] == "oom" for r in by_mode["oom"])
    assert all(r["reason"] == "CUDA out of memory" for r in by_mode["oom"])
    crash = by_mode["crash"][0]
    assert crash["status"] == "failed" and crash["exit_code"] == 1
    assert crash["reason_kind"] == "nonzero_exit" and "boom at step 3" in crash["reason"]
    assert "bad things" in by_mode["exit5"][0]["reason"] and by_mode["exit5"][0]["exit_code"] == 5
    assert outcome.exit_code == 1  # a crash is a failure of the sweep
    state = json.loads((runs_dir / STATE_FILE).read_text())
    assert state["counts"] == {"finished": 2, "failed": 6}

    # A second call retries the failed runs only.
    again = run_agent(config, runs_dir)
    assert len(again.attempted) == 6


def test_out_of_memory_alone_does_not_fail_the_sweep(tmp_path, fake_program):
    config = make_config(fake_program, mode=["ok", "oom"])
    assert run_agent(config, tmp_path / "runs").exit_code == 0


def test_dry_run_runs_nothing(tmp_path, fake_program, capsys):
    config = make_config(fake_program, a=[1, 2, 3])
    runs_dir = tmp_path / "runs"
    outcome = run_agent(config, runs_dir, dry_run=True)
    assert outcome.attempted == []
    assert not runs_dir.exists()
    printed = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    assert len(printed) == 3 and all(str(fake_program) in line for line in printed)
    assert printed[0].endswith("--a=1") and printed[2].endswith("--a=3")


def test_count_limits_the_runs_of_one_call(tmp_path, fake_program):
    config = make_config(fake_program, a=[1, 2, 3])
    runs_dir = tmp_path / "runs"
    assert len(run_agent(config, runs_dir, count=2).attempted) == 2
    second = run_agent(config, runs_dir, count=2)
    assert len(second.attempted) == 1 and second.skipped == 2


def test_shell_characters_reach_the_program_as_plain_text(tmp_path, fake_program):
    nasty = '"; rm -rf x $(echo hi) `id` | cat > y'
    config = make_config(fake_program, text=nasty)
    runs_dir = tmp_path / "runs"
    (tmp_path / "x").mkdir()
    assert run_agent(config, runs_dir, cwd=tmp_path).exit_code == 0
    rec = records(runs_dir)[0]
    received = json.loads((runs_dir / rec["dir"] / "received.json").read_text())
    assert received["args"]["text"] == nasty
    assert (tmp_path / "x").is_dir() and not (tmp_path / "y").exists()


def test_gpus_get_one_worker_each(tmp_path, fake_program):
    config = make_config(fake_program, a=[1, 2, 3, 4])
    runs_dir = tmp_path / "runs"
    assert run_agent(config, runs_dir, gpus=["0", "1"]).exit_code == 0
    gpus = set()
    for rec in records(runs_dir):
        received = json.loads((runs_dir / rec["dir"] / "received.json").read_text())
        assert received["gpu"] == rec["gpu"]
        gpus.add(rec["gpu"])
    assert gpus <= {"0", "1"} and len(records(runs_dir)) == 4


def test_wandb_disabled_turns_reporting_off(tmp_path, fake_program):
    config = make_config(fake_program, a=[1])
    config["command"] = ["${env}", "${interpreter}", "${program}", "--report_to=wandb", "${args}"]
    runs_dir = tmp_path / "runs"
    assert run_agent(config, runs_dir, wandb_mode="disabled").exit_code == 0
    received = json.loads((runs_dir / records(runs_dir)[0]["dir"] / "received.json").read_text())
    assert received["args"]["report_to"] == "none" and received["wandb_mode"] == "disabled"
    assert disable_wandb_reporting(["--report_to", "wandb", "-x"]) == ["--report_to", "none", "-x"]


def test_a_run_killed_half_way_is_rerun_and_counted_once(tmp_path, fake_program):
    marker = tmp_path / "hang"
    marker.touch()
    config = make_config(fake_program, a=[1, 2, 3], hang_if=str(marker))  # runs hang while it exists
    sweep_file = write_sweep(tmp_path, config)
    runs_dir = tmp_path / "runs"
    agent = start_agent(sweep_file, runs_dir)
    try:
        rec = wait_for_child(runs_dir, agent)
    finally:
        agent.kill()  # SIGKILL: no chance to clean up
        agent.wait()
    child = rec["pid"]
    os.kill(child, signal.SIGKILL)  # the child lives in its own session; kill it as a user would
    assert rec["status"] == "running" and rec["index"] == 0
    marker.unlink()

    second = start_agent(sweep_file, runs_dir)
    out, _ = second.communicate(timeout=60)
    assert second.returncode == 0, out
    recs = records(runs_dir)
    assert len(recs) == 3 and all(r["status"] == "finished" for r in recs)
    first = next(r for r in recs if r["index"] == 0)
    assert first["attempts"] == 2 and attempts_in_log(runs_dir / first["dir"]) == 2
    state = json.loads((runs_dir / STATE_FILE).read_text())
    assert state["counts"] == {"finished": 3} and len(state["runs"]) == 3
    assert "3 finished, 0 failed of 3" in out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_ctrl_c_kills_the_child_and_stops_cleanly(tmp_path, fake_program, sig):
    marker = tmp_path / "hang"
    marker.touch()
    config = make_config(fake_program, a=[1, 2], hang_if=str(marker))
    sweep_file = write_sweep(tmp_path, config)
    runs_dir = tmp_path / "runs"
    agent = start_agent(sweep_file, runs_dir)
    rec = wait_for_child(runs_dir, agent)
    agent.send_signal(sig)
    out, _ = agent.communicate(timeout=30)
    assert agent.returncode == 130, out
    assert not pid_alive(rec["pid"])  # gone, or a zombie its agent did not reap
    after = json.loads((runs_dir / rec["dir"] / RECORD_FILE).read_text())
    assert after["status"] == "interrupted" and after["reason_kind"] == "interrupted", (after, out)
    assert len(records(runs_dir)) == 1  # the second run never started
    assert "interrupted" in out


@pytest.mark.parametrize(
    "content, expected",
    [
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("method: hyperband\nparameters: {a: {value: 1}}\n", "unknown sweep method 'hyperband'"),
        ("method: grid\nparameters: {a: {value: 1}\n", "not valid YAML"),
        ("", "must be a YAML mapping, this one is empty"),
    ],
)
def test_bad_sweep_files_give_one_clear_line(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    assert cli_main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err and str(path) in err


def test_a_missing_sweep_file_gives_one_clear_line(tmp_path, capsys):
    assert cli_main(["sweep", str(tmp_path / "nope.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no such sweep file" in err


def test_a_parameter_the_program_does_not_take_is_refused(tmp_path, capsys, monkeypatch):
    from timing_trainer.sweep.config import validate

    monkeypatch.setattr(validate, "_glue_argument_names", lambda: {"task_name", "learning_rate"})
    config = {"method": "grid", "command": ["${env}", "${interpreter}", "-m", "timing_trainer.glue",
                                            "${args}"],
              "parameters": {"task_name": {"value": "rte"}, "learnig_rate": {"value": 1.0e-5}}}
    path = write_sweep(tmp_path, config, "typo.yaml")
    assert cli_main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "learnig_rate" in err
    assert not (tmp_path / "runs").exists()


def test_a_missing_program_is_refused_before_any_run(tmp_path, capsys):
    config = make_config(tmp_path / "nope.py", a=[1])
    path = write_sweep(tmp_path, config)
    assert cli_main(["sweep", str(path), "--runs-dir", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not found" in err
    assert not (tmp_path / "runs").exists()


def test_bayes_sweeps_propose_runs_from_earlier_results_and_resume(tmp_path, fake_program):
    config = {"name": "bayes", "method": "bayes", "program": str(fake_program),
              "metric": {"name": "score", "goal": "maximize"},
              "parameters": {"x": {"min": 0.0, "max": 1.0}, "tag": {"value": "b"}}}
    runs_dir = tmp_path / "runs"
    first = run_agent(config, runs_dir, count=3, seed=1)
    assert first.exit_code == 0 and len(first.attempted) == 3
    recs = records(runs_dir)
    assert [r["index"] for r in recs] == [0, 1, 2]
    for rec in recs:
        assert 0.0 <= rec["params"]["x"] <= 1.0 and rec["params"]["tag"] == "b"
        assert rec["metric"] == pytest.approx(-((rec["params"]["x"] - 0.3) ** 2))
    second = run_agent(config, runs_dir, count=2)
    assert len(second.attempted) == 2 and second.skipped == 3
    assert [r["index"] for r in records(runs_dir)] == [0, 1, 2, 3, 4]
    state = json.loads((runs_dir / STATE_FILE).read_text())
    assert state["counts"] == {"finished": 5} and state["seed"] == 1
    with pytest.raises(Exception, match="run count"):
        LocalAgent({**config}, AgentOptions(runs_dir=runs_dir, progress=False))


def test_random_sweeps_keep_their_seed_and_resume(tmp_path, fake_program):
    config = {"name": "rnd", "method": "random", "program": str(fake_program), "run_cap": 3,
              "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    runs_dir = tmp_path / "runs"
    assert len(run_agent(config, runs_dir, count=2).attempted) == 2
    seed = json.loads((runs_dir / STATE_FILE).read_text())["seed"]
    second = run_agent(config, runs_dir)  # no seed given: the state file's seed, the same draws
    assert len(second.attempted) == 1 and second.skipped == 2
    xs = [r["params"]["x"] for r in records(runs_dir)]
    from timing_trainer.sweep.config.runs import expand_runs

    assert xs == [r["x"] for r in expand_runs(config, seed=seed)]


def test_a_bayes_search_that_cannot_propose_stops_with_one_line(tmp_path, fake_program, capsys):
    config = {"name": "b", "method": "bayes", "program": str(fake_program), "run_cap": 2,
              "metric": {"name": "score", "goal": "maximize"},
              "parameters": {"x": {"value": 1}}}  # nothing to search
    path = write_sweep(tmp_path, config)
    assert cli_main(["sweep", str(path), "--runs-dir", str(tmp_path / "runs"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "searchable parameter" in err[-1]


def test_classify_reads_exit_status_and_results(tmp_path):
    from timing_trainer.sweep.agent.outcomes import classify

    log = tmp_path / "run.log"
    log.write_text("loading\nRuntimeError: CUDA out of memory. Tried to allocate 2 GiB\n\n")
    assert classify(0, None, log) == ("finished", None, None)
    assert classify(3, None, log)[:2] == ("failed", "oom")
    assert "Tried to allocate" in classify(3, None, log)[2]
    failed = {"status": "failed", "error": {"kind": "exception", "message": "bad"}}
    assert classify(1, failed, log) == ("failed", "exception", "bad")
    assert classify(0, failed, log)[:2] == ("failed", "exception")
    assert classify(-9, None, log) == ("failed", "killed", "killed by signal SIGKILL")
    assert classify(7, None, log)[1] == "nonzero_exit"


def test_a_second_agent_on_the_same_runs_folder_is_refused(tmp_path, fake_program):
    import fcntl

    from timing_trainer.errors import SweepFileError

    config = make_config(fake_program, a=[1])
    runs_dir = tmp_path / "runs"
    runs_dir.mkdir()
    with open(runs_dir / ".agent.lock", "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SweepFileError, match="another agent"):
            run_agent(config, runs_dir)
    assert run_agent(config, runs_dir).exit_code == 0  # released: runs


def test_without_a_bar_each_run_line_is_still_written():
    import io

    from timing_trainer.sweep.agent.progress import progress_bar

    out = io.StringIO()
    for enabled, total in ((False, 3), (True, 0)):  # --no-progress; nothing to run
        bar = progress_bar(total, "demo", out, enabled)
        bar.update(1)
        bar.write("[1/3] finished in 1.0 s", file=out)
        bar.close()
    assert out.getvalue() == "[1/3] finished in 1.0 s\n" * 2  # the line, and no bar drawn
    shown = io.StringIO()
    bar = progress_bar(2, "demo", shown, True)
    bar.update(1)
    bar.close()
    assert "demo" in shown.getvalue() and "1/2" in shown.getvalue()


def test_an_internal_crash_in_a_worker_keeps_its_traceback():
    """The agent's own bug is not a bad sweep file: it surfaces as itself, with the worker's
    frame in its traceback; a sweep file's error stays the CLI's one-line error."""
    from timing_trainer.errors import SweepFileError
    from timing_trainer.sweep.agent.child import Children
    from timing_trainer.sweep.agent.workers import run_workers

    def crash(item, slot):
        raise ZeroDivisionError("a bug in the agent")

    def refuse(item, slot):
        raise SweepFileError("bad.yaml: no such parameter")

    for work, error in ((crash, ZeroDivisionError), (refuse, SweepFileError)):
        items = iter([1, 2, 3])
        with pytest.raises(error) as info:
            run_workers([None, None], lambda it=items: next(it, None), work, Children(), say=print)
        assert info.traceback[-1].name == work.__name__
