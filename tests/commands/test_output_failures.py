"""`timing-trainer analyze --out` when the file system refuses the report mid-way, and when the
reader of its output goes away: real processes, as a user meets them.

`--out` itself is checked before any work (tests/commands/test_analyze.py); here the folder
accepts an empty file and then refuses the report's files: a file-size limit (RLIMIT_FSIZE,
the kernel's EFBIG) and a full disk (ENOSPC, `os.replace` refusing in the child). Either is
one line naming the file and the errno, exit status 2, no traceback, no temporary file left.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer.testing.runs import write_run_folders

pytestmark = pytest.mark.slow  # each runs a whole analysis (about 10 s on two cores)
REPO = Path(__file__).resolve().parents[2]

FULL_DISK = """
import errno, os, sys
real = os.replace
def replace(src, dst, *args, **kwargs):
    if os.path.basename(str(dst)) == "summary.json":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real(src, dst, *args, **kwargs)
os.replace = replace
from timing_trainer.commands.main import main
sys.exit(main(sys.argv[1:]))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}


def _one_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("timing-trainer analyze: error: cannot write ")
    return lines[0]


def _temporary_files(out: Path) -> list[str]:
    return [str(p) for p in out.rglob("*") if p.name.endswith(".tmp")]


def _file_size_limit():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from the write, not a signal
    resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))


def test_a_file_size_limit_mid_report_is_one_line(tmp_path):
    runs, out = write_run_folders(tmp_path / "runs", 24, failed_share=0.0), tmp_path / "report"
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", str(runs),
                           "--out", str(out), "--no-plots"], capture_output=True, text=True,
                          timeout=300, env=_env(), preexec_fn=_file_size_limit)
    line = _one_line(proc)
    assert line.endswith(": File too large (EFBIG)") and f"{str(out)}/" in line, line
    assert _temporary_files(out) == []


def test_a_full_disk_mid_report_is_one_line(tmp_path):
    runs, out = write_run_folders(tmp_path / "runs", 24, failed_share=0.0), tmp_path / "report"
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, "analyze", str(runs), "--out",
                           str(out), "--no-plots"], capture_output=True, text=True, timeout=300,
                          env=_env())
    line = _one_line(proc)
    assert line == (f"timing-trainer analyze: error: cannot write {str(out / 'summary.json')!r}: "
                    "No space left on device (ENOSPC)")
    assert _temporary_files(out) == [] and not (out / "summary.json").exists()


def test_a_reader_that_goes_away_leaves_the_whole_report(tmp_path):
    """`timing-trainer analyze ... | head -1`: the report is written whole and the status is
    the command's own."""
    runs, out = write_run_folders(tmp_path / "runs", 24, failed_share=0.0), tmp_path / "report"
    proc = subprocess.Popen([sys.executable, "-m", "timing_trainer", "analyze", str(runs),
                             "--out", str(out), "--no-plots"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env())
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    assert (out / "report.md").is_file() and (out / "summary.json").is_file()
