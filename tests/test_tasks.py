"""The task and model tables and the results schema skeleton."""

import pytest

from timing_trainer.errors import ResultsValidationError, UnknownTaskError
from timing_trainer.models import MODEL_GROUPS, lookup_model, short_model_name
from timing_trainer.results.schema import empty_results, validate_results
from timing_trainer.tasks import TASK_NAMES, canonical_task_name, get_task


@pytest.mark.parametrize(
    "spelling, expected",
    [("SST-2", "sst2"), ("sst2", "sst2"), ("sts-b", "stsb"), ("CoLa", "cola"), (" MNLI ", "mnli")],
)
def test_task_names_accept_both_spellings(spelling, expected):
    assert canonical_task_name(spelling) == expected


def test_unknown_task_lists_valid_ones():
    with pytest.raises(UnknownTaskError, match="valid tasks: cola, sst2"):
        canonical_task_name("squad")


def test_task_facts():
    assert len(TASK_NAMES) == 9
    assert get_task("stsb").is_regression and get_task("stsb").num_labels == 1
    assert get_task("mnli").num_labels == 3
    assert [s.key_prefix for s in get_task("mnli").eval_splits] == ["eval", "eval_mm"]
    assert get_task("cola").main_metric_key == "eval_matthews_correlation"
    assert not get_task("sst2").is_pair and get_task("rte").is_pair


def test_model_groups_by_vocabulary_casing():
    assert "FacebookAI/roberta-base" in MODEL_GROUPS["cased"]
    assert "xlnet/xlnet-base-cased" in MODEL_GROUPS["cased"]
    assert "albert/albert-base-v1" in MODEL_GROUPS["uncased"]
    assert len(MODEL_GROUPS["cased"]) == 4 and len(MODEL_GROUPS["uncased"]) == 3


def test_model_lookup_by_short_name_and_path():
    assert lookup_model("bert-base-uncased").hub_name == "google-bert/bert-base-uncased"
    assert lookup_model("/data/models/roberta-base/").short_name == "roberta-base"
    assert lookup_model("my-org/tiny") is None
    assert short_model_name("my-org/tiny") == "tiny"
    # ALBERT shares weights: same arithmetic as BERT-base despite a tenth of the parameters.
    albert, bert = lookup_model("albert-base-v1"), lookup_model("bert-base-uncased")
    assert albert.matmul_params_per_token == bert.matmul_params_per_token
    assert albert.params < bert.params / 5


def test_empty_results_validate_and_bad_status_does_not():
    results = empty_results()
    results["environment"] = {
        "device": "cpu", "torch_version": "x", "transformers_version": "y",
        "timing_trainer_version": "z", "python_version": "3",
    }
    validate_results(results)
    results["status"] = "done"
    with pytest.raises(ResultsValidationError, match="status"):
        validate_results(results)
