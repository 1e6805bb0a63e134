"""Fit a cost model on measured runs and predict, with prediction intervals.

The model, per platform (device, precision, world size; never mixed):

    log time = log(steps x sum_k c_k x term_k + c_run) + u_arch + u_model + v_shape + w_arch,shape

- `c_k >= 0` (fitted as logs) price each first-principles term of a step (features.py);
  `c_run` is a fixed cost per run (fine-tuning only: first-step warm-up, loader start).
- `u_arch`, `u_model`: efficiency of an implementation family and of one checkpoint beyond what
  its FLOPs say (XLNet's relative attention is slower per FLOP than BERT's).
- `v_shape`, `w_arch,shape`: the device's efficiency at one (length, batch) shape, overall and
  per family: GEMM blocking and cache effects that no smooth formula captures on a CPU.

Every effect is a shrunk random effect (a ridge penalty `(scale / prior_sd)^2`): it moves only
as far as the data in its group supports, and is zero for a level the fit has not seen, so an
unseen model or shape falls back to the physics (a new family takes the median known family's
efficiency). Nothing is keyed by task. The loss is robust
(Cauchy, on log time, starting from least squares): a few runs disturbed by a busy machine do
not drag the fit. One platform's fit is platform_fit.py's, its solver scipy's (solver.py).

Prediction intervals are split-conformal in spirit: the quantiles of cross-validated log
residuals, taken separately for each level of support (model and shape seen; shape new; model
new but its family seen; family new), so an extrapolation gets the wider interval it earned.
Far outside the fitted runs (extrapolation.py: more than 2x their model sizes, lengths or batch
sizes) no residual measured such an error, so there is no interval, and a note says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from timing_trainer.costmodel.cross_validation import calibrate_intervals
from timing_trainer.costmodel.extrapolation import FAR_FACTOR, far_reason, outside_factors
from timing_trainer.costmodel.features import KINDS, run_features
from timing_trainer.costmodel.platform_fit import (
    CostModelConfig,
    PlatformFit,
    fit_data,
    fit_platform,
    log_predict,
    support_level,
)
from timing_trainer.costmodel.response import TIME, Response
from timing_trainer.costmodel.selection import RunCounts
from timing_trainer.costmodel.shapes import hub_cache_dir
from timing_trainer.errors import CostModelError

# What `fit_cost_model` takes and raises, named here for its callers (declared in platform_fit.py
# and errors.py).
__all__ = ["CostModel", "CostModelConfig", "CostModelError", "PlatformFit", "fit_cost_model"]


@dataclass
class CostModel:
    """A fitted cost model: one `PlatformFit` per platform, plus interval quantiles."""

    kind: str
    config: CostModelConfig
    fits: dict[str, PlatformFit]
    search_dirs: tuple[Path, ...] = ()
    # support level -> (low, high) quantile of log residuals; filled by `calibrate`.
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    # support level -> why it has no interval (levels missing from `intervals`).
    interval_notes: dict[str, str] = field(default_factory=dict)
    n_without_shape: int = 0
    counts: RunCounts | None = None  # runs read, used, and left out (by reason)
    response: Response = TIME  # what is predicted: time (s), or energy (J, energy.py)

    @property
    def n_fitted(self) -> int:
        """Runs in the fits (finished, a usable time, a known shape, a platform with enough)."""
        return sum(fit.n for fit in self.fits.values())

    def fit_summary(self) -> str:
        """One line: how many runs the fit stands on, and why any others are not in it."""
        line = f"fitted on {self.n_fitted} run(s)"
        if self.counts is not None:
            line += f" ({self.counts.describe()})"
        small = (self.counts.used if self.counts else self.n_fitted) - self.n_without_shape \
            - self.n_fitted
        if self.n_without_shape:
            line += f"; {self.n_without_shape} of a model of unknown size not in the fit"
        if small > 0:
            line += (f"; {small} on a platform with fewer than {self.config.min_runs} runs "
                     "not in the fit")
        return line

    @property
    def platforms(self) -> list[str]:
        return sorted(self.fits)

    def coefficients(self) -> pd.DataFrame:
        """The fitted prices per platform: seconds per step, per TFLOP, per 1e9 params, per run."""
        rows = []
        for fit in self.fits.values():
            row = {"platform": fit.platform, "n": fit.n}
            row.update({t: float(np.exp(c)) for t, c in zip(fit.terms, fit.log_c)})
            row["per_run"] = float(np.exp(fit.log_run)) if fit.log_run is not None else None
            rows.append(row)
        return pd.DataFrame(rows)

    def predict_features(self, feats: pd.DataFrame, *, strict: bool = False) -> pd.DataFrame:
        """Predicted time (s), or energy (J), per feature row: `predicted`, `lower`, `upper`, `support`,
        `extrapolated` (model size, length or batch size outside the fitted range),
        `interval_note` (why `lower`/`upper` are missing, "" where they are given).

        Rows the model cannot answer (unknown shape, unfitted platform) get NaN and a `support`
        saying why, or raise `CostModelError` when `strict`. A row more than `FAR_FACTOR` times
        outside the fitted range gets a prediction but no interval (the note says how far).
        """
        out = pd.DataFrame(index=feats.index)
        out["predicted"] = np.nan
        out["support"] = ""
        out["extrapolated"] = False
        out["far"] = ""
        for platform, rows in feats.groupby("platform", sort=False):
            fit = self.fits.get(platform)
            if fit is None:
                if strict:
                    raise CostModelError(
                        f"no fitted runs on platform '{platform}' (fitted: "
                        f"{'; '.join(self.platforms) or 'none'}); measure some runs there first")
                out.loc[rows.index, "support"] = "unfitted platform"
                continue
            _predict_platform(fit, rows, out, strict)
        self._add_intervals(out)
        return out.drop(columns="far")

    def _add_intervals(self, out: pd.DataFrame) -> None:
        """`lower`, `upper` and `interval_note` of each prediction, from its support level."""
        lower, upper, notes = [], [], []
        for pred, level, far in zip(out["predicted"], out["support"], out["far"]):
            q = self.intervals.get(level)
            if not np.isfinite(pred):
                note = f"no prediction ({level})"
            elif far:
                note = far
            elif q is None:
                note = self.interval_notes.get(level, f"no interval calibrated for {level} runs")
            else:
                note = ""
            lower.append(pred * math.exp(q[0]) if not note else np.nan)
            upper.append(pred * math.exp(q[1]) if not note else np.nan)
            notes.append(note)
        out["lower"], out["upper"], out["interval_note"] = lower, upper, notes

    def predict(self, table: pd.DataFrame, *, strict: bool = False) -> pd.DataFrame:
        """`predict_features` on an analysis-style table (one row per run)."""
        return self.predict_features(run_features(table, self.kind, self.search_dirs),
                                     strict=strict)


def _predict_platform(fit: PlatformFit, rows: pd.DataFrame, out: pd.DataFrame,
                      strict: bool) -> None:
    """Fill `out`'s predicted, support, extrapolated and far for one platform's rows."""
    known = rows["has_shape"].astype(bool)
    if strict and not known.all():
        names = ", ".join(sorted(set(rows.loc[~known, "model_key"])))
        raise CostModelError(
            f"no size information for model(s) {names}: not in the model table, no local "
            f"config.json and none in the Hub cache ({hub_cache_dir()}); cannot estimate "
            "their FLOPs")
    out.loc[rows.index[~known], "support"] = "unknown model shape"
    rows = rows.loc[known]
    if rows.empty:
        return
    out.loc[rows.index, "predicted"] = np.exp(log_predict(fit, rows))
    out.loc[rows.index, "support"] = [support_level(fit, r) for r in rows.itertuples()]
    # Outside the fitted sizes, lengths or batch sizes: a new shape's interval is likely too
    # narrow; far outside, no interval at all.
    factors = outside_factors(fit.ranges, rows)
    out.loc[rows.index, "extrapolated"] = (factors > 1.0 + 1e-9).any(axis=1).to_numpy()
    far = factors.max(axis=1) > FAR_FACTOR
    out.loc[rows.index[far.to_numpy()], "far"] = [far_reason(f) for _, f in
                                                   factors.loc[far].iterrows()]


def fit_cost_model(table: pd.DataFrame, kind: str = "finetuning",
                   config: CostModelConfig | None = None, *, calibrate: bool = True,
                   search_dirs: tuple[Path, ...] = (), response: Response = TIME) -> CostModel:
    """Fit on the finished runs of `table`; `calibrate` adds prediction intervals (runs CVs).

    `response`: what to fit, time (the default) or energy (see energy.py, which prepares the
    table's energy column); the physics, the effects and the intervals are the same.
    """
    if kind not in KINDS:
        raise CostModelError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    config = config or CostModelConfig()
    _, counts, feats, y = fit_data(table, kind, response, search_dirs, "fit the cost model on")
    usable = feats["has_shape"].to_numpy(bool)
    if not usable.any():
        names = ", ".join(sorted(set(feats["model_key"]))[:5])
        raise CostModelError(
            f"no finished run has a model of known size ({names}): not in the model table, "
            f"no model config recorded in the runs' results, no config.json at that path from "
            f"the current folder ({Path.cwd()}) or above the runs' output folders, none in the "
            f"Hub cache ({hub_cache_dir()})")
    model = CostModel(kind, config, {}, tuple(search_dirs),
                      n_without_shape=int((~usable).sum()), counts=counts, response=response)
    feats, y = feats.loc[usable], y[usable]
    for platform, rows in feats.groupby("platform", sort=False):
        if len(rows) < config.min_runs:
            continue
        pos = feats.index.get_indexer(rows.index)
        model.fits[platform] = fit_platform(platform, rows, y[pos], kind, config)
    if not model.fits:
        raise CostModelError(
            f"too few finished runs with a usable {response.name} to fit any platform "
            f"(need {config.min_runs} per platform)")
    if calibrate:
        model.intervals, model.interval_notes = calibrate_intervals(feats, y, kind, config)
    return model

