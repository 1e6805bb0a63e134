"""The command line's own error: bad input found by a subcommand's checks.

Printed by `timing_trainer.cli.main` as one line, exit status 2, no traceback. The libraries
(the analysis, the cost model) raise errors of their own, no subclass of this one; `main` maps
those too (`cli.BAD_INPUT`), so a library never depends on the command line.
"""


class CliError(Exception):
    """Bad input or an impossible request: printed as one line, exit status 2, no traceback."""
