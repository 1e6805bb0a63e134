"""Honest error figures: k-fold, leave-one-task-out and leave-one-model-out cross-validation.

A held-out run is predicted by a model fitted without it (and, for the grouped modes, without
every run of its task or model). The error is the absolute percentage error of the predicted
against the measured time (or energy: `response`, see response.py); the summary is its median,
mean and 90th percentile.

Leave-one-model-out needs the held-out model's shape (its FLOPs); a model with no shape
information is never in a fit in the first place (it has no features), so its runs are counted
in `n_unscored` and not scored. Runs on a platform absent from the training folds are likewise
unscored, never guessed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from timing_trainer.costmodel.platform_fit import (
    SUPPORT_LEVELS,
    CostModelConfig,
    fit_data,
    fit_platform,
    log_predict,
    support_level,
)
from timing_trainer.costmodel.response import TIME, Response
from timing_trainer.costmodel.selection import RunCounts
from timing_trainer.errors import CostModelError

CV_MODES = ("kfold", "leave-one-task-out", "leave-one-model-out")


@dataclass
class CVResult:
    """Per-run out-of-fold predictions and the summary figures."""

    cv: str
    runs: pd.DataFrame  # run_id, task, model, ..., time (or energy), predicted, ape, fold, ..
    counts: RunCounts | None = None  # runs read, used, and left out (by reason)
    response: Response = TIME

    def summary(self) -> dict:
        """`n` scored runs, `n_unscored`, the APE figures, then how many runs were read and
        left out before scoring (not finished; finished without a usable time)."""
        ape = self.runs["ape"].dropna().to_numpy(float)
        out = {
            "cv": self.cv,
            "n": int(len(ape)),
            "n_unscored": int(self.runs["ape"].isna().sum()),
            "median_ape": float(np.median(ape)) if len(ape) else None,
            "mean_ape": float(np.mean(ape)) if len(ape) else None,
            "p90_ape": float(np.percentile(ape, 90)) if len(ape) else None,
        }
        if self.counts is not None:
            out.update(self.counts.to_dict())
        return out


def fold_labels(feats: pd.DataFrame, runs: pd.DataFrame, cv: str, k: int = 10,
                seed: int = 0) -> np.ndarray:
    """The held-out group of each run for a CV mode."""
    if cv == "kfold":
        n = len(runs)
        folds = np.arange(n) % max(2, min(k, n))
        return np.random.default_rng(seed).permutation(folds).astype(str)
    if cv == "leave-one-task-out":
        return runs["task"].astype(str).to_numpy()
    if cv == "leave-one-model-out":
        return feats["model_key"].astype(str).to_numpy()
    raise CostModelError(f"unknown cv mode {cv!r}; use one of {', '.join(CV_MODES)}")


def out_of_fold(feats: pd.DataFrame, y: np.ndarray, groups: np.ndarray, kind: str,
                config: CostModelConfig) -> tuple[np.ndarray, list[str]]:
    """Log predictions of each run from a fit without its group; NaN where it cannot be made."""
    pred = np.full(len(y), np.nan)
    support = ["unscored"] * len(y)
    usable = feats["has_shape"].to_numpy(bool)
    platforms = feats["platform"].astype(str).to_numpy()
    for group in pd.unique(groups):
        test = groups == group
        train = ~test & usable
        for platform in pd.unique(platforms[test & usable]):
            rows = train & (platforms == platform)
            if rows.sum() < config.min_runs:
                continue
            fit = fit_platform(platform, feats.loc[rows], y[rows], kind, config)
            target = test & usable & (platforms == platform)
            idx = np.flatnonzero(target)
            pred[idx] = log_predict(fit, feats.iloc[idx])
            for i, row in zip(idx, feats.iloc[idx].itertuples()):
                support[i] = support_level(fit, row)
    return pred, support


def cross_validate(table: pd.DataFrame, kind: str = "finetuning", cv: str = "kfold", *,
                   k: int = 10, seed: int = 0, config: CostModelConfig | None = None,
                   search_dirs=(), response: Response = TIME) -> CVResult:
    """Out-of-fold predictions of every finished run, for one CV mode."""
    if cv not in CV_MODES:
        raise CostModelError(f"unknown cv mode {cv!r}; use one of {', '.join(CV_MODES)}")
    config = config or CostModelConfig()
    runs, counts, feats, y = fit_data(table, kind, response, search_dirs, "cross-validate")
    measured = response.column
    groups = fold_labels(feats, runs, cv, k, seed)
    if len(pd.unique(groups)) < 2:
        raise CostModelError(f"{cv} needs at least two groups; the runs have one")
    pred, support = out_of_fold(feats, y, groups, kind, config)
    keep = [c for c in ("run_id", "task", "model", "max_seq_length", "batch_size",
                        "eval_batch_size", measured) if c in runs]
    out = runs[keep].reset_index(drop=True).copy()
    out["predicted"] = np.exp(pred)
    out["ape"] = np.abs(out["predicted"] / out[measured] - 1.0) * 100.0
    out["fold"] = groups
    out["support"] = support
    return CVResult(cv, out, counts, response)


def level_residuals(feats: pd.DataFrame, y: np.ndarray, kind: str, config: CostModelConfig,
                    k: int = 10, seed: int = 0) -> dict[str, list[float]]:
    """Out-of-fold log residuals (measured - predicted) per support level.

    From three CVs: k-fold (mostly `seen`), leave-one-shape-out (`new_shape`) and
    leave-one-model-out (`new_model`, `new_architecture`).
    """
    usable = feats["has_shape"].to_numpy(bool)
    feats, y = feats.loc[usable], y[usable]
    residuals: dict[str, list[float]] = {level: [] for level in SUPPORT_LEVELS}
    n = len(y)
    folds = np.random.default_rng(seed).permutation(np.arange(n) % max(2, min(k, n))).astype(str)
    for groups in (folds, feats["shape_key"].astype(str).to_numpy(),
                   feats["model_key"].astype(str).to_numpy()):
        if len(pd.unique(groups)) < 2:
            continue
        pred, support = out_of_fold(feats, y, groups, kind, config)
        for p, s, t in zip(pred, support, y):
            if np.isfinite(p) and s in residuals:
                residuals[s].append(float(t - p))
    return residuals


def calibrate_intervals(feats: pd.DataFrame, y: np.ndarray, kind: str, config: CostModelConfig,
                        k: int = 10, seed: int = 0,
                        ) -> tuple[dict[str, tuple[float, float]], dict[str, str]]:
    """Interval quantiles per support level, and for each level without one, why.

    A level with too few residuals (under 10) borrows those of the harder levels, so its
    interval errs on the wide side; with under 5 even then, it has none.
    """
    residuals = level_residuals(feats, y, kind, config, k, seed)
    alpha = 1.0 - config.coverage
    out: dict[str, tuple[float, float]] = {}
    notes: dict[str, str] = {}
    pooled: list[float] = []
    for level in reversed(SUPPORT_LEVELS):  # hardest first: easier levels may borrow
        pooled_level = residuals[level] if len(residuals[level]) >= 10 else (
            residuals[level] + pooled)
        pooled = pooled + residuals[level]
        if len(pooled_level) < 5:
            notes[level] = _no_interval_reason(level, len(pooled_level), feats)
            continue
        out[level] = _conformal(np.asarray(pooled_level), alpha)
    return out, notes


_LEVEL_WORDS = {  # support level -> (what such a run is, the feature column whose levels count)
    "seen": ("a model and shape the fit has seen", None),
    "new_shape": ("a (length, batch) shape the fit has not seen", "shape_key"),
    "new_model": ("a model the fit has not seen, of a fitted family", "model_key"),
    "new_architecture": ("a model family the fit has not seen", "architecture"),
}


def _no_interval_reason(level: str, n_residuals: int, feats: pd.DataFrame) -> str:
    """One phrase: why runs of `level` get no interval."""
    what, column = _LEVEL_WORDS[level]
    usable = feats.loc[feats["has_shape"].astype(bool)]
    if column is not None and usable[column].nunique() < 2:
        only = ", ".join(sorted(usable[column].astype(str).unique())) or "none"
        return (f"no interval for {what}: the fitted runs have one ({only}), so no "
                "cross-validation fold could measure such an error")
    return (f"no interval for {what}: the cross-validation gave {n_residuals} error(s) of "
            "such runs, at least 5 needed")


def _conformal(r: np.ndarray, alpha: float) -> tuple[float, float]:
    """Finite-sample quantiles ((n+1) correction) of signed residuals, lower and upper tail."""
    n = len(r)
    hi = min(1.0, math.ceil((n + 1) * (1 - alpha / 2)) / n)
    lo = max(0.0, math.floor((n + 1) * (alpha / 2)) / n - 1.0 / n)
    return float(np.quantile(r, lo, method="lower")), float(np.quantile(r, hi, method="higher"))
