"""Statistics of repeated timings: checked against numpy and statistics on known values."""

import statistics

import numpy as np
import pytest

from timing_trainer.results.measurement import (
    Measurement,
    coefficient_of_variation,
    is_noisy,
    percentile,
)


def test_figures_match_numpy_and_statistics():
    values = [0.31, 0.29, 0.35, 0.30, 0.52, 0.28]
    m = Measurement(values)
    assert m.n == 6
    assert m.min == 0.28 and m.max == 0.52
    assert m.mean == pytest.approx(statistics.mean(values))
    assert m.median == pytest.approx(statistics.median(values))
    assert m.std == pytest.approx(statistics.stdev(values))
    assert m.cv == pytest.approx(statistics.stdev(values) / statistics.mean(values))
    for q in (0, 10, 25, 50, 90, 100):
        assert m.percentile(q) == pytest.approx(np.percentile(values, q))
    assert m.p90 == pytest.approx(np.percentile(values, 90))
    assert m.iqr == pytest.approx(np.percentile(values, 75) - np.percentile(values, 25))


def test_values_keep_their_order_and_measurement_is_immutable():
    m = Measurement([3, 1, 2])
    assert m.values == (3.0, 1.0, 2.0)
    assert m.sorted_values == (1.0, 2.0, 3.0)
    with pytest.raises(AttributeError):
        m.values = (1.0,)


def test_one_coefficient_of_variation_for_the_trainer_and_the_analysis():
    """The results file's `*_cv` (`Measurement.cv`) and the analysis's `time_cv` of the same
    list are one computation: sample std (n - 1) over the mean, exact sums, any order."""
    values = [0.31, 0.29, 0.35, 0.30, 0.52, 0.28]
    cv = coefficient_of_variation(values)
    assert cv == pytest.approx(statistics.stdev(values) / statistics.mean(values), rel=1e-14)
    assert Measurement(values).cv == cv == coefficient_of_variation(values[::-1])
    assert coefficient_of_variation([2.0]) is None and coefficient_of_variation([]) is None
    assert coefficient_of_variation([0.0, 0.0]) is None and Measurement([0.0, 0.0]).cv is None


def test_a_single_value_has_no_spread_to_report():
    m = Measurement([2.0])
    assert m.cv is None and m.median == 2.0  # not 0.0, which would read as "no noise"
    summary = m.summary("finetuning_time")
    assert summary["finetuning_time_cv"] is None and summary["finetuning_time_std"] is None
    assert summary["finetuning_time"] == 2.0


def test_drop_warmup_and_slicing():
    m = Measurement([9.0, 1.0, 2.0, 3.0])
    assert m.drop_warmup(1).values == (1.0, 2.0, 3.0)
    assert m.drop_warmup(0) is m
    # Nothing would be left: keep the values rather than lose the figure.
    assert m.drop_warmup(4).values == m.values
    assert m[1:3].values == (1.0, 2.0)
    with pytest.raises(ValueError):
        m.drop_warmup(-1)
    with pytest.raises(TypeError):
        m[0]


def test_summary_uses_schema_names_and_min_is_headline():
    summary = Measurement([0.5, 0.4, 0.6]).summary("finetuning_time")
    assert summary["finetuning_time"] == 0.4
    assert summary["finetuning_time_list"] == [0.5, 0.4, 0.6]
    assert summary["finetuning_time_median"] == 0.5
    assert set(summary) == {"finetuning_time", "finetuning_time_list", "finetuning_time_median",
                            "finetuning_time_mean", "finetuning_time_std", "finetuning_time_cv"}
    empty = Measurement([]).summary("x")
    assert empty["x"] is None and empty["x_list"] == []


def test_empty_and_invalid_values_are_errors():
    with pytest.raises(ValueError):
        _ = Measurement([]).min
    with pytest.raises(ValueError):
        Measurement([1.0, float("nan")])
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_noise_check():
    assert not is_noisy(Measurement([1.0]), 0.01)
    assert not is_noisy(Measurement([1.0, 1.001]), 0.05)
    assert is_noisy(Measurement([1.0, 2.0]), 0.05)
