"""Durations in words: one form for every line a person reads (the live ETA, the cost model's
and the pilot's totals, the pilot's budget)."""

from __future__ import annotations

import math

from timing_trainer.runtime.durations import duration


def test_durations_read_as_a_person_would_write_them():
    assert [duration(s) for s in (8.24, 45.0, 750.0, 3720.0, None)] == [
        "8.2s", "45s", "12m30s", "1h02m", "n/a"]


def test_a_duration_that_is_not_a_number_says_so():
    assert duration(math.nan) == duration(math.inf) == "n/a"
