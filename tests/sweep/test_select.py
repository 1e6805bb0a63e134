"""`--only NAME=V1,V2` (shared by `sweep` and `predict`), `--count`'s summary, bad runs folders."""

from __future__ import annotations

import errno
import json
import os

import pytest
import yaml

from timing_trainer.commands.main import main as cli_main
from timing_trainer.errors import OnlyError
from timing_trainer.sweep.config.select import parse_only, select_runs

RUNS = [
    {"task_name": "rte", "bf16": False, "learning_rate": 2e-05, "max_seq_length": 128},
    {"task_name": "rte", "bf16": True, "learning_rate": 2e-05, "max_seq_length": 256},
    {"task_name": "mrpc", "bf16": False, "learning_rate": 3e-05, "max_seq_length": 256},
]


def test_parse_only():
    assert parse_only(None) == {}
    assert parse_only(["max_seq_length=128, 256", "bf16=False"]) == {
        "max_seq_length": ["128", "256"], "bf16": ["false"]}
    for bad in ("bf16", "=1", "bf16=", "bf16=,"):
        with pytest.raises(OnlyError, match="NAME=VALUE"):
            parse_only([bad])


def test_select_runs_text_case_and_numbers():
    assert select_runs(RUNS, parse_only(["bf16=false"])) == [RUNS[0], RUNS[2]]
    assert select_runs(RUNS, parse_only(["learning_rate=2e-5"])) == RUNS[:2]  # 2e-05 printed
    both = parse_only(["max_seq_length=256", "task_name=RTE,cola"])
    assert select_runs(RUNS, both) == [RUNS[1]]  # repeated options: all must hold
    assert select_runs(RUNS, parse_only(["task_name=qqp"])) == []
    assert select_runs(RUNS, {}) == RUNS
    with pytest.raises(OnlyError, match="no parameter 'bf17'"):
        select_runs(RUNS, parse_only(["bf17=true"]))
    assert isinstance(OnlyError("x"), ValueError)


PROGRAM = (
    "import json, os, sys\n"
    "run_dir = os.environ['TIMING_TRAINER_RUN_DIR']\n"
    "json.dump({'status': 'finished', 'error': None, 'argv': sys.argv[1:],\n"
    "           'finetuning_time_list': [0.25], 'evaluations': [{'inference_total_time': 0.05}],\n"
    "           'setup_time_parts': {'startup': 0.5, 'model_load': 0.1}},\n"
    "          open(os.path.join(run_dir, 'timing_results.json'), 'w'))\n"
)


@pytest.fixture
def grid_file(tmp_path):
    program = tmp_path / "prog.py"
    program.write_text(PROGRAM)
    config = {"name": "g", "method": "grid", "program": str(program),
              "parameters": {"bf16": {"values": [False, True]}, "n": {"values": [1, 2, 3]}}}
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _records(runs_dir):
    return sorted((json.loads(p.read_text()) for p in runs_dir.glob("*/agent_record.json")),
                  key=lambda r: r["index"])


def test_sweep_only_runs_the_selection_and_keeps_the_sweeps_numbering(grid_file, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    args = ["sweep", str(grid_file), "--runs-dir", str(runs_dir), "--no-progress"]
    assert cli_main([*args, "--only", "bf16=false", "--only", "n=2,3"]) == 0
    records = _records(runs_dir)
    assert [(r["params"]["bf16"], r["params"]["n"]) for r in records] == [(False, 2), (False, 3)]
    assert [r["index"] for r in records] == [1, 2]  # the indices of the full grid
    err = capsys.readouterr().err
    assert "2 finished, 0 failed, 4 pending of 6; this call ran 2" in err
    assert cli_main(args) == 0  # without --only: the other four, the two above skipped
    assert len(_records(runs_dir)) == 6
    assert "this call ran 4 (2 finished earlier)" in capsys.readouterr().err


@pytest.mark.parametrize("only, expected", [
    ("bf17=true", "--only bf17: the sweep has no parameter 'bf17'"),
    ("bf16", "--only expects NAME=VALUE"),
    ("n=7", "--only n=7: no run of the sweep has these values"),
])
def test_sweep_only_bad_input_is_one_line(grid_file, tmp_path, capsys, only, expected):
    runs_dir = tmp_path / "runs"
    assert cli_main(["sweep", str(grid_file), "--runs-dir", str(runs_dir), "--only", only]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0]
    assert not runs_dir.exists()


def test_count_prints_the_runs_it_touched_and_a_total(grid_file, tmp_path, capsys):
    runs_dir = tmp_path / "runs"
    assert cli_main(["sweep", str(grid_file), "--runs-dir", str(runs_dir), "--count", "1",
                     "--no-progress"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    rows = [line for line in err if line.startswith(("000-", "001-", "002-", "003-"))]
    assert len(rows) == 1 and rows[0].startswith("000-")
    assert err[-1].startswith("1 finished, 0 failed, 5 pending of 6; this call ran 1")
    # the run line and the summary show where the wall time went
    assert any("on clock 0.3 s" in line and "startup 0.5 s, setup 0.1 s" in line for line in err)
    assert "on the clock 0.3 s of" in err[-1]
    record = _records(runs_dir)[0]
    assert record["on_clock_time"] == pytest.approx(0.3)
    assert 0 < record["on_clock_share"] <= 1 and record["startup_time"] == 0.5


def test_runs_dir_that_is_a_file_or_read_only_is_one_line(grid_file, tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for runs_dir, expected in ((a_file, "is a file, not a folder"),
                               (a_file / "below", "is a file")):
        for extra in ([], ["--dry-run"]):
            assert cli_main(["sweep", str(grid_file), "--runs-dir", str(runs_dir), *extra]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and expected in err[0], err


def test_runs_dir_that_cannot_be_written_is_one_line(grid_file, tmp_path, capsys, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if os.geteuid() == 0:  # root writes anyway: make the write fail as a read-only mount does
        from timing_trainer.sweep.agent import runs_dir

        def read_only(*args, **kwargs):
            raise OSError(errno.EROFS, "Read-only file system")

        monkeypatch.setattr(runs_dir.tempfile, "TemporaryFile", read_only)
    assert cli_main(["sweep", str(grid_file), "--runs-dir", str(locked / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot be written" in err[0]
