"""`wandb:` sources through the real `wandb` client, against a loopback stand-in of the server.

The stand-in (`tests/helpers/wandb_standin.py`) answers the GraphQL that wandb 0.31 sends; these tests
check what a user sees: paging, sweep filters, the cache used when the server is down, quick
failures for a dead or hung server, a wrong project, no key, and that the same runs read from
W&B and from their run folders give the same table.
"""

from __future__ import annotations

import json
import random
import warnings

import pandas as pd
import pytest
from helpers.wandb_standin import API_KEY, WandbStandIn, closed_port_url, hung_server, wandb_run
from wandb.sdk import wandb_setup

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.wandb_api import wandb_rows
from timing_trainer.analysis.table.wandb_client import ApiHandle
from timing_trainer.errors import RunsDataWarning, RunsLoadError
from timing_trainer.testing.runs import synthetic_results

PROVENANCE = ["source", "name", "folder", "sweep", "created_at"]  # where a run was read, not what it is


def results_14(with_wandb_id: bool = True) -> list[dict]:
    runs = synthetic_results(14, seed=11, failed_share=0.0)
    for index, results in enumerate(runs):
        results["wandb_run_id"] = f"wb{index:02d}" if with_wandb_id else None
    return runs


def served(runs: list[dict]) -> list[dict]:
    """The runs as the server holds them, sweep A for the first 9, in a shuffled order."""
    out = [wandb_run(r, f"wb{i:02d}", sweep="swA" if i < 9 else "swB",
                     created_at=f"2026-11-26T10:{i:02d}:00") for i, r in enumerate(runs)]
    random.Random(3).shuffle(out)
    return out


def write_folders(root, runs: list[dict]) -> None:
    """One folder per run, named so that their path order is not the W&B order."""
    for index, results in enumerate(runs):
        folder = root / f"{(index * 5) % 14:02d}-{results['config']['run_name']}"
        folder.mkdir(parents=True)
        (folder / "timing_results.json").write_text(json.dumps(results))


@pytest.fixture
def server(monkeypatch):
    with WandbStandIn(served(results_14())) as stand_in:
        monkeypatch.setenv("WANDB_BASE_URL", stand_in.url)
        monkeypatch.setenv("WANDB_API_KEY", API_KEY)
        yield stand_in


