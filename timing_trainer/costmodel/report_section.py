"""The cost model's section of the analysis report: predicted against measured, with errors.

`report_section(table, out_dir, kind)` is what the report of `timing-trainer analyze`
(`timing_trainer.commands.analyze`, above both packages) adds after the analysis's sections. It
cross-validates (k-fold, and leave-one-task-out and leave-one-model-out where the runs have more
than one task or model), writes `costmodel_predicted_vs_measured.png` into `out_dir`, and
returns markdown. Too few runs give a short note instead of an error; a fit that fails gives
its reason in the section and as a warning (never a bare "not fitted").
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from timing_trainer.analysis.table.load import finished_runs
from timing_trainer.costmodel.cross_validation import CVResult, cross_validate
from timing_trainer.costmodel.model import fit_cost_model
from timing_trainer.errors import CostModelError, CostModelWarning

FIGURE = "costmodel_predicted_vs_measured.png"


def error_table(results: list[CVResult]) -> pd.DataFrame:
    """One row per CV mode with n and the median, mean and p90 absolute percentage error."""
    return pd.DataFrame([r.summary() for r in results])


def plot_predicted_vs_measured(result: CVResult, ax=None):
    """Out-of-fold predicted against measured time, log-log, with the identity line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from timing_trainer.analysis.report.axes import log_axis

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5))
    runs = result.runs.dropna(subset=["predicted"])
    groups = runs.groupby("model") if "model" in runs else [("runs", runs)]
    for name, rows in groups:
        ax.scatter(rows["time"], rows["predicted"], s=14, alpha=0.75, label=str(name))
    low = float(min(runs["time"].min(), runs["predicted"].min()))
    high = float(max(runs["time"].max(), runs["predicted"].max()))
    ax.plot([low, high], [low, high], color="black", lw=1, label="predicted = measured")
    # Log axes with plain-number ticks (2, 10, 100 s, not 10^n), as in the analysis's plots.
    log_axis(ax.xaxis)
    log_axis(ax.yaxis)
    ax.set_xlabel("measured time (s)")
    ax.set_ylabel(f"predicted time, {result.cv} (s)")
    ax.set_title("Cost model: out-of-fold predictions")
    ax.legend(fontsize=7, loc="upper left")
    return ax


def report_section(table: pd.DataFrame, out_dir: Path, kind: str) -> str:
    """Markdown for the analysis report (and a PNG in `out_dir`)."""
    runs = finished_runs(table)
    if len(runs) < 10:
        return (f"_Cost model: {len(runs)} finished run(s) with a {kind} time; at least 10 are "
                "needed for a cross-validated fit._\n")
    modes = ["kfold"]
    if runs["task"].nunique() > 1:
        modes.append("leave-one-task-out")
    if runs["model"].nunique() > 1:
        modes.append("leave-one-model-out")
    try:
        results = [cross_validate(runs, kind, mode, k=5) for mode in modes]
        model = fit_cost_model(runs, kind, calibrate=False)
    except CostModelError as exc:
        # Said on the console too (`analyze` prints warnings): a report is read later, if at all.
        warnings.warn(f"cost model not fitted: {exc}", CostModelWarning, stacklevel=2)
        return f"_Cost model: not fitted ({exc})._\n"
    table_md = _md(error_table(results).rename(columns={
        "median_ape": "median APE (%)", "mean_ape": "mean APE (%)", "p90_ape": "p90 APE (%)"}))
    lines = [
        "Time predicted from first principles (optimizer steps, FLOPs per token, the attention "
        "term in length squared, parameters, a fixed cost per step), with shrunk efficiency "
        "effects per model family, model and (length, batch) shape; nothing is keyed by task. "
        "Errors are out of sample: each run is predicted by a fit without it (k-fold, 5 folds), "
        "without its task, or without its model.",
        "",
        table_md,
    ]
    plotted = next((r for r in results if r.cv == "leave-one-task-out"), results[0])
    lines += _figure_lines(plotted, Path(out_dir))
    lines += ["", "Fitted prices per platform (seconds per step, per TFLOP, per 1e9 parameters, "
              "per run):", "", _md(model.coefficients())]
    if model.n_without_shape:
        lines += ["", f"{model.n_without_shape} run(s) have a model of unknown size and are not "
                  "in the fit."]
    return "\n".join(lines) + "\n"


def _figure_lines(result: CVResult, out_dir: Path) -> list[str]:
    """The predicted-against-measured plot written into `out_dir`, as markdown lines; a plot
    that fails is a note, never a failed report."""
    try:
        import matplotlib.pyplot as plt

        out_dir.mkdir(parents=True, exist_ok=True)
        ax = plot_predicted_vs_measured(result)
        ax.figure.tight_layout()
        ax.figure.savefig(out_dir / FIGURE, dpi=120)
        plt.close(ax.figure)
        return ["", f"![Predicted against measured ({result.cv})]({FIGURE})"]
    except Exception as exc:  # a plot must not sink the report
        return ["", f"_Plot not written ({type(exc).__name__}: {exc})._"]


def _md(frame: pd.DataFrame) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:.4g}"
        return str(value)

    head = "| " + " | ".join(str(c) for c in frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])
