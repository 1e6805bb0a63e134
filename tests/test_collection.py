"""`pytest -m gpu` collects with only the runtime dependencies and pytest: the test extras
(nbformat, nbclient, ipykernel) blocked, every test file still imports (optional ones through
`pytest.importorskip`), so one missing extra cannot stop the GPU tests."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEST_EXTRAS = ("nbformat", "nbclient", "ipykernel", "jupyter_client")

_COLLECT = """
import importlib.abc, sys
BLOCKED = {blocked!r}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
        return None

sys.meta_path.insert(0, Blocker())
import pytest
sys.exit(pytest.main(["--collect-only", "-q", "-m", "gpu", "-p", "no:cacheprovider", {where!r}]))
"""


def _collect(where: str, cwd: Path) -> subprocess.CompletedProcess:
    code = _COLLECT.format(blocked=TEST_EXTRAS, where=where)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_the_blocker_blocks(tmp_path):
    (tmp_path / "test_needs_extra.py").write_text("import nbformat\n\ndef test_x():\n    pass\n")
    proc = _collect(str(tmp_path), tmp_path)
    assert proc.returncode == 2 and "blocked" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_gpu_selection_collects_without_the_test_extras():
    proc = _collect("tests", ROOT)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]  # 2 would be a collection error
    assert "error" not in output.lower().split("warnings summary")[0], output[-4000:]
    assert "test_cuda_run_uses_events_peak_memory_and_mfu" in output
