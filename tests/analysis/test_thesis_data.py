"""`timing-trainer thesis-data`: the thesis's exports downloaded (from a loopback stand-in of
raw.githubusercontent.com) or copied (`--from`), checked against the recorded SHA-256, laid out
for `analyze --thesis`. Tests that need the real files use `thesis_runs_dir` (skipped without)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.thesis import (
    THESIS_COUNTS,
    THESIS_EXPORTS,
    THESIS_FILES,
    thesis_files,
)
from timing_trainer.analysis.table.thesis_data import fetch


@contextlib.contextmanager
def file_server(root: Path):
    """Serve `root` over HTTP on 127.0.0.1; yields (base URL, list of requested paths)."""
    requested: list[str] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requested.append(self.path)

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Handler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", requested
    finally:
        server.shutdown()
        server.server_close()


def repository_layout(thesis_runs_dir: str, root: Path) -> Path:
    """The files as the thesis's repository holds them (`wandb time data/... time/NAME`)."""
    for export in THESIS_EXPORTS:
        target = root / export.remote_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(thesis_runs_dir) / export.name, target)
    return root


def thesis_data(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "timing_trainer", "thesis-data",
                           *map(str, args)], capture_output=True, text=True, timeout=120)


def error_line(proc: subprocess.CompletedProcess, code: int, phrase: str) -> None:
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("timing-trainer thesis-data: error: "), lines
    assert phrase in lines[0], lines[0]


def test_recorded_names_and_lists_agree():
    assert len(THESIS_EXPORTS) == 15 and len({e.name for e in THESIS_EXPORTS}) == 15
    assert THESIS_FILES["finetuning"][0] == "finetuning/WNLI_uncased.csv"
    assert len(THESIS_FILES["finetuning"]) == 9 and len(THESIS_FILES["inference"]) == 6
    url = THESIS_EXPORTS[0].url()
    assert url.startswith("https://raw.githubusercontent.com/annakorotkova/Exploration-of-")
    assert url.endswith("/e1eef8cb28ccd195d6c2dae5a964acb4857d765e/"
                        "wandb%20time%20data/finetuning%20time/WNLI_uncased.csv")


def test_recorded_sums_are_those_of_the_thesis_files(thesis_runs_dir):
    for export in THESIS_EXPORTS:
        data = (Path(thesis_runs_dir) / export.name).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (export.sha256, export.size)


def test_download_checks_lays_out_and_resumes(thesis_runs_dir, tmp_path, capsys):
    served = repository_layout(thesis_runs_dir, tmp_path / "served")
    dest = tmp_path / "thesis"
    with file_server(served) as (url, requested):
        assert fetch(dest, base_url=url, show_progress=True) == {"kept": 0, "fetched": 15}
        assert "thesis exports" in capsys.readouterr().err  # the progress bar
        assert len(requested) == 15
        for export in THESIS_EXPORTS:
            assert (dest / export.name).read_bytes() == (served / export.remote_path).read_bytes()
        requested.clear()
        assert fetch(dest, base_url=url, show_progress=False) == {"kept": 15, "fetched": 0}
        assert requested == []  # resumed: nothing asked again
        (dest / THESIS_EXPORTS[3].name).unlink()
        (dest / THESIS_EXPORTS[9].name).write_bytes(b"half a file")
        (dest / "finetuning" / ".RTE_cased.csv.x1.part").write_bytes(b"left by a killed call")
        assert fetch(dest, base_url=url, show_progress=False) == {"kept": 13, "fetched": 2}
    assert sorted(p.name for p in dest.rglob("*") if p.name.startswith(".")) == []


def test_corrupted_file_and_404_fail_in_one_line(tmp_path):
    served = tmp_path / "served"
    first = THESIS_EXPORTS[0]
    (served / first.remote_path).parent.mkdir(parents=True)
    (served / first.remote_path).write_text("Name,State\nnot,the thesis\n")
    dest = tmp_path / "thesis"
    with file_server(served) as (url, _requested):
        proc = thesis_data(dest, "--base-url", url)
        error_line(proc, 1, f"{first.name} from {url}")
        assert "does not match its recorded SHA-256" in proc.stderr
        assert not (dest / first.name).exists()
        assert list((dest / "finetuning").iterdir()) == []  # no part file left either
        (served / first.remote_path).unlink()
        error_line(thesis_data(dest, "--base-url", url), 1, "HTTP 404")


def test_bad_arguments_exit_2(tmp_path):
    (tmp_path / "file").write_text("x")
    error_line(thesis_data(tmp_path / "file"), 2, "is a file, not a folder")
    error_line(thesis_data(tmp_path / "out", "--from", tmp_path / "absent"), 2, "not a folder")
    (tmp_path / "empty").mkdir()
    error_line(thesis_data(tmp_path / "out", "--from", tmp_path / "empty"), 2,
               "finetuning/WNLI_uncased.csv not found")


def test_from_a_local_copy_offline(thesis_runs_dir, tmp_path):
    proc = thesis_data(tmp_path / "thesis", "--from", thesis_runs_dir)
    assert proc.returncode == 0, proc.stderr
    assert "15 thesis exports" in proc.stdout and "SHA-256" in proc.stdout
    clone = repository_layout(thesis_runs_dir, tmp_path / "clone")
    assert fetch(tmp_path / "from-clone", source=clone, show_progress=False)["fetched"] == 15
    for kind, (n_finished, n_runs) in THESIS_COUNTS.items():
        table = load_runs(thesis_files(tmp_path / "thesis", kind), kind)
        assert (len(table), int((table["state"] == "finished").sum())) == (n_runs, n_finished)


def test_from_a_copy_with_a_changed_file_writes_nothing_for_it(thesis_runs_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(thesis_runs_dir, copy)
    changed = THESIS_EXPORTS[-1]
    os.chmod(copy / changed.name, 0o644)
    with open(copy / changed.name, "a") as handle:
        handle.write("\n")
    proc = thesis_data(tmp_path / "thesis", "--from", copy)
    error_line(proc, 1, f"{changed.name} from {copy / changed.name} does not match")
    assert not (tmp_path / "thesis" / changed.name).exists()
    assert (tmp_path / "thesis" / THESIS_EXPORTS[0].name).is_file()


@pytest.mark.slow
def test_analyze_thesis_needs_no_file_list(thesis_runs_dir, tmp_path):
    assert fetch(tmp_path / "thesis", source=Path(thesis_runs_dir), show_progress=False)
    proc = subprocess.run([sys.executable, "-m", "timing_trainer", "analyze", "--thesis",
                           "inference", tmp_path / "thesis", "--out", tmp_path / "report",
                           "--no-plots", "--folds", "2", "--forest-folds", "0"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "297 runs, 267 finished, 267 analysed (inference)" in proc.stdout
