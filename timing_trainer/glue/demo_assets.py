"""Offline assets: GLUE-format TSV folders with a learnable pattern and two tiny local models.

Tests, the demo and anyone without a network need data and models that load exactly like the
real ones: `write_demo_assets(DIR)` writes `DIR/<GLUE name>/` folders in the GLUE-baselines
layout (headers, column positions, CoLA without a header, MNLI's two dev files, STS-B float
scores, quotes inside sentences) and `DIR/models/tiny-cased`, `DIR/models/tiny-uncased`: BERT
models of a few thousand parameters built from a config, with a WordPiece vocabulary made from the
generated corpus. Nothing is downloaded, and the same seed writes the same bytes.

The pattern: every example carries two or three "signal" words of its class (pair tasks: one in
the first sentence, the rest in the second) among neutral filler words, so accuracy rises well
above chance within a few dozen steps; 10% of the labels are flipped, so it stays below 1.
STS-B's score is the number of signal words in the second sentence.

Command line: `timing-trainer demo-assets` (timing_trainer.commands.demo_assets).
"""

from __future__ import annotations

import random
from pathlib import Path

from timing_trainer.tasks import TASK_NAMES, GlueTask, get_task

DEFAULT_TRAIN_SIZE = 256
DEFAULT_DEV_SIZE = 64
MODEL_NAMES = ("tiny-cased", "tiny-uncased")

_FILLER = (
    "the a this that one some every cat dog bird film book song city river house garden car "
    "train teacher student doctor child friend team market story picture table window road "
    "walked saw found made took gave told watched read wrote opened closed visited liked "
    "near over under with from into after before during and but while because then today"
).split()
_NAMES = ("Alice", "Bob", "Paris", "London", "Maria", "Chen", "Oslo", "Kenya")
# Signal words by class index (SST-2's 0 is negative); STS-B counts class 1's words.
_SIGNALS = (
    ("terrible", "awful", "boring", "dreadful"),
    ("wonderful", "brilliant", "lovely", "excellent"),
    ("perhaps", "possibly", "maybe", "somewhat"),
)
_LABEL_NOISE = 0.1
_PUNCTUATION = (".", ",", '"', "'", "?", "!", "-", "(", ")", ":", ";")
_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _sentence(rng: random.Random, signals: list[str], question: bool = False) -> str:
    words = [rng.choice(_FILLER) for _ in range(rng.randint(4, 9))]
    if rng.random() < 0.4:
        words.insert(rng.randint(0, len(words)), rng.choice(_NAMES))
    for word in signals:
        words.insert(rng.randint(0, len(words)), word)
    words[0] = words[0][:1].upper() + words[0][1:]
    text = " ".join(words)
    if rng.random() < 0.15:  # quotes inside a sentence are text in GLUE TSVs (QUOTE_NONE)
        text = f'{text} , "{rng.choice(_FILLER)} {rng.choice(_FILLER)}"'
    return text + (" ?" if question else " .")


def _example(task: GlueTask, rng: random.Random) -> tuple[tuple[str, ...], int | float]:
    """One example's texts and label (class index, or STS-B score)."""
    if task.is_regression:
        count = rng.randint(0, 5)
        signals = [rng.choice(_SIGNALS[1]) for _ in range(count)]
        label: int | float = float(count)
    else:
        label = rng.randrange(task.num_labels)
        signals = [rng.choice(_SIGNALS[label]) for _ in range(rng.randint(2, 3))]
        if rng.random() < _LABEL_NOISE:  # so that accuracy has a ceiling below 1, as real data
            label = rng.choice([k for k in range(task.num_labels) if k != label])
    if not task.is_pair:
        return (_sentence(rng, signals),), label
    first = _sentence(rng, signals[:1], question=task.name in ("qnli", "qqp"))
    return (first, _sentence(rng, signals[1:])), label


def _label_text(task: GlueTask, label: int | float, layout) -> str:
    if task.is_regression:
        return f"{label:.3f}"
    return task.labels[label] if layout.labels_as_names else str(label)


