"""The cost model's fit: `scipy.optimize.least_squares` with a robust loss and a ridge prior.

Small (tens of parameters), dense and fast: a fold of a cross-validation takes milliseconds.
Least squares first (the robust scale from its residuals), then the robust loss (scipy's
`cauchy` or `huber`, `f_scale` the scale) from there, so a few runs disturbed by a busy machine
do not drag the fit. The effects' shrinkage is a ridge prior written as extra residual rows,
`(scale / prior_sd) x effect`, so least squares treats it as data; a faint one holds the physics
near its start where the runs cannot tell two terms apart.

The robust loss applies to the runs' rows only; the prior's rows stay quadratic. A ridge prior
is a normal distribution on the effects, and scipy's named losses apply to every row: a
heavy-tailed prior let the held-out tasks' 90 % intervals cover 87 % of their runs on the thesis's
runs (91 % with the quadratic prior, `bench/costmodel_thesis.py`). So the loss is a callable
(`_partly_robust`) with scipy's own formulas for `cauchy` and `huber` on the runs' rows.

The matrices are tiny (a few hundred rows, tens of columns): BLAS threads cost more than they
save there (an SVD took 30-70 ms with two threads on a busy two-core machine, 1 ms with one), so
the fit runs on one BLAS thread (`threadpoolctl`, which scikit-learn already brings).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

_MAD_TO_SD = 1.4826  # a normal distribution's sd per median absolute deviation
_PHYSICS_PRIOR = 1e-3  # weight of the physics' prior rows: faint, only against a flat direction


def robust_fit(evaluate, theta0: np.ndarray, y: np.ndarray, n_phys: int, sds, config,
               ) -> tuple[np.ndarray, float]:
    """(parameters, robust scale) minimising the loss of `config` (a `CostModelConfig`).

    `evaluate(theta)` gives (log predictions, Jacobian); the first `n_phys` parameters are the
    physics, the rest effects with prior standard deviations `sds`.
    """
    with threadpool_limits(1, user_api="blas"):
        return _robust_fit(evaluate, theta0, y, n_phys, sds, config)


def _robust_fit(evaluate, theta0, y, n_phys, sds, config) -> tuple[np.ndarray, float]:
    """Least squares, then the robust loss at a scale that shrinks toward the bulk's spread."""
    theta = _solve(evaluate, theta0, y, n_phys, sds, scale=None, loss="linear")
    resid = y - evaluate(theta)[0]
    mad = _MAD_TO_SD * float(np.median(np.abs(resid - np.median(resid))))
    scale = max(config.min_scale, min(mad, config.robust_scale))
    if config.loss != "linear":
        # Shrink the scale as the robust fit finds the bulk of the runs (outliers inflate MAD).
        for _ in range(config.scale_rounds):
            theta = _solve(evaluate, theta, y, n_phys, sds, scale=scale, loss=config.loss)
            resid = y - evaluate(theta)[0]
            new = max(config.min_scale, _MAD_TO_SD * float(np.median(np.abs(resid))))
            if new >= 0.9 * scale:
                break
            scale = new
    return theta, scale


def _solve(evaluate, theta: np.ndarray, y: np.ndarray, n_phys: int, sds, *,
           scale: float | None, loss: str) -> np.ndarray:
    """`least_squares` on the runs' log residuals plus the prior's rows, from `theta`.

    The prior's strength is the noise it is weighed against: the robust scale, or before there
    is one a tenth of the spread of log times (at least 0.05).
    """
    noise = scale if scale is not None else max(0.05, float(np.std(y)) * 0.1)
    weight = np.r_[np.full(n_phys, _PHYSICS_PRIOR), noise / np.asarray(sds, float)]
    anchor = np.r_[theta[:n_phys], np.zeros(len(theta) - n_phys)]

    def residuals(th: np.ndarray) -> np.ndarray:
        return np.r_[evaluate(th)[0] - y, weight * (th - anchor)]

    def jacobian(th: np.ndarray) -> np.ndarray:
        return np.vstack([evaluate(th)[1], np.diag(weight)])

    return least_squares(residuals, theta, jac=jacobian, loss=_partly_robust(loss, len(y)),
                         f_scale=scale if scale is not None else 1.0).x


def _partly_robust(loss: str, n_runs: int):
    """scipy's `loss` (rho(z), rho'(z), rho''(z) of z = squared scaled residual) on the first
    `n_runs` rows, the quadratic `z` on the prior's rows after them."""

    def rho(z: np.ndarray) -> np.ndarray:
        out = np.vstack([z, np.ones_like(z), np.zeros_like(z)])
        runs = z[:n_runs]
        if loss == "cauchy":
            out[:, :n_runs] = np.log1p(runs), 1 / (1 + runs), -1 / (1 + runs) ** 2
        elif loss == "huber":
            inner = runs <= 1
            root = np.sqrt(np.where(inner, 1.0, runs))
            out[:, :n_runs] = (np.where(inner, runs, 2 * root - 1), np.where(inner, 1, 1 / root),
                               np.where(inner, 0, -0.5 / root**3))
        elif loss != "linear":
            raise ValueError(f"unknown loss {loss!r}; use linear, huber or cauchy")
        return out

    return rho
