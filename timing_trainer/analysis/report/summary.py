"""`summary.json`: every figure of the report under a name that says what it is.

Names are stable (other tools read them); a figure that cannot be computed is `null` with a
`why_not` (or a note in `notes`) beside it, never silently absent. Non-finite numbers become
`null`. `response` says what the figures are of: `time` (seconds; the keys `time`, `log_time`,
`correlations_with_time`, ...) or `energy` (joules, `--metric energy`: the same figures under
`energy`, `log_energy`, `correlations_with_energy`, ...). `energy_against_time` (per model: time,
energy, average power) is there only when analysed runs carry energy. Each configuration's
median and bootstrap interval are under `configuration_intervals`, the platforms the runs ran on
under `environment`, the sentences on the fits under `fit_caveats`; where the runs vary a mode
(LoRA, torch.compile, ...), time against accuracy split by it under `accuracy_by_mode` (absent
otherwise). The settings actually used
(forest depth, test share, seeds, CV threshold, histogram bins, task-size column, bootstrap) are
recorded under `settings`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from timing_trainer.analysis.stats.bootstrap import CONFIDENCE, N_RESAMPLES, SEED
from timing_trainer.analysis.stats.caveats import CV_GAP, MIN_FOREST_TEST, fit_caveats
from timing_trainer.analysis.stats.response import TIME_DEFINITIONS
from timing_trainer.analysis.stats.result import Analysis
from timing_trainer.analysis.stats.settings import HISTOGRAM_BINS, TASK_SIZE_COLUMN
from timing_trainer.results.measurement import CV_WARNING_THRESHOLD


def clean(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python, NaN/inf to None, frames to lists of records."""
    if isinstance(value, pd.DataFrame):
        return clean(value.to_dict(orient="records"))
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _anova(analysis: Analysis) -> list[dict]:
    keep = ("factor", "F", "p", "eta_sq", "df_factor", "df_resid", "n")
    return [{k: row.get(k) for k in keep} for row in analysis.anova.to_dict(orient="records")]


def _models(analysis: Analysis) -> dict[str, Any]:
    alternatives = analysis.alternatives  # coefficient tables become lists of records
    return {
        "loglinear": analysis.loglinear.summary_dict() if analysis.loglinear else None,
        "untransformed_ols": alternatives.get("untransformed"),
        "alternative_models": {k: v for k, v in alternatives.items() if k != "untransformed"},
        "random_forest": analysis.forest.summary_dict() if analysis.forest else None,
    }


def _descriptive(analysis: Analysis) -> dict[str, Any]:
    key = analysis.response.key
    return {
        key("{}"): analysis.describe.iloc[0].to_dict() if len(analysis.describe) else {},
        key("{}_by_factor"): {f: d for f, d in analysis.describe_by.items()},
        analysis.response.log_column: analysis.log_time,
        "histogram_20_bins": analysis.histogram,
        key("correlations_with_{}"): analysis.time_correlations,
        key("{}_by_tokens_per_batch"): analysis.describe_by.get("tokens_per_batch"),
        "fair_comparisons": analysis.fair, "fair_comparisons_left_out": analysis.fair_left_out,
        "fastest_runs": analysis.fastest, "slowest_runs": analysis.slowest,
    }


def _pooled(analysis: Analysis) -> dict[str, Any]:
    pooled, name = analysis.pooled or {}, analysis.response.name
    return {"metric_correlations": pooled.get("correlations", pd.DataFrame()),
            f"accuracy_on_{name}": pooled.get(f"accuracy_on_{name}"),
            f"accuracy_on_log_{name}": pooled.get(f"accuracy_on_log_{name}")}


def _settings(analysis: Analysis) -> dict[str, Any]:
    return {"random_forest": analysis.forest_settings,
            "task_size_column": TASK_SIZE_COLUMN.get(analysis.kind),
            "cv_threshold": CV_WARNING_THRESHOLD, "histogram_bins": HISTOGRAM_BINS,
            "bootstrap": {"confidence": CONFIDENCE, "resamples": N_RESAMPLES, "seed": SEED,
                          "method": "percentile, scipy.stats.bootstrap"},
            "caveats": {"cv_gap": CV_GAP, "min_forest_test_runs": MIN_FOREST_TEST},
            "row_order": "canonical (order_key, then a hash of the run's content): figures do "
                         "not depend on the order of the input table"}


def _response(analysis: Analysis) -> dict[str, Any]:
    """Which response the figures are of, and energy against time when runs carry both."""
    response = analysis.response
    out = {"response": response.name, "response_column": response.column,
           "response_unit": response.unit,
           "response_definition": response.definition(analysis.kind),
           "time_definition": TIME_DEFINITIONS[analysis.kind]}
    if len(analysis.power):
        out["energy_against_time"] = analysis.power
    return out


def summary(analysis: Analysis) -> dict[str, Any]:
    """The figures of `summary.json` (names fixed: other tools read them)."""
    column, by_mode = analysis.response.column, analysis.accuracy_by_mode
    modes = tuple(by_mode["mode"].unique()) if len(by_mode) else ()  # the modes varied
    pareto_columns = [c for c in dict.fromkeys(("run_id", "task", "model", "max_seq_length",
                                                "batch_size", *modes, "time", column, "metric"))
                      if c in analysis.pareto]
    return clean({
        "kind": analysis.kind, **_response(analysis),
        "n_runs": analysis.n_runs, "n_finished": analysis.n_finished,
        "n_analysed": analysis.n_analysed, "states": analysis.states,
        "settings": _settings(analysis),
        "measurement_noise": analysis.noise,
        "configuration_intervals": analysis.intervals,
        "environment": analysis.environment, "environment_missing": analysis.environment_missing,
        "fit_caveats": fit_caveats(analysis.loglinear, analysis.forest),
        **_descriptive(analysis),
        "anova": _anova(analysis), "anova_assumptions": analysis.checks,
        "tukey_hsd": analysis.tukey,
        **_models(analysis),
        "accuracy_relation": analysis.relation.to_dict(orient="records"),
        analysis.response.key("pooled_{}_metric"): _pooled(analysis),
        "pareto_front": analysis.pareto[pareto_columns].to_dict(orient="records"),
        **({"accuracy_by_mode": by_mode} if len(by_mode) else {}),
        "notes": analysis.notes, "data_warnings": analysis.data_warnings,
    })