def loaded(sources, **kwargs) -> tuple[pd.DataFrame, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs(sources, **kwargs)
    return table, [str(w.message) for w in caught if issubclass(w.category, RunsDataWarning)]


def test_same_runs_from_wandb_and_from_folders_give_the_same_table(server, tmp_path):
    write_folders(tmp_path / "runs", results_14())
    from_wandb, _ = loaded(["wandb:ent/proj"], cache_dir=tmp_path / "cache")
    from_folders, _ = loaded([tmp_path / "runs"])
    assert len(from_wandb) == 14
    assert from_wandb["run_id"].tolist() == from_folders["run_id"].tolist()  # same order
    pd.testing.assert_frame_equal(from_wandb.drop(columns=PROVENANCE),
                                  from_folders.drop(columns=PROVENANCE))
    assert from_wandb["time_cv"].notna().all() and (from_wandb["n_eval"] > 0).all()


@pytest.mark.parametrize("with_wandb_id", [True, False])
def test_one_run_through_two_sources_is_counted_once(monkeypatch, tmp_path, with_wandb_id):
    runs = results_14(with_wandb_id)
    write_folders(tmp_path / "runs", runs)
    with WandbStandIn(served(runs)) as stand_in:
        monkeypatch.setenv("WANDB_BASE_URL", stand_in.url)
        monkeypatch.setenv("WANDB_API_KEY", API_KEY)
        table, messages = loaded(["wandb:ent/proj", tmp_path / "runs"], cache_dir=False)
    assert len(table) == 14
    assert table["source"].str.startswith("wandb:").all()  # first source kept
    rule = "same run_id" if with_wandb_id else "same configuration and measured times"
    duplicates = [m for m in messages if "duplicate" in m]
    assert len(duplicates) == 1 and rule in duplicates[0] and "14 duplicate" in duplicates[0]


def test_paging_and_sweep_filter_with_the_real_client(server):
    rows = wandb_rows("wandb:ent/proj/swA", "finetuning", api=ApiHandle(), per_page=4)
    assert sorted(r["run_id"] for r in rows) == [f"wb{i:02d}" for i in range(9)]
    runs_pages = [e for e in server.log if e["op"] == "Runs"]
    assert len(runs_pages) == 3  # 9 runs, 4 a page
    assert all(json.loads(e["variables"]["filters"]) == {"sweep": "swA"} for e in runs_pages)


def test_one_api_for_all_wandb_sources_of_a_call(server):
    table, _ = loaded(["wandb:ent/proj/swA", "wandb:ent/proj/swB"], cache_dir=False)
    assert len(table) == 14
    assert server.operations().count("Viewer") == 1  # the key verified once: one wandb.Api()


def test_cache_first_then_only_unfinished_runs_are_asked_for(server, tmp_path):
    loaded(["wandb:ent/proj"], cache_dir=tmp_path)
    server.log.clear()
    again, _ = loaded(["wandb:ent/proj"], cache_dir=tmp_path)
    assert len(again) == 14
    (page,) = [e for e in server.log if e["op"] == "Runs"]
    assert len(json.loads(page["variables"]["filters"])["name"]["$nin"]) == 14


def test_server_down_uses_the_cache_and_says_from_when(monkeypatch, tmp_path):
    with WandbStandIn(served(results_14())) as stand_in:
        monkeypatch.setenv("WANDB_BASE_URL", stand_in.url)
        monkeypatch.setenv("WANDB_API_KEY", API_KEY)
        online, _ = loaded(["wandb:ent/proj"], cache_dir=tmp_path)
    monkeypatch.setenv("WANDB_BASE_URL", closed_port_url())
    offline, messages = loaded(["wandb:ent/proj"], cache_dir=tmp_path)
    pd.testing.assert_frame_equal(online, offline)
    (note,) = [m for m in messages if "cached at" in m]
    assert "could not be reached" in note and "14 run(s)" in note and " UTC" in note


def test_server_down_without_cache_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_BASE_URL", closed_port_url())
    monkeypatch.setenv("WANDB_API_KEY", API_KEY)
    with pytest.raises(RunsLoadError, match="could not be reached") as info:
        load_runs(["wandb:ent/proj"], cache_dir=tmp_path)
    assert "\n" not in str(info.value) and "authentication" not in str(info.value).lower()


def test_hung_server_fails_after_the_connect_timeout(monkeypatch, tmp_path):
    monkeypatch.setenv("WANDB_API_KEY", API_KEY)
    monkeypatch.setenv("TIMING_TRAINER_WANDB_TIMEOUT", "1")
    with hung_server() as url:
        monkeypatch.setenv("WANDB_BASE_URL", url)
        with pytest.raises(RunsLoadError, match=r"could not be reached \(no answer within 1 s\)"):
            load_runs(["wandb:ent/proj"], cache_dir=tmp_path)


def test_wrong_project_is_named(server):
    with pytest.raises(RunsLoadError, match="W&B project ent/nope not found"):
        load_runs(["wandb:ent/nope"], cache_dir=False)


def test_no_key_names_wandb_login(server, monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with pytest.raises(RunsLoadError, match="no W&B API key .*`wandb login`"):
        load_runs(["wandb:ent/proj"], cache_dir=False)
    assert server.log == []  # nothing was asked of the server


def test_no_key_with_a_cache_uses_the_cache(server, monkeypatch, tmp_path):
    online, _ = loaded(["wandb:ent/proj/swB"], cache_dir=tmp_path)
    monkeypatch.delenv("WANDB_API_KEY")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    wandb_setup.teardown()  # W&B keeps the key it saw in a process-wide singleton: a new session
    server.log.clear()
    offline, messages = loaded(["wandb:ent/proj/swB"], cache_dir=tmp_path)
    pd.testing.assert_frame_equal(online, offline)
    assert server.log == [] and any("wandb login" in m and "cached at" in m for m in messages)
