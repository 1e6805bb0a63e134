"""Fail fast, in one line, when the run needs the Hugging Face Hub and cannot reach it.

Without a network, `from_pretrained("org/name")` and `load_dataset` retry every request five
times with growing pauses: about 25 s of retry warnings per file before the error (measured here
with huggingface_hub 2.4), and a sweep of 72 runs pays that 72 times. So before loading, when a
model, config, tokenizer or the dataset is a Hub id and offline mode is off, one TCP connection
to the Hub's endpoint (`HF_ENDPOINT`, or the HTTPS proxy when one is set) is tried with a short
timeout. If it fails, the run stops with one line (exit 2) that says what to do: use a local
folder or `--data_dir`, or set `HF_HUB_OFFLINE=1` to load what is in the cache (with offline
mode set, the libraries fail in about 2 s by themselves when something is not cached).
"""

from __future__ import annotations

import os
import socket
from typing import Any
from urllib.parse import urlparse

from timing_trainer.errors import GlueInputError
from timing_trainer.glue.model_files import local_path

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_SECONDS = 5.0
_OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")


def offline_mode() -> bool:
    return any(os.environ.get(name, "").strip().upper() in ("1", "ON", "YES", "TRUE")
               for name in _OFFLINE_VARIABLES)


def hub_names(model_args: Any, data_args: Any) -> list[str]:
    """What this run would fetch from the Hub: model, config, tokenizer and dataset ids."""
    names = []
    for argument in ("model_name_or_path", "config_name", "tokenizer_name"):
        value = getattr(model_args, argument, None)
        if value and local_path(str(value)) is None:
            names.append(str(value))
    if not getattr(data_args, "data_dir", None):
        names.append(f"{data_args.dataset_name} (dataset)")
    return list(dict.fromkeys(names))


def _probe_target() -> tuple[str, int]:
    """(host, port) a request to the Hub connects to first: the proxy, else the endpoint."""
    proxy = next((os.environ[v] for v in _PROXY_VARIABLES if os.environ.get(v)), None)
    url = urlparse(proxy if proxy else os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT)
    if not url.hostname:  # a proxy written without a scheme: host:port
        url = urlparse(f"http://{proxy}")
    default = 443 if url.scheme == "https" else 80
    return url.hostname or "huggingface.co", url.port or default


def unreachable_reason(timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
    """None when a TCP connection to the Hub (or the proxy) opens, else why not."""
    host, port = _probe_target()
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or type(exc).__name__}"


def check_hub_reachable(model_args: Any, data_args: Any) -> None:
    """Raise `GlueInputError` when the run needs the Hub, offline mode is off, and the Hub
    cannot be reached."""
    names = hub_names(model_args, data_args)
    if not names or offline_mode():
        return
    reason = unreachable_reason()
    if reason is None:
        return
    raise GlueInputError(
        f"cannot reach the Hugging Face Hub ({reason}) to load {', '.join(names)}; pass local "
        "folders (and --data_dir), or set HF_HUB_OFFLINE=1 to use what is in the local cache"
    )
