"""GLUE data: TSV layouts and parsing, data_dir resolution, the Hub path (stubbed), demo assets."""

from __future__ import annotations

import pytest

from timing_trainer.errors import GlueInputError
from timing_trainer.glue.data import HubSource, TsvSource, resolve_task_dir, tsv_split_files
from timing_trainer.glue.demo_assets import write_task_tsvs
from timing_trainer.glue.tsv import TSV_LAYOUTS, check_tsv_header, read_tsv
from timing_trainer.tasks import TASK_NAMES, TASKS, get_task


def _write(path, lines, bom=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- parsing ----------------------------------------------------------------------------------


def test_quotes_inside_sentences_are_kept_as_text(tmp_path):
    path = _write(tmp_path / "train.tsv", [
        "sentence\tlabel",
        '"Yes," he said, "it\'s a \'great\' film".\t1',
        'an unbalanced " quote stays\t0',
    ])
    columns = read_tsv(path, get_task("sst2"))
    assert columns["sentence"] == ['"Yes," he said, "it\'s a \'great\' film".',
                                   'an unbalanced " quote stays']
    assert columns["label"] == [1, 0]


def test_cola_has_no_header_and_fixed_positions(tmp_path):
    path = _write(tmp_path / "train.tsv", [
        "gj04\t1\t\tThe sailors rode the breeze clear of the rocks.",
        "gj04\t0\t*\tThe more we study verbs, the crazier they get \"quickly\".",
    ])
    columns = read_tsv(path, get_task("CoLA"))
    assert columns["sentence"][0] == "The sailors rode the breeze clear of the rocks."
    assert columns["sentence"][1].endswith('"quickly".')
    assert columns["label"] == [1, 0]  # the first row is data, not a header


def test_mnli_train_and_dev_columns_found_by_header(tmp_path):
    layout = TSV_LAYOUTS["mnli"]
    train_row = ["0"] * (len(layout.columns) - 4) + ["A man eats.", "Someone eats.", "x", "entailment"]
    dev_row = ["0"] * (len(layout.dev_columns) - 8) + [
        "A man eats.", "Nobody eats.", "x", "x", "x", "x", "x", "contradiction"]
    task = get_task("mnli")
    train = read_tsv(_write(tmp_path / "train.tsv", ["\t".join(layout.columns), "\t".join(train_row)]), task)
    dev = read_tsv(_write(tmp_path / "dev_matched.tsv",
                          ["\t".join(layout.dev_columns), "\t".join(dev_row)]), task)
    assert train["premise"] == ["A man eats."] and train["label"] == [0]  # entailment
    assert dev["hypothesis"] == ["Nobody eats."] and dev["label"] == [2]  # contradiction


def test_mrpc_header_with_byte_order_mark(tmp_path):
    path = _write(tmp_path / "dev.tsv", [
        "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String",
        "1\t1\t2\tHe said hi.\tHe greeted.",
    ], bom=True)
    columns = read_tsv(path, get_task("mrpc"))
    assert columns == {"sentence1": ["He said hi."], "sentence2": ["He greeted."], "label": [1]}


def test_stsb_scores_are_floats(tmp_path):
    header = "\t".join(TSV_LAYOUTS["stsb"].columns)
    path = _write(tmp_path / "train.tsv", [
        header, "0\tmain\tMSRvid\t2012\t1\tnone\tnone\tA plane.\tA jet.\t4.250"])
    columns = read_tsv(path, get_task("sts-b"))
    assert columns["label"] == [4.25] and isinstance(columns["label"][0], float)


def test_a_tab_inside_a_sentence_is_refused_not_read_around(tmp_path):
    """The label is not read from the end of a row: a stray tab moves the columns, and which
    field is the sentence and which the label is then a guess (tests/glue/test_tsv_rows.py)."""
    header = "\t".join(TSV_LAYOUTS["stsb"].columns)
    path = _write(tmp_path / "dev.tsv", [
        header, "0\tmain\tMSRvid\t2012\t0001\tnone\tnone\tA plane.\tA jet\twith a tab.\t3.800"])
    with pytest.raises(GlueInputError, match="line 2: 11 tab-separated fields, but the header has 10"):
        read_tsv(path, get_task("stsb"))


def test_short_rows_are_skipped_and_labels_checked(tmp_path):
    header = "\t".join(TSV_LAYOUTS["qqp"].columns)
    path = _write(tmp_path / "train.tsv", [header, "1\t2\t3\tq one?\tq two?\t1", "7\t8\tbroken row"])
    assert read_tsv(path, get_task("qqp"))["label"] == [1]
    bad = _write(tmp_path / "bad.tsv", [header, "1\t2\t3\tq?\tq?\tmaybe"])
    with pytest.raises(GlueInputError, match="line 2.*'maybe'"):
        read_tsv(bad, get_task("qqp"))


def test_missing_column_is_one_clear_error(tmp_path):
    path = _write(tmp_path / "RTE" / "dev.tsv", ["index\tsentence1\tlabel", "0\tA.\tentailment"])
    with pytest.raises(GlueInputError, match="missing column 'sentence2'") as info:
        check_tsv_header(path, get_task("rte"))
    assert "\n" not in str(info.value)


def test_every_task_reads_back_what_the_demo_writes(tmp_path):
    for name in TASK_NAMES:
        task = TASKS[name]
        folder = write_task_tsvs(tmp_path, task, train_size=6, dev_size=3, seed=1)
        files = tsv_split_files(folder, task)
        assert list(files) == ["train", *[s.name for s in task.eval_splits]]
        for split, path in files.items():
            layout = TSV_LAYOUTS[name]
            first = path.read_text(encoding="utf-8").splitlines()[0].split("\t")
            if layout.has_header:
                assert tuple(first) == layout.header_for(split != "train")
            else:
                assert len(first) == len(layout.columns)
            columns = read_tsv(path, task)
            assert set(columns) == {*task.text_columns, "label"}
            assert len(columns["label"]) == (6 if split == "train" else 3)
            if task.is_regression:
                assert all(0.0 <= v <= 5.0 for v in columns["label"])
            else:
                assert all(0 <= v < task.num_labels for v in columns["label"])


# --- data_dir resolution ----------------------------------------------------------------------


@pytest.mark.parametrize("folder,task", [
    ("SST-2", "sst2"), ("sst2", "SST-2"), ("sst-2", "sst2"), ("STS-B", "stsb"), ("stsb", "sts-b"),
    ("CoLA", "cola"), ("cola", "CoLA"), ("MNLI", "mnli"), ("rte", "RTE"),
])
def test_glue_root_matches_task_folders_in_any_spelling(tmp_path, folder, task):
    (tmp_path / folder).mkdir()
    (tmp_path / "Other").mkdir()
    assert resolve_task_dir(tmp_path, get_task(task)) == tmp_path / folder


def test_task_folder_itself_is_accepted(tmp_path):
    folder = write_task_tsvs(tmp_path, get_task("rte"), 2, 2, 0)
    assert resolve_task_dir(folder, get_task("rte")) == folder
    source = TsvSource(folder, get_task("rte"))
    assert source.kind == "tsv" and len(source.fingerprint) == 32


def test_root_prefers_glue_spelling_when_two_match(tmp_path):
    (tmp_path / "sst2").mkdir()
    (tmp_path / "SST-2").mkdir()
    assert resolve_task_dir(tmp_path, get_task("sst2")).name == "SST-2"


def test_data_dir_errors(tmp_path):
    with pytest.raises(GlueInputError, match="does not exist"):
        resolve_task_dir(tmp_path / "nope", get_task("rte"))
    with pytest.raises(GlueInputError, match="no train.tsv and no RTE task folder"):
        resolve_task_dir(tmp_path, get_task("rte"))
    folder = write_task_tsvs(tmp_path, get_task("rte"), 2, 2, 0)
    with pytest.raises(GlueInputError, match="is the RTE folder, but the task is SST-2"):
        resolve_task_dir(folder, get_task("sst2"))
    (folder / "dev.tsv").unlink()
    with pytest.raises(GlueInputError, match="missing TSV file .*dev.tsv"):
        TsvSource(tmp_path, get_task("rte"))


def test_fingerprint_follows_file_contents(tmp_path):
    folder = write_task_tsvs(tmp_path, get_task("wnli"), 4, 2, 0)
    before = TsvSource(folder, get_task("wnli")).fingerprint
    assert TsvSource(tmp_path, get_task("wnli")).fingerprint == before
    with open(folder / "dev.tsv", "a", encoding="utf-8") as handle:
        handle.write("9\tOne more.\tAnother.\t1\n")
    assert TsvSource(folder, get_task("wnli")).fingerprint != before


# --- the Hub path (no network here: datasets.load_dataset is stubbed) -------------------------


def test_hub_source_loads_nyu_mll_glue_splits(monkeypatch):
    import datasets

    calls = []

    def fake_load_dataset(name, config, cache_dir=None):
        calls.append((name, config, cache_dir))
        split = {"premise": ["p1", "p2"], "hypothesis": ["h1", "h2"], "label": [0, 2], "idx": [0, 1]}
        return datasets.DatasetDict({
            s: datasets.Dataset.from_dict(split)
            for s in ("train", "validation_matched", "validation_mismatched", "test_matched")
        })

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    source = HubSource(get_task("MNLI"), cache_dir="/tmp/hf")
    raw = source.load()
    assert calls == [("nyu-mll/glue", "mnli", "/tmp/hf")]
    assert list(raw.evals) == ["validation_matched", "validation_mismatched"]
    assert raw.train.column_names == ["premise", "hypothesis", "label"]
    assert source.location == "nyu-mll/glue/mnli" and len(source.fingerprint) == 32


def test_hub_failure_is_bad_input_pointing_at_data_dir(monkeypatch):
    import datasets

    def offline(*args, **kwargs):
        raise ConnectionError("Couldn't reach 'nyu-mll/glue' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(GlueInputError, match="cannot load nyu-mll/glue/rte.*--data_dir"):
        HubSource(get_task("rte")).load()
