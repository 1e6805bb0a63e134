"""The local agent as a real process, for the tests that signal or kill it (`test_sweep_*`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from timing_trainer.sweep.agent.attempt import RECORD_FILE

# The CLI's `main`, with the SIGKILL grace period taken from TEST_GRACE_SECONDS.
AGENT = textwrap.dedent("""
    import os, sys
    import timing_trainer.sweep.agent.child as child
    child.KILL_GRACE_SECONDS = float(os.environ.get("TEST_GRACE_SECONDS", "10"))
    from timing_trainer.commands.main import main
    sys.exit(main(sys.argv[1:]))
""")


def start_agent(sweep_file: Path, runs_dir: Path, grace: float = 10.0) -> subprocess.Popen:
    """`timing-trainer sweep FILE --runs-dir RUNS` started in the sweep file's folder."""
    return subprocess.Popen(
        [sys.executable, "-c", AGENT, "sweep", str(sweep_file), "--runs-dir", str(runs_dir),
         "--no-progress"],
        cwd=sweep_file.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "TEST_GRACE_SECONDS": str(grace)},
    )


def wait_for_child(runs_dir: Path, agent: subprocess.Popen, timeout: float = 60) -> dict:
    """The record of the first run whose child has written `started` in its folder (the test
    programs do so before they hang), once the record holds the child's pid."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if agent.poll() is not None:
            raise AssertionError(f"the agent ended early: {agent.stdout.read()}")
        for marker in runs_dir.glob("*/started"):
            record = json.loads((marker.parent / RECORD_FILE).read_text())
            if record.get("pid"):
                return record
        time.sleep(0.05)
    raise AssertionError("the child never started")
