"""What a run records about its model so that the cost model can price it from any folder.

`predict` and `analyze` price a run by its model's shape (`timing_trainer.costmodel.shapes`).
A sweep's `model_name_or_path` is often relative to the folder the sweep started in, so reading
the shape back from that name depends on the reader's folder. A run reading its results from
another folder lost its shape that way, and its fit with it. So the run records two keys in its
results' `config`:
- `model_resolved`: the absolute folder of a local model, else the Hub id as given;
- `model_config_json`: the model's `config.json` as compact JSON text. This is the file the cost
  model reads for a planned run of the same model (the local folder's, or the Hub cache's), so
  a recorded run and a planned one get the same shape. Where no file can be found, the loaded
  config's own keys are recorded.
They are text, not a nested object, because every reader of runs keeps text as it is: run
folders, the W&B API and W&B exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def model_record(model_args: Any, config: Any) -> dict[str, str]:
    """`model_resolved` and `model_config_json` of the model `model_args` names (`config`: the
    loaded config, the fallback)."""
    name = str(model_args.config_name or model_args.model_name_or_path)
    local = Path(name).expanduser()
    if local.is_dir():
        resolved, file = str(local.resolve()), local / "config.json"
    else:
        resolved, file = name, _cached_config(name, model_args)
    keys = _read(file) if file is not None else None
    if keys is None:
        keys = config.to_diff_dict() if hasattr(config, "to_diff_dict") else {}
    return {"model_resolved": resolved,
            "model_config_json": json.dumps(keys, sort_keys=True, separators=(",", ":"),
                                            default=str)}


def _cached_config(name: str, model_args: Any) -> Path | None:
    """The Hub cache's `config.json` of `name` (the model has just loaded, so it is there; no
    network is asked)."""
    try:
        from transformers.utils import cached_file

        path = cached_file(name, "config.json", cache_dir=model_args.cache_dir,
                           revision=model_args.model_revision, local_files_only=True,
                           _raise_exceptions_for_missing_entries=False)
    except Exception:  # noqa: BLE001 - no file is a fallback, never a failed run
        return None
    return Path(path) if path else None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        keys = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return keys if isinstance(keys, dict) else None
