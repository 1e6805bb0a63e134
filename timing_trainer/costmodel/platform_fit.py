"""One platform's fit: the prices of the physics terms and the shrunk effects, and what they
predict.

The model of one platform (model.py says it whole) is

    log time = log(steps x sum_k c_k x term_k + c_run) + u_arch + u_model + v_shape + w_arch,shape
               + m_lora + m_compile + m_attention + m_padding_free

fitted in log time by the robust least squares of solver.py, every effect with a ridge prior
(`CostModelConfig.prior_sd`). A mode's effect (modes.py) is fitted only where the platform's
runs hold two or more of its levels: with one, it would only restate the prices. Both the fitted model (model.py) and the cross-validations
(validation.py) fit platforms with `fit_platform` and predict with `log_predict`; this module
depends on neither of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from timing_trainer.costmodel.extrapolation import fitted_ranges
from timing_trainer.costmodel.features import PHYSICS_TERMS, run_features
from timing_trainer.costmodel.modes import MODE_GROUPS
from timing_trainer.costmodel.response import Response
from timing_trainer.costmodel.selection import RunCounts, usable_runs
from timing_trainer.costmodel.solver import robust_fit
from timing_trainer.errors import CostModelError

__all__ = ["EFFECT_GROUPS", "SUPPORT_LEVELS", "CostModelConfig", "PlatformFit", "fit_data",
           "fit_platform", "log_predict", "support_level"]

EFFECT_GROUPS = ("architecture", "model_key", "shape_key", "arch_shape", *MODE_GROUPS)
# A mode's prior sd where `CostModelConfig.prior_sd` names none (a config written before the
# modes): LoRA's, compile's or a kernel's efficiency beyond its FLOPs is often 1.5x.
MODE_PRIOR_SD = 0.4
SUPPORT_LEVELS = ("seen", "new_shape", "new_model", "new_architecture")


@dataclass(frozen=True)
class CostModelConfig:
    """Priors and loss of the fit (log-space standard deviations)."""

    prior_sd: dict = field(
        default_factory=lambda: {"architecture": 0.5, "model_key": 0.15, "shape_key": 0.15,
                                 "arch_shape": 0.1, **dict.fromkeys(MODE_GROUPS, MODE_PRIOR_SD)},
        metadata={"help": "prior sd of each effect group in log time (shrinkage strength)"})
    loss: str = field(default="cauchy", metadata={"help": "cauchy, huber or linear"})
    min_scale: float = field(
        default=0.01, metadata={"help": "floor of the robust scale (log time), 1% noise"})
    robust_scale: float = field(
        default=0.05, metadata={"help": "largest starting scale of the robust loss (log time): "
                                "runs off by more than a few times this are treated as disturbed"})
    scale_rounds: int = field(
        default=3, metadata={"help": "robust refits, each with the scale of the last residuals"})
    coverage: float = field(default=0.9, metadata={"help": "prediction interval coverage"})
    min_runs: int = field(default=3, metadata={"help": "fewest runs of a platform to fit it"})


@dataclass
class PlatformFit:
    """The fitted parameters for one platform."""

    platform: str
    terms: tuple[str, ...]
    log_c: np.ndarray  # log price of each term
    log_run: float | None  # log fixed cost per run (fine-tuning), None for inference
    effects: dict[str, dict[str, float]]
    scale: float
    n: int
    models: frozenset
    architectures: frozenset
    shapes: frozenset
    ranges: dict[str, tuple[float, float]]  # (min, max) of params, FLOPs/token, length, batch
    modes: dict[str, frozenset] = field(default_factory=dict)  # mode group -> levels run


def support_level(fit: PlatformFit, row) -> str:
    """How much of a run the fit has seen: its model and shape, its family, or neither."""
    if row.architecture not in fit.architectures:
        return "new_architecture"
    if row.model_key not in fit.models:
        return "new_model"
    if row.shape_key not in fit.shapes:
        return "new_shape"
    return "seen"


def _group_values(feats: pd.DataFrame, group: str) -> pd.Series:
    """Each run's level of an effect group (`arch_shape`: its family at its shape), as text."""
    if group == "arch_shape":
        return feats["architecture"].astype(str) + " @ " + feats["shape_key"].astype(str)
    return feats[group].astype(str)


def fit_data(table: pd.DataFrame, kind: str, response: Response, search_dirs, purpose: str,
             ) -> tuple[pd.DataFrame, RunCounts, pd.DataFrame, np.ndarray]:
    """What a fit and a cross-validation stand on: the usable runs of `table` (selection.py),
    their counts, their features and their log `response`; `CostModelError` naming `purpose`
    ("fit the cost model on", "cross-validate") where no run is usable."""
    runs, counts = usable_runs(table, response)
    if runs.empty:
        raise CostModelError(f"no finished runs with a usable {kind} {response.name} to "
                             f"{purpose} ({counts.describe()})")
    feats = run_features(runs, kind, search_dirs)
    return runs, counts, feats, np.log(runs[response.column].to_numpy(float))


def _design(fit_effects: dict[str, dict[str, int]], feats: pd.DataFrame) -> np.ndarray:
    """0/1 columns, one per level of every effect group (levels unknown to the fit: all 0)."""
    blocks = []
    for group, levels in fit_effects.items():
        values = _group_values(feats, group)
        block = np.zeros((len(feats), len(levels)))
        for i, v in enumerate(values):
            j = levels.get(v)
            if j is not None:
                block[i, j] = 1.0
        blocks.append(block)
    return np.hstack(blocks) if blocks else np.zeros((len(feats), 0))


