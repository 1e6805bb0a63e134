"""When a results file may say `finished`: only once the run has ended.

A `TimingTrainer` writes `timing_results.json` with status `running` from its first write (the
start of `train()` or `evaluate()`), and again after each measurement. Who decides that the run
has ended?

- The GLUE program calls `trainer.finish_timing_results()` after its last evaluation.
- `timing-trainer run` finishes every trainer of the script when the script returns (or exits
  with status 0), and marks them failed when it raises or exits non-zero.
- A library user calls `trainer.finish_timing_results()` when done. Without that call, a fallback
  at interpreter exit finishes a result still `running`, unless the interpreter ends on an
  unhandled exception (then `failed`, with its kind: an unhandled Ctrl-C is `interrupted`).
  A process killed by a signal it does not handle (SIGTERM by default, SIGKILL always) runs no
  exit code at all: its file stays `running`, which readers count as not finished.

The fallback keeps a trainer's `ResultsWriter` (timing_trainer.results.writer: its results,
where they go, its W&B reporter), a small object: the trainer and its model are not kept alive
until exit. Anything with `.results` and `.close(outcome, exc)` can be registered.
"""

from __future__ import annotations

import atexit
import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)

_OPEN: list[Any] = []
_UNHANDLED: list[BaseException] = []
_previous_excepthook: Any = None


def register(entry: Any) -> None:
    """Keep `entry` for the exit fallback; registering again moves it to the front of the exit
    queue (after any W&B run started since, so its summary can still be updated)."""
    _install_excepthook()
    if entry in _OPEN:
        _OPEN.remove(entry)
    _OPEN.append(entry)
    atexit.unregister(_at_exit)
    atexit.register(_at_exit)


def unregister(entry: Any) -> None:
    if entry in _OPEN:
        _OPEN.remove(entry)


def open_results() -> list[Any]:
    return list(_OPEN)


def close_all(outcome: str, exc: BaseException | None = None) -> None:
    """Finish (or fail) every result still open; errors are logged, never raised."""
    for entry in reversed(open_results()):
        try:
            entry.close(outcome, exc)
        except Exception as error:  # noqa: BLE001 - one broken entry must not stop the others
            logger.warning("could not close the timing results: %s", error)


def discard_all() -> None:
    """Forget every open result without closing it (a test suite's trainers, between tests:
    their files stay as the test left them, and the exit fallback has nothing to do)."""
    _OPEN.clear()


def _at_exit() -> None:
    if _UNHANDLED:
        close_all("failed", _UNHANDLED[-1])
    else:
        close_all("finished")


def _install_excepthook() -> None:
    """Chain onto sys.excepthook to learn that the interpreter ends on an unhandled exception."""
    global _previous_excepthook
    if _previous_excepthook is not None:
        return
    _previous_excepthook = sys.excepthook

    def hook(exc_type, exc, traceback):
        _UNHANDLED.append(exc)
        _previous_excepthook(exc_type, exc, traceback)

    sys.excepthook = hook
