"""The thesis's log-linear OLS: log(time) on model and task (treatment coding) and the numbers.

`log(time) = b0 + model effect + task effect + b_bs * batch_size + b_len * max_seq_length`,
references `bert-base-uncased` and RTE as in the thesis. On the log scale every coefficient is a
multiplicative effect on time: `exp(b)` is the factor by which time changes (exp(b_len) per token
of length). The thesis reported the in-sample R² only; k-fold cross-validated R² and errors on
held-out runs are computed beside it, because an in-sample fit says little about prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from sklearn.model_selection import KFold

REFERENCE_MODEL = "bert-base-uncased"
REFERENCE_TASK = "rte"


@dataclass
class LoglinearResult:
    """The fit, its tidy coefficient table and its scores."""

    formula: str
    r2: float
    adj_r2: float
    n: int
    coefficients: pd.DataFrame
    cv: dict[str, Any]
    references: dict[str, str]
    residuals: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    model: Any = field(default=None, repr=False)

    def summary_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula, "r2": self.r2, "adj_r2": self.adj_r2, "n": self.n,
            "references": self.references,
            "coefficients": self.coefficients.to_dict(orient="records"), "cv": self.cv,
        }


def _reference(data: pd.DataFrame, column: str, preferred: str) -> str:
    levels = data[column].dropna().astype(str)
    if preferred in set(levels):
        return preferred
    return str(levels.value_counts().idxmax())  # most frequent level when the thesis's is absent


def loglinear_formula(data: pd.DataFrame, *, model_ref: str = REFERENCE_MODEL,
                      task_ref: str = REFERENCE_TASK, dv: str = "log_time") -> tuple[str, dict]:
    """The formula (terms with one level or one value left out) and the references used."""
    terms, refs = [], {}
    for column, preferred in (("model", model_ref), ("task", task_ref)):
        if data[column].nunique() > 1:
            ref = _reference(data, column, preferred)
            refs[column] = ref
            terms.append(f'C({column}, Treatment("{ref}"))')
    for column in ("batch_size", "max_seq_length"):
        if data[column].nunique() > 1:
            terms.append(column)
    return f"{dv} ~ " + (" + ".join(terms) if terms else "1"), refs


def _tidy_term(term: str) -> tuple[str, str | None]:
    if term.startswith("C("):
        variable = term[2:term.index(",")]
        level = term.split("[T.", 1)[1].rstrip("]") if "[T." in term else None
        return variable, level
    return term, None


def fit_loglinear(data: pd.DataFrame, *, k: int = 5, seed: int = 0,
                  model_ref: str = REFERENCE_MODEL, task_ref: str = REFERENCE_TASK,
                  dv: str = "log_time") -> LoglinearResult:
    """Fit on all rows (the thesis's in-sample figures) and score by k-fold CV."""
    columns = ["model", "task", "batch_size", "max_seq_length", dv]
    frame = data[columns].dropna().reset_index(drop=True)
    frame["model"] = frame["model"].astype(str)
    frame["task"] = frame["task"].astype(str)
    formula, refs = loglinear_formula(frame, model_ref=model_ref, task_ref=task_ref, dv=dv)
    y, X = patsy.dmatrices(formula, frame, return_type="dataframe")
    model = sm.OLS(y, X).fit()
    conf = model.conf_int()
    rows = []
    for term in model.params.index:
        variable, level = _tidy_term(term)
        coef = float(model.params[term])
        rows.append({
            "term": term, "variable": variable, "level": level, "coef": coef,
            "std_err": float(model.bse[term]), "t": float(model.tvalues[term]),
            "p": float(model.pvalues[term]), "ci_low": float(conf.loc[term, 0]),
            "ci_high": float(conf.loc[term, 1]),
            "multiplier": float(np.exp(coef)), "pct_change": float((np.exp(coef) - 1) * 100),
        })
    cv = cross_validate(X.to_numpy(), y.to_numpy().ravel(), k=k, seed=seed)
    return LoglinearResult(
        formula=formula, r2=float(model.rsquared), adj_r2=float(model.rsquared_adj),
        n=int(model.nobs), coefficients=pd.DataFrame(rows), cv=cv, references=refs,
        residuals=np.asarray(model.resid), fitted=np.asarray(model.fittedvalues), model=model,
    )


def effective_folds(k: int, n: int, min_test: int = 3) -> int:
    """Fewer folds for few runs, so every test fold holds at least `min_test` runs (an R² on one
    or two held-out runs says nothing); below two folds there is no cross-validation."""
    return max(0, min(k, n // min_test))


def cross_validate(X: np.ndarray, y: np.ndarray, *, k: int = 5, seed: int = 0) -> dict[str, Any]:
    """k-fold scores of least squares on the same design matrix (log scale and time scale).

    The design matrix is built once from all rows, so a category missing from a training fold
    gets a zero coefficient (the pseudo-inverse's minimum-norm answer) instead of an error.
    """
    n = len(y)
    k = effective_folds(k, n)
    if k < 2:
        return {"k": k, "r2_mean": None, "r2_folds": [], "rmse_log_mean": None,
                "median_abs_pct_error": None}
    r2s, rmses, pct_errors = [], [], []
    for train, test in KFold(n_splits=k, shuffle=True, random_state=seed).split(X):
        beta, *_ = np.linalg.lstsq(X[train], y[train], rcond=None)
        predicted = X[test] @ beta
        residual = y[test] - predicted
        total = ((y[test] - y[test].mean()) ** 2).sum()
        r2s.append(float(1 - (residual ** 2).sum() / total) if total > 0 else float("nan"))
        rmses.append(float(np.sqrt((residual ** 2).mean())))
        pct_errors.extend(np.abs(np.exp(predicted - y[test]) - 1) * 100)
    return {
        "k": k, "r2_mean": float(np.nanmean(r2s)), "r2_folds": r2s,
        "rmse_log_mean": float(np.mean(rmses)),
        "median_abs_pct_error": float(np.median(pct_errors)),
    }
