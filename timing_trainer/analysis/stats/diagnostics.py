"""The diagnostics of an OLS fit, as the thesis read them off `summary()`, plus Breusch-Pagan.

statsmodels' own results attributes and test functions, named for what they are: the overall F
test, Durbin-Watson (autocorrelation of residuals in row order; the canonical order here),
Jarque-Bera and the omnibus test (normal residuals), skew and kurtosis of the residuals, AIC,
BIC, the condition number (collinearity of the design), and Breusch-Pagan (residual variance
growing with the regressors: the thesis's log transform is meant to remove that).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.stattools import durbin_watson, jarque_bera, omni_normtest


def _number(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def ols_diagnostics(results) -> dict[str, Any]:
    """Every figure of the summary's header and footer, and the Breusch-Pagan test."""
    resid = np.asarray(results.resid, dtype=float)
    jb, jb_p, skew, kurtosis = jarque_bera(resid)
    omnibus, omnibus_p = omni_normtest(resid)
    out: dict[str, Any] = {
        "n": int(results.nobs), "df_model": _number(results.df_model),
        "df_resid": _number(results.df_resid),
        "r2": _number(results.rsquared), "adj_r2": _number(results.rsquared_adj),
        "f_statistic": _number(results.fvalue), "f_pvalue": _number(results.f_pvalue),
        "log_likelihood": _number(results.llf), "aic": _number(results.aic),
        "bic": _number(results.bic), "durbin_watson": _number(durbin_watson(resid)),
        "jarque_bera": _number(jb), "jarque_bera_p": _number(jb_p),
        "omnibus": _number(omnibus), "omnibus_p": _number(omnibus_p),
        "skew": _number(skew), "kurtosis": _number(kurtosis),
        "condition_number": _number(results.condition_number),
    }
    out.update(breusch_pagan(results))
    return out


def breusch_pagan(results) -> dict[str, Any]:
    """Breusch-Pagan LM and F tests of the residuals against the model's regressors."""
    exog = np.asarray(results.model.exog, dtype=float)
    if exog.shape[1] < 2:
        return {"breusch_pagan_lm": None, "breusch_pagan_lm_p": None,
                "breusch_pagan_f": None, "breusch_pagan_f_p": None,
                "breusch_pagan_why_not": "the model has no regressor besides the intercept"}
    lm, lm_p, f, f_p = het_breuschpagan(np.asarray(results.resid, dtype=float), exog)
    return {"breusch_pagan_lm": _number(lm), "breusch_pagan_lm_p": _number(lm_p),
            "breusch_pagan_f": _number(f), "breusch_pagan_f_p": _number(f_p)}
