"""`timing-trainer demo`: a short real run through the GLUE program, offline (one run, ~20 s)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from timing_trainer.commands import demo
from timing_trainer.commands.main import main as cli_main

REPO = Path(__file__).resolve().parents[2]


def test_the_packaged_demo_sweep_is_the_committed_one():
    assert demo.demo_sweep_file().read_text() == (REPO / "sweeps" / "demo.yaml").read_text()


@pytest.mark.slow
def test_demo_runs_the_glue_program_offline_and_hands_its_runs_to_the_report(
    tmp_path, monkeypatch, capsys
):
    from timing_trainer.results.schema import validate_results

    reported = {}

    def fake_report(runs_dir, out_dir):
        reported.update(runs_dir=Path(runs_dir), out_dir=Path(out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.md").write_text("# report\n")
        return out_dir / "report.md"

    monkeypatch.setattr(demo, "write_report", fake_report)
    code = cli_main(["demo", "--base", str(tmp_path), "--count", "1", "--no-progress"])
    out = capsys.readouterr()
    assert code == 0, out.err[-2000:]

    runs_dir = tmp_path / "demo" / "runs"
    state = json.loads((runs_dir / "sweep_state.json").read_text())
    assert state["total_runs"] == 16 and state["counts"] == {"finished": 1, "pending": 15}
    run_dir = runs_dir / state["runs"][0]["dir"]
    record = json.loads((run_dir / "agent_record.json").read_text())
    assert record["status"] == "finished" and record["exit_code"] == 0
    assert record["command"][2:4] == ["-m", "timing_trainer.glue"]
    assert "--data_dir=demo/assets" in record["command"]
    results = json.loads((run_dir / "timing_results.json").read_text())
    validate_results(results)
    assert results["status"] == "finished"
    assert len(results["finetuning_time_list"]) == 3  # finetuning_iters 3
    assert results["config"]["task_name"] == "rte"
    assert "eval_accuracy" in results["eval_metrics"]
    wandb_dir = Path(os.environ.get("WANDB_DIR") or run_dir)  # the tests' WANDB_DIR wins
    assert list(wandb_dir.glob("**/offline-run-*")), "no offline W&B run was written"
    assert (tmp_path / "demo" / "assets" / "models" / "tiny-cased" / "config.json").is_file()
    assert reported == {"runs_dir": runs_dir, "out_dir": tmp_path / "demo" / "report"}
    assert "report: " in out.out
