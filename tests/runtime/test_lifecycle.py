"""A results file never lies: `running` until the run has ended, `finished` only then (an
evaluation after a completed training, `finish_timing_results()`, a normal exit), `failed` (never
`finished`) when the process ends on an exception, an interrupt or a SIGTERM while it is open."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.child import child_env, finish, start, wait_for_file

from timing_trainer.results.schema import RESULTS_FILENAME, validate_results
from timing_trainer.runtime import exit_codes
from timing_trainer.runtime.signals import (
    Terminated,
    exit_status,
    sigterm_as_interrupt,
)

SCRIPTS = Path(__file__).parents[1] / "scripts"


def _results(folder):
    data = json.loads((Path(folder) / RESULTS_FILENAME).read_text())
    validate_results(data)
    return data


def test_sigterm_becomes_an_interrupt_inside_the_block():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated) as caught:
        with sigterm_as_interrupt():
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0.5)  # let the handler run (it raises at the next bytecode)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert exit_status(caught.value) == exit_codes.SIGTERM == 143
    assert exit_status(KeyboardInterrupt()) == exit_codes.SIGINT == 130
    assert signal.getsignal(signal.SIGTERM) == previous  # put back


@pytest.mark.slow
@pytest.mark.parametrize("mode,status,kind,code", [
    ("finish", "finished", None, 0),
    ("exit", "finished", None, 0),  # the exit fallback: the interpreter ended normally
    # evaluate() after a completed train() finished the run: a later error does not undo it
    ("raise", "finished", None, 1),
    ("interrupt", "finished", None, -signal.SIGINT),  # Python ends by SIGINT itself
    ("sys-exit-3", "finished", None, 3),  # measurements complete; the exit status is the script's
    # the run was still open (no evaluation yet): the way the process ended is the outcome
    ("raise-after-train", "failed", "exception", 1),
    ("interrupt-after-train", "failed", "interrupted", -signal.SIGINT),
])
def test_how_a_library_run_ends_is_what_the_file_says(tmp_path, mode, status, kind, code):
    proc = subprocess.run([sys.executable, str(SCRIPTS / "lifecycle_script.py"),
                           str(tmp_path), mode], capture_output=True, text=True, timeout=300,
                          env=child_env())
    assert "MEASURED" in proc.stdout, proc.stderr[-3000:]
    assert proc.returncode == code, proc.stderr[-3000:]
    data = _results(tmp_path)
    assert data["status"] == status
    assert (data["error"] or {}).get("kind") == kind
    if status == "finished":
        assert "UnavailableFiguresWarning" in proc.stderr  # said once, with the reasons
        assert proc.stderr.count("UnavailableFiguresWarning") == 1
    assert "could not" not in proc.stderr


@pytest.mark.slow
def test_cli_run_sigterm_during_evaluation_is_interrupted(tmp_path):
    marker = tmp_path / "evaluating"
    proc = start(["-m", "timing_trainer", "run", "--finetuning-iters", "1",
                  str(SCRIPTS / "blocking_eval.py"), str(tmp_path / "out"), str(marker)])
    wait_for_file(marker, proc)
    assert _results(tmp_path / "out")["status"] == "running"  # trained, evaluating
    os.kill(proc.pid, signal.SIGTERM)
    code, _, err = finish(proc)
    assert code == 143, err[-3000:]
    data = _results(tmp_path / "out")
    assert data["status"] == "failed" and data["error"]["kind"] == "interrupted"
    assert "SIGTERM" in data["error"]["message"]
    assert err.strip().splitlines()[-1] == "timing-trainer run: terminated by SIGTERM"
