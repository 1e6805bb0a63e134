"""The model's files checked before loading, and loading failures said in one line naming the file.

Before: `--tokenizer_name /missing` was reported as the model path; a config with `"hidden_size":
"32"`, a weights file cut short or full of garbage ended in a traceback after seconds of loading
(exit 1, "exception"). Now, for a local folder (Hub ids are left to `from_pretrained`):

- `--model_name_or_path`, `--config_name` and `--tokenizer_name` that can only be local paths
  must exist, each named by its argument;
- `config.json` must be a JSON object whose size and count fields (`hidden_size`,
  `num_attention_heads`, ...) are integers and whose dropout and epsilon fields are numbers
  (transformers 5 checks these too, 4.x does not);
- every `*.safetensors` file must have a whole header and as many bytes as the header says; a
  `pytorch_model.bin` must be a readable zip archive (torch's format since 1.6).
These read a few bytes per file. What still fails while loading becomes one line naming the
folder or file (`load_error`), except running out of memory, which stays exit status 3.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from timing_trainer.errors import GlueInputError, one_line

_LOCAL_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")
_INTEGER_SUFFIXES = ("_size", "_layers", "_heads", "_embeddings")
_NUMBER_MARKERS = ("dropout", "_prob", "_eps", "initializer_range")
_FLAG_PREFIXES = ("tie_", "use_", "is_", "output_", "return_", "add_", "scale_")
_SAFETENSORS_HEADER_LIMIT = 100 * 2**20  # what the safetensors library itself accepts


def local_path(name: str) -> Path | None:
    """The path a name must be, or None for what may be a Hub id (`org/name`)."""
    path = Path(name).expanduser()
    if path.exists():
        return path
    if name.startswith(_LOCAL_PREFIXES) or path.is_absolute() or name.strip("/").count("/") > 1:
        return path
    return None


def check_local_paths(model_args: Any) -> None:
    """Each of model, config and tokenizer that names a local path must exist (a folder; a
    config may also be a JSON file), named by its argument."""
    for argument in ("model_name_or_path", "config_name", "tokenizer_name"):
        name = getattr(model_args, argument, None)
        if not name:
            continue
        path = local_path(str(name))
        if path is None:
            continue
        if not path.exists():
            raise GlueInputError(f"--{argument} {name!r} does not exist")
        if path.is_file() and not (argument == "config_name" and path.suffix == ".json"):
            raise GlueInputError(f"--{argument} {name!r} is a file; pass the folder")


def _field_problem(key: str, value: Any) -> str | None:
    if value is None or isinstance(value, dict) or key.startswith(_FLAG_PREFIXES):
        return None
    if key.endswith(_INTEGER_SUFFIXES) or key.startswith("num_"):
        if not isinstance(value, int) or isinstance(value, bool):
            return "an integer"
    elif any(marker in key for marker in _NUMBER_MARKERS):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return "a number"
    return None


def check_config_file(path: Path) -> None:
    """A model config: a JSON object whose shape fields have their types."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GlueInputError(f"model config {str(path)!r} is not valid JSON ({one_line(exc)})") from None
    if not isinstance(data, dict):
        raise GlueInputError(f"model config {str(path)!r} must hold a JSON object")
    for key, value in data.items():
        expected = _field_problem(str(key), value)
        if expected:
            raise GlueInputError(f"model config {str(path)!r}: {key} is {value!r} "
                                 f"({type(value).__name__}); expected {expected}")


def check_safetensors(path: Path) -> None:
    """A safetensors file: 8-byte header length, a JSON header, and every tensor's bytes."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        length = struct.unpack("<Q", head)[0] if len(head) == 8 else -1
        if length < 2 or length > min(size - 8, _SAFETENSORS_HEADER_LIMIT):
            raise GlueInputError(f"weights file {str(path)!r} is damaged (no valid header)")
        try:
            header = json.loads(handle.read(length))
        except (UnicodeDecodeError, ValueError):
            raise GlueInputError(f"weights file {str(path)!r} is damaged (header not JSON)") from None
    ends = [t.get("data_offsets", [0, 0])[1] for k, t in header.items()
            if k != "__metadata__" and isinstance(t, dict)]
    described = 8 + length + max(ends, default=0)
    if described != size:
        raise GlueInputError(f"weights file {str(path)!r} is truncated or damaged "
                             f"({size:,} bytes, its header describes {described:,})")


def check_torch_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            archive.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise GlueInputError(f"weights file {str(path)!r} is truncated or damaged ({one_line(exc)})") from None


def check_model_folder(model_args: Any) -> None:
    """The local model folder's config and weights, before anything is loaded."""
    check_local_paths(model_args)
    folder = local_path(str(model_args.model_name_or_path))
    if folder is None or not folder.is_dir():
        return
    config = Path(model_args.config_name).expanduser() if model_args.config_name else folder
    config = config / "config.json" if config.is_dir() else config
    if config.is_file():
        check_config_file(config)
    for weights in sorted(folder.glob("*.safetensors")):
        check_safetensors(weights)
    for weights in sorted(folder.glob("pytorch_model*.bin")):
        check_torch_zip(weights)


def load_error(what: str, name: str, exc: BaseException) -> GlueInputError | None:
    """One line for a failure while loading `what` ("model", "tokenizer", "config") from
    `name`; None for out-of-memory, which keeps its own exit status."""
    from timing_trainer.results.run_results import classify_error

    if classify_error(exc) == "oom":
        return None
    return GlueInputError(f"cannot load {what} {name!r}: {type(exc).__name__}: {one_line(exc)}")


@contextmanager
def loading(what: str, name: str) -> Iterator[None]:
    """Turn a failure while loading `what` into `load_error`'s one line (out of memory passes)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every loading failure is named, or re-raised
        error = load_error(what, name, exc)
        if error is None:
            raise
        raise error from None
