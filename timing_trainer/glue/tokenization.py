"""Tokenization of a GLUE task, with an on-disk cache shared by the runs of a sweep.

A sweep runs the same task with the same tokenizer and length many times (over batch sizes,
learning rates, precisions); tokenizing MNLI's 393k pairs every time costs minutes. The cache
key holds everything the token ids depend on: the tokenizer (class, name, and a fingerprint of its
vocabulary and normalisation), the task, the maximum length and padding, the sample limits, and a
fingerprint of the data (the TSV files' bytes, or the Hub dataset's fingerprints). Entries are
written to a temporary folder and renamed into place, so a killed or concurrent run never leaves
a half-written entry. All of this is setup: it happens before the trainer exists, never inside a
timed region, and its time is reported as the `tokenize` setup part.

The cache is this module's rather than `datasets.map`'s own: `datasets` keys its cache by a hash
of the function it maps, tokenizer included, and a fast tokenizer's hash is not stable from one
process to the next, so every run of a sweep would miss it and tokenize again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timing_trainer.glue.data import RawSplits, first_rows
from timing_trainer.tasks import GlueTask

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
CACHE_ENV = "TIMING_TRAINER_CACHE"
KEY_FILE = "cache_key.json"
DATA_FOLDER = "dataset"


def default_cache_dir() -> str:
    """`$TIMING_TRAINER_CACHE`, else `~/.cache/timing-trainer/tokenized`."""
    return os.environ.get(CACHE_ENV) or str(Path("~/.cache/timing-trainer/tokenized").expanduser())


def tokenizer_fingerprint(tokenizer: Any) -> str:
    """A hash of what decides the token ids: vocabulary, normalizer, templates, special tokens.

    Fast tokenizers serialise all of it (`backend_tokenizer.to_str()`); for slow ones the sorted
    vocabulary and the init options stand in. The backend's padding and truncation state is left
    out (a call changes it); the sides are added, because the Python side applies them.
    """
    digest = hashlib.blake2b(digest_size=16)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None and hasattr(backend, "to_str"):
        state = json.loads(backend.to_str())
        # Calling the tokenizer sets these as a side effect; the call's own options are in the key.
        state.pop("truncation", None)
        state.pop("padding", None)
        digest.update(json.dumps(state, sort_keys=True).encode())
    else:
        digest.update(json.dumps(sorted(tokenizer.get_vocab().items())).encode())
        init = {k: v for k, v in getattr(tokenizer, "init_kwargs", {}).items()
                if isinstance(v, (str, int, float, bool, type(None)))}
        digest.update(json.dumps(init, sort_keys=True, default=str).encode())
    extras = {
        "class": type(tokenizer).__name__,
        "special_tokens": {k: str(v) for k, v in tokenizer.special_tokens_map.items()},
        "padding_side": getattr(tokenizer, "padding_side", None),
        "truncation_side": getattr(tokenizer, "truncation_side", None),
    }
    digest.update(json.dumps(extras, sort_keys=True).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class TokenizationSettings:
    """How the text becomes model input (everything but the tokenizer and the data)."""

    max_seq_length: int
    pad_to_max_length: bool = True
    max_train_samples: int | None = None
    max_eval_samples: int | None = None


def cache_key(
    tokenizer: Any, task: GlueTask, settings: TokenizationSettings, data_fingerprint: str
) -> dict[str, Any]:
    """The fields that identify one cache entry (written next to it, for people to read)."""
    return {
        "format": CACHE_FORMAT_VERSION,
        "tokenizer_class": type(tokenizer).__name__,
        "tokenizer_name": str(getattr(tokenizer, "name_or_path", "")),
        "tokenizer_fingerprint": tokenizer_fingerprint(tokenizer),
        "task": task.name,
        "max_seq_length": settings.max_seq_length,
        "pad_to_max_length": settings.pad_to_max_length,
        "max_train_samples": settings.max_train_samples,
        "max_eval_samples": settings.max_eval_samples,
        "data_fingerprint": data_fingerprint,
    }


def entry_name(key: dict[str, Any]) -> str:
    """A readable, unique folder name: `rte-len128-<hash>`."""
    digest = hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=12).hexdigest()
    return f"{key['task']}-len{key['max_seq_length']}-{digest}"


def tokenize_splits(
    raw: RawSplits, tokenizer: Any, task: GlueTask, settings: TokenizationSettings
) -> Any:
    """A `DatasetDict` ("train" and every eval split) of input ids, masks and `labels`."""
    import datasets

    padding = "max_length" if settings.pad_to_max_length else False

    def encode(batch: dict[str, list]) -> dict[str, list]:
        texts = [batch[column] for column in task.text_columns]
        encoded = tokenizer(
            *texts, padding=padding, max_length=settings.max_seq_length, truncation=True
        )
        encoded["labels"] = batch["label"]
        return dict(encoded)

    splits = {"train": first_rows(raw.train, settings.max_train_samples)}
    splits.update({n: first_rows(d, settings.max_eval_samples) for n, d in raw.evals.items()})
    out = {}
    for name, dataset in splits.items():
        out[name] = dataset.map(
            encode, batched=True, remove_columns=dataset.column_names, keep_in_memory=True,
            desc=f"Tokenizing {task.display_name} {name}",
        )
    return datasets.DatasetDict(out)


class TokenizationCache:
    """Folder of tokenized datasets, one sub-folder per cache key."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser()

    def path_for(self, key: dict[str, Any]) -> Path:
        return self.root / entry_name(key)

    def load(self, key: dict[str, Any]) -> Any | None:
        """The cached DatasetDict, or None when absent or unreadable (then it is rebuilt)."""
        path = self.path_for(key)
        key_file = path / KEY_FILE
        if not key_file.is_file():
            return None
        try:
            if json.loads(key_file.read_text(encoding="utf-8")) != key:
                return None
            import datasets

            return datasets.load_from_disk(str(path / DATA_FOLDER), keep_in_memory=False)
        except Exception as exc:  # a damaged entry costs a re-tokenization, never the run
            logger.warning("tokenization cache entry %s unreadable (%s); rebuilding", path, exc)
            shutil.rmtree(path, ignore_errors=True)
            return None

    def save(self, key: dict[str, Any], dataset: Any) -> Path:
        """Write an entry atomically: a temporary folder, then one rename into place."""
        final = self.path_for(key)
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=self.root))
        try:
            dataset.save_to_disk(str(tmp / DATA_FOLDER))
            (tmp / KEY_FILE).write_text(json.dumps(key, indent=2, sort_keys=True) + "\n",
                                        encoding="utf-8")
            if (final / KEY_FILE).is_file():  # a concurrent run wrote it meanwhile: keep theirs
                shutil.rmtree(tmp, ignore_errors=True)
                return final
            shutil.rmtree(final, ignore_errors=True)  # leftovers without a key file
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / KEY_FILE).is_file():
                    raise
                shutil.rmtree(tmp, ignore_errors=True)  # a concurrent run won the rename
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return final


