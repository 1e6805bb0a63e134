"""Rows that do not match the header are bad input; GLUE's own files, shaped as they are, read.

The real files' shapes: CoLA without a header, SST-2's two columns, MRPC's byte-order mark and
spaced quotes, QQP's short rows (skipped, as the old processors did), STS-B's genre columns and
float scores, MNLI's 12-column train and 16-column dev files with parse trees, QNLI, RTE, WNLI.
A row with one field too many or too few anywhere else is one line naming the file, the line
and both counts, and the GLUE program stops with exit status 2 before any model loads.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import Counter

import pytest
from helpers.child import child_env

from timing_trainer.errors import GlueInputError
from timing_trainer.glue import run
from timing_trainer.glue.data import TsvSource
from timing_trainer.glue.tsv import TSV_LAYOUTS, check_tsv_header, read_tsv
from timing_trainer.results.schema import RESULTS_FILENAME
from timing_trainer.tasks import get_task

ASSETS = {"tasks": ["rte"], "train_size": 8, "dev_size": 4}

_MNLI_PARSES = ("( ( Conceptually ( cream skimming ) ) ( ( has ( ( ( two ( basic dimensions ) ) "
                "- ) ( ( product and ) geography ) ) ) . ) )",
                "( ( ( Product and ) geography ) ( ( are ( what ( make ( cream ( skimming work ) "
                ") ) ) ) . ) )",
                "(ROOT (S (NP (JJ Conceptually) (NN cream) (NN skimming)) (VP (VBZ has)) (. .)))",
                "(ROOT (S (NP (NN Product) (CC and) (NN geography)) (VP (VBP are)) (. .)))")
_MNLI_TEXTS = ("Conceptually cream skimming has two basic dimensions - product and geography.",
               "Product and geography are what make cream skimming work. ")
_RTE_PAIR = ("No Weapons of Mass Destruction Found in Iraq Yet.",
             "Weapons of Mass Destruction Found in Iraq.")

# Task folder -> {file: lines}, the rows shaped as GLUE-baselines' own files (text abridged).
REAL_SHAPES = {
    "CoLA": {
        "train.tsv": ["gj04\t1\t\tOur friends won't buy this analysis, let alone the next one.",
                      "gj04\t0\t*\tOne more pseudo generalization and I'm giving up."],
        "dev.tsv": ["gj04\t1\t\tThe sailors rode the breeze clear of the rocks."],
    },
    "SST-2": {
        "train.tsv": ["sentence\tlabel", "hide new secretions from the parental units \t0",
                      'that loves its characters and communicates " something " \t1'],
        "dev.tsv": ["sentence\tlabel", "it 's a charming and often affecting journey . \t1"],
    },
    "MRPC": {
        "train.tsv": ["\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String",
                      '1\t702876\t702977\tAmrozi accused his brother , whom he called " the '
                      'witness " , of deliberately distorting his evidence .\tReferring to him '
                      'as only " the witness " , Amrozi accused his brother .'],
        "dev.tsv": ["\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String",
                    "0\t1355540\t1355592\tHe said the foodservice pie business doesn 't fit .\t"
                    "The foodservice pie business does not fit ."],
    },
    "QQP": {
        "train.tsv": ["id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate",
                      "133273\t213221\t213222\tHow is the life of a math student?\tWhich level "
                      "of prepration is enough for the exam jlpt5?\t0",
                      # GLUE-baselines issue #5: a row cut short in QQP's own train.tsv
                      '"\tWas Muhammad a real historical figure? What is the evidence?\t0',
                      "402555\t536040\t536041\tHow do I control my horny emotions?\tHow do you "
                      "control your horniness?\t1"],
        "dev.tsv": ["id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate",
                    '201359\t303345\t303346\tWhy are African-Americans so "beautiful"?\tWhy are '
                    "hispanics so beautiful?\t0"],
    },
    "STS-B": {
        "train.tsv": ["\t".join(TSV_LAYOUTS["stsb"].columns),
                      "0\tmain-captions\tMSRvid\t2012test\t0001\tnone\tnone\tA plane is taking "
                      "off.\tAn air plane is taking off.\t5.000"],
        "dev.tsv": ["\t".join(TSV_LAYOUTS["stsb"].columns),
                    "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man with a hard hat "
                    "is dancing.\tA man wearing a hard hat is dancing.\t5.000"],
    },
    "MNLI": {
        "train.tsv": ["\t".join(TSV_LAYOUTS["mnli"].columns),
                      "\t".join(["0", "31193", "31193n", "government", *_MNLI_PARSES,
                                 *_MNLI_TEXTS, "neutral", "neutral"])],
        "dev_matched.tsv": ["\t".join(TSV_LAYOUTS["mnli"].dev_columns),
                            "\t".join(["0", "63735", "63735n", "slate", *_MNLI_PARSES,
                                       *_MNLI_TEXTS, "neutral", "entailment", "neutral",
                                       "neutral", "neutral", "neutral"])],
        "dev_mismatched.tsv": ["\t".join(TSV_LAYOUTS["mnli"].dev_columns),
                               "\t".join(["0", "75290", "75290c", "letters", *_MNLI_PARSES,
                                          *_MNLI_TEXTS, "contradiction", "contradiction",
                                          "contradiction", "contradiction", "contradiction",
                                          "contradiction"])],
    },
    "QNLI": {
        "train.tsv": ["index\tquestion\tsentence\tlabel",
                      "0\tWhen did the third Digimon series begin?\tUnlike the two seasons "
                      "before it, Digimon Tamers takes a darker approach.\tnot_entailment"],
        "dev.tsv": ["index\tquestion\tsentence\tlabel",
                    "0\tWhat came into force after the new constitution was herald?\tAs of that "
                    "day, the new constitution heralding the Second Republic came into force."
                    "\tentailment"],
    },
    "RTE": {
        "train.tsv": ["index\tsentence1\tsentence2\tlabel", "0\t" + "\t".join(_RTE_PAIR)
                      + "\tnot_entailment"],
        "dev.tsv": ["index\tsentence1\tsentence2\tlabel",
                    '0\tDana Reeve, the widow of the actor "Christopher Reeve", has died.\t'
                    "Christopher Reeve had an accident.\tnot_entailment"],
    },
    "WNLI": {
        "train.tsv": ["index\tsentence1\tsentence2\tlabel",
                      "0\tI stuck a pin through a carrot. When I pulled the pin out, it had a "
                      "hole.\tThe carrot had a hole.\t1"],
        "dev.tsv": ["index\tsentence1\tsentence2\tlabel",
                    "0\tThe drain is clogged with hair. It has to be cleaned.\tThe hair has to "
                    "be cleaned.\t0"],
    },
}
# Task folder -> the labels each file reads to, in order.
EXPECTED_LABELS = {
    "CoLA": {"train.tsv": [1, 0], "dev.tsv": [1]},
    "SST-2": {"train.tsv": [0, 1], "dev.tsv": [1]},
    "MRPC": {"train.tsv": [1], "dev.tsv": [0]},
    "QQP": {"train.tsv": [0, 1], "dev.tsv": [0]},  # the short row skipped
    "STS-B": {"train.tsv": [5.0], "dev.tsv": [5.0]},
    "MNLI": {"train.tsv": [1], "dev_matched.tsv": [1], "dev_mismatched.tsv": [2]},
    "QNLI": {"train.tsv": [1], "dev.tsv": [0]},
    "RTE": {"train.tsv": [1], "dev.tsv": [1]},
    "WNLI": {"train.tsv": [1], "dev.tsv": [0]},
}


def _write_folder(root, folder, files):
    (root / folder).mkdir(parents=True, exist_ok=True)
    for name, lines in files.items():
        (root / folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / folder


@pytest.mark.parametrize("folder", list(REAL_SHAPES))
def test_glue_files_shaped_as_the_real_ones_read(tmp_path, folder):
    task = get_task(folder)
    path = _write_folder(tmp_path, folder, REAL_SHAPES[folder])
    source = TsvSource(tmp_path, task)  # checks every file whole, as the program does
    assert source.task_dir == path
    for name, labels in EXPECTED_LABELS[folder].items():
        columns = read_tsv(path / name, task)
        assert columns["label"] == labels, name
        assert all(text.strip() for column in task.text_columns for text in columns[column])
    if folder == "MRPC":  # quotes are text, spaced as MRPC spaces them
        assert read_tsv(path / "train.tsv", task)["sentence1"][0].count('"') == 2
    if folder == "MNLI":  # the sentences, not the parse trees, whichever of the two layouts
        assert read_tsv(path / "dev_matched.tsv", task)["premise"] == [_MNLI_TEXTS[0]]


def test_qqps_short_rows_are_skipped_with_a_warning_naming_the_line(tmp_path, caplog):
    path = _write_folder(tmp_path, "QQP", REAL_SHAPES["QQP"]) / "train.tsv"
    with caplog.at_level(logging.WARNING, logger="timing_trainer.glue.tsv"):
        assert read_tsv(path, get_task("qqp"))["label"] == [0, 1]
    assert "skipped 1 rows with fewer than 6 fields (first: line 3)" in caplog.text


def _changed(folder, name, edit):
    """The real-shaped files of `folder` with the last line of `name` edited."""
    files = {file: list(lines) for file, lines in REAL_SHAPES[folder].items()}
    files[name][-1] = edit(files[name][-1])
    return files


# folder, file, how the last row is changed, the expected counts
MISMATCHES = [
    ("RTE", "train.tsv", lambda row: row + "\t1", "5 tab-separated fields, but the header has 4"),
    ("RTE", "dev.tsv", lambda row: row.replace(" has died", "\thas died"), "5 tab-sep"),
    ("RTE", "train.tsv", lambda row: row.rsplit("\t", 1)[0], "3 tab-separated fields, but the header has 4"),
    ("WNLI", "train.tsv", lambda row: row + "\t0", "5 tab-separated fields"),
    ("QNLI", "dev.tsv", lambda row: row.replace("day, ", "day,\t"), "5 tab-separated fields"),
    ("STS-B", "dev.tsv", lambda row: row.replace("hat is", "hat\tis", 1), "11 tab-separated fields, but the header has 10"),
    ("STS-B", "train.tsv", lambda row: row + "\tnone", "11 tab-separated fields"),
    ("MNLI", "train.tsv", lambda row: row + "\tneutral", "13 tab-separated fields, but the header has 12"),
    ("MNLI", "dev_mismatched.tsv", lambda row: row.rsplit("\t", 2)[0], "14 tab-separated fields, but the header has 16"),
    ("QQP", "dev.tsv", lambda row: row + "\t1", "7 tab-separated fields, but the header has 6"),
    ("MRPC", "dev.tsv", lambda row: row + "\t1", "6 tab-separated fields, but the header has 5"),
    ("SST-2", "train.tsv", lambda row: row.replace("characters and", "characters\tand"), "3 tab-separated fields, but the header has 2"),
    ("SST-2", "dev.tsv", lambda row: row.split("\t")[0], "1 tab-separated fields, but the header has 2"),
    ("CoLA", "train.tsv", lambda row: row + "\t1", "5 tab-separated fields, but the task's columns are 4"),
    ("CoLA", "dev.tsv", lambda row: row.replace("\t\t", "\t"), "3 tab-separated fields, but the task's columns are 4"),
]


@pytest.mark.parametrize("folder,name,edit,expected", MISMATCHES)
def test_a_row_that_does_not_match_the_header_is_one_line(tmp_path, folder, name, edit, expected):
    path = _write_folder(tmp_path, folder, _changed(folder, name, edit))
    line = len(REAL_SHAPES[folder][name])  # the last line, counted from 1
    with pytest.raises(GlueInputError) as info:
        TsvSource(tmp_path, get_task(folder))
    message = str(info.value)
    assert f"{str(path / name)!r}, line {line}: {expected}" in message
    assert "\n" not in message


def test_a_header_that_names_a_column_twice_is_one_line(tmp_path):
    files = _changed("RTE", "train.tsv", lambda row: row)
    files["train.tsv"][0] = "index\tsentence1\tsentence2\tlabel\tlabel"
    files["train.tsv"][1] += "\tentailment"
    path = _write_folder(tmp_path, "RTE", files)
    with pytest.raises(GlueInputError, match="the header names column 'label' twice"):
        check_tsv_header(path / "train.tsv", get_task("rte"))
    files["train.tsv"][0] = "index\tsentence1\tsentence1\tlabel"
    files["train.tsv"][1] = files["train.tsv"][1].rsplit("\t", 1)[0]
    _write_folder(tmp_path, "RTE", files)
    with pytest.raises(GlueInputError, match="names column 'sentence1' twice"):
        TsvSource(tmp_path, get_task("rte"))


def _rte_with_an_extra_field(root):
    """The case that trained silently: 40 RTE rows, 24 entailment and 16 not, each ending with
    one more field (here "1"); read from the end of the row, every label became 1."""
    labels = ["entailment"] * 24 + ["not_entailment"] * 16
    rows = [f"{i}\t{_RTE_PAIR[0]}\t{_RTE_PAIR[1]}\t{label}\t1" for i, label in enumerate(labels)]
    files = {"train.tsv": ["index\tsentence1\tsentence2\tlabel", *rows],
             "dev.tsv": REAL_SHAPES["RTE"]["dev.tsv"]}
    return _write_folder(root, "RTE", files)


def test_rte_rows_with_one_extra_field_are_not_read_as_labels(tmp_path):
    folder = _rte_with_an_extra_field(tmp_path)
    fixed = folder / "fixed.tsv"  # the same rows without the extra field read as they are
    fixed.write_text("".join(line.rsplit("\t", 1)[0] + "\n" if i else line + "\n" for i, line in
                             enumerate((folder / "train.tsv").read_text().splitlines())))
    assert Counter(read_tsv(fixed, get_task("rte"))["label"]) == {0: 24, 1: 16}
    with pytest.raises(GlueInputError, match="train.tsv', line 2: 5 tab-separated fields"):
        read_tsv(folder / "train.tsv", get_task("rte"))


def _argv(model, data, out):
    return ["--task_name=rte", f"--model_name_or_path={model}", f"--data_dir={data}",
            f"--output_dir={out}", f"--tokenization_cache_dir={out.parent / 'cache'}",
            "--max_seq_length=32", "--num_train_epochs=1", "--finetuning_iters=1",
            "--report_to=none", "--use_cpu=True", "--disable_tqdm=True"]


def test_the_program_refuses_them_before_the_model_loads(assets, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(run, "load_model", lambda *a, **k: pytest.fail("the model was loaded"))
    data, out = tmp_path / "data", tmp_path / "out"
    _rte_with_an_extra_field(data)
    assert run.main(_argv(assets / "models" / "tiny-uncased", data, out)) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("timing_trainer.glue: error: RTE file "), err
    assert "line 2: 5 tab-separated fields, but the header has 4" in err[0]
    assert not (out / RESULTS_FILENAME).exists()


def test_in_a_real_process_it_is_exit_2_and_one_line(assets, tmp_path):
    data, out = tmp_path / "data", tmp_path / "out"
    _rte_with_an_extra_field(data)
    proc = subprocess.run([sys.executable, "-m", "timing_trainer.glue",
                           *_argv(assets / "models" / "tiny-uncased", data, out)],
                          capture_output=True, text=True, timeout=300, env=child_env())
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{str(data / 'RTE' / 'train.tsv')!r}, line 2: 5 tab-separated fields" in lines[0]
    assert not (out / RESULTS_FILENAME).exists()
