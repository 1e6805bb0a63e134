"""What the statistics analyse: time (the default) or energy, the second response.

Every statistic of the report (ANOVA, log-linear model, forest, time against accuracy, noise,
descriptive tables) reads one response column and its logarithm; a `Response` names them, their
unit and their words, so that one code path serves both and every label, table and key of
`summary.json` says which it is (time keeps the keys it always had: `time`, `log_time`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Response:
    """One analysable response: its columns, unit and words."""

    name: str  # "time" or "energy": the report's word and summary.json's key part
    column: str  # the runs table's column ("time", "energy_j")
    log_column: str  # its natural log, added by `frame.analysis_frame`
    unit: str  # "s", "J"
    unit_words: str  # "seconds", "joules"
    labels: dict[str, str]  # axis label per kind, with the unit
    definitions: dict[str, str]  # what is analysed, per kind
    cv_column: str  # the loader's column of how much the repeats behind it varied

    @property
    def a_name(self) -> str:
        """The name with its article, for sentences: "a time", "an energy"."""
        return f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.name}"

    def label(self, kind: str) -> str:
        return self.labels.get(kind, f"{self.name} ({self.unit})")

    def definition(self, kind: str) -> str:
        return self.definitions[kind]

    def key(self, template: str) -> str:
        """A summary key for this response: `key("{}_by_factor")` -> `energy_by_factor`."""
        return template.format(self.name)


TIME = Response(
    name="time", column="time", log_column="log_time", unit="s", unit_words="seconds",
    labels={"finetuning": "fine-tuning time (s)", "inference": "inference time per batch (s)"},
    definitions={
        "finetuning": "min of finetuning_time_list (every repeat of the whole fine-tuning), else "
                      "finetuning_time",
        "inference": "this project's runs: inference_time (min per-batch latency over full "
                     "batches); the thesis's runs: min of inference_time_list[:-1] (its last, "
                     "partial batch dropped); batch_size = the evaluation batch size",
    },
    cv_column="time_cv",
)

ENERGY = Response(
    name="energy", column="energy_j", log_column="log_energy", unit="J", unit_words="joules",
    labels={"finetuning": "fine-tuning energy (J)",
            "inference": "inference energy per batch (J)"},
    definitions={
        "finetuning": "finetuning_energy_j: joules of the fastest fine-tuning iteration (the one "
                      "whose time is analysed), summed over the sources read (energy_source)",
        "inference": "inference_energy_per_batch_j = inference_energy_per_sample_j x evaluation "
                     "batch size x world size: the energy of one full batch, the per-batch "
                     "latency's counterpart (a mean over the whole evaluation set; the latency "
                     "is the minimum over full batches); batch_size = the evaluation batch size",
    },
    cv_column="energy_cv",
)

RESPONSES = {r.name: r for r in (TIME, ENERGY)}
TIME_DEFINITIONS = TIME.definitions


def response_named(name: str) -> Response:
    """The response called `name` ("time" or "energy"); ValueError for anything else."""
    try:
        return RESPONSES[name]
    except KeyError:
        raise ValueError(f"metric must be one of {', '.join(RESPONSES)}, not {name!r}") from None
