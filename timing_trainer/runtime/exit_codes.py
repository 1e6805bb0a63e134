"""Every exit status a `timing-trainer` program returns, declared once.

The README's "Exit status" tables document them; the GLUE program, the commands and the local
agent (which reads its children's statuses back) all import them from here. Signals follow the
shell's convention, 128 + the signal number, so a shell, a scheduler and the agent read an
interrupted run the same way whether the process died of the signal or exited with its code.
"""

from __future__ import annotations

import signal

OK = 0
FAILED = 1  # an exception, a failed run in a sweep, a download that failed
BAD_INPUT = 2  # refused before the work started: one line on stderr
OOM = 3  # the GLUE program ran out of memory (CUDA, MPS or CPU)
NOT_STARTED = 127  # as a shell says for a command it cannot run (the agent's child)
SIGINT = 128 + signal.SIGINT  # 130: Ctrl-C
SIGPIPE = 128 + signal.SIGPIPE  # 141: the reader went away (`... | head`)
SIGTERM = 128 + signal.SIGTERM  # 143: a scheduler's time limit, `docker stop`, `kill`


def for_signal(signum: int) -> int:
    """The exit status of a process ended by signal `signum` (128 + its number)."""
    return 128 + int(signum)
