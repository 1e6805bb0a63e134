"""A write the file system refuses is one `FileSystemError` naming the path and the errno, and
leaves nothing half-written: the temporary file is gone and the previous file is intact.

The failures are the operating system's own where a test can cause them: a file-size limit
(RLIMIT_FSIZE: EFBIG, in a child process), a name too long (ENAMETOOLONG), a folder without
write permission (EACCES: chmod for a user; root, whom chmod does not bind, gets sysfs). A full
disk (ENOSPC) is the one simulated: `os.replace` or `os.fsync` raising it.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from timing_trainer.errors import FileSystemError, ResultsWriteError, TimingTrainerError
from timing_trainer.runtime import atomic
from timing_trainer.runtime.atomic import atomic_write_json, atomic_write_text, file_system_error

REPO = Path(__file__).resolve().parents[2]

_CHILD = """
import json, os, resource, signal, sys
from timing_trainer.errors import FileSystemError
from timing_trainer.runtime.atomic import atomic_write_text
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of a signal
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
try:
    atomic_write_text(sys.argv[1], "x" * 100_000)
except FileSystemError as exc:
    print(json.dumps({"line": str(exc), "errno": exc.errno_name, "path": exc.path,
                      "oserror": isinstance(exc, OSError)}))
"""


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_file_size_limit_is_one_line_and_the_old_file_stays(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_json(target, {"version": 1})
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(target)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr
    refused = json.loads(proc.stdout)
    assert refused == {"line": f"cannot write {str(target)!r}: File too large (EFBIG)",
                       "errno": "EFBIG", "path": str(target), "oserror": True}
    assert _left(tmp_path) == ["summary.json"]  # no temporary file
    assert json.loads(target.read_text()) == {"version": 1}  # not half-written


def test_a_name_too_long_names_the_path_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / ("n" * 300)
    with pytest.raises(FileSystemError) as info:
        atomic_write_text(target, "text")
    assert info.value.errno == errno.ENAMETOOLONG and info.value.path == str(target)
    assert str(info.value).endswith("File name too long (ENAMETOOLONG)")
    assert "\n" not in str(info.value) and _left(tmp_path) == []


def test_a_name_near_the_limit_is_written(tmp_path):
    """The temporary file's name is cut short: a 250-byte name (which `open` accepts) is no
    longer refused because `.NAME.XXXXXXXX.tmp` would pass 255 bytes."""
    for name in ("m" * 250, "é" * 125):  # 250 bytes either way (é is two in UTF-8)
        target = tmp_path / name
        atomic_write_text(target, "text")
        assert target.read_text() == "text"
    assert len(_left(tmp_path)) == 2


def _locked_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o500)
        return folder
    if os.access("/sys/kernel", os.W_OK) and Path("/sys/kernel").is_dir():
        try:  # root: sysfs refuses new files whatever the mode says
            open("/sys/kernel/timing-trainer-probe", "w").close()
        except PermissionError:
            return Path("/sys/kernel")
    pytest.skip("running as root, and no folder here refuses root's writes")


def test_a_folder_without_permission_is_one_line(tmp_path):
    folder = _locked_folder(tmp_path)
    before = _left(folder)
    with pytest.raises(FileSystemError) as info:
        atomic_write_text(folder / "timing_results.json", "{}")
    assert info.value.errno_name == "EACCES"
    assert str(info.value) == (f"cannot write {str(folder / 'timing_results.json')!r}: "
                               "Permission denied (EACCES)")
    assert _left(folder) == before


@pytest.mark.parametrize("call", ["replace", "fsync"])
def test_a_full_disk_is_one_line_and_removes_the_temporary_file(tmp_path, monkeypatch, call):
    target = tmp_path / "timing_results.json"
    atomic_write_text(target, "complete")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, call, full)
    with pytest.raises(FileSystemError, match=r"No space left on device \(ENOSPC\)$") as info:
        atomic_write_json(target, {"status": "running"})
    assert isinstance(info.value, TimingTrainerError)  # the command line's one line, exit 2
    assert _left(tmp_path) == ["timing_results.json"]
    assert target.read_text() == "complete"


def test_the_refusal_is_found_behind_a_wrapper_and_in_a_librarys_own_oserror(tmp_path):
    refusal = FileSystemError(tmp_path / "f", errno.ENOSPC, "No space left on device")
    try:
        try:
            raise refusal
        except OSError as exc:
            raise ResultsWriteError("cannot write timing results") from exc
    except ResultsWriteError as wrapped:
        assert file_system_error(wrapped) is refusal
    library = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "cache.arrow"))
    assert str(file_system_error(library)) == (
        f"cannot write {str(tmp_path / 'cache.arrow')!r}: Read-only file system (EROFS)")
    # Not the file system's refusals: no file named, or not a file-system errno, or no OSError.
    assert file_system_error(OSError(errno.ENOSPC, "No space left on device")) is None
    assert file_system_error(OSError(errno.ECONNREFUSED, "refused", "x")) is None
    assert file_system_error(ValueError("x")) is None


def test_it_pickles_with_its_path_and_errno(tmp_path):
    """A worker process's refusal reaches its parent whole (multiprocessing pickles it)."""
    back = pickle.loads(pickle.dumps(FileSystemError(tmp_path, errno.EDQUOT, "Disk quota exceeded")))
    assert (back.path, back.errno, back.errno_name) == (str(tmp_path), errno.EDQUOT, "EDQUOT")
