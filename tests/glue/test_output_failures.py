"""What the GLUE program writes cannot change or hide how a run went, as a user meets it in real
processes: a reader that goes away (`| head -1`, a closed stdout or stderr) leaves `finished`
and exit status 0; a write the file system refuses (a full disk, a file-size limit, a folder
it may not write) is one line naming the path, exit status 2, no traceback, nothing
half-written, and the results marked failed with the reason where they can still be written;
an unknown `WANDB_MODE` is one line naming the variable, exit 2, before the model loads.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.child import child_env

from timing_trainer.glue import run
from timing_trainer.results.schema import RESULTS_FILENAME, validate_results

ASSETS = {"tasks": ["rte"]}
REPO = Path(__file__).resolve().parents[2]
PROG = "timing_trainer.glue"

# The program with `os.replace` refusing the results file's writes as a full disk does: the
# writes numbered in FAIL_WRITES (0: every one). The atomic layer's own `os.replace` is the
# one patched, so the temporary file really exists when the refusal comes.
FULL_DISK = """
import errno, os, sys
fail = {int(n) for n in os.environ["FAIL_WRITES"].split(",")}
real, seen = os.replace, [0]
def replace(src, dst, *args, **kwargs):
    if str(dst).endswith("timing_results.json"):
        seen[0] += 1
        if 0 in fail or seen[0] in fail:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real(src, dst, *args, **kwargs)
os.replace = replace
from timing_trainer.glue.run import main
sys.argv[0] = "timing_trainer.glue"
sys.exit(main())
"""


def _argv(assets, out, *extra):
    return [
        "--task_name=rte", f"--model_name_or_path={assets / 'models' / 'tiny-uncased'}",
        f"--data_dir={assets}", f"--output_dir={out}",
        f"--tokenization_cache_dir={out.parent / 'cache'}", "--max_seq_length=32",
        "--per_device_train_batch_size=8", "--num_train_epochs=1", "--finetuning_iters=1",
        "--report_to=none", "--disable_tqdm=True", "--use_cpu=True", "--save_strategy=no",
        *extra,
    ]


def _env(**extra):
    return child_env(PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                     **extra)


def _results(out):
    data = json.loads((out / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


def _ours(stderr: str) -> list[str]:
    """The program's own lines on stderr (libraries log there too)."""
    assert "Traceback" not in stderr, stderr[-3000:]
    return [line for line in stderr.splitlines() if line.startswith(f"{PROG}:")]


def _no_temporary_files(out: Path) -> None:
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")], list(out.iterdir())


# --- a reader that goes away -----------------------------------------------------------------


@pytest.mark.slow
def test_piped_into_head_the_run_still_finishes(assets, tmp_path):
    """`python -m timing_trainer.glue ... | head -1`: was `failed` (BrokenPipeError from the
    summary line) with exit status 1."""
    out = tmp_path / "run"
    command = " ".join([sys.executable, "-m", PROG, *_argv(assets, out)])
    proc = subprocess.run(["bash", "-c", f'{command} 2>"$ERR" | head -1; '
                                         'echo "statuses ${PIPESTATUS[*]}" >&2'],
                          capture_output=True, text=True, timeout=300,
                          env=_env(ERR=str(tmp_path / "stderr.txt")))
    assert proc.stderr.strip() == "statuses 0 0", (proc.stderr,
                                                   (tmp_path / "stderr.txt").read_text()[-3000:])
    assert len(proc.stdout.splitlines()) == 1  # head had its line
    assert _ours((tmp_path / "stderr.txt").read_text()) == []
    assert _results(out)["status"] == "finished"


