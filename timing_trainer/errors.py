"""Every error and warning this package raises, declared once, in one light module.

`TimingTrainerError` is bad input or an impossible request, wherever it was found: the command
line (`timing_trainer.commands.main`) prints it as one line on stderr with exit status 2, no
traceback, and a library caller can catch the one base. Several also derive from `ValueError`,
as they did before the family existed, so that callers who catch `ValueError` keep working.

The few errors outside the family are not bad input: a failure with another exit status
(`ThesisDataError`), a measurement that cannot be taken (`EnergyUnavailable`), a misuse inside
the program (`StopwatchError`), a file system that refuses a write (`ResultsWriteError`, an
`OSError`), a W&B login missing at run time (`WandbNotLoggedInError`). `FileSystemError` is
both: a write the file system refused, reported as one line with exit status 2.

The warnings share `TimingTrainerWarning`, so a script can filter them all at once.
"""

from __future__ import annotations

import errno


class TimingTrainerError(Exception):
    """Bad input or an impossible request: one line, exit status 2, no traceback."""


class CliError(TimingTrainerError):
    """Bad input found by a command's own checks (an option, an output folder, a sweep file, the
    GLUE program's arguments): the command line's error, as before the family existed."""


class GlueInputError(CliError):
    """Bad input to the GLUE program (task, data folder, TSV layout, model path, arguments).

    The program reports it before any time is spent on loading or training.
    """


class UnknownTaskError(TimingTrainerError, ValueError):
    """A task name that is not one of the nine GLUE tasks."""


class SweepFileError(CliError, ValueError):
    """A sweep file that cannot be used; the message is one line naming the file."""


class OnlyError(CliError, ValueError):
    """Bad `--only` syntax, or a name that is not a parameter of the sweep (one line)."""


class GridSizeError(TimingTrainerError, ValueError):
    """A grid that cannot be enumerated, or a parameter that is not a grid parameter."""


class YamlBoundError(TimingTrainerError, ValueError):
    """A YAML document whose aliases expand beyond the bound, or refer to themselves."""


class YamlDuplicateKeyError(TimingTrainerError, ValueError):
    """A YAML mapping that names one key twice (`yaml.safe_load` would keep the last silently)."""


class ResultsValidationError(TimingTrainerError, ValueError):
    """A results object does not match the results schema."""


class RunsLoadError(TimingTrainerError, ValueError):
    """A source cannot be read at all (missing file, required column absent, bad W&B path)."""


class CompareError(TimingTrainerError, ValueError):
    """`analyze --compare`/`--compare-by` cannot compare: a factor no run records or with one
    level, levels that do not exist, no configuration on both sides."""


class WandbUnavailable(RunsLoadError):
    """No credentials, or the server cannot be reached: the cache, if any, stands in."""


class NoEnergyError(TimingTrainerError, ValueError):
    """`--metric energy` on runs none of which has the energy analysed."""


class CostModelError(TimingTrainerError, ValueError):
    """The cost model cannot answer (no runs, or a request outside what the fit supports)."""


class PilotError(CliError, ValueError):
    """`timing-trainer pilot` or an estimate from a pilot cannot start: a sweep file, an option,
    a budget, or a pilot folder that cannot be used (one line, exit 2, before any slice runs)."""


class ThesisDataError(Exception):
    """A thesis export could not be fetched, or its content is not the recorded one (exit 1)."""


class EnergyUnavailable(Exception):
    """An energy counter cannot be read; the message is the reason recorded in `unavailable`."""


class StopwatchError(RuntimeError):
    """The stopwatch was used out of order (stop before start, start twice)."""


class ResultsWriteError(OSError):
    """The results file could not be written (the output folder is missing or not writable)."""


class FileSystemError(TimingTrainerError, OSError):
    """The file system refused a file the program writes (a full disk, a read-only mount, a name
    too long, no permission): one line naming the path and the errno's name, exit status 2, no
    traceback. Raised by timing_trainer.runtime.atomic (nothing half-written is left behind);
    an `OSError` too, with `errno`, `strerror` and `filename`, so callers that catch `OSError`
    keep working."""

    def __init__(self, path: object, errno_: int | None, strerror: str | None, doing: str = "write"):
        super().__init__(errno_, strerror, str(path))
        self.path = str(path)
        self.doing = doing

    @property
    def errno_name(self) -> str:
        return errno.errorcode.get(self.errno or 0, "unknown error")

    def __str__(self) -> str:
        return f"cannot {self.doing} {self.path!r}: {self.strerror or 'error'} ({self.errno_name})"

    def __reduce__(self):  # pickles (to a pool's parent) with its own arguments
        return (type(self), (self.path, self.errno, self.strerror, self.doing))


class WandbModeError(TimingTrainerError, ValueError):
    """`WANDB_MODE` is set to a value W&B does not know (`WANDB_MODE=bogus`): one line naming the
    variable and the values the installed wandb accepts, exit status 2, before any work."""


NOT_LOGGED_IN = ("W&B is not logged in: run `wandb login` (or set WANDB_API_KEY), or set "
                 "WANDB_MODE=offline to log locally; report_to none turns W&B off")


class WandbNotLoggedInError(RuntimeError):
    """W&B is online but has no API key: the message names the fixes."""

    def __init__(self, message: str = NOT_LOGGED_IN):
        super().__init__(message)


class TimingTrainerWarning(UserWarning):
    """The base of every warning this package gives."""


class TimingNoiseWarning(TimingTrainerWarning):
    """The repeated fine-tuning times spread more than the CV threshold: the machine was noisy."""


class UnavailableFiguresWarning(TimingTrainerWarning):
    """Some figures of a finished run could not be computed; `unavailable` says why."""


class TimingNotAppliedWarning(TimingTrainerWarning):
    """A Trainer subclass's `train` never reached `Trainer.train`: its fine-tuning is untimed."""


class OutputFolderInUseError(TimingTrainerError):
    """Another process is running a timed run in the same output folder."""


class RunsDataWarning(TimingTrainerWarning):
    """Something in the runs was odd (text in a number column, a duplicate, a missing column)."""


class CostModelWarning(TimingTrainerWarning):
    """The cost model could not be fitted for a report; the report's section says why too."""


def one_line(exc: BaseException | str) -> str:
    """The first non-empty line of an error message (argparse and transformers write several)."""
    text = str(exc).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__ if isinstance(exc, BaseException) else ""
