"""The pilot's tests share: GLUE-format RTE folders of a chosen size, sweep files over them, and
slices written by hand (an agent record and a results file with known figures), so that the
estimate's arithmetic can be checked without running the program."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from timing_trainer.glue.demo_assets import write_task_tsvs
from timing_trainer.pilot.grouping import shape_key, shape_values, tokenize_key
from timing_trainer.pilot.manifest import write_manifest
from timing_trainer.tasks import get_task

COMMAND = ["${env}", "${interpreter}", "-m", "timing_trainer.glue", "--do_train", "--do_eval",
           "--report_to=none", "--save_strategy=no", "${args}"]


def rte_folder(root: Path, n_train: int, n_eval: int) -> Path:
    """`root/RTE` with `n_train` training and `n_eval` dev rows."""
    return write_task_tsvs(root, get_task("rte"), n_train, n_eval, seed=0)


def write_sweep(path: Path, **parameters: Any) -> Path:
    """A grid sweep of the GLUE program (a list: values; else one value)."""
    params = {k: ({"values": v} if isinstance(v, list) else {"value": v})
              for k, v in parameters.items()}
    config = {"name": path.stem, "method": "grid", "command": COMMAND,
              "metric": {"name": "eval_accuracy", "goal": "maximize"}, "parameters": params}
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def fake_slice(pilot: Path, name: str, params: dict[str, Any], cwd: Path, *,
               iteration_s: tuple[float, ...] = (1.0, 1.1), steps: int = 10,
               samples: int = 80, eval_total: float = 0.5, eval_samples: int = 40,
               tokenized: int = 240, parts: dict[str, float] | None = None,
               cache: str = "miss", rest: float = 1.5) -> dict[str, float]:
    """A finished slice of the run with `params`, with these figures; its parts (returned)."""
    parts = parts or {"startup": 3.0, "model_load": 0.2, "tokenize": 0.6, "warmup": 0.4,
                      "train_setup": 0.25}
    wall = sum(iteration_s) + eval_total + sum(parts.values()) + rest
    folder = pilot / name
    folder.mkdir(parents=True)
    record = {"index": 0, "key": name, "dir": name, "params": params, "status": "finished",
              "wall_time": wall, "pilot": {
                  "shape_key": shape_key(shape_values(params, cwd)),
                  "model": shape_values(params, cwd)["model"], "tokens_per_step": 512,
                  "tokenize_key": tokenize_key(params, cwd)}}
    (folder / "agent_record.json").write_text(json.dumps(record))
    results = {
        "status": "finished", "finetuning_time_list": list(iteration_s), "train_steps": steps,
        "train_samples": samples, "inference_total_time": eval_total,
        "inference_time_list": [0.05] * 5, "evaluations": [{
            "name": "eval", "inference_total_time": eval_total, "n_samples": eval_samples,
            "inference_time_list": [0.05, 0.051, 0.049, 0.05, 0.05]}],
        "setup_time_parts": parts, "environment": {"device": "cpu"},
        "config": {"n_train_samples": tokenized - eval_samples, "n_eval_samples": eval_samples,
                   "tokenization_cache": cache, "timing_warmup_steps": 3,
                   "inference_warmup_batches": 1},
        "unavailable": {"finetuning_energy_j": "no energy counter readable here"},
    }
    (folder / "timing_results.json").write_text(json.dumps(results))
    return {"wall": wall, **parts, "rest": rest}


def fake_manifest(pilot: Path, cwd: Path, left_out: list[dict] | None = None) -> None:
    shapes = [{"label": item["shape"], "runs": item["runs"], "left_out": item["why"]}
              for item in left_out or []]
    write_manifest(pilot, {"sweep": "s", "cwd": str(cwd), "shapes": shapes})


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with `data/RTE` (200 training, 40 dev rows) and a model folder `m` (a config
    only: the estimate never loads it)."""
    rte_folder(tmp_path / "data", 200, 40)
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    return tmp_path


@pytest.fixture
def kit():
    """The helpers above, for the tests of this folder (a conftest is not imported by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(rte_folder=rte_folder, write_sweep=write_sweep, fake_slice=fake_slice,
                           fake_manifest=fake_manifest)