@dataclass
class TokenizedData:
    """The model inputs of a run and where they came from."""

    datasets: Any  # DatasetDict: "train" and every eval split name
    cache_status: str  # "hit", "miss" (written) or "off"
    cache_path: str | None


def prepare_tokenized(
    source: Any,
    tokenizer: Any,
    task: GlueTask,
    settings: TokenizationSettings,
    cache_dir: str | None,
    use_cache: bool = True,
) -> TokenizedData:
    """Tokenized splits from the cache when possible, else tokenized now (and cached)."""
    if not use_cache:
        return TokenizedData(tokenize_splits(source.load(), tokenizer, task, settings), "off", None)
    cache = TokenizationCache(cache_dir or default_cache_dir())
    key = cache_key(tokenizer, task, settings, source.fingerprint)
    cached = cache.load(key)
    if cached is not None:
        return TokenizedData(cached, "hit", str(cache.path_for(key)))
    tokenized = tokenize_splits(source.load(), tokenizer, task, settings)
    try:
        path = cache.save(key, tokenized)
    except OSError as exc:  # a read-only or full cache folder must not fail the run
        logger.warning("could not write the tokenization cache in %s: %s", cache.root, exc)
        return TokenizedData(tokenized, "miss", None)
    return TokenizedData(tokenized, "miss", str(path))