def log_predict(fit: PlatformFit, feats: pd.DataFrame) -> np.ndarray:
    """Log time (or energy) of each feature row from one platform's fit; an effect level the
    fit has not seen takes `_unseen_effect`."""
    terms = feats[list(fit.terms)].to_numpy(float)
    total = feats["steps"].to_numpy(float) * (terms @ np.exp(fit.log_c))
    if fit.log_run is not None:
        total = total + math.exp(fit.log_run)
    out = np.log(total)
    for group, levels in fit.effects.items():
        values = _group_values(feats, group)
        unseen = _unseen_effect(group, levels)
        out = out + np.array([levels.get(v, unseen) for v in values])
    return out


def _unseen_effect(group: str, levels: dict[str, float]) -> float:
    """The effect of a level the fit has not seen: a new family is taken to be as efficient as
    the median known family (one slow outlier, like XLNet, does not tax every newcomer);
    everything else as the physics says (0)."""
    if group == "architecture" and len(levels) >= 3:
        return float(np.median(list(levels.values())))
    return 0.0


def _effect_levels(feats: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Each effect group's levels (sorted), numbered: the columns of the design matrix. A mode
    group has columns only where the runs hold two or more known levels of it."""
    levels = {}
    for group in EFFECT_GROUPS:
        values = sorted(set(_group_values(feats, group)))
        if group in MODE_GROUPS:  # an unknown level ("") is no level; one level, no effect
            values = [v for v in values if v] if len(set(values) - {""}) > 1 else []
        levels[group] = {v: i for i, v in enumerate(values)}
    return levels


def _prior_sd(config: CostModelConfig, group: str) -> float:
    """A group's prior sd; a mode's defaults to MODE_PRIOR_SD (configs written before it)."""
    if group in MODE_GROUPS:
        return config.prior_sd.get(group, MODE_PRIOR_SD)
    return config.prior_sd[group]


def fit_platform(platform: str, feats: pd.DataFrame, y: np.ndarray, kind: str,
                 config: CostModelConfig) -> PlatformFit:
    """Fit one platform's runs (`feats`, log times `y`): prices, effects and robust scale."""
    # A term that is zero on every run cannot be priced; drop it.
    terms = tuple(t for t in PHYSICS_TERMS if np.any(feats[t].to_numpy(float) > 0))
    T = feats[list(terms)].to_numpy(float)
    steps = feats["steps"].to_numpy(float)
    with_run = kind == "finetuning" and len(np.unique(steps)) > 1
    levels = _effect_levels(feats)
    Z = _design(levels, feats)
    n_phys = len(terms) + int(with_run)
    theta0 = np.zeros(n_phys + Z.shape[1])
    theta0[:n_phys] = _start(T, steps, y, with_run)
    sds = [_prior_sd(config, g) for g in EFFECT_GROUPS for _ in levels[g]]
    theta, scale = robust_fit(_log_time(T, steps, Z, with_run), theta0, y, n_phys, sds, config)
    effects, offset = {}, n_phys
    for group, lv in levels.items():
        effects[group] = {v: float(theta[offset + i]) for v, i in lv.items()}
        offset += len(lv)
    return PlatformFit(
        platform=platform, terms=terms, log_c=theta[: len(terms)].copy(),
        log_run=float(theta[len(terms)]) if with_run else None, effects=effects, scale=scale,
        n=len(y), models=frozenset(feats["model_key"].astype(str)),
        architectures=frozenset(feats["architecture"].astype(str)),
        shapes=frozenset(feats["shape_key"].astype(str)), ranges=fitted_ranges(feats),
        modes={g: frozenset(feats[g].astype(str)) for g in MODE_GROUPS if g in feats},
    )


def _start(T: np.ndarray, steps: np.ndarray, y: np.ndarray, with_run: bool) -> np.ndarray:
    """The physics' starting logs: every term explains an equal share of the median step time;
    the cost per run (fine-tuning), 1% of the median run."""
    per_step = np.median(np.exp(y) / steps)
    med = np.array([np.median(T[:, k][T[:, k] > 0]) for k in range(T.shape[1])])
    start = np.log(per_step / (T.shape[1] * med))
    return np.r_[start, math.log(0.01 * float(np.median(np.exp(y))))] if with_run else start


def _log_time(T: np.ndarray, steps: np.ndarray, Z: np.ndarray, with_run: bool):
    """The model's log times and their Jacobian, as a function of the parameters (the physics'
    logs, then the effects), for the solver."""
    n_terms = T.shape[1]
    n_phys = n_terms + int(with_run)

    def evaluate(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        parts = steps[:, None] * T * np.exp(theta[:n_terms])[None, :]
        total = parts.sum(axis=1)
        J = np.zeros((len(steps), len(theta)))
        if with_run:
            run = math.exp(theta[n_terms])
            total = total + run
            J[:, n_terms] = run / total
        J[:, :n_terms] = parts / total[:, None]
        J[:, n_phys:] = Z
        return np.log(total) + Z @ theta[n_phys:], J

    return evaluate
