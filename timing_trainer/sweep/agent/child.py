"""The agent's child processes: each run's program, started and stopped as a scheduler would.

A child starts in its own session (its own process group), with stdin closed and its stdout and
stderr appended straight to the run's log (no pipe through the agent, so its timings carry no
relay overhead). Stopping the agent stops every running child: SIGINT to its process group (the
program records itself as interrupted and exits 130), SIGKILL after `KILL_GRACE_SECONDS` for a
child that does not end. A child that starts after the stop is stopped as soon as it is known.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from timing_trainer.runtime import exit_codes

KILL_GRACE_SECONDS = 10.0


def terminate(proc: subprocess.Popen) -> None:
    """SIGINT to the child's process group, SIGKILL after a grace period."""
    for sig, wait in ((signal.SIGINT, KILL_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


class Children:
    """The children running now (one per worker), and the one stop that ends them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._active: dict[str, subprocess.Popen] = {}

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def running(self) -> int:
        with self._lock:
            return len(self._active)

    def run(self, key: str, argv: list[str], log_path: Path, header: str,
            on_start: Callable[[int], None], cwd: Path, env: dict[str, str]) -> tuple[int, bool]:
        """Run `argv` to its end with its output appended to `log_path` after `header`;
        (exit status, whether it started). `on_start(pid)` runs before the wait; when it raises,
        the child is stopped and the error goes on."""
        with open(log_path, "ab") as log:
            log.write(header.encode("utf-8"))
            log.flush()
            try:
                proc = subprocess.Popen(
                    argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    cwd=cwd, env=env, start_new_session=True,
                )
            except OSError as exc:
                log.write(f"cannot start the command: {exc}\n".encode())
                return exit_codes.NOT_STARTED, False
            with self._lock:
                self._active[key] = proc
            try:
                on_start(proc.pid)  # a record that cannot be written stops the child too
                if self.stopped:  # the stop came while it started: `stop` did not see it
                    terminate(proc)
                returncode = proc.wait()
            except BaseException:
                terminate(proc)
                raise
            finally:
                with self._lock:
                    self._active.pop(key, None)
        return returncode, True

    def stop(self) -> None:
        """Stop every running child at once (each on its own thread: the grace periods overlap)."""
        self._stop.set()
        with self._lock:
            active = list(self._active.values())
        threads = [threading.Thread(target=terminate, args=(proc,)) for proc in active]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
