"""The thesis's random forest on log time, its importances, and cross-validated scores.

Settings as in the thesis: `max_depth=10, n_estimators=500, random_state=0`, task and model
label-encoded, a 70/30 split with `random_state=42`. The k-fold scores (every fold re-fitted with
the same settings but `cv_trees` trees) and the out-of-bag R² beside the split's test R² show how
much one split's figure can move. The k-fold re-fits cost k fits: with 100 trees instead of 500
they cost a fifth, and a forest's R² settles long before 100 trees (on 10,000 generated runs the
5-fold mean R² of 100 and 500 trees differed in the fourth decimal). `k=0` skips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import KFold, cross_val_score, train_test_split

from timing_trainer.analysis.regression import effective_folds

FEATURES = ("model", "task", "batch_size", "max_seq_length")
THESIS_SETTINGS = {"max_depth": 10, "n_estimators": 500, "random_state": 0}


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
    encodings: dict[str, list[str]] = field(default_factory=dict)

    def summary_dict(self) -> dict[str, Any]:
        return {
            "r2_train": self.r2_train, "r2_test": self.r2_test, "r2_oob": self.r2_oob,
            "n_train": self.n_train,
            "n_test": self.n_test, "settings": self.settings, "cv": self.cv,
            "importances": self.importances.to_dict(orient="records"),
        }


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


def random_forest(data: pd.DataFrame, *, features: Sequence[str] = FEATURES,
                  dv: str = "log_time", test_size: float = 0.3, split_seed: int = 42,
                  k: int = 5, cv_seed: int = 0, n_jobs: int | None = None,
                  cv_trees: int | None = 100, **settings: Any) -> ForestResult:
    """Fit on the 70% split, score on the 30%, then k-fold CV with the same settings."""
    params = {**THESIS_SETTINGS, **settings}
    features = [f for f in features if data[f].nunique() > 1] or list(features)
    frame = data[list(features) + [dv]].dropna().reset_index(drop=True)
    X, encodings = encode_features(frame, features)
    y = frame[dv].to_numpy(dtype=float)
    if len(y) < 4:
        raise ValueError(f"random forest needs at least 4 runs, got {len(y)}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=split_seed)
    # oob_score only adds a free out-of-sample figure; the trees are the same without it.
    forest = RandomForestRegressor(n_jobs=n_jobs, oob_score=len(y_train) >= 10, **params)
    forest.fit(X_train, y_train)
    importances = pd.DataFrame({"feature": list(features),
                                "importance": forest.feature_importances_})
    importances = importances.sort_values("importance", ascending=False).reset_index(drop=True)
    cv: dict[str, Any] = {"k": 0, "r2_mean": None, "r2_folds": []}
    k = effective_folds(k, len(y))
    if k >= 2:  # k < 2 (k=0): no cross-validation
        cv_params = dict(params)
        if cv_trees:
            cv_params["n_estimators"] = min(cv_trees, params["n_estimators"])
        scores = cross_val_score(
            RandomForestRegressor(n_jobs=n_jobs, **cv_params), X, y, scoring="r2",
            cv=KFold(n_splits=k, shuffle=True, random_state=cv_seed))
        cv = {"k": k, "r2_mean": float(np.mean(scores)), "r2_folds": [float(s) for s in scores],
              "n_estimators": cv_params["n_estimators"]}
    return ForestResult(
        r2_train=float(forest.score(X_train, y_train)), r2_test=float(forest.score(X_test, y_test)),
        r2_oob=float(forest.oob_score_) if getattr(forest, "oob_score", False) else None,
        n_train=len(y_train), n_test=len(y_test), importances=importances, cv=cv,
        settings={**params, "test_size": test_size, "split_seed": split_seed,
                  "features": list(features), "dv": dv},
        encodings=encodings,
    )
