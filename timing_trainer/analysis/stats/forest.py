"""The thesis's random forest on log time: importances, test-split errors, cross-validated scores.

Settings per kind come from `settings.forest_settings` (fine-tuning: depth 10, 30 % test;
inference: depth 4, 20 % test; both 500 trees, `random_state=0`, split `random_state=42`), task
and model label-encoded (sorted names, as sklearn's LabelEncoder does), features in the thesis's
column order (task, length, batch size, model). Rows are put in the canonical order first
(`order.canonical_order`): the split picks rows by position.

Beside the thesis's test-split MAE/MSE/RMSE (on log time), the k-fold scores (each fold re-fitted
with the same settings but `cv_trees` trees) and the out-of-bag R² show how much one split's
figure can move. 100 trees instead of 500 cost a fifth and a forest's R² settles long before 100
trees (on 10,000 generated runs the 5-fold mean R² of 100 and 500 trees differed in the fourth
decimal). `k=0` skips them.

The modes the runs vary (LoRA's rank, the attention kernel, torch.compile, padding-free batches:
the rule of the ANOVA's `columns.design_factors`) follow as features, so their importance is
reported beside the thesis's four; where no mode varies the features, and every figure, are the
thesis's. A run that does not record a varied mode (it predates the modes) is a level of its own
(`UNRECORDED`, or -1 for the numeric `lora_r`), not dropped: dropping it would shrink the forest
to the runs that record modes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error, mean_squared_error
from sklearn.model_selection import KFold, cross_val_score, train_test_split

from timing_trainer.analysis.stats.regression import effective_folds
from timing_trainer.analysis.stats.settings import forest_settings
from timing_trainer.analysis.table.columns import MODE_FACTORS, design_factors
from timing_trainer.analysis.table.order import canonical_order

FEATURES = ("task", "max_seq_length", "batch_size", "model")  # the thesis's column order
UNRECORDED = "(not recorded)"  # a varied mode's level for runs that do not record it
SPLIT_KEYS = ("test_size", "split_seed")


@dataclass
class ForestResult:
    r2_train: float
    r2_test: float
    r2_oob: float | None
    n_train: int
    n_test: int
    importances: pd.DataFrame
    cv: dict[str, Any]
    settings: dict[str, Any]
    test_errors: dict[str, float] = field(default_factory=dict)
    encodings: dict[str, list[str]] = field(default_factory=dict)

    def summary_dict(self) -> dict[str, Any]:
        return {
            "r2_train": self.r2_train, "r2_test": self.r2_test, "r2_oob": self.r2_oob,
            "n_train": self.n_train, "n_test": self.n_test,
            **{f"test_{error}_{self.settings.get('dv', 'log_time')}": self.test_errors.get(error)
               for error in ("mae", "mse", "rmse")},
            "settings": self.settings, "cv": self.cv,
            "importances": self.importances.to_dict(orient="records"),
        }


def varied_modes(data: pd.DataFrame) -> tuple[str, ...]:
    """The modes the runs vary, by the ANOVA's rule (`design_factors`), in its order."""
    return tuple(f for f in design_factors(data) if f in MODE_FACTORS)


def forest_features(data: pd.DataFrame) -> tuple[str, ...]:
    """The thesis's features, then each mode the runs vary (none varied: the thesis's four)."""
    return (*FEATURES, *varied_modes(data))


def _with_mode_levels(data: pd.DataFrame, features: Sequence[str]) -> pd.DataFrame:
    """Missing values of the mode features as a level of their own (see the module's notes)."""
    modes = [f for f in features if f in MODE_FACTORS and data[f].isna().any()]
    if not modes:
        return data
    data = data.copy()
    for mode in modes:
        numeric = pd.api.types.is_numeric_dtype(data[mode])
        data[mode] = (data[mode].astype("float64").fillna(-1.0) if numeric
                      else data[mode].astype(object).where(data[mode].notna(), UNRECORDED))
    return data


