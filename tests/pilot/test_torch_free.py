"""The pilot is torch-free: its slices are child processes and its estimate arithmetic, so the
estimate runs where torch and transformers cannot be imported (a laptop reading a pilot folder)."""

from __future__ import annotations

import subprocess
import sys


def test_the_pilot_and_its_estimate_load_no_heavy_library():
    code = (
        "import sys\n"
        "import timing_trainer.pilot, timing_trainer.pilot.runner, timing_trainer.pilot.fallback\n"
        "import timing_trainer.commands.pilot\n"
        "print(','.join(m for m in ('torch', 'transformers', 'wandb') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
