"""Files the project writes get the usual permissions (0666 less the umask), not mkstemp's 0600."""

from __future__ import annotations

import os
import stat

import pytest

from timing_trainer.runtime.atomic import atomic_write_json, atomic_write_text
from timing_trainer.sweep.agent.local import LocalAgent
from timing_trainer.sweep.agent.plan import AgentOptions


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_atomic_writes_follow_the_umask_and_keep_a_files_mode(tmp_path, umask_022):
    assert mode(atomic_write_json(tmp_path / "a.json", {"x": 1})) == 0o644
    path = tmp_path / "b.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    assert mode(atomic_write_text(path, "new")) == 0o640 and path.read_text() == "new"
    os.umask(0o077)
    assert mode(atomic_write_text(tmp_path / "c.txt", "x")) == 0o600


def test_agent_records_and_state_are_readable_by_others(tmp_path, umask_022):
    program = tmp_path / "prog.py"
    program.write_text("print('ok')\n")
    config = {"name": "m", "method": "grid", "program": str(program),
              "parameters": {"a": {"values": [1]}}}
    runs_dir = tmp_path / "runs"
    LocalAgent(config, AgentOptions(runs_dir=runs_dir, progress=False)).run()
    written = [runs_dir / "sweep_state.json", *runs_dir.glob("*/agent_record.json")]
    assert len(written) == 2 and all(mode(p) == 0o644 for p in written)
