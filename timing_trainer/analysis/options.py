"""How one analysis runs, as one value: `AnalysisOptions`.

The `analyze` command's flags become these options once (`commands.analyze.analysis_options`),
and every layer below hands the one value down: `build_report` (loading: `cache_dir`), `analyze`
(the statistics: `metric`, `k`, `forest_k`, `forest_settings`, `n_jobs`) and `write_outputs`
(the files: `plots_on`, `sections`). An option is declared here once, with its default, instead
of as a keyword argument of each layer that passes it on. What is analysed is not an option: the
sources, the kind (`finetuning`, `inference`) and the output folder stay arguments of their own.

The entry points also take the options as keywords (`analyze(table, k=2)`, `options_with`): the
tests, bench/ and the notebooks call them so.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from timing_trainer.analysis.stats.result import Analysis

# A section after the analysis's own: given the analysis and the output folder (for its files),
# its heading and its markdown.
Section = Callable[["Analysis", Path], tuple[str, str]]

__all__ = ["AnalysisOptions", "Section", "options_with"]


@dataclass(frozen=True)
class AnalysisOptions:
    """The options of one analysis; the defaults are the thesis's (and `timing-trainer analyze`'s).

    `metric`: the response analysed, "time" or "energy" (`stats.response`). `k`: folds of the
    cross-validations; `forest_k` overrides it for the random forest (each fold fits 100 trees;
    0 skips the forest's CV). `forest_settings`: overrides of the kind's forest settings
    (`max_depth`, `test_size`, `n_estimators`, `random_state`, `split_seed`; None values keep the
    kind's, `stats.settings.forest_settings`). `n_jobs`: cores for the forest (-1: all).
    `cache_dir`: the W&B runs cache (None: the default). `all_versions`: every version of a
    sweep whose runs folder holds several, not only the current one. `plots_on`: write the PNG
    plots.
    `sections`: further sections of `report.md`, after the analysis's own, in their order.
    """

    metric: str = "time"
    k: int = 5
    forest_k: int | None = None
    forest_settings: Mapping[str, Any] | None = None
    n_jobs: int | None = -1
    cache_dir: str | os.PathLike | None = None
    all_versions: bool = False
    plots_on: bool = True
    sections: Sequence[Section] = ()

    def __post_init__(self) -> None:
        # Frozen all the way down: one options value may serve several analyses.
        if self.forest_settings is not None:
            object.__setattr__(self, "forest_settings",
                               MappingProxyType(dict(self.forest_settings)))
        object.__setattr__(self, "sections", tuple(self.sections))


def options_with(options: AnalysisOptions | None, overrides: Mapping[str, Any]) -> AnalysisOptions:
    """`options` (None: the defaults) with `overrides` (field names) replaced: the keyword form
    of the entry points. A name that is no option is a TypeError, as an unknown keyword was."""
    options = AnalysisOptions() if options is None else options
    return replace(options, **overrides) if overrides else options
