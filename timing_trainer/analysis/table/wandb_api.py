"""Runs from the W&B public API, read in bulk and cached on disk.

`api.runs(path, filters=..., per_page=..., lazy=False)` returns config and summary of many runs per
request (the default `lazy=True` of recent clients would fetch them run by run);
a sweep's runs come through the same call with a `sweep` filter (the `sweep.runs` attribute pages
by 10, and a per-run `api.run(...)` would be one request per run). History (one row per
fine-tuning iteration) costs one request per run, so it is read only when asked.

The cache (`cache_dir/wandb_<entity>_<project>[_<sweep>].json`, by default in the user's cache
folder, see `default_cache_dir`) keeps every run seen and when it was saved. A finished run does
not change, so the next analysis asks the server only for runs that are not cached as finished:
new runs, and runs that were still running, failed or crashed last time. The cache is read
before any server call: with the server down, or no key, cached runs are analysed with a warning
that says from when (see `wandb_client` for how a dead server is found out in seconds).
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from timing_trainer.analysis.table.flat import flatten
from timing_trainer.analysis.table.rows import row_from_flat
from timing_trainer.analysis.table.times import report_bad_times
from timing_trainer.analysis.table.wandb_client import ApiHandle
from timing_trainer.errors import RunsDataWarning, RunsLoadError, WandbUnavailable
from timing_trainer.runtime.atomic import atomic_write_json

PREFIX = "wandb:"
CACHE_ENV = "TIMING_TRAINER_WANDB_CACHE"
TIME_FORMAT = "%Y-%m-%d %H:%M UTC"
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


def default_cache_dir() -> Path:
    """`$TIMING_TRAINER_WANDB_CACHE`, else `$XDG_CACHE_HOME/timing-trainer/wandb` (~/.cache).

    Outside any checkout on purpose: a notebook run from `notebooks/` must not leave an untracked
    cache there, and every analysis of the same project (CLI, notebooks) shares one cache.
    """
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(root) / "timing-trainer" / "wandb"


def cache_file(cache_dir: Path, path: WandbPath) -> Path:
    name = f"wandb_{path.entity}_{path.project}" + (f"_{path.sweep}" if path.sweep else "")
    return Path(cache_dir) / f"{name}.json"


def _read_cache(file: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The cached runs by id, and when they were saved (UTC, for the offline note)."""
    if not file.is_file():
        return {}, None
    try:
        data = json.loads(file.read_text())
        saved = data.get("saved_at") or _mtime(file)
        return dict(data.get("runs", {})), saved
    except (OSError, ValueError, AttributeError):
        return {}, None  # a broken cache is only a slower analysis: fetch everything again


def _mtime(file: Path) -> str:
    return datetime.fromtimestamp(file.stat().st_mtime, timezone.utc).strftime(TIME_FORMAT)


def _bulk_runs(api: Any, project_path: str, filters: dict[str, Any], per_page: int) -> Any:
    """`api.runs` with config and summary in every page (`lazy=False`).

    Since wandb 0.2x `api.runs` is lazy by default: config and summary would then be fetched
    run by run on first access. Older clients have no `lazy` argument and are never lazy.
    """
    try:
        return api.runs(project_path, filters=filters, per_page=per_page, lazy=False)
    except TypeError:
        return api.runs(project_path, filters=filters, per_page=per_page)


def _filters(path: WandbPath, reusable: Mapping[str, Any]) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    if path.sweep:
        conditions.append({"sweep": path.sweep})
    if reusable:
        # In W&B's run filters `name` is the run id (the display name is `displayName`).
        conditions.append({"name": {"$nin": sorted(reusable)}})
    if len(conditions) == 1:
        return conditions[0]
    return {"$and": conditions} if conditions else {}


