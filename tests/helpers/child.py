"""Child processes for the signal tests: start one, wait until it says where it is, signal it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "WANDB_MODE": "disabled",
           "PYTHONUNBUFFERED": "1"}
    env.update(extra)
    return env


def start(argv: list[str], **env: str) -> subprocess.Popen:
    """`python ARGV...` in its own session (a timeout kills its whole group)."""
    return subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=child_env(**env),
                            start_new_session=True)


def wait_for_file(path: Path, proc: subprocess.Popen, timeout: float = 240.0) -> None:
    """Until `path` exists (the child reached the point it announces); fails when the child
    ends first or the deadline passes. Polls: the event is the file, not a guessed delay."""
    deadline = time.monotonic() + timeout
    while not Path(path).exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"the child ended ({proc.returncode}) before {path}:\n"
                                 f"{out[-2000:]}\n{err[-3000:]}")
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.1)


def finish(proc: subprocess.Popen, timeout: float = 120.0) -> tuple[int, str, str]:
    """The child's exit status, stdout and stderr (killed with its group after `timeout`)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"the child did not end within {timeout:.0f} s:\n{err[-3000:]}") \
            from None
    return proc.returncode, out, err
