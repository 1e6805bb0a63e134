"""A reader that goes away never changes an outcome (`python -m timing_trainer.glue ... | head -1`).

Python ignores SIGPIPE, so a write to a pipe whose reader has gone raises `BrokenPipeError`
wherever the program happens to print: the trainer's log line, the summary after the results
were marked `finished`, a warning on stderr. Left alone, that turned a finished run into a
`failed` one with exit status 1. Inside `guarded_output()`, `sys.stdout` and `sys.stderr` drop
what cannot be written instead: at the first broken pipe the stream's file descriptor is pointed
at /dev/null (so every other holder of it, a logging handler or C code, writes there too), and
the work goes on to its end, with the exit status it would have had (0 for a finished run).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class _Guarded:
    """A text stream whose writes survive a reader that has gone; everything else is the
    wrapped stream's (`fileno`, `isatty`, `encoding`, `buffer`, ...)."""

    def __init__(self, stream: Any):
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._drop_output()
            return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop_output()

    def _drop_output(self) -> None:
        """From now on, this stream's descriptor writes to /dev/null; what was buffered goes
        there too."""
        self.broken = True
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):  # not a file descriptor (a test's capture): drop silently
            return
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)
        try:
            self._stream.flush()
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextmanager
def guarded_output() -> Iterator[None]:
    """`sys.stdout` and `sys.stderr` guarded against a closed reader for the block; both are
    flushed (guarded) before the originals come back, so the interpreter's own flush at exit
    has nothing left to write to a closed pipe. Nested use guards once."""
    saved = sys.stdout, sys.stderr
    guards = [stream if stream is None or isinstance(stream, _Guarded) else _Guarded(stream)
              for stream in saved]
    sys.stdout, sys.stderr = guards
    try:
        yield
    finally:
        for guard in guards:
            if guard is not None:
                guard.flush()
        # Put back only what is still ours: code in the block may have replaced a stream.
        if sys.stdout is guards[0]:
            sys.stdout = saved[0]
        if sys.stderr is guards[1]:
            sys.stderr = saved[1]