def _query(handle: ApiHandle, path: WandbPath, filters: dict[str, Any], *, history: bool,
           per_page: int) -> dict[str, dict[str, Any]]:
    """The runs the server has for `filters`, as records by id; failures as one clear line."""
    api = handle.get()
    try:
        runs = _bulk_runs(api, path.project_path, filters, per_page)
        return {rec["id"]: rec for rec in (run_record(r, history=history) for r in runs)}
    except RunsLoadError:
        raise
    except ValueError as exc:
        if "Could not find project" in str(exc):
            raise RunsLoadError(f"W&B project {path.project_path} not found (or this API key "
                                "cannot see it)") from exc
        raise WandbUnavailable(f"W&B API request for {path} failed: {exc}") from exc
    except Exception as exc:
        raise WandbUnavailable(
            f"W&B API request for {path} failed: {type(exc).__name__}: {exc}") from exc


def fetch_records(
    path: WandbPath,
    *,
    api: Any = None,
    cache_dir: Path | None = None,
    history: bool = False,
    per_page: int = PER_PAGE,
) -> list[dict[str, Any]]:
    """Every run of the project or sweep as a record, fetching only what the cache lacks.

    The cache is read before any server call. When the server cannot be reached (or no key is
    configured) and the cache holds runs of this source, those runs are used with one warning
    that says when they were saved; without a cache the failure is one `RunsLoadError` line.
    """
    handle = api if isinstance(api, ApiHandle) else ApiHandle(api)
    file = cache_file(cache_dir, path) if cache_dir else None
    cached, saved_at = _read_cache(file) if file else ({}, None)
    reusable = {
        run_id: rec for run_id, rec in cached.items()
        if rec.get("state") == "finished" and (not history or "history" in rec)
    }
    try:
        fetched = _query(handle, path, _filters(path, reusable), history=history,
                         per_page=per_page)
    except WandbUnavailable as exc:
        if not cached:
            raise
        warnings.warn(f"{exc}; using the {len(cached)} run(s) of {path} cached at {saved_at} "
                      f"({file}); runs not finished then may have changed since",
                      RunsDataWarning, stacklevel=2)
        return [cached[k] for k in sorted(cached)]
    if file:
        _write_cache(file, path, {**cached, **reusable, **fetched})
    wanted = {**reusable, **fetched}
    return [wanted[k] for k in sorted(wanted)]


def _write_cache(file: Path, path: WandbPath, runs: dict[str, Any]) -> None:
    """Save the runs seen; a cache that cannot be written costs speed, not the analysis."""
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(file, {"source": str(path), "saved_at": _now(), "runs": runs})
    except OSError as exc:
        warnings.warn(f"W&B runs of {path} not cached: cannot write {file} "
                      f"({exc.strerror or exc}); set --cache-dir or {CACHE_ENV}",
                      RunsDataWarning, stacklevel=3)


def _now() -> str:
    return datetime.now(timezone.utc).strftime(TIME_FORMAT)


def wandb_rows(text: str, kind: str, *, api: Any = None, cache_dir: Path | None = None,
               history: bool = False, per_page: int = PER_PAGE) -> list[dict[str, Any]]:
    """Rows of one `wandb:` source; `api` is a `wandb.Api`-like object or a shared `ApiHandle`."""
    path = parse_wandb_source(text)
    rows = []
    for rec in fetch_records(path, api=api, cache_dir=cache_dir, history=history,
                             per_page=per_page):
        # This project logs `environment` as a nested config dict: read as `environment.device`.
        flat = {**flatten(rec["config"]), **rec["summary"]}
        row = row_from_flat(
            flat, kind=kind, source=f"{PREFIX}{path}", run_id=rec["id"], wandb_id=rec["id"],
            name=rec.get("name"), state=rec.get("state"), sweep=rec.get("sweep"), created_at=rec.get("created_at"),
            where=f"W&B run {path.project_path}/{rec['id']}",
        )
        if history:
            row["history"] = rec.get("history")
        rows.append(row)
    report_bad_times(rows, f"{PREFIX}{path}")
    return rows
