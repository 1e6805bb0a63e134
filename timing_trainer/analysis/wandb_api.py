"""Runs from the W&B public API, read in bulk and cached on disk.

`api.runs(path, filters=..., per_page=..., lazy=False)` returns config and summary of many runs per
request (the default `lazy=True` of recent clients would fetch them run by run);
a sweep's runs come through the same call with a `sweep` filter (the `sweep.runs` attribute pages
by 10, and a per-run `api.run(...)` would be one request per run). History (one row per
fine-tuning iteration) costs one request per run, so it is read only when asked.

The cache (`cache_dir/wandb_<entity>_<project>[_<sweep>].json`) keeps every run seen. A finished
run does not change, so the next analysis asks the server only for runs that are not cached as
finished: new runs, and runs that were still running, failed or crashed last time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.analysis.records import RunsLoadError, flatten, row_from_flat
from timing_trainer.atomic import atomic_write_json

PREFIX = "wandb:"
PER_PAGE = 500  # the API's page size; W&B serves up to 1000 runs per request
_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class WandbPath:
    entity: str
    project: str
    sweep: str | None = None

    @property
    def project_path(self) -> str:
        return f"{self.entity}/{self.project}"

    def __str__(self) -> str:
        return self.project_path + (f"/{self.sweep}" if self.sweep else "")


def parse_wandb_source(text: str) -> WandbPath:
    """`wandb:ENTITY/PROJECT` or `wandb:ENTITY/PROJECT/SWEEP_ID` (a `sweeps/` part is allowed)."""
    body = text[len(PREFIX):] if text.startswith(PREFIX) else text
    parts = [p for p in body.strip("/").split("/") if p and p != "sweeps"]
    if len(parts) not in (2, 3) or not all(_PART.match(p) for p in parts):
        raise RunsLoadError(f"bad W&B source {text!r}; expected wandb:ENTITY/PROJECT[/SWEEP_ID]")
    return WandbPath(*parts)


def _plain(value: Any) -> Any:
    """Config values may come as `{"value": x, "desc": ...}`; keep x."""
    if isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "desc"}:
        return value["value"]
    return value


def run_record(run: Any, *, history: bool) -> dict[str, Any]:
    """What the analysis keeps of a public-API run object (no extra requests unless `history`)."""
    summary = getattr(run, "summary_metrics", None)
    if summary is None:
        summary = dict(getattr(run, "summary", {}) or {})
    record = {
        "id": str(run.id),
        "name": getattr(run, "name", None),
        "state": getattr(run, "state", None),
        "sweep": getattr(run, "sweep_name", None),
        "created_at": getattr(run, "created_at", None),
        "config": {k: _plain(v) for k, v in dict(run.config or {}).items()
                   if not str(k).startswith("_")},
        "summary": {k: v for k, v in dict(summary).items() if not str(k).startswith("_")},
    }
    if history:
        record["history"] = [dict(row) for row in run.scan_history(page_size=1000)]
    return record


def cache_file(cache_dir: Path, path: WandbPath) -> Path:
    name = f"wandb_{path.entity}_{path.project}" + (f"_{path.sweep}" if path.sweep else "")
    return Path(cache_dir) / f"{name}.json"


def _read_cache(file: Path) -> dict[str, dict[str, Any]]:
    if not file.is_file():
        return {}
    try:
        data = json.loads(file.read_text())
        return dict(data.get("runs", {}))
    except (OSError, ValueError):
        return {}  # a broken cache is only a slower analysis: fetch everything again


def make_api() -> Any:
    try:
        import wandb
    except ImportError as exc:  # pragma: no cover - wandb is a dependency
        raise RunsLoadError("reading from W&B needs the `wandb` package") from exc
    try:
        return wandb.Api(timeout=60)
    except Exception as exc:  # wandb raises its own types for missing logins
        raise RunsLoadError(f"cannot reach the W&B API ({type(exc).__name__}); "
                            "log in with `wandb login` or set WANDB_API_KEY") from exc


def _bulk_runs(api: Any, project_path: str, filters: dict[str, Any], per_page: int) -> Any:
    """`api.runs` with config and summary in every page (`lazy=False`).

    Since wandb 0.2x `api.runs` is lazy by default: config and summary would then be fetched
    run by run on first access. Older clients have no `lazy` argument and are never lazy.
    """
    try:
        return api.runs(project_path, filters=filters, per_page=per_page, lazy=False)
    except TypeError:
        return api.runs(project_path, filters=filters, per_page=per_page)


def fetch_records(
    path: WandbPath,
    *,
    api: Any = None,
    cache_dir: Path | None = None,
    history: bool = False,
    per_page: int = PER_PAGE,
) -> list[dict[str, Any]]:
    """Every run of the project or sweep as a record, fetching only what the cache lacks."""
    cached = _read_cache(cache_file(cache_dir, path)) if cache_dir else {}
    reusable = {
        run_id: rec for run_id, rec in cached.items()
        if rec.get("state") == "finished" and (not history or "history" in rec)
    }
    conditions: list[dict[str, Any]] = []
    if path.sweep:
        conditions.append({"sweep": path.sweep})
    if reusable:
        # In W&B's run filters `name` is the run id (the display name is `displayName`).
        conditions.append({"name": {"$nin": sorted(reusable)}})
    filters = conditions[0] if len(conditions) == 1 else ({"$and": conditions} if conditions else {})
    api = api if api is not None else make_api()
    try:
        runs = _bulk_runs(api, path.project_path, filters, per_page)
        fetched = {rec["id"]: rec for rec in (run_record(r, history=history) for r in runs)}
    except RunsLoadError:
        raise
    except Exception as exc:
        raise RunsLoadError(f"W&B API request for {path} failed: {type(exc).__name__}: {exc}") from exc
    merged = {**cached, **reusable, **fetched}
    if cache_dir:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_json(cache_file(cache_dir, path), {"source": str(path), "runs": merged})
    wanted = {**reusable, **fetched}
    return [wanted[k] for k in sorted(wanted)]


def wandb_rows(text: str, kind: str, *, api: Any = None, cache_dir: Path | None = None,
               history: bool = False, per_page: int = PER_PAGE) -> list[dict[str, Any]]:
    path = parse_wandb_source(text)
    rows = []
    for rec in fetch_records(path, api=api, cache_dir=cache_dir, history=history,
                             per_page=per_page):
        # This project logs `environment` as a nested config dict: read as `environment.device`.
        flat = {**flatten(rec["config"]), **rec["summary"]}
        row = row_from_flat(
            flat, kind=kind, source=f"{PREFIX}{path}", run_id=rec["id"], name=rec.get("name"),
            state=rec.get("state"), sweep=rec.get("sweep"), created_at=rec.get("created_at"),
            where=f"W&B run {path.project_path}/{rec['id']}",
        )
        if history:
            row["history"] = rec.get("history")
        rows.append(row)
    return rows
