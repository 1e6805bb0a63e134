"""The W&B API loader against a stand-in with the public API's attributes and paging."""

from __future__ import annotations

import math

import pytest
from helpers.wandb_standin import matches

from timing_trainer.analysis.table.load import load_runs
from timing_trainer.analysis.table.wandb_api import cache_file, parse_wandb_source
from timing_trainer.errors import RunsLoadError


class FakeRun:
    """The attributes of `wandb.apis.public.Run` that the loader reads."""

    def __init__(self, api, run_id, state, sweep, config, summary, history):
        self._api = api
        self.id = run_id
        self.name = f"name-{run_id}"
        self.state = state
        self.sweep_name = sweep
        self.created_at = "2026-11-26T00:00:00"
        self._config = config
        self._summary = summary
        self._history = history
        self.lazy = True

    def _load_full_data(self):
        if self.lazy:  # a lazy run fetches config and summary with one request of its own
            self._api.requests += 1
            self.lazy = False

    @property
    def config(self):
        self._load_full_data()
        return self._config

    @property
    def summary_metrics(self):
        self._load_full_data()
        return self._summary

    def scan_history(self, page_size=1000):
        self._api.requests += 1  # one request per run: only when history is asked for
        yield from self._history


class FakeApi:
    """`api.runs(path, filters, per_page)` pages like the real `Runs` object: one request a page."""

    def __init__(self, runs):
        self._runs = runs
        self.requests = 0
        self.calls = []

    def add(self, run_id, state="finished", sweep="sw1", task="rte", times=None):
        n = len(self._runs)  # distinct times: identical measurements would be one run
        times = times or (5.0 + n / 100, 4.0 + n / 100)
        config = {"task_name": task, "model_name_or_path": "google-bert/bert-base-uncased",
                  "max_seq_length": 128, "per_device_train_batch_size": 8,
                  "per_device_eval_batch_size": 16, "learning_rate": {"value": 2e-5},
                  "environment": {"device": "cuda", "gpu_name": "NVIDIA H100"},
                  "_wandb": {"internal": 1}}
        summary = {"finetuning_time": min(times), "finetuning_time_list": list(times),
                   "inference_time": 0.1, "inference_total_time": 1.0,
                   "inference_time_list": [0.2, 0.1, 0.05], "eval_accuracy": 0.7, "_step": 3}
        history = [{"iteration": i, "finetuning_time": t} for i, t in enumerate(times)]
        self._runs.append(FakeRun(self, run_id, state, sweep, config, summary, history))

    def runs(self, path, filters=None, order="+created_at", per_page=50, include_sweeps=False,
             lazy=True):
        self.calls.append((path, filters, per_page))
        selected = [r for r in self._runs if _matches(r, filters or {})]
        for run in selected:
            run.lazy = lazy

        def pages():
            for start in range(0, max(len(selected), 1), per_page):
                self.requests += 1
                yield from selected[start:start + per_page]

        return pages()


def _matches(run, filters):
    """W&B's filters as the HTTP stand-in applies them (one reading of the filter subset)."""
    return matches({"sweepName": run.sweep_name, "name": run.id}, filters)


@pytest.fixture
def api():
    fake = FakeApi([])
    for i in range(23):
        fake.add(f"r{i:02d}", sweep="sw1" if i < 20 else "sw2")
    fake.add("running1", state="running", sweep="sw1")
    fake.add("crashed1", state="crashed", sweep="sw1", times=(1.0,))
    return fake


def test_parse_source():
    assert str(parse_wandb_source("wandb:ent/proj")) == "ent/proj"
    path = parse_wandb_source("wandb:ent/proj/sweeps/abc123")
    assert (path.entity, path.project, path.sweep) == ("ent", "proj", "abc123")
    with pytest.raises(RunsLoadError):
        parse_wandb_source("wandb:ent/proj/a/b/c")


def test_bulk_read_pages_and_maps_columns(api):
    table = load_runs(["wandb:ent/proj/sw1"], wandb_api=api, kind="finetuning")
    assert len(table) == 22  # 20 finished + running + crashed of sweep sw1
    assert api.requests == math.ceil(22 / 500)  # one bulk page, not one request per run
    assert api.calls[0][1] == {"sweep": "sw1"}
    row = table.set_index("run_id").loc["r00"]
    assert row["model"] == "bert-base-uncased" and row["task"] == "rte"
    assert row["learning_rate"] == pytest.approx(2e-5)  # {"value": x} config form unwrapped
    assert row["time"] == pytest.approx(4.0) and row["metric"] == pytest.approx(0.7)
    assert row["source"] == "wandb:ent/proj/sw1"
    assert row["device"] == "cuda" and row["gpu_name"] == "NVIDIA H100"  # nested config read
    assert table["state"].value_counts().to_dict() == {"finished": 20, "running": 1, "crashed": 1}
    inference = load_runs(["wandb:ent/proj/sw1"], wandb_api=api, kind="inference")
    assert inference.set_index("run_id").loc["r00", "time"] == pytest.approx(0.1)


