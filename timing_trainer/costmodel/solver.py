"""The cost model's solver: Levenberg-Marquardt with IRLS weights for a robust loss.

Small (tens of parameters), dense and fast: a fold of a cross-validation takes milliseconds.
Least squares first (the robust scale from its residuals), then the robust loss from there, so
a few runs disturbed by a busy machine do not drag the fit.
"""

from __future__ import annotations

import numpy as np


def robust_fit(evaluate, theta0: np.ndarray, y: np.ndarray, n_phys: int, sds, config,
               ) -> tuple[np.ndarray, float]:
    """(parameters, robust scale) minimising the loss of `config` (a `CostModelConfig`).

    `evaluate(theta)` gives (log predictions, Jacobian); the first `n_phys` parameters are the
    physics, the rest effects with prior standard deviations `sds`.
    """
    theta = _solve(evaluate, theta0, y, n_phys, sds, scale=None, loss="linear")
    resid = y - evaluate(theta)[0]
    mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
    scale = max(config.min_scale, min(mad, config.robust_scale))
    if config.loss != "linear":
        # Shrink the scale as the robust fit finds the bulk of the runs (outliers inflate MAD).
        for _ in range(config.scale_rounds):
            theta = _solve(evaluate, theta, y, n_phys, sds, scale=scale, loss=config.loss)
            resid = y - evaluate(theta)[0]
            new = max(config.min_scale, 1.4826 * float(np.median(np.abs(resid))))
            if new >= 0.9 * scale:
                break
            scale = new
    return theta, scale


def _robust(r: np.ndarray, scale: float | None, loss: str) -> tuple[np.ndarray, np.ndarray]:
    """(rho(r), IRLS weight) of each residual."""
    if loss == "linear" or scale is None:
        return 0.5 * r**2, np.ones_like(r)
    z = r / scale
    if loss == "cauchy":
        return 0.5 * scale**2 * np.log1p(z**2), 1.0 / (1.0 + z**2)
    if loss == "huber":
        a = np.abs(z)
        rho = np.where(a <= 1, 0.5 * r**2, scale**2 * (a - 0.5))
        return rho, np.where(a <= 1, 1.0, 1.0 / np.maximum(a, 1e-12))
    raise ValueError(f"unknown loss {loss!r}")


def _solve(evaluate, theta, y, n_phys, sds, *, scale, loss, max_iter=200) -> np.ndarray:
    """Levenberg-Marquardt with IRLS weights; ridge on effects, a faint one on the physics."""
    noise = scale if scale is not None else max(0.05, float(np.std(y)) * 0.1)
    ridge = np.r_[np.full(n_phys, 1e-6), (noise / np.asarray(sds, float)) ** 2]
    anchor = np.r_[theta[:n_phys], np.zeros(len(theta) - n_phys)]

    def objective(th, pred):
        rho, _ = _robust(pred - y, scale, loss)
        return float(rho.sum() + 0.5 * np.sum(ridge * (th - anchor) ** 2))

    pred, J = evaluate(theta)
    current = objective(theta, pred)
    mu = 1e-3
    for _ in range(max_iter):
        r = pred - y
        _, w = _robust(r, scale, loss)
        A = (J * w[:, None]).T @ J + np.diag(ridge)
        g = (J * w[:, None]).T @ r + ridge * (theta - anchor)
        improved = False
        for _ in range(30):
            step = np.linalg.solve(A + mu * np.diag(np.diag(A) + 1e-12), -g)
            trial = theta + step
            trial_pred, trial_J = evaluate(trial)
            value = objective(trial, trial_pred)
            if np.isfinite(value) and value <= current:
                improved = True
                break
            mu *= 4.0
        if not improved:
            break
        gain = current - value
        theta, pred, J, current = trial, trial_pred, trial_J, value
        mu = max(mu / 3.0, 1e-9)
        if np.max(np.abs(step)) < 1e-6 or gain < 1e-9 * max(1e-3, abs(current)):
            break
    return theta
