"""Tokenization and its on-disk cache: hits, what invalidates an entry, atomic writes."""

from __future__ import annotations

import os

import pytest

from timing_trainer.glue.data import TsvSource
from timing_trainer.glue.tokenization import (
    KEY_FILE,
    TokenizationSettings,
    default_cache_dir,
    prepare_tokenized,
    tokenizer_fingerprint,
)
from timing_trainer.tasks import get_task

SETTINGS = TokenizationSettings(max_seq_length=24)


ASSETS = {"tasks": ["rte", "mnli"], "train_size": 12, "dev_size": 6}  # rows counted below


@pytest.fixture(scope="module")
def tokenizer(assets):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(assets / "models" / "tiny-uncased"))


def test_second_run_hits_the_cache_without_reading_the_data(assets, tokenizer, tmp_path):
    task = get_task("rte")
    first = prepare_tokenized(TsvSource(assets, task), tokenizer, task, SETTINGS, str(tmp_path))
    assert first.cache_status == "miss"
    source = TsvSource(assets, task)
    source.load = lambda: pytest.fail("a cache hit must not read the TSV files")
    second = prepare_tokenized(source, tokenizer, task, SETTINGS, str(tmp_path))
    assert second.cache_status == "hit" and second.cache_path == first.cache_path
    for split in ("train", "validation"):
        assert second.datasets[split]["input_ids"] == first.datasets[split]["input_ids"]
        assert second.datasets[split]["labels"] == first.datasets[split]["labels"]
    assert len(second.datasets["train"]) == 12
    assert all(len(ids) == 24 for ids in second.datasets["train"]["input_ids"])  # padded
    entries = list(tmp_path.iterdir())
    assert len(entries) == 1 and (entries[0] / KEY_FILE).is_file()  # no temporary leftovers
    assert entries[0].name.startswith("rte-len24-")


def test_key_covers_length_limits_data_and_tokenizer(assets, tokenizer, tmp_path):
    from transformers import AutoTokenizer

    task = get_task("mnli")

    def status(tok=tokenizer, settings=SETTINGS):
        return prepare_tokenized(TsvSource(assets, task), tok, task, settings, str(tmp_path)).cache_status

    assert status() == "miss"
    assert status() == "hit"
    assert status(settings=TokenizationSettings(max_seq_length=16)) == "miss"
    limited = TokenizationSettings(max_seq_length=24, max_train_samples=5, max_eval_samples=2)
    assert status(settings=limited) == "miss"
    cased = AutoTokenizer.from_pretrained(str(assets / "models" / "tiny-cased"))
    assert tokenizer_fingerprint(cased) != tokenizer_fingerprint(tokenizer)
    assert status(tok=cased) == "miss"
    os.utime(assets / "MNLI" / "dev_mismatched.tsv")  # a newer time, same bytes: same entry
    assert status() == "hit"
    text = (assets / "MNLI" / "dev_mismatched.tsv").read_text(encoding="utf-8")
    (assets / "MNLI" / "dev_mismatched.tsv").write_text(text.replace("fiction", "travel"),
                                                        encoding="utf-8")
    assert status() == "miss"


def test_limits_both_eval_sets_and_disabling_writes_nothing(assets, tokenizer, tmp_path):
    task = get_task("mnli")
    settings = TokenizationSettings(max_seq_length=24, max_train_samples=5, max_eval_samples=2)
    out = prepare_tokenized(TsvSource(assets, task), tokenizer, task, settings, str(tmp_path / "c"),
                            use_cache=False)
    assert out.cache_status == "off" and not (tmp_path / "c").exists()
    assert {k: len(v) for k, v in out.datasets.items()} == {
        "train": 5, "validation_matched": 2, "validation_mismatched": 2}


def test_damaged_entry_is_rebuilt(assets, tokenizer, tmp_path):
    import shutil

    task = get_task("rte")
    first = prepare_tokenized(TsvSource(assets, task), tokenizer, task, SETTINGS, str(tmp_path))
    shutil.rmtree(f"{first.cache_path}/dataset/train")
    again = prepare_tokenized(TsvSource(assets, task), tokenizer, task, SETTINGS, str(tmp_path))
    assert again.cache_status == "miss"
    third = prepare_tokenized(TsvSource(assets, task), tokenizer, task, SETTINGS, str(tmp_path))
    assert third.cache_status == "hit"


def test_dynamic_padding_keeps_lengths(assets, tokenizer, tmp_path):
    task = get_task("rte")
    settings = TokenizationSettings(max_seq_length=24, pad_to_max_length=False)
    out = prepare_tokenized(TsvSource(assets, task), tokenizer, task, settings, str(tmp_path))
    lengths = {len(ids) for ids in out.datasets["train"]["input_ids"]}
    assert max(lengths) <= 24 and len(lengths) > 1


def test_default_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TIMING_TRAINER_CACHE", str(tmp_path))
    assert default_cache_dir() == str(tmp_path)
    monkeypatch.delenv("TIMING_TRAINER_CACHE")
    assert default_cache_dir().endswith("timing-trainer/tokenized")
