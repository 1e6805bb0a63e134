"""The process's start-up: from /proc on Linux (psutil elsewhere), or a reason when unknown."""

import subprocess
import sys

import pytest

from timing_trainer.runtime import startup


def test_a_fresh_interpreter_knows_its_age():
    code = ("import time, torch; from timing_trainer.runtime.startup import process_age; "
            "print(process_age()[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    age = float(out.stdout.strip().splitlines()[-1])
    assert age > 0  # the torch import came before it, inside the same process


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_linux_reads_proc_and_agrees_with_psutil():
    psutil = pytest.importorskip("psutil")
    import time

    linux = startup._linux_age()
    other = time.time() - psutil.Process().create_time()
    # psutil counts from the boot time in whole seconds (/proc/stat btime): up to 1 s apart.
    assert linux is not None and abs(linux - other) < 2.0


def test_unknown_start_gives_the_reason(monkeypatch):
    monkeypatch.setattr(startup, "_linux_age", lambda: None)
    monkeypatch.setattr(startup, "_psutil_age", lambda: None)
    assert startup.process_age() == (None, startup.UNKNOWN_REASON)
