"""Making the W&B public API client: quickly, once per analysis, and with a clear line on failure.

`wandb.Api()` (0.31) verifies the key through its `wandb-core` helper, which retries a server that
is down for the whole timeout and then reports an `AuthenticationError` even with a valid key.
So before building it we check, in order and cheaply:

1. that credentials exist (`WANDB_API_KEY`, `~/.netrc`, W&B's settings): else one line naming
   `wandb login`, without an interactive prompt;
2. that the server answers HTTP at all, within `CONNECT_TIMEOUT_S` (any status counts, 404 too):
   nothing listening, a wrong host or a server that accepts and never answers fail in seconds
   with "could not be reached".

Both failures raise `WandbUnavailable`, on which the loader falls back to its cache. One
`ApiHandle` per `load_runs` call builds the client once for every `wandb:` source and remembers a
failure, so three sources on a dead server wait once, not three times.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from typing import Any

from timing_trainer.errors import RunsLoadError, WandbUnavailable

DEFAULT_BASE_URL = "https://api.wandb.ai"
CONNECT_TIMEOUT_S = 5.0  # the reachability probe: connect and first answer
REQUEST_TIMEOUT_S = 30  # each API request once the server answered the probe
TIMEOUT_ENV = "TIMING_TRAINER_WANDB_TIMEOUT"  # overrides CONNECT_TIMEOUT_S (seconds)
LOGIN_HINT = "log in with `wandb login` (or set WANDB_API_KEY)"


def base_url() -> str:
    """The server W&B's client would talk to: WANDB_BASE_URL, W&B's settings, or api.wandb.ai."""
    try:
        from wandb import env
        from wandb.sdk import wandb_setup

        url = env.get_base_url(wandb_setup.singleton().settings.base_url)
    except Exception:  # another wandb version: fall back to the documented variable
        url = os.environ.get("WANDB_BASE_URL")
    return (url or DEFAULT_BASE_URL).rstrip("/")


def check_credentials(url: str) -> None:
    """Raise `WandbUnavailable` when no API key is configured for `url` (never prompts)."""
    try:
        from wandb.sdk.lib import wbauth

        auth = wbauth.authenticate_session(host=url, source="timing-trainer analyze",
                                           no_offline=True, prompt=False, update_session=False)
    except ImportError:  # wandb before 0.2x: `wandb.Api()` reports it itself
        return
    except Exception as exc:  # a key of the wrong form, a broken .netrc
        raise WandbUnavailable(f"W&B credentials for {url} are unusable ({exc}); "
                               f"{LOGIN_HINT}") from exc
    if auth is None:
        raise WandbUnavailable(f"no W&B API key for {url}: {LOGIN_HINT}")


def connect_timeout() -> float:
    try:
        return float(os.environ.get(TIMEOUT_ENV, CONNECT_TIMEOUT_S))
    except ValueError:
        return CONNECT_TIMEOUT_S


def probe(url: str, timeout: float) -> None:
    """Raise `WandbUnavailable` unless the server answers an HTTP request within `timeout` s."""
    request = urllib.request.Request(f"{url}/healthz", method="GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return
    except urllib.error.HTTPError:
        return  # it answered: reachable (the API calls will say what is wrong)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            reason = f"no answer within {timeout:g} s"
        raise WandbUnavailable(f"the W&B server at {url} could not be reached ({reason})") from exc


def make_api(url: str | None = None) -> Any:
    """`wandb.Api` after the cheap checks; its own failures become one `RunsLoadError` line."""
    try:
        import wandb
    except ImportError as exc:  # pragma: no cover - wandb is a dependency
        raise RunsLoadError("reading from W&B needs the `wandb` package") from exc
    url = url or base_url()
    check_credentials(url)
    probe(url, connect_timeout())
    try:
        return wandb.Api(timeout=REQUEST_TIMEOUT_S)
    except Exception as exc:
        raise _explain(exc, url) from exc


def _explain(exc: Exception, url: str) -> RunsLoadError:
    text = str(exc)
    name = type(exc).__name__
    if name == "UsageError":
        return WandbUnavailable(f"no W&B API key for {url}: {LOGIN_HINT}")
    if "did not respond in time" in text or "timed out" in text.lower():
        return WandbUnavailable(f"the W&B server at {url} did not answer within "
                                f"{REQUEST_TIMEOUT_S} s")
    if name == "AuthenticationError":
        return RunsLoadError(f"the W&B server at {url} refused the API key ({text}); "
                             "log in again with `wandb login --relogin`")
    return WandbUnavailable(f"cannot use the W&B API at {url} ({name}: {text})")


class ApiHandle:
    """One client for every `wandb:` source of a call: built on first use, failure remembered."""

    def __init__(self, api: Any = None):
        self._api = api
        self._error: RunsLoadError | None = None

    def get(self) -> Any:
        if self._api is None and self._error is None:
            try:
                self._api = make_api()
            except RunsLoadError as exc:
                self._error = exc
        if self._error is not None:
            raise self._error
        return self._api
