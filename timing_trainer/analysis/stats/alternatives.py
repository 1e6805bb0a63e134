"""The models the thesis fitted beside its log-linear one, and why it kept the log-linear one.

- `untransformed`: the same terms on time in seconds (the thesis: R² .659 fine-tuning, .553
  inference, residuals far from normal), the reason to model log time (for the energy response:
  on joules, and the models below on log energy);
- `quadratic_length`: log time with the square of the length in place of the length;
- `batch_length_interaction`: log time with batch size × length added.

Each is a statsmodels OLS on the canonical row order; a model that cannot be fitted carries the
reason instead of figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from timing_trainer.analysis.stats.diagnostics import ols_diagnostics
from timing_trainer.analysis.stats.regression import (
    INTERACTION,
    LENGTH,
    QUADRATIC_LENGTH,
    coefficient_table,
    design,
)
from timing_trainer.analysis.stats.response import TIME, Response

# name -> whether the response is logged (and so the coefficients are factors on it)
MODELS: dict[str, dict[str, Any]] = {
    "untransformed": {"log": False},
    "quadratic_length": {"log": True, "length_term": QUADRATIC_LENGTH},
    "batch_length_interaction": {"log": True, "interaction": True},
}


def _variant(name: str, frame: pd.DataFrame, X: pd.DataFrame, y: pd.DataFrame, formula: str,
             response: Response):
    """(y, X, formula) of model `name`, derived from the log-linear design (one patsy pass)."""
    if name == "untransformed":
        return frame[[response.column]], X, formula.replace(
            f"{response.log_column} ~", f"{response.column} ~", 1)
    if LENGTH not in X:
        raise ValueError("one max sequence length only: no length term to transform")
    if name == "quadratic_length":
        quadratic = X.rename(columns={LENGTH: QUADRATIC_LENGTH})
        quadratic[QUADRATIC_LENGTH] = X[LENGTH] ** 2
        return y, quadratic, formula.replace(LENGTH, QUADRATIC_LENGTH)
    if "batch_size" not in X:
        raise ValueError("one batch size only: no interaction to add")
    return y, X.assign(**{INTERACTION: X["batch_size"] * X[LENGTH]}), f"{formula} + {INTERACTION}"


def fit_alternative(name: str, base: tuple, response: Response = TIME) -> dict[str, Any]:
    """One alternative model: formula, R², diagnostics, coefficients; or why it is missing."""
    frame, X, y, formula, refs = base
    try:
        y, X, formula = _variant(name, frame, X, y, formula, response)
        results = sm.OLS(y, X).fit()
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {"name": name, "fitted": False, "why_not": str(exc)}
    return {"name": name, "fitted": True, "formula": formula, "references": refs,
            "r2": float(results.rsquared), "adj_r2": float(results.rsquared_adj),
            "diagnostics": ols_diagnostics(results),
            "coefficients": coefficient_table(results, log_scale=MODELS[name]["log"])}


def fit_alternatives(data: pd.DataFrame, response: Response = TIME) -> dict[str, dict[str, Any]]:
    """Every model of `MODELS` on `response`, each fitted or with the reason it is not."""
    try:
        base = design(data, dv=response.log_column, raw=response.column)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {name: {"name": name, "fitted": False, "why_not": str(exc)} for name in MODELS}
    return {name: fit_alternative(name, base, response) for name in MODELS}


def alternatives_table(models: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per model: R², adjusted R², F, AIC, BIC, Durbin-Watson, Jarque-Bera p."""
    rows = []
    for name, fit in models.items():
        d = fit.get("diagnostics", {})
        rows.append({"model": name, "r2": fit.get("r2"), "adj_r2": fit.get("adj_r2"),
                     "F": d.get("f_statistic"), "aic": d.get("aic"), "bic": d.get("bic"),
                     "durbin_watson": d.get("durbin_watson"),
                     "jarque_bera_p": d.get("jarque_bera_p"),
                     "note": fit.get("why_not", "")})
    return pd.DataFrame(rows)
