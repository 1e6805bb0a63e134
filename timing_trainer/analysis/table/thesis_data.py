"""The thesis's run exports on disk, fetched and checked (what `timing-trainer thesis-data` runs).

Downloads the 15 files the thesis's two analyses used from its public repository at the pinned
commit (`thesis.RAW_BASE_URL`), or copies them from a local folder (`--from`: a clone of that
repository, or a folder laid out like DIR), checks each against the SHA-256 recorded in
`thesis.THESIS_EXPORTS`, and writes `DIR/finetuning/NAME` and `DIR/inference/NAME`.

- Atomic: each file is written to a temporary file beside it and renamed once its checksum holds,
  so DIR never holds a partial or unchecked file under a real name.
- Resumable: files already in DIR with the right checksum are kept; a new call fetches the rest.
- Exit status: 0 when every file is in place; 1 when a file could not be fetched (network
  failure, HTTP error) or does not match its checksum (nothing is written for it); 2 for bad
  arguments (DIR is a file or cannot be written, `--from` is not a folder or lacks a file).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from timing_trainer.analysis.table.thesis import (
    RAW_BASE_URL,
    THESIS_EXPORTS,
    ThesisExport,
)
from timing_trainer.errors import CliError, ThesisDataError

DOWNLOAD_TIMEOUT_S = 30
CHUNK = 1 << 16


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def is_in_place(dest: Path, export: ThesisExport) -> bool:
    target = dest / export.name
    return (target.is_file() and target.stat().st_size == export.size
            and sha256_of(target) == export.sha256)


def prepare(dest: Path) -> None:
    """Create DIR/finetuning and DIR/inference (removing parts a killed call left); one clear
    line when DIR cannot be used."""
    if dest.exists() and not dest.is_dir():
        raise CliError(f"{dest} is a file, not a folder")
    try:
        for kind in ("finetuning", "inference"):
            (dest / kind).mkdir(parents=True, exist_ok=True)
            tempfile.TemporaryFile(dir=dest / kind).close()
            for part in (dest / kind).glob(".*.part"):
                part.unlink()
    except OSError as exc:
        raise CliError(f"cannot write into {dest}: {exc.strerror or exc}") from exc


def _place(tmp: Path, export: ThesisExport, dest: Path, origin: str) -> None:
    """Check `tmp` against the recorded sum; rename it into place, or remove it and fail."""
    got = sha256_of(tmp)
    if got != export.sha256:
        tmp.unlink(missing_ok=True)
        raise ThesisDataError(f"{export.name} from {origin} does not match its recorded "
                              f"SHA-256 (got {got[:12]}..., expected {export.sha256[:12]}...); "
                              "nothing written for it")
    os.replace(tmp, dest / export.name)


def _temp_beside(dest: Path, export: ThesisExport) -> Path:
    """An empty temporary file beside the target, readable as a plain new file would be (the
    0600 of `mkstemp` would follow it through the rename)."""
    target = dest / export.name
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    os.close(fd)
    return Path(name)


def download(export: ThesisExport, dest: Path, base_url: str,
             progress: Callable[[int], object]) -> None:
    url = export.url(base_url)
    tmp = _temp_beside(dest, export)
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response, \
                open(tmp, "wb") as out:
            for block in iter(lambda: response.read(CHUNK), b""):
                out.write(block)
                progress(len(block))
    except (urllib.error.URLError, OSError) as exc:
        tmp.unlink(missing_ok=True)
        reason = f"HTTP {exc.code} {exc.reason}" if isinstance(exc, urllib.error.HTTPError) \
            else getattr(exc, "reason", exc)
        raise ThesisDataError(f"cannot download {export.name} from {url}: {reason}") from exc
    _place(tmp, export, dest, url)


def local_copy(export: ThesisExport, source: Path) -> Path:
    """Where `export` is in `source`: a clone of the repository, or a thesis-data layout."""
    for candidate in (source / export.remote_path, source / export.name):
        if candidate.is_file():
            return candidate
    raise CliError(f"--from {source}: {export.name} not found (looked for "
                   f"'{export.remote_path}' and '{export.name}')")


def copy(export: ThesisExport, dest: Path, source: Path,
         progress: Callable[[int], object]) -> None:
    found = local_copy(export, source)
    tmp = _temp_beside(dest, export)
    shutil.copyfile(found, tmp)
    progress(export.size)
    _place(tmp, export, dest, str(found))


def fetch(dest: Path, *, source: Path | None = None, base_url: str = RAW_BASE_URL,
          show_progress: bool | None = None) -> dict[str, int]:
    """Put every thesis export under `dest`; counts of files `kept`, `fetched`."""
    if source is not None and not source.is_dir():
        raise CliError(f"--from {source}: not a folder")
    prepare(dest)
    missing = [e for e in THESIS_EXPORTS if not is_in_place(dest, e)]
    if source is not None:
        for export in missing:
            local_copy(export, source)  # every file found before anything is written
    from tqdm import tqdm

    # show_progress None: a bar on a terminal only (tqdm's rule), so logs get no bar litter
    disable = True if not missing else (None if show_progress is None else not show_progress)
    with tqdm(total=sum(e.size for e in missing), unit="B", unit_scale=True, file=sys.stderr,
              desc="thesis exports", disable=disable) as bar:
        for export in missing:
            if source is not None:
                copy(export, dest, source, bar.update)
            else:
                download(export, dest, base_url, bar.update)
    return {"kept": len(THESIS_EXPORTS) - len(missing), "fetched": len(missing)}