@pytest.mark.slow
def test_closed_stdout_and_stderr_leave_finished(assets, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", PROG, *_argv(assets, out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    proc.stdout.close()  # before the program has printed anything
    proc.stderr.close()
    assert proc.wait(timeout=300) == 0
    data = _results(out)
    assert data["status"] == "finished" and data["error"] is None
    assert data["finetuning_time"] > 0


# --- the file system refuses a write ---------------------------------------------------------


@pytest.mark.slow
def test_a_full_disk_during_the_run_is_one_line_and_the_run_is_marked_failed(assets, tmp_path):
    """The second write of the results (after the fine-tuning) finds the disk full; the space
    is back for the failed record, which then says why."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, *_argv(assets, out)],
                          capture_output=True, text=True, timeout=300, env=_env(FAIL_WRITES="2"))
    assert proc.returncode == 2, proc.stderr[-3000:]
    path = out / RESULTS_FILENAME
    assert _ours(proc.stderr) == [
        f"{PROG}: error: cannot write {str(path)!r}: No space left on device (ENOSPC) "
        f"(results: {path})"]
    data = _results(out)
    assert data["status"] == "failed" and data["error"]["kind"] == "exception"
    assert "No space left on device (ENOSPC)" in data["error"]["message"]
    _no_temporary_files(out)
    assert not (out / "error_traceback.txt").exists()


@pytest.mark.slow
def test_a_disk_that_stays_full_leaves_no_half_written_file(assets, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, *_argv(assets, out)],
                          capture_output=True, text=True, timeout=300, env=_env(FAIL_WRITES="0"))
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = _ours(proc.stderr)
    assert line.endswith("No space left on device (ENOSPC); the results could not be marked "
                         "failed either (ENOSPC)"), line
    assert not (out / RESULTS_FILENAME).exists()
    _no_temporary_files(out)


def _file_size_limit(limit: int):
    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from the write, not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.slow
def test_a_file_size_limit_is_one_line_naming_the_results_file(assets, tmp_path):
    """A real refusal by the kernel (RLIMIT_FSIZE): the results file is larger than 2 KiB."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", PROG, *_argv(assets, out)], capture_output=True,
                          text=True, timeout=300, env=_env(), preexec_fn=_file_size_limit(2048))
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = _ours(proc.stderr)
    assert line.startswith(f"{PROG}: error: cannot write {str(out / RESULTS_FILENAME)!r}: "
                           "File too large (EFBIG)"), line
    _no_temporary_files(out)


def _unwritable_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        return locked / "run"
    try:  # root: chmod does not bind; sysfs refuses new entries
        os.mkdir("/sys/kernel/timing-trainer-probe")
    except OSError:
        return Path("/sys/kernel/timing-trainer-run")
    pytest.skip("running as root, and no folder here refuses root's writes")


def test_an_output_folder_it_may_not_write_is_one_line_before_the_model_loads(
        assets, tmp_path, monkeypatch, capsys):
    out = _unwritable_folder(tmp_path)
    monkeypatch.setattr(run, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    assert run.main(_argv(assets, out)) == 2
    (line,) = _ours(capsys.readouterr().err)
    assert line.startswith(f"{PROG}: error: cannot write {str(out)!r}: "), line
    assert line.split(": ")[-1].split(" (")[0] in ("Permission denied", "Operation not permitted")


def test_a_name_too_long_is_one_line(assets, tmp_path, monkeypatch, capsys):
    out = tmp_path / ("n" * 300)
    monkeypatch.setattr(run, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    assert run.main(_argv(assets, out)) == 2
    (line,) = _ours(capsys.readouterr().err)
    assert line.startswith(f"{PROG}: error: cannot "), line  # "use": the arguments' own check
    assert f"{str(out)!r}: File name too long (ENAMETOOLONG)" in line


# --- WANDB_MODE ------------------------------------------------------------------------------


def test_an_unknown_wandb_mode_is_one_line_before_the_model_loads(assets, tmp_path):
    """Was a pydantic traceback, then "W&B is not logged in" (false) and exit status 1."""
    out = tmp_path / "run"
    argv = [a if a != "--report_to=none" else "--report_to=wandb" for a in _argv(assets, out)]
    proc = subprocess.run([sys.executable, "-m", PROG, *argv], capture_output=True, text=True,
                          timeout=300, env=_env(WANDB_MODE="bogus"))
    assert proc.returncode == 2, proc.stderr[-3000:]
    (line,) = _ours(proc.stderr)
    assert line.startswith(f"{PROG}: error: WANDB_MODE='bogus' is not a W&B mode: set it to one "
                           "of online, offline"), line
    assert "not logged in" not in proc.stderr and "Loading weights" not in proc.stderr
    assert not out.exists() or not (out / RESULTS_FILENAME).exists()


def test_wandb_mode_does_not_matter_when_wandb_is_off(assets, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "bogus")

    def loaded(*args, **kwargs):
        raise RuntimeError("reached the model load")

    monkeypatch.setattr(run, "load_model", loaded)
    assert run.main(_argv(assets, tmp_path / "run")) == 1  # past every check, to the load
    assert "reached the model load" in capsys.readouterr().err