def _row(task: GlueTask, index: int, texts, label, layout, dev: bool) -> list[str]:
    """A full TSV row in the task's column order, every column filled plausibly."""
    label_text = _label_text(task, label, layout)
    values: dict[str, str] = dict(zip(layout.text_fields, texts))
    values[layout.label_field] = label_text
    fill = {
        "index": str(index), "id": str(index), "qid1": str(2 * index + 1),
        "qid2": str(2 * index + 2), "#1 ID": str(100000 + index), "#2 ID": str(200000 + index),
        "promptID": str(31000 + index), "pairID": f"{31000 + index}e", "genre": "fiction",
        "filename": "MSRvid", "year": "2012test", "old_index": f"{index:04d}", "source1": "none",
        "source2": "none", "source": "gj04", "label1": label_text, "label2": label_text,
        "label3": label_text, "label4": label_text, "label5": label_text,
        "original_label": "" if label else "*",
    }
    if task.name == "mnli":
        for i, text in enumerate(texts, start=1):
            fill[f"sentence{i}_binary_parse"] = f"( {text} )"
            fill[f"sentence{i}_parse"] = f"(ROOT (S {text}))"
    if task.name == "stsb":
        fill["genre"] = "main-captions"
    return [values.get(col, fill.get(col, "")) for col in layout.header_for(dev)]


def _write_tsv(path: Path, header: tuple[str, ...] | None, rows: list[list[str]]) -> None:
    lines = (["\t".join(header)] if header else []) + ["\t".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_task_tsvs(
    out_dir: Path, task: GlueTask, train_size: int, dev_size: int, seed: int
) -> Path:
    """Write one task's folder in the GLUE-baselines layout; return the folder."""
    from timing_trainer.glue.tsv import TRAIN_FILE, TSV_LAYOUTS

    layout = TSV_LAYOUTS[task.name]
    folder = out_dir / task.display_name
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}-{task.name}")
    files = [(TRAIN_FILE, train_size, False)] + [(s.tsv_file, dev_size, True) for s in task.eval_splits]
    for file_name, size, dev in files:
        rows = []
        for index in range(size):
            example_texts, label = _example(task, rng)
            rows.append(_row(task, index, example_texts, label, layout, dev))
        header = layout.header_for(dev) if layout.has_header else None
        _write_tsv(folder / file_name, header, rows)
    return folder


def _vocabulary(texts: list[str], cased: bool) -> list[str]:
    """A WordPiece vocabulary: special tokens, punctuation, letters and every corpus word."""
    words: set[str] = set()
    for text in texts:
        for word in text.split():
            word = word.strip("".join(_PUNCTUATION))
            if word:
                words.add(word if cased else word.lower())
    letters = "abcdefghijklmnopqrstuvwxyz" + ("ABCDEFGHIJKLMNOPQRSTUVWXYZ" if cased else "")
    pieces = list(letters) + [f"##{c}" for c in letters] + list("0123456789")
    ordered = list(_SPECIAL_TOKENS) + list(_PUNCTUATION) + pieces + sorted(words - set(pieces))
    return list(dict.fromkeys(ordered))


def write_tiny_model(path: Path, texts: list[str], cased: bool, seed: int) -> Path:
    """A two-layer BERT (hidden size 32) and its tokenizer, loadable with the Auto classes."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    path.mkdir(parents=True, exist_ok=True)
    vocab = _vocabulary(texts, cased)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    # The vocabulary file positionally: 4.x names the argument `vocab_file`, 5.x `vocab` (and
    # 5.x accepts `vocab_file=` but then silently loads no vocabulary).
    tokenizer = BertTokenizer(str(path / "vocab.txt"), do_lower_case=not cased, model_max_length=512)
    tokenizer.save_pretrained(str(path))
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, type_vocab_size=2,
        pad_token_id=vocab.index("[PAD]"),
    )
    torch.manual_seed(seed)
    model = BertModel(config)
    model.save_pretrained(str(path))
    return path


def write_demo_assets(
    out_dir: str | Path,
    tasks: list[str] | tuple[str, ...] | None = None,
    train_size: int = DEFAULT_TRAIN_SIZE,
    dev_size: int = DEFAULT_DEV_SIZE,
    seed: int = 0,
) -> Path:
    """Write TSV folders for `tasks` (all nine by default) and the two tiny models; return out_dir.

    The models' vocabulary covers every word the generator can produce, whichever tasks are
    written, so models from one call work on data from another with the same seed.
    """
    if train_size < 1 or dev_size < 1:
        raise ValueError("train_size and dev_size must be at least 1")
    selected = [get_task(name) for name in (tasks or TASK_NAMES)]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for task in selected:
        write_task_tsvs(out, task, train_size, dev_size, seed)
    corpus = _FILLER + list(_NAMES) + [w for words in _SIGNALS for w in words]
    corpus += [w[:1].upper() + w[1:] for w in corpus]
    for name in MODEL_NAMES:
        write_tiny_model(out / "models" / name, corpus, cased=name == "tiny-cased", seed=seed)
    return out
