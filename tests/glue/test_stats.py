"""The GLUE data statistics (`timing_trainer.glue.stats`) against counts made by hand: token
lengths with special tokens, pair tasks counted together, nearest-rank percentiles, padding and
truncation at a length, and a split without examples carrying its reason."""

from __future__ import annotations

import numpy as np
import pytest

from timing_trainer.errors import GlueInputError
from timing_trainer.glue.data import TsvSource
from timing_trainer.glue.stats import (
    NO_EXAMPLES,
    SplitTexts,
    compute,
    length_summary,
    load_tokenizer,
    padding_at,
    split_texts,
    tasks_in_folder,
    token_lengths,
)
from timing_trainer.tasks import get_task

ASSETS = {"tasks": ["sst2", "rte"], "train_size": 8, "dev_size": 4}


def test_summary_is_nearest_rank_and_whole():
    summary = length_summary(np.array([4, 7, 11, 4]))
    assert summary["examples"] == 4 and summary["min"] == 4 and summary["max"] == 11
    assert summary["mean"] == 6.5
    # sorted 4, 4, 7, 11: half of them have at most 4 tokens, 90 % need all 11
    assert summary["p50"] == 4 and summary["p90"] == 11 and summary["p99"] == 11
    assert summary["why_not"] is None


def test_padding_and_truncation_at_a_length():
    lengths = np.array([4, 7, 11, 4])
    at8 = padding_at(lengths, 8)
    assert at8["padded_tokens"] == 32 and at8["real_tokens"] == 4 + 7 + 8 + 4
    assert at8["padding_share"] == pytest.approx(9 / 32)
    assert at8["truncated_share"] == 0.25 and at8["truncated_tokens"] == 3
    at4 = padding_at(lengths, 4)
    assert at4["padding_share"] == 0 and at4["truncated_share"] == 0.5
    assert at4["truncated_tokens"] == 3 + 7


def test_a_split_without_examples_says_why():
    empty = np.array([], dtype=np.int64)
    assert length_summary(empty)["p95"] is None and length_summary(empty)["why_not"] == NO_EXAMPLES
    assert padding_at(empty, 128)["padding_share"] is None
    assert padding_at(empty, 128)["why_not"] == NO_EXAMPLES


def test_token_lengths_count_special_tokens_and_both_texts(assets):
    tokenizer = load_tokenizer(str(assets / "models" / "tiny-uncased"))
    single = SplitTexts(get_task("sst2"), "train", (["the cat", "the cat saw a dog"],))
    assert token_lengths(tokenizer, single).tolist() == [4, 7]  # [CLS] ... [SEP]
    pair = SplitTexts(get_task("rte"), "train", (["the cat"], ["a dog near the river"]))
    assert token_lengths(tokenizer, pair).tolist() == [2 + 1 + 5 + 2]  # [CLS] a [SEP] b [SEP]


def test_compute_over_the_demo_folders(assets):
    tasks, absent = tasks_in_folder(str(assets))
    assert [t.name for t in tasks] == ["sst2", "rte"] and len(absent) == 7
    texts = [s for t in tasks for s in split_texts(TsvSource(assets, t))]
    tokenizer = load_tokenizer(str(assets / "models" / "tiny-cased"))
    seen = []
    stats = compute(texts, {"cased": tokenizer}, [64, 16, 64], seen.append)
    assert stats.lengths == (16, 64) and sum(seen) == 2 * (8 + 4)
    assert [(r["task"], r["split"], r["examples"]) for r in stats.splits] == [
        ("SST-2", "train", 8), ("SST-2", "validation", 4),
        ("RTE", "train", 8), ("RTE", "validation", 4)]
    assert len(stats.token_lengths) == 4 and len(stats.padding) == 8
    raw = stats.raw[("RTE", "train", "cased")]
    at16 = next(r for r in stats.padding if (r["task"], r["split"], r["max_seq_length"])
                == ("RTE", "train", 16))
    assert at16["truncated_share"] == pytest.approx(np.mean(raw > 16))
    assert at16["real_tokens"] == int(np.minimum(raw, 16).sum())


def test_a_tokenizer_that_cannot_load_is_one_line(tmp_path):
    with pytest.raises(GlueInputError, match="does not exist"):
        load_tokenizer(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(GlueInputError, match="cannot load tokenizer"):
        load_tokenizer(str(tmp_path / "empty"))


def test_an_unnamed_task_folder_needs_its_task(tmp_path):
    (tmp_path / "train.tsv").write_text("sentence\tlabel\nthe cat\t1\n")
    with pytest.raises(GlueInputError, match="name its task with --tasks"):
        tasks_in_folder(str(tmp_path))
