"""A number of seconds as a reader takes it in: `8.2s`, `45s`, `12m30s`, `1h02m`.

One form for every line that gives a duration to a person (a sweep's live estimate, a cost
model's or a pilot's totals), so that the same time reads the same everywhere. Figures in
JSON and in tables stay seconds.
"""

from __future__ import annotations

import math


def duration(seconds: float | None) -> str:
    """`seconds` in words (`n/a` for None, NaN or infinity): tenths under 10 s, whole seconds
    under a minute, then minutes and seconds, then hours and minutes."""
    if seconds is None or not math.isfinite(seconds):
        return "n/a"
    if seconds < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
