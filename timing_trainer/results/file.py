"""One run's `timing_results.json` as a value that owns its round trip: read, check, write.

Four places used to open the file their own way: the trainer's writer, the GLUE program writing
a failed file when loading the model failed, the analysis tabulating every file under a folder,
and the sweep agent classifying a run by it. Each parsed, checked and serialised it in its own
words, so a change to the format meant finding all four. `RunResults` (in the style of
optimum-benchmark's `BenchmarkReport`) is the file's content with `read`/`from_json` and
`write`/`to_json`, so the text format, the NaN rule and the checks live here alone; the builder
of the content from raw measurements is `TimingResults` (timing_trainer.results.run_results).

Reading checks at one of three levels (`check=`), nested, because the readers need different
things and each must keep refusing exactly what it refused before:
- "schema" (the default): the whole schema (`validate_results`), what every writer guarantees;
- "sections": a JSON object whose sections (`config`, `environment`, ...) are objects and whose
  bookkeeping keys are text: what the analysis can tabulate, old or hand-made files included;
- "object": any JSON object: what the sweep agent classifies a run by, since the program a sweep
  runs may be a user's own script that leaves a partial file.
Content that fails is refused with ResultsValidationError (a ValueError) whose message is the
reason, so a reader that skips bad files can say why; a file that cannot be opened is OSError.
Writing always checks the whole schema first and replaces the file atomically
(timing_trainer.runtime.atomic); NaN and infinities become null so the file stays valid JSON.

Torch-free and light: jsonschema is imported only when the whole schema is checked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from timing_trainer.errors import ResultsValidationError
from timing_trainer.results.schema import validate_results
from timing_trainer.runtime.atomic import atomic_write_text, json_text

__all__ = ["CHECKS", "RunResults", "check_results"]

CHECKS = ("schema", "sections", "object")

# Sections that must be objects when present, and top-level keys that must be text ("sections").
_SECTION_KEYS = ("config", "environment", "eval_metrics", "error", "setup_time_parts")
_TEXT_KEYS = ("status", "created_at", "wandb_run_id")


def check_results(data: Any, check: str = "schema") -> None:
    """Raise ResultsValidationError saying why `data` is not results at level `check` (see the
    module docstring). The levels nest: the schema asks all that "sections" asks and more, so
    "schema" goes straight to it, with the words the writer has always used."""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}; expected one of {', '.join(CHECKS)}")
    if not isinstance(data, dict):
        raise ResultsValidationError(f"a JSON {type(data).__name__}, not an object")
    if check == "schema":
        validate_results(data)
        return
    if check == "object":
        return
    for key in _SECTION_KEYS:
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise ResultsValidationError(
                f"`{key}` is a {type(data[key]).__name__}, not an object")
    for key in _TEXT_KEYS:
        if data.get(key) is not None and not isinstance(data[key], str):
            raise ResultsValidationError(f"`{key}` is a {type(data[key]).__name__}, not text")


class RunResults:
    """The content of one results file (`data`, the dict the file holds) and its round trip.

    `RunResults.read(path)` and `RunResults.from_json(text)` refuse content that fails the check
    asked for; `write(path)` and `to_json()` refuse content that fails the schema, so an invalid
    file is never written.
    """

    def __init__(self, data: Mapping[str, Any]):
        self.data: dict[str, Any] = dict(data)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunResults) and self.data == other.data

    def __repr__(self) -> str:
        return f"RunResults(status={self.status!r}, keys={len(self.data)})"

    @property
    def status(self) -> Any:
        """`running`, `finished` or `failed` (whatever a partial file says, unchecked)."""
        return self.data.get("status")

    # --- reading -------------------------------------------------------------------------------
    @classmethod
    def from_json(cls, source: str | bytes | os.PathLike[str], *,
                  check: str = "schema") -> RunResults:
        """Results from JSON text, or from the file at `source` when it is a path object (a
        plain str is always text). ResultsValidationError says why the content is refused."""
        if isinstance(source, os.PathLike):
            return cls.read(source, check=check)
        try:
            data = json.loads(source)
        except ValueError as exc:  # not JSON (JSONDecodeError), or bytes that are not UTF-8
            raise ResultsValidationError(str(exc)) from exc
        check_results(data, check)
        return cls(data)

    @classmethod
    def read(cls, path: str | os.PathLike[str], *, check: str = "schema") -> RunResults:
        """Results from the file at `path`: OSError when it cannot be read, else as from_json."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:  # the content's fault, not the file system's
            raise ResultsValidationError(str(exc)) from exc
        return cls.from_json(text, check=check)

    # --- writing -------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise ResultsValidationError when the content fails the whole schema."""
        check_results(self.data, "schema")

    def to_json(self) -> str:
        """The file's text, validated: indented JSON, NaN and infinities as null (the text
        `atomic_write_json` writes: `runtime.atomic.json_text`)."""
        self.validate()
        return json_text(self.data)

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Validate, then replace the file at `path` atomically (its folder must exist)."""
        return atomic_write_text(path, self.to_json())
