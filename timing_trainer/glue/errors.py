"""The GLUE program's bad-input error: one line on stderr, exit status 2, no traceback."""

from __future__ import annotations

from timing_trainer.errors import CliError


class GlueInputError(CliError):
    """Bad input to the GLUE program (task, data folder, TSV layout, model path, arguments).

    A subclass of the CLI's `CliError`, so the same one-line treatment applies wherever it is
    raised; the program reports it before any time is spent on loading or training.
    """


def one_line(exc: BaseException | str) -> str:
    """The first non-empty line of an error message (argparse and transformers write several)."""
    text = str(exc).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__ if isinstance(exc, BaseException) else ""
