"""The sentences a reader needs beside a fit: where cross-validation disagrees with the
in-sample fit, and where a method's sample is too small to say anything.

An in-sample R² of 0.90 beside a 5-fold cross-validated R² of 0.15 means the model describes
these runs and predicts new ones badly (too many terms for too few runs, or one run that
dominates); the report says so instead of leaving the two figures side by side. `CV_GAP`: the
in-sample R² more than this above the cross-validated one (or a cross-validated R² below 0)
draws the sentence. `MIN_FOREST_TEST`: a random forest's test split of fewer runs than this is
too small for its R² and errors to mean much (one run more or less moves them by tenths);
the sentence says so and points at the cross-validated figure, which uses every run.
"""

from __future__ import annotations

CV_GAP = 0.2
MIN_FOREST_TEST = 10


def cv_disagreement(in_sample: float | None, cross_validated: float | None, k: int | None,
                    what: str) -> str | None:
    """One sentence when the cross-validated R² of `what` falls well below its in-sample R²."""
    if in_sample is None or cross_validated is None:
        return None
    if cross_validated >= 0 and in_sample - cross_validated <= CV_GAP:
        return None
    return (f"Cross-validation disagrees with the in-sample fit: the {what} explains "
            f"{in_sample:.2f} of the variance of these runs (R²) but {cross_validated:.2f} of "
            f"runs it did not see ({k}-fold CV R²); it describes these runs better than it "
            "predicts new ones (too many terms for the runs, or a few runs that dominate), so "
            "read its figures as a description of these runs, not a forecast.")


def small_test_split(n_test: int) -> str | None:
    """One sentence when the forest's test split holds fewer than `MIN_FOREST_TEST` runs."""
    if n_test >= MIN_FOREST_TEST:
        return None
    return (f"The test split holds {n_test} run(s), fewer than {MIN_FOREST_TEST}: too few for "
            "its R² and errors to say anything (one run more or less moves them a lot); read "
            "the cross-validated R², which scores every run.")


def loglinear_caveat(fit) -> str | None:
    """`cv_disagreement` of a `regression.LoglinearResult` (None: no fit, or no caveat)."""
    if fit is None:
        return None
    return cv_disagreement(fit.r2, fit.cv.get("r2_mean"), fit.cv.get("k"),
                           "log-linear regression")


def forest_caveats(forest) -> list[str]:
    """The random forest's sentences: its test split's size, its CV against its fit."""
    if forest is None:
        return []
    found = [small_test_split(forest.n_test),
             cv_disagreement(forest.r2_train, forest.cv.get("r2_mean"), forest.cv.get("k"),
                             "random forest")]
    return [sentence for sentence in found if sentence]


def fit_caveats(loglinear, forest) -> list[str]:
    """Every caveat of the fits, for `summary.json`."""
    return [s for s in (loglinear_caveat(loglinear), *forest_caveats(forest)) if s]
