"""Atomic file writes: a killed run or sweep never leaves a half-written results file.

Write to a temporary file in the same folder, flush and fsync it, then `os.replace` it over the
target (atomic on POSIX and Windows for paths on one file system).

A write the file system refuses (a full disk, a quota, a file-size limit, a read-only mount, a
name too long, no permission) is a `FileSystemError` naming the target and the errno's name: the
commands print it as one line (exit status 2), never as a traceback, and the temporary file is
removed, so nothing half-written is left. `file_system_error` finds such a refusal behind any
exception (a wrapper's cause, or a plain `OSError` from a library's own write).
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from timing_trainer.errors import FileSystemError

# Refusals by the file system, not bugs: what `file_system_error` turns into one line.
FILE_SYSTEM_ERRNOS = frozenset(
    getattr(errno, name) for name in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS", "ENAMETOOLONG",
                                      "EACCES", "EPERM", "EISDIR", "ENOTDIR", "EMLINK", "EXDEV",
                                      "ELOOP", "EIO")
    if hasattr(errno, name)
)
_WRITE_ONLY = frozenset(getattr(errno, n) for n in ("ENOSPC", "EDQUOT", "EFBIG", "EROFS")
                        if hasattr(errno, n))
_TEMP_NAME_BYTES = 64  # of the target's name kept in the temporary file's name


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells (/proc), else by the
    set-and-restore dance."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _file_mode(path: Path) -> int:
    """The mode a plain `open(path, "w")` would give: the existing file's, else 0666 less the
    umask. `mkstemp` creates 0600, which made results, records and state files private."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` to `path` atomically; the parent folder must exist and be writable.

    Any `OSError` on the way is a `FileSystemError` naming `path` (not the temporary file),
    raised after the temporary file is removed."""
    path = Path(path)
    try:
        _write_then_replace(path, text)
    except OSError as exc:
        raise as_file_system_error(exc, path) from exc
    return path


def _temp_prefix(path: Path) -> str:
    """`.NAME.` with NAME cut to a few bytes: a target whose name is near the 255-byte limit
    must not fail only because its temporary file's name is longer."""
    return "." + os.fsdecode(os.fsencode(path.name)[:_TEMP_NAME_BYTES]) + "."


def _write_then_replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # closes `fd` whatever happens
            if hasattr(os, "fchmod"):  # POSIX (Windows has no modes to speak of)
                os.fchmod(handle.fileno(), _file_mode(path))
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def check_writable_folder(folder: str | os.PathLike) -> Path:
    """Make `folder` (with its parents) and create and remove a file there: a folder the run
    could never write its results into is a `FileSystemError` naming it before any work, not
    after the model has loaded. (A disk with room for an empty file may still fill later.)"""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        raise as_file_system_error(exc, folder) from exc
    return folder


def as_file_system_error(exc: OSError, path: str | os.PathLike | None = None) -> FileSystemError:
    """`exc` as a `FileSystemError` naming `path` (default: the file `exc` names)."""
    if isinstance(exc, FileSystemError):
        return exc
    where = path if path is not None else (exc.filename or "a file")
    doing = "write" if path is not None or exc.errno in _WRITE_ONLY else "use"
    return FileSystemError(where, exc.errno, exc.strerror or str(exc), doing=doing)


def file_system_error(exc: BaseException | None) -> FileSystemError | None:
    """The file system's refusal behind `exc` (itself, or its cause or context, however deep:
    a results writer wraps it), or None. A plain `OSError` counts when its errno is one of
    `FILE_SYSTEM_ERRNOS` and it names a file: a library's own write (a cache, a checkpoint)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, FileSystemError):
            return exc
        if (isinstance(exc, OSError) and exc.errno in FILE_SYSTEM_ERRNOS
                and exc.filename is not None):
            return as_file_system_error(exc)
        exc = exc.__cause__ or exc.__context__
    return None


def _json_safe(value: Any) -> Any:
    """Replace NaN and infinities (invalid JSON) by None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def json_text(obj: Any) -> str:
    """`obj` as the indented JSON every file of the project holds; NaN becomes null so the
    text stays valid JSON."""
    return json.dumps(_json_safe(obj), indent=2, sort_keys=False, default=str) + "\n"


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write `obj` as indented JSON (`json_text`) atomically."""
    return atomic_write_text(path, json_text(obj))
