"""The thesis's log-linear OLS: log(time) on model and task (treatment coding) and the numbers.

`log(time) = b0 + model effect + task effect + b_bs * batch_size + b_len * max_seq_length`,
references `bert-base-uncased` and RTE as in the thesis. On the log scale every coefficient is a
multiplicative effect on time: `exp(b)` is the factor by which time changes (exp(b_len) per token
of length). The thesis reported the in-sample fit only; k-fold cross-validated R² and errors on
held-out runs are computed beside it, because an in-sample fit says little about prediction.
The same formula fits the untransformed time and the thesis's two alternatives (`alternatives`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import patsy
import statsmodels.api as sm
from sklearn.model_selection import KFold

from timing_trainer.analysis.stats.diagnostics import ols_diagnostics
from timing_trainer.analysis.table.order import canonical_order

REFERENCE_MODEL = "bert-base-uncased"
REFERENCE_TASK = "rte"
LENGTH = "max_seq_length"
QUADRATIC_LENGTH = "I(max_seq_length ** 2)"
INTERACTION = "batch_size:max_seq_length"


@dataclass
class LoglinearResult:
    """The fit, its tidy coefficient table, its diagnostics and its scores."""

    formula: str
    r2: float
    adj_r2: float
    n: int
    coefficients: pd.DataFrame
    cv: dict[str, Any]
    references: dict[str, str]
    diagnostics: dict[str, Any] = field(default_factory=dict)
    residuals: np.ndarray = field(default=None, repr=False)
    fitted: np.ndarray = field(default=None, repr=False)
    model: Any = field(default=None, repr=False)

    def summary_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula, "r2": self.r2, "adj_r2": self.adj_r2, "n": self.n,
            "references": self.references, "diagnostics": self.diagnostics,
            "coefficients": self.coefficients.to_dict(orient="records"), "cv": self.cv,
        }


def _reference(data: pd.DataFrame, column: str, preferred: str) -> str:
    levels = data[column].dropna().astype(str)
    if preferred in set(levels):
        return preferred
    return str(levels.value_counts().idxmax())  # most frequent level when the thesis's is absent


def loglinear_formula(data: pd.DataFrame, *, model_ref: str = REFERENCE_MODEL,
                      task_ref: str = REFERENCE_TASK, dv: str = "log_time",
                      length_term: str = LENGTH, interaction: bool = False) -> tuple[str, dict]:
    """The formula (terms with one level or one value left out) and the references used.

    `length_term`: `max_seq_length`, or `QUADRATIC_LENGTH` for the thesis's model quadratic in
    length (the square replaces the length). `interaction`: add batch size × length.
    """
    terms, refs = [], {}
    for column, preferred in (("model", model_ref), ("task", task_ref)):
        if column in data and data[column].nunique() > 1:
            ref = _reference(data, column, preferred)
            refs[column] = ref
            terms.append(f'C({column}, Treatment("{ref}"))')
    varying = {c: c in data and data[c].nunique() > 1 for c in ("batch_size", LENGTH)}
    if varying["batch_size"]:
        terms.append("batch_size")
    if varying[LENGTH]:
        terms.append(length_term)
    if interaction and all(varying.values()):
        terms.append(INTERACTION)
    return f"{dv} ~ " + (" + ".join(terms) if terms else "1"), refs


def _tidy_term(term: str) -> tuple[str, str | None]:
    if term.startswith("C("):
        variable = term[2:term.index(",")]
        level = term.split("[T.", 1)[1].rstrip("]") if "[T." in term else None
        return variable, level
    return term, None


def coefficient_table(model, log_scale: bool = True) -> pd.DataFrame:
    """One row per term: coefficient, standard error, t, p, 95 % interval, and for a model of
    log time exp(coef), the factor on time (meaningless for time in seconds: left out)."""
    terms = list(model.params.index)
    conf = np.asarray(model.conf_int(), dtype=float)
    tidy = [_tidy_term(term) for term in terms]
    table = pd.DataFrame({
        "term": terms, "variable": [v for v, _ in tidy], "level": [lv for _, lv in tidy],
        "coef": np.asarray(model.params, dtype=float), "std_err": np.asarray(model.bse, float),
        "t": np.asarray(model.tvalues, float), "p": np.asarray(model.pvalues, float),
        "ci_low": conf[:, 0], "ci_high": conf[:, 1]})
    if log_scale:
        with np.errstate(over="ignore"):
            table["multiplier"] = np.exp(table["coef"])
        table["pct_change"] = (table["multiplier"] - 1) * 100
    return table


FACTOR_COLUMNS = ("model", "task", "batch_size", LENGTH)


def model_frame(data: pd.DataFrame, dv: str = "log_time", raw: str = "time") -> pd.DataFrame:
    """The rows a model can use, in the canonical order (the CV folds pick rows by position);
    `raw` (the response unlogged: `time`, `energy_j`) is kept beside `dv` for the untransformed
    model.

    A factor no run has (runs without a task, say) is left out of the model rather than
    emptying the table; `loglinear_formula` then leaves its term out.
    """
    columns = [c for c in FACTOR_COLUMNS if c in data and data[c].notna().any()] + [dv]
    extra = [raw] if dv != raw and raw in data else []
    frame = canonical_order(data.dropna(subset=columns))[columns + extra].copy()
    for column in ("model", "task"):
        if column in frame:
            frame[column] = frame[column].astype(str)
    return frame


def design(data: pd.DataFrame, *, dv: str = "log_time", raw: str = "time",
           **formula_options: Any):
    """(rows used, design matrix X, response y, formula, references) of the thesis's model."""
    frame = model_frame(data, dv, raw)
    if frame.empty:
        raise ValueError(f"no run has {dv} and the factors")
    formula, refs = loglinear_formula(frame, dv=dv, **formula_options)
    y, X = patsy.dmatrices(formula, frame, return_type="dataframe")
    if len(y) <= X.shape[1]:
        raise ValueError(f"{len(y)} runs for {X.shape[1]} coefficients: no residual degrees "
                         "of freedom")
    return frame.loc[y.index], X, y, formula, refs


def fit_ols(data: pd.DataFrame, *, dv: str = "log_time", **formula_options: Any):
    """statsmodels OLS of `dv` on the thesis's terms: (fitted results, design, formula, refs)."""
    _frame, X, y, formula, refs = design(data, dv=dv, **formula_options)
    return sm.OLS(y, X).fit(), X, y, formula, refs


def fit_loglinear(data: pd.DataFrame, *, k: int = 5, seed: int = 0,
                  model_ref: str = REFERENCE_MODEL, task_ref: str = REFERENCE_TASK,
                  dv: str = "log_time") -> LoglinearResult:
    """Fit on all rows (the thesis's in-sample figures) and score by k-fold CV."""
    model, X, y, formula, refs = fit_ols(data, dv=dv, model_ref=model_ref, task_ref=task_ref)
    return LoglinearResult(
        formula=formula, r2=float(model.rsquared), adj_r2=float(model.rsquared_adj),
        n=int(model.nobs), coefficients=coefficient_table(model),
        cv=cross_validate(X.to_numpy(), y.to_numpy().ravel(), k=k, seed=seed), references=refs,
        diagnostics=ols_diagnostics(model), residuals=np.asarray(model.resid),
        fitted=np.asarray(model.fittedvalues), model=model,
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
                "median_abs_pct_error": None,
                "why_not": f"too few runs ({n}) for folds of at least 3 runs"}
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
