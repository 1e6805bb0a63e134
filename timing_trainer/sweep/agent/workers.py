"""The agent's workers: one thread per GPU slot (CPU: one slot), each taking the next run until
none is left or the agent is stopped.

The main thread only waits, so that Ctrl-C (or SIGTERM, which `stopping` turns into the same
`KeyboardInterrupt`) lands there: it stops every running child and waits until each worker has
recorded its run. A worker that fails in the agent's own code (not a run failing: that is
recorded) stops the others, and the sweep ends with that error in one line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from timing_trainer.sweep.agent import child
from timing_trainer.sweep.agent.child import Children


class _Pool:
    """The workers' shared end: errors, and an event set when the last worker has ended."""

    def __init__(self, slots: int, take: Callable[[], Any], work: Callable[[Any, Any], None],
                 children: Children):
        self.slots = slots
        self.take = take
        self.work = work
        self.children = children
        self.errors: list[BaseException] = []
        self.all_done = threading.Event()
        self._ended = 0
        self._lock = threading.Lock()

    def worker(self, slot: str | None) -> None:
        try:
            while not self.children.stopped:
                item = self.take()
                if item is None:
                    return
                self.work(item, slot)
        except BaseException as exc:  # the agent's own fault: stop everything, report it
            self.errors.append(exc)
            self.children.stop()
        finally:
            self.ended(1)

    def ended(self, count: int) -> None:
        with self._lock:
            self._ended += count
            if self._ended >= self.slots:
                self.all_done.set()


def run_workers(slots: list[str | None], take: Callable[[], Any],
                work: Callable[[Any, str | None], None], children: Children,
                say: Callable[[str], None]) -> bool:
    """`work(item, slot)` for every item `take()` gives (None: no more), one thread per slot;
    True when Ctrl-C or SIGTERM interrupted it. A worker's error stops every worker and
    is raised here."""
    pool = _Pool(len(slots), take, work, children)
    threads = [threading.Thread(target=pool.worker, args=(slot,), daemon=True) for slot in slots]
    interrupted = False
    try:
        for thread in threads:
            thread.start()
        # Wait on an Event, not Thread.join: a Ctrl-C landing inside join(timeout) can mark
        # a running thread as stopped (CPython 3.11), and the agent would not wait for it.
        while not pool.all_done.wait(0.2):
            pass
    except KeyboardInterrupt:
        interrupted = True
        say(f"interrupted: stopping {children.running()} running run(s) (SIGKILL after "
            f"{child.KILL_GRACE_SECONDS:.0f} s)...")
        children.stop()
        pool.ended(sum(1 for t in threads if t.ident is None))  # never started: never ends
        pool.all_done.wait()
    if pool.errors:
        # Raised as it is, with the worker's frames: a sweep's bad input stays one line (the
        # CLI's errors), and an internal crash keeps its traceback for the bug report.
        raise pool.errors[0]
    return interrupted
