"""The agent's writes, when the file system refuses them: one line, the run marked, no traceback.

A full disk (ENOSPC, or EFBIG past a file-size limit), a read-only mount (EROFS), a name too
long (ENAMETOOLONG) or a folder without permission (EACCES) used to end the agent in a traceback
from the atomic write or the run's log, with the run in progress left `running`. Every write the
agent makes goes through `writing(path)`, so the refusal is a `FileSystemError` naming that path
(the atomic writer already raises one, with nothing half-written left); the attempt then marks
its run failed with that reason (when even that cannot be written, the record stays `running`
with a dead child, which a resume runs again), and the agent stops with one line and exit 2
(`stopped_by`). A resume after freeing space runs what is left.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from timing_trainer.errors import CliError, FileSystemError


@contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    """Any `OSError` inside as a `FileSystemError` naming `path` (one named already passes)."""
    try:
        yield
    except FileSystemError:
        raise
    except OSError as exc:
        raise FileSystemError(path, exc.errno, exc.strerror or str(exc)) from exc


def stopped_by(exc: FileSystemError, command: str) -> CliError:
    """The agent's one line for a write the file system refused."""
    return CliError(f"{exc}; the sweep stopped there (the run in progress is recorded with this "
                    f"reason where the disk allowed); free space or fix the folder, then resume "
                    f"with `{command}`")
