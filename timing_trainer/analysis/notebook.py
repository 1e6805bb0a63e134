"""Small helpers that keep the notebooks thin: where the runs come from, and what to do when
there are none yet (a fresh clone has no `demo/runs` until `make demo` ran).

`load_or_explain` is the notebooks' one entry point: it loads and analyses the runs, or prints
the one command that makes them and returns None; every later cell then shows nothing rather
than failing (`if analysis:`).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

SOURCES_ENV = "TIMING_TRAINER_ANALYSIS_SOURCES"  # comma-separated (":" is in wandb: paths)
TREES_ENV = "TIMING_TRAINER_FOREST_TREES"  # tests run the notebooks with fewer trees
DEFAULT_SOURCE = "demo/runs"
MAKE_DEFAULT = "make demo"  # the one command that writes DEFAULT_SOURCE (repository root)


def resolve_sources(default: str | list[str] = DEFAULT_SOURCE) -> list[str]:
    """Sources from `$TIMING_TRAINER_ANALYSIS_SOURCES`, else `default`.

    Relative folder paths are looked up from the working folder and its parents, so the default
    (`demo/runs`, written by `make demo`) works from the repository root and from `notebooks/`.
    `wandb:` paths pass through unchanged.
    """
    env = os.environ.get(SOURCES_ENV)
    sources = [s.strip() for s in env.split(",")] if env else ([default] if isinstance(default, str)
                                                  else list(default))
    return [_locate(s) for s in sources if s]


def _locate(source: str) -> str:
    if source.startswith("wandb:") or Path(source).is_absolute() or Path(source).exists():
        return source
    for parent in Path.cwd().parents:
        candidate = parent / source
        if candidate.exists():
            return str(candidate)
    return source  # not found: `missing_sources` names it


def missing_sources(sources: list[str]) -> list[str]:
    """The local sources that do not exist (W&B paths are checked when loading)."""
    return [s for s in sources if not s.startswith("wandb:") and not Path(s).exists()]


def explain_missing(missing: list[str]) -> str:
    """The one line a reader needs when the runs are not there yet."""
    if missing == [DEFAULT_SOURCE]:
        return (f"No runs yet at {DEFAULT_SOURCE}: make them with `{MAKE_DEFAULT}` in the "
                f"repository root (or set {SOURCES_ENV}), then run this notebook again. "
                "The cells below show nothing until then.")
    return (f"Not found: {', '.join(missing)}. Set {SOURCES_ENV} to run folders, W&B exports "
            "or wandb:ENTITY/PROJECT paths; the cells below show nothing until then.")


def load_or_explain(sources: list[str], kind: str, **analyze_options: Any):
    """The analysis of `sources` (`analyze.analyze`; `analyze_options`: `AnalysisOptions`
    fields, `metric="energy"`, `forest_settings=...`), or None after printing why there is none
    (no runs yet; `metric="energy"` on runs none of which carries energy)."""
    missing = missing_sources(sources)
    if missing:
        print(explain_missing(missing))
        return None
    from timing_trainer.analysis.analyze import analyze
    from timing_trainer.analysis.table.load import load_runs
    from timing_trainer.errors import NoEnergyError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_runs(sources, kind)
    for warning in caught:
        print(f"data warning: {warning.message}")
    try:
        analysis = analyze(table, kind, **analyze_options)
    except NoEnergyError as exc:
        print(f"{exc}; the cells below show nothing (set METRIC = \"time\")")
        return None
    what = kind if analysis.response.name == "time" else f"{kind} energy"
    print(f"{analysis.n_runs} runs, {analysis.n_finished} finished, {analysis.n_analysed} "
          f"analysed ({what})")
    for note in analysis.notes:
        print(f"note: {note}")
    return analysis


def forest_trees(default: int = 500) -> int:
    return int(os.environ.get(TREES_ENV, default))


def fmt(value, digits: int = 4) -> str:
    """A score for printing: `n/a` where it could not be computed (too few runs)."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def compare_split(analysis, factor: str = "model"):
    """The notebooks' comparison section: the analysed runs split by `factor` (its two levels
    with the most runs), configuration by configuration, as `analyze --compare-by` does; None
    after printing why where there is nothing to compare (one level, no shared configuration)."""
    from timing_trainer.analysis.report.compare import ratio_text
    from timing_trainer.analysis.side_by_side import split_by
    from timing_trainer.analysis.stats.compare import compare
    from timing_trainer.errors import CompareError

    counts = analysis.data[factor].dropna().astype(str).value_counts()
    levels = tuple(sorted(counts.index[:2]))
    try:
        names, a, b = split_by(analysis.data, factor, levels if len(levels) == 2 else None)
    except CompareError as exc:
        print(f"no comparison: {exc}")
        return None
    comparison = compare(a, b, analysis.kind, names=names, factor=factor)
    print(f"{names[1]} against {names[0]}: {len(comparison.pairs)} configurations on both "
          f"sides, matched on {', '.join(comparison.keys['matched'])}; only {names[0]}: "
          f"{len(comparison.only[names[0]])}, only {names[1]}: {len(comparison.only[names[1]])}")
    print(f"time ratio {names[1]} / {names[0]}: {ratio_text(comparison.overall['time'])}")
    return comparison