def test_paging_with_small_pages_counts_requests(api):
    load_runs(["wandb:ent/proj"], wandb_api=api, kind="finetuning")
    requests_500 = api.requests
    api.requests = 0
    from timing_trainer.analysis.table.wandb_api import wandb_rows
    rows = wandb_rows("wandb:ent/proj", "finetuning", api=api, per_page=10)
    assert len(rows) == 25 and api.requests == 3 and requests_500 == 1


def test_cache_skips_finished_runs_on_the_second_analysis(api, tmp_path):
    first = load_runs(["wandb:ent/proj/sw1"], wandb_api=api, cache_dir=tmp_path)
    assert cache_file(tmp_path, parse_wandb_source("wandb:ent/proj/sw1")).is_file()
    api.calls.clear()
    api.add("r99", sweep="sw1")  # a new run finished meanwhile
    second = load_runs(["wandb:ent/proj/sw1"], wandb_api=api, cache_dir=tmp_path)
    _path, filters, _per_page = api.calls[0]
    excluded = filters["$and"][1]["name"]["$nin"]
    assert len(excluded) == 20 and "running1" not in excluded and "crashed1" not in excluded
    assert len(second) == len(first) + 1
    assert set(second["run_id"]) == set(first["run_id"]) | {"r99"}
    assert second.set_index("run_id").loc["r05", "time"] == pytest.approx(4.05)  # from the cache


def test_history_only_when_asked(api, tmp_path):
    load_runs(["wandb:ent/proj/sw2"], wandb_api=api)
    assert api.requests == 1
    api.requests = 0
    table = load_runs(["wandb:ent/proj/sw2"], wandb_api=api, history=True, cache_dir=tmp_path)
    assert api.requests == 1 + 3  # the bulk page, then one history request per run
    history = table.set_index("run_id").loc["r20", "history"]
    assert history[1] == {"iteration": 1, "finetuning_time": 4.2}
    api.requests = 0
    again = load_runs(["wandb:ent/proj/sw2"], wandb_api=api, history=True, cache_dir=tmp_path)
    assert api.requests == 1 and len(again) == 3  # finished runs with history: from the cache


def test_api_failure_is_a_load_error():
    class Broken:
        def runs(self, *args, **kwargs):
            raise ConnectionError("no network")

    with pytest.raises(RunsLoadError, match="W&B API request for ent/proj failed"):
        load_runs(["wandb:ent/proj"], wandb_api=Broken())


def test_old_clients_without_lazy_argument(api):
    class OldApi:
        requests = 0

        def runs(self, path, filters=None, per_page=50):  # wandb before the `lazy` argument
            return api.runs(path, filters=filters, per_page=per_page, lazy=False)

    table = load_runs(["wandb:ent/proj/sw2"], wandb_api=OldApi())
    assert len(table) == 3 and api.requests == 1


def test_default_cache_is_outside_the_checkout(api, monkeypatch, tmp_path):
    from timing_trainer.analysis.table.wandb_api import default_cache_dir

    monkeypatch.delenv("TIMING_TRAINER_WANDB_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "timing-trainer" / "wandb"
    monkeypatch.setenv("TIMING_TRAINER_WANDB_CACHE", str(tmp_path / "mine"))
    load_runs(["wandb:ent/proj/sw2"], wandb_api=api)  # cache_dir left out: the default
    assert cache_file(tmp_path / "mine", parse_wandb_source("wandb:ent/proj/sw2")).is_file()
    api.calls.clear()
    load_runs(["wandb:ent/proj/sw2"], wandb_api=api, cache_dir=False)  # no cache at all
    assert api.calls[0][1] == {"sweep": "sw2"}  # nothing excluded as cached


def test_energy_and_metric_columns_from_the_summary(api):
    """A W&B summary's flat energy figures and metrics fill the same columns as a results file."""
    run = api._runs[0]
    run._summary.update({"finetuning_energy_j": 1200.0, "finetuning_energy_j_list": [1300.0,
                         1200.0], "finetuning_avg_power_w": 300.0, "inference_energy_j": 50.0,
                         "inference_energy_per_sample_j": 0.25, "energy_source": "nvml",
                         "eval_loss": 0.4})
    unmeasured = api._runs[1]
    unmeasured._summary.update({"finetuning_energy_j": None, "energy_source": None,
                                "unavailable": {"finetuning_energy_j": "no NVML energy counter"}})
    table = load_runs(["wandb:ent/proj/sw1"], wandb_api=api, kind="finetuning",
                      cache_dir=False).set_index("run_id")
    row = table.loc[run.id]
    assert row["energy_j"] == 1200.0 and row["avg_power_w"] == 300.0
    assert row["energy_cv"] == pytest.approx(math.sqrt(5000) / 1250)
    assert row["energy_source"] == "nvml" and row["eval_accuracy"] == 0.7
    assert row["eval_loss"] == 0.4 and row["metric_name"] == "eval_accuracy"
    assert table.loc[unmeasured.id, "energy_unavailable"] == "no NVML energy counter"
    inference = load_runs(["wandb:ent/proj/sw1"], wandb_api=api, kind="inference",
                          cache_dir=False).set_index("run_id").loc[run.id]
    assert inference["energy_j"] == 0.25 * 16 and inference["avg_power_w"] == 50.0 / 1.0
