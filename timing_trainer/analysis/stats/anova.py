"""One-way ANOVA of time per factor, as the thesis did, with effect sizes and its checks.

Each factor gets its own one-way model, `ols("time ~ C(factor)")` with `anova_lm(typ=2)`,
factors as categories (lengths and batch sizes too). Eta squared is SS_factor / SS_total.
The thesis found the assumptions violated (residuals far from normal, unequal variances); the
checks are reported beside the F values so a reader can judge them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.multicomp import pairwise_tukeyhsd

from timing_trainer.analysis.table.columns import FACTORS
from timing_trainer.analysis.table.labels import level_label

ANOVA_COLUMNS = ["factor", "F", "p", "eta_sq", "df_factor", "df_resid", "ss_factor", "ss_resid",
                 "n", "n_levels"]


def _fit_one_way(data: pd.DataFrame, factor: str, dv: str, fits: dict | None = None):
    if fits is not None and factor in fits:
        return fits[factor]
    frame = data[[factor, dv]].dropna()
    frame = frame.assign(**{factor: frame[factor].astype(str)})
    return frame, smf.ols(f"{dv} ~ C({factor})", data=frame).fit()


def one_way_fits(data: pd.DataFrame, factors: Sequence[str] = FACTORS,
                 dv: str = "time") -> dict:
    """Each testable factor's one-way model, fitted once for the table, the checks and the
    Q-Q plots (pass it as `fits=` to them)."""
    out = {}
    for factor in factors:
        present = data[[factor, dv]].dropna()
        if present[factor].nunique() >= 2 and len(present) > present[factor].nunique():
            out[factor] = _fit_one_way(data, factor, dv)
    return out


def one_way_anova(data: pd.DataFrame, factors: Sequence[str] = FACTORS,
                  dv: str = "time", fits: dict | None = None) -> pd.DataFrame:
    """One row per factor: F, p, eta squared, degrees of freedom, sums of squares.

    A factor with fewer than two levels cannot be tested: its row has missing values.
    """
    rows = []
    for factor in factors:
        present = data[[factor, dv]].dropna()
        levels = present[factor].nunique()
        if levels < 2 or len(present) <= levels:
            rows.append({"factor": factor, "n": len(present), "n_levels": levels})
            continue
        _frame, model = _fit_one_way(data, factor, dv, fits)
        table = anova_lm(model, typ=2)
        term = f"C({factor})"
        ss_factor, ss_resid = table.loc[term, "sum_sq"], table.loc["Residual", "sum_sq"]
        rows.append({
            "factor": factor, "F": table.loc[term, "F"], "p": table.loc[term, "PR(>F)"],
            "eta_sq": ss_factor / (ss_factor + ss_resid),
            "df_factor": table.loc[term, "df"], "df_resid": table.loc["Residual", "df"],
            "ss_factor": ss_factor, "ss_resid": ss_resid, "n": len(present),
            "n_levels": levels,
        })
    return pd.DataFrame(rows, columns=ANOVA_COLUMNS)


def assumption_checks(data: pd.DataFrame, factors: Sequence[str] = FACTORS,
                      dv: str = "time", fits: dict | None = None) -> pd.DataFrame:
    """Shapiro-Wilk on each one-way model's residuals, Levene (median-centred) across levels."""
    rows = []
    for factor in factors:
        present = data[[factor, dv]].dropna()
        if present[factor].nunique() < 2 or len(present) < 4:
            rows.append({"factor": factor})
            continue
        _frame, model = _fit_one_way(data, factor, dv, fits)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns that p is approximate above n=5000
            shapiro_w, shapiro_p = stats.shapiro(np.asarray(model.resid))
        groups = [g[dv].to_numpy() for _, g in present.groupby(factor) if len(g) > 0]
        levene_stat, levene_p = stats.levene(*groups) if len(groups) > 1 else (np.nan, np.nan)
        rows.append({"factor": factor, "shapiro_W": shapiro_w, "shapiro_p": shapiro_p,
                     "levene_stat": levene_stat, "levene_p": levene_p,
                     "normal_residuals": bool(shapiro_p >= 0.05),
                     "equal_variances": bool(levene_p >= 0.05)})
    return pd.DataFrame(rows, columns=["factor", "shapiro_W", "shapiro_p", "levene_stat",
                                       "levene_p", "normal_residuals", "equal_variances"])


def residuals_by_factor(data: pd.DataFrame, factors: Sequence[str] = FACTORS,
                        dv: str = "time", fits: dict | None = None) -> dict[str, np.ndarray]:
    """Each testable factor's one-way model residuals (for a Q-Q plot per factor)."""
    fits = fits if fits is not None else one_way_fits(data, factors, dv)
    return {factor: np.asarray(fits[factor][1].resid, dtype=float)
            for factor in factors if factor in fits}


def _groups(values: pd.Series) -> np.ndarray:
    """Numbers stay numbers (so Tukey orders 8, 16, 32, not "16", "32", "8"); text stays text."""
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers.to_numpy(dtype=float)
    return values.astype(str).to_numpy()


def tukey_hsd(data: pd.DataFrame, factors: Sequence[str] = FACTORS, dv: str = "time",
              alpha: float = 0.05) -> pd.DataFrame:
    """Tukey's honest significant differences for every pair of levels of every factor,
    levels in their natural order (numbers numerically) and written as `level_label` does."""
    frames = []
    for factor in factors:
        present = data[[factor, dv]].dropna()
        if present[factor].nunique() < 2 or len(present) <= present[factor].nunique():
            continue
        result = pairwise_tukeyhsd(present[dv].to_numpy(dtype=float), _groups(present[factor]),
                                   alpha=alpha)
        pairs = [(level_label(a), level_label(b))
                 for a, b in combinations(result.groupsunique, 2)]
        frames.append(pd.DataFrame({
            "factor": factor, "group1": [a for a, _ in pairs], "group2": [b for _, b in pairs],
            "meandiff": result.meandiffs, "p_adj": result.pvalues,
            "lower": result.confint[:, 0], "upper": result.confint[:, 1],
            "reject": result.reject.astype(bool),
        }))
    if not frames:
        return pd.DataFrame(columns=["factor", "group1", "group2", "meandiff", "p_adj", "lower",
                                     "upper", "reject"])
    return pd.concat(frames, ignore_index=True)