def encode_features(data: pd.DataFrame, features: Sequence[str]) -> tuple[np.ndarray, dict]:
    """Text columns as integer codes in sorted order (what sklearn's LabelEncoder gives)."""
    columns, encodings = [], {}
    for feature in features:
        values = data[feature]
        if values.dtype == object or str(values.dtype) in ("str", "string", "category"):
            levels = sorted(values.astype(str).unique())
            encodings[feature] = levels
            columns.append(pd.Categorical(values.astype(str), categories=levels).codes)
        else:
            columns.append(values.to_numpy(dtype=float))
    return np.column_stack(columns).astype(float), encodings


def _test_errors(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    mse = float(mean_squared_error(y_true, y_pred))
    return {"mae": float(mean_absolute_error(y_true, y_pred)), "mse": mse,
            "rmse": float(np.sqrt(mse))}


def _cross_validated(X, y, params: dict, *, k: int, cv_seed: int, cv_trees: int | None,
                     n_jobs: int | None) -> dict[str, Any]:
    k = effective_folds(k, len(y))
    if k < 2:  # k < 2 (k=0): no cross-validation
        return {"k": k, "r2_mean": None, "r2_folds": [],
                "why_not": "cross-validation off (k=0)" if k == 0 else
                f"too few runs ({len(y)}) for folds of at least 3 runs"}
    cv_params = dict(params)
    if cv_trees:
        cv_params["n_estimators"] = min(cv_trees, params["n_estimators"])
    scores = cross_val_score(
        RandomForestRegressor(n_jobs=n_jobs, **cv_params), X, y, scoring="r2",
        cv=KFold(n_splits=k, shuffle=True, random_state=cv_seed))
    return {"k": k, "r2_mean": float(np.mean(scores)), "r2_folds": [float(s) for s in scores],
            "n_estimators": cv_params["n_estimators"]}


def random_forest(data: pd.DataFrame, *, kind: str = "finetuning",
                  features: Sequence[str] | None = None, dv: str = "log_time", k: int = 5,
                  cv_seed: int = 0, n_jobs: int | None = None, cv_trees: int | None = 100,
                  **overrides: Any) -> ForestResult:
    """Fit on the training split, score on the test split, then k-fold CV with the same
    settings. `features`: default `forest_features` (the thesis's, and the modes the runs
    vary). `overrides`: `max_depth`, `n_estimators`, `random_state`, `test_size`,
    `split_seed` (and any other `RandomForestRegressor` argument)."""
    settings = forest_settings(kind, overrides)
    params = {key: value for key, value in settings.items() if key not in SPLIT_KEYS}
    features = forest_features(data) if features is None else tuple(features)
    data = _with_mode_levels(data, features)
    features = [f for f in features if data[f].nunique() > 1] or list(features)
    frame = canonical_order(data.dropna(subset=list(features) + [dv]))
    X, encodings = encode_features(frame, features)
    y = frame[dv].to_numpy(dtype=float)
    if len(y) < 4:
        raise ValueError(f"random forest needs at least 4 runs, got {len(y)}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=settings["test_size"], random_state=settings["split_seed"])
    # oob_score only adds a free out-of-sample figure; the trees are the same without it.
    forest = RandomForestRegressor(n_jobs=n_jobs, oob_score=len(y_train) >= 10, **params)
    forest.fit(X_train, y_train)
    importances = pd.DataFrame({"feature": list(features),
                                "importance": forest.feature_importances_})
    importances = importances.sort_values("importance", ascending=False).reset_index(drop=True)
    return ForestResult(
        r2_train=float(forest.score(X_train, y_train)), r2_test=float(forest.score(X_test, y_test)),
        r2_oob=float(forest.oob_score_) if getattr(forest, "oob_score", False) else None,
        n_train=len(y_train), n_test=len(y_test), importances=importances,
        cv=_cross_validated(X, y, params, k=k, cv_seed=cv_seed, cv_trees=cv_trees,
                            n_jobs=n_jobs),
        settings={**settings, "features": list(features), "dv": dv, "kind": kind},
        test_errors=_test_errors(y_test, forest.predict(X_test)), encodings=encodings,
    )
