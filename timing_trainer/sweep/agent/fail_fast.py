"""Stop a sweep whose runs all fail the same way before they start.

Offline, every run of `sweep_rte_cased.yaml` failed in about 5 s with the same "cannot reach the
Hub" line, 72 times, and the agent went on to the end. A failure is systematic when `limit` runs
in a row fail before they start (the program wrote no results file: refused at start, a command
that cannot start, a crash at import) with the same reason, read with each run's own parameter
values taken out (the Hub line names the run's model). The agent then starts no further run and
says why in one line, with how to go on. A finished run, an out-of-memory run (a measurement),
a failure of another kind breaks the row; an interruption neither counts nor breaks it. `limit`
0 never stops.
"""

from __future__ import annotations

from typing import Any


def signature(record: dict[str, Any], params: dict[str, Any]) -> str | None:
    """The failure's reason without the run's own values, when it failed before it started;
    None for any other outcome (which breaks a row of failures)."""
    if record.get("status") != "failed" or record.get("reason_kind") == "oom":
        return None
    if record.get("results_file"):
        return None  # the program got far enough to write results: not a failure at start
    reason = str(record.get("reason") or record.get("reason_kind") or "")
    values = sorted((str(v) for v in params.values() if str(v)), key=len, reverse=True)
    for value in values:
        if len(value) > 1:
            reason = reason.replace(value, "...")
    return f"{record.get('reason_kind')}: {reason}"


class FailFast:
    """Counts failures alike in a row; `observe` says when to stop."""

    def __init__(self, limit: int):
        self.limit = limit
        self._last: str | None = None
        self._row = 0
        self.reason: str | None = None  # set once the row reached the limit

    def observe(self, record: dict[str, Any], params: dict[str, Any]) -> bool:
        """Count one ended run; True when the sweep should start no further run."""
        if self.limit <= 0 or record.get("status") == "interrupted":
            return False
        sig = signature(record, params)
        self._row = self._row + 1 if sig is not None and sig == self._last else int(sig is not None)
        self._last = sig
        if sig is not None and self._row >= self.limit:
            self.reason = str(record.get("reason") or record.get("reason_kind"))
        return self.reason is not None

    def message(self, again: str) -> str:
        """The agent's line when it stopped (`again`: the command that resumes the sweep)."""
        return (f"stopped: {self._row} runs in a row failed before they started, each with: "
                f"{self.reason}; fix that, then resume with `{again}` (finished runs are "
                "kept), or give --fail-fast 0 to run every run whatever fails")
